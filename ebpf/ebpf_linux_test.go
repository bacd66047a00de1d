package ebpf_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/testenv"
)

// needKernel skips the test when this process cannot load and test-run
// eBPF programs (not root, no bpf(), or a wedged kernel).
func needKernel(t *testing.T) {
	t.Helper()
	testenv.RequireKernelBPF(t)
	if err := ebpf.Supported(); err != nil {
		if errors.Is(err, ebpf.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) {
			t.Skipf("cannot run eBPF in the kernel: %v", err)
		}
		t.Fatalf("ebpf.Supported: %v", err)
	}
}

func load(t *testing.T, typ ebpf.Type, insns asm.Instructions) *ebpf.Program {
	t.Helper()
	p, err := ebpf.Load(typ, insns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// lengthPrograms are, for each test-run type, a program returning the
// length of the packet it can read and one returning the wire length
// handed to it.
func lengthPrograms(t *testing.T) (seen, wire map[ebpf.Type]*ebpf.Program) {
	seen = map[ebpf.Type]*ebpf.Program{
		// skb->len
		ebpf.SchedCLS: load(t, ebpf.SchedCLS, asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()}),
		// data_end - data
		ebpf.XDP: load(t, ebpf.XDP, asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), asm.LoadMem(asm.R0, asm.R1, 4, asm.Word),
			asm.Sub.Reg(asm.R0, asm.R2), asm.Return(),
		}),
	}
	wire = map[ebpf.Type]*ebpf.Program{
		// __sk_buff.cb[0]
		ebpf.SchedCLS: load(t, ebpf.SchedCLS, asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 48, asm.Word), asm.Return()}),
		// the 4 bytes of metadata before data
		ebpf.XDP: load(t, ebpf.XDP, asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 8, asm.Word), asm.LoadMem(asm.R3, asm.R1, 0, asm.Word),
			asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 4),
			asm.Mov.Imm(asm.R0, 0),
			asm.JGT.Reg(asm.R4, asm.R3, "out"),
			asm.LoadMem(asm.R0, asm.R2, 0, asm.Word),
			asm.Return().WithSymbol("out"),
		}),
	}
	return seen, wire
}

// TestRunPacketSizes checks that a test run either hands the program the
// whole packet and the wire length or refuses it with ErrPacketSize:
// never a packet cut short (an XDP test run puts what passes its linear
// buffer in fragments the program cannot read).
func TestRunPacketSizes(t *testing.T) {
	needKernel(t)
	seen, wire := lengthPrograms(t)
	for _, typ := range []ebpf.Type{ebpf.SchedCLS, ebpf.XDP} {
		refused := 0
		for _, n := range []int{0, 1, 13, 14, 15, 60, 1500, 3000, 3400, 3520, 3521, 3600, 3712, 3713, 4096, 9000, 65535} {
			pkt := make([]byte, n)
			if n >= 14 {
				binary.BigEndian.PutUint16(pkt[12:], 0x0806) // ARP: no header parsed
			}
			got, err := seen[typ].Run(pkt, n)
			switch {
			case errors.Is(err, ebpf.ErrPacketSize):
				refused++
				if n >= 14 && n <= 1500 {
					t.Errorf("%v: %d-byte packet refused: %v", typ, n, err)
				}
				continue
			case err != nil:
				t.Fatalf("%v: %d bytes: %v", typ, n, err)
			case n < 14 || n > 9000:
				t.Errorf("%v: %d-byte packet run (program saw %d bytes), want ErrPacketSize", typ, n, got)
			case int(got) != n:
				t.Errorf("%v: %d-byte packet: the program saw %d bytes", typ, n, got)
			}
			for _, w := range []int{n, n + 1000, 1 << 20} {
				got, err := wire[typ].Run(pkt, w)
				if err != nil || int(got) != w {
					t.Errorf("%v: %d-byte packet with wire length %d: the program read %d (%v)", typ, n, w, got, err)
				}
			}
		}
		t.Logf("%v: %d of 17 sizes refused", typ, refused)
	}
}

// TestRunCutIPHeader: the TC test run refuses an Ethernet frame whose
// IPv4 or IPv6 header is cut short, with ErrPacketSize; the XDP one
// takes it.
func TestRunCutIPHeader(t *testing.T) {
	needKernel(t)
	seen, _ := lengthPrograms(t)
	for _, tc := range []struct {
		etype uint16
		n     int
	}{{0x0800, 14}, {0x0800, 33}, {0x86dd, 53}} {
		pkt := make([]byte, tc.n)
		binary.BigEndian.PutUint16(pkt[12:], tc.etype)
		if _, err := seen[ebpf.SchedCLS].Run(pkt, tc.n); !errors.Is(err, ebpf.ErrPacketSize) {
			t.Errorf("tc: %#04x, %d bytes: got %v, want ErrPacketSize", tc.etype, tc.n, err)
		}
		if got, err := seen[ebpf.XDP].Run(pkt, tc.n); err != nil || int(got) != tc.n {
			t.Errorf("xdp: %#04x, %d bytes: got %d, %v", tc.etype, tc.n, got, err)
		}
	}
}

// TestBench checks that Bench runs the program as Run does.
func TestBench(t *testing.T) {
	needKernel(t)
	_, wire := lengthPrograms(t)
	pkt := make([]byte, 60)
	for typ, p := range wire {
		got, d, err := p.Bench(pkt, 1234, 1000)
		if err != nil || got != 1234 || d < 0 {
			t.Errorf("%v: Bench = %d, %v, %v; want 1234", typ, got, d, err)
		}
		if _, _, err := p.Bench(pkt, 60, 0); err == nil {
			t.Errorf("%v: Bench with repeat 0 did not fail", typ)
		}
	}
}
