//go:build linux

package main

import (
	"github.com/bpfc/bpfc/internal/testenv"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/netnstest"
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
	code, _, stderr := captureRun(t, ns, []string{"-i", ns.B, "-c", "3", "-w", file, "--block-timeout", "5ms", expr}, func() {
		for _, f := range frames {
			send.Send(f.Data)
		}
	})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if m := statsRE.FindStringSubmatch(stderr); m == nil || m[1] != "3" || m[3] != "0" {
		t.Errorf("standard error does not end with the counts (3 captured, none dropped):\n%s", stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			t.Errorf("packet %d: lengths %d/%d for %d bytes", len(got)+1, ci.CaptureLength, ci.Length, len(data))
		}
		got = append(got, data)
	}
	if diff := cmp.Diff(want[:3], got); diff != "" {
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
	code, stdout, stderr := captureRun(t, ns, []string{"-i", ns.B, "-c", "1", "--block-timeout", "5ms", "tcp", "port", "80"}, func() {
		for _, f := range frames {
			send.Send(f.Data)
		}
	})
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
	send := ns.Sender(t, ns.A)
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bpfc.pcap")
	args = append([]string{"-i", ns.B, "-w", file, "--block-timeout", "5ms"}, args...)
	code, _, stderr := captureRun(t, ns, args, func() {
		if also != nil {
			also()
		}
		for _, f := range frames {
			send.Send(f.Data)
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
// classic filter.
func TestCaptureEBPF(t *testing.T) {
	ns := liveNS(t, true)
	if err := ebpf.Supported(); err != nil {
		t.Skip(err)
	}
	for _, expr := range sideExprs {
		t.Run(expr, func(t *testing.T) {
			classic := captureFrames(t, ns, []string{expr}, nil)
			translated := captureFrames(t, ns, []string{"--ebpf", expr}, nil)
			if diff := cmp.Diff(classic, translated); diff != "" {
				t.Errorf("classic (-) and eBPF (+) kept different packets:\n%s", diff)
			}
		})
	}
}
