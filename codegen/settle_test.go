package codegen_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bpfc/bpfc/cbpf"
)

// TestSettle: tests that the range of their value decides keep their
// loads and lose their jump; code that only leads to the reject return
// goes.
func TestSettle(t *testing.T) {
	for _, tc := range []struct {
		lt   cbpf.LinkType
		expr string
		want string
	}{
		// The byte can have no bit of the mask: the test always holds, but
		// a packet without byte 0 is still rejected.
		{cbpf.LinkRaw, "link[0:1] & 0xffffff00 == 0", "(000) ldb      [0]\n(001) ret      #262144\n"},
		{cbpf.LinkRaw, "link[0:2] & 0xffff0000 == 0 and ip", "(000) ldh      [0]\n(001) ldb      [0]\n(002) and      #0xf0\n(003) jeq      #0x40            jt 4\tjf 5\n(004) ret      #262144\n(005) ret      #0\n"},
		// No byte is 256: libpcap compiles it (7 instructions), and no
		// packet passes.
		{cbpf.LinkRaw, "ip proto 256", "(000) ret      #0\n"},
		{cbpf.LinkEN10MB, "link proto 1500", "(000) ret      #0\n"},
		// A | 5 is never 0, whatever A was.
		{cbpf.LinkIPv4, "byte 8 | 5", "(000) or       #0x5\n(001) ret      #262144\n"},
		// Decided on one side of an "or": the other side stays.
		{cbpf.LinkEN10MB, "ip proto 256 or arp", "(000) ldh      [12]\n(001) jeq      #0x806           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			p, err := compileFor(t, tc.lt, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			if err := p.Dump(&sb, cbpf.FormatText); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, sb.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
