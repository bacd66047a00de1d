package bpfc_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/google/go-cmp/cmp"
)

// TestCompileConcurrent compiles the same expressions from many
// goroutines at once, each in its own order, and checks that every call
// gives what a lone call gives: the same program, or the same error.
// Compile promises to be safe for concurrent use without a global lock;
// run with -race to check the first half of that.
func TestCompileConcurrent(t *testing.T) {
	exprs := fuzzSeeds(t)
	if testing.Short() && len(exprs) > 100 {
		exprs = exprs[:100]
	}
	targets := fuzzTargets[:4]

	type job struct {
		target int
		expr   string
	}
	var jobs []job
	for i := range targets {
		for _, e := range exprs {
			jobs = append(jobs, job{i, e})
		}
	}
	compile := func(j job) string {
		opts := append([]bpfc.Option{bpfc.WithResolver(fuzzResolver{})}, targets[j.target].opts...)
		p, err := bpfc.Compile(j.expr, opts...)
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%v %d\n%s", p.LinkType, p.Snaplen, p)
	}
	want := make([]string, len(jobs))
	for i, j := range jobs {
		want[i] = compile(j)
	}

	workers := max(8, 2*runtime.GOMAXPROCS(0))
	got := make([][]string, workers)
	var start, done sync.WaitGroup
	start.Add(1)
	for w := range workers {
		got[w] = make([]string, len(jobs))
		done.Go(func() {
			start.Wait()
			// Each worker starts at a different job, so that different
			// expressions and link types are compiled at the same time.
			for k := range jobs {
				i := (k + w*len(jobs)/workers) % len(jobs)
				got[w][i] = compile(jobs[i])
			}
		})
	}
	start.Done()
	done.Wait()

	for w := range workers {
		for i, j := range jobs {
			if diff := cmp.Diff(want[i], got[w][i]); diff != "" {
				t.Errorf("worker %d: %s: %q differs from a lone Compile (-want +got):\n%s", w, targets[j.target].name, j.expr, diff)
			}
		}
	}
}
