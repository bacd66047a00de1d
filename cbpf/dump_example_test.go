package cbpf_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/bpfc/bpfc/cbpf"
	"golang.org/x/net/bpf"
)

// A program as `tcpdump -y EN10MB icmp` makes it, printed three ways.
func ExampleProgram_Dump() {
	p := &cbpf.Program{
		Instructions: []bpf.Instruction{
			bpf.LoadAbsolute{Off: 12, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 3},
			bpf.LoadAbsolute{Off: 23, Size: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 1, SkipFalse: 1},
			bpf.RetConstant{Val: 262144},
			bpf.RetConstant{Val: 0},
		},
		LinkType: cbpf.LinkEN10MB,
		Snaplen:  262144,
	}
	for _, f := range []cbpf.Format{cbpf.FormatText, cbpf.FormatC, cbpf.FormatDecimal} {
		if err := p.Dump(os.Stdout, f); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// (000) ldh      [12]
	// (001) jeq      #0x800           jt 2	jf 5
	// (002) ldb      [23]
	// (003) jeq      #0x1             jt 4	jf 5
	// (004) ret      #262144
	// (005) ret      #0
	// { 0x28, 0, 0, 0x0000000c },
	// { 0x15, 0, 3, 0x00000800 },
	// { 0x30, 0, 0, 0x00000017 },
	// { 0x15, 0, 1, 0x00000001 },
	// { 0x6, 0, 0, 0x00040000 },
	// { 0x6, 0, 0, 0x00000000 },
	// 6
	// 40 0 0 12
	// 21 0 3 2048
	// 48 0 0 23
	// 21 0 1 1
	// 6 0 0 262144
	// 6 0 0 0
}

// Reading bpf_asm source, with labels, and printing it as tcpdump -d does.
func ExampleParseString() {
	p, err := cbpf.ParseString(`
	ldh [12]
	jne #0x806, drop   ; not ARP
	ldb [21]
	jneq #1, drop      ; not a request
	ret #-1
drop:	ret #0
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	// Output:
	// (000) ldh      [12]
	// (001) jeq      #0x806           jt 2	jf 5
	// (002) ldb      [21]
	// (003) jeq      #0x1             jt 4	jf 5
	// (004) ret      #-1
	// (005) ret      #0
}

// `tcpdump -ddd` output, as `bpfc asm` reads it from a pipe.
func ExampleParse() {
	p, err := cbpf.Parse(strings.NewReader("4\n40 0 0 4294963204\n21 0 1 4\n6 0 0 0\n6 0 0 262144\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(p)
	// Output:
	// (000) ldh      [type]
	// (001) jeq      #0x4             jt 2	jf 3
	// (002) ret      #0
	// (003) ret      #262144
}

// Malformed text names its line.
func ExampleSyntaxError() {
	_, err := cbpf.ParseString("2\n6 0 0 0\n6 0 0\n")
	fmt.Println(err)
	// Output:
	// line 3: want 4 numbers (code jt jf k), got "6 0 0"
}

func ExampleImage() {
	fmt.Println(cbpf.Image(bpf.RawInstruction{Op: 0x15, Jt: 0, Jf: 3, K: 0x800}, 1))
	// Output:
	// (001) jeq      #0x800           jt 2	jf 5
}

func ExampleParseLinkType() {
	lt, err := cbpf.ParseLinkType("linux_sll")
	fmt.Println(uint32(lt), lt, lt.Description(), err)
	fmt.Println(cbpf.LinkTypeFromPcap(101)) // LINKTYPE_RAW in a pcap file
	// Output:
	// 113 LINUX_SLL Linux cooked v1 <nil>
	// RAW
}
