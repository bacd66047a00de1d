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
//     optimizer does the same, loads included), and so are those that
//     compare with X or store, when nothing after reads what their code
//     leaves (dead code, which libpcap's optimizer also drops);
//   - identical blocks are merged;
//   - loads whose value is already in A (or X) on every path in are
//     dropped, and a test of such a value moves up its chain, in front
//     of a test of another value, where that leaves its code nothing to
//     do and every way out of the two but through both rejects (pullUp);
//   - the tests of equality chains are reordered so that a chain ends in
//     tests made elsewhere, which merging then shares (tails.go);
//   - a test whose branches meet after the last merges is left as its
//     code alone (dropMeetingJumps).
//
// The first round of threading decides only what libpcap's optimizer
// decides (a relation's value is not a protocol test's there:
// block.rel), and its verdict is what Compile refuses as "rejects all
// packets"; later rounds decide all that the facts tell, and a test
// whose branches meet only because of such a decision keeps its loads,
// which libpcap's program makes (keepsLoads). The entry's test keeps its
// code when it goes unless the branches meet at a return, in every round,
// as libpcap's first block does, where that block is the entry's
// (rootKeepsCode).
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
	in    []uint32      // when not nil (and not isEq): the value is one of these
	tests []testOutcome // outcomes of other tests (jgt, jge, jset) on the value
}

// testOutcome is the result of one test of a value.
type testOutcome struct {
	op    uint16 // jmpJGT, jmpJGE or jmpJSET
	k     uint32
	taken bool
	set   bool // the bound of a run of a set's values (markSet)
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

// with returns fs with k's fact set to f, in a node from a.
func (fs facts) with(k int, f fact, a *nodeArena) facts {
	out := facts{a.node(k, f, fs.head), fs.n + 1}
	if out.n > maxFacts {
		out = out.compact(a)
	}
	return out
}

// nodeArena is where the fact lists of one optimization are allocated,
// kept in the graph's scratch from one compilation to the next, so that
// threading allocates nothing per fact.
type nodeArena struct{ chunked[factNode] }

func (a *nodeArena) node(k int, f fact, next *factNode) *factNode {
	nd := a.alloc(64)
	*nd = factNode{k, f, next}
	return nd
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

func (fs facts) compact(a *nodeArena) facts {
	var out facts
	fs.each(func(k int, f fact) { out = facts{a.node(k, f, out.head), out.n + 1} })
	return out
}

// meet keeps what both a and b know.
// With sets false, two different values met make no fact (as in
// libpcap's optimizer, whose power the "rejects all packets" refusal
// must not exceed); *lost is then set.
func meet(a, b facts, sets bool, lost *bool, arena *nodeArena) facts {
	out := facts{}
	set := func(k int, f fact) { out = facts{arena.node(k, f, out.head), out.n + 1} }
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
		if v, ok := meetValue(fa, fb); ok {
			if v.in != nil && !sets {
				*lost = true
				return
			}
			v.tests = common
			set(k, v)
		}
	})
	return out
}

// meetValue is what both fa and fb say of the value itself (their
// tests aside): ok is false when that is nothing.
func meetValue(fa, fb fact) (fact, bool) {
	members := func(f fact) []uint32 {
		if f.isEq {
			return []uint32{f.eq}
		}
		return f.in
	}
	ma, mb := members(fa), members(fb)
	switch {
	case fa.isEq && fb.isEq && fa.eq == fb.eq:
		return fact{isEq: true, eq: fa.eq}, true
	case ma != nil && mb != nil:
		// One of a's values or one of b's.
		u := append([]uint32(nil), ma...)
		for _, x := range mb {
			if !contains(u, x) {
				u = append(u, x)
			}
		}
		if len(u) > maxNeq {
			return fact{}, false
		}
		return fact{in: u}, true
	case ma != nil || mb != nil:
		// One of some values, or none of others: none of the others
		// that are not among the values.
		m, neq := ma, fb.neq
		if m == nil {
			m, neq = mb, fa.neq
		}
		var n []uint32
		for _, x := range neq {
			if !contains(m, x) {
				n = append(n, x)
			}
		}
		return fact{neq: n}, len(n) > 0
	default:
		var n []uint32
		for _, x := range fa.neq {
			if contains(fb.neq, x) {
				n = append(n, x)
			}
		}
		return fact{neq: n}, len(n) > 0
	}
}

func contains(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// optimizer holds the state of one optimization: tables indexed by
// block id (the graph's blocks are numbered densely) and buffers that the
// passes reuse, so that a small program costs few allocations.
type optimizer struct {
	n int // the number of blocks in the graph
	// keyOf is each block's value key plus 2 (so keyNone is 1), or 0
	// while not computed yet.
	keyOf []int32
	// codes are the interned value codes, by key, found through codeIdx.
	codes [][]stmt
	kinds []uint8 // each one's kind: kindRel, kindX
	// live is what the graph's blocks read that earlier blocks leave
	// (made when first needed: optimize adds no blocks).
	live    *liveAfter
	g       *graph
	codeIdx *hashIndex
	// repeated says, for each value key, how often blocks test it
	// (onceTested, fewTests, manyTests).
	repeated []uint8
	scr      *scratch
	// repl is the block replacing each block, for the passes that merge
	// blocks (cleared by each).
	repl []*block
	ord  *orderBuf
	// sets lets threading know that a value is one of several (after
	// paths that tested it against different constants meet); lostSets
	// says that a threading without sets met such paths.
	sets, lostSets bool
	// full lets threading decide all that its facts tell (see outcome);
	// lostFull says that a threading without it left such a test.
	full, lostFull bool
	// keepAll keeps, from the first round on, the code of every test
	// that goes and can fail (keepsLoads): for a program libpcap does
	// not optimize, whose every load is made (compiler.asWritten).
	keepAll bool
	// in is what the last threading knew on the way into each block, by
	// id, for collapse, which follows it (optimize adds no blocks).
	in []facts
	// constFirst says that libpcap's first block is a constant's, not
	// the entry's (compiler.constFirst): see rootKeepsCode.
	constFirst bool
	// verdict says that the optimizer is libpcap's model, for the
	// refusal (verdict.go): collapse then drops only the tests whose
	// branches meet.
	verdict bool
}

const keyNone = -1

// optimize returns the entry of an equivalent, smaller graph.
func optimize(g *graph, entry *block, keepAll, constFirst bool) *block {
	if entry.ret {
		return entry // (an empty expression, or one that folded to a constant)
	}
	o := newOptimizer(g)
	o.keepAll, o.constFirst = keepAll, constFirst
	defer o.giveBack(g)
	entry = o.firstRound(entry)
	if isReject(entry) {
		return entry
	}
	// From here on, threading decides all that its facts tell, so that
	// the program is no longer than it needs to be.
	o.full = true
	if o.relKeys() {
		o.lostFull = true // what the first round did not decide of relations
	}
	if o.lostSets || o.lostFull {
		// Thread again, knowing all that the facts tell, and which
		// values a value can be.
		o.sets = true
		entry = o.mergeIdentical(o.threadAndCollapse(entry))
	}
	if keepAll {
		// (geneve's cells are the only ones code may store and never
		// read: other stores are read by the code they come with.)
		entry = o.dropDeadStores(entry)
	}
	entry, settled := o.settle(entry)
	if settled {
		// Settled tests may leave others decided on their new paths.
		entry = o.threadAndCollapse(entry)
	}
	if o.dropRedundantLoads(entry) || settled {
		// Without their reloads, or with tests settled, blocks may now be
		// identical: merge again.
		entry = o.mergeIdentical(entry)
	}
	if o.shareTails(entry) {
		entry = o.mergeIdentical(entry)
	}
	o.dropMeetingJumps(entry)
	return entry
}

// dropMeetingJumps turns the tests whose branches meet, which the last
// merges can leave (libpcap's programs have them too: "jeq #0x11 jt 8
// jf 8"), into their code alone: the program runs the same code and goes
// to the same place, mostly one instruction shorter (never longer: where
// the block cannot fall through, the jump stays, as a ja).
func (o *optimizer) dropMeetingJumps(entry *block) {
	for _, b := range o.ord.layout(entry) {
		if !b.ret && b.jop != clsJMP|jmpJA && b.jt == b.jf {
			b.jop, b.k = clsJMP|jmpJA, 0
		}
	}
}

// relKeys forgets the value keys of the first round, where relations
// had values of their own, if any had, and reports whether it did.
func (o *optimizer) relKeys() bool {
	// Only a relation's code that a protocol test has too makes a key
	// that merging changes ("ip[9] = 6 and udp"); without one, the keys
	// stay as they are, and there is nothing more to decide.
	shared := false
	for i, k := range o.kinds {
		if k&kindRel == 0 {
			continue
		}
		if o.lookup(o.codes[i], k&^kindRel) >= 0 {
			shared = true
			break
		}
	}
	if !shared {
		return false
	}
	o.forgetKeys()
	return true
}

// forgetKeys forgets every value key, to be made again when asked for.
func (o *optimizer) forgetKeys() {
	clear(o.keyOf)
	clear(o.codes)
	o.codes, o.kinds = o.codes[:0], o.kinds[:0]
	o.codeIdx.reset(0)
}

// dropDeadStores removes the stores into scratch cells that no block
// reads (geneve's cells when nothing after it looks at the inner packet),
// and the unconditional blocks that leaves without code. It returns the
// entry.
func (o *optimizer) dropDeadStores(entry *block) *block {
	order := o.ord.layout(entry)
	var read uint16
	for _, b := range order {
		for _, s := range b.stmts {
			if c := s.op & 0x07; (c == clsLD || c == clsLDX) && s.op&0xe0 == modeMEM {
				read |= 1 << (s.k & 15)
			}
		}
	}
	dead := func(s stmt) bool {
		c := s.op & 0x07
		return (c == clsST || c == clsSTX) && read&(1<<(s.k&15)) == 0
	}
	changed := false
	for _, b := range order {
		if !slices.ContainsFunc(b.stmts, dead) {
			continue
		}
		// (A copy: code may be shared between blocks, and read-only.)
		b.stmts = slices.DeleteFunc(slices.Clone(b.stmts), dead)
		changed = true
	}
	if !changed {
		return entry
	}
	o.live = nil
	o.forgetKeys() // (codes changed)
	return o.replaceUp(entry, func(b *block) *block {
		if !b.ret && b.jop == clsJMP|jmpJA && len(b.stmts) == 0 {
			return b.jt
		}
		return nil
	})
}

// firstRound is the optimizer's first round, the passes that libpcap's
// optimizer also makes, with its rules for deciding tests: after it, a
// graph that is the reject return is what libpcap refuses as "rejects
// all packets".
func (o *optimizer) firstRound(entry *block) *block {
	return o.mergeIdentical(o.threadAndCollapse(entry))
}

// compact is what Options.Compact adds to the optimization of the graph
// from entry: it shares transport tests between IPv6 and IPv4, merges
// what that leaves identical, and hoists the X loads it leaves alone in
// blocks of their own. It returns the entry and whether it changed
// anything.
func compact(g *graph, entry *block) (*block, bool) {
	shared := g.shareTransport(entry)
	if shared {
		// (The blocks shareTransport made are new: the tables are sized
		// for them.)
		o := newOptimizer(g)
		entry = o.mergeIdentical(entry)
		o.dropMeetingJumps(entry)
	}
	return entry, g.hoistX(entry) || shared
}

// newOptimizer makes the optimizer of g, its tables sized for g's blocks
// and taken from g's scratch. It is g's own (there is one at a time):
// the next call makes another in its place.
func newOptimizer(g *graph) *optimizer {
	n := len(g.blocks)
	o := &g.opt
	*o = optimizer{n: n, keyOf: zeroed(&g.scr.i32, n), repl: zeroed(&g.scr.ptrs, n), ord: g.walker(),
		codes: g.scr.codes[:0], kinds: g.scr.kinds[:0], codeIdx: &g.scr.codeIdx, scr: &g.scr, g: g}
	o.codeIdx.reset(0)
	return o
}

// giveBack returns the tables o grew to g's scratch.
func (o *optimizer) giveBack(g *graph) {
	g.scr.codes, g.scr.kinds = o.codes[:0], o.kinds[:0]
}

// threadAndCollapse threads jumps and collapses the tests it leaves with
// both branches together, when there can be any to thread.
func (o *optimizer) threadAndCollapse(entry *block) *block {
	if !o.threadable(entry) {
		return entry
	}
	return o.collapse(o.thread(entry))
}

// threadable reports whether threading and collapsing can change the
// graph: only a value tested twice, or a test whose branches meet, gives
// them anything to do. It marks the values tested more than once: facts
// about the others can never decide a test.
func (o *optimizer) threadable(entry *block) bool {
	order := o.ord.layout(entry)
	var countBuf [32]uint8
	count := countBuf[:0]
	meets := false
	for _, b := range order {
		if b.ret || b.jop == clsJMP|jmpJA {
			continue
		}
		if b.jt == b.jf {
			meets = true
		}
		k := o.valueKey(b)
		if k < 0 {
			continue
		}
		for len(count) <= k {
			count = append(count, 0)
		}
		if count[k] < 255 {
			count[k]++
		}
	}
	o.repeated = zeroed(&o.scr.u8, len(count))
	some := false
	for k, c := range count {
		switch {
		case c > maxNeqTested:
			o.repeated[k] = manyTests
			some = true
		case c > 1:
			o.repeated[k] = fewTests
			some = true
		}
	}
	return some || meets
}

// How often a value is tested, in optimizer.repeated.
const (
	onceTested = iota
	fewTests
	manyTests // more than maxNeqTested times
)

// maxNeqTested is how many tests of a value there may be for "differs
// from" facts to be kept about it. A value tested more often is a set
// (its tests, all different, are regrouped into chains and trees), where
// such facts decide nothing but cost a copy on every edge.
const maxNeqTested = 32

// valueKey returns the key of the value a test block computes before its
// jump, or -1 when the block is not a pure test: its code must read no
// register it did not set, store nothing, and compare A with a constant;
// or, for a comparison of A with X, set both and store only into cells
// that nothing reads before writing them, in a graph where no block
// reads a register it did not set. The key of such a comparison is that
// of its code and the comparison together (kindX): threading decides it
// only from the same comparison made before.
func (o *optimizer) valueKey(b *block) int {
	if k := o.keyOf[b.id]; k != 0 {
		return int(k) - 2
	}
	k := keyNone
	var kind uint8
	if b.rel && !o.full {
		// (In the first round, a relation's value is another: block.rel.)
		kind = kindRel
	}
	switch {
	case b.ret || b.jop == clsJMP|jmpJA:
	case b.jop&srcX == 0:
		if pure(b.stmts) {
			k = o.intern(b.stmts, kind)
		}
	case o.xPure(b):
		k = o.intern(b.stmts, kind|kindX)
	}
	o.keyOf[b.id] = int32(k + 2)
	return k
}

// Kinds of value keys.
const (
	kindRel = 1 << iota // a relation's, in the first round
	kindX               // a comparison of A with X
)

// xPure reports whether b, a comparison of A with X, can be skipped
// when its outcome is known (see valueKey).
func (o *optimizer) xPure(b *block) bool {
	if mem, regs := exposed(b); regs || mem != 0 {
		return false
	}
	live := o.liveness()
	return !live.regs && stored(b.stmts)&live.mem == 0
}

// intern returns the number of code of a kind, giving it the next one
// if it is new.
func (o *optimizer) intern(code []stmt, kind uint8) int {
	h := codeHash(code, kind)
	if k := o.codeIdx.find(h, func(i int) bool { return o.kinds[i] == kind && slices.Equal(o.codes[i], code) }); k >= 0 {
		return k
	}
	o.codes = append(o.codes, code)
	o.kinds = append(o.kinds, kind)
	return o.codeIdx.add(h)
}

// lookup returns the number of code of a kind, or -1.
func (o *optimizer) lookup(code []stmt, kind uint8) int {
	return o.codeIdx.find(codeHash(code, kind), func(i int) bool { return o.kinds[i] == kind && slices.Equal(o.codes[i], code) })
}

// codeHash hashes code of a kind for intern and lookup.
func codeHash(code []stmt, kind uint8) uint64 {
	return stmtsHash(code) ^ uint64(kind)*0x9e3779b97f4a7c15
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
//
// Without full, it decides only what libpcap's optimizer decides: a test
// made before on the path (same comparison, same constant), or a jeq
// after a jeq of the same value with another constant was taken. With
// full, a value known to be a constant decides any comparison with a
// constant too (jgt #0x5dc after jeq #0x800 was taken), and a value
// known to be one of a few constants decides what they all decide.
func outcome(b *block, f fact, full bool) (taken, known bool) {
	op := b.jop & 0xf0
	if f.isEq {
		v := f.eq
		switch {
		case op == jmpJEQ:
			return v == b.k, true
		case !full:
		case op == jmpJGT:
			return v > b.k, true
		case op == jmpJGE:
			return v >= b.k, true
		case op == jmpJSET:
			return v&b.k != 0, true
		default:
			return false, false
		}
	}
	if f.in != nil && full {
		// Known if every value the fact allows decides it alike.
		taken, _ = outcome(b, fact{isEq: true, eq: f.in[0]}, true)
		for _, v := range f.in[1:] {
			if t, _ := outcome(b, fact{isEq: true, eq: v}, true); t != taken {
				return false, false
			}
		}
		return taken, true
	}
	if op == jmpJEQ && contains(f.neq, b.k) {
		return false, true
	}
	for _, t := range f.tests {
		if t.op == op && t.k == b.k {
			return t.taken, true
		}
	}
	if op == jmpJEQ && b.jop&srcX == 0 && outsideRun(f.tests, b.k, full) {
		return false, true
	}
	return false, false
}

// outsideRun reports whether tests put the value in a run [lo, hi] (a
// jge lo taken, a jgt hi not taken) that k is outside. Without full,
// only the bounds of a set's runs count (markSet), as libpcap's chain of
// jeqs they stand for decides it.
func outsideRun(tests []testOutcome, k uint32, full bool) bool {
	var lo, hi uint32 = 0, ^uint32(0)
	haveLo, haveHi := false, false
	for _, t := range tests {
		if !full && !t.set {
			continue
		}
		switch {
		case t.op == jmpJGE && t.taken && t.k >= lo:
			lo, haveLo = t.k, true
		case t.op == jmpJGT && !t.taken && t.k <= hi:
			hi, haveHi = t.k, true
		}
	}
	return haveLo && haveHi && lo <= hi && (k < lo || k > hi)
}

// outcome is outcome(b, f, o.full), noting in o.lostFull a test that
// only full would decide.
func (o *optimizer) outcome(b *block, f fact) (taken, known bool) {
	taken, known = outcome(b, f, o.full)
	if !known && !o.full && !o.lostFull {
		_, o.lostFull = outcome(b, f, true)
	}
	return taken, known
}

// edgeFacts returns what is known after b's test on its true or false edge.
func (o *optimizer) edgeFacts(in facts, b *block, taken bool) facts {
	k := o.valueKey(b)
	if k < 0 || k >= len(o.repeated) || o.repeated[k] == onceTested {
		return in
	}
	cur, _ := in.get(k)
	if op := b.jop & 0xf0; op != jmpJEQ || b.jop&srcX != 0 {
		// (Of a comparison with X, only its outcome: "jeq x" taken says
		// nothing of A's value.)
		if len(cur.tests) >= maxTests {
			return in
		}
		cur.tests = append(append([]testOutcome(nil), cur.tests...), testOutcome{op, b.k, taken, b.mark == markSet})
		return in.with(k, cur, &o.scr.nodes)
	}
	if taken {
		return in.with(k, fact{isEq: true, eq: b.k, tests: cur.tests}, &o.scr.nodes)
	}
	if cur.in != nil {
		var rest []uint32
		for _, v := range cur.in {
			if v != b.k {
				rest = append(rest, v)
			}
		}
		if len(rest) == 1 {
			return in.with(k, fact{isEq: true, eq: rest[0], tests: cur.tests}, &o.scr.nodes)
		}
		if len(rest) == len(cur.in) {
			return in
		}
		return in.with(k, fact{in: rest, tests: cur.tests}, &o.scr.nodes)
	}
	if cur.isEq || len(cur.neq) >= maxNeq || o.repeated[k] == manyTests || contains(cur.neq, b.k) {
		return in
	}
	cur.neq = append(append([]uint32(nil), cur.neq...), b.k)
	return in.with(k, cur, &o.scr.nodes)
}

// thread performs jump threading over the graph from entry, in
// topological order, and returns the new entry.
func (o *optimizer) thread(entry *block) *block {
	order := o.ord.layout(entry)
	in := zeroed(&o.scr.facts, o.n)
	o.in = in
	has := zeroed(&o.scr.bools, o.n)
	addIn := func(b *block, f facts) {
		if b.ret {
			return // nothing is tested there
		}
		if has[b.id] {
			in[b.id] = meet(in[b.id], f, o.sets, &o.lostSets, &o.scr.nodes)
			return
		}
		has[b.id] = true
		in[b.id] = f
	}
	has[entry.id] = true
	for _, b := range order {
		if !has[b.id] || b.ret || b.jop == clsJMP|jmpJA {
			// Unreached after threading, a return, or an unconditional
			// block (whose code may change anything): facts stop here.
			if !b.ret && b.jop == clsJMP|jmpJA {
				addIn(b.jt, facts{})
			}
			continue
		}
		f := in[b.id]
		for _, taken := range [2]bool{true, false} {
			t := b.succ(taken)
			if t.ret {
				continue // nothing to thread to, nor facts to keep
			}
			t, ef := o.follow(t, o.edgeFacts(f, b, taken))
			if b.setSucc(taken, t) {
				o.ord.stale = true
			}
			addIn(t, ef)
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
			if o.keepsLoads(t, f) {
				return t, f
			}
			t = t.jt
			continue
		}
		fk, ok := f.get(k)
		if !ok {
			return t, f
		}
		taken, known := o.outcome(t, fk)
		if !known {
			return t, f
		}
		f = o.edgeFacts(f, t, taken)
		t = t.succ(taken)
	}
	return t, f
}

// collapse removes the pure tests whose branches meet (threading makes
// them, after their predecessors were visited), from the returns up, and
// returns the entry.
func (o *optimizer) collapse(entry *block) *block {
	return o.replaceUp(entry, func(b *block) *block {
		if b.ret || b.jop == clsJMP|jmpJA {
			return nil
		}
		if o.valueKey(b) < 0 {
			// Not a pure test with a constant: an X comparison, or a test
			// whose code stores. Where its branches meet and nothing after
			// it reads what it leaves, it is dead code, which libpcap's
			// optimizer drops too ("tcp[0:2] > tcp[2:2] or not udp").
			if b.jt != b.jf {
				return nil
			}
			if !o.liveness().dead(b) {
				return nil
			}
			if (o.full || o.keepAll) && !isReject(b.jt) && mayFail(b.stmts) {
				// As keepsLoads: the test goes, its code stays.
				b.jop, b.k = clsJMP|jmpJA, 0
				return nil
			}
			return b.jt
		}
		if b.jt == b.jf && selfContainedTarget(b.jt) {
			// (o.in: what threading knew on the way into b.)
			if o.keepsLoads(b, o.in[b.id]) || b == entry && !o.constFirst && !o.verdict && rootKeepsCode(b) {
				// The test goes, its code stays.
				b.jop, b.k = clsJMP|jmpJA, 0
				return nil
			}
			return b.jt
		}
		if o.verdict {
			return nil // (libpcap's optimizer has no such rule)
		}
		return o.subsumes(b)
	})
}

// rootKeepsCode reports whether the entry block b, whose branches meet,
// keeps its code when its test goes, as libpcap's does: its optimizer
// takes a block whose branches meet out of the paths into it, but the
// first block has none, and the last step of the optimizer (opt_root)
// puts the code of a first block whose branches meet in front of the
// block they meet at, unless that is a return. Loads of it that fail
// reject a short packet, in libpcap's program and so in bpfc's
// ("(icmp6 and port 53) or less 100": "ldh [12]", then the length).
// Where the first primitive, or its protocol test, folded to a constant
// ("ip" on DLT_IPV4, "1 = 1"), libpcap's first block is that constant's,
// whose code cannot fail, and bpfc's entry is a later test: its code
// goes (optimizer.constFirst). For the refusal model (optimizer.verdict)
// it goes too: libpcap refuses a program whose first block is then a
// return, whatever code came before it ("(inbound and outbound or icmp)
// and ipx" on BSD/OS PPP).
func rootKeepsCode(b *block) bool { return !b.jt.ret && mayFail(b.stmts) }

// liveAfter is what the code of a graph reads that earlier blocks
// leave: the scratch cells some block reads before it writes them, and
// whether some block reads A or X before it sets them (or returns A).
type liveAfter struct {
	mem  uint16
	regs bool
}

// liveness returns what the graph's blocks read that earlier blocks
// leave, computed once: over all the blocks made, for optimize adds
// none.
func (o *optimizer) liveness() *liveAfter {
	if o.live != nil {
		return o.live
	}
	l := &liveAfter{}
	for _, b := range o.g.blocks {
		if b.ret {
			l.regs = l.regs || b.retA
			continue
		}
		mem, regs := exposed(b)
		l.mem |= mem
		l.regs = l.regs || regs
	}
	o.live = l
	return l
}

// dead reports whether the code of b, a test whose branches meet, can
// go with its test: its code sets A and X before reading them, and what
// it leaves in A, X and the cells it stores is read by nothing after it
// (its successor returns a constant, or no block reads registers it did
// not set, and none reads those cells before writing them).
func (l *liveAfter) dead(b *block) bool {
	mem, regs := exposed(b)
	if regs || mem != 0 {
		return false
	}
	if stored(b.stmts)&l.mem != 0 {
		return false
	}
	t := b.jt
	return t.ret && !t.retA || !l.regs && !t.ret && selfContained(t.stmts)
}

// exposed returns the scratch cells b reads before writing them, and
// whether b (its code, then its jump or return) reads A or X before
// setting them.
func exposed(b *block) (mem uint16, regs bool) {
	var a, x bool
	var wrote uint16
	readMem := func(k uint32) {
		if wrote&(1<<(k&15)) == 0 {
			mem |= 1 << (k & 15)
		}
	}
	for _, s := range b.stmts {
		switch s.op & 0x07 {
		case clsLD:
			switch s.op & 0xe0 {
			case modeIND:
				regs = regs || !x
			case modeMEM:
				readMem(s.k)
			}
			a = true
		case clsLDX:
			if s.op&0xe0 == modeMEM {
				readMem(s.k)
			}
			x = true
		case clsST:
			regs = regs || !a
			wrote |= 1 << (s.k & 15)
		case clsSTX:
			regs = regs || !x
			wrote |= 1 << (s.k & 15)
		case clsALU:
			regs = regs || !a || s.op&srcX != 0 && !x
		case clsMISC:
			if s.op&0xf8 == miscTXA {
				regs = regs || !x
				a = true
			} else {
				regs = regs || !a
				x = true
			}
		}
	}
	switch {
	case b.ret:
		regs = regs || b.retA && !a
	case b.jop != clsJMP|jmpJA:
		regs = regs || !a || b.jop&srcX != 0 && !x
	}
	return mem, regs
}

// stored returns the scratch cells code writes.
func stored(code []stmt) uint16 {
	var m uint16
	for _, s := range code {
		if c := s.op & 0x07; c == clsST || c == clsSTX {
			m |= 1 << (s.k & 15)
		}
	}
	return m
}

// keepsLoads reports whether the test of b, whose branches meet, must
// keep its code when it goes: after the first round of threading, which
// decides only what libpcap's optimizer decides, branches that meet
// because of a decision libpcap would not make must not drop loads that
// libpcap's program makes. A load past the end of a short packet rejects
// it, in libpcap's program as in bpfc's. (Where both branches reject,
// the load changes nothing; where f, what is known on the way in, knows
// of b's value, it was loaded before and cannot fail now.)
func (o *optimizer) keepsLoads(b *block, f facts) bool {
	if !o.full && !o.keepAll || isReject(b.jt) || !mayFail(b.stmts) {
		return false
	}
	if k := o.valueKey(b); k >= 0 {
		if _, ok := f.get(k); ok {
			return false
		}
	}
	return true
}

// mayFail reports whether code can end the program: a load from the
// packet (past its end), or a division by X (by zero).
func mayFail(code []stmt) bool {
	for _, s := range code {
		switch s.op & 0x07 {
		case clsLD, clsLDX:
			switch s.op & 0xe0 {
			case modeABS, modeIND, modeMSH:
				return true
			}
		case clsALU:
			if op := s.op & 0xf0; s.op&srcX != 0 && (op == aluDIV || op == aluMOD) {
				return true
			}
		}
	}
	return false
}

// replaceUp walks the blocks from the returns up: it points each block's
// edges at the replacements made so far, then asks replace for the
// block's own replacement (nil for none). It returns the replacement of
// entry, or entry.
func (o *optimizer) replaceUp(entry *block, replace func(b *block) *block) *block {
	order := o.ord.layout(entry)
	repl := o.repl
	clear(repl)
	get := func(b *block) *block {
		if r := repl[b.id]; r != nil {
			return r
		}
		return b
	}
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if !b.ret {
			if t, f := get(b.jt), get(b.jf); t != b.jt || f != b.jf {
				b.jt, b.jf = t, f
				o.ord.stale = true
			}
		}
		repl[b.id] = replace(b)
	}
	return get(entry)
}

// subsumes returns the successor y of the pure test b that can stand in
// for b: a test of the same value which, on b's other edge, would send
// control where b does. "jeq #0x800 jt reject jf L; L: jeq #0x806 jt
// accept jf reject" is "jeq #0x806 jt accept jf reject". y loads what b
// loads, so no packet's fate changes.
func (o *optimizer) subsumes(b *block) *block {
	k := o.valueKey(b)
	for _, side := range [2]bool{true, false} {
		y, other := b.jf, b.jt // y on the false edge, b's true edge elsewhere
		if !side {
			y, other = b.jt, b.jf
		}
		if y.ret || y.jop == clsJMP|jmpJA || o.valueKey(y) != k {
			continue
		}
		var neq [1]uint32
		var tests [1]testOutcome
		taken, known := o.outcome(y, o.soleFact(b, k, side, &neq, &tests))
		if !known {
			continue
		}
		if y.succ(taken) == other {
			return y
		}
	}
	return nil
}

// soleFact is what edgeFacts(facts{}, b, taken) knows of b's value k,
// without making a list of facts: its slices are the buffers given.
func (o *optimizer) soleFact(b *block, k int, taken bool, neq *[1]uint32, tests *[1]testOutcome) fact {
	if k < 0 || k >= len(o.repeated) || o.repeated[k] == onceTested {
		return fact{}
	}
	if op := b.jop & 0xf0; op != jmpJEQ || b.jop&srcX != 0 {
		tests[0] = testOutcome{op, b.k, taken, b.mark == markSet}
		return fact{tests: tests[:]}
	}
	if taken {
		return fact{isEq: true, eq: b.k}
	}
	if o.repeated[k] == manyTests {
		return fact{}
	}
	neq[0] = b.k
	return fact{neq: neq[:]}
}

// selfContainedTarget reports whether b needs nothing from the registers
// its predecessor left: a return, or a block whose code sets what it uses.
func selfContainedTarget(b *block) bool {
	return b.ret || selfContained(b.stmts)
}

// mergeIdentical merges blocks with the same code and the same
// successors, from the returns up, and returns the entry.
func (o *optimizer) mergeIdentical(entry *block) *block {
	kept := o.scr.kept[:0] // the blocks kept so far, found through idx
	idx := &o.scr.keptIdx
	idx.reset(o.n)
	entry = o.replaceUp(entry, func(b *block) *block {
		h := signature(b)
		if i := idx.find(h, func(i int) bool { return sameBlock(kept[i], b) }); i >= 0 {
			return kept[i]
		}
		kept = append(kept, b)
		idx.add(h)
		return nil
	})
	o.scr.kept = kept[:0]
	return entry
}

// signature hashes what makes two blocks the same: their code, their
// jump or return, and their successors.
func signature(b *block) uint64 {
	h := stmtsHash(b.stmts)
	const prime = 1099511628211
	if b.ret {
		h = (h ^ 1) * prime
		if b.retA {
			h = (h ^ 2) * prime
		}
		return (h ^ uint64(b.retK)) * prime
	}
	h = (h ^ uint64(b.jop)) * prime
	h = (h ^ uint64(b.k)) * prime
	h = (h ^ uint64(b.jt.id)) * prime
	return (h ^ uint64(b.jf.id)<<20) * prime
}

// sameBlock reports whether a and b have the same code, jump or return
// and successors.
func sameBlock(a, b *block) bool {
	if a == b || a.ret != b.ret || !slices.Equal(a.stmts, b.stmts) {
		return false
	}
	if a.ret {
		return a.retA == b.retA && a.retK == b.retK
	}
	return a.jop == b.jop && a.k == b.k && a.jt == b.jt && a.jf == b.jf
}

// dropRedundantLoads removes, from a test block, the loads of a value
// that every predecessor leaves in A (and an X that every predecessor
// leaves in X), as when "ldh [12]" is tested against 0x86dd and then
// 0x800. It reports whether it dropped any.
func (o *optimizer) dropRedundantLoads(entry *block) bool {
	order := o.ord.layout(entry)
	// inA/inX: the value number that every predecessor seen so far leaves
	// in A / X (0: unknown or different); the order puts each block after
	// all of its predecessors.
	regs := zeroed(&o.scr.vnums, 2*o.n)
	inA, inX := regs[:o.n], regs[o.n:]
	reached := zeroed(&o.scr.bools, o.n)
	vn := valueNumbers{list: zeroed(&o.scr.vals, 8)[:0], idx: &o.scr.valIdx}
	vn.idx.reset(o.n)
	dropped := false
	defer func() {
		o.scr.vals = vn.list[:0]
		if dropped {
			// Blocks now read what their predecessors leave: the
			// liveness is stale. (So are the value keys of the blocks
			// changed; no pass after this one uses them.)
			o.live = nil
		}
	}()
	var preds []int32 // (counted when pullUp first needs them)
	predsOf := func() []int32 {
		if preds == nil {
			preds = zeroed(&o.scr.i32b, o.n)
			countPreds(order, preds)
		}
		return preds
	}
	pull := o.full && !o.keepAll
	for _, b := range order {
		if b.ret {
			continue
		}
		n := len(b.stmts)
		// A register whose value the predecessors do not agree on holds
		// the value it had on entry to b: a value of its own, which b's
		// successors may find in it still.
		if inA[b.id] == 0 {
			inA[b.id] = entryValue(b, false)
		}
		if inX[b.id] == 0 {
			inX[b.id] = entryValue(b, true)
		}
		if pull && o.pullUp(b, inA[b.id], inX[b.id], &vn, predsOf) {
			dropped = true // (b's code is now the test pulled up, which goes below)
		}
		a, x := vn.trackRegs(b, inA[b.id], inX[b.id])
		if len(b.stmts) != n {
			dropped = true
		}
		for i, s := range [2]*block{b.jt, b.jf} {
			if i == 1 && s == b.jt {
				break
			}
			if !reached[s.id] {
				reached[s.id] = true
				inA[s.id], inX[s.id] = a, x
				continue
			}
			if inA[s.id] != a {
				inA[s.id] = 0
			}
			if inX[s.id] != x {
				inX[s.id] = 0
			}
		}
	}
	return dropped
}

// pullUp swaps the test of c with the test after it, b, where b tests
// again the value that A holds on entry to c, and the two are links of
// a chain that rejects when either test fails ("and", c.jf and b.jf the
// reject return) or when either holds ("or", c.jt and b.jt): b then goes
// first, without its code (trackRegs drops it), and c after it. In "tcp
// port 443 and src port 1024", the test of the source port against 1024
// moves up next to the one against 443, before the load of the
// destination port, and the source port is not loaded again (libpcap's
// optimizer makes the same program). The packets kept are the same,
// short ones included: every way out of the pair but through both tests
// rejects, and b's code, which computes a value already computed, cannot
// fail. b must have no other predecessor, store nothing, compare A with
// a constant and leave X as c found it (its code may load X again, to the
// same value); the block after the pair must not read what the pair
// leaves in A or X. (Nor may a block past that one read them through it:
// when this pass runs, no block reads a register it did not set but
// geneve's and protochain's, whose programs it leaves alone: keepAll.)
func (o *optimizer) pullUp(c *block, a, x vnum, vn *valueNumbers, preds func() []int32) bool {
	if c.jop == clsJMP|jmpJA || c.jt == c.jf {
		return false
	}
	var b, next *block
	switch {
	case !c.jt.ret && isReject(c.jf) && c.jt.jf == c.jf:
		b = c.jt
		next = b.jt
	case !c.jf.ret && isReject(c.jt) && c.jf.jt == c.jt:
		b = c.jf
		next = b.jf
	default:
		return false
	}
	if b.jop == clsJMP|jmpJA || b.jop&srcX != 0 || len(b.stmts) == 0 || a == 0 {
		return false
	}
	for _, s := range b.stmts {
		if c := s.op & 0x07; c == clsST || c == clsSTX {
			return false
		}
	}
	if _, regs := exposed(next); regs {
		return false
	}
	// b's value, computed where b would go and where it is, must be the
	// value already in A.
	eval := func(a, x vnum, code []stmt) (vnum, vnum) {
		for _, s := range code {
			a, x = vn.step(s, a, x)
		}
		return a, x
	}
	if va, vx := eval(a, x, b.stmts); va != a || vx != x {
		return false // (b would not leave c the registers it had)
	}
	ac, xc := eval(a, x, c.stmts)
	if ac == 0 || ac == a || xc == 0 {
		return false // (c tests the same value: nothing to gain)
	}
	if va, _ := eval(ac, xc, b.stmts); va != a {
		return false // (b tests another value where it is)
	}
	if preds()[b.id] != 1 {
		return false
	}
	c.stmts, b.stmts = b.stmts, c.stmts
	c.jop, b.jop = b.jop, c.jop
	c.k, b.k = b.k, c.k
	c.rel, b.rel = b.rel, c.rel
	c.mark, b.mark = b.mark, c.mark
	o.keyOf[c.id], o.keyOf[b.id] = 0, 0
	return true
}

// entryValue is the value number of what A (or X) holds on entry to b
// when b's predecessors leave different values in it: a negative
// number, of its own, that needs no interning.
func entryValue(b *block, x bool) vnum {
	n := -2*vnum(b.id) - 1
	if x {
		n--
	}
	return n
}

// A vnum numbers a value a register can hold: equal numbers, equal
// values. 0 is unknown; a negative number is what a register held on
// entry to a block (entryValue).
type vnum int32

// valueExpr is how a value is computed: a load (of the packet, a constant
// or the length) or an operation on other values.
type valueExpr struct {
	op   uint16
	k    uint32
	a, x vnum
}

// valueNumbers interns valueExprs, numbered from 1 in the order they
// come, found through idx (kept with the graph).
type valueNumbers struct {
	list []valueExpr
	idx  *hashIndex
}

func (vn *valueNumbers) of(e valueExpr) vnum {
	const prime = 1099511628211
	h := (uint64(e.op)<<32 | uint64(e.k)) * prime
	h = (h ^ uint64(uint32(e.a))<<32 ^ uint64(uint32(e.x))) * prime
	if i := vn.idx.find(h, func(i int) bool { return vn.list[i] == e }); i >= 0 {
		return vnum(i + 1)
	}
	vn.list = append(vn.list, e)
	vn.idx.add(h)
	return vnum(len(vn.list))
}

// trackRegs drops from b the code that recomputes what A and X already
// hold (inA, inX), and returns what b leaves in A and X. A whole test
// prep that computes the value already in A goes; otherwise single loads
// that reload what their register holds go. Reloading the same bytes
// cannot fail where the first load succeeded, so no packet's fate
// changes.
func (vn *valueNumbers) trackRegs(b *block, inA, inX vnum) (vnum, vnum) {
	// Unconditional blocks come from code that carries registers on
	// purpose, or that keeps the loads of a settled test: only their
	// single reloads go.
	if b.jop != clsJMP|jmpJA && selfContained(b.stmts) {
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
	// The statements may be shared with other blocks (and with the
	// generator's tables): a block that loses some gets a copy.
	a, x := inA, inX
	var kept []stmt
	for i, s := range b.stmts {
		na, nx := vn.step(s, a, x)
		isLoad := s.op&0x07 == clsLD || s.op&0x07 == clsLDX
		if isLoad && na == a && nx == x && (a != 0 || s.op&0x07 == clsLDX) && (x != 0 || s.op&0x07 == clsLD) {
			// Reloads what the register holds.
			if kept == nil {
				kept = append(make([]stmt, 0, len(b.stmts)-1), b.stmts[:i]...)
			}
			continue
		}
		if kept != nil {
			kept = append(kept, s)
		}
		a, x = na, nx
	}
	if kept != nil {
		b.stmts = kept
	}
	return a, x
}

// step returns the value numbers of A and X after s, from those before
// (0 is unknown; a store leaves both alone).
func (vn *valueNumbers) step(s stmt, a, x vnum) (vnum, vnum) {
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
