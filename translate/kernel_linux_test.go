package translate_test

import (
	"github.com/bpfc/bpfc/internal/testenv"

	"context"
	"net/netip"

	"errors"
	"github.com/bpfc/bpfc/parser"
	"testing"

	"github.com/bpfc/bpfc/ebpf"
)

// needKernel skips the test when this process cannot load and test-run
// eBPF programs (not root, or a kernel without bpf()).
func needKernel(t testing.TB) {
	testenv.RequireKernelBPF(t)
	t.Helper()
	if err := ebpf.Supported(); err != nil {
		if errors.Is(err, ebpf.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) {
			t.Skipf("cannot run eBPF in the kernel: %v", err)
		}
		t.Fatalf("ebpf.Supported: %v", err)
	}
}

// noHosts is a resolver that knows no names, as in the golden test.
type noHosts struct{}

func (noHosts) LookupHost(context.Context, string) ([]netip.Addr, error) {
	return nil, parser.ErrNotFound
}
