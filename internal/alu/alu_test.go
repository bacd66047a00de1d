package alu

import "testing"

func TestEval(t *testing.T) {
	for _, c := range []struct {
		op   uint16
		a, b uint32
		want uint32
		ok   bool
	}{
		{Add, 0xffffffff, 2, 1, true},
		{Sub, 1, 2, 0xffffffff, true},
		{Mul, 0x10000, 0x10000, 0, true},
		{Div, 7, 2, 3, true},
		{Div, 7, 0, 0, false},
		{Mod, 7, 4, 3, true},
		{Mod, 7, 0, 0, false},
		{And, 0xf0, 0x3c, 0x30, true},
		{Or, 0xf0, 0x0f, 0xff, true},
		{Xor, 0xff, 0x0f, 0xf0, true},
		{Lsh, 1, 31, 0x80000000, true},
		{Lsh, 1, 32, 0, true},
		{Rsh, 0x80000000, 31, 1, true},
		{Rsh, 0x80000000, 40, 0, true},
		{Neg, 1, 0, 0, false},
		{0xf0, 1, 1, 0, false},
	} {
		got, ok := Eval(c.op, c.a, c.b)
		if got != c.want || ok != c.ok {
			t.Errorf("Eval(%#x, %#x, %#x) = %#x, %v; want %#x, %v", c.op, c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestZero(t *testing.T) {
	for _, op := range []uint16{Add, Sub, Mul, Div, Mod, And, Or, Xor, Lsh, Rsh} {
		// A zero-left operation gives 0 for every y, the others do not;
		// likewise a zero-right one for every x (a division by 0 is
		// no value).
		for _, y := range []uint32{1, 3, 31, 0xffffffff} {
			if v, ok := Eval(op, 0, y); ZeroLeft(op) && (!ok || v != 0) {
				t.Errorf("ZeroLeft(%#x) but 0 op %d = %d, %v", op, y, v, ok)
			} else if !ZeroLeft(op) && ok && v == 0 {
				t.Errorf("not ZeroLeft(%#x) but 0 op %d = 0", op, y)
			}
			if v, ok := Eval(op, y, 0); ok && ZeroRight(op) != (v == 0) {
				t.Errorf("ZeroRight(%#x) = %v but %d op 0 = %d", op, ZeroRight(op), y, v)
			}
		}
	}
}
