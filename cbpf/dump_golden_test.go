package cbpf

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The golden dumps under testdata/dump/tcpdump are made by tcpdump itself:
// `go test ./cbpf -run TestDumpGolden -update` reruns it on every case.

func init() {
	// Registered only if another test file of the package has not
	// already registered it.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "regenerate golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const goldenDir = "testdata/dump/tcpdump"

// A goldenCase is one tcpdump run: its flags (-y, -s, -O, -i) and the
// filter expression, and what tcpdump printed with -ddd, -dd and -d.
type goldenCase struct {
	file  string
	line  int
	flags []string
	expr  string
	out   map[Format]string
}

func (c *goldenCase) name() string {
	return fmt.Sprintf("%s:%d", filepath.Base(c.file), c.line)
}

var goldenFormats = []Format{FormatDecimal, FormatC, FormatText}

// readGolden reads every case file.
func readGolden(t *testing.T) []*goldenCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s (%v)", goldenDir, err)
	}
	var cases []*goldenCase
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c *goldenCase
		var cur Format
		for i, l := range strings.SplitAfter(string(data), "\n") {
			switch {
			case strings.HasPrefix(l, "=== "):
				flags, expr, _ := strings.Cut(strings.TrimSuffix(l[4:], "\n"), "\t")
				c = &goldenCase{file: file, line: i + 1, flags: strings.Fields(flags), expr: expr, out: map[Format]string{}}
				cases = append(cases, c)
			case strings.HasPrefix(l, "--- "):
				f, err := ParseFormat(strings.TrimSpace(l[4:]))
				if err != nil || c == nil {
					t.Fatalf("%s:%d: bad section %q", file, i+1, l)
				}
				cur = f
				c.out[cur] = ""
			case c != nil && cur != 0:
				c.out[cur] += l
			}
		}
	}
	return cases
}

// TestDumpGolden parses tcpdump's -ddd output of every golden case and
// checks that Dump prints exactly what tcpdump printed with -d, -dd and
// -ddd, that the -d and -dd texts parse to the same program, and that the
// bpf_asm form reads back to the same program.
func TestDumpGolden(t *testing.T) {
	if updating() {
		generateGolden(t)
	}
	cases := readGolden(t)
	if len(cases) < 300 {
		t.Errorf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			checkAgainstTcpdump(t, c.out)
		})
	}
}

// checkAgainstTcpdump checks Dump and Parse against one set of tcpdump
// outputs.
func checkAgainstTcpdump(t *testing.T, out map[Format]string) {
	t.Helper()
	p, err := ParseString(out[FormatDecimal])
	if err != nil {
		t.Fatalf("parse -ddd: %v", err)
	}
	want, err := p.Raw()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range goldenFormats {
		var b bytes.Buffer
		if err := p.Dump(&b, f); err != nil {
			t.Fatalf("Dump(%v): %v", f, err)
		}
		if diff := cmp.Diff(out[f], b.String()); diff != "" {
			t.Errorf("Dump(%v) differs from tcpdump %v (-want +got):\n%s", f, f, diff)
		}
		// -d does not show the fields an instruction does not use (libpcap's
		// optimizer leaves a k in some tax instructions): reading it back
		// must give the same -d text; -dd and -ddd must give the same bits.
		q, err := ParseString(out[f])
		if err != nil {
			t.Errorf("parse tcpdump %v: %v", f, err)
			continue
		}
		if f == FormatText {
			if diff := cmp.Diff(out[f], q.String()); diff != "" {
				t.Errorf("tcpdump -d does not read back (-want +got):\n%s", diff)
			}
			continue
		}
		got, _ := q.Raw()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tcpdump %v parses to another program (-ddd +%v):\n%s", f, f, diff)
		}
	}
	var asm bytes.Buffer
	if err := p.Dump(&asm, FormatAsm); err != nil {
		t.Fatalf("Dump(asm): %v", err)
	}
	q, err := ParseString(asm.String())
	if err != nil {
		t.Fatalf("parse asm: %v\n%s", err, asm.String())
	}
	if diff := cmp.Diff(out[FormatText], q.String()); diff != "" {
		t.Errorf("asm round trip (-want +got):\n%s", diff)
	}
}

// requireTcpdump returns tcpdump's path, or skips the test when it is
// absent (fails instead when BPFC_REQUIRE_TCPDUMP=1).
func requireTcpdump(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") == "1" {
			t.Fatalf("tcpdump is required (BPFC_REQUIRE_TCPDUMP=1): %v", err)
		}
		t.Skip("tcpdump is not installed; set BPFC_REQUIRE_TCPDUMP=1 to fail instead")
	}
	return path
}

// runTcpdump runs tcpdump with flags, the dump flag of f and expr, and
// returns its standard output.
func runTcpdump(tcpdump string, flags []string, f Format, expr string) (string, error) {
	args := append(slices.Clone(flags), f.String(), expr)
	cmd := exec.Command(tcpdump, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tcpdump %q: %v: %s", args, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// TestDumpLiveTcpdump runs tcpdump now on a sample of the golden cases
// and on programs with every ALU operation, and compares.
func TestDumpLiveTcpdump(t *testing.T) {
	tcpdump := requireTcpdump(t)
	cases := readGolden(t)
	var sample []*goldenCase
	for i, c := range cases {
		if i%15 == 0 && !slices.Contains(c.flags, "-i") {
			sample = append(sample, c)
		}
	}
	for _, expr := range []string{
		"ip[2:2] + 1 = 2", "ip[2:2] - 1 = 2", "ip[2:2] * 3 = 2", "ip[2:2] / 3 = 2",
		"ip[2:2] % 3 = 2", "ip[2:2] & 3 = 2", "ip[2:2] | 3 = 2", "ip[2:2] ^ 3 = 2",
		"ip[2:2] << 3 = 2", "ip[2:2] >> 3 = 2", "ip[2:2] = -ip[4]", "ip[ip[0]] > ip[1]",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "len >= 100", "ip6 protochain 6",
	} {
		sample = append(sample, &goldenCase{file: "live", flags: []string{"-y", "EN10MB"}, expr: expr})
	}
	for _, c := range sample {
		t.Run(c.name()+" "+c.expr, func(t *testing.T) {
			out := map[Format]string{}
			for _, f := range goldenFormats {
				s, err := runTcpdump(tcpdump, c.flags, f, c.expr)
				if err != nil {
					t.Fatal(err)
				}
				out[f] = s
			}
			checkAgainstTcpdump(t, out)
		})
	}
}

// Link types the golden files cover: the first-tier ones get every
// handwritten expression; corpus expressions cover the rest.
var (
	tier1Links  = []string{"EN10MB", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "RAW", "IPV4", "IPV6"}
	goldenExprs = []string{
		"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp",
		"host 10.1.2.3", "src host 192.168.0.1 and dst net 10.0.0.0/8",
		"net 172.16.0.0/12", "dst net 10.0.0.0 mask 255.0.0.0", "host ::1", "net fe80::/10",
		"tcp port 80", "udp port 53 or tcp port 53", "portrange 1000-2000", "src port 22",
		"tcp dst portrange 6000-6010 and not src host 10.0.0.1",
		"port 80 or 443 or 8080", "host 10.0.0.1 or 10.0.0.2 or 10.0.0.3 or 10.0.0.4",
		"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "tcp[13] = 2", "icmp[icmptype] = icmp-echo",
		"ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0", "ip[2:2] > 576", "ip[2:2] * 4 / 3 % 7 = 1",
		"ip[1] | 3 ^ 5 = 7", "ip[2:2] << 2 >> 1 = 100", "ip[0] - 1 + 2 = 70", "udp[8:4] = 0xdeadbeef",
		"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420", "ip[ip[0] & 0xf] = 1",
		"len > 100", "len <= 64", "greater 200", "less 60", "ip broadcast", "ip multicast",
		"ip proto 47", "ip6 proto 17", "ip protochain 6", "ip6 protochain 58",
		"proto \\tcp or proto \\udp", "not ip and not ip6", "ether host 00:11:22:33:44:55",
		"ether broadcast", "ether multicast", "ether proto 0x88cc", "ether[0] & 1 = 1",
		"vlan", "vlan 100 and ip", "vlan and vlan 20", "mpls 42", "mpls and ip", "pppoes 7 and ip",
		"pppoed", "geneve", "geneve 5 and ip", "ip6 and tcp port 443", "(tcp or udp) and not port 22",
		"ip and (udp[0:2] = 53 or udp[2:2] = 53)", "icmp6 and ip6[40] = 135", "iso", "stp", "netbeui",
		"decnet", "atalk", "ipx", "llc", "ip6 multicast", "ip and ip[8] < 5",
	}
	// Some other link types, with a few corpus expressions each.
	otherLinks = map[string]int{
		"IEEE802_11": 12, "IEEE802_11_RADIO": 6, "PRISM_HEADER": 4, "PPI": 4, "IEEE802_11_RADIO_AVS": 3,
		"FDDI": 8, "IEEE802": 6, "SUNATM": 6, "ARCNET": 5, "ARCNET_LINUX": 4, "PFLOG": 6,
		"MTP2": 4, "IP_OVER_FC": 5, "PPP": 6, "C_HDLC": 4, "PPP_BSDOS": 3, "FRELAY": 3,
		"NETANALYZER": 3, "APPLE_IP_OVER_IEEE1394": 3, "SLIP": 2, "JUNIPER_MFR": 2, "LTALK": 2,
		"ATM_RFC1483": 2, "ENC": 2, "IPNET": 2, "SYMANTEC_FIREWALL": 2, "PPP_ETHER": 2,
	}
	// Live-capture programs on the loopback interface: only these print
	// Linux ancillary loads.
	liveExprs = []string{"inbound", "outbound", "ifindex 1", "vlan", "vlan 100 and tcp", "vlan and vlan"}
)

// generateGolden reruns tcpdump on every case and rewrites the golden
// files.
func generateGolden(t *testing.T) {
	tcpdump := requireTcpdump(t)
	type gen struct {
		flags []string
		expr  string
	}
	byFile := map[string][]gen{}
	for _, lt := range tier1Links {
		for i, e := range goldenExprs {
			byFile[lt] = append(byFile[lt], gen{[]string{"-y", lt}, e})
			if lt == "EN10MB" || lt == "RAW" && i%3 == 0 || i%7 == 0 {
				byFile[lt] = append(byFile[lt], gen{[]string{"-y", lt, "-O"}, e})
			}
		}
	}
	for _, e := range liveExprs {
		byFile["live"] = append(byFile["live"], gen{[]string{"-i", "lo"}, e})
	}
	// Corpus expressions libpcap 1.10.3 accepts.
	f, err := os.Open("/work/shared/corpus/filters.tsv")
	if err != nil {
		f, err = os.Open(filepath.Join("..", "..", "shared", "corpus", "filters.tsv"))
	}
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	defer f.Close()
	type row struct{ snaplen, expr string }
	rows := map[string][]row{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 4 {
			continue
		}
		if _, err := strconv.Atoi(col[3]); err != nil {
			continue
		}
		key := col[0] + "\t" + col[1] + "\t" + col[2]
		if seen[key] {
			continue
		}
		seen[key] = true
		rows[col[0]] = append(rows[col[0]], row{col[1], col[2]})
	}
	quota := map[string]int{"EN10MB": 60, "RAW": 25, "LINUX_SLL": 10, "LINUX_SLL2": 10, "IPV4": 10, "IPV6": 5, "NULL": 5, "LOOP": 5}
	for lt, n := range otherLinks {
		quota[lt] = n
	}
	for lt, n := range quota {
		rs := rows[lt]
		for i := 0; i < n && len(rs) > 0; i++ {
			r := rs[i*len(rs)/n]
			if i > 0 && rs[(i-1)*len(rs)/n] == r {
				continue
			}
			flags := []string{"-y", lt}
			if r.snaplen != "" {
				flags = append(flags, "-s", r.snaplen)
			}
			file := lt
			if !slices.Contains(tier1Links, lt) {
				file = "other"
			}
			byFile[file] = append(byFile[file], gen{flags, r.expr})
		}
	}
	version, _ := exec.Command(tcpdump, "--version").Output()
	vline := strings.ReplaceAll(strings.TrimSpace(string(version)), "\n", ", ")
	if err := os.RemoveAll(goldenDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(byFile))
	for k := range byFile {
		names = append(names, k)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		var b strings.Builder
		fmt.Fprintf(&b, "# Made by tcpdump (%s) through\n# `go test ./cbpf -run TestDumpGolden -update`; do not edit.\n", vline)
		done := map[string]bool{}
	cases:
		for _, g := range byFile[name] {
			key := strings.Join(g.flags, " ") + "\t" + g.expr
			if done[key] || strings.ContainsAny(g.expr, "\t\n") {
				continue
			}
			done[key] = true
			outs := map[Format]string{}
			for _, f := range goldenFormats {
				s, err := runTcpdump(tcpdump, g.flags, f, g.expr)
				if err != nil {
					t.Logf("skip: %v", err)
					continue cases
				}
				outs[f] = s
			}
			fmt.Fprintf(&b, "=== %s\n", key)
			for _, f := range goldenFormats {
				fmt.Fprintf(&b, "--- %v\n%s", f, outs[f])
			}
			total++
		}
		if err := os.WriteFile(filepath.Join(goldenDir, name+".txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d cases", total)
}
