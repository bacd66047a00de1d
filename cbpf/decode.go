package cbpf

import (
	"unsafe"

	"golang.org/x/net/bpf"
)

// Decoding raw instructions into x/net/bpf's typed form is on the path
// of every compile, and the typed form is an interface value per
// instruction: boxing each value would cost an allocation apiece. FromRaw
// instead places the values side by side in one allocation (the types
// hold no pointers) and makes interface values that point at them, as a
// conversion would after copying the value to the heap. The values are
// never written again, so they behave exactly like converted ones
// (TestDecodeMatchesDisassemble compares them with x/net/bpf's own
// decoding, for every opcode).

// slotWords is the room, in 8-byte words, that any typed instruction
// takes (TestDecodeSlotSize checks it).
const slotWords = 2

// arena is the memory the typed values of one program live in.
type arena struct {
	words []uint64
	next  int
}

// itabOf returns the type word of an interface value.
func itabOf(in bpf.Instruction) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&in))[0] }

// The type words of the instruction types decodeFast makes, taken from
// conversions of their zero values.
var (
	tabLoadAbsolute  = itabOf(bpf.LoadAbsolute{})
	tabLoadIndirect  = itabOf(bpf.LoadIndirect{})
	tabLoadMemShift  = itabOf(bpf.LoadMemShift{})
	tabLoadConstant  = itabOf(bpf.LoadConstant{})
	tabLoadScratch   = itabOf(bpf.LoadScratch{})
	tabLoadExtension = itabOf(bpf.LoadExtension{})
	tabStoreScratch  = itabOf(bpf.StoreScratch{})
	tabALUOpConstant = itabOf(bpf.ALUOpConstant{})
	tabALUOpX        = itabOf(bpf.ALUOpX{})
	tabJump          = itabOf(bpf.Jump{})
	tabJumpIf        = itabOf(bpf.JumpIf{})
	tabJumpIfX       = itabOf(bpf.JumpIfX{})
	tabRetConstant   = itabOf(bpf.RetConstant{})
)

// put stores v in the arena and returns it as an Instruction whose value
// is that copy.
func put[T bpf.Instruction](a *arena, tab unsafe.Pointer, v T) bpf.Instruction {
	p := unsafe.Pointer(&a.words[a.next])
	a.next += slotWords
	*(*T)(p) = v
	var in bpf.Instruction
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&in))
	w[0], w[1] = tab, p
	return in
}

// exact reports whether v assembles back to r.
func exact[T bpf.Instruction](v T, r bpf.RawInstruction) bool {
	back, err := v.Assemble()
	return err == nil && back == r
}

// decodeFast returns r in x/net/bpf's typed form, as r.Disassemble
// would make it, with its value in a; ok is false when r is not one of
// the forms it knows or does not assemble back exactly, for decode to
// handle.
func decodeFast(a *arena, r bpf.RawInstruction) (in bpf.Instruction, ok bool) {
	const extLimit = 0xfffff000 // K at or above it: an ancillary load (SKF_AD_OFF)
	op := r.Op
	size := 0
	switch op & 0x18 {
	case 0x00:
		size = 4
	case 0x08:
		size = 2
	case 0x10:
		size = 1
	}
	switch op & 0x07 {
	case 0x00, 0x01: // ld, ldx
		reg := bpf.Register(op & 0x01)
		if size == 0 {
			return nil, false
		}
		switch op & 0xe0 {
		case 0x00:
			if v := (bpf.LoadConstant{Dst: reg, Val: r.K}); size == 4 && exact(v, r) {
				return put(a, tabLoadConstant, v), true
			}
		case 0x60:
			if v := (bpf.LoadScratch{Dst: reg, N: int(r.K)}); size == 4 && r.K < 16 && exact(v, r) {
				return put(a, tabLoadScratch, v), true
			}
		case 0x20:
			if r.K >= extLimit {
				if v := (bpf.LoadExtension{Num: bpf.Extension(r.K - extLimit)}); exact(v, r) {
					return put(a, tabLoadExtension, v), true
				}
				return nil, false
			}
			if v := (bpf.LoadAbsolute{Off: r.K, Size: size}); exact(v, r) {
				return put(a, tabLoadAbsolute, v), true
			}
		case 0x40:
			if v := (bpf.LoadIndirect{Off: r.K, Size: size}); exact(v, r) {
				return put(a, tabLoadIndirect, v), true
			}
		case 0x80:
			if v := (bpf.LoadExtension{Num: bpf.ExtLen}); size == 4 && exact(v, r) {
				return put(a, tabLoadExtension, v), true
			}
		case 0xa0:
			if v := (bpf.LoadMemShift{Off: r.K}); exact(v, r) {
				return put(a, tabLoadMemShift, v), true
			}
		}
	case 0x02, 0x03: // st, stx
		if v := (bpf.StoreScratch{Src: bpf.Register(op & 0x01), N: int(r.K)}); op&^0x01 == 0x02 && r.K < 16 && exact(v, r) {
			return put(a, tabStoreScratch, v), true
		}
	case 0x04: // alu
		aop := bpf.ALUOp(op & 0xf0)
		switch {
		case aop == 0x80:
			if v := (bpf.NegateA{}); exact(v, r) {
				return v, true
			}
		case aop > 0xa0:
		case op&0x08 != 0:
			if v := (bpf.ALUOpX{Op: aop}); exact(v, r) {
				return put(a, tabALUOpX, v), true
			}
		default:
			if v := (bpf.ALUOpConstant{Op: aop, Val: r.K}); exact(v, r) {
				return put(a, tabALUOpConstant, v), true
			}
		}
	case 0x05: // jumps
		jop := op & 0xf0
		if jop == 0x00 {
			if v := (bpf.Jump{Skip: r.K}); exact(v, r) {
				return put(a, tabJump, v), true
			}
			return nil, false
		}
		if jop > 0x40 {
			return nil, false
		}
		cond, skipTrue, skipFalse := jumpTest(jop, r.Jt, r.Jf)
		if op&0x08 != 0 {
			if v := (bpf.JumpIfX{Cond: cond, SkipTrue: skipTrue, SkipFalse: skipFalse}); exact(v, r) {
				return put(a, tabJumpIfX, v), true
			}
			return nil, false
		}
		if v := (bpf.JumpIf{Cond: cond, Val: r.K, SkipTrue: skipTrue, SkipFalse: skipFalse}); exact(v, r) {
			return put(a, tabJumpIf, v), true
		}
	case 0x06: // ret
		switch op {
		case 0x06:
			if v := (bpf.RetConstant{Val: r.K}); exact(v, r) {
				return put(a, tabRetConstant, v), true
			}
		case 0x16:
			if v := (bpf.RetA{}); exact(v, r) {
				return v, true
			}
		}
	case 0x07: // misc
		switch op {
		case 0x07:
			if v := (bpf.TAX{}); exact(v, r) {
				return v, true
			}
		case 0x87:
			if v := (bpf.TXA{}); exact(v, r) {
				return v, true
			}
		}
	}
	return nil, false
}

// jumpTest is x/net/bpf's reading of a conditional jump: a jump whose
// true branch is the next instruction becomes the negated test.
func jumpTest(jop uint16, jt, jf uint8) (bpf.JumpTest, uint8, uint8) {
	if jt == 0 {
		switch jop {
		case 0x10:
			return bpf.JumpNotEqual, jf, 0
		case 0x20:
			return bpf.JumpLessOrEqual, jf, 0
		case 0x30:
			return bpf.JumpLessThan, jf, 0
		default:
			return bpf.JumpBitsNotSet, jf, 0
		}
	}
	switch jop {
	case 0x10:
		return bpf.JumpEqual, jt, jf
	case 0x20:
		return bpf.JumpGreaterThan, jt, jf
	case 0x30:
		return bpf.JumpGreaterOrEqual, jt, jf
	default:
		return bpf.JumpBitsSet, jt, jf
	}
}
