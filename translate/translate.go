package translate

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/net/bpf"

	"github.com/bpfc/bpfc/cbpf"
)

// Errors a translation wraps, so that callers branch with errors.Is.
var (
	// ErrInvalid: the classic program breaks one of the kernel's rules
	// (see cbpf.Validate); the error also wraps the *cbpf.ValidationError.
	ErrInvalid = errors.New("invalid classic program")
	// ErrLoop: the program jumps backwards and Options.MaxLoop is 0.
	ErrLoop = errors.New("backward jump (set MaxLoop to allow loops)")
	// ErrUnsupported: the instruction has no translation in this form,
	// such as an ancillary load with no eBPF equivalent.
	ErrUnsupported = errors.New("unsupported instruction")
	// ErrOptions: the options are inconsistent (a length source the form
	// cannot read, registers used twice, a stack offset out of range).
	ErrOptions = errors.New("bad options")
)

// An Error says which classic instruction could not be translated.
type Error struct {
	Index int    // the instruction's position, from 0
	Insn  string // the instruction as tcpdump -d prints it
	Err   error  // ErrLoop or ErrUnsupported, possibly wrapped
}

// Error returns "instruction N (text): reason".
func (e *Error) Error() string {
	return fmt.Sprintf("instruction %d (%s): %v", e.Index, e.Insn, e.Err)
}

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// LenSource says where the translated program finds the value of `ld
// #len` and `ldx #len`, the packet's length on the wire.
type LenSource int

const (
	// LenDefault is the form's natural source: __sk_buff.len for the skb
	// form and for Direct with SkBuff, data_end - data for Direct with
	// XDP (or with Embed).
	LenDefault LenSource = iota
	// LenSkb reads __sk_buff.len, as the kernel's own conversion does.
	LenSkb
	// LenWire reads __sk_buff.wire_len: the length the packet had on the
	// wire, which BPF_PROG_TEST_RUN lets the caller set. Only TC
	// (SchedCLS) programs may read it.
	LenWire
	// LenCB reads __sk_buff.cb[0], which BPF_PROG_TEST_RUN lets the
	// caller set for any length (wire_len stops at 64 KiB): the
	// convention ebpf.Program.Run follows, for checking programs on
	// captures with long packets. Skb form, or Direct with SkBuff.
	LenCB
	// LenPacket is data_end - data (direct form only).
	LenPacket
	// LenMeta reads a native-endian 32-bit length from the first 4 bytes
	// of XDP metadata (data_meta), falling back to data_end - data when
	// there is no metadata (Direct with XDP only). ebpf.Program.Run
	// passes the wire length this way.
	LenMeta
	// LenRegister reads the length from Embed.Len (Direct with Embed
	// only).
	LenRegister
)

// Options are the settings both forms share.
type Options struct {
	// MaxLoop, when positive, lets the program jump backwards (libpcap's
	// protochain loop): each backward jump counts down from MaxLoop and the
	// packet is rejected when the count runs out. With MaxLoop 0 a backward
	// jump is an error (ErrLoop).
	MaxLoop int
	// Len is where `len` comes from.
	Len LenSource
	// StackOffset places the 16 scratch cells in the 64 bytes below
	// R10+StackOffset (a multiple of 4, between -448 and 0). Cells are
	// zeroed first only when the program loops.
	StackOffset int16
	// LabelPrefix starts every label the translation makes ("bpfc" when
	// empty); choose one per filter when embedding several.
	LabelPrefix string
}

// Results are the two values a program returns (or, embedded, the labels
// it jumps to) for a packet the filter accepts and one it rejects.
type Results struct {
	Match, NoMatch int32
}

// Return codes for Results.
var (
	// XDPResults passes matching packets and drops the others.
	XDPResults = Results{Match: 2 /* XDP_PASS */, NoMatch: 1 /* XDP_DROP */}
	// TCResults lets matching packets through and drops the others.
	TCResults = Results{Match: 0 /* TC_ACT_OK */, NoMatch: 2 /* TC_ACT_SHOT */}
)

// __sk_buff field offsets (linux/bpf.h).
const (
	skbLen          = 0
	skbPktType      = 4
	skbMark         = 8
	skbQueueMapping = 12
	skbProtocol     = 16
	skbVLANPresent  = 20
	skbVLANTCI      = 24
	skbVLANProto    = 28
	skbIfIndex      = 40
	skbCB0          = 48
	skbHash         = 68
	skbData         = 76
	skbDataEnd      = 80
	skbWireLen      = 160

	xdpData     = 0
	xdpDataEnd  = 4
	xdpDataMeta = 8
)

// Classic opcode fields (linux/bpf_common.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0, 1, 2, 3, 4, 5, 6, 7

	szW, szH, szB = 0x00, 0x08, 0x10

	modeIMM, modeABS, modeIND, modeMEM, modeLEN, modeMSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xa0

	srcK, srcX, srcA = 0x00, 0x08, 0x10

	jmpJA, jmpJEQ, jmpJGT, jmpJGE, jmpJSET = 0x00, 0x10, 0x20, 0x30, 0x40

	aluADD, aluSUB, aluMUL, aluDIV, aluOR, aluAND, aluLSH, aluRSH, aluNEG, aluMOD, aluXOR = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0

	miscTAX, miscTXA = 0x00, 0x80
)

// program is a classic program analysed for translation.
type program struct {
	raw    []bpf.RawInstruction
	reach  []bool // reachable from the entry
	target []bool // the target of some jump
	loops  bool   // has a backward jump
}

func (p *program) errAt(pc int, err error) error {
	return &Error{Index: pc, Insn: insnString(p.raw[pc], pc), Err: err}
}

// insnString is one instruction as tcpdump -d prints it, without the
// position.
func insnString(r bpf.RawInstruction, pc int) string {
	img := cbpf.Image(r, pc)
	for i := 0; i+1 < len(img); i++ {
		if img[i] == ')' && img[i+1] == ' ' {
			img = img[i+2:]
			break
		}
	}
	out := make([]byte, 0, len(img))
	space := false
	for i := 0; i < len(img); i++ {
		if img[i] == ' ' || img[i] == '\t' {
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, img[i])
	}
	return string(out)
}

// jumpBack reports whether r is an unconditional jump backwards, and its
// target.
func jumpBack(r bpf.RawInstruction, pc int) (int, bool) {
	if r.Op == clsJMP|jmpJA && int32(r.K) < 0 {
		return pc + 1 + int(int32(r.K)), true
	}
	return 0, false
}

// analyse validates a classic program and finds its reachable
// instructions and jump targets. terminal reports instructions the form
// turns into an unconditional rejection (they have no successor).
func analyse(p *cbpf.Program, o *Options, terminal func(bpf.RawInstruction) bool) (*program, error) {
	if p == nil {
		return nil, fmt.Errorf("translate: %w: nil program", ErrInvalid)
	}
	raw, err := p.Raw()
	if err != nil {
		return nil, fmt.Errorf("translate: %w: %w", ErrInvalid, err)
	}
	pr := &program{raw: raw, reach: make([]bool, len(raw)), target: make([]bool, len(raw))}
	// The kernel's checks, with backward jumps (when allowed) replaced by
	// returns: its scratch-memory rule looks forward only.
	check := raw
	for pc, r := range raw {
		t, back := jumpBack(r, pc)
		if !back {
			continue
		}
		if o.MaxLoop <= 0 {
			return nil, fmt.Errorf("translate: %w", pr.errAt(pc, ErrLoop))
		}
		if t < 0 {
			return nil, fmt.Errorf("translate: %w: %w", ErrInvalid, &cbpf.ValidationError{Index: pc, Insn: insnString(r, pc), Rule: cbpf.ErrJumpOutOfRange})
		}
		if len(check) > 0 && &check[0] == &raw[0] {
			check = append([]bpf.RawInstruction(nil), raw...)
		}
		check[pc] = bpf.RawInstruction{Op: clsRET | srcK}
		pr.loops = true
	}
	// The kernel's rules, but not its classic length limit: a classic
	// program too long to attach can still become an eBPF one.
	if err := cbpf.ValidateRules(check); err != nil {
		return nil, fmt.Errorf("translate: %w: %w", ErrInvalid, err)
	}
	// Reachability, depth first.
	stack := []int{0}
	pr.reach[0] = true
	visit := func(pc int, jump bool) {
		if jump {
			pr.target[pc] = true
		}
		if !pr.reach[pc] {
			pr.reach[pc] = true
			stack = append(stack, pc)
		}
	}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r := raw[pc]
		switch {
		case r.Op&7 == clsRET:
		case terminal != nil && terminal(r):
		case r.Op == clsJMP|jmpJA:
			visit(pc+1+int(int32(r.K)), true)
		case r.Op&7 == clsJMP:
			visit(pc+1+int(r.Jt), true)
			visit(pc+1+int(r.Jf), true)
		default:
			visit(pc+1, false)
		}
	}
	return pr, nil
}

// endsRun reports whether r ends a straight-line run.
func endsRun(r bpf.RawInstruction) bool {
	return r.Op&7 == clsRET || r.Op&7 == clsJMP
}

// builder collects instructions and attaches labels.
type builder struct {
	insns  asm.Instructions
	prefix string
	label  string // pending symbol for the next instruction
}

func (b *builder) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		if b.label != "" {
			in = in.WithSymbol(b.label)
			b.label = ""
		}
		b.insns = append(b.insns, in)
	}
}

// mark names the next instruction; a second mark before it is emitted
// needs a placeholder.
func (b *builder) mark(name string) {
	if b.label != "" {
		b.emit(asm.Ja.Label(name))
		// A jump to the very next instruction: harmless, and it keeps
		// both names.
	}
	b.label = name
}

// stub emits a labelled tail (such as "return 0") if some jump goes
// there: the verifier refuses unreachable instructions.
func (b *builder) stub(label string, ins ...asm.Instruction) {
	for _, in := range b.insns {
		if in.Reference() == label {
			b.mark(label)
			b.emit(ins...)
			return
		}
	}
}

func (b *builder) pcLabel(pc int) string { return fmt.Sprintf("%s_%d", b.prefix, pc) }

// checkOptions checks the shared options.
func (o *Options) check() error {
	if o.StackOffset > 0 || o.StackOffset < -448 || o.StackOffset%4 != 0 {
		return fmt.Errorf("translate: %w: stack offset %d: want a multiple of 4 in [-448, 0]", ErrOptions, o.StackOffset)
	}
	if o.MaxLoop < 0 || o.MaxLoop > 1<<20 {
		return fmt.Errorf("translate: %w: MaxLoop %d: want 0 to %d", ErrOptions, o.MaxLoop, 1<<20)
	}
	return nil
}

func (o *Options) prefix() string {
	if o.LabelPrefix == "" {
		return "bpfc"
	}
	return o.LabelPrefix
}

// cell is the stack offset of scratch cell k.
func (o *Options) cell(k uint32) int16 {
	return o.StackOffset - 64 + int16(4*k)
}

// readCells lists the scratch cells the program reads.
func (p *program) readCells() []uint32 {
	var seen [16]bool
	var cells []uint32
	for pc, r := range p.raw {
		if p.reach[pc] && (r.Op == clsLD|modeMEM || r.Op == clsLDX|modeMEM) && !seen[r.K&15] {
			seen[r.K&15] = true
			cells = append(cells, r.K&15)
		}
	}
	return cells
}

// loadSize is the eBPF size of a classic load.
func loadSize(op uint16) (asm.Size, int) {
	switch op & 0x18 {
	case szH:
		return asm.Half, 2
	case szB:
		return asm.Byte, 1
	}
	return asm.Word, 4
}

// aluOps maps classic ALU operations to eBPF ones.
var aluOps = map[uint16]asm.ALUOp{
	aluADD: asm.Add, aluSUB: asm.Sub, aluMUL: asm.Mul, aluDIV: asm.Div, aluOR: asm.Or,
	aluAND: asm.And, aluLSH: asm.LSh, aluRSH: asm.RSh, aluMOD: asm.Mod, aluXOR: asm.Xor,
}

// cond is a classic conditional jump in eBPF terms: the test when true
// and, when there is one, its negation.
type cond struct {
	op, not asm.JumpOp
}

var conds = map[uint16]cond{
	jmpJEQ:  {asm.JEq, asm.JNE},
	jmpJGT:  {asm.JGT, asm.JLE},
	jmpJGE:  {asm.JGE, asm.JLT},
	jmpJSET: {asm.JSet, asm.InvalidJumpOp},
}

// emitJump emits classic conditional jump r at pc comparing register a
// with k or x.
func (b *builder) emitJump(r bpf.RawInstruction, pc int, a, x asm.Register) {
	t, f := pc+1+int(r.Jt), pc+1+int(r.Jf)
	c := conds[r.Op&0xf0]
	jmp := func(op asm.JumpOp, to int) asm.Instruction {
		if r.Op&srcX != 0 {
			return op.Reg32(a, x, b.pcLabel(to))
		}
		return op.Imm32(a, int32(r.K), b.pcLabel(to))
	}
	switch {
	case t == f:
		b.emit(asm.Ja.Label(b.pcLabel(t)))
	case t == pc+1 && c.not != asm.InvalidJumpOp:
		b.emit(jmp(c.not, f))
	case f == pc+1:
		b.emit(jmp(c.op, t))
	default:
		b.emit(jmp(c.op, t), asm.Ja.Label(b.pcLabel(f)))
	}
}

// emitALU emits classic ALU instruction r on register a with x; divide
// names the label that rejects on division by a zero X, tmp is a free
// register.
func (b *builder) emitALU(r bpf.RawInstruction, a, x, tmp asm.Register, reject string) {
	op := r.Op & 0xf0
	if op == aluNEG {
		b.emit(asm.Neg.Imm32(a, 0))
		return
	}
	e := aluOps[op]
	if r.Op&srcX == 0 {
		b.emit(e.Imm32(a, int32(r.K)))
		return
	}
	switch op {
	case aluDIV, aluMOD:
		b.emit(asm.JEq.Imm32(x, 0, reject), e.Reg32(a, x))
	case aluLSH, aluRSH:
		// The kernel's interpreter and JITs shift by X modulo 32; say so.
		b.emit(asm.Mov.Reg32(tmp, x), asm.And.Imm32(tmp, 31), e.Reg32(a, tmp))
	default:
		b.emit(e.Reg32(a, x))
	}
}

// emitLoop emits a backward jump to t, counting down in reg.
func (b *builder) emitLoop(t int, count asm.Register, reject string) {
	b.emit(asm.Sub.Imm(count, 1), asm.JEq.Imm(count, 0, reject), asm.Ja.Label(b.pcLabel(t)))
}

// Resolve returns a copy of insns with every jump's offset computed from
// its label, as the loader does: for writing an object file or printing
// raw instructions. A reference to a missing label is an error.
func Resolve(insns asm.Instructions) (asm.Instructions, error) {
	offs, err := insns.SymbolOffsets()
	if err != nil {
		return nil, fmt.Errorf("translate: resolve: %w", err)
	}
	out := make(asm.Instructions, len(insns))
	copy(out, insns)
	// Raw positions: wide instructions take two slots.
	pos := make([]int, len(out)+1)
	for i, in := range out {
		pos[i+1] = pos[i] + int(in.Width())
	}
	for i := range out {
		ref := out[i].Reference()
		jop := out[i].OpCode.JumpOp()
		if ref == "" || jop == asm.InvalidJumpOp || jop == asm.Exit || jop == asm.Call {
			continue
		}
		j, ok := offs[ref]
		if !ok {
			return nil, fmt.Errorf("translate: resolve: missing label %q", ref)
		}
		d := pos[j] - pos[i+1]
		if d < -32768 || d > 32767 {
			return nil, fmt.Errorf("translate: resolve: jump to %q too far (%d)", ref, d)
		}
		out[i].Offset = int16(d)
	}
	return out, nil
}
