package capture

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A ring is a TPACKET_V3 receive ring mapped into memory: NumBlocks
// blocks of BlockSize bytes, each owned by the kernel (status
// TP_STATUS_KERNEL) while it fills it, then handed over to user space
// (TP_STATUS_USER) when full or when the block timeout expires, and
// given back when all its packets have been read.
//
// Layout (linux/if_packet.h): a block starts with a tpacket_block_desc
// (version, offset to private area, tpacket_hdr_v1 with block_status,
// num_pkts, offset_to_first_pkt, ...); each packet is a tpacket3_hdr
// followed, at TPACKET_ALIGN(sizeof(tpacket3_hdr)), by a sockaddr_ll, and
// its data at tp_mac; tp_next_offset leads to the next packet.
type ring struct {
	mem       []byte
	blockSize int
	numBlocks int
	cur       int // the block read now, or the next one to wait for
	// In the current block (when held): the packets left and the offset
	// of the next one.
	held bool
	left int
	off  int
}

// Offsets in a block and a packet header.
const (
	blkStatusOff   = 8  // tpacket_block_desc.hdr.bh1.block_status
	blkNumPktsOff  = 12 // .num_pkts
	blkFirstPktOff = 16 // .offset_to_first_pkt
	tpHdrLen       = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
	frameSize      = 2048
)

// newRing sets TPACKET_V3 on fd and maps a receive ring.
func newRing(fd int, blockSize, numBlocks int, timeoutMS int) (*ring, error) {
	page := os.Getpagesize()
	if blockSize <= 0 || blockSize%page != 0 || blockSize%frameSize != 0 {
		return nil, fmt.Errorf("block size %d is not a multiple of the page size (%d)", blockSize, page)
	}
	if numBlocks <= 0 {
		return nil, fmt.Errorf("block count %d: want at least 1", numBlocks)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("set TPACKET_V3: %w", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(blockSize),
		Block_nr:       uint32(numBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(blockSize / frameSize * numBlocks),
		Retire_blk_tov: uint32(max(timeoutMS, 1)),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("set up the receive ring (%d blocks of %d bytes): %w", numBlocks, blockSize, err)
	}
	mem, err := unix.Mmap(fd, 0, blockSize*numBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED|unix.MAP_POPULATE)
	if err != nil {
		// MAP_LOCKED may exceed RLIMIT_MEMLOCK: try without.
		mem, err = unix.Mmap(fd, 0, blockSize*numBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	if err != nil {
		return nil, fmt.Errorf("map the receive ring: %w", err)
	}
	return &ring{mem: mem, blockSize: blockSize, numBlocks: numBlocks}, nil
}

func (r *ring) close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	return err
}

// u32 returns a pointer to the 32-bit word at off, for atomic access to
// the words the kernel writes.
func (r *ring) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[off])) }

// status returns block b's status.
func (r *ring) status(b int) uint32 {
	return atomic.LoadUint32(r.u32(b*r.blockSize + blkStatusOff))
}

// ready reports whether the current block holds packets for user space.
func (r *ring) ready() bool {
	return r.held || r.status(r.cur)&unix.TP_STATUS_USER != 0
}

// next returns the offset of the next packet's tpacket3_hdr in mem, or
// false if no block is ready. A block is given back when all its packets
// have been read, on the call after its last packet: its memory stays
// valid until then.
func (r *ring) next() (int, bool) {
	for {
		if r.held {
			if r.left > 0 {
				off := r.off
				r.left--
				r.off += int(*r.u32(off)) // tp_next_offset
				return off, true
			}
			r.release()
			continue
		}
		base := r.cur * r.blockSize
		if r.status(r.cur)&unix.TP_STATUS_USER == 0 {
			return 0, false
		}
		r.held = true
		r.left = int(*r.u32(base + blkNumPktsOff))
		r.off = base + int(*r.u32(base + blkFirstPktOff))
	}
}

// release gives the current block back to the kernel and moves on.
func (r *ring) release() {
	atomic.StoreUint32(r.u32(r.cur*r.blockSize+blkStatusOff), unix.TP_STATUS_KERNEL)
	r.held = false
	r.left = 0
	r.cur = (r.cur + 1) % r.numBlocks
}

// discard gives back every block user space holds, in order, and
// returns how many packets they had.
func (r *ring) discard() int {
	n := 0
	for {
		if r.held {
			n += r.left
			r.release()
			continue
		}
		if r.status(r.cur)&unix.TP_STATUS_USER == 0 {
			return n
		}
		n += int(*r.u32(r.cur*r.blockSize + blkNumPktsOff))
		r.release()
	}
}
