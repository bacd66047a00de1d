package codegen

// shareTails reorders the tests of equality chains so that a chain ends
// in tests that some other part of the graph already makes, which
// mergeIdentical then merges. It reports whether it reordered any.
//
// A chain is a test block (its head) followed, along the false branches,
// by blocks that hold no code, compare A with a constant (jeq #k) and
// have no other predecessor (its links). The links all test the value
// the head tested, and as the constants differ at most one of them can
// be true: in whatever order the links come, a value goes to the branch
// of its constant, or past the last link to the chain's exit. So the
// links may be put in any order, and a value that other tests also send
// somewhere with a jeq on their way to the same exit can share those
// tests:
//
//	IPv6 "tcp or udp": ldb [20]; jeq #6; jeq #17; jeq #44 -> [54] ...
//	IPv4 "tcp or udp": ldb [23]; jeq #6; jeq #17 -> exit
//
// puts IPv6's jeq #17 last, where it is the IPv4 block (jeq #17, same
// branches): one instruction fewer, as libpcap makes it. The head stays
// first, and so do the links that share nothing, so that a value tested
// earlier in the expression is still tested early; the values moved to
// the end cost the packets that have them a test or two more.
func (o *optimizer) shareTails(entry *block) bool {
	order := o.ord.layout(entry)
	n := o.n
	// (The passes that use these buffers too are over, or start afresh.)
	ints := zeroed(&o.scr.ints, 2*n)
	preds, chain := ints[:n], ints[n:]
	countPreds(order, preds)
	isTest := func(b *block) bool {
		return !b.ret && b.jop == clsJMP|jmpJEQ|srcK && b.jt != b.jf
	}
	// How many code-less tests have each constant and pair of branches
	// (counted when a chain is first found): a chain can end in tests
	// made elsewhere only if one of them has the constant and true
	// branch of one of its links and goes on to the chain's exit.
	var counts hashCounts
	count := func() {
		m := 0
		for _, b := range order {
			if isTest(b) && len(b.stmts) == 0 {
				m++
			}
		}
		counts = newHashCounts(&o.scr.u64, m)
		for _, b := range order {
			if isTest(b) && len(b.stmts) == 0 {
				counts.add(tailHash(b.k, b.jt, b.jf))
			}
		}
	}
	// The chains, in layout order: their links one after the other in
	// links, chain i's from ends[i-1] to ends[i]; chain[id] is the
	// number of the chain a link belongs to, from 1.
	links := o.scr.links[:0]
	defer func() { o.scr.links = links[:0] }()
	var ends []int
	for _, h := range order {
		if !isTest(h) || chain[h.id] != 0 {
			continue
		}
		start := len(links)
		var l *block
		for l = h.jf; isTest(l) && len(l.stmts) == 0 && preds[l.id] == 1 && chain[l.id] == 0; l = l.jf {
			links = append(links, l)
			chain[l.id] = len(ends) + 1
		}
		some := false // a test elsewhere that the last link could be
		if m := len(links) - start; m >= 2 && m <= maxChain && counts.slots == nil {
			count()
		}
		for _, k := range links[start:] {
			if counts.slots == nil {
				break
			}
			// (The last link itself is one of those counted for it.)
			if c := counts.count(tailHash(k.k, k.jt, l)); c >= 2 || c == 1 && k.jf != l {
				some = true
				break
			}
		}
		if m := len(links) - start; m < 2 || m > maxChain || !some {
			for _, l := range links[start:] {
				chain[l.id] = 0
			}
			links = links[:start]
			continue
		}
		ends = append(ends, len(links))
	}
	if len(ends) == 0 {
		return false
	}
	// The code-less tests that a chain's tail can be made of, found by
	// their constant and their branches.
	type pair struct {
		k  uint32
		jt *block
	}
	tails := o.scr.kept[:0]
	defer func() { o.scr.kept = tails[:0] }()
	idx := &o.scr.keptIdx
	idx.reset(0)
	for _, b := range order {
		if isTest(b) && len(b.stmts) == 0 {
			tails = append(tails, b)
			idx.add(tailHash(b.k, b.jt, b.jf))
		}
	}
	// frozen marks the blocks that a reordered chain ends in, which must
	// stay as they are.
	frozen := zeroed(&o.scr.bools, n)
	var pairs, moved []pair
	changed := false
	for c := range ends {
		id := c + 1
		chainLinks := links[:ends[c]]
		if c > 0 {
			chainLinks = links[ends[c-1]:ends[c]]
		}
		pairs = pairs[:0]
		skip := false
		for _, l := range chainLinks {
			skip = skip || frozen[l.id]
			for _, p := range pairs {
				skip = skip || p.k == l.k
			}
			pairs = append(pairs, pair{l.k, l.jt})
		}
		if skip {
			continue
		}
		// Walk back from the exit through code-less tests of other
		// chains' (or of no chain) whose constant and true branch a link
		// of this chain has: they are the tail this chain can end in.
		moved = moved[:0]
		at := chainLinks[len(chainLinks)-1].jf
	walk:
		for {
			for j, p := range pairs {
				if p.jt == nil {
					continue // used
				}
				i := idx.find(tailHash(p.k, p.jt, at), func(i int) bool {
					t := tails[i]
					return t.k == p.k && t.jt == p.jt && t.jf == at && chain[t.id] != id
				})
				if i < 0 {
					continue
				}
				moved = append(moved, p)
				pairs[j].jt = nil
				frozen[tails[i].id] = true
				at = tails[i]
				continue walk
			}
			break
		}
		if len(moved) == 0 {
			continue
		}
		// The links that share nothing keep their order, first; the
		// shared ones follow in the tail's order (moved is from the exit
		// back).
		i := 0
		for _, p := range pairs {
			if p.jt != nil {
				chainLinks[i].k, chainLinks[i].jt = p.k, p.jt
				i++
			}
		}
		for j := len(moved) - 1; j >= 0; j-- {
			chainLinks[i].k, chainLinks[i].jt = moved[j].k, moved[j].jt
			i++
		}
		for _, l := range chainLinks {
			frozen[l.id] = true
		}
		changed = true
	}
	if changed {
		o.ord.stale = true
	}
	return changed
}

// maxChain is the longest chain whose links shareTails reorders: the
// checks and the walk cost the square of its length.
const maxChain = 64

// pairHash hashes a test's constant and true branch; tailHash its false
// branch too.
func pairHash(k uint32, jt *block) uint64 {
	const prime = 1099511628211
	h := (uint64(k) ^ 14695981039346656037) * prime
	return (h ^ uint64(jt.id)) * prime
}

func tailHash(k uint32, jt, jf *block) uint64 {
	return (pairHash(k, jt) ^ uint64(jf.id)<<20) * 1099511628211
}

// hashCounts counts hashes (with false positives, which only cost
// shareTails a look): open addressing over a buffer kept between
// compilations. A slot holds the hash's top 48 bits and its count.
type hashCounts struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
}

// newHashCounts returns an empty table for about n hashes, in *buf.
func newHashCounts(buf *[]uint64, n int) hashCounts {
	size, shift := 16, uint(60)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	return hashCounts{zeroed(buf, size), shift}
}

// slot returns the slot of h, or the empty slot where it would go. The
// table is at least twice as big as the hashes added, so one is empty.
func (c hashCounts) slot(h uint64) (i uint64, key uint64) {
	key = h&^0xffff | 1<<16 // never 0, the empty slot
	// The slot from the top bits of h mixed (FNV's low bits are poor).
	m := uint64(len(c.slots) - 1)
	for i = (h * 0x9e3779b97f4a7c15) >> c.shift; ; i = (i + 1) & m {
		if s := c.slots[i]; s == 0 || s&^0xffff == key {
			return i, key
		}
	}
}

func (c hashCounts) add(h uint64) {
	i, key := c.slot(h)
	if c.slots[i] == 0 {
		c.slots[i] = key
	}
	if c.slots[i]&0xffff != 0xffff {
		c.slots[i]++
	}
}

// count returns how many times h was added (a lookup adds nothing).
func (c hashCounts) count(h uint64) int {
	i, _ := c.slot(h)
	return int(c.slots[i] & 0xffff)
}
