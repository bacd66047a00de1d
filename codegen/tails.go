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
	ints := zeroed(&o.scr.ints, 4*n)
	preds, first, chain, next := ints[:n], ints[n:2*n], ints[2*n:3*n], ints[3*n:3*n]
	tails := o.scr.kept[:0]
	defer func() { o.scr.kept = tails[:0] }()
	for _, b := range order {
		if b.ret {
			continue
		}
		preds[b.jt.id]++
		if b.jf != b.jt {
			preds[b.jf.id]++
		}
	}
	isTest := func(b *block) bool {
		return !b.ret && b.jop == clsJMP|jmpJEQ|srcK && b.jt != b.jf
	}
	// The code-less tests that a tail can be made of, by the block their
	// false branch goes to: first[id] is the first one's index in tails,
	// +1, and next[i] the next one's, +1.
	for _, b := range order {
		if isTest(b) && len(b.stmts) == 0 {
			tails = append(tails, b)
			next = append(next, first[b.jf.id])
			first[b.jf.id] = len(tails)
		}
	}
	if len(tails) < 2 {
		return false
	}
	// chain[id] is the number of the chain a link belongs to, from 1;
	// frozen marks the blocks that a reordered chain ends in, which must
	// stay as they are.
	frozen := zeroed(&o.scr.bools, n)
	var links []*block
	type pair struct {
		k  uint32
		jt *block
	}
	var pairs, moved []pair
	changed := false
	id := 0
	for _, h := range order {
		if !isTest(h) || chain[h.id] != 0 {
			continue
		}
		links = links[:0]
		for l := h.jf; isTest(l) && len(l.stmts) == 0 && preds[l.id] == 1 && chain[l.id] == 0; l = l.jf {
			links = append(links, l)
		}
		if len(links) < 2 {
			continue
		}
		id++
		pairs = pairs[:0]
		skip := false
		for _, l := range links {
			chain[l.id] = id
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
		at := links[len(links)-1].jf
	walk:
		for {
			for i := first[at.id]; i != 0; i = next[i-1] {
				t := tails[i-1]
				if chain[t.id] == id {
					continue
				}
				for j, p := range pairs {
					if p.jt != nil && p.k == t.k && p.jt == t.jt {
						moved = append(moved, p)
						pairs[j].jt = nil // used
						frozen[t.id] = true
						at = t
						continue walk
					}
				}
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
				links[i].k, links[i].jt = p.k, p.jt
				i++
			}
		}
		for j := len(moved) - 1; j >= 0; j-- {
			links[i].k, links[i].jt = moved[j].k, moved[j].jt
			i++
		}
		for _, l := range links {
			frozen[l.id] = true
		}
		changed = true
	}
	if changed {
		o.ord.stale = true
	}
	return changed
}
