//go:build linux

// The examples of this file hand a compiled program to the packet-capture
// libraries people attach filters with. They are compiled (go vet, go
// test) but not run, since they open sockets on a real interface;
// TestIntegrations runs the same calls on the loopback interface when it
// is allowed to. Only this test package imports those libraries: the
// compiler packages do not (go list -deps github.com/bpfc/bpfc shows
// neither gopacket nor mdlayher/packet).

package bpfc_test

import (
	"github.com/bpfc/bpfc/internal/testenv"

	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Filter a gopacket pcapgo.EthernetHandle, the pure-Go live capture of
// gopacket (no libpcap, no cgo): the replacement for
// pcap.Handle.SetBPFFilter that gopacket#851 asks for. The handle reads
// Ethernet frames, so the program is compiled for EN10MB (the default).
func ExampleCompile_pcapgo() {
	p, err := bpfc.Compile("tcp port 443 and host 192.0.2.1")
	if err != nil {
		log.Fatal(err)
	}
	raw, err := p.Raw()
	if err != nil {
		log.Fatal(err)
	}

	h, err := pcapgo.NewEthernetHandle("eth0")
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	if err := h.SetBPF(raw); err != nil {
		log.Fatal(err)
	}
	data, ci, err := h.ReadPacketData()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ci.Timestamp, len(data))
}

// Filter a gopacket afpacket.TPacket, the memory-mapped AF_PACKET ring
// (pure Go, no cgo). A TPacket of the default socket type (SOCK_RAW)
// reads Ethernet frames on an Ethernet interface: compile for EN10MB, and
// give the snaplen the ring's frames hold.
func ExampleCompile_afpacket() {
	tp, err := afpacket.NewTPacket(afpacket.OptInterface("eth0"), afpacket.OptFrameSize(4096))
	if err != nil {
		log.Fatal(err)
	}
	defer tp.Close()

	p, err := bpfc.Compile("udp dst port 53", bpfc.WithSnaplen(4096))
	if err != nil {
		log.Fatal(err)
	}
	raw, err := p.Raw()
	if err != nil {
		log.Fatal(err)
	}
	if err := tp.SetBPF(raw); err != nil {
		log.Fatal(err)
	}
	data, _, err := tp.ZeroCopyReadPacketData()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(data))
}

// Filter a github.com/mdlayher/packet Conn, a net.PacketConn over an
// AF_PACKET socket. Raw sockets read whole Ethernet frames (compile for
// EN10MB); Datagram sockets read from the network header on, so compile
// for RAW there. Config.Filter attaches the program before the socket is
// bound, so no unfiltered packet is ever queued; Conn.SetBPF replaces it
// later.
func ExampleCompile_packet() {
	ifi, err := net.InterfaceByName("eth0")
	if err != nil {
		log.Fatal(err)
	}
	p, err := bpfc.Compile("arp or icmp")
	if err != nil {
		log.Fatal(err)
	}
	raw, err := p.Raw()
	if err != nil {
		log.Fatal(err)
	}

	c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, &packet.Config{Filter: raw})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Later: a different filter on the same socket.
	p, err = bpfc.Compile("arp")
	if err != nil {
		log.Fatal(err)
	}
	if raw, err = p.Raw(); err != nil {
		log.Fatal(err)
	}
	if err := c.SetBPF(raw); err != nil {
		log.Fatal(err)
	}
	b := make([]byte, ifi.MTU+14)
	n, from, err := c.ReadFrom(b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, from)
}

// Filter an x/net ipv4.PacketConn. On a raw IP socket the kernel shows
// the filter the packet from its IPv4 header on, so compile for the IPV4
// link type (RAW works too); the expression can then test any IPv4 or
// transport field. (On a UDP socket the filter sees the packet from the
// UDP header on, which no tcpdump link type describes.)
func ExampleCompile_ipv4() {
	c, err := net.ListenPacket("ip4:udp", "0.0.0.0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	p, err := bpfc.Compile("udp dst port 514 and not src net 10.0.0.0/8", bpfc.WithLinkType(cbpf.LinkIPv4))
	if err != nil {
		log.Fatal(err)
	}
	raw, err := p.Raw()
	if err != nil {
		log.Fatal(err)
	}
	pc := ipv4.NewPacketConn(c)
	if err := pc.SetBPF(raw); err != nil {
		log.Fatal(err)
	}
	b := make([]byte, 65536)
	n, _, src, err := pc.ReadFrom(b) // the UDP header and payload
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, src)
}

// TestIntegrations attaches bpfc programs with each library of the
// examples to a socket on the loopback interface and checks that the
// kernel keeps what the filter says: of two UDP datagrams sent after the
// filter is attached, one to a port the filter names and one to the
// next port, only the first is read. It needs CAP_NET_RAW.
func TestIntegrations(t *testing.T) {
	requireNetRaw(t)
	lo := loopback(t)

	// A live capture on lo sees every packet sent to 127.0.0.1 twice
	// (outgoing and incoming); other programs' traffic may be there too.
	// The filter names the port, and a random payload marks our packets.
	tests := []struct {
		name string
		// open returns a read function with a deadline, after attaching
		// a program for expr.
		open func(t *testing.T, expr string) func(deadline time.Time) ([]byte, error)
		// udp returns the UDP header and payload of what read returned.
		udp func([]byte) []byte
	}{
		{"pcapgo.EthernetHandle", openPcapgo(lo), fromEthernet},
		{"afpacket.TPacket", openAfpacket(lo), fromEthernet},
		{"packet.Conn", openPacket(lo), fromEthernet},
		{"ipv4.PacketConn", openIPv4, func(b []byte) []byte { return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, other := udpPair(t)
			read := tt.open(t, "udp and dst port "+strconv.Itoa(want.Port)+" and dst host 127.0.0.1")

			token := make([]byte, 16)
			rand.Read(token)
			send(t, other, token)
			send(t, want, token)

			deadline := time.Now().Add(5 * time.Second)
			for {
				b, err := read(deadline)
				if err != nil {
					t.Fatalf("no datagram to port %d read: %v", want.Port, err)
				}
				u := tt.udp(b)
				if len(u) < 8 || !bytes.HasSuffix(u, token) {
					continue // another program's packet, or queued before the filter
				}
				switch port := int(binary.BigEndian.Uint16(u[2:])); port {
				case want.Port:
					return
				default:
					t.Fatalf("the filter kept a datagram to port %d; want only port %d", port, want.Port)
				}
			}
		})
	}
}

// requireNetRaw skips the test unless it may open packet and raw sockets.
func requireNetRaw(t *testing.T) {
	testenv.RequireKernelBPF(t)
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Skipf("cannot open an AF_PACKET socket (needs CAP_NET_RAW): %v", err)
	}
	unix.Close(fd)
}

// loopback returns the name of the loopback interface.
func loopback(t *testing.T) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 && ifi.Flags&net.FlagUp != 0 {
			return ifi.Name
		}
	}
	t.Skip("no loopback interface is up")
	return ""
}

// rawProgram compiles expr for lt, as the tests attach it.
func rawProgram(t *testing.T, expr string, lt cbpf.LinkType) []bpf.RawInstruction {
	t.Helper()
	p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.Raw()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func openPcapgo(ifname string) func(*testing.T, string) func(time.Time) ([]byte, error) {
	return func(t *testing.T, expr string) func(time.Time) ([]byte, error) {
		h, err := pcapgo.NewEthernetHandle(ifname)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.SetBPF(rawProgram(t, expr, cbpf.LinkEN10MB)); err != nil {
			h.Close()
			t.Fatal(err)
		}
		// EthernetHandle has no deadline: closing it ends a blocked read.
		timer := time.AfterFunc(10*time.Second, func() { h.Close() })
		t.Cleanup(func() {
			if timer.Stop() {
				h.Close()
			}
		})
		return func(deadline time.Time) ([]byte, error) {
			if time.Now().After(deadline) {
				return nil, os.ErrDeadlineExceeded
			}
			b, _, err := h.ReadPacketData()
			return b, err
		}
	}
}

func openAfpacket(ifname string) func(*testing.T, string) func(time.Time) ([]byte, error) {
	return func(t *testing.T, expr string) func(time.Time) ([]byte, error) {
		tp, err := afpacket.NewTPacket(afpacket.OptInterface(ifname), afpacket.OptPollTimeout(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tp.Close)
		if err := tp.SetBPF(rawProgram(t, expr, cbpf.LinkEN10MB)); err != nil {
			t.Fatal(err)
		}
		return func(deadline time.Time) ([]byte, error) {
			for time.Now().Before(deadline) {
				b, _, err := tp.ReadPacketData()
				if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, afpacket.ErrPoll) {
					continue
				}
				return b, err
			}
			return nil, os.ErrDeadlineExceeded
		}
	}
}

func openPacket(ifname string) func(*testing.T, string) func(time.Time) ([]byte, error) {
	return func(t *testing.T, expr string) func(time.Time) ([]byte, error) {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			t.Fatal(err)
		}
		// Attach "udp" first with Config.Filter, then the real filter
		// with SetBPF: both ways of handing a program over are used.
		c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, &packet.Config{Filter: rawProgram(t, "udp", cbpf.LinkEN10MB)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.SetBPF(rawProgram(t, expr, cbpf.LinkEN10MB)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<16)
		return func(deadline time.Time) ([]byte, error) {
			if err := c.SetReadDeadline(deadline); err != nil {
				return nil, err
			}
			n, _, err := c.ReadFrom(buf)
			return buf[:n], err
		}
	}
}

func openIPv4(t *testing.T, expr string) func(time.Time) ([]byte, error) {
	c, err := net.ListenPacket("ip4:udp", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	pc := ipv4.NewPacketConn(c)
	if err := pc.SetBPF(rawProgram(t, expr, cbpf.LinkIPv4)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	return func(deadline time.Time) ([]byte, error) {
		if err := pc.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, _, _, err := pc.ReadFrom(buf)
		return buf[:n], err
	}
}

// fromEthernet returns the UDP header and payload of an Ethernet frame
// holding IPv4 UDP, or nil.
func fromEthernet(f []byte) []byte {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != unix.IPPROTO_UDP {
		return nil
	}
	ihl := int(f[14]&0xf) * 4
	if len(f) < 14+ihl {
		return nil
	}
	return f[14+ihl:]
}

// udpPair returns two local UDP addresses with listeners behind them: the
// datagram the filter keeps goes to the first, the one it drops to the
// second.
func udpPair(t *testing.T) (want, other *net.UDPAddr) {
	t.Helper()
	var addrs [2]*net.UDPAddr
	for i := range addrs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		addrs[i] = c.LocalAddr().(*net.UDPAddr)
	}
	return addrs[0], addrs[1]
}

// send sends payload to addr in a UDP datagram.
func send(t *testing.T, addr *net.UDPAddr, payload []byte) {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
}
