package codegen

// Scratch cells that hold the variable offsets after geneve, whose header
// has a variable length: where the inner packet (its link header) starts,
// where the inner protocol type is, and where the inner network header
// starts. Arithmetic uses the cells below them.
const (
	cellLinkHdr     = 13
	cellLinkType    = 14
	cellLinkPayload = 15
	arithCells      = 13
)

const (
	geneveUDPPort = 6081
	etherTEB      = 0x6558 // transparent Ethernet bridging: an inner Ethernet frame
)

// geneve is "geneve [vni]": a UDP packet to port 6081 with a version 0
// Geneve header (and the VNI). After it, every offset is relative to the
// inner packet, found at run time, for the rest of the expression, as in
// libpcap.
func (c *compiler) geneve(vni int64) pred {
	nl := c.nl(0)
	// IPv4: UDP, first fragment, destination port, version; then A is the
	// UDP header's offset from the network header (plus any base).
	l4 := func(size int, off uint32) []stmt { return append(c.l4X(), ldInd(size, nl.off+off)) }
	v4 := c.and(c.netProto(etherIP), c.loadEq(1, c.nl(ipv4Proto), protoUDP), c.notFragment(),
		c.cmp(l4(2, 2), cmpEQ, geneveUDPPort),
		c.maskTest(l4(1, 8), 0xc0, 0))
	if vni >= 0 {
		v4 = c.and(v4, c.maskTest(l4(4, 12), 0xffffff00, uint32(vni)<<8))
	}
	v4 = c.and(v4, pSeq{append(c.l4X(), txa()), pTrue})

	v6 := c.and(c.netProto(etherIPv6), c.loadEq(1, c.nl(ipv6NH), protoUDP),
		c.loadEq(2, c.nl(ipv6Len+2), geneveUDPPort),
		c.loadMaskEq(1, c.nl(ipv6Len+8), 0xc0, 0))
	if vni >= 0 {
		v6 = c.and(v6, c.loadMaskEq(4, c.nl(ipv6Len+12), 0xffffff00, uint32(vni)<<8))
	}
	udp6 := []stmt{ldImm(ipv6Len)}
	if nl.reg >= 0 {
		udp6 = []stmt{ldMem(uint32(nl.reg)), aluK(aluADD, ipv6Len)}
	}
	v6 = c.and(v6, pSeq{udp6, pTrue})

	// With A at the UDP header: X = the Geneve header; the protocol type
	// field; the options length gives the inner packet's start; an inner
	// Ethernet frame (TEB) moves both past its header.
	inner := []stmt{
		aluK(aluADD, nl.off+8), tax(),
		aluK(aluADD, 2), st(cellLinkType),
		ldInd(1, 0), aluK(aluAND, 0x3f), aluK(aluMUL, 4), aluK(aluADD, 8), aluX(aluADD), st(cellLinkPayload), st(cellLinkHdr),
		ldInd(2, 2), ldxMem(cellLinkPayload),
	}
	is := func(v uint32) pred { return &pTest{nil, clsJMP | jmpJEQ | srcK, false, 0, v} }
	done := pSeq{[]stmt{stx(cellLinkPayload)}, pTrue}
	teb := pSeq{[]stmt{txa(), aluK(aluADD, 12), st(cellLinkType), aluK(aluADD, 2), tax()}, done}
	p := c.and(c.or(v4, v6), pSeq{inner, pIf{is(etherTEB), teb, done}})

	c.geneveUsed = true
	c.pppoe = false // (the inner frame is Ethernet's: inForce)
	c.offLinkHdr = loc{cellLinkHdr, 0}
	c.offLinkType = loc{cellLinkType, 0}
	c.offLinkPayload = loc{cellLinkPayload, 0}
	// (libpcap reads the inner NLPID past the outer link's off_nl_nosnap,
	// but without Cisco HDLC's fudge byte: the link type is Ethernet's.)
	c.mplsShift, c.offNL, c.nlpidFudge = 0, 0, 0
	if c.mplsDepth == 0 {
		// (The inner frame's protocol is Ethernet's, length field and
		// 802.2 header included: "geneve and stp" tests the type as a
		// length, then the DSAP.)
		c.proto, c.protoKind = etherNetProto, protoEther
	}
	// (After mpls, libpcap goes on recognising the network protocol by
	// MPLS's rules, now at the inner offsets, and refusing the others:
	// "mpls and geneve and ip" tests the bottom-of-stack bit and the
	// version nibble there.)
	return p
}

// genevePrologue zeroes the offset cells, so that a path that reads them
// without having gone through geneve ("geneve or ip") reads 0 rather than
// a cell never written, which the kernel refuses.
func genevePrologue() []stmt {
	return []stmt{ldImm(0), st(cellLinkHdr), st(cellLinkType), st(cellLinkPayload)}
}

// innerEther holds where the link header in force is an Ethernet
// header, before its MAC addresses are read: always, but after geneve
// only when the inner packet is an Ethernet frame (its link header and
// its network header differ), as libpcap tests it.
func (c *compiler) innerEther() pred {
	if c.offLinkHdr.reg < 0 {
		if c.lane {
			// (on LANE, as libpcap tests it: not an LE control frame)
			return c.not(c.loadEq(2, abs(4), 0xff00))
		}
		return pTrue
	}
	return c.not(cmpX([]stmt{ldMem(uint32(c.offLinkHdr.reg)), ldxMem(uint32(c.offLinkPayload.reg))}, cmpEQ))
}
