package codegen

import (
	"encoding/binary"
	"slices"

	"github.com/bpfc/bpfc/parser"
)

// 802.11 (DLT_IEEE802_11) and 802.11 behind a radiotap header
// (DLT_IEEE802_11_RADIO), as libpcap filters them.
//
// Neither header has a fixed length. A radiotap header gives its own
// length, a little-endian 16-bit field at offset 2; the 802.11 header is
// 24 bytes, 26 for QoS data frames, and rounded up to a multiple of 4
// when radiotap's Flags say an Atheros driver padded it (libpcap reads
// only the first presence word, and ignores the 6 bytes of a 4-address
// frame's fourth address, and so does bpfc). libpcap computes both
// lengths once, at the start of the program, into scratch cells
// (wlanPrologue); the link header is then at the first cell's offset and
// the LLC header at the second's, with the network header 8 bytes past
// it, behind an LLC/SNAP header (off_nl), or 3, behind a bare 802.2
// header (off_nl_nosnap).
//
// libpcap does not optimize a program that uses the 802.11 payload's
// offset: it makes every load, in the order written, so a frame too
// short for any of them, or for the prologue's, is rejected; and it never
// refuses such an expression as rejecting every packet (asWritten).

// The scratch cells of the 802.11 offsets, below geneve's.
const (
	cellRadiotap    = 11 // the radiotap header's length: where the 802.11 header starts
	cellWlanPayload = 12 // where the 802.11 payload (its LLC header) starts
	wlanArithCells  = 11 // the cells left for arithmetic on 802.11 links
)

// wlanUse says which of the variable offsets e needs on an 802.11 link,
// as libpcap's code generator decides it: the link header's (hdr) for
// any test of the 802.11 header, the payload's for any test past it. It
// is decided on the expression, not on the program: a test that folds
// away ("ip or 1 = 1") still has libpcap compute the offset, and leave
// the program unoptimized.
func wlanUse(e parser.Expr) (hdr, payload bool) {
	var walk func(e parser.Expr)
	var arith func(a parser.Arith)
	arith = func(a parser.Arith) {
		switch a := a.(type) {
		case *parser.BinArith:
			arith(a.X)
			arith(a.Y)
		case *parser.Neg:
			arith(a.X)
		case *parser.Load:
			switch a.Proto {
			case parser.ProtoLink:
				hdr = true
			case parser.ProtoRadio:
			default:
				payload = true
			}
			arith(a.Off)
		}
	}
	walk = func(e parser.Expr) {
		switch e := e.(type) {
		case *parser.Binary:
			walk(e.X)
			walk(e.Y)
		case *parser.Not:
			walk(e.X)
		case *parser.Paren:
			walk(e.X)
		case *parser.Host:
			if _, mac := e.Addr.(parser.MAC); mac {
				hdr = true
			} else {
				payload = true
			}
		case *parser.Port, *parser.Protocol, *parser.Abbrev:
			payload = true
		case *parser.Relation:
			arith(e.X)
			arith(e.Y)
		case *parser.Special:
			switch e.Kind {
			case parser.SpecialByte:
				// ("byte N & V" and "byte N | V" load nothing: see byteOp.)
				hdr = hdr || e.ByteOp != '&' && e.ByteOp != '|'
			case parser.SpecialWLANType, parser.SpecialWLANDir,
				parser.SpecialInbound, parser.SpecialOutbound, parser.SpecialIfindex:
				// (libpcap reads the Linux ancillary data relative to the
				// link header, past the radiotap header: tcpdump -d shows
				// "ldh [x + -4092]".)
				hdr = true
			case parser.SpecialBroadcast, parser.SpecialMulticast:
				if e.Proto == parser.ProtoDefault || e.Proto == parser.ProtoLink {
					hdr = true
				} else {
					payload = true
				}
			case parser.SpecialLLC:
				hdr = true
				payload = payload || e.HasNum
			case parser.SpecialVLAN, parser.SpecialMPLS, parser.SpecialPPPoED, parser.SpecialPPPoES, parser.SpecialGeneve:
				payload = true
			}
		}
	}
	if e != nil {
		walk(e)
	}
	return hdr || payload, payload
}

// wlanPrologue is the code libpcap puts first in a program on an 802.11
// link: the length of the radio header before the 802.11 header into
// cellRadiotap (if hdr, on a link that has one), and the 802.11 payload's
// offset into cellWlanPayload (if payload). It holds for every packet it
// does not reject for a load out of bounds.
func (c *compiler) wlanPrologue(hdr, payload bool) pred {
	var p pred = pTrue
	var code []stmt // (then X is where the 802.11 header starts)
	switch {
	case c.link.radio != radioNone && hdr:
		p = c.radioLen()
		code = []stmt{ldxMem(cellRadiotap)}
	case payload:
		code = []stmt{ldxImm(0)}
	}
	if !payload {
		return p
	}
	// A data frame (type 2: bit 3 of the frame control's first byte set,
	// bit 2 clear) has a QoS field if bit 7 is set (QoS subtypes).
	code = append(code, txa(), aluK(aluADD, 24), st(cellWlanPayload), ldInd(1, 0))
	jset := func(k uint32) pred { return &pTest{nil, clsJMP | jmpJSET | srcK, false, 0, k} }
	var pad pred = pTrue
	if c.link.radio == radioRadiotap {
		// Radiotap's Flags field, if its first presence word says it is
		// there and no second word follows: at 8, or past the 8-byte TSFT
		// at 16. Its DATAPAD bit rounds the 802.11 header up to a
		// multiple of 4. (The little-endian bits, as a big-endian load
		// sees them.)
		roundUp := pSeq{[]stmt{ldMem(cellWlanPayload), aluK(aluADD, 3), aluK(aluAND, ^uint32(3)), st(cellWlanPayload)}, pTrue}
		datapad := func(off uint32) pred { return pSeq{[]stmt{ldAbs(1, off)}, pIf{jset(0x20), roundUp, pTrue}} }
		pad = pSeq{[]stmt{ldAbs(4, 4)}, pIf{jset(0x02000000),
			pIf{jset(0x80), pTrue, pIf{jset(0x01000000), datapad(16), datapad(8)}},
			pTrue}}
	}
	qos := pSeq{[]stmt{ldMem(cellWlanPayload), aluK(aluADD, 2), st(cellWlanPayload)}, pad}
	data := pIf{jset(0x04), pTrue, pIf{jset(0x80), qos, pad}}
	return c.and(p, pSeq{code, pIf{jset(0x08), data, pTrue}})
}

// The radio headers before an 802.11 header (linkLayer.radio).
const (
	radioNone     = iota
	radioRadiotap // radiotap: a little-endian 16-bit length at 2
	radioAVS      // AVS: a big-endian 32-bit length at 4
	// Prism: 144 bytes, unless it is an AVS header (libpcap takes a
	// first word of 0x80211xxx for AVS's cookie).
	radioPrism
	radioPPI // PPI: a little-endian 16-bit length at 2
	// radioPflog is no radio header: the kind of pflog's header, whose
	// length gives the network header's offset (gen_pflog.go), computed
	// as radiotap's length is.
	radioPflog
)

// varKind is the kind of the variable-length header whose length
// cellRadiotap holds: the radio header's, or pflog's.
func (c *compiler) varKind() uint8 {
	if c.link.lt == linkPFLOG {
		return radioPflog
	}
	return c.link.radio
}

// ppiDLT is the PPI header's DLT field for 802.11 (105, little-endian),
// which libpcap tests first in every program on DLT_PPI.
const ppiDLT = 0x69000000

// radioLen stores the radio header's length into cellRadiotap, or where
// it is computed where needed (inlineRadio) leaves it in A.
func (c *compiler) radioLen() pred {
	if c.inlineRadio() {
		return pSeq{radioLenCode(c.link.radio), pTrue}
	}
	switch c.link.radio {
	case radioAVS:
		return pSeq{[]stmt{ldAbs(4, 4), st(cellRadiotap)}, pTrue}
	case radioPrism:
		avs := &pTest{nil, clsJMP | jmpJEQ | srcK, false, 0, 0x80211000}
		return pSeq{[]stmt{ldAbs(4, 0), aluK(aluAND, 0xfffff000)},
			pIf{avs, pSeq{[]stmt{ldAbs(4, 4), st(cellRadiotap)}, pTrue}, pSeq{[]stmt{ldImm(144), st(cellRadiotap)}, pTrue}}}
	}
	return pSeq{[]stmt{ldAbs(1, 3), aluK(aluLSH, 8), tax(), ldAbs(1, 2), aluX(aluOR), st(cellRadiotap)}, pTrue}
}

// inlineRadio reports whether the radio header's length is computed
// where it is needed while the program is optimized, rather than once
// into cellRadiotap: in an optimized program on radiotap or AVS, where
// bpfc's optimizer then sees every access to the 802.11 header for the
// value it is (its blocks read no scratch cell). outlineRadioLen then
// computes it once, first, as libpcap does, where the optimized program
// still needs it (and nowhere else: libpcap's optimizer drops that code
// where nothing reads it, "ether[0:4] & 0 = 0" keeps a 2-byte packet).
func (c *compiler) inlineRadio() bool {
	return c.radiotapLen && !c.asWritten() && c.link.radio != radioPrism
}

// radioLenCode is the code that leaves the radio header's length in A
// (radiotap's or AVS's; Prism's has a branch).
func radioLenCode(kind uint8) []stmt {
	switch kind {
	case radioAVS:
		return []stmt{ldAbs(4, 4)}
	case radioPflog:
		return pflogOffCode()
	}
	return []stmt{ldAbs(1, 3), aluK(aluLSH, 8), tax(), ldAbs(1, 2), aluX(aluOR)}
}

// inlineRadioLen replaces the loads of cellRadiotap in the graph's
// blocks with the code that computes the radio header's length into X
// (see compiler.inlineRadio); outlineRadioLen undoes it after the
// optimizer, with the length computed once, first.
func (g *graph) inlineRadioLen(kind uint8) {
	x := append(radioLenCode(kind), tax())
	for _, b := range g.blocks {
		i := slices.Index(b.stmts, ldxMem(cellRadiotap))
		if i < 0 {
			continue
		}
		var out []stmt
		for _, s := range b.stmts {
			if s == ldxMem(cellRadiotap) {
				out = append(out, x...)
			} else {
				out = append(out, s)
			}
		}
		b.stmts = out
	}
}

// usesA reports whether e has "byte N & V" or "byte N | V", whose tests
// apply to what A holds.
func usesA(e parser.Expr) bool {
	return anyPrimitive(e, func(e parser.Expr) bool {
		b, ok := e.(*parser.Special)
		return ok && b.Kind == parser.SpecialByte && (b.ByteOp == '&' || b.ByteOp == '|')
	})
}

// wlanHdr is where byte off of the 802.11 header is.
func (c *compiler) wlanHdr(off uint32) loc { return c.offLinkHdr.add(off) }

// fcSet is "bit k of the frame control's first (or second) byte is set".
func (c *compiler) fcSet(byteOff, k uint32) pred {
	return c.cmp(c.wlanHdr(byteOff).load(1), cmpSet, k)
}

// wlanData is libpcap's test of a data frame: type 2, bit 2 of the frame
// control clear (tested first), then bit 3 set.
func (c *compiler) wlanData() pred {
	return c.and(c.not(c.fcSet(0, 0x04)), c.fcSet(0, 0x08))
}

// wlanNetProto is the protocol test of an 802.11 data frame, whose
// payload is an 802.2 frame (llcNetProto).
func wlanNetProto(c *compiler, et uint32) pred { return c.and(c.wlanData(), llcNetProto(c, et)) }

// wlanMAC is "the 6 bytes at off of the 802.11 header are mac", as
// libpcap compares them: the last 4, then the first 2.
func (c *compiler) wlanMAC(off uint32, mac [6]byte) pred {
	return c.and(c.loadEq(4, c.wlanHdr(off+2), binary.BigEndian.Uint32(mac[2:])),
		c.loadEq(2, c.wlanHdr(off), uint32(binary.BigEndian.Uint16(mac[:2]))))
}

// wlanHost is "wlan [dir] host MAC" (and "ether host", "broadcast" on
// 802.11). Which address is the source or destination depends on the
// frame's type and its To DS / From DS bits, as libpcap reads them:
//
//	source: a data frame's addr2 (at 10) without From DS, addr3 (16)
//	with From DS only, addr4 (24) with both; another frame's addr2;
//	destination: addr1 (4), but addr3 for a data frame with To DS.
//
// Control frames other than RTS, PS-Poll, CF-End have no addr2, and
// management frames no receiver: ta, addr2 and ra test the type first.
// Frames with bit 2 of the frame control set (control frames and type
// 3) have neither source nor destination.
func (c *compiler) wlanHost(d parser.Dir, mac [6]byte) pred {
	toDS := func() pred { return c.fcSet(1, 0x01) }
	fromDS := func() pred { return c.fcSet(1, 0x02) }
	isData := func() pred { return c.fcSet(0, 0x08) }
	notCtl := func() pred { return c.not(c.fcSet(0, 0x04)) }
	src := func() pred {
		ds := c.or(c.and(c.not(toDS()), c.wlanMAC(16, mac)), c.and(toDS(), c.wlanMAC(24, mac)))
		p := c.or(c.and(c.not(fromDS()), c.wlanMAC(10, mac)), c.and(fromDS(), ds))
		p = c.or(c.and(c.not(isData()), c.wlanMAC(10, mac)), c.and(isData(), p))
		return c.and(notCtl(), p)
	}
	dst := func() pred {
		p := c.or(c.and(c.not(toDS()), c.wlanMAC(4, mac)), c.and(toDS(), c.wlanMAC(16, mac)))
		p = c.or(c.and(c.not(isData()), c.wlanMAC(4, mac)), c.and(isData(), p))
		return c.and(notCtl(), p)
	}
	// Control frames' subtypes: CTS and ACK have no transmitter address.
	hasAddr2 := func() pred {
		typ := c.loadMaskEq(1, c.wlanHdr(0), 0x0c, 0x04)
		cts := c.loadMaskEq(1, c.wlanHdr(0), 0xf0, 0xc0)
		ack := c.loadMaskEq(1, c.wlanHdr(0), 0xf0, 0xd0)
		return c.or(c.not(typ), c.and(c.not(cts), c.not(ack)))
	}
	switch d {
	case parser.DirAddr1:
		return c.wlanMAC(4, mac)
	case parser.DirAddr2:
		return c.and(hasAddr2(), c.wlanMAC(10, mac))
	case parser.DirAddr3:
		return c.and(c.not(c.loadMaskEq(1, c.wlanHdr(0), 0x0c, 0x04)), c.wlanMAC(16, mac))
	case parser.DirAddr4:
		return c.and(c.loadMaskEq(1, c.wlanHdr(1), 0x03, 0x03), c.wlanMAC(24, mac))
	case parser.DirRA:
		return c.and(c.fcSet(0, 0x08), c.wlanMAC(4, mac))
	case parser.DirTA:
		return c.and(c.fcSet(0, 0x08), hasAddr2(), c.wlanMAC(10, mac))
	}
	return c.dirPred(d, src, dst)
}

// wlanMulticast is "multicast" on 802.11: the group bit of the
// destination (wlanHost's).
func (c *compiler) wlanMulticast() pred {
	group := func(off uint32) pred { return c.cmp(c.wlanHdr(off).load(1), cmpSet, 0x01) }
	p := c.or(c.and(c.not(c.fcSet(1, 0x01)), group(4)), c.and(c.fcSet(1, 0x01), group(16)))
	p = c.or(c.and(c.not(c.fcSet(0, 0x08)), group(4)), c.and(c.fcSet(0, 0x08), p))
	return c.and(c.not(c.fcSet(0, 0x04)), p)
}

// outlineRadioLen replaces the code inlineRadioLen put in the blocks
// from entry with a load of cellRadiotap, and if there was any, returns
// a new entry that computes the length into it first.
func (g *graph) outlineRadioLen(entry *block, kind uint8) *block {
	x := append(radioLenCode(kind), tax())
	found := false
	post := postorder(entry) // (from entry: the graph also holds blocks the optimizer left)
	for _, b := range post {
		if b.ret || len(b.stmts) < len(x) {
			continue
		}
		var out []stmt
		for i := 0; i < len(b.stmts); i++ {
			if i+len(x) <= len(b.stmts) && slices.Equal(b.stmts[i:i+len(x)], x) {
				if out == nil {
					out = append([]stmt(nil), b.stmts[:i]...)
				}
				out = append(out, ldxMem(cellRadiotap))
				i += len(x) - 1
				continue
			}
			if out != nil {
				out = append(out, b.stmts[i])
			}
		}
		if out != nil {
			b.stmts, found = out, true
		}
	}
	if !found {
		return entry
	}
	// (The first block computes the length into X too; a block every
	// path into which leaves it there needs no reload.)
	if !dropReloads(post, ldxMem(cellRadiotap)) {
		return g.newJump(append(radioLenCode(kind), tax()), clsJMP|jmpJA, 0, entry, entry)
	}
	return g.newJump(append(radioLenCode(kind), st(cellRadiotap), tax()), clsJMP|jmpJA, 0, entry, entry)
}

// dropReloads removes the statements reload (an ldx) of the blocks post
// (postorder, from the entry, last) where X already holds what it loads
// on every path, as it does on entry, and reports whether any is left.
func dropReloads(post []*block, reload stmt) (left bool) {
	entry := post[len(post)-1]
	holdsIn := map[*block]bool{entry: true} // (absent: no predecessor seen yet)
	for i := len(post) - 1; i >= 0; i-- {
		b := post[i]
		if b.ret {
			continue
		}
		holds := holdsIn[b]
		var out []stmt
		for j, s := range b.stmts {
			switch {
			case s == reload && holds:
				if out == nil {
					out = append(make([]stmt, 0, len(b.stmts)-1), b.stmts[:j]...)
				}
				continue
			case s == reload:
				holds, left = true, true
			case s.op&0x07 == clsLDX || s.op == clsMISC|miscTAX:
				holds = false
			}
			if out != nil {
				out = append(out, s)
			}
		}
		if out != nil {
			b.stmts = out
		}
		for _, t := range [2]*block{b.jt, b.jf} {
			if h, ok := holdsIn[t]; ok {
				holdsIn[t] = h && holds
			} else {
				holdsIn[t] = holds
			}
		}
	}
	return left
}

// postorder is the blocks from entry, each after its successors (entry
// last).
func postorder(entry *block) []*block {
	var post []*block
	seen := map[*block]bool{}
	var walk func(b *block)
	walk = func(b *block) {
		seen[b] = true
		if !b.ret {
			for _, s := range [2]*block{b.jt, b.jf} {
				if !seen[s] {
					walk(s)
				}
			}
		}
		post = append(post, b)
	}
	walk(entry)
	return post
}
