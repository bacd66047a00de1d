//go:build linux

package capture

import (
	"encoding/binary"
	"testing"

	"github.com/bpfc/bpfc/cbpf"
)

// TestLinkTypeOf checks the link types a raw socket's packets have, by
// the device's hardware type, as libpcap maps them.
func TestLinkTypeOf(t *testing.T) {
	for _, c := range []struct {
		hatype uint16
		lt     cbpf.LinkType
		cooked bool
	}{
		{arphrdEther, cbpf.LinkEN10MB, false},
		{arphrdLoopback, cbpf.LinkEN10MB, false},
		{arphrdNone, cbpf.LinkRaw, false},
		{arphrdIPGRE, cbpf.LinkRaw, false},
		{arphrdIEEE80211, cbpf.LinkIEEE80211, false},
		{arphrdIEEE80211Radiotap, cbpf.LinkIEEE80211Radio, false},
		{802, 119, false},              // ARPHRD_IEEE80211_PRISM: DLT_PRISM_HEADER
		{280, 227, false},              // ARPHRD_CAN: DLT_CAN_SOCKETCAN
		{824, 253, false},              // ARPHRD_NETLINK (nlmon): DLT_NETLINK
		{826, 271, false},              // ARPHRD_VSOCKMON: DLT_VSOCK
		{804, 230, false},              // ARPHRD_IEEE802154: DLT_IEEE802_15_4_NOFCS
		{7, 129, false},                // ARPHRD_ARCNET: DLT_ARCNET_LINUX
		{513, 104, false},              // ARPHRD_HDLC: DLT_C_HDLC
		{800, 6, false},                // ARPHRD_IEEE802_TR: DLT_IEEE802
		{8445, 177, false},             // ARPHRD_LAPD: DLT_LINUX_LAPD
		{512, cbpf.LinkLinuxSLL, true}, // ARPHRD_PPP
		{774, cbpf.LinkLinuxSLL, true}, // ARPHRD_FDDI (padded by Linux)
	} {
		lt, cooked := linkTypeOf(c.hatype)
		if lt != c.lt || cooked != c.cooked {
			t.Errorf("linkTypeOf(%d) = %v, %v; want %v, %v", c.hatype, lt, cooked, c.lt, c.cooked)
		}
	}
}

// TestCANNetworkOrder checks that a SocketCAN frame's CAN ID and flags,
// in host byte order from the kernel, are written in network byte order
// (LINKTYPE_CAN_SOCKETCAN), the rest unchanged.
func TestCANNetworkOrder(t *testing.T) {
	data := make([]byte, 16)
	binary.NativeEndian.PutUint32(data, 0x80000123) // extended frame, ID 0x123
	data[4], data[8] = 8, 0xaa
	got := canNetworkOrder(nil, data)
	want := append([]byte{0x80, 0x00, 0x01, 0x23}, data[4:]...)
	if string(got) != string(want) {
		t.Errorf("canNetworkOrder: % x, want % x", got, want)
	}
}
