package parser

import "testing"

// TestAtoin checks the dotted IPv4 reader against libpcap's
// __pcap_atoin: one to four decimal parts of at most 255, each made of
// digits only; the value is the parts' bytes, and the bits given 8 per
// part.
func TestAtoin(t *testing.T) {
	for _, c := range []struct {
		in   string
		v    uint32
		bits int
		ok   bool
	}{
		{"10", 10, 8, true},
		{"10.1", 0x0a01, 16, true},
		{"192.168.1", 0xc0a801, 24, true},
		{"1.2.3.4", 0x01020304, 32, true},
		{"255.255.255.255", 0xffffffff, 32, true},
		{"0.0.0.0", 0, 32, true},
		{"010.002.3.4", 0x0a020304, 32, true},
		{"0000000000255", 255, 8, true},
		{"", 0, 0, false},
		{".", 0, 0, false},
		{"1.", 0, 0, false},
		{".1", 0, 0, false},
		{"1..2", 0, 0, false},
		{"1.2.3.4.5", 0, 0, false},
		{"1.2.3.4.", 0, 0, false},
		{"256", 0, 0, false},
		{"1.2.3.256", 0, 0, false},
		{"4294967296", 0, 0, false},
		{"99999999999999999999", 0, 0, false},
		{"1a", 0, 0, false},
		{"+1", 0, 0, false},
		{"-1", 0, 0, false},
		{"1_0", 0, 0, false},
		{"0x10", 0, 0, false},
	} {
		v, bits, ok := atoin(c.in)
		if v != c.v || bits != c.bits || ok != c.ok {
			t.Errorf("atoin(%q) = %#x, %d, %v; want %#x, %d, %v", c.in, v, bits, ok, c.v, c.bits, c.ok)
		}
	}
}
