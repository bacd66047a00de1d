package codegen

import (
	"sync"
	"sync/atomic"

	"golang.org/x/net/bpf"
)

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
	// rel marks the test of a relation ("ip[9] = 6", "ip[6:2] & 0x1fff =
	// 0"). libpcap computes a relation with arithmetic that its optimizer
	// folds only after its jump threading, so it never decides a
	// relation from a protocol test of the same field, nor the reverse
	// ("ip[9] = 6 and udp" is compiled, not refused): the optimizer's
	// first round takes its value for another.
	rel bool
	// mark says what the test stands for in the refusal model, where it
	// is not what it looks like (see testMark).
	mark testMark

	// Return: when ret is set the block ends with `ret #retK`, or `ret a`
	// when retA is set, and jt/jf are nil.
	ret  bool
	retA bool
	retK uint32
}

// graph owns the blocks of one program being generated, and the memory
// the passes over them use. Graphs are kept in graphPool between
// compilations (build releases its graph once the program is laid out),
// so that compiling many filters does not allocate that memory anew.
type graph struct {
	blocks []*block
	accept *block
	reject *block
	// gen numbers the graph's uses, so that memos of an earlier
	// compilation (pShared's) are not taken for this one's.
	gen uint64
	// mem is where blocks are allocated from.
	mem chunked[block]
	ord orderBuf
	scr scratch
	opt optimizer // (see newOptimizer)
}

// graphPool holds released graphs; graphGen numbers graph uses.
var (
	graphPool sync.Pool
	graphGen  atomic.Uint64
)

// maxPooled is the most blocks a graph may hold to go back to the pool
// (a list of 1,600 hosts makes about 10,000): the memory of a huge
// filter's graph is left to the garbage collector. (The pool itself is
// emptied by the collector, so a pooled graph is not kept for long.)
const maxPooled = 1 << 14

func newGraph(snaplen uint32) *graph {
	g, _ := graphPool.Get().(*graph)
	if g == nil {
		g = &graph{blocks: make([]*block, 0, 16)}
	}
	g.gen = graphGen.Add(1)
	g.ord.cached = false
	g.accept = g.newRet(snaplen)
	g.reject = g.newRet(0)
	return g
}

// release returns g to the pool. Nothing may use g or its blocks after.
func (g *graph) release() {
	if len(g.blocks) > maxPooled {
		return
	}
	// Drop what the blocks point to (the generator's code), keep the memory.
	g.mem.reset()
	g.scr.release(len(g.blocks))
	clear(g.blocks)
	g.blocks = g.blocks[:0]
	g.accept, g.reject = nil, nil
	g.opt = optimizer{}
	graphPool.Put(g)
}

// add makes a block of the graph, a copy of b.
func (g *graph) add(b block) *block {
	nb := g.mem.alloc(8)
	*nb = b
	nb.id = len(g.blocks)
	g.blocks = append(g.blocks, nb)
	return nb
}

// scratch holds the buffers the passes over a graph reuse.
type scratch struct {
	i32     []int32
	i32b    []int32 // (dropRedundantLoads's predecessor counts)
	u8      []uint8
	ptrs    []*block
	facts   []facts
	nodes   nodeArena
	bools   []bool
	vnums   []vnum
	vals    []valueExpr
	codes   [][]stmt
	kinds   []uint8
	codeIdx hashIndex
	kept    []*block
	keptIdx hashIndex
	valIdx  hashIndex // dropRedundantLoads's value numbers
	links   []*block  // shareTails's chains
	u64     []uint64
	ints    []int
	out     []bpf.RawInstruction
	tr      trampolines // linearize's, for programs with far jumps
}

// release drops the pointers the buffers hold.
func (s *scratch) release(n int) {
	// The buffers that hold pointers are indexed by block, or hold at
	// most one entry per block: the graph's n blocks bound what this use
	// of them wrote (an earlier, larger use cleared its own), so that a
	// small filter compiled after a large one does not clear the large
	// one's memory again.
	clearTo(s.ptrs, n)
	clearTo(s.facts, n)
	s.nodes.reset()
	clearTo(s.codes, n)
	clearTo(s.kept, n)
	clearTo(s.links, n)
	clearTo(s.tr.owned, n)
	clearTo(s.tr.via, n)
	clearTo(s.tr.byTarget, n)
}

// clearTo clears the first n elements of buf's memory (up to its
// capacity), whatever its length.
func clearTo[T any](buf []T, n int) {
	clear(buf[:min(n, cap(buf))])
}

// countPreds adds to preds, by block id, how many of the blocks of
// order jump to each block (a block whose branches meet counts once).
func countPreds[T int | int32](order []*block, preds []T) {
	for _, b := range order {
		if b.ret {
			continue
		}
		preds[b.jt.id]++
		if b.jf != b.jt {
			preds[b.jf.id]++
		}
	}
}

// zeroed returns (*buf)[:n] cleared, growing *buf when it is too short.
func zeroed[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n, max(n, 2*cap(*buf)))
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

func (g *graph) newRet(k uint32) *block { return g.add(block{ret: true, retK: k}) }

// newJump makes a block that runs stmts, then jumps to t when the
// condition jop (compared with k) holds and to f otherwise.
func (g *graph) newJump(stmts []stmt, jop uint16, k uint32, t, f *block) *block {
	return g.add(block{stmts: stmts, jop: jop, k: k, jt: t, jf: f})
}

// succ is b's successor on its true (taken) or false edge.
func (b *block) succ(taken bool) *block {
	if taken {
		return b.jt
	}
	return b.jf
}

// setSucc makes to b's successor on its true or false edge, and reports
// whether that changed it.
func (b *block) setSucc(taken bool, to *block) bool {
	p := &b.jf
	if taken {
		p = &b.jt
	}
	if *p == to {
		return false
	}
	*p = to
	return true
}
