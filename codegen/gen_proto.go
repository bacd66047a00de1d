package codegen

// Proto is a protocol qualifier or keyword of pcap-filter(7).
type Proto int

// The protocols a primitive can name.
const (
	ProtoDefault Proto = iota
	ProtoLink
	ProtoIP
	ProtoARP
	ProtoRARP
	ProtoSCTP
	ProtoTCP
	ProtoUDP
	ProtoICMP
	ProtoIGMP
	ProtoIGRP
	ProtoATalk
	ProtoAARP
	ProtoDECnet
	ProtoLAT
	ProtoSCA
	ProtoMOPDL
	ProtoMOPRC
	ProtoIPv6
	ProtoICMPv6
	ProtoAH
	ProtoESP
	ProtoPIM
	ProtoVRRP
	ProtoCARP
	ProtoSTP
	ProtoIPX
	ProtoNetBEUI
	ProtoISO
	ProtoESIS
	ProtoISIS
	ProtoCLNP
)

// IP protocol numbers of the transport keywords.
var ipProtoNum = map[Proto]uint32{
	ProtoSCTP: protoSCTP, ProtoTCP: protoTCP, ProtoUDP: protoUDP,
	ProtoICMP: protoICMP, ProtoIGMP: protoIGMP, ProtoIGRP: 9,
	ProtoICMPv6: protoICMPv6, ProtoAH: 51, ProtoESP: 50, ProtoPIM: 103,
	ProtoVRRP: 112, ProtoCARP: 112,
}

// Ethernet types (or SAPs) of the link-level protocol keywords.
var linkProtoNum = map[Proto]uint32{
	ProtoIP: etherIP, ProtoIPv6: etherIPv6, ProtoARP: etherARP, ProtoRARP: etherRARP,
	ProtoATalk: etherATalk, ProtoAARP: etherAARP, ProtoDECnet: 0x6003,
	ProtoLAT: 0x6004, ProtoSCA: 0x6007, ProtoMOPDL: 0x6001, ProtoMOPRC: 0x6002,
	ProtoSTP: sapSTP, ProtoIPX: sapIPX, ProtoNetBEUI: sapNetBEUI, ProtoISO: sapISO,
}

// ISO network-layer protocol IDs of esis, isis and clnp.
var isoNLPID = map[Proto]uint32{ProtoESIS: 0x82, ProtoISIS: 0x83, ProtoCLNP: 0x81}

// protoAbbrev is the pred of a protocol keyword used on its own ("tcp",
// "ip6", "isis"), libpcap's gen_proto_abbrev.
func (c *compiler) protoAbbrev(p Proto) pred {
	if et, ok := linkProtoNum[p]; ok {
		return c.netProto(et)
	}
	if nlpid, ok := isoNLPID[p]; ok {
		return and(c.netProto(sapISO), loadEq(1, c.offLinkPayload+c.link.offNLNoSnap, nlpid))
	}
	n, ok := ipProtoNum[p]
	if !ok {
		return pTrue
	}
	switch p {
	case ProtoICMP, ProtoIGMP, ProtoIGRP, ProtoVRRP, ProtoCARP:
		return c.ipProto(n)
	case ProtoICMPv6:
		return c.ip6Proto(n)
	}
	return or(c.ipProto(n), c.ip6Proto(n))
}
