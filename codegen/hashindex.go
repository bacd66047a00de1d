package codegen

// A hashIndex finds entries (numbered 0, 1, ... in the order they are
// added, kept by the caller in a slice of its own) by a 64-bit hash and
// an equality test. While it holds few entries a search looks at each;
// past hashIndexLinear, a map gives the last entry with each hash and
// each entry the one before it with the same hash. The optimizer's
// passes and the regrouping of disjunctions use it for their interning,
// which is most often of a handful of things and sometimes of thousands.
type hashIndex struct {
	hashes []uint64
	prev   []int32 // once last is made
	last   map[uint64]int32
	// hint is how many entries the caller expects: the map is made for
	// that many, not grown to it.
	hint int
}

const hashIndexLinear = 16

// reset empties x, keeping its memory, for about hint entries.
func (x *hashIndex) reset(hint int) {
	x.hashes, x.prev, x.last, x.hint = x.hashes[:0], x.prev[:0], nil, hint
}

// find returns the first entry found with hash h for which same is
// true, or -1.
func (x *hashIndex) find(h uint64, same func(i int) bool) int {
	if x.last == nil {
		for i, hh := range x.hashes {
			if hh == h && same(i) {
				return i
			}
		}
		return -1
	}
	i, ok := x.last[h]
	if !ok {
		return -1
	}
	for ; i >= 0; i = x.prev[i] {
		if same(int(i)) {
			return int(i)
		}
	}
	return -1
}

// add adds an entry with hash h and returns its number.
func (x *hashIndex) add(h uint64) int {
	n := len(x.hashes)
	x.hashes = append(x.hashes, h)
	switch {
	case x.last != nil:
		prev, ok := x.last[h]
		if !ok {
			prev = -1
		}
		x.prev = append(x.prev, prev)
		x.last[h] = int32(n)
	case len(x.hashes) > hashIndexLinear:
		x.last = make(map[uint64]int32, max(2*len(x.hashes), x.hint))
		x.prev = x.prev[:0]
		for i, hh := range x.hashes {
			prev, ok := x.last[hh]
			if !ok {
				prev = -1
			}
			x.prev = append(x.prev, prev)
			x.last[hh] = int32(i)
		}
	}
	return n
}
