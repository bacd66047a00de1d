//go:build linux

package cbpf

import (
	"github.com/bpfc/bpfc/internal/testenv"
	"os"

	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// These tests ask the running kernel. SO_ATTACH_FILTER on a UDP socket
// needs no privilege; they skip when the socket cannot be made.

// soMeminfo is SO_MEMINFO (asm-generic/socket.h), missing from x/sys.
const soMeminfo = 55

// kernelAttach attaches raw to fd: nil if the kernel accepts the program.
func kernelAttach(fd int, raw []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(raw)+1) // +1: a valid pointer when empty
	for i, r := range raw {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(raw)), Filter: &f[0]})
}

func udpSocket(t *testing.T) int {
	testenv.RequireKernelBPF(t)
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no UDP socket to attach filters to: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// TestKernelValidate checks that the kernel accepts exactly the programs
// Validate accepts: the table of TestValidateRaw, then random programs.
func TestKernelValidate(t *testing.T) {
	fd := udpSocket(t)
	check := func(t *testing.T, raw []bpf.RawInstruction) bool {
		t.Helper()
		if len(raw) > 0xffff {
			return true
		}
		kerr := kernelAttach(fd, raw)
		if errors.Is(kerr, unix.ENOMEM) {
			return false // over the socket's optmem budget: not a rule
		}
		if kerr != nil && !errors.Is(kerr, unix.EINVAL) {
			t.Fatalf("SO_ATTACH_FILTER: %v", kerr)
		}
		ours := ValidateRaw(raw)
		if (kerr == nil) != (ours == nil) {
			t.Errorf("kernel: %v, Validate: %v, program:\n%s", kerr, ours, rawText(raw))
		}
		return true
	}
	for _, tc := range validationCases {
		t.Run(tc.name, func(t *testing.T) {
			if !check(t, tc.prog) {
				t.Skip("kernel: ENOMEM (optmem_max), no verdict")
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		total := kernelCount(5000, 20000)
		compared, accepted := 0, 0
		for range total {
			raw := genProgram(rng, genOpts{bad: true, shiftX: true, neg: true, indOffset: true, ancillary: true, ldxLen: true})
			if check(t, raw) {
				compared++
				if ValidateRaw(raw) == nil {
					accepted++
				}
			}
			if t.Failed() {
				break
			}
		}
		t.Logf("%d random programs compared with the kernel (%d accepted, %d rejected)", compared, accepted, compared-accepted)
	})
}

func rawText(raw []bpf.RawInstruction) string {
	s := ""
	for i, r := range raw {
		s += fmt.Sprintf("  %s\t{ 0x%x, %d, %d, 0x%08x }\n", Image(r, i), r.Op, r.Jt, r.Jf, r.K)
	}
	return s
}

// loopback is a pair of UDP sockets on 127.0.0.1: the filter under test
// goes on rx. The kernel runs it on the UDP header and payload (skb->data
// is the UDP header there), keeps max(8, verdict) bytes of it, and drops
// the datagram for a verdict of 0, counting a drop.
type loopback struct {
	t      *testing.T
	rx, tx int
	hdr    [8]byte // the UDP header every datagram gets (checksum 0)
	buf    []byte
}

func newLoopback(t *testing.T) *loopback {
	testenv.RequireKernelBPF(t)
	rx, tx := udpSocket(t), udpSocket(t)
	lo := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := unix.Bind(rx, lo); err != nil {
		t.Skipf("bind 127.0.0.1: %v", err)
	}
	if err := unix.Bind(tx, lo); err != nil {
		t.Skipf("bind 127.0.0.1: %v", err)
	}
	// No checksum: the UDP header is then the same for every payload
	// length but its length field.
	if err := unix.SetsockoptInt(tx, unix.SOL_SOCKET, unix.SO_NO_CHECK, 1); err != nil {
		t.Skipf("SO_NO_CHECK: %v", err)
	}
	if err := unix.SetsockoptInt(rx, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20); err != nil {
		t.Fatal(err)
	}
	rsa, _ := unix.Getsockname(rx)
	tsa, _ := unix.Getsockname(tx)
	if err := unix.Connect(tx, rsa); err != nil {
		t.Fatal(err)
	}
	l := &loopback{t: t, rx: rx, tx: tx, buf: make([]byte, 1<<16)}
	binary.BigEndian.PutUint16(l.hdr[0:], uint16(tsa.(*unix.SockaddrInet4).Port))
	binary.BigEndian.PutUint16(l.hdr[2:], uint16(rsa.(*unix.SockaddrInet4).Port))
	return l
}

func (l *loopback) drops() uint32 {
	var info [16]uint32
	n := uint32(unsafe.Sizeof(info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(l.rx), unix.SOL_SOCKET, soMeminfo,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		l.t.Fatalf("SO_MEMINFO: %v", e)
	}
	return info[unix.SK_MEMINFO_DROPS]
}

// packet is what the filter sees for payload: the UDP header, then payload.
func (l *loopback) packet(payload []byte) []byte {
	pkt := append(l.hdr[:], payload...)
	binary.BigEndian.PutUint16(pkt[4:], uint16(len(pkt)))
	return pkt
}

// run sends payload through the filter attached to rx and reports whether
// it was delivered and how many payload bytes were.
func (l *loopback) run(payload []byte) (delivered bool, n int) {
	before := l.drops()
	if _, err := unix.Write(l.tx, payload); err != nil {
		l.t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(l.rx, l.buf, unix.MSG_DONTWAIT)
		if err == nil {
			return true, n
		}
		if !errors.Is(err, unix.EAGAIN) {
			l.t.Fatalf("recv: %v", err)
		}
		if l.drops() != before {
			return false, 0
		}
		time.Sleep(10 * time.Microsecond)
	}
	l.t.Fatal("datagram neither delivered nor dropped after 2s")
	return false, 0
}

// kernelMeta is the metadata of a datagram on the loopback interface, as
// the kernel's ancillary loads see it.
func kernelMeta(t *testing.T) *Metadata {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	return &Metadata{
		Protocol:      unix.ETH_P_IP,
		PktType:       unix.PACKET_HOST,
		IfIndex:       uint32(lo.Index),
		HAType:        unix.ARPHRD_LOOPBACK,
		NetworkOffset: -1, // the IP header is before the UDP header: not in pkt
	}
}

// expectDelivery is what the kernel does with a datagram whose filter
// verdict is v: drop it for 0, else trim it to max(8, v) bytes.
func expectDelivery(v uint32, pkt []byte) (bool, int) {
	if v == 0 {
		return false, 0
	}
	keep := max(v, 8)
	if keep > uint32(len(pkt)) {
		keep = uint32(len(pkt))
	}
	return true, int(keep) - 8
}

var kernelVMCases = []struct {
	name    string
	prog    []bpf.RawInstruction
	payload []byte
}{
	{"accept", []bpf.RawInstruction{retOK}, []byte("hello")},
	{"reject", []bpf.RawInstruction{r(bpfRET|bpfK, 0, 0, 0)}, []byte("hello")},
	{"trim to 10", []bpf.RawInstruction{r(bpfRET|bpfK, 0, 0, 10)}, []byte("hello")},
	{"ret len", []bpf.RawInstruction{r(bpfLD|bpfW|bpfLEN, 0, 0, 0), r(bpfALU|bpfSUB|bpfK, 0, 0, 2), retAcc}, []byte("hello")},
	{"load past end", []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, 10), retOK}, []byte("hello")},
	{"load at end", []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 12), retAcc}, []byte("hello")},
	{"div by zero", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 9), r(bpfALU|bpfDIV|bpfX, 0, 0, 0), retOK}, []byte("hello")},
	{"mod by zero", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 9), r(bpfALU|bpfMOD|bpfX, 0, 0, 0), retOK}, []byte("hello")},
	{"lsh x 33", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 5), r(bpfLDX|bpfIMM, 0, 0, 33), r(bpfALU|bpfLSH|bpfX, 0, 0, 0), retAcc}, []byte("0123456789")},
	{"rsh x 32", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 12), r(bpfLDX|bpfIMM, 0, 0, 32), r(bpfALU|bpfRSH|bpfX, 0, 0, 0), retAcc}, []byte("0123456789")},
	{"neg", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 0xfffffff4), r(bpfALU|bpfNEG, 0, 0, 0), retAcc}, []byte("0123456789")},
	{"ind wraps", []bpf.RawInstruction{r(bpfLDX|bpfIMM, 0, 0, 10), r(bpfLD|bpfB|bpfIND, 0, 0, 0xffffffff), retAcc}, []byte{0, 12}},
	{"ind negative", []bpf.RawInstruction{r(bpfLDX|bpfIMM, 0, 0, 0), r(bpfLD|bpfB|bpfIND, 0, 0, 0x80000000), retOK}, []byte("hello")},
	{"msh", []bpf.RawInstruction{r(bpfLDX|bpfB|bpfMSH, 0, 0, 8), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, []byte{0x43}},
	{"anc protocol", []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, SKFAdOff+SKFAdProtocol), r(bpfJMP|bpfJEQ|bpfK, 0, 1, 0x800), retOK, r(bpfRET|bpfK, 0, 0, 0)}, []byte("hello")},
	{"anc byte load of hatype", []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFAdOff+SKFAdHAType), r(bpfALU|bpfSUB|bpfK, 0, 0, 760), retAcc}, []byte("0123456789")},
	{"anc xor x", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 6), r(bpfLDX|bpfIMM, 0, 0, 10), r(bpfLD|bpfW|bpfABS, 0, 0, SKFAdOff+SKFAdALUXorX), retAcc}, []byte("0123456789")},
	{"anc nlattr", []bpf.RawInstruction{r(bpfLD|bpfIMM, 0, 0, 8), r(bpfLDX|bpfIMM, 0, 0, 7), r(bpfLD|bpfW|bpfABS, 0, 0, SKFAdOff+SKFAdNLAttr), retAcc},
		[]byte{8, 0, 1, 0, 0, 0, 0, 0, 6, 0, 7, 0, 1, 2, 0, 0, 'x', 'y'}},
}

// TestKernelVM runs programs in the kernel and in the VM on the same
// datagrams and compares what the kernel delivers with the VM's verdict.
func TestKernelVM(t *testing.T) {
	l := newLoopback(t)
	meta := kernelMeta(t)
	compare := func(t *testing.T, raw []bpf.RawInstruction, payload []byte) bool {
		t.Helper()
		vm, err := NewVM(FromRaw(raw, LinkRaw, DefaultSnaplen))
		if err != nil {
			t.Fatalf("NewVM: %v", err)
		}
		if err := kernelAttach(l.rx, raw); err != nil {
			if errors.Is(err, unix.ENOMEM) {
				return false
			}
			t.Fatalf("SO_ATTACH_FILTER: %v (Validate accepted it)", err)
		}
		pkt := l.packet(payload)
		v := vm.RunMeta(pkt, len(pkt), meta)
		wantOK, wantN := expectDelivery(v, pkt)
		gotOK, gotN := l.run(payload)
		if gotOK != wantOK || gotN != wantN {
			t.Errorf("kernel delivered=%v (%d bytes), VM verdict %d (delivered=%v, %d bytes)\npacket % x\nprogram:\n%s",
				gotOK, gotN, v, wantOK, wantN, pkt, rawText(raw))
		}
		return true
	}
	for _, tc := range kernelVMCases {
		t.Run(tc.name, func(t *testing.T) {
			if !compare(t, tc.prog, tc.payload) {
				t.Skip("kernel: ENOMEM (optmem_max)")
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		programs, packets := kernelCount(1000, 3000), 4
		compared, delivered := 0, 0
		for compared < programs {
			raw := genProgram(rng, genOpts{shiftX: true, neg: true, indOffset: true, ancillary: true, ldxLen: true})
			if ValidateRaw(raw) != nil {
				continue
			}
			for range packets {
				payload := make([]byte, rng.IntN(40))
				for i := range payload {
					payload[i] = byte(rng.IntN(256))
					if rng.IntN(3) == 0 {
						payload[i] = byte(rng.IntN(16))
					}
				}
				compare(t, raw, payload)
				if vm, _ := NewVM(FromRaw(raw, LinkRaw, 0)); vm.RunMeta(l.packet(payload), len(payload)+8, meta) != 0 {
					delivered++
				}
			}
			compared++
			if t.Failed() {
				break
			}
		}
		t.Logf("%d random programs × %d datagrams compared with the kernel (%d delivered, %d dropped)",
			compared, packets, delivered, compared*packets-delivered)
	})
}

// kernelCount is how many random programs a kernel test loads: n by
// default, stress when BPFC_KERNEL_STRESS is set. Every classic filter
// attached is JIT-compiled and later freed by the kernel; on Linux 6.18 a
// long burst of that churn can deadlock the JIT's allocator for good (see
// internal/testenv), so the default runs stay moderate.
func kernelCount(n, stress int) int {
	if os.Getenv("BPFC_KERNEL_STRESS") != "" {
		return stress
	}
	return n
}
