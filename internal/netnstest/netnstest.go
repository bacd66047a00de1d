//go:build linux

package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// NS is a network namespace holding a veth pair A <-> B, both up.
type NS struct {
	Name           string // the namespace's name under /run/netns
	A, B           string // the veth ends' names
	MACA, MACB     net.HardwareAddr
	IndexA, IndexB int
}

// Available returns why the namespace tests cannot run here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, AF_PACKET sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("needs iproute2's ip command")
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return errors.New("the kernel has no network namespaces")
	}
	return nil
}

// New makes a namespace with a veth pair and removes it when the test
// ends (removing the namespace removes the pair). It skips the test,
// with the reason, when that is not possible here.
func New(t testing.TB) *NS {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	n := &NS{Name: "bpfc-test-" + hex.EncodeToString(rnd[:]), A: "veth-a", B: "veth-b"}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("remove namespace %s: %v: %s", n.Name, err, out)
		}
	})
	for _, args := range [][]string{
		{"netns", "exec", n.Name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"},
		{"-n", n.Name, "link", "add", n.A, "type", "veth", "peer", "name", n.B},
		{"-n", n.Name, "link", "set", n.A, "up"},
		{"-n", n.Name, "link", "set", n.B, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	err := n.Do(func() error {
		a, err := net.InterfaceByName(n.A)
		if err != nil {
			return err
		}
		b, err := net.InterfaceByName(n.B)
		if err != nil {
			return err
		}
		n.MACA, n.MACB, n.IndexA, n.IndexB = a.HardwareAddr, b.HardwareAddr, a.Index, b.Index
		return nil
	})
	if err != nil {
		t.Fatalf("veth pair: %v", err)
	}
	return n
}

// Do runs f on an OS thread switched into the namespace and returns its
// error. The thread is thrown away afterwards.
func (n *NS) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the goroutine exits locked, which ends the
		// thread rather than returning it, in this namespace, to the pool.
		fd, err := unix.Open("/run/netns/"+n.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", n.Name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", n.Name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// DoUnprivileged runs f as Do does, on a thread that has, besides,
// given up every capability (effective, permitted and inheritable): as
// a process without root's powers would run, though its user is still
// root. Only f's own goroutine runs on that thread; goroutines it starts
// do not.
func (n *NS) DoUnprivileged(f func() error) error {
	return n.Do(func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var none [2]unix.CapUserData
		if err := unix.Capset(&hdr, &none[0]); err != nil {
			return fmt.Errorf("drop capabilities: %w", err)
		}
		return f()
	})
}

// Command returns a command that runs in the namespace
// (`ip netns exec NAME name args...`).
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// A Sender sends whole Ethernet frames out of one interface of the
// namespace, through an AF_PACKET socket made in it.
type Sender struct {
	fd int
	sa unix.SockaddrLinklayer
}

// Sender opens a sender on the interface iface (n.A or n.B); it is
// closed when the test ends.
func (n *NS) Sender(t testing.TB, iface string) *Sender {
	t.Helper()
	s := &Sender{fd: -1}
	err := n.Do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		s.fd = fd
		s.sa = unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6}
		return nil
	})
	if err != nil {
		t.Fatalf("sender on %s: %v", iface, err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// Send sends one frame, as it is.
func (s *Sender) Send(frame []byte) error {
	if err := unix.Sendto(s.fd, frame, 0, &s.sa); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}
