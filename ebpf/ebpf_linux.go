package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

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
		return fmt.Errorf("%w: %w", ErrPermission, err)
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
// program as 4 bytes of metadata before the packet (translate's
// LenMeta). The kernel wants at least 14 bytes and
// at most about a page; other sizes are ErrPacketSize.
func (p *Program) Run(pkt []byte, wireLen int) (uint32, error) {
	ret, _, err := p.run(pkt, wireLen, 1)
	return ret, err
}

// Bench runs the program repeat times on a packet inside the kernel, as
// Run does, and returns its return value and the mean time of one run.
func (p *Program) Bench(pkt []byte, wireLen, repeat int) (uint32, time.Duration, error) {
	return p.run(pkt, wireLen, repeat)
}

func (p *Program) run(pkt []byte, wireLen, repeat int) (uint32, time.Duration, error) {
	if len(pkt) < 14 && !(p.typ == XDP && len(pkt)+xdpMetaLen >= 14) {
		return 0, 0, fmt.Errorf("ebpf: run: %w: %d bytes", ErrPacketSize, len(pkt))
	}
	opts := &cebpf.RunOptions{Data: pkt, Repeat: uint32(repeat)}
	switch p.typ {
	case SchedCLS:
		ctx := make([]byte, skbCtxSize)
		binary.NativeEndian.PutUint32(ctx[skbCB0Off:], uint32(wireLen))
		if wireLen >= len(pkt) && wireLen <= maxWireLen {
			binary.NativeEndian.PutUint32(ctx[skbWireLenOff:], uint32(wireLen))
		}
		opts.Context = ctx
	case XDP:
		data := make([]byte, xdpMetaLen+len(pkt))
		binary.NativeEndian.PutUint32(data, uint32(wireLen))
		copy(data[xdpMetaLen:], pkt)
		opts.Data = data
		opts.Context = xdpMD{Data: xdpMetaLen, DataEnd: uint32(len(data))}
	}
	var d time.Duration
	var ret uint32
	var err error
	if repeat > 1 {
		ret, d, err = benchRun(p.prog, opts)
	} else {
		ret, err = p.prog.Run(opts)
	}
	if err != nil {
		if why := refusedPacket(pkt, err); why != "" {
			return 0, 0, fmt.Errorf("ebpf: run: %w: %s: %w", ErrPacketSize, why, err)
		}
		if errors.Is(err, unix.EPERM) {
			return 0, 0, fmt.Errorf("ebpf: run: %w: %w", ErrPermission, err)
		}
		return 0, 0, fmt.Errorf("ebpf: run: %w", err)
	}
	return ret, d, nil
}

// benchRun times repeated runs: the kernel measures them, but cilium/ebpf
// reports the duration only through Benchmark, which takes no context, so
// time the call and divide.
func benchRun(prog *cebpf.Program, opts *cebpf.RunOptions) (uint32, time.Duration, error) {
	start := time.Now()
	ret, err := prog.Run(opts)
	return ret, time.Since(start) / time.Duration(opts.Repeat), err
}

// xdpMD is struct xdp_md.
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
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
func refusedPacket(pkt []byte, err error) string {
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOMEM) {
		return ""
	}
	n := len(pkt)
	switch {
	case n < 14:
		return fmt.Sprintf("%d bytes, fewer than an Ethernet header", n)
	case n > 3000:
		return fmt.Sprintf("%d bytes, more than a page with head and tail room", n)
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
