package codegen

import (
	"errors"
	"strings"

	"github.com/bpfc/bpfc/parser"
)

// SS7 over MTP2: the signal-unit types (fisu, lssu, msu, from the length
// indicator) and the MTP3 routing label fields (sio, opc, dpc, sls). The
// "h" forms are for high-speed links (Q.703 Annex A), whose length
// indicator is 9 bits and whose fields sit 3 bytes further.

// mtp2NetProto refuses every network protocol, as libpcap does.
var mtp2NetProto = noNetProto("MTP2")

// mtp2Type is fisu, lssu, msu (and the h forms).
func (c *compiler) mtp2Type(name string) pred {
	b := c.link.ss7Base
	li := func(op cmpOp, v uint32) pred {
		return c.cmp([]stmt{ldAbs(1, b+2), aluK(aluAND, 0x3f)}, op, v)
	}
	hli := func(op cmpOp, v uint32) pred {
		return c.cmp([]stmt{ldAbs(2, b+4), aluK(aluAND, 0xff80)}, op, v)
	}
	switch name {
	case "fisu":
		return c.maskTest([]stmt{ldAbs(1, b+2)}, 0x3f, 0)
	case "lssu":
		return c.and(li(cmpGT, 0), li(cmpLE, 2))
	case "msu":
		return li(cmpGT, 2)
	case "hfisu":
		return c.maskTest([]stmt{ldAbs(2, b+4)}, 0xff80, 0)
	case "hlssu":
		return c.and(hli(cmpGT, 0), hli(cmpLE, 0x100))
	case "hmsu":
		return hli(cmpGT, 0x100)
	}
	return c.fail(errors.New("unknown MTP2 signal unit type " + name))
}

// mtp3Field is "sio|opc|dpc|sls [op] N" (and the h forms): the field's
// bits, where the routing label scatters them, compared with N moved to
// the same bits.
func (c *compiler) mtp3Field(name string, op parser.RelOp, n uint32) pred {
	off := c.link.ss7Base
	if strings.HasPrefix(name, "h") {
		off += 3
		name = name[1:]
	}
	var load stmt
	var mask, v uint32
	switch name {
	case "sio":
		load, mask, v = ldAbs(1, off+3), 0xff, n
	case "opc":
		load, mask = ldAbs(4, off+4), 0x00c0ff0f
		v = (n&0x3c00)>>10 | (n&0x03fc)<<6 | (n&0x0003)<<22
	case "dpc":
		load, mask = ldAbs(4, off+4), 0xff3f0000
		v = (n&0x00ff)<<24 | (n&0x3f00)<<8
	case "sls":
		load, mask, v = ldAbs(1, off+7), 0xf0, n<<4
	default:
		return c.fail(errors.New("unknown MTP3 field " + name))
	}
	code := []stmt{load}
	if mask != 0xff {
		code = append(code, aluK(aluAND, mask))
	}
	if op != parser.OpEQ && op != parser.OpNE {
		return c.cmp(code, relOps[op], v)
	}
	// "=" and, as libpcap 1.10 compiles it, "!=" too: its grammar loses
	// the negation of != on these fields. bpfc keeps libpcap's meaning.
	if mask == 0xff {
		return c.cmp(code, cmpEQ, v)
	}
	return c.maskTest([]stmt{load}, mask, v)
}
