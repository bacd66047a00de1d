package codegen

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// Sentinel errors a caller may test with errors.Is.
var (
	// ErrRefused marks an expression that parses and resolves but that
	// libpcap refuses for the link type: "not a broadcast link",
	// "no VLAN support for Raw IP" ...
	ErrRefused = errors.New("expression refused")
	// ErrRejectsAll marks an expression that no packet can match, which
	// libpcap refuses when optimizing.
	ErrRejectsAll = errors.New("expression rejects all packets")
	// ErrUnsupported marks a construct bpfc does not compile yet.
	ErrUnsupported = errors.New("not supported yet")
)

// Options control a compilation.
type Options struct {
	// LinkType is the link type of the packets; the zero value is
	// DLT_NULL, so callers normally set it (bpfc.Compile defaults to
	// Ethernet).
	LinkType cbpf.LinkType
	// Snaplen is returned by the program to accept a packet (0 means
	// cbpf.DefaultSnaplen).
	Snaplen uint32
	// Netmask is the IPv4 netmask "ip broadcast" uses; 0 when unknown,
	// as libpcap has it for a savefile.
	Netmask uint32
	// Savefile is set when the program will filter packets read from a
	// capture file (like tcpdump -r), not a live capture: inbound,
	// outbound and ifindex then work only on Linux cooked link types.
	Savefile bool
	// NullBigEndian says that the 4-byte address family of DLT_NULL
	// headers is big-endian: a capture file written on a big-endian
	// machine. (DLT_NULL's family is in the capturing host's order.)
	NullBigEndian bool
	// ProtochainDepth is how many headers deep protochain looks (0 means
	// DefaultProtochainDepth).
	ProtochainDepth int
	// NoOptimize turns the optimizer off, like tcpdump -O. Without it,
	// an expression that can match no packet is refused, as libpcap does.
	NoOptimize bool
	// MaxLength is the most instructions the program may have (0 means
	// cbpf.MaxInstructions, the kernel's limit for a classic filter). A
	// longer program can only be translated to eBPF (package translate).
	MaxLength int
	// Compact makes programs shorter at the cost of more instructions
	// run for some packets: where IPv6 and IPv4 test the same fields of
	// the transport header (ports, in "port 80" or "portrange
	// 1-1023"), IPv6 sets X to 40 and runs IPv4's tests, which load
	// through X, instead of its own copy. That costs IPv6 packets one
	// instruction, and IPv4 fragments one. Without Compact, a program
	// longer than MaxLength is compacted when that can make it shorter.
	// Compact works on the optimized program: with NoOptimize it does
	// nothing.
	Compact bool
}

// Compile lowers a resolved expression (from parser.Resolve) into a
// classic BPF program. A nil expression accepts every packet, like an
// empty tcpdump filter.
func Compile(e parser.Expr, opts Options) (*cbpf.Program, error) {
	snap := opts.Snaplen
	if snap == 0 {
		snap = cbpf.DefaultSnaplen
	}
	l, err := lookupLink(opts.LinkType)
	if err != nil {
		return nil, err
	}
	c, p := lowerExpr(e, l, snap, opts, false)
	defer c.release() // (the program is made of raw instructions, not of c's preds)
	if c.err != nil {
		return nil, c.err
	}
	orig, regrouped := p, false
	if !opts.NoOptimize && !c.asWritten() && regroupNeeded(p) {
		p, regrouped = regroup(p), true
	}
	g, raw, rejected, err := c.build(p, snap, opts)
	built := p
	// The refusal must be libpcap's: where the program keeps nothing, the
	// expression is refused only if libpcap's optimizer would find it so
	// on the expression as written ("ip and arp"; verdict.go); otherwise
	// the program is the reject ("ip[9] = 6 and udp", which libpcap
	// compiles).
	if err == nil && rejected && !c.asWritten() && libpcapRejectsExpr(e, l, snap, opts) {
		g.release()
		return nil, ErrRejectsAll
	}
	if err == nil && regrouped && !rejected && len(raw) <= maxRetried {
		// Regrouping makes most programs shorter, but not all: it can
		// move a test away from the place where the optimizer would
		// find both its outcomes the same ("(icmp[icmptype] = icmp-echo
		// or less 100 or src port 1024) and vlan"). A small program is
		// also made as written, and the shorter kept.
		g2, raw2, rejected2, err2 := c.build(orig, snap, opts)
		switch {
		case err2 == nil && !rejected2 && len(raw2) < len(raw):
			g.release()
			g, raw, built = g2, raw2, orig
		case err2 == nil:
			g2.release()
		}
	}
	if err == nil && c.geneveUsed && errors.Is(cbpf.ValidateRules(raw), cbpf.ErrScratchUninit) {
		// A path reads geneve's offset cells without going through
		// geneve ("geneve or ip"): start by zeroing them.
		g.release()
		g, raw, _, err = c.build(pSeq{genevePrologue(), built}, snap, opts)
	}
	if err != nil {
		return nil, err
	}
	prog := cbpf.FromRaw(raw, opts.LinkType, snap)
	g.release()
	return prog, nil
}

// maxRetried is the longest regrouped program that is made a second
// time as written, to keep the shorter (see Compile).
const maxRetried = 256

// asWritten reports whether libpcap leaves the program as it was
// generated: it does not optimize a program with geneve or protochain,
// or one that uses the 802.11 payload's offset
// (tcpdump -d prints what tcpdump -O -d does), so it never refuses one as
// "rejects all packets", and its program makes every load, in the order
// written. bpfc still optimizes such a program, but without regrouping,
// and keeping every load that can fail (see optimizer.keepAll).
func (c *compiler) asWritten() bool {
	return c != nil && (c.unoptimized || c.geneveUsed || c.protochainUsed)
}

// unoptimizedExpr reports whether e has geneve or protochain, whose
// programs libpcap does not optimize.
func unoptimizedExpr(e parser.Expr) bool {
	return anyPrimitive(e, func(e parser.Expr) bool {
		switch e := e.(type) {
		case *parser.Protocol:
			return e.Chain
		case *parser.Special:
			return e.Kind == parser.SpecialGeneve
		}
		return false
	})
}

// anyPrimitive reports whether f holds for a primitive of e (a node
// below its and, or, not and parentheses).
func anyPrimitive(e parser.Expr, f func(parser.Expr) bool) bool {
	switch x := e.(type) {
	case *parser.Binary:
		return anyPrimitive(x.X, f) || anyPrimitive(x.Y, f)
	case *parser.Not:
		return anyPrimitive(x.X, f)
	case *parser.Paren:
		return anyPrimitive(x.X, f)
	case nil:
		return false
	}
	return f(e)
}

// build lowers p into blocks, optimizes them unless told not to, and
// lays them out; rejected says that the optimized program rejects every
// packet. The instructions are the
// graph's (see linearize): the caller releases the graph once it has
// copied them; on an error, build has released it.
func (c *compiler) build(p pred, snap uint32, opts Options) (g *graph, raw []bpf.RawInstruction, rejected bool, err error) {
	g = newGraph(snap)
	entry := g.lower(p, g.accept, g.reject)
	if c.inlineRadio() {
		g.inlineRadioLen(c.varKind())
	}
	if !opts.NoOptimize {
		entry = optimize(g, entry, c.asWritten(), c.constFirst)
		rejected = isReject(entry)
	}
	if c.inlineRadio() {
		entry = g.outlineRadioLen(entry, c.varKind())
	}
	if !opts.NoOptimize {
		if opts.Compact {
			entry, _ = compact(g, entry)
		}
	}
	limit := opts.MaxLength
	if limit <= 0 {
		limit = cbpf.MaxInstructions
	}
	raw, err = linearize(g, entry, limit)
	if errors.Is(err, ErrTooLong) && !opts.Compact && !opts.NoOptimize {
		// Too long as it is: try it compact, which costs some packets
		// an instruction but fits more in the limit.
		if e, changed := compact(g, entry); changed {
			raw, err = linearize(g, e, limit)
		}
	}
	if err != nil {
		g.release()
		g = nil
	}
	if err != nil && errors.Is(err, ErrTooLong) && c.protochainUsed {
		depth := opts.ProtochainDepth
		if depth <= 0 {
			depth = DefaultProtochainDepth
		}
		err = fmt.Errorf("%w (protochain is unrolled %d headers deep; a smaller depth makes it shorter)", err, depth)
	}
	return g, raw, rejected, err
}

// lowerExpr lowers e with a new compiler for the link l, keeping
// libpcap's constant blocks if keepConsts (compiler.keepConsts). The
// caller releases the compiler, and checks its error.
func lowerExpr(e parser.Expr, l *linkLayer, snap uint32, opts Options, keepConsts bool) (*compiler, pred) {
	c := newCompiler(l, snap)
	c.netmask = opts.Netmask
	c.savefile = opts.Savefile
	c.protochainDepth = opts.ProtochainDepth
	c.nullBigEndian = opts.NullBigEndian
	c.keepConsts = keepConsts
	var hdr, payload bool
	if l.wlan {
		hdr, payload = wlanUse(e)
		c.radiotapLen = l.radio != radioNone && hdr && !payload
	}
	// (Known before lowering: where libpcap leaves the program as
	// written, the generators keep the loads its optimizer would drop.)
	c.unoptimized = payload || l.radio == radioPrism || unoptimizedExpr(e)
	var p pred = pTrue
	if e != nil {
		p = c.expr(e)
	}
	// (byte's & and | test what A holds: after libpcap's first block,
	// the radio header's length.)
	if payload || hdr && l.radio == radioPrism || c.inlineRadio() && usesA(e) {
		p = c.and(c.wlanPrologue(hdr, payload), p)
	}
	if l.lt == linkPFLOG && readsCell(p, cellPflogPayload) {
		// (Inline while optimizing, as radiotap's length, but where
		// "byte N & V" may see the offset in A, which libpcap's prologue
		// leaves there, or where nothing is optimized.)
		if c.radiotapLen = !usesA(e); !c.inlineRadio() {
			c.radiotapLen = false
			p = c.and(pflogPrologue(), p)
		}
	}
	if l.lt == linkPPI && c.inForce() == l {
		// libpcap tests the PPI header's DLT before all (but not where
		// pppoes or geneve changed the link type in force).
		p = c.and(c.loadEq(4, abs(4), ppiDLT), p)
	}
	return c, p
}

// libpcapRejectsExpr is libpcapRejects on e lowered again with libpcap's
// constant blocks kept: they are on its optimizer's paths in its first
// round, and stop a pull-up there ("sctp and (tcp or not stp) and ip6
// proto 17" on Linux ARCnet, where "stp" cannot hold).
func libpcapRejectsExpr(e parser.Expr, l *linkLayer, snap uint32, opts Options) bool {
	c, p := lowerExpr(e, l, snap, opts, true)
	defer c.release()
	var radio uint8
	if c.inlineRadio() {
		radio = c.varKind()
	}
	return c.err == nil && libpcapRejects(p, snap, radio)
}

// errorAt records a refusal at the position of n.
func (c *compiler) errorAt(n parser.Node, kind error, format string, args ...any) pred {
	return c.fail(&parser.Error{Pos: n.Pos(), Msg: fmt.Sprintf(format, args...), Kind: kind})
}

// expr lowers a boolean expression, left operand first, so that vlan,
// mpls and pppoes shift the offsets of everything written after them.
func (c *compiler) expr(e parser.Expr) pred {
	c.at = e
	switch e := e.(type) {
	case *parser.Binary:
		x := c.expr(e.X)
		y := c.expr(e.Y)
		if e.Op == parser.And {
			return c.and(x, y)
		}
		return c.or(x, y)
	case *parser.Not:
		return c.not(c.expr(e.X))
	case *parser.Paren:
		return c.expr(e.X)
	}
	first := !c.testsMade
	c.protoFolded = false
	p := c.primitive(e)
	if _, isConst := p.(pConst); first && (isConst || c.protoFolded) {
		c.constFirst = true // ("1 = 1", or "tcp" on DLT_IPV4)
	}
	return p
}

// primitive lowers a primitive or a relation.
func (c *compiler) primitive(e parser.Expr) pred {
	switch e := e.(type) {
	case *parser.Abbrev:
		return c.abbrev(e)
	case *parser.Host:
		return c.host(e)
	case *parser.Port:
		return c.portNode(e)
	case *parser.Protocol:
		return c.protocol(e)
	case *parser.Special:
		return c.special(e)
	case *parser.Relation:
		return c.relationNode(e)
	}
	return c.errorAt(e, ErrUnsupported, "%T is not a resolved expression", e)
}

func (c *compiler) abbrev(e *parser.Abbrev) pred {
	if types, ok := isisPDUs[e.Proto]; ok {
		return c.isisPDU(types)
	}
	switch e.Proto {
	case parser.ProtoRadio, parser.ProtoLink:
		return c.errorAt(e, ErrUnsupported, "'%s' is not supported yet", e.Proto)
	}
	return c.protoAbbrev(e.Proto)
}

func (c *compiler) host(e *parser.Host) pred {
	if msg, ok := wlanOnlyDirs[e.Dir]; ok && !c.inForce().wlan {
		// libpcap's order: a MAC address needs a link with MAC addresses,
		// an ARCnet one ARCnet; then the qualifier is refused, with
		// Ethernet's words or, on FDDI, Token Ring and Fibre Channel,
		// shorter ones (as on ARCnet).
		switch l := c.inForce(); e.Addr.(type) {
		case parser.MAC:
			switch {
			case l.macs == nil:
				return c.fail(errNoEtherAddr)
			case l.lt != cbpf.LinkEN10MB && l.lt != linkNetAnalyzer && l.lt != linkNetAnalyzerT:
				msg = strings.TrimSuffix(msg, " with 802.11 headers")
			}
		case parser.ARCnet:
			if l.arcnet == nil {
				return c.errorAt(e, ErrRefused, "aid supported only on ARCnet")
			}
			msg = strings.TrimSuffix(msg, " with 802.11 headers")
		}
		return c.errorAt(e, ErrRefused, "%s", msg)
	}
	switch a := e.Addr.(type) {
	case parser.IPv4:
		switch e.Proto {
		case parser.ProtoDECnet:
			// libpcap takes the low 16 bits of the number as the address.
			return c.decnetHost(e.Dir, uint16(a.Addr))
		case parser.ProtoDefault:
			return c.host4(e.Dir, a.Addr, a.Mask)
		case parser.ProtoIP:
			return c.ipHost(e.Dir, a.Addr, a.Mask)
		case parser.ProtoARP:
			return c.arpHost(etherARP, e.Dir, a.Addr, a.Mask)
		case parser.ProtoRARP:
			return c.arpHost(etherRARP, e.Dir, a.Addr, a.Mask)
		}
	case parser.IPv6:
		switch e.Proto {
		case parser.ProtoDefault, parser.ProtoIP6:
			var mask [16]byte
			for i := 0; i < a.Bits; i++ {
				mask[i/8] |= 0x80 >> (i % 8)
			}
			return c.host6(e.Dir, a.Addr, mask)
		}
	case parser.ARCnet:
		if m := c.inForce().arcnet; m != nil && (e.Proto == parser.ProtoDefault || e.Proto == parser.ProtoLink) {
			byteAt := func(off uint32) func() pred { return func() pred { return c.loadEq(1, abs(off), uint32(a)) } }
			return c.dirPred(e.Dir, byteAt(m.src), byteAt(m.dst))
		}
		return c.errorAt(e, ErrRefused, "aid supported only on ARCnet")
	case parser.DECnet:
		if e.Proto == parser.ProtoDECnet {
			return c.decnetHost(e.Dir, uint16(a))
		}
	case parser.MAC:
		switch e.Proto {
		case parser.ProtoDefault, parser.ProtoLink:
			return c.etherHostDir(e.Dir, [6]byte(a))
		}
	}
	return c.errorAt(e, ErrUnsupported, "'%s' host %v is not supported yet", e.Proto, e.Addr)
}

// wlanOnlyDirs are the 802.11 address qualifiers, refused on other links.
var wlanOnlyDirs = map[parser.Dir]string{
	parser.DirAddr1: "'addr1' and 'address1' are only supported on 802.11 with 802.11 headers",
	parser.DirAddr2: "'addr2' and 'address2' are only supported on 802.11 with 802.11 headers",
	parser.DirAddr3: "'addr3' and 'address3' are only supported on 802.11 with 802.11 headers",
	parser.DirAddr4: "'addr4' and 'address4' are only supported on 802.11 with 802.11 headers",
	parser.DirRA:    "'ra' is only supported on 802.11 with 802.11 headers",
	parser.DirTA:    "'ta' is only supported on 802.11 with 802.11 headers",
}

func (c *compiler) portNode(e *parser.Port) pred {
	var protos []uint32
	for _, t := range []struct {
		tr parser.Transport
		n  uint32
	}{{parser.TransportSCTP, protoSCTP}, {parser.TransportTCP, protoTCP}, {parser.TransportUDP, protoUDP}} {
		if e.Transport&t.tr != 0 {
			protos = append(protos, t.n)
		}
	}
	return c.portRangeOf(protos, e.Dir, e.Lo, e.Hi)
}

func (c *compiler) protocol(e *parser.Protocol) pred {
	if e.Chain {
		switch e.Proto {
		case parser.ProtoIP:
			return c.protochain(false, e.Num)
		case parser.ProtoIP6:
			return c.protochain(true, e.Num)
		case parser.ProtoDefault:
			return c.or(c.protochain(false, e.Num), c.protochain(true, e.Num))
		}
		return c.errorAt(e, ErrRefused, "bad protocol applied for 'protochain'")
	}
	switch e.Proto {
	case parser.ProtoLink:
		return c.netProto(e.Num)
	case parser.ProtoIP:
		return c.ipProto(e.Num)
	case parser.ProtoIP6:
		return c.ip6Proto(e.Num)
	case parser.ProtoDefault:
		return c.or(c.ipProto(e.Num), c.ip6Proto(e.Num))
	case parser.ProtoISO:
		return c.isoProto(e.Num)
	case parser.ProtoISIS:
		return c.and(c.protoAbbrev(parser.ProtoISIS), c.loadEq(1, c.noSnapOff(4), e.Num))
	}
	return c.errorAt(e, ErrUnsupported, "'%s proto' is not supported yet", e.Proto)
}

func (c *compiler) special(e *parser.Special) pred {
	num := func() int64 {
		if e.HasNum {
			return int64(e.Num)
		}
		return -1
	}
	var p pred
	switch e.Kind {
	case parser.SpecialLess:
		return c.lenCmp(cmpLE, e.Num)
	case parser.SpecialGreater:
		return c.lenCmp(cmpGE, e.Num)
	case parser.SpecialBroadcast:
		p = c.broadcast(e.Proto, c.netmask)
	case parser.SpecialMulticast:
		p = c.multicast(e.Proto)
	case parser.SpecialVLAN:
		p = c.vlan(int(num()))
	case parser.SpecialMPLS:
		p = c.mpls(num())
	case parser.SpecialPPPoED:
		p = c.pppoed()
	case parser.SpecialPPPoES:
		p = c.pppoes(num())
	case parser.SpecialWLANType, parser.SpecialWLANDir:
		if l := c.inForce(); !l.wlan || l.radio == radioPPI { // (after pppoes or geneve, PPP's or Ethernet's)
			return c.errorAt(e, ErrRefused, "%s", linkOnly(e))
		}
		if e.Kind == parser.SpecialWLANType {
			// type/subtype: the frame control field's first byte.
			p = c.maskTest(c.wlanHdr(0).load(1), e.Mask, e.Num)
		} else {
			// dir: the To DS / From DS bits of its second byte.
			p = c.maskTest(c.wlanHdr(1).load(1), 0x03, e.Num)
		}
	case parser.SpecialMTP2Type, parser.SpecialMTP3Field:
		if !c.link.ss7 {
			return c.errorAt(e, ErrRefused, "%s", linkOnly(e))
		}
		if e.Kind == parser.SpecialMTP2Type {
			p = c.mtp2Type(e.Str)
		} else {
			p = c.mtp3Field(e.Str, e.Op, e.Num)
		}
	case parser.SpecialByte:
		p = c.byteOp(e.Num, e.ByteOp, e.Val)
	case parser.SpecialGeneve:
		p = c.geneve(num())
	case parser.SpecialInbound:
		p = c.direction(false)
	case parser.SpecialOutbound:
		p = c.direction(true)
	case parser.SpecialIfindex:
		p = c.ifindex(e.Num)
	case parser.SpecialLLC:
		p = c.llc(e.HasNum, uint8(e.Mask), uint8(e.Num))
	case parser.SpecialATMType, parser.SpecialATMField:
		if c.link.lt != linkSunATM {
			return c.errorAt(e, ErrRefused, "%s", linkOnly(e))
		}
		if e.Kind == parser.SpecialATMType {
			p = c.atmType(e)
		} else {
			p = c.atmField(e.Str, e.Op, e.Num)
		}
	case parser.SpecialPFIfname, parser.SpecialPFRuleset, parser.SpecialPFRnr, parser.SpecialPFSrnr,
		parser.SpecialPFReason, parser.SpecialPFAction:
		p = c.pflogField(e)
	default:
		if msg := linkOnly(e); msg != "" {
			return c.errorAt(e, ErrRefused, "%s", msg)
		}
		return c.errorAt(e, ErrUnsupported, "this primitive is not supported yet")
	}
	return p
}

// linkOnly returns libpcap's refusal of a primitive that exists only on
// link types bpfc does not support yet (802.11, ATM, SS7, pflog), or "".
func linkOnly(e *parser.Special) string {
	switch e.Kind {
	case parser.SpecialWLANType:
		return "802.11 link-layer types supported only on 802.11"
	case parser.SpecialWLANDir:
		return "frame direction supported only with 802.11 headers"
	case parser.SpecialATMType, parser.SpecialATMField:
		return "'" + e.Str + "' supported only on raw ATM"
	case parser.SpecialMTP2Type:
		if strings.HasPrefix(e.Str, "h") {
			return "'" + e.Str + "' supported only on MTP2_HSL"
		}
		return "'" + e.Str + "' supported only on MTP2"
	case parser.SpecialMTP3Field:
		return "'" + strings.TrimPrefix(e.Str, "h") + "' supported only on SS7"
	case parser.SpecialPFIfname:
		return "ifname supported only on PF linktype"
	case parser.SpecialPFRuleset:
		return "ruleset supported only on PF linktype"
	case parser.SpecialPFRnr:
		return "rnr supported only on PF linktype"
	case parser.SpecialPFSrnr:
		return "srnr supported only on PF linktype"
	case parser.SpecialPFReason:
		return "reason supported only on PF linktype"
	case parser.SpecialPFAction:
		return "action supported only on PF linktype"
	}
	return ""
}

func (c *compiler) relationNode(e *parser.Relation) pred {
	x, err := c.arithOf(e.X)
	if err != nil {
		return c.fail(err)
	}
	y, err := c.arithOf(e.Y)
	if err != nil {
		return c.fail(err)
	}
	p, err := c.relation(relOps[e.Op], x, y)
	if err != nil {
		return c.errorAt(e, ErrRefused, "%v", err)
	}
	return p
}

// relOps maps the parser's relations to comparisons.
var relOps = map[parser.RelOp]cmpOp{parser.OpEQ: cmpEQ, parser.OpNE: cmpNE, parser.OpLT: cmpLT,
	parser.OpLE: cmpLE, parser.OpGT: cmpGT, parser.OpGE: cmpGE}

func (c *compiler) arithOf(a parser.Arith) (arith, error) {
	switch a := a.(type) {
	case *parser.Num:
		return aConst(a.Val), nil
	case *parser.Len:
		return aLen{}, nil
	case *parser.Neg:
		x, err := c.arithOf(a.X)
		return aNeg{x}, err
	case *parser.BinArith:
		x, err := c.arithOf(a.X)
		if err != nil {
			return nil, err
		}
		y, err := c.arithOf(a.Y)
		return aBin{a.Op.ALU(), x, y}, err
	case *parser.Load:
		idx, err := c.arithOf(a.Off)
		if err != nil {
			return nil, err
		}
		layer, ok := loadLayer(a.Proto)
		if a.Proto == parser.ProtoRadio && c.link.radio != radioNone && c.link.radio != radioPPI && c.inForce() == c.link {
			layer, ok = LayerRadio, true
		}
		if !ok {
			// radio[]: only radiotap, AVS and Prism headers have it.
			return nil, &parser.Error{Pos: a.Pos(), Msg: "radio information not present in capture", Kind: ErrRefused}
		}
		return c.load(layer, a.Proto, idx, a.Size), nil
	}
	return nil, fmt.Errorf("codegen: unknown arithmetic node %T", a)
}

// loadLayer maps an accessor's protocol to the layer its offsets count from.
func loadLayer(p parser.Proto) (Layer, bool) {
	switch p {
	case parser.ProtoLink:
		return LayerLink, true
	case parser.ProtoTCP, parser.ProtoUDP, parser.ProtoICMP, parser.ProtoIGMP, parser.ProtoIGRP,
		parser.ProtoPIM, parser.ProtoVRRP, parser.ProtoCARP, parser.ProtoSCTP:
		return LayerIPv4L4, true
	case parser.ProtoICMP6:
		return LayerICMPv6, true
	case parser.ProtoRadio:
		return 0, false
	}
	return LayerNet, true
}
