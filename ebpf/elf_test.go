package ebpf_test

import (
	"bytes"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/bpfc/bpfc/ebpf"
)

// TestWriteELF reads the object back with cilium/ebpf's ELF reader, the
// loader bpftool's libbpf mirrors: one program of the right type, with
// the same instructions.
func TestWriteELF(t *testing.T) {
	insns := asm.Instructions{
		asm.LoadAbs(12, asm.Half),
		asm.JNE.Imm32(asm.R0, 0x800, "no"),
		asm.Mov.Imm32(asm.R0, 262144),
		asm.Return(),
		asm.Mov.Imm32(asm.R0, 0).WithSymbol("no"),
		asm.Return(),
	}
	for _, tc := range []struct {
		typ  ebpf.Type
		want cebpf.ProgramType
	}{{ebpf.SocketFilter, cebpf.SocketFilter}, {ebpf.SchedCLS, cebpf.SchedCLS}, {ebpf.XDP, cebpf.XDP}} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := ebpf.WriteELF(&buf, tc.typ, "bpfc_filter", insns); err != nil {
				t.Fatal(err)
			}
			spec, err := cebpf.LoadCollectionSpecFromReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			ps := spec.Programs["bpfc_filter"]
			if ps == nil {
				t.Fatalf("no program in %v", spec.Programs)
			}
			if ps.Type != tc.want || ps.License != "GPL" || len(ps.Instructions) != len(insns) {
				t.Fatalf("got type %v licence %q, %d instructions", ps.Type, ps.License, len(ps.Instructions))
			}
			if got := ps.Instructions[1].Offset; got != 2 {
				t.Errorf("jump offset %d, want 2", got)
			}
		})
	}
}
