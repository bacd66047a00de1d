// Command linkbattery writes testdata/linkbattery.tsv: a fixed battery of
// expressions compiled by tcpdump -ddd -y LINKTYPE for every link type
// libpcap knows by name, with libpcap's program or its refusal; and the
// expressions whose programs differ on a savefile, compiled by tcpdump
// -ddd -r FILE for a one-packet capture of that link type. The test
// of the same name (linkbattery_test.go, at the module's root) compiles
// each with bpfc: where libpcap refuses, bpfc must refuse with the same
// message; where libpcap compiles, bpfc must compile a program that gives
// every packet of a pseudo-random set the same verdict as libpcap's. It
// is the check of link types that no capture in the corpus covers.
//
//	go run ./internal/linkbattery [-out testdata/linkbattery.tsv]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/testpcap"
)

// battery is the expressions each link type is compiled with: what reads
// the link header or the whole packet, the network and transport
// primitives, and every link-specific one libpcap refuses elsewhere.
var battery = []string{
	"len > 5", "len < 30 or link[3] & 1 = 1", "greater 30", "less 10",
	"link[0] = 1", "link[1:2] = 0x102", "link[2:4] & 0xff00 != 0",
	"byte 1 = 2", "byte 1 & 1", "byte 2 | 1", "byte 1 < 3", "byte 3 > 4",
	"inbound", "outbound", "ifindex 1",
	"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "sctp", "port 80", "tcp dst port 22",
	"portrange 1-1000", "host 1.2.3.4", "src net 10.0.0.0/8", "ip6 host ::1",
	"ip[0] = 0x45", "tcp[13] & 2 != 0", "ip proto 6", "proto 17", "ip6 proto 58",
	"ip broadcast", "ip multicast", "ip6 multicast",
	"ether host 1:2:3:4:5:6", "ether src 1:2:3:4:5:6", "ether broadcast", "broadcast", "multicast",
	"link proto 1", "link proto \\ip",
	"vlan", "vlan 10", "mpls", "mpls 5", "llc", "llc u", "pppoed", "pppoes", "pppoes 3", "geneve", "geneve 7",
	"atalk", "aarp", "decnet host 1.1", "iso", "esis", "isis", "clnp", "stp", "ipx", "netbeui",
	"sio 1", "opc 2", "dpc 3", "sls 4", "fisu", "lssu", "msu", "hfisu", "hsio 1",
	"radio[0] = 1", "type data", "subtype beacon", "dir fromds", "wlan host 1:2:3:4:5:6",
	"link host $21", "ifname x", "on x", "rnr 1", "rset x", "srnr 1", "reason match", "action pass",
	"vpi 1", "vci 2", "lane", "oam", "oamf4", "metac", "bcc", "sc", "ilmic", "connectmsg", "metaconnect",
	"protochain 6", "ip protochain 17",
	// combinations: the state lane, vlan, mpls and pppoes leave; pflog's
	// offset cell; the ATM fields' relations
	"lane and ip", "lane and ether host 1:2:3:4:5:6", "lane and broadcast", "lane and llc u",
	"lane and vlan 10 and ip", "lane and vpi 1", "lane and lane", "not lane and tcp port 80",
	"lane or ip", "lane and inbound", "lane and mpls and ip", "vpi > 3", "vci != 5", "vci (1 or 2)",
	"oamf4 and ip", "vlan and ip and ether src 1:2:3:4:5:6", "mpls and ip6", "pppoes and ip and link[0] = 1",
	"ifname em0 and tcp", "rnr 3 or ip6 host ::1", "ip[0] = 1 and ip[0] = 2", "ip and not udp",
	"llc and iso", "atalk or aarp or ipx", "ether multicast and not ip6",
}

// onFile are the expressions also compiled for a savefile, where libpcap
// refuses the Linux ancillary data and loopback headers may come from
// any BSD.
var onFile = []string{"inbound", "outbound", "ifindex 1", "ip", "ip6", "tcp", "ip6 host ::1", "link proto \\ip", "ip6 protochain 17"}

func main() {
	out := flag.String("out", "testdata/linkbattery.tsv", "output file")
	flag.Parse()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		fmt.Fprintln(os.Stderr, "linkbattery: tcpdump is not installed (apt-get install -y tcpdump)")
		os.Exit(1)
	}
	type job struct{ lt, mode, expr, file string }
	var jobs []job
	tmp, err := os.MkdirTemp("", "linkbattery")
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkbattery:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	for _, lt := range cbpf.LinkTypes() {
		for _, e := range battery {
			jobs = append(jobs, job{lt.String(), "live", e, ""})
		}
		v, ok := lt.PcapLinkType()
		if !ok {
			continue
		}
		file := filepath.Join(tmp, lt.String()+".pcap")
		b := testpcap.AppendHeader(nil, v, 65535)
		b = testpcap.AppendRecord(b, 1, 0, make([]byte, 64), 64)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "linkbattery:", err)
			os.Exit(1)
		}
		for _, e := range onFile {
			jobs = append(jobs, job{lt.String(), "file", e, file})
		}
	}
	results := make([]string, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = reference(j.lt, j.file, j.expr)
		}()
	}
	wg.Wait()
	var buf bytes.Buffer
	b, _ := exec.Command("tcpdump", "--version").CombinedOutput()
	version, _, _ := strings.Cut(string(b), "\n")
	fmt.Fprintf(&buf, "# linktype, live or file, expression, and tcpdump -ddd -y LINKTYPE's (or -r FILE's) program (its lines joined by ';') or refusal (%s). Generated by go run ./internal/linkbattery.\n", strings.TrimSpace(version))
	for i, j := range jobs {
		fmt.Fprintf(&buf, "%s\t%s\t%s\t%s\n", j.lt, j.mode, j.expr, results[i])
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "linkbattery:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d cases\n", *out, len(jobs))
}

// reference compiles one expression with tcpdump, for the link type or
// for a capture file.
func reference(lt, file, expr string) string {
	cmd := exec.Command("tcpdump", "-ddd", "-y", lt, expr)
	if file != "" {
		cmd = exec.Command("tcpdump", "-ddd", "-r", file, expr)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return "error: " + strings.TrimPrefix(msg, "tcpdump: ")
	}
	return "ddd: " + strings.Join(strings.Fields(strings.TrimSpace(strings.ReplaceAll(stdout.String(), "\n", ";"))), " ")
}
