// Command lencmp compares the length of bpfc's optimized programs with
// libpcap's, over the libpcap test corpus: for every expression of a
// tier-1 link type that both accept, it prints how many of bpfc's
// programs are shorter, equal and longer, the total instruction count of
// each and their ratio, and lists the longer ones.
//
// libpcap's counts are the corpus's own (tcpdump -d -y LINKTYPE, libpcap
// 1.10.3, optimized), so the comparison needs no tcpdump. Run from the
// module root:
//
//	go run ./bench/lencmp [-v] [-corpus parser/testdata/corpus.tsv]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
)

func main() {
	corpus := flag.String("corpus", "parser/testdata/corpus.tsv", "corpus: linktype, expr, libpcap's optimized count or error")
	verbose := flag.Bool("v", false, "list every expression where bpfc is longer")
	flag.Parse()
	f, err := os.Open(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lencmp:", err)
		os.Exit(1)
	}
	defer f.Close()
	tier1 := map[string]bool{"EN10MB": true, "LINUX_SLL": true, "NULL": true, "RAW": true, "IPV6": true}
	type row struct {
		lt, expr  string
		ours, ref int
	}
	var rows []row
	var refused []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || !tier1[cols[0]] {
			continue
		}
		ref, err := strconv.Atoi(cols[2])
		if err != nil {
			continue // libpcap refuses it
		}
		key := cols[0] + "\t" + cols[1]
		if seen[key] {
			continue
		}
		seen[key] = true
		lt, _ := cbpf.ParseLinkType(cols[0])
		p, err := bpfc.Compile(cols[1], bpfc.WithLinkType(lt))
		if err != nil {
			refused = append(refused, key+"\t"+err.Error())
			continue
		}
		rows = append(rows, row{cols[0], cols[1], p.Len(), ref})
	}
	var shorter, equal, longer, sumOurs, sumRef int
	var worse []row
	for _, r := range rows {
		sumOurs += r.ours
		sumRef += r.ref
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
	sort.Slice(worse, func(i, j int) bool { return worse[i].ours-worse[i].ref > worse[j].ours-worse[j].ref })
	limit := 15
	if *verbose {
		limit = len(worse)
	}
	for i, r := range worse {
		if i >= limit {
			fmt.Printf("... and %d more (-v lists all)\n", len(worse)-limit)
			break
		}
		fmt.Printf("longer  %-9s %4d vs %4d  %s\n", r.lt, r.ours, r.ref, r.expr)
	}
	for _, r := range refused {
		fmt.Println("refused", r)
	}
	fmt.Printf("expressions: %d (both accept); bpfc shorter %d, equal %d, longer %d\n", len(rows), shorter, equal, longer)
	fmt.Printf("instructions: bpfc %d, libpcap %d, ratio %.3f\n", sumOurs, sumRef, float64(sumOurs)/float64(sumRef))
	// protochain is where the kernel forces a longer program: libpcap's
	// loop (a backward jump) is refused by the kernel, bpfc unrolls it.
	var nOurs, nRef, n int
	for _, r := range rows {
		if !strings.Contains(r.expr, "protochain") {
			nOurs += r.ours
			nRef += r.ref
			n++
		}
	}
	fmt.Printf("without protochain (%d expressions): bpfc %d, libpcap %d, ratio %.3f\n", n, nOurs, nRef, float64(nOurs)/float64(nRef))
}
