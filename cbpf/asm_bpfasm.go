package cbpf

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// This file reads the source syntax of the Linux kernel's bpf_asm
// (tools/bpf/bpf_exp.l and bpf_exp.y): case-insensitive mnemonics,
// labels ("name:") as jump targets, ";" and "/* */" comments, "#" comment
// lines, and numbers in decimal, 0x hex, 0b binary or 0 octal.

type asmTokKind int

const (
	tkOp    asmTokKind = iota + 1 // a mnemonic (text is lower-cased)
	tkExt                         // an ancillary name: num is its SKF_AD offset
	tkLen                         // "len" or "#len"
	tkNum                         // a number: num
	tkLabel                       // a label name: text
	tkPunct                       // one of : , [ ] ( ) + * & # % : text
	tkX                           // x
	tkA                           // a
	tkM                           // M
	tkEOF
)

type asmTok struct {
	kind asmTokKind
	text string
	num  uint32
	line int
}

func (t asmTok) String() string {
	switch t.kind {
	case tkEOF:
		return "end of input"
	case tkNum:
		return fmt.Sprintf("number %s", t.text)
	case tkLabel:
		return fmt.Sprintf("label %q", t.text)
	}
	return strconv.Quote(t.text)
}

var asmMnemonics = map[string]bool{
	"ldb": true, "ldh": true, "ld": true, "ldi": true, "ldx": true, "ldxi": true,
	"ldxb": true, "st": true, "stx": true, "jmp": true, "ja": true, "jeq": true,
	"jneq": true, "jne": true, "jlt": true, "jle": true, "jgt": true, "jge": true,
	"jset": true, "add": true, "sub": true, "mul": true, "div": true, "mod": true,
	"neg": true, "and": true, "xor": true, "or": true, "lsh": true, "rsh": true,
	"ret": true, "tax": true, "txa": true,
}

// asmExtensions are bpf_asm's ancillary names (bpf_exp.l).
var asmExtensions = map[string]uint32{
	"proto": 0, "type": 4, "poff": 52, "ifidx": 8, "nla": 12, "nlan": 16,
	"mark": 20, "queue": 24, "hatype": 28, "rxhash": 32, "cpu": 36,
	"vlan_tci": 44, "vlan_pr": 48, "vlan_avail": 48, "vlan_tpid": 60, "rand": 56,
}

func isAsmExt(w string) bool {
	_, ok := asmExtensions[w]
	return ok
}

func isWordStart(c byte) bool {
	return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}

func isWordByte(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' }

// lexAsm splits bpf_asm source into tokens.
func lexAsm(s string) ([]asmTok, error) {
	var toks []asmTok
	line := 1
	bad := func(format string, args ...any) error { return synErr(FormatAsm, line, format, args...) }
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == ';':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '#' && strings.TrimLeft(s[strings.LastIndexByte(s[:i], '\n')+1:i], " \t") == "":
			// bpf_asm takes "#" comments in the first column only; here they
			// may be indented too.
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, bad("unterminated /* comment")
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case c == '#' && i+1 < len(s) && isWordStart(s[i+1]):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := strings.ToLower(s[i+1 : j])
			if w == "len" {
				toks = append(toks, asmTok{kind: tkLen, text: s[i:j], line: line})
				i = j
			} else if off, ok := asmExtensions[w]; ok {
				toks = append(toks, asmTok{kind: tkExt, text: s[i:j], num: off, line: line})
				i = j
			} else {
				toks = append(toks, asmTok{kind: tkPunct, text: "#", line: line})
				i++
			}
		case isWordStart(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			lw := strings.ToLower(w)
			t := asmTok{text: w, line: line}
			switch {
			case asmMnemonics[lw]:
				t.kind, t.text = tkOp, lw
			case lw == "len":
				t.kind = tkLen
			case isAsmExt(lw):
				t.kind, t.num = tkExt, asmExtensions[lw]
			case lw == "x":
				t.kind = tkX
			case lw == "a":
				t.kind = tkA
			case lw == "m":
				t.kind = tkM
			case len(w) >= 2:
				t.kind = tkLabel
			default:
				return nil, bad("unknown word %q", w)
			}
			toks = append(toks, t)
			i = j
		case c >= '0' && c <= '9' || (c == '-' || c == '+') && i+1 < len(s) && s[i+1] >= '1' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			v, err := asmNumber(s[i:j])
			if err != nil {
				return nil, bad("%v", err)
			}
			toks = append(toks, asmTok{kind: tkNum, text: s[i:j], num: v, line: line})
			i = j
		case strings.IndexByte(":,[]()+*&#%", c) >= 0:
			toks = append(toks, asmTok{kind: tkPunct, text: string(c), line: line})
			i++
		default:
			return nil, bad("unexpected character %q", c)
		}
	}
	if len(toks) > 0 {
		line = toks[len(toks)-1].line
	}
	return append(toks, asmTok{kind: tkEOF, line: line}), nil
}

// asmNumber parses a bpf_asm number: 0x hex, 0b binary, 0 octal or a
// signed decimal, which must fit in 32 bits (negative decimals wrap, as
// bpf_asm's strtol does).
func asmNumber(s string) (uint32, error) {
	ls := strings.ToLower(s)
	var v uint64
	var err error
	switch {
	case strings.HasPrefix(ls, "0x"):
		v, err = strconv.ParseUint(ls[2:], 16, 32)
	case strings.HasPrefix(ls, "0b"):
		v, err = strconv.ParseUint(ls[2:], 2, 32)
	case len(ls) > 1 && ls[0] == '0':
		v, err = strconv.ParseUint(ls[1:], 8, 32)
	case ls[0] == '-':
		var n int64
		n, err = strconv.ParseInt(ls, 10, 32)
		v = uint64(uint32(int32(n)))
	default:
		v, err = strconv.ParseUint(strings.TrimPrefix(ls, "+"), 10, 32)
	}
	if err != nil {
		return 0, fmt.Errorf("bad 32-bit number %q", s)
	}
	return uint32(v), nil
}

// asmParser is a recursive-descent parser over bpf_asm tokens.
type asmParser struct {
	toks []asmTok
	pos  int
	raw  []bpf.RawInstruction
	// labels maps a label to its instruction; refs are the jumps to
	// resolve once all labels are known.
	labels map[string]int
	refs   []asmRef
}

type asmRef struct {
	insn  int
	field byte // 't', 'f' or 'k'
	label asmTok
}

type asmFail struct{ err *SyntaxError }

func (p *asmParser) peek() asmTok { return p.toks[p.pos] }

func (p *asmParser) next() asmTok {
	t := p.toks[p.pos]
	if t.kind != tkEOF {
		p.pos++
	}
	return t
}

func (p *asmParser) fail(t asmTok, format string, args ...any) {
	panic(asmFail{synErr(FormatAsm, t.line, format, args...)})
}

func (p *asmParser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tkPunct && t.text == s
}

func (p *asmParser) accept(s string) bool {
	if p.isPunct(s) {
		p.pos++
		return true
	}
	return false
}

func (p *asmParser) expect(op, s string) {
	if t := p.next(); t.kind != tkPunct || t.text != s {
		p.fail(t, "%s: want %q, got %v", op, s, t)
	}
}

func (p *asmParser) number(op string) uint32 {
	t := p.next()
	if t.kind != tkNum {
		p.fail(t, "%s: want a number, got %v", op, t)
	}
	return t.num
}

func (p *asmParser) acceptKind(k asmTokKind) bool {
	if p.peek().kind == k {
		p.pos++
		return true
	}
	return false
}

// xOperand accepts "x" or "%x".
func (p *asmParser) xOperand() bool {
	if p.acceptKind(tkX) {
		return true
	}
	if p.isPunct("%") && p.toks[p.pos+1].kind == tkX {
		p.pos += 2
		return true
	}
	return false
}

func (p *asmParser) label(op string, field byte) {
	t := p.next()
	if t.kind != tkLabel {
		p.fail(t, "%s: want a label, got %v", op, t)
	}
	p.refs = append(p.refs, asmRef{insn: len(p.raw), field: field, label: t})
}

func (p *asmParser) emit(code uint16, k uint32) {
	p.raw = append(p.raw, bpf.RawInstruction{Op: code, K: k})
}

// parseAsm reads bpf_asm source.
func parseAsm(s string) (raw []bpf.RawInstruction, err error) {
	toks, err := lexAsm(s)
	if err != nil {
		return nil, err
	}
	p := &asmParser{toks: toks, labels: map[string]int{}}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(asmFail)
			if !ok {
				panic(r)
			}
			raw, err = nil, f.err
		}
	}()
	for p.peek().kind != tkEOF {
		t := p.next()
		if t.kind == tkLabel && p.accept(":") {
			if _, dup := p.labels[t.text]; dup {
				p.fail(t, "label %q defined twice", t.text)
			}
			p.labels[t.text] = len(p.raw)
			t = p.next()
		}
		if t.kind != tkOp {
			p.fail(t, "want an instruction, got %v", t)
		}
		p.instruction(t)
	}
	for _, r := range p.refs {
		target, ok := p.labels[r.label.text]
		if !ok {
			p.fail(r.label, "no such label %q", r.label.text)
		}
		d := target - r.insn - 1
		ins := &p.raw[r.insn]
		if r.field == 'k' {
			ins.K = uint32(int32(d))
			continue
		}
		if d < 0 || d > 255 {
			p.fail(r.label, "instruction %d jumps to label %q (instruction %d), out of reach (0 to 255 ahead)", r.insn, r.label.text, target)
		}
		if r.field == 't' {
			ins.Jt = uint8(d)
		} else {
			ins.Jf = uint8(d)
		}
	}
	return p.raw, nil
}

var asmALU = map[string]uint16{
	"add": dADD, "sub": dSUB, "mul": dMUL, "div": dDIV, "mod": dMOD,
	"and": dAND, "or": dOR, "xor": dXOR, "lsh": dLSH, "rsh": dRSH,
}

// asmJumps maps a conditional jump mnemonic to its opcode operator and
// whether its first label is the false branch (jneq, jlt, jle).
var asmJumps = map[string]struct {
	op      uint16
	negated bool
}{
	"jeq": {dJEQ, false}, "jgt": {dJGT, false}, "jge": {dJGE, false}, "jset": {dJSET, false},
	"jneq": {dJEQ, true}, "jne": {dJEQ, true}, "jlt": {dJGE, true}, "jle": {dJGT, true},
}

// instruction parses the operands of mnemonic t and emits it.
func (p *asmParser) instruction(t asmTok) {
	op := t.text
	switch op {
	case "ldb", "ldh", "ld":
		size := map[string]uint16{"ldb": dB, "ldh": dH, "ld": dW}[op]
		switch {
		case p.acceptKind(tkExt):
			p.emit(dLD|size|dABS, dAncBase+p.toks[p.pos-1].num)
		case op == "ld" && p.acceptKind(tkLen):
			p.emit(dLD|dW|dLEN, 0)
		case op == "ld" && p.accept("#"):
			p.emit(dLD|dIMM, p.number(op))
		case op == "ld" && p.acceptKind(tkM):
			p.expect(op, "[")
			k := p.number(op)
			p.expect(op, "]")
			p.emit(dLD|dMEM, k)
		case p.accept("["):
			if p.xOperand() {
				var k uint32
				if t := p.peek(); t.kind == tkNum && t.text[0] == '+' {
					// "[x+4]": bpf_asm's lexer reads "+4" as a number.
					k = p.next().num
				} else {
					p.expect(op, "+")
					k = p.number(op)
				}
				p.expect(op, "]")
				p.emit(dLD|size|dIND, k)
				return
			}
			k := p.number(op)
			p.expect(op, "]")
			p.emit(dLD|size|dABS, k)
		default:
			p.fail(p.peek(), "%s: bad operand %v", op, p.peek())
		}
	case "ldi", "ldxi":
		p.accept("#")
		code := uint16(dLD | dIMM)
		if op == "ldxi" {
			code = dLDX | dIMM
		}
		p.emit(code, p.number(op))
	case "ldx", "ldxb":
		switch {
		case op == "ldx" && p.accept("#"):
			p.emit(dLDX|dIMM, p.number(op))
		case op == "ldx" && p.acceptKind(tkLen):
			p.emit(dLDX|dW|dLEN, 0)
		case op == "ldx" && p.acceptKind(tkM):
			p.expect(op, "[")
			k := p.number(op)
			p.expect(op, "]")
			p.emit(dLDX|dMEM, k)
		case p.peek().kind == tkNum:
			mul := p.next()
			p.expect(op, "*")
			p.expect(op, "(")
			p.expect(op, "[")
			k := p.number(op)
			p.expect(op, "]")
			p.expect(op, "&")
			mask := p.number(op)
			p.expect(op, ")")
			if mul.num != 4 || mask != 0xf {
				p.fail(mul, "%s: only 4*([k]&0xf) is supported", op)
			}
			p.emit(dLDX|dMSH|dB, k)
		default:
			p.fail(p.peek(), "%s: bad operand %v", op, p.peek())
		}
	case "st", "stx":
		if !p.acceptKind(tkM) {
			p.fail(p.peek(), "%s: want M[k], got %v", op, p.peek())
		}
		p.expect(op, "[")
		k := p.number(op)
		p.expect(op, "]")
		code := uint16(dST)
		if op == "stx" {
			code = dSTX
		}
		p.emit(code, k)
	case "jmp", "ja":
		p.label(op, 'k')
		p.emit(dJMP|dJA, 0)
	case "jeq", "jneq", "jne", "jlt", "jle", "jgt", "jge", "jset":
		j := asmJumps[op]
		code, k := dJMP|j.op|dX, uint32(0)
		if !p.xOperand() {
			if !p.accept("#") {
				p.fail(p.peek(), "%s: want #k or x, got %v", op, p.peek())
			}
			code, k = dJMP|j.op|dK, p.number(op)
		}
		p.expect(op, ",")
		if j.negated {
			p.label(op, 'f')
		} else {
			p.label(op, 't')
			if p.accept(",") {
				p.label(op, 'f')
			}
		}
		p.emit(code, k)
	case "neg":
		p.emit(dALU|dNEG, 0)
	case "tax":
		p.emit(dMISC|dTAX, 0)
	case "txa":
		p.emit(dMISC|dTXA, 0)
	case "ret":
		switch {
		case p.acceptKind(tkA) || p.isPunct("%") && p.toks[p.pos+1].kind == tkA && p.skip(2):
			p.emit(dRET|dA, 0)
		case p.xOperand():
			p.emit(dRET|dX, 0)
		case p.accept("#"):
			p.emit(dRET|dK, p.number(op))
		default:
			p.fail(p.peek(), "ret: want #k, a or x, got %v", p.peek())
		}
	default: // the ALU operations
		alu := asmALU[op]
		switch {
		case p.xOperand():
			p.emit(dALU|alu|dX, 0)
		case p.accept("#"):
			p.emit(dALU|alu|dK, p.number(op))
		default:
			p.fail(p.peek(), "%s: want #k or x, got %v", op, p.peek())
		}
	}
}

func (p *asmParser) skip(n int) bool {
	p.pos += n
	return true
}
