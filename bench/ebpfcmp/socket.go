package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/bpfc/bpfc/ebpf"
)

// paths are the network of the socket measurements: lo (up, for the
// XDP holder) and, per filter being compared, a veth pair whose far end
// has k packet sockets bound to it, each with that filter. A frame sent
// into a pair runs the filters of its k sockets only, so the filters
// stay attached for the whole of a row and the measurements of the three
// can be interleaved finely. (Swapping filters would mean converting the
// classic program again; binding and closing packet sockets each cost
// an RCU grace period.)
type paths struct {
	lo    int // lo's interface index
	paths []*path
}

// path is one veth pair, its sender and its k receivers.
type path struct {
	name string
	send int   // packet socket bound to the near end
	fds  []int // packet sockets bound to the far end
}

const ethPAll = 0x0300 // htons(ETH_P_ALL)

// newPaths sets up n veth pairs with k receivers each in this thread's
// network namespace. The receivers get a reject-all filter before they
// are bound, so that nothing is queued; they ignore frames sent from
// their end (PACKET_IGNORE_OUTGOING) and have the smallest receive
// buffer, so that once it is full a frame the filter accepts is dropped
// right after it.
func newPaths(n, k int) (*paths, error) {
	// No IPv6 on the new links: the kernel then sends nothing of its own.
	for _, f := range []string{"all", "default"} {
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f+"/disable_ipv6", []byte("1"), 0); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	up := func(name string) (int, error) {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return 0, err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return 0, fmt.Errorf("%s flags: %w", name, err)
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return 0, fmt.Errorf("%s up: %w", name, err)
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
			return 0, fmt.Errorf("%s index: %w", name, err)
		}
		return int(ifr.Uint32()), nil
	}
	ps := &paths{}
	if ps.lo, err = up("lo"); err != nil {
		return nil, err
	}
	reject := []bpf.RawInstruction{{Op: 0x06, K: 0}} // ret #0
	for i := range n {
		near, far := fmt.Sprintf("bpfc%da", i), fmt.Sprintf("bpfc%db", i)
		// ip runs in this thread's namespace: a child inherits it.
		if out, err := exec.Command("ip", "link", "add", near, "mtu", "65535", "type", "veth", "peer", "name", far, "mtu", "65535").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip link add: %v: %s", err, out)
		}
		nearIdx, err := up(near)
		if err != nil {
			return nil, err
		}
		farIdx, err := up(far)
		if err != nil {
			return nil, err
		}
		p := &path{name: far}
		ps.paths = append(ps.paths, p)
		if p.send, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
			return nil, fmt.Errorf("packet socket: %w", err)
		}
		if err := unix.Bind(p.send, &unix.SockaddrLinklayer{Ifindex: nearIdx}); err != nil {
			return nil, fmt.Errorf("bind sender: %w", err)
		}
		for range k {
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("packet socket: %w", err)
			}
			p.fds = append(p.fds, fd)
			if err := attachClassic(fd, reject); err != nil {
				return nil, err
			}
			if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
				return nil, fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
			}
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 0); err != nil {
				return nil, fmt.Errorf("SO_RCVBUF: %w", err)
			}
			if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPAll, Ifindex: farIdx}); err != nil {
				return nil, fmt.Errorf("bind packet socket: %w", err)
			}
		}
	}
	return ps, nil
}

// attachClassic attaches a classic program to every receiver: the
// kernel converts (and JIT-compiles) it once per socket.
func (p *path) attachClassic(raw []bpf.RawInstruction) error {
	for _, fd := range p.fds {
		if err := attachClassic(fd, raw); err != nil {
			return err
		}
	}
	return nil
}

// attachEBPF attaches one loaded socket filter to every receiver.
func (p *path) attachEBPF(prog *ebpf.Program) error {
	for _, fd := range p.fds {
		if err := ebpf.AttachSocket(fd, prog); err != nil {
			return err
		}
	}
	return nil
}

// kept reads and resets a socket's count of frames its filter accepted.
func kept(fd int) (int, error) {
	st, err := unix.GetsockoptTpacketStats(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return 0, fmt.Errorf("PACKET_STATISTICS: %w", err)
	}
	return int(st.Packets), nil // queued, or dropped at the full buffer
}

// reset clears the receivers' counts.
func (p *path) reset() error {
	for _, fd := range p.fds {
		if _, err := kept(fd); err != nil {
			return err
		}
	}
	return nil
}

// time sends the frames through the path and returns the CPU time it
// took.
func (p *path) time(frames [][]byte) (time.Duration, error) {
	start := threadTime()
	for _, f := range frames {
		n, err := unix.Write(p.send, f)
		if err != nil {
			return 0, fmt.Errorf("send %d-byte frame: %w", len(f), err)
		}
		if n != len(f) {
			return 0, errors.New("short send")
		}
	}
	return threadTime() - start, nil
}

// keptEach checks that every receiver's filter accepted want frames
// since the last reset.
func (p *path) keptEach(want int) error {
	for _, fd := range p.fds {
		n, err := kept(fd)
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("on %s a filter kept %d frames, the interpreter %d", p.name, n, want)
		}
	}
	return nil
}

// threadTime is the CPU time of the calling thread. Without
// CONFIG_IRQ_TIME_ACCOUNTING, the softirq work its system calls set off
// (the receive path, where the filters run) is counted in it; the time
// other tasks take the CPU is not.
func threadTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// xdpHold keeps an XDP program attached to lo in generic mode, which
// puts it in the kernel's XDP dispatcher: then a test run with repeats
// finds it there and does not install it itself, which costs two RCU
// grace periods per call. The test run measures the same loop either
// way (the program called directly by the dispatcher).
type xdpHold struct{ l link.Link }

func holdXDP(ifindex int, p *ebpf.Program) (*xdpHold, error) {
	cp, err := ciliumProgram(p)
	if err != nil {
		return nil, err
	}
	defer cp.Close()
	l, err := link.AttachXDP(link.XDPOptions{Program: cp, Interface: ifindex, Flags: link.XDPGenericMode})
	if err != nil {
		return nil, fmt.Errorf("attach XDP to lo: %w", err)
	}
	return &xdpHold{l}, nil
}

// swap attaches p in place of the program held.
func (h *xdpHold) swap(p *ebpf.Program) error {
	cp, err := ciliumProgram(p)
	if err != nil {
		return err
	}
	defer cp.Close()
	if err := h.l.Update(cp); err != nil {
		return fmt.Errorf("replace XDP program on lo: %w", err)
	}
	return nil
}

func (h *xdpHold) close() { h.l.Close() }

// ciliumProgram is p as a cilium/ebpf program, on a file descriptor of
// its own.
func ciliumProgram(p *ebpf.Program) (*cebpf.Program, error) {
	fd, err := unix.FcntlInt(uintptr(p.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup program: %w", err)
	}
	cp, err := cebpf.NewProgramFromFD(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return cp, nil
}
