package testpcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// A Record is one packet of a capture.
type Record struct {
	Orig uint32 // length on the wire
	Data []byte // the captured bytes
}

// File is a capture read whole.
type File struct {
	LinkType uint32 // the header's LINKTYPE_ value
	Order    binary.ByteOrder
	Snaplen  uint32
	Records  []Record
}

// Read reads the classic pcap file at path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errors.New("short pcap header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, errors.New("not a pcap file")
	}
	f := &File{Order: bo, Snaplen: bo.Uint32(b[16:]), LinkType: bo.Uint32(b[20:])}
	for off := 24; off+16 <= len(b); {
		incl := int(bo.Uint32(b[off+8:]))
		orig := bo.Uint32(b[off+12:])
		if off+16+incl > len(b) {
			return nil, fmt.Errorf("truncated record at byte %d", off)
		}
		data := b[off+16 : off+16+incl]
		if snap := int(f.Snaplen); snap > 0 && snap <= 262144 && len(data) > snap {
			data = data[:snap] // libpcap cuts a record to the snapshot length
		}
		f.Records = append(f.Records, Record{orig, data})
		off += 16 + incl
	}
	return f, nil
}

// AppendHeader appends a classic little-endian pcap file header (version
// 2.4, microsecond stamps) to b.
func AppendHeader(b []byte, linkType, snaplen uint32) []byte {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	return append(b, h[:]...)
}

// AppendRecord appends a record of a little-endian pcap file to b: its
// timestamp, the captured bytes and the length on the wire.
func AppendRecord(b []byte, sec, usec uint32, data []byte, orig uint32) []byte {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], sec)
	binary.LittleEndian.PutUint32(h[4:], usec)
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], orig)
	return append(append(b, h[:]...), data...)
}
