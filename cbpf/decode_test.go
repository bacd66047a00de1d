package cbpf

import (
	"reflect"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/net/bpf"
)

// TestDecodeMatchesDisassemble: for every opcode and a spread of
// constants and jump offsets, the fast decoder gives what x/net/bpf's
// Disassemble (with FromRaw's exactness rule) gives: the same type and
// value, and an instruction that assembles back to the same bits.
func TestDecodeMatchesDisassemble(t *testing.T) {
	ks := []uint32{0, 1, 4, 15, 16, 255, 262144, 0xffffefff, 0xfffff000, 0xfffff004, 0xfffff030, 0xffffffff}
	offs := []uint8{0, 1, 7}
	fast := 0
	for op := 0; op <= 0xffff; op++ {
		for _, k := range ks {
			for _, jt := range offs {
				for _, jf := range offs {
					r := bpf.RawInstruction{Op: uint16(op), Jt: jt, Jf: jf, K: k}
					a := arena{words: make([]uint64, slotWords)}
					got, ok := decodeFast(&a, r)
					if !ok {
						continue
					}
					fast++
					want := decode(r)
					if reflect.TypeOf(got) != reflect.TypeOf(want) || got != want {
						t.Fatalf("%+v: fast decoding gives %T %#v, Disassemble %T %#v", r, got, got, want, want)
					}
					if back, err := got.Assemble(); err != nil || back != r {
						t.Fatalf("%+v: %#v assembles to %+v, %v", r, got, back, err)
					}
				}
			}
		}
	}
	// Non-jump instructions must have zero jump offsets to assemble
	// back, so most of the combinations above are not exact.
	if fast < 500 {
		t.Errorf("only %d instructions took the fast path", fast)
	}
}

// TestDecodeSlotSize: every type the fast decoder places fits a slot and
// holds no pointers.
func TestDecodeSlotSize(t *testing.T) {
	for _, v := range []bpf.Instruction{bpf.LoadAbsolute{}, bpf.LoadIndirect{}, bpf.LoadMemShift{}, bpf.LoadConstant{},
		bpf.LoadScratch{}, bpf.LoadExtension{}, bpf.StoreScratch{}, bpf.ALUOpConstant{}, bpf.ALUOpX{}, bpf.Jump{},
		bpf.JumpIf{}, bpf.JumpIfX{}, bpf.RetConstant{}} {
		typ := reflect.TypeOf(v)
		if typ.Size() > slotWords*8 || typ.Align() > 8 {
			t.Errorf("%v: size %d, alignment %d: does not fit a slot of %d words", typ, typ.Size(), typ.Align(), slotWords)
		}
		for i := 0; i < typ.NumField(); i++ {
			switch typ.Field(i).Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Func, reflect.Chan:
				t.Errorf("%v has a pointer field %s", typ, typ.Field(i).Name)
			}
		}
	}
}

// TestFromRawAllocs: a program of up to smallProgram instructions costs
// one allocation (of either size), a longer one three however long it
// is (the Program, its slice and the values' arena); all give back the
// raw instructions.
func TestFromRawAllocs(t *testing.T) {
	short := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipTrue: 0, SkipFalse: 3},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{},
	}
	var long []bpf.Instruction
	for len(long) < 3*smallProgram {
		long = append(long, short[:4]...)
	}
	sized := func(n int) []bpf.Instruction { return append(slices.Clone(long[:n-2]), short[4:]...) }
	long = append(long, short[4:]...)
	for _, c := range []struct {
		insns []bpf.Instruction
		want  float64
	}{{short, 1}, {sized(smallProgram / 2), 1}, {sized(smallProgram/2 + 1), 1}, {sized(smallProgram), 1}, {long, 3}} {
		raw, err := bpf.Assemble(c.insns)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { FromRaw(raw, LinkEN10MB, DefaultSnaplen) }); n > c.want {
			t.Errorf("FromRaw of %d instructions: %v allocations, want %v", len(raw), n, c.want)
		}
		p := FromRaw(raw, LinkEN10MB, DefaultSnaplen)
		back, err := p.Raw()
		if err != nil || !reflect.DeepEqual(back, raw) {
			t.Errorf("Raw() = %v, %v; want %v", back, err, raw)
		}
	}
}

// TestFromRawKeepsValues: programs made one after the other, of both
// size classes, keep their own values through garbage collections when
// only their instruction slices are kept.
func TestFromRawKeepsValues(t *testing.T) {
	var raws [][]bpf.RawInstruction
	var kept [][]bpf.Instruction
	for i := 0; i < 2000; i++ {
		n := 1 + i%(2*smallProgram)
		raw := make([]bpf.RawInstruction, n)
		for j := range raw {
			raw[j] = bpf.RawInstruction{Op: 0x20, K: uint32(i<<8 | j)} // ld [i<<8|j]
		}
		raw[n-1] = bpf.RawInstruction{Op: 0x06, K: uint32(i)} // ret #i
		raws = append(raws, raw)
		kept = append(kept, FromRaw(raw, LinkEN10MB, DefaultSnaplen).Instructions)
		if i%500 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, insns := range kept {
		back, err := bpf.Assemble(insns)
		if err != nil || !reflect.DeepEqual(back, raws[i]) {
			t.Fatalf("program %d: %v, %v; want %v", i, back, err, raws[i])
		}
		if len(insns) != cap(insns) {
			t.Fatalf("program %d: %d instructions, capacity %d: an append would write into memory of FromRaw's", i, len(insns), cap(insns))
		}
	}
}
