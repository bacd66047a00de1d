package codegen

import (
	"sort"
	"strconv"
	"strings"
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
		head  pred
		rests []pred
		whole bool // a term was the head alone: the group is just the head
	}
	var order []string
	groups := map[string]*group{}
	for _, t := range terms {
		cs := flattenAnd(t, nil)
		if len(cs) < 2 {
			// A lone test: it joins the set tests below, not a group.
			k := "leaf:" + predKey(t)
			if _, ok := groups[k]; !ok {
				order = append(order, k)
				groups[k] = &group{head: t, whole: true}
			}
			continue
		}
		k := predKey(cs[0])
		g, ok := groups[k]
		if !ok {
			g = &group{head: cs[0]}
			groups[k] = g
			order = append(order, k)
		}
		g.rests = append(g.rests, and(cs[1:]...))
	}
	var out []pred
	for _, k := range order {
		g := groups[k]
		if g.whole || len(g.rests) == 0 {
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
	type set struct {
		prep []stmt
		vals []uint32
		seen map[uint32]bool
	}
	byPrep := map[string]*set{}
	var order []any // *set or pred
	for _, t := range terms {
		if q, ok := t.(pTest); ok && q.jop == clsJMP|jmpJEQ|srcK {
			k := stmtsKey(q.prep)
			s, ok := byPrep[k]
			if !ok {
				s = &set{prep: q.prep, seen: map[uint32]bool{}}
				byPrep[k] = s
				order = append(order, s)
			}
			if !s.seen[q.k] {
				s.seen[q.k] = true
				s.vals = append(s.vals, q.k)
			}
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

// predKey is a structural key of a pred made of tests.
func predKey(p pred) string {
	var sb strings.Builder
	var walk func(p pred)
	walk = func(p pred) {
		switch q := p.(type) {
		case pAnd:
			sb.WriteString("&(")
			walk(q.a)
			sb.WriteByte(',')
			walk(q.b)
			sb.WriteByte(')')
		case pOr:
			sb.WriteString("|(")
			walk(q.a)
			sb.WriteByte(',')
			walk(q.b)
			sb.WriteByte(')')
		case pNot:
			sb.WriteString("!(")
			walk(q.x)
			sb.WriteByte(')')
		case pConst:
			sb.WriteString(strconv.FormatBool(bool(q)))
		case pTest:
			sb.WriteString(stmtsKey(q.prep))
			sb.WriteString(strconv.FormatUint(uint64(q.jop), 16) + "#" + strconv.FormatUint(uint64(q.k), 16))
		default:
			sb.WriteString("?")
		}
	}
	walk(p)
	return sb.String()
}

func stmtsKey(code []stmt) string {
	var sb strings.Builder
	for _, s := range code {
		sb.WriteString(strconv.FormatUint(uint64(s.op), 16) + ":" + strconv.FormatUint(uint64(s.k), 16) + ";")
	}
	return sb.String()
}
