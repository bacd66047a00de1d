// Command workcmp compares the work per packet of bpfc's optimized
// programs with libpcap's: for every (link type, expression) of the
// libpcap test corpus for EN10MB, LINUX_SLL, NULL, RAW and IPV6, and
// every expression of testdata/exprs.txt on each of those link types,
// that both libpcap (tcpdump -ddd -y LINKTYPE, optimized) and bpfc
// accept, it runs both programs in cbpf's interpreter on every packet of
// that link type's capture (testdata/pcaps) and sums the instructions
// executed. It prints how many expressions bpfc runs in fewer, equal and
// more instructions in total, the ratio of instructions executed per
// packet (pooled over all packets, and the geometric mean of the
// per-expression ratios), a table per link type, the worst cases, and
// what it skipped and why, the packets on which bpfc runs more
// instructions (a balanced tree of tests, or tests in another order, can
// cost some packets more while costing the capture less), and the
// expressions whose bpfc program is longer than libpcap's. Both
// programs must also agree on every packet's verdict; it lists the
// expressions where they do not.
//
// It runs tcpdump (libpcap 1.10.3 here) once per expression, in
// parallel. Run from the module root:
//
//	go run ./bench/workcmp [-v] [-j 2] [-corpus parser/testdata/corpus.tsv] [-exprs testdata/exprs.txt]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/internal/testpcap"
)

// captures maps the tier-1 link types to their capture.
var captures = map[string]string{
	"EN10MB":    "en10mb.pcap",
	"LINUX_SLL": "linux_sll.pcap",
	"NULL":      "null.pcap",
	"RAW":       "raw.pcap",
	"IPV6":      "ipv6.pcap",
}

// linkOrder is the order link types are reported in.
var linkOrder = []string{"EN10MB", "LINUX_SLL", "NULL", "RAW", "IPV6"}

// job is one expression on one link type.
type job struct {
	lt, expr string
}

// result is what running a job gave.
type result struct {
	job
	skip       string // why it was not compared; empty if it was
	ours, ref  int64  // instructions executed over the whole capture
	packets    int
	lenOurs    int
	lenRef     int
	mismatches int // packets where the verdicts differ
	worse      int // packets on which bpfc runs more instructions
}

// compact is the -compact flag.
var compact bool

func main() {
	corpus := flag.String("corpus", "parser/testdata/corpus.tsv", "corpus: linktype, expr, libpcap's optimized count or error")
	exprs := flag.String("exprs", "testdata/exprs.txt", "more expressions, one a line, run on every link type ('' for none)")
	pcaps := flag.String("pcaps", "testdata/pcaps", "directory of the tier-1 captures")
	tcpdump := flag.String("tcpdump", "tcpdump", "the tcpdump to run")
	workers := flag.Int("j", 2, "tcpdump processes in parallel")
	verbose := flag.Bool("v", false, "list every expression compared, and every skip")
	flag.BoolVar(&compact, "compact", false, "compile with bpfc.WithCompact")
	flag.Parse()
	if err := run(*corpus, *exprs, *pcaps, *tcpdump, *workers, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "workcmp:", err)
		os.Exit(1)
	}
}

func run(corpus, exprs, pcaps, tcpdump string, workers int, verbose bool) error {
	start := time.Now()
	jobs, err := readJobs(corpus, exprs)
	if err != nil {
		return err
	}
	files := map[string]*testpcap.File{}
	for lt, name := range captures {
		f, err := testpcap.Read(filepath.Join(pcaps, name))
		if err != nil {
			return fmt.Errorf("read capture: %w", err)
		}
		files[lt] = f
	}
	if _, err := exec.LookPath(tcpdump); err != nil {
		return fmt.Errorf("%w (apt-get install tcpdump)", err)
	}

	results := make([]result, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range next {
				results[i] = compare(jobs[i], files[jobs[i].lt], tcpdump)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()

	report(results, files, verbose)
	fmt.Printf("(%d tcpdump runs, %d workers, %.1f s)\n", len(jobs), workers, time.Since(start).Seconds())
	return nil
}

// readJobs returns the tier-1 corpus rows and exprs × the tier-1 link
// types, without duplicates, in file order.
func readJobs(corpus, exprs string) ([]job, error) {
	var jobs []job
	seen := map[job]bool{}
	add := func(j job) {
		if !seen[j] {
			seen[j] = true
			jobs = append(jobs, j)
		}
	}
	f, err := os.Open(corpus)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || captures[cols[0]] == "" {
			continue
		}
		add(job{cols[0], cols[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	if exprs == "" {
		return jobs, nil
	}
	b, err := os.ReadFile(exprs)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, lt := range linkOrder {
			add(job{lt, line})
		}
	}
	return jobs, nil
}

// compare compiles j with libpcap (through tcpdump) and bpfc and runs
// both programs on every packet of f.
func compare(j job, f *testpcap.File, tcpdump string) result {
	r := result{job: j}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tcpdump, "-ddd", "-y", j.lt, "--", j.expr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		r.skip = "tcpdump took over 60 s"
		return r
	}
	if err != nil {
		r.skip = "libpcap refuses"
		return r
	}
	refProg, err := cbpf.ParseString(string(out))
	if err != nil {
		r.skip = "cannot parse tcpdump -ddd: " + err.Error()
		return r
	}
	lt, err := cbpf.ParseLinkType(j.lt)
	if err != nil {
		r.skip = err.Error()
		return r
	}
	ours, err := bpfc.Compile(j.expr, bpfc.WithLinkType(lt), bpfc.WithCompact(compact))
	if err != nil {
		r.skip = "bpfc refuses"
		if errors.Is(err, codegen.ErrTooLong) || errors.Is(err, cbpf.ErrTooLong) {
			r.skip = "bpfc's program is over 4,096 instructions"
		}
		return r
	}
	refVM, err := cbpf.NewVM(refProg)
	if err != nil {
		r.skip = "the VM refuses libpcap's program: " + vmReason(refProg, err)
		return r
	}
	ourVM, err := cbpf.NewVM(ours)
	if err != nil {
		r.skip = "the VM refuses bpfc's program: " + err.Error()
		return r
	}
	r.lenOurs, r.lenRef = ours.Len(), refProg.Len()
	// A zero Metadata lets Linux ancillary loads (the vlan tag of a live
	// capture, inbound, ifindex) read zeros, as for a packet whose tags
	// are still in its bytes, instead of rejecting at the first one.
	meta := &cbpf.Metadata{}
	for _, rec := range f.Records {
		vo, no := ourVM.RunCount(rec.Data, int(rec.Orig), meta)
		vr, nr := refVM.RunCount(rec.Data, int(rec.Orig), meta)
		r.ours += int64(no)
		r.ref += int64(nr)
		if no > nr {
			r.worse++
		}
		if (vo == 0) != (vr == 0) {
			r.mismatches++
		}
	}
	r.packets = len(f.Records)
	return r
}

// vmReason says why the VM refused libpcap's program: usually the
// backward jump of protochain's loop, which the kernel refuses too.
func vmReason(p *cbpf.Program, err error) string {
	raw, rerr := p.Raw()
	if rerr == nil {
		for pc, in := range raw {
			if in.Op&0x07 == 0x05 && in.Op&0xf0 == 0x00 && pc+1+int(int32(in.K)) <= pc {
				return "backward jump (protochain's loop)"
			}
		}
	}
	return err.Error()
}

func report(results []result, files map[string]*testpcap.File, verbose bool) {
	type agg struct {
		n, fewer, equal, more int
		ours, ref             int64
		worse, worseExprs     int
		logSum                float64
		logN                  int
	}
	perLT := map[string]*agg{}
	total := &agg{}
	skips := map[string]int{}
	var skipped, compared, mismatched []result
	for _, r := range results {
		if r.skip != "" {
			skips[r.skip]++
			skipped = append(skipped, r)
			continue
		}
		compared = append(compared, r)
		if r.mismatches > 0 {
			mismatched = append(mismatched, r)
		}
		a := perLT[r.lt]
		if a == nil {
			a = &agg{}
			perLT[r.lt] = a
		}
		for _, a := range []*agg{a, total} {
			a.n++
			switch {
			case r.ours < r.ref:
				a.fewer++
			case r.ours == r.ref:
				a.equal++
			default:
				a.more++
			}
			a.ours += r.ours
			a.ref += r.ref
			a.worse += r.worse
			if r.worse > 0 {
				a.worseExprs++
			}
			if r.ours > 0 && r.ref > 0 {
				a.logSum += math.Log(float64(r.ours) / float64(r.ref))
				a.logN++
			}
		}
	}

	// Worst first: by instructions more per packet, then by ratio.
	sort.SliceStable(compared, func(i, j int) bool {
		di := float64(compared[i].ours-compared[i].ref) / float64(compared[i].packets)
		dj := float64(compared[j].ours-compared[j].ref) / float64(compared[j].packets)
		return di > dj
	})
	limit := 15
	if verbose {
		limit = len(compared)
	}
	fmt.Println("worst cases (instructions executed per packet, bpfc vs libpcap; program lengths):")
	for i, r := range compared {
		if i >= limit {
			fmt.Printf("... and %d more (-v lists all)\n", len(compared)-limit)
			break
		}
		tag := "fewer"
		switch {
		case r.ours == r.ref:
			tag = "equal"
		case r.ours > r.ref:
			tag = "MORE"
		}
		p := float64(r.packets)
		fmt.Printf("%-5s %-9s %7.2f vs %7.2f  (len %4d vs %4d)  %s\n", tag, r.lt,
			float64(r.ours)/p, float64(r.ref)/p, r.lenOurs, r.lenRef, r.expr)
	}
	for _, r := range compared {
		if r.worse > 0 {
			fmt.Printf("more instructions on %d of %d packets: %-9s %s\n", r.worse, r.packets, r.lt, r.expr)
		}
	}
	longer := 0
	for _, r := range compared {
		if r.lenOurs > r.lenRef {
			longer++
			fmt.Printf("longer program, %d instructions against %d: %-9s %s\n", r.lenOurs, r.lenRef, r.lt, r.expr)
		}
	}
	for _, r := range mismatched {
		fmt.Printf("VERDICTS DIFFER on %d of %d packets: %-9s %s\n", r.mismatches, r.packets, r.lt, r.expr)
	}
	if verbose {
		for _, r := range skipped {
			fmt.Printf("skipped %-9s %s: %s\n", r.lt, r.expr, r.skip)
		}
	}

	fmt.Println()
	fmt.Println("| link type | packets | expressions | bpfc fewer | equal | more | instructions/packet, bpfc / libpcap | ratio | geo. mean |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	row := func(name string, packets int, a *agg) {
		n := float64(packets)
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %.2f / %.2f | %.3f | %.3f |\n", name, packets, a.n,
			a.fewer, a.equal, a.more, float64(a.ours)/n, float64(a.ref)/n,
			float64(a.ours)/float64(a.ref), math.Exp(a.logSum/float64(max(a.logN, 1))))
	}
	var allPackets int
	for _, lt := range linkOrder {
		a := perLT[lt]
		if a == nil {
			continue
		}
		// per packet and per expression: divide by packets × expressions.
		pk := len(files[lt].Records) * a.n
		allPackets += pk
		row(lt, pk, a)
	}
	row("all", allPackets, total)
	fmt.Println()
	fmt.Println("(packets: runs, i.e. the capture's packets × the expressions compared)")
	fmt.Printf("expressions compared: %d; skipped: %d\n", total.n, len(skipped))
	reasons := make([]string, 0, len(skips))
	for k := range skips {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool { return skips[reasons[i]] > skips[reasons[j]] })
	for _, k := range reasons {
		fmt.Printf("  %5d  %s\n", skips[k], k)
	}
	fmt.Printf("bpfc executes fewer instructions in total on %d, equal on %d, more on %d\n", total.fewer, total.equal, total.more)
	fmt.Printf("packets on which bpfc executes more instructions than libpcap: %d of %d runs (in %d expressions)\n",
		total.worse, allPackets, total.worseExprs)
	fmt.Printf("programs longer than libpcap's: %d of %d\n", longer, total.n)
	fmt.Printf("instructions executed per packet, bpfc / libpcap: %.3f pooled (%d / %d), %.3f geometric mean over expressions\n",
		float64(total.ours)/float64(total.ref), total.ours, total.ref, math.Exp(total.logSum/float64(max(total.logN, 1))))
	if len(mismatched) > 0 {
		fmt.Printf("verdicts differ on %d expressions (listed above)\n", len(mismatched))
	}
}
