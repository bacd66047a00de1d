package codegen

import "github.com/bpfc/bpfc/parser"

// The transport protocols "port" and "portrange" apply to, in the order
// libpcap tests them when no protocol is given.
var portProtos = []uint32{protoSCTP, protoTCP, protoUDP}

// port is libpcap's "[proto] [dir] port N": proto is 0 for any of sctp,
// tcp and udp. IPv6 is tested before IPv4, as libpcap does.
func (c *compiler) port(proto uint32, d parser.Dir, port uint16) pred {
	return c.portRange(proto, d, port, port)
}

// portRange is "[proto] [dir] portrange lo-hi" (and port when lo == hi).
func (c *compiler) portRange(proto uint32, d parser.Dir, lo, hi uint16) pred {
	protos := portProtos
	if proto != 0 {
		protos = []uint32{proto}
	}
	return c.portRangeOf(protos, d, lo, hi)
}

// portRangeOf tests ports of the given transport protocols (in libpcap's
// order: sctp, tcp, udp).
func (c *compiler) portRangeOf(protos []uint32, d parser.Dir, lo, hi uint16) pred {
	in := func(test func(off uint32, op cmpOp, v uint32) pred, off uint32) pred {
		if lo == hi {
			return test(off, cmpEQ, uint32(lo))
		}
		return c.and(test(off, cmpGE, uint32(lo)), test(off, cmpLE, uint32(hi)))
	}
	v6 := func(off uint32, op cmpOp, v uint32) pred {
		return c.cmp(c.nl(ipv6Len+off).load(2), op, v)
	}
	v4 := func(off uint32, op cmpOp, v uint32) pred { return c.ipv4L4(2, off, op, v) }

	// The network protocol is tested once, before the transport ones, as
	// libpcap writes it (which its unoptimized programs show).
	var p6, p4 pred = pFalse, pFalse
	for _, pr := range protos {
		p6 = c.or(p6, c.and(c.loadEq(1, c.nl(ipv6NH), pr), c.dirPred(d,
			func() pred { return in(v6, 0) }, func() pred { return in(v6, 2) })))
	}
	for _, pr := range protos {
		p4 = c.or(p4, c.and(c.loadEq(1, c.nl(ipv4Proto), pr), c.notFragment(), c.dirPred(d,
			func() pred { return in(v4, 0) }, func() pred { return in(v4, 2) })))
	}
	return c.or(c.and(c.netProto(etherIPv6), p6), c.and(c.netProto(etherIP), p4))
}
