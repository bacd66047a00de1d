package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Program is a loaded eBPF program. Close it when done. Its methods are
// safe for concurrent use.
type Program struct {
	prog *cebpf.Program
	typ  Type
}

var progTypes = map[Type]cebpf.ProgramType{
	SocketFilter: cebpf.SocketFilter,
	SchedCLS:     cebpf.SchedCLS,
	XDP:          cebpf.XDP,
}

// Load loads insns as a program of type typ, under the GPL licence (the
// helpers LD_ABS uses need it). If the verifier refuses it, the error is
// a *VerifierError carrying the verifier's log.
func Load(typ Type, insns asm.Instructions) (*Program, error) {
	pt, ok := progTypes[typ]
	if !ok {
		return nil, fmt.Errorf("ebpf: load: unknown program type %d", int(typ))
	}
	prog, err := cebpf.NewProgramWithOptions(&cebpf.ProgramSpec{
		Name:         "bpfc_filter",
		Type:         pt,
		Instructions: insns,
		License:      "GPL",
	}, cebpf.ProgramOptions{LogSizeStart: 1 << 16})
	if err != nil {
		return nil, fmt.Errorf("ebpf: load %v program: %w", typ, loadError(typ, err))
	}
	return &Program{prog: prog, typ: typ}, nil
}

func loadError(typ Type, err error) error {
	var ve *cebpf.VerifierError
	switch {
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) && !errors.As(err, &ve):
		// Only the errno: cilium/ebpf's hint about RLIMIT_MEMLOCK is beside
		// the point since Linux 5.11, which charges BPF memory to the
		// memory cgroup.
		errno := unix.EPERM
		if !errors.Is(err, unix.EPERM) {
			errno = unix.EACCES
		}
		return fmt.Errorf("%w: %w", ErrPermission, errno)
	case errors.As(err, &ve):
		return &VerifierError{Type: typ, Log: ve.Log, Err: ve.Cause}
	case errors.Is(err, cebpf.ErrNotSupported):
		return fmt.Errorf("%w: %w", ErrNotSupported, err)
	}
	return err
}

// Supported reports whether this process can load and test-run eBPF
// programs: nil, or an error wrapping ErrPermission or ErrNotSupported.
func Supported() error {
	p, err := Load(SchedCLS, asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()})
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.Run(make([]byte, 14), 14); err != nil {
		return err
	}
	return nil
}

// Type returns the program's type.
func (p *Program) Type() Type { return p.typ }

// FD returns the program's file descriptor, valid until Close.
func (p *Program) FD() int { return p.prog.FD() }

// Close unloads the program (the kernel keeps it while it is attached).
func (p *Program) Close() error { return p.prog.Close() }

// Run runs the program once on a packet with BPF_PROG_TEST_RUN and
// returns its return value. pkt is the captured bytes, wireLen the
// packet's length on the wire, passed on as given.
// A TC or socket program gets wireLen in __sk_buff.cb[0] and, up to 64
// KiB, in __sk_buff.wire_len (translate's LenCB and LenWire), an XDP
// program in 4 bytes of metadata before the packet (translate's
// LenMeta). The kernel's test run does not take every packet: it wants
// at least 14 bytes (an Ethernet header); a TC or socket test run at
// most about a page (3,712 bytes on x86-64) and, after an Ethernet type
// of IPv4 or IPv6, that header whole; an XDP test run keeps at most
// about a page in the linear buffer the program reads (3,520 bytes on
// x86-64) and would put the rest out of its reach. Those packets are
// ErrPacketSize.
func (p *Program) Run(pkt []byte, wireLen int) (uint32, error) {
	ret, _, err := p.run(pkt, wireLen, 1)
	return ret, err
}

// Bench runs the program repeat times on a packet inside the kernel, as
// Run does, and returns its return value and the mean time of one run as
// the kernel measures it (BPF_PROG_TEST_RUN's duration: the program and
// the test run's loop, not the system call).
func (p *Program) Bench(pkt []byte, wireLen, repeat int) (uint32, time.Duration, error) {
	if repeat < 1 || repeat > math.MaxUint32 {
		return 0, 0, fmt.Errorf("ebpf: bench: repeat %d: want 1 to %d", repeat, uint32(math.MaxUint32))
	}
	return p.run(pkt, wireLen, repeat)
}

func (p *Program) run(pkt []byte, wireLen, repeat int) (uint32, time.Duration, error) {
	if len(pkt) < 14 {
		return 0, 0, fmt.Errorf("ebpf: run: %w: %d bytes, fewer than an Ethernet header", ErrPacketSize, len(pkt))
	}
	if len(pkt) > math.MaxUint32-64 {
		return 0, 0, fmt.Errorf("ebpf: run: %w: %d bytes", ErrPacketSize, len(pkt))
	}
	data := pkt
	var ctxIn, ctxOut []byte
	switch p.typ {
	case SchedCLS, SocketFilter:
		ctxIn = make([]byte, skbCtxSize)
		binary.NativeEndian.PutUint32(ctxIn[skbCB0Off:], uint32(wireLen))
		if wireLen >= len(pkt) && wireLen <= maxWireLen {
			binary.NativeEndian.PutUint32(ctxIn[skbWireLenOff:], uint32(wireLen))
		}
	case XDP:
		meta := xdpMetaLen
		data = make([]byte, meta+len(pkt))
		binary.NativeEndian.PutUint32(data, uint32(wireLen))
		copy(data[meta:], pkt)
		ctxIn = make([]byte, xdpMDSize)
		binary.NativeEndian.PutUint32(ctxIn[xdpMDData:], uint32(meta))
		binary.NativeEndian.PutUint32(ctxIn[xdpMDDataEnd:], uint32(len(data)))
		ctxOut = make([]byte, xdpMDSize)
	}
	ret, d, err := testRun(p.prog.FD(), data, ctxIn, ctxOut, uint32(repeat))
	if err != nil {
		if why := refusedPacket(p.typ, pkt, err); why != "" {
			return 0, 0, fmt.Errorf("ebpf: run: %w: %s: %w", ErrPacketSize, why, err)
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return 0, 0, fmt.Errorf("ebpf: run: %w: %w", ErrPermission, err)
		}
		return 0, 0, fmt.Errorf("ebpf: run: %w", err)
	}
	if p.typ == XDP {
		// A packet longer than the linear buffer is run with the rest in
		// fragments, out of the program's reach: its verdict is not the
		// one the whole packet gets.
		md := binary.NativeEndian
		if lin := int(md.Uint32(ctxOut[xdpMDDataEnd:])) - int(md.Uint32(ctxOut[xdpMDData:])); lin != len(pkt) {
			return 0, 0, fmt.Errorf("ebpf: run: %w: %d bytes, more than the %d of the XDP test run's linear buffer", ErrPacketSize, len(pkt), lin)
		}
	}
	return ret, d, nil
}

// struct xdp_md: its size and the offsets of data and data_end.
const (
	xdpMDSize    = 24
	xdpMDData    = 0
	xdpMDDataEnd = 4
)

// testRunAttr is the BPF_PROG_TEST_RUN part of union bpf_attr.
type testRunAttr struct {
	progFD, retval           uint32
	dataSizeIn, dataSizeOut  uint32
	dataIn, dataOut          uint64
	repeat, duration         uint32
	ctxSizeIn, ctxSizeOut    uint32
	ctxIn, ctxOut            uint64
	flags, cpu, batchSize, _ uint32
}

const bpfProgTestRun = 10 // BPF_PROG_TEST_RUN

// testRun calls BPF_PROG_TEST_RUN. It does not go through cilium/ebpf's
// Program.Run, which drops the kernel's duration when a context is
// passed. A run interrupted by a signal is started again.
func testRun(fd int, data, ctxIn, ctxOut []byte, repeat uint32) (uint32, time.Duration, error) {
	ptr := func(b []byte) uint64 {
		if len(b) == 0 {
			return 0
		}
		return uint64(uintptr(unsafe.Pointer(&b[0])))
	}
	for {
		attr := testRunAttr{
			progFD: uint32(fd), dataSizeIn: uint32(len(data)), dataIn: ptr(data),
			repeat: repeat, ctxSizeIn: uint32(len(ctxIn)), ctxIn: ptr(ctxIn),
			ctxSizeOut: uint32(len(ctxOut)), ctxOut: ptr(ctxOut),
		}
		_, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgTestRun, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(data)
		runtime.KeepAlive(ctxIn)
		runtime.KeepAlive(ctxOut)
		switch errno {
		case 0:
			return attr.retval, time.Duration(attr.duration), nil
		case unix.EINTR:
			if repeat <= 1 {
				// Older kernels may report EINTR after the one run.
				return attr.retval, time.Duration(attr.duration), nil
			}
			continue
		}
		return 0, 0, fmt.Errorf("BPF_PROG_TEST_RUN: %w", errno)
	}
}

// AttachSocket attaches a SocketFilter program to the socket fd with
// SO_ATTACH_BPF, replacing any filter it had.
func AttachSocket(fd int, p *Program) error {
	if p.typ != SocketFilter {
		return fmt.Errorf("ebpf: attach: a %v program cannot filter a socket", p.typ)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, p.FD()); err != nil {
		return fmt.Errorf("ebpf: attach: SO_ATTACH_BPF: %w", err)
	}
	return nil
}

// DetachSocket removes the filter attached to the socket fd.
func DetachSocket(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_BPF, 0); err != nil {
		return fmt.Errorf("ebpf: detach: %w", err)
	}
	return nil
}

// refusedPacket says why BPF_PROG_TEST_RUN refused a packet, or "" when
// the error is not about the packet.
func refusedPacket(typ Type, pkt []byte, err error) string {
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOMEM) {
		return ""
	}
	n := len(pkt)
	if typ == XDP {
		if n > 3000 {
			return fmt.Sprintf("%d bytes, more than a page with head and tail room", n)
		}
		return ""
	}
	switch {
	case n > 3000:
		return fmt.Sprintf("%d bytes, more than a page with head and tail room", n)
	case n < 14:
		return fmt.Sprintf("%d bytes, fewer than an Ethernet header", n)
	}
	// The skb test run parses the packet as Ethernet and refuses an IPv4
	// or IPv6 header cut short.
	switch binary.BigEndian.Uint16(pkt[12:]) {
	case 0x0800:
		if n < 14+20 {
			return fmt.Sprintf("%d bytes, a truncated IPv4 header", n)
		}
	case 0x86dd:
		if n < 14+40 {
			return fmt.Sprintf("%d bytes, a truncated IPv6 header", n)
		}
	}
	return ""
}
