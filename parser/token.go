package parser

import "github.com/alecthomas/participle/v2/lexer"

// Token types of the hand-written lexer, as participle sees them. The
// values mirror the terminals of libpcap's grammar.y.
const (
	tokEOF                     = lexer.EOF
	tokError   lexer.TokenType = iota + 1 // a character no rule matches
	tokNum                                // decimal, octal or hex number, or a named constant
	tokID                                 // a name (host, service, protocol ...), or \escaped
	tokHID                                // dotted IPv4: N.N, N.N.N, N.N.N.N
	tokHID6                               // IPv6 address
	tokEID                                // MAC address
	tokBadEID                             // a malformed MAC address (aa:bb:)
	tokAID                                // ARCnet address $xx
	tokLParen                             // (
	tokRParen                             // )
	tokLBrack                             // [
	tokRBrack                             // ]
	tokColon                              // :
	tokPlus                               // +
	tokMinus                              // -
	tokStar                               // *
	tokSlash                              // /
	tokPercent                            // %
	tokAmp                                // &
	tokPipe                               // |
	tokCaret                              // ^
	tokLSH                                // <<
	tokRSH                                // >>
	tokLT                                 // <
	tokGT                                 // >
	tokLE                                 // <=
	tokGE                                 // >=
	tokEQ                                 // = ==
	tokNE                                 // !=
	tokAnd                                // and &&
	tokOr                                 // or ||
	tokNot                                // not !
	tokKeyword                            // first keyword; keywords are tokKeyword+kw
)

// kw identifies a keyword of the language.
type kw int

// Keywords. The pname keywords (protocol qualifiers) come first, in the
// order of Proto, so that kwProto(k) is a simple conversion.
const (
	kwNone kw = iota
	// protocol qualifiers, same order as Proto
	kwLink
	kwIP
	kwARP
	kwRARP
	kwSCTP
	kwTCP
	kwUDP
	kwICMP
	kwIGMP
	kwIGRP
	kwPIM
	kwVRRP
	kwCARP
	kwRadio
	kwIP6
	kwICMP6
	kwAH
	kwESP
	kwATalk
	kwAARP
	kwDECnet
	kwLAT
	kwSCA
	kwMOPRC
	kwMOPDL
	kwISO
	kwESIS
	kwISIS
	kwL1
	kwL2
	kwIIH
	kwLSP
	kwSNP
	kwCSNP
	kwPSNP
	kwCLNP
	kwSTP
	kwIPX
	kwNetBEUI
	// direction qualifiers
	kwSrc
	kwDst
	kwAddr1
	kwAddr2
	kwAddr3
	kwAddr4
	kwRA
	kwTA
	// type qualifiers
	kwHost
	kwNet
	kwPort
	kwPortRange
	kwGateway
	kwProto
	kwProtochain
	kwMask
	// primitives and their words
	kwLess
	kwGreater
	kwByte
	kwBroadcast
	kwMulticast
	kwLen
	kwInbound
	kwOutbound
	kwIfindex
	kwVLAN
	kwMPLS
	kwPPPoED
	kwPPPoES
	kwGeneve
	kwType
	kwSubtype
	kwDir
	kwLLC
	// pflog
	kwIfname
	kwRset
	kwRnr
	kwSrnr
	kwReason
	kwAction
	// ATM
	kwLANE
	kwMetac
	kwBCC
	kwOAMF4EC
	kwOAMF4SC
	kwSC
	kwILMIC
	kwOAM
	kwOAMF4
	kwConnectMsg
	kwMetaConnect
	kwVPI
	kwVCI
	// SS7
	kwFISU
	kwLSSU
	kwMSU
	kwHFISU
	kwHLSSU
	kwHMSU
	kwSIO
	kwOPC
	kwDPC
	kwSLS
	kwHSIO
	kwHOPC
	kwHDPC
	kwHSLS
	kwCount
)

// kwLastProto is the last protocol qualifier keyword.
const kwLastProto = kwNetBEUI

// keywords maps each reserved word of libpcap 1.10's scanner.l to its
// keyword. Words are case sensitive.
var keywords = map[string]kw{
	"link": kwLink, "ether": kwLink, "ppp": kwLink, "slip": kwLink,
	"fddi": kwLink, "tr": kwLink, "wlan": kwLink,
	"ip": kwIP, "arp": kwARP, "rarp": kwRARP, "sctp": kwSCTP, "tcp": kwTCP,
	"udp": kwUDP, "icmp": kwICMP, "igmp": kwIGMP, "igrp": kwIGRP, "pim": kwPIM,
	"vrrp": kwVRRP, "carp": kwCARP, "radio": kwRadio, "ip6": kwIP6,
	"icmp6": kwICMP6, "ah": kwAH, "esp": kwESP, "atalk": kwATalk,
	"aarp": kwAARP, "decnet": kwDECnet, "lat": kwLAT, "sca": kwSCA,
	"moprc": kwMOPRC, "mopdl": kwMOPDL, "iso": kwISO, "esis": kwESIS,
	"es-is": kwESIS, "isis": kwISIS, "is-is": kwISIS, "l1": kwL1, "l2": kwL2,
	"iih": kwIIH, "lsp": kwLSP, "snp": kwSNP, "csnp": kwCSNP, "psnp": kwPSNP,
	"clnp": kwCLNP, "stp": kwSTP, "ipx": kwIPX, "netbeui": kwNetBEUI,

	"src": kwSrc, "dst": kwDst,
	"addr1": kwAddr1, "address1": kwAddr1, "addr2": kwAddr2, "address2": kwAddr2,
	"addr3": kwAddr3, "address3": kwAddr3, "addr4": kwAddr4, "address4": kwAddr4,
	"ra": kwRA, "ta": kwTA,

	"host": kwHost, "net": kwNet, "port": kwPort, "portrange": kwPortRange,
	"gateway": kwGateway, "proto": kwProto, "protochain": kwProtochain,
	"mask": kwMask,

	"less": kwLess, "greater": kwGreater, "byte": kwByte,
	"broadcast": kwBroadcast, "multicast": kwMulticast,
	"len": kwLen, "length": kwLen, "inbound": kwInbound, "outbound": kwOutbound,
	"ifindex": kwIfindex, "vlan": kwVLAN, "mpls": kwMPLS, "pppoed": kwPPPoED,
	"pppoes": kwPPPoES, "geneve": kwGeneve,
	"type": kwType, "subtype": kwSubtype, "dir": kwDir, "direction": kwDir,
	"llc": kwLLC,

	"on": kwIfname, "ifname": kwIfname, "rset": kwRset, "ruleset": kwRset,
	"rnr": kwRnr, "rulenum": kwRnr, "srnr": kwSrnr, "subrulenum": kwSrnr,
	"reason": kwReason, "action": kwAction,

	"lane": kwLANE, "metac": kwMetac, "bcc": kwBCC, "oamf4ec": kwOAMF4EC,
	"oamf4sc": kwOAMF4SC, "sc": kwSC, "ilmic": kwILMIC, "oam": kwOAM,
	"oamf4": kwOAMF4, "connectmsg": kwConnectMsg, "metaconnect": kwMetaConnect,
	"vpi": kwVPI, "vci": kwVCI,

	"fisu": kwFISU, "lssu": kwLSSU, "lsu": kwLSSU, "msu": kwMSU,
	"hfisu": kwHFISU, "hlssu": kwHLSSU, "hmsu": kwHMSU,
	"sio": kwSIO, "opc": kwOPC, "dpc": kwDPC, "sls": kwSLS,
	"hsio": kwHSIO, "hopc": kwHOPC, "hdpc": kwHDPC, "hsls": kwHSLS,

	// Boolean operators spelled as words.
	"and": -1, "or": -2, "not": -3,
}

// kwIndex holds keywords as an open-addressing table probed from
// kwHash: the lexer looks up every word it meets, and this costs a few
// instructions and one string comparison, less than a map lookup.
var kwIndex = func() (t [kwSlots]struct {
	w string
	k kw
}) {
	for w, k := range keywords {
		i := kwHash(w)
		for t[i].w != "" {
			i = (i + 1) & (kwSlots - 1)
		}
		t[i].w, t[i].k = w, k
	}
	return t
}()

const kwSlots = 512 // a power of two, four times the keywords

func kwHash(w string) int {
	n := len(w)
	return (int(w[0])*31 + int(w[n-1])*7 + int(w[n>>1])*131 + n*17) & (kwSlots - 1)
}

// lookupKeyword is keywords[w] through kwIndex.
func lookupKeyword(w string) (kw, bool) {
	if w == "" {
		return kwNone, false
	}
	for i := kwHash(w); ; i = (i + 1) & (kwSlots - 1) {
		e := &kwIndex[i]
		if e.w == w {
			return e.k, true
		}
		if e.w == "" {
			return kwNone, false
		}
	}
}

// tokKW returns the token type of keyword k.
func tokKW(k kw) lexer.TokenType { return tokKeyword + lexer.TokenType(k) }

// keywordOf returns the keyword of token type t, or kwNone.
func keywordOf(t lexer.TokenType) kw {
	if t > tokKeyword && t < tokKeyword+lexer.TokenType(kwCount) {
		return kw(t - tokKeyword)
	}
	return kwNone
}

// symbols is the token table participle sees.
var symbols = func() map[string]lexer.TokenType {
	m := map[string]lexer.TokenType{
		"EOF": tokEOF, "Error": tokError, "Num": tokNum, "ID": tokID,
		"HID": tokHID, "HID6": tokHID6, "EID": tokEID, "BadEID": tokBadEID,
		"AID": tokAID, "(": tokLParen, ")": tokRParen, "[": tokLBrack,
		"]": tokRBrack, ":": tokColon, "+": tokPlus, "-": tokMinus, "*": tokStar,
		"/": tokSlash, "%": tokPercent, "&": tokAmp, "|": tokPipe, "^": tokCaret,
		"<<": tokLSH, ">>": tokRSH, "<": tokLT, ">": tokGT, "<=": tokLE,
		">=": tokGE, "=": tokEQ, "!=": tokNE, "and": tokAnd, "or": tokOr,
		"not": tokNot,
	}
	for w, k := range keywords {
		if k > 0 {
			m[w] = tokKW(k)
		}
	}
	return m
}()
