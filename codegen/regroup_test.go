package codegen

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedCopy checks the radix sort of large sets against a
// comparison sort, on sizes either side of where it takes over, with
// values that share some bytes (skipped passes) and values that do not,
// and that it leaves its input as it was.
func TestSortedCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 255, 256, 257, 800, 4000} {
		for _, mask := range []uint32{0xffffffff, 0x00ffff00, 0xff, 0xff000000, 0} {
			vals := make([]uint32, n)
			for i := range vals {
				vals[i] = 0x0a000000 | r.Uint32()&mask
			}
			in := slices.Clone(vals)
			want := slices.Clone(vals)
			slices.Sort(want)
			got := sortedCopy(vals)
			if !slices.Equal(got, want) {
				t.Fatalf("n %d, mask %#x: not sorted as slices.Sort sorts", n, mask)
			}
			if !slices.Equal(vals, in) {
				t.Fatalf("n %d, mask %#x: the input changed", n, mask)
			}
		}
	}
}

// TestHashIndex checks the index against a scan of its entries: with few
// entries find returns the earliest that matches, past hashIndexLinear
// the latest, through growth of its table and a reset that keeps it.
func TestHashIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var x hashIndex
	for _, n := range []int{3, 16, 17, 100, 5000} {
		for _, hint := range []int{0, n} {
			x.reset(hint)
			// Few distinct hashes, so that entries share them; keys
			// tell entries with the same hash apart.
			var hashes []uint64
			var keys []int
			for i := range n {
				h := uint64(r.IntN(n/2+1)) * 0x100000001
				hashes = append(hashes, h)
				keys = append(keys, r.IntN(3))
				if got := x.add(h); got != i {
					t.Fatalf("add returned %d for entry %d", got, i)
				}
			}
			for q := range 2 * n {
				h := uint64(r.IntN(n/2+2)) * 0x100000001
				k := r.IntN(3)
				want := -1
				for i := range hashes {
					if hashes[i] == h && keys[i] == k {
						if want < 0 || n > hashIndexLinear {
							want = i
						}
					}
				}
				got := x.find(h, func(i int) bool { return keys[i] == k })
				if got != want {
					t.Fatalf("n %d hint %d, query %d: find = %d, want %d", n, hint, q, got, want)
				}
			}
		}
	}
}
