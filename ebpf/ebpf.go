package ebpf

import (
	"errors"
	"fmt"
	"strings"
)

// Type is the kind of eBPF program, which decides what it may read and
// what its return value means.
type Type int

// Program types.
const (
	// SocketFilter is BPF_PROG_TYPE_SOCKET_FILTER: returns the number of
	// bytes to keep. A test run hands it the packet from layer 3 on.
	SocketFilter Type = iota + 1
	// SchedCLS is BPF_PROG_TYPE_SCHED_CLS, a TC classifier; a test run
	// hands it the whole packet, from layer 2.
	SchedCLS
	// XDP is BPF_PROG_TYPE_XDP.
	XDP
)

// String returns the type's name as the CLI spells it.
func (t Type) String() string {
	switch t {
	case SocketFilter:
		return "socket"
	case SchedCLS:
		return "tc"
	case XDP:
		return "xdp"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Errors callers branch on with errors.Is.
var (
	// ErrNotSupported: this system cannot load eBPF programs (not Linux,
	// or a kernel without the feature).
	ErrNotSupported = errors.New("ebpf not supported")
	// ErrPermission: the process may not call bpf(2) (run as root, or
	// grant CAP_BPF and CAP_NET_ADMIN).
	ErrPermission = errors.New("not permitted to load eBPF programs (need root, or CAP_BPF and CAP_NET_ADMIN)")
	// ErrVerifier: the kernel's verifier refused the program; the error
	// is a *VerifierError with the verifier's log.
	ErrVerifier = errors.New("verifier refused the program")
	// ErrPacketSize: BPF_PROG_TEST_RUN cannot run this packet whole: it
	// wants at least 14 bytes (an Ethernet header) and at most about a
	// page, and a TC or socket test run parses an IPv4 or IPv6 header
	// after the Ethernet one and refuses it when cut short (see
	// Program.Run).
	ErrPacketSize = errors.New("packet not accepted by test run")
)

// A VerifierError is the verifier's refusal, with its log.
type VerifierError struct {
	Type Type
	Log  []string // the verifier's output, a line each
	Err  error    // the kernel's error
}

// Error returns the reason and the end of the log, where the verifier
// says what it refused.
func (e *VerifierError) Error() string {
	tail := e.Log
	if len(tail) > 8 {
		tail = tail[len(tail)-8:]
	}
	return fmt.Sprintf("%v: %v:\n\t%s", ErrVerifier, e.Err, strings.Join(tail, "\n\t"))
}

// Is makes errors.Is(err, ErrVerifier) true.
func (e *VerifierError) Is(target error) bool { return target == ErrVerifier }

// Unwrap returns the kernel's error.
func (e *VerifierError) Unwrap() error { return e.Err }

// Test-run conventions, shared with package translate: a TC or socket
// program reads the wire length from __sk_buff.cb[0] or wire_len, which
// BPF_PROG_TEST_RUN sets from the context passed in; an XDP program finds
// it in 4 bytes of metadata in front of the packet (data_meta).
const (
	skbWireLenOff = 160   // offsetof(struct __sk_buff, wire_len)
	skbCB0Off     = 48    // offsetof(struct __sk_buff, cb[0])
	maxWireLen    = 65536 // GSO_LEGACY_MAX_SIZE: the most wire_len may be
	skbCtxSize    = 164
	xdpMetaLen    = 4
)
