//go:build linux

package netnstest

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// A Frame is a test frame and what the receiving end's kernel knows of it.
type Frame struct {
	Name string
	Data []byte // the frame as sent
	// PktType is the packet type the receiver gives it (PACKET_HOST 0,
	// PACKET_BROADCAST 1, PACKET_OTHERHOST 3).
	PktType uint8
	// VLAN is set for a tagged frame: the receiving kernel takes the tag
	// out before filters and packet sockets see the frame.
	VLAN bool
}

// KernelView returns the frame as a filter on the receiving end sees it
// (without its VLAN tag), and the tag's TCI and TPID.
func (f Frame) KernelView() (data []byte, tci, tpid uint16) {
	if !f.VLAN {
		return f.Data, 0, 0
	}
	d := append(append([]byte{}, f.Data[:12]...), f.Data[16:]...)
	return d, binary.BigEndian.Uint16(f.Data[14:]), binary.BigEndian.Uint16(f.Data[12:])
}

// Frames returns a varied set of frames from src to dst, each unique
// (its number is in the payload): UDP, TCP, ICMP, ARP, IPv6, a VLAN tag,
// a broadcast, one for another host, small and large.
func Frames(src, dst net.HardwareAddr) ([]Frame, error) {
	other := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ip1, ip2, ip3 := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}, net.IP{10, 0, 0, 3}
	v6a, v6b := net.ParseIP("fd00::1"), net.ParseIP("fd00::2")
	var out []Frame
	var ferr error
	add := func(name string, pkttype uint8, vlan bool, ls ...gopacket.SerializableLayer) {
		payload := gopacket.Payload(fmt.Sprintf("bpfc test frame %d: %s", len(out), name))
		buf := gopacket.NewSerializeBuffer()
		opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
		for _, l := range ls {
			if nl, ok := l.(interface {
				SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
			}); ok {
				for _, n := range ls {
					if n, ok := n.(gopacket.NetworkLayer); ok {
						nl.SetNetworkLayerForChecksum(n)
					}
				}
			}
		}
		if err := gopacket.SerializeLayers(buf, opts, append(ls, payload)...); err != nil {
			ferr = fmt.Errorf("netnstest: frame %s: %w", name, err)
			return
		}
		out = append(out, Frame{Name: name, Data: append([]byte{}, buf.Bytes()...), PktType: pkttype, VLAN: vlan})
	}
	eth := func(dst net.HardwareAddr, t layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: t}
	}
	ip4 := func(s, d net.IP, p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, SrcIP: s, DstIP: d, Protocol: p}
	}
	udp := func(s, d int) *layers.UDP { return &layers.UDP{SrcPort: layers.UDPPort(s), DstPort: layers.UDPPort(d)} }
	tcp := func(s, d int) *layers.TCP {
		return &layers.TCP{SrcPort: layers.TCPPort(s), DstPort: layers.TCPPort(d), SYN: true, Window: 1024, Seq: 1}
	}
	add("udp dns", 0, false, eth(dst, layers.EthernetTypeIPv4), ip4(ip1, ip2, layers.IPProtocolUDP), udp(40000, 53))
	add("udp 5000", 0, false, eth(dst, layers.EthernetTypeIPv4), ip4(ip1, ip2, layers.IPProtocolUDP), udp(40001, 5000))
	add("tcp 80", 0, false, eth(dst, layers.EthernetTypeIPv4), ip4(ip1, ip2, layers.IPProtocolTCP), tcp(40002, 80))
	add("tcp 443 other ip", 0, false, eth(dst, layers.EthernetTypeIPv4), ip4(ip1, ip3, layers.IPProtocolTCP), tcp(40003, 443))
	add("icmp echo", 0, false, eth(dst, layers.EthernetTypeIPv4), ip4(ip2, ip1, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1})
	add("arp broadcast", 1, false, eth(bcast, layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: src, SourceProtAddress: ip1,
		DstHwAddress: make([]byte, 6), DstProtAddress: ip2})
	add("ipv6 udp", 0, false, eth(dst, layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 64, SrcIP: v6a, DstIP: v6b, NextHeader: layers.IPProtocolUDP}, udp(40004, 53))
	add("udp dns other host", 3, false, eth(other, layers.EthernetTypeIPv4), ip4(ip3, ip2, layers.IPProtocolUDP), udp(40005, 53))
	add("vlan 7 udp", 0, true, eth(dst, layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip4(ip1, ip2, layers.IPProtocolUDP), udp(40006, 53))
	big := ip4(ip1, ip2, layers.IPProtocolUDP)
	add("udp big", 0, false, eth(dst, layers.EthernetTypeIPv4), big, udp(40007, 9), gopacket.Payload(make([]byte, 1200)))
	return out, ferr
}

// UDPFrame returns a small UDP frame from src to dst (10.0.0.1 to
// 10.0.0.2) with the given destination port and a sequence number in its
// payload.
func UDPFrame(src, dst net.HardwareAddr, port int, seq uint32) ([]byte, error) {
	return UDPFrameIP(src, dst, net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}, port, seq)
}

// UDPFrameIP is UDPFrame between the IPv4 addresses sip and dip.
func UDPFrameIP(src, dst net.HardwareAddr, sip, dip net.IP, port int, seq uint32) ([]byte, error) {
	buf := gopacket.NewSerializeBuffer()
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: sip, DstIP: dip, Protocol: layers.IPProtocolUDP}
	u := &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(port)}
	u.SetNetworkLayerForChecksum(ip)
	var pl [4]byte
	binary.BigEndian.PutUint32(pl[:], seq)
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeIPv4}, ip, u, gopacket.Payload(pl[:]))
	if err != nil {
		return nil, fmt.Errorf("netnstest: udp frame: %w", err)
	}
	return append([]byte{}, buf.Bytes()...), nil
}
