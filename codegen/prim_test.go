package codegen

import (
	"github.com/bpfc/bpfc/parser"

	"bufio"
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/testpcap"
)

// tcpdumpProgram returns libpcap's optimized program for expr on lt, or
// skips the test when tcpdump is not installed (fails under
// BPFC_REQUIRE_TCPDUMP=1, as in CI).
func tcpdumpProgram(t *testing.T, lt, expr string) []bpf.RawInstruction {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") != "" {
			t.Fatal("tcpdump is required (BPFC_REQUIRE_TCPDUMP is set) but not installed")
		}
		t.Skip("tcpdump not installed: no reference to compare with")
	}
	out, err := exec.Command("tcpdump", "-ddd", "-y", lt, expr).CombinedOutput()
	if err != nil && strings.Contains(string(out), "expression rejects all packets") {
		return []bpf.RawInstruction{{Op: 0x06, K: 0}} // ret #0
	}
	if err != nil {
		t.Fatalf("tcpdump -ddd -y %s %q: %v\n%s", lt, expr, err, out)
	}
	var raw []bpf.RawInstruction
	sc := bufio.NewScanner(bytes.NewReader(out))
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(sc.Text(), "Warning") {
			continue
		}
		if first {
			first = false
			continue
		}
		var v [4]uint64
		for i := range v {
			v[i], _ = strconv.ParseUint(f[i], 10, 32)
		}
		raw = append(raw, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return raw
}

// testPackets returns the packets of the capture for lt, each also cut
// short at a few lengths so that loads past the end are exercised.
func testPackets(t *testing.T, file string) [][]byte {
	t.Helper()
	f, err := testpcap.Read(filepath.Join("..", "testdata", "pcaps", file))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i, r := range f.Records {
		out = append(out, r.Data)
		if i%7 == 0 {
			for _, n := range []int{13, 15, 20, 23, 30, 34, 38, 40, 54, 56} {
				if n < len(r.Data) {
					out = append(out, r.Data[:n])
				}
			}
		}
	}
	return out
}

// compileRaw compiles expr with Compile and opts, as bpfc.Compile would
// (names resolved without a resolver), and returns the instructions.
func compileRaw(t *testing.T, expr string, opts Options) []bpf.RawInstruction {
	t.Helper()
	raw, err := compileErr(t, expr, opts)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func vmOf(t *testing.T, raw []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	insns := make([]bpf.Instruction, len(raw))
	for i, r := range raw {
		insns[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	return vm
}

var optimized = flag.Bool("optimized", true, "run the optimizer in TestPrimitivesAgainstLibpcap")

// TestPrimitivesAgainstLibpcap compiles each primitive with the generator
// (no optimizer) and checks that it keeps exactly the packets libpcap's
// program keeps, on the tier-1 captures and truncated copies of them.
func TestPrimitivesAgainstLibpcap(t *testing.T) {
	type tc struct {
		lt, expr string
		gen      func(c *compiler) pred
	}
	ip4 := func(s string) uint32 {
		var a [4]uint32
		for i, p := range strings.Split(s, ".") {
			v, _ := strconv.Atoi(p)
			a[i] = uint32(v)
		}
		return a[0]<<24 | a[1]<<16 | a[2]<<8 | a[3]
	}
	var v6lo [16]byte
	v6lo[15] = 1
	var full [16]byte
	for i := range full {
		full[i] = 0xff
	}
	fe80 := [16]byte{0xfe, 0x80}
	mask10 := [16]byte{0xff, 0xc0}
	var cases []tc
	for _, lt := range []string{"EN10MB", "LINUX_SLL", "NULL", "RAW", "IPV6", "LINUX_SLL2", "LOOP", "IPV4"} {
		cases = append(cases,
			tc{lt, "ip", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoIP) }},
			tc{lt, "ip6", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoIP6) }},
			tc{lt, "tcp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoTCP) }},
			tc{lt, "udp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoUDP) }},
			tc{lt, "icmp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoICMP) }},
			tc{lt, "icmp6", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoICMP6) }},
			tc{lt, "pim", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoPIM) }},
			tc{lt, "tcp port 80", func(c *compiler) pred { return c.port(protoTCP, parser.DirDefault, 80) }},
			tc{lt, "port 53", func(c *compiler) pred { return c.port(0, parser.DirDefault, 53) }},
			tc{lt, "udp src port 53", func(c *compiler) pred { return c.port(protoUDP, parser.DirSrc, 53) }},
			tc{lt, "src and dst port 53", func(c *compiler) pred { return c.port(0, parser.DirSrcAndDst, 53) }},
			tc{lt, "portrange 1-1023", func(c *compiler) pred { return c.portRange(0, parser.DirDefault, 1, 1023) }},
			tc{lt, "tcp dst portrange 80-8080", func(c *compiler) pred { return c.portRange(protoTCP, parser.DirDst, 80, 8080) }},
			tc{lt, "ip proto 17", func(c *compiler) pred { return c.ipProto(17) }},
			tc{lt, "ip6 proto 17", func(c *compiler) pred { return c.ip6Proto(17) }},
			tc{lt, "ip6 host ::1", func(c *compiler) pred { return c.host6(parser.DirDefault, v6lo, full) }},
			tc{lt, "ip6 src net fe80::/10", func(c *compiler) pred { return c.host6(parser.DirSrc, fe80, mask10) }},
			tc{lt, "ip host 127.0.0.1", func(c *compiler) pred { return c.ipHost(parser.DirDefault, ip4("127.0.0.1"), 0xffffffff) }},
			tc{lt, "ip dst net 192.168.0.0/16", func(c *compiler) pred { return c.ipHost(parser.DirDst, ip4("192.168.0.0"), 0xffff0000) }},
			tc{lt, "less 100", func(c *compiler) pred { return c.lenCmp(cmpLE, 100) }},
			tc{lt, "greater 200", func(c *compiler) pred { return c.lenCmp(cmpGE, 200) }},
			tc{lt, "ip multicast", func(c *compiler) pred { return c.multicast(parser.ProtoIP) }},
			tc{lt, "ip6 multicast", func(c *compiler) pred { return c.multicast(parser.ProtoIP6) }},
			tc{lt, "ip broadcast", func(c *compiler) pred { return c.broadcast(parser.ProtoIP, 0) }},
			tc{lt, "tcp[13] & 2 != 0", func(c *compiler) pred {
				p, _ := c.relation(cmpNE, aBin{aluAND, c.load(LayerIPv4L4, parser.ProtoTCP, aConst(13), 1), aConst(2)}, aConst(0))
				return p
			}},
			tc{lt, "ip[2:2] - 20 > ip[0] & 0xf", func(c *compiler) pred {
				p, _ := c.relation(cmpGT, aBin{aluSUB, c.load(LayerNet, parser.ProtoIP, aConst(2), 2), aConst(20)},
					aBin{aluAND, c.load(LayerNet, parser.ProtoIP, aConst(0), 1), aConst(0xf)})
				return p
			}},
			tc{lt, "ip6 protochain 17", func(c *compiler) pred { return c.protochain(true, 17) }},
			tc{lt, "ip6 protochain 58", func(c *compiler) pred { return c.protochain(true, 58) }},
			tc{lt, "ip protochain 6", func(c *compiler) pred { return c.protochain(false, 6) }},
			tc{lt, "icmp6[0] = 128", func(c *compiler) pred {
				p, _ := c.relation(cmpEQ, c.load(LayerICMPv6, parser.ProtoICMP6, aConst(0), 1), aConst(128))
				return p
			}},
		)
	}
	for _, lt := range []string{"EN10MB", "LINUX_SLL", "LINUX_SLL2"} {
		cases = append(cases,
			tc{lt, "arp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoARP) }},
			tc{lt, "host 10.0.0.1", func(c *compiler) pred { return c.host4(parser.DirDefault, ip4("10.0.0.1"), 0xffffffff) }},
			tc{lt, "src net 10.0.0.0/8", func(c *compiler) pred { return c.host4(parser.DirSrc, ip4("10.0.0.0"), 0xff000000) }},
			tc{lt, "iso", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoISO) }},
			tc{lt, "stp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoSTP) }},
			tc{lt, "isis", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoISIS) }},
			tc{lt, "ipx", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoIPX) }},
			tc{lt, "atalk", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoATalk) }},
			tc{lt, "aarp", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoAARP) }},
			tc{lt, "decnet", func(c *compiler) pred { return c.protoAbbrev(parser.ProtoDECnet) }},
			tc{lt, "pppoed", func(c *compiler) pred { return c.pppoed() }},
			tc{lt, "l1", func(c *compiler) pred { return c.isisPDU(isisPDUs[parser.ProtoL1]) }},
			tc{lt, "psnp", func(c *compiler) pred { return c.isisPDU(isisPDUs[parser.ProtoPSNP]) }},
			tc{lt, "decnet host 1.2", func(c *compiler) pred { return c.decnetHost(parser.DirDefault, 1<<10|2) }},
			tc{lt, "decnet dst 10.5", func(c *compiler) pred { return c.decnetHost(parser.DirDst, 10<<10|5) }},

			tc{lt, "pppoes and ip", func(c *compiler) pred { return and(c.pppoes(-1), c.protoAbbrev(parser.ProtoIP)) }},
		)
	}
	for _, lt := range []string{"LINUX_SLL", "LINUX_SLL2"} {
		cases = append(cases,
			tc{lt, "inbound", func(c *compiler) pred { return c.direction(false) }},
			tc{lt, "outbound", func(c *compiler) pred { return c.direction(true) }},
		)
	}
	cases = append(cases, tc{"LINUX_SLL2", "ifindex 3", func(c *compiler) pred { return c.ifindex(3) }})
	cases = append(cases,
		tc{"EN10MB", "ether host 01:00:5e:00:00:fb", func(c *compiler) pred {
			return c.etherHostDir(parser.DirDefault, [6]byte{1, 0, 0x5e, 0, 0, 0xfb})
		}},
		tc{"EN10MB", "ether src 00:00:00:00:00:00", func(c *compiler) pred { return c.etherHostDir(parser.DirSrc, [6]byte{}) }},
		tc{"EN10MB", "broadcast", func(c *compiler) pred { return c.broadcast(parser.ProtoDefault, 0) }},
		tc{"EN10MB", "multicast", func(c *compiler) pred { return c.multicast(parser.ProtoDefault) }},
		tc{"EN10MB", "vlan", func(c *compiler) pred { return c.vlan(-1) }},
		tc{"EN10MB", "vlan 100 and ip", func(c *compiler) pred { return and(c.vlan(100), c.protoAbbrev(parser.ProtoIP)) }},
		tc{"EN10MB", "vlan or tcp", func(c *compiler) pred { return or(c.vlan(-1), c.protoAbbrev(parser.ProtoTCP)) }},
		tc{"EN10MB", "mpls and ip", func(c *compiler) pred { return and(c.mpls(-1), c.protoAbbrev(parser.ProtoIP)) }},
		tc{"EN10MB", "mpls 1 and mpls and tcp", func(c *compiler) pred {
			return and(c.mpls(1), c.mpls(-1), c.protoAbbrev(parser.ProtoTCP))
		}},
		tc{"EN10MB", "pppoes 3 and tcp port 80", func(c *compiler) pred {
			return and(c.pppoes(3), c.port(protoTCP, parser.DirDefault, 80))
		}},
		tc{"EN10MB", "geneve", func(c *compiler) pred { return c.geneve(-1) }},
		tc{"EN10MB", "geneve 5", func(c *compiler) pred { return c.geneve(5) }},
		tc{"EN10MB", "geneve and ip", func(c *compiler) pred { return and(c.geneve(-1), c.protoAbbrev(parser.ProtoIP)) }},
		tc{"EN10MB", "geneve or ip", func(c *compiler) pred { return or(c.geneve(-1), c.protoAbbrev(parser.ProtoIP)) }},
		tc{"EN10MB", "geneve and tcp port 22", func(c *compiler) pred { return and(c.geneve(-1), c.port(protoTCP, parser.DirDefault, 22)) }},
		tc{"EN10MB", "geneve and ip6 and udp", func(c *compiler) pred {
			return and(c.geneve(-1), c.protoAbbrev(parser.ProtoIP6), c.protoAbbrev(parser.ProtoUDP))
		}},
		tc{"EN10MB", "geneve and ip host 10.0.0.1", func(c *compiler) pred {
			return and(c.geneve(-1), c.ipHost(parser.DirDefault, 10<<24|1, 0xffffffff))
		}},
		tc{"EN10MB", "geneve and ip[1] != 0", func(c *compiler) pred {
			g := c.geneve(-1)
			p, _ := c.relation(cmpNE, c.load(LayerNet, parser.ProtoIP, aConst(1), 1), aConst(0))
			return and(g, p)
		}},
		tc{"EN10MB", "geneve and tcp[13] & 2 != 0", func(c *compiler) pred {
			g := c.geneve(-1)
			p, _ := c.relation(cmpNE, aBin{aluAND, c.load(LayerIPv4L4, parser.ProtoTCP, aConst(13), 1), aConst(2)}, aConst(0))
			return and(g, p)
		}},
		tc{"EN10MB", "geneve and ip[ip[0] & 0xf] = 0", func(c *compiler) pred {
			g := c.geneve(-1)
			idx := aBin{aluAND, c.load(LayerNet, parser.ProtoIP, aConst(0), 1), aConst(0xf)}
			p, _ := c.relation(cmpEQ, c.load(LayerNet, parser.ProtoIP, idx, 1), aConst(0))
			return and(g, p)
		}},
		tc{"EN10MB", "llc", func(c *compiler) pred { return c.llc(false, 0, 0) }},
		tc{"EN10MB", "llc i", func(c *compiler) pred { return c.llc(true, 1, 0) }},
		tc{"EN10MB", "llc u", func(c *compiler) pred { return c.llc(true, 3, 3) }},
		tc{"EN10MB", "ether proto 100", func(c *compiler) pred { return c.netProto(100) }},
		tc{"EN10MB", "ether[len - 1] = 0", func(c *compiler) pred {
			p, _ := c.relation(cmpEQ, c.load(LayerLink, parser.ProtoLink, aBin{aluSUB, aLen{}, aConst(1)}, 1), aConst(0))
			return p
		}},
	)
	files := map[string]string{"EN10MB": "en10mb.pcap", "LINUX_SLL": "linux_sll.pcap", "NULL": "null.pcap",
		"RAW": "raw.pcap", "IPV6": "ipv6.pcap", "LINUX_SLL2": "linux_sll.pcap", "LOOP": "null.pcap", "IPV4": "raw.pcap"}
	pkts := map[string][][]byte{}
	for _, tt := range cases {
		t.Run(tt.lt+"/"+tt.expr, func(t *testing.T) {
			lt, err := cbpf.ParseLinkType(tt.lt)
			if err != nil {
				t.Fatal(err)
			}
			l, err := lookupLink(lt)
			if err != nil {
				t.Fatal(err)
			}
			c := newCompiler(l, 262144)
			p := tt.gen(c)
			if c.geneveUsed {
				p = pSeq{genevePrologue(), p}
			}
			if c.err != nil {
				t.Fatalf("generator refused: %v", c.err)
			}
			theirs := tcpdumpProgram(t, tt.lt, tt.expr)
			if pkts[tt.lt] == nil {
				pkts[tt.lt] = testPackets(t, files[tt.lt])
			}
			// Optimized, the program is checked as it is and compacted
			// (Options.Compact).
			for _, compacted := range []bool{false, true} {
				if compacted && !*optimized {
					break
				}
				g := newGraph(262144)
				entry := g.lower(p, g.accept, g.reject)
				if *optimized {
					entry = optimize(g, entry, false, false)
				}
				if compacted {
					entry, _ = compact(g, entry)
				}
				ours, err := linearize(g, entry, cbpf.MaxInstructions)
				if err != nil {
					t.Fatal(err)
				}
				vo := vmOf(t, ours)
				bad := 0
				for i, pkt := range pkts[tt.lt] {
					a, _ := vo.Run(pkt)
					b := refRun(theirs, pkt, uint32(len(pkt)))
					if r := refRun(ours, pkt, uint32(len(pkt))); r != uint32(a) {
						t.Fatalf("compact %v: packet %d: x/net/bpf says %d, the reference interpreter %d", compacted, i, a, r)
					}
					if (uint32(a) != 0) != (b != 0) {
						bad++
						if bad <= 3 {
							t.Errorf("compact %v: packet %d (%d bytes): ours %d, libpcap %d", compacted, i, len(pkt), a, b)
						}
					}
				}
				if bad > 0 {
					t.Errorf("compact %v: %d of %d packets differ", compacted, bad, len(pkts[tt.lt]))
				}
			}
		})
	}
}

// TestProtochainLength checks that the unrolled walk stays linear in its
// depth (each level lowered once).
func TestProtochainLength(t *testing.T) {
	l, _ := lookupLink(cbpf.LinkEN10MB)
	c := newCompiler(l, 262144)
	g := newGraph(262144)
	raw, err := linearize(g, g.lower(c.protochain(true, 17), g.accept, g.reject), cbpf.MaxInstructions)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ip6 protochain 17: %d instructions", len(raw))
	if max := 18 * DefaultProtochainDepth; len(raw) > max {
		t.Errorf("ip6 protochain 17 takes %d instructions, want at most %d", len(raw), max)
	}
}
