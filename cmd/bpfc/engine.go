package main

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/translate"
)

// The engines of `bpfc filter --engine`: what runs the program on each
// packet.
const (
	engineVM     = "vm"     // bpfc's interpreter (cbpf.VM)
	engineKernel = "kernel" // the skb form, test-run as a TC classifier
	engineXDP    = "xdp"    // the direct form, test-run as an XDP program
)

// checkEngine refuses an unknown --engine (a usage error).
func checkEngine(name string) error {
	switch name {
	case engineVM, engineKernel, engineXDP:
		return nil
	}
	return usageError{fmt.Errorf("unknown --engine %q: want vm, kernel or xdp", name)}
}

// kernelFilter is a filter translated to eBPF and loaded into the kernel,
// run on one packet at a time with BPF_PROG_TEST_RUN. Its methods are
// safe for concurrent use.
type kernelFilter struct {
	engine string
	prog   *ebpf.Program
	pass   func(ret uint32) bool // whether a return value keeps the packet
}

// loadKernelFilter translates p for a kernel engine and loads it. The
// kernel engine runs the skb form as a TC classifier, whose test run
// sees the packet from its first byte (a socket filter's starts at the
// network header), keeping the classic return values; the xdp engine
// runs the direct form. Both read the wire length where ebpf.Program.Run
// puts it (cb[0], XDP metadata), not the captured length.
func loadKernelFilter(engine string, p *cbpf.Program) (*kernelFilter, error) {
	var (
		typ   ebpf.Type
		insns asm.Instructions
		err   error
		pass  func(uint32) bool
	)
	switch engine {
	case engineKernel:
		typ, pass = ebpf.SchedCLS, func(ret uint32) bool { return ret != 0 }
		insns, err = translate.Skb(p, &translate.SkbOptions{Options: translate.Options{Len: translate.LenCB}})
	case engineXDP:
		typ, pass = ebpf.XDP, func(ret uint32) bool { return ret == uint32(translate.XDPResults.Match) }
		insns, err = translate.Direct(p, &translate.DirectOptions{Options: translate.Options{Len: translate.LenMeta}})
	default:
		return nil, fmt.Errorf("--engine %s: not a kernel engine", engine)
	}
	if err != nil {
		return nil, fmt.Errorf("--engine %s: %w", engine, err)
	}
	prog, err := ebpf.Load(typ, insns)
	switch {
	case errors.Is(err, ebpf.ErrPermission):
		return nil, fmt.Errorf("--engine %s runs the filter in the kernel, which this process cannot do (--engine vm needs no privilege): %w", engine, err)
	case errors.Is(err, ebpf.ErrNotSupported):
		return nil, fmt.Errorf("--engine %s runs the filter in the kernel, which cannot run eBPF here (--engine vm can): %w", engine, err)
	case err != nil:
		return nil, fmt.Errorf("--engine %s: %w", engine, err)
	}
	return &kernelFilter{engine: engine, prog: prog, pass: pass}, nil
}

// keep runs the program on one packet in the kernel. A packet the
// kernel's test run cannot take whole (ebpf.ErrPacketSize) is run by vm
// instead, and byVM says so.
func (k *kernelFilter) keep(vm *cbpf.VM, data []byte, wireLen int) (keep, byVM bool, err error) {
	ret, err := k.prog.Run(data, wireLen)
	switch {
	case errors.Is(err, ebpf.ErrPacketSize):
		return vm.Run(data, wireLen) != 0, true, nil
	case err != nil:
		return false, false, fmt.Errorf("--engine %s: %w", k.engine, err)
	}
	return k.pass(ret), false, nil
}

func (k *kernelFilter) close() { k.prog.Close() }

// interpNote says how many packets a kernel engine left to the
// interpreter, and why.
func interpNote(engine string, n, total int) string {
	why := "the XDP test run takes no packet under 14 bytes or over about a page (3,520 bytes on x86-64)"
	if engine == engineKernel {
		why = "the TC test run takes no packet under 14 bytes, over about a page (3,712 bytes on x86-64), or with an IPv4 or IPv6 header cut short"
	}
	return fmt.Sprintf("%d of %d packets were run by the interpreter, not the kernel: %s", n, total, why)
}
