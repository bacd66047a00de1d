package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WedgedEnv is the environment variable scripts/test sets when its probe
// (internal/bpfprobe) finds that loading a BPF program into the kernel
// never returns.
const WedgedEnv = "BPFC_KERNEL_BPF_WEDGED"

// KernelBPFWedged returns an error when this machine's kernel cannot load
// BPF programs now. On Linux 6.18 a burst of program loads and frees can
// deadlock the JIT's allocator (bpf_prog_pack): from then on every load,
// classic filters on sockets included, sleeps uninterruptibly until a
// reboot, and a test that tried would hang its whole package (a thread in
// uninterruptible sleep keeps the process from exiting). It looks for
// scripts/test's verdict and for tasks already asleep in bpf_prog_pack_*.
func KernelBPFWedged() error {
	if os.Getenv(WedgedEnv) != "" {
		return errors.New("the kernel cannot load BPF programs on this machine: a load never returns (bpf_prog_pack deadlock, cleared by a reboot; " + WedgedEnv + " set by scripts/test's probe)")
	}
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/wchan")
	n := 0
	for _, w := range tasks {
		b, err := os.ReadFile(w)
		if err == nil && strings.HasPrefix(string(b), "bpf_prog_pack") {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("the kernel's BPF JIT is wedged (%d tasks blocked in bpf_prog_pack_*, see dmesg): loading a program would hang", n)
	}
	return nil
}

// RequireKernelBPF skips t when KernelBPFWedged reports a wedged kernel.
func RequireKernelBPF(t testing.TB) {
	t.Helper()
	if err := KernelBPFWedged(); err != nil {
		t.Skip(err)
	}
}

// KernelCaptureTests returns an error when the capture tests must keep
// filters out of the kernel (AF_PACKET + SO_ATTACH_FILTER/BPF): the
// kernel cannot load programs now (KernelBPFWedged).
func KernelCaptureTests() error {
	return KernelBPFWedged()
}
