// Command lencmp compares the length of bpfc's optimized programs with
// libpcap's over the libpcap test corpus: for every (link type, snaplen,
// expression) of ../shared/corpus/filters.tsv for EN10MB, LINUX_SLL,
// NULL, RAW and IPV6 that both accept, it prints how many of bpfc's
// programs are shorter, equal and longer, the total instruction count of
// each and their ratio (with and without protochain, which bpfc unrolls
// because the kernel refuses libpcap's loop), and lists the longer ones.
//
// libpcap's lengths are measured in the same run, with tcpdump -d -y
// LINKTYPE [-s SNAPLEN] (libpcap 1.10.3 here, optimized, as -d
// compiles), and checked against the corpus's recorded counts; with
// -stored, the recorded counts are used and tcpdump is not needed. Run
// from the module root:
//
//	go run ./bench/lencmp [-v] [-stored] [-j 2] [-corpus ../shared/corpus/filters.tsv]
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
)

var tier1 = map[string]bool{"EN10MB": true, "LINUX_SLL": true, "NULL": true, "RAW": true, "IPV6": true}

type row struct {
	lt, snap, expr string
	stored         int // the corpus's count for libpcap
	ref            int // libpcap's count, measured (or stored)
	ours           int
	refused        string // why bpfc refused it
	tcpdumpErr     string
}

func main() {
	corpus := flag.String("corpus", "../shared/corpus/filters.tsv", "libpcap's filter tests: linktype, snaplen, expr, libpcap 1.10.3's count or error, ...")
	verbose := flag.Bool("v", false, "list every expression where bpfc is longer")
	stored := flag.Bool("stored", false, "use the corpus's recorded counts instead of running tcpdump")
	tcpdump := flag.String("tcpdump", "tcpdump", "the tcpdump to run")
	workers := flag.Int("j", 2, "tcpdump processes in parallel")
	compact := flag.Bool("compact", false, "compile with bpfc.WithCompact")
	flag.Parse()
	rows, err := readRows(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lencmp:", err)
		os.Exit(1)
	}
	if !*stored {
		if _, err := exec.LookPath(*tcpdump); err != nil {
			fmt.Fprintf(os.Stderr, "lencmp: %v (apt-get install tcpdump, or use -stored)\n", err)
			os.Exit(1)
		}
		measure(rows, *tcpdump, *workers)
	}
	for i := range rows {
		r := &rows[i]
		lt, _ := cbpf.ParseLinkType(r.lt)
		opts := []bpfc.Option{bpfc.WithLinkType(lt), bpfc.WithCompact(*compact)}
		if r.snap != "" {
			n, _ := strconv.ParseUint(r.snap, 10, 32)
			opts = append(opts, bpfc.WithSnaplen(uint32(n)))
		}
		p, err := bpfc.Compile(r.expr, opts...)
		if err != nil {
			r.refused = err.Error()
			continue
		}
		r.ours = p.Len()
	}
	report(rows, *verbose, *stored)
}

// readRows returns the tier-1 rows libpcap 1.10.3 accepts, once each.
func readRows(path string) ([]row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = '\t'
	cr.FieldsPerRecord = -1
	var rows []row
	seen := map[string]bool{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if first || len(rec) < 4 || !tier1[rec[0]] {
			continue
		}
		n, err := strconv.Atoi(rec[3])
		if err != nil {
			continue // libpcap refuses it
		}
		key := rec[0] + "\t" + rec[1] + "\t" + rec[2]
		if seen[key] {
			continue
		}
		seen[key] = true
		rows = append(rows, row{lt: rec[0], snap: rec[1], expr: rec[2], stored: n, ref: n})
	}
	return rows, nil
}

// measure runs tcpdump -d for every row and records its length.
func measure(rows []row, tcpdump string, workers int) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range next {
				r := &rows[i]
				args := []string{"-d", "-y", r.lt}
				if r.snap != "" {
					args = append(args, "-s", r.snap)
				}
				out, err := exec.Command(tcpdump, append(args, "--", r.expr)...).Output()
				if err != nil {
					r.tcpdumpErr = err.Error()
					continue
				}
				r.ref = strings.Count(string(out), "\n")
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
}

func report(rows []row, verbose, stored bool) {
	var shorter, equal, longer, sumOurs, sumRef, nOurs, nRef, n, drift int
	var worse []row
	for _, r := range rows {
		switch {
		case r.refused != "":
			fmt.Printf("refused %s\t%s\t%s: %s\n", r.lt, r.snap, r.expr, r.refused)
			continue
		case r.tcpdumpErr != "":
			fmt.Printf("tcpdump refused %s\t%s\t%s (the corpus says %d instructions): %s\n", r.lt, r.snap, r.expr, r.stored, r.tcpdumpErr)
			continue
		}
		if r.ref != r.stored {
			drift++
			fmt.Printf("tcpdump now gives %d instructions, the corpus %d: %s %q\n", r.ref, r.stored, r.lt, r.expr)
		}
		sumOurs += r.ours
		sumRef += r.ref
		if !strings.Contains(r.expr, "protochain") {
			nOurs += r.ours
			nRef += r.ref
			n++
		}
		switch {
		case r.ours < r.ref:
			shorter++
		case r.ours == r.ref:
			equal++
		default:
			longer++
			worse = append(worse, r)
		}
	}
	sort.SliceStable(worse, func(i, j int) bool { return worse[i].ours-worse[i].ref > worse[j].ours-worse[j].ref })
	limit := 15
	if verbose {
		limit = len(worse)
	}
	for i, r := range worse {
		if i >= limit {
			fmt.Printf("... and %d more (-v lists all)\n", len(worse)-limit)
			break
		}
		fmt.Printf("longer  %-9s %4d vs %4d  %s\n", r.lt, r.ours, r.ref, r.expr)
	}
	src := "tcpdump -d, measured now"
	if stored {
		src = "the corpus's recorded counts"
	}
	fmt.Printf("libpcap's lengths: %s", src)
	if !stored {
		fmt.Printf(" (%d differ from the corpus's)", drift)
	}
	fmt.Println()
	fmt.Printf("expressions: %d (both accept); bpfc shorter %d, equal %d, longer %d\n", shorter+equal+longer, shorter, equal, longer)
	fmt.Printf("instructions: bpfc %d, libpcap %d, ratio %.3f\n", sumOurs, sumRef, float64(sumOurs)/float64(sumRef))
	// protochain is where the kernel forces a longer program: libpcap's
	// loop (a backward jump) is refused by the kernel, bpfc unrolls it.
	fmt.Printf("without protochain (%d expressions): bpfc %d, libpcap %d, ratio %.3f\n", n, nOurs, nRef, float64(nOurs)/float64(nRef))
}
