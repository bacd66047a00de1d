package codegen

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// ErrTooLong is returned when a program needs more instructions than
// Options.MaxLength, by default the kernel's classic limit
// (cbpf.MaxInstructions).
var ErrTooLong = errors.New("program too long for the kernel")

// A trampoline is a `ja` placed right after the block that owns it, for
// conditional jumps whose target is more than 255 instructions ahead.
type trampoline struct {
	owner  *block
	target *block
	pos    int // instruction index, set by place
}

// linearize lays the blocks of g reachable from entry out as a classic
// program of at most limit instructions, in memory of the graph's
// (valid until it is released).
// Blocks are placed in reverse postorder (every block before its
// successors, so all jumps go forward) with the returns last. A
// conditional jump whose target lies more than 255 instructions ahead goes
// through a trampoline, a `ja` to the target: one placed after an earlier
// block is shared when it is in reach, else a new one follows the jump.
func linearize(g *graph, entry *block, limit int) ([]bpf.RawInstruction, error) {
	order := g.walker().layout(entry)
	// An unconditional block placed right before its target needs no ja.
	for i, b := range order {
		b.fallsThrough = b.jop == clsJMP|jmpJA && i+1 < len(order) && order[i+1] == b.jt
	}
	n := len(g.blocks)
	start := zeroed(&g.scr.ints, n)
	var tr *trampolines
	total := place(order, start, nil)
	if farJump(order, start) {
		tr = &g.scr.tr
		tr.owned, tr.via, tr.byTarget = zeroed(&tr.owned, n), zeroed(&tr.via, n), zeroed(&tr.byTarget, n)
		total = tr.route(order, start)
	}
	if total > limit {
		return nil, fmt.Errorf("%w: %d instructions, the limit is %d", ErrTooLong, total, limit)
	}
	out := zeroed(&g.scr.out, total)[:0]
	for _, b := range order {
		for _, s := range b.stmts {
			out = append(out, s.raw())
		}
		switch {
		case b.ret:
			op := uint16(clsRET | retK)
			if b.retA {
				op = clsRET | retA
			}
			out = append(out, bpf.RawInstruction{Op: op, K: b.retK})
		case b.jop == clsJMP|jmpJA:
			if !b.fallsThrough {
				out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[b.jt.id] - (len(out) + 1))})
			}
		default:
			next := len(out) + 1
			tIdx, fIdx := start[b.jt.id], start[b.jf.id]
			if tr != nil {
				if t := tr.via[b.id][0]; t != nil {
					tIdx = t.pos
				}
				if t := tr.via[b.id][1]; t != nil {
					fIdx = t.pos
				}
			}
			out = append(out, bpf.RawInstruction{Op: b.jop, Jt: uint8(tIdx - next), Jf: uint8(fIdx - next), K: b.k})
		}
		if tr != nil {
			for _, t := range tr.owned[b.id] {
				out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[t.target.id] - (len(out) + 1))})
			}
		}
	}
	return out, nil
}

// farJump reports whether a conditional jump of the laid-out blocks
// reaches further than 255 instructions.
func farJump(order []*block, start []int) bool {
	for _, b := range order {
		if b.ret || b.jop == clsJMP|jmpJA {
			continue
		}
		next := start[b.id] + len(b.stmts) + 1
		if start[b.jt.id]-next > 255 || start[b.jf.id]-next > 255 {
			return true
		}
	}
	return false
}

// trampolines are the `ja`s of one layout, indexed by block id: those
// placed after each block, those each block's two edges go through, and
// those to each target.
type trampolines struct {
	owned    [][]*trampoline
	via      [][2]*trampoline
	byTarget [][]*trampoline
}

// route places trampolines until every conditional jump is in reach,
// and returns the program's length.
func (tr *trampolines) route(order []*block, start []int) int {
	for {
		total := place(order, start, tr.owned)
		changed := false
		// From the last block back, so that a trampoline made for a late
		// jump serves the earlier jumps within reach of it.
		for i := len(order) - 1; i >= 0; i-- {
			b := order[i]
			if b.ret || b.jop == clsJMP|jmpJA {
				continue
			}
			next := start[b.id] + len(b.stmts) + 1 // where skips count from
			for edge, target := range [2]*block{b.jt, b.jf} {
				if t := tr.via[b.id][edge]; t != nil && t.pos-next <= 255 {
					continue
				}
				if start[target.id]-next <= 255 {
					tr.via[b.id][edge] = nil
					continue
				}
				// Share a trampoline to the same target within reach.
				var found *trampoline
				for _, t := range tr.byTarget[target.id] {
					if t.pos >= next && t.pos-next <= 255 {
						found = t
						break
					}
				}
				if found == nil {
					found = &trampoline{owner: b, target: target}
					// Blocks before b keep their places: the new trampoline's
					// index is known now, for them to share in this pass.
					found.pos = next + len(tr.owned[b.id])
					tr.owned[b.id] = append(tr.owned[b.id], found)
					tr.byTarget[target.id] = append(tr.byTarget[target.id], found)
				}
				tr.via[b.id][edge] = found
				changed = true
			}
		}
		if !changed {
			return total
		}
	}
}

// place computes each block's first instruction index (in start, by
// block id) and each trampoline's index (in its pos) for the given
// order, and returns the program's length.
func place(order []*block, start []int, owned [][]*trampoline) int {
	pc := 0
	for _, b := range order {
		start[b.id] = pc
		pc += len(b.stmts) + 1
		if b.fallsThrough {
			pc--
		}
		if owned != nil {
			for _, t := range owned[b.id] {
				t.pos = pc
				pc++
			}
		}
	}
	return pc
}

// orderBuf holds the buffers of layout, reused from one walk to the next.
type orderBuf struct {
	// The last order stays valid until a pass changes an edge (and says
	// so in stale) or asks for another entry.
	cached, stale bool
	entry         *block
	epoch         uint64
	stack         []frame
	post          []*block
	rets          []*block
	order         []*block
}

// walker returns the graph's walk buffers, grown for its blocks (no
// block is added after lowering).
func (g *graph) walker() *orderBuf {
	n := len(g.blocks)
	if cap(g.ord.order) < n {
		all := make([]*block, 3*n)
		g.ord.stack = make([]frame, 0, n)
		g.ord.post, g.ord.rets, g.ord.order = all[:0:n], all[n:n:2*n], all[2*n:2*n:3*n]
	}
	return &g.ord
}

// frame is a block being visited by layout's depth-first search.
type frame struct {
	b     *block
	state int
}

// layout returns the blocks reachable from entry, each before all of
// its successors; return blocks come last, accept before reject. The
// slice is valid until the next call.
func (ob *orderBuf) layout(entry *block) []*block {
	if ob.cached && !ob.stale && ob.entry == entry {
		return ob.order
	}
	post, rets := ob.post[:0], ob.rets[:0]
	// Walks number themselves: a block visited by walk n has seen == n.
	// The buffers belong to one graph, and a graph to one compilation.
	ob.epoch++
	epoch := ob.epoch
	// Iterative depth-first search; the false successor is visited last
	// so that it tends to be placed right after its block, like libpcap.
	stack := append(ob.stack[:0], frame{entry, 0})
	entry.seen = epoch
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		b := top.b
		if b.ret {
			rets = append(rets, b)
			stack = stack[:len(stack)-1]
			continue
		}
		var next *block
		switch top.state {
		case 0:
			next = b.jt
		case 1:
			next = b.jf
		default:
			post = append(post, b)
			stack = stack[:len(stack)-1]
			continue
		}
		top.state++
		if next.seen != epoch {
			next.seen = epoch
			stack = append(stack, frame{next, 0})
		}
	}
	order := ob.order[:0]
	for i := len(post) - 1; i >= 0; i-- {
		order = append(order, post[i])
	}
	// Returns in a stable order: accept (non-zero) first, like libpcap.
	for _, r := range rets {
		if r.retA || r.retK != 0 {
			order = append(order, r)
		}
	}
	for _, r := range rets {
		if !r.retA && r.retK == 0 {
			order = append(order, r)
		}
	}
	ob.stack, ob.post, ob.rets, ob.order = stack, post, rets, order
	ob.cached, ob.stale, ob.entry = true, false, entry
	return order
}
