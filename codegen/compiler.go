package codegen

import (
	"errors"
	"sync"

	"github.com/bpfc/bpfc/parser"
)

// compiler holds the state of one compilation: the link layer and the
// offsets in force, which vlan, mpls and pppoes shift for the rest of the
// expression, as libpcap does.
type compiler struct {
	link    *linkLayer
	snaplen uint32

	// The offsets in force: of the link-layer protocol field and of the
	// network-layer header. vlan adds 4 to both; mpls and pppoes move the
	// network header and change how its protocol is found (proto).
	offLinkType    loc
	offLinkPayload loc
	// offLinkHdr is where the link header in force starts, for link[],
	// ether[] and byte: the packet's start, or after pppoes the PPP
	// header's (libpcap's off_linkhdr; vlan and mpls leave it).
	offLinkHdr loc
	proto      func(c *compiler, et uint32) pred
	// protoKind names proto for netProto's memo: the link's (0), MPLS's,
	// PPP's or, after geneve, Ethernet's (the offsets alone do not tell
	// "geneve and ip" from "mpls and geneve and ip").
	protoKind uint8

	// nlNoSnap and nlpidFudge are libpcap's off_nl_nosnap and C-HDLC
	// fudge byte in force: where an 802.2 payload without SNAP starts
	// past offLinkPayload, and where the OSI NLPID is past it. pppoes
	// makes both 0; geneve leaves nlNoSnap (libpcap reads the inner
	// packet's NLPID at the outer link's offset) and makes the fudge 0.
	nlNoSnap, nlpidFudge uint32
	// offNL is how far offLinkPayload, the network header, is past the
	// link payload's start, its 802.2 header (libpcap's off_nl): 8 on
	// 802.11, behind an LLC/SNAP header, and 0 elsewhere, where the
	// network header is the link payload.
	offNL uint32
	// radiotapLen is set when the expression reads the 802.11 header
	// behind a radio header (radiotap, AVS, Prism, PPI) but not its
	// payload: the header's length is then computed inline while the
	// program is optimized, and once, first, where it still needs it
	// (compiler.inlineRadio).
	radiotapLen bool
	// unoptimized is set, before lowering, when libpcap leaves the
	// program as written (asWritten): the generators then keep the loads
	// libpcap's optimizer would drop (a mask of 0, x & 0).
	unoptimized bool

	mplsDepth      int    // MPLS labels seen so far
	mplsShift      uint32 // bytes of MPLS labels offLinkPayload is past the link payload (see llcOff)
	geneveUsed     bool   // the offset cells of geneve are in use
	protochainUsed bool
	pppoe          bool // inside a PPPoE session: the protocol is PPP's
	lane           bool // after "lane" on SunATM: an Ethernet frame in LANE (laneLink)

	// savefile is set when compiling for a capture file rather than a
	// live capture: Linux ancillary data is then unavailable.
	savefile        bool
	protochainDepth int
	nullBigEndian   bool
	// netmask is the IPv4 netmask for "ip broadcast" (0: unknown).
	netmask uint32
	// at is the node being lowered, for error positions.
	at parser.Node

	// err is the first semantic error met; lowering goes on but its
	// result is discarded.
	err error

	protoMemo []protoMemo
	memoBuf   [4]protoMemo

	// Where the generators' preds are allocated, many at a time: long
	// host lists make thousands (see and2).
	tests chunked[pTest]
	ands  chunked[pAnd]
	ors   chunked[pOr]
	nots  chunked[pNot]

	// testsMade says that a test has been made; protoFolded, that a
	// protocol test folded to a constant in the primitive being lowered;
	// constFirst, that the first primitive is a constant or has such a
	// protocol test: then libpcap's first block is a constant's, not
	// bpfc's entry, and libpcap keeps no load of the entry when the
	// entry's test goes (see rootKeepsCode).
	testsMade, protoFolded, constFirst bool

	// keepConsts lowers the expression as libpcap's code has it, for the
	// refusal model only (libpcapRejects), which must see the values and
	// blocks libpcap's optimizer sees: a constant libpcap has a block
	// for (a protocol test that cannot hold on the link, a relation of
	// constants) is pKept, which and/or do not fold, and a single-bit
	// test "(A & m) == m" is "and #m; jeq #m", not a jset.
	keepConsts bool
	// modelIDs numbers the values of relations of constants, for the
	// refusal model (modelConstRel).
	modelIDs map[string]uint32
}

// asLibpcap reports whether c lowers for the refusal model (keepConsts).
func (c *compiler) asLibpcap() bool { return c != nil && c.keepConsts }

// kept is p, or where p is a constant and c keeps them, its pKept.
func (c *compiler) kept(p pred) pred {
	if k, ok := p.(pConst); ok && c.asLibpcap() {
		return pKept(k)
	}
	return p
}

// isConst reports whether p is a constant, kept or not.
func isConst(p pred) bool {
	switch p.(type) {
	case pConst, pKept:
		return true
	}
	return false
}

// isFalse reports whether p is the constant false, kept or not.
func isFalse(p pred) bool { return p == pFalse || p == pKept(false) }

// and2, or2 and test are and(a, b), or(a, b) and the pTest (prep, jop,
// k), their preds from the compiler's chunks; with a nil compiler, from
// the heap (the free functions and, or, cmp ... of pred.go).
func (c *compiler) and2(a, b pred) pred {
	switch {
	case b == pFalse && c.asWritten() && !isConst(a):
		// (Where libpcap does not optimize, a's loads are made and may
		// reject the packet before the constant is reached.)
	case a == pFalse || b == pFalse:
		return pFalse
	case a == pTrue:
		return b
	case b == pTrue:
		return a
	}
	if c == nil {
		return &pAnd{a, b}
	}
	n := c.ands.alloc(8)
	*n = pAnd{a, b}
	return n
}

func (c *compiler) or2(a, b pred) pred {
	switch {
	case b == pTrue && c.asWritten() && !isConst(a):
		// (As in and2.)
	case a == pTrue || b == pTrue:
		return pTrue
	case a == pFalse:
		return b
	case b == pFalse:
		return a
	}
	if c == nil {
		return &pOr{a, b}
	}
	n := c.ors.alloc(8)
	*n = pOr{a, b}
	return n
}

func (c *compiler) test(prep []stmt, jop uint16, k uint32) pred {
	if c == nil {
		return &pTest{prep, jop, false, 0, k}
	}
	c.testsMade = true
	n := c.tests.alloc(8)
	*n = pTest{prep, jop, false, 0, k}
	return n
}

// and, or and not are the compiler's and2 and or2 over any number of
// preds, and its negation (see and in pred.go).
func (c *compiler) and(ps ...pred) pred {
	var out pred = pTrue
	for _, p := range ps {
		out = c.and2(out, p)
	}
	return out
}

func (c *compiler) or(ps ...pred) pred {
	var out pred = pFalse
	for _, p := range ps {
		out = c.or2(out, p)
	}
	return out
}

func (c *compiler) not(p pred) pred {
	switch q := p.(type) {
	case pConst:
		return pConst(!bool(q))
	case *pNot:
		return q.x
	}
	if c == nil {
		return &pNot{p}
	}
	n := c.nots.alloc(8)
	n.x = p
	return n
}

func newCompiler(l *linkLayer, snaplen uint32) *compiler {
	c, _ := compilerPool.Get().(*compiler)
	if c == nil {
		c = new(compiler)
	}
	// (Keep the preds' memory, free since the compiler's last release.)
	tests, ands, ors, nots := c.tests, c.ands, c.ors, c.nots
	*c = compiler{
		link: l, snaplen: snaplen,
		offLinkType: abs(uint32(l.offLinkType)), offLinkPayload: abs(l.offLinkPayload), offLinkHdr: abs(l.offLinkHdr),
		proto: l.netProto, nlNoSnap: l.offNLNoSnap, nlpidFudge: l.nlpidFudge, offNL: l.offNL,
		tests: tests, ands: ands, ors: ors, nots: nots,
	}
	c.protoMemo = c.memoBuf[:0]
	if l.lt == linkPFLOG {
		c.offLinkPayload = loc{cellPflogPayload, 0}
	}
	if l.wlan {
		c.offLinkPayload = loc{cellWlanPayload, l.offNL}
		c.offLinkType = loc{cellWlanPayload, 6} // (the SNAP header's Ethernet type)
		if l.radio != radioNone {
			c.offLinkHdr = loc{cellRadiotap, 0}
		}
	}
	return c
}

// compilerPool holds released compilers.
var compilerPool sync.Pool

// release returns c to the pool, with the memory of its preds: nothing
// may use c or its preds after. A compiler whose chunks hold room for
// more than maxPooledPreds preds of a kind is left to the garbage
// collector.
func (c *compiler) release() {
	if max(c.tests.held, c.ands.held, c.ors.held, c.nots.held) > maxPooledPreds {
		return
	}
	c.tests.reset()
	c.ands.reset()
	c.ors.reset()
	c.nots.reset()
	*c = compiler{tests: c.tests, ands: c.ands, ors: c.ors, nots: c.nots}
	compilerPool.Put(c)
}

const maxPooledPreds = 1 << 14

// fail records err if it is the first error. An error without a
// position gets the position of the node being lowered.
func (c *compiler) fail(err error) pred {
	if c.err != nil {
		return pFalse
	}
	var pe *parser.Error
	if !errors.As(err, &pe) && c.at != nil {
		err = &parser.Error{Pos: c.at.Pos(), Msg: err.Error(), Kind: ErrRefused}
	}
	c.err = err
	return pFalse
}

// linkTypeOff is the offset of the link-layer protocol field in force.
func (c *compiler) linkTypeOff() loc { return c.offLinkType }

// netProto is the pred "the network protocol is et". Preds are
// immutable, so each one is made once for the offsets in force: a list
// of hosts tests the same three protocols thousands of times.
func (c *compiler) netProto(et uint32) pred {
	for _, m := range c.protoMemo {
		if m.et == et && m.kind == c.protoKind && m.typ == c.offLinkType && m.payload == c.offLinkPayload {
			c.noteFolded(m.p)
			return c.kept(m.p)
		}
	}
	p := c.proto(c, et)
	c.noteFolded(p)
	if len(c.protoMemo) < 16 {
		c.protoMemo = append(c.protoMemo, protoMemo{et, c.protoKind, c.offLinkType, c.offLinkPayload, p})
	}
	return c.kept(p)
}

// noteFolded notes a protocol test p that folded to a constant ("ip"
// on DLT_IPV4, "arp" on DLT_RAW).
func (c *compiler) noteFolded(p pred) {
	if _, ok := p.(pConst); ok {
		c.protoFolded = true
	}
}

// protoMemo is a pred netProto made, and for which offsets and rules
// (the protocol test changes only with them: vlan, mpls, pppoes and
// geneve move them, mpls, pppoes and geneve change the rules).
type protoMemo struct {
	et           uint32
	kind         uint8
	typ, payload loc
	p            pred
}

// nl is where byte off of the network header is.
func (c *compiler) nl(off uint32) loc { return c.offLinkPayload.add(off) }

// ipv4 header fields (offsets from the network header).
const (
	ipv4Proto = 9
	ipv4Frag  = 6
	ipv4Src   = 12
	ipv4Dst   = 16
	ipv6NH    = 6
	ipv6Src   = 8
	ipv6Dst   = 24
	ipv6Len   = 40

	protoICMP   = 1
	protoIGMP   = 2
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44
	protoICMPv6 = 58
	protoSCTP   = 132
)

// ipProto is libpcap's "ip proto p": IPv4 and the protocol field.
func (c *compiler) ipProto(p uint32) pred {
	return c.and(c.netProto(etherIP), c.loadEq(1, c.nl(ipv4Proto), p))
}

// ip6Proto is libpcap's "ip6 proto p": the next-header field, or a
// fragment header followed by p.
func (c *compiler) ip6Proto(p uint32) pred {
	nh := c.loadEq(1, c.nl(ipv6NH), p)
	frag := c.and(c.loadEq(1, c.nl(ipv6NH), protoFrag6), c.loadEq(1, c.nl(ipv6Len), p))
	return c.and(c.netProto(etherIPv6), c.or(nh, frag))
}

// ip6NextHeader tests the next-header field only (for ports, which do not
// look past a fragment header).
func (c *compiler) ip6NextHeader(p uint32) pred {
	return c.and(c.netProto(etherIPv6), c.loadEq(1, c.nl(ipv6NH), p))
}

// notFragment holds for an IPv4 packet whose fragment offset is zero.
func (c *compiler) notFragment() pred {
	return c.not(c.cmp(c.nl(ipv4Frag).load(2), cmpSet, 0x1fff))
}

// ipv4L4 tests the field at offset off of the IPv4 payload, which begins
// after a variable-length header: ldxb 4*([nl]&0xf); ldh [x+nl+off].
func (c *compiler) ipv4L4(size int, off uint32, op cmpOp, v uint32) pred {
	return c.cmp(append(c.l4X(), ldInd(size, c.nl(0).off+off)), op, v)
}

// l4X is the code that sets X so that [x + nl.off] is the first byte
// after the IPv4 header: the header length, plus the base offset when the
// network header's place is in a scratch cell.
func (c *compiler) l4X() []stmt {
	nl := c.nl(0)
	if nl.reg < 0 {
		return []stmt{ldxMSH(nl.off)}
	}
	return []stmt{ldxMem(uint32(nl.reg)), ldInd(1, nl.off), aluK(aluAND, 0xf), aluK(aluLSH, 2), aluX(aluADD), tax()}
}

// dirPred combines a source and a destination test by direction.
func (c *compiler) dirPred(d parser.Dir, src, dst func() pred) pred {
	switch d {
	case parser.DirSrc:
		return src()
	case parser.DirDst:
		return dst()
	case parser.DirSrcAndDst:
		return c.and(src(), dst())
	default:
		return c.or(src(), dst())
	}
}

// The protoKinds other than the link's.
const (
	protoMPLS uint8 = 1 + iota
	protoPPP
	protoEther
	protoLANE
)
