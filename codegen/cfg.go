package codegen

// A block is a node of the control-flow graph: straight-line statements
// followed by a terminator, which is either a conditional jump with a true
// and a false successor or a return.
type block struct {
	id    int
	stmts []stmt

	// Conditional jump: jop is clsJMP|cond|src, compared with k (or X).
	// An unconditional block has jop clsJMP|jmpJA and jt == jf.
	jop    uint16
	k      uint32
	jt, jf *block
	// seen marks the walk that last visited the block (see orderBuf.layout).
	seen uint64
	// fallsThrough is set by the layout on an unconditional block placed
	// right before its successor: it needs no ja.
	fallsThrough bool

	// Return: when ret is set the block ends with `ret #retK`, or `ret a`
	// when retA is set, and jt/jf are nil.
	ret  bool
	retA bool
	retK uint32
}

// graph owns the blocks of one program being generated.
type graph struct {
	blocks []*block
	accept *block
	reject *block
	// slab is where new blocks are allocated from, a chunk at a time.
	slab []block
	// ord holds the buffers of walks over the blocks (see walker).
	ord *orderBuf
}

func newGraph(snaplen uint32) *graph {
	g := &graph{blocks: make([]*block, 0, 16)}
	g.accept = g.newRet(snaplen)
	g.reject = g.newRet(0)
	return g
}

// add makes a block of the graph, a copy of b.
func (g *graph) add(b block) *block {
	if len(g.slab) == 0 {
		n := 8
		if len(g.blocks) >= 8 {
			n = 64
		}
		g.slab = make([]block, n)
	}
	nb := &g.slab[0]
	g.slab = g.slab[1:]
	*nb = b
	nb.id = len(g.blocks)
	g.blocks = append(g.blocks, nb)
	return nb
}

func (g *graph) newRet(k uint32) *block { return g.add(block{ret: true, retK: k}) }

// newJump makes a block that runs stmts, then jumps to t when the
// condition jop (compared with k) holds and to f otherwise.
func (g *graph) newJump(stmts []stmt, jop uint16, k uint32, t, f *block) *block {
	return g.add(block{stmts: stmts, jop: jop, k: k, jt: t, jf: f})
}
