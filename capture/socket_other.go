//go:build !linux

package capture

import (
	"fmt"
	"runtime"

	"github.com/bpfc/bpfc/cbpf"
)

// A Socket is a live capture; it needs Linux: on this system Open fails
// with ErrNotSupported.
type Socket struct{}

var _ Source = (*Socket)(nil)

func errOS() error { return fmt.Errorf("capture: %w on %s", ErrNotSupported, runtime.GOOS) }

// Open fails with ErrNotSupported.
func Open(name string, cfg *Config) (*Socket, error) { return nil, errOS() }

// Interface returns "".
func (s *Socket) Interface() string { return "" }

// LinkType returns cbpf.LinkEN10MB.
func (s *Socket) LinkType() cbpf.LinkType { return cbpf.LinkEN10MB }

// Snaplen returns 0.
func (s *Socket) Snaplen() uint32 { return 0 }

// SetFilter fails with ErrNotSupported.
func (s *Socket) SetFilter(p *cbpf.Program) error { return errOS() }

// SetEBPF fails with ErrNotSupported.
func (s *Socket) SetEBPF(p EBPFProgram) error { return errOS() }

// Start fails with ErrNotSupported.
func (s *Socket) Start() error { return errOS() }

// Next fails with ErrNotSupported.
func (s *Socket) Next() (Packet, error) { return Packet{}, errOS() }

// ReadPacket fails with ErrNotSupported.
func (s *Socket) ReadPacket() (*Packet, error) { return nil, errOS() }

// Stats fails with ErrNotSupported.
func (s *Socket) Stats() (Stats, error) { return Stats{}, errOS() }

// Stop does nothing.
func (s *Socket) Stop() {}

// Close does nothing.
func (s *Socket) Close() error { return nil }
