package main

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf/asm"
	"github.com/spf13/cobra"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/translate"
)

// ebpfFlags are `bpfc compile`'s eBPF output flags.
type ebpfFlags struct {
	on      bool
	target  string
	out     string
	maxLoop int
}

func (f *ebpfFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.on, "ebpf", false, "print the program translated to eBPF (cilium/ebpf's format)")
	cmd.Flags().StringVar(&f.target, "target", "socket", "eBPF program type: socket (socket filter), tc (TC classifier) or xdp")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "with --ebpf, write an ELF object to `FILE.o` (for bpftool, tc, ip)")
	cmd.Flags().IntVar(&f.maxLoop, "max-loop", 32, "with --ebpf, rounds allowed to a backward jump (tcpdump's protochain loop)")
}

// ebpfProgram translates p for target: the skb form for socket and tc
// (TC action codes for tc), the direct form for xdp.
func ebpfProgram(p *cbpf.Program, target string, maxLoop int) (ebpf.Type, asm.Instructions, error) {
	o := translate.Options{MaxLoop: maxLoop}
	switch target {
	case "socket":
		insns, err := translate.Skb(p, &translate.SkbOptions{Options: o})
		return ebpf.SocketFilter, insns, err
	case "tc":
		insns, err := translate.Skb(p, &translate.SkbOptions{Options: o, Results: &translate.TCResults})
		return ebpf.SchedCLS, insns, err
	case "xdp":
		insns, err := translate.Direct(p, &translate.DirectOptions{Options: o})
		return ebpf.XDP, insns, err
	}
	return 0, nil, usageError{fmt.Errorf("unknown --target %q: want socket, tc or xdp", target)}
}

// emit prints p as eBPF, or writes it as an ELF object with -o.
func (f *ebpfFlags) emit(s *streams, p *cbpf.Program) error {
	typ, insns, err := ebpfProgram(p, f.target, f.maxLoop)
	if err != nil {
		return err
	}
	if f.out == "" {
		_, err := fmt.Fprintf(s.out, "%v", insns)
		return err
	}
	fh, err := os.Create(f.out)
	if err != nil {
		return err
	}
	if err := ebpf.WriteELF(fh, typ, "bpfc_filter", insns); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
