package bpfc_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
	"golang.org/x/net/bpf"
)

// TestLinkBattery checks every link type libpcap knows by name against
// testdata/linkbattery.tsv (go run ./internal/linkbattery): a battery of
// expressions as tcpdump -ddd -y compiles or refuses them, and some as
// tcpdump -ddd -r compiles them for a savefile. Where libpcap
// refuses, bpfc must refuse with libpcap's message; where it compiles,
// bpfc must compile a program that returns what libpcap's returns on
// every packet of a pseudo-random set (lengths 0 to 100, bytes drawn from
// values the headers use) and of a set made to pass its tests
// (directedPackets). Link types bpfc does not support yet are
// counted and skipped.
func TestLinkBattery(t *testing.T) {
	f, err := os.Open("testdata/linkbattery.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkts := batteryPackets(400)
	notYet := map[string]bool{}
	cases, checked := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.SplitN(line, "\t", 4)
		if len(cols) != 4 {
			t.Fatalf("bad line %q", line)
		}
		cases++
		name, mode, expr, want := cols[0], cols[1], cols[2], cols[3]
		lt, err := cbpf.ParseLinkType(name)
		if err != nil {
			t.Fatal(err)
		}
		opts := []bpfc.Option{bpfc.WithLinkType(lt), bpfc.WithResolver(noHosts{})}
		if mode == "file" {
			// (as libpcap compiles for the generator's one-packet
			// capture: little-endian, snaplen 65535)
			opts = append(opts, bpfc.ForSavefile(binary.LittleEndian), bpfc.WithSnaplen(65535))
		}
		name += " (" + mode + ")"
		p, err := bpfc.Compile(expr, opts...)
		if err != nil && strings.Contains(err.Error(), "is not supported yet") {
			notYet[cols[0]] = true
			continue
		}
		checked++
		if msg, ok := strings.CutPrefix(want, "error: "); ok {
			if err == nil {
				if msg == "expression rejects all packets" && p.Len() == 1 {
					continue // (a program of one "ret #0" keeps what libpcap keeps)
				}
				t.Errorf("%s %q: libpcap refuses (%s), bpfc compiles %d instructions", name, expr, msg, p.Len())
				continue
			}
			var pe *parser.Error
			got := err.Error()
			if errors.As(err, &pe) {
				got = pe.Msg
				if pe.Kind == parser.ErrSyntax && strings.Contains(msg, "syntax error") {
					continue // (bpfc says what it expected)
				}
			}
			if got != msg {
				t.Errorf("%s %q: message\n  libpcap: %s\n  bpfc:    %s", name, expr, msg, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: libpcap compiles, bpfc refuses: %v", name, expr, err)
			continue
		}
		ref, err := cbpf.ParseAs(strings.ReplaceAll(strings.TrimPrefix(want, "ddd: "), ";", "\n"), cbpf.FormatDecimal)
		if err != nil {
			t.Fatalf("%s %q: libpcap's program: %v", name, expr, err)
		}
		vm, err := cbpf.NewLibpcapVM(p)
		if err != nil {
			t.Errorf("%s %q: %v", name, expr, err)
			continue
		}
		refVM, err := cbpf.NewLibpcapVM(ref)
		if err != nil {
			// protochain: libpcap's loop jumps backwards, which the VM
			// (as the kernel) refuses; its packets are compared by the
			// golden tests and by TestProtochain's interpreter.
			continue
		}
		raw, err := ref.Raw()
		if err != nil {
			t.Fatal(err)
		}
		for _, pkt := range append(pkts, directedPackets(raw, 200)...) {
			if a, b := refVM.Run(pkt, len(pkt)), vm.Run(pkt, len(pkt)); a != b {
				t.Errorf("%s %q: on % x libpcap returns %d, bpfc %d", name, expr, pkt, a, b)
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no case checked")
	}
	t.Logf("%d cases, %d checked; link types not supported yet: %d", cases, checked, len(notYet))
}

// directedPackets returns n packets made to pass the tests of a program:
// each load of a field followed by a comparison with a constant (through
// a mask, too) gives a field and the value it is compared with, and each
// packet has some of those values written at their fields (at the
// offsets of an IPv4 header of 20 bytes for indexed loads), over random
// bytes, cut at a random length from 0 to 20 bytes past the last field.
func directedPackets(raw []bpf.RawInstruction, n int) [][]byte {
	type field struct {
		off, size int
		val       uint32
	}
	var fields []field
	last := 0
	for pc, ins := range raw {
		var size int
		switch ins.Op &^ 0x18 { // (class and mode)
		case 0x20: // ld abs
			size = map[uint16]int{0x00: 4, 0x08: 2, 0x10: 1}[ins.Op&0x18]
		case 0x40: // ld ind
			size = map[uint16]int{0x00: 4, 0x08: 2, 0x10: 1}[ins.Op&0x18]
		default:
			continue
		}
		off := int(ins.K)
		if ins.Op&0xe0 == 0x40 {
			off += 20
		}
		if off < 0 || off > 200 {
			continue
		}
		for _, next := range raw[pc+1 : min(pc+3, len(raw))] {
			if next.Op&0x07 == 0x05 && next.Op&0x08 == 0 { // jmp #k
				fields = append(fields, field{off, size, next.K})
				fields = append(fields, field{off, size, next.K + 1})
				last = max(last, off+size)
				break
			}
		}
	}
	next := xorshift(uint64(len(raw))*0x9e3779b97f4a7c15 + 1)
	out := make([][]byte, n)
	for i := range out {
		pkt := make([]byte, last+int(next()%21))
		for j := range pkt {
			pkt[j] = byte(next())
		}
		if len(pkt) > 0 {
			pkt[0] = 0x45
		}
		if len(pkt) > 14 {
			pkt[14] = 0x45 // (an IPv4 header of 20 bytes behind Ethernet)
		}
		for _, f := range fields {
			if next()%3 == 0 || f.off+f.size > len(pkt) {
				continue
			}
			v := f.val
			for b := f.size - 1; b >= 0; b-- {
				pkt[f.off+b] = byte(v)
				v >>= 8
			}
		}
		out[i] = pkt[:int(next()%uint64(len(pkt)+1))]
		if next()%2 == 0 {
			out[i] = pkt
		}
	}
	return out
}

// batteryPackets returns n deterministic packets: lengths from 0 to 100,
// each byte either random or one of the values link, network and
// transport headers test (protocol numbers, version nibbles, ports).
func batteryPackets(n int) [][]byte {
	common := []byte{0, 0, 0, 1, 2, 3, 4, 0x06, 0x08, 0x11, 0x45, 0x60, 0x81, 0x86, 0xdd, 0x88, 0x47, 0x64, 0x50, 0xaa, 0x03, 0xff, 0x02, 0x0a, 0x16}
	next := xorshift(0x9e3779b97f4a7c15)
	out := make([][]byte, n)
	for i := range out {
		pkt := make([]byte, int(next()%101))
		for j := range pkt {
			if r := next(); r%2 == 0 {
				pkt[j] = byte(r >> 8)
			} else {
				pkt[j] = common[(r>>8)%uint64(len(common))]
			}
		}
		out[i] = pkt
	}
	return out
}

// xorshift returns a deterministic pseudo-random generator seeded with x
// (not 0).
func xorshift(x uint64) func() uint64 {
	return func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
}
