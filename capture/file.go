package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/bpfc/bpfc/cbpf"
)

// ErrFormat marks a file that is neither pcap nor pcapng, or whose
// records are corrupt or cut short.
var ErrFormat = errors.New("bad capture file")

// Info is a packet's capture metadata. The timestamp is kept as the file
// has it (seconds and a fraction in the file's resolution), so a packet
// copied from one pcap file to another keeps its exact record header,
// even a malformed one, as libpcap does.
type Info struct {
	Sec    uint32 // seconds since the epoch
	Frac   uint32 // microseconds, or nanoseconds in a nanosecond file
	CapLen int    // bytes captured
	Len    int    // length on the wire
	Nano   bool   // Frac is in nanoseconds
}

// Time returns the timestamp as a time.Time.
func (i Info) Time() time.Time {
	ns := int64(i.Frac)
	if !i.Nano {
		ns *= 1000
	}
	return time.Unix(int64(i.Sec), ns).UTC()
}

// Packet is one packet read from a file: its captured bytes (valid only
// until the next Next call) and capture metadata.
type Packet struct {
	Data []byte
	Info Info
}

// Classic pcap magic numbers, as read little-endian.
const (
	magicMicro     = 0xa1b2c3d4
	magicNano      = 0xa1b23c4d
	magicMicroSwap = 0xd4c3b2a1
	magicNanoSwap  = 0x4d3cb2a1
	pcapHeaderLen  = 24
	recordHdrLen   = 16
	// maxRecord bounds a record's captured length, like libpcap's
	// maximum snapshot length, so a corrupt length cannot exhaust memory.
	maxRecord = 256 << 20
	// readBufSize is the read buffer's size: records up to this size
	// (headers included) are returned without a copy.
	readBufSize = 256 << 10
)

var ngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// A FileReader reads the packets of a pcap or pcapng stream, one at a
// time and without an allocation per packet. Classic pcap is read
// directly, as libpcap reads it (a record whose captured length exceeds
// its wire length is kept); pcapng goes through gopacket's pcapgo.
type FileReader struct {
	br      *bufio.Reader
	bo      binary.ByteOrder
	ng      *pcapgo.NgReader
	lt      cbpf.LinkType
	snaplen uint32
	nanos   bool
	n       int   // packets read
	off     int64 // byte offset of the next record (classic pcap)
	// Classic pcap is read through buf, from src: buf[r:w] is unread.
	// Records are returned in place, without a copy.
	src  io.Reader
	buf  []byte
	r, w int
	rerr error // the error that ended src
	swap bool  // the file is big-endian
}

// NewFileReader reads the file header of a pcap or pcapng stream and
// returns a reader for its packets.
func NewFileReader(r io.Reader) (*FileReader, error) {
	br := bufio.NewReaderSize(r, readBufSize)
	head, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the file is empty or shorter than a header", ErrFormat)
		}
		return nil, err
	}
	f := &FileReader{br: br}
	if bytes.Equal(head, ngMagic) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%w: pcapng header: %v", ErrFormat, err)
		}
		f.ng = ng
		if ng.NInterfaces() > 0 {
			if ifc, err := ng.Interface(0); err == nil {
				f.snaplen = ifc.SnapLength
			}
		}
		f.lt = cbpf.LinkTypeFromPcap(uint32(ng.LinkType()))
		f.nanos = ng.Resolution() == gopacket.TimestampResolutionNanosecond
	} else {
		if err := f.readPcapHeader(); err != nil {
			return nil, err
		}
		// From here on, read from r into buf: first what br holds.
		f.buf = make([]byte, readBufSize)
		f.w = copy(f.buf, peekBuffered(br))
		f.src, f.br = r, nil
	}
	if f.snaplen == 0 {
		f.snaplen = cbpf.DefaultSnaplen
	}
	return f, nil
}

// peekBuffered returns what br has buffered.
func peekBuffered(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return b
}

func (f *FileReader) readPcapHeader() error {
	var h [pcapHeaderLen]byte
	if _, err := io.ReadFull(f.br, h[:]); err != nil {
		return fmt.Errorf("%w: the file is shorter than a pcap header (%d bytes)", ErrFormat, pcapHeaderLen)
	}
	switch binary.LittleEndian.Uint32(h[:]) {
	case magicMicro:
		f.bo = binary.LittleEndian
	case magicNano:
		f.bo, f.nanos = binary.LittleEndian, true
	case magicMicroSwap:
		f.bo = binary.BigEndian
	case magicNanoSwap:
		f.bo, f.nanos = binary.BigEndian, true
	default:
		return fmt.Errorf("%w: not a pcap or pcapng file (magic %#08x)", ErrFormat, binary.BigEndian.Uint32(h[:]))
	}
	if major := f.bo.Uint16(h[4:]); major != 2 {
		return fmt.Errorf("%w: pcap version %d.%d is not supported", ErrFormat, major, f.bo.Uint16(h[6:]))
	}
	f.snaplen = f.bo.Uint32(h[16:])
	// The upper bits of the link-type field hold an FCS length and flags.
	f.lt = cbpf.LinkTypeFromPcap(f.bo.Uint32(h[20:]) & 0x0fffffff)
	f.off = pcapHeaderLen
	f.swap = f.bo == binary.BigEndian
	return nil
}

// LinkType returns the file's link type as a DLT_ value.
func (f *FileReader) LinkType() cbpf.LinkType { return f.lt }

// Snaplen returns the file's snapshot length.
func (f *FileReader) Snaplen() uint32 { return f.snaplen }

// Nanosecond reports whether the file's timestamps have nanosecond
// resolution.
func (f *FileReader) Nanosecond() bool { return f.nanos }

// ByteOrder returns the byte order the file was written in (little-endian
// for pcapng, whose byte order pcapgo does not expose).
func (f *FileReader) ByteOrder() binary.ByteOrder {
	if f.bo == nil {
		return binary.LittleEndian
	}
	return f.bo
}

// Count returns the number of packets read so far.
func (f *FileReader) Count() int { return f.n }

// Next returns the next packet, or io.EOF after the last one. The data
// is overwritten by the next call. An error names the packet (1-based)
// and, for classic pcap, the byte offset of its record.
func (f *FileReader) Next() (Packet, error) {
	if f.ng != nil {
		return f.nextNg()
	}
	if f.w-f.r < recordHdrLen && !f.fill(recordHdrLen) {
		switch n := f.w - f.r; {
		case n == 0 && f.rerr == io.EOF:
			return Packet{}, io.EOF
		case f.rerr == io.EOF:
			return Packet{}, f.recordErr("the file ends %d bytes into the record header", n)
		}
		return Packet{}, f.readErr(f.rerr)
	}
	hdr := f.buf[f.r : f.r+recordHdrLen]
	info := Info{
		Sec:    f.u32(hdr[0:]),
		Frac:   f.u32(hdr[4:]),
		CapLen: int(f.u32(hdr[8:])),
		Len:    int(f.u32(hdr[12:])),
		Nano:   f.nanos,
	}
	if info.CapLen > maxRecord || info.CapLen < 0 {
		return Packet{}, f.recordErr("captured length %d is larger than any snapshot length", info.CapLen)
	}
	size := recordHdrLen + info.CapLen
	if f.w-f.r < size && !f.fill(size) {
		if f.rerr == io.EOF {
			return Packet{}, f.recordErr("the file ends %d bytes into the record's %d bytes of data", f.w-f.r-recordHdrLen, info.CapLen)
		}
		return Packet{}, f.readErr(f.rerr)
	}
	data := f.buf[f.r+recordHdrLen : f.r+size : f.r+size]
	if snap := f.snapshot(); info.CapLen > snap {
		// As libpcap: a record longer than the file's snapshot length is
		// cut to it (the rest is skipped), so a filter never sees more.
		data = data[:snap:snap]
		info.CapLen = snap
	}
	f.r += size
	f.n++
	f.off += int64(size)
	return Packet{Data: data, Info: info}, nil
}

// snapshot is the length libpcap cuts records to: the file's snapshot
// length, or 262,144 when that is 0 or larger.
func (f *FileReader) snapshot() int {
	if f.snaplen == 0 || f.snaplen > cbpf.DefaultSnaplen {
		return cbpf.DefaultSnaplen
	}
	return int(f.snaplen)
}

// u32 decodes a 32-bit field of a record header.
func (f *FileReader) u32(b []byte) uint32 {
	v := binary.LittleEndian.Uint32(b)
	if f.swap {
		v = bits.ReverseBytes32(v)
	}
	return v
}

// fill reads until buf holds n unread bytes, moving the unread bytes to
// the front and growing buf as needed (stepwise, so that a corrupt
// length cannot make it much larger than what the file holds). It
// reports whether it got them; if not, rerr says why.
func (f *FileReader) fill(n int) bool {
	if f.r > 0 {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	for f.w < n && f.rerr == nil {
		if f.w == len(f.buf) {
			nb := make([]byte, min(n, 2*len(f.buf)))
			copy(nb, f.buf[:f.w])
			f.buf = nb
		}
		m, err := f.src.Read(f.buf[f.w:])
		f.w += m
		if err != nil {
			f.rerr = err
		}
	}
	return f.w >= n
}

// readErr wraps an I/O error met while reading a record.
func (f *FileReader) readErr(err error) error {
	return fmt.Errorf("packet %d (record at byte %d): %w", f.n+1, f.off, err)
}

func (f *FileReader) recordErr(format string, args ...any) error {
	return fmt.Errorf("%w: packet %d (record at byte %d): %s", ErrFormat, f.n+1, f.off, fmt.Sprintf(format, args...))
}

func (f *FileReader) nextNg() (Packet, error) {
	data, ci, err := f.ng.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Packet{}, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("the file ends in the middle of a block")
		}
		return Packet{}, fmt.Errorf("%w: packet %d: %v", ErrFormat, f.n+1, err)
	}
	f.n++
	ts := ci.Timestamp
	info := Info{Sec: uint32(ts.Unix()), CapLen: ci.CaptureLength, Len: ci.Length, Nano: f.nanos}
	if f.nanos {
		info.Frac = uint32(ts.Nanosecond())
	} else {
		info.Frac = uint32(ts.Nanosecond() / 1000)
	}
	return Packet{Data: data, Info: info}, nil
}

// A FileWriter writes packets to a classic pcap stream, buffered. Record
// headers are written as the packets carry them.
type FileWriter struct {
	bw    *bufio.Writer
	nanos bool
	hdr   [recordHdrLen]byte
}

// NewFileWriter writes a pcap file header (little-endian, version 2.4)
// for the link type and snapshot length, with nanosecond timestamps when
// nanos is set.
func NewFileWriter(w io.Writer, lt cbpf.LinkType, snaplen uint32, nanos bool) (*FileWriter, error) {
	plt, ok := lt.PcapLinkType()
	if !ok {
		return nil, fmt.Errorf("link type %v has no pcap file number", lt)
	}
	var h [pcapHeaderLen]byte
	magic := uint32(magicMicro)
	if nanos {
		magic = magicNano
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], plt)
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(h[:]); err != nil {
		return nil, err
	}
	return &FileWriter{bw: bw, nanos: nanos}, nil
}

// Write appends one packet, converting its timestamp's resolution to the
// file's if needed.
func (w *FileWriter) Write(p Packet) error {
	frac := p.Info.Frac
	switch {
	case w.nanos && !p.Info.Nano:
		frac *= 1000
	case !w.nanos && p.Info.Nano:
		frac /= 1000
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], p.Info.Sec)
	binary.LittleEndian.PutUint32(w.hdr[4:], frac)
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(p.Data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], uint32(p.Info.Len))
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.bw.Write(p.Data)
	return err
}

// Flush writes any buffered data to the underlying writer.
func (w *FileWriter) Flush() error { return w.bw.Flush() }
