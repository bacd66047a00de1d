// Command randexprs prints random filter expressions, one a line: the
// primitives below (a sample of every family the compiler handles, on
// Ethernet) combined with not, and and or up to -d levels deep, from a
// seeded generator, so that a run is repeated exactly. bench/randdiff.sh
// runs them through ../shared/tools/difftest against tcpdump: the random
// differential of the README.
//
//	go run ./bench/randexprs [-n 2000] [-d 3] [-seed 21]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

// primitives are the leaves of the expressions.
var primitives = []string{
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
	"vlan", "vlan 100", "mpls", "pppoes", "pppoed", "llc", "byte 9 = 6",
}

// randomExpr returns a random expression d levels deep at most.
func randomExpr(r *rand.Rand, d int) string {
	if d == 0 || r.IntN(3) == 0 {
		return primitives[r.IntN(len(primitives))]
	}
	switch r.IntN(4) {
	case 0:
		return "not " + randomExpr(r, d-1)
	case 1:
		return "(" + randomExpr(r, d-1) + " and " + randomExpr(r, d-1) + ")"
	default:
		return "(" + randomExpr(r, d-1) + " or " + randomExpr(r, d-1) + ")"
	}
}

func main() {
	n := flag.Int("n", 2000, "how many expressions")
	d := flag.Int("d", 3, "how deep at most")
	seed := flag.Uint64("seed", 21, "the generator's seed")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 2))
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for range *n {
		fmt.Fprintln(w, randomExpr(r, *d))
	}
}
