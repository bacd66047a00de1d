package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/testpcap"
)

const pcaps = "../../testdata/pcaps/"

// capFile is a little-endian classic pcap file split into its header
// and raw records (record header and data), as the tests build them.
type capFile struct {
	header  []byte
	records [][]byte
}

func splitPcap(t *testing.T, b []byte) capFile {
	t.Helper()
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("not a little-endian microsecond pcap file (%d bytes)", len(b))
	}
	c := capFile{header: b[:24]}
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			t.Fatalf("pcap cut in a record header at byte %d", off)
		}
		n := 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+n > len(b) {
			t.Fatalf("pcap cut in a record at byte %d", off)
		}
		c.records = append(c.records, b[off:off+n])
		off += n
	}
	return c
}

func (c capFile) bytes(records [][]byte) []byte {
	return append(append([]byte(nil), c.header...), bytes.Join(records, nil)...)
}

func readCap(t *testing.T, path string) capFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return splitPcap(t, b)
}

// keeps filters records with bpfc's program, outside the CLI: the
// reference the CLI's output is compared with (the program itself is
// checked against libpcap by the root package's golden test and by
// TestLiveTcpdump).
func keeps(t *testing.T, c capFile, expr string) (kept [][]byte, idx []int) {
	t.Helper()
	lt := cbpf.LinkTypeFromPcap(binary.LittleEndian.Uint32(c.header[20:]))
	p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian))
	if err != nil {
		t.Fatal(err)
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range c.records {
		if vm.Run(r[16:], int(binary.LittleEndian.Uint32(r[12:]))) != 0 {
			kept = append(kept, r)
			idx = append(idx, i)
		}
	}
	return kept, idx
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFilterCmd runs `bpfc filter` through run and checks the output
// file or standard output byte for byte, the exit code and standard error,
// with each engine (the kernel ones when this process can run eBPF): all
// must give the same results, the kernel ones adding only their note on
// the packets they left to the interpreter.
func TestFilterCmd(t *testing.T) {
	dir := t.TempDir()
	en := readCap(t, pcaps+"en10mb.pcap")
	sll := pcaps + "linux_sll.pcap"
	// Three parts of en10mb.pcap, to check files are written in order.
	n := len(en.records)
	parts := [][][]byte{en.records[:n/3], en.records[n/3 : 2*n/3], en.records[2*n/3:]}
	for i, p := range parts {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("part%d.pcap", i)), en.bytes(p))
	}
	glob := filepath.Join(dir, "part*.pcap")
	whole := pcaps + "en10mb.pcap"
	const expr = "tcp or udp port 53"
	kept, idx := keeps(t, en, expr)
	if len(kept) < 100 {
		t.Fatalf("only %d packets kept: pick another expression", len(kept))
	}
	// The first kept packets of the third part, to cut -c there.
	third := 0
	for third < len(idx) && idx[third] < 2*n/3 {
		third++
	}
	// A file cut in the middle of a record, and one with a corrupt
	// length, both at record cutRec (0-based), after some kept packets.
	cutRec := idx[len(idx)/2] + 1
	cutAt := len(en.header) + len(bytes.Join(en.records[:cutRec], nil)) + 30
	cut := writeFile(t, filepath.Join(dir, "cut.pcap"), en.bytes(en.records)[:cutAt])
	corruptB := en.bytes(en.records[:cutRec])
	bad := append([]byte(nil), en.records[cutRec]...)
	binary.LittleEndian.PutUint32(bad[8:], 0xfffffff0)
	corrupt := writeFile(t, filepath.Join(dir, "corrupt.pcap"), append(corruptB, bad...))
	keptBefore := len(idx)/2 + 1
	cutMsg := fmt.Sprintf("bpfc: %s: bad capture file: packet %d (record at byte %d): the file ends 14 bytes into the record's %d bytes of data\n",
		cut, cutRec+1, cutAt-30, len(en.records[cutRec])-16)
	unreadable := filepath.Join(dir, "unreadable.pcap")
	writeFile(t, unreadable, en.bytes(nil))
	os.Chmod(unreadable, 0)
	if f, err := os.Open(unreadable); err == nil {
		f.Close() // root reads anything: use a directory instead
		unreadable = dir
	}

	all := func(r [][]byte) []byte { return en.bytes(r) }
	tests := []filterCase{
		{"write file", []string{"-r", whole, expr}, exitOK, all(kept), "^$", fmt.Sprintf("^%d of %d packets kept\n$", len(kept), n), false},
		{"write stdout", []string{"-r", whole, "-w", "-", expr}, exitOK, all(kept), "", fmt.Sprintf("^%d of %d packets kept\n$", len(kept), n), true},
		{"count", []string{"-r", whole, "-c", "7", expr}, exitOK, all(kept[:7]), "", fmt.Sprintf("^7 of %d packets kept\n$", idx[6]+1), false},
		{"empty expression keeps all", []string{"-r", whole}, exitOK, all(en.records), "", fmt.Sprintf("^%d of %d packets kept\n$", n, n), false},
		{"expression words joined", []string{"-r", whole, "tcp", "or", "udp", "port", "53"}, exitOK, all(kept), "", "", false},
		{"expression from file", []string{"-r", whole, "-F", writeFile(t, filepath.Join(dir, "expr"), []byte("tcp # all of it\nor udp port 53\n"))}, exitOK, all(kept), "", "", false},
		{"several files in order", []string{"-r", filepath.Join(dir, "part0.pcap"), "-r", filepath.Join(dir, "part1.pcap"), "-r", filepath.Join(dir, "part2.pcap"), expr}, exitOK, all(kept), "", fmt.Sprintf("^%d of %d packets kept\n$", len(kept), n), false},
		{"glob", []string{"-r", glob, expr}, exitOK, all(kept), "", fmt.Sprintf("^%d of %d packets kept\n$", len(kept), n), false},
		{"glob to stdout", []string{"-r", glob, "-w", "-", expr}, exitOK, all(kept), "", "", true},
		{"same file twice", []string{"-r", whole, "-r", whole, expr}, exitOK, all(append(append([][]byte(nil), kept...), kept...)), "", fmt.Sprintf("^%d of %d packets kept\n$", 2*len(kept), 2*n), false},
		{"count in a later file", []string{"-r", glob, "-c", fmt.Sprint(third + 3), expr}, exitOK, all(kept[:third+3]), "", fmt.Sprintf("^%d of %d packets kept\n$", third+3, idx[third+2]+1), false},
		{"count at a file's end", []string{"-r", glob, "-c", fmt.Sprint(third), expr}, exitOK, all(kept[:third]), "", fmt.Sprintf("^%d of %d packets kept\n$", third, idx[third-1]+1), false},
		{"count beyond the files", []string{"-r", glob, "-c", "100000", expr}, exitOK, all(kept), "", fmt.Sprintf("^%d of %d packets kept\n$", len(kept), n), false},
		{"link types differ", []string{"-r", whole, "-r", sll, expr}, exitError, nil, "", "^bpfc: .*linux_sll.pcap has link type LINUX_SLL but .*en10mb.pcap has EN10MB: filter files of different link types separately\n$", false},
		{"bad expression", []string{"-r", whole, "tcp port"}, exitError, nil, "", "^bpfc: 1:9: expected a port number.*\n  tcp port\n          \\^\n$", false},
		{"bad expression to stdout", []string{"-r", whole, "-w", "-", "tcp port"}, exitError, nil, "^$", "\\^\n$", true},
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap"), expr}, exitError, nil, "", "^bpfc: open .*nope.pcap: no such file or directory\n$", false},
		{"unreadable file", []string{"-r", whole, "-r", unreadable, expr}, exitError, nil, "", "^bpfc: .*(permission denied|is a directory)\n$", false},
		{"not a capture", []string{"-r", filepath.Join(dir, "expr"), expr}, exitError, nil, "", "not a pcap or pcapng file", false},
		{"output is an input", []string{"-r", glob, "-w", filepath.Join(dir, "part1.pcap"), expr}, exitError, nil, "", "part1.pcap is also an input: it would be overwritten while read\n$", true},
		{"no match for glob", []string{"-r", filepath.Join(dir, "zz*.pcap"), expr}, exitUsage, nil, "", "no file matches", false},
		{"no input", []string{expr}, exitUsage, nil, "", "no input", false},
		{"negative count", []string{"-r", whole, "-c", "-1", expr}, exitUsage, nil, "", "invalid packet count", false},
		{"truncated", []string{"-r", cut, expr}, exitError, all(kept[:keptBefore]), "", "^" + regexp.QuoteMeta(cutMsg) + fmt.Sprintf("%d of %d packets kept\n$", keptBefore, cutRec), false},
		{"truncated second file", []string{"-r", whole, "-r", cut, "-r", whole, expr}, exitError, all(append(append([][]byte(nil), kept...), kept[:keptBefore]...)), "", "^" + regexp.QuoteMeta(cutMsg) + fmt.Sprintf("%d of %d packets kept\n$", len(kept)+keptBefore, n+cutRec), false},
		{"corrupt length", []string{"-r", corrupt, expr}, exitError, all(kept[:keptBefore]), "", fmt.Sprintf("packet %d \\(record at byte [0-9]+\\): captured length", cutRec+1) + " 4294967280 is larger than any snapshot length\n", false},
		{"corrupt second file", []string{"-r", whole, "-r", corrupt, expr}, exitError, all(append(append([][]byte(nil), kept...), kept[:keptBefore]...)), "", fmt.Sprintf("packet %d .*captured length", cutRec+1), false},
	}
	for _, engine := range testEngines(t) {
		t.Run(engine, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					filterCmdCase(t, engine, filepath.Join(dir, fmt.Sprintf("out-%s-%d.pcap", engine, i)), tt)
				})
			}
		})
	}
	// Temporary files are gone.
	left, _ := filepath.Glob(filepath.Join(dir, ".bpfc*"))
	left2, _ := filepath.Glob(filepath.Join(os.TempDir(), "bpfc-filter-*"))
	if len(left)+len(left2) > 0 {
		t.Errorf("temporary files left: %v %v", left, left2)
	}
}

// filterCase is a case of TestFilterCmd.
type filterCase struct {
	name    string
	args    []string
	code    exitCode
	out     []byte // the output file (-w), or nil when it must not exist
	stdout  string // a regexp, when not testing -w -
	stderr  string // a regexp
	toStdio bool   // -w - : out is compared with standard output
}

// filterCmdCase runs one case of TestFilterCmd with one engine, writing
// to out unless the case is about standard output. A kernel engine's
// note on the packets it left to the interpreter is not part of the
// comparison.
func filterCmdCase(t *testing.T, engine, out string, tt filterCase) {
	t.Helper()
	cargs := tt.args
	if engine != engineVM {
		cargs = append([]string{"--engine", engine}, cargs...)
	}
	args := append([]string{"filter"}, cargs...)
	if !tt.toStdio && tt.code != exitUsage {
		args = append([]string{"filter", "-w", out}, cargs...)
	}
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	if code != tt.code {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
	}
	errText := stderr.String()
	if engine != engineVM {
		errText, _ = dropNote(errText)
	}
	if !regexp.MustCompile(tt.stderr).MatchString(errText) {
		t.Errorf("stderr %q does not match %q", errText, tt.stderr)
	}
	if tt.toStdio {
		if tt.out == nil && stdout.Len() != 0 {
			t.Errorf("%d bytes on standard output, want none", stdout.Len())
		} else if tt.out != nil && !bytes.Equal(stdout.Bytes(), tt.out) {
			t.Errorf("standard output: %d bytes, want %d", stdout.Len(), len(tt.out))
		}
		return
	}
	if !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
		t.Errorf("stdout %q does not match %q", stdout.String(), tt.stdout)
	}
	got, err := os.ReadFile(out)
	if tt.out == nil {
		if err == nil {
			t.Errorf("%s was created", out)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, tt.out) {
		g, w := splitPcap(t, got), splitPcap(t, tt.out)
		t.Errorf("output: %d records, want %d; header %x, want %x", len(g.records), len(w.records), g.header, w.header)
	}
}

// TestFilterLines checks the line output without -w: one line per kept
// packet, numbered in the inputs taken together, the same with every
// engine.
func TestFilterLines(t *testing.T) {
	dir := t.TempDir()
	en := readCap(t, pcaps+"en10mb.pcap")
	n := len(en.records)
	a := writeFile(t, filepath.Join(dir, "a.pcap"), en.bytes(en.records[:n/2]))
	b := writeFile(t, filepath.Join(dir, "b.pcap"), en.bytes(en.records[n/2:]))
	const expr = "udp port 53"
	_, idx := keeps(t, en, expr)
	for _, engine := range testEngines(t) {
		for _, tt := range []struct {
			name string
			args []string
		}{
			{"one file", []string{"-r", pcaps + "en10mb.pcap"}},
			{"two files", []string{"-r", a, "-r", b}},
		} {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				filterLinesCase(t, append(append([]string{"filter", "--engine", engine}, tt.args...), expr), idx, n)
			})
		}
	}
}

func filterLinesCase(t *testing.T, args []string, idx []int, n int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	var got, want []string
	for i, l := range lines {
		num, _, _ := strings.Cut(l, " ")
		got = append(got, num)
		want = append(want, fmt.Sprint(idx[min(i, len(idx)-1)]+1))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packet numbers (-want +got):\n%s", diff)
	}
	if !strings.Contains(lines[0], "UDP") || !strings.Contains(lines[0], " > ") {
		t.Errorf("line %q has no decode", lines[0])
	}
	if got, _ := dropNote(stderr.String()); got != fmt.Sprintf("%d of %d packets kept\n", len(idx), n) {
		t.Errorf("stderr %q, want %q", got, fmt.Sprintf("%d of %d packets kept\n", len(idx), n))
	}
}

// TestFilterPcapng reads a pcapng file and writes classic pcap.
func TestFilterPcapng(t *testing.T) {
	dir := t.TempDir()
	ref, err := testpcap.Read(pcaps + "en10mb.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range ref.Records[:500] {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 123456000), CaptureLength: len(r.Data), Length: int(r.Orig), InterfaceIndex: 0}
		if err := w.WritePacket(ci, r.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, filepath.Join(dir, "in.pcapng"), ng.Bytes())
	out := filepath.Join(dir, "out.pcap")
	var stderr bytes.Buffer
	if code := run([]string{"filter", "-r", in, "-w", out, "tcp"}, nil, &stderr, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := testpcap.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	en := readCap(t, pcaps+"en10mb.pcap")
	en.records = en.records[:500]
	kept, idx := keeps(t, en, "tcp")
	if len(got.Records) != len(kept) {
		t.Fatalf("%d packets kept, want %d", len(got.Records), len(kept))
	}
	for i, r := range got.Records {
		want := ref.Records[idx[i]]
		if r.Orig != want.Orig || !bytes.Equal(r.Data, want.Data) {
			t.Errorf("packet %d differs", i)
		}
	}
	if want := fmt.Sprintf("%d of 500 packets kept\n", len(kept)); stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgress checks the progress line: shown only on a terminal,
// rewritten in place and erased at the end.
func TestProgress(t *testing.T) {
	in := &input{name: "x.pcap", size: 4_000_000}
	in.prog.bytes.Store(1_000_000)
	in.prog.packets.Store(5000)
	if got := (&progress{inputs: []*input{in}, start: time.Unix(0, 0)}).line(time.Unix(1, 0)); got != "1.0 MB of 4.0 MB (25%) read, 5000 packets, 0.01 Mpkt/s" {
		t.Errorf("line %q", got)
	}

	saved, savedDelay, savedInterval := stderrIsTerminal, progressDelay, progressInterval
	defer func() { stderrIsTerminal, progressDelay, progressInterval = saved, savedDelay, savedInterval }()
	progressDelay, progressInterval = 0, time.Millisecond

	var quiet syncBuffer
	startProgress(&quiet, []*input{in}).finish()
	if quiet.String() != "" {
		t.Errorf("progress %q written to a file that is not a terminal", quiet.String())
	}

	stderrIsTerminal = func(io.Writer) bool { return true }
	var tty syncBuffer
	p := startProgress(&tty, []*input{in})
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(tty.String(), "packets") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	p.finish()
	got := tty.String()
	if !strings.HasPrefix(got, "\r1.0 MB of 4.0 MB (25%) read, 5000 packets") || !strings.HasSuffix(got, "\x1b[K\r\x1b[K") {
		t.Errorf("terminal output %q", got)
	}
}

// TestFilterAllocs checks the hot loop allocates nothing per packet: a
// run over a file four times as long allocates no more.
func TestFilterAllocs(t *testing.T) {
	dir := t.TempDir()
	en := readCap(t, pcaps+"en10mb.pcap")
	long := writeFile(t, filepath.Join(dir, "long.pcap"), en.bytes(slicesRepeat(en.records, 4)))
	allocs := func(in string) float64 {
		args := []string{"filter", "-r", in, "-w", filepath.Join(dir, "out.pcap"), "tcp or udp port 53"}
		return testing.AllocsPerRun(3, func() {
			if code := run(args, nil, io.Discard, io.Discard); code != exitOK {
				t.Fatalf("exit %d", code)
			}
		})
	}
	short, four := allocs(pcaps+"en10mb.pcap"), allocs(long)
	if extra := four - short; extra > 20 {
		t.Errorf("%.0f allocations for %d packets, %.0f for %d: %.0f more", short, len(en.records), four, 4*len(en.records), extra)
	}
}

func slicesRepeat(r [][]byte, n int) [][]byte {
	var out [][]byte
	for range n {
		out = append(out, r...)
	}
	return out
}

// BenchmarkFilter measures `bpfc filter -r -w` over the test capture
// repeated: one and three files.
func BenchmarkFilter(b *testing.B) {
	dir := b.TempDir()
	raw, err := os.ReadFile(pcaps + "en10mb.pcap")
	if err != nil {
		b.Fatal(err)
	}
	en := capFile{header: raw[:24]}
	for off := 24; off < len(raw); {
		n := 16 + int(binary.LittleEndian.Uint32(raw[off+8:]))
		en.records = append(en.records, raw[off:off+n])
		off += n
	}
	recs := slicesRepeat(en.records, 10)
	for _, name := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, name+".pcap"), en.bytes(recs), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name  string
		files []string
	}{
		{"1file", []string{"a"}},
		{"3files", []string{"a", "b", "c"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			args := []string{"filter", "-w", filepath.Join(dir, "out.pcap")}
			for _, f := range bc.files {
				args = append(args, "-r", filepath.Join(dir, f+".pcap"))
			}
			args = append(args, "tcp port 80 or udp port 53")
			b.ReportAllocs()
			for b.Loop() {
				if code := run(args, nil, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			pkts := float64(len(recs) * len(bc.files))
			b.ReportMetric(pkts*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpkt/s")
		})
	}
}
