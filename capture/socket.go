package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// A Source yields packets one at a time, each valid until the next call
// to Next, and io.EOF at the end: a capture file (*FileReader) or a live
// socket (*Socket). Both say which link type their packets start with
// and the snapshot length they were captured with.
type Source interface {
	Next() (Packet, error)
	LinkType() cbpf.LinkType
	Snaplen() uint32
}

var _ Source = (*FileReader)(nil)

// Errors a live capture returns, to test with errors.Is.
var (
	// ErrNotSupported: live capture needs Linux.
	ErrNotSupported = errors.New("live capture is not supported on this system")
	// ErrPermission: the process may not open a packet socket: it needs
	// root or the CAP_NET_RAW capability.
	ErrPermission = errors.New("permission denied: capturing needs root or the CAP_NET_RAW capability")
	// ErrNoInterface: no interface has the name given.
	ErrNoInterface = errors.New("no such interface")
	// ErrInterfaceDown: the interface exists but is not up.
	ErrInterfaceDown = errors.New("interface is not up")
	// ErrFilterRefused: the kernel refused the filter; the error says why.
	ErrFilterRefused = errors.New("the kernel refused the filter")
	// ErrProgramTooLong: a classic program longer than the kernel's
	// limit (cbpf.MaxInstructions); an eBPF program has no such limit.
	ErrProgramTooLong = errors.New("program too long for a classic socket filter")
	// ErrClosed: the socket was closed.
	ErrClosed = errors.New("capture socket closed")
)

// Direction says which packets of an interface a capture sees, as
// tcpdump's -Q. A packet sent on the loopback interface ("lo", alone or
// in "any") is seen once, as received, as libpcap shows it: Out sees
// nothing there.
type Direction int

// Directions.
const (
	// InOut captures packets received and sent (the default).
	InOut Direction = iota
	// In captures packets received only.
	In
	// Out captures packets sent only.
	Out
)

// String returns the direction as tcpdump's -Q spells it.
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	case InOut:
		return "inout"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// ParseDirection parses tcpdump's -Q argument: in, out or inout.
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(s) {
	case "in":
		return In, nil
	case "out":
		return Out, nil
	case "inout", "":
		return InOut, nil
	}
	return 0, fmt.Errorf("invalid direction %q: want in, out or inout", s)
}

// Defaults of Config.
const (
	// DefaultBlockSize is the size of one block of the ring: 1 MiB, room
	// for about 8,000 small packets.
	DefaultBlockSize = 1 << 20
	// DefaultNumBlocks is the number of blocks of the ring: 4 MiB in all.
	DefaultNumBlocks = 4
	// DefaultBlockTimeout is how long the kernel fills a block before it
	// hands a partly filled one over.
	DefaultBlockTimeout = 100 * time.Millisecond
)

// Config is how a live capture is set up. The zero value is usable: the
// whole packet, not promiscuous, both directions, a 4 MiB ring.
type Config struct {
	// Snaplen is the most bytes kept of each packet (0: cbpf.DefaultSnaplen).
	// The filter's return value, compiled for the same snapshot length,
	// is what the kernel truncates to; a cooked header counts in it.
	Snaplen uint32
	// Promiscuous puts the interface in promiscuous mode for as long as
	// the socket is open (ignored for "any").
	Promiscuous bool
	// Direction chooses received, sent or both kinds of packets.
	Direction Direction
	// BlockSize is the size of a block of the TPACKET_V3 ring, a multiple
	// of the page size (0: DefaultBlockSize).
	BlockSize int
	// NumBlocks is the number of blocks (0: DefaultNumBlocks).
	NumBlocks int
	// BlockTimeout is how long the kernel fills a block before handing
	// it over partly filled (0: DefaultBlockTimeout; rounded to ms).
	BlockTimeout time.Duration
	// UserSpaceFilter runs the filter in user space on every packet and
	// attaches nothing to the socket, as libpcap does when the kernel
	// cannot run a filter: for kernels that cannot load BPF programs at
	// the moment. Received then counts every packet.
	UserSpaceFilter bool
	// Nanosecond makes packets carry nanosecond timestamps (the default
	// is microseconds, as tcpdump writes them).
	Nanosecond bool
}

func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.Snaplen == 0 {
		d.Snaplen = cbpf.DefaultSnaplen
	}
	if d.BlockSize == 0 {
		d.BlockSize = DefaultBlockSize
	}
	if d.NumBlocks == 0 {
		d.NumBlocks = DefaultNumBlocks
	}
	if d.BlockTimeout == 0 {
		d.BlockTimeout = DefaultBlockTimeout
	}
	return d
}

// Stats are a live capture's counters, as tcpdump prints them at the end.
type Stats struct {
	// Captured is the number of packets Next returned. While another
	// goroutine reads, it is counted up at the end of each ring block
	// and whenever Next waits for the kernel, so it may lag behind by
	// the packets of one block; it is exact once Next waits or has
	// returned io.EOF or an error.
	Captured uint64
	// Received is the number of packets the kernel's filter accepted
	// (libpcap's ps_recv, tcpdump's "received by filter"), dropped ones
	// included.
	Received uint64
	// Dropped is the number of packets accepted but dropped because the
	// ring was full (tcpdump's "dropped by kernel").
	Dropped uint64
	// FreezeCount is how many times the ring was full (the queue froze).
	FreezeCount uint64
}

// An EBPFProgram is a loaded eBPF socket filter, such as *ebpf.Program
// of type ebpf.SocketFilter: Socket.SetEBPF attaches it by descriptor.
type EBPFProgram interface {
	FD() int
}

// Cooked header lengths.
const (
	sllHdrLen  = 16
	sll2HdrLen = 20
)

// Ancillary offsets (SKF_AD_OFF + n) a cooked filter reads instead of
// the header the kernel does not show it.
const (
	adProtocol = cbpf.SKFAdOff + cbpf.SKFAdProtocol
	adPktType  = cbpf.SKFAdOff + cbpf.SKFAdPktType
	adIfIndex  = cbpf.SKFAdOff + cbpf.SKFAdIfIndex
)

// errNotCooked marks a cooked program the kernel cannot run: it reads a
// cooked header field that has no ancillary equivalent.
var errNotCooked = errors.New("the program reads a cooked header field the kernel cannot provide")

// KernelProgram returns the classic program the kernel must run to give
// the results p gives on the packets a capture of link type lt returns.
// For Ethernet and the other link types whose header the kernel shows,
// that is p itself. A cooked capture (LINUX_SLL, LINUX_SLL2: the "any"
// device) returns packets with a header the capture builds, which the
// kernel's filter does not see: as libpcap does, loads past the header
// are moved back by its length and loads of the protocol, packet type
// and (SLL2) interface index fields become ancillary loads. A program
// that reads another header field cannot run in the kernel: then the
// error wraps ErrFilterRefused, and Socket.SetFilter filters in user
// space instead.
func KernelProgram(p *cbpf.Program) (*cbpf.Program, error) {
	raw, err := p.Raw()
	if err != nil {
		return nil, err
	}
	fixed, err := fixCooked(raw, p.LinkType)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFilterRefused, err)
	}
	return cbpf.FromRaw(fixed, p.LinkType, p.Snaplen), nil
}

// fixCooked rewrites a cooked program's loads (libpcap's fix_program);
// other link types are returned as they are.
func fixCooked(raw []bpf.RawInstruction, lt cbpf.LinkType) ([]bpf.RawInstruction, error) {
	if lt != cbpf.LinkLinuxSLL && lt != cbpf.LinkLinuxSLL2 {
		return raw, nil
	}
	out := make([]bpf.RawInstruction, len(raw))
	copy(out, raw)
	for i := range out {
		r := &out[i]
		class := r.Op & 0x07
		mode := r.Op & 0xe0
		if class != 0x00 && class != 0x01 { // BPF_LD, BPF_LDX
			continue
		}
		if mode != 0x20 && mode != 0x40 && mode != 0xa0 { // BPF_ABS, BPF_IND, BPF_MSH
			continue
		}
		if int32(r.K) < 0 { // already relative to SKF_NET_OFF, SKF_LL_OFF or ancillary
			continue
		}
		if err := fixOffset(r, lt, mode == 0x20); err != nil {
			return nil, fmt.Errorf("instruction %d: %w", i, err)
		}
	}
	return out, nil
}

func fixOffset(r *bpf.RawInstruction, lt cbpf.LinkType, abs bool) error {
	hdr, proto := uint32(sllHdrLen), uint32(14)
	if lt == cbpf.LinkLinuxSLL2 {
		hdr, proto = sll2HdrLen, 0
	}
	switch {
	case r.K >= hdr:
		r.K -= hdr
		return nil
	case !abs:
		// An indexed load into the header: libpcap moves it too only
		// when past it; no ancillary form exists for the others.
		return errNotCooked
	case r.K == proto:
		r.K = adProtocol
	case lt == cbpf.LinkLinuxSLL && r.K == 0:
		r.K = adPktType
	case lt == cbpf.LinkLinuxSLL2 && r.K == 4:
		r.K = adIfIndex
	case lt == cbpf.LinkLinuxSLL2 && r.K == 10:
		r.K = adPktType
	default:
		return errNotCooked
	}
	return nil
}

// rejectAll is the program attached while a filter is replaced.
var rejectAll = []bpf.RawInstruction{{Op: 0x06, K: 0}} // ret #0
