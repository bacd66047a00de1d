package codegen

import (
	"github.com/bpfc/bpfc/parser"

	"errors"
	"fmt"

	"github.com/bpfc/bpfc/cbpf"
)

// Errors libpcap gives for link-level primitives on links without them.
var (
	errNotBroadcast = errors.New("not a broadcast link")
	errNoMulticast  = errors.New("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
	errNoEtherAddr  = errors.New("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel")
	errBcastProto   = errors.New("only link-layer/IP broadcast filters supported")
	errMcastProto   = errors.New("only link-layer/IP/IPv6 multicast filters supported")
)

// etherAddr checks that the link has MAC addresses.
func (c *compiler) etherAddr() bool {
	if c.inForce().wlan {
		return true
	}
	// After pppoes, the link layer is PPP's, which has no addresses.
	if c.macs() == nil {
		c.fail(errNoEtherAddr)
		return false
	}
	return true
}

// macs is where the link header in force has its MAC addresses, or nil:
// the link type's, but after geneve an inner Ethernet frame's, whatever
// the link type, and after pppoes none (inForce).
func (c *compiler) macs() *macLayout { return c.inForce().macs }

// etherHostDir is "ether [dir] host MAC" with libpcap's refusal on links
// without MAC addresses.
func (c *compiler) etherHostDir(d parser.Dir, mac [6]byte) pred {
	if !c.etherAddr() {
		return pFalse
	}
	return c.etherHost(d, mac)
}

// broadcast is "[ether|ip] broadcast". The IPv4 form uses the netmask
// (0 when unknown, as libpcap has it offline): the destination's host
// part all zeros or all ones.
func (c *compiler) broadcast(p parser.Proto, netmask uint32) pred {
	switch p {
	case parser.ProtoDefault, parser.ProtoLink:
		if m := c.inForce().arcnet; m != nil {
			return c.loadEq(1, abs(m.dst), 0) // ARCnet broadcasts go to address 0
		}
		if c.inForce().wlan {
			return c.wlanHost(parser.DirDst, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}
		if c.macs() == nil {
			return c.fail(errNotBroadcast)
		}
		return c.etherHost(parser.DirDst, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	case parser.ProtoIP:
		host := ^netmask
		dst := c.nl(ipv4Dst)
		return c.and(c.netProto(etherIP), c.or(c.loadMaskEq(4, dst, host, 0), c.loadMaskEq(4, dst, host, host)))
	}
	return c.fail(errBcastProto)
}

// multicast is "[ether|ip|ip6] multicast".
func (c *compiler) multicast(p parser.Proto) pred {
	switch p {
	case parser.ProtoDefault, parser.ProtoLink:
		if m := c.inForce().arcnet; m != nil {
			return c.loadEq(1, abs(m.dst), 0) // no multicast on ARCnet: its broadcast
		}
		if c.inForce().wlan {
			return c.wlanMulticast()
		}
		if c.macs() == nil {
			return c.fail(errNoMulticast)
		}
		return c.and(c.innerEther(), c.cmp(c.offLinkHdr.add(c.macs().dst).load(1), cmpSet, 1))
	case parser.ProtoIP:
		return c.and(c.netProto(etherIP), c.cmp(c.nl(ipv4Dst).load(1), cmpGE, 224))
	case parser.ProtoIP6:
		return c.and(c.netProto(etherIPv6), c.loadEq(1, c.nl(ipv6Dst), 0xff))
	}
	return c.fail(errMcastProto)
}

// lenCmp is "less N" (len <= N), "greater N" (len >= N) and friends.
func (c *compiler) lenCmp(op cmpOp, n uint32) pred { return c.cmp([]stmt{ldLen()}, op, n) }

// llc is "llc [type]": an 802.2 LLC frame (Ethernet length field, and not
// Novell raw 802.3, whose first two bytes are 0xffff), optionally with the
// control-field class (mask, value).
func (c *compiler) llc(hasType bool, mask, val uint8) pred {
	var p pred
	switch l := c.inForce(); {
	case l.wlan:
		p = c.wlanData() // (libpcap's test: any data frame)
	case l.lt == linkSunATM:
		p = c.loadMaskEq(1, c.offLinkHdr, 0x0f, sunatmLLC) // (LLC traffic)
	case l.lt == linkFDDI || l.lt == linkTokenRing || l.lt == linkATMRFC1483:
		p = pTrue // (they carry nothing else)
	case l.lt != cbpf.LinkEN10MB:
		return c.fail(fmt.Errorf("'llc' not supported for %s", l.name))
	default:
		p = c.and(c.le(2, c.linkTypeOff(), etherMTU), c.not(c.loadEq(2, c.llcOff(), 0xffff)))
	}
	pl := c.llcOff()
	if !hasType {
		return p
	}
	ctl := pl.add(2)
	if mask == 0x01 && val == 0 { // I frames: low bit clear
		return c.and(p, c.not(c.cmp(ctl.load(1), cmpSet, 1)))
	}
	return c.and(p, c.loadMaskEq(1, ctl, uint32(mask), uint32(val)))
}

// llcOff is where the 802.2 header "llc" tests would be: the link
// payload, which MPLS labels do not move (libpcap moves its network
// offset past them, not the link payload's): "mpls or llc" reads the
// LLC header of a frame that is not MPLS at byte 14 of Ethernet.
func (c *compiler) llcOff() loc { return c.offLinkPayload.sub(c.mplsShift + c.offNL) }

// noSnapOff is where byte k of an 802.2 payload without SNAP is, past
// the DSAP, SSAP and control (libpcap's off_nl_nosnap), and any fudge
// byte of Cisco HDLC (k includes it).
func (c *compiler) noSnapOff(k uint32) loc { return c.offLinkPayload.sub(c.offNL).add(c.nlNoSnap + k) }

// IS-IS PDU types of the l1, l2, iih, lsp, snp, csnp and psnp keywords,
// in the order libpcap tests them.
var isisPDUs = map[parser.Proto][]uint32{
	parser.ProtoL1:   {0x1a, 0x18, 0x12, 0x0f, 0x11},
	parser.ProtoL2:   {0x1b, 0x19, 0x14, 0x10, 0x11},
	parser.ProtoIIH:  {0x11, 0x0f, 0x10},
	parser.ProtoLSP:  {0x12, 0x14},
	parser.ProtoSNP:  {0x1b, 0x1a, 0x18, 0x19},
	parser.ProtoCSNP: {0x18, 0x19},
	parser.ProtoPSNP: {0x1a, 0x1b},
}

// isisPDU is an IS-IS PDU-type keyword: IS-IS with one of its types.
func (c *compiler) isisPDU(types []uint32) pred {
	var p pred = pFalse
	for _, t := range types {
		p = c.or(p, c.and(c.protoAbbrev(parser.ProtoISIS), c.loadEq(1, c.noSnapOff(4), t)))
	}
	return p
}

// decnetHost is "decnet [dir] host A": the address in the short and long
// DECnet routing headers, with and without padding. libpcap compares the
// little-endian address in network order, so the value is byte-swapped.
//
// libpcap tests the forms short, padded short, long, padded long, each
// as "flags match and address matches", one after the other. bpfc tests
// the two unpadded forms first, so that both test the flag byte already
// loaded, and the padded forms then test one halfword loaded once: 4
// instructions fewer for each direction. And once a form's flags match,
// its address decides (pIf): the others are not tried. Both are the same
// filter as libpcap's, cut packets included: the forms exclude each
// other (a padded header's first byte is 0x81, whose low bits are 1,
// neither 2 nor 6), so no other form can match once one's flags do; and
// each address load needs more bytes than the padded forms' flag load,
// so a packet refused for being short is refused either way.
func (c *compiler) decnetHost(d parser.Dir, addr uint16) pred {
	v := uint32(addr>>8 | addr<<8)
	pl := c.offLinkPayload
	one := func(sh, lh uint32) func() pred {
		return func() pred {
			return c.and(c.netProto(etherDECnet),
				pIf{c.loadMaskEq(1, pl.add(2), 0x07, 0x02), c.loadEq(2, pl.add(2+sh), v),
					pIf{c.loadMaskEq(1, pl.add(2), 0x07, 0x06), c.loadEq(2, pl.add(2+lh), v),
						pIf{c.loadMaskEq(2, pl.add(2), 0xff07, 0x8102), c.loadEq(2, pl.add(2+1+sh), v),
							c.and(c.loadMaskEq(2, pl.add(2), 0xff07, 0x8106), c.loadEq(2, pl.add(2+1+lh), v))}}})
		}
	}
	return c.dirPred(d, one(3, 15), one(1, 7))
}

// Linux packet types (PACKET_OUTGOING is what "outbound" means).
const packetOutgoing = 4

// direction is "inbound" (out false) or "outbound". A live capture
// reads the kernel's packet type; a cooked capture file has it in the
// header; other savefiles do not have it at all.
//
// libpcap takes the packet type's offset, as the cooked headers' fields,
// from the link header in force: after pppoes or geneve, the load is
// not the packet type's but another's ("pppoes and inbound" on Ethernet
// loads the queue mapping), or one that fails ("geneve and inbound"),
// and bpfc's program makes the same load.
func (c *compiler) direction(out bool) pred {
	var p pred
	switch l := c.inForce(); {
	case l.lt == linkPPPPPPD:
		// pppd's direction byte: 0 in, 1 out, and neither is neither.
		if out {
			return c.loadEq(1, abs(0), 1)
		}
		return c.loadEq(1, abs(0), 0)
	case l.lt == cbpf.LinkLinuxSLL:
		p = c.loadEq(2, abs(0), packetOutgoing)
	case l.lt == cbpf.LinkLinuxSLL2:
		p = c.loadEq(1, abs(10), packetOutgoing)
	case l.juniper:
		// The low bit of the flags byte of Juniper's header: set inbound.
		if out {
			return c.loadMaskEq(1, abs(3), 1, 0)
		}
		return c.loadMaskEq(1, abs(3), 1, 1)
	case l.lt == linkPFLOG:
		if out {
			return c.loadEq(1, abs(60), pflogOut)
		}
		return c.loadEq(1, abs(60), pflogIn)
	case l.lt == linkIPNet:
		// ipnet's 2-byte direction field: 1 outbound, 2 inbound.
		if out {
			return c.loadEq(2, abs(2), 1)
		}
		return c.loadEq(2, abs(2), 2)
	case l.lt == linkSLIP:
		// The SLIP header's direction byte: 0 is inbound; libpcap 1.10
		// takes anything else as outbound. libpcap makes the test a
		// relation ("link[0] = 0"), whose value is link[0]'s in a
		// relation: "inbound and link[0] = 1" rejects all packets.
		load := abs(0).load(1)
		if c.asLibpcap() {
			load = []stmt{ldxImm(0), ldInd(1, 0)} // (link[0]'s load: see emitLoad)
		}
		p = c.not(markRel(c.cmp(load, cmpEQ, 0)))
	case c.savefile:
		return c.fail(fmt.Errorf("inbound/outbound not supported on %s when reading savefiles", l.name))
	default:
		p = c.loadEq(2, c.offLinkHdr.add(skfAdOff+adPktType), packetOutgoing)
	}
	if out {
		return p
	}
	return c.not(p)
}

// ifindex is "ifindex N": the interface index of a live capture, or the
// field of a Linux cooked v2 header.
func (c *compiler) ifindex(n uint32) pred {
	switch l := c.inForce(); {
	case l.lt == cbpf.LinkLinuxSLL2:
		return c.loadEq(4, abs(4), n)
	case c.savefile:
		return c.fail(fmt.Errorf("ifindex not supported on %s when reading savefiles", l.name))
	}
	// (From the link header in force, as direction's.)
	return c.loadEq(4, c.offLinkHdr.add(skfAdOff+adIfIndex), n)
}

// byteOp is "byte N op V", libpcap's shorthand for a test of the byte at
// offset N of the packet. For & and |, libpcap 1.10 emits no load: the
// test applies to whatever A holds (0 at the start of the program), and
// so does bpfc.
func (c *compiler) byteOp(n uint32, op byte, v uint32) pred {
	load := c.wlanHdr(n).load(1) // from the link header, past a radiotap header
	switch op {
	case '<':
		return c.cmp(load, cmpLT, v)
	case '>':
		return c.cmp(load, cmpGT, v)
	case '&':
		return &pTest{nil, clsJMP | jmpJSET | srcK, false, 0, v}
	case '|':
		return c.not(&pTest{[]stmt{aluK(aluOR, v)}, clsJMP | jmpJEQ | srcK, false, 0, 0})
	}
	return c.cmp(load, cmpEQ, v)
}
