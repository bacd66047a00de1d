// Package randexpr makes random filter expressions for differential
// tests: primitives of every family the compiler lowers, with values
// that match packets of the test captures, combined with not, and and
// or. The same seed gives the same expressions.
package randexpr

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// Primitives are the leaves of the expressions.
var Primitives = []string{
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "pim", "ah", "esp",
	"vrrp", "stp", "iso", "isis", "l1", "ipx", "atalk", "decnet",
	"host 127.0.0.1", "host 10.0.0.1", "src host 192.168.1.1", "dst host 8.8.8.8", "host ::1",
	"net 10.0.0.0/8", "src net 192.168.0.0/16", "dst net 172.16.0.0/12", "net fe80::/10",
	"ip6 net 2001:db8::/32", "port 53", "port 80", "tcp port 443", "udp port 123", "src port 1024",
	"dst port 22", "portrange 1-1023", "tcp portrange 8000-9000", "ip proto 17", "ip6 proto 58",
	"proto 6", "ether proto 0x0800", "ether host ff:ff:ff:ff:ff:ff", "ether src 00:00:00:00:00:00",
	"broadcast", "multicast", "ip broadcast", "ip multicast", "ip6 multicast",
	"less 100", "greater 1000", "len > 60", "len <= 1500",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[13] & 0x12 = 0x12", "icmp[icmptype] = icmp-echo",
	"ip[0] & 0xf > 5", "ip[2:2] > 1000", "ip[6:2] & 0x1fff = 0", "udp[0:2] = 53", "ether[0] & 1 = 1",
	"ip[ip[0] & 0xf] = 0", "ip6[6] = 17", "tcp[0:2] > tcp[2:2]", "ip[8] < 64",
	"ip protochain 6", "ip6 protochain 17",
	"vlan", "vlan 100", "mpls", "pppoes", "pppoed", "geneve", "llc", "byte 9 = 6",
}

// Expr returns a random expression of depth up to d over prims.
func Expr(r *rand.Rand, prims []string, d int) string {
	if d == 0 || r.IntN(3) == 0 {
		return prims[r.IntN(len(prims))]
	}
	switch r.IntN(4) {
	case 0:
		return "not " + Expr(r, prims, d-1)
	case 1:
		return "(" + Expr(r, prims, d-1) + " and " + Expr(r, prims, d-1) + ")"
	default:
		return "(" + Expr(r, prims, d-1) + " or " + Expr(r, prims, d-1) + ")"
	}
}

// Without returns the primitives of prims that contain none of words,
// in their order.
func Without(prims []string, words ...string) []string {
	var out []string
next:
	for _, p := range prims {
		for _, w := range words {
			if strings.Contains(p, w) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// Relations are comparisons of packet fields and of lengths, for
// AndChain: the tests whose values libpcap's optimizer takes for others
// than the protocol tests' (two loads of one byte, a mask tested against
// 0 or not, a comparison with X).
var Relations = []string{
	"ip[0] & 1 = 0", "ip[0] & 1 != 0", "ip[0] & 0xf > 5", "ip[2:2] > ip[4:2]", "ip[9] = 6",
	"ip[6:2] & 0x1fff = 0", "tcp[13] & 2 != 0", "tcp[0:2] > tcp[2:2]", "len & 1 = 0", "len > 100",
	"link[0] = 1", "link[8] & 1 = 0", "ip6[6] = 17", "udp[0:2] = 53", "ether[0] & 1 = 0",
	"1 = 1", "1 = 2", "inbound", "outbound",
}

// AndChain returns 2 to 4 expressions of depth up to d over prims, joined
// by "and": the and-heavy expressions where libpcap's pull-ups and
// threading decide most of its refusals.
func AndChain(r *rand.Rand, prims []string, d int) string {
	terms := make([]string, 2+r.IntN(3))
	for i := range terms {
		terms[i] = Expr(r, prims, d)
	}
	return strings.Join(terms, " and ")
}

// ConstRelation returns a relation of constants: literals or arithmetic
// on them, with one of the six comparisons.
func ConstRelation(r *rand.Rand) string {
	lhs := []string{"0", "1", "2", "1 + 1", "1 + 0", "2 - 1", "1 * 2", "3 & 1", "0 + 0", "2 / 2"}
	rhs := []string{"0", "1", "2", "1 + 1", "1 + 0", "2 - 1"}
	ops := []string{"=", "!=", ">", "<", ">=", "<="}
	return lhs[r.IntN(len(lhs))] + " " + ops[r.IntN(len(ops))] + " " + rhs[r.IntN(len(rhs))]
}

// arithLoads and arithNums are the leaves of ArithRelation.
var (
	arithLoads = []string{"ip[0]", "ip[9]", "tcp[0]", "tcp[13]", "udp[0:2]", "udp[2]", "icmp[0]",
		"ether[12:2]", "ether[20]", "ip6[6]", "len", "ip[2:2]", "tcp[12]"}
	arithNums = []string{"0", "1", "2", "4", "0xf", "255"}
	arithOps  = []string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}
	relOps    = []string{"=", "!=", ">", "<", ">=", "<="}
)

// ArithRelation returns a relation of arithmetic up to d levels deep
// over loads of several protocols, lengths and numbers, with every
// operator (no literal 0 divisor, no literal shift over 31), sometimes
// after a protocol: the expressions where libpcap's protocol tests of
// operands, its folding and its shifts by X show.
func ArithRelation(r *rand.Rand, d int) string {
	var arith func(d int) string
	arith = func(d int) string {
		if d == 0 || r.IntN(10) < 3 {
			if r.IntN(10) < 6 {
				return arithLoads[r.IntN(len(arithLoads))]
			}
			return arithNums[r.IntN(len(arithNums))]
		}
		op := arithOps[r.IntN(len(arithOps))]
		x, y := arith(d-1), arith(d-1)
		if (op == "/" || op == "%") && y == "0" || (op == "<<" || op == ">>") && y == "255" {
			y = "2"
		}
		return "(" + x + " " + op + " " + y + ")"
	}
	e := arith(d) + " " + relOps[r.IntN(len(relOps))] + " " + slices.Concat(arithNums, arithLoads)[r.IntN(len(arithNums)+len(arithLoads))]
	if r.IntN(10) < 3 {
		e = []string{"ip", "tcp", "udp", "ip6", "not tcp"}[r.IntN(5)] + " and " + e
	}
	return e
}
