// Package cbpf owns classic BPF programs, whoever made them: the bpfc
// compiler, `tcpdump -ddd`, or a hand-written filter.
//
// A Program is a slice of golang.org/x/net/bpf instructions together with
// the link type and snapshot length it was made for. The package prints
// programs exactly as tcpdump does (-d, -dd, -ddd), parses those forms and
// the kernel's bpf_asm syntax back, validates programs with the rules the
// Linux kernel applies before attaching a classic filter, and runs them
// with a fast interpreter that follows the kernel's and libpcap's
// semantics.
package cbpf
