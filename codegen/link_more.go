package codegen

import (
	"github.com/bpfc/bpfc/cbpf"
)

// More link types: those whose headers are variations on the ones of
// link.go (an Ethernet frame behind a pseudo-header, an Ethernet type or
// an address family at another offset, 802.2 at the start), as libpcap
// 1.10.3 filters them. Their offsets were read from tcpdump -d -y's
// programs; TestLinkBattery holds them to libpcap's.
const (
	linkARCnet       cbpf.LinkType = 7   // DLT_ARCNET: BSD's ARCnet header (addresses, protocol ID at 2)
	linkATMRFC1483   cbpf.LinkType = 11  // DLT_ATM_RFC1483: 802.2 LLC/SNAP from the first byte
	linkSLIPBSDOS    cbpf.LinkType = 15  // DLT_SLIP_BSDOS: a 24-byte header
	linkATMCLIP      cbpf.LinkType = 19  // DLT_ATM_CLIP: Linux CLIP, LLC/SNAP from the first byte
	linkSymantec     cbpf.LinkType = 99  // DLT_SYMANTEC_FIREWALL: an Ethernet type at 6, the payload at 44
	linkFRelay       cbpf.LinkType = 107 // DLT_FRELAY: Q.922 address, UI control and an NLPID
	linkENC          cbpf.LinkType = 109 // DLT_ENC: OpenBSD's IPsec header, a BSD address family first
	linkLocalTalk    cbpf.LinkType = 114 // DLT_LTALK: AppleTalk only
	linkIPOverFC     cbpf.LinkType = 122 // DLT_IP_OVER_FC: RFC 2625, a 16-byte header (addresses at 2 and 10), then 802.2
	linkAppleIP1394  cbpf.LinkType = 138 // DLT_APPLE_IP_OVER_IEEE1394: an Ethernet type at 16
	linkBACnet       cbpf.LinkType = 165 // DLT_BACNET_MS_TP: a preamble, nothing past it
	linkIPNet        cbpf.LinkType = 226 // DLT_IPNET: Solaris ipnet, an address family at 1
	linkNetAnalyzer  cbpf.LinkType = 240 // DLT_NETANALYZER: Ethernet behind a 4-byte header
	linkNetAnalyzerT cbpf.LinkType = 241 // DLT_NETANALYZER_TRANSPARENT: and its preamble and SFD, 12 bytes
)

// offUnset is libpcap's offset of a header a link type does not have:
// OFFSET_NOT_SET (-1) plus the network layer's own -1 (libpcap 1.10
// keeps the sum, so that "ip[0]" reads 0xfffffffe, which no packet has,
// and "ip[len]" reads len - 2).
const offUnset = 0xfffffffe

var moreLinks = []*linkLayer{
	{lt: linkARCnet, offLinkType: 2, offLinkPayload: 6, netProto: arcnetNetProto, arcnet: &macLayout{src: 0, dst: 1}},
	{lt: linkATMRFC1483, offLinkType: 6, offLinkPayload: 8, offNL: 8, offNLNoSnap: 3, netProto: llcNetProto},
	{lt: linkATMCLIP, offLinkType: 6, offLinkPayload: 8, offNL: 8, offNLNoSnap: 3, netProto: llcNetProto},
	{lt: linkSLIPBSDOS, offLinkType: -1, offLinkPayload: 24, netProto: slipNetProto},
	{lt: linkSymantec, offLinkType: 6, offLinkPayload: 44, netProto: sll2NetProto},
	{lt: linkFRelay, offLinkType: -1, offLinkPayload: 0, netProto: frelayNetProto},
	{lt: linkENC, offLinkType: 0, offLinkPayload: 12, netProto: loopbackNetProto(true)},
	{lt: linkLocalTalk, offLinkType: -1, offLinkPayload: 0, netProto: onlyNetProto(etherATalk)},
	{lt: linkIPOverFC, offLinkType: 16 + 6, offLinkPayload: 16 + 8, offNL: 8, offNLNoSnap: 3,
		netProto: llcNetProto, macs: &macLayout{src: 10, dst: 2}},
	{lt: linkAppleIP1394, offLinkType: 16, offLinkPayload: 18, netProto: sll2NetProto},
	{lt: linkBACnet, offLinkType: -1, offLinkPayload: offUnset, netProto: bacnetNetProto},
	{lt: linkIPNet, offLinkType: 1, offLinkPayload: 24, netProto: ipnetNetProto},
	{lt: linkNetAnalyzer, offLinkHdr: 4, offLinkType: 4 + 12, offLinkPayload: 4 + 14, offNLNoSnap: 3,
		netProto: etherNetProto, macs: &macLayout{src: 6, dst: 0}, vlan: true, mpls: true},
	{lt: linkNetAnalyzerT, offLinkHdr: 12, offLinkType: 12 + 12, offLinkPayload: 12 + 14, offNLNoSnap: 3,
		netProto: etherNetProto, macs: &macLayout{src: 6, dst: 0}, vlan: true, mpls: true},
}

func init() {
	for _, l := range moreLinks {
		registerLink(l)
	}
}

// bacnetNetProto: libpcap tests the MS/TP preamble (55 FF) whatever the
// protocol asked for.
func bacnetNetProto(c *compiler, _ uint32) pred {
	return c.loadMaskEq(4, abs(0), 0xffff0000, 0x55ff0000)
}

// frelayNetProto tests the UI control byte and the NLPID after a 2-byte
// Q.922 address: IPv4 (0xcc), IPv6 (0x8e), or any of the three OSI ones.
// libpcap 1.10 reads the network header from the frame's first byte, not
// past the NLPID, and so does bpfc.
func frelayNetProto(c *compiler, et uint32) pred {
	nlpid := func(v uint32) pred { return c.loadEq(2, c.offLinkHdr.add(2), 0x0300|v) }
	switch et {
	case etherIP:
		return nlpid(0xcc)
	case etherIPv6:
		return nlpid(0x8e)
	case sapISO:
		return c.or(nlpid(0x81), nlpid(0x82), nlpid(0x83))
	}
	return pFalse
}

// Solaris ipnet's address families (IPH_AF_INET, IPH_AF_INET6).
const (
	ipnetAFInet  = 2
	ipnetAFInet6 = 26
)

// ipnetNetProto tests the address family byte of an ipnet header; it
// carries IPv4 and IPv6 only.
var ipnetNetProto = afNetProto(ipnetAFInet, ipnetAFInet6)

// afNetProto tests a 1-byte address family field of the values inet and
// inet6, on a link that carries nothing but IPv4 and IPv6.
func afNetProto(inet, inet6 uint32) func(c *compiler, et uint32) pred {
	return func(c *compiler, et uint32) pred {
		switch et {
		case etherIP:
			return c.loadEq(1, c.linkTypeOff(), inet)
		case etherIPv6:
			return c.loadEq(1, c.linkTypeOff(), inet6)
		}
		return pFalse
	}
}

// Juniper's link types: a 4-byte header ("MGC" and a flags byte, whose
// low bit says inbound) and its extensions. libpcap 1.10 tests only the
// magic number, whatever the protocol asked for, and reads the network
// header at a fixed offset per type; several types have none, and read it
// at offUnset. nosnap is where their ISO NLPID is, past the link payload
// (offLinkPayload - offNL); -1 on the links with no 802.2 header, as in
// libpcap (which then reads it a byte before the network header).
var juniperLinks = []struct {
	lt        cbpf.LinkType
	nl, offNL uint32
	nosnap    uint32
}{
	{130, 4, 0, minus1},             // JUNIPER_MLPPP
	{131, 4, 0, minus1},             // JUNIPER_MLFR
	{132, offUnset, minus1, minus1}, // JUNIPER_ES
	{133, 12, 0, minus1},            // JUNIPER_GGSN
	{134, 4, 0, minus1},             // JUNIPER_MFR
	{135, 8, 0, 10},                 // JUNIPER_ATM2
	{136, offUnset, minus1, minus1}, // JUNIPER_SERVICES
	{137, 4, 0, 10},                 // JUNIPER_ATM1
	{164, 12, 0, minus1},            // JUNIPER_MONITOR
	{167, 32, 18, 21},               // JUNIPER_PPPOE (an Ethernet frame after 14 bytes)
	{168, 6, 0, minus1},             // JUNIPER_PPPOE_ATM
	{178, 32, 18, 21},               // JUNIPER_ETHER (an Ethernet frame after 14 bytes)
	{179, 4, 0, minus1},             // JUNIPER_PPP
	{180, 4, 0, minus1},             // JUNIPER_FRELAY
	{181, 4, 0, minus1},             // JUNIPER_CHDLC
	{183, offUnset, minus1, minus1}, // JUNIPER_VP
	{194, offUnset, minus1, minus1}, // JUNIPER_ISM
	{200, offUnset, minus1, minus1}, // JUNIPER_ST
	{232, offUnset, minus1, minus1}, // JUNIPER_VS
	{233, offUnset, minus1, minus1}, // JUNIPER_SRX_E2E
	{234, offUnset, minus1, minus1}, // JUNIPER_FIBRECHANNEL
	{238, offUnset, minus1, minus1}, // JUNIPER_ATM_CEMIC
}

// minus1 is -1 as an offset, which libpcap adds as it is.
const minus1 = 0xffffffff

// juniperMagic and juniperMask: the "MGC" of a Juniper header.
const (
	juniperMagic = 0x4d474300
	juniperMask  = 0xffffff00
)

func init() {
	for _, j := range juniperLinks {
		registerLink(&linkLayer{lt: j.lt, offLinkType: -1,
			offLinkPayload: j.nl, offNL: j.offNL, offNLNoSnap: j.nosnap,
			netProto: juniperNetProto, juniper: true})
	}
}

// juniperNetProto tests the magic number, as libpcap does for every
// protocol.
func juniperNetProto(c *compiler, _ uint32) pred {
	return c.loadMaskEq(4, c.offLinkHdr, juniperMask, juniperMagic)
}
