// Package bpfc compiles tcpdump filter expressions (the pcap-filter(7)
// language) into classic BPF programs, in pure Go: no cgo, no libpcap.
//
// One call turns an expression into a program:
//
//	expr := "tcp port 443 and host 192.0.2.1"
//	p, err := bpfc.Compile(expr)
//	if err != nil {
//		log.Fatal(parser.FormatError(expr, err)) // the message, the line, a caret
//	}
//	raw, err := p.Raw() // []bpf.RawInstruction, what SetBPF methods take
//
// The program is meant to keep exactly the packets libpcap 1.10's
// program for the same expression, link type and snaplen keeps, and
// bpfc refuses what libpcap refuses; differential tests against tcpdump
// check it. p.Dump prints the program in the formats of tcpdump -d, -dd
// and -ddd.
//
// # Link types
//
// A filter reads the packet at fixed offsets, so it must be compiled for
// the header the packets start with. Compile defaults to Ethernet
// (cbpf.LinkEN10MB), which is what a raw AF_PACKET socket on an Ethernet
// interface (gopacket's pcapgo.EthernetHandle and afpacket.TPacket,
// mdlayher/packet with packet.Raw) shows its filter, the loopback
// interface included. Use WithLinkType for the rest: cbpf.LinkLinuxSLL
// or cbpf.LinkLinuxSLL2 for cooked captures (tcpdump -i any),
// cbpf.LinkRaw or cbpf.LinkIPv4 for raw IP sockets (x/net's
// ipv4.PacketConn over "ip4:..." sockets) and AF_PACKET SOCK_DGRAM
// sockets, or the link type of a capture file, with ForSavefile.
//
// # Errors
//
// A refused expression gives a nil program and an error, never both. The
// errors of the expression itself carry its position (*parser.Error,
// in a parser.ErrorList), which parser.FormatError renders with a caret.
// Test their kind with errors.Is: parser.ErrSyntax, parser.ErrResolve
// (an unknown name or a value out of range; a resolver's error is wrapped
// too), parser.ErrLimit, codegen.ErrRefused (libpcap refuses the
// primitive for the link type), codegen.ErrRejectsAll (the optimizer
// proved that no packet can match), codegen.ErrTooLong (over the
// kernel's 4096 instructions, even compacted).
//
// # Length and speed
//
// The optimizer makes programs that run no more instructions than
// libpcap's on any packet, and are about 5 % shorter. WithCompact trades
// some of that speed for length: IPv6 runs IPv4's port tests after `ldx
// #40` instead of its own copy, one instruction more for those IPv6
// packets, and programs about 10 % shorter than libpcap's. A program too
// long for the kernel is compacted by itself. WithMaxLength lifts the
// limit for programs that will be translated to eBPF.
//
// # Concurrency
//
// Compile and CompileContext are safe for concurrent use and take no
// global lock; the Resolver given with WithResolver is called from the
// goroutine that calls Compile, and must be safe for concurrent use if
// Compile is called from several at once.
//
// # Packages
//
// The work is done by the packages below this one: parser (text to a
// resolved syntax tree), codegen (lowering and optimization), cbpf (the
// program model, tcpdump-identical dumps, the kernel's validator and an
// interpreter), translate and ebpf (eBPF output) and capture (AF_PACKET
// sockets and pcap files). This package is the small façade over the
// compiler: it depends on x/net/bpf and participle, and not on gopacket
// or any capture library.
package bpfc
