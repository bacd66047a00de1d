package codegen

import (
	"strings"
	"testing"

	"github.com/bpfc/bpfc/cbpf"
)

// TestUnnamedLinkTypes checks the DLT values libpcap has no name for: in
// the range it assigns new link types in (104 to 289), a header-only
// link named "DLT n", as libpcap takes it (tcpdump -r of a capture with
// LINKTYPE 147, 149, 270 or 277: len and link[] compile, "ip" is refused
// with "DLT 147 link-layer type filtering not implemented", vlan with "no
// VLAN support for DLT 147"); outside it, libpcap's refusal of the link
// type itself, for every expression.
func TestUnnamedLinkTypes(t *testing.T) {
	for _, lt := range []cbpf.LinkType{147, 149, 162, 270, 277} {
		if _, err := compileErr(t, "len > 60 or link[0] = 1", Options{LinkType: lt, Savefile: true}); err != nil {
			t.Errorf("DLT %d: %v", lt, err)
		}
		for expr, want := range map[string]string{
			"ip":      lt.Description() + " link-layer type filtering not implemented",
			"vlan":    "no VLAN support for " + lt.Description(),
			"inbound": "inbound/outbound not supported on " + lt.Description() + " when reading savefiles",
		} {
			if _, err := compileErr(t, expr, Options{LinkType: lt, Savefile: true}); err == nil || !strings.HasSuffix(err.Error(), want) {
				t.Errorf("DLT %d %q: %v, want %q", lt, expr, err, want)
			}
		}
		if !strings.HasPrefix(lt.Description(), "DLT ") {
			t.Errorf("DLT %d has a description, %q: take another value", lt, lt.Description())
		}
	}
	for _, lt := range []cbpf.LinkType{2, 103, 290, 1000} {
		_, err := compileErr(t, "len > 60", Options{LinkType: lt})
		if want := "unknown data link type"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DLT %d: %v, want %q", lt, err, want)
		}
	}
}

// TestWlanDirMessages checks libpcap's refusals of the 802.11 address
// qualifiers elsewhere, in its order: a MAC address needs MAC addresses
// (after pppoes, on Linux cooked, ARCnet or SunATM without lane), an
// ARCnet one ARCnet; then Ethernet's links say "with 802.11 headers",
// FDDI's, Token Ring's, Fibre Channel's and ARCnet's do not (tcpdump -d
// -y, 2026-12-02).
func TestWlanDirMessages(t *testing.T) {
	const noMACs = "ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"
	for _, tc := range []struct {
		lt         cbpf.LinkType
		expr, want string
	}{
		{cbpf.LinkEN10MB, "link ta 1:2:3:4:5:6", "'ta' is only supported on 802.11 with 802.11 headers"},
		{cbpf.LinkEN10MB, "link ra $25", "aid supported only on ARCnet"},
		{cbpf.LinkEN10MB, "pppoes and link ta 1:2:3:4:5:6", noMACs},
		{linkFDDI, "link ta 1:2:3:4:5:6", "'ta' is only supported on 802.11"},
		{linkFDDI, "geneve and wlan ra 1:2:3:4:5:6", "'ra' is only supported on 802.11 with 802.11 headers"},
		{linkTokenRing, "link addr2 1:2:3:4:5:6", "'addr2' and 'address2' are only supported on 802.11"},
		{linkIPOverFC, "link addr3 1:2:3:4:5:6", "'addr3' and 'address3' are only supported on 802.11"},
		{cbpf.LinkLinuxSLL, "link ta 1:2:3:4:5:6", noMACs},
		{linkARCnet, "link ra $25", "'ra' is only supported on 802.11"},
		{linkARCnet, "link ta 1:2:3:4:5:6", noMACs},
		{linkSunATM, "link addr2 1:2:3:4:5:6", noMACs},
		{linkSunATM, "lane and link addr2 1:2:3:4:5:6", "'addr2' and 'address2' are only supported on 802.11 with 802.11 headers"},
		{linkNetAnalyzer, "link addr4 1:2:3:4:5:6", "'addr4' and 'address4' are only supported on 802.11 with 802.11 headers"},
		{linkBACnet, "link ta $25", "aid supported only on ARCnet"},
	} {
		_, err := compileErr(t, tc.expr, Options{LinkType: tc.lt})
		if err == nil || !strings.HasSuffix(err.Error(), ": "+tc.want) {
			t.Errorf("%v %q: %v, want %q", tc.lt, tc.expr, err, tc.want)
		}
	}
}
