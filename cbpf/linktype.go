package cbpf

import "strconv"

// A LinkType is a link-layer header type, numbered as libpcap's DLT_
// values (the numbers tcpdump's -y and pcap_datalink use).
type LinkType uint32

// The link types the compiler supports first.
const (
	LinkNull      LinkType = 0   // DLT_NULL: BSD loopback, 4-byte host-order family
	LinkEN10MB    LinkType = 1   // DLT_EN10MB: Ethernet
	LinkRaw       LinkType = 12  // DLT_RAW: raw IPv4 or IPv6 (LINKTYPE_RAW is 101)
	LinkLoop      LinkType = 108 // DLT_LOOP: OpenBSD loopback, 4-byte network-order family
	LinkLinuxSLL  LinkType = 113 // DLT_LINUX_SLL: Linux cooked capture v1
	LinkIPv4      LinkType = 228 // DLT_IPV4: raw IPv4
	LinkIPv6      LinkType = 229 // DLT_IPV6: raw IPv6
	LinkLinuxSLL2 LinkType = 276 // DLT_LINUX_SLL2: Linux cooked capture v2
)

var linkNames = map[LinkType]string{
	LinkNull: "NULL", LinkEN10MB: "EN10MB", LinkRaw: "RAW", LinkLoop: "LOOP",
	LinkLinuxSLL: "LINUX_SLL", LinkIPv4: "IPV4", LinkIPv6: "IPV6", LinkLinuxSLL2: "LINUX_SLL2",
}

// String returns the link type's libpcap name (without "DLT_"), or its
// number when it has no name.
func (lt LinkType) String() string {
	if n, ok := linkNames[lt]; ok {
		return n
	}
	return strconv.FormatUint(uint64(lt), 10)
}
