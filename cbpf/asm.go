package cbpf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// MaxTextSize is the largest program text Parse reads, in bytes.
const MaxTextSize = 16 << 20

// ErrSyntax is what every *SyntaxError matches with errors.Is.
var ErrSyntax = errors.New("syntax error")

// A SyntaxError reports malformed program text: the line it is on and
// why it is wrong.
type SyntaxError struct {
	// Format is the form the text was read as.
	Format Format
	// Line is the 1-based line number.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error returns "line N: msg".
func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Is reports whether target is ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

func synErr(f Format, line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Format: f, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a program in any of the forms Dump writes (tcpdump's -d,
// -dd and -ddd, and bpf_asm source) or in bpf_asm's own output form
// ("4,40 0 0 12,..."), telling them apart by the first line that is not
// blank or a comment. The text does not record the link type or the
// snapshot length: the Program has them zero, for the caller to set. A
// malformed text gives a *SyntaxError and no Program.
func Parse(r io.Reader) (*Program, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxTextSize+1))
	if err != nil {
		return nil, fmt.Errorf("cbpf: read program: %w", err)
	}
	if len(data) > MaxTextSize {
		return nil, fmt.Errorf("cbpf: read program: more than %d bytes", MaxTextSize)
	}
	return ParseString(string(data))
}

// ParseString is Parse on a string.
func ParseString(s string) (*Program, error) {
	return ParseAs(s, DetectFormat(s))
}

// ParseAs reads s as a program in format f; see Parse.
func ParseAs(s string, f Format) (*Program, error) {
	var raw []bpf.RawInstruction
	var err error
	switch f {
	case FormatText:
		raw, err = parseText(s)
	case FormatC:
		raw, err = parseC(s)
	case FormatDecimal:
		raw, err = parseDecimal(s)
	case FormatAsm:
		raw, err = parseAsm(s)
	default:
		return nil, fmt.Errorf("cbpf: parse: unknown format %d", int(f))
	}
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, synErr(f, 1, "no instructions")
	}
	return FromRaw(raw, 0, 0), nil
}

// DetectFormat guesses the format of program text from its first line
// that is not blank or a comment: "(" starts -d, "{" starts -dd, a number
// starts -ddd (or bpf_asm's comma-separated output), anything else is
// bpf_asm source.
func DetectFormat(s string) Format {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if isCommentLine(l) {
			continue
		}
		switch {
		case l[0] == '(':
			return FormatText
		case l[0] == '{':
			return FormatC
		case l[0] >= '0' && l[0] <= '9' && strings.Trim(l, "0123456789 \t,") == "":
			return FormatDecimal
		}
		return FormatAsm
	}
	return FormatAsm
}

// isCommentLine reports whether the trimmed line l is blank or a whole-line
// comment (#, ;, //) in the numeric and -d forms.
func isCommentLine(l string) bool {
	return l == "" || l[0] == '#' || l[0] == ';' || strings.HasPrefix(l, "//")
}

// lines splits s into lines, dropping carriage returns.
func lines(s string) []string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// parseUint parses a C-style unsigned integer literal (decimal, 0x hex,
// 0 octal) of at most bits bits.
func parseUint(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%s does not fit in %d bits", s, bits)
		}
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v, nil
}

// parseK parses a 32-bit operand as tcpdump prints it: signed or unsigned
// decimal, or 0x hexadecimal.
func parseK(s string) (uint32, error) {
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", s)
		}
		return uint32(int32(v)), nil
	}
	if strings.HasPrefix(s, "+") || (len(s) > 1 && s[0] == '0' && s[1] != 'x' && s[1] != 'X') {
		return 0, fmt.Errorf("bad number %q", s)
	}
	v, err := parseUint(s, 32)
	return uint32(v), err
}

// parseC reads `tcpdump -dd` text: `{ code, jt, jf, k },` lines.
func parseC(s string) ([]bpf.RawInstruction, error) {
	var raw []bpf.RawInstruction
	for n, l := range lines(s) {
		l = strings.TrimSpace(l)
		if isCommentLine(l) {
			continue
		}
		l = strings.TrimSuffix(l, ",")
		body, ok := strings.CutPrefix(l, "{")
		if ok {
			body, ok = strings.CutSuffix(body, "}")
		}
		if !ok {
			return nil, synErr(FormatC, n+1, "want { code, jt, jf, k }, got %q", l)
		}
		f := strings.Split(body, ",")
		if len(f) != 4 {
			return nil, synErr(FormatC, n+1, "want 4 fields (code, jt, jf, k), got %d", len(f))
		}
		ins, err := rawFromFields(f, true)
		if err != nil {
			return nil, synErr(FormatC, n+1, "%v", err)
		}
		raw = append(raw, ins)
	}
	return raw, nil
}

// rawFromFields makes an instruction from its four numeric fields.
func rawFromFields(f []string, cStyle bool) (bpf.RawInstruction, error) {
	var v [4]uint64
	bits := [4]int{16, 8, 8, 32}
	names := [4]string{"code", "jt", "jf", "k"}
	for i, s := range f {
		s = strings.TrimSpace(s)
		var err error
		if cStyle {
			v[i], err = parseUint(s, bits[i])
		} else {
			if s == "" || strings.Trim(s, "0123456789") != "" {
				err = fmt.Errorf("bad number %q", s)
			} else {
				v[i], err = parseUint(strings.TrimLeft(s[:len(s)-1], "0")+s[len(s)-1:], bits[i])
			}
		}
		if err != nil {
			return bpf.RawInstruction{}, fmt.Errorf("%s: %w", names[i], err)
		}
	}
	return bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}, nil
}

// parseDecimal reads `tcpdump -ddd` text, or bpf_asm's output, where
// commas separate the count and the instructions.
func parseDecimal(s string) ([]bpf.RawInstruction, error) {
	type item struct {
		line int
		text string
	}
	var items []item
	for n, l := range lines(s) {
		l = strings.TrimSpace(l)
		if isCommentLine(l) {
			continue
		}
		if !strings.Contains(l, ",") {
			items = append(items, item{n + 1, l})
			continue
		}
		parts := strings.Split(l, ",")
		if strings.TrimSpace(parts[len(parts)-1]) == "" {
			parts = parts[:len(parts)-1]
		}
		for _, p := range parts {
			items = append(items, item{n + 1, strings.TrimSpace(p)})
		}
	}
	if len(items) == 0 {
		return nil, synErr(FormatDecimal, 1, "no instruction count")
	}
	count, err := parseUint(items[0].text, 32)
	if err != nil || strings.Trim(items[0].text, "0123456789") != "" {
		return nil, synErr(FormatDecimal, items[0].line, "want the instruction count, got %q", items[0].text)
	}
	raw := make([]bpf.RawInstruction, 0, min(len(items)-1, MaxInstructions))
	for _, it := range items[1:] {
		f := strings.Fields(it.text)
		if len(f) != 4 {
			return nil, synErr(FormatDecimal, it.line, "want 4 numbers (code jt jf k), got %q", it.text)
		}
		ins, err := rawFromFields(f, false)
		if err != nil {
			return nil, synErr(FormatDecimal, it.line, "%v", err)
		}
		raw = append(raw, ins)
	}
	if uint64(len(raw)) != count {
		return nil, synErr(FormatDecimal, items[0].line, "count says %d instructions, text has %d", count, len(raw))
	}
	return raw, nil
}

// textOps maps a -d mnemonic and its operand's shape to an opcode. The
// shapes are: "#k" (a number after #), "[k]", "[x+k]", "M[k]", "x", "",
// "#pktlen", "msh" (4*([k]&0xf)), "target" (ja).
var textOps = func() map[string]uint16 {
	m := map[string]uint16{
		"ret #k": dRET | dK, "ret ": dRET | dA,
		"ld [k]": dLD | dW | dABS, "ldh [k]": dLD | dH | dABS, "ldb [k]": dLD | dB | dABS,
		"ld #pktlen": dLD | dW | dLEN,
		"ld [x+k]":   dLD | dW | dIND, "ldh [x+k]": dLD | dH | dIND, "ldb [x+k]": dLD | dB | dIND,
		"ld #k": dLD | dIMM, "ldx #k": dLDX | dIMM, "ldxb msh": dLDX | dMSH | dB,
		"ld M[k]": dLD | dMEM, "ldx M[k]": dLDX | dMEM, "st M[k]": dST, "stx M[k]": dSTX,
		"ja target": dJMP | dJA,
		"neg ":      dALU | dNEG, "tax ": dMISC | dTAX, "txa ": dMISC | dTXA,
	}
	for op, name := range imgJmpNames {
		m[name+" #k"] = dJMP | op | dK
		m[name+" x"] = dJMP | op | dX
	}
	for op, name := range imgALUNames {
		m[name+" #k"] = dALU | op | dK
		m[name+" x"] = dALU | op | dX
	}
	return m
}()

// textMnemonics are the mnemonics of -d text.
var textMnemonics = func() map[string]bool {
	m := map[string]bool{}
	for k := range textOps {
		m[k[:strings.IndexByte(k, ' ')]] = true
	}
	return m
}()

// textAnc maps libpcap's ancillary names back to offsets.
var textAnc = func() map[string]uint32 {
	m := map[string]uint32{}
	for off, name := range imgAncNames {
		m[name] = dAncBase + off
	}
	return m
}()

// parseText reads `tcpdump -d` text.
func parseText(s string) ([]bpf.RawInstruction, error) {
	var raw []bpf.RawInstruction
	for n, l := range lines(s) {
		t := strings.TrimSpace(l)
		if isCommentLine(t) {
			continue
		}
		ins, err := parseTextLine(t, len(raw))
		if err != nil {
			return nil, synErr(FormatText, n+1, "%v", err)
		}
		raw = append(raw, ins)
	}
	return raw, nil
}

// parseTextLine reads one bpf_image line for instruction pc.
func parseTextLine(l string, pc int) (bpf.RawInstruction, error) {
	var ins bpf.RawInstruction
	num, rest, ok := strings.Cut(strings.TrimPrefix(l, "("), ")")
	if !ok || !strings.HasPrefix(l, "(") {
		return ins, fmt.Errorf("want (NNN) at the start of %q", l)
	}
	if n, err := strconv.Atoi(num); err != nil || n != pc {
		return ins, fmt.Errorf("instruction number (%s), want (%03d)", num, pc)
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return ins, fmt.Errorf("no instruction after (%s)", num)
	}
	var jt, jf string
	hasJ := false
	if len(f) >= 5 && f[len(f)-4] == "jt" && f[len(f)-2] == "jf" {
		jt, jf, hasJ = f[len(f)-3], f[len(f)-1], true
		f = f[:len(f)-4]
	}
	mn := f[0]
	operand := strings.Join(f[1:], "")
	var shape string
	var k uint32
	var err error
	switch {
	case mn == "unimp":
		v, perr := parseUint(operand, 16)
		if perr != nil || !strings.HasPrefix(operand, "0x") {
			return ins, fmt.Errorf("unimp: want a 0x opcode, got %q", operand)
		}
		ins.Op = uint16(v)
		if op, _ := imageParts(ins, pc); op != "unimp" {
			return ins, fmt.Errorf("opcode %s is %q, not unimp", operand, op)
		}
		shape = "unimp"
	case operand == "" || operand == "x" || operand == "#pktlen":
		shape = operand
	case mn == "ja":
		shape = "target"
		var t uint32
		if t, err = parseK(operand); err == nil {
			k = t - uint32(pc+1)
		}
	case mn == "ldxb":
		in, ok1 := strings.CutPrefix(operand, "4*([")
		in, ok2 := strings.CutSuffix(in, "]&0xf)")
		if !ok1 || !ok2 {
			return ins, fmt.Errorf("ldxb: want 4*([k]&0xf), got %q", operand)
		}
		shape = "msh"
		k, err = parseK(in)
	case strings.HasPrefix(operand, "#"):
		shape = "#k"
		k, err = parseK(operand[1:])
	case strings.HasPrefix(operand, "M[") && strings.HasSuffix(operand, "]"):
		shape = "M[k]"
		k, err = parseK(operand[2 : len(operand)-1])
	case strings.HasPrefix(operand, "[x+") && strings.HasSuffix(operand, "]"):
		shape = "[x+k]"
		k, err = parseK(operand[3 : len(operand)-1])
	case strings.HasPrefix(operand, "[") && strings.HasSuffix(operand, "]"):
		shape = "[k]"
		in := operand[1 : len(operand)-1]
		if a, ok := textAnc[in]; ok {
			k = a
		} else {
			k, err = parseK(in)
		}
	default:
		return ins, fmt.Errorf("%s: bad operand %q", mn, operand)
	}
	if err != nil {
		return ins, fmt.Errorf("%s: %w", mn, err)
	}
	if shape != "unimp" {
		op, ok := textOps[mn+" "+shape]
		if !ok {
			if !textMnemonics[mn] {
				return ins, fmt.Errorf("unknown instruction %q", mn)
			}
			return ins, fmt.Errorf("%s: bad operand %q", mn, operand)
		}
		ins.Op, ins.K = op, k
	}
	if imgCondJump(ins.Op) != hasJ {
		if hasJ {
			return ins, fmt.Errorf("%s takes no jt/jf", mn)
		}
		return ins, fmt.Errorf("%s: missing jt N jf N", mn)
	}
	if hasJ {
		if ins.Jt, err = textTarget(jt, pc); err == nil {
			ins.Jf, err = textTarget(jf, pc)
		}
		if err != nil {
			return ins, fmt.Errorf("%s: %w", mn, err)
		}
	}
	return ins, nil
}

// textTarget converts an absolute jump target of instruction pc to an
// 8-bit offset.
func textTarget(s string, pc int) (uint8, error) {
	t, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("bad jump target %q", s)
	}
	d := t - pc - 1
	if d < 0 || d > 255 {
		return 0, fmt.Errorf("jump target %d out of reach of instruction %d (0 to 255 ahead)", t, pc)
	}
	return uint8(d), nil
}
