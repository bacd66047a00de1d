package codegen

// A pred is a boolean condition on a packet, the intermediate form between
// the parser's tree and the control-flow graph. Primitives lower into
// preds built from tests; and, or and not combine them; lowering turns a
// pred into blocks in continuation-passing style, so shared successors
// never need back-patching and the graph is acyclic by construction.
type pred interface{ isPred() }

type (
	// pAnd holds when both a and b hold; b is evaluated only if a holds.
	pAnd struct{ a, b pred }
	// pOr holds when a or b holds; b is evaluated only if a does not.
	pOr struct{ a, b pred }
	// pNot inverts x.
	pNot struct{ x pred }
	// pConst is a constant outcome.
	pConst bool
	// pKept is a constant outcome kept as libpcap's code has it, a block
	// of its own ("ld #1; jeq #0" for false): only the refusal model
	// lowers preds with them (compiler.keepConsts, verdict.go).
	pKept bool
	// pTest runs prep (which leaves the value to test in A, and for an X
	// comparison the operand in X), then compares: jop is the jump opcode
	// (clsJMP|cond|src) and k the constant. rel marks the test of a
	// relation ("ip[9] = 6"): see block.rel.
	pTest struct {
		prep []stmt
		jop  uint16
		rel  bool     // (between jop and k, the struct is 32 bytes)
		mark testMark // (see block.mark)
		k    uint32
	}
	// pSeq runs code, then evaluates next with the registers code left:
	// for tests that carry A and X from one block to the next, like the
	// unrolled header walk of protochain.
	pSeq struct {
		code []stmt
		next pred
	}
	// pIf is "if cond then a else b": unlike or(and(cond, a), b), a
	// failing a does not fall through to b.
	pIf struct{ cond, a, b pred }
	// pShared is a pred used in several places: it is lowered once per
	// pair of targets, so a DAG of preds becomes a DAG of blocks rather
	// than a tree.
	pShared struct{ *shared }
	// pSet is "the value prep computes is in one of the runs ivs"
	// (sorted, disjoint), for a set too large for a chain of tests: it is
	// lowered as a balanced tree (graph.lowerSet).
	pSet struct {
		prep []stmt
		ivs  []interval
		rel  bool // a set of a relation's values (see block.rel)
	}
)

type shared struct {
	p     pred
	gen   uint64 // the graph use lowed belongs to
	lowed map[[2]*block]*block
}

func share(p pred) pred {
	switch p.(type) {
	case pConst, pShared:
		return p
	}
	return pShared{&shared{p: p}}
}

func (*pAnd) isPred()   {}
func (*pOr) isPred()    {}
func (*pNot) isPred()   {}
func (pConst) isPred()  {}
func (pKept) isPred()   {}
func (*pTest) isPred()  {}
func (pSeq) isPred()    {}
func (pShared) isPred() {}
func (pIf) isPred()     {}
func (pSet) isPred()    {}

var (
	pTrue  pred = pConst(true)
	pFalse pred = pConst(false)
)

// and combines preds with short-circuit conjunction, folding constants.
// It and or, not, cmp and loadEq allocate their preds on the heap (for
// regrouping and tests); the compiler's methods of the same names, which
// the generators use, allocate them from its chunks (see chunked).
func and(ps ...pred) pred { return (*compiler)(nil).and(ps...) }

// or combines preds with short-circuit disjunction, folding constants.
func or(ps ...pred) pred { return (*compiler)(nil).or(ps...) }

// not negates p, folding constants and double negation.
func not(p pred) pred { return (*compiler)(nil).not(p) }

// Comparison kinds for cmp, in the form a relation is written.
type cmpOp int

const (
	cmpEQ cmpOp = iota
	cmpNE
	cmpGT
	cmpGE
	cmpLT
	cmpLE
	cmpSet // (A & k) != 0
)

// cmp tests the value left in A by prep against the constant k.
func cmp(prep []stmt, op cmpOp, k uint32) pred { return (*compiler)(nil).cmp(prep, op, k) }

func (c *compiler) cmp(prep []stmt, op cmpOp, k uint32) pred {
	switch op {
	case cmpEQ:
		return c.test(prep, clsJMP|jmpJEQ|srcK, k)
	case cmpNE:
		return c.not(c.test(prep, clsJMP|jmpJEQ|srcK, k))
	case cmpGT:
		return c.test(prep, clsJMP|jmpJGT|srcK, k)
	case cmpGE:
		return c.test(prep, clsJMP|jmpJGE|srcK, k)
	case cmpLT:
		return c.not(c.test(prep, clsJMP|jmpJGE|srcK, k))
	case cmpLE:
		return c.not(c.test(prep, clsJMP|jmpJGT|srcK, k))
	default:
		return c.test(prep, clsJMP|jmpJSET|srcK, k)
	}
}

// cmpX tests A against X after prep, which must leave both set.
func cmpX(prep []stmt, op cmpOp) pred {
	t := cmp(prep, op, 0)
	return setSrcX(t)
}

func setSrcX(p pred) pred {
	switch p := p.(type) {
	case *pTest:
		q := *p // (preds are shared: never changed in place)
		q.jop |= srcX
		return &q
	case *pNot:
		return &pNot{setSrcX(p.x)}
	}
	return p
}

// loadEq tests that the size-byte field at l equals v.
func loadEq(size int, l loc, v uint32) pred { return (*compiler)(nil).loadEq(size, l, v) }

func (c *compiler) loadEq(size int, l loc, v uint32) pred {
	return c.cmp(l.load(size), cmpEQ, v)
}

// loadMaskEq tests (field & mask) == v for the size-byte field at l.
func (c *compiler) loadMaskEq(size int, l loc, mask, v uint32) pred {
	if mask == 0 {
		if c.asWritten() {
			// (The load stays where libpcap's optimizer does not run.)
			return c.cmp(append(l.load(size), aluK(aluAND, 0)), cmpEQ, v)
		}
		// Always (or never) true: libpcap's optimizer drops the load.
		return pConst(v == 0)
	}
	if mask == sizeMask(size) {
		return c.loadEq(size, l, v)
	}
	// A mask of the low bytes only tests the last bytes of the field: a
	// narrower load of them needs the same packet length.
	switch {
	case size == 4 && mask <= 0xff:
		return c.loadMaskEq(1, l.add(3), mask, v)
	case size == 4 && mask <= 0xffff:
		return c.loadMaskEq(2, l.add(2), mask, v)
	case size == 2 && mask <= 0xff:
		return c.loadMaskEq(1, l.add(1), mask, v)
	}
	return c.maskTest(l.load(size), mask, v)
}

// maskTest tests (A & mask) == v for the A that code computes, with a
// jset where one does: (A & m) == 0 is "not jset m", and for a single
// bit, (A & m) == m is "jset m".
func (c *compiler) maskTest(code []stmt, mask, v uint32) pred {
	return c.maskTestOf(code, mask, v, false)
}

// maskTestOf is maskTest for a relation's test (rel) or a protocol's.
// They differ only for the refusal model, as they do in libpcap's
// optimizer: a relation's "(A & m) == 0" is "and #m; jeq #0" in its first
// loop (markEq0) and a relation's single-bit test a jset like any
// other test of the relation's value, while a protocol's "and #m; jeq #0"
// is a jset from its first round on (a peephole pass runs before the
// jumps move) and its "and #m; jeq #m" another value than the field's
// ("mpls and ip and mpls", whose bottom-of-stack tests are one of each,
// is compiled).
func (c *compiler) maskTestOf(code []stmt, mask, v uint32, rel bool) pred {
	switch {
	case v&^mask != 0:
		// libpcap's optimizer knows no bits: "and #3; jeq #4" is a test
		// whose outcome it does not know ("ether[0] & 3 = 4" is compiled,
		// and "not ether[12] & 1 = 128" rejects a 12-byte frame). bpfc's
		// settles it, keeping the load.
		return c.cmp(append(code, aluK(aluAND, mask)), cmpEQ, v)
	case v == 0:
		t := c.cmp(code, cmpSet, mask).(*pTest)
		if rel {
			t.mark = markEq0
		}
		return c.not(t)
	case v == mask && mask&(mask-1) == 0 && (rel || !c.asLibpcap()):
		return c.cmp(code, cmpSet, mask)
	}
	return c.cmp(append(code, aluK(aluAND, mask)), cmpEQ, v)
}

func sizeMask(size int) uint32 {
	switch size {
	case 1:
		return 0xff
	case 2:
		return 0xffff
	}
	return 0xffffffff
}

// lower turns p into blocks and returns the entry block: control reaches
// t when p holds and f when it does not.
func (g *graph) lower(p pred, t, f *block) *block {
	for {
		switch q := p.(type) {
		case pConst:
			if q {
				return t
			}
			return f
		case *pNot:
			p, t, f = q.x, f, t
			continue
		case *pAnd:
			t = g.lower(q.b, t, f)
			p = q.a
			continue
		case *pOr:
			f = g.lower(q.b, t, f)
			p = q.a
			continue
		case *pTest:
			b := g.relJump(q.prep, q.jop, q.k, q.rel, t, f)
			b.mark = q.mark
			return b
		case pKept:
			// libpcap's first round decides the test before it threads
			// any edge: both branches go where the constant does.
			to := f
			if q {
				to = t
			}
			k := uint32(1)
			if q {
				k = 0
			}
			return g.relJump([]stmt{ldImm(k)}, clsJMP|jmpJEQ|srcK, 0, false, to, to)
		case pIf:
			a := g.lower(q.a, t, f)
			b := g.lower(q.b, t, f)
			p, t, f = q.cond, a, b
			continue
		case pShared:
			key := [2]*block{t, f}
			if q.gen != g.gen {
				// Lowered for another graph (or another use of this
				// one's memory): start again.
				q.gen, q.lowed = g.gen, nil
			}
			if b, ok := q.lowed[key]; ok {
				return b
			}
			b := g.lower(q.p, t, f)
			if q.lowed == nil {
				q.lowed = map[[2]*block]*block{}
			}
			q.lowed[key] = b
			return b
		case pSet:
			return g.lowerSet(q.prep, q.ivs, q.rel, t, f)
		case pSeq:
			next := g.lower(q.next, t, f)
			return g.add(block{stmts: q.code, jop: clsJMP | jmpJA, jt: next, jf: next})
		default:
			panic("codegen: unknown pred")
		}
	}
}
