package translate_test

import (
	"bufio"
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

// corpusPrograms compiles every expression of testdata/golden for its
// capture, keeping one program of each distinct instruction list.
func corpusPrograms(t testing.TB) []corpusProgram {
	t.Helper()
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
			p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.WithSnaplen(c.Snaplen), bpfc.WithResolver(noHosts{}), bpfc.ForSavefile(c.Order))
			if err != nil {
				continue // refused by bpfc: the golden test's business
			}
			raw, err := p.Raw()
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprint(raw)
			if i, ok := seen[key]; ok {
				out[i].n++
				continue
			}
			seen[key] = len(out)
			out = append(out, corpusProgram{expr: expr, prog: p, cap: c, name: name, n: 1})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// formStats counts one form's comparisons.
type formStats struct {
	cases, skipped, disagree, refused atomic.Int64
}

// TestKernelCorpus is the acceptance test: every distinct program of the
// golden corpus, translated in both forms, is accepted by the verifier
// and gives, in a kernel test run, the interpreter's verdict on every
// packet of its capture. The skb form runs as a TC classifier (a socket
// filter's test run starts at layer 3) and must return the classic
// program's own value; the XDP form must pass exactly the packets the
// interpreter accepts. The wire length reaches the kernel through
// __sk_buff.cb[0] and XDP metadata (see ebpf.Program.Run). Packets the
// kernel's test run cannot take (shorter than 14 bytes, longer than
// about a page) are counted and skipped for that form.
func TestKernelCorpus(t *testing.T) {
	needKernel(t)
	progs := corpusPrograms(t)
	if testing.Short() {
		var some []corpusProgram
		for i := 0; i < len(progs); i += 10 {
			some = append(some, progs[i])
		}
		progs = some
	}
	exprs, pkts := 0, 0
	for _, cp := range progs {
		exprs += cp.n
		pkts += cp.n * len(cp.cap.Records)
	}
	t.Logf("%d expressions compile to %d distinct programs; %d expression×packet cases", exprs, len(progs), pkts)
	var skb, xdp formStats
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
				checkProgram(cp, &skb, &xdp, fail)
			}
		}()
	}
	for _, cp := range progs {
		work <- cp
	}
	close(work)
	wg.Wait()
	for _, f := range []struct {
		name string
		s    *formStats
	}{{"skb (SchedCLS)", &skb}, {"direct (XDP)", &xdp}} {
		t.Logf("%s: %d programs, %d refused by the verifier; %d expression×packet cases compared, %d disagreements, %d packets the test run cannot take",
			f.name, len(progs), f.s.refused.Load(), f.s.cases.Load(), f.s.disagree.Load(), f.s.skipped.Load())
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
			skb.skipped.Add(1)
		case err != nil:
			fail("%s %q packet %d (%d bytes): skb run: %v", cp.name, cp.expr, i, len(r.Data), err)
		default:
			skb.cases.Add(1)
			if got != want {
				skb.disagree.Add(1)
				fail("%s %q packet %d (%d of %d bytes): skb form returns %d, interpreter %d", cp.name, cp.expr, i, len(r.Data), r.Orig, got, want)
			}
		}
		got, err = xp.Run(r.Data, int(r.Orig))
		switch {
		case errors.Is(err, ebpf.ErrPacketSize):
			xdp.skipped.Add(1)
		case err != nil:
			fail("%s %q packet %d (%d bytes): xdp run: %v", cp.name, cp.expr, i, len(r.Data), err)
		default:
			xdp.cases.Add(1)
			if (got == uint32(translate.XDPResults.Match)) != (want != 0) {
				xdp.disagree.Add(1)
				fail("%s %q packet %d (%d of %d bytes): direct form returns %d, interpreter %d", cp.name, cp.expr, i, len(r.Data), r.Orig, got, want)
			}
		}
	}
}
