package codegen

import (
	"context"
	"strings"
	"testing"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

func TestWlanUse(t *testing.T) {
	for _, c := range []struct {
		expr         string
		hdr, payload bool
	}{
		{"len > 100", false, false},
		{"radio[0] = 0", false, false},
		{"inbound", true, false},
		{"wlan type data", true, false},
		{"wlan dir tods", true, false},
		{"wlan ra 1:2:3:4:5:6", true, false},
		{"ether host 1:2:3:4:5:6", true, false},
		{"broadcast or multicast", true, false},
		{"llc", true, false},
		{"link[3] = 1", true, false},
		{"byte 3 = 1", true, false},
		{"byte 3 & 1", false, false},
		{"llc s", true, true},
		{"ip broadcast", true, true},
		{"ip", true, true},
		{"port 80", true, true},
		{"host 10.0.0.1", true, true},
		{"ether proto 0x800", true, true},
		{"vlan", true, true},
		{"pppoed", true, true},
		{"ip[0] = 0x45", true, true},
		{"link[ip[0]] = 1", true, true},
		{"len > 100 or (wlan type mgt and not tcp)", true, true},
		{"ip or 1 = 1", true, true},
	} {
		e, err := parser.Parse(c.expr)
		if err == nil {
			e, err = parser.Resolve(context.Background(), e, nil)
		}
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if hdr, payload := wlanUse(e); hdr != c.hdr || payload != c.payload {
			t.Errorf("wlanUse(%q) = %v, %v; want %v, %v", c.expr, hdr, payload, c.hdr, c.payload)
		}
	}
}

// wlanFrame is an 802.11 frame: frame control fc0, fc1, the header (24
// bytes, 26 with QoS, more with pad), an LLC/SNAP header of type et, and
// a 20-byte IPv4 header of protocol 6 for et 0x0800.
func wlanFrame(fc0, fc1 byte, pad int, et uint16) []byte {
	hdr := 24
	if fc0&0x80 != 0 {
		hdr = 26
	}
	b := make([]byte, hdr+pad)
	b[0], b[1] = fc0, fc1
	b = append(b, 0xaa, 0xaa, 0x03, 0, 0, 0, byte(et>>8), byte(et))
	if et == 0x0800 {
		ip := make([]byte, 20)
		ip[0], ip[9] = 0x45, 6
		b = append(b, ip...)
	}
	return b
}

// radiotap is a radiotap header of length n whose first presence word is
// present, with the Flags byte flags where present says it is (at 8, or
// at 16 after TSFT).
func radiotap(n int, present uint32, flags byte) []byte {
	b := make([]byte, n)
	b[2], b[3] = byte(n), byte(n>>8)
	b[4], b[5], b[6], b[7] = byte(present), byte(present>>8), byte(present>>16), byte(present>>24)
	if present&2 != 0 {
		off := 8
		if present&1 != 0 {
			off = 16
		}
		if off < n {
			b[off] = flags
		}
	}
	return b
}

// ppi is a PPI header of length n (at least 8) for the DLT dlt.
func ppi(n int, dlt uint32) []byte {
	b := make([]byte, n)
	b[2], b[3] = byte(n), byte(n>>8)
	b[4], b[5], b[6], b[7] = byte(dlt), byte(dlt>>8), byte(dlt>>16), byte(dlt>>24)
	return b
}

// TestWlanOffsets checks where the 802.11 payload is found, as libpcap
// finds it: behind 24 bytes, 26 for QoS data, its offset from the
// packet's start (radiotap header included) rounded up to 4 when
// radiotap's Flags (at 8, or 16 after TSFT, in the first presence word
// only) have DATAPAD; and that a frame too short for the prologue's
// loads is rejected whatever the rest of the filter says. Each packet is
// also run through libpcap's program (tcpdump -ddd) when tcpdump is
// installed.
func TestWlanOffsets(t *testing.T) {
	type pkt struct {
		name string
		data []byte
		keep bool
	}
	data := wlanFrame(0x08, 0x02, 0, 0x0800)
	qos := wlanFrame(0x88, 0x01, 0, 0x0800)
	qosPad := wlanFrame(0x88, 0x01, 2, 0x0800) // 26 rounded up to 28
	cat := func(a, b []byte) []byte { return append(append([]byte(nil), a...), b...) }
	// (For the optimized program only: libpcap's -O program, and bpfc's,
	// keep the loads its optimizer drops.)
	optOnly := map[string]bool{"type data or not type data": true, "ether[0:4] & 0 = 0": true}
	for _, c := range []struct {
		lt   string
		expr string
		pkts []pkt
	}{
		{"IEEE802_11", "ip", []pkt{
			{"data", data, true},
			{"qos data", qos, true},
			{"qos data, padded", qosPad, false},
			{"data, as qos", wlanFrame(0x08, 0x02, 2, 0x0800), false},
			{"beacon", wlanFrame(0x80, 0, 0, 0x0800), false},
			{"type 3", wlanFrame(0x0c, 0, 0, 0x0800), false},
			{"arp", wlanFrame(0x08, 0x02, 0, 0x0806), false},
		}},
		{"IEEE802_11", "tcp", []pkt{{"data", data, true}, {"qos data", qos, true}, {"cut", data[:40], false}}},
		{"IEEE802_11", "wlan type mgt or ip", []pkt{
			{"empty", nil, false},
			{"beacon, 1 byte", []byte{0x80}, true},
			{"data, 1 byte", []byte{0x08}, false},
		}},
		{"IEEE802_11_RADIO", "ip", []pkt{
			{"no flags", cat(radiotap(8, 0, 0), data), true},
			{"flags, no pad", cat(radiotap(9, 2, 0), qos), true},
			{"datapad, padded", cat(radiotap(12, 2, 0x20), qosPad), true},
			{"datapad, not padded", cat(radiotap(12, 2, 0x20), qos), false},
			{"datapad, rounded from the packet start", cat(radiotap(9, 2, 0x20), wlanFrame(0x88, 0x01, 1, 0x0800)), true},
			{"tsft, datapad, padded", cat(radiotap(20, 3, 0x20), qosPad), true},
			{"tsft, datapad not set", cat(radiotap(17, 3, 0), qos), true},
			{"ext, datapad ignored", cat(radiotap(13, 0x80000002, 0x20), qos), true},
			{"data, 24 bytes", cat(radiotap(8, 0, 0), make([]byte, 4)), false},
		}},
		// ("greater", not "len > 0": libpcap 1.10.3 may store a relation's
		// operand in the cell it takes for the radiotap length after,
		// see TestLibpcapMiscompiles.)
		{"IEEE802_11_RADIO", "greater 1 or wlan type mgt", []pkt{
			{"3 bytes", []byte{0, 0, 8}, false},
			{"4 bytes", []byte{0, 0, 8, 0}, true},
		}},
		// A test of what A holds after the radiotap length's code.
		{"IEEE802_11_RADIO", "byte 1 & 2 or not link broadcast", []pkt{
			{"3 bytes", []byte{0, 0, 8}, false},
			{"length 10, beacon", cat(radiotap(10, 0, 0), wlanFrame(0x80, 0, 0, 0)), true},
			{"length 9, broadcast", cat(radiotap(9, 0, 0), []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), false},
		}},
		// Where libpcap's program keeps everything, no load of the
		// radiotap length is left (its optimizer drops that code).
		{"IEEE802_11_RADIO", "type data or not type data", []pkt{{"empty", nil, true}, {"2 bytes", []byte{0, 0}, true}}},
		{"IEEE802_11_RADIO", "ether[0:4] & 0 = 0", []pkt{{"2 bytes", []byte{0, 0}, true}}},
		// Where libpcap does not optimize, the loads a constant makes
		// needless are made.
		{"IEEE802_11", "ip and (ip[200] = 1 or 1 = 1)", []pkt{{"ipv4, 52 bytes", data, false}, {"ipv4, 250 bytes", append(append([]byte(nil), data...), make([]byte, 200)...), true}}},
		{"IEEE802_11", "not ether[12] & 1 = 128", []pkt{{"12 bytes", make([]byte, 12), false}, {"13 bytes", make([]byte, 13), true}}},
		// PPI: libpcap tests the DLT field (802.11's) first, and its
		// length, as radiotap's, is at 2.
		{"PPI", "len > 4", []pkt{
			{"802.11", cat(ppi(8, 105), data), true},
			{"Ethernet", cat(ppi(8, 1), data), false},
		}},
		{"PPI", "ip", []pkt{
			{"8-byte header", cat(ppi(8, 105), data), true},
			{"12-byte header", cat(ppi(12, 105), data), true},
			{"radiotap inside", cat(ppi(8, 127), data), false},
		}},
		{"IEEE802_11_RADIO", "wlan type mgt or ip", []pkt{
			{"beacon, 7 bytes", []byte{0, 0, 4, 0, 0x80, 0, 0}, true},
			{"data, 7 bytes", []byte{0, 0, 4, 0, 0x08, 0, 0}, false},
		}},
	} {
		lt, err := cbpf.ParseLinkType(c.lt)
		if err != nil {
			t.Fatal(err)
		}
		for _, opt := range []bool{true, false} {
			if !opt && optOnly[c.expr] {
				continue
			}
			raw := compileRaw(t, c.expr, Options{LinkType: lt, NoOptimize: !opt})
			vm := vmOf(t, raw)
			for _, p := range c.pkts {
				got, err := vm.Run(p.data)
				if err != nil {
					t.Fatal(err)
				}
				if (got != 0) != p.keep {
					t.Errorf("%s %q optimize=%v, %s: kept %v, want %v", c.lt, c.expr, opt, p.name, got != 0, p.keep)
				}
			}
		}
		ref := vmOf(t, tcpdumpProgram(t, c.lt, c.expr))
		for _, p := range c.pkts {
			got, err := ref.Run(p.data)
			if err != nil {
				t.Fatal(err)
			}
			if (got != 0) != p.keep {
				t.Errorf("%s %q: libpcap's program keeps %s: %v, the test says %v", c.lt, c.expr, p.name, got != 0, p.keep)
			}
		}
	}
}

// TestWlanRefusals checks what libpcap refuses on 802.11, and what it no
// longer refuses since bpfc supports the link types in full (tcpdump
// 4.99.3's messages, seen with tcpdump -d -y IEEE802_11).
func TestWlanRefusals(t *testing.T) {
	for _, c := range []struct{ expr, err string }{
		{"mpls", "no MPLS support for 802.11"},
		{"ip protochain 6", "'protochain' not supported with variable length headers"},
		{"pppoes and llc", "'llc' not supported for PPP"},
		{"geneve and wlan ra 1:2:3:4:5:6", "'ra' is only supported on 802.11 with 802.11 headers"},
		{"vlan and ip", ""},
		{"geneve and llc", ""},
		{"wlan addr4 1:2:3:4:5:6 and tcp", ""},
		{"ether[0] & 3 = 4", ""}, // (libpcap's optimizer knows no bits: compiled)
		// After pppoes and geneve the link type in force is PPP's or
		// Ethernet's.
		{"pppoes and type data", "802.11 link-layer types supported only on 802.11"},
		{"geneve and type data", "802.11 link-layer types supported only on 802.11"},
		{"pppoes and dir tods", "frame direction supported only with 802.11 headers"},
		// Decided through the radio header's length (seen with tcpdump
		// 4.99.3 on 2026-12-02).
		{"link[0] = 1 and link[0] = 2", "expression rejects all packets"},
		{"ether dst host 33:33:00:00:00:01 and ether broadcast", "expression rejects all packets"},
	} {
		for _, lt := range []cbpf.LinkType{linkIEEE80211, linkRadiotap, linkAVS, linkPrism} {
			if lt == linkPrism && strings.Contains(c.err, "rejects") {
				continue // (libpcap does not optimize a Prism program)
			}
			_, err := compileErr(t, c.expr, Options{LinkType: lt})
			switch {
			case c.err == "" && err != nil:
				t.Errorf("%v %q: %v, want it compiled", lt, c.expr, err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("%v %q: error %v, want %q", lt, c.expr, err, c.err)
			}
		}
	}
}
