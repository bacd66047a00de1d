package cbpf

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestParseLinkType(t *testing.T) {
	tests := []struct {
		in   string
		want LinkType
		err  bool
	}{
		{in: "EN10MB", want: LinkEN10MB},
		{in: "en10mb", want: LinkEN10MB},
		{in: "DLT_EN10MB", want: LinkEN10MB},
		{in: "dlt_linux_sll", want: LinkLinuxSLL},
		{in: "LINUX_SLL2", want: LinkLinuxSLL2},
		{in: "raw", want: LinkRaw},
		{in: "IPV4", want: LinkIPv4},
		{in: "ipv6", want: LinkIPv6},
		{in: "NULL", want: LinkNull},
		{in: "loop", want: LinkLoop},
		{in: "IEEE802_11_RADIO", want: 127},
		{in: "1", want: 1},
		{in: "147", want: 147},
		{in: "", err: true},
		{in: "EN3MB", err: true}, // in dlt.h, not in libpcap 1.10's name table
		{in: "ethernet", err: true},
		{in: " EN10MB", err: true},
		{in: "-1", err: true},
		{in: "+1", err: true},
		{in: "4294967296", err: true},
	}
	for _, tt := range tests {
		got, err := ParseLinkType(tt.in)
		if tt.err {
			if !errors.Is(err, ErrUnknownLinkType) {
				t.Errorf("ParseLinkType(%q) = %v, %v; want ErrUnknownLinkType", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLinkType(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestLinkTypeNames(t *testing.T) {
	if n := len(LinkTypes()); n != 152 {
		t.Errorf("%d link types, libpcap 1.10.3 names 152", n)
	}
	for _, lt := range LinkTypes() {
		if got, err := ParseLinkType(strings.ToLower(lt.String())); err != nil || got != lt {
			t.Errorf("ParseLinkType(%q) = %v, %v; want %d", strings.ToLower(lt.String()), got, err, lt)
		}
	}
	for lt, want := range map[LinkType][2]string{
		LinkEN10MB: {"EN10MB", "Ethernet"}, LinkLinuxSLL: {"LINUX_SLL", "Linux cooked v1"},
		LinkRaw: {"RAW", "Raw IP"}, 2: {"2", "DLT 2"},
	} {
		if lt.String() != want[0] || lt.Description() != want[1] {
			t.Errorf("LinkType(%d) = %q, %q; want %q, %q", lt, lt.String(), lt.Description(), want[0], want[1])
		}
	}
}

func TestPcapLinkType(t *testing.T) {
	tests := []struct {
		linktype uint32
		dlt      LinkType
	}{
		{0, LinkNull}, {1, LinkEN10MB}, {101, LinkRaw}, {100, 11}, {102, 15}, {103, 16},
		{106, 19}, {104, 104}, {108, LinkLoop}, {113, LinkLinuxSLL}, {228, LinkIPv4},
		{229, LinkIPv6}, {276, LinkLinuxSLL2}, {50, 50}, {51, 51},
	}
	for _, tt := range tests {
		if got := LinkTypeFromPcap(tt.linktype); got != tt.dlt {
			t.Errorf("LinkTypeFromPcap(%d) = %d, want %d", tt.linktype, got, tt.dlt)
		}
		if got, ok := tt.dlt.PcapLinkType(); !ok || got != tt.linktype {
			t.Errorf("LinkType(%d).PcapLinkType() = %d, %v; want %d", tt.dlt, got, ok, tt.linktype)
		}
	}
	if v, ok := LinkType(12345).PcapLinkType(); ok {
		t.Errorf("DLT 12345 maps to LINKTYPE %d", v)
	}
	if got := LinkTypeFromPcap(12345); got != 12345 {
		t.Errorf("LinkTypeFromPcap(12345) = %d", got)
	}
}

// TestLinkTypeTcpdump checks that tcpdump -y accepts exactly the names
// ParseLinkType maps to a libpcap name, on a sample.
func TestLinkTypeTcpdump(t *testing.T) {
	tcpdump := requireTcpdump(t)
	for i, lt := range LinkTypes() {
		if i%5 != 0 && lt > 12 {
			continue
		}
		name := strings.ToLower(lt.String())
		if out, err := exec.Command(tcpdump, "-y", name, "-d", "").CombinedOutput(); err != nil && strings.Contains(string(out), "invalid data link type") {
			t.Errorf("tcpdump -y %s: %s", name, out)
		}
	}
	for _, name := range []string{"EN3MB", "DLT_EN10MB", "1"} {
		if out, err := exec.Command(tcpdump, "-y", name, "-d", "").CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid data link type") {
			t.Errorf("tcpdump -y %s accepted: %s", name, out)
		}
	}
}
