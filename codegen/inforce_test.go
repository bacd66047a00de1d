package codegen

import (
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// compileErr compiles expr with opts as compileRaw does, returning the
// error instead of failing.
func compileErr(t *testing.T, expr string, opts Options) ([]bpf.RawInstruction, error) {
	t.Helper()
	e, err := parser.Parse(expr)
	if err == nil {
		e, err = parser.Resolve(context.Background(), e, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(e, opts)
	if err != nil {
		return nil, err
	}
	raw, err := p.Raw()
	if err != nil {
		t.Fatal(err)
	}
	return raw, nil
}

// TestLinkInForce checks the link-level primitives after pppoes and
// geneve, where libpcap takes the rest of the expression for PPP's, or
// for the inner Ethernet frame's, whatever the capture's link type. The
// verdicts and messages are tcpdump 4.99.3's (libpcap 1.10.3), seen on
// 2026-12-02 with tcpdump -d -y LT, and tcpdump -r for the savefile
// ones. Before bpfc followed the link in force, each "pppoes and mpls"
// not on Ethernet or Cisco HDLC was refused ("no MPLS support for Linux
// cooked v1"), "pppoes and inbound" on a Linux cooked savefile and
// "... pppoes ... and broadcast" on Linux ARCnet were compiled, and
// "geneve and vlan" or "geneve and llc" on Linux cooked captures refused.
func TestLinkInForce(t *testing.T) {
	for _, tc := range []struct {
		lt       cbpf.LinkType
		expr     string
		savefile bool
		err      string // "" when libpcap compiles it
	}{
		{cbpf.LinkLinuxSLL, "pppoes and mpls", false, ""},
		{cbpf.LinkLinuxSLL2, "not (not pppoes or mpls)", false, ""},
		{cbpf.LinkLinuxSLL, "pppoes and mpls and ip", false, ""},
		{cbpf.LinkRaw, "pppoes and mpls", false, "expression rejects all packets"},
		{cbpf.LinkNull, "src port 1024 and (not pppoes or (mpls or ip6 proto 58))", false, ""},
		{linkARCnetLinux, "(pppoes or igmp) and broadcast", false, "not a broadcast link"},
		{linkARCnetLinux, "pppoes and multicast", false, "link-layer multicast filters supported only on"},
		{linkARCnetLinux, "broadcast", false, ""},
		{cbpf.LinkRaw, "pppoes and vlan", false, "no VLAN support for PPP"},
		{linkCHDLC, "pppoes and vlan", false, "no VLAN support for PPP"},
		{cbpf.LinkEN10MB, "pppoes and inbound", true, "inbound/outbound not supported on PPP when reading savefiles"},
		{cbpf.LinkLinuxSLL, "pppoes and inbound", true, "inbound/outbound not supported on PPP when reading savefiles"},
		{cbpf.LinkLinuxSLL, "pppoes and ifindex 2", true, "ifindex not supported on PPP when reading savefiles"},
		{cbpf.LinkLinuxSLL, "geneve and inbound", true, "inbound/outbound not supported on Ethernet when reading savefiles"},
		{cbpf.LinkLinuxSLL, "inbound", true, ""},
		{cbpf.LinkLinuxSLL, "geneve and vlan", false, ""},
		{cbpf.LinkLinuxSLL2, "geneve and llc", false, ""},
		{cbpf.LinkLinuxSLL, "geneve and mpls", false, ""},
		{cbpf.LinkLinuxSLL, "pppoes and geneve and ether host 1:2:3:4:5:6", false, ""},
		{cbpf.LinkEN10MB, "pppoes and geneve and vlan", false, ""},
		{cbpf.LinkEN10MB, "pppoes and llc", false, "'llc' not supported for PPP"},
		{cbpf.LinkLinuxSLL, "llc", false, "'llc' not supported for Linux cooked v1"},
	} {
		checkVerdict(t, tc.lt, tc.expr, Options{LinkType: tc.lt, Savefile: tc.savefile}, tc.err)
	}
}

// checkVerdict checks that expr compiles with opts if libpcapErr is
// empty, and is otherwise refused with a message that contains it.
func checkVerdict(t *testing.T, lt cbpf.LinkType, expr string, opts Options, libpcapErr string) {
	t.Helper()
	_, err := compileErr(t, expr, opts)
	switch {
	case libpcapErr == "" && err != nil:
		t.Errorf("%v %q: %v; libpcap compiles it", lt, expr, err)
	case libpcapErr != "" && err == nil:
		t.Errorf("%v %q compiled; libpcap refuses it: %s", lt, expr, libpcapErr)
	case libpcapErr != "" && !strings.Contains(err.Error(), libpcapErr):
		t.Errorf("%v %q: %v; libpcap says %s", lt, expr, err, libpcapErr)
	}
}

// TestLinkInForceLoads checks the loads that depend on the link in
// force: libpcap reads the packet type and the interface index from the
// link header in force, so that after pppoes it loads another ancillary
// field or none (on Ethernet "ldh [queue]", 20 bytes past the packet
// type; on Linux cooked v1 "ldh [-4070]", which is no ancillary field,
// and which bpfc moves to 0x7fffffff), after geneve through X
// ("ldh [x + -4092]", a load that fails); and PPP numbers STP 0x31 and
// has its ISO payload right after the protocol field. The wanted
// instructions are tcpdump -d's on 2026-12-02.
func TestLinkInForceLoads(t *testing.T) {
	// (An offset there that is no ancillary field bpfc moves out of
	// every packet's reach: see absOff.)
	ldAbsH := func(k int32) bpf.RawInstruction { return bpf.RawInstruction{Op: 0x28, K: absOff(uint32(k))} }
	ldAbsW := func(k int32) bpf.RawInstruction { return bpf.RawInstruction{Op: 0x20, K: absOff(uint32(k))} }
	ldIndH := func(k int32) bpf.RawInstruction { return bpf.RawInstruction{Op: 0x48, K: uint32(k)} }
	ldAbsB := func(k int32) bpf.RawInstruction { return bpf.RawInstruction{Op: 0x30, K: uint32(k)} }
	jeq := func(k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: 0x15, K: k} }
	for _, tc := range []struct {
		lt   cbpf.LinkType
		expr string
		want bpf.RawInstruction // an instruction the program must have
		not  bpf.RawInstruction // and one it must not (zero: none)
	}{
		{cbpf.LinkEN10MB, "pppoes and inbound", ldAbsH(-4096 + 4 + 20), ldAbsH(-4096 + 4)},
		{cbpf.LinkEN10MB, "inbound", ldAbsH(-4096 + 4), bpf.RawInstruction{}},
		{cbpf.LinkLinuxSLL, "pppoes and outbound", ldAbsH(-4070), ldAbsH(0)},
		{linkCHDLC, "pppoes and inbound", ldAbsH(-4082), bpf.RawInstruction{}},
		{cbpf.LinkEN10MB, "pppoes and ifindex 3", ldAbsW(-4096 + 8 + 20), ldAbsW(-4096 + 8)},
		{cbpf.LinkLinuxSLL2, "pppoes and ifindex 3", ldAbsW(-4062), ldAbsW(4)},
		{cbpf.LinkEN10MB, "geneve and inbound", ldIndH(-4092), ldAbsH(-4096 + 4)},
		{cbpf.LinkLinuxSLL, "geneve and inbound", ldIndH(-4092), ldAbsH(0)},
		{cbpf.LinkEN10MB, "pppoes and stp", jeq(0x31), jeq(0x42)},
		{cbpf.LinkEN10MB, "pppoes and isis", ldAbsB(22), ldAbsB(25)},
		{linkCHDLC, "pppoes and isis", ldAbsB(12), ldAbsB(13)},
	} {
		raw, err := compileErr(t, tc.expr, Options{LinkType: tc.lt})
		if err != nil {
			t.Errorf("%v %q: %v", tc.lt, tc.expr, err)
			continue
		}
		has := func(want bpf.RawInstruction) bool {
			return slices.ContainsFunc(raw, func(r bpf.RawInstruction) bool { return r.Op == want.Op && r.K == want.K })
		}
		if !has(tc.want) {
			t.Errorf("%v %q: no %v in\n%v", tc.lt, tc.expr, tc.want.Disassemble(), raw)
		}
		if tc.not != (bpf.RawInstruction{}) && has(tc.not) {
			t.Errorf("%v %q: %v, which libpcap does not make, in\n%v", tc.lt, tc.expr, tc.not.Disassemble(), raw)
		}
	}
}

// TestLinkInForceAsLibpcap compiles the primitives whose code depends on
// the link in force after pppoes, on link types where libpcap's
// optimized program is bpfc's, and checks that they are the same
// instructions as tcpdump -ddd's, run here.
func TestLinkInForceAsLibpcap(t *testing.T) {
	for _, lt := range []string{"EN10MB", "LINUX_SLL", "LINUX_SLL2", "C_HDLC"} {
		l, err := cbpf.ParseLinkType(lt)
		if err != nil {
			t.Fatal(err)
		}
		for _, expr := range []string{
			"pppoes and inbound", "pppoes and outbound", "pppoes and ifindex 3",
			"pppoes and stp", "pppoes and isis", "pppoes and iso", "pppoes and ipx",
			"pppoes and decnet", "pppoes and atalk", "pppoes and mpls",
		} {
			sameAsLibpcap(t, lt, l, expr)
		}
	}
}

// TestPPPLinkTypes checks the PPP link types against libpcap: the
// programs of a few primitives must be tcpdump -ddd's (run here), and
// the refusals and instructions below are tcpdump 4.99.3's, seen on
// 2026-12-02. (The golden test runs libpcap's corpus on tcpdump's PPP
// and PPP_SERIAL captures.)
func TestPPPLinkTypes(t *testing.T) {
	for _, lt := range []string{"PPP", "PPP_SERIAL", "PPP_ETHER", "PPP_BSDOS", "PPP_PPPD"} {
		l, err := cbpf.ParseLinkType(lt)
		if err != nil {
			t.Fatal(err)
		}
		// (Programs of one chain of tests, which bpfc lays out as libpcap
		// does; the golden test compares the packets of longer ones.)
		for _, expr := range []string{"ip", "ip6", "arp", "iso", "isis", "stp", "ipx", "decnet", "atalk",
			"pppoes and ip", "outbound", "link[0] = 0xff",
			// (libpcap maps only the Ethernet types it knows: not MPLS's.)
			"ether proto 0x8847", "ether proto 0x8848", "ether proto 0x80f5"} {
			sameAsLibpcap(t, lt, l, expr)
		}
	}
	for _, tc := range []struct {
		lt   cbpf.LinkType
		expr string
		err  string
	}{
		{linkPPP, "mpls", ""},
		{linkPPPSerial, "mpls", "no MPLS support for PPP over serial"},
		{linkPPPEther, "vlan", "no VLAN support for PPPoE"},
		{linkPPPBSDOS, "llc", "'llc' not supported for BSD/OS PPP"},
		{linkPPPPPPD, "mpls", "no MPLS support for PPP for pppd, with direction flag"},
		{linkPPP, "broadcast", "not a broadcast link"},
		{linkPPP, "ether host 1:2:3:4:5:6", "ethernet addresses supported only on"},
	} {
		checkVerdict(t, tc.lt, tc.expr, Options{LinkType: tc.lt}, tc.err)
	}
	// BSD/OS PPP's IPv4 is also Van Jacobson's TCP/IP; pppd's header
	// starts with the direction, 0 in and 1 out.
	raw, err := compileErr(t, "ip", Options{LinkType: linkPPPBSDOS})
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.RawInstruction{{Op: 0x28, K: 5}, {Op: 0x15, Jt: 2, K: 0x21}, {Op: 0x15, Jt: 1, K: 0x2d},
		{Op: 0x15, Jf: 1, K: 0x2f}, {Op: 0x06, K: 262144}, {Op: 0x06}}
	if !slices.Equal(raw, want) {
		t.Errorf("PPP_BSDOS ip:\n got %v\nwant %v", raw, want)
	}
	raw, err = compileErr(t, "inbound", Options{LinkType: linkPPPPPPD, Savefile: true})
	if err != nil {
		t.Fatal(err)
	}
	want = []bpf.RawInstruction{{Op: 0x30, K: 0}, {Op: 0x15, Jf: 1, K: 0}, {Op: 0x06, K: 262144}, {Op: 0x06}}
	if !slices.Equal(raw, want) {
		t.Errorf("PPP_PPPD inbound:\n got %v\nwant %v", raw, want)
	}
}

// sameAsLibpcap checks that bpfc's program for expr on lt (named ltName
// for tcpdump) is tcpdump -ddd's, instruction for instruction.
func sameAsLibpcap(t *testing.T, ltName string, lt cbpf.LinkType, expr string) {
	t.Helper()
	want := tcpdumpProgram(t, ltName, expr)
	for i, r := range want {
		if r.Op&0x07 == clsLD && r.Op&0xe0 == modeABS {
			want[i].K = absOff(r.K) // (libpcap's loads no packet has, moved as bpfc moves them)
		}
	}
	got, err := compileErr(t, expr, Options{LinkType: lt})
	if err != nil {
		t.Errorf("%s %q: %v", ltName, expr, err)
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s %q:\n got %v\nwant %v (tcpdump -ddd)", ltName, expr, got, want)
	}
}

// TestGeneveInner checks how primitives after geneve read the inner
// frame, as libpcap does: "vlan N" reads the VLAN ID from the inner link
// payload, which is the inner type's offset + 2 for an inner Ethernet
// frame but not for another protocol (there libpcap's "type" is the
// Geneve header's protocol field and the payload follows the Geneve
// options); and the protocols 802.2 carries are Ethernet's, with the
// type field taken as a length. The verdicts are libpcap's (tcpdump -d
// of each expression on 2026-12-02, read by hand), checked against
// tcpdump's own programs where it is installed.
func TestGeneveInner(t *testing.T) {
	geneve := func(proto uint16, vni uint32, payload ...byte) []byte {
		gen := []byte{0, 0, byte(proto >> 8), byte(proto), byte(vni >> 16), byte(vni >> 8), byte(vni), 0}
		gen = append(gen, payload...)
		udpLen := 8 + len(gen)
		udp := []byte{0x30, 0x39, 0x17, 0xc1, byte(udpLen >> 8), byte(udpLen), 0, 0}
		ipLen := 20 + udpLen
		ip := []byte{0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		eth := []byte{2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 0x08, 0x00}
		return slices.Concat(eth, ip, udp, gen)
	}
	macs := []byte{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3}
	innerVLAN := func(vid uint16) []byte {
		return slices.Concat(macs, []byte{0x81, 0x00, byte(vid >> 8), byte(vid), 0x08, 0x00, 0x45, 0})
	}
	// An 802.3 frame: a length, then the 802.2 header.
	inner8023 := func(dsap, ssap byte) []byte {
		return slices.Concat(macs, []byte{0x00, 0x26, dsap, ssap, 0x03}, make([]byte, 35))
	}
	for _, tc := range []struct {
		expr, name string
		pkt        []byte
		keep       bool
	}{
		{"geneve and vlan 5", "inner Ethernet, VLAN 5", geneve(0x6558, 9, innerVLAN(5)...), true},
		{"geneve and vlan 5", "inner Ethernet, VLAN 6", geneve(0x6558, 5<<8, innerVLAN(6)...), false},
		// Not an Ethernet frame: the ID is the payload's first field, not
		// the VNI's (bpfc read VNI 0x000500 as VLAN 5).
		{"geneve and vlan 5", "protocol 0x8100, ID 5 in the payload", geneve(0x8100, 0, 0x00, 0x05, 0x08, 0x00), true},
		{"geneve and vlan 5", "protocol 0x8100, VNI 0x500", geneve(0x8100, 5<<8, 0x00, 0x06, 0x08, 0x00), false},
		// (bpfc compared the length field with the SAP.)
		{"geneve and stp", "802.3 frame, STP", geneve(0x6558, 0, inner8023(0x42, 0x42)...), true},
		{"geneve and stp", "802.3 frame, IPX", geneve(0x6558, 0, inner8023(0xe0, 0xe0)...), false},
		{"geneve and ipx", "802.3 frame, IPX", geneve(0x6558, 0, inner8023(0xe0, 0xe0)...), true},
		{"geneve and iso", "802.3 frame, ISO", geneve(0x6558, 0, inner8023(0xfe, 0xfe)...), true},
		{"geneve and iso", "802.3 frame, STP", geneve(0x6558, 0, inner8023(0x42, 0x42)...), false},
		{"geneve and netbeui", "802.3 frame, NetBEUI", geneve(0x6558, 0, inner8023(0xf0, 0xf0)...), true},
	} {
		keepsAsLibpcap(t, tc.expr, tc.name, tc.pkt, tc.keep)
	}
}

// TestLLCAfterMPLS checks that "llc" reads the 802.2 header where the
// link payload starts, which MPLS labels do not move in libpcap: in "mpls
// or llc" a frame that is not MPLS has its LLC header at byte 14 of
// Ethernet (bpfc read byte 18). Verdicts as TestGeneveInner's.
func TestLLCAfterMPLS(t *testing.T) {
	frame := func(payload ...byte) []byte {
		return slices.Concat([]byte{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 0x00, 0x26}, payload, make([]byte, 30))
	}
	for _, tc := range []struct {
		expr, name string
		pkt        []byte
		keep       bool
	}{
		{"mpls or llc", "802.2 frame", frame(0x42, 0x42, 0x03, 0, 0xff, 0xff), true},
		{"mpls or llc", "Novell 802.3 frame", frame(0xff, 0xff, 0x03, 0, 0x42, 0x42), false},
		{"mpls 1 or llc u", "802.2 U frame", frame(0x42, 0x42, 0x03, 0, 0xff, 0xff), true},
		{"mpls 1 or llc u", "802.2 I frame", frame(0x42, 0x42, 0x00, 0, 0xff, 0x03), false},
	} {
		keepsAsLibpcap(t, tc.expr, tc.name, tc.pkt, tc.keep)
	}
}

// TestGeneveMPLSGeneve checks that a geneve after mpls keeps MPLS's
// protocol rules though its offsets are those of an earlier geneve's:
// bpfc's memo of protocol tests, keyed by the offsets alone, reused the
// first geneve's "ip" (an Ethernet type test), so it kept the packet
// below, for which libpcap's program reads the bottom-of-stack bit at
// x - 2 and keeps nothing, and compiled "... geneve and isis", which
// libpcap refuses as it refuses "mpls and isis".
func TestGeneveMPLSGeneve(t *testing.T) {
	for _, expr := range []string{"geneve and (esis or mpls) and geneve and isis", "geneve and (ip or mpls) and geneve and iso"} {
		if _, err := compileErr(t, expr, Options{LinkType: cbpf.LinkEN10MB}); err == nil || !strings.Contains(err.Error(), "unsupported protocol over mpls") {
			t.Errorf("%s: got %v, want libpcap's refusal", expr, err)
		}
	}
	macs := []byte{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3}
	// ipUDPGeneve is an IPv4 header, a UDP header to port 6081 and a
	// Geneve header whose protocol is TEB, then payload.
	ipUDPGeneve := func(payload []byte) []byte {
		gen := append([]byte{0, 0, 0x65, 0x58, 0, 0, 1, 0}, payload...)
		udpLen := 8 + len(gen)
		udp := append([]byte{0x30, 0x39, 0x17, 0xc1, byte(udpLen >> 8), byte(udpLen), 0, 0}, gen...)
		ipLen := 20 + len(udp)
		return slices.Concat([]byte{0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}, udp)
	}
	innermost := slices.Concat(macs, []byte{0x08, 0x00, 0x45}, make([]byte, 40))
	mplsFrame := slices.Concat(macs, []byte{0x88, 0x47, 0x00, 0x06, 0x41, 0x40}, ipUDPGeneve(innermost)) // label 100, bottom of stack
	pkt := slices.Concat(macs, []byte{0x08, 0x00}, ipUDPGeneve(mplsFrame))
	keepsAsLibpcap(t, "geneve and (ip or mpls) and geneve", "IPv4 in Geneve over MPLS in Geneve", pkt, true)
	keepsAsLibpcap(t, "geneve and (ip or mpls) and geneve and ip", "IPv4 in Geneve over MPLS in Geneve", pkt, false)
	keepsAsLibpcap(t, "geneve and (ip or mpls) and geneve and udp", "IPv4 in Geneve over MPLS in Geneve", pkt, false)
}

// TestArithRightGuards checks that an arithmetic operation keeps the
// protocol tests of its left operand only, as libpcap 1.10's does: "ip
// and 1 + tcp[0] > 1" keeps a UDP packet whose first UDP byte is set
// (bpfc tested TCP first, and refused "udp and 1 + tcp[0] > 1"; found by
// review), while "ip and tcp[0] + 1 > 1" tests TCP.
func TestArithRightGuards(t *testing.T) {
	eth := []byte{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 0x08, 0x00}
	ip := []byte{0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	udp := []byte{0x12, 0x34, 0, 53, 0, 8, 0, 0}
	pkt := slices.Concat(eth, ip, udp)
	keepsAsLibpcap(t, "ip and 1 + tcp[0] > 1", "UDP, first byte 0x12", pkt, true)
	keepsAsLibpcap(t, "udp and 1 + tcp[0] > 1", "UDP, first byte 0x12", pkt, true)
	keepsAsLibpcap(t, "ip and 1 + (2 * tcp[0]) > 1", "UDP, first byte 0x12", pkt, true)
	keepsAsLibpcap(t, "ip and tcp[0] + 1 > 1", "UDP, first byte 0x12", pkt, false)
	keepsAsLibpcap(t, "ip and tcp[0] > 1", "UDP, first byte 0x12", pkt, false)
}

// TestArithZeroLeft checks that 0 times, divided, masked or shifted by
// anything is 0, with no load of the right operand, as libpcap's
// optimizer folds it ("0 / ether[20] = 0" keeps a 14-byte frame, which
// a load of byte 20 rejects; found by review), and that a constant
// shifted by 32 or more is 0.
func TestArithZeroLeft(t *testing.T) {
	eth := []byte{1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 0x08, 0x06}
	keepsAsLibpcap(t, "0 / ether[20] = 0", "14-byte frame", eth, true)
	keepsAsLibpcap(t, "1 + 0 * tcp[0] = 1", "14-byte ARP frame", eth, true)
	keepsAsLibpcap(t, "0 >> ether[20] = 0", "14-byte frame", eth, true)
	keepsAsLibpcap(t, "1 << (0 + 40) = 0", "14-byte frame", eth, true)
	// The 0 to divide is known before the divisor: no division is left.
	keepsAsLibpcap(t, "0 / (ip[1] & 0) = 0", "14-byte frame", eth, true)
	keepsAsLibpcap(t, "ether[20] / 1 = 0", "14-byte frame", eth, false)
	// x * 0 is 0 too, and keeps x's protocol test.
	ip := slices.Concat(eth[:12], []byte{0x08, 0x00, 0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	keepsAsLibpcap(t, "(ip[0] * 0) % (ether[40] >> 1) = 0", "14-byte ARP frame", eth, false)
	keepsAsLibpcap(t, "(ip[0] * 0) % (ether[40] >> 1) = 0", "34-byte IPv4 frame", ip, true)
}

// keepsAsLibpcap checks that bpfc's program for expr on Ethernet keeps
// pkt if keep, and so does tcpdump's where it is installed.
func keepsAsLibpcap(t *testing.T, expr, name string, pkt []byte, keep bool) {
	t.Helper()
	keepsAsLibpcapOn(t, cbpf.LinkEN10MB, expr, name, pkt, keep)
}

// keepsAsLibpcapOn is keepsAsLibpcap on the link type lt.
func keepsAsLibpcapOn(t *testing.T, lt cbpf.LinkType, expr, name string, pkt []byte, keep bool) {
	t.Helper()
	prog, err := compileErr(t, expr, Options{LinkType: lt})
	if err != nil {
		t.Fatal(err)
	}
	if got := refRun(prog, pkt, uint32(len(pkt))) != 0; got != keep {
		t.Errorf("%v %q, %s: kept %v, libpcap's program keeps %v", lt, expr, name, got, keep)
	}
	if _, err := exec.LookPath("tcpdump"); err == nil {
		lib := tcpdumpProgram(t, lt.String(), expr)
		if got := refRun(lib, pkt, uint32(len(pkt))) != 0; got != keep {
			t.Errorf("%v %q, %s: tcpdump's program keeps %v; the test says %v", lt, expr, name, got, keep)
		}
	}
}

// TestGeneveNLPID checks that after geneve the OSI network-layer
// protocol ID is read where libpcap reads it: at the outer link's
// offset of an 802.2 payload past the inner payload's start (0 on Linux
// cooked captures, and after pppoes on Ethernet), not at Ethernet's 3.
// bpfc read byte 3 of the inner payload, and kept the frame below for
// "geneve and isis", which libpcap's program rejects (found by review).
func TestGeneveNLPID(t *testing.T) {
	hex := "000000010006010203040506070808004500003b00000000401100000a0000020a000002570d17c10027000000006558" +
		"000000000102030405060708090a0b0c0009fefe0383b6788db654"
	pkt, err := hexDecode(hex)
	if err != nil {
		t.Fatal(err)
	}
	const sll = cbpf.LinkLinuxSLL
	keepsAsLibpcapOn(t, sll, "geneve and isis", "IS-IS after an 802.2 header in Geneve", pkt, false)
	keepsAsLibpcapOn(t, sll, "geneve and iso", "IS-IS after an 802.2 header in Geneve", pkt, true)
	keepsAsLibpcapOn(t, sll, "geneve and l1", "IS-IS after an 802.2 header in Geneve", pkt, false)
	// The NLPID where libpcap reads it, at the inner payload's start.
	pkt[len(pkt)-9] = 0x83
	keepsAsLibpcapOn(t, sll, "geneve and isis", "0x83 at the payload's start", pkt, false)
	if got, err := compileErr(t, "geneve and isis", Options{LinkType: sll}); err != nil || !strings.Contains(fmt.Sprint(got), "{80 0 0 0} {21 0 1 131}") {
		t.Errorf("geneve and isis on LINUX_SLL: %v (%v), want the NLPID loaded at [x + 0]", got, err)
	}
	// After pppoes, whose PPP has no 802.2 header, and on Ethernet, 3;
	// on Cisco HDLC 0, without its fudge byte (libpcap's link type is
	// then Ethernet's).
	for _, c := range []struct {
		lt         cbpf.LinkType
		expr, want string
	}{
		{cbpf.LinkEN10MB, "pppoes and geneve and isis", "{80 0 0 0} {21 0 1 131}"},
		{cbpf.LinkEN10MB, "geneve and isis", "{80 0 0 3} {21 0 1 131}"},
		{linkCHDLC, "geneve and isis", "{80 0 0 0} {21 0 1 131}"},
		{linkCHDLC, "geneve and clnp", "{80 0 0 0} {21 0 1 129}"},
	} {
		if got, err := compileErr(t, c.expr, Options{LinkType: c.lt}); err != nil || !strings.Contains(fmt.Sprint(got), c.want) {
			t.Errorf("%s on %v: %v (%v), want %s", c.expr, c.lt, got, err, c.want)
		}
	}
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
