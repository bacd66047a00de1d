package codegen

import (
	"encoding/binary"

	"golang.org/x/net/bpf"
)

// refRun is a plain interpreter with libpcap's bpf_filter semantics that,
// unlike the kernel, follows backward jumps (libpcap's protochain code
// has one). It is the test's model of what tcpdump -r does with a program.
func refRun(prog []bpf.RawInstruction, pkt []byte, wirelen uint32) uint32 {
	var a, x uint32
	var mem [16]uint32
	load := func(off uint32, size uint32) (uint32, bool) {
		if uint64(off)+uint64(size) > uint64(len(pkt)) {
			return 0, false
		}
		switch size {
		case 1:
			return uint32(pkt[off]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(pkt[off:])), true
		}
		return binary.BigEndian.Uint32(pkt[off:]), true
	}
	sizes := map[uint16]uint32{0x00: 4, 0x08: 2, 0x10: 1}
	for pc, steps := 0, 0; pc < len(prog) && steps < 1<<20; pc, steps = pc+1, steps+1 {
		in := prog[pc]
		k := in.K
		switch in.Op & 0x07 {
		case clsLD, clsLDX:
			var v uint32
			ok := true
			switch in.Op & 0xe0 {
			case modeIMM:
				v = k
			case modeLEN:
				v = wirelen
			case modeMEM:
				v = mem[k&15]
			case modeABS:
				v, ok = load(k, sizes[in.Op&0x18])
			case modeIND:
				v, ok = load(x+k, sizes[in.Op&0x18])
			case modeMSH:
				var b uint32
				b, ok = load(k, 1)
				v = (b & 0xf) * 4
			}
			if !ok {
				return 0
			}
			if in.Op&0x07 == clsLD {
				a = v
			} else {
				x = v
			}
		case clsST:
			mem[k&15] = a
		case clsSTX:
			mem[k&15] = x
		case clsALU:
			v := k
			if in.Op&0x08 != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case aluADD:
				a += v
			case aluSUB:
				a -= v
			case aluMUL:
				a *= v
			case aluDIV:
				if v == 0 {
					return 0
				}
				a /= v
			case aluMOD:
				if v == 0 {
					return 0
				}
				a %= v
			case aluAND:
				a &= v
			case aluOR:
				a |= v
			case aluXOR:
				a ^= v
			case aluLSH:
				a <<= v & 31
				if v >= 32 {
					a = 0
				}
			case aluRSH:
				a >>= v & 31
				if v >= 32 {
					a = 0
				}
			case aluNEG:
				a = -a
			}
		case clsJMP:
			v := k
			if in.Op&0x08 != 0 {
				v = x
			}
			var cond bool
			switch in.Op & 0xf0 {
			case jmpJA:
				pc += int(int32(k))
				continue
			case jmpJEQ:
				cond = a == v
			case jmpJGT:
				cond = a > v
			case jmpJGE:
				cond = a >= v
			case jmpJSET:
				cond = a&v != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case clsRET:
			if in.Op&0x18 == retA {
				return a
			}
			return k
		case clsMISC:
			if in.Op&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0
}
