package parser

import (
	"io"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// lexDefinition is the hand-written lexer behind participle's
// lexer.Definition. It follows the longest-match rules of libpcap 1.10's
// scanner.l (flex): the longest candidate wins, and on a tie the earlier
// rule (keyword, ARCnet address, MAC address, number, IPv4, IPv6, bad MAC,
// named constant, name) does.
type lexDefinition struct{}

// Symbols implements lexer.Definition.
func (lexDefinition) Symbols() map[string]lexer.TokenType { return symbols }

// Lex implements lexer.Definition.
func (d lexDefinition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

// LexString implements lexer.StringDefinition.
func (lexDefinition) LexString(filename, input string) (lexer.Lexer, error) {
	return &scanner{src: input, line: 1, col: 1, file: filename}, nil
}

// scanner produces the tokens of one input.
type scanner struct {
	src  string
	off  int // next byte to scan
	line int // line of off
	col  int // column (in runes, 1-based) of off
	file string
}

// advance moves the scanner over n bytes, keeping line and column.
func (s *scanner) advance(n int) {
	off, col, end := s.off, s.col, s.off+n
	for off < end {
		c := s.src[off]
		switch {
		case c == '\n':
			s.line++
			col = 1
			off++
			continue
		case c < utf8.RuneSelf:
			off++
		default:
			_, w := utf8.DecodeRuneInString(s.src[off:])
			off += w
		}
		col++
	}
	s.off, s.col = off, col
}

// Next implements lexer.Lexer.
func (s *scanner) Next() (lexer.Token, error) { return s.next(), nil }

// next returns the next token: EOF at the end of the input, again and
// again.
func (s *scanner) next() lexer.Token {
	for s.off < len(s.src) {
		c := s.src[s.off]
		if c == ' ' || c == '\t' {
			s.off++
			s.col++
			continue
		}
		if c == '\n' || c == '\r' {
			s.advance(1)
			continue
		}
		break
	}
	pos := lexer.Position{Filename: s.file, Offset: s.off, Line: s.line, Column: s.col}
	if s.off >= len(s.src) {
		return lexer.Token{Type: lexer.EOF, Pos: pos}
	}
	typ, n := scan(s.src[s.off:])
	val := s.src[s.off : s.off+n]
	if typ == tokError || val[0] == '\\' {
		s.advance(n) // (may hold other characters than ASCII)
	} else {
		// Other tokens are ASCII, without a line break.
		s.off += n
		s.col += n
	}
	return lexer.Token{Type: typ, Value: val, Pos: pos}
}

// scan classifies the token at the start of s (not empty, not starting
// with white space) and returns its type and length in bytes.
func scan(s string) (lexer.TokenType, int) {
	c := s[0]
	switch c {
	case '(':
		return tokLParen, 1
	case ')':
		return tokRParen, 1
	case '[':
		return tokLBrack, 1
	case ']':
		return tokRBrack, 1
	case '+':
		return tokPlus, 1
	case '-':
		return tokMinus, 1
	case '*':
		return tokStar, 1
	case '/':
		return tokSlash, 1
	case '%':
		return tokPercent, 1
	case '^':
		return tokCaret, 1
	case '&':
		if len(s) > 1 && s[1] == '&' {
			return tokAnd, 2
		}
		return tokAmp, 1
	case '|':
		if len(s) > 1 && s[1] == '|' {
			return tokOr, 2
		}
		return tokPipe, 1
	case '<':
		if len(s) > 1 {
			switch s[1] {
			case '=':
				return tokLE, 2
			case '<':
				return tokLSH, 2
			}
		}
		return tokLT, 1
	case '>':
		if len(s) > 1 {
			switch s[1] {
			case '=':
				return tokGE, 2
			case '>':
				return tokRSH, 2
			}
		}
		return tokGT, 1
	case '=':
		if len(s) > 1 && s[1] == '=' {
			return tokEQ, 2
		}
		return tokEQ, 1
	case '!':
		if len(s) > 1 && s[1] == '=' {
			return tokNE, 2
		}
		return tokNot, 1
	case ':':
		if n := matchV6(s); n >= 2 {
			return tokHID6, n
		}
		return tokColon, 1
	case '$':
		if n := hexRun(s[1:], 2); n > 0 {
			return tokAID, 1 + n
		}
		return tokError, 1
	case '\\':
		n := 1
		for n < len(s) {
			switch s[n] {
			case ' ', '!', '(', ')', '\n', '\t':
				goto done
			}
			n++
		}
	done:
		if n == 1 {
			return tokError, 1
		}
		return tokID, n
	}
	if !isAlnum(c) {
		if c >= utf8.RuneSelf {
			_, w := utf8.DecodeRuneInString(s)
			return tokError, w
		}
		return tokError, 1
	}

	return scanWord(s, true)
}

// scanWord classifies the word at the start of s (a keyword, a name, a
// number or an address; s[0] is a letter or a digit) and returns its type
// and length. With skip, it leaves out the candidates the characters of
// the word rule out; with skip false it tries every one, and
// TestScanSkips checks that the two agree.
func scanWord(s string, skip bool) (lexer.TokenType, int) {
	c := s[0]
	idLen := matchID(s)
	// Numbers and addresses are made of hex digits, '.', ':', '-', 'x'
	// and 'X' only; a word with another character in it ("tcp", "and")
	// is a keyword or a name, and a run of decimal digits that nothing of
	// theirs follows is a number (or, twelve long, a MAC address).
	addrLen, colons, dots := 0, 0, 0
	for ; addrLen < len(s); addrLen++ {
		switch b := s[addrLen]; {
		case b == ':':
			colons++
		case b == '.':
			dots++
		case isHex(b) || b == '-' || b == 'x' || b == 'X':
		default:
			goto counted
		}
	}
counted:
	if skip && isDigit(c) && addrLen == idLen {
		d := 1
		for d < idLen && isDigit(s[d]) {
			d++
		}
		if d == idLen {
			if d == 12 {
				return tokEID, d
			}
			return tokNum, d
		}
	}
	best, typ := idLen, lexer.TokenType(0)
	// Candidates in flex rule order; a later rule wins only if longer.
	if k, ok := lookupKeyword(s[:idLen]); ok {
		switch k {
		case -1:
			typ = tokAnd
		case -2:
			typ = tokOr
		case -3:
			typ = tokNot
		default:
			typ = tokKW(k)
		}
	}
	// Every form but a name is made of addrLen's characters: most words
	// ("tcp", "port", "host") are not.
	// (The shortest MAC address, "1:2:3:4:5:6", has 11 characters; a
	// dotted address has a dot, and IPv6 and bad MAC addresses two
	// colons.)
	if !skip || addrLen >= idLen {
		if !skip || addrLen >= 11 {
			if n := matchMAC(s); n > best || (n == best && typ == 0) {
				best, typ = n, tokEID
			}
		}
		if n := matchN(s); n > best || (n == best && typ == 0) {
			best, typ = n, tokNum
		}
		if !skip || dots > 0 {
			if n := matchHID(s); n > best || (n == best && typ == 0) {
				best, typ = n, tokHID
			}
		}
		if !skip || colons >= 2 {
			if n := matchV6(s); n > best || (n == best && typ == 0) {
				best, typ = n, tokHID6
			}
			if n := matchBadMAC(s); n > best || (n == best && typ == 0) {
				best, typ = n, tokBadEID
			}
		}
	}
	if typ == 0 {
		if _, ok := LookupConstant(s[:idLen]); ok {
			typ = tokNum
		} else {
			typ = tokID
		}
	}
	return typ, best
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hexRun returns the number of hex digits at the start of s, at most max.
func hexRun(s string, max int) int {
	n := 0
	for n < len(s) && n < max && isHex(s[n]) {
		n++
	}
	return n
}

// matchID matches [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?.
func matchID(s string) int {
	n := 1
	for n < len(s) && (isAlnum(s[n]) || s[n] == '-' || s[n] == '_' || s[n] == '.') {
		n++
	}
	for n > 1 && (s[n-1] == '-' || s[n-1] == '_') {
		n--
	}
	return n
}

// matchN matches a number: [0-9]+ or 0[xX][0-9A-Fa-f]+.
func matchN(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		return 2 + hexRun(s[2:], len(s))
	}
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// matchHID matches N.N, N.N.N or N.N.N.N.
func matchHID(s string) int {
	n := matchN(s)
	if n == 0 {
		return 0
	}
	parts := 1
	for parts < 4 && n+1 < len(s) && s[n] == '.' {
		m := matchN(s[n+1:])
		if m == 0 {
			break
		}
		n += 1 + m
		parts++
	}
	if parts == 1 {
		return 0
	}
	return n
}

// matchMAC matches libpcap's MAC forms: six groups of one or two hex
// digits separated by ':', '-' or '.', three groups of four hex digits
// separated by '.', or twelve hex digits.
func matchMAC(s string) int {
	best := 0
	for _, sep := range [...]byte{':', '-', '.'} {
		n, ok := 0, true
		for g := 0; g < 6; g++ {
			if g > 0 {
				if n >= len(s) || s[n] != sep {
					ok = false
					break
				}
				n++
			}
			h := hexRun(s[n:], 2)
			if h == 0 {
				ok = false
				break
			}
			n += h
		}
		if ok && n > best {
			best = n
		}
	}
	// B2.B2.B2
	if len(s) >= 14 && hexRun(s, 4) == 4 && s[4] == '.' && hexRun(s[5:], 4) == 4 && s[9] == '.' && hexRun(s[10:], 4) == 4 && 14 > best {
		best = 14
	}
	// B2 B2 B2: twelve hex digits
	if hexRun(s, 12) == 12 && 12 > best {
		best = 12
	}
	return best
}

// matchBadMAC matches {B}:+({B}:+)+, which libpcap reports as a bogus
// Ethernet address.
func matchBadMAC(s string) int {
	n, groups := 0, 0
	for {
		h := hexRun(s[n:], 2)
		if h == 0 || n+h >= len(s) || s[n+h] != ':' {
			break
		}
		m := n + h
		for m < len(s) && s[m] == ':' {
			m++
		}
		n = m
		groups++
	}
	if groups < 2 {
		return 0
	}
	return n
}

// matchV6 returns the length of the longest prefix of s that is one of
// libpcap's IPv6 forms, or 0.
func matchV6(s string) int {
	end := 0
	colons := 0
	for end < len(s) && end < 128 {
		c := s[end]
		if isHex(c) || c == '.' || c == 'x' || c == 'X' {
			end++
			continue
		}
		if c == ':' {
			colons++
			end++
			continue
		}
		break
	}
	if colons < 2 {
		return 0
	}
	for n := end; n >= 2; n-- {
		if isV6(s[:n]) {
			return n
		}
	}
	return 0
}

// isV6 reports whether s matches the scanner's V6 pattern exactly.
func isV6(s string) bool {
	// Split at "::" if present.
	dbl := -1
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ':' {
			if dbl >= 0 {
				return false
			}
			dbl = i
			i++
		}
	}
	if dbl < 0 {
		w, v4, ok := v6Groups(s)
		return ok && (w == 8 && !v4 || w == 6 && v4)
	}
	left, right := s[:dbl], s[dbl+2:]
	a, b := 0, 0
	v4 := false
	if left != "" {
		var ok bool
		a, v4, ok = v6Groups(left)
		if !ok || v4 {
			return false
		}
	}
	if right != "" {
		var ok bool
		b, v4, ok = v6Groups(right)
		if !ok {
			return false
		}
	}
	if v4 {
		return a+b <= 5
	}
	return a+b <= 7
}

// v6Groups splits s at ':' into groups of 1-4 hex digits, the last of
// which may be a dotted quad N.N.N.N; it returns the number of hex groups
// and whether a dotted quad ends s.
func v6Groups(s string) (groups int, v4, ok bool) {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ':' {
			continue
		}
		g := s[start:i]
		start = i + 1
		if len(g) >= 1 && len(g) <= 4 && hexRun(g, 4) == len(g) {
			groups++
			continue
		}
		if i == len(s) && isQuad(g) {
			return groups, true, true
		}
		return 0, false, false
	}
	return groups, false, true
}

// isQuad reports whether s is exactly N.N.N.N.
func isQuad(s string) bool {
	n := matchHID(s)
	if n != len(s) {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			dots++
		}
	}
	return dots == 3
}
