// Package capture moves packets in and out of bpfc: pcap and pcapng
// files and, on Linux, AF_PACKET sockets with a filter attached in the
// kernel. pcapng is read through gopacket's pcapgo; classic pcap is read
// and written by this package, without a copy or an allocation per
// packet and keeping records as libpcap does (a captured length above
// the wire length, a record longer than the file's snapshot length cut
// to it), which pcapgo's reader does not.
package capture
