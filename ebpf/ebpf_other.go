//go:build !linux

package ebpf

import (
	"fmt"
	"runtime"
	"time"

	"github.com/cilium/ebpf/asm"
)

// Program is a loaded eBPF program; on this system none can be loaded.
type Program struct{ typ Type }

func errOS(what string) error {
	return fmt.Errorf("ebpf: %s: %w on %s", what, ErrNotSupported, runtime.GOOS)
}

// Load fails with ErrNotSupported: eBPF needs Linux.
func Load(typ Type, insns asm.Instructions) (*Program, error) { return nil, errOS("load") }

// Supported returns an error wrapping ErrNotSupported.
func Supported() error { return errOS("supported") }

// Type returns the program's type.
func (p *Program) Type() Type { return p.typ }

// FD returns -1.
func (p *Program) FD() int { return -1 }

// Close does nothing.
func (p *Program) Close() error { return nil }

// Run fails with ErrNotSupported.
func (p *Program) Run(pkt []byte, wireLen int) (uint32, error) { return 0, errOS("run") }

// Bench fails with ErrNotSupported.
func (p *Program) Bench(pkt []byte, wireLen, repeat int) (uint32, time.Duration, error) {
	return 0, 0, errOS("run")
}

// AttachSocket fails with ErrNotSupported.
func AttachSocket(fd int, p *Program) error { return errOS("attach") }

// DetachSocket fails with ErrNotSupported.
func DetachSocket(fd int) error { return errOS("detach") }
