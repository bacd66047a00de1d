package codegen

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// runRaw runs raw on pkt with x/net/bpf's VM.
func runRaw(t *testing.T, raw []bpf.RawInstruction, pkt []byte) int {
	t.Helper()
	n, err := vmOf(t, raw).Run(pkt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return n
}

func TestLinearizeFarJumps(t *testing.T) {
	tests := []struct {
		name  string
		terms int
	}{
		{"near", 10},
		{"just-far", 130},
		{"far", 600},
		{"very-far", 1200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// (ld [0] == 0 or ... or ld [0] == n-1) and ld [4] == 7:
			// every early success must jump over the whole chain.
			var p pred = pFalse
			for i := 0; i < tt.terms; i++ {
				p = or(p, loadEq(4, abs(0), uint32(i)))
			}
			p = and(p, loadEq(4, abs(4), 7))
			g := newGraph(0xffff)
			raw, err := linearize(g, g.lower(p, g.accept, g.reject), cbpf.MaxInstructions)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range raw {
				if r.Op&0x07 == clsJMP && r.Op != clsJMP|jmpJA {
					if i+1+int(r.Jt) >= len(raw) || i+1+int(r.Jf) >= len(raw) {
						t.Fatalf("insn %d jumps out of the program", i)
					}
				}
			}
			pkt := make([]byte, 8)
			for _, v := range []uint32{0, 1, uint32(tt.terms - 1), uint32(tt.terms), 99999} {
				for _, second := range []uint32{7, 8} {
					binary.BigEndian.PutUint32(pkt, v)
					binary.BigEndian.PutUint32(pkt[4:], second)
					want := 0
					if int(v) < tt.terms && second == 7 {
						want = 0xffff
					}
					if got := runRaw(t, raw, pkt); got != want {
						t.Errorf("v=%d second=%d: got %d, want %d", v, second, got, want)
					}
				}
			}
		})
	}
}

func TestLinearizeTooLong(t *testing.T) {
	var p pred = pFalse
	for i := 0; i < 3000; i++ {
		p = or(p, loadEq(4, abs(0), uint32(i)))
	}
	g := newGraph(0xffff)
	_, err := linearize(g, g.lower(p, g.accept, g.reject), cbpf.MaxInstructions)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
}
