package codegen

import (
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
	if c.link.macs == nil {
		c.fail(errNoEtherAddr)
		return false
	}
	return true
}

// etherHostDir is "ether [dir] host MAC" with libpcap's refusal on links
// without MAC addresses.
func (c *compiler) etherHostDir(d Dir, mac [6]byte) pred {
	if !c.etherAddr() {
		return pFalse
	}
	return c.etherHost(d, mac)
}

// broadcast is "[ether|ip] broadcast". The IPv4 form uses the netmask
// (0 when unknown, as libpcap has it offline): the destination's host
// part all zeros or all ones.
func (c *compiler) broadcast(p Proto, netmask uint32) pred {
	switch p {
	case ProtoDefault, ProtoLink:
		if c.link.macs == nil {
			return c.fail(errNotBroadcast)
		}
		return c.etherHost(DirDst, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	case ProtoIP:
		host := ^netmask
		dst := c.nl(ipv4Dst)
		return and(c.netProto(etherIP), or(loadMaskEq(4, dst, host, 0), loadMaskEq(4, dst, host, host)))
	}
	return c.fail(errBcastProto)
}

// multicast is "[ether|ip|ip6] multicast".
func (c *compiler) multicast(p Proto) pred {
	switch p {
	case ProtoDefault, ProtoLink:
		if c.link.macs == nil {
			return c.fail(errNoMulticast)
		}
		return cmp([]stmt{ldAbs(1, c.link.macs.dst)}, cmpSet, 1)
	case ProtoIP:
		return and(c.netProto(etherIP), cmp([]stmt{ldAbs(1, c.nl(ipv4Dst))}, cmpGE, 224))
	case ProtoIPv6:
		return and(c.netProto(etherIPv6), loadEq(1, c.nl(ipv6Dst), 0xff))
	}
	return c.fail(errMcastProto)
}

// lenCmp is "less N" (len <= N), "greater N" (len >= N) and friends.
func lenCmp(op cmpOp, n uint32) pred { return cmp([]stmt{ldLen()}, op, n) }

// llc is "llc [type]": an 802.2 LLC frame (Ethernet length field, and not
// Novell raw 802.3, whose first two bytes are 0xffff), optionally with the
// control-field class (mask, value).
func (c *compiler) llc(hasType bool, mask, val uint8) pred {
	switch {
	case c.pppoe:
		return c.fail(errors.New("'llc' not supported for PPP"))
	case c.link.lt != cbpf.LinkEN10MB:
		return c.fail(fmt.Errorf("'llc' not supported for %s", c.link.name))
	}
	off, pl := c.linkTypeOff(), c.offLinkPayload
	p := and(le(2, off, etherMTU), not(loadEq(2, pl, 0xffff)))
	if !hasType {
		return p
	}
	ctl := pl + 2
	if mask == 0x01 && val == 0 { // I frames: low bit clear
		return and(p, not(cmp([]stmt{ldAbs(1, ctl)}, cmpSet, 1)))
	}
	return and(p, loadMaskEq(1, ctl, uint32(mask), uint32(val)))
}
