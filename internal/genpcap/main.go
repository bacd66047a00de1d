// Command genpcap writes a large classic pcap file for benchmarks: by
// default a deterministic mix of synthetic Ethernet packets (IPv4 and
// IPv6 TCP and UDP on common ports, ICMP, ARP, VLAN-tagged traffic),
// about 155 bytes each on average; with -in, the records of a capture
// repeated unchanged.
//
//	go run ./internal/genpcap -n 1050000 -out big.pcap
//	go run ./internal/genpcap -in testdata/pcaps/en10mb.pcap -n 100000 -out big.pcap
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/bpfc/bpfc/internal/testpcap"
)

func main() {
	in := flag.String("in", "", "capture whose records are repeated (default: synthetic packets)")
	n := flag.Int("n", 1050000, "number of packets to write")
	out := flag.String("out", "big.pcap", "output file")
	flag.Parse()
	if err := run(*in, *out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "genpcap:", err)
		os.Exit(1)
	}
}

// record is one packet to write.
type record struct {
	orig uint32
	data []byte
}

func run(in, out string, n int) error {
	var recs []record
	snaplen, linkType := uint32(262144), uint32(1) // LINKTYPE_ETHERNET
	if in != "" {
		src, err := testpcap.Read(in)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		if len(src.Records) == 0 {
			return fmt.Errorf("%s: no packets", in)
		}
		for _, r := range src.Records {
			recs = append(recs, record{r.Orig, r.Data})
		}
		snaplen, linkType = src.Snaplen, src.LinkType
	} else {
		recs = synthetic(4096)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(testpcap.AppendHeader(nil, linkType, snaplen))
	var buf []byte
	for i := range n {
		r := recs[i%len(recs)]
		// One microsecond apart, so timestamps increase.
		buf = testpcap.AppendRecord(buf[:0], uint32(1_700_000_000+i/1_000_000), uint32(i%1_000_000), r.data, r.orig)
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// synthetic makes n packets from a fixed seed.
func synthetic(n int) []record {
	rng := rand.New(rand.NewPCG(1, 2))
	ports := []uint16{80, 443, 53, 22, 8080, 123, 25, 5353}
	recs := make([]record, 0, n)
	for range n {
		var p []byte
		eth := func(etype uint16, vlan bool) {
			p = append(p, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, byte(rng.IntN(256)))
			if vlan {
				p = binary.BigEndian.AppendUint16(p, 0x8100)
				p = binary.BigEndian.AppendUint16(p, uint16(rng.IntN(4095)+1))
			}
			p = binary.BigEndian.AppendUint16(p, etype)
		}
		payload := rng.IntN(160)
		kind := rng.IntN(100)
		vlan := kind >= 95
		switch {
		case kind < 8: // ARP
			eth(0x0806, false)
			p = append(p, 0, 1, 8, 0, 6, 4, 0, 1)
			p = append(p, make([]byte, 20)...)
			payload = 0
		case kind < 20: // IPv6 TCP or UDP
			eth(0x86dd, false)
			proto := byte(6)
			l4 := 20
			if rng.IntN(2) == 0 {
				proto, l4 = 17, 8
			}
			p = append(p, 0x60, 0, 0, 0)
			p = binary.BigEndian.AppendUint16(p, uint16(l4+payload))
			p = append(p, proto, 64)
			src := [16]byte{0: 0xfe, 1: 0x80, 14: 1, 15: byte(rng.IntN(256))}
			dst := [16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 15: byte(rng.IntN(256))}
			p = append(append(p, src[:]...), dst[:]...)
			p = l4hdr(p, rng, proto, ports)
		default: // IPv4: TCP, UDP or ICMP, some fragments
			eth(0x0800, vlan)
			proto := byte(6)
			l4 := 20
			switch r := rng.IntN(10); {
			case r < 3:
				proto, l4 = 17, 8
			case r == 3:
				proto, l4 = 1, 8
			}
			frag := uint16(0)
			if rng.IntN(50) == 0 {
				frag = uint16(rng.IntN(100) + 1)
			}
			p = append(p, 0x45, 0)
			p = binary.BigEndian.AppendUint16(p, uint16(20+l4+payload))
			p = binary.BigEndian.AppendUint16(p, uint16(rng.IntN(65536)))
			p = binary.BigEndian.AppendUint16(p, frag)
			p = append(p, 64, proto, 0, 0, 10, 0, byte(rng.IntN(4)), byte(rng.IntN(256)), 192, 168, 1, byte(rng.IntN(256)))
			p = l4hdr(p, rng, proto, ports)
		}
		p = append(p, make([]byte, payload)...)
		recs = append(recs, record{orig: uint32(len(p)), data: p})
	}
	return recs
}

// l4hdr appends a TCP, UDP or ICMP header.
func l4hdr(p []byte, rng *rand.Rand, proto byte, ports []uint16) []byte {
	port := func() uint16 {
		if rng.IntN(3) == 0 {
			return uint16(1024 + rng.IntN(60000))
		}
		return ports[rng.IntN(len(ports))]
	}
	switch proto {
	case 6:
		p = binary.BigEndian.AppendUint16(p, port())
		p = binary.BigEndian.AppendUint16(p, port())
		p = append(p, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0)
	case 17:
		p = binary.BigEndian.AppendUint16(p, port())
		p = binary.BigEndian.AppendUint16(p, port())
		p = append(p, 0, 8, 0, 0)
	default:
		p = append(p, 8, 0, 0, 0, 0, 1, 0, 1)
	}
	return p
}
