package codegen

import "fmt"

// PPP protocol numbers for the Ethernet types libpcap maps (ppp_proto).
var pppProto = map[uint32]uint32{
	etherIP: 0x21, etherIPv6: 0x57, etherATalk: 0x29, 0x6003: 0x27,
	sapISO: 0x23, sapIPX: 0x2b, 0x0600: 0x25, sapSTP: 0x31,
}

// vlan is "vlan [id]": an 802.1Q/802.1ad tag at the protocol field in
// force, after which every later offset moves 4 bytes, for the rest of
// the expression.
func (c *compiler) vlan(id int) pred {
	if l := c.inForce(); !l.vlan {
		return c.fail(fmt.Errorf("no VLAN support for %s", l.name))
	}
	if c.mplsDepth > 0 {
		return c.fail(fmt.Errorf("no VLAN match after MPLS"))
	}
	off := c.linkTypeOff()
	p := c.or(c.loadEq(2, off, etherVLAN), c.loadEq(2, off, etherQinQ), c.loadEq(2, off, etherQinQ2))
	if c.inForce().wlan {
		// (libpcap's protocol tests, each with its test of a data frame.)
		p = c.or(c.netProto(etherVLAN), c.netProto(etherQinQ), c.netProto(etherQinQ2))
	}
	if id >= 0 {
		// (The tag's VLAN ID is the link payload's first field, as
		// libpcap reads it: after geneve, from the inner payload's
		// offset, which differs from the inner type's + 2 where the
		// inner packet is not an Ethernet frame.)
		p = c.and(p, c.loadMaskEq(2, c.offLinkPayload, 0x0fff, uint32(id)))
	}
	c.offLinkType = c.offLinkType.add(4)
	c.offLinkPayload = c.offLinkPayload.add(4)
	return p
}

// mpls is "mpls [label]": the first label follows an MPLS Ethernet type,
// a later one requires the previous label not to be the bottom of the
// stack. Afterwards the network header is 4 bytes further and ip/ip6 are
// recognised by the bottom-of-stack bit and the version nibble.
func (c *compiler) mpls(label int64) pred {
	if l := c.inForce(); !l.mpls {
		return c.fail(fmt.Errorf("no MPLS support for %s", l.name))
	}
	var p pred
	if c.mplsDepth == 0 && c.inForce().lt == linkPPP {
		// (libpcap tests PPP's MPLS unicast protocol, 0x281; its
		// Ethernet-type mapping leaves "ether proto 0x8847" as it is.)
		p = c.netProto(pppMPLS)
	} else if c.mplsDepth == 0 {
		p = c.netProto(etherMPLS)
	} else {
		p = c.loadMaskEq(1, c.offLinkPayload.sub(2), 0x01, 0)
	}
	if label >= 0 {
		p = c.and(p, c.loadMaskEq(4, c.offLinkPayload, 0xfffff000, uint32(label)<<12))
	}
	c.mplsDepth++
	c.mplsShift += 4
	c.offLinkPayload = c.offLinkPayload.add(4)
	c.proto, c.protoKind = mplsNetProto, protoMPLS
	return p
}

// mplsNetProto recognises IPv4 and IPv6 under the last MPLS label.
func mplsNetProto(c *compiler, et uint32) pred {
	bos := c.loadMaskEq(1, c.offLinkPayload.sub(2), 0x01, 1)
	switch et {
	case etherIP:
		return c.and(bos, c.loadMaskEq(1, c.offLinkPayload, 0xf0, 0x40))
	case etherIPv6:
		return c.and(bos, c.loadMaskEq(1, c.offLinkPayload, 0xf0, 0x60))
	}
	return c.fail(fmt.Errorf("unsupported protocol over mpls"))
}

// pppoed is "pppoed": the PPPoE discovery Ethernet type.
func (c *compiler) pppoed() pred { return c.netProto(etherPPPoED) }

// pppoes is "pppoes [id]": a PPPoE session frame, after which the
// protocol is the PPP protocol field and the network header follows it.
func (c *compiler) pppoes(id int64) pred {
	p := c.netProto(etherPPPoES)
	if id >= 0 {
		p = c.and(p, c.loadMaskEq(4, c.offLinkPayload, 0xffff, uint32(id)))
	}
	// PPPoE header (6 bytes), then the 2-byte PPP protocol, where the
	// link header now starts ("pppoes or ether[0] = 1" loads byte 20).
	c.offLinkHdr = c.offLinkPayload.add(6)
	c.offLinkType = c.offLinkPayload.add(6)
	c.offLinkPayload = c.offLinkPayload.add(8)
	c.proto, c.protoKind = pppNetProto, protoPPP
	c.nlNoSnap, c.nlpidFudge, c.offNL = 0, 0, 0
	c.pppoe = true
	return p
}

// pppNetProto tests a PPP protocol field.
func pppNetProto(c *compiler, et uint32) pred {
	if v, ok := pppProto[et]; ok {
		et = v
	}
	return c.loadEq(2, c.linkTypeOff(), et)
}

// pppMPLS is PPP's protocol number of MPLS unicast.
const pppMPLS = 0x0281

// PPP protocol numbers of Van Jacobson compressed and uncompressed TCP/IP.
const (
	pppVJC  = 0x2d
	pppVJNC = 0x2f
)

// bsdosNetProto tests the protocol field of a BSD/OS PPP header, where
// libpcap takes IPv4 to be also Van Jacobson's compressed and
// uncompressed TCP/IP.
func bsdosNetProto(c *compiler, et uint32) pred {
	if et == etherIP {
		off := c.linkTypeOff()
		return c.or(c.or(c.loadEq(2, off, 0x21), c.loadEq(2, off, pppVJC)), c.loadEq(2, off, pppVJNC))
	}
	return pppNetProto(c, et)
}
