package main

import (
	"bytes"
	"fmt"
	"github.com/bpfc/bpfc/internal/golden"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bpfc/bpfc/internal/testpcap"
)

// TestLiveTcpdump is the live differential test: for every expression of
// testdata/exprs.txt on every capture of testdata/pcaps, `tcpdump -r X
// -w A EXPR` and `bpfc filter -r X -w B EXPR` must write the same
// packets (original length, captured bytes, and the record headers byte
// for byte), and bpfc must refuse what tcpdump refuses; tcpdump's
// "expression rejects all packets" may be matched by keeping nothing.
// Cases listed in testdata/golden/known-gaps.txt are reported, not
// failed (TestGolden keeps that list honest).
//
// It is skipped when tcpdump is not installed, unless
// BPFC_REQUIRE_TCPDUMP=1 (as in CI), where that is a failure.
func TestLiveTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("BPFC_REQUIRE_TCPDUMP") == "1" {
			t.Fatal("tcpdump is not installed and BPFC_REQUIRE_TCPDUMP=1 (apt-get install -y tcpdump)")
		}
		t.Skip("tcpdump is not installed (apt-get install -y tcpdump); set BPFC_REQUIRE_TCPDUMP=1 to fail instead")
	}
	exprs := readExprs(t, "../../testdata/exprs.txt")
	captures, err := filepath.Glob(pcaps + "*.pcap")
	if err != nil || len(captures) == 0 {
		t.Fatalf("no captures in %s: %v", pcaps, err)
	}
	known, err := golden.KnownGaps("../../testdata/golden/known-gaps.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var seq, agreed, gaps atomic.Int64
	t.Cleanup(func() {
		t.Logf("bpfc agrees with %s on %d of %d cases; %d known gaps", tcpdump, agreed.Load(), seq.Load(), gaps.Load())
	})
	for _, capPath := range captures {
		name := strings.TrimSuffix(filepath.Base(capPath), ".pcap")
		t.Run(name, func(t *testing.T) {
			for _, expr := range exprs {
				t.Run(expr, func(t *testing.T) {
					t.Parallel()
					n := seq.Add(1)
					a := filepath.Join(dir, fmt.Sprintf("%d-tcpdump.pcap", n))
					b := filepath.Join(dir, fmt.Sprintf("%d-bpfc.pcap", n))
					defer os.Remove(a)
					defer os.Remove(b)
					// "--" lets an expression start with '-'.
					cmd := exec.Command(tcpdump, "-r", capPath, "-w", a, "--", expr)
					var tdErr bytes.Buffer
					cmd.Stderr = &tdErr
					tdFailed := cmd.Run() != nil
					var stderr bytes.Buffer
					code := run([]string{"filter", "-r", capPath, "-w", b, "--", expr}, nil, &stderr, &stderr)
					problem := compareLive(tdFailed, lastLine(tdErr.String()), code, lastLine(stderr.String()), a, b)
					switch {
					case problem == "":
						agreed.Add(1)
					case known[name+"\t"+expr]:
						gaps.Add(1)
						t.Logf("known gap: %s", problem)
					default:
						t.Error(problem)
					}
				})
			}
		})
	}
}

// compareLive says how bpfc's run differs from tcpdump's ("" if not).
func compareLive(tdFailed bool, tdMsg string, code exitCode, msg, a, b string) string {
	switch {
	case tdFailed && code == exitOK:
		if strings.Contains(tdMsg, "expression rejects all packets") {
			if recs, err := testpcap.Read(b); err == nil && len(recs.Records) == 0 {
				return ""
			}
			return fmt.Sprintf("tcpdump refuses (%s); bpfc keeps packets", tdMsg)
		}
		return fmt.Sprintf("tcpdump refuses (%s); bpfc accepts", tdMsg)
	case tdFailed:
		return "" // both refuse; the messages are compared elsewhere
	case code != exitOK:
		return fmt.Sprintf("tcpdump accepts; bpfc refuses (exit %d: %s)", code, msg)
	}
	want, err := testpcap.Read(a)
	if err != nil {
		return fmt.Sprintf("tcpdump's output: %v", err)
	}
	got, err := testpcap.Read(b)
	if err != nil {
		return fmt.Sprintf("bpfc's output: %v", err)
	}
	for i := range min(len(want.Records), len(got.Records)) {
		w, g := want.Records[i], got.Records[i]
		if w.Orig != g.Orig || !bytes.Equal(w.Data, g.Data) {
			return fmt.Sprintf("kept packet %d differs: tcpdump's is %d of %d bytes, bpfc's %d of %d", i+1, len(w.Data), w.Orig, len(g.Data), g.Orig)
		}
	}
	if len(want.Records) != len(got.Records) {
		return fmt.Sprintf("tcpdump keeps %d packets, bpfc %d", len(want.Records), len(got.Records))
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ab) < 24 || len(bb) < 24 || !bytes.Equal(ab[24:], bb[24:]) {
		return "same packets, but the record headers (timestamps) differ"
	}
	return ""
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// readExprs reads one expression a line; '#' starts a comment line.
func readExprs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
