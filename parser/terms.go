package parser

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// parseTerm parses a term that starts with a keyword: a qualified
// primitive, a protocol alone, or a special primitive.
func (p *parser) parseTerm() Expr {
	t := p.peek()
	w := keywordOf(t.Type)
	start := pos(t)
	switch {
	case w <= kwLastProto:
		p.next()
		proto := Proto(w)
		switch nw := keywordOf(p.peek().Type); {
		case nw == kwBroadcast || nw == kwMulticast:
			return p.parseCast(start, proto)
		case nw == kwType || nw == kwSubtype || nw == kwDir:
			return p.parse80211(start, proto)
		case nw >= kwSrc && nw <= kwProtochain:
			return p.parseHead(start, proto, t)
		}
		return &Abbrev{ProtoPos: start, Proto: proto}
	case w >= kwSrc && w <= kwProtochain:
		return p.parseHead(start, ProtoDefault, nil)
	case w == kwBroadcast || w == kwMulticast:
		return p.parseCast(start, ProtoDefault)
	case w == kwType || w == kwSubtype || w == kwDir:
		return p.parse80211(start, ProtoDefault)
	}
	p.next()
	s := &Special{Start: start}
	switch w {
	case kwLess, kwGreater:
		s.Kind = SpecialLess
		if w == kwGreater {
			s.Kind = SpecialGreater
		}
		s.Num = p.number(p.expect(tokNum, "a length after '"+t.Value+"'"))
	case kwByte:
		s.Kind = SpecialByte
		s.Num = p.number(p.expect(tokNum, "an offset after 'byte'"))
		op := p.next()
		switch op.Type {
		case tokAmp, tokPipe, tokLT, tokGT, tokEQ:
			s.ByteOp = op.Value[0]
		default:
			p.fail(op, "expected one of & | < > = after 'byte "+fmt.Sprint(s.Num)+"', found "+describe(op))
		}
		s.Val = p.number(p.expect(tokNum, "a number"))
	case kwInbound:
		s.Kind = SpecialInbound
	case kwOutbound:
		s.Kind = SpecialOutbound
	case kwIfindex:
		s.Kind = SpecialIfindex
		s.Num = p.number(p.expect(tokNum, "an interface index after 'ifindex'"))
	case kwVLAN, kwMPLS, kwPPPoES, kwGeneve:
		s.Kind = map[kw]SpecialKind{kwVLAN: SpecialVLAN, kwMPLS: SpecialMPLS, kwPPPoES: SpecialPPPoES, kwGeneve: SpecialGeneve}[w]
		if n := p.peek(); n.Type == tokNum || n.Type == tokLParen {
			num := p.parsePnum()
			s.HasNum, s.Num = true, num.Val
			var max uint32
			var what string
			switch w {
			case kwVLAN:
				max, what = 4095, "VLAN tag"
			case kwMPLS:
				max, what = 1048575, "MPLS label"
			case kwPPPoES:
				max, what = 65535, "PPPoE session number"
			case kwGeneve:
				max, what = 16777215, "Geneve VNI"
			}
			if s.Num > max {
				p.failAt(num.NumPos, fmt.Sprintf("%s %d greater than maximum %d", what, s.Num, max))
			}
		}
	case kwPPPoED:
		s.Kind = SpecialPPPoED
	case kwLLC:
		s.Kind = SpecialLLC
		n := p.peek()
		if n.Type == tokID || keywordOf(n.Type) == kwRnr {
			p.next()
			name := n.Value
			if n.Type != tokID {
				name = "rnr"
			}
			mask, val, ok := LookupLLCType(name)
			if !ok {
				p.fail(n, fmt.Sprintf("unknown LLC type name \"%s\"", n.Value))
			}
			s.HasNum, s.Mask, s.Num, s.Str = true, uint32(mask), uint32(val), name
		}
	case kwIfname, kwRset:
		s.Kind = SpecialPFIfname
		what := "an interface name after '" + t.Value + "'"
		if w == kwRset {
			s.Kind = SpecialPFRuleset
			what = "a ruleset name after '" + t.Value + "'"
		}
		n := p.expect(tokID, what)
		s.Str = n.Value
		if len(s.Str) >= 16 {
			if w == kwRset {
				p.fail(n, "ruleset names can only be 15 characters")
			}
			p.fail(n, "ifname interface names can only be 15 characters")
		}
	case kwRnr, kwSrnr:
		s.Kind = SpecialPFRnr
		if w == kwSrnr {
			s.Kind = SpecialPFSrnr
		}
		s.Num = p.number(p.expect(tokNum, "a rule number after '"+t.Value+"'"))
	case kwReason:
		s.Kind = SpecialPFReason
		n := p.next()
		switch n.Type {
		case tokNum:
			s.Num = p.number(n)
		case tokID:
			v, ok := lookupFold(pfReasons, n.Value)
			if !ok {
				p.fail(n, fmt.Sprintf("unknown PF reason \"%s\"", n.Value))
			}
			s.Num, s.Str = v, n.Value
		default:
			p.fail(n, "expected a reason number or name after 'reason', found "+describe(n))
		}
	case kwAction:
		s.Kind = SpecialPFAction
		n := p.expect(tokID, "an action name after 'action'")
		v, ok := lookupFold(pfActions, n.Value)
		if !ok {
			p.fail(n, fmt.Sprintf("unknown PF action \"%s\"", n.Value))
		}
		s.Num, s.Str = v, n.Value
	case kwLANE, kwMetac, kwBCC, kwOAMF4EC, kwOAMF4SC, kwSC, kwILMIC, kwOAM, kwOAMF4, kwConnectMsg, kwMetaConnect:
		s.Kind, s.Str = SpecialATMType, t.Value
	case kwFISU, kwLSSU, kwMSU, kwHFISU, kwHLSSU, kwHMSU:
		s.Kind, s.Str = SpecialMTP2Type, t.Value
		if t.Value == "lsu" {
			s.Str = "lssu"
		}
	case kwVPI, kwVCI:
		return p.parseFieldValue(start, SpecialATMField, t.Value, 0)
	case kwSIO, kwHSIO:
		return p.parseFieldValue(start, SpecialMTP3Field, t.Value, 255)
	case kwOPC, kwDPC, kwHOPC, kwHDPC:
		return p.parseFieldValue(start, SpecialMTP3Field, t.Value, 16383)
	case kwSLS, kwHSLS:
		return p.parseFieldValue(start, SpecialMTP3Field, t.Value, 15)
	default:
		p.fail(t, "expected an expression, found "+describe(t))
	}
	return s
}

// parseHead parses [dir] [type] and the value of a qualified primitive.
func (p *parser) parseHead(start Pos, proto Proto, protoTok *lexer.Token) Expr {
	q := Qualifiers{Proto: proto}
	last := ""
	if protoTok != nil {
		last = protoTok.Value
	}
	hasDir := false
	t := p.peek()
	switch w := keywordOf(t.Type); w {
	case kwSrc, kwDst:
		p.next()
		hasDir, last = true, t.Value
		q.Dir = DirSrc
		want, wantText := kwDst, "dst"
		if w == kwDst {
			q.Dir, want, wantText = DirDst, kwSrc, "src"
		}
		if n := p.peek(); n.Type == tokAnd || n.Type == tokOr {
			p.next()
			m := p.peek()
			if keywordOf(m.Type) != want {
				p.fail(m, fmt.Sprintf("expected '%s' after '%s %s', found %s", wantText, t.Value, n.Value, describe(m)))
			}
			p.next()
			last = m.Value
			q.Dir = DirSrcOrDst
			if n.Type == tokAnd {
				q.Dir = DirSrcAndDst
			}
		}
	case kwAddr1, kwAddr2, kwAddr3, kwAddr4, kwRA, kwTA:
		p.next()
		hasDir, last = true, t.Value
		q.Dir = DirAddr1 + Dir(w-kwAddr1)
	}
	t = p.peek()
	switch w := keywordOf(t.Type); w {
	case kwHost, kwNet, kwPort, kwPortRange:
		p.next()
		q.Type = TypeHost + Type(w-kwHost)
		last = t.Value
	case kwGateway, kwProto, kwProtochain:
		if hasDir {
			p.fail(t, fmt.Sprintf("'%s' cannot follow a direction qualifier", t.Value))
		}
		p.next()
		q.Type = map[kw]Type{kwGateway: TypeGateway, kwProto: TypeProto, kwProtochain: TypeProtochain}[w]
		last = t.Value
	}
	prim := &Primitive{Start: start, Quals: q}
	t = p.peek()
	switch t.Type {
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokBadEID, tokNum:
		prim.ID = p.parseNID()
	case tokLParen, tokNot:
		prim.Group = p.parseUnit(kindI, false).e
	default:
		msg := "expected " + wantedValue(q.Type, last) + ", found " + describe(t)
		if keywordOf(t.Type) != kwNone {
			msg += "; a name that is a keyword must be escaped: '\\" + t.Value + "'"
		}
		p.fail(t, msg)
	}
	return prim
}

// wantedValue describes what must follow the qualifier last.
func wantedValue(typ Type, last string) string {
	switch typ {
	case TypePort:
		return "a port number or service name after '" + last + "'"
	case TypePortRange:
		return "a port range (such as 6000-6010) after '" + last + "'"
	case TypeHost:
		return "a host name or address after '" + last + "'"
	case TypeNet:
		return "a network (such as 10.0.0.0/8) after '" + last + "'"
	case TypeProto, TypeProtochain:
		return "a protocol number or name after '" + last + "'"
	case TypeGateway:
		return "a host name after '" + last + "'"
	}
	return "a host, network or port after '" + last + "'"
}

func (p *parser) parseCast(start Pos, proto Proto) Expr {
	t := p.next()
	s := &Special{Start: start, Kind: SpecialBroadcast, Proto: proto}
	if keywordOf(t.Type) == kwMulticast {
		s.Kind = SpecialMulticast
	}
	return s
}

// 802.11 frame control values (libpcap's ieee80211.h).
const (
	wlanTypeMask    = 0x0c
	wlanSubtypeMask = 0xf0
)

var wlanTypes = []named[uint32]{{"data", 0x08}, {"mgt", 0x00}, {"management", 0x00}, {"ctl", 0x04}, {"control", 0x04}}

var wlanSubtypes = map[uint32][]named[uint32]{
	0x00: {{"assocreq", 0x00}, {"assoc-req", 0x00}, {"assocresp", 0x10}, {"assoc-resp", 0x10},
		{"reassocreq", 0x20}, {"reassoc-req", 0x20}, {"reassocresp", 0x30}, {"reassoc-resp", 0x30},
		{"probereq", 0x40}, {"probe-req", 0x40}, {"proberesp", 0x50}, {"probe-resp", 0x50},
		{"beacon", 0x80}, {"atim", 0x90}, {"disassoc", 0xa0}, {"disassociation", 0xa0},
		{"auth", 0xb0}, {"authentication", 0xb0}, {"deauth", 0xc0}, {"deauthentication", 0xc0}},
	0x04: {{"ps-poll", 0xa0}, {"rts", 0xb0}, {"cts", 0xc0},
		{"ack", 0xd0}, {"cf-end", 0xe0}, {"cf-end-ack", 0xf0}},
	0x08: {{"data", 0x00}, {"data-cf-ack", 0x10}, {"data-cf-poll", 0x20}, {"data-cf-ack-poll", 0x30},
		{"null", 0x40}, {"cf-ack", 0x50}, {"cf-poll", 0x60}, {"cf-ack-poll", 0x70},
		{"qos-data", 0x80}, {"qos-data-cf-ack", 0x90}, {"qos-data-cf-poll", 0xa0},
		{"qos-data-cf-ack-poll", 0xb0}, {"qos", 0xc0}, {"qos-cf-poll", 0xe0}, {"qos-cf-ack-poll", 0xf0}},
}

var wlanDirs = []named[uint32]{{"nods", 0}, {"tods", 1}, {"fromds", 2}, {"dstods", 3}}

var pfReasons = []named[uint32]{
	{"match", 0}, {"bad-offset", 1}, {"fragment", 2}, {"short", 3}, {"normalize", 4},
	{"memory", 5}, {"bad-timestamp", 6}, {"congestion", 7}, {"ip-option", 8},
	{"proto-cksum", 9}, {"state-mismatch", 10}, {"state-insert", 11},
	{"state-limit", 12}, {"src-limit", 13}, {"synproxy", 14},
}

var pfActions = []named[uint32]{
	{"pass", 0}, {"accept", 0}, {"drop", 1}, {"block", 1}, {"scrub", 2}, {"noscrub", 3},
	{"nat", 4}, {"nonat", 5}, {"binat", 6}, {"nobinat", 7}, {"rdr", 8}, {"nordr", 9},
	{"synproxy-drop", 10},
}

// lookupFold finds name in table, ignoring case as libpcap's str2tok does.
func lookupFold(table []named[uint32], name string) (uint32, bool) {
	for _, e := range table {
		if strings.EqualFold(e.name, name) {
			return e.val, true
		}
	}
	return 0, false
}

func (p *parser) parse80211(start Pos, proto Proto) Expr {
	t := p.next()
	s := &Special{Start: start, Proto: proto, Kind: SpecialWLANType, HasNum: true}
	switch keywordOf(t.Type) {
	case kwType:
		n := p.next()
		var typ uint32
		switch n.Type {
		case tokNum:
			typ = p.number(n)
			if typ&^wlanTypeMask != 0 {
				p.fail(n, fmt.Sprintf("invalid 802.11 type value 0x%02x", typ))
			}
		case tokID:
			v, ok := lookupFold(wlanTypes, n.Value)
			if !ok {
				p.fail(n, fmt.Sprintf("unknown 802.11 type name \"%s\"", n.Value))
			}
			typ = v
		default:
			p.fail(n, "expected an 802.11 frame type after 'type', found "+describe(n))
		}
		s.Num, s.Mask = typ, wlanTypeMask
		if keywordOf(p.peek().Type) != kwSubtype {
			return s
		}
		p.next()
		n = p.next()
		var sub uint32
		switch n.Type {
		case tokNum:
			sub = p.number(n)
			if sub&^wlanSubtypeMask != 0 {
				p.fail(n, fmt.Sprintf("invalid 802.11 subtype value 0x%02x", sub))
			}
		case tokID:
			tab, ok := wlanSubtypes[typ]
			if !ok {
				p.fail(n, "unknown 802.11 type")
			}
			v, ok := lookupFold(tab, n.Value)
			if !ok {
				p.fail(n, fmt.Sprintf("unknown 802.11 subtype name \"%s\"", n.Value))
			}
			sub = v
		default:
			p.fail(n, "expected an 802.11 frame subtype after 'subtype', found "+describe(n))
		}
		s.Num, s.Mask = typ|sub, wlanTypeMask|wlanSubtypeMask
	case kwSubtype:
		n := p.expect(tokID, "an 802.11 frame subtype name after 'subtype'")
		for _, typ := range [...]uint32{0x00, 0x04, 0x08} {
			if v, ok := lookupFold(wlanSubtypes[typ], n.Value); ok {
				s.Num, s.Mask = typ|v, wlanTypeMask|wlanSubtypeMask
				return s
			}
		}
		p.fail(n, fmt.Sprintf("unknown 802.11 subtype name \"%s\"", n.Value))
	default: // dir
		s.Kind = SpecialWLANDir
		n := p.next()
		switch n.Type {
		case tokNum:
			s.Num = p.number(n)
		case tokID:
			v, ok := lookupFold(wlanDirs, n.Value)
			if !ok {
				p.fail(n, "unknown 802.11 direction")
			}
			s.Num = v
		default:
			p.fail(n, "expected an 802.11 direction after '"+t.Value+"', found "+describe(n))
		}
	}
	return s
}

// parseFieldValue parses the value of an ATM or MTP3 field: N, relop N,
// or (N or N ...). max, if not 0, is the largest value allowed.
func (p *parser) parseFieldValue(start Pos, kind SpecialKind, name string, max uint32) Expr {
	mk := func(op RelOp, n *lexer.Token) *Special {
		v := p.number(n)
		if max != 0 && v > max {
			p.fail(n, fmt.Sprintf("%s value %d too big; max value = %d", strings.TrimPrefix(name, "h"), v, max))
		}
		return &Special{Start: start, Kind: kind, Str: name, Op: op, Num: v, HasNum: true}
	}
	t := p.peek()
	if op := relOp(t.Type); op != 0 {
		p.next()
		return mk(op, p.expect(tokNum, "a number after '"+t.Value+"'"))
	}
	if t.Type != tokLParen {
		return mk(OpEQ, p.expect(tokNum, "a value after '"+name+"'"))
	}
	p.next()
	var e Expr = mk(OpEQ, p.expect(tokNum, "a value"))
	for p.peek().Type == tokOr {
		o := p.next()
		e = &Binary{Op: Or, OpPos: pos(o), X: e, Y: mk(OpEQ, p.expect(tokNum, "a value after 'or'"))}
	}
	p.expect(tokRParen, "'or' or ')'")
	return e
}
