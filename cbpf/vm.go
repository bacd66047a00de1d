package cbpf

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// A VM runs a validated Program on packets. NewVM decodes the program once
// into a compact form; running it allocates nothing. A VM is immutable and
// safe for concurrent use.
//
// The semantics are the Linux kernel's, which for every program libpcap
// generates are also libpcap's bpf_filter: 32-bit unsigned arithmetic, a
// load past the captured bytes or a division by zero at run time ends the
// program with 0 (reject), `ld #len` is the packet's length on the wire,
// shifts by X use X modulo 32 (as the kernel's interpreter and JITs do;
// libpcap's bpf_filter gives 0 for X ≥ 32 instead: NewLibpcapVM), and an
// indirect load
// adds X and k modulo 2³² (libpcap rejects the packet when the sum
// overflows).
type VM struct {
	insns []vmInsn
}

// vmInsn is one decoded instruction. A jump's jt and jf are its targets
// minus one: the loop adds one after every instruction.
type vmInsn struct {
	k      uint32
	k2     uint32 // a fused jump's constant
	jt, jf uint16
	op     vmOp
}

type vmOp uint8

const (
	opRetK vmOp = iota
	opRetA
	opLdAbsW
	opLdAbsH
	opLdAbsB
	opLdIndW
	opLdIndH
	opLdIndB
	opLdNegW // absolute load at a negative offset (SKF_NET_OFF, SKF_LL_OFF, or nowhere)
	opLdNegH
	opLdNegB
	opLdAnc // ancillary load; k is the SKF_AD_* number
	opLdImm
	opLdMem
	opLdLen
	opLdxImm
	opLdxMem
	opLdxLen
	opLdxMsh
	opLdxMshNeg
	opSt
	opStx
	opAddK
	opSubK
	opMulK
	opDivK
	opModK
	opAndK
	opOrK
	opXorK
	opLshK
	opRshK
	opAddX
	opSubX
	opMulX
	opDivX
	opModX
	opAndX
	opOrX
	opXorX
	opLshX
	opRshX
	opLshXZero // libpcap's: 0 for X ≥ 32 (NewLibpcapVM)
	opRshXZero
	opNeg
	opJa
	opJeqK
	opJgtK
	opJgeK
	opJsetK
	opJeqX
	opJgtX
	opJgeX
	opJsetX
	opTax
	opTxa
	// Superinstructions: a load then a conditional jump on its value, the
	// pattern of most filters (ldh [12]; jeq #0x800). The jump's original
	// instruction stays in place for jumps that land on it.
	opLdAbsHJeq
	opLdAbsBJeq
	opLdAbsWJeq
	opLdAbsHJset
	opLdAbsBJset
	opLdIndHJeq
)

// fusions maps a load and the conditional jump after it to their
// superinstruction.
var fusions = map[[2]vmOp]vmOp{
	{opLdAbsH, opJeqK}: opLdAbsHJeq, {opLdAbsB, opJeqK}: opLdAbsBJeq,
	{opLdAbsW, opJeqK}: opLdAbsWJeq, {opLdAbsH, opJsetK}: opLdAbsHJset,
	{opLdAbsB, opJsetK}: opLdAbsBJset, {opLdIndH, opJeqK}: opLdIndHJeq,
}

// Metadata is what the kernel knows about a packet besides its bytes: the
// values Linux ancillary loads (SKF_AD_*) read, and where the network
// header starts for loads at SKF_NET_OFF. Pass it to RunMeta to run a
// live-capture program (tcpdump's `inbound`, `ifindex`, `vlan` on a live
// interface) as the kernel would.
type Metadata struct {
	Protocol    uint16 // SKF_AD_PROTOCOL: the EtherType, such as 0x0800
	PktType     uint8  // SKF_AD_PKTTYPE: PACKET_HOST (0), PACKET_OUTGOING (4), ...; the kernel keeps 3 bits
	IfIndex     uint32 // SKF_AD_IFINDEX
	Mark        uint32 // SKF_AD_MARK
	Queue       uint16 // SKF_AD_QUEUE
	HAType      uint16 // SKF_AD_HATYPE: ARPHRD_ETHER (1), ...
	RXHash      uint32 // SKF_AD_RXHASH
	CPU         uint32 // SKF_AD_CPU
	VLANTCI     uint16 // SKF_AD_VLAN_TAG
	VLANPresent bool   // SKF_AD_VLAN_TAG_PRESENT
	VLANProto   uint16 // SKF_AD_VLAN_TPID, such as 0x8100
	PayOffset   uint32 // SKF_AD_PAY_OFFSET
	Random      uint32 // SKF_AD_RANDOM
	// NetworkOffset is where the network header starts in the packet:
	// loads at SKF_NET_OFF+n read the packet at NetworkOffset+n. Loads at
	// SKF_LL_OFF+n read the packet at n. A negative NetworkOffset makes
	// SKF_NET_OFF loads fail.
	NetworkOffset int
}

// NewLibpcapVM is NewVM with libpcap's bpf_filter semantics for shifts
// by X: X ≥ 32 gives 0, where the kernel shifts by X modulo 32. Offline
// filtering uses it, so that it keeps what tcpdump -r keeps.
func NewLibpcapVM(p *Program) (*VM, error) {
	vm, err := NewVM(p)
	if err != nil {
		return nil, err
	}
	for i := range vm.insns {
		switch vm.insns[i].op {
		case opLshX:
			vm.insns[i].op = opLshXZero
		case opRshX:
			vm.insns[i].op = opRshXZero
		}
	}
	return vm, nil
}

// NewVM validates p (see Validate) and decodes it for running.
func NewVM(p *Program) (*VM, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("cbpf: new vm: %w", err)
	}
	raw, err := p.Raw()
	if err != nil {
		return nil, err
	}
	insns := make([]vmInsn, len(raw))
	for pc, r := range raw {
		insns[pc] = decodeVM(r, pc)
	}
	for pc := 0; pc+1 < len(insns); pc++ {
		j := insns[pc+1]
		if f, ok := fusions[[2]vmOp{insns[pc].op, j.op}]; ok {
			insns[pc] = vmInsn{op: f, k: insns[pc].k, k2: j.k, jt: j.jt, jf: j.jf}
		}
	}
	return &VM{insns: insns}, nil
}

// decodeVM decodes a validated instruction.
func decodeVM(r bpf.RawInstruction, pc int) vmInsn {
	in := vmInsn{k: r.K}
	switch r.Op {
	case bpfRET | bpfK:
		in.op = opRetK
	case bpfRET | bpfA:
		in.op = opRetA
	case bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS:
		size := r.Op & 0x18
		switch {
		case r.K >= SKFAdOff:
			in.op, in.k = opLdAnc, r.K-SKFAdOff
		case r.K >= 1<<31:
			in.op = map[uint16]vmOp{bpfW: opLdNegW, bpfH: opLdNegH, bpfB: opLdNegB}[size]
		default:
			in.op = map[uint16]vmOp{bpfW: opLdAbsW, bpfH: opLdAbsH, bpfB: opLdAbsB}[size]
		}
	case bpfLD | bpfW | bpfIND:
		in.op = opLdIndW
	case bpfLD | bpfH | bpfIND:
		in.op = opLdIndH
	case bpfLD | bpfB | bpfIND:
		in.op = opLdIndB
	case bpfLD | bpfIMM:
		in.op = opLdImm
	case bpfLD | bpfMEM:
		in.op = opLdMem
	case bpfLD | bpfW | bpfLEN:
		in.op = opLdLen
	case bpfLDX | bpfIMM:
		in.op = opLdxImm
	case bpfLDX | bpfMEM:
		in.op = opLdxMem
	case bpfLDX | bpfW | bpfLEN:
		in.op = opLdxLen
	case bpfLDX | bpfB | bpfMSH:
		in.op = opLdxMsh
		if r.K >= 1<<31 {
			in.op = opLdxMshNeg
		}
	case bpfST:
		in.op = opSt
	case bpfSTX:
		in.op = opStx
	case bpfALU | bpfNEG:
		in.op = opNeg
	case bpfMISC | bpfTAX:
		in.op = opTax
	case bpfMISC | bpfTXA:
		in.op = opTxa
	case bpfJMP | bpfJA:
		in.op = opJa
		in.jt = uint16(pc + int(r.K))
	default:
		switch r.Op & 0x07 {
		case bpfALU:
			ops := map[uint16][2]vmOp{
				bpfADD: {opAddK, opAddX}, bpfSUB: {opSubK, opSubX}, bpfMUL: {opMulK, opMulX},
				bpfDIV: {opDivK, opDivX}, bpfMOD: {opModK, opModX}, bpfAND: {opAndK, opAndX},
				bpfOR: {opOrK, opOrX}, bpfXOR: {opXorK, opXorX}, bpfLSH: {opLshK, opLshX},
				bpfRSH: {opRshK, opRshX},
			}[r.Op&0xf0]
			in.op = ops[(r.Op&bpfX)>>3]
		case bpfJMP:
			ops := map[uint16][2]vmOp{
				bpfJEQ: {opJeqK, opJeqX}, bpfJGT: {opJgtK, opJgtX},
				bpfJGE: {opJgeK, opJgeX}, bpfJSET: {opJsetK, opJsetX},
			}[r.Op&0xf0]
			in.op = ops[(r.Op&bpfX)>>3]
			in.jt = uint16(pc + int(r.Jt))
			in.jf = uint16(pc + int(r.Jf))
		}
	}
	return in
}

// Run runs the program on a packet: pkt is the captured bytes, wireLen
// the packet's length on the wire (what `ld #len` loads). It returns the
// program's verdict, the number of bytes to keep: 0 rejects the packet.
//
// Run has no packet metadata, so it treats ancillary loads and loads at
// SKF_NET_OFF or SKF_LL_OFF as libpcap's bpf_filter does, as loads out of
// the packet: they reject it. Use RunMeta for the kernel's view.
func (vm *VM) Run(pkt []byte, wireLen int) uint32 {
	v, _ := vm.run(pkt, wireLen, nil)
	return v
}

// RunMeta is Run with the packet's metadata, for programs that use Linux
// ancillary loads or negative offsets; a nil meta is Run.
func (vm *VM) RunMeta(pkt []byte, wireLen int, meta *Metadata) uint32 {
	v, _ := vm.run(pkt, wireLen, meta)
	return v
}

// RunCount is RunMeta that also returns how many instructions it
// executed, the return included.
func (vm *VM) RunCount(pkt []byte, wireLen int, meta *Metadata) (verdict uint32, executed int) {
	return vm.run(pkt, wireLen, meta)
}

// Len returns the number of instructions in the program.
func (vm *VM) Len() int { return len(vm.insns) }

func (vm *VM) run(pkt []byte, wireLen int, meta *Metadata) (uint32, int) {
	var (
		mem   [16]uint32
		a, x  uint32
		pc, n int
	)
	for {
		var (
			v    uint32
			done bool
		)
		v, a, x, pc, n, done = vm.loop(pkt, uint32(wireLen), &mem, a, x, pc, n)
		if done {
			return v, n
		}
		// loop left the instruction at pc to this slow path.
		in := &vm.insns[pc]
		n++
		pc++
		var ok bool
		switch in.op {
		case opLdIndW, opLdIndH, opLdIndB, opLdIndHJeq:
			a, ok = loadNeg(pkt, x+in.k, sizeOf(in.op), meta)
		case opLdNegW, opLdNegH, opLdNegB:
			a, ok = loadNeg(pkt, in.k, sizeOf(in.op), meta)
		case opLdxMshNeg:
			x, ok = loadNeg(pkt, in.k, 1, meta)
			x = (x & 0xf) << 2
		case opLdAnc:
			if ok = meta != nil; ok {
				a = ancillary(pkt, in.k, a, x, meta)
			}
		}
		if !ok {
			return 0, n
		}
	}
}

// loop runs the program from pc until it returns (done) or reaches an
// instruction that needs a function call (ancillary and negative-offset
// loads), which it leaves to run without executing it. It makes no call
// itself, so that the registers stay in machine registers.
func (vm *VM) loop(pkt []byte, wireLen uint32, mem *[16]uint32, a, x uint32, pc, n int) (v, a2, x2 uint32, pc2, n2 int, done bool) {
	insns := vm.insns
	for {
		in := &insns[pc]
		switch in.op {
		case opRetK:
			return in.k, a, x, pc, n + 1, true
		case opRetA:
			return a, a, x, pc, n + 1, true
		case opLdAbsW:
			k := int(in.k)
			if k+4 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = binary.BigEndian.Uint32(pkt[k:])
		case opLdAbsH:
			k := int(in.k)
			if k+2 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(binary.BigEndian.Uint16(pkt[k:]))
		case opLdAbsB:
			k := int(in.k)
			if k >= len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(pkt[k])
		case opLdIndW:
			k := x + in.k
			if k >= 1<<31 {
				return 0, a, x, pc, n, false
			}
			if int(k)+4 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = binary.BigEndian.Uint32(pkt[k:])
		case opLdIndH:
			k := x + in.k
			if k >= 1<<31 {
				return 0, a, x, pc, n, false
			}
			if int(k)+2 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(binary.BigEndian.Uint16(pkt[k:]))
		case opLdIndB:
			k := x + in.k
			if k >= 1<<31 {
				return 0, a, x, pc, n, false
			}
			if int(k) >= len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(pkt[k])
		case opLdNegW, opLdNegH, opLdNegB, opLdAnc, opLdxMshNeg:
			return 0, a, x, pc, n, false
		case opLdImm:
			a = in.k
		case opLdMem:
			a = mem[in.k&15]
		case opLdLen:
			a = wireLen
		case opLdxImm:
			x = in.k
		case opLdxMem:
			x = mem[in.k&15]
		case opLdxLen:
			x = wireLen
		case opLdxMsh:
			k := int(in.k)
			if k >= len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			x = uint32(pkt[k]&0xf) << 2
		case opSt:
			mem[in.k&15] = a
		case opStx:
			mem[in.k&15] = x
		case opAddK:
			a += in.k
		case opSubK:
			a -= in.k
		case opMulK:
			a *= in.k
		case opDivK:
			a /= in.k
		case opModK:
			a %= in.k
		case opAndK:
			a &= in.k
		case opOrK:
			a |= in.k
		case opXorK:
			a ^= in.k
		case opLshK:
			a <<= in.k & 31
		case opRshK:
			a >>= in.k & 31
		case opAddX:
			a += x
		case opSubX:
			a -= x
		case opMulX:
			a *= x
		case opDivX:
			if x == 0 {
				return 0, a, x, pc, n + 1, true
			}
			a /= x
		case opModX:
			if x == 0 {
				return 0, a, x, pc, n + 1, true
			}
			a %= x
		case opAndX:
			a &= x
		case opOrX:
			a |= x
		case opXorX:
			a ^= x
		case opLshX:
			a <<= x & 31
		case opRshX:
			a >>= x & 31
		case opLshXZero:
			if x < 32 {
				a <<= x
			} else {
				a = 0
			}
		case opRshXZero:
			if x < 32 {
				a >>= x
			} else {
				a = 0
			}
		case opNeg:
			a = -a
		case opJa:
			pc = int(in.jt)
		case opJeqK:
			if a == in.k {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJgtK:
			if a > in.k {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJgeK:
			if a >= in.k {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJsetK:
			if a&in.k != 0 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJeqX:
			if a == x {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJgtX:
			if a > x {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJgeX:
			if a >= x {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opJsetX:
			if a&x != 0 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opTax:
			x = a
		case opTxa:
			a = x
		case opLdAbsHJeq:
			k := int(in.k)
			if k+2 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(binary.BigEndian.Uint16(pkt[k:]))
			n++
			if a == in.k2 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opLdAbsBJeq:
			k := int(in.k)
			if k >= len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(pkt[k])
			n++
			if a == in.k2 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opLdAbsWJeq:
			k := int(in.k)
			if k+4 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = binary.BigEndian.Uint32(pkt[k:])
			n++
			if a == in.k2 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opLdAbsHJset:
			k := int(in.k)
			if k+2 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(binary.BigEndian.Uint16(pkt[k:]))
			n++
			if a&in.k2 != 0 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opLdAbsBJset:
			k := int(in.k)
			if k >= len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(pkt[k])
			n++
			if a&in.k2 != 0 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		case opLdIndHJeq:
			k := x + in.k
			if k >= 1<<31 {
				return 0, a, x, pc, n, false
			}
			if int(k)+2 > len(pkt) {
				return 0, a, x, pc, n + 1, true
			}
			a = uint32(binary.BigEndian.Uint16(pkt[k:]))
			n++
			if a == in.k2 {
				pc = int(in.jt)
			} else {
				pc = int(in.jf)
			}
		default:
			// Unreachable for a decoded program.
			return 0, a, x, pc, n + 1, true
		}
		n++
		pc++
	}
}

func sizeOf(op vmOp) int {
	switch op {
	case opLdIndW, opLdNegW:
		return 4
	case opLdIndH, opLdNegH, opLdIndHJeq:
		return 2
	}
	return 1
}

// load reads size bytes big-endian at off, or fails when they are not all
// in pkt.
func load(pkt []byte, off, size int) (uint32, bool) {
	if off < 0 || off > len(pkt)-size {
		return 0, false
	}
	switch size {
	case 4:
		return binary.BigEndian.Uint32(pkt[off:]), true
	case 2:
		return uint32(binary.BigEndian.Uint16(pkt[off:])), true
	}
	return uint32(pkt[off]), true
}

// loadNeg is the kernel's bpf_internal_load_pointer_neg_helper: offsets
// from SKF_NET_OFF read after the network header, offsets from SKF_LL_OFF
// after the link-layer header (the start of pkt), others fail. Without
// metadata (libpcap's view) they all fail.
func loadNeg(pkt []byte, k uint32, size int, meta *Metadata) (uint32, bool) {
	switch {
	case meta == nil:
		return 0, false
	case k >= SKFNetOff:
		if meta.NetworkOffset < 0 {
			return 0, false
		}
		return load(pkt, meta.NetworkOffset+int(k-SKFNetOff), size)
	case k >= SKFLLOff:
		return load(pkt, int(k-SKFLLOff), size)
	}
	return 0, false
}

// ancillary is the value of ancillary load SKF_AD_OFF+k, whatever the
// load's size (the kernel ignores it).
func ancillary(pkt []byte, k, a, x uint32, m *Metadata) uint32 {
	switch k {
	case SKFAdProtocol:
		return uint32(m.Protocol)
	case SKFAdPktType:
		return uint32(m.PktType & 7)
	case SKFAdIfIndex:
		return m.IfIndex
	case SKFAdNLAttr:
		return nlAttr(pkt, a, x, false)
	case SKFAdNLAttrNest:
		return nlAttr(pkt, a, x, true)
	case SKFAdMark:
		return m.Mark
	case SKFAdQueue:
		return uint32(m.Queue)
	case SKFAdHAType:
		return uint32(m.HAType)
	case SKFAdRXHash:
		return m.RXHash
	case SKFAdCPU:
		return m.CPU
	case SKFAdALUXorX:
		return a ^ x
	case SKFAdVLANTag:
		return uint32(m.VLANTCI)
	case SKFAdVLANTagPresent:
		if m.VLANPresent {
			return 1
		}
		return 0
	case SKFAdPayOffset:
		return m.PayOffset
	case SKFAdRandom:
		return m.Random
	case SKFAdVLANTPID:
		return uint32(m.VLANProto)
	}
	return 0
}

// nlAttr is the kernel's bpf_skb_get_nlattr(_nest): the offset in pkt of
// the first netlink attribute of type x in the attributes at offset a (or
// inside the attribute at offset a), or 0. Netlink headers are in host
// byte order.
func nlAttr(pkt []byte, a, x uint32, nest bool) uint32 {
	const hdr = 4
	n := uint32(len(pkt))
	if n < hdr || a > n-hdr {
		return 0
	}
	start, end := a, n
	if nest {
		l := uint32(binary.NativeEndian.Uint16(pkt[a:]))
		if l > n-a {
			return 0
		}
		if l < hdr {
			return 0
		}
		start, end = a+hdr, a+l
	}
	for off := start; end-off >= hdr; {
		l := uint32(binary.NativeEndian.Uint16(pkt[off:]))
		typ := uint32(binary.NativeEndian.Uint16(pkt[off+2:])) & 0x3fff
		if l < hdr || l > end-off {
			return 0
		}
		if typ == x {
			return off
		}
		step := (l + 3) &^ 3
		if step >= end-off {
			return 0
		}
		off += step
	}
	return 0
}
