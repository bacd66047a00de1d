//go:build linux

package netnstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BPFStuck returns an error when the kernel cannot load BPF programs now
// because its JIT allocator is wedged: tasks sleep uninterruptibly in
// bpf_prog_pack_alloc or bpf_prog_pack_free (a kernel deadlock seen
// under heavy concurrent loading). Every filter attached then blocks its
// thread forever, and the test binary never exits, so the tests that
// load programs check this first and skip or fall back.
func BPFStuck() error {
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/wchan")
	n := 0
	for _, w := range tasks {
		b, err := os.ReadFile(w)
		if err == nil && strings.HasPrefix(string(b), "bpf_prog_pack") {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("the kernel's BPF JIT is wedged (%d tasks blocked in bpf_prog_pack_*, see dmesg): loading a filter would hang", n)
	}
	return nil
}
