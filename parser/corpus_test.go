package parser

import (
	"bufio"
	"context"

	"net/netip"
	"os"
	"strings"
	"testing"
)

// corpusCase is one row of testdata/corpus.tsv: a copy of the link type,
// expression and libpcap 1.10.3 result columns of
// ../shared/corpus/filters.tsv (libpcap's own filter tests, run through
// tcpdump 4.99.3 on Debian).
type corpusCase struct {
	line     int
	linktype string
	expr     string
	result   string // instruction count, or "error: message"
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Skipf("corpus copy missing: %v", err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if n == 1 {
			continue // header
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			t.Fatalf("corpus.tsv:%d: %d columns", n, len(cols))
		}
		cases = append(cases, corpusCase{n, cols[0], cols[1], cols[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// noNames is a Resolver that knows no names at all, like the test machine
// for the corpus's *.libpcap.test host names.
type noNames struct{}

func (noNames) LookupHost(context.Context, string) ([]netip.Addr, error) {
	return nil, ErrNotFound
}

// codegenError reports whether libpcap's message is one that depends on
// the link type or on code generation, which is codegen's business: the
// parser accepts such expressions.
func codegenError(msg string) bool {
	for _, s := range []string{
		"not supported on", "supported only on", "only on", "not a broadcast link",
		"link-layer type filtering not implemented", "no VLAN support", "no MPLS support",
		"'llc' not supported for", "expression rejects all packets",
		"supports link-level host name", "invalid data link type", "radio information not present",
		"only ethernet/FDDI", "link-layer multicast filters supported only",
		"frame direction supported only", "not supported with variable length headers",
		"'protochain' not supported", "802.11 link-layer types supported only",
		"'vpi' supported only", "'fisu' supported only", "aid supported only",
		"reason supported only", "ethernet addresses supported only",
		"only supported on", "is only supported on",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// TestCorpus checks every expression of libpcap's test suite: what libpcap
// 1.10.3 compiles must parse and resolve, its syntax errors must be
// refused. Other refusals are counted: some are link-type dependent
// (codegen's job) and some depend on the machine's name databases.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	var accepted, acceptedOK, syntaxErr, syntaxRefused, semErr, semRefused, cgErr int
	seen := map[string]bool{}
	for _, c := range cases {
		e, err := Parse(c.expr)
		var r Expr
		if err == nil {
			r, err = Resolve(context.Background(), e, noNames{})
		}
		if err == nil && r == nil && e != nil {
			t.Errorf("corpus.tsv:%d: nil result without error", c.line)
		}
		switch {
		case !strings.HasPrefix(c.result, "error:"):
			accepted++
			if err != nil {
				if !seen[c.expr] {
					t.Errorf("corpus.tsv:%d: %s %q: libpcap accepts, we refuse: %v", c.line, c.linktype, c.expr, err)
				}
			} else {
				acceptedOK++
			}
		case strings.Contains(c.result, "syntax error"):
			syntaxErr++
			if err != nil {
				syntaxRefused++
			} else if !seen[c.expr] {
				t.Errorf("corpus.tsv:%d: %q: libpcap says %q, we accept", c.line, c.expr, c.result)
			}
		case codegenError(c.result):
			cgErr++
		default:
			semErr++
			if err != nil {
				semRefused++
			} else if testing.Verbose() && !seen[c.expr] {
				t.Logf("corpus.tsv:%d: %s %q: libpcap says %q, we accept (left to codegen)", c.line, c.linktype, c.expr, c.result)
			}
		}
		seen[c.expr] = true
	}
	t.Logf("accepted by libpcap: %d, parsed and resolved: %d", accepted, acceptedOK)
	t.Logf("libpcap syntax errors: %d, refused: %d", syntaxErr, syntaxRefused)
	t.Logf("other libpcap errors: %d, refused here: %d; link-type/codegen errors (not checked): %d", semErr, semRefused, cgErr)
}
