package codegen

// Options.Compact's pass over the optimized graph.

// hoistX moves the code of an unconditional block that only sets X into
// the conditional block that is its one predecessor, when the jump's
// other branch returns (and so does not read X), so that the
// predecessor jumps straight on: of the unconditional blocks that end in
// one block, only one can fall through to it, and the others need a
// `ja`. IPv4's `ldxb 4*([14]&0xf)` before the port tests IPv6 shares
// goes into the fragment test, whose other branch rejects. It costs the
// instructions moved on the other branch, which is why only Compact does
// it, and only where it saves a `ja`. Code that can fail (a load past the
// end of a short packet rejects it) moves only above a reject. It
// reports whether it moved any.
func (g *graph) hoistX(entry *block) bool {
	order := g.walker().layout(entry)
	n := len(g.blocks)
	counts := zeroed(&g.scr.i32, 4*n)
	preds, jas := counts[:n], counts[n:2*n]
	countPreds(order, preds)
	for _, b := range order {
		if !b.ret && b.jf == b.jt {
			jas[b.jt.id]++
		}
	}
	type hoist struct {
		p, b  *block
		taken bool
	}
	var cands []hoist
	for _, p := range order {
		if p.ret || p.jop == clsJMP|jmpJA || p.jop&srcX != 0 {
			continue
		}
		for _, taken := range []bool{true, false} {
			b, other := p.jt, p.jf
			if !taken {
				b, other = p.jf, p.jt
			}
			if b == other || b.ret || b.jop != clsJMP|jmpJA || preds[b.id] != 1 || !other.ret {
				continue
			}
			canFail, ok := onlySetsX(b.stmts)
			if !ok || canFail && (other.retA || other.retK != 0) {
				continue
			}
			cands = append(cands, hoist{p, b, taken})
			break
		}
	}
	// Leave one unconditional block to fall through to each target,
	// unless one that cannot move does: IPv6's ldx #40 (which costs the
	// IPv6 packets that go elsewhere nothing where it is), or else the
	// last. keep[t] is the candidate left, +1 (negated for an ldx #k).
	movable, keep := counts[2*n:3*n], counts[3*n:]
	for i, h := range cands {
		t := h.b.jt.id
		movable[t]++
		switch {
		case h.b.stmts[0].op == clsLDX|modeIMM && keep[t] >= 0:
			keep[t] = -int32(i + 1)
		case keep[t] >= 0:
			keep[t] = int32(i + 1)
		}
	}
	moved := false
	for i, h := range cands {
		t := h.b.jt
		if jas[t.id] == movable[t.id] && (keep[t.id] == int32(i+1) || keep[t.id] == -int32(i+1)) {
			continue
		}
		p := h.p
		p.stmts = append(p.stmts[:len(p.stmts):len(p.stmts)], h.b.stmts...)
		if h.taken {
			p.jt = t
		} else {
			p.jf = t
		}
		moved = true
	}
	if moved {
		g.ord.stale = true
	}
	return moved
}

// onlySetsX reports whether code is not empty and writes X and nothing
// else, and whether it loads from the packet (which can fail).
func onlySetsX(code []stmt) (canFail, ok bool) {
	if len(code) == 0 {
		return false, false
	}
	for _, s := range code {
		if s.op&0x07 != clsLDX {
			return false, false
		}
	}
	return mayFail(code), true
}

// shareTransport makes IPv6's copy of tests on the transport header use
// IPv4's: where a subgraph loads the IPv6 payload at fixed offsets (`ldh
// [54]`, 40 bytes after the network header) and another tests the same
// fields of the IPv4 payload through X (`ldxb 4*([14]&0xf); ldh [x +
// 14]`), with the same tests and the same ends, the IPv6 one becomes
// `ldx #40` and a jump into IPv4's. The loads read the same bytes, so no
// packet's verdict changes; an IPv6 packet runs one instruction more.
//
// The IPv4 subgraph must read X only in its loads and never write it
// after its first `ldxb`; the IPv6 one must not touch X; the blocks both
// end in must not read the X they reach with. It returns whether it
// shared anything.
func (g *graph) shareTransport(entry *block) bool {
	order := g.walker().layout(entry)
	n := len(g.blocks)
	// IPv4 roots, by their first load through X.
	type key struct {
		op uint16
		k  uint32
	}
	var roots map[key][]*block
	for _, b := range order {
		if len(b.stmts) >= 2 && b.stmts[0].op == clsLDX|szB|modeMSH && b.stmts[1].op&0xe7 == clsLD|modeIND {
			if roots == nil {
				roots = map[key][]*block{}
			}
			k := key{b.stmts[1].op &^ modeIND, b.stmts[1].k}
			roots[k] = append(roots[k], b)
		}
	}
	if roots == nil {
		return false
	}
	live := zeroed(&g.scr.bools, n)
	// Backwards: a block reads X on entry if it does before writing it,
	// or if a successor does and it leaves X alone.
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if b.ret {
			continue
		}
		r, w := xUse(b.stmts)
		if !w && b.jop&srcX != 0 {
			r = true
		}
		live[b.id] = r || !w && (live[b.jt.id] || live[b.jf.id])
	}
	shared := false
	tried := 0
	for _, b6 := range order {
		if b6.ret || len(b6.stmts) == 0 || b6.stmts[0].op&0xe7 != clsLD|modeABS || b6.stmts[0].k < ipv6Len {
			continue
		}
		for _, b4 := range roots[key{b6.stmts[0].op &^ modeABS, b6.stmts[0].k - ipv6Len}] {
			if tried++; tried > 256 {
				return shared
			}
			if b4.jop == clsJMP|jmpJA || !sameTransport(b6, b4, 1, live, map[[2]int]bool{}) || reaches(b4, b6, len(g.blocks)) {
				continue
			}
			// b4 becomes its ldxb, then the rest of it (b4r); b6 becomes
			// ldx #40, then b4r.
			b4r := g.add(*b4)
			b4r.stmts = b4.stmts[1:]
			*b4 = block{id: b4.id, stmts: b4.stmts[:1:1], jop: clsJMP | jmpJA, jt: b4r, jf: b4r}
			*b6 = block{id: b6.id, stmts: []stmt{ldxImm(ipv6Len)}, jop: clsJMP | jmpJA, jt: b4r, jf: b4r}
			g.ord.stale = true
			shared = true
			break
		}
	}
	return shared
}

// sameTransport reports whether the subgraphs from b6 and b4 do the same
// when b4's X (from skip statements on) is 40: the same tests, loads at
// k in b6 where b4 loads at [x + k-40], and the same ends, which must
// not read X. done memoizes pairs already found alike.
func sameTransport(b6, b4 *block, skip int, live []bool, done map[[2]int]bool) bool {
	if b6 == b4 {
		// (A block made since live was computed may read X.)
		return b6.id < len(live) && !live[b6.id]
	}
	if b6.ret || b4.ret {
		return b6.ret && b4.ret && b6.retA == b4.retA && b6.retK == b4.retK
	}
	pair := [2]int{b6.id, b4.id}
	if done[pair] {
		return true
	}
	if b6.jop != b4.jop || b6.k != b4.k || b6.jop&srcX != 0 || len(b6.stmts) != len(b4.stmts)-skip || len(done) > len(live) {
		return false
	}
	for i, s6 := range b6.stmts {
		s4 := b4.stmts[i+skip]
		r6, w6 := xUse([]stmt{s6})
		switch {
		case r6 || w6:
			return false
		case s6 == s4:
		case s6.op&0xe7 == clsLD|modeABS && s4.op == s6.op&^modeABS|modeIND && s6.k >= ipv6Len && s4.k == s6.k-ipv6Len:
		default:
			return false
		}
	}
	done[pair] = true
	return sameTransport(b6.jt, b4.jt, 0, live, done) && sameTransport(b6.jf, b4.jf, 0, live, done)
}

// xUse reports whether code reads X before writing it, and whether it
// writes X.
func xUse(code []stmt) (reads, writes bool) {
	for _, s := range code {
		var r, w bool
		switch s.op & 0x07 {
		case clsLD:
			r = s.op&0xe0 == modeIND
		case clsLDX:
			w = true
		case clsSTX:
			r = true
		case clsALU:
			r = s.op&srcX != 0
		case clsMISC:
			if s.op&0xf8 == miscTXA {
				r = true
			} else {
				w = true
			}
		}
		if r && !writes {
			reads = true
		}
		if w {
			writes = true
		}
	}
	return reads, writes
}

// reaches reports whether to can be reached from from.
func reaches(from, to *block, n int) bool {
	seen := make([]bool, n)
	stack := []*block{from}
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b == to {
			return true
		}
		if b.ret || seen[b.id] {
			continue
		}
		seen[b.id] = true
		stack = append(stack, b.jt, b.jf)
	}
	return false
}
