// Package capture moves packets in and out of bpfc: pcap and pcapng
// files (through gopacket's pcapgo) and, on Linux, AF_PACKET sockets with
// a filter attached in the kernel.
package capture
