package cbpf

import (
	"fmt"
	"strconv"

	"golang.org/x/net/bpf"
)

// Opcode fields, as <linux/filter.h> and libpcap's bpf.h name them
// (prefixed with d so as not to clash with other files of the package).
const (
	dClsMask = 0x07
	dLD      = 0x00
	dLDX     = 0x01
	dST      = 0x02
	dSTX     = 0x03
	dALU     = 0x04
	dJMP     = 0x05
	dRET     = 0x06
	dMISC    = 0x07

	dW = 0x00
	dH = 0x08
	dB = 0x10

	dIMM = 0x00
	dABS = 0x20
	dIND = 0x40
	dMEM = 0x60
	dLEN = 0x80
	dMSH = 0xa0

	dOpMask = 0xf0
	dK      = 0x00
	dX      = 0x08
	dA      = 0x10

	dADD = 0x00
	dSUB = 0x10
	dMUL = 0x20
	dDIV = 0x30
	dOR  = 0x40
	dAND = 0x50
	dLSH = 0x60
	dRSH = 0x70
	dNEG = 0x80
	dMOD = 0x90
	dXOR = 0xa0

	dJA   = 0x00
	dJEQ  = 0x10
	dJGT  = 0x20
	dJGE  = 0x30
	dJSET = 0x40

	dTAX = 0x00
	dTXA = 0x80

	// dAncBase is SKF_AD_OFF (-0x1000): absolute loads at dAncBase+n, n
	// a multiple of 4 below 64, read Linux packet metadata.
	dAncBase uint32 = 0xfffff000
)

// imgAncNames are libpcap's bpf_image names for the SKF_AD_* offsets
// (relative to SKF_AD_OFF).
var imgAncNames = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark",
	24: "queue", 28: "hatype", 32: "rxhash", 36: "cpu", 40: "xor_x",
	44: "vlan_tci", 48: "vlanp", 52: "poff", 56: "random", 60: "vlan_tpid",
}

// imgAbsOperand prints the operand of an absolute load as libpcap does:
// symbolically for the ancillary offsets it knows, else as a signed
// decimal.
func imgAbsOperand(k uint32) string {
	if k >= dAncBase {
		if n, ok := imgAncNames[k-dAncBase]; ok {
			return "[" + n + "]"
		}
	}
	return "[" + strconv.Itoa(int(int32(k))) + "]"
}

// cDec formats k as C's printf("%d") does for a 32-bit value.
func cDec(k uint32) string { return strconv.Itoa(int(int32(k))) }

// hex formats k as C's printf("0x%x").
func cHex(k uint32) string { return "0x" + strconv.FormatUint(uint64(k), 16) }

// imgALUNames maps an ALU operator to its mnemonic; imgALUHexK lists those
// whose constant libpcap prints in hexadecimal.
var imgALUNames = map[uint16]string{
	dADD: "add", dSUB: "sub", dMUL: "mul", dDIV: "div", dMOD: "mod",
	dAND: "and", dOR: "or", dXOR: "xor", dLSH: "lsh", dRSH: "rsh",
}

var imgALUHexK = map[uint16]bool{dAND: true, dOR: true, dXOR: true}

var imgJmpNames = map[uint16]string{dJEQ: "jeq", dJGT: "jgt", dJGE: "jge", dJSET: "jset"}

// imageParts returns the mnemonic and operand libpcap's bpf_image prints
// for ins at index pc.
func imageParts(ins bpf.RawInstruction, pc int) (op, operand string) {
	k := ins.K
	switch c := ins.Op; c {
	case dRET | dK:
		return "ret", "#" + cDec(k)
	case dRET | dA:
		return "ret", ""
	case dLD | dW | dABS:
		return "ld", imgAbsOperand(k)
	case dLD | dH | dABS:
		return "ldh", imgAbsOperand(k)
	case dLD | dB | dABS:
		return "ldb", imgAbsOperand(k)
	case dLD | dW | dLEN:
		return "ld", "#pktlen"
	case dLD | dW | dIND:
		return "ld", "[x + " + cDec(k) + "]"
	case dLD | dH | dIND:
		return "ldh", "[x + " + cDec(k) + "]"
	case dLD | dB | dIND:
		return "ldb", "[x + " + cDec(k) + "]"
	case dLD | dIMM:
		return "ld", "#" + cHex(k)
	case dLDX | dIMM:
		return "ldx", "#" + cHex(k)
	case dLDX | dMSH | dB:
		return "ldxb", "4*([" + cDec(k) + "]&0xf)"
	case dLD | dMEM:
		return "ld", "M[" + cDec(k) + "]"
	case dLDX | dMEM:
		return "ldx", "M[" + cDec(k) + "]"
	case dST:
		return "st", "M[" + cDec(k) + "]"
	case dSTX:
		return "stx", "M[" + cDec(k) + "]"
	case dJMP | dJA:
		return "ja", strconv.Itoa(int(int32(uint32(pc+1) + k)))
	case dJMP | dJEQ | dK, dJMP | dJGT | dK, dJMP | dJGE | dK, dJMP | dJSET | dK:
		return imgJmpNames[c&dOpMask], "#" + cHex(k)
	case dJMP | dJEQ | dX, dJMP | dJGT | dX, dJMP | dJGE | dX, dJMP | dJSET | dX:
		return imgJmpNames[c&dOpMask], "x"
	case dALU | dNEG:
		return "neg", ""
	case dMISC | dTAX:
		return "tax", ""
	case dMISC | dTXA:
		return "txa", ""
	}
	if ins.Op&dClsMask == dALU && ins.Op < 0x100 {
		if name, ok := imgALUNames[ins.Op&dOpMask]; ok {
			if ins.Op&dX != 0 {
				if ins.Op&^(dOpMask|dX) == dALU {
					return name, "x"
				}
			} else if ins.Op&^dOpMask == dALU {
				if imgALUHexK[ins.Op&dOpMask] {
					return name, "#" + cHex(k)
				}
				return name, "#" + cDec(k)
			}
		}
	}
	return "unimp", "0x" + strconv.FormatUint(uint64(ins.Op), 16)
}

// imgCondJump reports whether libpcap prints the jt/jf targets of an
// instruction with opcode op: every jump-class opcode whose operator is
// not "ja", known or not.
func imgCondJump(op uint16) bool {
	return op&dClsMask == dJMP && op&dOpMask != dJA
}

// Image returns the text libpcap's bpf_image gives the instruction ins at
// index pc: one line of `tcpdump -d`, without the newline. Jump targets
// are absolute instruction numbers; unknown opcodes print as
// "unimp 0x<opcode>".
func Image(ins bpf.RawInstruction, pc int) string {
	op, operand := imageParts(ins, pc)
	if imgCondJump(ins.Op) {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", pc, op, operand, pc+1+int(ins.Jt), pc+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", pc, op, operand)
}
