package codegen

import (
	"testing"

	"github.com/bpfc/bpfc/cbpf"
)

// TestShareTails checks the reordering of equality chains (shareTails)
// on protocol sets, whose IPv6 chain also tests the fragment header: the
// programs must be no longer than libpcap's (without the pass, the first
// two are one and two instructions longer) and keep the same packets as
// libpcap's on every value of the protocol fields, in IPv4, in IPv6 and
// after an IPv6 fragment header, whole and cut short.
func TestShareTails(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want int // instructions
	}{
		{"tcp or udp", 13},
		{"ip6 and not (tcp or udp or icmp6)", 11},
		{"tcp or udp or sctp", 0},
		{"udp or tcp or icmp6", 0},
		{"not (sctp or udp)", 0},
		{"(tcp or udp) and not ip6 proto 58", 0},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			theirs := tcpdumpProgram(t, "EN10MB", tc.expr)
			ours := compileRaw(t, tc.expr, Options{LinkType: cbpf.LinkEN10MB})
			if len(ours) > len(theirs) {
				t.Errorf("%d instructions, libpcap %d", len(ours), len(theirs))
			}
			if tc.want != 0 && len(ours) != tc.want {
				t.Errorf("%d instructions, want %d", len(ours), tc.want)
			}
			var pkts [][]byte
			for v := 0; v < 256; v++ {
				ip4 := etherHdr(0x0800)
				ip4 = append(ip4, make([]byte, 40)...)
				ip4[14] = 0x45
				ip4[23] = byte(v)
				pkts = append(pkts, ip4, ip4[:23], ip4[:24])
				for _, next := range []int{v, 6, 17, 58, 132, 0} {
					ip6 := etherHdr(0x86dd)
					ip6 = append(ip6, make([]byte, 48)...)
					ip6[14] = 0x60
					ip6[20] = byte(v)
					if v == 44 {
						ip6[54] = byte(next)
					}
					pkts = append(pkts, ip6, ip6[:21], ip6[:54], ip6[:55])
					if v != 44 {
						break
					}
				}
			}
			kept, bad := 0, 0
			for i, pkt := range pkts {
				a := refRun(ours, pkt, uint32(len(pkt)))
				b := refRun(theirs, pkt, uint32(len(pkt)))
				if a != 0 {
					kept++
				}
				if (a != 0) != (b != 0) {
					bad++
					if bad <= 3 {
						t.Errorf("packet %d (%d bytes, ethertype %#x): ours %d, libpcap %d", i, len(pkt), pkt[12:14], a, b)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d packets differ", bad, len(pkts))
			}
			if kept == 0 || kept == len(pkts) {
				t.Errorf("%d of %d packets kept: the packets test nothing", kept, len(pkts))
			}
		})
	}
}

// TestHashCounts: counts are exact for hashes added, lookups of others
// find 0 and add nothing (so that a table sized for the hashes added
// never fills up, whatever is looked up).
func TestHashCounts(t *testing.T) {
	var buf []uint64
	const n = 1000
	c := newHashCounts(&buf, n)
	for i := range uint64(n) {
		h := (i + 1) * 0x9e3779b97f4a7c15
		c.add(h)
		if i%3 == 0 {
			c.add(h)
		}
	}
	for i := range uint64(n) {
		want := 1
		if i%3 == 0 {
			want = 2
		}
		if got := c.count((i + 1) * 0x9e3779b97f4a7c15); got != want {
			t.Fatalf("hash %d: count %d, want %d", i, got, want)
		}
	}
	used := 0
	for _, s := range c.slots {
		if s != 0 {
			used++
		}
	}
	for i := range uint64(100 * n) {
		if got := c.count((i + 1) * 0x51afd6ed4b3c9a27); got != 0 {
			t.Fatalf("absent hash %d counted %d", i, got)
		}
	}
	after := 0
	for _, s := range c.slots {
		if s != 0 {
			after++
		}
	}
	if used != n || after != used {
		t.Errorf("%d slots used for %d hashes, %d after the lookups", used, n, after)
	}
}
