// Package bpfc compiles tcpdump filter expressions (the pcap-filter(7)
// language) into classic BPF programs, in pure Go: no cgo, no libpcap.
//
// The work is done by the packages below it: parser (text to a resolved
// syntax tree), codegen (lowering and optimization), cbpf (the program
// model, tcpdump-identical dumps, the kernel's validator and an
// interpreter), translate and ebpf (eBPF output) and capture (AF_PACKET
// sockets and pcap files). This package is the small façade over them.
package bpfc
