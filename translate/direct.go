package translate

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// Context is the program type a whole direct-form program is written
// for: where it finds the packet pointers.
type Context int

const (
	// XDP reads data and data_end from struct xdp_md.
	XDP Context = iota
	// SkBuff reads data and data_end from struct __sk_buff: TC direct
	// packet access (only the linear part of the packet is there).
	SkBuff
)

// DirectOptions configure the direct-packet-access form.
type DirectOptions struct {
	Options
	// Context is the program type of a whole program; ignored with Embed.
	Context Context
	// Results are the values a whole program returns; nil means
	// XDPResults for XDP and TCResults for SkBuff. Ignored with Embed.
	Results *Results
	// Embed, when not nil, makes the translation a piece of a larger
	// program instead of a whole one.
	Embed *Embed
}

// Embed places a direct-form filter inside a larger program. On entry
// Data and DataEnd hold the packet pointers (the verifier's
// PTR_TO_PACKET and PTR_TO_PACKET_END); they are not changed. The filter
// uses A, X, Tmp and Tmp2 freely, Count only when the program loops and
// reads Len only with LenRegister, and the 64 bytes of stack below
// R10+StackOffset. It ends by jumping to Match or NoMatch, labels the
// caller defines after it.
type Embed struct {
	Data, DataEnd   asm.Register
	A, X, Tmp, Tmp2 asm.Register
	Count, Len      asm.Register
	Match, NoMatch  string
}

// maxPacket is the furthest the verifier lets a program reach into a
// packet (MAX_PACKET_OFF); direct loads beyond it reject.
const maxPacket = 0xffff

// directRegs are the registers of a whole direct-form program.
var directRegs = Embed{
	Data: asm.R2, DataEnd: asm.R3, A: asm.R4, X: asm.R5, Tmp: asm.R1, Tmp2: asm.R0,
	Count: asm.R6, Len: asm.R7,
}

// directTerminal reports the loads the direct form cannot make: at
// negative offsets (SKF_NET_OFF, SKF_LL_OFF: libpcap's bpf_filter rejects
// the packet there too) or past MAX_PACKET_OFF. They reject the packet.
func directTerminal(r bpf.RawInstruction) bool {
	switch r.Op {
	case clsLD | szW | modeABS, clsLD | szH | modeABS, clsLD | szB | modeABS, clsLDX | szB | modeMSH:
		if r.Op&0xe0 == modeABS && r.K >= cbpf.SKFAdOff {
			return false // ancillary
		}
		_, n := loadSize(r.Op)
		return r.K > maxPacket-uint32(n)
	}
	return false
}

// Direct translates p into the direct-packet-access form: for XDP and TC
// programs that read the packet between data and data_end. Absolute
// loads of a straight-line run share one bounds check of their furthest
// byte, as do indirect loads with the same X. A load past data_end, at a
// negative offset or past 64 KiB rejects the packet, as in libpcap's
// bpf_filter (cbpf.VM.Run); ancillary loads are ErrUnsupported. opts may
// be nil.
func Direct(p *cbpf.Program, opts *DirectOptions) (asm.Instructions, error) {
	if opts == nil {
		opts = &DirectOptions{}
	}
	o := opts.Options
	if err := o.check(); err != nil {
		return nil, err
	}
	regs := directRegs
	if opts.Embed != nil {
		regs = *opts.Embed
		if regs.Match == "" || regs.NoMatch == "" {
			return nil, fmt.Errorf("translate: %w: embedding needs Match and NoMatch labels", ErrOptions)
		}
	}
	lenSrc := o.Len
	switch {
	case lenSrc == LenDefault && opts.Embed == nil && opts.Context == SkBuff:
		lenSrc = LenSkb
	case lenSrc == LenDefault:
		lenSrc = LenPacket
	case lenSrc == LenRegister && opts.Embed == nil,
		lenSrc == LenMeta && (opts.Embed != nil || opts.Context != XDP),
		(lenSrc == LenSkb || lenSrc == LenWire || lenSrc == LenCB) && (opts.Embed != nil || opts.Context != SkBuff):
		return nil, fmt.Errorf("translate: %w: length source %d does not fit this program", ErrOptions, lenSrc)
	}
	pr, err := analyse(p, &o, directTerminal)
	if err != nil {
		return nil, err
	}
	used := []asm.Register{regs.Data, regs.DataEnd, regs.A, regs.X, regs.Tmp, regs.Tmp2}
	if pr.loops {
		used = append(used, regs.Count)
	}
	if lenSrc != LenPacket {
		used = append(used, regs.Len)
	}
	seen := map[asm.Register]bool{}
	for _, r := range used {
		if seen[r] || r == asm.R10 || r > asm.R10 {
			return nil, fmt.Errorf("translate: %w: register %v used twice or not usable", ErrOptions, r)
		}
		seen[r] = true
	}

	b := &builder{prefix: o.prefix()}
	match, nomatch := regs.Match, regs.NoMatch
	if opts.Embed == nil {
		match, nomatch = b.prefix+"_match", b.prefix+"_nomatch"
		ctx := asm.R1
		dataOff, endOff := int16(xdpData), int16(xdpDataEnd)
		if opts.Context == SkBuff {
			dataOff, endOff = skbData, skbDataEnd
		}
		switch lenSrc {
		case LenSkb:
			b.emit(asm.LoadMem(regs.Len, ctx, skbLen, asm.Word))
		case LenWire:
			b.emit(asm.LoadMem(regs.Len, ctx, skbWireLen, asm.Word))
		case LenCB:
			b.emit(asm.LoadMem(regs.Len, ctx, skbCB0, asm.Word))
		}
		b.emit(asm.LoadMem(regs.Data, ctx, dataOff, asm.Word), asm.LoadMem(regs.DataEnd, ctx, endOff, asm.Word))
		if lenSrc == LenMeta {
			noMeta, have := b.prefix+"_nometa", b.prefix+"_havelen"
			b.emit(
				asm.LoadMem(regs.Tmp, ctx, xdpDataMeta, asm.Word),
				asm.Mov.Reg(regs.Tmp2, regs.Tmp),
				asm.Add.Imm(regs.Tmp2, 4),
				asm.JGT.Reg(regs.Tmp2, regs.Data, noMeta),
				asm.LoadMem(regs.Len, regs.Tmp, 0, asm.Word),
				asm.Ja.Label(have),
			)
			b.mark(noMeta)
			b.emit(asm.Mov.Reg(regs.Len, regs.DataEnd), asm.Sub.Reg(regs.Len, regs.Data))
			b.mark(have)
		}
	}
	b.emit(asm.Mov.Imm32(regs.A, 0), asm.Mov.Imm32(regs.X, 0))
	if pr.loops {
		b.emit(asm.Mov.Imm(regs.Count, int32(o.MaxLoop)))
		for _, k := range pr.readCells() {
			b.emit(asm.StoreImm(asm.R10, o.cell(k), 0, asm.Word))
		}
	}

	d := &direct{b: b, pr: pr, o: &o, r: regs, match: match, nomatch: nomatch, lenSrc: lenSrc}
	for pc := range pr.raw {
		if !pr.reach[pc] {
			continue
		}
		if pr.target[pc] {
			b.mark(b.pcLabel(pc))
		}
		if pc == 0 || pr.target[pc] || !pr.reach[pc-1] || endsRun(pr.raw[pc-1]) || directTerminal(pr.raw[pc-1]) {
			d.startRun(pc)
		}
		if err := d.insn(pc); err != nil {
			return nil, err
		}
	}
	if opts.Embed == nil {
		res := opts.Results
		if res == nil {
			res = &XDPResults
			if opts.Context == SkBuff {
				res = &TCResults
			}
		}
		b.stub(match, asm.Mov.Imm32(asm.R0, res.Match), asm.Return())
		b.stub(nomatch, asm.Mov.Imm32(asm.R0, res.NoMatch), asm.Return())
	}
	return b.insns, nil
}

// direct is the state of a direct-form translation.
type direct struct {
	b              *builder
	pr             *program
	o              *Options
	r              Embed
	match, nomatch string
	lenSrc         LenSource

	// The current run's indirect loads, grouped by the X they use.
	group   *indGroup // the group of the X now in force, if checked
	groupOf map[int]*indGroup
}

// indGroup is a set of indirect loads with the same X in one run.
type indGroup struct {
	first     int    // pc of the first load
	base, end uint32 // smallest k, furthest byte (k+size)
	ok        bool   // false: the spread is too wide to share a check
}

// startRun emits the bounds check of the run starting at pc and plans
// its indirect loads.
func (d *direct) startRun(pc int) {
	raw := d.pr.raw
	var absEnd uint32
	d.groupOf = map[int]*indGroup{}
	var cur *indGroup
	for i := pc; i < len(raw); i++ {
		r := raw[i]
		if directTerminal(r) {
			break
		}
		_, n := loadSize(r.Op)
		switch {
		case r.Op == clsLDX|szB|modeMSH || (r.Op&7 == clsLD && r.Op&0xe0 == modeABS && r.K < cbpf.SKFAdOff):
			absEnd = max(absEnd, r.K+uint32(n))
		case r.Op&7 == clsLD && r.Op&0xe0 == modeIND:
			if cur == nil {
				cur = &indGroup{first: i, base: r.K, end: r.K + uint32(n), ok: r.K <= 1<<31}
			} else if cur.ok {
				cur.base = min(cur.base, r.K)
				cur.end = max(cur.end, r.K+uint32(n))
				cur.ok = r.K <= 1<<31 && cur.end-cur.base <= 0x7fff
			}
			d.groupOf[i] = cur
		}
		if r.Op&7 == clsLDX || r.Op == clsMISC|miscTAX {
			cur = nil // a new X
		}
		if endsRun(r) || (i+1 < len(raw) && d.pr.target[i+1]) {
			break
		}
	}
	d.group = nil
	if absEnd > 0 {
		d.b.emit(
			asm.Mov.Reg(d.r.Tmp2, d.r.Data),
			asm.Add.Imm(d.r.Tmp2, int32(absEnd)),
			asm.JGT.Reg(d.r.Tmp2, d.r.DataEnd, d.nomatch),
		)
	}
}

// load emits a load of size n at Data+k (k already checked) into dst.
func (d *direct) load(dst asm.Register, k uint32, size asm.Size) {
	if k <= 0x7fff {
		d.b.emit(asm.LoadMem(dst, d.r.Data, int16(k), size))
	} else {
		d.b.emit(asm.Mov.Reg(d.r.Tmp2, d.r.Data), asm.Add.Imm(d.r.Tmp2, int32(k)), asm.LoadMem(dst, d.r.Tmp2, 0, size))
	}
	d.swap(dst, size)
}

// swap turns a loaded value from network to host order.
func (d *direct) swap(dst asm.Register, size asm.Size) {
	if size != asm.Byte {
		d.b.emit(asm.HostTo(asm.BE, dst, size))
	}
}

// indirect emits an indirect load at X+k: the check of its group, made at
// the group's first load, then the load through Tmp.
func (d *direct) indirect(pc int, r bpf.RawInstruction) {
	size, n := loadSize(r.Op)
	g := d.groupOf[pc]
	if g == nil || !g.ok {
		g = &indGroup{first: pc, base: r.K, end: r.K + uint32(n), ok: true}
	}
	if g.first == pc {
		d.b.emit(asm.Mov.Reg32(d.r.Tmp, d.r.X))
		if g.base != 0 {
			d.b.emit(asm.Add.Imm32(d.r.Tmp, int32(g.base)))
		}
		d.b.emit(
			// The verifier learns a range only if the furthest byte
			// stays within MAX_PACKET_OFF.
			asm.JGT.Imm(d.r.Tmp, int32(maxPacket-(g.end-g.base)), d.nomatch),
			asm.Add.Reg(d.r.Tmp, d.r.Data),
			asm.Mov.Reg(d.r.Tmp2, d.r.Tmp),
			asm.Add.Imm(d.r.Tmp2, int32(g.end-g.base)),
			asm.JGT.Reg(d.r.Tmp2, d.r.DataEnd, d.nomatch),
		)
	}
	d.b.emit(asm.LoadMem(d.r.A, d.r.Tmp, int16(r.K-g.base), size))
	d.swap(d.r.A, size)
}

// insn emits classic instruction pc.
func (d *direct) insn(pc int) error {
	b, r, A, X := d.b, d.pr.raw[pc], d.r.A, d.r.X
	cls := r.Op & 7
	switch {
	case directTerminal(r):
		b.emit(asm.Ja.Label(d.nomatch))
	case cls == clsLD && r.Op&0xe0 == modeABS:
		if r.K >= cbpf.SKFAdOff {
			return fmt.Errorf("translate: %w", d.pr.errAt(pc, fmt.Errorf("%w: ancillary load in the direct form", ErrUnsupported)))
		}
		size, _ := loadSize(r.Op)
		d.load(A, r.K, size)
	case cls == clsLD && r.Op&0xe0 == modeIND:
		d.indirect(pc, r)
	case r.Op == clsLD|modeIMM:
		b.emit(asm.Mov.Imm32(A, int32(r.K)))
	case r.Op == clsLDX|modeIMM:
		b.emit(asm.Mov.Imm32(X, int32(r.K)))
	case r.Op == clsLD|modeMEM:
		b.emit(asm.LoadMem(A, asm.R10, d.o.cell(r.K), asm.Word))
	case r.Op == clsLDX|modeMEM:
		b.emit(asm.LoadMem(X, asm.R10, d.o.cell(r.K), asm.Word))
	case r.Op == clsLD|szW|modeLEN:
		d.length(A)
	case r.Op == clsLDX|szW|modeLEN:
		d.length(X)
	case r.Op == clsLDX|szB|modeMSH:
		d.load(X, r.K, asm.Byte)
		b.emit(asm.And.Imm32(X, 0xf), asm.LSh.Imm32(X, 2))
	case cls == clsST:
		b.emit(asm.StoreMem(asm.R10, d.o.cell(r.K), A, asm.Word))
	case cls == clsSTX:
		b.emit(asm.StoreMem(asm.R10, d.o.cell(r.K), X, asm.Word))
	case cls == clsALU:
		b.emitALU(r, A, X, d.r.Tmp2, d.nomatch)
	case r.Op == clsJMP|jmpJA:
		if t, back := jumpBack(r, pc); back {
			b.emitLoop(t, d.r.Count, d.nomatch)
		} else {
			b.emit(asm.Ja.Label(b.pcLabel(pc + 1 + int(r.K))))
		}
	case cls == clsJMP:
		b.emitJump(r, pc, A, X)
	case r.Op == clsRET|srcK:
		if r.K != 0 {
			b.emit(asm.Ja.Label(d.match))
		} else {
			b.emit(asm.Ja.Label(d.nomatch))
		}
	case r.Op == clsRET|srcA:
		b.emit(asm.JEq.Imm32(A, 0, d.nomatch), asm.Ja.Label(d.match))
	case r.Op == clsMISC|miscTAX:
		b.emit(asm.Mov.Reg32(X, A))
	case r.Op == clsMISC|miscTXA:
		b.emit(asm.Mov.Reg32(A, X))
	default:
		return fmt.Errorf("translate: %w", d.pr.errAt(pc, ErrUnsupported))
	}
	return nil
}

// length loads the wire length into dst.
func (d *direct) length(dst asm.Register) {
	if d.lenSrc == LenPacket {
		d.b.emit(asm.Mov.Reg(dst, d.r.DataEnd), asm.Sub.Reg(dst, d.r.Data), asm.Mov.Reg32(dst, dst))
		return
	}
	d.b.emit(asm.Mov.Reg32(dst, d.r.Len))
}
