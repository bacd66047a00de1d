package codegen

import (
	"fmt"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// Sun's raw ATM (DLT_SUNATM), as libpcap 1.10 filters it. A 4-byte
// header: a flags byte whose low nibble is the traffic type (1 LANE, 2
// LLC), the VPI, the 16-bit VCI. LLC traffic carries 802.2 (SNAP or not)
// from byte 4, which the protocol tests read, behind the traffic-type
// test. "lane" tests for LANE traffic and, for the rest of the
// expression, as libpcap does, takes the packet for an Ethernet frame
// after a 2-byte LE header (laneLink), at 6, whose protocol tests also
// require the LE header not to be 0xff00 (an LE control frame). The ATM
// primitives (vpi, vci, oam, metac, ...) read the header, from the link
// header in force.
const linkSunATM cbpf.LinkType = 123

// SunATM traffic types (the flags byte's low nibble).
const (
	sunatmLANE = 1
	sunatmLLC  = 2
)

func init() {
	registerLink(&linkLayer{lt: linkSunATM,
		offLinkType: 4 + 6, offLinkPayload: 4 + 8, offNL: 8, offNLNoSnap: 3, netProto: sunatmNetProto})
}

// sunatmNetProto tests for LLC traffic, then the 802.2 header.
func sunatmNetProto(c *compiler, et uint32) pred {
	return c.and(c.loadMaskEq(1, abs(0), 0x0f, sunatmLLC), llcNetProto(c, et))
}

// laneLink is the link in force after "lane": an Ethernet frame, with
// LANE's protocol test.
var laneLink = &linkLayer{
	lt: cbpf.LinkEN10MB, name: "Ethernet",
	offLinkType: 6 + 12, offLinkPayload: 6 + 14,
	netProto: laneNetProto, offNLNoSnap: 3,
	macs: &macLayout{src: 6, dst: 0}, vlan: true, mpls: true,
}

// laneNetProto is Ethernet's protocol test on a LANE frame that is not
// an LE control frame.
func laneNetProto(c *compiler, et uint32) pred {
	return c.and(c.not(c.loadEq(2, abs(4), 0xff00)), etherNetProto(c, et))
}

// atmField is "vpi OP n" or "vci OP n" ("!=" is "=", as libpcap 1.10's
// grammar has it, as for the MTP3 fields).
func (c *compiler) atmField(name string, op parser.RelOp, n uint32) pred {
	load := c.offLinkHdr.add(1).load(1)
	if name == "vci" {
		load = c.offLinkHdr.add(2).load(2)
	}
	if op == parser.OpNE {
		op = parser.OpEQ
	}
	return c.cmp(load, relOps[op], n)
}

// Q.2931 signalling message types of connectmsg and metaconnect, in the
// order libpcap tests them.
var (
	atmConnectMsgs     = []uint32{0x5a, 0x4d, 0x0f, 0x07, 0x05, 0x02} // RELEASE_DONE, RELEASE, CONNECT_ACK, CONNECT, SETUP, CALL_PROCEED
	atmMetaConnectMsgs = []uint32{0x5a, 0x4d, 0x07, 0x05, 0x02}
)

// atmType is lane, llc's SunATM test, and the circuit abbreviations:
// oam/oamf4 (VCI 3 or 4 on VPI 0), oamf4ec (4), oamf4sc (3), metac (1),
// bcc (2), sc (5), ilmic (16), connectmsg and metaconnect (signalling
// messages on sc and metac).
func (c *compiler) atmType(e *parser.Special) pred {
	vpi0 := func() pred { return c.loadEq(1, c.offLinkHdr.add(1), 0) }
	vci := func(v uint32) pred { return c.loadEq(2, c.offLinkHdr.add(2), v) }
	msgs := func(types []uint32) pred {
		var p pred = pFalse
		for _, t := range types {
			p = c.or(p, c.loadEq(1, c.offLinkHdr.add(9), t))
		}
		return p
	}
	switch e.Str {
	case "lane":
		p := c.loadMaskEq(1, c.offLinkHdr, 0x0f, sunatmLANE)
		c.lane = true
		c.offLinkHdr = abs(6)
		c.offLinkType = abs(laneLink.offLinkPayload - 2)
		c.offLinkPayload = abs(laneLink.offLinkPayload)
		c.offNL, c.nlNoSnap, c.nlpidFudge, c.mplsShift = 0, 3, 0, 0
		c.proto, c.protoKind = laneNetProto, protoLANE
		return p
	case "oam", "oamf4":
		return c.and(vpi0(), c.or(vci(3), vci(4)))
	case "oamf4ec":
		return c.and(vpi0(), vci(4))
	case "oamf4sc":
		return c.and(vpi0(), vci(3))
	case "metac":
		return c.and(vpi0(), vci(1))
	case "bcc":
		return c.and(vpi0(), vci(2))
	case "sc":
		return c.and(vpi0(), vci(5))
	case "ilmic":
		return c.and(vpi0(), vci(16))
	case "connectmsg":
		return c.and(vpi0(), vci(5), msgs(atmConnectMsgs))
	case "metaconnect":
		return c.and(vpi0(), vci(1), msgs(atmMetaConnectMsgs))
	}
	return c.fail(fmt.Errorf("codegen: ATM type %q", e.Str))
}
