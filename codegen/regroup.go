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
	case pAnd:
		return and(regroup(q.a), regroup(q.b))
	case pNot:
		return not(regroup(q.x))
	case pOr:
		terms := flattenOr(p, nil)
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

func flattenOr(p pred, out []pred) []pred {
	if q, ok := p.(pOr); ok {
		return flattenOr(q.b, flattenOr(q.a, out))
	}
	return append(out, p)
}

func flattenAnd(p pred, out []pred) []pred {
	if q, ok := p.(pAnd); ok {
		return flattenAnd(q.b, flattenAnd(q.a, out))
	}
	return append(out, p)
}

// movable reports whether p is built only of self-contained tests.
func movable(p pred) bool {
	switch q := p.(type) {
	case pAnd:
		return movable(q.a) && movable(q.b)
	case pOr:
		return movable(q.a) && movable(q.b)
	case pNot:
		return movable(q.x)
	case pConst:
		return true
	case pTest:
		return selfContained(q.prep)
	}
	return false
}

// regroupOr factors the terms of a disjunction by their first conjunct,
// in order of first appearance, then turns equality tests of one value
// into set tests.
func regroupOr(terms []pred) pred {
	type group struct {
		leaf  bool // a lone test, which joins the set tests below
		head  pred
		rests []pred
	}
	var order []*group
	var groups map[uint64][]*group // by hash, for long disjunctions only
	if len(terms) > 16 {
		groups = map[uint64][]*group{}
	}
	find := func(leaf bool, head pred) *group {
		var h uint64
		candidates := order
		if groups != nil {
			h = predHash(head)
			candidates = groups[h]
		}
		for _, g := range candidates {
			if g.leaf == leaf && predEqual(g.head, head) {
				return g
			}
		}
		g := &group{leaf: leaf, head: head}
		if groups != nil {
			groups[h] = append(groups[h], g)
		}
		order = append(order, g)
		return g
	}
	for _, t := range terms {
		cs := flattenAnd(t, nil)
		if len(cs) < 2 {
			find(true, t)
			continue
		}
		g := find(false, cs[0])
		g.rests = append(g.rests, and(cs[1:]...))
	}
	var out []pred
	for _, g := range order {
		if g.leaf {
			out = append(out, g.head)
			continue
		}
		out = append(out, and(g.head, regroupOr(expandOr(g.rests))))
	}
	return sets(out)
}

// expandOr flattens the disjunctions inside terms.
func expandOr(terms []pred) []pred {
	var out []pred
	for _, t := range terms {
		out = flattenOr(t, out)
	}
	return out
}

// sets merges the equality tests of the same value among terms into one
// set test at the place of the first, and returns their disjunction.
func sets(terms []pred) pred {
	byPrep := map[uint64][]*set{}
	var order []any // *set or pred
	for _, t := range terms {
		if q, ok := t.(pTest); ok && q.jop == clsJMP|jmpJEQ|srcK {
			h := stmtsHash(q.prep)
			var s *set
			for _, c := range byPrep[h] {
				if slices.Equal(c.prep, q.prep) {
					s = c
					break
				}
			}
			if s == nil {
				s = &set{prep: q.prep}
				byPrep[h] = append(byPrep[h], s)
				order = append(order, s)
			}
			s.add(q.k)
			continue
		}
		order = append(order, t)
	}
	out := pred(pFalse)
	for _, o := range order {
		switch o := o.(type) {
		case *set:
			out = or(out, setTest(o.prep, o.vals))
		case pred:
			out = or(out, o)
		}
	}
	return out
}

// set is the constants one value is compared with, in order of first
// appearance; seen indexes them once there are many.
type set struct {
	prep []stmt
	vals []uint32
	seen map[uint32]bool
}

func (s *set) add(v uint32) {
	if s.seen == nil {
		if contains(s.vals, v) {
			return
		}
		s.vals = append(s.vals, v)
		if len(s.vals) > 16 {
			s.seen = make(map[uint32]bool, 2*len(s.vals))
			for _, x := range s.vals {
				s.seen[x] = true
			}
		}
		return
	}
	if !s.seen[v] {
		s.seen[v] = true
		s.vals = append(s.vals, v)
	}
}

// setTest is "the value prep computes is one of vals".
func setTest(prep []stmt, vals []uint32) pred {
	if len(vals) < setTreeMin {
		out := pred(pFalse)
		for _, v := range vals {
			out = or(out, cmp(prep, cmpEQ, v))
		}
		return out
	}
	sorted := append([]uint32(nil), vals...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var tree func(s []uint32) pred
	tree = func(s []uint32) pred {
		if len(s) <= setLeafMax {
			out := pred(pFalse)
			for _, v := range s {
				out = or(out, cmp(prep, cmpEQ, v))
			}
			return out
		}
		m := len(s) / 2
		return pIf{cmp(prep, cmpGT, s[m-1]), tree(s[m:]), tree(s[:m])}
	}
	return tree(sorted)
}

// predHash hashes a pred made of tests; predEqual compares two.
func predHash(p pred) uint64 {
	const prime = 1099511628211
	switch q := p.(type) {
	case pAnd:
		return (predHash(q.a)*prime ^ predHash(q.b) ^ 1) * prime
	case pOr:
		return (predHash(q.a)*prime ^ predHash(q.b) ^ 2) * prime
	case pNot:
		return (predHash(q.x) ^ 3) * prime
	case pConst:
		if q {
			return 5
		}
		return 7
	case pTest:
		h := stmtsHash(q.prep)
		h = (h ^ uint64(q.jop)) * prime
		return (h ^ uint64(q.k)) * prime
	}
	return 11
}

func predEqual(a, b pred) bool {
	switch x := a.(type) {
	case pAnd:
		y, ok := b.(pAnd)
		return ok && predEqual(x.a, y.a) && predEqual(x.b, y.b)
	case pOr:
		y, ok := b.(pOr)
		return ok && predEqual(x.a, y.a) && predEqual(x.b, y.b)
	case pNot:
		y, ok := b.(pNot)
		return ok && predEqual(x.x, y.x)
	case pConst:
		y, ok := b.(pConst)
		return ok && x == y
	case pTest:
		y, ok := b.(pTest)
		return ok && x.jop == y.jop && x.k == y.k && slices.Equal(x.prep, y.prep)
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
