package codegen

import (
	"testing"

	"github.com/bpfc/bpfc/cbpf"
)

// TestDECnetHostAgainstLibpcap checks "decnet [src|dst] host" against
// libpcap's program on DECnet frames made to hit every branch: each
// value of the routing header's flag byte, with the padding byte's low
// bits set each way, and the address in none or one of the places any
// of the four header forms has it, each frame cut at every length
// through the addresses. bpfc tests the two one-byte flag forms before
// the two padded ones (libpcap interleaves them), which is the same
// filter only because the forms exclude each other and every address
// load needs more bytes than the padded forms' flag load: a cut frame
// must be refused exactly where libpcap's is.
func TestDECnetHostAgainstLibpcap(t *testing.T) {
	var addr uint16 = 50<<10 | 764 // 50.764, little-endian 0xcafc on the wire
	for _, tc := range []struct {
		lt   string
		hdr  []byte // the link header up to the DECnet packet
		expr string
	}{
		{"EN10MB", etherHdr(0x6003), "decnet host 50.764"},
		{"EN10MB", etherHdr(0x6003), "decnet src 50.764"},
		{"EN10MB", etherHdr(0x6003), "decnet dst 50.764"},
		{"EN10MB", etherHdr(0x6003), "decnet src 50.764 and decnet dst 50.764"},
		{"LINUX_SLL", sllHdr(0x6003), "decnet host 50.764"},
		{"LINUX_SLL", sllHdr(0x6003), "decnet dst 50.764"},
	} {
		t.Run(tc.lt+"/"+tc.expr, func(t *testing.T) {
			theirs := tcpdumpProgram(t, tc.lt, tc.expr)
			lt, err := cbpf.ParseLinkType(tc.lt)
			if err != nil {
				t.Fatal(err)
			}
			pl := len(tc.hdr)
			// Where the four forms (short and long, each with and without
			// the padding byte) keep the destination and the source
			// address, from the start of the DECnet packet (2 bytes of
			// length, then the flags): one place, or both of one form.
			places := [][]int{{}, {3}, {4}, {9}, {10}, {5}, {6}, {17}, {18}, {3, 5}, {4, 6}, {9, 17}, {10, 18}}
			for _, o := range []Options{{}, {Compact: true}, {NoOptimize: true}} {
				o.LinkType = lt
				ours := compileRaw(t, tc.expr, o)
				if !o.NoOptimize && len(ours) > len(theirs) {
					t.Errorf("%+v: %d instructions, libpcap %d", o, len(ours), len(theirs))
				}
				kept, runs, bad := 0, 0, 0
				for flags := 0; flags < 256; flags++ {
					for _, pad := range []byte{0x02, 0x06, 0x01, 0xfa, 0x86} {
						for _, at := range places {
							pkt := make([]byte, pl+24)
							copy(pkt, tc.hdr)
							pkt[pl+2] = byte(flags)
							pkt[pl+3] = pad
							for _, a := range at {
								pkt[pl+a] = byte(addr)
								pkt[pl+a+1] = byte(addr >> 8)
							}
							for n := pl + 2; n <= len(pkt); n++ {
								a := refRun(ours, pkt[:n], uint32(n))
								b := refRun(theirs, pkt[:n], uint32(n))
								runs++
								if a != 0 {
									kept++
								}
								if (a != 0) != (b != 0) {
									bad++
									if bad <= 3 {
										t.Errorf("%+v: flags %#02x pad %#02x address at %v, %d bytes: ours %d, libpcap %d",
											o, flags, pad, at, n, a, b)
									}
								}
							}
						}
					}
				}
				if bad > 0 {
					t.Errorf("%+v: %d of %d frames differ", o, bad, runs)
				}
				// The frames must exercise the matches, not only the
				// refusals.
				if kept < 1000 {
					t.Errorf("%+v: only %d of %d frames kept", o, kept, runs)
				}
				t.Logf("%+v: %d instructions (libpcap %d), %d of %d frames kept", o, len(ours), len(theirs), kept, runs)
			}
		})
	}
}

func etherHdr(typ uint16) []byte {
	h := make([]byte, 14)
	h[12], h[13] = byte(typ>>8), byte(typ)
	return h
}

func sllHdr(typ uint16) []byte {
	h := make([]byte, 16)
	h[14], h[15] = byte(typ>>8), byte(typ)
	return h
}
