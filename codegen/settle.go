package codegen

import (
	"math/bits"

	"github.com/bpfc/bpfc/internal/alu"
)

// settle is the optimizer's last rewrite of the graph's shape, beyond
// what libpcap's optimizer does (so it runs after the check that an
// expression rejects every packet, which follows libpcap):
//
//   - a test that the range of its value decides becomes an
//     unconditional block that keeps its code: "link[0:1] & 0xffffff00
//     == 0" always holds once the byte is loaded, and "ip proto 256"
//     never does. The loads stay, because a packet too short for them is
//     still rejected;
//   - a block whose every way out is the reject return is that return
//     (a load that fails rejects too, and nothing else is left to do);
//   - an unconditional block with no code is bypassed.
//
// It reports whether it changed anything.
func (o *optimizer) settle(entry *block) (*block, bool) {
	order := o.ord.layout(entry)
	changed := false
	for _, b := range order {
		if b.ret || b.jop == clsJMP|jmpJA || b.jop&srcX != 0 {
			continue
		}
		taken, known := rangeOf(b.stmts).decides(b.jop&0xf0, b.k)
		if !known {
			continue
		}
		t := b.succ(taken)
		b.jop, b.k, b.jt, b.jf = clsJMP|jmpJA, 0, t, t
		changed = true
		o.ord.stale = true
	}
	entry = o.replaceUp(entry, func(b *block) *block {
		switch {
		case b.ret:
		case isReject(b.jt) && isReject(b.jf):
			changed = true
			return b.jt
		case b.jop == clsJMP|jmpJA && len(b.stmts) == 0:
			changed = true
			return b.jt
		}
		return nil
	})
	return entry, changed
}

// isReject reports whether b is a `ret #0`.
func isReject(b *block) bool { return b.ret && !b.retA && b.retK == 0 }

// A vrange is what is known of a 32-bit value: it lies in [lo, hi] and
// has no bit set outside bits.
type vrange struct{ lo, hi, bits uint32 }

var anyValue = vrange{0, 0xffffffff, 0xffffffff}

func exactly(k uint32) vrange { return vrange{k, k, k} }

// upTo is the range of values from 0 to hi.
func upTo(hi uint32) vrange { return vrange{0, hi, fill(hi)} }

// fill sets every bit below the highest set bit of v.
func fill(v uint32) uint32 { return uint32(uint64(1)<<bits.Len32(v) - 1) }

func (r vrange) exact() bool { return r.lo == r.hi }

// rangeOf returns what is known of A after code, run with nothing known
// of A and X before it.
func rangeOf(code []stmt) vrange {
	a, x := anyValue, anyValue
	for _, s := range code {
		switch s.op & 0x07 {
		case clsLD:
			a = loadRange(s, a)
		case clsLDX:
			x = loadRange(s, x)
		case clsALU:
			if s.op&srcX != 0 {
				if x.exact() {
					a = aluRange(s.op&0xf0, a, x.lo)
				} else {
					a = anyValue
				}
				continue
			}
			a = aluRange(s.op&0xf0, a, s.k)
		case clsMISC:
			if s.op&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return a
}

// loadRange is the range of what the load s puts in its register (r
// before it).
func loadRange(s stmt, r vrange) vrange {
	switch s.op & 0xe0 {
	case modeIMM:
		return exactly(s.k)
	case modeABS, modeIND:
		if s.op&0x07 == clsLD && s.op&0xe0 == modeABS && s.k >= skfAdOff {
			return anyValue // ancillary data
		}
		return upTo(sizeMask(sizeOf(s.op)))
	case modeMSH:
		return upTo(60)
	}
	return anyValue
}

func sizeOf(op uint16) int {
	switch op & 0x18 {
	case szB:
		return 1
	case szH:
		return 2
	}
	return 4
}

// aluRange is the range of A after A = A op k.
func aluRange(op uint16, a vrange, k uint32) vrange {
	if a.exact() {
		if op == aluNEG {
			return exactly(-a.lo)
		}
		if v, ok := alu.Eval(op, a.lo, k); ok {
			return exactly(v)
		}
		return anyValue
	}
	switch op {
	case aluAND:
		return vrange{0, min(a.hi, k), a.bits & k}
	case aluOR:
		return vrange{max(a.lo, k), a.bits | k, a.bits | k}
	case aluRSH:
		if k >= 32 {
			return exactly(0)
		}
		return vrange{a.lo >> k, a.hi >> k, a.bits >> k}
	case aluLSH:
		if k < 32 && a.hi>>(32-k) == 0 {
			return vrange{a.lo << k, a.hi << k, a.bits << k}
		}
	case aluADD:
		if a.hi+k >= a.hi {
			return vrange{a.lo + k, a.hi + k, fill(a.hi + k)}
		}
	case aluSUB:
		if a.lo >= k {
			return vrange{a.lo - k, a.hi - k, fill(a.hi - k)}
		}
	case aluMUL:
		if hi := uint64(a.hi) * uint64(k); hi <= 0xffffffff {
			return vrange{a.lo * k, uint32(hi), fill(uint32(hi))}
		}
	case aluDIV:
		if k != 0 {
			return vrange{a.lo / k, a.hi / k, fill(a.hi / k)}
		}
	case aluMOD:
		if k != 0 {
			hi := min(a.hi, k-1)
			return vrange{0, hi, fill(hi)}
		}
	case aluXOR:
		b := a.bits | k
		return vrange{0, b, b}
	}
	return anyValue
}

// decides returns the outcome of the test op (jmpJEQ, jmpJGT, jmpJGE or
// jmpJSET against k) on any value of r, if r decides it.
func (r vrange) decides(op uint16, k uint32) (taken, known bool) {
	switch op {
	case jmpJEQ:
		if r.exact() {
			return r.lo == k, true
		}
		if k < r.lo || k > r.hi || k&^r.bits != 0 {
			return false, true
		}
	case jmpJGT:
		if r.lo > k {
			return true, true
		}
		if r.hi <= k {
			return false, true
		}
	case jmpJGE:
		if r.lo >= k {
			return true, true
		}
		if r.hi < k {
			return false, true
		}
	case jmpJSET:
		if r.exact() {
			return r.lo&k != 0, true
		}
		if r.bits&k == 0 {
			return false, true
		}
	}
	return false, false
}
