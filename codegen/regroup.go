package codegen

import (
	"slices"
	"sort"
)

// Regrouping of long disjunctions, the optimizer's first step, on preds:
//
//	(ip and [26] = A) or (ip and [30] = A) or (ip and [26] = B) or ...
//
// becomes "ip and ([26] in {A, B, ...} or [30] in {A, B, ...})": terms
// that start with the same test share it, and equality tests of one
// value against many constants become a set test, compiled as a balanced
// tree of jgt with jeq at the leaves when the set is large, so a packet
// runs O(log n) instructions instead of O(n). libpcap's optimizer
// regroups such chains the same way (testing a loaded value against every
// constant before loading the next one); it does not build trees.
//
// Only terms made of self-contained tests are moved: code that carries
// registers from one block to the next (protochain, geneve) keeps its
// place.

// Set tests: a set of fewer than setTreeMin values stays a chain of jeq
// (the shortest code, and libpcap's); a larger one becomes a balanced tree
// of jgt whose leaves are chains of at most setLeafMax jeq. A leaf that
// long keeps the tree's extra jgt to about n/setLeafMax, so the program
// stays shorter than libpcap's chain (whose far jumps need `ja`
// trampolines), while a packet runs about log2(n/setLeafMax)+setLeafMax
// tests instead of n.
const (
	setTreeMin = 32
	setLeafMax = 16
)

// regroup rewrites p's disjunctions as described above.
func regroup(p pred) pred {
	switch q := p.(type) {
	case *pAnd:
		return and(regroup(q.a), regroup(q.b))
	case *pNot:
		return not(regroup(q.x))
	case *pOr:
		terms := flattenOr(p, make([]pred, 0, countOr(p)))
		for _, t := range terms {
			if !movable(t) {
				out := pred(pFalse)
				for _, t := range terms {
					out = or(out, regroup(t))
				}
				return out
			}
		}
		return regroupOr(terms)
	}
	return p
}

// regroupNeeded reports whether regroup would rewrite p into anything
// but p itself: whether some disjunction it regroups has two terms with
// the same first conjunct, or equality tests of one value that are
// repeated, not side by side, or many enough for a tree. Most filters
// have none, and skipping the rebuild saves most of its allocations.
// It follows regroup's walk exactly.
func regroupNeeded(p pred) bool {
	switch q := p.(type) {
	case *pAnd:
		return regroupNeeded(q.a) || regroupNeeded(q.b)
	case *pNot:
		return regroupNeeded(q.x)
	case *pOr:
		var buf [8]pred
		terms := flattenOr(p, buf[:0])
		for _, t := range terms {
			if !movable(t) {
				for _, t := range terms {
					if regroupNeeded(t) {
						return true
					}
				}
				return false
			}
		}
		return regroupOrNeeded(terms)
	}
	return false
}

// regroupOrNeeded reports whether regroupOr(terms) would change them.
// regroupOr recurses into the last conjunct of each term (the rest of a
// group with one member is regrouped conjunct by conjunct), so that is
// where this one looks too.
func regroupOrNeeded(terms []pred) bool {
	var headBuf [8]pred
	heads := headBuf[:0]
	for _, t := range terms {
		var buf [8]pred
		cs := flattenAnd(t, buf[:0])
		if len(cs) < 2 {
			continue
		}
		head, last := cs[0], cs[len(cs)-1]
		for _, h := range heads {
			if predEqual(h, head) {
				return true
			}
		}
		heads = append(heads, head)
		if _, ok := last.(*pOr); ok && regroupOrNeeded(flattenOr(last, nil)) {
			return true
		}
	}
	// sets: lone equality tests of one value merge into a set placed
	// where the first is; nothing changes for a run of distinct tests,
	// side by side, too few for a tree.
	for i := 0; i < len(terms); i++ {
		q, ok := jeqLeaf(terms[i])
		if !ok {
			continue
		}
		j := i + 1
		for j < len(terms) {
			r, ok := jeqLeaf(terms[j])
			if !ok || !slices.Equal(r.prep, q.prep) {
				break
			}
			j++
		}
		if j-i >= setTreeMin {
			return true
		}
		if j-i >= rangeMin {
			var kbuf [setTreeMin]uint32
			ks := kbuf[:0]
			for _, t := range terms[i:j] {
				ks = append(ks, t.(*pTest).k)
			}
			if hasRun(ks) {
				return true
			}
		}
		for a := i; a < j; a++ {
			for b := a + 1; b < j; b++ {
				if terms[a].(*pTest).k == terms[b].(*pTest).k {
					return true
				}
			}
		}
		for _, t := range terms[j:] {
			if r, ok := jeqLeaf(t); ok && slices.Equal(r.prep, q.prep) {
				return true
			}
		}
		i = j - 1
	}
	return false
}

// allJeq reports whether every term is an equality test with a constant.
func allJeq(terms []pred) bool {
	for _, t := range terms {
		if _, ok := jeqLeaf(t); !ok {
			return false
		}
	}
	return true
}

// jeqLeaf returns t as an equality test with a constant, if it is one.
func jeqLeaf(t pred) (*pTest, bool) {
	q, ok := t.(*pTest)
	return q, ok && q.jop == clsJMP|jmpJEQ|srcK
}

// countOr is how many terms flattenOr makes of p: a slice of that
// capacity takes them without growing.
func countOr(p pred) int {
	n := 1
	for {
		q, ok := p.(*pOr)
		if !ok {
			return n
		}
		n += countOr(q.b)
		p = q.a
	}
}

func flattenOr(p pred, out []pred) []pred {
	if q, ok := p.(*pOr); ok {
		return flattenOr(q.b, flattenOr(q.a, out))
	}
	return append(out, p)
}

func flattenAnd(p pred, out []pred) []pred {
	if q, ok := p.(*pAnd); ok {
		return flattenAnd(q.b, flattenAnd(q.a, out))
	}
	return append(out, p)
}

// movable reports whether p is built only of self-contained tests.
func movable(p pred) bool {
	switch q := p.(type) {
	case *pAnd:
		return movable(q.a) && movable(q.b)
	case *pOr:
		return movable(q.a) && movable(q.b)
	case *pNot:
		return movable(q.x)
	case pConst:
		return true
	case *pTest:
		return selfContained(q.prep)
	}
	return false
}

// regroupOr factors the terms of a disjunction by their first conjunct,
// in order of first appearance, then turns equality tests of one value
// into set tests. A group of one term under which nothing changes keeps
// that term as it is.
func regroupOr(terms []pred) pred {
	if allJeq(terms) {
		// Nothing to factor (the rests of a host list's groups): the
		// tests merge into sets where they are.
		return sets(terms)
	}
	type group struct {
		leaf  bool // a lone test, which joins the set tests below
		head  pred
		n     int
		term  pred   // the first member, whole
		rest  pred   // the first member's rest
		rests []pred // the rests of all members, once there are two
	}
	var gbuf [8]group
	groups := gbuf[:0]
	// order is the groups and the lone equality tests, in order of first
	// appearance (a test has group -1): sets merges and dedups the tests.
	type entry struct {
		group int32
		test  pred
	}
	var ebuf [8]entry
	order := ebuf[:0]
	if len(terms) > len(ebuf) {
		order = make([]entry, 0, len(terms))
	}
	var index hashIndex // of groups
	find := func(leaf bool, head pred) int32 {
		h := predHash(head)
		if leaf {
			h = ^h
		}
		if i := index.find(h, func(i int) bool { return groups[i].leaf == leaf && predEqual(groups[i].head, head) }); i >= 0 {
			return int32(i)
		}
		order = append(order, entry{group: int32(index.add(h))})
		groups = append(groups, group{leaf: leaf, head: head})
		return int32(len(groups) - 1)
	}
	// The groups' members are counted first, so that each group's rests
	// are allocated once, at their size.
	var restBuf [8]pred
	rests := restBuf[:0] // each term's rest, nil for a lone test
	if len(terms) > len(restBuf) {
		rests = make([]pred, 0, len(terms))
	}
	var gidBuf [8]int32
	gids := gidBuf[:0] // each term's group, -1 for none
	if len(terms) > len(gidBuf) {
		gids = make([]int32, 0, len(terms))
	}
	for _, t := range terms {
		head, rest, ok := splitAnd(t)
		if !ok {
			if _, ok := jeqLeaf(t); ok {
				order = append(order, entry{group: -1, test: t})
			} else {
				find(true, t)
			}
			rests, gids = append(rests, nil), append(gids, -1)
			continue
		}
		id := find(false, head)
		g := &groups[id]
		if g.n == 0 {
			g.term, g.rest = t, rest
		}
		g.n++
		rests, gids = append(rests, rest), append(gids, id)
	}
	for i, id := range gids {
		if id < 0 {
			continue
		}
		if g := &groups[id]; g.n > 1 {
			if g.rests == nil {
				g.rests = make([]pred, 0, g.n)
			}
			g.rests = append(g.rests, rests[i])
		}
	}
	var obuf [8]pred
	out := obuf[:0]
	if len(order) > len(obuf) {
		out = make([]pred, 0, len(order))
	}
	for _, e := range order {
		if e.group < 0 {
			out = append(out, e.test)
			continue
		}
		g := &groups[e.group]
		switch {
		case g.leaf:
			out = append(out, g.head)
		case g.n == 1:
			var sbuf [8]pred
			sub := flattenOr(g.rest, sbuf[:0])
			if !regroupOrNeeded(sub) {
				out = append(out, g.term)
				continue
			}
			out = append(out, and(g.head, regroupOr(sub)))
		default:
			out = append(out, and(g.head, regroupOr(expandOr(g.rests))))
		}
	}
	return sets(out)
}

// splitAnd splits a conjunction into its first conjunct and the rest.
func splitAnd(t pred) (head, rest pred, ok bool) {
	q, ok := t.(*pAnd)
	if !ok {
		return nil, nil, false
	}
	if h, r, ok := splitAnd(q.a); ok {
		return h, and(r, q.b), true
	}
	return q.a, q.b, true
}

// expandOr flattens the disjunctions inside terms (terms itself when
// there are none).
func expandOr(terms []pred) []pred {
	n := 0
	for _, t := range terms {
		n += countOr(t)
	}
	if n == len(terms) {
		return terms
	}
	out := make([]pred, 0, n)
	for _, t := range terms {
		out = flattenOr(t, out)
	}
	return out
}

// sets merges the equality tests of the same value among terms into one
// set test at the place of the first, and returns their disjunction.
func sets(terms []pred) pred {
	// Each entry of order is a set or a term.
	type entry struct {
		s *set
		p pred
	}
	var ebuf [16]entry
	order := ebuf[:0]
	var found []*set // found through index, by the value's code
	var index hashIndex
	for _, t := range terms {
		q, ok := jeqLeaf(t)
		if !ok {
			order = append(order, entry{p: t})
			continue
		}
		// (A relation's tests make sets of their own: block.rel.)
		h := stmtsHash(q.prep)
		if q.rel {
			h = ^h
		}
		var s *set
		if i := index.find(h, func(i int) bool { return found[i].rel == q.rel && slices.Equal(found[i].prep, q.prep) }); i >= 0 {
			s = found[i]
		} else {
			s = &set{prep: q.prep, rel: q.rel}
			found = append(found, s)
			index.add(h)
			order = append(order, entry{s: s})
		}
		s.add(q.k)
	}
	out := pred(pFalse)
	for _, e := range order {
		if e.s != nil {
			t := setTest(e.s.prep, e.s.vals, e.s.repeats)
			if e.s.rel {
				t = markRel(t)
			}
			out = or(out, t)
		} else {
			out = or(out, e.p)
		}
	}
	return out
}

// set is the constants one value is compared with, in order of first
// appearance. Past setLeafMax of them, add stops looking for repeats:
// a large set is tested in sorted order (intervals drops the repeats),
// and only one with few distinct values needs them dropped in order
// (values).
type set struct {
	prep    []stmt
	vals    []uint32
	repeats bool // vals may hold a value more than once
	rel     bool // the values a relation compares with (block.rel)
}

func (s *set) add(v uint32) {
	if !s.repeats && contains(s.vals, v) {
		return
	}
	s.vals = append(s.vals, v)
	s.repeats = s.repeats || len(s.vals) > setLeafMax
}

// setTest is "the value prep computes is one of vals" (see set), vals in
// order of first appearance, maybe repeated. Runs of consecutive values
// (rangeMin or more) are tested as ranges, with one jge and one jgt,
// wherever they appear.
func setTest(prep []stmt, vals []uint32, repeats bool) pred {
	var ivs []interval
	if repeats {
		ivs = intervals(vals)
		if distinct(ivs) >= setTreeMin {
			return pSet{prep, ivs, false}
		}
		vals = dedup(vals)
	}
	if len(vals) < setTreeMin && !hasRun(vals) {
		out := pred(pFalse)
		for _, v := range vals {
			out = or(out, cmp(prep, cmpEQ, v))
		}
		return out
	}
	if ivs == nil {
		ivs = intervals(vals)
	}
	if len(vals) >= setTreeMin {
		return pSet{prep, ivs, false}
	}
	// In the order the values came, each run where its first value was.
	out := pred(pFalse)
	tested := make([]bool, len(ivs))
	for _, v := range vals {
		i := sort.Search(len(ivs), func(i int) bool { return ivs[i].hi >= v })
		switch iv := ivs[i]; {
		case iv.hi-iv.lo+1 < rangeMin:
			out = or(out, cmp(prep, cmpEQ, v))
		case !tested[i]:
			tested[i] = true
			out = or(out, rangeTest(prep, iv.lo, iv.hi))
		}
	}
	return out
}

// distinct is how many values the runs ivs hold, up to setTreeMin.
func distinct(ivs []interval) int {
	n := 0
	for _, iv := range ivs {
		if n += int(min(iv.hi-iv.lo, setTreeMin)) + 1; n >= setTreeMin {
			return setTreeMin
		}
	}
	return n
}

// dedup returns vals without repeats, in order of first appearance: for
// a set of fewer than setTreeMin distinct values.
func dedup(vals []uint32) []uint32 {
	out := make([]uint32, 0, setTreeMin)
	for _, v := range vals {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// lowerSet lowers a set test: a balanced tree of jgt over the set's
// runs, with leaves of at most setLeafMax runs, each a jeq per value or,
// for a long run, a jge and a jgt. It makes the blocks that the
// equivalent tree of preds (pIf over disjunctions of tests) would, in
// the same order, without building that tree.
func (g *graph) lowerSet(prep []stmt, ivs []interval, rel bool, t, f *block) *block {
	if len(ivs) > setLeafMax {
		m := len(ivs) / 2
		right := g.lowerSet(prep, ivs[m:], rel, t, f)
		left := g.lowerSet(prep, ivs[:m], rel, t, f)
		return g.relJump(prep, clsJMP|jmpJGT|srcK, ivs[m-1].hi, rel, right, left)
	}
	b := f
	for i := len(ivs) - 1; i >= 0; i-- {
		iv := ivs[i]
		if iv.hi-iv.lo+1 >= rangeMin {
			le := g.relJump(prep, clsJMP|jmpJGT|srcK, iv.hi, rel, b, t)
			b = g.relJump(prep, clsJMP|jmpJGE|srcK, iv.lo, rel, le, b)
			if !rel {
				le.mark, b.mark = markSet, markSet
			}
			continue
		}
		for v := iv.hi; ; v-- {
			b = g.relJump(prep, clsJMP|jmpJEQ|srcK, v, rel, t, b)
			if v == iv.lo {
				break
			}
		}
	}
	return b
}

// relJump is newJump for a test that is a relation's when rel is set.
func (g *graph) relJump(prep []stmt, jop uint16, k uint32, rel bool, t, f *block) *block {
	b := g.newJump(prep, jop, k, t, f)
	b.rel = rel
	return b
}

// rangeMin is the shortest run of consecutive values tested as a range:
// two tests instead of three or more.
const rangeMin = 3

// An interval is a run of consecutive values of a set.
type interval struct{ lo, hi uint32 }

// intervals returns the set's values as sorted, maximal runs.
func intervals(vals []uint32) []interval {
	sorted := sortedCopy(vals)
	var out []interval
	for _, v := range sorted {
		if n := len(out); n > 0 && (out[n-1].hi == v || out[n-1].hi+1 == v && v != 0) {
			out[n-1].hi = v
			continue
		}
		out = append(out, interval{lo: v, hi: v})
	}
	return out
}

// sortedCopy returns vals sorted, in a new slice: by a radix sort, a
// byte at a time from the lowest (bytes all values share are skipped),
// for the large sets of long host lists, where it is a few times faster
// than a comparison sort.
func sortedCopy(vals []uint32) []uint32 {
	out := slices.Clone(vals)
	if len(out) < 256 {
		slices.Sort(out)
		return out
	}
	tmp := make([]uint32, len(out))
	for shift := uint(0); shift < 32; shift += 8 {
		var count [256]int
		for _, v := range out {
			count[v>>shift&0xff]++
		}
		if count[out[0]>>shift&0xff] == len(out) {
			continue // one byte value: already in order
		}
		at := 0
		for i, c := range count {
			count[i] = at
			at += c
		}
		for _, v := range out {
			b := v >> shift & 0xff
			tmp[count[b]] = v
			count[b]++
		}
		out, tmp = tmp, out
	}
	return out
}

// rangeTest is lo <= value <= hi.
func rangeTest(prep []stmt, lo, hi uint32) pred {
	return and(cmp(prep, cmpGE, lo), cmp(prep, cmpLE, hi))
}

// hasRun reports whether ks, fewer than setTreeMin distinct values (a
// small set), holds rangeMin or more consecutive ones.
func hasRun(ks []uint32) bool {
	if len(ks) < rangeMin {
		return false
	}
	var buf [setTreeMin]uint32
	sorted := append(buf[:0], ks...)
	slices.Sort(sorted)
	n := 1
	for i := 1; i < len(sorted); i++ {
		if sorted[i] != sorted[i-1]+1 || sorted[i] == 0 {
			n = 1
			continue
		}
		if n++; n >= rangeMin {
			return true
		}
	}
	return false
}

// predHash hashes a pred made of tests; predEqual compares two.
func predHash(p pred) uint64 {
	const prime = 1099511628211
	switch q := p.(type) {
	case *pAnd:
		return (predHash(q.a)*prime ^ predHash(q.b) ^ 1) * prime
	case *pOr:
		return (predHash(q.a)*prime ^ predHash(q.b) ^ 2) * prime
	case *pNot:
		return (predHash(q.x) ^ 3) * prime
	case pConst:
		if q {
			return 5
		}
		return 7
	case *pTest:
		h := stmtsHash(q.prep)
		if q.rel {
			h = ^h
		}
		h = (h ^ uint64(q.jop)) * prime
		return (h ^ uint64(q.k)) * prime
	}
	return 11
}

func predEqual(a, b pred) bool {
	switch x := a.(type) {
	case *pAnd:
		y, ok := b.(*pAnd)
		return ok && predEqual(x.a, y.a) && predEqual(x.b, y.b)
	case *pOr:
		y, ok := b.(*pOr)
		return ok && predEqual(x.a, y.a) && predEqual(x.b, y.b)
	case *pNot:
		y, ok := b.(*pNot)
		return ok && predEqual(x.x, y.x)
	case pConst:
		y, ok := b.(pConst)
		return ok && x == y
	case *pTest:
		y, ok := b.(*pTest)
		return ok && x.jop == y.jop && x.k == y.k && x.rel == y.rel && slices.Equal(x.prep, y.prep)
	}
	return false
}

// stmtsHash hashes straight-line code (FNV-1a over opcodes and constants).
func stmtsHash(code []stmt) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range code {
		h = (h ^ uint64(s.op)) * 1099511628211
		h = (h ^ uint64(s.k)) * 1099511628211
	}
	return h
}
