package parser

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// fakeResolver knows a few names.
type fakeResolver struct{}

func (fakeResolver) LookupHost(_ context.Context, name string) ([]netip.Addr, error) {
	switch name {
	case "a":
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	case "b":
		return []netip.Addr{netip.MustParseAddr("10.0.0.2")}, nil
	case "dual":
		return []netip.Addr{netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("2001:db8::3")}, nil
	case "v6only":
		return []netip.Addr{netip.MustParseAddr("2001:db8::4")}, nil
	}
	return nil, ErrNotFound
}

func (fakeResolver) LookupNetwork(_ context.Context, name string) (uint32, error) {
	if name == "loopback" {
		return 127, nil
	}
	return 0, ErrNotFound
}

func (fakeResolver) LookupEther(_ context.Context, name string) (MAC, error) {
	if name == "gw" {
		return MAC{2, 0, 0, 0, 0, 1}, nil
	}
	return MAC{}, ErrNotFound
}

func resolve(t *testing.T, src string) (Expr, error) {
	t.Helper()
	return ParseAndResolve(context.Background(), src, fakeResolver{})
}

// TestResolved checks the resolved canonical text of every construct.
func TestResolved(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "<nil>"},
		{"typical", "tcp port 80 and host 10.0.0.1", "tcp port 80 and host 10.0.0.1"},
		{"host list", "host a or b", "host 10.0.0.1 or host 10.0.0.2"},
		{"port list", "port 80 or 443", "port 80 or port 443"},
		{"not inherit", "not host a and b", "not host 10.0.0.1 and host 10.0.0.2"},
		{"net list", "src net 10.0.0.0/8 or 11.0.0.0/8", "src net 10.0.0.0/8 or src net 11.0.0.0/8"},
		{"equal precedence", "tcp or udp and port 53", "tcp or udp and port 53"},
		{"right group", "tcp and (udp or icmp)", "tcp and (udp or icmp)"},
		{"not binds tightest", "not tcp and udp", "not tcp and udp"},
		{"paren restores quals", "host a and (tcp) or b", "host 10.0.0.1 and tcp or host 10.0.0.2"},
		{"id list", "host (a or b)", "host 10.0.0.1 or host 10.0.0.2"},
		{"id list after or", "host a or (b or 10.1.1.1)", "host 10.0.0.1 or (host 10.0.0.2 or host 10.1.1.1)"},
		{"not id", "host a or not b", "host 10.0.0.1 or not host 10.0.0.2"},
		{"dual stack", "host dual", "host 10.0.0.3 or host 2001:db8::3"},
		{"ip6 filter", "ip6 host dual", "ip6 host 2001:db8::3"},
		{"abbreviated host", "host 10.1", "host 10.1"},
		{"net number", "net 10", "net 10.0.0.0/8"},
		{"net abbreviated", "net 10.0/16", "net 10.0.0.0/16"},
		{"net mask", "net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.0 mask 255.0.255.0"},
		{"net name", "net loopback", "net 127.0.0.0/8"},
		{"ipv6 net", "ip6 net 2001:db8::/32", "ip6 net 2001:db8::/32"},
		{"v4 in v6", "host ::ffff:1.2.3.4", "host ::ffff:1.2.3.4"},
		{"mac colon", "ether src aa:bb:cc:dd:ee:ff", "ether src aa:bb:cc:dd:ee:ff"},
		{"mac dash", "ether host aa-bb-cc-dd-ee-ff", "ether host aa:bb:cc:dd:ee:ff"},
		{"mac dots", "ether dst aabb.ccdd.eeff", "ether dst aa:bb:cc:dd:ee:ff"},
		{"mac bare hex", "ether host aabbccddeeff", "ether host aa:bb:cc:dd:ee:ff"},
		{"ether name", "ether host gw", "ether host 02:00:00:00:00:01"},
		{"arcnet", "link host $1f", "ether host $1"},
		{"decnet", "decnet src 10.20", "decnet src 10.20"},
		{"src or dst", "src or dst host a", "src or dst host 10.0.0.1"},
		{"src and dst", "ip src and dst net 10.0.0.0/8", "ip src and dst net 10.0.0.0/8"},
		{"dir only", "dst 10.0.0.1", "dst 10.0.0.1"},
		{"port name tcp", "port http", "tcp port 80"},
		{"port name any", "port domain", "port 53"},
		{"udp port", "udp dst port 53", "udp dst port 53"},
		{"hex port", "port 0x50", "port 80"},
		{"octal port", "port 0120", "port 80"},
		{"portrange", "portrange 6000-6010", "portrange 6000-6010"},
		{"portrange swapped", "tcp portrange 90-80", "tcp portrange 80-90"},
		{"portrange names", "tcp portrange ftp-ssh", "tcp portrange 21-22"},
		{"portrange mixed", "udp portrange 53-domain", "udp portrange 53-53"},
		{"portrange one", "portrange 80", "portrange 80-80"},
		{"ip proto name", `ip proto \tcp`, "ip proto 6"},
		{"ip proto number", "ip proto 17", "ip proto 17"},
		{"ether proto name", `ether proto \arp`, "ether proto 2054"},
		{"ether proto llc name", `ether proto \stp`, "ether proto 66"},
		{"iso proto", `iso proto \isis`, "iso proto 131"},
		{"protochain", "ip6 protochain 44", "ip6 protochain 44"},
		{"proto", "proto 6", "proto 6"},
		{"abbrev", "ip6", "ip6"},
		{"link spellings", "ppp broadcast", "ether broadcast"},
		{"broadcast", "ip broadcast", "ip broadcast"},
		{"multicast", "ip6 multicast", "ip6 multicast"},
		{"less", "less 100", "less 100"},
		{"greater", "greater 0x10", "greater 16"},
		{"byte", "byte 1 & 2", "byte 1 & 2"},
		{"inbound", "inbound or outbound", "inbound or outbound"},
		{"ifindex", "ifindex 3", "ifindex 3"},
		{"vlan", "vlan 100 and vlan", "vlan 100 and vlan"},
		{"vlan pnum", "vlan (100)", "vlan 100"},
		{"mpls", "mpls 1048575", "mpls 1048575"},
		{"pppoe", "pppoed or pppoes 1", "pppoed or pppoes 1"},
		{"geneve", "geneve 5", "geneve 5"},
		{"wlan type", "type mgt subtype beacon", "type 0 subtype 128"},
		{"wlan subtype", "wlan subtype qos-data", "ether type 8 subtype 128"},
		{"wlan dir", "dir tods", "dir 1"},
		{"llc", "llc", "llc"},
		{"llc name", "llc rnr or llc ui", "llc rnr or llc ui"},
		{"pf", "on eth0 and rnr 1 and reason match and action block", "ifname eth0 and rnr 1 and reason match and action block"},
		{"atm", "lane or vpi 1 or vci > 2", "lane or vpi 1 or vci > 2"},
		{"atm list", "vpi (1 or 2)", "vpi 1 or vpi 2"},
		{"mtp", "fisu or sio 3 or hopc < 5 or lsu", "fisu or sio 3 or hopc < 5 or lssu"},
		{"relation", "len >= 100", "len >= 100"},
		{"length", "length != 100", "len != 100"},
		{"load", "ip[0] & 0xf != 5", "ip[0] & 0xf != 5"},
		{"load size", "tcp[0:2] == 80", "tcp[0:2] = 80"},
		{"constants", "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "tcp[tcpflags] & (tcp-syn | tcp-ack) != 0"},
		{"icmp constant", "icmp[icmptype] = icmp-echo", "icmp[icmptype] = icmp-echo"},
		{"precedence", "2 + 3 * 4 = 14", "2 + 3 * 4 = 14"},
		{"mod binds right", "2 * 7 % 4 = 6", "2 * (7 % 4) = 6"},
		{"xor binds right", "1 | 2 ^ 3 = 1", "1 | (2 ^ 3) = 1"},
		{"unary minus", "- len > 2", "-len > 2"},
		{"neg mod", "-1 ^ 1 = 0", "-(1 ^ 1) = 0"},
		{"paren arith", "(len + 1) * 2 > 3", "(len + 1) * 2 > 3"},
		{"paren number", "(1) > 0", "1 > 0"},
		{"number after or is relation", "port 80 or 443 > 1", "port 80 or 443 > 1"},
		{"paren number after or", "port 80 or (443) > 1", "port 80 or 443 > 1"},
		{"paren id after or", "port 80 or (443)", "port 80 or port 443"},
		{"double paren", "((tcp))", "tcp"},
		{"escaped keyword", `ip proto \udp`, "ip proto 17"},
		{"symbols", "tcp && !udp || icmp", "tcp and not udp or icmp"},
		{"newlines", "tcp\nand\tudp", "tcp and udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := resolve(t, tt.in)
			if err != nil {
				t.Fatalf("%q: %v", tt.in, err)
			}
			got := "<nil>"
			if e != nil {
				got = e.String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestResolvedTree checks the typed values codegen reads.
func TestResolvedTree(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Expr
	}{
		{"host", "src host 10.0.0.1", &Host{Dir: DirSrc, Type: TypeHost, Addr: IPv4{0x0a000001, 0xffffffff}}},
		{"net", "net 10.1", &Host{Type: TypeNet, Addr: IPv4{0x0a010000, 0xffff0000}}},
		{"ip6", "ip6 net ::/0", &Host{Proto: ProtoIP6, Type: TypeNet, Addr: IPv6{Bits: 0}}},
		{"port", "tcp dst port ssh", &Port{Proto: ProtoTCP, Dir: DirDst, Transport: TransportTCP, Lo: 22, Hi: 22}},
		{"any port", "port 53", &Port{Transport: TransportAny, Lo: 53, Hi: 53}},
		{"range", "udp portrange 10-20", &Port{Proto: ProtoUDP, Transport: TransportUDP, Range: true, Lo: 10, Hi: 20}},
		{"proto", "ip proto \\icmp", &Protocol{Proto: ProtoIP, Num: 1}},
		{"chain", "protochain 6", &Protocol{Chain: true, Num: 6}},
		{"vlan", "vlan 7", &Special{Kind: SpecialVLAN, HasNum: true, Num: 7}},
		{"relation", "ip[2:2] - 4 > len", &Relation{Op: OpGT,
			X: &BinArith{Op: OpSub, X: &Load{Proto: ProtoIP, Off: &Num{Val: 2, Text: "2"}, Size: 2}, Y: &Num{Val: 4, Text: "4"}},
			Y: &Len{}}},
		{"not", "not tcp", &Not{X: &Abbrev{Proto: ProtoTCP}}},
		{"or", "tcp or udp", &Binary{Op: Or, X: &Abbrev{Proto: ProtoTCP}, Y: &Abbrev{Proto: ProtoUDP}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreTypes(Pos{})); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestErrors checks refusals against golden messages in
// testdata/errors.golden (refresh with -update).
func TestErrors(t *testing.T) {
	inputs := []string{
		"tcp port",
		"host",
		"net 10/8",
		"1.1.1.1",
		"not 1.1.1.1",
		"tcp or 80",
		"len > 1 or 80",
		"(80 or 443)",
		"host 1.1.1.1 or (2.2.2.2 and port 80)",
		"less (10)",
		"less 10 + 1",
		"src or 1.1.1.1",
		"dst proto 1",
		"dst gateway a",
		"ip proto tcp",
		"(tcp",
		"tcp)",
		"tcp[0:1+1] = 1",
		"byte 1 != 2",
		"ether proto \\",
		"host a #",
		"ip6 host fe80:0:0:0:0:0:0:0:0",
		"\\lldp",
		"TCP",
		"geneve invalid",
		"port 70000",
		"portrange 70000-1",
		"tcp port 80 and udp port ssh",
		"sctp port ssh",
		"port nosuchport",
		"portrange 5-x",
		"vlan 4096",
		"mpls 1048576",
		"pppoes 65536",
		"geneve 16777216",
		"net 10.0.0.1/8",
		"net 192.168 mask 255.0.0.0",
		"ip net 10.0.0.0/33",
		"ip6 net fe80::/129",
		"host ::1/64",
		"net ::1/64",
		"host 1.2.0.0 mask 255.255.0.0",
		"host 300.1.1.1",
		"host ::ffff:1.2.3.400",
		"ether host aa:bb:",
		"host aa:bb:cc:dd:ee:ff",
		"ip6 host 10.0.0.1",
		"ip host ::1",
		"tcp host 10.0.0.1",
		"ether host 10.0.0.1",
		"ether net 10.0.0.0/8",
		"atalk host 10.0.0.1",
		"ip port 80",
		"port 1.2.3.4",
		"port ::1",
		"addr1 host 10.0.0.1",
		"ra port 1",
		"tcp proto 1",
		"arp proto 1",
		"ether protochain 1",
		"ip proto \\nosuchprotocol",
		"ether proto \\nosuchprotocol",
		"iso proto \\nosuchprotocol",
		"tcp proto \\nosuchprotocol",
		"gateway a",
		"gateway 1",
		"host nosuchhost",
		"ip host v6only",
		"net nosuchnet",
		"ether host nosuchhost",
		"tcp[0:3] = 1",
		"iso[0] = 1",
		"1 / 0 = 1",
		"len % 0 = 1",
		"len << 33 = 1",
		// libpcap checks the first number the operand's code loads, and
		// then the operand its optimizer folds.
		"len / ip[0] > 1",
		"len >> tcp[40] = 0",
		"len % (0 | 2) > 1",
		"len / (2 - 2) > 1",
		"len << (30 + 3) = 0",
		"len / (len & 0) > 1",
		"len >> (len * 0 + 40) = 0",
		"(ip[0] & 0) >> (0 ^ 255) = 0",
		"08 = 1",
		"4294967296 = 1",
		"0x100000000 = 1",
		"tcp broadcast",
		"tcp multicast",
		"type nosuch",
		"type 3",
		"subtype nosuch",
		"dir nosuch",
		"llc nosuch",
		"reason nosuch",
		"action nosuch",
		"sio 256",
		"sls 16",
		"on abcdefghijklmnopq",
		"1 < 2 < 3",
		strings.Repeat("(", 100000),
		strings.Repeat("not ", 100000) + "tcp",
		"tcp and\n  port\n",
	}
	var b strings.Builder
	for _, in := range inputs {
		e, err := resolve(t, in)
		if err == nil {
			t.Errorf("%q: accepted (%v)", in, e)
			continue
		}
		if e != nil {
			t.Errorf("%q: result with error", in)
		}
		var el ErrorList
		if !errors.As(err, &el) || len(el) != 1 {
			t.Errorf("%q: error %T is not an ErrorList of one", in, err)
		}
		show := in
		if len(show) > 40 {
			show = show[:40] + "..."
		}
		b.WriteString("== " + strings.ReplaceAll(show, "\n", `\n`) + "\n")
		msg := FormatError(in, err)
		if len(in) > 100 {
			msg = strings.SplitN(msg, "\n", 2)[0]
		}
		b.WriteString(msg + "\n")
	}
	golden(t, "errors.golden", b.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestErrorKinds checks the sentinel errors.
func TestErrorKinds(t *testing.T) {
	for _, tt := range []struct {
		in   string
		kind error
	}{
		{"tcp port", ErrSyntax},
		{strings.Repeat("(", 5000), ErrLimit},
		{"port 70000", ErrResolve},
	} {
		_, err := resolve(t, tt.in)
		if !errors.Is(err, tt.kind) {
			t.Errorf("%.20q: %v is not %v", tt.in, err, tt.kind)
		}
	}
	if _, err := Parse(strings.Repeat(" ", MaxLen+1)); !errors.Is(err, ErrLimit) {
		t.Errorf("long input: %v", err)
	}
}

// cmpSyntax compares syntax trees, positions aside.
var cmpSyntax = cmpopts.IgnoreTypes(Pos{})

// TestRoundTrip checks AST -> text -> AST over the corpus and the tables.
func TestRoundTrip(t *testing.T) {
	n := 0
	for _, c := range loadCorpus(t) {
		e, err := Parse(c.expr)
		if err != nil || e == nil {
			continue
		}
		n++
		checkRoundTrip(t, c.expr, e, false)
		if r, err := Resolve(context.Background(), e, fakeResolver{}); err == nil {
			checkRoundTrip(t, c.expr, r, true)
		}
	}
	t.Logf("%d parsed corpus expressions round-trip", n)
}

func checkRoundTrip(t testing.TB, src string, e Expr, resolved bool) {
	t.Helper()
	text := e.String()
	e2, err := Parse(text)
	if err != nil {
		t.Errorf("%q printed as %q, which does not parse: %v", src, text, err)
		return
	}
	if resolved {
		// A resolved tree prints text whose resolution is the same tree.
		r2, err := Resolve(context.Background(), e2, fakeResolver{})
		if err != nil {
			t.Errorf("%q printed as %q, which does not resolve: %v", src, text, err)
			return
		}
		if diff := cmp.Diff(e, r2, cmpSyntax); diff != "" {
			t.Errorf("%q printed as %q resolves differently (-want +got):\n%s", src, text, diff)
		}
		return
	}
	if diff := cmp.Diff(e, e2, cmpSyntax); diff != "" {
		t.Errorf("%q printed as %q parses differently (-want +got):\n%s", src, text, diff)
	}
}

func TestSyntaxTree(t *testing.T) {
	e, err := Parse("port 80 or 443")
	if err != nil {
		t.Fatal(err)
	}
	want := &Binary{Op: Or, OpPos: Pos{8, 1, 9},
		X: &Primitive{Start: Pos{0, 1, 1}, Quals: Qualifiers{Type: TypePort},
			ID: &ID{IDPos: Pos{5, 1, 6}, Kind: IDNum, Text: "80", Num: 80}},
		Y: &Bare{ID: &ID{IDPos: Pos{11, 1, 12}, Kind: IDNum, Text: "443", Num: 443}}}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"tcp port 80 and host 10.0.0.1", "host a or (b or c)", "(len+1)*2>3", "port 80 or (443) > 1", "vpi (1 or 2)", "ether host aa:bb:cc:dd:ee:ff"} {
		f.Add(s)
	}
	if cases, err := os.ReadFile("testdata/corpus.tsv"); err == nil {
		for i, line := range strings.Split(string(cases), "\n") {
			if cols := strings.Split(line, "\t"); i%7 == 0 && len(cols) > 1 {
				f.Add(cols[1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkParticiplePath(t, src)
		e, err := Parse(src)
		if err != nil {
			if e != nil {
				t.Fatalf("%q: result with error", src)
			}
			return
		}
		if e == nil {
			return
		}
		checkRoundTrip(t, src, e, false)
		r, err := Resolve(context.Background(), e, fakeResolver{})
		if err != nil {
			if r != nil {
				t.Fatalf("%q: resolved result with error", src)
			}
			return
		}
		checkRoundTrip(t, src, r, true)
	})
}

// TestParticiplePath checks that parsing through participle's
// ParseString (lexer definition, token buffering, grammar hook) and
// Parse's direct path give the same trees and the same errors, on the
// corpus and on the error cases.
func TestParticiplePath(t *testing.T) {
	srcs := []string{"", "   ", "tcp port 80 and host 10.0.0.1", "(", ")", "host", "port 80 or (443) > 1", "a\nb", "tcp[13] & 0x12 = 0x12", strings.Repeat("(", MaxDepth+2)}
	for _, c := range loadCorpus(t) {
		srcs = append(srcs, c.expr)
	}
	for _, src := range srcs {
		checkParticiplePath(t, src)
	}
}

func checkParticiplePath(t *testing.T, src string) {
	t.Helper()
	e1, err1 := Parse(src)
	e2, err2 := parseWithParticiple(src)
	if diff := cmp.Diff(fmt.Sprint(err2), fmt.Sprint(err1)); diff != "" {
		t.Fatalf("%q: errors differ (-participle +Parse):\n%s", src, diff)
	}
	if e1 == nil || e2 == nil {
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("%q: one path gives a tree, the other none", src)
		}
		return
	}
	if diff := cmp.Diff(e2, e1); diff != "" {
		t.Fatalf("%q: trees differ (-participle +Parse):\n%s", src, diff)
	}
}
