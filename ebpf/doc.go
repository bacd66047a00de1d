// Package ebpf loads eBPF programs made by package translate into the
// Linux kernel, runs them on packets with BPF_PROG_TEST_RUN, and attaches
// socket filters with SO_ATTACH_BPF. It wraps github.com/cilium/ebpf.
//
// Everything here needs Linux and the privilege to call bpf(2) (root, or
// CAP_BPF with CAP_NET_ADMIN for TC and XDP programs). On other systems
// every function returns an error wrapping ErrNotSupported. Check with
// Supported before relying on it, as the privileged tests do.
package ebpf
