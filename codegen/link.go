package codegen

import (
	"fmt"

	"github.com/bpfc/bpfc/cbpf"
)

// Ethernet types and LLC SAPs the generator needs.
const (
	etherIP     = 0x0800
	etherARP    = 0x0806
	etherRARP   = 0x8035
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQ2  = 0x9100
	etherMPLS   = 0x8847
	etherMPLSMc = 0x8848
	etherPPPoED = 0x8863
	etherPPPoES = 0x8864
	etherDECnet = 0x6003
	etherMTU    = 1500

	sapISO     = 0xfe
	sapSTP     = 0x42
	sapNetBEUI = 0xf0
)

// A linkLayer describes one link type: where its header puts the network
// protocol and the network-layer payload, and which link-level primitives
// make sense on it. Adding a link type is adding one of these: data plus
// the one function that tests the network protocol.
type linkLayer struct {
	lt   cbpf.LinkType
	name string // for messages, as libpcap names it ("Linux cooked v1")

	// offLinkType is the offset of the protocol field (an Ethernet type or
	// an address family), or -1 when the link has none.
	offLinkType int32
	// offLinkPayload is where the network-layer header starts.
	offLinkPayload uint32
	// offLinkHdr is where the link header starts (link[0]): past a
	// pseudo-header of fixed length, such as netANALYZER's.
	offLinkHdr uint32

	// netProto returns the pred "the network-layer protocol is et" (an
	// Ethernet type, or an LLC SAP when et <= 1500), for a compiler whose
	// offsets may have been shifted by vlan/mpls/pppoes.
	netProto func(c *compiler, et uint32) pred

	// offNL is how far the network header is past the link payload's
	// start (libpcap's off_nl): 8, past an LLC/SNAP header, on the links
	// that carry 802.2 frames only (FDDI, Token Ring, 802.11), where
	// offLinkPayload is the network header's offset and offLinkType the
	// SNAP header's Ethernet type.
	offNL uint32
	// offNLNoSnap is where an 802.2 payload without SNAP starts, relative
	// to the link payload (libpcap's off_nl_nosnap): 3 on Ethernet, past
	// DSAP, SSAP and control.
	offNLNoSnap uint32
	// nlpidFudge is where the OSI network-layer protocol ID sits past
	// offNLNoSnap: Cisco HDLC stuffs a byte before it.
	nlpidFudge uint32

	// macs is set on links whose header carries 6-byte MAC addresses:
	// the source and destination offsets.
	macs *macLayout
	// wlan is set on links that carry 802.11 headers; radio says which
	// radio header (of variable length) comes first on those that have
	// one: radiotap, AVS or Prism (radioRadiotap ...).
	wlan  bool
	radio uint8

	// ss7 is set on MTP2 links, whose signal units start at ss7Base.
	ss7     bool
	ss7Base uint32

	// arcnet is set on ARCnet links, whose 1-byte addresses sit at these
	// offsets.
	arcnet *macLayout

	// ipOnly is set on links that carry nothing but IP (raw IP, IPv4,
	// IPv6), where a non-IP protocol test matches no packet.
	ipOnly bool

	// juniper is set on Juniper's link types, whose header's flags byte
	// says the direction.
	juniper bool

	// vlan and mpls are set on links that can carry 802.1Q tags and MPLS
	// labels; libpcap refuses vlan and mpls elsewhere, naming the link.
	vlan, mpls bool
}

type macLayout struct{ src, dst uint32 }

var linkLayers = map[cbpf.LinkType]*linkLayer{
	cbpf.LinkEN10MB: {
		lt: cbpf.LinkEN10MB, name: "Ethernet",
		offLinkType: 12, offLinkPayload: 14,
		netProto: etherNetProto, offNLNoSnap: 3,
		macs: &macLayout{src: 6, dst: 0}, vlan: true, mpls: true,
	},
	cbpf.LinkLinuxSLL: {
		lt: cbpf.LinkLinuxSLL, name: "Linux cooked v1",
		offLinkType: 14, offLinkPayload: 16,
		netProto: sllNetProto,
	},
	cbpf.LinkLinuxSLL2: {
		lt: cbpf.LinkLinuxSLL2, name: "Linux cooked v2",
		offLinkType: 0, offLinkPayload: 20,
		netProto: sll2NetProto,
	},
	cbpf.LinkNull: {
		lt: cbpf.LinkNull, name: "BSD loopback",
		offLinkType: 0, offLinkPayload: 4,
		netProto: loopbackNetProto(true),
	},
	cbpf.LinkLoop: {
		lt: cbpf.LinkLoop, name: "OpenBSD loopback",
		offLinkType: 0, offLinkPayload: 4,
		netProto: loopbackNetProto(false),
	},
	linkCHDLC: {
		lt: linkCHDLC, name: "Cisco HDLC",
		offLinkType: 2, offLinkPayload: 4,
		netProto: chdlcNetProto, nlpidFudge: 1, mpls: true,
	},
	// The PPP link types: a 2-byte PPP protocol field after the HDLC-like
	// framing (or PPPoE's session header, or BSD/OS's header), where
	// libpcap maps the Ethernet types it knows to PPP's (pppProto).
	linkPPP: {
		lt: linkPPP, name: "PPP",
		offLinkType: 2, offLinkPayload: 4,
		netProto: pppNetProto, mpls: true,
	},
	linkPPPSerial: {
		lt: linkPPPSerial, name: "PPP over serial",
		offLinkType: 2, offLinkPayload: 4,
		netProto: pppNetProto,
	},
	linkPPPEther: {
		lt: linkPPPEther, name: "PPPoE",
		offLinkType: 6, offLinkPayload: 8,
		netProto: pppNetProto,
	},
	linkPPPBSDOS: {
		lt: linkPPPBSDOS, name: "BSD/OS PPP",
		offLinkType: 5, offLinkPayload: 24,
		netProto: bsdosNetProto,
	},
	linkPPPPPPD: {
		lt: linkPPPPPPD, name: "PPP for pppd, with direction flag",
		offLinkType: 2, offLinkPayload: 4,
		netProto: pppNetProto,
	},
	linkSLIP: {
		lt: linkSLIP, name: "SLIP",
		offLinkType: -1, offLinkPayload: 16,
		netProto: slipNetProto,
	},
	// FDDI and Token Ring frames carry 802.2 LLC, SNAP or not, after a
	// fixed header (FDDI's frame control byte, Token Ring's access and
	// frame control bytes, then the addresses).
	linkFDDI: {
		lt: linkFDDI, name: "FDDI",
		offLinkType: 13 + 6, offLinkPayload: 13 + 8, offNL: 8, offNLNoSnap: 3,
		netProto: llcNetProto, macs: &macLayout{src: 7, dst: 1},
	},
	linkTokenRing: {
		lt: linkTokenRing, name: "Token ring",
		offLinkType: 14 + 6, offLinkPayload: 14 + 8, offNL: 8, offNLNoSnap: 3,
		netProto: llcNetProto, macs: &macLayout{src: 8, dst: 2},
	},
	linkIEEE80211: {
		lt: linkIEEE80211, name: "802.11",
		netProto: wlanNetProto, offNL: 8, offNLNoSnap: 3, wlan: true, vlan: true,
	},
	linkRadiotap: {
		lt: linkRadiotap, name: "802.11 plus radiotap header",
		netProto: wlanNetProto, offNL: 8, offNLNoSnap: 3, wlan: true, radio: radioRadiotap, vlan: true,
	},
	linkAVS: {
		lt: linkAVS, name: "802.11 plus AVS radio information header",
		netProto: wlanNetProto, offNL: 8, offNLNoSnap: 3, wlan: true, radio: radioAVS, vlan: true,
	},
	linkPrism: {
		lt: linkPrism, name: "802.11 plus Prism header",
		netProto: wlanNetProto, offNL: 8, offNLNoSnap: 3, wlan: true, radio: radioPrism, vlan: true,
	},
	// PPI, taken for 802.11 (libpcap checks its DLT field, and has no
	// type, subtype, dir, radio[] or vlan there).
	linkPPI: {
		lt: linkPPI, name: "Per-Packet Information",
		netProto: wlanNetProto, offNL: 8, offNLNoSnap: 3, wlan: true, radio: radioPPI,
	},
	linkMTP2: {
		lt: linkMTP2, name: "SS7 MTP2", offLinkType: -1,
		netProto: mtp2NetProto, ss7: true,
	},
	linkMTP2PHdr: {
		lt: linkMTP2PHdr, name: "SS7 MTP2 with Pseudo-header", offLinkType: -1,
		netProto: mtp2NetProto, ss7: true, ss7Base: 4,
	},
	linkARCnetLinux: {
		lt: linkARCnetLinux, name: "Linux ARCNET",
		offLinkType: 4, offLinkPayload: 8,
		netProto: arcnetNetProto,
		arcnet:   &macLayout{src: 0, dst: 1},
	},
	cbpf.LinkRaw: {
		lt: cbpf.LinkRaw, name: "Raw IP",
		offLinkType: -1, offLinkPayload: 0,
		netProto: rawNetProto, ipOnly: true,
	},
	cbpf.LinkIPv4: {
		lt: cbpf.LinkIPv4, name: "Raw IPv4",
		offLinkType: -1, offLinkPayload: 0,
		netProto: onlyNetProto(etherIP), ipOnly: true,
	},
	cbpf.LinkIPv6: {
		lt: cbpf.LinkIPv6, name: "Raw IPv6",
		offLinkType: -1, offLinkPayload: 0,
		netProto: onlyNetProto(etherIPv6), ipOnly: true,
	},
}

// Link types beyond the first ones, by their DLT_ numbers.
const (
	linkSLIP cbpf.LinkType = 8 // DLT_SLIP: 16-byte BSD SLIP header (direction, compressed header)
	// DLT_PPP, DLT_PPP_SERIAL (PPP in HDLC-like framing), DLT_PPP_ETHER
	// (PPPoE session frames without their Ethernet header), DLT_PPP_BSDOS
	// (a 24-byte header, the protocol at 5) and DLT_PPP_PPPD (pppd's,
	// whose first byte is the direction).
	linkPPP       cbpf.LinkType = 9
	linkPPPSerial cbpf.LinkType = 50
	linkPPPEther  cbpf.LinkType = 51
	linkPPPBSDOS  cbpf.LinkType = 16
	linkPPPPPPD   cbpf.LinkType = 166
	linkCHDLC     cbpf.LinkType = 104 // DLT_C_HDLC: Cisco HDLC, an Ethernet type at offset 2
	// DLT_ARCNET_LINUX: ARCnet with Linux's header (source, destination,
	// two bytes of offset, the protocol ID; the payload at 8).
	linkARCnetLinux cbpf.LinkType = 129
	// DLT_MTP2_WITH_PHDR and DLT_MTP2: SS7 signal units, with and without
	// a 4-byte pseudo-header.
	linkMTP2PHdr cbpf.LinkType = 139
	linkMTP2     cbpf.LinkType = 140
	// DLT_FDDI and DLT_IEEE802 (Token Ring).
	linkFDDI      cbpf.LinkType = 10
	linkTokenRing cbpf.LinkType = 6
	linkIEEE80211               = cbpf.LinkIEEE80211
	linkRadiotap                = cbpf.LinkIEEE80211Radio
	// DLT_IEEE802_11_RADIO_AVS and DLT_PRISM_HEADER: 802.11 behind an
	// AVS or a Prism header.
	linkAVS   cbpf.LinkType = 163
	linkPrism cbpf.LinkType = 119
	linkPPI   cbpf.LinkType = 192 // DLT_PPI: a PPI header, little-endian length at 2 and DLT at 4
)

// ARCnet protocol IDs for each Ethernet type, in the order libpcap tests
// them (the RFC 1201 value, then the RFC 1051 one).
var arcnetTypes = map[uint32][]uint32{
	etherIP:    {0xd4, 0xf0},
	etherARP:   {0xd5, 0xf1},
	etherRARP:  {0xd6},
	etherIPv6:  {0xc4},
	etherATalk: {0xdd},
}

// arcnetNetProto tests the protocol ID of an ARCnet header.
func arcnetNetProto(c *compiler, et uint32) pred {
	var p pred = pFalse
	for _, v := range arcnetTypes[et] {
		p = c.or(p, c.loadEq(1, c.linkTypeOff(), v))
	}
	return p
}

// pppLink is the link layer in force after pppoes: DLT_PPP's, which has
// no MAC addresses, no VLAN tags and no LLC, and carries MPLS (its
// protocol field is where pppoes leaves offLinkType, and c.proto tests
// it).
var pppLink = linkLayers[linkPPP]

// inForce is the link layer the rest of the expression is lowered for,
// which decides the link-level primitives and their refusals: the
// capture's, but after pppoes PPP's, and after geneve the inner
// Ethernet frame's, whatever the capture's link type, as libpcap
// switches its link type for the rest of the expression ("pppoes and
// mpls" on Linux cooked captures, "geneve and llc").
func (c *compiler) inForce() *linkLayer {
	switch {
	case c.pppoe:
		return pppLink
	case c.offLinkHdr.reg == cellLinkHdr: // (after geneve)
		return linkByType[cbpf.LinkEN10MB]
	case c.lane:
		return laneLink
	}
	return c.link
}

// linkByType is linkLayers as an array, for the link types numbered
// below its length: every compilation looks its link type up.
var linkByType = func() (t [300]*linkLayer) {
	for lt, l := range linkLayers {
		if int(lt) < len(t) {
			t[lt] = l
		}
	}
	return t
}()

// registerLink adds l to the tables, from an init function: the link
// types beyond linkLayers' literal.
func registerLink(l *linkLayer) {
	if linkLayers[l.lt] != nil {
		panic(fmt.Sprintf("codegen: link type %v registered twice", l.lt))
	}
	if l.name == "" {
		l.name = l.lt.Description()
	}
	linkLayers[l.lt] = l
	if int(l.lt) < len(linkByType) {
		linkByType[l.lt] = l
	}
}

// lookupLink returns the layer description for lt.
func lookupLink(lt cbpf.LinkType) (*linkLayer, error) {
	if int(lt) < len(linkByType) && linkByType[lt] != nil {
		return linkByType[lt], nil
	}
	if l, ok := linkLayers[lt]; ok {
		return l, nil
	}
	if lt >= dltMatchingMin && lt <= dltMatchingMax {
		return unnamedLinks[lt-dltMatchingMin], nil
	}
	return nil, fmt.Errorf("unknown data link type %d (min %d, max %d)", lt, dltMatchingMin, dltMatchingMax)
}

// LLC SAPs and SNAP values libpcap knows about.
const (
	sapIPX       = 0xe0
	etherIPX     = 0x8137
	etherATalk   = 0x809b
	etherAARP    = 0x80f3
	slLP8023     = 0x0001 // LINUX_SLL_P_802_3: Novell 802.3 frames (IPX)
	slLP8022     = 0x0004 // LINUX_SLL_P_802_2: frames with an 802.2 LLC header
	snapHdr      = 0xaaaa0300
	snapAppleOUI = 0xaaaa0308
)

// snapTest tests an 802.2 SNAP header at off: AA-AA-03, the OUI and the
// Ethernet type (libpcap's gen_snap).
func (c *compiler) snapTest(off loc, et uint32) pred {
	hdr, tail := uint32(snapHdr), et
	if et == etherATalk {
		hdr, tail = snapAppleOUI, 0x00070000|et
	}
	return c.and(c.loadEq(4, off.add(4), tail), c.loadEq(4, off, hdr))
}

// llcNetProto is the protocol test of a link whose payload is an 802.2
// frame (FDDI, Token Ring, 802.11): its SAPs, or the Ethernet type of an
// LLC/SNAP header. libpcap checks neither the SNAP header nor its OUI,
// but for AppleTalk's.
func llcNetProto(c *compiler, et uint32) pred {
	llc := c.llcOff()
	switch {
	case et == sapISO || et == sapNetBEUI:
		return c.loadEq(2, llc, et<<8|et)
	case et == etherATalk:
		return c.snapTest(llc, etherATalk)
	case et <= etherMTU:
		return c.loadEq(1, llc, et)
	}
	return c.loadEq(2, c.linkTypeOff(), et)
}

// le is "the size-byte field at off is at most k".
func (c *compiler) le(size int, off loc, k uint32) pred {
	return c.not(c.cmp(off.load(size), cmpGT, k))
}

// etherNetProto is libpcap's Ethernet protocol test: an Ethernet type, or
// for the values it treats as 802.2 SAPs, an 802.3 frame with that LLC
// header; IPX and AppleTalk in all their encapsulations.
func etherNetProto(c *compiler, et uint32) pred {
	off, pl := c.linkTypeOff(), c.offLinkPayload
	switch et {
	case sapISO, sapNetBEUI:
		return c.and(c.le(2, off, etherMTU), c.loadEq(2, pl, et<<8|et))
	case sapIPX:
		return c.or(c.loadEq(2, off, etherIPX),
			c.and(c.le(2, off, etherMTU), c.or(c.snapTest(pl, etherIPX), c.loadEq(1, pl, sapIPX), c.loadEq(2, pl, 0xffff))))
	case etherATalk, etherAARP:
		return c.or(c.loadEq(2, off, et), c.and(c.le(2, off, etherMTU), c.snapTest(pl, et)))
	}
	if et <= etherMTU {
		// (The DSAP right after the length field, which libpcap reads
		// from the type's offset: after geneve it is not the payload's.)
		return c.and(c.le(2, off, etherMTU), c.loadEq(1, off.add(2), et))
	}
	return c.loadEq(2, off, et)
}

// sllNetProto tests the protocol field of a Linux cooked v1 header, where
// 802.2 and Novell 802.3 frames have pseudo-types of their own.
func sllNetProto(c *compiler, et uint32) pred {
	off, pl := c.linkTypeOff(), c.offLinkPayload
	switch et {
	case sapISO, sapNetBEUI:
		return c.and(c.loadEq(2, off, slLP8022), c.loadEq(2, pl, et<<8|et))
	case sapIPX:
		return c.or(c.loadEq(2, off, etherIPX), c.loadEq(2, off, slLP8023),
			c.and(c.loadEq(2, off, slLP8022), c.or(c.loadEq(1, pl, sapIPX), c.snapTest(pl, etherIPX))))
	case etherATalk, etherAARP:
		return c.or(c.loadEq(2, off, et), c.and(c.loadEq(2, off, slLP8022), c.snapTest(pl, et)))
	}
	if et <= etherMTU {
		return c.and(c.loadEq(2, off, slLP8022), c.loadEq(1, pl, et))
	}
	return c.loadEq(2, off, et)
}

// sll2NetProto: libpcap 1.10 compares the protocol field of a Linux
// cooked v2 header with the value as it is, SAPs included.
func sll2NetProto(c *compiler, et uint32) pred { return c.loadEq(2, c.linkTypeOff(), et) }

// BSD address families for IPv6 in loopback headers: NetBSD/OpenBSD,
// FreeBSD, Darwin, in the order libpcap tests them for a savefile.
var bsdAFInet6 = []uint32{30, 24, 28}

// loopbackNetProto tests the 4-byte address family of a loopback header.
// DLT_NULL's family is in the capturing host's byte order (hostOrder);
// DLT_LOOP's in network order. A live capture (on Linux) has AF_INET6 10;
// a savefile may come from any BSD, so libpcap tests their three values.
func loopbackNetProto(hostOrder bool) func(c *compiler, et uint32) pred {
	return func(c *compiler, et uint32) pred {
		var afs []uint32
		switch et {
		case etherIP:
			afs = []uint32{2}
		case etherIPv6:
			afs = []uint32{10}
			if c.savefile {
				afs = bsdAFInet6
			}
		default:
			return pFalse
		}
		var p pred = pFalse
		for _, af := range afs {
			if hostOrder && !c.nullBigEndian {
				af = af << 24
			}
			p = c.or(p, c.loadEq(4, c.linkTypeOff(), af))
		}
		return p
	}
}

// rawNetProto tests the IP version nibble of raw IP.
func rawNetProto(c *compiler, et uint32) pred {
	switch et {
	case etherIP:
		return c.loadMaskEq(1, c.offLinkPayload, 0xf0, 0x40)
	case etherIPv6:
		return c.loadMaskEq(1, c.offLinkPayload, 0xf0, 0x60)
	}
	return pFalse
}

// chdlcNetProto tests the Ethernet type of a Cisco HDLC header, where
// ISO (OSI) packets have the type 0xfefe.
func chdlcNetProto(c *compiler, et uint32) pred {
	if et == sapISO {
		et = 0xfefe
	}
	return c.loadEq(2, c.linkTypeOff(), et)
}

// slipNetProto tests the IP version nibble as libpcap 1.10 does for
// SLIP: in the first byte of the packet, which is the SLIP header's
// direction byte, not the IP header's (a libpcap quirk kept for parity).
func slipNetProto(c *compiler, et uint32) pred {
	switch et {
	case etherIP:
		return c.loadMaskEq(1, abs(0), 0xf0, 0x40)
	case etherIPv6:
		return c.loadMaskEq(1, abs(0), 0xf0, 0x60)
	}
	return pFalse
}

// onlyNetProto is for links that carry exactly one network protocol.
func onlyNetProto(only uint32) func(c *compiler, et uint32) pred {
	return func(_ *compiler, et uint32) pred { return pConst(et == only) }
}
