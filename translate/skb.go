package translate

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/bpfc/bpfc/cbpf"
)

// Registers of the skb form, as the kernel's conversion uses them: A in
// R0 (where LD_ABS leaves its result), the context in R6 (where LD_ABS
// wants it), X in R7; R8 counts loop iterations, R9 keeps A across
// `ldx msh`.
const (
	skbA     = asm.R0
	skbCtx   = asm.R6
	skbX     = asm.R7
	skbCount = asm.R8
	skbSave  = asm.R9
	skbTmp   = asm.R1
)

// SkbOptions configure the skb form.
type SkbOptions struct {
	Options
	// Results, when not nil, makes the program return Match for a packet
	// the filter accepts (a non-zero classic return value) and NoMatch
	// for one it rejects, such as TCResults for a TC classifier. When nil
	// the classic return values are kept: right for a socket filter,
	// where the value is the number of bytes to keep.
	Results *Results
}

// Skb translates p into a whole eBPF program for the socket filter and
// TC classifier types (ebpf.SocketFilter, ebpf.SchedCLS): packet loads
// use LD_ABS and LD_IND, as in the kernel's own conversion, so a load
// past the packet returns 0 and offsets from SKF_NET_OFF and SKF_LL_OFF
// work. Ancillary loads read __sk_buff fields or call helpers; those with
// no eBPF equivalent (hatype, pay_offset, nlattr) are ErrUnsupported.
// opts may be nil.
func Skb(p *cbpf.Program, opts *SkbOptions) (asm.Instructions, error) {
	if opts == nil {
		opts = &SkbOptions{}
	}
	o := &opts.Options
	if err := o.check(); err != nil {
		return nil, err
	}
	switch o.Len {
	case LenDefault, LenSkb, LenWire, LenCB:
	default:
		return nil, fmt.Errorf("translate: %w: length source %d is not for the skb form", ErrOptions, o.Len)
	}
	pr, err := analyse(p, o, nil)
	if err != nil {
		return nil, err
	}
	b := &builder{prefix: o.prefix()}
	reject := b.prefix + "_reject"
	match, nomatch := b.prefix+"_match", b.prefix+"_nomatch"
	if opts.Results == nil {
		nomatch = reject
	}

	b.emit(asm.Mov.Reg(skbCtx, asm.R1), asm.Mov.Imm32(skbA, 0), asm.Mov.Imm32(skbX, 0))
	if pr.loops {
		b.emit(asm.Mov.Imm(skbCount, int32(o.MaxLoop)))
		for _, k := range pr.readCells() {
			b.emit(asm.StoreImm(asm.R10, o.cell(k), 0, asm.Word))
		}
	}
	lenOff := int16(skbLen)
	switch o.Len {
	case LenWire:
		lenOff = skbWireLen
	case LenCB:
		lenOff = skbCB0
	}
	for pc, r := range pr.raw {
		if !pr.reach[pc] {
			continue
		}
		if pr.target[pc] {
			b.mark(b.pcLabel(pc))
		}
		switch cls := r.Op & 7; {
		case r.Op == clsLD|szW|modeABS || r.Op == clsLD|szH|modeABS || r.Op == clsLD|szB|modeABS:
			if r.K >= cbpf.SKFAdOff {
				if err := b.skbAncillary(pr, pc, r.K-cbpf.SKFAdOff); err != nil {
					return nil, err
				}
				continue
			}
			size, _ := loadSize(r.Op)
			b.emit(asm.LoadAbs(int32(r.K), size))
		case r.Op == clsLD|szW|modeIND || r.Op == clsLD|szH|modeIND || r.Op == clsLD|szB|modeIND:
			size, _ := loadSize(r.Op)
			b.emit(asm.LoadInd(skbA, skbX, int32(r.K), size))
		case r.Op == clsLD|modeIMM:
			b.emit(asm.Mov.Imm32(skbA, int32(r.K)))
		case r.Op == clsLDX|modeIMM:
			b.emit(asm.Mov.Imm32(skbX, int32(r.K)))
		case r.Op == clsLD|modeMEM:
			b.emit(asm.LoadMem(skbA, asm.R10, o.cell(r.K), asm.Word))
		case r.Op == clsLDX|modeMEM:
			b.emit(asm.LoadMem(skbX, asm.R10, o.cell(r.K), asm.Word))
		case r.Op == clsLD|szW|modeLEN:
			b.emit(asm.LoadMem(skbA, skbCtx, lenOff, asm.Word))
		case r.Op == clsLDX|szW|modeLEN:
			b.emit(asm.LoadMem(skbX, skbCtx, lenOff, asm.Word))
		case r.Op == clsLDX|szB|modeMSH:
			b.emit(
				asm.Mov.Reg(skbSave, skbA),
				asm.LoadAbs(int32(r.K), asm.Byte),
				asm.And.Imm32(skbA, 0xf),
				asm.LSh.Imm32(skbA, 2),
				asm.Mov.Reg32(skbX, skbA),
				asm.Mov.Reg(skbA, skbSave),
			)
		case cls == clsST:
			b.emit(asm.StoreMem(asm.R10, o.cell(r.K), skbA, asm.Word))
		case cls == clsSTX:
			b.emit(asm.StoreMem(asm.R10, o.cell(r.K), skbX, asm.Word))
		case cls == clsALU:
			b.emitALU(r, skbA, skbX, skbTmp, reject)
		case r.Op == clsJMP|jmpJA:
			if t, back := jumpBack(r, pc); back {
				b.emitLoop(t, skbCount, reject)
			} else {
				b.emit(asm.Ja.Label(b.pcLabel(pc + 1 + int(r.K))))
			}
		case cls == clsJMP:
			b.emitJump(r, pc, skbA, skbX)
		case r.Op == clsRET|srcK:
			switch {
			case opts.Results == nil:
				b.emit(asm.Mov.Imm32(asm.R0, int32(r.K)), asm.Return())
			case r.K != 0:
				b.emit(asm.Ja.Label(match))
			default:
				b.emit(asm.Ja.Label(nomatch))
			}
		case r.Op == clsRET|srcA:
			if opts.Results == nil {
				b.emit(asm.Return())
			} else {
				b.emit(asm.JEq.Imm32(skbA, 0, nomatch), asm.Ja.Label(match))
			}
		case r.Op == clsMISC|miscTAX:
			b.emit(asm.Mov.Reg32(skbX, skbA))
		case r.Op == clsMISC|miscTXA:
			b.emit(asm.Mov.Reg32(skbA, skbX))
		default:
			return nil, fmt.Errorf("translate: %w", pr.errAt(pc, ErrUnsupported))
		}
	}
	b.stub(reject, asm.Mov.Imm32(asm.R0, 0), asm.Return())
	if opts.Results != nil {
		b.stub(match, asm.Mov.Imm32(asm.R0, opts.Results.Match), asm.Return())
		b.stub(nomatch, asm.Mov.Imm32(asm.R0, opts.Results.NoMatch), asm.Return())
	}
	return b.insns, nil
}

// skbAncillary emits Linux ancillary load SKF_AD_OFF+k into A.
func (b *builder) skbAncillary(pr *program, pc int, k uint32) error {
	field := func(off int16) { b.emit(asm.LoadMem(skbA, skbCtx, off, asm.Word)) }
	switch k {
	case cbpf.SKFAdProtocol:
		field(skbProtocol)
		b.emit(asm.HostTo(asm.BE, skbA, asm.Half))
	case cbpf.SKFAdPktType:
		field(skbPktType)
	case cbpf.SKFAdIfIndex:
		field(skbIfIndex)
	case cbpf.SKFAdMark:
		field(skbMark)
	case cbpf.SKFAdQueue:
		field(skbQueueMapping)
	case cbpf.SKFAdRXHash:
		field(skbHash)
	case cbpf.SKFAdVLANTag:
		field(skbVLANTCI)
	case cbpf.SKFAdVLANTagPresent:
		field(skbVLANPresent)
	case cbpf.SKFAdVLANTPID:
		field(skbVLANProto)
		b.emit(asm.HostTo(asm.BE, skbA, asm.Half))
	case cbpf.SKFAdCPU:
		b.emit(asm.FnGetSmpProcessorId.Call())
	case cbpf.SKFAdRandom:
		b.emit(asm.FnGetPrandomU32.Call())
	case cbpf.SKFAdALUXorX:
		b.emit(asm.Xor.Reg32(skbA, skbX))
	default:
		return fmt.Errorf("translate: %w", pr.errAt(pc, fmt.Errorf("%w: ancillary load %d has no eBPF equivalent", ErrUnsupported, k)))
	}
	return nil
}
