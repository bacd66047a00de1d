package codegen_test

import (
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// TestCutsAsLibpcap runs bpfc's program and libpcap's (tcpdump 4.99.3
// -dd, on EN10MB) on frames cut at every length, and checks that they
// keep the same ones: where the two programs make different loads, a
// cut packet shows it. The expressions are those of optimizations that
// follow libpcap's program:
//   - a test of a value already in A moves up its chain ("tcp port 443
//     and src port 1024": the source port against 1024 right after
//     against 443, before the destination port is loaded);
//   - the first block keeps its code when its test goes ("(icmp6 and
//     port 53) or less 100": libpcap's program loads the EtherType, then
//     tests the length, so a frame cut before the EtherType is refused).
func TestCutsAsLibpcap(t *testing.T) {
	frame := func(ethertype uint16, proto byte, sport, dport uint16) []byte {
		p := make([]byte, 74)
		p[12], p[13] = byte(ethertype>>8), byte(ethertype)
		ports := 34
		if ethertype == 0x86dd {
			p[14], p[20] = 0x60, proto
			ports = 54
		} else {
			p[14], p[23] = 0x45, proto
		}
		p[ports], p[ports+1], p[ports+2], p[ports+3] = byte(sport>>8), byte(sport), byte(dport>>8), byte(dport)
		return p
	}
	var frames [][]byte
	for _, et := range []uint16{0x0800, 0x86dd} {
		for _, proto := range []byte{6, 17, 58} {
			for _, ports := range [][2]uint16{{1024, 443}, {443, 1024}, {1024, 80}, {80, 443}, {1024, 53}, {53, 53}} {
				frames = append(frames, frame(et, proto, ports[0], ports[1]))
			}
		}
	}
	for _, tc := range []struct {
		expr    string
		libpcap []bpf.RawInstruction
	}{
		{"tcp port 443 and src port 1024", []bpf.RawInstruction{
			{Op: 0x28, K: 0x0c}, {Op: 0x15, Jf: 7, K: 0x86dd}, {Op: 0x30, K: 0x14}, {Op: 0x15, Jf: 17, K: 6},
			{Op: 0x28, K: 0x36}, {Op: 0x15, Jt: 15, K: 0x1bb}, {Op: 0x15, Jf: 14, K: 0x400}, {Op: 0x28, K: 0x38},
			{Op: 0x15, Jt: 11, Jf: 12, K: 0x1bb}, {Op: 0x15, Jf: 11, K: 0x800}, {Op: 0x30, K: 0x17}, {Op: 0x15, Jf: 9, K: 6},
			{Op: 0x28, K: 0x14}, {Op: 0x45, Jt: 7, K: 0x1fff}, {Op: 0xb1, K: 0x0e}, {Op: 0x48, K: 0x0e},
			{Op: 0x15, Jt: 4, K: 0x1bb}, {Op: 0x15, Jf: 3, K: 0x400}, {Op: 0x48, K: 0x10}, {Op: 0x15, Jf: 1, K: 0x1bb},
			{Op: 0x06, K: 0x40000}, {Op: 0x06, K: 0},
		}},
		{"(icmp6 and port 53) or less 100", []bpf.RawInstruction{
			{Op: 0x28, K: 0x0c}, {Op: 0x80}, {Op: 0x25, Jf: 1, K: 0x64}, {Op: 0x06, K: 0}, {Op: 0x06, K: 0x40000},
		}},
	} {
		p, err := compileFor(t, cbpf.LinkEN10MB, tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if p.Len() > len(tc.libpcap) {
			t.Errorf("%s: %d instructions, libpcap's %d\n%s", tc.expr, p.Len(), len(tc.libpcap), p)
		}
		ours, err := cbpf.NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := cbpf.NewVM(cbpf.FromRaw(tc.libpcap, cbpf.LinkEN10MB, cbpf.DefaultSnaplen))
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for i, f := range frames {
			for n := 0; n <= len(f); n++ {
				a, b := ours.Run(f[:n], len(f)) != 0, theirs.Run(f[:n], len(f)) != 0
				if a != b {
					t.Fatalf("%s: frame %d cut to %d of %d bytes: bpfc keeps it %v, libpcap %v\n%s", tc.expr, i, n, len(f), a, b, p)
				}
				if a {
					kept++
				}
			}
		}
		if kept == 0 {
			t.Errorf("%s: no frame kept: the frames test nothing", tc.expr)
		}
	}
}

// TestNoLongerThanLibpcap: expressions whose programs were longer than
// libpcap's (tcpdump 4.99.3 -d, EN10MB: the lengths below), and no
// test of a program whose branches meet:
//   - a test whose branches meet after the last merges is left as its
//     code ("jeq #0x11 jt 14 jf 14": libpcap's program has it);
//   - regrouping moved "src port 1024" away from where both its
//     outcomes are the same; the program as written is shorter;
//   - "tcp port 443 and src port 1024" loaded the source port again.
func TestNoLongerThanLibpcap(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		libpcap int
	}{
		{"((not host 127.0.0.1 or (udp and ip[8] < 64)) or ip[8] < 64)", 18},
		{"(ip6 or less 100) and less 100", 5},
		{"(((icmp[icmptype] = icmp-echo or less 100) or src port 1024) and vlan)", 17},
		{"tcp port 443 and src port 1024", 22},
		{"udp port 53 and src port 1024", 22},
	} {
		p, err := compileFor(t, cbpf.LinkEN10MB, tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if p.Len() > tc.libpcap {
			t.Errorf("%s: %d instructions, libpcap's %d\n%s", tc.expr, p.Len(), tc.libpcap, p)
		}
		for i, in := range p.Instructions {
			switch j := in.(type) {
			case bpf.JumpIf:
				if j.SkipTrue == j.SkipFalse {
					t.Errorf("%s: instruction %d, %v, goes to the same place either way\n%s", tc.expr, i, j, p)
				}
			case bpf.JumpIfX:
				if j.SkipTrue == j.SkipFalse {
					t.Errorf("%s: instruction %d, %v, goes to the same place either way\n%s", tc.expr, i, j, p)
				}
			}
		}
	}
}

// TestFirstBlockConstant: where the first primitive, or its protocol
// test, is a constant in bpfc ("ip" on DLT_IPV4, "arp" on DLT_RAW, "1 =
// 1"), libpcap's first block loads that constant, and only that code
// goes in front of the block its branches meet at: bpfc's entry, a later
// test, keeps no load when its test goes, and these short packets,
// which libpcap's programs (tcpdump 4.99.3) keep, are kept.
func TestFirstBlockConstant(t *testing.T) {
	for _, tc := range []struct {
		lt   cbpf.LinkType
		expr string
		pkt  []byte
	}{
		{cbpf.LinkIPv4, "(tcp and udp) or less 100", []byte{0x45, 0, 0, 0x0a, 0}},
		{cbpf.LinkIPv6, "(icmp6 and port 53) or less 100", []byte{0x60, 0, 0, 0, 0, 0}},
		{cbpf.LinkRaw, "(arp or (icmp and udp)) or less 100", []byte{}},
		{cbpf.LinkEN10MB, "1 = 1 and ((icmp6 and port 53) or less 100)", []byte{0, 0}},
	} {
		p, err := compileFor(t, tc.lt, tc.expr)
		if err != nil {
			t.Fatalf("%v %s: %v", tc.lt, tc.expr, err)
		}
		vm, err := cbpf.NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		if vm.Run(tc.pkt, len(tc.pkt)) == 0 {
			t.Errorf("%v %s: a packet of %d bytes is refused; libpcap's program keeps it\n%s", tc.lt, tc.expr, len(tc.pkt), p)
		}
	}
}
