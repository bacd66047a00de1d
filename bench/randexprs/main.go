// Command randexprs prints random filter expressions, one a line: those
// of internal/randexpr (the optimizer's differential fuzz test) up to -d
// levels deep, without protochain and geneve (as in the runs the README
// reports), from a seeded generator, so that a run is repeated exactly.
// bench/randdiff.sh runs them through ../shared/tools/difftest against
// tcpdump: the random differential of the README; bench/refusals.sh
// compares refusals with libpcap's.
//
// -mode and makes and-heavy expressions (2 to 4 terms joined by "and",
// over the primitives and randexpr.Relations, 2 levels deep); -mode
// const mixes relations of constants ("1 + 1 > 2 - 1") into them; -mode
// arith makes relations of arithmetic over several protocols' loads, -d
// levels deep (randexpr.ArithRelation).
//
//	go run ./bench/randexprs [-n 2000] [-d 3] [-seed 21] [-all] [-mode tree|and|const|arith]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"

	"github.com/bpfc/bpfc/internal/randexpr"
)

func main() {
	n := flag.Int("n", 2000, "how many expressions")
	d := flag.Int("d", 3, "how deep at most")
	seed := flag.Uint64("seed", 21, "the generator's seed")
	all := flag.Bool("all", false, "with protochain and geneve too")
	mode := flag.String("mode", "tree", "tree, and (and-heavy), const (with relations of constants) or arith (relations of arithmetic)")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 2))
	prims := randexpr.Without(randexpr.Primitives, "protochain", "geneve")
	if *all {
		prims = randexpr.Primitives
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	switch *mode {
	case "tree":
		for range *n {
			fmt.Fprintln(w, randexpr.Expr(r, prims, *d))
		}
	case "and":
		prims = slices.Concat(prims, randexpr.Relations)
		for range *n {
			fmt.Fprintln(w, randexpr.AndChain(r, prims, 2))
		}
	case "const":
		prims = slices.Concat(prims, randexpr.Relations)
		for range *n {
			// About half the leaves are relations of constants.
			consts := make([]string, 0, len(prims))
			for range len(prims) {
				consts = append(consts, randexpr.ConstRelation(r))
			}
			fmt.Fprintln(w, randexpr.AndChain(r, slices.Concat(prims, consts), 2))
		}
	case "arith":
		for range *n {
			fmt.Fprintln(w, randexpr.ArithRelation(r, *d))
		}
	default:
		fmt.Fprintf(os.Stderr, "randexprs: -mode %q: want tree, and, const or arith\n", *mode)
		os.Exit(2)
	}
}
