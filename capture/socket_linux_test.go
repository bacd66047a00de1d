package capture_test

import (
	"github.com/bpfc/bpfc/internal/testenv"

	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/capture"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/internal/netnstest"
)

// testConfig is a small ring with a short block timeout, so that tests
// see packets quickly.
var testConfig = capture.Config{BlockSize: 64 << 10, NumBlocks: 8, BlockTimeout: 5 * time.Millisecond}

// userSpace is set when filters cannot be attached to sockets here:
// tests then filter in user space (Config.UserSpaceFilter) and say so.
var userSpace bool

// kernelFilters reports whether filters can be attached to sockets.
func kernelFilters(t *testing.T) bool {
	if err := testenv.KernelCaptureTests(); err != nil {
		userSpace = true
		t.Cleanup(func() { userSpace = false })
		t.Logf("filters run in user space: %v", err)
		return false
	}
	return true
}

// openIn opens a capture on iface inside the namespace, with the filter
// expr attached, and closes it when the test ends.
func openIn(t *testing.T, ns *netnstest.NS, iface, expr string, cfg capture.Config) *capture.Socket {
	t.Helper()
	var s *capture.Socket
	cfg.UserSpaceFilter = userSpace
	err := ns.Do(func() error {
		var err error
		s, err = capture.Open(iface, &cfg)
		return err
	})
	if err != nil {
		t.Fatalf("open %s: %v", iface, err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := bpfc.Compile(expr, bpfc.WithLinkType(s.LinkType()))
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	if err := s.SetFilter(p); err != nil {
		t.Fatalf("attach %q: %v", expr, err)
	}
	return s
}

// collector reads a socket in the background.
type collector struct {
	s    *capture.Socket
	mu   sync.Mutex
	got  [][]byte
	info []capture.Info
	err  error
	done chan struct{}
}

func collect(t *testing.T, s *capture.Socket) *collector {
	c := &collector{s: s, done: make(chan struct{})}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		for {
			p, err := s.Next()
			if err != nil {
				if err != io.EOF {
					c.err = err
				}
				return
			}
			c.mu.Lock()
			c.got = append(c.got, append([]byte{}, p.Data...))
			c.info = append(c.info, p.Info)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(c.stop)
	return c
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// wait waits until n packets arrived (or 5 seconds passed), then a
// little longer for any extra ones, and stops the reader. (Generous: the
// machine may be busy with other packages' tests, and waiting longer
// costs nothing when the packets come.)
func (c *collector) wait(n int) [][]byte { return c.waitFor(n, 5*time.Second) }

// waitFor is wait with a deadline of d.
func (c *collector) waitFor(n int, d time.Duration) [][]byte {
	deadline := time.Now().Add(d)
	for c.count() < n && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	c.stop()
	return c.got
}

func (c *collector) stop() {
	c.s.Stop()
	<-c.done
}

// kernelKeeps runs a live program as the kernel runs it on frame f
// arriving on the receiving veth.
// With filters in user space, they see the frame with its tag.
func kernelKeeps(t *testing.T, vm *cbpf.VM, f netnstest.Frame, ifindex int, inKernel bool) bool {
	data, tci, tpid := f.KernelView()
	if !inKernel {
		data, tci, tpid = f.Data, 0, 0
		f.VLAN = false
	}
	meta := cbpf.Metadata{
		Protocol: binary.BigEndian.Uint16(data[12:]), PktType: f.PktType, IfIndex: uint32(ifindex),
		HAType: 1, VLANPresent: f.VLAN, VLANTCI: tci, VLANProto: tpid, NetworkOffset: 14,
	}
	return vm.RunMeta(data, len(data), &meta) != 0
}

func names(frames []netnstest.Frame, got [][]byte) []string {
	var out []string
	for _, g := range got {
		name := "unknown frame"
		for _, f := range frames {
			if bytes.Equal(f.Data, g) {
				name = f.Name
			}
		}
		out = append(out, name)
	}
	return out
}

// TestCaptureFilters sends a set of frames through a veth pair for each
// filter: the frames captured are exactly those the interpreter keeps,
// byte for byte and in order.
func TestCaptureFilters(t *testing.T) {
	ns := netnstest.New(t)
	inKernel := kernelFilters(t)
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	send := ns.Sender(t, ns.A)
	for _, expr := range []string{
		"",
		"udp",
		"tcp port 80",
		"udp port 53 or arp",
		"ip6",
		"icmp",
		"not ip",
		"ether src " + ns.MACA.String(),
		"ether dst " + ns.MACB.String(),
		"ether broadcast",
		"host 10.0.0.3",
		"greater 200",
		"inbound",
		"ifindex " + strconv.Itoa(ns.IndexB),
		"udp and not port 53",
		"tcp[tcpflags] & tcp-syn != 0",
	} {
		t.Run(expr, func(t *testing.T) {
			s := openIn(t, ns, ns.B, expr, testConfig)
			p, err := bpfc.Compile(expr, bpfc.WithLinkType(cbpf.LinkEN10MB))
			if err != nil {
				t.Fatal(err)
			}
			vm, err := cbpf.NewVM(p)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range frames {
				if kernelKeeps(t, vm, f, ns.IndexB, inKernel) {
					want = append(want, f.Name)
				}
			}
			c := collect(t, s)
			for _, f := range frames {
				if err := send.Send(f.Data); err != nil {
					t.Fatal(err)
				}
			}
			got := names(frames, c.wait(len(want)))
			if c.err != nil {
				t.Fatal(c.err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames captured (-want +got):\n%s", diff)
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			recv := len(got)
			if !inKernel {
				recv = len(frames)
			}
			if st.Captured != uint64(len(got)) || st.Received != uint64(recv) || st.Dropped != 0 {
				t.Errorf("stats %+v, want %d captured, %d received, none dropped", st, len(got), recv)
			}
		})
	}
}

// TestNoLeakBeforeFilter opens sockets again and again while traffic
// flows: no frame the filter rejects is ever captured, not even one sent
// while the socket was being set up.
func TestNoLeakBeforeFilter(t *testing.T) {
	ns := netnstest.New(t)
	if !kernelFilters(t) {
		t.Skip("needs filters in the kernel")
	}
	var stop atomic.Bool
	sent := ns.Blast(t, &stop, 50*time.Microsecond)
	defer func() { stop.Store(true); <-sent }()
	total := 0
	for i := 0; i < 20; i++ {
		s := openIn(t, ns, ns.B, "udp port 53", testConfig)
		c := collect(t, s)
		time.Sleep(20 * time.Millisecond)
		c.stop()
		for _, g := range c.got {
			if p := netnstest.DstPort(g); p != 53 {
				t.Fatalf("round %d: captured a frame to port %d", i, p)
			}
		}
		total += len(c.got)
		s.Close()
	}
	if total == 0 {
		t.Fatal("nothing captured: the traffic did not flow")
	}
}

// TestReplaceFilter replaces a filter on a running socket: after
// SetFilter returns, no frame the old filter accepted is returned.
func TestReplaceFilter(t *testing.T) {
	ns := netnstest.New(t)
	if !kernelFilters(t) {
		t.Skip("needs filters in the kernel")
	}
	var stop atomic.Bool
	sent := ns.Blast(t, &stop, 50*time.Microsecond)
	defer func() { stop.Store(true); <-sent }()
	s := openIn(t, ns, ns.B, "udp port 53", testConfig)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		p, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if netnstest.DstPort(p.Data) != 53 {
			t.Fatalf("before: captured a frame to port %d", netnstest.DstPort(p.Data))
		}
	}
	p54, err := bpfc.Compile("udp port 54")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetFilter(p54); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		p, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if netnstest.DstPort(p.Data) != 54 {
			t.Fatalf("after %d packets: captured a frame to port %d", i, netnstest.DstPort(p.Data))
		}
	}
}

// TestAnyCooked captures on "any": LINUX_SLL2 packets whose header says
// which interface and direction, each frame seen leaving A and entering B.
func TestAnyCooked(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	s := openIn(t, ns, "any", "udp port 53 and ip", testConfig)
	if s.LinkType() != cbpf.LinkLinuxSLL2 {
		t.Fatalf("link type %v, want LINUX_SLL2", s.LinkType())
	}
	c := collect(t, s)
	send := ns.Sender(t, ns.A)
	f, err := netnstest.UDPFrame(ns.MACA, ns.MACB, 53, 7)
	if err != nil {
		t.Fatal(err)
	}
	g, err := netnstest.UDPFrame(ns.MACA, ns.MACB, 54, 8)
	if err != nil {
		t.Fatal(err)
	}
	send.Send(g)
	send.Send(f)
	got := c.wait(2)
	if len(got) != 2 {
		t.Fatalf("captured %d packets, want 2 (out of A, into B)", len(got))
	}
	type view struct {
		Proto   uint16
		IfIndex uint32
		PktType uint8
		Payload []byte
	}
	var gv []view
	for _, p := range got {
		gv = append(gv, view{binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[4:]), p[10], p[20:]})
	}
	want := []view{{0x0800, uint32(ns.IndexA), 4, f[14:]}, {0x0800, uint32(ns.IndexB), 0, f[14:]}}
	if diff := cmp.Diff(want, gv); diff != "" {
		t.Errorf("cooked packets (-want +got):\n%s", diff)
	}
	for i, in := range c.info {
		if in.Len != len(f)-14+20 || in.CapLen != in.Len {
			t.Errorf("packet %d: lengths %d/%d, want %d", i, in.CapLen, in.Len, len(f)-14+20)
		}
	}
}

// TestDirection checks -Q in and -Q out on veth A, which sends.
func TestDirection(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	for _, tc := range []struct {
		dir  capture.Direction
		want int
	}{{capture.In, 0}, {capture.Out, 3}, {capture.InOut, 3}} {
		t.Run(tc.dir.String(), func(t *testing.T) {
			cfg := testConfig
			cfg.Direction = tc.dir
			s := openIn(t, ns, ns.A, "udp", cfg)
			c := collect(t, s)
			send := ns.Sender(t, ns.A)
			for i := range 3 {
				f, _ := netnstest.UDPFrame(ns.MACA, ns.MACB, 53, uint32(i))
				send.Send(f)
			}
			if got := len(c.wait(tc.want)); got != tc.want {
				t.Errorf("captured %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOpenErrors: a missing interface, one that is down.
func TestOpenErrors(t *testing.T) {
	ns := netnstest.New(t)
	// A second veth pair, left down.
	if out, err := exec.Command("ip", "-n", ns.Name, "link", "add", "down-a", "type", "veth", "peer", "name", "down-b").CombinedOutput(); err != nil {
		t.Fatalf("veth pair: %v: %s", err, out)
	}
	for _, tc := range []struct {
		iface string
		want  error
	}{{"nosuch0", capture.ErrNoInterface}, {"down-a", capture.ErrInterfaceDown}, {"", capture.ErrNoInterface}} {
		err := ns.Do(func() error {
			s, err := capture.Open(tc.iface, nil)
			if err == nil {
				s.Close()
			}
			return err
		})
		if !errors.Is(err, tc.want) {
			t.Errorf("Open(%q) = %v, want %v", tc.iface, err, tc.want)
		}
	}
}

// TestFilterRefused: a program the kernel's rules refuse, and one too
// long for a classic filter.
func TestFilterRefused(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	var s *capture.Socket
	cfg := testConfig
	cfg.UserSpaceFilter = userSpace
	if err := ns.Do(func() (err error) { s, err = capture.Open(ns.B, &cfg); return }); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad := &cbpf.Program{LinkType: cbpf.LinkEN10MB, Instructions: []bpf.Instruction{
		bpf.LoadScratch{Dst: bpf.RegA, N: 3}, // a cell never written
		bpf.RetA{},
	}}
	if err := s.SetFilter(bad); !errors.Is(err, capture.ErrFilterRefused) {
		t.Errorf("SetFilter(uninitialised cell) = %v, want ErrFilterRefused", err)
	}
	long := &cbpf.Program{LinkType: cbpf.LinkEN10MB}
	for range cbpf.MaxInstructions {
		long.Instructions = append(long.Instructions, bpf.LoadExtension{Num: bpf.ExtLen})
	}
	long.Instructions = append(long.Instructions, bpf.RetA{})
	if err := s.SetFilter(long); !errors.Is(err, capture.ErrProgramTooLong) {
		t.Errorf("SetFilter(4097 instructions) = %v, want ErrProgramTooLong", err)
	}
}

// waitFor polls cond until it holds, failing the test (not timing it)
// if it still does not after a long while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStatsDrops fills a two-block ring without reading it: the kernel
// drops what does not fit and says so, and what was captured is the
// first frames, in order, so that captured + dropped = received.
func TestStatsDrops(t *testing.T) {
	ns := netnstest.New(t)
	if !kernelFilters(t) {
		t.Skip("needs filters in the kernel: in user space, the kernel counts frames before the filter")
	}
	cfg := capture.Config{BlockSize: 4096, NumBlocks: 2, BlockTimeout: 5 * time.Millisecond}
	s := openIn(t, ns, ns.B, "udp port 53", cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	send := ns.Sender(t, ns.A)
	const n = 400
	for i := range n {
		for _, port := range []int{53, 54} {
			f, err := netnstest.UDPFrame(ns.MACA, ns.MACB, port, uint32(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := send.Send(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	var st capture.Stats
	waitFor(t, "the kernel to count every frame", func() bool {
		var err error
		if st, err = s.Stats(); err != nil {
			t.Fatal(err)
		}
		return st.Received >= n
	})
	t.Logf("stats after sending: %+v", st)
	if st.Received != n || st.Dropped == 0 || st.FreezeCount == 0 {
		t.Fatalf("stats %+v: want %d received, some dropped, the queue frozen", st, n)
	}
	inRing := int(st.Received - st.Dropped)
	var seqs []uint32
	for len(seqs) < inRing {
		p, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if netnstest.DstPort(p.Data) != 53 {
			t.Fatalf("captured a frame to port %d", netnstest.DstPort(p.Data))
		}
		seqs = append(seqs, netnstest.Seq(p.Data))
	}
	for i, q := range seqs {
		if q != uint32(i) {
			t.Fatalf("packet %d has sequence number %d: the ring did not keep the first frames in order", i, q)
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Captured != uint64(len(seqs)) || st.Captured+st.Dropped != st.Received {
		t.Errorf("stats %+v after reading %d packets: want captured + dropped = received", st, len(seqs))
	}
}

// TestSnaplen: the kernel cuts packets to the snapshot length, and a
// VLAN tag put back counts in it; the wire length stays whole.
func TestSnaplen(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	frames, err := netnstest.Frames(ns.MACA, ns.MACB)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig
	cfg.Snaplen = 64
	s := openIn(t, ns, ns.B, "", cfg)
	c := collect(t, s)
	send := ns.Sender(t, ns.A)
	for _, f := range frames {
		send.Send(f.Data)
	}
	got := c.wait(len(frames))
	if len(got) != len(frames) {
		t.Fatalf("captured %d packets, want %d", len(got), len(frames))
	}
	for i, f := range frames {
		want := f.Data[:min(64, len(f.Data))]
		if !bytes.Equal(got[i], want) || c.info[i].CapLen != len(want) || c.info[i].Len != len(f.Data) {
			t.Errorf("%s: captured %d of %d bytes (%x), want %d of %d (%x)", f.Name, c.info[i].CapLen, c.info[i].Len, got[i], len(want), len(f.Data), want)
		}
	}
}

// promiscuity returns the interface's promiscuity count (ip -d link).
func promiscuity(t *testing.T, ns *netnstest.NS, iface string) string {
	t.Helper()
	out, err := exec.Command("ip", "-d", "-n", ns.Name, "link", "show", iface).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link: %v: %s", err, out)
	}
	m := regexp.MustCompile(`promiscuity (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no promiscuity in: %s", out)
	}
	return string(m[1])
}

// TestPromiscuous: the interface is promiscuous while the socket is open
// with Config.Promiscuous, and not after.
func TestPromiscuous(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	if got := promiscuity(t, ns, ns.B); got != "0" {
		t.Fatalf("promiscuity %s before the capture, want 0", got)
	}
	cfg := testConfig
	cfg.Promiscuous = true
	s := openIn(t, ns, ns.B, "", cfg)
	if got := promiscuity(t, ns, ns.B); got != "1" {
		t.Errorf("promiscuity %s during the capture, want 1", got)
	}
	s.Close()
	if got := promiscuity(t, ns, ns.B); got != "0" {
		t.Errorf("promiscuity %s after the capture, want 0", got)
	}
}

// TestInterfaceGone: a capture whose interface goes down, or is
// removed, ends with ErrInterfaceDown rather than waiting for ever.
func TestInterfaceGone(t *testing.T) {
	for _, how := range [][]string{{"set", "veth-b", "down"}, {"del", "veth-b"}} {
		t.Run(how[0], func(t *testing.T) {
			ns := netnstest.New(t)
			kernelFilters(t)
			s := openIn(t, ns, ns.B, "", testConfig)
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				for {
					if _, err := s.Next(); err != nil {
						errc <- err
						return
					}
				}
			}()
			if out, err := exec.Command("ip", append([]string{"-n", ns.Name, "link"}, how...)...).CombinedOutput(); err != nil {
				t.Fatalf("ip link %v: %v: %s", how, err, out)
			}
			select {
			case err := <-errc:
				if !errors.Is(err, capture.ErrInterfaceDown) {
					t.Errorf("Next = %v, want ErrInterfaceDown", err)
				}
			case <-time.After(10 * time.Second):
				s.Stop()
				t.Fatalf("Next still waits after ip link %v", how)
			}
		})
	}
}

// TestNoPermission: without CAP_NET_RAW, Open says which capability it
// needs.
func TestNoPermission(t *testing.T) {
	ns := netnstest.New(t)
	err := ns.DoUnprivileged(func() error {
		s, err := capture.Open(ns.B, nil)
		if err == nil {
			s.Close()
		}
		return err
	})
	if !errors.Is(err, capture.ErrPermission) || !strings.Contains(err.Error(), "CAP_NET_RAW") {
		t.Errorf("Open without capabilities = %v, want ErrPermission naming CAP_NET_RAW", err)
	}
}

// TestKernelRefuses: a filter the kernel itself refuses (here, more
// socket memory than the namespace's net.core.optmem_max allows) is
// ErrFilterRefused with the kernel's reason.
func TestKernelRefuses(t *testing.T) {
	ns := netnstest.New(t)
	if !kernelFilters(t) {
		t.Skip("needs filters in the kernel")
	}
	if out, err := ns.Command("sysctl", "-qw", "net.core.optmem_max=512").CombinedOutput(); err != nil {
		t.Skipf("net.core.optmem_max is not per namespace here: %v: %s", err, out)
	}
	var s *capture.Socket
	if err := ns.Do(func() (err error) { s, err = capture.Open(ns.B, &testConfig); return }); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := bpfc.Compile("host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4 or host 10.0.0.5 or host 10.0.0.6")
	if err != nil {
		t.Fatal(err)
	}
	err = s.SetFilter(p)
	if !errors.Is(err, capture.ErrFilterRefused) || !errors.Is(err, unix.ENOMEM) || !strings.Contains(err.Error(), "optmem_max") {
		t.Errorf("SetFilter = %v, want ErrFilterRefused for ENOMEM, naming optmem_max", err)
	}
}

// TestLoopbackOnce: a datagram sent on the loopback interface is seen
// once, as received, as libpcap shows it (the kernel hands a packet
// socket both the sent and the received copy); on "any" too. -Q out
// sees nothing there, as with tcpdump.
func TestLoopbackOnce(t *testing.T) {
	ns := netnstest.New(t)
	kernelFilters(t)
	if out, err := exec.Command("ip", "-n", ns.Name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	for _, tc := range []struct {
		iface string
		dir   capture.Direction
		want  int
	}{{"lo", capture.InOut, 3}, {"lo", capture.In, 3}, {"lo", capture.Out, 0}, {"any", capture.InOut, 3}} {
		t.Run(tc.iface+"/"+tc.dir.String(), func(t *testing.T) {
			cfg := testConfig
			cfg.Direction = tc.dir
			s := openIn(t, ns, tc.iface, "udp dst port 9999", cfg)
			c := collect(t, s)
			err := ns.Do(func() error {
				conn, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer conn.Close()
				to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9999}
				for i := range 3 {
					if _, err := conn.WriteTo([]byte{byte(i)}, to); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Wait for one more than expected: a second copy would show
			// (for a second: the expected ones came long before).
			if got := len(c.waitFor(tc.want+1, time.Second)); got != tc.want {
				t.Errorf("captured %d, want %d", got, tc.want)
			}
		})
	}
}
