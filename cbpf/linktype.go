package cbpf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

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
	// DLT_IEEE802_11: 802.11 frames, from the frame control field (a
	// Wi-Fi interface in monitor mode without radio information).
	LinkIEEE80211 LinkType = 105
	// DLT_IEEE802_11_RADIO: 802.11 frames behind a radiotap header (a
	// Wi-Fi interface in monitor mode).
	LinkIEEE80211Radio LinkType = 127
)

// ErrUnknownLinkType is what ParseLinkType's errors match with errors.Is.
var ErrUnknownLinkType = errors.New("unknown link type")

var (
	linkByValue = map[LinkType]int{}    // index in dltTable
	linkByName  = map[string]LinkType{} // upper-case name, without DLT_
)

func init() {
	for i, e := range dltTable {
		linkByValue[e.lt] = i
		linkByName[e.name] = e.lt
	}
}

// String returns the link type's libpcap name without "DLT_" (the name
// tcpdump -y takes, e.g. "EN10MB"), or its number when libpcap has no
// name for it.
func (lt LinkType) String() string {
	if i, ok := linkByValue[lt]; ok {
		return dltTable[i].name
	}
	return strconv.FormatUint(uint64(lt), 10)
}

// Description returns libpcap's description of the link type (e.g.
// "Ethernet"), or "DLT <n>" when it has none.
func (lt LinkType) Description() string {
	if i, ok := linkByValue[lt]; ok {
		return dltTable[i].desc
	}
	return "DLT " + strconv.FormatUint(uint64(lt), 10)
}

// Known reports whether libpcap 1.10 has a name for the link type.
func (lt LinkType) Known() bool {
	_, ok := linkByValue[lt]
	return ok
}

// LinkTypes returns every link type libpcap 1.10 has a name for, in
// increasing order.
func LinkTypes() []LinkType {
	lts := make([]LinkType, len(dltTable))
	for i, e := range dltTable {
		lts[i] = e.lt
	}
	return lts
}

// ParseLinkType returns the link type named by s: a libpcap name in any
// case, as tcpdump -y takes it ("EN10MB", "linux_sll"), the same with a
// "DLT_" prefix (which tcpdump refuses), or a decimal DLT number.
func ParseLinkType(s string) (LinkType, error) {
	u := strings.ToUpper(s)
	if lt, ok := linkByName[strings.TrimPrefix(u, "DLT_")]; ok {
		return lt, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil && s[0] != '+' {
		return LinkType(n), nil
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownLinkType, s)
}

// MarshalText returns the link type's name (or number).
func (lt LinkType) MarshalText() ([]byte, error) { return []byte(lt.String()), nil }

// UnmarshalText sets the link type from a name or number, as
// ParseLinkType reads it.
func (lt *LinkType) UnmarshalText(b []byte) error {
	v, err := ParseLinkType(string(b))
	if err != nil {
		return err
	}
	*lt = v
	return nil
}

// Pcap-file link types (LINKTYPE_ values, the numbers written in pcap and
// pcapng headers) equal the DLT values except for these, which have
// different DLT values on different systems (the ones here are Linux's).
var linktypeToDLT = map[uint32]LinkType{
	100: 11, // LINKTYPE_ATM_RFC1483 ↔ DLT_ATM_RFC1483
	101: 12, // LINKTYPE_RAW ↔ DLT_RAW
	102: 15, // LINKTYPE_SLIP_BSDOS ↔ DLT_SLIP_BSDOS
	103: 16, // LINKTYPE_PPP_BSDOS ↔ DLT_PPP_BSDOS
	106: 19, // LINKTYPE_ATM_CLIP ↔ DLT_ATM_CLIP
}

var dltToLinktype = func() map[LinkType]uint32 {
	m := map[LinkType]uint32{}
	for k, v := range linktypeToDLT {
		m[v] = k
	}
	return m
}()

// The range in which LINKTYPE_ and DLT_ values coincide
// (LINKTYPE_MATCHING_MIN, LINKTYPE_MATCHING_MAX in libpcap 1.10).
const (
	linktypeMatchingMin = 104
	linktypeMatchingMax = 289
)

// LinkTypeFromPcap returns the DLT value for a LINKTYPE_ value read from a
// pcap or pcapng file, as libpcap's linktype_to_dlt does: LINKTYPE_RAW
// (101) is DLT_RAW (12), and so on; a value it has no mapping for is
// returned unchanged.
func LinkTypeFromPcap(linktype uint32) LinkType {
	if dlt, ok := linktypeToDLT[linktype]; ok {
		return dlt
	}
	return LinkType(linktype)
}

// PcapLinkType returns the LINKTYPE_ value to write in a pcap or pcapng
// file for the link type, as libpcap's dlt_to_linktype does, and false
// when the DLT value has no LINKTYPE_ counterpart.
func (lt LinkType) PcapLinkType() (uint32, bool) {
	if v, ok := dltToLinktype[lt]; ok {
		return v, true
	}
	switch {
	case lt <= 10, lt == 50, lt == 51, lt == 99,
		lt >= linktypeMatchingMin && lt <= linktypeMatchingMax && lt != 106:
		return uint32(lt), true
	}
	return 0, false
}
