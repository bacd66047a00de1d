package codegen

import (
	"slices"
)

// The optimizer works on the block graph, which is acyclic. Its passes:
//
//   - jump threading: a test whose outcome is known on the edge that
//     reaches it (because the same value was tested before on every path
//     to that edge) is bypassed, and the edge goes straight to the branch
//     the test would take. The value was loaded before, so bypassing its
//     load cannot change whether the packet is too short;
//   - tests with both branches to the same block are removed (libpcap's
//     optimizer does the same, loads included);
//   - identical blocks are merged;
//   - loads whose value is already in A (or X) on every path in are
//     dropped.
//
// Every pass is a bounded walk over the blocks; none can loop.

// maxNeq and maxTests bound how many "not equal to" facts and other test
// outcomes are kept per value, so that long chains and big set trees stay
// linear to optimize.
const (
	maxNeq   = 16
	maxTests = 8
)

// fact is what is known of one value on an edge: that it equals eq, or
// that it differs from each value in neq.
type fact struct {
	isEq  bool
	eq    uint32
	neq   []uint32
	tests []testOutcome // outcomes of other tests (jgt, jge, jset) on the value
}

// testOutcome is the result of one test of a value.
type testOutcome struct {
	op    uint16 // jmpJGT, jmpJGE or jmpJSET
	k     uint32
	taken bool
}

// facts is what is known on an edge: for each value (the key of the code
// that computes it), a fact. It is a persistent list, newest first, so
// that an edge adds a fact without copying what it inherits; get finds
// the newest fact of a key.
type facts struct {
	head *factNode
	n    int
}

type factNode struct {
	key  int
	f    fact
	next *factNode
}

// maxFacts bounds a list before it is compacted to one node per key.
const maxFacts = 64

func (fs facts) get(k int) (fact, bool) {
	for n := fs.head; n != nil; n = n.next {
		if n.key == k {
			return n.f, true
		}
	}
	return fact{}, false
}

// with returns fs with k's fact set to f.
func (fs facts) with(k int, f fact) facts {
	out := facts{&factNode{k, f, fs.head}, fs.n + 1}
	if out.n > maxFacts {
		out = out.compact()
	}
	return out
}

// each calls fn with the newest fact of each key.
func (fs facts) each(fn func(k int, f fact)) {
	var seen []int
	for n := fs.head; n != nil; n = n.next {
		dup := false
		for _, k := range seen {
			if k == n.key {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, n.key)
			fn(n.key, n.f)
		}
	}
}

func (fs facts) compact() facts {
	var out facts
	fs.each(func(k int, f fact) { out = facts{&factNode{k, f, out.head}, out.n + 1} })
	return out
}

// meet keeps what both a and b know.
func meet(a, b facts) facts {
	out := facts{}
	set := func(k int, f fact) { out = facts{&factNode{k, f, out.head}, out.n + 1} }
	a.each(func(k int, fa fact) {
		fb, ok := b.get(k)
		if !ok {
			return
		}
		var common []testOutcome
		for _, x := range fa.tests {
			for _, y := range fb.tests {
				if x == y {
					common = append(common, x)
					break
				}
			}
		}
		if len(common) > 0 {
			set(k, fact{tests: common})
		}
		switch {
		case fa.isEq && fb.isEq && fa.eq == fb.eq:
			set(k, fact{isEq: true, eq: fa.eq, tests: common})
		case !fa.isEq && !fb.isEq:
			var n []uint32
			for _, x := range fa.neq {
				for _, y := range fb.neq {
					if x == y {
						n = append(n, x)
						break
					}
				}
			}
			if len(n) > 0 {
				set(k, fact{neq: n, tests: common})
			}
		case fa.isEq && !fb.isEq && !contains(fb.neq, fa.eq):
			// a: v == e; b: v not in set. Both imply v != x for x in the
			// set other than e.
			var n []uint32
			for _, x := range fb.neq {
				if x != fa.eq {
					n = append(n, x)
				}
			}
			if len(n) > 0 {
				set(k, fact{neq: n, tests: common})
			}
		case !fa.isEq && fb.isEq && !contains(fa.neq, fb.eq):
			var n []uint32
			for _, x := range fa.neq {
				if x != fb.eq {
					n = append(n, x)
				}
			}
			if len(n) > 0 {
				set(k, fact{neq: n, tests: common})
			}
		}
	})
	return out
}

func contains(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// optimizer holds the state of one optimization.
type optimizer struct {
	keys  map[uint64][]internedCode // value keys, interned by hash
	nkeys int
	key   map[*block]int // each pure test block's value key (-1: not pure)
}

// optimize returns the entry of an equivalent, smaller graph.
func optimize(entry *block) *block {
	o := &optimizer{keys: map[uint64][]internedCode{}, key: map[*block]int{}}
	entry = o.thread(entry)
	entry = o.collapse(entry)
	entry = mergeIdentical(entry)
	dropRedundantLoads(entry)
	// Without their reloads, blocks that test the value they are handed
	// may now be identical: merge again.
	return mergeIdentical(entry)
}

// internedCode is one interned value key: the code and its number.
type internedCode struct {
	code []stmt
	id   int
}

// valueKey returns the key of the value a test block computes before its
// jump, or -1 when the block is not a pure test: its code must read no
// register it did not set, store nothing, and compare A with a constant.
func (o *optimizer) valueKey(b *block) int {
	if k, ok := o.key[b]; ok {
		return k
	}
	k := -1
	if !b.ret && b.jop != clsJMP|jmpJA && b.jop&srcX == 0 && pure(b.stmts) {
		h := stmtsHash(b.stmts)
		for _, e := range o.keys[h] {
			if slices.Equal(e.code, b.stmts) {
				k = e.id
				break
			}
		}
		if k < 0 {
			k = o.nkeys
			o.nkeys++
			o.keys[h] = append(o.keys[h], internedCode{b.stmts, k})
		}
	}
	o.key[b] = k
	return k
}

// pure reports whether code is self-contained and stores nothing: a test
// made of it can be skipped without losing anything but its outcome.
func pure(code []stmt) bool {
	for _, s := range code {
		if s.op&0x07 == clsST || s.op&0x07 == clsSTX {
			return false
		}
	}
	return selfContained(code)
}

// selfContained reports whether code defines A before reading it, reads
// X and scratch cells only after setting them (in code), and ends with A
// set: it needs nothing from the code before it.
func selfContained(code []stmt) bool {
	if len(code) == 0 {
		return false
	}
	var a, x bool
	var mem uint16
	for _, s := range code {
		switch s.op & 0x07 {
		case clsLD:
			if s.op&0xe0 == modeIND && !x || s.op&0xe0 == modeMEM && mem&(1<<(s.k&15)) == 0 {
				return false
			}
			a = true
		case clsLDX:
			if s.op&0xe0 == modeMEM && mem&(1<<(s.k&15)) == 0 {
				return false
			}
			x = true
		case clsST:
			if !a {
				return false
			}
			mem |= 1 << (s.k & 15)
		case clsSTX:
			if !x {
				return false
			}
			mem |= 1 << (s.k & 15)
		case clsALU:
			if !a || s.op&srcX != 0 && !x {
				return false
			}
		case clsMISC:
			if s.op&0xf8 == miscTXA {
				if !x {
					return false
				}
				a = true
			} else {
				if !a {
					return false
				}
				x = true
			}
		}
	}
	return a
}

// outcome evaluates the test of b from what f knows: known is false when
// it cannot tell.
func outcome(b *block, f fact) (taken, known bool) {
	op := b.jop & 0xf0
	if f.isEq {
		v := f.eq
		switch op {
		case jmpJEQ:
			return v == b.k, true
		case jmpJGT:
			return v > b.k, true
		case jmpJGE:
			return v >= b.k, true
		case jmpJSET:
			return v&b.k != 0, true
		}
		return false, false
	}
	if op == jmpJEQ && contains(f.neq, b.k) {
		return false, true
	}
	for _, t := range f.tests {
		if t.op == op && t.k == b.k {
			return t.taken, true
		}
	}
	return false, false
}

// edgeFacts returns what is known after b's test on its true or false edge.
func (o *optimizer) edgeFacts(in facts, b *block, taken bool) facts {
	k := o.valueKey(b)
	if k < 0 {
		return in
	}
	cur, _ := in.get(k)
	if op := b.jop & 0xf0; op != jmpJEQ {
		if len(cur.tests) >= maxTests {
			return in
		}
		cur.tests = append(append([]testOutcome(nil), cur.tests...), testOutcome{op, b.k, taken})
		return in.with(k, cur)
	}
	if taken {
		return in.with(k, fact{isEq: true, eq: b.k, tests: cur.tests})
	}
	if cur.isEq || len(cur.neq) >= maxNeq || contains(cur.neq, b.k) {
		return in
	}
	cur.neq = append(append([]uint32(nil), cur.neq...), b.k)
	return in.with(k, cur)
}

// thread performs jump threading over the graph from entry, in
// topological order, and returns the new entry.
func (o *optimizer) thread(entry *block) *block {
	order := layoutOrder(entry)
	in := map[*block]facts{entry: {}}
	for _, b := range order {
		f, ok := in[b]
		if !ok || b.ret || b.jop == clsJMP|jmpJA {
			// Unreached after threading, a return, or an unconditional
			// block (whose code may change anything): facts stop here.
			if !b.ret && b.jop == clsJMP|jmpJA {
				addIn(in, b.jt, facts{})
			}
			continue
		}
		for _, taken := range []bool{true, false} {
			ef := o.edgeFacts(f, b, taken)
			t := b.jf
			if taken {
				t = b.jt
			}
			t, ef = o.follow(t, ef)
			if taken {
				b.jt = t
			} else {
				b.jf = t
			}
			addIn(in, t, ef)
		}
	}
	return entry
}

// follow walks from t past every pure test whose outcome f decides (and
// every pure test whose branches meet), and returns where control really
// goes, with the facts there.
func (o *optimizer) follow(t *block, f facts) (*block, facts) {
	for steps := 0; steps < 1<<16; steps++ {
		if t.ret || t.jop == clsJMP|jmpJA {
			return t, f
		}
		k := o.valueKey(t)
		if k < 0 || !selfContainedTarget(t.jt) || !selfContainedTarget(t.jf) {
			return t, f
		}
		if t.jt == t.jf {
			t = t.jt
			continue
		}
		fk, ok := f.get(k)
		if !ok {
			return t, f
		}
		taken, known := outcome(t, fk)
		if !known {
			return t, f
		}
		f = o.edgeFacts(f, t, taken)
		if taken {
			t = t.jt
		} else {
			t = t.jf
		}
	}
	return t, f
}

// collapse removes the pure tests whose branches meet (threading makes
// them, after their predecessors were visited), from the returns up, and
// returns the entry.
func (o *optimizer) collapse(entry *block) *block {
	order := layoutOrder(entry)
	repl := map[*block]*block{}
	get := func(b *block) *block {
		if r, ok := repl[b]; ok {
			return r
		}
		return b
	}
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if b.ret {
			continue
		}
		b.jt, b.jf = get(b.jt), get(b.jf)
		if b.jop != clsJMP|jmpJA && b.jt == b.jf && o.valueKey(b) >= 0 && selfContainedTarget(b.jt) {
			repl[b] = b.jt
		}
	}
	return get(entry)
}

// selfContainedTarget reports whether b needs nothing from the registers
// its predecessor left: a return, or a block whose code sets what it uses.
func selfContainedTarget(b *block) bool {
	return b.ret || selfContained(b.stmts)
}

func addIn(in map[*block]facts, b *block, f facts) {
	if old, ok := in[b]; ok {
		in[b] = meet(old, f)
		return
	}
	in[b] = f
}

// mergeIdentical merges blocks with the same code and the same
// successors, from the returns up, and returns the entry.
func mergeIdentical(entry *block) *block {
	order := layoutOrder(entry)
	canon := map[blockSig][]*block{}
	repl := map[*block]*block{}
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if !b.ret {
			if r, ok := repl[b.jt]; ok {
				b.jt = r
			}
			if r, ok := repl[b.jf]; ok {
				b.jf = r
			}
		}
		sig := signature(b)
		same := false
		for _, c := range canon[sig] {
			if c != b && slices.Equal(c.stmts, b.stmts) {
				repl[b] = c
				same = true
				break
			}
		}
		if !same {
			canon[sig] = append(canon[sig], b)
		}
	}
	if r, ok := repl[entry]; ok {
		return r
	}
	return entry
}

// blockSig identifies a block up to its statements, which are only
// hashed: blocks with the same signature are compared in full.
type blockSig struct {
	stmts     uint64
	n         int
	jop       uint16
	k         uint32
	jt, jf    *block
	ret, retA bool
	retK      uint32
}

func signature(b *block) blockSig {
	sig := blockSig{stmts: stmtsHash(b.stmts), n: len(b.stmts), ret: b.ret, retA: b.retA, retK: b.retK}
	if !b.ret {
		sig.jop, sig.k, sig.jt, sig.jf = b.jop, b.k, b.jt, b.jf
	}
	return sig
}

// dropRedundantLoads removes, from a test block, the loads of a value
// that every predecessor leaves in A (and an X that every predecessor
// leaves in X), as when "ldh [12]" is tested against 0x86dd and then
// 0x800.
func dropRedundantLoads(entry *block) {
	order := layoutOrder(entry)
	preds := map[*block][]*block{}
	for _, b := range order {
		if b.ret {
			continue
		}
		preds[b.jt] = append(preds[b.jt], b)
		if b.jf != b.jt {
			preds[b.jf] = append(preds[b.jf], b)
		}
	}
	// outA/outX: the value number of what a block leaves in A / X.
	vn := valueNumbers{}
	outA := map[*block]vnum{}
	outX := map[*block]vnum{}
	for _, b := range order {
		if b.ret {
			continue
		}
		var inA, inX vnum
		ps := preds[b]
		if b != entry && len(ps) > 0 {
			inA, inX = outA[ps[0]], outX[ps[0]]
			for _, p := range ps[1:] {
				if outA[p] != inA {
					inA = 0
				}
				if outX[p] != inX {
					inX = 0
				}
			}
		}
		a, x := vn.trackRegs(b, inA, inX)
		outA[b], outX[b] = a, x
	}
}

// A vnum numbers a value a register can hold: equal numbers, equal
// values. 0 is unknown.
type vnum int32

// valueExpr is how a value is computed: a load (of the packet, a constant
// or the length) or an operation on other values.
type valueExpr struct {
	op   uint16
	k    uint32
	a, x vnum
}

// valueNumbers interns valueExprs.
type valueNumbers map[valueExpr]vnum

func (vn valueNumbers) of(e valueExpr) vnum {
	if n, ok := vn[e]; ok {
		return n
	}
	n := vnum(len(vn) + 1)
	vn[e] = n
	return n
}

// trackRegs drops from b the code that recomputes what A and X already
// hold (inA, inX), and returns what b leaves in A and X. A whole test
// prep that computes the value already in A goes; otherwise single loads
// that reload what their register holds go. Reloading the same bytes
// cannot fail where the first load succeeded, so no packet's fate
// changes.
func (vn valueNumbers) trackRegs(b *block, inA, inX vnum) (vnum, vnum) {
	if b.jop == clsJMP|jmpJA {
		// Unconditional blocks come from code that carries registers on
		// purpose; leave them alone.
		return 0, 0
	}
	if selfContained(b.stmts) {
		var a, x vnum
		wroteX := false
		for _, s := range b.stmts {
			a, x = vn.step(s, a, x)
			if s.op&0x07 == clsLDX || s.op == clsMISC|miscTAX {
				wroteX = true
			}
		}
		if a != 0 && a == inA && (!wroteX || x == inX) {
			b.stmts = nil
			return inA, inX
		}
	}
	a, x := inA, inX
	kept := b.stmts[:0]
	for _, s := range b.stmts {
		na, nx := vn.step(s, a, x)
		isLoad := s.op&0x07 == clsLD || s.op&0x07 == clsLDX
		if isLoad && na == a && nx == x && (a != 0 || s.op&0x07 == clsLDX) && (x != 0 || s.op&0x07 == clsLD) {
			continue // reloads what the register holds
		}
		kept = append(kept, s)
		a, x = na, nx
	}
	b.stmts = kept
	return a, x
}

// step returns the value numbers of A and X after s, from those before
// (0 is unknown; a store leaves both alone).
func (vn valueNumbers) step(s stmt, a, x vnum) (vnum, vnum) {
	switch s.op & 0x07 {
	case clsLD:
		switch s.op & 0xe0 {
		case modeABS, modeIMM, modeLEN:
			return vn.of(valueExpr{op: s.op, k: s.k}), x
		case modeIND:
			if x == 0 {
				return 0, x
			}
			return vn.of(valueExpr{op: s.op, k: s.k, x: x}), x
		}
		return 0, x
	case clsLDX:
		switch s.op & 0xe0 {
		case modeMSH, modeIMM, modeLEN:
			return a, vn.of(valueExpr{op: s.op, k: s.k})
		}
		return a, 0
	case clsALU:
		if a == 0 || s.op&srcX != 0 && x == 0 {
			return 0, x
		}
		e := valueExpr{op: s.op, k: s.k, a: a}
		if s.op&srcX != 0 {
			e.k, e.x = 0, x
		}
		return vn.of(e), x
	case clsMISC:
		if s.op&0xf8 == miscTXA {
			return x, x
		}
		return a, a
	}
	return a, x
}
