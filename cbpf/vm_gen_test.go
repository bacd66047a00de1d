package cbpf

import (
	"math/rand/v2"
	"slices"

	"golang.org/x/net/bpf"
)

// genOpts says which instructions a generated program may hold.
type genOpts struct {
	bad       bool // also rule-breaking programs (for validator agreement)
	shiftX    bool // lsh x, rsh x (x/net/bpf gives 0 for X ≥ 32, the kernel X%32)
	neg       bool // neg (x/net/bpf's VM has none)
	indOffset bool // ld [x+k] with k ≠ 0 (x/net/bpf does not wrap X+k)
	ancillary bool // the deterministic ancillary loads of a loopback UDP socket
	ldxLen    bool // ldx #len (x/net/bpf disassembles it as ld #len)
}

// allowedOps is the kernel's whitelist, sorted.
var allowedOps = func() []uint16 {
	var ops []uint16
	for op := range allowed {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}()

// udpAncillary are the ancillary loads whose values a loopback UDP socket
// makes deterministic (see kernelMeta).
var udpAncillary = []uint32{
	SKFAdProtocol, SKFAdPktType, SKFAdIfIndex, SKFAdNLAttr, SKFAdNLAttrNest,
	SKFAdMark, SKFAdQueue, SKFAdHAType, SKFAdALUXorX, SKFAdVLANTag,
	SKFAdVLANTagPresent, SKFAdVLANTPID,
}

// genProgram makes a random program from rng. Unless o.bad, the program
// is built to pass the validator often; callers validate it anyway.
func genProgram(rng *rand.Rand, o genOpts) []bpf.RawInstruction {
	n := 1 + rng.IntN(24)
	if rng.IntN(50) == 0 {
		n += rng.IntN(200)
	}
	prog := make([]bpf.RawInstruction, n)
	for i := range prog {
		prog[i] = genInsn(rng, o, i, n)
	}
	if !o.bad || rng.IntN(10) != 0 {
		prog[n-1] = bpf.RawInstruction{Op: bpfRET | bpfK, K: genRet(rng)}
		if rng.IntN(2) == 0 {
			prog[n-1] = bpf.RawInstruction{Op: bpfRET | bpfA}
		}
	}
	return prog
}

func genRet(rng *rand.Rand) uint32 {
	return []uint32{0, 1, 8, 9, 12, 20, 30, 0xffff, 0xffffffff, rng.Uint32()}[rng.IntN(10)]
}

func genK(rng *rand.Rand) uint32 {
	switch rng.IntN(6) {
	case 0:
		return rng.Uint32()
	case 1:
		return []uint32{0, 1, 2, 4, 31, 32, 33, 0x7fffffff, 0x80000000, 0xffffffff}[rng.IntN(10)]
	}
	return uint32(rng.IntN(40))
}

func genInsn(rng *rand.Rand, o genOpts, i, n int) bpf.RawInstruction {
	if o.bad && rng.IntN(40) == 0 {
		return bpf.RawInstruction{Op: uint16(rng.IntN(0x120)), Jt: uint8(rng.IntN(4)), Jf: uint8(rng.IntN(4)), K: genK(rng)}
	}
	for {
		op := allowedOps[rng.IntN(len(allowedOps))]
		in := bpf.RawInstruction{Op: op, K: genK(rng)}
		left := n - 2 - i // the farthest a jump may go
		switch {
		case op&7 == bpfJMP:
			if left < 0 && !o.bad {
				continue
			}
			if left < 0 {
				left = 0
			}
			if op == bpfJMP|bpfJA {
				in.K = uint32(rng.IntN(left + 1))
				if o.bad && rng.IntN(30) == 0 {
					in.K += uint32(rng.IntN(3))
				}
			} else {
				in.Jt, in.Jf = uint8(rng.IntN(min(left, 255)+1)), uint8(rng.IntN(min(left, 255)+1))
				if o.bad && rng.IntN(30) == 0 {
					in.Jf += uint8(rng.IntN(3))
				}
			}
		case op == bpfLD|bpfMEM, op == bpfLDX|bpfMEM, op == bpfST, op == bpfSTX:
			in.K = uint32(rng.IntN(4))
			if o.bad && rng.IntN(20) == 0 {
				in.K = uint32(14 + rng.IntN(4))
			}
		case op&7 == bpfALU && (op&0xf0 == bpfLSH || op&0xf0 == bpfRSH):
			if op&bpfX != 0 && !o.shiftX {
				continue
			}
			if !o.bad {
				in.K %= 32
			}
		case op == bpfALU|bpfNEG && !o.neg:
			continue
		case op == bpfLDX|bpfW|bpfLEN && !o.ldxLen:
			continue
		case op&7 == bpfALU && (op&0xf0 == bpfDIV || op&0xf0 == bpfMOD) && op&bpfX == 0:
			if !o.bad && in.K == 0 {
				in.K = 1 + uint32(rng.IntN(7))
			}
		case op&0xe7 == bpfLD|bpfABS:
			in.K = uint32(rng.IntN(40))
			if o.ancillary && rng.IntN(6) == 0 {
				in.K = SKFAdOff + udpAncillary[rng.IntN(len(udpAncillary))]
			}
			if o.bad && rng.IntN(10) == 0 {
				in.K = SKFAdOff + uint32(rng.IntN(80))
			}
		case op&0xe7 == bpfLD|bpfIND:
			in.K = 0
			if o.indOffset {
				in.K = genK(rng)
			}
		case op == bpfLDX|bpfB|bpfMSH:
			in.K = uint32(rng.IntN(40))
		}
		return in
	}
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
