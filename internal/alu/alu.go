// Package alu is classic BPF's arithmetic on constants, as libpcap's
// optimizer folds it: the parser uses it to refuse what libpcap refuses
// (a divisor that folds to 0), the code generator to fold constants and
// track the values A and X hold. It is not the interpreter's arithmetic:
// at run time a shift by X of 32 or more is X modulo 32 in the kernel.
package alu

// The operations, by their classic BPF codes (BPF_ALU | op).
const (
	Add = 0x00
	Sub = 0x10
	Mul = 0x20
	Div = 0x30
	Or  = 0x40
	And = 0x50
	Lsh = 0x60
	Rsh = 0x70
	Neg = 0x80
	Mod = 0x90
	Xor = 0xa0
)

// Eval is a op b. It is false for a division or modulus by 0 and for an
// unknown operation (Neg is unary: use -a). A shift by 32 or more is 0,
// as libpcap's optimizer folds it.
func Eval(op uint16, a, b uint32) (uint32, bool) {
	switch op {
	case Add:
		return a + b, true
	case Sub:
		return a - b, true
	case Mul:
		return a * b, true
	case Div:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case Mod:
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case And:
		return a & b, true
	case Or:
		return a | b, true
	case Xor:
		return a ^ b, true
	case Lsh:
		if b >= 32 {
			return 0, true
		}
		return a << b, true
	case Rsh:
		if b >= 32 {
			return 0, true
		}
		return a >> b, true
	}
	return 0, false
}

// ZeroLeft reports whether 0 op y is 0 whatever y is: libpcap's
// optimizer folds it so without loading y (for / and %, even where y
// is 0 at run time).
func ZeroLeft(op uint16) bool {
	switch op {
	case Mul, Div, Mod, And, Lsh, Rsh:
		return true
	}
	return false
}

// ZeroRight reports whether x op 0 is 0 whatever x is.
func ZeroRight(op uint16) bool { return op == And || op == Mul }
