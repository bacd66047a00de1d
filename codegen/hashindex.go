package codegen

// A hashIndex finds entries (numbered 0, 1, ... in the order they are
// added, kept by the caller in a slice of its own) by a 64-bit hash and
// an equality test. While it holds few entries a search looks at each;
// past hashIndexLinear, a hash table gives the last entry with each
// hash, and each entry the one before it with the same hash. The
// optimizer's passes and the regrouping of disjunctions use it for their
// interning, which is most often of a handful of things and sometimes of
// thousands.
type hashIndex struct {
	hashes []uint64
	prev   []int32 // once the table is in use
	// table is open addressing from a hash to the last entry with it
	// (the entry's number plus 1; 0 is an empty slot), in use past
	// hashIndexLinear entries, its length a power of 2 at least twice
	// the entries'. Its memory is kept between resets.
	table []int32
	inUse bool
	// hint is how many entries the caller expects: the table is made
	// for that many, not grown to it.
	hint int
}

const hashIndexLinear = 16

// reset empties x, keeping its memory, for about hint entries.
func (x *hashIndex) reset(hint int) {
	x.hashes, x.prev, x.inUse, x.hint = x.hashes[:0], x.prev[:0], false, hint
}

// slot returns the slot of the table that holds hash h, or the empty
// slot where it would go.
func (x *hashIndex) slot(h uint64) int {
	mask := len(x.table) - 1
	for i := int((h*0x9e3779b97f4a7c15)>>32) & mask; ; i = (i + 1) & mask {
		if e := x.table[i]; e == 0 || x.hashes[e-1] == h {
			return i
		}
	}
}

// find returns the first entry found with hash h for which same is
// true, or -1: the earliest while the entries are few, else the latest.
func (x *hashIndex) find(h uint64, same func(i int) bool) int {
	if !x.inUse {
		for i, hh := range x.hashes {
			if hh == h && same(i) {
				return i
			}
		}
		return -1
	}
	for i := x.table[x.slot(h)] - 1; i >= 0; i = x.prev[i] {
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
	case x.inUse:
		if 2*len(x.hashes) > len(x.table) {
			x.rebuild(2 * len(x.table))
			return n
		}
		i := x.slot(h)
		x.prev = append(x.prev, x.table[i]-1)
		x.table[i] = int32(n + 1)
	case len(x.hashes) > hashIndexLinear:
		x.inUse = true
		x.rebuild(max(2*len(x.hashes), x.hint))
	}
	return n
}

// rebuild makes the table, of at least size slots, for all the entries.
func (x *hashIndex) rebuild(size int) {
	n := 64
	for n < size {
		n *= 2
	}
	if cap(x.table) >= n {
		x.table = x.table[:n]
		clear(x.table)
	} else {
		x.table = make([]int32, n)
	}
	x.prev = x.prev[:0]
	for i, hh := range x.hashes {
		j := x.slot(hh)
		x.prev = append(x.prev, x.table[j]-1)
		x.table[j] = int32(i + 1)
	}
}
