package parser

import (
	"cmp"
	"slices"
)

// The service and protocol tables are generated from the Debian netbase
// 6.4 files kept under internal/gennames/testdata, so that names resolve
// the same on every machine, whatever its /etc holds.
//go:generate go run ./internal/gennames -services internal/gennames/testdata/services -protocols internal/gennames/testdata/protocols -o .

// ServiceProtos says which transport protocols define a service name.
type ServiceProtos uint8

// The transport protocols a service name can be defined for.
const (
	ServiceTCP ServiceProtos = 1 << iota
	ServiceUDP
	ServiceSCTP
)

// service is one row of the generated service table.
type service struct {
	name   string
	port   uint16
	protos ServiceProtos
}

// protocol is one row of the generated IP protocol table.
type protocol struct {
	name string
	num  uint16
}

// named is one row of a table of libpcap's built-in names.
type named[V any] struct {
	name string
	val  V
}

// LookupService resolves a service name as libpcap 1.10's pcap_nametoport
// does on Debian: it looks the name up for tcp and for udp, case
// sensitively, and matches aliases too.
//
// If tcp defines the name, port is the tcp port and protos is ServiceTCP,
// or ServiceTCP|ServiceUDP when udp defines the same port; otherwise port
// is the udp port and protos is ServiceUDP. libpcap treats TCP|UDP as
// "any transport" (a bare `port NAME` then tests sctp as well), refuses
// `udp port NAME` and `sctp port NAME` for a tcp-only name ("port 'NAME'
// is tcp") and `tcp port NAME` and `sctp port NAME` for a udp-only one.
// libpcap 1.10 never asks for sctp, so ServiceSCTP is never set: `sctp
// port amqp` is refused although services(5) lists amqp 5672/sctp.
func LookupService(name string) (port uint16, protos ServiceProtos, ok bool) {
	i, ok := slices.BinarySearchFunc(services[:], name, func(s service, name string) int {
		return cmp.Compare(s.name, name)
	})
	if !ok {
		return 0, 0, false
	}
	return services[i].port, services[i].protos, true
}

// LookupProtocol resolves an IP protocol name or alias, case sensitively,
// as getprotobyname does for `ip proto \NAME`, `ip6 proto \NAME`, `proto
// \NAME` and `protochain \NAME`.
//
// Debian lists one protocol whose number does not fit a byte, mptcp (262,
// used only inside Linux); like libpcap, bpfc takes it, and the test of the
// protocol byte against 262 matches no packet.
func LookupProtocol(name string) (num uint16, ok bool) {
	i, ok := slices.BinarySearchFunc(protocols[:], name, func(p protocol, name string) int {
		return cmp.Compare(p.name, name)
	})
	if !ok {
		return 0, false
	}
	return uint16(protocols[i].num), true
}

// LookupEtherProto resolves an Ethernet type name from libpcap's built-in
// table, case sensitively, as in `ether proto \arp`. libpcap resolves a
// name it does not find here with LookupLLC before giving up ("unknown
// ether proto 'NAME'").
func LookupEtherProto(name string) (ethertype uint16, ok bool) {
	return lookup(etherProtos[:], name)
}

// LookupLLC resolves an IEEE 802.2 LLC SAP name from libpcap's built-in
// table, case sensitively: iso, stp, ipx and netbeui. libpcap consults it
// for `ether proto \NAME` after LookupEtherProto; `llc NAME` takes frame
// type names instead (LookupLLCType).
func LookupLLC(name string) (sap uint16, ok bool) {
	return lookup(llcSAPs[:], name)
}

// LookupLLCType resolves the frame type name of `llc NAME`, case
// insensitively as libpcap does. A frame of that type has an LLC control
// field whose first byte b satisfies b&mask == val: i (information), s
// (supervisory) and u (unnumbered) name frame classes, rr, rnr and rej
// supervisory functions, and ui, ua, disc, dm, sabme, test, xid and frmr
// unnumbered ones. libpcap refuses other names ("unknown LLC type name").
func LookupLLCType(name string) (mask, val uint8, ok bool) {
	var buf [8]byte
	if len(name) > len(buf) {
		return 0, 0, false
	}
	lower := buf[:len(name)]
	for i := range len(name) {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	t, ok := lookup(llcTypes[:], string(lower))
	return t.mask, t.val, ok
}

// LookupISOProto resolves the OSI network layer protocol name of `iso
// proto \NAME`, case sensitively: esis, isis and clnp, whose values are
// network layer protocol identifiers.
func LookupISOProto(name string) (nlpid uint8, ok bool) {
	return lookup(isoProtos[:], name)
}

// LookupConstant resolves a named constant of pcap-filter(7) usable
// wherever a number is. libpcap's lexer turns these words into numbers,
// case sensitively and anywhere (`port tcpflags` is port 13). tcpflags,
// icmptype, icmpcode, icmp6type and icmp6code are offsets into the
// transport header; the tcp-*, icmp-* and icmp6-* names are field values.
func LookupConstant(name string) (val uint32, ok bool) {
	return lookup(constants[:], name)
}

// lookup finds name in a table sorted by name.
func lookup[V any](table []named[V], name string) (V, bool) {
	i, ok := slices.BinarySearchFunc(table, name, func(e named[V], name string) int {
		return cmp.Compare(e.name, name)
	})
	if !ok {
		var zero V
		return zero, false
	}
	return table[i].val, true
}

// etherProtos is libpcap 1.10's eproto_db, sorted by name.
var etherProtos = [...]named[uint16]{
	{"aarp", 0x80f3},
	{"arp", 0x0806},
	{"atalk", 0x809b},
	{"decnet", 0x6003},
	{"ip", 0x0800},
	{"ip6", 0x86dd},
	{"lat", 0x6004},
	{"loopback", 0x9000},
	{"mopdl", 0x6001},
	{"moprc", 0x6002},
	{"rarp", 0x8035},
	{"sca", 0x6007},
}

// llcSAPs is libpcap 1.10's llc_db, sorted by name.
var llcSAPs = [...]named[uint16]{
	{"ipx", 0xe0},
	{"iso", 0xfe},
	{"netbeui", 0xf0},
	{"stp", 0x42},
}

// llcType is a test on the first byte of an LLC control field.
type llcType struct{ mask, val uint8 }

// llcTypes holds the frame type names of `llc NAME`, sorted by name.
var llcTypes = [...]named[llcType]{
	{"disc", llcType{0xef, 0x43}},
	{"dm", llcType{0xef, 0x0f}},
	{"frmr", llcType{0xef, 0x87}},
	{"i", llcType{0x01, 0x00}},
	{"rej", llcType{0x0f, 0x09}},
	{"rnr", llcType{0x0f, 0x05}},
	{"rr", llcType{0x0f, 0x01}},
	{"s", llcType{0x03, 0x01}},
	{"sabme", llcType{0xef, 0x6f}},
	{"test", llcType{0xef, 0xe3}},
	{"u", llcType{0x03, 0x03}},
	{"ua", llcType{0xef, 0x63}},
	{"ui", llcType{0xef, 0x03}},
	{"xid", llcType{0xef, 0xaf}},
}

// isoProtos holds the names of `iso proto \NAME`, sorted by name.
var isoProtos = [...]named[uint8]{
	{"clnp", 0x81},
	{"esis", 0x82},
	{"isis", 0x83},
}

// constants holds the named constants of libpcap 1.10's lexer, sorted by
// name.
var constants = [...]named[uint32]{
	{"icmp-echo", 8},
	{"icmp-echoreply", 0},
	{"icmp-ireq", 15},
	{"icmp-ireqreply", 16},
	{"icmp-maskreply", 18},
	{"icmp-maskreq", 17},
	{"icmp-paramprob", 12},
	{"icmp-redirect", 5},
	{"icmp-routeradvert", 9},
	{"icmp-routersolicit", 10},
	{"icmp-sourcequench", 4},
	{"icmp-timxceed", 11},
	{"icmp-tstamp", 13},
	{"icmp-tstampreply", 14},
	{"icmp-unreach", 3},
	{"icmp6-certpathadvert", 149},
	{"icmp6-certpathsolicit", 148},
	{"icmp6-destinationunreach", 1},
	{"icmp6-echo", 128},
	{"icmp6-echoreply", 129},
	{"icmp6-homeagentdiscoveryreply", 145},
	{"icmp6-homeagentdiscoveryrequest", 144},
	{"icmp6-ineighbordiscoveryadvert", 142},
	{"icmp6-ineighbordiscoverysolicit", 141},
	{"icmp6-mobileprefixadvert", 147},
	{"icmp6-mobileprefixsolicit", 146},
	{"icmp6-multicastlistenerdone", 132},
	{"icmp6-multicastlistenerquery", 130},
	{"icmp6-multicastlistenerreportv1", 131},
	{"icmp6-multicastlistenerreportv2", 143},
	{"icmp6-multicastrouteradvert", 151},
	{"icmp6-multicastroutersolicit", 152},
	{"icmp6-multicastrouterterm", 153},
	{"icmp6-neighboradvert", 136},
	{"icmp6-neighborsolicit", 135},
	{"icmp6-nodeinformationquery", 139},
	{"icmp6-nodeinformationresponse", 140},
	{"icmp6-packettoobig", 2},
	{"icmp6-parameterproblem", 4},
	{"icmp6-redirect", 137},
	{"icmp6-routeradvert", 134},
	{"icmp6-routerrenum", 138},
	{"icmp6-routersolicit", 133},
	{"icmp6-timeexceeded", 3},
	{"icmp6code", 1},
	{"icmp6type", 0},
	{"icmpcode", 1},
	{"icmptype", 0},
	{"tcp-ack", 0x10},
	{"tcp-cwr", 0x80},
	{"tcp-ece", 0x40},
	{"tcp-fin", 0x01},
	{"tcp-push", 0x08},
	{"tcp-rst", 0x04},
	{"tcp-syn", 0x02},
	{"tcp-urg", 0x20},
	{"tcpflags", 13},
}
