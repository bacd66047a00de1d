package cbpf

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// The rules a classic program can break, as the Linux kernel checks them
// before attaching a filter (net/core/filter.c: bpf_check_classic and
// check_load_and_stores). A *ValidationError wraps exactly one of them, so
// callers branch with errors.Is.
var (
	// ErrEmpty: the program has no instruction.
	ErrEmpty = errors.New("empty program")
	// ErrTooLong: the program has more than MaxInstructions instructions.
	ErrTooLong = errors.New("program too long")
	// ErrBadOpcode: the opcode is not one the kernel accepts.
	ErrBadOpcode = errors.New("unknown or unsupported opcode")
	// ErrJumpOutOfRange: a jump lands past the last instruction.
	ErrJumpOutOfRange = errors.New("jump out of range")
	// ErrNoReturn: the last instruction is not a return.
	ErrNoReturn = errors.New("last instruction is not a return")
	// ErrScratchIndex: a scratch memory index is 16 or more.
	ErrScratchIndex = errors.New("scratch memory index out of range")
	// ErrScratchUninit: a scratch cell is read on a path that has not
	// written it.
	ErrScratchUninit = errors.New("scratch memory read before written")
	// ErrDivByZero: division or modulus by the constant zero.
	ErrDivByZero = errors.New("division by zero")
	// ErrShiftRange: a shift by a constant of 32 or more.
	ErrShiftRange = errors.New("shift by 32 or more")
	// ErrBadAncillary: an absolute load at or above SKF_AD_OFF that names
	// no ancillary field the kernel knows.
	ErrBadAncillary = errors.New("unknown ancillary load")
)

// A ValidationError says which instruction breaks which kernel rule.
type ValidationError struct {
	// Index is the instruction's position, from 0; -1 when the rule is
	// about the whole program (ErrEmpty, ErrTooLong).
	Index int
	// Insn is the instruction as tcpdump -d prints it, without the
	// "(000) " prefix and with runs of blanks collapsed ("jeq #0x800 jt 2
	// jf 5"); empty when Index is -1.
	Insn string
	// Rule is the rule broken: one of the ErrXxx values of this package.
	Rule error
}

// Error returns "instruction N (text): rule" or just the rule.
func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return e.Rule.Error()
	}
	return fmt.Sprintf("instruction %d (%s): %v", e.Index, e.Insn, e.Rule)
}

// Unwrap returns the rule, so that errors.Is(err, ErrDivByZero) works.
func (e *ValidationError) Unwrap() error { return e.Rule }

// Linux ancillary loads (linux/filter.h). An absolute load at
// SKFAdOff+SKFAdXxx reads packet metadata instead of packet bytes; the
// kernel accepts the three load sizes alike. An absolute or indirect load
// at SKFNetOff+n reads byte n after the network header, one at SKFLLOff+n
// byte n after the link-layer header. libpcap's own bpf_filter treats all
// of these as loads out of the packet.
const (
	SKFAdOff  uint32 = 0xfffff000 // SKF_AD_OFF (-0x1000)
	SKFNetOff uint32 = 0xfff00000 // SKF_NET_OFF (-0x100000)
	SKFLLOff  uint32 = 0xffe00000 // SKF_LL_OFF (-0x200000)

	SKFAdProtocol       = 0  // SKF_AD_PROTOCOL: skb->protocol, the EtherType
	SKFAdPktType        = 4  // SKF_AD_PKTTYPE: packet type (PACKET_HOST, ...)
	SKFAdIfIndex        = 8  // SKF_AD_IFINDEX: interface index
	SKFAdNLAttr         = 12 // SKF_AD_NLATTR: offset of netlink attribute X at offset A
	SKFAdNLAttrNest     = 16 // SKF_AD_NLATTR_NEST: the same, inside the attribute at A
	SKFAdMark           = 20 // SKF_AD_MARK: skb->mark
	SKFAdQueue          = 24 // SKF_AD_QUEUE: queue mapping
	SKFAdHAType         = 28 // SKF_AD_HATYPE: device type (ARPHRD_*)
	SKFAdRXHash         = 32 // SKF_AD_RXHASH: receive hash
	SKFAdCPU            = 36 // SKF_AD_CPU: processor id
	SKFAdALUXorX        = 40 // SKF_AD_ALU_XOR_X: A ^= X
	SKFAdVLANTag        = 44 // SKF_AD_VLAN_TAG: VLAN TCI
	SKFAdVLANTagPresent = 48 // SKF_AD_VLAN_TAG_PRESENT: 1 if a VLAN tag was stripped
	SKFAdPayOffset      = 52 // SKF_AD_PAY_OFFSET: transport payload offset
	SKFAdRandom         = 56 // SKF_AD_RANDOM: a random number
	SKFAdVLANTPID       = 60 // SKF_AD_VLAN_TPID: VLAN protocol (0x8100, 0x88a8)
	SKFAdMax            = 64 // SKF_AD_MAX
)

// Opcode fields (linux/bpf_common.h), named as the kernel's macros.
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfMISC = 0x07

	bpfW = 0x00
	bpfH = 0x08
	bpfB = 0x10

	bpfIMM = 0x00
	bpfABS = 0x20
	bpfIND = 0x40
	bpfMEM = 0x60
	bpfLEN = 0x80
	bpfMSH = 0xa0

	bpfADD = 0x00
	bpfSUB = 0x10
	bpfMUL = 0x20
	bpfDIV = 0x30
	bpfOR  = 0x40
	bpfAND = 0x50
	bpfLSH = 0x60
	bpfRSH = 0x70
	bpfNEG = 0x80
	bpfMOD = 0x90
	bpfXOR = 0xa0

	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40

	bpfK = 0x00
	bpfX = 0x08
	bpfA = 0x10

	bpfTAX = 0x00
	bpfTXA = 0x80
)

// allowed is the kernel's opcode whitelist (chk_code_allowed).
var allowed = func() map[uint16]bool {
	m := map[uint16]bool{}
	for _, op := range []uint16{bpfADD, bpfSUB, bpfMUL, bpfDIV, bpfMOD, bpfAND, bpfOR, bpfXOR, bpfLSH, bpfRSH} {
		m[bpfALU|op|bpfK] = true
		m[bpfALU|op|bpfX] = true
	}
	m[bpfALU|bpfNEG] = true
	for _, sz := range []uint16{bpfW, bpfH, bpfB} {
		m[bpfLD|sz|bpfABS] = true
		m[bpfLD|sz|bpfIND] = true
	}
	for _, op := range []uint16{
		bpfLD | bpfW | bpfLEN, bpfLD | bpfIMM, bpfLD | bpfMEM,
		bpfLDX | bpfW | bpfLEN, bpfLDX | bpfB | bpfMSH, bpfLDX | bpfIMM, bpfLDX | bpfMEM,
		bpfST, bpfSTX, bpfMISC | bpfTAX, bpfMISC | bpfTXA, bpfRET | bpfK, bpfRET | bpfA,
		bpfJMP | bpfJA,
	} {
		m[op] = true
	}
	for _, op := range []uint16{bpfJEQ, bpfJGT, bpfJGE, bpfJSET} {
		m[bpfJMP|op|bpfK] = true
		m[bpfJMP|op|bpfX] = true
	}
	return m
}()

// isAncillary reports whether an absolute load at k names an ancillary
// field the kernel knows (bpf_anc_helper): any multiple of 4 below
// SKF_AD_MAX. The kernel accepts all three load sizes for them.
func isAncillary(k uint32) bool {
	return k >= SKFAdOff && k-SKFAdOff < SKFAdMax && k%4 == 0
}

// Validate checks the program against the rules the Linux kernel applies
// to a classic filter before attaching it: 1 to MaxInstructions
// instructions, opcodes from the kernel's list, jumps that land inside the
// program, a return last, scratch indexes below 16, no scratch cell read
// on a path that has not written it, no division or modulus by the
// constant zero, no constant shift of 32 or more, and known ancillary
// loads. The error is a *ValidationError.
func (p *Program) Validate() error {
	raw := make([]bpf.RawInstruction, len(p.Instructions))
	for i, ins := range p.Instructions {
		r, err := ins.Assemble()
		if err != nil {
			rule := ErrBadOpcode
			switch ins.(type) {
			case bpf.LoadScratch, bpf.StoreScratch:
				rule = ErrScratchIndex
			}
			return &ValidationError{Index: i, Insn: fmt.Sprint(ins), Rule: fmt.Errorf("%w: %v", rule, err)}
		}
		raw[i] = r
	}
	return ValidateRaw(raw)
}

// ValidateRaw is Validate for raw instructions.
func ValidateRaw(raw []bpf.RawInstruction) error {
	if n := len(raw); n > MaxInstructions {
		return &ValidationError{Index: -1, Rule: fmt.Errorf("%w: %d instructions, at most %d", ErrTooLong, n, MaxInstructions)}
	}
	return ValidateRules(raw)
}

// ValidateRules checks every rule of ValidateRaw but the length limit: a
// classic program that is only too long for the kernel can still be
// translated to eBPF (package translate), whose programs may be far
// longer.
func ValidateRules(raw []bpf.RawInstruction) error {
	n := len(raw)
	if n == 0 {
		return &ValidationError{Index: -1, Rule: ErrEmpty}
	}
	bad := func(pc int, rule error) error {
		return &ValidationError{Index: pc, Insn: insnText(raw, pc), Rule: rule}
	}
	for pc, ins := range raw {
		if !allowed[ins.Op] {
			return bad(pc, ErrBadOpcode)
		}
		switch ins.Op {
		case bpfALU | bpfDIV | bpfK, bpfALU | bpfMOD | bpfK:
			if ins.K == 0 {
				return bad(pc, ErrDivByZero)
			}
		case bpfALU | bpfLSH | bpfK, bpfALU | bpfRSH | bpfK:
			if ins.K >= 32 {
				return bad(pc, ErrShiftRange)
			}
		case bpfLD | bpfMEM, bpfLDX | bpfMEM, bpfST, bpfSTX:
			if ins.K >= 16 {
				return bad(pc, ErrScratchIndex)
			}
		case bpfJMP | bpfJA:
			if ins.K >= uint32(n-pc-1) {
				return bad(pc, ErrJumpOutOfRange)
			}
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX,
			bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX,
			bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX,
			bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
			if pc+int(ins.Jt)+1 >= n || pc+int(ins.Jf)+1 >= n {
				return bad(pc, ErrJumpOutOfRange)
			}
		case bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS:
			if ins.K >= SKFAdOff && !isAncillary(ins.K) {
				return bad(pc, ErrBadAncillary)
			}
		}
	}
	switch raw[n-1].Op {
	case bpfRET | bpfK, bpfRET | bpfA:
	default:
		return bad(n-1, ErrNoReturn)
	}
	return checkScratch(raw, bad)
}

// checkScratch is the kernel's check_load_and_stores, warts included: a
// forward dataflow in program order where each jump target keeps the
// cells written on every jump to it, and the state after a jump is "all
// written" (so code reached only by falling through a return or past an
// unconditional jump is judged by its jumps alone).
func checkScratch(raw []bpf.RawInstruction, bad func(int, error) error) error {
	masks := make([]uint16, len(raw))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, ins := range raw {
		valid &= masks[pc]
		switch ins.Op {
		case bpfST, bpfSTX:
			valid |= 1 << ins.K
		case bpfLD | bpfMEM, bpfLDX | bpfMEM:
			if valid&(1<<ins.K) == 0 {
				return bad(pc, fmt.Errorf("%w: M[%d]", ErrScratchUninit, ins.K))
			}
		case bpfJMP | bpfJA:
			masks[pc+1+int(ins.K)] &= valid
			valid = 0xffff
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJEQ | bpfX,
			bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGT | bpfX,
			bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJGE | bpfX,
			bpfJMP | bpfJSET | bpfK, bpfJMP | bpfJSET | bpfX:
			masks[pc+1+int(ins.Jt)] &= valid
			masks[pc+1+int(ins.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

// insnText is instruction pc as tcpdump -d prints it, without the
// "(NNN) " prefix and with its column padding collapsed.
func insnText(raw []bpf.RawInstruction, pc int) string {
	img := Image(raw[pc], pc)
	if i := strings.Index(img, ") "); i >= 0 {
		img = img[i+2:]
	}
	return strings.Join(strings.Fields(img), " ")
}
