package parser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestNamesLookupService(t *testing.T) {
	tests := []struct {
		name   string
		port   uint16
		protos ServiceProtos
		ok     bool
	}{
		{name: "domain", port: 53, protos: ServiceTCP | ServiceUDP, ok: true},
		{name: "echo", port: 7, protos: ServiceTCP | ServiceUDP, ok: true}, // echo 4/ddp is not looked at
		{name: "http", port: 80, protos: ServiceTCP, ok: true},             // no http/udp in netbase 6.4
		{name: "www", port: 80, protos: ServiceTCP, ok: true},              // alias
		{name: "ssh", port: 22, protos: ServiceTCP, ok: true},
		{name: "ntp", port: 123, protos: ServiceUDP, ok: true},
		{name: "bootps", port: 67, protos: ServiceUDP, ok: true},
		{name: "krb5", port: 88, protos: ServiceTCP | ServiceUDP, ok: true}, // alias on both lines
		{name: "dicom", port: 104, protos: ServiceTCP, ok: true},            // alias of acr-nema comes before dicom 11112/tcp
		{name: "amqp", port: 5672, protos: ServiceTCP, ok: true},            // amqp 5672/sctp is not looked at
		{name: "HTTP"},
		{name: "Ssh"},
		{name: "rtmp"}, // ddp only
		{name: "ddp"},
		{name: "80"},
		{name: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port, protos, ok := LookupService(tt.name)
			if port != tt.port || protos != tt.protos || ok != tt.ok {
				t.Errorf("LookupService(%q) = %d, %#x, %v; want %d, %#x, %v",
					tt.name, port, protos, ok, tt.port, tt.protos, tt.ok)
			}
		})
	}
}

func TestNamesLookupProtocol(t *testing.T) {
	tests := []struct {
		name string
		num  uint16
		ok   bool
	}{
		{name: "ip", num: 0, ok: true},
		{name: "icmp", num: 1, ok: true},
		{name: "ICMP", num: 1, ok: true}, // an alias, not case folding
		{name: "tcp", num: 6, ok: true},
		{name: "udp", num: 17, ok: true},
		{name: "ipv6-icmp", num: 58, ok: true},
		{name: "IPv6-ICMP", num: 58, ok: true},
		{name: "sctp", num: 132, ok: true},
		{name: "ethernet", num: 143, ok: true},
		{name: "Tcp"},
		{name: "mptcp", num: 262, ok: true}, // libpcap takes it, and tests the byte against 0x106
		{name: "icmp6"},
		{name: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			num, ok := LookupProtocol(tt.name)
			if num != tt.num || ok != tt.ok {
				t.Errorf("LookupProtocol(%q) = %d, %v; want %d, %v", tt.name, num, ok, tt.num, tt.ok)
			}
		})
	}
}

func TestNamesBuiltin(t *testing.T) {
	type result struct {
		val uint32
		ok  bool
	}
	u16 := func(v uint16, ok bool) result { return result{uint32(v), ok} }
	u8 := func(v uint8, ok bool) result { return result{uint32(v), ok} }
	u32 := func(v uint32, ok bool) result { return result{v, ok} }
	llcType := func(name string) result {
		mask, val, ok := LookupLLCType(name)
		return result{uint32(mask)<<8 | uint32(val), ok}
	}
	tests := []struct {
		name string
		got  result
		want result
	}{
		{"ether/arp", u16(LookupEtherProto("arp")), result{0x0806, true}},
		{"ether/ip6", u16(LookupEtherProto("ip6")), result{0x86dd, true}},
		{"ether/loopback", u16(LookupEtherProto("loopback")), result{0x9000, true}},
		{"ether/ARP", u16(LookupEtherProto("ARP")), result{}},
		{"ether/ipv6", u16(LookupEtherProto("ipv6")), result{}},
		{"ether/iso", u16(LookupEtherProto("iso")), result{}},
		{"llc/iso", u16(LookupLLC("iso")), result{0xfe, true}},
		{"llc/stp", u16(LookupLLC("stp")), result{0x42, true}},
		{"llc/ISO", u16(LookupLLC("ISO")), result{}},
		{"llc/arp", u16(LookupLLC("arp")), result{}},
		{"llctype/i", llcType("i"), result{0x0100, true}},
		{"llctype/I", llcType("I"), result{0x0100, true}},
		{"llctype/s", llcType("s"), result{0x0301, true}},
		{"llctype/u", llcType("u"), result{0x0303, true}},
		{"llctype/RR", llcType("RR"), result{0x0f01, true}},
		{"llctype/Ui", llcType("Ui"), result{0xef03, true}},
		{"llctype/SABME", llcType("SABME"), result{0xef6f, true}},
		{"llctype/sabm", llcType("sabm"), result{}},
		{"llctype/iso", llcType("iso"), result{}},
		{"llctype/long", llcType("sabmesabme"), result{}},
		{"iso/esis", u8(LookupISOProto("esis")), result{0x82, true}},
		{"iso/ESIS", u8(LookupISOProto("ESIS")), result{}},
		{"const/tcpflags", u32(LookupConstant("tcpflags")), result{13, true}},
		{"const/tcp-syn", u32(LookupConstant("tcp-syn")), result{2, true}},
		{"const/icmp-echo", u32(LookupConstant("icmp-echo")), result{8, true}},
		{"const/icmp6-multicastrouteradvert", u32(LookupConstant("icmp6-multicastrouteradvert")), result{151, true}},
		{"const/ICMP-ECHO", u32(LookupConstant("ICMP-ECHO")), result{}},
		{"const/tcp-psh", u32(LookupConstant("tcp-psh")), result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#x, %v; want %#x, %v", tt.got.val, tt.got.ok, tt.want.val, tt.want.ok)
			}
		})
	}
}

// TestNamesSorted checks what the binary searches rely on.
func TestNamesSorted(t *testing.T) {
	check := func(table string, names []string) {
		t.Run(table, func(t *testing.T) {
			for i := 1; i < len(names); i++ {
				if names[i-1] >= names[i] {
					t.Errorf("%q then %q: not strictly sorted", names[i-1], names[i])
				}
			}
		})
	}
	check("services", namesOf(services[:], func(s service) string { return s.name }))
	check("protocols", namesOf(protocols[:], func(p protocol) string { return p.name }))
	check("etherProtos", namesOf(etherProtos[:], func(e named[uint16]) string { return e.name }))
	check("llcSAPs", namesOf(llcSAPs[:], func(e named[uint16]) string { return e.name }))
	check("llcTypes", namesOf(llcTypes[:], func(e named[llcType]) string { return e.name }))
	check("isoProtos", namesOf(isoProtos[:], func(e named[uint8]) string { return e.name }))
	check("constants", namesOf(constants[:], func(e named[uint32]) string { return e.name }))
}

func namesOf[T any](table []T, name func(T) string) []string {
	var names []string
	for _, e := range table {
		names = append(names, name(e))
	}
	return names
}

// tcpdumpCase is one expression compiled by tcpdump and what our tables
// say about it: a constant the program must load, or an error.
type tcpdumpCase struct {
	expr    string
	want    string         // the error tcpdump reports, when wantErr
	wantErr bool           //
	re      *regexp.Regexp // captures the constant in tcpdump's -d output
	val     uint32
	kind    int // how to read re's captures: plain, llcKind or sapKind
}

const (
	plain   = iota
	llcKind // reLLC: the value is mask<<8 | val
	sapKind // reSAP: DSAP alone (ldb) or DSAP and SSAP (ldh), both the value
)

var (
	rePort  = regexp.MustCompile(`ldh\s+\[54\]\n\(\d+\) jeq\s+#0x([0-9a-f]+)`) // IPv6 source port
	reProto = regexp.MustCompile(`ldb\s+\[23\]\n\(\d+\) jeq\s+#0x([0-9a-f]+)`) // IPv4 protocol
	reEther = regexp.MustCompile(`ldh\s+\[12\]\n\(\d+\) jeq\s+#0x([0-9a-f]+)`)
	reSAP   = regexp.MustCompile(`ld[hb]\s+\[14\]\n\(\d+\) jeq\s+#0x([0-9a-f]+)`) // DSAP and SSAP
	reNLPID = regexp.MustCompile(`ldb\s+\[17\]\n\(\d+\) jeq\s+#0x([0-9a-f]+)`)
	reLen   = regexp.MustCompile(`ld\s+#pktlen\n\(\d+\) jeq\s+#0x([0-9a-f]+)`)
	reLLC   = regexp.MustCompile(`ldb\s+\[16\]\n\(\d+\) (?:and\s+#0x([0-9a-f]+)\n\(\d+\) jeq\s+#0x([0-9a-f]+)|jset\s+#0x([0-9a-f]+))`)
)

// TestNamesTcpdump checks every table entry against libpcap, through
// tcpdump -d, when tcpdump is installed.
func TestNamesTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") == "1" {
			t.Fatalf("tcpdump is required (BPFC_REQUIRE_TCPDUMP=1): %v", err)
		}
		t.Skip("tcpdump is not installed; set BPFC_REQUIRE_TCPDUMP=1 to fail instead")
	}
	if testing.Short() {
		t.Skip("runs tcpdump about 900 times")
	}

	var cases []tcpdumpCase
	for _, s := range services {
		for _, p := range []struct {
			proto ServiceProtos
			kw    string
		}{{ServiceTCP, "tcp"}, {ServiceUDP, "udp"}} {
			c := tcpdumpCase{expr: fmt.Sprintf(`%s port \%s`, p.kw, s.name)}
			if s.protos&p.proto != 0 {
				c.re, c.val = rePort, uint32(s.port)
			} else {
				other := "tcp"
				if s.protos == ServiceUDP {
					other = "udp"
				}
				c.wantErr, c.want = true, fmt.Sprintf("port '%s' is %s", s.name, other)
			}
			cases = append(cases, c)
		}
	}
	for _, p := range protocols {
		cases = append(cases, tcpdumpCase{expr: `ip proto \` + p.name, re: reProto, val: uint32(p.num)})
	}
	for _, e := range etherProtos {
		cases = append(cases, tcpdumpCase{expr: `ether proto \` + e.name, re: reEther, val: uint32(e.val)})
	}
	for _, e := range llcSAPs {
		if e.name == "ipx" {
			continue // libpcap also tests the IPX ethertype; checked in TestNamesBuiltin
		}
		cases = append(cases, tcpdumpCase{expr: `ether proto \` + e.name, re: reSAP, val: uint32(e.val), kind: sapKind})
	}
	for _, e := range llcTypes {
		cases = append(cases, tcpdumpCase{expr: `llc ` + strings.ToUpper(e.name), re: reLLC, val: uint32(e.val.mask)<<8 | uint32(e.val.val), kind: llcKind})
	}
	for _, e := range isoProtos {
		cases = append(cases, tcpdumpCase{expr: `iso proto \` + e.name, re: reNLPID, val: uint32(e.val)})
	}
	for _, e := range constants {
		cases = append(cases, tcpdumpCase{expr: `len == ` + e.name, re: reLen, val: e.val})
	}
	// Names libpcap does not know, or not in that spelling.
	for _, expr := range []string{`port \HTTP`, `port \Domain`, `ip proto \Tcp`, `ip proto \icmp6`,
		`ether proto \ARP`, `ether proto \ISO`, `ether proto \ipv6`, `iso proto \ESIS`, `llc \iso`} {
		cases = append(cases, tcpdumpCase{expr: expr, wantErr: true})
	}

	results := make([]string, len(cases))
	var wg sync.WaitGroup
	work := make(chan int)
	for range 2 * runtime.NumCPU() {
		wg.Go(func() {
			for i := range work {
				out, err := exec.Command("tcpdump", "-y", "EN10MB", "-d", cases[i].expr).CombinedOutput()
				var exit *exec.ExitError
				if err != nil && !errors.As(err, &exit) {
					out = []byte("run: " + err.Error())
				} else if err != nil {
					out = append([]byte("error: "), out...)
				}
				results[i] = string(out)
			}
		})
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()

	for i, c := range cases {
		out := results[i]
		if strings.HasPrefix(out, "run: ") {
			t.Fatalf("%s: %s", c.expr, out)
		}
		failed := strings.HasPrefix(out, "error: ")
		switch {
		case c.wantErr:
			if !failed {
				t.Errorf("%s: tcpdump accepts it, our tables do not", c.expr)
			} else if c.want != "" && !strings.Contains(out, c.want) {
				t.Errorf("%s: tcpdump says %q, want %q", c.expr, strings.TrimSpace(out), c.want)
			}
		case failed:
			t.Errorf("%s: tcpdump refuses it, our tables do not: %s", c.expr, strings.TrimSpace(out))
		default:
			m := c.re.FindStringSubmatch(out)
			if m == nil {
				t.Errorf("%s: no %v in tcpdump's output:\n%s", c.expr, c.re, out)
				continue
			}
			got, err := parseConst(m, c.kind)
			if err != nil {
				t.Errorf("%s: %v", c.expr, err)
			} else if got != c.val {
				t.Errorf("%s: tcpdump loads %#x, our tables say %#x", c.expr, got, c.val)
			}
		}
	}
}

// parseConst reads the constant captured by one of the re* regexps. For
// reSAP it is the SAP. For reLLC it is mask<<8 | val: `and #mask; jeq #val`, or `jset #mask`
// rejecting the frame (llc i), which is val 0.
func parseConst(m []string, kind int) (uint32, error) {
	hex := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 16, 32)
		return uint32(n), err
	}
	switch kind {
	case plain:
		return hex(m[1])
	case sapKind:
		v, err := hex(m[1])
		if v > 0xff && v>>8 == v&0xff {
			v &= 0xff
		}
		return v, err
	}
	if m[3] != "" {
		mask, err := hex(m[3])
		return mask << 8, err
	}
	mask, err := hex(m[1])
	if err != nil {
		return 0, err
	}
	val, err := hex(m[2])
	return mask<<8 | val, err
}
