package codegen

import (
	"fmt"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// OpenBSD's pflog (DLT_PFLOG), as libpcap 1.10 filters it. The header
// gives its own length in its first byte; the network header follows it,
// at that length rounded up to a multiple of 4. libpcap computes that
// offset once, first in the program, into a scratch cell, when the
// program reads past the header (pflogPrologue), and bpfc does the same.
// The other fields are at fixed offsets (struct pfloghdr): the address
// family at 1 (in the byte order of the capturing host: AF_INET 2,
// AF_INET6 10 on Linux, savefile or not), the action at 2, the reason at
// 3, the interface name at 4 and the ruleset name at 20 (16 bytes each),
// the rule and subrule numbers at 36 and 40, the direction at 60.
const linkPFLOG cbpf.LinkType = 117

// cellPflogPayload is the scratch cell of the network header's offset on
// pflog: the radio header length's cell, for pflog's offset is handled
// as radiotap's length is (compiler.inlineRadio, with the kind
// radioPflog): computed inline at each use while optimizing, so that the
// optimizer sees each load for the value it is ("ip[0] = 1 and ip[0] =
// 2" rejects every packet, as libpcap finds), then once, first.
const cellPflogPayload = cellRadiotap

// The address families of a pflog header, and its directions.
const (
	pflogAFInet  = 2
	pflogAFInet6 = 10
	pflogIn      = 1
	pflogOut     = 2
)

func init() {
	registerLink(&linkLayer{lt: linkPFLOG, offLinkType: 1, netProto: pflogNetProto})
}

// pflogNetProto tests the address family: IPv4 and IPv6 only.
var pflogNetProto = afNetProto(pflogAFInet, pflogAFInet6)

// pflogPrologue stores the network header's offset into its cell, for a
// program the optimizer leaves as written.
func pflogPrologue() pred {
	return pSeq{append(pflogOffCode(), st(cellPflogPayload)), pTrue}
}

// pflogOffCode leaves the network header's offset in A: the header's
// length, rounded up to a multiple of 4.
func pflogOffCode() []stmt {
	return []stmt{ldAbs(1, 0), aluK(aluADD, 3), aluK(aluAND, ^uint32(3))}
}

// readsCell reports whether p's code reads scratch cell m.
func readsCell(p pred, m uint32) bool {
	code := func(ss []stmt) bool {
		for _, s := range ss {
			if (s.op == clsLD|modeMEM || s.op == clsLDX|modeMEM) && s.k == m {
				return true
			}
		}
		return false
	}
	switch q := p.(type) {
	case *pAnd:
		return readsCell(q.a, m) || readsCell(q.b, m)
	case *pOr:
		return readsCell(q.a, m) || readsCell(q.b, m)
	case *pNot:
		return readsCell(q.x, m)
	case *pTest:
		return code(q.prep)
	case pSeq:
		return code(q.code) || readsCell(q.next, m)
	case pIf:
		return readsCell(q.cond, m) || readsCell(q.a, m) || readsCell(q.b, m)
	case pShared:
		return readsCell(q.p, m)
	case pSet:
		return code(q.prep)
	}
	return false
}

// pflogField is one of the pflog primitives: on/ifname, rset/ruleset,
// rnr, srnr, reason, action.
func (c *compiler) pflogField(e *parser.Special) pred {
	if c.inForce().lt != linkPFLOG {
		return c.errorAt(e, ErrRefused, "%s", linkOnly(e))
	}
	switch e.Kind {
	case parser.SpecialPFIfname:
		if len(e.Str) > 15 {
			return c.errorAt(e, ErrRefused, "ifname interface names can only be 15 characters")
		}
		return c.bytesEq(4, e.Str)
	case parser.SpecialPFRuleset:
		if len(e.Str) > 15 {
			return c.errorAt(e, ErrRefused, "ruleset names can only be 15 characters")
		}
		return c.bytesEq(20, e.Str)
	case parser.SpecialPFRnr:
		return c.loadEq(4, c.offLinkHdr.add(36), uint32(e.Num))
	case parser.SpecialPFSrnr:
		return c.loadEq(4, c.offLinkHdr.add(40), uint32(e.Num))
	case parser.SpecialPFReason:
		return c.loadEq(1, c.offLinkHdr.add(3), uint32(e.Num))
	case parser.SpecialPFAction:
		return c.loadEq(1, c.offLinkHdr.add(2), uint32(e.Num))
	}
	return c.fail(fmt.Errorf("codegen: pflog primitive %v", e.Kind))
}

// bytesEq tests that the link header holds s at off (its bytes only, not
// a terminating NUL), in libpcap's order: 4-byte words from the end, then
// a halfword, then a byte.
func (c *compiler) bytesEq(off uint32, s string) pred {
	var p pred = pTrue
	n := uint32(len(s))
	for ; n >= 4; n -= 4 {
		w := s[n-4 : n]
		p = c.and(p, c.loadEq(4, c.offLinkHdr.add(off+n-4), uint32(w[0])<<24|uint32(w[1])<<16|uint32(w[2])<<8|uint32(w[3])))
	}
	for ; n >= 2; n -= 2 {
		p = c.and(p, c.loadEq(2, c.offLinkHdr.add(off+n-2), uint32(s[n-2])<<8|uint32(s[n-1])))
	}
	if n > 0 {
		p = c.and(p, c.loadEq(1, c.offLinkHdr.add(off), uint32(s[0])))
	}
	return p
}
