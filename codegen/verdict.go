package codegen

import "fmt"

// libpcap refuses an expression as "rejects all packets" when its
// optimizer reduces the program to a reject: a verdict that depends on
// how far that optimizer sees, not on what the expression means. bpfc's
// optimizer sees further, so the refusal comes from a model of libpcap's
// rules, run only where bpfc's program keeps nothing (libpcapRejects):
//
//   - what is known at a block is what the edges that dominate it tell
//     (libpcap's edge dominators): two paths that learnt the same fact
//     from different tests know nothing of it where they meet, so that
//     "(port 80 or ip multicast) and tcp[0:2] > tcp[2:2] and ah" is
//     compiled, not refused;
//   - every edge is threaded from those facts, computed on the graph as
//     it was before the round, from the bottom of the graph up;
//   - a test whose branches meet is dropped (and no other: not one that
//     a later test of its value stands in for, optimizer.subsumes);
//   - in a chain of "or" (or "and") tests that all exit to the same
//     place, a test of the value that every way into the chain tested
//     moves to the chain's head (libpcap's or_pullup and and_pullup),
//     where those tests decide it: "icmp and ip6" on Linux ARCnet, whose
//     IPv4 is one of two protocol IDs, is refused; a comparison of A
//     with X is in such a chain like any other test ("ip[2:2] >
//     ip[4:2] and atalk" is refused there);
//
// and the rounds go on until one changes nothing. That is libpcap's
// first loop; its second optimizes statements only, which decides no
// test but those of constants. The facts and tests are the first
// loop's: a relation's value is not a protocol test's (block.rel), and
// the load of proto[k] is libpcap's, [x + base] with X = k, another
// value than the same byte's at an absolute offset ("ip[0] = 0 and
// ether[14] = 1" is compiled). The graph is the expression's lowered
// again with libpcap's constant blocks (pKept: "stp" on ARCnet, "1 = 1"),
// which bpfc's own lowering folds away: in the first round such a block
// is still a predecessor of the test after it when the pull-ups run,
// and its value is not the packet's, so no test moves up there.

// maxVerdictRounds bounds the model's rounds; libpcap's loop ends when a
// round changes nothing, which every graph here reaches well before.
const maxVerdictRounds = 64

// maxVerdictBlocks bounds the graphs whose dominators the pull-ups
// compute (a bit set per block); larger ones are threaded only.
const maxVerdictBlocks = 2048

// libpcapRejects reports whether libpcap's optimizer would refuse p as
// "rejects all packets" (see above). It lowers p into a graph of its
// own.
func libpcapRejects(p pred, snap uint32, radio uint8) bool {
	if k, ok := p.(pConst); ok {
		return !bool(k)
	}
	g := newGraph(snap)
	defer g.release()
	entry := g.lower(p, g.accept, g.reject)
	if radio != radioNone {
		// (libpcap's loads through the radio header's length are the
		// same value: see compiler.inlineRadio.)
		g.inlineRadioLen(radio)
	}
	if entry.ret {
		return isReject(entry)
	}
	o := newOptimizer(g)
	defer o.giveBack(g)
	o.verdict = true
	// libpcap's first loop, which sees a masked test against 0 as "jeq
	// #0", its branches the jset's swapped (markEq0). Its second loop
	// optimizes statements only (opt_blks returns before threading and
	// pull-ups): it folds the arithmetic of constants, whose tests then
	// have their branches meet, and the last step (opt_root) skips the
	// first blocks whose branches meet ("1 + 1 = 3" is refused, "tcp and
	// 1 + 1 = 3" is not; "ip[0] & 1 = 0 and not ip" on Linux ARCnet,
	// whose jset a pull-up would move, is not either).
	entry = o.verdictLoop(entry)
	// (What A and X hold after the blocks skipped, where constants: on a
	// block that others reach too, neither is known, libpcap's values of
	// paths that disagree.)
	var a, x uint32
	var aKnown, xKnown bool
	var preds [][]*block // (of the graph from the first block, when past it)
	for root := entry; !entry.ret; {
		if entry != root {
			if preds == nil {
				preds = o.predsOf(o.ord.layout(root), nil)
			}
			if len(preds[entry.id]) > 1 {
				aKnown, xKnown = false, false
			}
		}
		switch {
		case entry.jt == entry.jf:
			a, x, aKnown, xKnown = regsAfter(entry, a, x, aKnown, xKnown)
			entry = entry.jt
		case entry.mark.modelConst():
			na, nx, setX := modelConstRegs(entry)
			if !setX {
				nx = x
			}
			if aKnown && na == a && xKnown && (!setX || nx == x) {
				return false
			}
			a, x, aKnown, xKnown = na, nx, true, xKnown || setX
			entry = modelConstTarget(entry)
		default:
			return false
		}
	}
	return isReject(entry)
}

// A relation of constants "x op y" is, for the model, a test of a value
// that stands for libpcap's: "ld #v; sub #id" for a relation of
// literals, "ld #v; add #id" for one of arithmetic, with v the value of
// x, then "jeq #k", which holds where v is k. libpcap's value, once its
// first round has turned "sub x; jeq #0" into "jeq #y" (y a literal), is
// that of x's code, which id numbers, and k is y, so that "1 + 1 = 2 and
// 1 + 1 = 3" is decided as libpcap decides it; for another relation, the
// value is the relation's, with "<=", "<" and "!=" as libpcap has them,
// ">", ">=" and "=" negated ("3 & 1 <= 2 - 1 and 3 & 1 > 2 - 1" is
// decided), and k is v where the relation without its negation holds,
// v + 1 where not.
// libpcap's first round does not know the outcome (the value is the
// subtraction's, not yet folded), its second decides one of literals
// (the value is then a constant), and only its second loop decides one
// of arithmetic, which then skips it only as the first block (opt_root),
// and not where A and X already hold what its code leaves there: that
// loop drops the code, and its peephole pass decides only blocks with
// code ("2 > 1 + 0 and 1 + 1 != 2" is compiled). A third statement says
// what X then holds (modelConstRegs): "or #y" where y is not a literal,
// "and #k" where it is and x's arithmetic left k there. The test's mark
// (markLiterals, markArith) tells the model's blocks from others.

// A testMark says what a test stands for in the refusal model where that
// is not what its code says.
type testMark uint8

const (
	// markEq0 marks a relation's jset whose test libpcap makes as "and
	// #k; jeq #0", with the branches swapped, until its optimizer's
	// second loop turns it into this jset: the pull-ups of its first
	// loop, the only ones, see it that way (maskTestOf).
	markEq0 testMark = 1 + iota
	// markLiterals and markArith mark a model constant of a relation of
	// literals and of arithmetic (modelConstRel).
	markLiterals
	markArith
	// markSet marks the bounds of a run of a set's values (lowerSet's
	// jge and jgt), which stand for the run's jeq tests: inside the
	// bounds, libpcap's chain of jeqs has found the value among them, and
	// decides a jeq of any other constant (outcome).
	markSet
)

// modelConst reports whether m marks a model constant.
func (m testMark) modelConst() bool { return m == markLiterals || m == markArith }

// modelConstRel is "x op y", for x and y whose values are kx and ky, as
// a model constant (see above).
func (c *compiler) modelConstRel(op cmpOp, x, y arith, kx, ky uint32, literals bool) pred {
	// libpcap's jumps: "!=", "<=" and "<" are "=", ">" and ">=" negated.
	base, negated := op, false
	switch op {
	case cmpNE:
		base, negated = cmpEQ, true
	case cmpLE:
		base, negated = cmpGT, true
	case cmpLT:
		base, negated = cmpGE, true
	}
	_, yLit := y.(aConst)
	name, k := fmt.Sprint(base, x, y), kx+1
	switch {
	case base == cmpEQ && yLit:
		name, k = fmt.Sprint(x), ky
	case compare(base, kx, ky):
		k = kx
	}
	if c.modelIDs == nil {
		c.modelIDs = map[string]uint32{}
	}
	id, ok := c.modelIDs[name]
	if !ok {
		id = uint32(len(c.modelIDs)) + 1
		c.modelIDs[name] = id
	}
	code := []stmt{ldImm(kx), aluK(aluADD, id)}
	if literals {
		code[1] = aluK(aluSUB, id)
	}
	if !yLit {
		code = append(code, aluK(aluOR, ky))
	} else if xl, ok := xLeft(x); ok {
		code = append(code, aluK(aluAND, xl))
	}
	mark := markArith
	if literals {
		mark = markLiterals
	}
	var p pred = &pTest{code, clsJMP | jmpJEQ | srcK, true, mark, k}
	if negated {
		p = &pNot{p}
	}
	return p
}

// modelConstRegs is what A and X hold after libpcap's code for the model
// constant b, once its second loop has folded it (setX false where X is
// what it was before). A holds x. Where y is a literal, the first loop
// has made the jump "jeq #y" (or "jgt #y", ...) and dropped the load of
// X: X holds what x's arithmetic left there (the third statement,
// "and"), if any; elsewhere it holds y (the third statement, "or").
func modelConstRegs(b *block) (a, x uint32, setX bool) {
	if len(b.stmts) == 2 {
		return b.stmts[0].k, 0, false
	}
	return b.stmts[0].k, b.stmts[2].k, true
}

// xLeft is what libpcap's code for the constant arithmetic x leaves in
// X: the right operand of its last binary operation, if it has one.
func xLeft(x arith) (uint32, bool) {
	switch x := x.(type) {
	case aBin:
		if k, ok := constValue(x.y); ok {
			return k, true
		}
	case aNeg:
		return xLeft(x.x)
	}
	return 0, false
}

// regsAfter is what A and X hold after b's code, from a and x before
// it, where they are constants.
func regsAfter(b *block, a, x uint32, aKnown, xKnown bool) (uint32, uint32, bool, bool) {
	for _, s := range b.stmts {
		switch {
		case s.op == clsLD|modeIMM:
			a, aKnown = s.k, true
		case s.op == clsLDX|modeIMM:
			x, xKnown = s.k, true
		case s.op == clsMISC|miscTAX:
			x, xKnown = a, aKnown
		case s.op&0x07 == clsLD || s.op&0x07 == clsALU || s.op == clsMISC|miscTXA:
			aKnown = false
		case s.op&0x07 == clsLDX:
			xKnown = false
		}
	}
	return a, x, aKnown, xKnown
}

// modelConstTarget is where the model constant b goes.
func modelConstTarget(b *block) *block {
	if b.stmts[0].k == b.k {
		return b.jt
	}
	return b.jf
}

// literals reports whether the graph from entry has undecided model
// constants of literals, and if decide has them go where they go, as
// libpcap's second round does before it threads.
func (o *optimizer) literals(entry *block, decide bool) bool {
	found := false
	for _, b := range o.ord.layout(entry) {
		if b.jt != b.jf && b.mark == markLiterals {
			found = true
			if decide {
				to := modelConstTarget(b)
				b.jt, b.jf = to, to
			}
		}
	}
	return found
}

// verdictLoop is libpcap's first optimizer loop, over the graph from
// entry: rounds of threading, collapsing and pull-ups until a round
// changes nothing (or maxVerdictRounds). It returns the entry.
func (o *optimizer) verdictLoop(entry *block) *block {
	// (libpcap's first round turns a relation's "sub x; jeq #0" into "jeq
	// #k", and so always has a second, which decides literals.)
	literals := o.literals(entry, false)
	for round := range maxVerdictRounds {
		if entry.ret {
			break
		}
		changed := round > 0 && literals
		if changed {
			o.literals(entry, true)
			literals = false
			o.ord.stale = true
		}
		// (The blocks and dominators of the round's start: see pullUps.)
		start := append([]*block(nil), o.ord.layout(entry)...)
		var dom [][]uint64
		var pos []int
		if len(start) <= maxVerdictBlocks {
			pos = make([]int, o.n)
			dom = dominators(start, o.predsOf(start, pos), pos)
		}
		if o.threadable(entry) && o.threadDominated(entry) {
			changed = true
		}
		before := o.ord.stale
		o.ord.stale = false
		entry = o.collapse(entry)
		changed = changed || o.ord.stale
		o.ord.stale = o.ord.stale || before
		if entry.ret {
			break
		}
		if dom != nil && o.pullUps(start, dom, pos) {
			changed = true
		}
		if literals {
			changed = true
		}
		if !changed {
			break
		}
	}
	return entry
}

// threadDominated threads every edge of the graph from entry with what
// the edges that dominate it tell, as libpcap's opt_j does, and reports
// whether it moved any.
func (o *optimizer) threadDominated(entry *block) bool {
	order := o.ord.layout(entry)
	in := zeroed(&o.scr.facts, o.n)
	o.in = in
	has := zeroed(&o.scr.bools, o.n)
	addIn := func(b *block, f facts) {
		switch {
		case b.ret:
		case has[b.id]:
			in[b.id] = meetShared(in[b.id], f)
		default:
			has[b.id], in[b.id] = true, f
		}
	}
	has[entry.id] = true
	for _, b := range order {
		switch {
		case b.ret || !has[b.id]:
		case b.jop == clsJMP|jmpJA:
			addIn(b.jt, facts{})
		default:
			addIn(b.jt, o.edgeFacts(in[b.id], b, true))
			addIn(b.jf, o.edgeFacts(in[b.id], b, false))
		}
	}
	moved := false
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if b.ret || !has[b.id] || b.jop == clsJMP|jmpJA {
			continue
		}
		for _, taken := range [2]bool{true, false} {
			t := b.succ(taken)
			if t.ret {
				continue
			}
			to, _ := o.follow(t, o.edgeFacts(in[b.id], b, taken))
			if b.setSucc(taken, to) {
				moved = true
			}
		}
	}
	if moved {
		o.ord.stale = true
	}
	return moved
}

// meetShared keeps of a and b only the facts both inherit: the lists are
// persistent and each node is made on one edge, so these are the tail
// they share, the facts of the edges that dominate the join.
func meetShared(a, b facts) facts {
	la, lb := 0, 0
	for n := a.head; n != nil; n = n.next {
		la++
	}
	for n := b.head; n != nil; n = n.next {
		lb++
	}
	x, y := a.head, b.head
	for ; la > lb; la-- {
		x = x.next
	}
	for ; lb > la; lb-- {
		y = y.next
	}
	for x != y {
		x, y, la = x.next, y.next, la-1
	}
	return facts{x, la}
}

// pullUps moves, in each chain of tests that exit to one place on one
// side, the first test of the value that every predecessor of the
// chain's head tests to the head (libpcap's or_pullup along false
// edges, and_pullup along true ones). It reports whether it moved any.
//
// As libpcap's, it sees the blocks of the round's start (blocks, in
// topological order) with their edges as threading left them: a block
// threading took out of every path is still a predecessor of its
// successors, and the dominators (dom, by position pos) are the
// round's start's. A constant's block, whose value is not the packet's,
// so keeps the tests after it where they are in the first round.
func (o *optimizer) pullUps(blocks []*block, dom [][]uint64, pos []int) bool {
	preds := o.predsOf(blocks, nil)
	for _, b := range blocks {
		if b.ret || b.jop == clsJMP|jmpJA || len(preds[b.id]) == 0 {
			continue
		}
		v := o.valueKey(preds[b.id][0])
		if v < 0 {
			continue
		}
		same := true
		for _, p := range preds[b.id][1:] {
			if o.valueKey(p) != v {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		for _, orChain := range [2]bool{true, false} {
			if o.pullToHead(b, v, orChain, preds[b.id], dom, pos) {
				// (The chains, predecessors and dominators have changed:
				// the next round looks again.)
				o.ord.stale = true
				return true
			}
		}
	}
	return false
}

// predsOf returns the predecessors of each block among blocks, by block
// id, and if pos is not nil sets the blocks' positions in it.
func (o *optimizer) predsOf(blocks []*block, pos []int) [][]*block {
	preds := make([][]*block, o.n)
	for i, b := range blocks {
		if pos != nil {
			pos[b.id] = i
		}
		if !b.ret {
			preds[b.jt.id] = append(preds[b.jt.id], b)
			if b.jf != b.jt {
				preds[b.jf.id] = append(preds[b.jf.id], b)
			}
		}
	}
	return preds
}

// pullToHead is one pull-up in the chain from b, whose predecessors all test
// the value v: along false edges with a common true target (orChain), or
// along true edges with a common false target.
func (o *optimizer) pullToHead(b *block, v int, orChain bool, preds []*block, dom [][]uint64, pos []int) bool {
	// (As libpcap sees the test: markEq0.)
	flip := func(x *block) bool { return x.mark == markEq0 }
	exit := func(x *block) *block { return x.succ(orChain != flip(x)) } // the common target
	next := func(x *block) *block { return x.succ(orChain == flip(x)) } // along the chain
	setNext := func(x, to *block) { x.setSucc(orChain == flip(x), to) }
	inChain := func(x *block) bool {
		return !x.ret && x.jop != clsJMP|jmpJA && exit(x) == exit(b) &&
			dom[pos[x.id]][pos[b.id]/64]&(1<<(pos[b.id]%64)) != 0
	}
	// Past the tests of v at the chain's head, to the first that differs.
	var above *block // the block whose chain edge leads to diff, if not the head
	diff := b
	for {
		if !inChain(diff) {
			return false
		}
		if o.valueKey(diff) != v {
			break
		}
		above, diff = diff, next(diff)
	}
	// Then to the next test of v.
	prev, s := diff, next(diff)
	for {
		if !inChain(s) {
			return false
		}
		if o.valueKey(s) == v {
			break
		}
		prev, s = s, next(s)
	}
	if !pure(s.stmts) {
		return false
	}
	// Pull s up in front of diff.
	sNext := next(s)
	setNext(prev, sNext)
	setNext(s, diff)
	if above == nil {
		for _, p := range preds {
			if p.jt == b {
				p.jt = s
			}
			if p.jf == b {
				p.jf = s
			}
		}
	} else {
		setNext(above, s)
	}
	return true
}

// dominators returns, for each block of order (a topological order from
// the entry, order[0]) by position, the set of the positions of the
// blocks that dominate it, itself included.
func dominators(order []*block, preds [][]*block, pos []int) [][]uint64 {
	words := (len(order) + 63) / 64
	dom := make([][]uint64, len(order))
	for i, b := range order {
		d := make([]uint64, words)
		ps := preds[b.id]
		if len(ps) > 0 {
			copy(d, dom[pos[ps[0].id]])
			for _, p := range ps[1:] {
				for w, x := range dom[pos[p.id]] {
					d[w] &= x
				}
			}
		}
		d[i/64] |= 1 << (i % 64)
		dom[i] = d
	}
	return dom
}
