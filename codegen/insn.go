package codegen

import (
	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/internal/alu"
)

// Classic BPF opcode fields (linux/filter.h, pcap/bpf.h). The generator
// and optimizer work on raw opcodes: an instruction is an opcode and a
// constant, which makes value numbering and comparison cheap.
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	srcK = 0x00
	srcX = 0x08

	aluADD = alu.Add
	aluSUB = alu.Sub
	aluMUL = alu.Mul
	aluDIV = alu.Div
	aluOR  = alu.Or
	aluAND = alu.And
	aluLSH = alu.Lsh
	aluRSH = alu.Rsh
	aluNEG = alu.Neg
	aluMOD = alu.Mod
	aluXOR = alu.Xor

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// absOff is the offset of an absolute load at off: off itself, but for
// the last 16 values, which only a header a link type lacks gives
// (offUnset: libpcap loads "ip[0]" from 0xfffffffe there). No packet
// has a byte there, but the kernel takes such an offset for ancillary
// data and refuses the program, so bpfc loads from 0x7fffffff instead,
// which no packet has either.
//
// The same goes for an offset at SKF_AD_OFF and above that is no
// ancillary field, which libpcap makes where it adds a link header's
// offset to one ("lane and inbound" loads SKF_AD_OFF+10): its userland
// filter rejects the packet there, the kernel refuses the program.
func absOff(off uint32) uint32 {
	if off >= 0xfffffff0 || off >= skfAdOff && ((off-skfAdOff)%4 != 0 || off-skfAdOff >= skfAdMax) {
		return 0x7fffffff
	}
	return off
}

// skfAdOff is SKF_AD_OFF: absolute loads at this offset and above read
// Linux ancillary data instead of the packet.
const skfAdOff = 0xfffff000

// skfAdMax is SKF_AD_MAX, past the last ancillary field.
const skfAdMax = 64

// Linux ancillary data offsets (SKF_AD_*) that libpcap uses.
const (
	adProtocol  = 0
	adPktType   = 4
	adIfIndex   = 8
	adVLANTag   = 44
	adVLANTagPr = 48
)

// A stmt is one straight-line classic instruction: a load, a store, an ALU
// operation or a register move. Jumps and returns are block terminators.
type stmt struct {
	op uint16
	k  uint32
}

func (s stmt) raw() bpf.RawInstruction { return bpf.RawInstruction{Op: s.op, K: s.k} }

// Statement constructors.

func ldAbs(size int, off uint32) stmt {
	return stmt{clsLD | sizeCode(size) | modeABS, absOff(off)}
}
func ldInd(size int, off uint32) stmt { return stmt{clsLD | sizeCode(size) | modeIND, off} }
func ldImm(k uint32) stmt             { return stmt{clsLD | modeIMM, k} }
func ldLen() stmt                     { return stmt{clsLD | szW | modeLEN, 0} }
func ldMem(i uint32) stmt             { return stmt{clsLD | modeMEM, i} }
func ldxImm(k uint32) stmt            { return stmt{clsLDX | modeIMM, k} }
func ldxMem(i uint32) stmt            { return stmt{clsLDX | modeMEM, i} }
func ldxMSH(off uint32) stmt          { return stmt{clsLDX | szB | modeMSH, absOff(off)} }
func st(i uint32) stmt                { return stmt{clsST, i} }
func stx(i uint32) stmt               { return stmt{clsSTX, i} }
func aluK(op uint16, k uint32) stmt   { return stmt{clsALU | op | srcK, k} }
func aluX(op uint16) stmt             { return stmt{clsALU | op | srcX, 0} }
func neg() stmt                       { return stmt{clsALU | aluNEG, 0} }
func tax() stmt                       { return stmt{clsMISC | miscTAX, 0} }
func txa() stmt                       { return stmt{clsMISC | miscTXA, 0} }

func sizeCode(size int) uint16 {
	switch size {
	case 1:
		return szB
	case 2:
		return szH
	default:
		return szW
	}
}

// A loc is where a field of the packet is: a constant offset, or (after
// geneve, whose header has a variable length) a constant plus an offset
// kept in a scratch cell.
type loc struct {
	reg int32 // scratch cell holding the base offset, or -1
	off uint32
}

// abs is the constant offset off.
func abs(off uint32) loc { return loc{-1, off} }

// add moves l by k bytes.
func (l loc) add(k uint32) loc { l.off += k; return l }

// sub moves l back by k bytes.
func (l loc) sub(k uint32) loc { l.off -= k; return l }

// load is the code that loads the size-byte field at l into A
// (clobbering X when l is register-based).
func (l loc) load(size int) []stmt {
	if l.reg < 0 {
		if l.off < absLoadMax {
			// Shared, read-only, and full, so that an append copies it.
			i := sizeCode(size) >> 3
			return absLoads[i][l.off : l.off+1 : l.off+1]
		}
		return []stmt{ldAbs(size, l.off)}
	}
	return []stmt{ldxMem(uint32(l.reg)), ldInd(size, l.off)}
}

// absLoads holds the one-statement codes of absolute loads of the first
// absLoadMax bytes, by size code (szW, szH, szB shifted right by 3) and
// offset: most tests start with one, and sharing them saves an
// allocation each. Code is never modified in place (the optimizer
// copies a block's statements before dropping any).
var absLoads = func() (t [3][absLoadMax]stmt) {
	for i, size := range [3]int{4, 2, 1} {
		for off := range t[i] {
			t[i][off] = ldAbs(size, uint32(off))
		}
	}
	return t
}()

const absLoadMax = 256
