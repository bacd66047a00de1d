package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// What tcpdump 4.99.3 prints for `tcpdump -y EN10MB icmp`.
const (
	icmpD = `(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 5
(002) ldb      [23]
(003) jeq      #0x1             jt 4	jf 5
(004) ret      #262144
(005) ret      #0
`
	icmpDD = `{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 3, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 0, 1, 0x00000001 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
`
	icmpDDD = `6
40 0 0 12
21 0 3 2048
48 0 0 23
21 0 1 1
6 0 0 262144
6 0 0 0
`
	icmpAsm = `	ldh [12]
	jeq #0x800, L2, L5
L2:	ldb [23]
	jeq #0x1, L4, L5
L4:	ret #262144
L5:	ret #0
`
)

func TestAsmCmd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "icmp.ddd")
	if err := os.WriteFile(file, []byte(icmpDDD), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    exitCode
		stdout  string
		stderrs string // a substring of stderr
	}{
		{name: "ddd to d", args: []string{"asm"}, stdin: icmpDDD, stdout: icmpD},
		{name: "ddd to d explicit", args: []string{"asm", "-d", "-"}, stdin: icmpDDD, stdout: icmpD},
		{name: "d to dd", args: []string{"asm", "-dd"}, stdin: icmpD, stdout: icmpDD},
		{name: "dd to ddd", args: []string{"asm", "-ddd"}, stdin: icmpDD, stdout: icmpDDD},
		{name: "asm to ddd", args: []string{"asm", "-ddd"}, stdin: icmpAsm, stdout: icmpDDD},
		{name: "to asm", args: []string{"asm", "--asm"}, stdin: icmpDDD, stdout: icmpAsm},
		{name: "file", args: []string{"asm", "-dd", file}, stdout: icmpDD},
		{name: "missing file", args: []string{"asm", filepath.Join(dir, "nope")}, code: exitError, stderrs: "no such file"},
		{name: "syntax error", args: []string{"asm"}, stdin: "2\n6 0 0 0\n6 0 0\n", code: exitError,
			stderrs: "bpfc: <stdin>: line 3: want 4 numbers (code jt jf k), got \"6 0 0\"\n"},
		{name: "empty", args: []string{"asm"}, stdin: "", code: exitError, stderrs: "line 1: no instructions"},
		{name: "refused by the kernel rules", args: []string{"asm"}, stdin: "ld #1\n", code: exitError,
			stderrs: "invalid program: instruction 0"},
		{name: "no-validate", args: []string{"asm", "--no-validate"}, stdin: "ld #1\n", stdout: "(000) ld       #0x1\n"},
		{name: "two files", args: []string{"asm", "a", "b"}, code: exitUsage, stderrs: "accepts at most 1 arg"},
		{name: "asm and d", args: []string{"asm", "-d", "--asm"}, stdin: icmpDDD, code: exitUsage, stderrs: "cannot be used together"},
		{name: "bad flag", args: []string{"asm", "-x"}, code: exitUsage, stderrs: "unknown shorthand flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if diff := cmp.Diff(tt.stdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if !strings.Contains(stderr.String(), tt.stderrs) || (tt.stderrs == "") != (stderr.Len() == 0) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.stderrs)
			}
		})
	}
}

// TestAsmCmdTcpdump: `tcpdump -ddd EXPR | bpfc asm -d` prints what
// `tcpdump -d EXPR` prints, and likewise for -dd and -ddd.
func TestAsmCmdTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") == "1" {
			t.Fatalf("tcpdump is required (BPFC_REQUIRE_TCPDUMP=1): %v", err)
		}
		t.Skip("tcpdump is not installed; set BPFC_REQUIRE_TCPDUMP=1 to fail instead")
	}
	// libpcap compiles protochain into a loop (a backward ja) that the
	// kernel refuses: bpfc asm says so unless told not to validate.
	for _, expr := range []string{"icmp", "tcp port 80 or udp port 53", "ip6 protochain 17", "vlan 10 and ip[2:2] % 3 = 1"} {
		loops := strings.Contains(expr, "protochain")
		ddd, err := exec.Command(tcpdump, "-y", "EN10MB", "-ddd", expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -ddd %q: %v", expr, err)
		}
		for _, flag := range []string{"-d", "-dd", "-ddd"} {
			want, err := exec.Command(tcpdump, "-y", "EN10MB", flag, expr).Output()
			if err != nil {
				t.Fatalf("tcpdump %s %q: %v", flag, expr, err)
			}
			var stdout, stderr bytes.Buffer
			args := []string{"asm", flag}
			if loops {
				if code := run(args, bytes.NewReader(ddd), &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), "jump out of range") {
					t.Errorf("bpfc asm %s on %q: exit %d, stderr %q; want the backward jump refused", flag, expr, code, stderr.String())
				}
				stdout.Reset()
				stderr.Reset()
				args = append(args, "--no-validate")
			}
			if code := run(args, bytes.NewReader(ddd), &stdout, &stderr); code != exitOK {
				t.Fatalf("bpfc asm %s: exit %d: %s", flag, code, stderr.String())
			}
			if diff := cmp.Diff(string(want), stdout.String()); diff != "" {
				t.Errorf("%q %s (-tcpdump +bpfc):\n%s", expr, flag, diff)
			}
		}
	}
}
