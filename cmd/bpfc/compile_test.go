package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/testpcap"
)

func TestCompileCmd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("ip # IPv4 only\nand udp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runCLICases(t, []cliCase{
		{"default -d", []string{"compile", "ip"}, exitOK, "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n", ""},
		{"-dd", []string{"compile", "-dd", "ip"}, exitOK, "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n", ""},
		{"-ddd", []string{"compile", "-ddd", "ip"}, exitOK, "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n", ""},
		{"words joined", []string{"compile", "-ddd", "udp", "port", "53"}, exitOK, "\n", ""},
		{"snaplen", []string{"compile", "-s", "96", "ip"}, exitOK, "ret      #96", ""},
		{"link type by name, any case", []string{"compile", "-y", "linux_sll", "ip"}, exitOK, "ldh      [14]", ""},
		{"link type by number", []string{"compile", "-y", "113", "ip"}, exitOK, "ldh      [14]", ""},
		{"raw", []string{"compile", "-y", "RAW", "ip6"}, exitOK, "and      #0xf0", ""},
		{"file", []string{"compile", "-F", file}, exitOK, "jeq      #0x11", ""},
		{"empty accepts all", []string{"compile"}, exitOK, "(000) ret      #262144\n", ""},
		{"no optimizer", []string{"compile", "-O", "tcp and tcp"}, exitOK, "(004) ldh      [12]", ""},
		{"compact", []string{"compile", "--compact", "tcp dst port 25"}, exitOK, "(011) ldh      [x + 16]\n(012) jeq      #0x19            jt 13\tjf 14\n(013) ret      #262144\n(014) ret      #0\n", ""},
		{"unknown link type", []string{"compile", "-y", "NOPE", "ip"}, exitUsage, "", `unknown link type "NOPE"`},
		{"bad expression", []string{"compile", "tcp port"}, exitError, "", "bpfc: 1:9: expected a port number or service name after 'port', found end of input\n  tcp port\n          ^\n"},
		{"refused for the link type", []string{"compile", "-y", "RAW", "ether host 1:2:3:4:5:6"}, exitError, "", "ethernet addresses supported only on"},
		{"rejects all", []string{"compile", "ip and ip6"}, exitError, "", "expression rejects all packets"},
		{"too long", []string{"compile", "protochain 6 or protochain 17"}, exitError, "", "program too long for the kernel"},
		{"protochain depth", []string{"compile", "--protochain-depth", "8", "-ddd", "ip6 protochain 17"}, exitOK, "\n", ""},
	})
}

// TestCompileKeepsWhatTcpdumpKeeps checks the promise of `bpfc compile`
// to tcpdump -d users: the program printed keeps the packets tcpdump's
// program keeps. Both -ddd outputs are read back and run on the Ethernet
// capture in cbpf's interpreter.
func TestCompileKeepsWhatTcpdumpKeeps(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") != "" {
			t.Fatal("tcpdump is required (BPFC_REQUIRE_TCPDUMP is set) but not installed")
		}
		t.Skip("tcpdump not installed: no reference")
	}
	f, err := testpcap.Read("../../testdata/pcaps/en10mb.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{
		"tcp port 80", "udp and not port 53", "host 127.0.0.1 or host 10.0.0.1", "net 192.168.0.0/16",
		"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "ip6 and icmp6", "vlan and ip", "arp or rarp",
		"ether multicast and not ip6", "port 22 or 25 or 53 or 80 or 110 or 143 or 443 or 993",
	} {
		t.Run(expr, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"compile", "-ddd", expr}, strings.NewReader(""), &out, &errb); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			ours := loadDump(t, out.String())
			ref, err := exec.Command("tcpdump", "-ddd", "-y", "EN10MB", expr).Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			theirs := loadDump(t, string(ref))
			for i, r := range f.Records {
				a, b := ours.Run(r.Data, int(r.Orig)), theirs.Run(r.Data, int(r.Orig))
				if (a != 0) != (b != 0) {
					t.Fatalf("packet %d: bpfc %d, tcpdump %d", i, a, b)
				}
			}
		})
	}
}

func loadDump(t *testing.T, text string) *cbpf.VM {
	t.Helper()
	p, err := cbpf.ParseString(text)
	if err != nil {
		t.Fatalf("parse dump: %v\n%s", err, text)
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		t.Fatalf("program: %v", err)
	}
	return vm
}
