package translate_test

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/testpcap"
	"github.com/bpfc/bpfc/translate"
)

// genProgram makes a valid classic program from fuzz bytes: forward
// jumps only, scratch cells 0-3 written before anything reads them, no
// ancillary load but SKF_AD_ALU_XOR_X, and absolute loads now and then
// at SKF_NET_OFF or SKF_LL_OFF.
func genProgram(b []byte) *cbpf.Program {
	next := func() uint32 {
		if len(b) == 0 {
			return 0
		}
		v := uint32(b[0])
		b = b[1:]
		return v
	}
	next32 := func() uint32 { return next() | next()<<8 | next()<<16 | next()<<24 }
	off := func() uint32 {
		switch next() % 8 {
		case 0:
			return next32()
		case 1:
			return cbpf.SKFNetOff + next()%64
		case 2:
			return cbpf.SKFLLOff + next()%64
		}
		return next() % 80
	}
	n := int(next()%48) + 2
	insns := []bpf.Instruction{
		bpf.LoadConstant{Dst: bpf.RegA, Val: next32()},
		bpf.StoreScratch{Src: bpf.RegA, N: 0}, bpf.StoreScratch{Src: bpf.RegA, N: 1},
		bpf.StoreScratch{Src: bpf.RegX, N: 2}, bpf.StoreScratch{Src: bpf.RegX, N: 3},
	}
	total := len(insns) + n
	sizes := []int{1, 2, 4}
	for pc := len(insns); pc < total-1; pc++ {
		left := uint32(total - pc - 2) // instructions a jump may skip
		var in bpf.Instruction
		switch next() % 20 {
		case 0, 1:
			in = bpf.LoadAbsolute{Off: off(), Size: sizes[next()%3]}
		case 2, 3:
			k := next() % 64
			if next()%8 == 0 {
				k = next32()
			}
			in = bpf.LoadIndirect{Off: k, Size: sizes[next()%3]}
		case 4:
			in = bpf.LoadMemShift{Off: off()}
		case 5:
			in = bpf.LoadConstant{Dst: bpf.Register(next() % 2), Val: next32()}
		case 6:
			in = bpf.LoadScratch{Dst: bpf.Register(next() % 2), N: int(next() % 4)}
		case 7:
			in = bpf.StoreScratch{Src: bpf.Register(next() % 2), N: int(next() % 16)}
		case 8:
			in = bpf.LoadExtension{Num: bpf.ExtLen}
		case 9:
			in = bpf.LoadExtension{Num: bpf.Extension(cbpf.SKFAdALUXorX)}
		case 10, 11:
			op := bpf.ALUOp(next() % 11 << 4)
			if op == 0x80 {
				in = bpf.NegateA{}
				break
			}
			k := next32()
			switch op {
			case bpf.ALUOpDiv, bpf.ALUOpMod:
				k |= 1 << (next() % 32)
			case bpf.ALUOpShiftLeft, bpf.ALUOpShiftRight:
				k %= 32
			}
			in = bpf.ALUOpConstant{Op: op, Val: k}
		case 12:
			op := bpf.ALUOp(next() % 11 << 4)
			if op == 0x80 {
				op = bpf.ALUOpAdd
			}
			in = bpf.ALUOpX{Op: op}
		case 13:
			in = bpf.TAX{}
		case 14:
			in = bpf.TXA{}
		case 15:
			in = bpf.RetConstant{Val: next32() % 3 * 0x7fff}
		case 16:
			in = bpf.Jump{Skip: next() % (left + 1)}
		default:
			cond := bpf.JumpTest(next() % 8)
			skipT, skipF := uint8(next()%(left+1)), uint8(next()%(left+1))
			v := next32()
			if next()%2 == 0 {
				v %= 256
			}
			if next()%3 == 0 {
				in = bpf.JumpIfX{Cond: cond, SkipTrue: skipT, SkipFalse: skipF}
			} else {
				in = bpf.JumpIf{Cond: cond, Val: v, SkipTrue: skipT, SkipFalse: skipF}
			}
		}
		insns = append(insns, in)
	}
	if next()%2 == 0 {
		insns = append(insns, bpf.RetA{})
	} else {
		insns = append(insns, bpf.RetConstant{Val: next32()})
	}
	return &cbpf.Program{Instructions: insns}
}

// FuzzTranslate checks random valid classic programs on random packets:
// the kernel's test run of both translated forms must give the
// interpreter's verdict (the skb form its very return value, with the
// kernel's view of SKF_NET_OFF and SKF_LL_OFF loads; the XDP form pass or
// drop as libpcap's view accepts or rejects).
//
// Fuzz briefly (-fuzztime 30s): every input loads and frees two programs,
// and on Linux 6.18 a sustained rate of ~1,500 JIT allocations and frees a
// second deadlocked the kernel's BPF JIT allocator on this machine.
func FuzzTranslate(f *testing.F) {
	needKernel(f)
	f.Add([]byte{10, 1, 2, 3, 4, 0, 12, 17, 5, 1, 2}, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x08\x00E\x00\x00\x1c\x00\x00\x00\x00\x40\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x35\x00\x35\x00\x08\x00\x00"), uint16(60))
	f.Add([]byte("\x30\x07\x00\x00\x00\x00\x02\x03\x01\x04\x02\x10\x05\x11\x01\x02\x03"), make([]byte, 64), uint16(1000))
	f.Add([]byte("\xff\x13\x02\x40\x00\x12\x03\x00\x0c\x05\x0a\x60\x07\x0b\x05\x0d\x11\x06"), []byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint16(5))
	f.Fuzz(func(t *testing.T, prog, pkt []byte, wire uint16) {
		p := genProgram(prog)
		if err := p.Validate(); err != nil {
			t.Fatalf("generator made an invalid program: %v\n%v", err, p.Instructions)
		}
		if len(pkt) < 14 || len(pkt) > 1500 {
			return
		}
		vm, err := cbpf.NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		checkKernel(t, p, vm, pkt, int(wire))
	})
}

// checkKernel compares both translated forms of p with vm on one packet.
func checkKernel(t *testing.T, p *cbpf.Program, vm *cbpf.VM, pkt []byte, wire int) {
	t.Helper()
	si, err := translate.Skb(p, &translate.SkbOptions{Options: translate.Options{Len: translate.LenCB}})
	if err != nil {
		t.Fatal(err)
	}
	di, err := translate.Direct(p, &translate.DirectOptions{Options: translate.Options{Len: translate.LenMeta}})
	if errors.Is(err, translate.ErrUnsupported) {
		di = nil // an ancillary load: the skb form only
	} else if err != nil {
		t.Fatal(err)
	}
	sp, err := ebpf.Load(ebpf.SchedCLS, si)
	if err != nil {
		t.Fatalf("skb form: %v\n%v", err, si)
	}
	defer sp.Close()
	dump := p.Instructions
	want := vm.RunMeta(pkt, wire, &cbpf.Metadata{NetworkOffset: 14})
	got, err := sp.Run(pkt, wire)
	switch {
	case errors.Is(err, ebpf.ErrPacketSize):
	case err != nil:
		t.Fatal(err)
	case got != want:
		t.Errorf("skb form returns %d, interpreter %d\n%v\n%v", got, want, dump, si)
	}
	if di == nil {
		return
	}
	xp, err := ebpf.Load(ebpf.XDP, di)
	if err != nil {
		t.Fatalf("direct form: %v\n%v", err, di)
	}
	defer xp.Close()
	want = vm.Run(pkt, wire)
	got, err = xp.Run(pkt, wire)
	switch {
	case errors.Is(err, ebpf.ErrPacketSize):
	case err != nil:
		t.Fatal(err)
	case (got == uint32(translate.XDPResults.Match)) != (want != 0):
		t.Errorf("direct form returns %d, interpreter %d\n%v\n%v", got, want, dump, di)
	}
}

// TestProtochainLoop translates tcpdump's own `protochain` programs,
// whose loop jumps backwards: refused without MaxLoop, accepted by the
// verifier with it, and in the kernel they keep the packets our
// interpreter keeps with bpfc's loop-free program for the same
// expression.
func TestProtochainLoop(t *testing.T) {
	for _, tc := range []struct{ file, expr string }{
		{"protochain17.ddd", "ip6 protochain 17"},
		{"protochain6or17.ddd", "ip6 protochain 6 or ip protochain 17"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			text, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			loop, err := cbpf.ParseString(string(text))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := translate.Skb(loop, nil); !errors.Is(err, translate.ErrLoop) {
				t.Fatalf("Skb without MaxLoop: got %v, want ErrLoop", err)
			}
			if _, err := translate.Direct(loop, nil); !errors.Is(err, translate.ErrLoop) {
				t.Fatalf("Direct without MaxLoop: got %v, want ErrLoop", err)
			}
			needKernel(t)
			// 32 rounds: the verifier explores every round, and the direct
			// form's packet pointers make that cost grow fast (64 is
			// past its million-instruction budget).
			o := translate.Options{MaxLoop: 32, Len: translate.LenCB}
			si, err := translate.Skb(loop, &translate.SkbOptions{Options: o})
			if err != nil {
				t.Fatal(err)
			}
			o.Len = translate.LenMeta
			di, err := translate.Direct(loop, &translate.DirectOptions{Options: o})
			if err != nil {
				t.Fatal(err)
			}
			sp, err := ebpf.Load(ebpf.SchedCLS, si)
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			xp, err := ebpf.Load(ebpf.XDP, di)
			if err != nil {
				t.Fatal(err)
			}
			defer xp.Close()
			n, kept := 0, 0
			// tcpdump's program is for Ethernet.
			for _, name := range []string{"en10mb"} {
				c, err := testpcap.Read("../testdata/pcaps/" + name + ".pcap")
				if err != nil {
					t.Fatal(err)
				}
				ours, err := bpfc.Compile(tc.expr, bpfc.WithLinkType(cbpf.LinkTypeFromPcap(c.LinkType)), bpfc.ForSavefile(c.Order))
				if err != nil {
					t.Fatal(err)
				}
				vm, err := cbpf.NewVM(ours)
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range c.Records {
					want := vm.Run(r.Data, int(r.Orig)) != 0
					got, err := sp.Run(r.Data, int(r.Orig))
					if errors.Is(err, ebpf.ErrPacketSize) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					gx, err := xp.Run(r.Data, int(r.Orig))
					if errors.Is(err, ebpf.ErrPacketSize) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					n++
					if want {
						kept++
					}
					if (got != 0) != want || (gx == uint32(translate.XDPResults.Match)) != want {
						t.Errorf("%s packet %d: skb %d, xdp %d, interpreter keeps: %v", name, i, got, gx, want)
					}
				}
			}
			t.Logf("%d packets, %d kept, skb %d and direct %d eBPF instructions for %d classic", n, kept, len(si), len(di), len(loop.Instructions))
		})
	}
}
