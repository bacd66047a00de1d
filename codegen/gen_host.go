package codegen

import "github.com/bpfc/bpfc/parser"

import "encoding/binary"

// ARP/RARP address offsets from the network header (Ethernet/IPv4 ARP).
const (
	arpSPA = 14
	arpTPA = 24
)

// hostNet4 tests the IPv4 address field at the two offsets (source and
// destination) against addr/mask.
func (c *compiler) hostNet4(d parser.Dir, src, dst uint32, addr, mask uint32) pred {
	test := func(off uint32) pred {
		if mask == 0xffffffff {
			// c.loadEq(4, c.nl(off), addr), one call shorter.
			return c.test(c.nl(off).load(4), clsJMP|jmpJEQ|srcK, addr)
		}
		return c.loadMaskEq(4, c.nl(off), mask, addr)
	}
	// dirPred's cases.
	switch d {
	case parser.DirSrc:
		return test(src)
	case parser.DirDst:
		return test(dst)
	case parser.DirSrcAndDst:
		return c.and2(test(src), test(dst))
	}
	return c.or2(test(src), test(dst))
}

// IPv4 host/net for one network protocol ("ip", "arp" or "rarp").
func (c *compiler) ipHost(d parser.Dir, addr, mask uint32) pred {
	return c.and2(c.netProto(etherIP), c.hostNet4(d, ipv4Src, ipv4Dst, addr, mask))
}

func (c *compiler) arpHost(et uint32, d parser.Dir, addr, mask uint32) pred {
	return c.and2(c.netProto(et), c.hostNet4(d, arpSPA, arpTPA, addr, mask))
}

// host4 is "[dir] host A" / "[dir] net A/M" with no protocol: IPv4, ARP
// and RARP, in libpcap's order. Each direction test repeats the protocol
// test, as libpcap's unoptimized code does.
func (c *compiler) host4(d parser.Dir, addr, mask uint32) pred {
	perProto := func(f func(parser.Dir) pred) pred {
		if d == parser.DirSrcAndDst {
			return f(d)
		}
		if d == parser.DirDefault || d == parser.DirSrcOrDst {
			return c.or2(f(parser.DirSrc), f(parser.DirDst))
		}
		return f(d)
	}
	ip := perProto(func(d parser.Dir) pred { return c.ipHost(d, addr, mask) })
	if c.mplsDepth > 0 {
		// Under MPLS, libpcap looks for the address in IPv4 alone.
		return ip
	}
	return c.or2(c.or2(
		ip,
		perProto(func(d parser.Dir) pred { return c.arpHost(etherARP, d, addr, mask) })),
		perProto(func(d parser.Dir) pred { return c.arpHost(etherRARP, d, addr, mask) }),
	)
}

// host6 is "[dir] host A" / "[dir] net A/len" for an IPv6 address: the
// 16-byte address compared as four words, each under its mask.
func (c *compiler) host6(d parser.Dir, addr, mask [16]byte) pred {
	test := func(off uint32) func() pred {
		return func() pred {
			var p pred = pTrue
			// libpcap compares the words from the last to the first.
			var words []pred
			for i := 3; i >= 0; i-- {
				a := binary.BigEndian.Uint32(addr[4*i:])
				m := binary.BigEndian.Uint32(mask[4*i:])
				if m == 0 && !c.asWritten() {
					// libpcap's optimizer drops the always-true test and
					// its load; keeping the load would reject packets too
					// short for it.
					continue
				}
				words = append(words, c.loadMaskEq(4, c.nl(off+uint32(4*i)), m, a&m))
			}
			for i := len(words) - 1; i >= 0; i-- {
				p = c.and(p, words[i])
			}
			return c.and(c.netProto(etherIPv6), p)
		}
	}
	return c.dirPred(d, test(ipv6Src), test(ipv6Dst))
}

// etherHost is "ether [dir] host MAC".
func (c *compiler) etherHost(d parser.Dir, mac [6]byte) pred {
	test := func(off uint32) func() pred {
		return func() pred {
			return c.and(c.loadEq(4, c.offLinkHdr.add(off+2), binary.BigEndian.Uint32(mac[2:])),
				c.loadEq(2, c.offLinkHdr.add(off), uint32(binary.BigEndian.Uint16(mac[:2]))))
		}
	}
	if c.inForce().wlan {
		return c.wlanHost(d, mac)
	}
	m := c.macs()
	return c.and(c.innerEther(), c.dirPred(d, test(m.src), test(m.dst)))
}
