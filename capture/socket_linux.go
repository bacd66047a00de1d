package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/bpfc/bpfc/cbpf"
)

// A Socket is a live capture on a Linux AF_PACKET socket, read through a
// TPACKET_V3 ring mapped into memory, with a filter run by the kernel.
//
// No packet reaches the user unfiltered: Open makes the socket with
// protocol 0, which receives nothing; SetFilter (or SetEBPF) attaches
// the filter; the socket is bound to the interface, and starts
// receiving, only by Start or the first Next. A filter replaced later is
// replaced through a reject-all filter and a drain of the ring, so no
// packet the old filter accepted is returned after the replacement.
//
// A Socket is used by one goroutine, except for Stop and Stats, which
// may be called from any.
type Socket struct {
	fd      int
	file    *os.File        // fd, registered with Go's network poller
	rc      syscall.RawConn // waits on file without holding a thread
	ring    *ring
	name    string
	ifindex int
	// loIndex is the index of the namespace's loopback interface "lo"
	// (0 if it has none): a packet sent on it comes back as received,
	// so the sent copy is dropped, as libpcap does.
	loIndex uint32
	lt      cbpf.LinkType
	cooked  bool
	cfg     Config
	bound   bool
	user    *cbpf.VM // the filter, when the kernel cannot run it
	meta    cbpf.Metadata
	buf     []byte             // a packet rebuilt with a header or a VLAN tag
	readyFn func(uintptr) bool // s.ready, made once
	werr    error              // the socket's error, found while waiting
	pkt     Packet             // the packet Next returns

	stopped atomic.Bool
	// captured is the number of packets returned, published from n
	// when a block is done and before each wait: an atomic add per
	// packet is a full memory barrier, which costs more than all the
	// rest of the work on a packet.
	captured atomic.Uint64
	n        uint64
	mu       sync.Mutex // guards stats and closing
	stats    Stats
	closed   bool
}

var _ Source = (*Socket)(nil)

// ARPHRD_* hardware types (linux/if_arp.h) that decide the link type.
const (
	arphrdEther    = 1
	arphrdIEEE802  = 6
	arphrdRawIP    = 519
	arphrdTunnel   = 768
	arphrdTunnel6  = 769
	arphrdLoopback = 772
	arphrdSit      = 776
	arphrdIPGRE    = 778
	arphrdNone     = 0xfffe
	// 802.11 in monitor mode, without and with a radiotap header, and
	// with a Prism header.
	arphrdIEEE80211         = 801
	arphrdIEEE80211Radiotap = 803
	arphrdIEEE80211Prism    = 802
	// Link types whose headers the kernel passes as they are, which
	// libpcap 1.10 maps to link types of their own (map_arphrd_to_dlt).
	arphrdARCnet     = 7
	arphrdCAN        = 280
	arphrdHDLC       = 513 // Cisco HDLC
	arphrdIEEE802TR  = 800
	arphrdIEEE802154 = 804
	arphrdNetlink    = 824
	arphrdVsockMon   = 826
	arphrdLAPD       = 8445
)

// linkCANSocketCAN is DLT_CAN_SOCKETCAN, whose CAN ID and flags (the
// first 4 bytes) the kernel gives in host byte order, and the link type
// (LINKTYPE_CAN_SOCKETCAN) has in network byte order.
const linkCANSocketCAN cbpf.LinkType = 227

// canNetworkOrder appends the SocketCAN frame data to buf with its CAN
// ID and flags in network byte order, as libpcap writes them.
func canNetworkOrder(buf, data []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, binary.NativeEndian.Uint32(data))
	return append(buf, data[4:]...)
}

// linkTypeOf maps a device's hardware type to the link type of the
// packets a raw socket reads from it, as libpcap does for those whose
// headers it takes as the kernel gives them; the others (PPP, FDDI,
// whose frames Linux pads, IrDA, ...) are captured cooked (LINUX_SLL).
func linkTypeOf(hatype uint16) (lt cbpf.LinkType, cooked bool) {
	switch hatype {
	case arphrdEther, arphrdIEEE802, arphrdLoopback:
		return cbpf.LinkEN10MB, false
	case arphrdNone, arphrdRawIP, arphrdTunnel, arphrdTunnel6, arphrdSit, arphrdIPGRE:
		return cbpf.LinkRaw, false
	case arphrdIEEE80211:
		return cbpf.LinkIEEE80211, false
	case arphrdIEEE80211Radiotap:
		return cbpf.LinkIEEE80211Radio, false
	case arphrdIEEE80211Prism:
		return 119, false // DLT_PRISM_HEADER
	case arphrdARCnet:
		return 129, false // DLT_ARCNET_LINUX
	case arphrdCAN:
		return linkCANSocketCAN, false
	case arphrdHDLC:
		return 104, false // DLT_C_HDLC
	case arphrdIEEE802TR:
		return 6, false // DLT_IEEE802
	case arphrdIEEE802154:
		return 230, false // DLT_IEEE802_15_4_NOFCS
	case arphrdNetlink:
		return 253, false // DLT_NETLINK
	case arphrdVsockMon:
		return 271, false // DLT_VSOCK
	case arphrdLAPD:
		return 177, false // DLT_LINUX_LAPD
	}
	return cbpf.LinkLinuxSLL, true
}

// Open opens a live capture on the interface name, or on every
// interface for "any" (cooked: LINUX_SLL2, as tcpdump 4.99 captures it).
// The socket receives nothing yet: attach a filter with SetFilter or
// SetEBPF, compiled for LinkType, then Start or read. cfg may be nil.
//
// Errors wrap ErrPermission, ErrNoInterface or ErrInterfaceDown when
// that is the reason.
func Open(name string, cfg *Config) (*Socket, error) {
	c := cfg.withDefaults()
	s := &Socket{fd: -1, name: name, cfg: c}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if name == "any" {
		s.lt, s.cooked = cbpf.LinkLinuxSLL2, true
	} else {
		if err := s.socket(unix.SOCK_RAW); err != nil {
			return nil, err
		}
		if err := s.lookup(); err != nil {
			return nil, err
		}
	}
	if s.cooked {
		if s.fd >= 0 {
			unix.Close(s.fd)
			s.fd = -1
		}
		if err := s.socket(unix.SOCK_DGRAM); err != nil {
			return nil, err
		}
	}
	s.loIndex = s.loopbackIndex()
	r, err := newRing(s.fd, c.BlockSize, c.NumBlocks, int(c.BlockTimeout/time.Millisecond))
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	s.ring = r
	if c.Promiscuous && s.ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(s.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, s.errorf("promiscuous mode: %w", err)
		}
	}
	if c.Direction == In {
		// Outgoing packets are also skipped in Next, for kernels
		// without this option (before 4.20).
		_ = unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	}
	// Waiting goes through Go's network poller (epoll), as for any
	// socket: a goroutine waiting for a block does not hold a thread,
	// and Stop wakes it with a deadline.
	if err := unix.SetNonblock(s.fd, true); err != nil {
		return nil, s.errorf("non-blocking mode: %w", err)
	}
	s.file = os.NewFile(uintptr(s.fd), "packet socket on "+name)
	if s.rc, err = s.file.SyscallConn(); err != nil {
		return nil, s.errorf("%w", err)
	}
	s.readyFn = s.ready
	ok = true
	return s, nil
}

func (s *Socket) errorf(format string, args ...any) error {
	return fmt.Errorf("capture: %s: %w", s.name, fmt.Errorf(format, args...))
}

// socket makes the packet socket, with protocol 0: it receives nothing
// until bound.
func (s *Socket) socket(typ int) error {
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return s.errorf("%w (%w)", ErrPermission, err)
		}
		return s.errorf("packet socket: %w", err)
	}
	s.fd = fd
	return nil
}

// lookup finds the interface's index, state and hardware type, in the
// socket's network namespace.
func (s *Socket) lookup() error {
	ifr, err := unix.NewIfreq(s.name)
	if err != nil || s.name == "" {
		return s.errorf("%w", ErrNoInterface)
	}
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFINDEX, ifr); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return s.errorf("%w", ErrNoInterface)
		}
		return s.errorf("interface index: %w", err)
	}
	s.ifindex = int(ifr.Uint32())
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return s.errorf("interface flags: %w", err)
	}
	if ifr.Uint16()&unix.IFF_UP == 0 {
		return s.errorf("%w", ErrInterfaceDown)
	}
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return s.errorf("hardware type: %w", err)
	}
	s.lt, s.cooked = linkTypeOf(ifr.Uint16()) // sa_family of ifr_hwaddr
	return nil
}

// loopbackIndex returns the index of the interface "lo", or 0.
func (s *Socket) loopbackIndex() uint32 {
	ifr, err := unix.NewIfreq("lo")
	if err != nil || unix.IoctlIfreq(s.fd, unix.SIOCGIFINDEX, ifr) != nil {
		return 0
	}
	return ifr.Uint32()
}

// Interface returns the name of the interface captured on.
func (s *Socket) Interface() string { return s.name }

// LinkType returns the link type of the packets Next returns: the one to
// compile the filter for.
func (s *Socket) LinkType() cbpf.LinkType { return s.lt }

// Snaplen returns the snapshot length.
func (s *Socket) Snaplen() uint32 { return s.cfg.Snaplen }

// SetFilter attaches the classic program p, compiled for LinkType and
// for a live capture (or, with Config.UserSpaceFilter, runs it in user
// space). The kernel runs it (SO_ATTACH_FILTER); on a cooked
// capture it runs KernelProgram(p), or, when p reads header fields the
// kernel cannot provide, p runs in user space instead, on every packet,
// as libpcap does. A program longer than cbpf.MaxInstructions is
// ErrProgramTooLong; one the kernel refuses is ErrFilterRefused with the
// reason.
//
// On a started socket the old filter is replaced by one that rejects
// everything, the ring is drained (this takes a few block timeouts), and
// p is attached: no packet returned afterwards was accepted by the old
// filter. A packet Next returned before is no longer valid.
func (s *Socket) SetFilter(p *cbpf.Program) error {
	if p.LinkType != s.lt {
		return s.errorf("the program is for link type %v, the capture is %v", p.LinkType, s.lt)
	}
	raw, err := p.Raw()
	if err != nil {
		return s.errorf("%w", err)
	}
	if len(raw) > cbpf.MaxInstructions {
		return s.errorf("%w: %d instructions, the kernel's limit is %d", ErrProgramTooLong, len(raw), cbpf.MaxInstructions)
	}
	var user *cbpf.VM
	if s.cfg.UserSpaceFilter {
		if user, err = cbpf.NewVM(p); err != nil {
			return s.errorf("%w: %w", ErrFilterRefused, err)
		}
		s.user = user
		return nil
	}
	kraw, err := fixCooked(raw, s.lt)
	if err != nil {
		if user, err = cbpf.NewVM(p); err != nil {
			return s.errorf("%w: %w", ErrFilterRefused, err)
		}
		kraw = []bpf.RawInstruction{{Op: 0x06, K: s.cfg.Snaplen}} // ret #snaplen
	}
	if err := cbpf.ValidateRaw(kraw); err != nil {
		return s.errorf("%w: %w", ErrFilterRefused, err)
	}
	return s.replace(func() error { return attachClassic(s.fd, kraw) }, user)
}

// SetEBPF attaches a loaded eBPF socket filter (SO_ATTACH_BPF), such as
// the translation of KernelProgram(p) loaded as ebpf.SocketFilter. It is
// replaced as SetFilter replaces filters. The socket does not own p: it
// may be closed once attached.
func (s *Socket) SetEBPF(p EBPFProgram) error {
	return s.replace(func() error {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, p.FD()); err != nil {
			return fmt.Errorf("%w: SO_ATTACH_BPF: %w", ErrFilterRefused, err)
		}
		return nil
	}, nil)
}

// attachClassic attaches a classic program with SO_ATTACH_FILTER.
func attachClassic(fd int, raw []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOMEM):
		return fmt.Errorf("%w: %w (a %d-instruction program needs more socket memory than net.core.optmem_max allows)", ErrFilterRefused, err, len(raw))
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return fmt.Errorf("%w: SO_ATTACH_FILTER: %w", ErrFilterRefused, err)
}

// replace attaches a filter: directly before the socket is bound, else
// through a reject-all filter and a drain.
func (s *Socket) replace(attach func() error, user *cbpf.VM) error {
	if s.bound {
		if err := attachClassic(s.fd, rejectAll); err != nil {
			return s.errorf("%w", err)
		}
		s.drain()
	}
	if err := attach(); err != nil {
		if s.bound {
			err = fmt.Errorf("%w; the socket now rejects every packet", err)
		}
		return s.errorf("%w", err)
	}
	s.user = user
	return nil
}

// drain gives back every block filled under the old filter. A block the
// kernel is filling is handed over when the block timeout expires (at
// most two timeouts after it started), so wait for that until a wait
// brings nothing new.
func (s *Socket) drain() {
	tov := max(s.cfg.BlockTimeout.Round(time.Millisecond), time.Millisecond)
	for {
		s.ring.discard()
		time.Sleep(2*tov + 5*time.Millisecond)
		if s.ring.discard() == 0 {
			return
		}
	}
}

// Start binds the socket to its interface: packets the filter accepts
// start to arrive in the ring. Next calls it if needed.
func (s *Socket) Start() error {
	if s.bound {
		return nil
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: s.ifindex}
	if err := unix.Bind(s.fd, sa); err != nil {
		if errors.Is(err, unix.ENETDOWN) {
			return s.errorf("%w", ErrInterfaceDown)
		}
		if errors.Is(err, unix.ENODEV) {
			return s.errorf("%w", ErrNoInterface)
		}
		return s.errorf("bind: %w", err)
	}
	s.bound = true
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Next returns the next packet, waiting for one, or io.EOF once Stop
// was called. The data is valid until the next call to Next (it points
// into the ring, or into a buffer when a header or VLAN tag is added).
func (s *Socket) Next() (Packet, error) {
	p, err := s.ReadPacket()
	if err != nil {
		return Packet{}, err
	}
	return *p, nil
}

// ReadPacket is Next without copying the packet: it returns a pointer to
// the socket's own Packet, valid (data and all) until the next call to
// Next or ReadPacket. A capture loop that handles millions of packets a
// second spends a noticeable part of its time copying Packet values.
func (s *Socket) ReadPacket() (*Packet, error) {
	if !s.bound {
		if err := s.Start(); err != nil {
			return nil, err
		}
	}
	for {
		if s.stopped.Load() {
			s.captured.Store(s.n)
			return nil, io.EOF
		}
		off, ok := s.ring.next()
		if !ok {
			s.captured.Store(s.n)
			if err := s.wait(); err != nil {
				return nil, err
			}
			continue
		}
		if s.packet(off) {
			s.n++
			if s.ring.left == 0 {
				s.captured.Store(s.n) // the block's last packet
			}
			return &s.pkt, nil
		}
	}
}

// wait waits until a block is ready, Stop is called, or the socket
// fails (the interface went down or away). The kernel wakes the poller
// when it hands a block over and when it sets the socket's error.
func (s *Socket) wait() error {
	err := s.rc.Read(s.readyFn)
	switch {
	case s.werr != nil:
		return s.werr
	case err == nil || s.stopped.Load():
		return nil
	}
	return s.errorf("wait: %w", err)
}

// ready is wait's test, called by the poller before it waits and each
// time it is woken up: it reports whether to stop waiting. The socket's
// error is read each time no block is ready: the wake-up for an error
// may have come together with one for a block, and been used up by it.
func (s *Socket) ready(uintptr) bool {
	if s.ring.ready() || s.stopped.Load() {
		return true
	}
	errno, gerr := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case gerr != nil:
		s.werr = s.errorf("socket error: %w", gerr)
	case errno == int(unix.ENETDOWN):
		s.werr = s.errorf("%w (it went down or was removed)", ErrInterfaceDown)
	case errno != 0:
		s.werr = s.errorf("%w", unix.Errno(errno))
	}
	return s.werr != nil
}

// Packet types (sll_pkttype).
const pktOutgoing = 4 // PACKET_OUTGOING

// packet decodes the packet whose tpacket3_hdr is at off into s.pkt, and
// reports whether to return it (direction and the user-space filter).
// (Filling s.pkt in place, rather than returning a Packet, saves copies
// of the struct on the path every packet takes.)
func (s *Socket) packet(off int) bool {
	h := s.ring.mem[off:]
	ne := binary.NativeEndian
	sec, nsec := ne.Uint32(h[4:]), ne.Uint32(h[8:])
	snap, wlen, status := int(ne.Uint32(h[12:])), int(ne.Uint32(h[16:])), ne.Uint32(h[20:])
	mac := int(ne.Uint16(h[24:]))
	sll := h[tpHdrLen:]
	pkttype := sll[10]
	switch {
	case pkttype == pktOutgoing && s.loIndex != 0 && ne.Uint32(sll[4:]) == s.loIndex:
		// Sent on the loopback interface: it is received there too.
		return false
	case s.cfg.Direction == In && pkttype == pktOutgoing,
		s.cfg.Direction == Out && pkttype != pktOutgoing:
		return false
	}
	data := h[mac : mac+snap : mac+snap]
	vlan := status&unix.TP_STATUS_VLAN_VALID != 0
	tci := uint16(ne.Uint32(h[32:]))
	tpid := uint16(0x8100)
	if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = ne.Uint16(h[36:])
	}
	switch {
	case s.cooked:
		data, wlen = s.cookedPacket(sll, data, wlen)
	case s.lt == linkCANSocketCAN && len(data) >= 4:
		s.buf = canNetworkOrder(s.buf[:0], data)
		data = s.buf
	case vlan && s.lt == cbpf.LinkEN10MB && len(data) >= 12:
		// The kernel took the tag out; put it back, as libpcap does.
		s.buf = append(s.buf[:0], data[:12]...)
		s.buf = binary.BigEndian.AppendUint16(s.buf, tpid)
		s.buf = binary.BigEndian.AppendUint16(s.buf, tci)
		s.buf = append(s.buf, data[12:]...)
		data, wlen = s.buf, wlen+4
	}
	if len(data) > int(s.cfg.Snaplen) {
		data = data[:s.cfg.Snaplen]
	}
	if s.user != nil {
		m := &s.meta
		m.Protocol = binary.BigEndian.Uint16(sll[2:])
		m.PktType = pkttype
		m.IfIndex = ne.Uint32(sll[4:])
		m.HAType = ne.Uint16(sll[8:])
		m.VLANPresent, m.VLANTCI, m.VLANProto = vlan, tci, tpid
		m.RXHash = ne.Uint32(h[28:])
		v := s.user.RunMeta(data, wlen, m)
		if v == 0 {
			return false
		}
		if int(v) < len(data) {
			data = data[:v]
		}
	}
	p := &s.pkt
	p.Data = data
	p.Info.Sec, p.Info.Frac = sec, nsec/1000
	if s.cfg.Nanosecond {
		p.Info.Frac = nsec
	}
	p.Info.CapLen, p.Info.Len, p.Info.Nano = len(data), wlen, s.cfg.Nanosecond
	return true
}

// cookedPacket puts a LINUX_SLL or LINUX_SLL2 header built from the
// sockaddr_ll in front of a packet from a SOCK_DGRAM socket.
func (s *Socket) cookedPacket(sll, data []byte, wlen int) ([]byte, int) {
	ne := binary.NativeEndian
	hatype, pkttype, halen := ne.Uint16(sll[8:]), sll[10], sll[11]
	addr := sll[12:20]
	b := s.buf[:0]
	if s.lt == cbpf.LinkLinuxSLL2 {
		b = append(b, sll[2], sll[3], 0, 0) // protocol (network order), reserved
		b = binary.BigEndian.AppendUint32(b, ne.Uint32(sll[4:]))
		b = binary.BigEndian.AppendUint16(b, hatype)
		b = append(b, pkttype, halen)
		b = append(b, addr...)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(pkttype))
		b = binary.BigEndian.AppendUint16(b, hatype)
		b = binary.BigEndian.AppendUint16(b, uint16(halen))
		b = append(b, addr...)
		b = append(b, sll[2], sll[3])
	}
	hdr := len(b)
	b = append(b, data...)
	s.buf = b
	return b, wlen + hdr
}

// Stats returns the capture's counters: those the kernel keeps
// (PACKET_STATISTICS, which resets them on each read, so they are added
// up here) and the packets Next returned.
func (s *Socket) Stats() (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Stats{}, s.errorf("%w", ErrClosed)
	}
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, s.errorf("statistics: %w", err)
	}
	s.stats.Received += uint64(st.Packets)
	s.stats.Dropped += uint64(st.Drops)
	s.stats.FreezeCount += uint64(st.Freeze_q_cnt)
	out := s.stats
	out.Captured = s.captured.Load()
	return out, nil
}

// Stop makes a Next waiting for packets, or the next call to Next,
// return io.EOF. It may be called from any goroutine, such as a signal
// handler's.
func (s *Socket) Stop() {
	s.stopped.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.file != nil {
		s.file.SetReadDeadline(time.Unix(1, 0)) // in the past: wakes a waiting Next
	}
}

// Close unmaps the ring and closes the socket; the interface leaves
// promiscuous mode if it was put in it.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.ring != nil {
		err = s.ring.close()
	}
	switch {
	case s.file != nil:
		if cerr := s.file.Close(); err == nil {
			err = cerr
		}
	case s.fd >= 0:
		if cerr := unix.Close(s.fd); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return s.errorf("close: %w", err)
	}
	return nil
}
