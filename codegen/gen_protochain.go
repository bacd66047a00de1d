package codegen

import "errors"

// DefaultProtochainDepth bounds the header walk of "protochain":
// libpcap follows the chain of IPv6 extension headers (and AH) with a
// backward jump, which the kernel refuses; bpfc unrolls the walk this many
// headers deep. 140 covers every chain libpcap's own tests use (133
// headers) and any chain of 8-byte headers in a 1,160-byte packet. A
// packet whose chain is longer before the protocol sought is rejected,
// where libpcap would go on reading. Options.ProtochainDepth changes it.
const DefaultProtochainDepth = 140

// IPv6 next-header values the walk steps over, and the terminators.
const (
	nhHopByHop = 0
	nhRouting  = 43
	nhFragment = 44
	nhAH       = 51
	nhDstOpts  = 60
)

// protochain is "ip6 protochain p" (v6) or "ip protochain p": does the
// chain of headers reach protocol p? A holds the current next-header
// value and X the offset of the header it names, from the network header.
//
// Each level of the unrolled walk tests A against p and the extension
// headers, then moves X past the header: (len+1)*8 bytes for the IPv6
// extension headers, (len+2)*4 for AH; the two share their tail. The
// "no next header" value 59 needs no test of its own: it is neither p
// (tested first) nor a header to step over.
func (c *compiler) protochain(v6 bool, p uint32) pred {
	nlLoc := c.nl(0)
	nl := nlLoc.off
	if nlLoc.reg >= 0 {
		return c.fail(errors.New("'protochain' not supported with variable length headers"))
	}
	// start leaves the first next-header value in A and in X the offset
	// of the header after the fixed one.
	start := []stmt{ldAbs(1, nl+ipv4Proto), ldxMSH(nl)}
	var et uint32 = etherIP
	if v6 {
		et = etherIPv6
		start = []stmt{ldAbs(1, nl+ipv6NH), ldxImm(ipv6Len)}
	}
	if isFalse(c.netProto(et)) {
		// libpcap's optimizer cannot see through its protochain loop, so
		// it does not refuse the expression as one that rejects all
		// packets: neither may bpfc. The test is false at run time only.
		return &pTest{[]stmt{ldImm(0)}, clsJMP | jmpJEQ | srcK, false, 0, 1}
	}
	is := func(v uint32) pred { return &pTest{nil, clsJMP | jmpJEQ | srcK, false, 0, v} }
	c.protochainUsed = true
	depth := c.protochainDepth
	if depth <= 0 {
		depth = DefaultProtochainDepth
	}
	var walk pred = pFalse
	for i := 0; i < depth; i++ {
		// tail: X += A + 8, A = next header byte.
		tail := share(pSeq{[]stmt{aluK(aluADD, 8), aluX(aluADD), st(0), ldInd(1, nl), ldxMem(0)}, walk})
		// A = length byte, scaled.
		lenTimes := func(shift uint32) pred { return pSeq{[]stmt{ldInd(1, nl+1), aluK(aluLSH, shift)}, tail} }
		next := pIf{is(nhAH), lenTimes(2), pFalse}
		if v6 {
			ext := c.or(is(nhHopByHop), is(nhDstOpts), is(nhRouting), is(nhFragment))
			next = pIf{ext, lenTimes(3), next}
		}
		walk = share(pIf{is(p), pTrue, next})
	}
	return c.and(c.netProto(et), pSeq{start, walk})
}
