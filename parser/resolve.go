package parser

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bpfc/bpfc/internal/alu"
)

// Resolve turns a parsed tree into a resolved one: every id takes the
// qualifiers it inherits (as libpcap does, "host a or b" is "host a or
// host b"), names become numbers and addresses, parentheses go, and every
// value libpcap refuses whatever the link type is refused with its
// position. r looks up host, network and link-layer names; nil means
// SystemResolver.
//
// The resolved tree holds only *Binary, *Not, *Host, *Port, *Protocol,
// *Abbrev, *Special and *Relation nodes; a host name with several
// addresses becomes an "or" of *Host nodes. The input tree is not
// modified. A nil e (the empty expression) resolves to nil.
func Resolve(ctx context.Context, e Expr, r Resolver) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	if r == nil {
		r = SystemResolver
	}
	rs := &resolver{ctx: ctx, r: r}
	out, err := rs.run(e)
	if err != nil {
		return nil, ErrorList{err}
	}
	return out, nil
}

// ParseAndResolve parses src and resolves it with r (nil: SystemResolver).
func ParseAndResolve(ctx context.Context, src string, r Resolver) (Expr, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return Resolve(ctx, e, r)
}

type resolver struct {
	ctx   context.Context
	r     Resolver
	cur   Qualifiers
	valid bool // cur holds the qualifiers of a primitive
	err   *Error
}

func (rs *resolver) run(e Expr) (out Expr, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			out, err = nil, rs.err
		}
	}()
	return rs.expr(e), nil
}

func (rs *resolver) fail(at Pos, cause error, format string, args ...any) {
	rs.err = &Error{Pos: at, Msg: fmt.Sprintf(format, args...), Kind: ErrResolve, Err: cause}
	panic(bailout{})
}

func (rs *resolver) expr(e Expr) Expr {
	switch x := e.(type) {
	case *Binary:
		l := rs.expr(x.X)
		r := rs.expr(x.Y)
		return &Binary{Op: x.Op, OpPos: x.OpPos, X: l, Y: r}
	case *Not:
		return &Not{NotPos: x.NotPos, X: rs.expr(x.X)}
	case *Paren:
		saved, valid := rs.cur, rs.valid
		in := rs.expr(x.X)
		rs.cur, rs.valid = saved, valid
		return in
	case *Primitive:
		rs.cur, rs.valid = x.Quals, true
		if x.ID != nil {
			return rs.value(x.Start, x.Quals, x.ID)
		}
		return rs.expr(x.Group)
	case *Bare:
		if !rs.valid {
			rs.fail(x.ID.IDPos, nil, "'%s' has no qualifiers to inherit: the term before it is not a host, net, port or proto primitive; add a qualifier such as 'host' or 'port'", x.ID)
		}
		return rs.value(x.ID.IDPos, rs.cur, x.ID)
	case *Abbrev:
		rs.valid = false
		c := *x
		return &c
	case *Special:
		rs.valid = false
		return rs.special(x)
	case *Relation:
		rs.valid = false
		rs.arith(x.X)
		rs.arith(x.Y)
		return x
	case *Host, *Port, *Protocol:
		rs.valid = false
		return x
	}
	rs.fail(e.Pos(), nil, "unexpected node %T", e)
	return nil
}

func (rs *resolver) special(s *Special) Expr {
	switch s.Kind {
	case SpecialBroadcast:
		if s.Proto != ProtoDefault && s.Proto != ProtoLink && s.Proto != ProtoIP {
			rs.fail(s.Start, nil, "only link-layer/IP broadcast filters supported")
		}
	case SpecialMulticast:
		if s.Proto != ProtoDefault && s.Proto != ProtoLink && s.Proto != ProtoIP && s.Proto != ProtoIP6 {
			rs.fail(s.Start, nil, "only link-layer/IP/IPv6 multicast filters supported")
		}
	}
	c := *s
	return &c
}

// indexable reports whether proto[...] is allowed for p.
func indexable(p Proto) bool {
	switch p {
	case ProtoLink, ProtoIP, ProtoIP6, ProtoARP, ProtoRARP, ProtoATalk, ProtoDECnet,
		ProtoSCA, ProtoLAT, ProtoMOPDL, ProtoMOPRC, ProtoIGMP, ProtoICMP, ProtoICMP6,
		ProtoTCP, ProtoUDP, ProtoSCTP, ProtoPIM, ProtoVRRP, ProtoCARP, ProtoIGRP, ProtoRadio:
		return true
	}
	return false
}

func (rs *resolver) arith(a Arith) {
	switch x := a.(type) {
	case *Load:
		if !indexable(x.Proto) {
			rs.fail(x.Start, nil, "unsupported index operation: %s[...] cannot be read", x.Proto)
		}
		rs.arith(x.Off)
	case *BinArith:
		rs.arith(x.X)
		rs.arith(x.Y)
		if x.Op == OpDiv || x.Op == OpMod || x.Op == OpShl || x.Op == OpShr {
			rs.operand(x)
		}
	case *Neg:
		rs.arith(x.X)
	}
}

// operand refuses the right operand of a division, modulus or shift as
// libpcap does. Its code generator checks the first value the operand's
// code loads: the operand itself if it is a number, else the first
// number of its leftmost part ("len / ip[0]" divides by ip[0], whose code
// starts by loading its index, 0). Its optimizer folds the operand and
// refuses it then as it refuses a number (the kernel refuses "div #0"
// and "lsh #32"), unless the left operand folded first: a 0 to divide
// has become 0 before ("0 / (ip[1] & 0)" compiles), a constant to shift
// is shifted (to 0).
func (rs *resolver) operand(x *BinArith) {
	shift := x.Op == OpShl || x.Op == OpShr
	what := map[ArithOp]string{OpDiv: "division", OpMod: "modulus"}[x.Op]
	n := firstNum(x.Y)
	if k, yPass, ok := constArith(x.Y); ok && x.Y != Arith(n) {
		xVal, xPass, xConst := constArith(x.X)
		switch {
		case !shift && k == 0 && !(xConst && xVal == 0 && xPass < yPass):
			rs.fail(x.OpPos, nil, "%s by zero (the divisor folds to 0)", what)
			return
		case shift && k > 31 && !(xConst && xPass <= yPass):
			rs.fail(x.OpPos, nil, "shift by more than 31 bits (the shift folds to %d)", k)
			return
		}
	}
	if n == nil || shift && n.Val <= 31 || !shift && n.Val != 0 {
		return
	}
	var why string
	if n != x.Y {
		operand := "divisor"
		if shift {
			operand = "shift"
		}
		why = fmt.Sprintf(" (libpcap's check: the %s's code starts by loading %d)", operand, n.Val)
	}
	if shift {
		rs.fail(n.NumPos, nil, "shift by more than 31 bits%s", why)
	} else {
		rs.fail(n.NumPos, nil, "%s by zero%s", what, why)
	}
}

// firstNum is the number whose load starts libpcap's code for a, if
// that code starts with one: a itself, or the first number of the
// leftmost part of an operation, a negation or a load's index.
func firstNum(a Arith) *Num {
	for {
		switch x := a.(type) {
		case *Num:
			return x
		case *BinArith:
			a = x.X
		case *Neg:
			a = x.X
		case *Load:
			a = x.Off
		default:
			return nil
		}
	}
}

// constArith is the value of a where libpcap's optimizer folds it to a
// constant, and the pass of that optimizer that first knows it: made of
// numbers only (pass 0), x & 0 and x * 0 (a pass after the 0: the
// operation is "and #0" first, then "ld #0"), 0 times, divided, masked
// or shifted by anything (the pass of the 0), and operations on such
// values (the later pass). A division or modulus by 0 is no value; a
// shift by more than 31 is 0, as libpcap folds it.
func constArith(a Arith) (uint32, int, bool) {
	switch x := a.(type) {
	case *Num:
		return x.Val, 0, true
	case *Neg:
		v, pass, ok := constArith(x.X)
		return -v, pass, ok
	case *BinArith:
		l, lp, lok := constArith(x.X)
		r, rp, rok := constArith(x.Y)
		op := x.Op.ALU()
		switch {
		case lok && rok && (rp <= lp || l != 0):
			// (Both known: folded, in the pass that knows the later.)
		case lok && l == 0 && alu.ZeroLeft(op):
			return 0, lp, true
		case rok && r == 0 && alu.ZeroRight(op):
			return 0, rp + 1, true
		case !lok || !rok:
			return 0, 0, false
		}
		v, ok := alu.Eval(op, l, r)
		return v, max(lp, rp), ok
	}
	return 0, 0, false
}

// value resolves id under the qualifiers q.
func (rs *resolver) value(at Pos, q Qualifiers, id *ID) Expr {
	if id.Kind == IDMAC {
		if (q.Type == TypeHost || q.Type == TypeDefault) && q.Proto == ProtoLink {
			m, ok := parseMAC(id.Text)
			if !ok {
				rs.fail(id.IDPos, nil, "bogus ethernet address %s", id.Text)
			}
			return &Host{Start: at, Proto: q.Proto, Dir: q.Dir, Type: q.Type, Addr: m}
		}
		rs.fail(id.IDPos, nil, "ethernet address used in non-ether expression")
	}
	if id.Kind == IDARCnet {
		if (q.Type == TypeHost || q.Type == TypeDefault) && q.Proto == ProtoLink {
			return &Host{Start: at, Proto: q.Proto, Dir: q.Dir, Type: q.Type, Addr: arcnetAddr(id.Text)}
		}
		rs.fail(id.IDPos, nil, "ARCnet address used in non-arc expression")
	}
	switch q.Type {
	case TypeDefault, TypeHost, TypeNet:
		return rs.host(at, q, id)
	case TypePort, TypePortRange:
		return rs.port(at, q, id)
	case TypeGateway:
		if id.Kind == IDNum {
			rs.fail(id.IDPos, nil, "'gateway' requires a name")
		}
		rs.fail(at, nil, "'gateway' not supported in this configuration")
	case TypeProto, TypeProtochain:
		return rs.protocol(at, q, id)
	}
	rs.fail(at, nil, "bad qualifiers %q", q)
	return nil
}

func typeWord(q Qualifiers) string {
	if q.Type == TypeNet {
		return "net"
	}
	return "host"
}

// checkAddrDir refuses the 802.11 address qualifiers on other addresses.
func (rs *resolver) checkAddrDir(at Pos, q Qualifiers, what string) {
	switch q.Dir {
	case DirAddr1, DirAddr2, DirAddr3, DirAddr4:
		n := int(q.Dir-DirAddr1) + 1
		rs.fail(at, nil, "'addr%d' and 'address%d' are not valid qualifiers for %s", n, n, what)
	case DirRA, DirTA:
		rs.fail(at, nil, "'%s' is not a valid qualifier for %s", q.Dir, what)
	}
}

// checkIPv4Proto refuses protocol qualifiers that cannot apply to an IPv4
// host or net, with libpcap's messages.
func (rs *resolver) checkIPv4Proto(at Pos, q Qualifiers) {
	switch q.Proto {
	case ProtoDefault, ProtoIP, ProtoARP, ProtoRARP, ProtoDECnet:
		return
	case ProtoLink:
		rs.fail(at, nil, "link-layer modifier applied to %s", typeWord(q))
	case ProtoIP6:
		rs.fail(at, nil, "'ip6' modifier applied to ip host")
	case ProtoATalk:
		rs.fail(at, nil, "AppleTalk host filtering not implemented")
	case ProtoAARP:
		rs.fail(at, nil, "AARP host filtering not implemented")
	case ProtoLAT, ProtoSCA, ProtoMOPRC, ProtoMOPDL, ProtoISO, ProtoIPX:
		rs.fail(at, nil, "%s host filtering not implemented", strings.ToUpper(q.Proto.String()))
	}
	rs.fail(at, nil, "'%s' modifier applied to %s", q.Proto, typeWord(q))
}

func (rs *resolver) checkIPv6Proto(at Pos, q Qualifiers) {
	switch q.Proto {
	case ProtoDefault, ProtoIP6:
		return
	case ProtoLink:
		rs.fail(at, nil, "link-layer modifier applied to ip6 %s", typeWord(q))
	case ProtoATalk:
		rs.fail(at, nil, "AppleTalk modifier applied to ip6 %s", typeWord(q))
	}
	rs.fail(at, nil, "'%s' modifier applied to ip6 %s", q.Proto, typeWord(q))
}

// atoin reads a dotted IPv4 address of 1 to 4 decimal parts as libpcap's
// __pcap_atoin: it returns the value and the number of bits given.
func atoin(s string) (uint32, int, bool) {
	var v uint32
	n := 0
	for i := 0; ; i++ {
		// One part: decimal digits up to the next dot or the end.
		x, digits := uint32(0), 0
		for ; i < len(s) && s[i] != '.'; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, 0, false
			}
			if x = x*10 + uint32(c-'0'); x > 255 {
				return 0, 0, false
			}
			digits++
		}
		if digits == 0 || n == 4 {
			return 0, 0, false
		}
		v = v<<8 | x
		n++
		if i == len(s) {
			return v, 8 * n, true
		}
	}
}

// atodn reads a DECnet address "area.node".
func atodn(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return 0, false
	}
	area, err1 := strconv.ParseUint(parts[0], 10, 32)
	node, err2 := strconv.ParseUint(parts[1], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return uint32(area<<10|node&1023) & 0xffff, true
}

func (rs *resolver) host(at Pos, q Qualifiers, id *ID) Expr {
	mk := func(a Address) *Host { return &Host{Start: at, Proto: q.Proto, Dir: q.Dir, Type: q.Type, Addr: a} }
	switch id.Kind {
	case IDNum:
		if q.Proto == ProtoDECnet {
			rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
			return mk(DECnet(id.Num))
		}
		if q.Proto == ProtoLink {
			rs.fail(id.IDPos, nil, "illegal link layer address")
		}
		rs.checkIPv4Proto(at, q)
		rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
		v, mask := id.Num, uint32(0xffffffff)
		if q.Type == TypeNet {
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		}
		return mk(IPv4{v, mask})
	case IDIPv4:
		if id.HasMaskLen || id.Mask != "" {
			v, mask := rs.ipv4Net(id)
			if q.Type != TypeNet {
				rs.fail(id.IDPos, nil, "Mask syntax for networks only")
			}
			rs.checkIPv4Proto(at, q)
			rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
			return mk(IPv4{v, mask})
		}
		if q.Proto == ProtoDECnet {
			v, ok := atodn(id.Text)
			if !ok {
				rs.fail(id.IDPos, nil, "malformed decnet address '%s'", id.Text)
			}
			rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
			return mk(DECnet(v))
		}
		v, n, ok := atoin(id.Text)
		if !ok {
			rs.fail(id.IDPos, nil, "invalid IPv4 address '%s'", id.Text)
		}
		if q.Proto == ProtoLink {
			rs.fail(id.IDPos, nil, "illegal link layer address")
		}
		rs.checkIPv4Proto(at, q)
		rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
		return mk(IPv4{v << (32 - n), uint32(0xffffffff) << (32 - n)})
	case IDIPv6:
		a := rs.ipv6(id)
		if a.Bits != 128 && q.Type != TypeNet {
			rs.fail(id.IDPos, nil, "Mask syntax for networks only")
		}
		rs.checkIPv6Proto(at, q)
		rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
		return mk(a)
	}
	// A name.
	name := id.Name()
	switch {
	case q.Type == TypeNet:
		nr, ok := rs.r.(NetworkResolver)
		var v uint32
		var err error = ErrNotFound
		if ok {
			v, err = nr.LookupNetwork(rs.ctx, name)
		}
		if err != nil || v == 0 {
			rs.fail(id.IDPos, err, "unknown network '%s'", name)
		}
		rs.checkIPv4Proto(at, q)
		rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
		mask := uint32(0xffffffff)
		for v != 0 && v&0xff000000 == 0 {
			v <<= 8
			mask <<= 8
		}
		return mk(IPv4{v, mask})
	case q.Proto == ProtoLink:
		er, ok := rs.r.(EtherResolver)
		var m MAC
		var err error = ErrNotFound
		if ok {
			m, err = er.LookupEther(rs.ctx, name)
		}
		if err != nil {
			rs.fail(id.IDPos, err, "unknown ether host '%s'", name)
		}
		return mk(m)
	case q.Proto == ProtoDECnet:
		rs.fail(id.IDPos, nil, "decnet name support not included, '%s' cannot be translated", name)
	}
	addrs, err := rs.r.LookupHost(rs.ctx, name)
	if err != nil || len(addrs) == 0 {
		rs.fail(id.IDPos, err, "unknown host '%s'", name)
	}
	var out Expr
	for _, a := range addrs {
		a = a.Unmap()
		var h *Host
		if a.Is4() {
			if q.Proto == ProtoIP6 {
				continue
			}
			rs.checkIPv4Proto(at, q)
			b := a.As4()
			h = mk(IPv4{uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), 0xffffffff})
		} else {
			if q.Proto == ProtoIP || q.Proto == ProtoARP || q.Proto == ProtoRARP {
				continue
			}
			rs.checkIPv6Proto(at, q)
			h = mk(IPv6{a.As16(), 128})
		}
		rs.checkAddrDir(at, q, "addresses other than 802.11 MAC addresses")
		if out == nil {
			out = h
		} else {
			out = &Binary{Op: Or, OpPos: at, X: out, Y: h}
		}
	}
	if out == nil {
		rs.fail(id.IDPos, nil, "unknown host '%s' for specified address family", name)
	}
	return out
}

// ipv4Net returns the address and mask of ADDR/LEN or ADDR mask MASK.
func (rs *resolver) ipv4Net(id *ID) (uint32, uint32) {
	v, n, ok := atoin(id.Text)
	if !ok {
		rs.fail(id.IDPos, nil, "invalid IPv4 address '%s'", id.Text)
	}
	v <<= 32 - n
	var mask uint32
	if id.Mask != "" {
		m, mn, ok := atoin(id.Mask)
		if !ok {
			rs.fail(id.MaskPos, nil, "invalid IPv4 address '%s'", id.Mask)
		}
		mask = m << (32 - mn)
		if v&^mask != 0 {
			rs.fail(id.IDPos, nil, "non-network bits set in \"%s mask %s\"", id.Text, id.Mask)
		}
		return v, mask
	}
	if id.MaskLen > 32 {
		rs.fail(id.MaskPos, nil, "mask length must be <= 32")
	}
	if id.MaskLen > 0 {
		mask = ^uint32(0) << (32 - id.MaskLen)
	}
	if v&^mask != 0 {
		rs.fail(id.IDPos, nil, "non-network bits set in \"%s/%d\"", id.Text, id.MaskLen)
	}
	return v, mask
}

func (rs *resolver) ipv6(id *ID) IPv6 {
	a, err := netip.ParseAddr(id.Text)
	if err != nil || !a.Is6() || a.Zone() != "" {
		rs.fail(id.IDPos, err, "bogus IPv6 address %s", id.Text)
	}
	out := IPv6{Addr: a.As16(), Bits: 128}
	if id.HasMaskLen {
		if id.MaskLen > 128 {
			rs.fail(id.MaskPos, nil, "mask length must be <= 128")
		}
		out.Bits = int(id.MaskLen)
		p := netip.PrefixFrom(a, out.Bits)
		if p.Masked().Addr() != a {
			rs.fail(id.IDPos, nil, "non-network bits set in \"%s/%d\"", id.Text, id.MaskLen)
		}
	}
	return out
}

// portTransport turns a port's protocol qualifier and the protocols a
// service name is defined for into the transports the test applies to.
func (rs *resolver) portTransport(at Pos, q Qualifiers, named ServiceProtos, name, what string) Transport {
	real := TransportAny
	if named != 0 && named != ServiceTCP|ServiceUDP {
		switch named {
		case ServiceTCP:
			real = TransportTCP
		case ServiceUDP:
			real = TransportUDP
		case ServiceSCTP:
			real = TransportSCTP
		}
	}
	want := map[Proto]Transport{ProtoTCP: TransportTCP, ProtoUDP: TransportUDP, ProtoSCTP: TransportSCTP}[q.Proto]
	if want == 0 {
		return real
	}
	if real != TransportAny && real != want {
		rs.fail(at, nil, "%s '%s' is %s", what, name, map[Transport]string{TransportTCP: "tcp", TransportUDP: "udp", TransportSCTP: "sctp"}[real])
	}
	return want
}

func transportProto(t Transport) Proto {
	switch t {
	case TransportTCP:
		return ProtoTCP
	case TransportUDP:
		return ProtoUDP
	case TransportSCTP:
		return ProtoSCTP
	}
	return ProtoDefault
}

// notAnAddress refuses an IP address given to a qualifier that wants a
// port or a protocol ("port 10.0.0.1", "proto ::1"), with libpcap's
// messages.
func (rs *resolver) notAnAddress(at Pos, id *ID, word string) {
	switch id.Kind {
	case IDIPv4:
		if id.HasMaskLen || id.Mask != "" {
			rs.ipv4Net(id)
			rs.fail(id.IDPos, nil, "Mask syntax for networks only")
		}
		rs.fail(at, nil, "'%s' modifier applied to ip host", word)
	case IDIPv6:
		rs.ipv6(id)
		rs.fail(at, nil, "invalid qualifier against IPv6 address")
	}
}

func (rs *resolver) port(at Pos, q Qualifiers, id *ID) Expr {
	rng := q.Type == TypePortRange
	word := "port"
	if rng {
		word = "portrange"
	}
	rs.notAnAddress(at, id, word)
	switch q.Proto {
	case ProtoDefault, ProtoTCP, ProtoUDP, ProtoSCTP:
	default:
		rs.fail(at, nil, "illegal qualifier of '%s'", word)
	}
	what := "ports"
	if rng {
		what = "port ranges"
	}
	rs.checkAddrDir(at, q, what)
	p := &Port{Start: at, Dir: q.Dir, Range: rng}
	if id.Kind == IDNum {
		if id.Num > 65535 {
			rs.fail(id.IDPos, nil, "illegal port number %d > 65535", id.Num)
		}
		p.Lo, p.Hi = uint16(id.Num), uint16(id.Num)
		p.Transport = rs.portTransport(at, q, 0, "", "")
		p.Proto = transportProto(p.Transport)
		return p
	}
	name := id.Name()
	if !rng {
		port, protos, ok := LookupService(name)
		if !ok {
			rs.fail(id.IDPos, nil, "unknown port '%s'", name)
		}
		p.Lo, p.Hi = port, port
		p.Transport = rs.portTransport(id.IDPos, q, protos, name, "port")
		p.Proto = transportProto(p.Transport)
		return p
	}
	lo, hi, protos, ok := portRange(name)
	if !ok {
		rs.fail(id.IDPos, nil, "unknown port in range '%s'", name)
	}
	for _, v := range [...]int64{lo, hi} {
		if v < 0 {
			rs.fail(id.IDPos, nil, "illegal port number %d < 0", v)
		}
		if v > 65535 {
			rs.fail(id.IDPos, nil, "illegal port number %d > 65535", v)
		}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	p.Lo, p.Hi = uint16(lo), uint16(hi)
	p.Transport = rs.portTransport(id.IDPos, q, protos, name, "port in range")
	p.Proto = transportProto(p.Transport)
	return p
}

// portRange reads "LO-HI" as libpcap's pcap_nametoportrange: first as
// sscanf("%d-%d"), then as two service names split at the first '-'.
func portRange(s string) (lo, hi int64, protos ServiceProtos, ok bool) {
	scanInt := func(s string) (int64, string, bool) {
		i := 0
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return 0, s, false
		}
		v, err := strconv.ParseInt(s[:j], 10, 64)
		if err != nil || v > 1<<31-1 {
			v = 1<<31 - 1
		}
		return v, s[j:], true
	}
	if a, rest, ok1 := scanInt(s); ok1 && len(rest) > 0 && rest[0] == '-' {
		if b, _, ok2 := scanInt(rest[1:]); ok2 {
			return a, b, 0, true
		}
	}
	i := strings.IndexByte(s, '-')
	if i < 0 {
		return 0, 0, 0, false
	}
	p1, pr1, ok1 := lookupPort(s[:i])
	p2, pr2, ok2 := lookupPort(s[i+1:])
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	if pr1 != pr2 {
		pr1 = ServiceTCP | ServiceUDP
	}
	return int64(p1), int64(p2), pr1, true
}

// lookupPort resolves one end of a port range: a service name, or a
// number (which, like a name both tcp and udp define, means any transport).
func lookupPort(s string) (uint16, ServiceProtos, bool) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		v, err := strconv.ParseUint(s, 10, 16)
		return uint16(v), ServiceTCP | ServiceUDP, err == nil
	}
	return LookupService(s)
}

func (rs *resolver) protocol(at Pos, q Qualifiers, id *ID) Expr {
	word := "proto"
	if q.Type == TypeProtochain {
		word = "protochain"
	}
	rs.notAnAddress(at, id, word)
	p := &Protocol{Start: at, Proto: q.Proto, Dir: q.Dir, Chain: q.Type == TypeProtochain}
	if id.Kind == IDNum {
		p.Num = id.Num
	} else {
		name := id.Name()
		switch q.Proto {
		case ProtoDefault, ProtoIP, ProtoIP6:
			v, ok := LookupProtocol(name)
			if !ok {
				rs.fail(id.IDPos, nil, "unknown ip proto '%s'", name)
			}
			p.Num = uint32(v)
		case ProtoLink:
			v, ok := LookupEtherProto(name)
			if !ok {
				v, ok = LookupLLC(name)
			}
			if !ok {
				rs.fail(id.IDPos, nil, "unknown ether proto '%s'", name)
			}
			p.Num = uint32(v)
		case ProtoISO:
			v, ok := LookupISOProto(name)
			if !ok {
				rs.fail(id.IDPos, nil, "unknown osi proto '%s'", name)
			}
			p.Num = uint32(v)
		default:
			rs.fail(id.IDPos, nil, "unknown protocol: %s", name)
		}
	}
	if p.Chain {
		switch q.Proto {
		case ProtoDefault, ProtoIP, ProtoIP6:
		default:
			rs.fail(at, nil, "bad protocol applied for 'protochain'")
		}
		return p
	}
	switch q.Proto {
	case ProtoDefault, ProtoLink, ProtoIP, ProtoIP6, ProtoISO, ProtoISIS:
	case ProtoARP, ProtoRARP:
		rs.fail(at, nil, "%s does not encapsulate another protocol", q.Proto)
	case ProtoATalk:
		rs.fail(at, nil, "AppleTalk encapsulation is not specifiable")
	case ProtoDECnet:
		rs.fail(at, nil, "DECNET encapsulation is not specifiable")
	case ProtoLAT, ProtoSCA, ProtoMOPRC, ProtoMOPDL:
		rs.fail(at, nil, "%s does not encapsulate another protocol", strings.ToUpper(q.Proto.String()))
	case ProtoCLNP:
		rs.fail(at, nil, "'clnp proto' is not supported")
	default:
		rs.fail(at, nil, "'%s proto' is bogus", q.Proto)
	}
	return p
}

// arcnetAddr is the ARCnet address libpcap 1.10 makes of "$xx": it reads
// the text with pcap_ether_aton, which takes the '$' for a hex digit
// (worth -19): the address is 0xd0 | the first digit, whatever follows.
// bpfc keeps that reading, so that its programs keep the packets
// libpcap's keep.
func arcnetAddr(text string) ARCnet {
	d := -19 // xdtoi('$')
	if len(text) > 1 && isHex(text[1]) {
		d = d<<4 | hexVal(text[1])
	}
	return ARCnet(byte(d))
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
