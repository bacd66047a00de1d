package cbpf

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// DefaultSnaplen is the snapshot length tcpdump uses when none is given.
const DefaultSnaplen = 262144

// MaxInstructions is the largest classic program the Linux kernel accepts
// (BPF_MAXINSNS).
const MaxInstructions = 4096

// A Program is a classic BPF program and the capture it was made for.
type Program struct {
	// Instructions is the program, in x/net/bpf's typed form. Opcodes that
	// x/net/bpf has no type for appear as bpf.RawInstruction.
	Instructions []bpf.Instruction
	// LinkType is the link-layer header type (a DLT_ value) the program
	// expects packets to start with.
	LinkType LinkType
	// Snaplen is the snapshot length: the largest number of bytes of a
	// packet the program will be shown, and the value `ret #snaplen`
	// returns to accept a packet.
	Snaplen uint32
}

// Raw returns the program as raw instructions, the form that
// SO_ATTACH_FILTER, gopacket's afpacket and pcapgo handles,
// mdlayher/packet and x/net's ipv4/ipv6 PacketConn.SetBPF take.
func (p *Program) Raw() ([]bpf.RawInstruction, error) {
	raw, err := bpf.Assemble(p.Instructions)
	if err != nil {
		return nil, fmt.Errorf("cbpf: assemble: %w", err)
	}
	return raw, nil
}

// Len returns the number of instructions in the program.
func (p *Program) Len() int { return len(p.Instructions) }

// FromRaw makes a Program from raw instructions, decoding each one into
// x/net/bpf's typed form where that form assembles back to exactly the
// same bits, and keeping it as a bpf.RawInstruction otherwise (unknown
// opcodes, non-zero unused fields, half-word ancillary loads, ...), so
// that Raw gives back raw unchanged.
func FromRaw(raw []bpf.RawInstruction, lt LinkType, snaplen uint32) *Program {
	var (
		p     *Program
		insns []bpf.Instruction
		a     arena
	)
	// Most filters: the Program, its instructions and their values in
	// one allocation, of two sizes so that a short program kept does
	// not hold much more memory than it needs.
	switch n := len(raw); {
	case n <= smallProgram/2:
		s := new(smallAlloc8)
		p, insns, a.words = &s.p, s.insns[:n:n], s.words[:]
	case n <= smallProgram:
		s := new(smallAlloc16)
		p, insns, a.words = &s.p, s.insns[:n:n], s.words[:]
	default:
		p, insns, a.words = new(Program), make([]bpf.Instruction, len(raw)), make([]uint64, slotWords*len(raw))
	}
	for i, r := range raw {
		if in, ok := decodeFast(&a, r); ok {
			insns[i] = in
		} else {
			insns[i] = decode(r)
		}
	}
	*p = Program{Instructions: insns, LinkType: lt, Snaplen: snaplen}
	return p
}

// smallProgram is the most instructions a program made in one
// allocation has: a smallAlloc16, or a smallAlloc8 for up to half as
// many.
const smallProgram = 16

type smallAlloc8 struct {
	p     Program
	insns [smallProgram / 2]bpf.Instruction
	words [smallProgram / 2 * slotWords]uint64
}

type smallAlloc16 struct {
	p     Program
	insns [smallProgram]bpf.Instruction
	words [smallProgram * slotWords]uint64
}

// decode returns r in x/net/bpf's typed form when that form is exact.
func decode(r bpf.RawInstruction) bpf.Instruction {
	d := r.Disassemble()
	if _, ok := d.(bpf.RawInstruction); ok {
		return r
	}
	if back, err := d.Assemble(); err != nil || back != r {
		return r
	}
	return d
}
