package codegen

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// ErrTooLong is returned when a program needs more instructions than the
// kernel's classic limit (cbpf.MaxInstructions).
var ErrTooLong = errors.New("program too long for the kernel")

// linearize lays the blocks reachable from entry out as a classic program.
// Blocks are placed in reverse postorder (every block before its
// successors, so all jumps go forward) with the returns last. A
// conditional jump whose target lies more than 255 instructions ahead is
// routed through a `ja` placed right after it.
func linearize(entry *block) ([]bpf.RawInstruction, error) {
	order := layoutOrder(entry)

	// far[b] is set when block b's true (bit 0) or false (bit 1) edge
	// needs a trampoline.
	far := make(map[*block]uint8)
	for {
		start := place(order, far)
		changed := false
		for _, b := range order {
			if b.ret || b.jop == clsJMP|jmpJA {
				continue
			}
			jumpAt := start[b] + len(b.stmts)
			next := jumpAt + 1 // where skips count from
			tramp := far[b]
			if tramp&1 == 0 && start[b.jt]-next > 255 {
				far[b] |= 1
				changed = true
			}
			if tramp&2 == 0 && start[b.jf]-next > 255 {
				far[b] |= 2
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	start := place(order, far)
	var out []bpf.RawInstruction
	for _, b := range order {
		for _, s := range b.stmts {
			out = append(out, s.raw())
		}
		if b.ret {
			op := uint16(clsRET | retK)
			if b.retA {
				op = clsRET | retA
			}
			out = append(out, bpf.RawInstruction{Op: op, K: b.retK})
			continue
		}
		if b.jop == clsJMP|jmpJA {
			out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[b.jt] - (len(out) + 1))})
			continue
		}
		jumpAt := len(out)
		next := jumpAt + 1
		t, f := far[b]&1 != 0, far[b]&2 != 0
		// Trampolines follow the jump: first the true one, then the false one.
		tIdx, fIdx := start[b.jt], start[b.jf]
		n := next
		if t {
			tIdx = n
			n++
		}
		if f {
			fIdx = n
			n++
		}
		out = append(out, bpf.RawInstruction{Op: b.jop, Jt: uint8(tIdx - next), Jf: uint8(fIdx - next), K: b.k})
		if t {
			out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[b.jt] - (len(out) + 1))})
		}
		if f {
			out = append(out, bpf.RawInstruction{Op: clsJMP | jmpJA, K: uint32(start[b.jf] - (len(out) + 1))})
		}
	}
	if len(out) > cbpf.MaxInstructions {
		return nil, fmt.Errorf("%w: %d instructions, the limit is %d", ErrTooLong, len(out), cbpf.MaxInstructions)
	}
	return out, nil
}

// place computes each block's first instruction index for the given
// order, counting the trampolines in far.
func place(order []*block, far map[*block]uint8) map[*block]int {
	start := make(map[*block]int, len(order))
	pc := 0
	for _, b := range order {
		start[b] = pc
		pc += len(b.stmts) + 1 + int(far[b]&1) + int(far[b]>>1)
	}
	return start
}

// layoutOrder returns the blocks reachable from entry, each before all of
// its successors; return blocks come last, accept before reject.
func layoutOrder(entry *block) []*block {
	var post []*block
	var rets []*block
	seen := make(map[*block]bool)
	// Iterative depth-first search; the false successor is visited last
	// so that it tends to be placed right after its block, like libpcap.
	type frame struct {
		b     *block
		state int
	}
	stack := []frame{{entry, 0}}
	seen[entry] = true
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
		if !seen[next] {
			seen[next] = true
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
