//go:build linux

package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf/asm"
	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/netnstest"
	"github.com/bpfc/bpfc/internal/testenv"
)

// watchBuffer collects a command's standard error and says when the
// capture started listening.
type watchBuffer struct {
	mu        sync.Mutex
	b         bytes.Buffer
	listening chan struct{}
	once      sync.Once
}

func newWatchBuffer() *watchBuffer { return &watchBuffer{listening: make(chan struct{})} }

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "listening on") {
		w.once.Do(func() { close(w.listening) })
	}
	return len(p), nil
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// liveNS makes a namespace for a CLI capture test; with a kernel that
// cannot load BPF programs now, captures filter in user space (or the
// test skips, when it needs the kernel).
func liveNS(t *testing.T, needKernel bool) *netnstest.NS {
	ns := netnstest.New(t)
	if err := testenv.KernelCaptureTests(); err != nil {
		if needKernel {
			t.Skip(err)
		}
		captureUserSpaceFilter = true
		t.Cleanup(func() { captureUserSpaceFilter = false })
		t.Logf("filters run in user space: %v", err)
	}
	return ns
}

// captureRun runs `bpfc capture ARGS` inside the namespace; once it
// listens, send is called. It returns the exit code, standard output
// and standard error.
func captureRun(t *testing.T, ns *netnstest.NS, args []string, send func()) (exitCode, string, string) {
	t.Helper()
	var out bytes.Buffer
	errb := newWatchBuffer()
	codec := make(chan exitCode, 1)
	go func() {
		var code exitCode
		ns.Do(func() error {
			code = run(append([]string{"capture"}, args...), strings.NewReader(""), &out, errb)
			return nil
		})
		codec <- code
	}()
	select {
	case <-errb.listening:
		send()
	case code := <-codec:
		return code, out.String(), errb.String()
	case <-time.After(10 * time.Second):
		t.Fatalf("the capture did not start: %s", errb.String())
	}
	select {
	case code := <-codec:
		return code, out.String(), errb.String()
	case <-time.After(20 * time.Second):
		t.Fatalf("the capture did not end: %s", errb.String())
	}
	return 0, "", ""
}

// sendFrames sends the test frames from A and returns those expr keeps
// on B (compiled for a live Ethernet capture), as the kernel sees them.
func sendFrames(t *testing.T, ns *netnstest.NS, expr string) (sent []netnstest.Frame, want [][]byte) {
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpfc.Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if f.VLAN {
			continue // filters see it with or without its tag
		}
		meta := cbpf.Metadata{PktType: f.PktType, IfIndex: uint32(ns.IndexB), HAType: 1, NetworkOffset: 14}
		if vm.RunMeta(f.Data, len(f.Data), &meta) != 0 {
			want = append(want, f.Data)
		}
		sent = append(sent, f)
	}
	return sent, want
}

var statsRE = regexp.MustCompile(`(\d+) packets? captured\n(\d+) packets? received by filter\n(\d+) packets? dropped by kernel\n$`)

// TestCaptureCmd captures with -c and -w in a namespace: the pcap file
// holds exactly the frames the filter keeps, gopacket and tcpdump -r
// read it back, and the three counts are printed.
func TestCaptureCmd(t *testing.T) {
	ns := liveNS(t, false)
	send := ns.Sender(t, ns.A)
	const expr = "udp or arp"
	frames, want := sendFrames(t, ns, expr)
	file := filepath.Join(t.TempDir(), "out.pcap")
	code, _, stderr := captureRun(t, ns, []string{"-i", ns.B, "-c", "3", "-w", file, "--block-timeout", "5ms", expr}, netnstest.SendAll(send, frames))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if m := statsRE.FindStringSubmatch(stderr); m == nil || m[1] != "3" || m[3] != "0" {
		t.Errorf("standard error does not end with the counts (3 captured, none dropped):\n%s", stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:3], recordData(readGopacket(t, b))); diff != "" {
		t.Errorf("packets in the file (-want +got):\n%s", diff)
	}
	if _, err := exec.LookPath("tcpdump"); err == nil {
		out, err := exec.Command("tcpdump", "-r", file, "-nn", "-xx").CombinedOutput()
		if err != nil {
			t.Fatalf("tcpdump -r: %v: %s", err, out)
		}
		if n := strings.Count(string(out), "\n\t0x0000:"); n != 3 {
			t.Errorf("tcpdump -r read %d packets, want 3:\n%s", n, out)
		}
	}
}

// TestCaptureLines prints one line per packet.
func TestCaptureLines(t *testing.T) {
	ns := liveNS(t, false)
	send := ns.Sender(t, ns.A)
	frames, _ := sendFrames(t, ns, "tcp port 80")
	code, stdout, stderr := captureRun(t, ns, []string{"-i", ns.B, "-c", "1", "--block-timeout", "5ms", "tcp", "port", "80"}, netnstest.SendAll(send, frames))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`^1 \d\d:\d\d:\d\d\.\d{6} len \d+: IPv4 10.0.0.1 > 10.0.0.2, TCP 40002 > 80\n$`).MatchString(stdout) {
		t.Errorf("line output:\n%s", stdout)
	}
}

// TestCaptureSignal stops a capture with SIGTERM: exit 0, a complete
// file, the counts.
func TestCaptureSignal(t *testing.T) {
	ns := liveNS(t, false)
	send := ns.Sender(t, ns.A)
	file := filepath.Join(t.TempDir(), "out.pcap")
	code, _, stderr := captureRun(t, ns, []string{"-i", ns.B, "-w", file, "--block-timeout", "5ms", "udp port 53"}, func() {
		for i := range 5 {
			f, _ := netnstest.UDPFrame(ns.MACA, ns.MACB, 53, uint32(i))
			send.Send(f)
		}
		time.Sleep(100 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := statsRE.FindStringSubmatch(stderr)
	if m == nil || m[1] != "5" {
		t.Errorf("want 5 packets captured:\n%s", stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if c := splitPcap(t, b); len(c.records) != 5 {
		t.Errorf("the file holds %d packets, want 5", len(c.records))
	}
}

// TestCaptureErrors: bad invocations and interfaces, nothing written.
func TestCaptureErrors(t *testing.T) {
	ns := liveNS(t, false)
	if out, err := exec.Command("ip", "-n", ns.Name, "link", "add", "down-a", "type", "veth", "peer", "name", "down-b").CombinedOutput(); err != nil {
		t.Fatalf("veth: %v: %s", err, out)
	}
	file := filepath.Join(t.TempDir(), "out.pcap")
	for _, tc := range []struct {
		args []string
		code exitCode
		msg  string
	}{
		{[]string{"udp"}, exitUsage, "no interface"},
		{[]string{"-i", ns.B, "-Q", "up"}, exitUsage, "invalid direction"},
		{[]string{"-i", "nosuch0", "-w", file}, exitError, "capture: nosuch0: no such interface"},
		{[]string{"-i", "down-a", "-w", file}, exitError, "capture: down-a: interface is not up"},
		{[]string{"-i", ns.B, "-w", file, "udp port"}, exitError, "expected a port number"},
		{[]string{"-i", ns.B, "-w", file, "-s", "100", "--block-size", "1000"}, exitError, "not a multiple of the page size"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			var code exitCode
			ns.Do(func() error {
				code = run(append([]string{"capture"}, tc.args...), strings.NewReader(""), &out, &errb)
				return nil
			})
			if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errb.String(), tc.code, tc.msg)
			}
			if _, err := os.Stat(file); err == nil {
				t.Errorf("%s was created", file)
			}
		})
	}
}

// readData returns the packets' bytes in a pcap file.
func readData(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range splitPcap(t, b).records {
		out = append(out, r[16:])
	}
	return out
}

// captureFrames runs bpfc capture with args on B while the test frames
// are sent from A, stops it with SIGTERM, and returns what it wrote.
func captureFrames(t *testing.T, ns *netnstest.NS, args []string, also func()) [][]byte {
	t.Helper()
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	data := netnstest.Data(frames)
	return captureSent(t, ns, ns.B, args, data, also)
}

// captureSent runs bpfc capture with args on iface while frames are sent
// from A, stops it with SIGTERM, and returns what it wrote.
func captureSent(t *testing.T, ns *netnstest.NS, iface string, args []string, frames [][]byte, also func()) [][]byte {
	t.Helper()
	send := ns.Sender(t, ns.A)
	file := filepath.Join(t.TempDir(), "bpfc.pcap")
	args = append([]string{"-i", iface, "-w", file, "--block-timeout", "5ms"}, args...)
	code, _, stderr := captureRun(t, ns, args, func() {
		if also != nil {
			also()
		}
		for _, f := range frames {
			send.Send(f)
		}
		time.Sleep(200 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	return readData(t, file)
}

var sideExprs = []string{"", "udp", "udp port 53 or arp", "not ip", "tcp[tcpflags] & tcp-syn != 0", "inbound", "greater 200", "ip6 or icmp"}

// TestCaptureBesideTcpdump captures with tcpdump and bpfc on the same
// veth and traffic, at the same time: they keep the same packets.
//
// libpcap 1.10 re-runs the filter in user space on the packets of the
// ring block that was open when the filter was set (pcap-linux.c's
// blocks_to_filter_in_userland); its user-space interpreter knows no
// ancillary loads, so there `inbound` rejects everything. A warm-up
// frame, sent and left to time out its block before the test frames,
// takes that block, and is left out of the comparison: the test frames
// all meet tcpdump's filter in the kernel, as bpfc's always do.
func TestCaptureBesideTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("needs tcpdump")
	}
	ns := liveNS(t, true)
	warm, err := netnstest.UDPFrame(ns.MACA, ns.MACB, 9, 0xfeedf00d)
	if err != nil {
		t.Fatal(err)
	}
	withoutWarm := func(ps [][]byte) [][]byte {
		var out [][]byte
		for _, p := range ps {
			if !bytes.Equal(p, warm) {
				out = append(out, p)
			}
		}
		return out
	}
	send := ns.Sender(t, ns.A)
	for _, expr := range sideExprs {
		t.Run(expr, func(t *testing.T) {
			tdFile := filepath.Join(t.TempDir(), "tcpdump.pcap")
			td := ns.Command("tcpdump", "-i", ns.B, "-U", "-w", tdFile, "--immediate-mode", expr)
			tdErr := newWatchBuffer()
			td.Stderr = tdErr
			if err := td.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { td.Process.Kill(); td.Wait() })
			got := captureFrames(t, ns, []string{expr}, func() {
				select {
				case <-tdErr.listening:
				case <-time.After(10 * time.Second):
					t.Errorf("tcpdump did not start: %s", tdErr.String())
				}
				send.Send(warm)
				time.Sleep(300 * time.Millisecond) // for tcpdump to time out the warm-up block
			})
			td.Process.Signal(syscall.SIGINT)
			td.Wait()
			want, got := withoutWarm(readData(t, tdFile)), withoutWarm(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tcpdump (-) and bpfc (+) kept different packets:\n%s", diff)
			}
		})
	}
}

// TestCaptureEBPF: with --ebpf the same packets are kept as with the
// classic filter, on an Ethernet interface and on "any" (cooked, where
// the program is rewritten for the kernel before it is translated).
func TestCaptureEBPF(t *testing.T) {
	ns := liveNS(t, true)
	if err := ebpf.Supported(); err != nil {
		t.Skip(err)
	}
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	data := netnstest.Data(frames)
	for _, iface := range []string{ns.B, "any"} {
		for _, expr := range sideExprs {
			t.Run(iface+"/"+expr, func(t *testing.T) {
				classic := captureSent(t, ns, iface, []string{expr}, data, nil)
				translated := captureSent(t, ns, iface, []string{"--ebpf", expr}, data, nil)
				if len(classic) == 0 && expr == "" {
					t.Fatal("nothing captured")
				}
				if diff := cmp.Diff(classic, translated); diff != "" {
					t.Errorf("classic (-) and eBPF (+) kept different packets:\n%s", diff)
				}
			})
		}
	}
}

// longHost returns the i-th host of longHosts: addresses in 10/8 spread
// out (i times an odd number, modulo 2^24, one to one), so that the
// optimizer finds no runs of consecutive values to test as ranges.
func longHost(i int) net.IP {
	v := uint32(i) * 2654435761 % (1 << 24)
	return net.IP{10, byte(v >> 16), byte(v >> 8), byte(v)}
}

// longHosts returns an 'or' of the host terms of longHost(0) to
// longHost(n-1), with extra terms put before index at: too long for one
// classic program when n is about 1,600.
func longHosts(n, at int, extra ...string) string {
	var terms []string
	for i := range n {
		if i == at {
			terms = append(terms, extra...)
		}
		terms = append(terms, "host "+longHost(i).String())
	}
	return strings.Join(terms, " or ")
}

// TestCaptureTooLong: a program too long for the kernel is refused
// before anything is written; the message says whether --ebpf fits it.
func TestCaptureTooLong(t *testing.T) {
	ns := liveNS(t, false)
	dir := t.TempDir()
	file := filepath.Join(dir, "out.pcap")
	exprFile := func(name, expr string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(expr), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hosts := exprFile("hosts", longExpr(t))
	vlan := exprFile("vlan", "vlan and ("+longHosts(1600, -1)+")")
	for _, tc := range []struct {
		name    string
		args    []string
		msgs    []string
		ebpfMax int // maxEBPFInstructions for the case (0: the kernel's)
	}{
		{"hosts", []string{"-F", hosts}, []string{"program too long for the kernel", "the limit is 4096", "it fits as eBPF: with --ebpf it is one eBPF program of"}, 0},
		{"vlan", []string{"-F", vlan}, []string{"program too long for the kernel", "it fits as eBPF"}, 0},
		{"over eBPF's limit", []string{"-F", hosts}, []string{"program too long for the kernel", "--ebpf would not help: program too long for the kernel", "the limit is 5000"}, 5000},
		{"over eBPF's limit --ebpf", []string{"--ebpf", "-F", hosts}, []string{"program too long for the kernel", "--ebpf cannot take it either: program too long for the kernel"}, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ebpfMax > 0 {
				defer func(n int) { maxEBPFInstructions = n }(maxEBPFInstructions)
				maxEBPFInstructions = tc.ebpfMax
			}
			code, _, stderr := captureRun(t, ns, append([]string{"-i", ns.B, "-w", file}, tc.args...), func() {
				t.Error("the capture started")
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
			})
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			for _, m := range tc.msgs {
				if !strings.Contains(stderr, m) {
					t.Errorf("standard error lacks %q:\n%s", m, stderr)
				}
			}
			if _, err := os.Stat(file); err == nil {
				t.Errorf("%s was created", file)
			}
		})
	}
}

// TestCaptureNoPermission: without CAP_NET_RAW the capture fails at
// once, naming the capability, and writes nothing.
func TestCaptureNoPermission(t *testing.T) {
	ns := liveNS(t, false)
	file := filepath.Join(t.TempDir(), "out.pcap")
	var out, errb bytes.Buffer
	var code exitCode
	if err := ns.DoUnprivileged(func() error {
		code = run([]string{"capture", "-i", ns.B, "-w", file, "udp"}, strings.NewReader(""), &out, &errb)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const want = "bpfc: capture: veth-b: permission denied: capturing needs root or the CAP_NET_RAW capability"
	if code != exitError || !strings.HasPrefix(errb.String(), want) {
		t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errb.String(), exitError, want)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("%s was created", file)
	}
}

// TestCaptureKernelRefuses: a filter the kernel refuses (more socket
// memory than the namespace's net.core.optmem_max) fails with the
// kernel's reason and writes nothing.
func TestCaptureKernelRefuses(t *testing.T) {
	ns := liveNS(t, true)
	if out, err := ns.Command("sysctl", "-qw", "net.core.optmem_max=512").CombinedOutput(); err != nil {
		t.Skipf("net.core.optmem_max is not per namespace here: %v: %s", err, out)
	}
	file := filepath.Join(t.TempDir(), "out.pcap")
	var out, errb bytes.Buffer
	var code exitCode
	ns.Do(func() error {
		code = run([]string{"capture", "-i", ns.B, "-w", file, longHosts(6, -1)}, strings.NewReader(""), &out, &errb)
		return nil
	})
	const want = "bpfc: capture: veth-b: the kernel refused the filter: cannot allocate memory"
	if code != exitError || !strings.HasPrefix(errb.String(), want) || !strings.Contains(errb.String(), "optmem_max") {
		t.Errorf("exit %d, stderr %q; want exit %d and %q, naming optmem_max", code, errb.String(), exitError, want)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("%s was created", file)
	}
}

// TestCaptureStdout: -w - writes the pcap file to standard output.
func TestCaptureStdout(t *testing.T) {
	ns := liveNS(t, false)
	send := ns.Sender(t, ns.A)
	frames, want := sendFrames(t, ns, "udp")
	code, stdout, stderr := captureRun(t, ns, []string{"-i", ns.B, "-c", "2", "-w", "-", "--block-timeout", "5ms", "udp"}, netnstest.SendAll(send, frames))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if diff := cmp.Diff(want[:2], recordData(readGopacket(t, []byte(stdout)))); diff != "" {
		t.Errorf("packets on standard output (-want +got):\n%s", diff)
	}
}

// TestCaptureTrueCounts stops a capture with Ctrl-C while frames flow
// into a small ring: every packet counted as captured is in the file,
// whole and once, in the order sent, and captured + dropped never
// exceed received.
func TestCaptureTrueCounts(t *testing.T) {
	ns := liveNS(t, false)
	frameLen := len(mustUDPFrame(t, ns))
	file := filepath.Join(t.TempDir(), "out.pcap")
	var stop atomic.Bool
	var sent <-chan int
	code, _, stderr := captureRun(t, ns, []string{"-i", ns.B, "-w", file, "-B", "16", "--block-timeout", "5ms", "udp port 53"}, func() {
		sent = ns.Blast(t, &stop, 0)
		time.Sleep(300 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	})
	stop.Store(true)
	n := <-sent
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := statsRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no counts at the end of standard error:\n%s", stderr)
	}
	captured, _ := strconv.Atoi(m[1])
	received, _ := strconv.Atoi(m[2])
	dropped, _ := strconv.Atoi(m[3])
	t.Logf("sent %d frames to port 53: %d captured, %d received, %d dropped", n, captured, received, dropped)
	recs := readData(t, file)
	if len(recs) != captured || captured == 0 {
		t.Fatalf("the file holds %d packets, %d counted as captured", len(recs), captured)
	}
	if !captureUserSpaceFilter && captured+dropped > received {
		t.Errorf("captured %d + dropped %d > received %d", captured, dropped, received)
	}
	last := -1
	for i, r := range recs {
		if len(r) != frameLen || netnstest.DstPort(r) != 53 {
			t.Fatalf("packet %d: %d bytes to port %d, want %d bytes to 53", i, len(r), netnstest.DstPort(r), frameLen)
		}
		seq := int(netnstest.Seq(r))
		if seq <= last {
			t.Fatalf("packet %d has sequence number %d after %d", i, seq, last)
		}
		last = seq
	}
}

// mustUDPFrame is netnstest.UDPFrame from A to B, to port 53.
func mustUDPFrame(t *testing.T, ns *netnstest.NS) []byte {
	t.Helper()
	f, err := netnstest.UDPFrame(ns.MACA, ns.MACB, 53, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readGopacket reads a pcap file with gopacket's pcapgo, checking that
// every packet is whole (captured length = wire length = its bytes).
func readGopacket(t *testing.T, file []byte) []tcpdumpRecord {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("not a pcap file: %v", err)
	}
	var out []tcpdumpRecord
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return out
		}
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			t.Errorf("packet %d: lengths %d/%d for %d bytes", len(out)+1, ci.CaptureLength, ci.Length, len(data))
		}
		ts := ci.Timestamp.UTC()
		out = append(out, tcpdumpRecord{fmt.Sprintf("%d.%06d", ts.Unix(), ts.Nanosecond()/1000), data})
	}
}

// tcpdumpRecord is a packet as tcpdump -r -tt -xx prints it.
type tcpdumpRecord struct {
	Time string // seconds.microseconds
	Data []byte
}

// tcpdumpRead reads a capture file with tcpdump -r.
func tcpdumpRead(t *testing.T, file string) []tcpdumpRecord {
	t.Helper()
	out, err := exec.Command("tcpdump", "-r", file, "-tt", "-nn", "-xx").Output()
	if err != nil {
		t.Fatalf("tcpdump -r: %v", err)
	}
	var recs []tcpdumpRecord
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "\t0x"):
			_, hexes, _ := strings.Cut(line, ":")
			b, err := hex.DecodeString(strings.Join(strings.Fields(hexes), ""))
			if err != nil || len(recs) == 0 {
				t.Fatalf("tcpdump line %q: %v", line, err)
			}
			recs[len(recs)-1].Data = append(recs[len(recs)-1].Data, b...)
		case line != "":
			ts, _, _ := strings.Cut(line, " ")
			recs = append(recs, tcpdumpRecord{Time: ts})
		}
	}
	return recs
}

// TestCaptureReadBack: gopacket and tcpdump -r read the same packets,
// with the same timestamps, from the file bpfc capture writes, and they
// are the frames sent.
func TestCaptureReadBack(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("needs tcpdump")
	}
	ns := liveNS(t, false)
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	sent := netnstest.Data(frames)
	for _, nano := range []bool{false, true} {
		t.Run(fmt.Sprintf("nano=%v", nano), func(t *testing.T) {
			send := ns.Sender(t, ns.A)
			file := filepath.Join(t.TempDir(), "out.pcap")
			args := []string{"-i", ns.B, "-w", file, "-c", strconv.Itoa(len(sent)), "--block-timeout", "5ms"}
			if nano {
				args = append(args, "--nano")
			}
			code, _, stderr := captureRun(t, ns, args, func() {
				for _, f := range sent {
					send.Send(f)
				}
			})
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			viaGopacket := readGopacket(t, b)
			if diff := cmp.Diff(sent, recordData(viaGopacket)); diff != "" {
				t.Errorf("gopacket's packets (-sent +read):\n%s", diff)
			}
			if diff := cmp.Diff(viaGopacket, tcpdumpRead(t, file)); diff != "" {
				t.Errorf("gopacket (-) and tcpdump -r (+) read different packets:\n%s", diff)
			}
		})
	}
}

func recordData(rs []tcpdumpRecord) [][]byte {
	var out [][]byte
	for _, r := range rs {
		out = append(out, r.Data)
	}
	return out
}

// longSample are addresses to send frames to and from, for a filter of
// longHosts(1600, 800, "host 10.0.0.3"): its first host, the last two
// before the extra term, the first after it, its last, and two not in
// it.
var longSample = []net.IP{longHost(0), longHost(798), longHost(799), longHost(800), longHost(1599), longHost(1600), {10, 0, 0, 9}}

// longExpr returns longHosts(1600, 800, "host 10.0.0.3"), checking that
// it is too long for one classic program: else the tests that use it
// would not test what --ebpf does with such filters.
func longExpr(t *testing.T) string {
	t.Helper()
	expr := longHosts(1600, 800, "host 10.0.0.3")
	if _, err := bpfc.Compile(expr); !errors.Is(err, codegen.ErrTooLong) {
		t.Fatalf("the 1,601 hosts compile to %v, not ErrTooLong: make the test's filter longer", err)
	}
	return expr
}

// longSampleProgram is longHosts(1600, 800, "host 10.0.0.3") as far as
// frames between the addresses of longSample and those of
// netnstest.Frames can tell: the hosts of both that it lists.
func longSampleProgram(t *testing.T) *cbpf.Program {
	t.Helper()
	p, err := bpfc.Compile(fmt.Sprintf("host 10.0.0.3 or host %v or host %v or host %v or host %v or host %v",
		longHost(0), longHost(798), longHost(799), longHost(800), longHost(1599)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCaptureEBPFLong: an 'or' of 1,600 hosts, too long for a classic
// program, runs with --ebpf as one eBPF program, and keeps the frames
// to and from the hosts listed: the first, one at the cut between the
// parts, the last, and one put in the middle.
func TestCaptureEBPFLong(t *testing.T) {
	ns := liveNS(t, true)
	if err := ebpf.Supported(); err != nil {
		t.Skip(err)
	}
	exprFile := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(exprFile, []byte(longExpr(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	sent := netnstest.Data(frames)
	for i, ip := range longSample {
		f, err := netnstest.UDPFrameIP(ns.MACA, ns.MACB, net.IP{10, 0, 0, 1}, ip, 9, uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, f)
	}
	vm, err := cbpf.NewVM(longSampleProgram(t))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, f := range sent {
		if vm.Run(f, len(f)) != 0 {
			want = append(want, f)
		}
	}
	got := captureSent(t, ns, ns.B, []string{"--ebpf", "-F", exprFile}, sent, nil)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packets kept (-want +got):\n%s", diff)
	}
}

// TestLongEBPF runs the eBPF program --ebpf makes of a filter too long
// for a classic one in the kernel (a test run per packet, loaded as a TC
// classifier, which runs the same code): it keeps what the filter keeps,
// with the same return value.
func TestLongEBPF(t *testing.T) {
	testenv.RequireKernelBPF(t)
	if err := ebpf.Supported(); err != nil {
		t.Skip(err)
	}
	a, b := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	frames, err := netnstest.Frames(a, b)
	if err != nil {
		t.Fatal(err)
	}
	pkts := netnstest.Data(frames)
	for i, ip := range longSample {
		f, err := netnstest.UDPFrameIP(a, b, ip, net.IP{10, 0, 0, 9}, 9, uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, f)
	}
	long, err := longEBPF(longExpr(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		insns asm.Instructions
		want  *cbpf.Program
	}{
		{"long", long, longSampleProgram(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A socket filter's test run starts the packet at its
			// network header; a TC classifier's sees it whole, as a
			// socket filter does on a live socket.
			prog, err := ebpf.Load(ebpf.SchedCLS, tc.insns)
			if err != nil {
				t.Fatal(err)
			}
			defer prog.Close()
			vm, err := cbpf.NewVM(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			kept := 0
			for i, p := range pkts {
				got, err := prog.Run(p, len(p))
				if err != nil {
					t.Fatal(err)
				}
				if want := vm.Run(p, len(p)); got != want {
					t.Errorf("packet %d: the eBPF program returns %d, the classic 'or' %d", i, got, want)
				}
				if got != 0 {
					kept++
				}
			}
			if kept == 0 || kept == len(pkts) {
				t.Errorf("%d of %d packets kept: the test tells nothing", kept, len(pkts))
			}
		})
	}
}
