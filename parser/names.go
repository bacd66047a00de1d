package parser

//go:generate go run ./internal/gennames -services internal/gennames/testdata/services -protocols internal/gennames/testdata/protocols -o .

// ServiceProtos says which transport protocols define a service name.
type ServiceProtos uint8

// The transport protocols a service name can be defined for.
const (
	ServiceTCP ServiceProtos = 1 << iota
	ServiceUDP
	ServiceSCTP
)

// servicePorts is one service name's port per transport protocol; a
// protocol whose bit is clear in protos does not define the name.
type servicePorts struct {
	tcp, udp, sctp uint16
	protos         ServiceProtos
}

// LookupService resolves a service name as libpcap's pcap_nametoport does.
// ...
func LookupService(name string) (port uint16, protos ServiceProtos, ok bool) {
	s, ok := services[name]
	if !ok {
		return 0, 0, false
	}
	switch {
	case s.protos&ServiceTCP != 0:
		protos = ServiceTCP
		if s.protos&ServiceUDP != 0 && s.udp == s.tcp {
			protos |= ServiceUDP
		}
		return s.tcp, protos, true
	case s.protos&ServiceUDP != 0:
		return s.udp, ServiceUDP, true
	}
	return 0, 0, false
}

// LookupServicePorts reports the port a service name has for each
// transport protocol, or -1 where the protocol does not define it.
func LookupServicePorts(name string) (tcp, udp, sctp int) {
	tcp, udp, sctp = -1, -1, -1
	s, ok := services[name]
	if !ok {
		return tcp, udp, sctp
	}
	if s.protos&ServiceTCP != 0 {
		tcp = int(s.tcp)
	}
	if s.protos&ServiceUDP != 0 {
		udp = int(s.udp)
	}
	if s.protos&ServiceSCTP != 0 {
		sctp = int(s.sctp)
	}
	return tcp, udp, sctp
}

// LookupProtocol resolves an IP protocol name, as in `ip proto \tcp`.
func LookupProtocol(name string) (num uint8, ok bool) {
	num, ok = protocols[name]
	return num, ok
}

// LookupEtherProto resolves an Ethernet type name, as in `ether proto \arp`.
func LookupEtherProto(name string) (ethertype uint16, ok bool) {
	ethertype, ok = etherProtos[name]
	return ethertype, ok
}

// LookupLLC resolves an LLC SAP name.
func LookupLLC(name string) (sap uint16, ok bool) {
	sap, ok = llcSAPs[name]
	return sap, ok
}

// LookupConstant resolves a named constant usable in relations.
func LookupConstant(name string) (val uint32, ok bool) {
	val, ok = constants[name]
	return val, ok
}

var etherProtos = map[string]uint16{
	"ip":  0x0800,
	"arp": 0x0806,
	"ip6": 0x86dd,
}

var llcSAPs = map[string]uint16{
	"iso":     0xfe,
	"stp":     0x42,
	"ipx":     0xe0,
	"netbeui": 0xf0,
}

var constants = map[string]uint32{
	"tcpflags": 13,
	"tcp-syn":  0x02,
	"icmptype": 0,
}
