package parser

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// The String methods print canonical pcap-filter text: keywords in their
// main spelling ("and", "not", "ether" for every link-layer qualifier),
// single spaces, parentheses where the grammar needs them. Parsing the
// text gives the same tree again, positions aside.

func (x *Binary) String() string {
	var b strings.Builder
	writeExpr(&b, x)
	return b.String()
}

func (x *Not) String() string       { return str(x) }
func (x *Paren) String() string     { return str(x) }
func (x *Primitive) String() string { return str(x) }
func (x *Bare) String() string      { return x.ID.String() }
func (x *Abbrev) String() string    { return x.Proto.String() }
func (x *Host) String() string      { return str(x) }
func (x *Port) String() string      { return str(x) }
func (x *Protocol) String() string  { return str(x) }
func (x *Special) String() string   { return str(x) }
func (x *Relation) String() string  { return str(x) }

func str(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeExpr writes e; a *Binary operand on the right of a *Binary, or
// under a *Not, gets parentheses (and and or associate left).
func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case *Binary:
		writeExpr(b, x.X)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		b.WriteByte(' ')
		writeOperand(b, x.Y)
	case *Not:
		b.WriteString("not ")
		writeOperand(b, x.X)
	case *Paren:
		b.WriteByte('(')
		writeExpr(b, x.X)
		b.WriteByte(')')
	case *Primitive:
		writeQuals(b, x.Quals)
		if x.ID != nil {
			b.WriteString(x.ID.String())
		} else {
			writeExpr(b, x.Group)
		}
	case *Bare:
		b.WriteString(x.ID.String())
	case *Abbrev:
		b.WriteString(x.Proto.String())
	case *Host:
		writeQuals(b, Qualifiers{x.Proto, x.Dir, x.Type})
		b.WriteString(formatAddr(x))
	case *Port:
		typ := TypePort
		if x.Range {
			typ = TypePortRange
		}
		writeQuals(b, Qualifiers{x.Proto, x.Dir, typ})
		b.WriteString(strconv.Itoa(int(x.Lo)))
		if x.Range {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(x.Hi)))
		}
	case *Protocol:
		typ := TypeProto
		if x.Chain {
			typ = TypeProtochain
		}
		writeQuals(b, Qualifiers{x.Proto, x.Dir, typ})
		b.WriteString(strconv.FormatUint(uint64(x.Num), 10))
	case *Special:
		writeSpecial(b, x)
	case *Relation:
		writeArith(b, x.X)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		b.WriteByte(' ')
		writeArith(b, x.Y)
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "<%T>", e)
	}
}

func writeOperand(b *strings.Builder, e Expr) {
	if _, ok := e.(*Binary); ok {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

func writeQuals(b *strings.Builder, q Qualifiers) {
	if q == (Qualifiers{}) {
		q.Type = TypeHost
	}
	b.WriteString(q.String())
	b.WriteByte(' ')
}

// String returns the id as written, with its /len or mask.
func (id *ID) String() string {
	s := id.Text
	if id.HasMaskLen {
		s += "/" + strconv.FormatUint(uint64(id.MaskLen), 10)
	} else if id.Mask != "" {
		s += " mask " + id.Mask
	}
	return s
}

func formatAddr(h *Host) string {
	switch a := h.Addr.(type) {
	case IPv4:
		if h.Type != TypeNet {
			switch a.Mask {
			case 0xffffffff:
				return dotted(a.Addr, 4)
			case 0xffffff00:
				return dotted(a.Addr, 3)
			case 0xffff0000:
				return dotted(a.Addr, 2)
			}
		}
		return a.String()
	case nil:
		return "<nil>"
	}
	return h.Addr.String()
}

// dotted writes the first n bytes of a as a dotted address.
func dotted(a uint32, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(int(a >> (24 - 8*i) & 0xff)))
	}
	return b.String()
}

// String returns "a.b.c.d", "a.b.c.d/len" or "a.b.c.d mask m.m.m.m".
func (a IPv4) String() string {
	if a.Mask == 0xffffffff {
		return dotted(a.Addr, 4)
	}
	ones := bits.LeadingZeros32(^a.Mask)
	if a.Mask == ^uint32(0)<<(32-ones) || ones == 0 && a.Mask == 0 {
		return dotted(a.Addr, 4) + "/" + strconv.Itoa(ones)
	}
	return dotted(a.Addr, 4) + " mask " + dotted(a.Mask, 4)
}

// String returns the address, with "/bits" unless it is a /128.
func (a IPv6) String() string {
	s := netip.AddrFrom16(a.Addr).String()
	if a.Bits != 128 {
		s += "/" + strconv.Itoa(a.Bits)
	}
	return s
}

// String returns "aa:bb:cc:dd:ee:ff".
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// String returns "$x", the text that resolves to the address.
//
// libpcap 1.10 reads "$xy" as the address 0xd0|x (see arcnetAddr), so
// every address it makes is 0xd0 to 0xdf and the text "$x" gives it back.
func (a ARCnet) String() string { return fmt.Sprintf("$%x", uint8(a)&0xf) }

// String returns "area.node".
func (a DECnet) String() string { return fmt.Sprintf("%d.%d", a>>10, a&1023) }

func writeSpecial(b *strings.Builder, s *Special) {
	if s.Proto != ProtoDefault {
		b.WriteString(s.Proto.String())
		b.WriteByte(' ')
	}
	num := func(v uint32) { b.WriteString(strconv.FormatUint(uint64(v), 10)) }
	switch s.Kind {
	case SpecialLess:
		b.WriteString("less ")
		num(s.Num)
	case SpecialGreater:
		b.WriteString("greater ")
		num(s.Num)
	case SpecialByte:
		b.WriteString("byte ")
		num(s.Num)
		b.WriteByte(' ')
		b.WriteByte(s.ByteOp)
		b.WriteByte(' ')
		num(s.Val)
	case SpecialInbound:
		b.WriteString("inbound")
	case SpecialOutbound:
		b.WriteString("outbound")
	case SpecialIfindex:
		b.WriteString("ifindex ")
		num(s.Num)
	case SpecialBroadcast:
		b.WriteString("broadcast")
	case SpecialMulticast:
		b.WriteString("multicast")
	case SpecialVLAN, SpecialMPLS, SpecialPPPoES, SpecialGeneve:
		b.WriteString(map[SpecialKind]string{SpecialVLAN: "vlan", SpecialMPLS: "mpls", SpecialPPPoES: "pppoes", SpecialGeneve: "geneve"}[s.Kind])
		if s.HasNum {
			b.WriteByte(' ')
			num(s.Num)
		}
	case SpecialPPPoED:
		b.WriteString("pppoed")
	case SpecialWLANType:
		b.WriteString("type ")
		num(s.Num & wlanTypeMask)
		if s.Mask&wlanSubtypeMask != 0 {
			b.WriteString(" subtype ")
			num(s.Num & wlanSubtypeMask)
		}
	case SpecialWLANDir:
		b.WriteString("dir ")
		num(s.Num)
	case SpecialLLC:
		b.WriteString("llc")
		if s.Str != "" {
			b.WriteByte(' ')
			b.WriteString(s.Str)
		}
	case SpecialPFIfname:
		b.WriteString("ifname ")
		b.WriteString(s.Str)
	case SpecialPFRuleset:
		b.WriteString("ruleset ")
		b.WriteString(s.Str)
	case SpecialPFRnr:
		b.WriteString("rnr ")
		num(s.Num)
	case SpecialPFSrnr:
		b.WriteString("srnr ")
		num(s.Num)
	case SpecialPFReason:
		b.WriteString("reason ")
		if s.Str != "" {
			b.WriteString(s.Str)
		} else {
			num(s.Num)
		}
	case SpecialPFAction:
		b.WriteString("action ")
		b.WriteString(s.Str)
	case SpecialATMType, SpecialMTP2Type:
		b.WriteString(s.Str)
	case SpecialATMField, SpecialMTP3Field:
		b.WriteString(s.Str)
		b.WriteByte(' ')
		if s.Op != OpEQ {
			b.WriteString(s.Op.String())
			b.WriteByte(' ')
		}
		num(s.Num)
	default:
		fmt.Fprintf(b, "<special %d>", s.Kind)
	}
}

func (x *Num) String() string      { return arithString(x) }
func (x *Len) String() string      { return "len" }
func (x *Load) String() string     { return arithString(x) }
func (x *BinArith) String() string { return arithString(x) }
func (x *Neg) String() string      { return arithString(x) }

func arithString(a Arith) string {
	var b strings.Builder
	writeArith(&b, a)
	return b.String()
}

// prec is the binding power of op (see arithOp).
func prec(op ArithOp) int {
	switch op {
	case OpOr:
		return 1
	case OpAnd:
		return 2
	case OpShl, OpShr:
		return 3
	case OpAdd, OpSub:
		return 4
	case OpMul, OpDiv:
		return 5
	}
	return bpShift
}

func writeArith(b *strings.Builder, a Arith) {
	switch x := a.(type) {
	case *Num:
		if x.Text != "" {
			b.WriteString(x.Text)
		} else {
			b.WriteString(strconv.FormatUint(uint64(x.Val), 10))
		}
	case *Len:
		b.WriteString("len")
	case *Load:
		p := x.Proto.String()
		if x.Proto == ProtoLink {
			p = "link"
		}
		b.WriteString(p)
		b.WriteByte('[')
		writeArith(b, x.Off)
		if x.Size != 1 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(x.Size))
		}
		b.WriteByte(']')
	case *Neg:
		b.WriteByte('-')
		writeArithOperand(b, x.X, true)
	case *BinArith:
		p := prec(x.Op)
		l, lok := x.X.(*BinArith)
		needL := lok && (prec(l.Op) < p || prec(l.Op) == bpShift || p == bpShift)
		if _, neg := x.X.(*Neg); neg {
			needL = true
		}
		writeArithOperand(b, x.X, needL)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		b.WriteByte(' ')
		r, rok := x.Y.(*BinArith)
		needR := rok && (prec(r.Op) <= p || prec(r.Op) == bpShift || p == bpShift)
		if _, neg := x.Y.(*Neg); neg {
			needR = true
		}
		writeArithOperand(b, x.Y, needR)
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "<%T>", a)
	}
}

func writeArithOperand(b *strings.Builder, a Arith, paren bool) {
	switch a.(type) {
	case *Num, *Len, *Load:
		paren = false
	}
	if paren {
		b.WriteByte('(')
		writeArith(b, a)
		b.WriteByte(')')
		return
	}
	writeArith(b, a)
}
