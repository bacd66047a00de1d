package cbpf

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"
)

func TestVM(t *testing.T) {
	pkt := []byte{0x45, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff}
	meta := &Metadata{Protocol: 0x86dd, PktType: 4 | 8, IfIndex: 7, Mark: 9, Queue: 3, HAType: 1,
		RXHash: 0xabcd, CPU: 1, VLANTCI: 100, VLANPresent: true, VLANProto: 0x8100, PayOffset: 54,
		Random: 42, NetworkOffset: 2}
	ld := func(k uint32) bpf.RawInstruction { return r(bpfLD|bpfIMM, 0, 0, k) }
	ldx := func(k uint32) bpf.RawInstruction { return r(bpfLDX|bpfIMM, 0, 0, k) }
	alu := func(op uint16, k uint32) bpf.RawInstruction { return r(bpfALU|op, 0, 0, k) }
	anc := func(size uint16, k uint32) bpf.RawInstruction { return r(bpfLD|size|bpfABS, 0, 0, SKFAdOff+k) }
	tests := []struct {
		name    string
		prog    []bpf.RawInstruction
		pkt     []byte // default pkt
		wireLen int    // default len(pkt)
		meta    *Metadata
		want    uint32
		count   int // instructions executed, when not 0
	}{
		{name: "ret k", prog: []bpf.RawInstruction{r(bpfRET|bpfK, 0, 0, 77)}, want: 77, count: 1},
		{name: "ret a", prog: []bpf.RawInstruction{ld(5), retAcc}, want: 5, count: 2},
		{name: "ld w", prog: []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, 1), retAcc}, want: 0x01020304},
		{name: "ld h", prog: []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, 8), retAcc}, want: 0x08ff},
		{name: "ld b", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 9), retAcc}, want: 0xff},
		{name: "ld w past end", prog: []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, 7), retOK}, want: 0, count: 1},
		{name: "ld h past end", prog: []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, 9), retOK}, want: 0},
		{name: "ld b past end", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 10), retOK}, want: 0},
		{name: "ld huge offset", prog: []bpf.RawInstruction{r(bpfLD|bpfW|bpfABS, 0, 0, 0x7ffffffe), retOK}, want: 0},
		{name: "loads see captured bytes only", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 5), retOK}, pkt: pkt[:5], wireLen: 100, want: 0},
		{name: "ld len is wire length", prog: []bpf.RawInstruction{r(bpfLD|bpfW|bpfLEN, 0, 0, 0), retAcc}, pkt: pkt[:5], wireLen: 1500, want: 1500},
		{name: "ldx len", prog: []bpf.RawInstruction{r(bpfLDX|bpfW|bpfLEN, 0, 0, 0), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, wireLen: 60, want: 60},
		{name: "ld ind w", prog: []bpf.RawInstruction{ldx(2), r(bpfLD|bpfW|bpfIND, 0, 0, 1), retAcc}, want: 0x03040506},
		{name: "ld ind h", prog: []bpf.RawInstruction{ldx(2), r(bpfLD|bpfH|bpfIND, 0, 0, 6), retAcc}, want: 0x08ff},
		{name: "ld ind b", prog: []bpf.RawInstruction{ldx(9), r(bpfLD|bpfB|bpfIND, 0, 0, 0), retAcc}, want: 0xff},
		{name: "ld ind past end", prog: []bpf.RawInstruction{ldx(9), r(bpfLD|bpfH|bpfIND, 0, 0, 0), retOK}, want: 0},
		{name: "ld ind wraps like the kernel", prog: []bpf.RawInstruction{ldx(10), r(bpfLD|bpfB|bpfIND, 0, 0, 0xffffffff), retAcc}, want: 0xff},
		{name: "ld ind negative", prog: []bpf.RawInstruction{ldx(0x80000000), r(bpfLD|bpfB|bpfIND, 0, 0, 0), retOK}, want: 0},
		{name: "ldxb msh", prog: []bpf.RawInstruction{r(bpfLDX|bpfB|bpfMSH, 0, 0, 0), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, want: 20},
		{name: "ldxb msh past end", prog: []bpf.RawInstruction{r(bpfLDX|bpfB|bpfMSH, 0, 0, 10), retOK}, want: 0},
		{name: "ld imm", prog: []bpf.RawInstruction{ld(0xdeadbeef), retAcc}, want: 0xdeadbeef},
		{name: "st ld mem", prog: []bpf.RawInstruction{ld(3), r(bpfST, 0, 0, 15), ld(4), r(bpfLD|bpfMEM, 0, 0, 15), retAcc}, want: 3},
		{name: "stx ldx mem", prog: []bpf.RawInstruction{ldx(6), r(bpfSTX, 0, 0, 0), ldx(1), r(bpfLDX|bpfMEM, 0, 0, 0), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, want: 6},
		{name: "tax txa", prog: []bpf.RawInstruction{ld(8), r(bpfMISC|bpfTAX, 0, 0, 0), ld(1), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, want: 8},
		{name: "add", prog: []bpf.RawInstruction{ld(0xffffffff), alu(bpfADD, 2), retAcc}, want: 1},
		{name: "sub wraps", prog: []bpf.RawInstruction{ld(1), alu(bpfSUB, 2), retAcc}, want: 0xffffffff},
		{name: "mul wraps", prog: []bpf.RawInstruction{ld(0x10000), alu(bpfMUL, 0x10001), retAcc}, want: 0x10000},
		{name: "div unsigned", prog: []bpf.RawInstruction{ld(0xfffffffe), alu(bpfDIV, 2), retAcc}, want: 0x7fffffff},
		{name: "mod", prog: []bpf.RawInstruction{ld(17), alu(bpfMOD, 5), retAcc}, want: 2},
		{name: "and", prog: []bpf.RawInstruction{ld(0xff0f), alu(bpfAND, 0x0ff0), retAcc}, want: 0x0f00},
		{name: "or", prog: []bpf.RawInstruction{ld(0xf0), alu(bpfOR, 0x0f), retAcc}, want: 0xff},
		{name: "xor", prog: []bpf.RawInstruction{ld(0xff), alu(bpfXOR, 0x0f), retAcc}, want: 0xf0},
		{name: "lsh", prog: []bpf.RawInstruction{ld(3), alu(bpfLSH, 4), retAcc}, want: 48},
		{name: "rsh", prog: []bpf.RawInstruction{ld(0x80000000), alu(bpfRSH, 31), retAcc}, want: 1},
		{name: "neg", prog: []bpf.RawInstruction{ld(5), alu(bpfNEG, 0), retAcc}, want: 0xfffffffb},
		{name: "add x", prog: []bpf.RawInstruction{ld(5), ldx(6), alu(bpfADD|bpfX, 0), retAcc}, want: 11},
		{name: "sub x", prog: []bpf.RawInstruction{ld(5), ldx(6), alu(bpfSUB|bpfX, 0), retAcc}, want: 0xffffffff},
		{name: "mul x", prog: []bpf.RawInstruction{ld(5), ldx(6), alu(bpfMUL|bpfX, 0), retAcc}, want: 30},
		{name: "div x", prog: []bpf.RawInstruction{ld(50), ldx(6), alu(bpfDIV|bpfX, 0), retAcc}, want: 8},
		{name: "mod x", prog: []bpf.RawInstruction{ld(50), ldx(6), alu(bpfMOD|bpfX, 0), retAcc}, want: 2},
		{name: "div x by zero", prog: []bpf.RawInstruction{ld(50), ldx(0), alu(bpfDIV|bpfX, 0), retOK}, want: 0, count: 3},
		{name: "mod x by zero", prog: []bpf.RawInstruction{ld(50), ldx(0), alu(bpfMOD|bpfX, 0), retOK}, want: 0},
		{name: "and x", prog: []bpf.RawInstruction{ld(6), ldx(3), alu(bpfAND|bpfX, 0), retAcc}, want: 2},
		{name: "or x", prog: []bpf.RawInstruction{ld(6), ldx(3), alu(bpfOR|bpfX, 0), retAcc}, want: 7},
		{name: "xor x", prog: []bpf.RawInstruction{ld(6), ldx(3), alu(bpfXOR|bpfX, 0), retAcc}, want: 5},
		{name: "lsh x", prog: []bpf.RawInstruction{ld(1), ldx(4), alu(bpfLSH|bpfX, 0), retAcc}, want: 16},
		{name: "lsh x 32 is lsh 0 (kernel)", prog: []bpf.RawInstruction{ld(5), ldx(32), alu(bpfLSH|bpfX, 0), retAcc}, want: 5},
		{name: "rsh x 33 is rsh 1 (kernel)", prog: []bpf.RawInstruction{ld(12), ldx(33), alu(bpfRSH|bpfX, 0), retAcc}, want: 6},
		{name: "ja", prog: []bpf.RawInstruction{r(bpfJMP|bpfJA, 0, 0, 1), r(bpfRET|bpfK, 0, 0, 1), r(bpfRET|bpfK, 0, 0, 2)}, want: 2, count: 2},
		{name: "jeq true", prog: []bpf.RawInstruction{ld(4), r(bpfJMP|bpfJEQ|bpfK, 0, 1, 4), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jeq false", prog: []bpf.RawInstruction{ld(5), r(bpfJMP|bpfJEQ|bpfK, 0, 1, 4), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0},
		{name: "jgt unsigned", prog: []bpf.RawInstruction{ld(0x80000000), r(bpfJMP|bpfJGT|bpfK, 0, 1, 1), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jge equal", prog: []bpf.RawInstruction{ld(4), r(bpfJMP|bpfJGE|bpfK, 0, 1, 4), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jset", prog: []bpf.RawInstruction{ld(4), r(bpfJMP|bpfJSET|bpfK, 1, 0, 3), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jeq x", prog: []bpf.RawInstruction{ld(4), ldx(4), r(bpfJMP|bpfJEQ|bpfX, 0, 1, 0), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jgt x", prog: []bpf.RawInstruction{ld(4), ldx(4), r(bpfJMP|bpfJGT|bpfX, 0, 1, 0), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0},
		{name: "jge x", prog: []bpf.RawInstruction{ld(4), ldx(4), r(bpfJMP|bpfJGE|bpfX, 0, 1, 0), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0xffff},
		{name: "jset x", prog: []bpf.RawInstruction{ld(4), ldx(3), r(bpfJMP|bpfJSET|bpfX, 0, 1, 0), retOK, r(bpfRET|bpfK, 0, 0, 0)}, want: 0},
		{name: "ancillary without metadata rejects", prog: []bpf.RawInstruction{anc(bpfH, SKFAdProtocol), retOK}, want: 0},
		{name: "protocol", prog: []bpf.RawInstruction{anc(bpfH, SKFAdProtocol), retAcc}, meta: meta, want: 0x86dd},
		{name: "pkttype keeps 3 bits", prog: []bpf.RawInstruction{anc(bpfB, SKFAdPktType), retAcc}, meta: meta, want: 4},
		{name: "ifindex", prog: []bpf.RawInstruction{anc(bpfW, SKFAdIfIndex), retAcc}, meta: meta, want: 7},
		{name: "mark", prog: []bpf.RawInstruction{anc(bpfW, SKFAdMark), retAcc}, meta: meta, want: 9},
		{name: "queue", prog: []bpf.RawInstruction{anc(bpfW, SKFAdQueue), retAcc}, meta: meta, want: 3},
		{name: "hatype", prog: []bpf.RawInstruction{anc(bpfW, SKFAdHAType), retAcc}, meta: meta, want: 1},
		{name: "rxhash", prog: []bpf.RawInstruction{anc(bpfW, SKFAdRXHash), retAcc}, meta: meta, want: 0xabcd},
		{name: "cpu", prog: []bpf.RawInstruction{anc(bpfW, SKFAdCPU), retAcc}, meta: meta, want: 1},
		{name: "vlan tci", prog: []bpf.RawInstruction{anc(bpfW, SKFAdVLANTag), retAcc}, meta: meta, want: 100},
		{name: "vlan present", prog: []bpf.RawInstruction{anc(bpfW, SKFAdVLANTagPresent), retAcc}, meta: meta, want: 1},
		{name: "vlan tpid", prog: []bpf.RawInstruction{anc(bpfW, SKFAdVLANTPID), retAcc}, meta: meta, want: 0x8100},
		{name: "pay offset", prog: []bpf.RawInstruction{anc(bpfW, SKFAdPayOffset), retAcc}, meta: meta, want: 54},
		{name: "random", prog: []bpf.RawInstruction{anc(bpfW, SKFAdRandom), retAcc}, meta: meta, want: 42},
		{name: "alu xor x", prog: []bpf.RawInstruction{ld(6), ldx(3), anc(bpfW, SKFAdALUXorX), retAcc}, meta: meta, want: 5},
		{name: "net offset", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFNetOff+1), retAcc}, meta: meta, want: 3},
		{name: "net offset unknown", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFNetOff+1), retOK}, meta: &Metadata{NetworkOffset: -1}, want: 0},
		{name: "net offset without metadata", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, SKFNetOff+1), retOK}, want: 0},
		{name: "link offset", prog: []bpf.RawInstruction{r(bpfLD|bpfH|bpfABS, 0, 0, SKFLLOff+8), retAcc}, meta: meta, want: 0x08ff},
		{name: "link offset msh", prog: []bpf.RawInstruction{r(bpfLDX|bpfB|bpfMSH, 0, 0, SKFLLOff), r(bpfMISC|bpfTXA, 0, 0, 0), retAcc}, meta: meta, want: 20},
		{name: "negative nowhere", prog: []bpf.RawInstruction{r(bpfLD|bpfB|bpfABS, 0, 0, 0x80000000), retOK}, meta: meta, want: 0},
		{name: "ind into net offset", prog: []bpf.RawInstruction{ldx(SKFNetOff), r(bpfLD|bpfB|bpfIND, 0, 0, 2), retAcc}, meta: meta, want: 4},
		{name: "tcp port 80", prog: tcpPort80, pkt: tcpSYN80, want: DefaultSnaplen, count: 13},
		{name: "tcp port 80 truncated", prog: tcpPort80, pkt: tcpSYN80[:36], wireLen: 54, want: 0, count: 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := NewVM(FromRaw(tc.prog, LinkEN10MB, DefaultSnaplen))
			if err != nil {
				t.Fatalf("NewVM: %v", err)
			}
			p := tc.pkt
			if p == nil {
				p = pkt
			}
			wl := tc.wireLen
			if wl == 0 {
				wl = len(p)
			}
			got, n := vm.RunCount(p, wl, tc.meta)
			if got != tc.want {
				t.Errorf("RunCount verdict = %#x, want %#x", got, tc.want)
			}
			if tc.count != 0 && n != tc.count {
				t.Errorf("RunCount executed %d instructions, want %d", n, tc.count)
			}
			if v := vm.RunMeta(p, wl, tc.meta); v != got {
				t.Errorf("RunMeta = %#x, RunCount %#x", v, got)
			}
			if tc.meta == nil {
				if v := vm.Run(p, wl); v != got {
					t.Errorf("Run = %#x, RunCount %#x", v, got)
				}
			}
		})
	}
}

// TestLibpcapVMShifts checks NewLibpcapVM's shifts by X: 0 for X ≥ 32,
// as libpcap's bpf_filter has them, where NewVM's shift by X mod 32.
func TestLibpcapVMShifts(t *testing.T) {
	ld := func(k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: bpfLD | bpfIMM, K: k} }
	ldx := func(k uint32) bpf.RawInstruction { return bpf.RawInstruction{Op: bpfLDX | bpfIMM, K: k} }
	retA := bpf.RawInstruction{Op: bpfRET | bpfA}
	pkt := make([]byte, 20)
	for _, tc := range []struct {
		name        string
		op          uint16
		a, x        uint32
		libpcap, vm uint32
	}{
		{"lsh x 4", bpfLSH, 1, 4, 16, 16},
		{"lsh x 31", bpfLSH, 1, 31, 1 << 31, 1 << 31},
		{"lsh x 32", bpfLSH, 5, 32, 0, 5},
		{"rsh x 33", bpfRSH, 12, 33, 0, 6},
		{"rsh x 1<<31", bpfRSH, 12, 1 << 31, 0, 12},
	} {
		prog := FromRaw([]bpf.RawInstruction{ld(tc.a), ldx(tc.x), {Op: bpfALU | tc.op | bpfX}, retA}, LinkEN10MB, DefaultSnaplen)
		lib, err := NewLibpcapVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		if got := lib.Run(pkt, len(pkt)); got != tc.libpcap {
			t.Errorf("%s: NewLibpcapVM gives %#x, want %#x", tc.name, got, tc.libpcap)
		}
		if got := vm.Run(pkt, len(pkt)); got != tc.vm {
			t.Errorf("%s: NewVM gives %#x, want %#x", tc.name, got, tc.vm)
		}
	}
}

func TestVMNetlinkAttr(t *testing.T) {
	// Two attributes (type 1, 4 bytes; type 7, 2 bytes of payload), the
	// second nesting one of type 3.
	attr := func(l, typ uint16) []byte {
		b := make([]byte, 4)
		binary.NativeEndian.PutUint16(b, l)
		binary.NativeEndian.PutUint16(b[2:], typ)
		return b
	}
	pkt := append([]byte{0xaa, 0xbb}, attr(8, 1)...)
	pkt = append(pkt, 0, 0, 0, 0)
	pkt = append(pkt, attr(12, 7|0x8000)...)
	pkt = append(pkt, attr(6, 3)...)
	pkt = append(pkt, 1, 2, 0, 0)
	tests := []struct {
		name string
		a, x uint32
		nest bool
		want uint32
	}{
		{"first", 2, 1, false, 2},
		{"second, nested flag ignored", 2, 7, false, 10},
		{"missing", 2, 9, false, 0},
		{"a past end", uint32(len(pkt)), 1, false, 0},
		{"nested", 10, 3, true, 14},
		{"nested missing", 10, 1, true, 0},
		{"nested too long", 2, 3, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nlAttr(pkt, tc.a, tc.x, tc.nest); got != tc.want {
				t.Errorf("nlAttr(a=%d, x=%d, nest=%v) = %d, want %d", tc.a, tc.x, tc.nest, got, tc.want)
			}
		})
	}
}

func TestNewVMInvalid(t *testing.T) {
	_, err := NewVM(&Program{Instructions: []bpf.Instruction{bpf.LoadScratch{Dst: bpf.RegA, N: 1}, bpf.RetA{}}})
	if !errors.Is(err, ErrScratchUninit) {
		t.Errorf("NewVM = %v, want ErrScratchUninit", err)
	}
}

func TestVMNoAllocs(t *testing.T) {
	vm, err := NewVM(FromRaw(tcpPort80, LinkEN10MB, DefaultSnaplen))
	if err != nil {
		t.Fatal(err)
	}
	meta := &Metadata{}
	if n := testing.AllocsPerRun(100, func() { vm.RunMeta(tcpSYN80, len(tcpSYN80), meta) }); n != 0 {
		t.Errorf("RunMeta allocates %v times per run", n)
	}
}

// xnetComparable are the generator options for programs x/net/bpf's VM
// runs with the kernel's semantics.
var xnetComparable = genOpts{}

// FuzzVM compares the VM with x/net/bpf's on programs both run alike: the
// program comes from the fuzzer's seed, the packet from its bytes.
func FuzzVM(f *testing.F) {
	f.Add(uint64(1), tcpSYN80)
	f.Add(uint64(2), []byte{})
	f.Add(uint64(3), []byte{0x45, 0, 0, 20, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, seed uint64, pkt []byte) {
		raw := genProgram(newRand(seed), xnetComparable)
		if ValidateRaw(raw) != nil {
			return
		}
		ours, err := NewVM(FromRaw(raw, LinkEN10MB, 0))
		if err != nil {
			t.Fatalf("NewVM: %v", err)
		}
		insns := make([]bpf.Instruction, len(raw))
		for i, r := range raw {
			insns[i] = r.Disassemble()
		}
		theirs, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("x/net/bpf NewVM: %v\n%s", err, rawText(raw))
		}
		want, err := theirs.Run(pkt)
		if err != nil {
			t.Fatalf("x/net/bpf Run: %v", err)
		}
		if got := ours.Run(pkt, len(pkt)); int(got) != want {
			t.Errorf("Run = %d, x/net/bpf %d\npacket % x\n%s", got, want, pkt, rawText(raw))
		}
	})
}

// FuzzValidate: Validate never panics, and the VM runs any program it
// accepts without panicking, with and without metadata.
func FuzzValidate(f *testing.F) {
	enc := func(raw []bpf.RawInstruction) []byte {
		var b []byte
		for _, r := range raw {
			b = binary.BigEndian.AppendUint16(b, r.Op)
			b = append(b, r.Jt, r.Jf)
			b = binary.BigEndian.AppendUint32(b, r.K)
		}
		return b
	}
	f.Add(enc(tcpPort80), tcpSYN80)
	for _, tc := range validationCases {
		if len(tc.prog) < 100 {
			f.Add(enc(tc.prog), []byte{1, 2, 3})
		}
	}
	f.Fuzz(func(t *testing.T, prog, pkt []byte) {
		raw := make([]bpf.RawInstruction, len(prog)/8)
		for i := range raw {
			b := prog[8*i:]
			raw[i] = bpf.RawInstruction{Op: binary.BigEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.BigEndian.Uint32(b[4:])}
		}
		p := FromRaw(raw, LinkEN10MB, 0)
		err := p.Validate()
		if rerr := ValidateRaw(raw); (err == nil) != (rerr == nil) {
			t.Fatalf("Validate: %v, ValidateRaw: %v", err, rerr)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Error() == "" {
				t.Fatalf("Validate: %T %v, want a *ValidationError", err, err)
			}
			return
		}
		vm, err := NewVM(p)
		if err != nil {
			t.Fatalf("NewVM of a valid program: %v", err)
		}
		vm.Run(pkt, len(pkt))
		vm.RunMeta(pkt, len(pkt)+3, &Metadata{NetworkOffset: 3})
		if diff := cmp.Diff(len(raw), vm.Len()); diff != "" {
			t.Errorf("Len (-want +got):\n%s", diff)
		}
	})
}
