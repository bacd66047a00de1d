package cbpf

import (
	"testing"

	"golang.org/x/net/bpf"
)

// tcpPort80 is `tcpdump -ddd 'tcp port 80'` (libpcap 1.10.3, EN10MB). The
// C harness in bench/c runs the same program.
var tcpPort80 = []bpf.RawInstruction{
	{Op: 40, Jt: 0, Jf: 0, K: 12}, {Op: 21, Jt: 0, Jf: 6, K: 34525},
	{Op: 48, Jt: 0, Jf: 0, K: 20}, {Op: 21, Jt: 0, Jf: 15, K: 6},
	{Op: 40, Jt: 0, Jf: 0, K: 54}, {Op: 21, Jt: 12, Jf: 0, K: 80},
	{Op: 40, Jt: 0, Jf: 0, K: 56}, {Op: 21, Jt: 10, Jf: 11, K: 80},
	{Op: 21, Jt: 0, Jf: 10, K: 2048}, {Op: 48, Jt: 0, Jf: 0, K: 23},
	{Op: 21, Jt: 0, Jf: 8, K: 6}, {Op: 40, Jt: 0, Jf: 0, K: 20},
	{Op: 69, Jt: 6, Jf: 0, K: 8191}, {Op: 177, Jt: 0, Jf: 0, K: 14},
	{Op: 72, Jt: 0, Jf: 0, K: 14}, {Op: 21, Jt: 2, Jf: 0, K: 80},
	{Op: 72, Jt: 0, Jf: 0, K: 16}, {Op: 21, Jt: 0, Jf: 1, K: 80},
	{Op: 6, Jt: 0, Jf: 0, K: 262144}, {Op: 6, Jt: 0, Jf: 0, K: 0},
}

// tcpSYN80 is a 54-byte Ethernet/IPv4/TCP SYN from port 40000 to port 80:
// `tcp port 80` matches it after 13 instructions. The C harness uses the
// same bytes.
var tcpSYN80 = []byte{
	// Ethernet: dst, src, type IPv4
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
	// IPv4: ihl 5, len 40, DF, ttl 64, TCP, 10.0.0.1 > 10.0.0.2
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	// TCP: 40000 > 80, SYN
	0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
}

func BenchmarkVM(b *testing.B) {
	prog := FromRaw(tcpPort80, LinkEN10MB, DefaultSnaplen)
	b.Run("bpfc", func(b *testing.B) {
		vm, err := NewVM(prog)
		if err != nil {
			b.Fatal(err)
		}
		if got := vm.Run(tcpSYN80, len(tcpSYN80)); got != DefaultSnaplen {
			b.Fatalf("Run = %d, want %d", got, DefaultSnaplen)
		}
		b.ReportAllocs()
		for b.Loop() {
			vm.Run(tcpSYN80, len(tcpSYN80))
		}
	})
	b.Run("bpfc-count", func(b *testing.B) {
		vm, err := NewVM(prog)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			vm.RunCount(tcpSYN80, len(tcpSYN80), nil)
		}
	})
	b.Run("xnet", func(b *testing.B) {
		vm, err := bpf.NewVM(prog.Instructions)
		if err != nil {
			b.Fatal(err)
		}
		if got, err := vm.Run(tcpSYN80); err != nil || got != DefaultSnaplen {
			b.Fatalf("Run = %d, %v, want %d", got, err, DefaultSnaplen)
		}
		b.ReportAllocs()
		for b.Loop() {
			vm.Run(tcpSYN80)
		}
	})
}
