package capture

import (
	"encoding/binary"
	"io"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfc/bpfc/cbpf"
)

// fakeRing lays out blocks as the kernel fills them: each holds as many
// copies of frame as fit, with TPACKET_V3 headers, and is handed to user
// space.
func fakeRing(blockSize, numBlocks int, frame []byte) *ring {
	r := &ring{mem: make([]byte, blockSize*numBlocks), blockSize: blockSize, numBlocks: numBlocks}
	ne := binary.NativeEndian
	const first, mac = 48, 82
	step := (mac + len(frame) + 15) &^ 15
	for b := range numBlocks {
		base := b * blockSize
		n := (blockSize - first) / step
		ne.PutUint32(r.mem[base+blkNumPktsOff:], uint32(n))
		ne.PutUint32(r.mem[base+blkFirstPktOff:], first)
		for i := range n {
			h := r.mem[base+first+i*step:]
			ne.PutUint32(h[0:], uint32(step))
			ne.PutUint32(h[4:], 1700000000)
			ne.PutUint32(h[8:], uint32(i*1000))
			ne.PutUint32(h[12:], uint32(len(frame)))
			ne.PutUint32(h[16:], uint32(len(frame)))
			ne.PutUint16(h[24:], mac)
			h[tpHdrLen+10] = 0 // PACKET_HOST
			copy(h[mac:], frame)
		}
	}
	r.refill()
	return r
}

// refill hands every block to user space again.
func (r *ring) refill() {
	for b := range r.numBlocks {
		binary.NativeEndian.PutUint32(r.mem[b*r.blockSize+blkStatusOff:], unix.TP_STATUS_USER)
	}
}

// BenchmarkRingToFile is the user-space work of a capture per packet:
// the ring read, the packet decoded, written as pcap (to io.Discard).
func BenchmarkRingToFile(b *testing.B) {
	frame := make([]byte, 60)
	r := fakeRing(1<<20, 4, frame)
	s := &Socket{ring: r, lt: cbpf.LinkEN10MB, cfg: (&Config{}).withDefaults(), bound: true}
	w, err := NewFileWriter(io.Discard, cbpf.LinkEN10MB, cbpf.DefaultSnaplen, false)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r.held && r.left == 0 {
			r.release()
		}
		if !r.ready() {
			r.refill()
		}
		p, err := s.ReadPacket()
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Write(*p); err != nil {
			b.Fatal(err)
		}
	}
}
