package parser

import (
	"math/rand"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// TestScanSkips checks that the candidates scanWord leaves out for the
// characters of a word could not have won: scanning with and without
// skipping them gives the same tokens, on random words made of the
// characters and pieces of numbers, addresses and keywords.
func TestScanSkips(t *testing.T) {
	alpha := "0123456789abcdefABCDEFxXgtcpnd.:-_$lhos"
	pieces := []string{
		"tcp", "and", "80", "10.0.0.1", "::1", "fe80::1", "0x1f", "aa:bb:cc:dd:ee:ff",
		"123456789012", "12345678901", "add", "dead", "beef", "1.2", "a-b", "es-is", "l1",
		"ip6", "1:2", "0", "00:11", "abcd.ef00.0003", "1:2:3:4:5:6", "1-2-3-4-5-6",
		"::ffff:1.2.3.4", "ff", "0X", "icmp-echo",
	}
	r := rand.New(rand.NewSource(1))
	n := 300000
	if testing.Short() {
		n = 30000
	}
	for i := 0; i < n; i++ {
		var b []byte
		for j := 1 + r.Intn(8); j > 0; j-- {
			if r.Intn(3) == 0 {
				b = append(b, pieces[r.Intn(len(pieces))]...)
			} else {
				b = append(b, alpha[r.Intn(len(alpha))])
			}
		}
		if !isAlnum(b[0]) {
			continue
		}
		s := string(b)
		t1, n1 := scanWord(s, true)
		t2, n2 := scanWord(s, false)
		if t1 != t2 || n1 != n2 {
			t.Fatalf("%q: with skipping %v, %d bytes; without %v, %d bytes", s, t1, n1, t2, n2)
		}
	}
}

// TestLookupKeyword checks kwIndex against the keywords map.
func TestLookupKeyword(t *testing.T) {
	for w, k := range keywords {
		if got, ok := lookupKeyword(w); !ok || got != k {
			t.Errorf("lookupKeyword(%q) = %v, %v; want %v, true", w, got, ok, k)
		}
		for _, o := range []string{w[:len(w)-1], w + "x", "x" + w} {
			if _, isKW := keywords[o]; isKW {
				continue
			}
			if got, ok := lookupKeyword(o); ok {
				t.Errorf("lookupKeyword(%q) = %v, true; it is not a keyword", o, got)
			}
		}
	}
}

// TestTokenPositions checks the line and column (in runes) of every
// token against a count of the input before it, on random inputs with
// line breaks, tabs, escapes and characters other than ASCII.
func TestTokenPositions(t *testing.T) {
	pieces := []string{"tcp", " ", "\t", "\n", "\r\n", "é", "名", "\\é1", "\\a.b", "10.0.0.1", "(", ")", "==", "fe80::1", "!", "x"}
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 20000; i++ {
		var src string
		for j := r.Intn(12); j >= 0; j-- {
			src += pieces[r.Intn(len(pieces))]
		}
		sc := scanner{src: src, line: 1, col: 1}
		for {
			tok := sc.next()
			line, col := 1, 1
			for _, c := range src[:tok.Pos.Offset] {
				if c == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
			}
			if tok.Pos.Line != line || tok.Pos.Column != col {
				t.Fatalf("%q: token %q at offset %d: line %d column %d, want %d, %d", src, tok.Value, tok.Pos.Offset, tok.Pos.Line, tok.Pos.Column, line, col)
			}
			if tok.EOF() {
				break
			}
		}
	}
}

// TestScanForms pins the token type and length of words of each form,
// as libpcap's scanner makes them.
func TestScanForms(t *testing.T) {
	for _, c := range []struct {
		src string
		typ lexer.TokenType
		n   int
	}{
		{"tcp", tokKW(kwTCP), 3},
		{"and", tokAnd, 3},
		{"dead", tokID, 4},
		{"icmp-echo", tokNum, 9},
		{"a_b", tokID, 3},
		{"80", tokNum, 2},
		{"0x1F", tokNum, 4},
		{"12345678901", tokNum, 11},
		{"123456789012", tokEID, 12},
		{"1234567890123", tokNum, 13},
		{"10.0.0.1", tokHID, 8},
		{"10.0", tokHID, 4},
		{"1:2:3:4:5:6", tokEID, 11},
		{"1-2-3-4-5-6", tokEID, 11},
		{"aa.bb.cc.dd.ee.ff", tokEID, 17},
		{"abcd.ef00.0003", tokEID, 14},
		{"::ffff:1.2.3.4", tokHID6, 14},
		{"fe80::1", tokHID6, 7},
		{"$ab", tokAID, 3},
		{"80)", tokNum, 2},
		{"10.0.0.1/8", tokHID, 8},
	} {
		typ, n := scan(c.src)
		if typ != c.typ || n != c.n {
			t.Errorf("scan(%q) = %v, %d; want %v, %d", c.src, typ, n, c.typ, c.n)
		}
	}
	if 4*len(keywords) > kwSlots {
		t.Errorf("%d keywords in %d slots: kwIndex should be at most a quarter full", len(keywords), kwSlots)
	}
}
