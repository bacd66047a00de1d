package codegen

import "github.com/bpfc/bpfc/parser"

// IP protocol numbers of the transport keywords.
var ipProtoNum = map[parser.Proto]uint32{
	parser.ProtoSCTP: protoSCTP, parser.ProtoTCP: protoTCP, parser.ProtoUDP: protoUDP,
	parser.ProtoICMP: protoICMP, parser.ProtoIGMP: protoIGMP, parser.ProtoIGRP: 9,
	parser.ProtoICMP6: protoICMPv6, parser.ProtoAH: 51, parser.ProtoESP: 50, parser.ProtoPIM: 103,
	parser.ProtoVRRP: 112, parser.ProtoCARP: 112,
}

// Ethernet types (or SAPs) of the link-level protocol keywords.
var linkProtoNum = map[parser.Proto]uint32{
	parser.ProtoIP: etherIP, parser.ProtoIP6: etherIPv6, parser.ProtoARP: etherARP, parser.ProtoRARP: etherRARP,
	parser.ProtoATalk: etherATalk, parser.ProtoAARP: etherAARP, parser.ProtoDECnet: 0x6003,
	parser.ProtoLAT: 0x6004, parser.ProtoSCA: 0x6007, parser.ProtoMOPDL: 0x6001, parser.ProtoMOPRC: 0x6002,
	parser.ProtoSTP: sapSTP, parser.ProtoIPX: sapIPX, parser.ProtoNetBEUI: sapNetBEUI, parser.ProtoISO: sapISO,
}

// ISO network-layer protocol IDs of esis, isis and clnp.
var isoNLPID = map[parser.Proto]uint32{parser.ProtoESIS: 0x82, parser.ProtoISIS: 0x83, parser.ProtoCLNP: 0x81}

// protoAbbrev is the pred of a protocol keyword used on its own ("tcp",
// "ip6", "isis"), libpcap's gen_proto_abbrev.
func (c *compiler) protoAbbrev(p parser.Proto) pred {
	if et, ok := linkProtoNum[p]; ok {
		return c.netProto(et)
	}
	if nlpid, ok := isoNLPID[p]; ok {
		return c.isoProto(nlpid)
	}
	n, ok := ipProtoNum[p]
	if !ok {
		return pTrue
	}
	switch p {
	case parser.ProtoICMP, parser.ProtoIGMP, parser.ProtoIGRP, parser.ProtoVRRP, parser.ProtoCARP:
		return c.ipProto(n)
	case parser.ProtoICMP6:
		return c.ip6Proto(n)
	}
	return c.or(c.ipProto(n), c.ip6Proto(n))
}

// isoProto is "iso proto v": an OSI packet whose network-layer protocol
// ID is v. On Frame Relay, libpcap tests the UI control byte and the
// NLPID only (the NLPIDs are the protocol test there).
func (c *compiler) isoProto(v uint32) pred {
	if c.inForce().lt == linkFRelay {
		return c.loadEq(2, c.offLinkHdr.add(2), 0x0300|v)
	}
	return c.and(c.netProto(sapISO), c.loadEq(1, c.noSnapOff(c.nlpidFudge), v))
}
