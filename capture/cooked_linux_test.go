package capture_test

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/capture"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/netnstest"
)

// TestKernelProgram checks the cooked rewrite without a kernel: for each
// frame, the program on the cooked packet (header + network layer) and
// its kernel form on what the kernel shows (the network layer, with the
// header's fields as ancillary data) give the same result. (As in
// libpcap, `len` is not rewritten: in the kernel it is the length from
// the network header, so "greater"/"less" on "any" count without the
// cooked header, as tcpdump's do.)
func TestKernelProgram(t *testing.T) {
	a, b := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	frames, err := netnstest.Frames(a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range []cbpf.LinkType{cbpf.LinkLinuxSLL2, cbpf.LinkLinuxSLL} {
		for i, expr := range []string{"", "ip", "udp port 53", "arp or ip6", "tcp[tcpflags] & tcp-syn != 0", "inbound", "outbound", "host 10.0.0.3 and not udp", "icmp",
			"port 53", "tcp port 22 or udp dst portrange 1-1023"} {
			// The last two compact: IPv6 reads its ports through X.
			p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.WithCompact(i >= 9))
			if err != nil {
				t.Fatalf("%v %q: %v", lt, expr, err)
			}
			kp, err := capture.KernelProgram(p)
			if err != nil {
				t.Errorf("%v %q: %v", lt, expr, err)
				continue
			}
			vm, err := cbpf.NewVM(p)
			if err != nil {
				t.Fatal(err)
			}
			kvm, err := cbpf.NewVM(kp)
			if err != nil {
				t.Fatalf("%v %q: kernel form invalid: %v", lt, expr, err)
			}
			for _, f := range frames {
				if f.VLAN {
					continue
				}
				for _, pkttype := range []uint8{0, 4} {
					proto := binary.BigEndian.Uint16(f.Data[12:])
					net := f.Data[14:]
					cooked := cookedHeader(lt, proto, pkttype, 7)
					cooked = append(cooked, net...)
					want := vm.Run(cooked, len(cooked)) != 0
					meta := cbpf.Metadata{Protocol: proto, PktType: pkttype, IfIndex: 7, HAType: 1}
					got := kvm.RunMeta(net, len(net), &meta) != 0
					if got != want {
						t.Errorf("%v %q, %s, pkttype %d: kernel form says %v, program %v", lt, expr, f.Name, pkttype, got, want)
					}
				}
			}
		}
	}
}

func cookedHeader(lt cbpf.LinkType, proto uint16, pkttype uint8, ifindex uint32) []byte {
	addr := []byte{2, 0, 0, 0, 0, 1, 0, 0}
	if lt == cbpf.LinkLinuxSLL2 {
		h := binary.BigEndian.AppendUint16(nil, proto)
		h = append(h, 0, 0)
		h = binary.BigEndian.AppendUint32(h, ifindex)
		h = binary.BigEndian.AppendUint16(h, 1)
		h = append(h, pkttype, 6)
		return append(h, addr...)
	}
	h := binary.BigEndian.AppendUint16(nil, uint16(pkttype))
	h = binary.BigEndian.AppendUint16(h, 1)
	h = binary.BigEndian.AppendUint16(h, 6)
	h = append(h, addr...)
	return binary.BigEndian.AppendUint16(h, proto)
}

// TestKernelProgramRefused: a load of a cooked header field the kernel
// has no ancillary form for (the link-layer address) cannot run there.
func TestKernelProgramRefused(t *testing.T) {
	// ldh [12]: two bytes of the link-layer address; ret a.
	p := cbpf.FromRaw([]bpf.RawInstruction{{Op: 0x28, K: 12}, {Op: 0x16}}, cbpf.LinkLinuxSLL2, cbpf.DefaultSnaplen)
	if _, err := capture.KernelProgram(p); !errors.Is(err, capture.ErrFilterRefused) {
		t.Errorf("KernelProgram = %v, want ErrFilterRefused", err)
	}
}
