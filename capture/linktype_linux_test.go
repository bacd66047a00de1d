//go:build linux

package capture

import (
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
		{802, cbpf.LinkLinuxSLL, true}, // ARPHRD_IEEE80211_PRISM: Prism headers are not supported
		{512, cbpf.LinkLinuxSLL, true}, // ARPHRD_PPP
	} {
		lt, cooked := linkTypeOf(c.hatype)
		if lt != c.lt || cooked != c.cooked {
			t.Errorf("linkTypeOf(%d) = %v, %v; want %v, %v", c.hatype, lt, cooked, c.lt, c.cooked)
		}
	}
}
