// Package testenv holds the checks tests make of the machine before they
// use kernel features.
package testenv

import (
	"os"
	"testing"
)

// WedgedEnv is the environment variable scripts/test sets when its probe
// finds that loading a BPF program into the kernel never returns.
const WedgedEnv = "BPFC_KERNEL_BPF_WEDGED"

// RequireKernelBPF skips t when the kernel of this machine cannot load BPF
// programs. On Linux 6.18 a burst of program loads and frees can deadlock
// the JIT's allocator (bpf_prog_pack): from then on every load, classic
// filters on sockets included, sleeps uninterruptibly until a reboot, and
// a test that tried would hang its whole package. scripts/test probes for
// that first (internal/bpfprobe) and sets WedgedEnv.
func RequireKernelBPF(t testing.TB) {
	t.Helper()
	if os.Getenv(WedgedEnv) != "" {
		t.Skip("the kernel cannot load BPF programs on this machine (a load never returns: bpf_prog_pack deadlock, until a reboot; " + WedgedEnv + " set by scripts/test's probe)")
	}
}
