package cbpf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// A Format is one of the textual forms of a classic BPF program.
type Format int

// The formats Dump writes and Parse reads.
const (
	// FormatText is `tcpdump -d`: one line per instruction as libpcap's
	// bpf_image prints it, with absolute jump targets.
	FormatText Format = iota + 1
	// FormatC is `tcpdump -dd`: a fragment of a C array of struct
	// bpf_insn, one `{ code, jt, jf, k },` line per instruction.
	FormatC
	// FormatDecimal is `tcpdump -ddd`: the instruction count, then one
	// "code jt jf k" line of decimal numbers per instruction.
	FormatDecimal
	// FormatAsm is the source syntax of the Linux kernel's bpf_asm
	// (tools/bpf), with a label on every jump target.
	FormatAsm
)

// ErrNotAsm reports an instruction that bpf_asm's syntax cannot express:
// an opcode it has no mnemonic for, or a jump out of the program.
var ErrNotAsm = errors.New("not expressible in bpf_asm syntax")

var formatNames = map[Format]string{FormatText: "-d", FormatC: "-dd", FormatDecimal: "-ddd", FormatAsm: "asm"}

// String returns the tcpdump flag for the format ("-d", "-dd", "-ddd") or
// "asm".
func (f Format) String() string {
	if s, ok := formatNames[f]; ok {
		return s
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat returns the format named by s: "d", "dd", "ddd" (with or
// without a leading "-"), "text", "c", "decimal", or "asm".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimLeft(s, "-")) {
	case "d", "text":
		return FormatText, nil
	case "dd", "c":
		return FormatC, nil
	case "ddd", "decimal":
		return FormatDecimal, nil
	case "asm", "bpf_asm":
		return FormatAsm, nil
	}
	return 0, fmt.Errorf("unknown dump format %q", s)
}

// Dump writes the program to w in format f, byte for byte as tcpdump 4.99
// prints it with -d, -dd or -ddd (or as bpf_asm source for FormatAsm).
func (p *Program) Dump(w io.Writer, f Format) error {
	raw, err := p.Raw()
	if err != nil {
		return err
	}
	return DumpRaw(w, raw, f)
}

// String returns the program as `tcpdump -d` prints it.
func (p *Program) String() string {
	var b strings.Builder
	if err := p.Dump(&b, FormatText); err != nil {
		return "cbpf: " + err.Error()
	}
	return b.String()
}

// DumpRaw writes raw instructions to w in format f; see Program.Dump.
func DumpRaw(w io.Writer, raw []bpf.RawInstruction, f Format) error {
	var b []byte
	switch f {
	case FormatText:
		for i, ins := range raw {
			b = append(b, Image(ins, i)...)
			b = append(b, '\n')
		}
	case FormatC:
		for _, ins := range raw {
			b = fmt.Appendf(b, "{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
	case FormatDecimal:
		b = fmt.Appendf(b, "%d\n", len(raw))
		for _, ins := range raw {
			b = fmt.Appendf(b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
	case FormatAsm:
		var err error
		if b, err = appendAsm(b, raw); err != nil {
			return fmt.Errorf("cbpf: dump: %w", err)
		}
	default:
		return fmt.Errorf("cbpf: dump: unknown format %d", int(f))
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("cbpf: dump: %w", err)
	}
	return nil
}

// asmAncNames are bpf_asm's names for the SKF_AD_* offsets.
var asmAncNames = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark",
	24: "queue", 28: "hatype", 32: "rxhash", 36: "cpu", 44: "vlan_tci",
	48: "vlan_avail", 52: "poff", 56: "rand", 60: "vlan_tpid",
}

// appendAsm appends raw as bpf_asm source: a label "L<n>" before every
// jump target n, one instruction per line. Fields an instruction does not
// use (the k of tax, jt and jf of a non-jump, ...) have no place in the
// syntax and are dropped, as -d drops them.
func appendAsm(b []byte, raw []bpf.RawInstruction) ([]byte, error) {
	n := len(raw)
	target := make([]bool, n)
	lines := make([]string, n)
	label := func(i, t int) (string, error) {
		if t < 0 || t >= n {
			return "", fmt.Errorf("instruction %d: jump to %d, outside the program: %w", i, t, ErrNotAsm)
		}
		target[t] = true
		return "L" + strconv.Itoa(t), nil
	}
	for i, ins := range raw {
		s, ok := asmOperation(ins)
		switch {
		case ok:
		case ins.Op == dJMP|dJA:
			l, err := label(i, int(int32(uint32(i+1)+ins.K)))
			if err != nil {
				return nil, err
			}
			s = "ja " + l
		case ins.Op < 0x100 && ins.Op&dClsMask == dJMP && imgJmpNames[ins.Op&dOpMask] != "":
			lt, err := label(i, i+1+int(ins.Jt))
			if err != nil {
				return nil, err
			}
			lf, err := label(i, i+1+int(ins.Jf))
			if err != nil {
				return nil, err
			}
			operand := "#" + cHex(ins.K)
			if ins.Op&dX != 0 {
				operand = "x"
			}
			s = imgJmpNames[ins.Op&dOpMask] + " " + operand + ", " + lt + ", " + lf
		default:
			return nil, fmt.Errorf("instruction %d (%s): %w", i, Image(ins, i), ErrNotAsm)
		}
		lines[i] = s
	}
	for i, s := range lines {
		if target[i] {
			b = append(b, 'L')
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, ':')
		}
		b = append(b, '\t')
		b = append(b, s...)
		b = append(b, '\n')
	}
	return b, nil
}

// asmOperation returns the bpf_asm text of a non-jump instruction, or
// false when ins is a jump or has no exact bpf_asm form.
func asmOperation(ins bpf.RawInstruction) (string, bool) {
	k := ins.K
	u := strconv.FormatUint(uint64(k), 10)
	noK := func(s string) (string, bool) { return s, true }
	switch ins.Op {
	case dRET | dK:
		return "ret #" + u, true
	case dRET | dA:
		return noK("ret a")
	case dRET | dX:
		return noK("ret x")
	case dLD | dW | dABS, dLD | dH | dABS, dLD | dB | dABS:
		op := map[uint16]string{dW: "ld", dH: "ldh", dB: "ldb"}[ins.Op&0x18]
		if k >= dAncBase {
			if name, ok := asmAncNames[k-dAncBase]; ok {
				return op + " #" + name, true
			}
		}
		return op + " [" + u + "]", true
	case dLD | dW | dIND:
		return "ld [x + " + u + "]", true
	case dLD | dH | dIND:
		return "ldh [x + " + u + "]", true
	case dLD | dB | dIND:
		return "ldb [x + " + u + "]", true
	case dLD | dW | dLEN:
		return noK("ld #len")
	case dLDX | dW | dLEN:
		return noK("ldx #len")
	case dLD | dIMM:
		return "ld #" + cHex(k), true
	case dLDX | dIMM:
		return "ldx #" + cHex(k), true
	case dLD | dMEM:
		return "ld M[" + u + "]", true
	case dLDX | dMEM:
		return "ldx M[" + u + "]", true
	case dST:
		return "st M[" + u + "]", true
	case dSTX:
		return "stx M[" + u + "]", true
	case dLDX | dMSH | dB:
		return "ldxb 4*([" + u + "]&0xf)", true
	case dALU | dNEG:
		return noK("neg")
	case dMISC | dTAX:
		return noK("tax")
	case dMISC | dTXA:
		return noK("txa")
	}
	if ins.Op < 0x100 && ins.Op&dClsMask == dALU {
		name, ok := imgALUNames[ins.Op&dOpMask]
		if !ok {
			return "", false
		}
		if ins.Op&dX != 0 {
			return noK(name + " x")
		}
		if imgALUHexK[ins.Op&dOpMask] {
			return name + " #" + cHex(k), true
		}
		return name + " #" + u, true
	}
	return "", false
}
