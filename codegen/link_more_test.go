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
