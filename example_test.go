package bpfc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
	"github.com/google/go-cmp/cmp"
)

// Compile an expression and print it as `tcpdump -d 'ip src net
// 192.168.0.0/16'` does (Ethernet, snaplen 262144, optimized): the output
// is byte for byte tcpdump's.
func ExampleCompile() {
	p, err := bpfc.Compile("ip src net 192.168.0.0/16")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Dump(os.Stdout, cbpf.FormatText); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (000) ldh      [12]
	// (001) jeq      #0x800           jt 2	jf 6
	// (002) ld       [26]
	// (003) and      #0xffff0000
	// (004) jeq      #0xc0a80000      jt 5	jf 6
	// (005) ret      #262144
	// (006) ret      #0
}

// Compile without the optimizer, like `tcpdump -O -d 'tcp port 80'`, and
// print the program in the C form of `tcpdump -dd`, ready to paste into
// a struct sock_filter array. The program is tcpdump's to the bit.
func ExampleWithOptimize() {
	p, err := bpfc.Compile("tcp port 80", bpfc.WithOptimize(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Len(), "instructions")
	if err := p.Dump(os.Stdout, cbpf.FormatC); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 22 instructions
	// { 0x28, 0, 0, 0x0000000c },
	// { 0x15, 0, 6, 0x000086dd },
	// { 0x30, 0, 0, 0x00000014 },
	// { 0x15, 0, 4, 0x00000006 },
	// { 0x28, 0, 0, 0x00000036 },
	// { 0x15, 14, 0, 0x00000050 },
	// { 0x28, 0, 0, 0x00000038 },
	// { 0x15, 12, 0, 0x00000050 },
	// { 0x28, 0, 0, 0x0000000c },
	// { 0x15, 0, 11, 0x00000800 },
	// { 0x30, 0, 0, 0x00000017 },
	// { 0x15, 0, 9, 0x00000006 },
	// { 0x28, 0, 0, 0x00000014 },
	// { 0x45, 7, 0, 0x00001fff },
	// { 0xb1, 0, 0, 0x0000000e },
	// { 0x48, 0, 0, 0x0000000e },
	// { 0x15, 3, 0, 0x00000050 },
	// { 0xb1, 0, 0, 0x0000000e },
	// { 0x48, 0, 0, 0x00000010 },
	// { 0x15, 0, 1, 0x00000050 },
	// { 0x6, 0, 0, 0x00040000 },
	// { 0x6, 0, 0, 0x00000000 },
}

// A bad expression gives a positioned error; parser.FormatError shows it
// with a caret under the mistake. Values libpcap refuses after parsing
// (here: a port number out of range) are positioned too.
func ExampleCompile_error() {
	for _, expr := range []string{"tcp port 80 and", "port 99999"} {
		_, err := bpfc.Compile(expr)
		fmt.Println(parser.FormatError(expr, err))

		var perr *parser.Error
		if errors.As(err, &perr) {
			fmt.Printf("offset %d, syntax error: %v\n", perr.Pos.Offset, errors.Is(err, parser.ErrSyntax))
		}
	}
	// Output:
	// 1:16: expected an expression, found end of input
	//   tcp port 80 and
	//                  ^
	// offset 15, syntax error: true
	// 1:6: illegal port number 99999 > 65535
	//   port 99999
	//        ^
	// offset 5, syntax error: false
}

// Compile for another link type: here Linux cooked captures (LINUX_SLL,
// what `tcpdump -i any` sees), printed as `tcpdump -y LINUX_SLL -d` does.
func ExampleWithLinkType() {
	p, err := bpfc.Compile("ip host 10.0.0.1", bpfc.WithLinkType(cbpf.LinkLinuxSLL))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	// Output:
	// (000) ldh      [14]
	// (001) jeq      #0x800           jt 2	jf 7
	// (002) ld       [28]
	// (003) jeq      #0xa000001       jt 6	jf 4
	// (004) ld       [32]
	// (005) jeq      #0xa000001       jt 6	jf 7
	// (006) ret      #262144
	// (007) ret      #0
}

// A program for packets read from a capture file, like tcpdump -r, is
// compiled with ForSavefile. On a live Ethernet capture "outbound" reads
// the packet type the Linux kernel keeps beside the packet (`tcpdump -d
// outbound` prints the same); a file has no such data, and the primitive
// is refused there, as libpcap refuses it.
func ExampleForSavefile() {
	const expr = "tcp and outbound"
	live, err := bpfc.Compile("outbound")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(live)

	_, err = bpfc.Compile(expr, bpfc.ForSavefile(binary.LittleEndian))
	fmt.Println(parser.FormatError(expr, err))
	// Output:
	// (000) ldh      [type]
	// (001) jeq      #0x4             jt 2	jf 3
	// (002) ret      #262144
	// (003) ret      #0
	// 1:9: inbound/outbound not supported on Ethernet when reading savefiles
	//   tcp and outbound
	//           ^
}

// Run a compiled program on a packet with the interpreter, as the kernel
// would run it on a socket: the verdict is the number of bytes to keep,
// 0 to drop the packet.
func ExampleCompile_run() {
	p, err := bpfc.Compile("tcp dst port 80", bpfc.WithSnaplen(96))
	if err != nil {
		fmt.Println(err)
		return
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, port := range []uint16{80, 443} {
		pkt := tcpPacket(port)
		fmt.Printf("to port %d: keep %d bytes\n", port, vm.Run(pkt, len(pkt)))
	}
	// Output:
	// to port 80: keep 96 bytes
	// to port 443: keep 0 bytes
}

// tcpPacket returns an Ethernet frame holding an IPv4 TCP SYN from
// 192.0.2.1:40000 to 192.0.2.2:dport.
func tcpPacket(dport uint16) []byte {
	return []byte{
		// Ethernet: destination, source, EtherType IPv4
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		// IPv4: version 4, IHL 5, length 40, TTL 64, protocol TCP
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
		192, 0, 2, 1, 192, 0, 2, 2,
		// TCP: ports, sequence, acknowledgement, offset 5, SYN
		0x9c, 0x40, byte(dport >> 8), byte(dport), 0, 0, 0, 0, 0, 0, 0, 0,
		0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	}
}

// hosts is a Resolver that knows a fixed set of names, like a small
// /etc/hosts, and nothing else.
type hosts map[string][]netip.Addr

// LookupHost implements parser.Resolver.
func (h hosts) LookupHost(_ context.Context, name string) ([]netip.Addr, error) {
	if a, ok := h[name]; ok {
		return a, nil
	}
	return nil, parser.ErrNotFound
}

// Resolve the names of "host NAME" with your own resolver instead of the
// system's: here the program is what `tcpdump -y RAW -d 'ip host
// 192.0.2.1'` prints. An unknown name is refused with its position, and
// the error wraps the resolver's.
func ExampleWithResolver() {
	r := hosts{"db": {netip.MustParseAddr("192.0.2.1")}}

	p, err := bpfc.Compile("ip host db", bpfc.WithResolver(r), bpfc.WithLinkType(cbpf.LinkRaw))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)

	_, err = bpfc.Compile("host web", bpfc.WithResolver(r))
	fmt.Println(err)
	fmt.Println(errors.Is(err, parser.ErrNotFound))
	// Output:
	// (000) ldb      [0]
	// (001) and      #0xf0
	// (002) jeq      #0x40            jt 3	jf 8
	// (003) ld       [12]
	// (004) jeq      #0xc0000201      jt 7	jf 5
	// (005) ld       [16]
	// (006) jeq      #0xc0000201      jt 7	jf 8
	// (007) ret      #262144
	// (008) ret      #0
	// 1:6: unknown host 'web'
	// true
}

// TestExampleDumpsMatchTcpdump checks the claim the examples make: each
// program they print is what tcpdump prints for the same expression and
// flags on this machine.
func TestExampleDumpsMatchTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump is not installed")
	}
	r := hosts{"db": {netip.MustParseAddr("192.0.2.1")}}
	tests := []struct {
		name string
		args []string // tcpdump's flags
		expr string   // the expression tcpdump is given
		src  string   // the expression bpfc is given, if not expr
		opts []bpfc.Option
		f    cbpf.Format // the dump form of args
	}{
		{name: "Compile", args: []string{"-d"}, expr: "ip src net 192.168.0.0/16", f: cbpf.FormatText},
		{name: "WithOptimize", args: []string{"-O", "-dd"}, expr: "tcp port 80", opts: []bpfc.Option{bpfc.WithOptimize(false)}, f: cbpf.FormatC},
		{name: "WithLinkType", args: []string{"-y", "LINUX_SLL", "-d"}, expr: "ip host 10.0.0.1", opts: []bpfc.Option{bpfc.WithLinkType(cbpf.LinkLinuxSLL)}, f: cbpf.FormatText},
		{name: "ForSavefile", args: []string{"-d"}, expr: "outbound", f: cbpf.FormatText},
		{name: "WithResolver", args: []string{"-y", "RAW", "-d"}, expr: "ip host 192.0.2.1", src: "ip host db", opts: []bpfc.Option{bpfc.WithResolver(r), bpfc.WithLinkType(cbpf.LinkRaw)}, f: cbpf.FormatText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(tcpdump, append(tt.args, tt.expr)...)
			cmd.Stderr = nil
			want, err := cmd.Output()
			if err != nil {
				t.Fatalf("tcpdump %q: %v", append(tt.args, tt.expr), err)
			}
			src := tt.src
			if src == "" {
				src = tt.expr
			}
			p, err := bpfc.Compile(src, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			if err := p.Dump(&got, tt.f); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("bpfc differs from tcpdump %q (-tcpdump +bpfc):\n%s", append(tt.args, tt.expr), diff)
			}
		})
	}
}
