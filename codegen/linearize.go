package codegen

import (
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// ErrTooLong is returned when a program needs more instructions than the
// kernel's classic limit (cbpf.MaxInstructions).
var ErrTooLong = errors.New("program too long for the kernel")

// A trampoline is a `ja` placed right after the block that owns it, for
// conditional jumps whose target is more than 255 instructions ahead.
type trampoline struct {
	owner  *block
	target *block
	pos    int // instruction index, set by place
}

// linearize lays the blocks reachable from entry out as a classic program.
// Blocks are placed in reverse postorder (every block before its
// successors, so all jumps go forward) with the returns last. A
// conditional jump whose target lies more than 255 instructions ahead goes
// through a trampoline, a `ja` to the target: one placed after an earlier
// block is shared when it is in reach, else a new one follows the jump.
func linearize(entry *block) ([]bpf.RawInstruction, error) {
	order := layoutOrder(entry)
	// An unconditional block placed right before its target needs no ja.
	for i, b := range order {
		b.fallsThrough = b.jop == clsJMP|jmpJA && i+1 < len(order) && order[i+1] == b.jt
	}

	owned := make(map[*block][]*trampoline) // trampolines placed after each block
	via := make(map[[2]any]*trampoline)     // {block, edge 0/1} -> trampoline used
	byTarget := make(map[*block][]*trampoline)
	var start map[*block]int
	for {
		start = place(order, owned)
		changed := false
		// From the last block back, so that a trampoline made for a late
		// jump serves the earlier jumps within reach of it.
		for i := len(order) - 1; i >= 0; i-- {
			b := order[i]
			if b.ret || b.jop == clsJMP|jmpJA {
				continue
			}
			next := start[b] + len(b.stmts) + 1 // where skips count from
			for edge, target := range [2]*block{b.jt, b.jf} {
				key := [2]any{b, edge}
				if t := via[key]; t != nil && t.pos-next <= 255 {
					continue
				}
				if start[target]-next <= 255 {
					delete(via, key)
					continue
				}
				// Share a trampoline to the same target within reach.
				var found *trampoline
				for _, t := range byTarget[target] {
					if t.pos >= next && t.pos-next <= 255 {
						found = t
						break
					}
				}
				if found == nil {
					found = &trampoline{owner: b, target: target}
					// Blocks before b keep their places: the new trampoline's
					// index is known now, for them to share in this pass.
					found.pos = next + len(owned[b])
					owned[b] = append(owned[b], found)
					byTarget[target] = append(byTarget[target], found)
				}
				via[key] = found
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	var out []bpf.RawInstruction
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
				out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[b.jt] - (len(out) + 1))})
			}
		default:
			next := len(out) + 1
			tIdx, fIdx := start[b.jt], start[b.jf]
			if t := via[[2]any{b, 0}]; t != nil {
				tIdx = t.pos
			}
			if t := via[[2]any{b, 1}]; t != nil {
				fIdx = t.pos
			}
			out = append(out, bpf.RawInstruction{Op: b.jop, Jt: uint8(tIdx - next), Jf: uint8(fIdx - next), K: b.k})
		}
		for _, t := range owned[b] {
			out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[t.target] - (len(out) + 1))})
		}
	}
	if len(out) > cbpf.MaxInstructions {
		return nil, fmt.Errorf("%w: %d instructions, the limit is %d", ErrTooLong, len(out), cbpf.MaxInstructions)
	}
	return out, nil
}

// place computes each block's first instruction index and each
// trampoline's index (in its pos) for the given order.
func place(order []*block, owned map[*block][]*trampoline) map[*block]int {
	start := make(map[*block]int, len(order))
	pc := 0
	for _, b := range order {
		start[b] = pc
		pc += len(b.stmts) + 1
		if b.fallsThrough {
			pc--
		}
		for _, t := range owned[b] {
			t.pos = pc
			pc++
		}
	}
	return start
}

// nextEpoch numbers the graph walks: a block visited by walk n has seen
// == n. Blocks belong to one compilation, so concurrent compilations never
// share one; the counter itself is atomic.
var nextEpoch atomic.Uint64

// layoutOrder returns the blocks reachable from entry, each before all of
// its successors; return blocks come last, accept before reject.
func layoutOrder(entry *block) []*block {
	var post []*block
	var rets []*block
	epoch := nextEpoch.Add(1)
	// Iterative depth-first search; the false successor is visited last
	// so that it tends to be placed right after its block, like libpcap.
	type frame struct {
		b     *block
		state int
	}
	stack := []frame{{entry, 0}}
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
	order := make([]*block, 0, len(post)+len(rets))
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
	return order
}
