package translate_test

import (
	"testing"

	"github.com/bpfc/bpfc/translate"
)

// TestSizes translates every distinct program of the golden corpus in
// both forms and logs the instruction counts (BENCHMARKS.md, eBPF).
func TestSizes(t *testing.T) {
	progs := corpusPrograms(t)
	var cls, skb, dir, maxCls, maxSkb, maxDir int
	for _, cp := range progs {
		si, err := translate.Skb(cp.prog, nil)
		if err != nil {
			t.Fatalf("%q: %v", cp.expr, err)
		}
		di, err := translate.Direct(cp.prog, nil)
		if err != nil {
			t.Fatalf("%q: %v", cp.expr, err)
		}
		n := len(cp.prog.Instructions)
		cls, skb, dir = cls+n, skb+len(si), dir+len(di)
		maxCls, maxSkb, maxDir = max(maxCls, n), max(maxSkb, len(si)), max(maxDir, len(di))
	}
	t.Logf("%d programs: classic %d instructions (largest %d); skb form %d (%.2f×, largest %d); direct form %d (%.2f×, largest %d)",
		len(progs), cls, maxCls, skb, float64(skb)/float64(cls), maxSkb, dir, float64(dir)/float64(cls), maxDir)
}
