// Command randexprs prints random filter expressions, one a line: those
// of internal/randexpr (the optimizer's differential fuzz test) up to -d
// levels deep, without protochain and geneve (as in the runs the README
// reports), from a seeded generator, so that a run is repeated exactly.
// bench/randdiff.sh runs them through ../shared/tools/difftest against
// tcpdump: the random differential of the README.
//
//	go run ./bench/randexprs [-n 2000] [-d 3] [-seed 21] [-all]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/bpfc/bpfc/internal/randexpr"
)

func main() {
	n := flag.Int("n", 2000, "how many expressions")
	d := flag.Int("d", 3, "how deep at most")
	seed := flag.Uint64("seed", 21, "the generator's seed")
	all := flag.Bool("all", false, "with protochain and geneve too")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 2))
	prims := randexpr.Without(randexpr.Primitives, "protochain", "geneve")
	if *all {
		prims = randexpr.Primitives
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for range *n {
		fmt.Fprintln(w, randexpr.Expr(r, prims, *d))
	}
}
