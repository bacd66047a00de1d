package bpfc_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/bpfc/bpfc/internal/golden"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/internal/testpcap"
	"github.com/bpfc/bpfc/parser"
)

var updateGaps = flag.Bool("update-gaps", false, "rewrite testdata/golden/known-gaps.txt with the current disagreements")

// gapsHeader opens testdata/golden/known-gaps.txt.
const gapsHeader = `# Cases of testdata/golden where bpfc does not agree with libpcap 1.10.3:
# bpfc does not copy these libpcap bugs (README, "Where bpfc differs from
# libpcap on purpose"): on 802.11, geneve reads the payload's offset from a
# scratch cell never written, and so does pppoes behind a radio header
# (radiotap, AVS, Prism) for the header's length, and on pflog for the
# network header's offset ("pppoes or ether[0] = 1"); "len < 30 or ip" stores
# the relation's 30 in the cell of the 802.11 payload's offset, which the
# ip test then reads.
# Regenerate: go test -run TestGolden -update-gaps .
`

// noHosts is a resolver that knows no names: the golden files were made
// on a machine where the corpus's test names do not resolve either.
type noHosts struct{}

func (noHosts) LookupHost(context.Context, string) ([]netip.Addr, error) {
	return nil, parser.ErrNotFound
}

// TestGolden is the hermetic differential test: for every expression of
// testdata/golden (libpcap's corpus and testdata/exprs.txt) on every
// tier-1 capture, bpfc must keep exactly the packets tcpdump kept, and
// refuse what libpcap refused. Disagreements not yet fixed are listed in
// testdata/golden/known-gaps.txt; the test fails on any other, and on a
// listed one that now agrees (so the list only shrinks).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	known, err := golden.KnownGaps("testdata/golden/known-gaps.txt")
	if err != nil {
		t.Fatal(err)
	}
	var gaps []string
	total, agree := 0, 0
	for _, gf := range files {
		name := strings.TrimSuffix(filepath.Base(gf), ".tsv")
		cap, err := testpcap.Read(filepath.Join("testdata", "pcaps", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		lt := cbpf.LinkTypeFromPcap(cap.LinkType)
		for _, c := range readGolden(t, gf) {
			total++
			got := run(lt, cap, c.expr)
			if small := run(lt, cap, c.expr, bpfc.WithCompact(true)); small != got {
				t.Errorf("%s: %q: compact program keeps other packets:\n  compact: %s\n  bpfc:    %s", name, c.expr, short(small), short(got))
			}
			ok := got == c.want || (strings.HasPrefix(c.want, "error: expression rejects all packets") &&
				(strings.HasPrefix(got, "error:") || strings.HasPrefix(got, "keep 0 ")))
			if strings.HasPrefix(c.want, "error:") && strings.HasPrefix(got, "error:") {
				ok = true // both refuse; the messages are compared elsewhere
			}
			key := name + "\t" + c.expr
			switch {
			case ok && known[key]:
				t.Errorf("%s: %q now agrees with libpcap: remove it from known-gaps.txt", name, c.expr)
			case ok:
				agree++
			case known[key]:
				gaps = append(gaps, key)
			default:
				gaps = append(gaps, key)
				t.Errorf("%s: %q:\n  libpcap: %s\n  bpfc:    %s", name, c.expr, short(c.want), short(got))
			}
		}
	}
	t.Logf("agreement with libpcap: %d of %d cases (%.1f%%); %d known gaps", agree, total, 100*float64(agree)/float64(total), len(gaps))
	if *updateGaps {
		sort.Strings(gaps)
		body := gapsHeader + strings.Join(gaps, "\n") + "\n"
		if err := os.WriteFile("testdata/golden/known-gaps.txt", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

type goldenCase struct{ expr, want string }

func readGolden(t *testing.T, path string) []goldenCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		expr, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out = append(out, goldenCase{expr, want})
	}
	return out
}

// run compiles expr for lt (with more options) and describes what it keeps of cap, in the
// golden files' notation.
func run(lt cbpf.LinkType, cap *testpcap.File, expr string, more ...bpfc.Option) string {
	opts := []bpfc.Option{bpfc.WithLinkType(lt), bpfc.WithSnaplen(cap.Snaplen), bpfc.WithResolver(noHosts{}), bpfc.ForSavefile(cap.Order)}
	p, err := bpfc.Compile(expr, append(opts, more...)...)
	if err != nil {
		if errors.Is(err, codegen.ErrRejectsAll) {
			return "error: expression rejects all packets"
		}
		return "error: " + err.Error()
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		return "error: invalid program: " + err.Error()
	}
	var idx []int
	for i, r := range cap.Records {
		if vm.Run(r.Data, int(r.Orig)) != 0 {
			idx = append(idx, i)
		}
	}
	return fmt.Sprintf("keep %d of %d: %s", len(idx), len(cap.Records), golden.Ranges(idx))
}
