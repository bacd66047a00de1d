package bpfc_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
)

// linkFrame wraps an IPv4 or IPv6 packet in the link-layer header of lt
// (DLT_NULL's family little-endian, as ForSavefile(binary.LittleEndian)
// expects).
func linkFrame(lt cbpf.LinkType, v6 bool, ip []byte) []byte {
	et := uint16(0x0800)
	if v6 {
		et = 0x86dd
	}
	switch lt {
	case cbpf.LinkLinuxSLL:
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], et)
		return append(h, ip...)
	case cbpf.LinkNull:
		h := make([]byte, 4)
		fam := uint32(2)
		if v6 {
			fam = 24
		}
		binary.LittleEndian.PutUint32(h, fam)
		return append(h, ip...)
	case cbpf.LinkRaw:
		return ip
	}
	return frame(et, ip)
}

// transportPackets are IPv4 (with and without options, whole and
// fragments) and IPv6 packets of TCP, UDP, SCTP and ICMP between ports
// that the expressions of TestCompact do and do not name.
func transportPackets(lt cbpf.LinkType) (pkts [][]byte, isV6 []bool) {
	ports := [][2]uint16{{40000, 80}, {443, 40000}, {53, 53}, {1023, 2000}, {22, 1024}, {65535, 0}, {8080, 7}}
	for _, proto := range []byte{6, 17, 132, 1} {
		for _, pp := range ports {
			l4 := tcp(pp[0], pp[1])
			v4 := ipv4Packet(proto, 1, l4)
			opts := append(append([]byte{}, v4[:20]...), 1, 1, 1, 1) // IHL 6: one word of options
			opts[0] = 0x46
			opts = append(opts, l4...)
			frag := append([]byte{}, v4...)
			frag[6] = 0x00
			frag[7] = 0x10 // offset 16: not the first fragment
			v6 := append(ipv6Header(proto), l4...)
			for _, p := range [][]byte{v4, opts, frag} {
				pkts, isV6 = append(pkts, linkFrame(lt, false, p)), append(isV6, false)
			}
			pkts, isV6 = append(pkts, linkFrame(lt, true, v6)), append(isV6, true)
		}
	}
	return pkts, isV6
}

// TestCompact checks WithCompact on expressions whose IPv4 and IPv6 tests
// of the transport header it shares: the program is shorter, keeps
// exactly the packets the default program keeps, whole and cut at every
// length, and runs at most one instruction more on any of them.
func TestCompact(t *testing.T) {
	exprs := []string{
		"port 53", "tcp port 80", "udp dst port 53", "src port 443", "portrange 1-1023",
		"tcp dst portrange 1024-65535", "port 80 or 443", "not port 22", "tcp port 80 or udp port 53",
		"src and dst port 53", "tcp src port 22 and tcp dst portrange 1024-65535",
		"port 22 or 25 or 53 or 80 or 110 or 143 or 443 or 993 or 995 or 3306 or 5432 or 8080",
	}
	for _, lt := range []cbpf.LinkType{cbpf.LinkEN10MB, cbpf.LinkLinuxSLL, cbpf.LinkNull, cbpf.LinkRaw} {
		pkts, _ := transportPackets(lt)
		for _, expr := range exprs {
			opts := []bpfc.Option{bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian)}
			def, err := bpfc.Compile(expr, opts...)
			if err != nil {
				t.Fatalf("%v %q: %v", lt, expr, err)
			}
			small, err := bpfc.Compile(expr, append(opts, bpfc.WithCompact(true))...)
			if err != nil {
				t.Fatalf("%v %q compact: %v", lt, expr, err)
			}
			if small.Len() >= def.Len() {
				t.Errorf("%v %q: compact has %d instructions, the default %d: want fewer\n%s", lt, expr, small.Len(), def.Len(), small)
			}
			if !strings.Contains(small.String(), "ldx      #0x28") {
				t.Errorf("%v %q: IPv6 does not go through IPv4's tests:\n%s", lt, expr, small)
			}
			vd, vs := mustVM(t, def), mustVM(t, small)
			kept := 0
			for i, pkt := range pkts {
				for n := 0; n <= len(pkt); n++ {
					a, ca := vd.RunCount(pkt[:n], len(pkt), nil)
					b, cb := vs.RunCount(pkt[:n], len(pkt), nil)
					if a != b {
						t.Fatalf("%v %q: packet %d cut to %d bytes: default %d, compact %d\n%s\n%s", lt, expr, i, n, a, b, def, small)
					}
					if cb < ca || cb > ca+1 {
						t.Fatalf("%v %q: packet %d cut to %d bytes: compact runs %d instructions, the default %d", lt, expr, i, n, cb, ca)
					}
					if a != 0 && n == len(pkt) {
						kept++
					}
				}
			}
			if kept == 0 || kept == len(pkts) {
				t.Errorf("%v %q: keeps %d of %d packets: the test packets do not tell", lt, expr, kept, len(pkts))
			}
		}
	}
}

// TestCompactWhenTooLong: a filter too long for the kernel as it is
// compiled is compiled compact when that makes it fit.
func TestCompactWhenTooLong(t *testing.T) {
	terms := make([]string, 1500)
	for i := range terms {
		terms[i] = fmt.Sprintf("port %d", 7*(i+1))
	}
	expr := strings.Join(terms, " or ")
	long, err := bpfc.Compile(expr, bpfc.WithMaxLength(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if long.Len() <= cbpf.MaxInstructions {
		t.Fatalf("%d ports take %d instructions: not too long, nothing to test", len(terms), long.Len())
	}
	p, err := bpfc.Compile(expr)
	if err != nil {
		t.Fatalf("%d ports (%d instructions uncompacted): %v", len(terms), long.Len(), err)
	}
	if p.Len() > cbpf.MaxInstructions {
		t.Fatalf("%d instructions", p.Len())
	}
	small, err := bpfc.Compile(expr, bpfc.WithCompact(true))
	if err != nil || small.String() != p.String() {
		t.Fatalf("the program is not the compact one (%v)", err)
	}
	vm := mustVM(t, p)
	for _, port := range []uint16{7, 14, 8, 7 * 1500, 7 * 1501} {
		want := port%7 == 0 && port <= 7*1500
		for _, v6 := range []bool{false, true} {
			var pkt []byte
			if v6 {
				pkt = frame(0x86dd, append(ipv6Header(17), tcp(40000, port)...))
			} else {
				pkt = frame(0x0800, ipv4Packet(17, 0, tcp(port, 40000)))
			}
			if got := vm.Run(pkt, len(pkt)) != 0; got != want {
				t.Errorf("port %d (IPv6 %v): kept %v, want %v", port, v6, got, want)
			}
		}
	}
}
