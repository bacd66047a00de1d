package codegen

// ProtochainDepth bounds the header walk of "protochain": libpcap follows
// the chain of IPv6 extension headers (and AH) with a backward jump,
// which the kernel refuses; bpfc unrolls the walk this many headers deep.
// A packet whose chain holds more headers before the protocol sought is
// rejected, where libpcap would go on reading.
const ProtochainDepth = 12

// IPv6 next-header values the walk steps over, and the terminators.
const (
	nhHopByHop = 0
	nhRouting  = 43
	nhFragment = 44
	nhAH       = 51
	nhNone     = 59
	nhDstOpts  = 60
)

// protochain is "ip6 protochain p" (v6) or "ip protochain p": does the
// chain of headers reach protocol p? A holds the current next-header
// value and X the offset of the header it names, from the network header.
func (c *compiler) protochain(v6 bool, p uint32) pred {
	nl := c.nl(0)
	var start []stmt
	var et uint32 = etherIP
	if v6 {
		et = etherIPv6
		start = []stmt{ldAbs(1, c.nl(ipv6NH)), ldxImm(ipv6Len)}
	} else {
		start = []stmt{ldAbs(1, c.nl(ipv4Proto)), ldxMSH(nl)}
	}
	is := func(v uint32) pred { return pTest{nil, clsJMP | jmpJEQ | srcK, v} }
	// advance reads the next header's next-header byte and length byte
	// and moves X past the header: (len+1)*8 bytes for the IPv6
	// extension headers, (len+2)*4 for AH.
	advance := func(add, mul uint32) []stmt {
		return []stmt{
			ldInd(1, nl), st(0),
			ldInd(1, nl+1), aluK(aluADD, add), aluK(aluMUL, mul), aluX(aluADD), tax(),
			ldMem(0),
		}
	}
	var walk pred = pFalse
	for i := 0; i < ProtochainDepth; i++ {
		next := pIf{is(nhAH), pSeq{advance(2, 4), walk}, pFalse}
		if v6 {
			ext := or(is(nhHopByHop), is(nhDstOpts), is(nhRouting), is(nhFragment))
			next = pIf{ext, pSeq{advance(1, 8), walk}, next}
		}
		walk = share(pIf{is(p), pTrue, pIf{is(nhNone), pFalse, next}})
	}
	if c.netProto(et) == pFalse {
		// libpcap's optimizer cannot see through its protochain loop, so
		// it does not refuse the expression as one that rejects all
		// packets: neither may bpfc. The test is false at run time only.
		return pTest{[]stmt{ldImm(0)}, clsJMP | jmpJEQ | srcK, 1}
	}
	return and(c.netProto(et), pSeq{start, walk})
}
