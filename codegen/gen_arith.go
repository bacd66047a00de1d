package codegen

import (
	"fmt"

	"github.com/bpfc/bpfc/internal/alu"
	"github.com/bpfc/bpfc/parser"
)

// Layer says where a packet accessor's offsets count from (libpcap's
// proto[expr:size]).
type Layer int

// The layers of packet accessors.
const (
	LayerLink   Layer = iota // link, ether, ppp, ...: from the link header
	LayerNet                 // ip, arp, rarp, ip6, ...: from the network header
	LayerIPv4L4              // tcp, udp, icmp, ...: after the IPv4 header
	LayerICMPv6              // icmp6: after the fixed IPv6 header
	LayerRadio               // radio: the radio header (radiotap) before 802.11
)

// An arith is an arithmetic expression on the packet, lowered into
// straight-line code that leaves its value in A.
type arith interface{ isArith() }

type (
	aConst uint32
	aLen   struct{}
	// aLoad is proto[index:size]: guard must hold for the load to be
	// made (e.g. "the packet is IPv4 TCP and not a fragment").
	aLoad struct {
		layer Layer
		guard pred
		index arith
		size  int
	}
	aBin struct {
		op   uint16 // aluADD, aluSUB, ...
		x, y arith
	}
	aNeg struct{ x arith }
)

func (aConst) isArith() {}
func (aLen) isArith()   {}
func (aLoad) isArith()  {}
func (aBin) isArith()   {}
func (aNeg) isArith()   {}

// arithGen emits the code of one relation's expressions.
type arithGen struct {
	c    *compiler
	next uint32 // next free scratch cell
}

// errScratch is returned when an expression's arithmetic needs more
// scratch cells than the link type leaves it (limit: 13 of the 16, 11 on
// 802.11, whose offsets take two).
func errScratch(limit int) error {
	return fmt.Errorf("expression too complex: its arithmetic needs more than %d scratch cells", limit)
}

// emit appends code that leaves e's value in A; X is clobbered.
func (g *arithGen) emit(out []stmt, e arith) ([]stmt, error) {
	switch e := e.(type) {
	case aConst:
		return append(out, ldImm(uint32(e))), nil
	case aLen:
		return append(out, ldLen()), nil
	case aNeg:
		out, err := g.emit(out, e.x)
		return append(out, neg()), err
	case aBin:
		if k, ok := g.c.constOf(e); ok {
			// libpcap's optimizer folds x&0, x*0, 0/y, ... to constants
			// and drops their loads, so a packet too short for them is
			// not rejected.
			return append(out, ldImm(k)), nil
		}
		if k, ok := e.y.(aConst); ok {
			out, err := g.emit(out, e.x)
			return append(out, aluK(e.op, uint32(k))), err
		}
		out, err := g.emit(out, e.y)
		if err != nil {
			return nil, err
		}
		t, err := g.alloc()
		if err != nil {
			return nil, err
		}
		out = append(out, st(t))
		out, err = g.emit(out, e.x)
		if err != nil {
			return nil, err
		}
		g.free()
		return append(out, ldxMem(t), aluX(e.op)), nil
	case aLoad:
		return g.emitLoad(out, e)
	}
	return nil, fmt.Errorf("codegen: unknown arithmetic node %T", e)
}

func (g *arithGen) alloc() (uint32, error) {
	limit := arithCells
	if g.c.link.wlan || g.c.link.lt == linkPFLOG {
		limit = wlanArithCells // (802.11's offsets have two, pflog's one)
	}
	if g.next >= uint32(limit) {
		return 0, errScratch(limit)
	}
	g.next++
	return g.next - 1, nil
}

func (g *arithGen) free() { g.next-- }

// emitLoad emits proto[index:size]. The index is computed into X and the
// load is [x + base]; for transport layers the IPv4 header length is
// added to the index first.
func (g *arithGen) emitLoad(out []stmt, e aLoad) ([]stmt, error) {
	c := g.c
	var base loc
	switch e.layer {
	case LayerRadio:
		base = abs(0)
	case LayerLink:
		base = c.offLinkHdr
	case LayerNet, LayerIPv4L4:
		base = c.nl(0)
	case LayerICMPv6:
		base = c.nl(ipv6Len)
	}
	// A constant index needs no arithmetic.
	if k, ok := e.index.(aConst); ok {
		if e.layer == LayerIPv4L4 {
			return append(append(out, c.l4X()...), ldInd(e.size, base.off+uint32(k))), nil
		}
		if c.asLibpcap() && base.reg < 0 && e.layer != LayerRadio {
			// libpcap loads proto[k] at [x + base] with X = k: another
			// value than the same byte's at [base + k] ("ip[0] = 0 and
			// ether[14] = 1" is not refused).
			return append(out, ldxImm(uint32(k)), ldInd(e.size, base.off)), nil
		}
		return append(out, base.add(uint32(k)).load(e.size)...), nil
	}
	out, err := g.emit(out, e.index)
	if err != nil {
		return nil, err
	}
	if e.layer == LayerIPv4L4 && base.reg < 0 {
		// ldxb 4*([nl]&0xf) leaves A alone: no spill needed.
		return append(out, ldxMSH(base.off), aluX(aluADD), tax(), ldInd(e.size, base.off)), nil
	}
	if e.layer == LayerIPv4L4 || base.reg >= 0 {
		// A += X, where X is the IPv4 header length (and/or the base
		// offset in its cell); A must be kept while X is computed.
		t, err := g.alloc()
		if err != nil {
			return nil, err
		}
		g.free()
		out = append(out, st(t))
		if e.layer == LayerIPv4L4 {
			out = append(out, c.l4X()...)
		} else {
			out = append(out, ldxMem(uint32(base.reg)))
		}
		out = append(out, ldMem(t), aluX(aluADD))
	}
	return append(out, tax(), ldInd(e.size, base.off)), nil
}

// fold evaluates the constant parts of e, as libpcap's optimizer does.
// A division or modulus by a constant zero is left alone (the parser
// refuses those; at run time they reject the packet).
func (c *compiler) fold(e arith) arith {
	switch e := e.(type) {
	case aNeg:
		x := c.fold(e.x)
		if k, ok := x.(aConst); ok {
			return aConst(-uint32(k))
		}
		return aNeg{x}
	case aBin:
		x, y := c.fold(e.x), c.fold(e.y)
		kx, okx := x.(aConst)
		ky, oky := y.(aConst)
		if okx && oky {
			if v, ok := alu.Eval(e.op, uint32(kx), uint32(ky)); ok {
				return aConst(v)
			}
		}
		if k, ok := c.constOf(x); ok && k == 0 && alu.ZeroLeft(e.op) {
			// libpcap's optimizer makes 0 of it, and drops y's loads
			// (whose guards an operation does not keep: see guards);
			// x's stay ("(ip[0] * 0) % y" tests IPv4).
			return x
		}
		if l, ok := x.(aLoad); ok && oky && e.op == aluAND && uint32(ky)&sizeMask(l.size) == sizeMask(l.size) {
			return x // the mask keeps every bit the load can have
		}
		if oky && ky == 0 && alu.ZeroRight(e.op) {
			// libpcap's optimizer folds x&0 and x*0 to 0 and drops the
			// loads of x, so a packet too short for them is not rejected
			// (the loads' protocol guards stay).
			return aBin{e.op, x, y}
		}
		return aBin{e.op, x, y}
	case aLoad:
		e.index = c.fold(e.index)
		return e
	}
	return e
}

// relation lowers "x op y", with the loads' guards tested first.
func (c *compiler) relation(op cmpOp, x, y arith) (pred, error) {
	_, litX := x.(aConst)
	_, litY := y.(aConst)
	x0, y0 := x, y
	x, y = c.fold(x), c.fold(y)
	if kx, ok := c.constOf(x); ok {
		if ky, ok := c.constOf(y); ok {
			if c.asLibpcap() {
				// libpcap decides a relation of literals in its first
				// loop's second round, one of constant arithmetic only in
				// its second loop, where no jump moves (modelConst).
				return c.and(c.guards(x), c.guards(y), c.modelConstRel(op, x0, y0, kx, ky, litX && litY)), nil
			}
			return c.and(c.guards(x), c.guards(y), pConst(compare(op, kx, ky))), nil
		}
	}
	g := &arithGen{c: c}
	var code []stmt
	var err error
	var test pred
	if k, ok := y.(aConst); ok {
		if b, isAnd := x.(aBin); isAnd && b.op == aluAND && (op == cmpEQ || op == cmpNE) {
			if m, ok := b.y.(aConst); ok {
				// (x & m) == k as a jset where it makes one.
				code, err = g.emit(nil, b.x)
				if err != nil {
					return nil, err
				}
				test = c.maskTestOf(code, uint32(m), uint32(k), true)
				if op == cmpNE {
					test = c.not(test)
				}
				return c.and(c.guards(x), c.guards(y), markRel(test)), nil
			}
		}
		code, err = g.emit(nil, x)
		if err != nil {
			return nil, err
		}
		test = c.cmp(code, op, uint32(k))
		if _, isLen := x.(aLen); isLen && litY && op != cmpEQ && op != cmpNE {
			// libpcap's first round already compares the packet length
			// itself with the literal ("jgt x" with X a known constant
			// is "jgt #k"), as "less" and "greater" do: "len > 100 and
			// less 100" is refused. (Its loads are indexed, and an
			// equality is a subtraction until a later round.)
			return test, nil
		}
	} else {
		code, err = g.emit(nil, y)
		if err != nil {
			return nil, err
		}
		t, err := g.alloc()
		if err != nil {
			return nil, err
		}
		code = append(code, st(t))
		code, err = g.emit(code, x)
		if err != nil {
			return nil, err
		}
		code = append(code, ldxMem(t))
		test = cmpX(code, op)
	}
	return c.and(c.guards(x), c.guards(y), markRel(test)), nil
}

// markRel marks the tests of p as a relation's (see block.rel): a
// relation's test, or the sets and ranges regrouping makes of them.
func markRel(p pred) pred {
	switch q := p.(type) {
	case *pTest:
		r := *q
		r.rel = true
		return &r
	case *pNot:
		return &pNot{markRel(q.x)}
	case *pAnd:
		return &pAnd{markRel(q.a), markRel(q.b)}
	case *pOr:
		return &pOr{markRel(q.a), markRel(q.b)}
	case pSet:
		q.rel = true
		return q
	}
	return p
}

// guards returns the conjunction of the guards of e's loads that libpcap
// keeps, in its order: an index's guards before its load's own, and of
// an operation those of its left operand only.
func (c *compiler) guards(e arith) pred {
	switch e := e.(type) {
	case aLoad:
		return c.and(c.guards(e.index), e.guard)
	case aBin:
		// libpcap keeps the protocol tests of an operation's left operand
		// only: "ip and 1 + tcp[0] > 1" tests no TCP, and keeps a UDP
		// packet whose byte there is set (libpcap 1.10's gen_arth).
		return c.guards(e.x)
	case aNeg:
		return c.guards(e.x)
	}
	return pTrue
}

// load builds the accessor proto[index:size] with libpcap's guards: a
// network-layer accessor needs the protocol; a transport one needs IPv4,
// the protocol and a first fragment; icmp6 needs IPv6 with ICMPv6 as the
// next header.
func (c *compiler) load(layer Layer, p parser.Proto, index arith, size int) aLoad {
	var guard pred = pTrue
	switch layer {
	case LayerNet:
		guard = c.protoAbbrev(p)
	case LayerIPv4L4:
		guard = c.and(c.netProto(etherIP), c.protoAbbrev(p), c.notFragment())
	case LayerICMPv6:
		guard = c.ip6NextHeader(protoICMPv6)
	}
	return aLoad{layer: layer, guard: guard, index: index, size: size}
}

// constOf is constValue, but where libpcap leaves the program as written
// (asWritten) only for e without loads: its code then makes every load.
func (c *compiler) constOf(e arith) (uint32, bool) {
	if c.asWritten() && hasLoad(e) {
		return 0, false
	}
	return constValue(e)
}

// hasLoad reports whether e loads from the packet.
func hasLoad(e arith) bool {
	switch e := e.(type) {
	case aBin:
		return hasLoad(e.x) || hasLoad(e.y)
	case aNeg:
		return hasLoad(e.x)
	case aLoad:
		return true
	}
	return false
}

// constValue returns the value of e when it does not depend on the
// packet, as libpcap's optimizer folds it: a constant, x&0 and x*0, 0
// times, divided, masked or shifted by anything, and operations on such
// values.
func constValue(e arith) (uint32, bool) {
	switch e := e.(type) {
	case aConst:
		return uint32(e), true
	case aBin:
		kx, okx := constValue(e.x)
		ky, oky := constValue(e.y)
		switch {
		case oky && ky == 0 && alu.ZeroRight(e.op):
			return 0, true
		case okx && kx == 0 && alu.ZeroLeft(e.op) && !(oky && ky == 0 && (e.op == aluDIV || e.op == aluMOD)):
			return 0, true
		case okx && oky:
			return alu.Eval(e.op, kx, ky)
		}
	case aNeg:
		if k, ok := constValue(e.x); ok {
			return -k, true
		}
	}
	return 0, false
}

// compare evaluates a comparison of two constants.
func compare(op cmpOp, a, b uint32) bool {
	switch op {
	case cmpEQ:
		return a == b
	case cmpNE:
		return a != b
	case cmpGT:
		return a > b
	case cmpGE:
		return a >= b
	case cmpLT:
		return a < b
	case cmpLE:
		return a <= b
	}
	return a&b != 0
}
