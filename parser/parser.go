package parser

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// grammar is the root of participle's grammar. libpcap's grammar is
// LALR(1) with conflicts that bison resolves by precedence and by
// shifting; an LL grammar of participle structs cannot express those
// choices without backtracking (is "(" a boolean group, a list of ids or
// arithmetic? is "443" after "or" an id or the start of a comparison?),
// so the whole language is parsed by one Parseable hook: a recursive
// descent over the boolean layer with a precedence-climbing parser for
// arithmetic, reading participle's token stream.
type grammar struct {
	expr Expr
	err  *Error
}

// errStop tells participle the hook failed; the *Error is in grammar.err.
var errStop = errors.New("stop")

// Parse implements participle.Parseable: it parses the tokens of
// participle's stream with the same recursive descent as the package's
// Parse.
func (g *grammar) Parse(lex *lexer.PeekingLexer) error {
	var ts tokenStream
	for {
		t := lex.Next()
		ts.toks = append(ts.toks, *t)
		if t.EOF() {
			break
		}
	}
	p := parser{lex: &ts}
	g.expr, g.err = p.parseFilter()
	if g.err != nil {
		return errStop
	}
	return nil
}

// filterParser is the language as a participle parser: the lexer
// definition and the grammar hook. Parse does not go through it, because
// participle's token buffering and reflection cost more than the rest of
// a parse; parseWithParticiple (used by the tests) does, and must agree.
var filterParser = participle.MustBuild[grammar](participle.Lexer(lexDefinition{}))

// Parse parses a filter expression into a syntax tree that keeps every
// position and what was written. An empty expression (only white space)
// gives a nil Expr and a nil error: it accepts every packet.
//
// On failure Parse returns a nil Expr and an ErrorList holding one *Error.
func Parse(src string) (Expr, error) {
	if len(src) > MaxLen {
		return nil, ErrorList{{Pos: Pos{Line: 1, Column: 1}, Kind: ErrLimit,
			Msg: fmt.Sprintf("expression too long: %d bytes, the limit is %d", len(src), MaxLen)}}
	}
	// The tokens of expressions up to maxPooledSrc bytes go in a stream
	// kept between calls; a longer one has room made for a token per 6
	// bytes (a host list has one per 7; the slice grows for denser ones).
	var ts *tokenStream
	if len(src) <= maxPooledSrc {
		ts = tokenPool.Get().(*tokenStream)
		defer func() {
			clear(ts.toks) // (they point into src)
			ts.toks, ts.i = ts.toks[:0], 0
			tokenPool.Put(ts)
		}()
	} else {
		ts = &tokenStream{toks: make([]lexer.Token, 0, len(src)/6+4)}
	}
	sc := scanner{src: src, line: 1, col: 1}
	for {
		t := sc.next()
		ts.toks = append(ts.toks, t)
		if t.Type == lexer.EOF {
			break
		}
	}
	p := parser{lex: ts}
	e, perr := p.parseFilter()
	if perr != nil {
		return nil, ErrorList{perr}
	}
	return e, nil
}

// parseWithParticiple is Parse through participle's ParseString.
func parseWithParticiple(src string) (Expr, error) {
	if len(src) > MaxLen {
		return Parse(src)
	}
	g, err := filterParser.ParseString("", src)
	if g != nil && g.err != nil {
		return nil, ErrorList{g.err}
	}
	if err != nil {
		var pe participle.Error
		if errors.As(err, &pe) {
			lp := pe.Position()
			return nil, ErrorList{{Pos: Pos{lp.Offset, lp.Line, lp.Column}, Msg: pe.Message(), Kind: ErrSyntax}}
		}
		return nil, ErrorList{{Pos: Pos{Line: 1, Column: 1}, Msg: err.Error(), Kind: ErrSyntax}}
	}
	return g.expr, nil
}

// tokenPool holds token streams for Parse, which keeps none of its
// tokens: the expression's tree holds their values and positions.
var tokenPool = sync.Pool{New: func() any {
	return &tokenStream{toks: make([]lexer.Token, 0, 32)}
}}

// maxPooledSrc is the longest expression whose tokens go in a pooled
// buffer; the buffer grows with the longest such expression.
const maxPooledSrc = 1024

// tokenStream is the parser's view of the tokens: the whole input lexed
// up front, ending with an EOF token, which the stream never moves past.
type tokenStream struct {
	toks []lexer.Token
	i    int
}

func (s *tokenStream) peek() *lexer.Token { return &s.toks[s.i] }

func (s *tokenStream) next() *lexer.Token {
	t := &s.toks[s.i]
	if s.i < len(s.toks)-1 {
		s.i++
	}
	return t
}

// bailout unwinds the parser on the first error.
type bailout struct{}

// parser is the hand-written parser over participle's tokens.
type parser struct {
	lex   *tokenStream
	depth int
	err   *Error
}

// unitKind says what may appear where a unit is parsed: in libpcap's
// grammar a term (a qualified primitive, a comparison ...) and an id (a
// bare value that inherits qualifiers) are allowed in different places.
type unitKind uint8

const (
	kindT  unitKind = iota // a term only: the start of an expression
	kindTI                 // a term or an id: after "and"/"or"
	kindI                  // an id only: after a qualifier, in an id list
)

// unit is what parseUnit found: an expression (a term or an id) or, at the
// start of a parenthesized group, arithmetic that continues after ')'.
type unit struct {
	e     Expr
	id    bool
	arith Arith
}

func (p *parser) parseFilter() (e Expr, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			e, err = nil, p.err
		}
	}()
	if p.peek().EOF() {
		return nil, nil
	}
	e, _, _ = p.parseSeq(kindT, false)
	if t := p.peek(); !t.EOF() {
		if t.Type == tokRParen {
			p.fail(t, "unbalanced ')'")
		}
		msg := "expected 'and', 'or' or end of input, found " + describe(t)
		if t.Type == tokSlash {
			msg += "; a prefix length needs a dotted address, such as 10.0.0.0/8"
		}
		p.fail(t, msg)
	}
	return e, nil
}

func pos(t *lexer.Token) Pos { return Pos{t.Pos.Offset, t.Pos.Line, t.Pos.Column} }

func (p *parser) peek() *lexer.Token { return p.lex.peek() }
func (p *parser) next() *lexer.Token { return p.lex.next() }

// peek2 returns the token after the next one.
func (p *parser) peek2() *lexer.Token {
	if p.lex.i+1 < len(p.lex.toks) {
		return &p.lex.toks[p.lex.i+1]
	}
	return p.lex.peek()
}

func (p *parser) fail(t *lexer.Token, msg string) {
	p.failAt(pos(t), msg)
}

func (p *parser) failAt(at Pos, msg string) {
	p.err = &Error{Pos: at, Msg: msg, Kind: ErrSyntax}
	panic(bailout{})
}

func (p *parser) enter(t *lexer.Token) {
	p.depth++
	if p.depth > MaxDepth {
		p.err = &Error{Pos: pos(t), Msg: fmt.Sprintf("expression nested too deeply (more than %d levels)", MaxDepth), Kind: ErrLimit}
		panic(bailout{})
	}
}

func (p *parser) expect(typ lexer.TokenType, what string) *lexer.Token {
	t := p.peek()
	if t.Type != typ {
		p.fail(t, "expected "+what+", found "+describe(t))
	}
	return p.next()
}

// describe names a token for an error message.
func describe(t *lexer.Token) string {
	if t.EOF() {
		return "end of input"
	}
	return "'" + t.Value + "'"
}

// parseSeq parses units joined by "and" and "or", left to right. first is
// what the first unit may be; with allowArith the first unit may be
// arithmetic followed by ')' (the group is then arithmetic).
func (p *parser) parseSeq(first unitKind, allowArith bool) (Expr, bool, Arith) {
	u := p.parseUnit(first, allowArith)
	if u.arith != nil {
		return nil, false, u.arith
	}
	x, isID := u.e, u.id
	rest := kindTI
	if isID {
		rest = kindI
	}
	for {
		t := p.peek()
		var op BoolOp
		switch t.Type {
		case tokAnd:
			op = And
		case tokOr:
			op = Or
		default:
			return x, isID, nil
		}
		p.next()
		y := p.parseUnit(rest, false)
		x = &Binary{Op: op, OpPos: pos(t), X: x, Y: y.e}
	}
}

// parseUnit parses a term, an id, or a "not" of one.
func (p *parser) parseUnit(k unitKind, allowArith bool) unit {
	t := p.peek()
	p.enter(t)
	defer func() { p.depth-- }()
	switch t.Type {
	case tokNot:
		p.next()
		u := p.parseUnit(k, false)
		return unit{e: &Not{NotPos: pos(t), X: u.e}, id: u.id}
	case tokLParen:
		return p.parseParen(k, allowArith)
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokBadEID:
		if k == kindT {
			p.fail(t, "expected a primitive, found "+describe(t)+"; a value needs a qualifier such as 'host' or 'port'")
		}
		return unit{e: &Bare{ID: p.parseNID()}, id: true}
	case tokNum:
		if n := p.peek2(); k == kindI || k == kindTI && !continuesArith(n) && !(allowArith && n.Type == tokRParen) {
			return unit{e: &Bare{ID: p.parseNID()}, id: true}
		}
		return p.finishRelation(p.parseArith(0), k, allowArith)
	}
	w := keywordOf(t.Type)
	switch {
	case k == kindI:
		p.fail(t, "expected a value, found "+describe(t))
	case t.Type == tokMinus:
		return p.finishRelation(p.parseArith(0), k, allowArith)
	case w == kwNone:
		p.fail(t, "expected an expression, found "+describe(t))
	case w == kwLen:
		return p.finishRelation(p.parseArith(0), k, allowArith)
	case w <= kwLastProto && p.peek2().Type == tokLBrack:
		return p.finishRelation(p.parseArith(0), k, allowArith)
	}
	return unit{e: p.parseTerm()}
}

// continuesArith reports whether t continues an arithmetic expression or
// starts a comparison.
func continuesArith(t *lexer.Token) bool {
	switch t.Type {
	case tokPlus, tokMinus, tokStar, tokSlash, tokPercent, tokAmp, tokPipe,
		tokCaret, tokLSH, tokRSH, tokLT, tokGT, tokLE, tokGE, tokEQ, tokNE:
		return true
	}
	return false
}

// parseParen parses a parenthesized group: an expression, a list of ids,
// or arithmetic (which then continues after the ')').
func (p *parser) parseParen(k unitKind, allowArith bool) unit {
	lp := p.next()
	first := k
	e, isID, a := p.parseSeq(first, true)
	if a != nil {
		p.expect(tokRParen, "')'")
		a = p.parseArithRest(a, 0)
		return p.finishRelation(a, k, allowArith)
	}
	rp := p.peek()
	if rp.Type != tokRParen {
		p.fail(rp, "expected 'and', 'or' or ')', found "+describe(rp))
	}
	p.next()
	return unit{e: &Paren{Lparen: pos(lp), Rparen: pos(rp), X: e}, id: isID}
}

// finishRelation completes arithmetic a: into a comparison, into
// arithmetic that a group returns, or into a number used as an id.
func (p *parser) finishRelation(a Arith, k unitKind, allowArith bool) unit {
	t := p.peek()
	if op := relOp(t.Type); op != 0 {
		p.next()
		b := p.parseArith(0)
		return unit{e: &Relation{Op: op, OpPos: pos(t), X: a, Y: b}}
	}
	if allowArith && t.Type == tokRParen {
		return unit{arith: a}
	}
	if n, ok := a.(*Num); ok && k != kindT {
		return unit{e: &Bare{ID: &ID{IDPos: n.NumPos, Kind: IDNum, Text: n.Text, Num: n.Val}}, id: true}
	}
	p.fail(t, "expected a comparison operator (=, !=, <, <=, >, >=) after arithmetic, found "+describe(t))
	return unit{}
}

func relOp(t lexer.TokenType) RelOp {
	switch t {
	case tokEQ:
		return OpEQ
	case tokNE:
		return OpNE
	case tokLT:
		return OpLT
	case tokLE:
		return OpLE
	case tokGT:
		return OpGT
	case tokGE:
		return OpGE
	}
	return 0
}

// parseNID parses an id token: a name, an address (with /len or mask) or
// a number.
func (p *parser) parseNID() *ID {
	t := p.next()
	id := &ID{IDPos: pos(t), Text: t.Value}
	switch t.Type {
	case tokNum:
		id.Kind = IDNum
		id.Num = p.number(t)
	case tokID:
		id.Kind = IDName
	case tokEID:
		id.Kind = IDMAC
	case tokAID:
		id.Kind = IDARCnet
	case tokBadEID:
		p.fail(t, "bogus ethernet address "+t.Value)
	case tokHID, tokHID6:
		id.Kind = IDIPv4
		if t.Type == tokHID6 {
			id.Kind = IDIPv6
		}
		switch n := p.peek(); {
		case n.Type == tokSlash:
			p.next()
			m := p.expect(tokNum, "a prefix length after '/'")
			id.HasMaskLen = true
			id.MaskLen = p.number(m)
			id.MaskPos = pos(m)
		case n.Type == tokKW(kwMask) && t.Type == tokHID:
			p.next()
			m := p.expect(tokHID, "a dotted IPv4 netmask after 'mask'")
			id.Mask = m.Value
			id.MaskPos = pos(m)
		}
	default:
		p.fail(t, "expected a value, found "+describe(t))
	}
	return id
}

// number returns the value of a number token, as libpcap's stoulen reads
// it: decimal, 0x hex, 0 octal, or a named constant.
func (p *parser) number(t *lexer.Token) uint32 {
	v, msg := parseNumber(t.Value)
	if msg != "" {
		p.fail(t, msg)
	}
	return v
}

func parseNumber(s string) (uint32, string) {
	// Named constants (tcp-syn, icmp-echo ...) start with a letter.
	if s != "" && !isDigit(s[0]) {
		if v, ok := LookupConstant(s); ok {
			return v, ""
		}
	}
	base, digits := 10, s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
		if strings.ContainsAny(digits, "89") {
			return 0, "number " + s + " contains non-octal digit"
		}
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, "number " + s + " overflows 32 bits"
	}
	return uint32(v), ""
}

// parsePnum parses NUM or '(' pnum ')'.
func (p *parser) parsePnum() *Num {
	t := p.peek()
	if t.Type == tokLParen {
		p.enter(t)
		p.next()
		n := p.parsePnum()
		p.expect(tokRParen, "')'")
		p.depth--
		return n
	}
	t = p.expect(tokNum, "a number")
	return &Num{NumPos: pos(t), Val: p.number(t), Text: t.Value}
}

// Arithmetic binding powers. '%' and '^' have no precedence in libpcap's
// grammar, so bison always shifts them: they bind tighter than anything
// on their left and looser than anything on their right.
const (
	bpNeg   = 6 // operand of unary minus: only '%' and '^' bind inside
	bpShift = 7 // '%' and '^'
)

func arithOp(t lexer.TokenType) (ArithOp, int) {
	switch t {
	case tokPipe:
		return OpOr, 1
	case tokAmp:
		return OpAnd, 2
	case tokLSH:
		return OpShl, 3
	case tokRSH:
		return OpShr, 3
	case tokPlus:
		return OpAdd, 4
	case tokMinus:
		return OpSub, 4
	case tokStar:
		return OpMul, 5
	case tokSlash:
		return OpDiv, 5
	case tokPercent:
		return OpMod, bpShift
	case tokCaret:
		return OpXor, bpShift
	}
	return 0, 0
}

// parseArith parses arithmetic by precedence climbing.
func (p *parser) parseArith(minbp int) Arith {
	t := p.peek()
	p.enter(t)
	x := p.parseArithPrimary()
	x = p.parseArithRest(x, minbp)
	p.depth--
	return x
}

func (p *parser) parseArithRest(x Arith, minbp int) Arith {
	for {
		t := p.peek()
		op, bp := arithOp(t.Type)
		if op == 0 || bp < minbp {
			return x
		}
		p.next()
		rbp := bp + 1
		if bp == bpShift {
			rbp = 1
		}
		y := p.parseArith(rbp)
		x = &BinArith{Op: op, OpPos: pos(t), X: x, Y: y}
	}
}

func (p *parser) parseArithPrimary() Arith {
	t := p.peek()
	switch t.Type {
	case tokNum:
		p.next()
		return &Num{NumPos: pos(t), Val: p.number(t), Text: t.Value}
	case tokMinus:
		p.next()
		return &Neg{MinusPos: pos(t), X: p.parseArith(bpNeg)}
	case tokLParen:
		p.next()
		x := p.parseArith(0)
		p.expect(tokRParen, "')'")
		return x
	}
	w := keywordOf(t.Type)
	if w == kwLen {
		p.next()
		return &Len{LenPos: pos(t)}
	}
	if w != kwNone && w <= kwLastProto && p.peek2().Type == tokLBrack {
		p.next()
		p.next()
		off := p.parseArith(0)
		size := 1
		if p.peek().Type == tokColon {
			p.next()
			st := p.expect(tokNum, "a size (1, 2 or 4) after ':'")
			v := p.number(st)
			if v != 1 && v != 2 && v != 4 {
				p.fail(st, "data size must be 1, 2, or 4")
			}
			size = int(v)
		}
		p.expect(tokRBrack, "']'")
		return &Load{Start: pos(t), Proto: Proto(w), Off: off, Size: size}
	}
	p.fail(t, "expected a number, 'len', '-', '(' or a protocol[offset], found "+describe(t))
	return nil
}
