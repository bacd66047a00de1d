// Command compilecmp times bpfc.Compile (optimized, netmask 0, snaplen
// 262144: what tcpdump -d does) on expressions read one a line as
// "LINKTYPE<TAB>expression", from the file given or standard input, the
// input and output of bench/c/compile_bench.c for libpcap's
// pcap_compile. Each expression is compiled up to -r times (default 21),
// fewer when its compiles have taken more than -b milliseconds in all
// (default 2000); every compile is timed, none is a warm-up.
// bench/compile.sh runs both and prints the ratios.
//
// Output, one line per expression, tab-separated:
//
//	line  median_ns  instructions  compiles  max_rss_kib  alloc_bytes
//
// or "line error message" when bpfc refuses the expression. A program
// over the kernel's 4,096 instructions is compiled in full and only
// refused at the end: it counts as compiled, with the length the error
// gives. alloc_bytes is what one compile allocates; max_rss_kib is the
// process's peak resident set so far (VmHWM; -1 where /proc is missing).
//
//	go run ./bench/compilecmp [-r 21] [-b 2000] [file]
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
)

func main() {
	reps := flag.Int("r", 21, "compiles per expression, at most")
	budget := flag.Float64("b", 2000, "milliseconds per expression after which to stop repeating")
	flag.Parse()
	in := os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "compilecmp:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		lt, expr, ok := strings.Cut(strings.TrimRight(sc.Text(), "\r"), "\t")
		if !ok {
			fmt.Fprintf(out, "%d\terror\tno tab\n", line)
			continue
		}
		fmt.Fprintln(out, measure(line, lt, expr, max(*reps, 1), time.Duration(*budget*float64(time.Millisecond))))
		out.Flush()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "compilecmp:", err)
		os.Exit(1)
	}
}

// measure compiles expr for link type lt up to reps times, or until
// budget is spent, and returns its output line.
func measure(line int, lt, expr string, reps int, budget time.Duration) string {
	linkType, err := cbpf.ParseLinkType(lt)
	if err != nil {
		return fmt.Sprintf("%d\terror\t%v", line, err)
	}
	opts := []bpfc.Option{bpfc.WithLinkType(linkType), bpfc.WithSnaplen(262144), bpfc.WithNetmask(0)}
	var (
		times []time.Duration
		spent time.Duration
		insns int
		alloc uint64
	)
	for len(times) < reps && (len(times) == 0 || spent < budget) {
		var before runtime.MemStats
		if len(times) == 0 {
			runtime.ReadMemStats(&before)
		}
		t0 := time.Now()
		p, err := bpfc.Compile(expr, opts...)
		d := time.Since(t0)
		if len(times) == 0 {
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			alloc = after.TotalAlloc - before.TotalAlloc
		}
		switch {
		case err == nil:
			insns = p.Len()
		case errors.Is(err, codegen.ErrTooLong) || errors.Is(err, cbpf.ErrTooLong):
			insns = tooLongLen(err)
		default:
			return fmt.Sprintf("%d\terror\t%s", line, strings.ReplaceAll(err.Error(), "\n", " "))
		}
		times = append(times, d)
		spent += d
	}
	slices.Sort(times)
	n := len(times)
	med := times[n/2]
	if n%2 == 0 {
		med = (times[n/2-1] + times[n/2]) / 2
	}
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%d\t%d", line, med.Nanoseconds(), insns, n, maxRSSKiB(), alloc)
}

// tooLongLen is the length a too-long error gives ("...: N
// instructions, ..."), or -1.
func tooLongLen(err error) int {
	f := strings.Fields(err.Error())
	for i := 1; i < len(f); i++ {
		if strings.HasPrefix(f[i], "instructions") {
			if n, err := strconv.Atoi(f[i-1]); err == nil {
				return n
			}
		}
	}
	return -1
}

// maxRSSKiB is the process's peak resident set size (VmHWM), or -1.
func maxRSSKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB")); err == nil {
				return n
			}
		}
	}
	return -1
}
