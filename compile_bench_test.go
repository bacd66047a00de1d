package bpfc_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
)

// hostList returns "host A or host B or ..." with n distinct addresses
// in 10.0.0.0/8, spread out (i × 40503 mod 2²⁴: no two are consecutive
// for n up to 10,000), so that the set is not a few ranges, which the
// optimizer would test as such: these lists measure how compile time
// grows with the number of terms.
func hostList(n int) string {
	var sb strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteString(" or ")
		}
		a := i * 40503 % (1 << 24)
		fmt.Fprintf(&sb, "host 10.%d.%d.%d", a>>16&255, a>>8&255, a&255)
	}
	return sb.String()
}

// BenchmarkCompile measures parse + resolve + codegen + optimize for a
// typical expression and for long host lists (libpcap's weak spot: its
// optimizer takes 0.07 s for 100 hosts, 3.6 s for 400, 28 s for 800).
// Programs over the kernel's 4,096 instructions are still compiled in
// full; only the final length check fails, and it is not counted as an
// error here.
func BenchmarkCompile(b *testing.B) {
	cases := []struct{ name, expr string }{
		{"typical", "tcp port 80 and host 10.0.0.1"},
		{"hosts-100", hostList(100)},
		{"hosts-400", hostList(400)},
		{"hosts-800", hostList(800)},
		{"hosts-1600", hostList(1600)},
		{"hosts-10000", hostList(10000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bpfc.Compile(c.expr); err != nil && !strings.Contains(err.Error(), "too long") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileCorpus compiles, once per iteration, every expression
// of libpcap's test corpus for EN10MB, LINUX_SLL, NULL, RAW and IPV6
// that libpcap accepts (parser/testdata/corpus.tsv): ns/op divided by
// the reported exprs is the mean compile time of a typical filter.
func BenchmarkCompileCorpus(b *testing.B) {
	data, err := os.ReadFile("parser/testdata/corpus.tsv")
	if err != nil {
		b.Fatal(err)
	}
	type job struct {
		expr string
		lt   cbpf.LinkType
	}
	var jobs []job
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		cols := strings.Split(line, "\t")
		if len(cols) < 3 || strings.HasPrefix(cols[2], "error") || seen[cols[0]+"\t"+cols[1]] {
			continue
		}
		switch cols[0] {
		case "EN10MB", "LINUX_SLL", "NULL", "RAW", "IPV6":
		default:
			continue
		}
		seen[cols[0]+"\t"+cols[1]] = true
		lt, err := cbpf.ParseLinkType(cols[0])
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, job{cols[1], lt})
	}
	b.ReportAllocs()
	b.ReportMetric(float64(len(jobs)), "exprs")
	for b.Loop() {
		for _, j := range jobs {
			if _, err := bpfc.Compile(j.expr, bpfc.WithLinkType(j.lt)); err != nil && !strings.Contains(err.Error(), "too long") {
				b.Fatalf("%s: %v", j.expr, err)
			}
		}
	}
}
