package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cebpf "github.com/cilium/ebpf"
)

// TestCompileEBPF prints each target's program and writes an object the
// ELF reader of cilium/ebpf loads back.
func TestCompileEBPF(t *testing.T) {
	for _, target := range []string{"socket", "tc", "xdp"} {
		t.Run(target, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"compile", "--ebpf", "--target", target, "tcp port 80"}, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !strings.Contains(out.String(), "Exit") {
				t.Errorf("no eBPF program printed:\n%s", out.String())
			}
			obj := filepath.Join(t.TempDir(), "f.o")
			if code := run([]string{"compile", "--ebpf", "--target", target, "-o", obj, "tcp port 80"}, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			f, err := os.Open(obj)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			spec, err := cebpf.LoadCollectionSpecFromReader(f)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Programs["bpfc_filter"] == nil {
				t.Fatalf("no program: %v", spec.Programs)
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run([]string{"compile", "--ebpf", "--target", "nope", "tcp"}, nil, &out, &errb); code == 0 {
		t.Errorf("unknown target accepted")
	}
}
