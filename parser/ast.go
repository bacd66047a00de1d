package parser

import (
	"fmt"
	"strings"

	"github.com/bpfc/bpfc/internal/alu"
)

// Pos is a position in the filter text: a byte offset and a line and
// column (both 1-based; columns count characters).
type Pos struct {
	Offset int
	Line   int
	Column int
}

// IsValid reports whether p is a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "line:column".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Proto is a protocol qualifier (pcap-filter's "proto" qualifiers, the
// pname of libpcap's grammar).
type Proto uint8

// Protocol qualifiers. ProtoLink stands for every link-layer spelling:
// link, ether, fddi, tr, wlan, ppp and slip, which libpcap does not tell
// apart.
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
	ProtoPIM
	ProtoVRRP
	ProtoCARP
	ProtoRadio
	ProtoIP6
	ProtoICMP6
	ProtoAH
	ProtoESP
	ProtoATalk
	ProtoAARP
	ProtoDECnet
	ProtoLAT
	ProtoSCA
	ProtoMOPRC
	ProtoMOPDL
	ProtoISO
	ProtoESIS
	ProtoISIS
	ProtoL1
	ProtoL2
	ProtoIIH
	ProtoLSP
	ProtoSNP
	ProtoCSNP
	ProtoPSNP
	ProtoCLNP
	ProtoSTP
	ProtoIPX
	ProtoNetBEUI
)

var protoNames = [...]string{
	"", "ether", "ip", "arp", "rarp", "sctp", "tcp", "udp", "icmp", "igmp",
	"igrp", "pim", "vrrp", "carp", "radio", "ip6", "icmp6", "ah", "esp",
	"atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl", "iso", "esis",
	"isis", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp", "clnp", "stp",
	"ipx", "netbeui",
}

// String returns the qualifier's keyword ("ether" for ProtoLink, "" for
// ProtoDefault).
func (p Proto) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return fmt.Sprintf("Proto(%d)", uint8(p))
}

// Dir is a direction qualifier.
type Dir uint8

// Direction qualifiers.
const (
	DirDefault   Dir = iota
	DirSrc           // src
	DirDst           // dst
	DirSrcOrDst      // src or dst
	DirSrcAndDst     // src and dst
	DirAddr1         // addr1 (802.11)
	DirAddr2         // addr2
	DirAddr3         // addr3
	DirAddr4         // addr4
	DirRA            // ra: receiver address (802.11)
	DirTA            // ta: transmitter address (802.11)
)

var dirNames = [...]string{"", "src", "dst", "src or dst", "src and dst", "addr1", "addr2", "addr3", "addr4", "ra", "ta"}

// String returns the qualifier as written in a filter ("" for DirDefault).
func (d Dir) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return fmt.Sprintf("Dir(%d)", uint8(d))
}

// Type is an address type qualifier.
type Type uint8

// Address type qualifiers.
const (
	TypeDefault    Type = iota
	TypeHost            // host
	TypeNet             // net
	TypePort            // port
	TypePortRange       // portrange
	TypeGateway         // gateway
	TypeProto           // proto
	TypeProtochain      // protochain
)

var typeNames = [...]string{"", "host", "net", "port", "portrange", "gateway", "proto", "protochain"}

// String returns the qualifier's keyword ("" for TypeDefault).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Qualifiers are the three qualifiers of a primitive.
type Qualifiers struct {
	Proto Proto
	Dir   Dir
	Type  Type
}

// String returns the qualifiers as written before an id, e.g. "tcp src port".
func (q Qualifiers) String() string {
	s := ""
	for _, w := range [...]string{q.Proto.String(), q.Dir.String(), q.Type.String()} {
		if w != "" {
			if s != "" {
				s += " "
			}
			s += w
		}
	}
	return s
}

// Node is any node of the tree.
type Node interface {
	// Pos is where the node starts in the filter text.
	Pos() Pos
	// String returns the node as canonical pcap-filter text.
	String() string
}

// Expr is a boolean filter expression. In a tree returned by Parse it is
// one of *Binary, *Not, *Paren, *Primitive, *Bare, *Abbrev, *Special or
// *Relation. In a tree returned by Resolve it is one of *Binary, *Not,
// *Host, *Port, *Protocol, *Abbrev, *Special or *Relation.
type Expr interface {
	Node
	exprNode()
}

// BoolOp is a boolean operator.
type BoolOp uint8

// Boolean operators. They have equal precedence and associate left.
const (
	And BoolOp = iota + 1
	Or
)

// String returns "and" or "or".
func (o BoolOp) String() string {
	if o == And {
		return "and"
	}
	return "or"
}

// Binary is X and Y, or X or Y.
type Binary struct {
	Op    BoolOp
	OpPos Pos
	X, Y  Expr
}

// Not is "not X" (or "! X").
type Not struct {
	NotPos Pos
	X      Expr
}

// Paren is a parenthesized expression; it appears only in parsed trees.
type Paren struct {
	Lparen, Rparen Pos
	X              Expr
}

// IDKind tells what an ID is.
type IDKind uint8

// Kinds of ID.
const (
	IDNum    IDKind = iota + 1 // a number or named constant: 80, 0x50, tcp-syn
	IDName                     // a name: a host, network, service or protocol
	IDIPv4                     // dotted IPv4 address, maybe abbreviated: 10, 10.1, 10.1.2.3
	IDIPv6                     // an IPv6 address
	IDMAC                      // a MAC address: aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff, aabbccddeeff
	IDARCnet                   // an ARCnet address: $1f
)

// ID is the value of a primitive as written: "80", "10.0.0.0/8",
// "10.0.0.0 mask 255.0.0.0", "ssh", "\tcp".
type ID struct {
	IDPos Pos
	Kind  IDKind
	Text  string // as written, a leading backslash included
	Num   uint32 // the value of an IDNum
	// MaskLen is set for ADDR/LEN (HasMaskLen), Mask for ADDR mask MASK.
	HasMaskLen bool
	MaskLen    uint32
	Mask       string
	MaskPos    Pos
}

// Name returns the text of a name without its escaping backslash.
func (id *ID) Name() string {
	if len(id.Text) > 0 && id.Text[0] == '\\' {
		return id.Text[1:]
	}
	return id.Text
}

// Primitive is a qualified id in a parsed tree: "tcp dst port 80",
// "src net 10.0.0.0/8", "ether proto \arp". Resolve turns it into a
// *Host, *Port or *Protocol.
type Primitive struct {
	Start Pos
	Quals Qualifiers
	// ID is the value; Group replaces it when the value is a
	// parenthesized list of ids or "not id": "host (a or b)".
	ID    *ID
	Group Expr
}

// Bare is an id written without qualifiers after "and", "or" or "not":
// the 443 of "port 80 or 443". It takes the qualifiers of the primitive
// before it; Resolve replaces it with a qualified node.
type Bare struct {
	ID *ID
}

// Abbrev is a protocol keyword alone: "tcp", "ip6", "arp", "stp" ...
type Abbrev struct {
	ProtoPos Pos
	Proto    Proto
}

// Host tests an address: host, net, or an address qualified by direction
// only. It is a resolved node.
type Host struct {
	Start Pos
	Proto Proto // ProtoDefault, ProtoLink, ProtoIP, ProtoIP6, ProtoARP, ...
	Dir   Dir
	Type  Type // TypeHost, TypeNet or TypeDefault, as written
	Addr  Address
}

// Address is the value of a *Host: IPv4, IPv6, MAC, ARCnet or DECnet.
type Address interface {
	fmt.Stringer
	addressNode()
}

// IPv4 is an IPv4 address and mask (a host is a /32). libpcap allows a
// mask that is not a prefix with "net A mask M".
type IPv4 struct {
	Addr, Mask uint32
}

// IPv6 is an IPv6 address and prefix length (a host is a /128).
type IPv6 struct {
	Addr [16]byte
	Bits int
}

// MAC is a link-layer (Ethernet, 802.11, FDDI ...) address.
type MAC [6]byte

// ARCnet is a one-byte ARCnet address ($xx).
type ARCnet uint8

// DECnet is a DECnet address: area << 10 | node.
type DECnet uint16

func (IPv4) addressNode()   {}
func (IPv6) addressNode()   {}
func (MAC) addressNode()    {}
func (ARCnet) addressNode() {}
func (DECnet) addressNode() {}

// Transport is the set of transport protocols a port test applies to.
type Transport uint8

// Transports. TransportAny (tcp, udp and sctp) is what "port 80" tests.
const (
	TransportTCP Transport = 1 << iota
	TransportUDP
	TransportSCTP
	TransportAny = TransportTCP | TransportUDP | TransportSCTP
)

// String returns "tcp", "udp", "sctp", "any", or the set joined by '|'.
func (t Transport) String() string {
	if t == TransportAny {
		return "any"
	}
	var parts []string
	for _, p := range [...]struct {
		t Transport
		s string
	}{{TransportTCP, "tcp"}, {TransportUDP, "udp"}, {TransportSCTP, "sctp"}} {
		if t&p.t != 0 {
			parts = append(parts, p.s)
		}
	}
	return strings.Join(parts, "|")
}

// Port tests a transport port or range: port, portrange. It is a resolved
// node.
type Port struct {
	Start     Pos
	Proto     Proto // ProtoDefault, ProtoTCP, ProtoUDP or ProtoSCTP
	Dir       Dir
	Transport Transport
	Range     bool   // portrange
	Lo, Hi    uint16 // Lo == Hi for a port; Lo <= Hi
}

// Protocol tests a protocol number: "ip proto 6", "ether proto 0x800",
// "ip6 protochain 44", "proto 17". It is a resolved node.
type Protocol struct {
	Start Pos
	Proto Proto // the qualifier: ProtoDefault, ProtoLink, ProtoIP, ProtoIP6, ProtoISO ...
	Dir   Dir
	Chain bool // protochain
	Num   uint32
}

// SpecialKind tells which special primitive a *Special is.
type SpecialKind uint8

// Special primitives. The comment gives the fields each one uses.
const (
	SpecialLess      SpecialKind = iota + 1 // less Num
	SpecialGreater                          // greater Num
	SpecialByte                             // byte Num ByteOp Val
	SpecialInbound                          // inbound
	SpecialOutbound                         // outbound
	SpecialIfindex                          // ifindex Num
	SpecialBroadcast                        // [Proto] broadcast
	SpecialMulticast                        // [Proto] multicast
	SpecialVLAN                             // vlan [Num] (HasNum)
	SpecialMPLS                             // mpls [Num]
	SpecialPPPoED                           // pppoed
	SpecialPPPoES                           // pppoes [Num]
	SpecialGeneve                           // geneve [Num]
	SpecialWLANType                         // [Proto] type/subtype: frame control & Mask == Num
	SpecialWLANDir                          // [Proto] dir Num
	SpecialLLC                              // llc: any LLC frame, or (HasNum) control & Mask == Num; Str is the name
	SpecialPFIfname                         // on Str
	SpecialPFRuleset                        // rset Str
	SpecialPFRnr                            // rnr Num
	SpecialPFSrnr                           // srnr Num
	SpecialPFReason                         // reason Num (Str: the name if one was used)
	SpecialPFAction                         // action Num (Str: the name)
	SpecialATMType                          // ATM: Str is lane, metac, bcc, oamf4ec, oamf4sc, sc, ilmic, oam, oamf4, connectmsg, metaconnect
	SpecialATMField                         // vpi/vci (Str) Op Num
	SpecialMTP2Type                         // Str is fisu, lssu, msu, hfisu, hlssu, hmsu
	SpecialMTP3Field                        // sio/opc/dpc/sls/hsio/hopc/hdpc/hsls (Str) Op Num
)

// Special is one of the primitives that are neither addresses, ports nor
// protocols: less, greater, byte, inbound, vlan, mpls, pppoe, geneve,
// 802.11, llc, pflog, ATM and SS7 primitives.
type Special struct {
	Start  Pos
	Kind   SpecialKind
	Proto  Proto // broadcast, multicast, 802.11 type/dir
	HasNum bool
	Num    uint32
	Mask   uint32
	Val    uint32 // byte: the operand
	ByteOp byte   // byte: one of & | < > =
	Op     RelOp  // ATM and MTP3 fields
	Str    string
}

// RelOp is a comparison operator.
type RelOp uint8

// Comparison operators.
const (
	OpEQ RelOp = iota + 1 // = or ==
	OpNE                  // !=
	OpLT                  // <
	OpLE                  // <=
	OpGT                  // >
	OpGE                  // >=
)

var relNames = [...]string{"", "=", "!=", "<", "<=", ">", ">="}

// String returns the operator's text.
func (o RelOp) String() string {
	if int(o) < len(relNames) {
		return relNames[o]
	}
	return fmt.Sprintf("RelOp(%d)", uint8(o))
}

// Relation compares two arithmetic expressions: "tcp[13] & 2 != 0".
type Relation struct {
	Op    RelOp
	OpPos Pos
	X, Y  Arith
}

// Arith is an arithmetic expression: *Num, *Len, *Load, *BinArith or *Neg.
type Arith interface {
	Node
	arithNode()
}

// Num is a constant: a number or a named constant (tcpflags, tcp-syn,
// icmp-echo ...).
type Num struct {
	NumPos Pos
	Val    uint32
	Text   string // as written; empty if synthesized
}

// Len is the packet length: len or length.
type Len struct {
	LenPos Pos
}

// Load reads Size bytes (1, 2 or 4) at offset Off from the start of the
// Proto header: proto[off:size].
type Load struct {
	Start Pos
	Proto Proto // ProtoLink for link, ether, ppp ...
	Off   Arith
	Size  int
}

// ArithOp is an arithmetic operator.
type ArithOp uint8

// Arithmetic operators.
const (
	OpAdd ArithOp = iota + 1
	OpSub
	OpMul
	OpDiv
	OpMod
	OpAnd
	OpOr
	OpXor
	OpShl
	OpShr
)

var arithNames = [...]string{"", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}

// String returns the operator's text.
func (o ArithOp) String() string {
	if int(o) < len(arithNames) {
		return arithNames[o]
	}
	return fmt.Sprintf("ArithOp(%d)", uint8(o))
}

// ALU is the operator's classic BPF ALU operation (BPF_ADD, BPF_SUB ...),
// or 0xff for none.
func (o ArithOp) ALU() uint16 {
	if int(o) < len(arithALU) {
		return arithALU[o]
	}
	return 0xff
}

var arithALU = [...]uint16{0xff, alu.Add, alu.Sub, alu.Mul, alu.Div, alu.Mod, alu.And, alu.Or, alu.Xor, alu.Lsh, alu.Rsh}

// BinArith is X Op Y.
type BinArith struct {
	Op    ArithOp
	OpPos Pos
	X, Y  Arith
}

// Neg is -X.
type Neg struct {
	MinusPos Pos
	X        Arith
}

func (x *Binary) Pos() Pos    { return x.X.Pos() }
func (x *Not) Pos() Pos       { return x.NotPos }
func (x *Paren) Pos() Pos     { return x.Lparen }
func (x *Primitive) Pos() Pos { return x.Start }
func (x *Bare) Pos() Pos      { return x.ID.IDPos }
func (x *Abbrev) Pos() Pos    { return x.ProtoPos }
func (x *Host) Pos() Pos      { return x.Start }
func (x *Port) Pos() Pos      { return x.Start }
func (x *Protocol) Pos() Pos  { return x.Start }
func (x *Special) Pos() Pos   { return x.Start }
func (x *Relation) Pos() Pos  { return x.X.Pos() }
func (x *Num) Pos() Pos       { return x.NumPos }
func (x *Len) Pos() Pos       { return x.LenPos }
func (x *Load) Pos() Pos      { return x.Start }
func (x *BinArith) Pos() Pos  { return x.X.Pos() }
func (x *Neg) Pos() Pos       { return x.MinusPos }

func (*Binary) exprNode()    {}
func (*Not) exprNode()       {}
func (*Paren) exprNode()     {}
func (*Primitive) exprNode() {}
func (*Bare) exprNode()      {}
func (*Abbrev) exprNode()    {}
func (*Host) exprNode()      {}
func (*Port) exprNode()      {}
func (*Protocol) exprNode()  {}
func (*Special) exprNode()   {}
func (*Relation) exprNode()  {}

func (*Num) arithNode()      {}
func (*Len) arithNode()      {}
func (*Load) arithNode()     {}
func (*BinArith) arithNode() {}
func (*Neg) arithNode()      {}
