package translate_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/testpcap"
	"github.com/bpfc/bpfc/translate"
)

// corpusProgram is one distinct classic program of the golden corpus,
// with the capture it runs on.
type corpusProgram struct {
	expr string
	prog *cbpf.Program
	cap  *testpcap.File
	name string
	n    int // expressions that compile to it
}

// corpusStats counts what corpusPrograms read.
type corpusStats struct {
	exprs   int // expressions libpcap accepts, over all captures
	refused int // of them, those bpfc refuses (the golden test's business)
	compact int // of the others, those whose compact program differs (tested too)
}

// corpusPrograms compiles every expression of testdata/golden for its
// capture, keeping one program of each distinct instruction list.
func corpusPrograms(t testing.TB) []corpusProgram {
	t.Helper()
	progs, _ := corpusProgramsStats(t)
	return progs
}

func corpusProgramsStats(t testing.TB) ([]corpusProgram, corpusStats) {
	t.Helper()
	var st corpusStats
	files, err := filepath.Glob("../testdata/golden/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var out []corpusProgram
	for _, gf := range files {
		name := strings.TrimSuffix(filepath.Base(gf), ".tsv")
		c, err := testpcap.Read(filepath.Join("..", "testdata", "pcaps", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		lt := cbpf.LinkTypeFromPcap(c.LinkType)
		f, err := os.Open(gf)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") {
				continue
			}
			expr, want, ok := strings.Cut(line, "\t")
			if !ok || strings.HasPrefix(want, "error:") {
				continue
			}
			st.exprs++
			p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.WithSnaplen(c.Snaplen), bpfc.WithResolver(noHosts{}), bpfc.ForSavefile(c.Order))
			if err != nil {
				st.refused++ // the golden test's business (802.11 known gaps)
				continue
			}
			add := func(p *cbpf.Program, label string, count int) {
				raw, err := p.Raw()
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprint(raw)
				if i, ok := seen[key]; ok {
					out[i].n += count
					return
				}
				seen[key] = len(out)
				out = append(out, corpusProgram{expr: expr + label, prog: p, cap: c, name: name, n: count})
			}
			add(p, "", 1)
			// The compact program too, where it differs (IPv6 reads its
			// ports through X): counted as programs, not as expressions.
			small, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.WithSnaplen(c.Snaplen), bpfc.WithResolver(noHosts{}), bpfc.ForSavefile(c.Order), bpfc.WithCompact(true))
			if err != nil {
				t.Fatalf("%s %q: only the compact compile fails: %v", name, expr, err)
			}
			if small.String() != p.String() {
				st.compact++
				add(small, " (compact)", 0)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out, st
}

// formStats counts one form's comparisons: cases are program×packet
// runs, exprCases the same weighted by the expressions that compile to
// the program.
type formStats struct {
	cases, exprCases, skipped, exprSkipped, disagree, refused atomic.Int64
	short, long, cutIP                                        atomic.Int64 // skipped packets, by reason
}

// skip counts a packet the test run refused, by reason, and reports one
// the kernel should have taken: only packets under 14 bytes, over 3,000
// (the test run's buffer is a page with head and tail room) or, for the
// skb form, with an IPv4 or IPv6 header cut short may be refused.
func (f *formStats) skip(cp corpusProgram, i int, pkt []byte, skb bool, err error, fail func(string, ...any)) {
	f.skipped.Add(1)
	f.exprSkipped.Add(int64(cp.n))
	n := len(pkt)
	switch {
	case n < 14:
		f.short.Add(1)
	case n > 3000:
		f.long.Add(1)
	case skb && (binary.BigEndian.Uint16(pkt[12:]) == 0x0800 && n < 34 || binary.BigEndian.Uint16(pkt[12:]) == 0x86dd && n < 54):
		f.cutIP.Add(1)
	default:
		fail("%s %q packet %d (%d bytes): refused by the test run: %v", cp.name, cp.expr, i, n, err)
	}
}

// TestKernelCorpus is the acceptance test: every distinct program of the
// golden corpus (default and compact), translated in both forms, is accepted by the verifier
// and gives, in a kernel test run, the interpreter's verdict on every
// packet of its capture. The skb form runs as a TC classifier (a socket
// filter's test run starts at layer 3) and must return the classic
// program's own value; the XDP form must pass exactly the packets the
// interpreter accepts. The wire length reaches the kernel through
// __sk_buff.cb[0] and XDP metadata (see ebpf.Program.Run). Packets the
// kernel's test run cannot take (shorter than 14 bytes, longer than
// about a page, or for the skb form with an IPv4 or IPv6 header cut
// short) are counted by reason and skipped for that form; any other
// refusal fails the test. (bpfc filter --engine runs such packets in the
// interpreter.)
func TestKernelCorpus(t *testing.T) {
	needKernel(t)
	progs, st := corpusProgramsStats(t)
	if testing.Short() {
		var some []corpusProgram
		for i := 0; i < len(progs); i += 10 {
			some = append(some, progs[i])
		}
		progs = some
	}
	exprs, pkts, progPkts := 0, 0, 0
	// Per capture, the two forms' counts.
	stats := map[string]*[2]formStats{}
	var names []string
	for _, cp := range progs {
		exprs += cp.n
		pkts += cp.n * len(cp.cap.Records)
		progPkts += len(cp.cap.Records)
		if stats[cp.name] == nil {
			stats[cp.name] = new([2]formStats)
			names = append(names, cp.name)
		}
	}
	t.Logf("%d expressions libpcap accepts on their capture, %d refused by bpfc; %d compile to %d distinct programs (with the compact programs of %d); %d expression×packet cases (%d program×packet)",
		st.exprs, st.refused, exprs, len(progs), st.compact, pkts, progPkts)
	var mu sync.Mutex
	report := 0
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if report++; report <= 20 {
			t.Errorf(format, args...)
		}
	}
	work := make(chan corpusProgram)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cp := range work {
				s := stats[cp.name]
				checkProgram(cp, &s[0], &s[1], fail)
			}
		}()
	}
	for _, cp := range progs {
		work <- cp
	}
	close(work)
	wg.Wait()
	var total [2]formStats
	for _, name := range names {
		for i, form := range []string{"skb", "xdp"} {
			s := &stats[name][i]
			t.Logf("%-16s %s: %8d expression×packet cases compared, %d disagree; %6d not taken", name, form, s.exprCases.Load(), s.disagree.Load(), s.exprSkipped.Load())
			total[i].add(s)
		}
	}
	for i, name := range []string{"skb (SchedCLS)", "direct (XDP)"} {
		s := &total[i]
		t.Logf("%s: %d programs, %d refused by the verifier; %d expression×packet cases compared (%d program×packet), %d disagreements; not taken by the test run: %d expression×packet cases (%d program×packet: %d under 14 bytes, %d over a page, %d with an IP header cut short)",
			name, len(progs), s.refused.Load(), s.exprCases.Load(), s.cases.Load(), s.disagree.Load(),
			s.exprSkipped.Load(), s.skipped.Load(), s.short.Load(), s.long.Load(), s.cutIP.Load())
	}
}

// add adds o's counts to f.
func (f *formStats) add(o *formStats) {
	for _, p := range [][2]*atomic.Int64{
		{&f.cases, &o.cases}, {&f.exprCases, &o.exprCases}, {&f.skipped, &o.skipped}, {&f.exprSkipped, &o.exprSkipped},
		{&f.disagree, &o.disagree}, {&f.refused, &o.refused}, {&f.short, &o.short}, {&f.long, &o.long}, {&f.cutIP, &o.cutIP},
	} {
		p[0].Add(p[1].Load())
	}
}

func checkProgram(cp corpusProgram, skb, xdp *formStats, fail func(string, ...any)) {
	vm, err := cbpf.NewVM(cp.prog)
	if err != nil {
		fail("%s %q: %v", cp.name, cp.expr, err)
		return
	}
	si, err := translate.Skb(cp.prog, &translate.SkbOptions{Options: translate.Options{Len: translate.LenCB}})
	if err != nil {
		fail("%s %q: skb: %v", cp.name, cp.expr, err)
		return
	}
	di, err := translate.Direct(cp.prog, &translate.DirectOptions{Options: translate.Options{Len: translate.LenMeta}})
	if err != nil {
		fail("%s %q: direct: %v", cp.name, cp.expr, err)
		return
	}
	sp, err := ebpf.Load(ebpf.SchedCLS, si)
	if err != nil {
		skb.refused.Add(1)
		fail("%s %q: skb form refused: %v", cp.name, cp.expr, err)
		return
	}
	defer sp.Close()
	xp, err := ebpf.Load(ebpf.XDP, di)
	if err != nil {
		xdp.refused.Add(1)
		fail("%s %q: direct form refused: %v", cp.name, cp.expr, err)
		return
	}
	defer xp.Close()
	for i, r := range cp.cap.Records {
		want := vm.Run(r.Data, int(r.Orig))
		got, err := sp.Run(r.Data, int(r.Orig))
		switch {
		case errors.Is(err, ebpf.ErrPacketSize):
			skb.skip(cp, i, r.Data, true, err, fail)
		case err != nil:
			fail("%s %q packet %d (%d bytes): skb run: %v", cp.name, cp.expr, i, len(r.Data), err)
		default:
			skb.cases.Add(1)
			skb.exprCases.Add(int64(cp.n))
			if got != want {
				skb.disagree.Add(1)
				fail("%s %q packet %d (%d of %d bytes): skb form returns %d, interpreter %d", cp.name, cp.expr, i, len(r.Data), r.Orig, got, want)
			}
		}
		got, err = xp.Run(r.Data, int(r.Orig))
		switch {
		case errors.Is(err, ebpf.ErrPacketSize):
			xdp.skip(cp, i, r.Data, false, err, fail)
		case err != nil:
			fail("%s %q packet %d (%d bytes): xdp run: %v", cp.name, cp.expr, i, len(r.Data), err)
		default:
			xdp.cases.Add(1)
			xdp.exprCases.Add(int64(cp.n))
			if (got == uint32(translate.XDPResults.Match)) != (want != 0) {
				xdp.disagree.Add(1)
				fail("%s %q packet %d (%d of %d bytes): direct form returns %d, interpreter %d", cp.name, cp.expr, i, len(r.Data), r.Orig, got, want)
			}
		}
	}
}
