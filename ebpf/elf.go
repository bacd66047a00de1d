package ebpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cilium/ebpf/asm"
)

// Section returns the ELF section name libbpf, tc and ip use for a
// program of type t: "socket", "tc" or "xdp".
func (t Type) Section() string { return t.String() }

// WriteELF writes insns as a relocatable ELF object holding one program
// of type t named name (a GPL licence section included), in the host's
// byte order: what `bpftool prog load`, `tc filter add … bpf obj FILE
// sec tc` and `ip link set … xdp obj FILE sec xdp` load. Neither
// cilium/ebpf nor debug/elf writes ELF, hence this small writer; the
// object has no maps, relocations or BTF, which none of them needs.
func WriteELF(w io.Writer, t Type, name string, insns asm.Instructions) error {
	if t.Section() == "" || t < SocketFilter || t > XDP {
		return fmt.Errorf("ebpf: write elf: unknown program type %d", int(t))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		bo = binary.BigEndian
	}
	var code bytes.Buffer
	cp := append(asm.Instructions(nil), insns...)
	if err := cp.Marshal(&code, bo); err != nil {
		return fmt.Errorf("ebpf: write elf: %w", err)
	}
	license := []byte("GPL\x00")

	// String tables.
	shstr := []byte{0}
	addStr := func(tab *[]byte, s string) uint32 {
		off := uint32(len(*tab))
		*tab = append(append(*tab, s...), 0)
		return off
	}
	strtab := []byte{0}
	nProg, nLic := addStr(&shstr, t.Section()), addStr(&shstr, "license")
	nSym, nStr, nShstr := addStr(&shstr, ".symtab"), addStr(&shstr, ".strtab"), addStr(&shstr, ".shstrtab")
	sFunc, sLic := addStr(&strtab, name), addStr(&strtab, "_license")

	// Symbols: null, the program (FUNC, GLOBAL), the licence (OBJECT,
	// GLOBAL).
	var sym bytes.Buffer
	putSym := func(nameOff uint32, info byte, shndx uint16, size uint64) {
		binary.Write(&sym, bo, struct {
			Name  uint32
			Info  byte
			Other byte
			Shndx uint16
			Value uint64
			Size  uint64
		}{nameOff, info, 0, shndx, 0, size})
	}
	const stbGlobal, sttObject, sttFunc = 1, 1, 2
	putSym(0, 0, 0, 0)
	putSym(sFunc, stbGlobal<<4|sttFunc, 1, uint64(code.Len()))
	putSym(sLic, stbGlobal<<4|sttObject, 2, uint64(len(license)))

	// Layout: header, then section contents, then the section headers.
	const ehSize, shSize = 64, 64
	type sect struct {
		name           uint32
		typ            uint32
		flags          uint64
		data           []byte
		link, info     uint32
		align, entsize uint64
	}
	const (
		shtProgbits, shtSymtab, shtStrtab = 1, 2, 3
		shfWrite, shfAlloc, shfExec       = 1, 2, 4
	)
	sects := []sect{
		{},
		{name: nProg, typ: shtProgbits, flags: shfAlloc | shfExec, data: code.Bytes(), align: 8},
		{name: nLic, typ: shtProgbits, flags: shfAlloc | shfWrite, data: license, align: 1},
		{name: nSym, typ: shtSymtab, data: sym.Bytes(), link: 4, info: 1, align: 8, entsize: 24},
		{name: nStr, typ: shtStrtab, data: strtab, align: 1},
		{name: nShstr, typ: shtStrtab, data: shstr, align: 1},
	}
	var body bytes.Buffer
	offs := make([]uint64, len(sects))
	for i, s := range sects[1:] {
		for (ehSize+body.Len())%8 != 0 {
			body.WriteByte(0)
		}
		offs[i+1] = uint64(ehSize + body.Len())
		body.Write(s.data)
	}
	for (ehSize+body.Len())%8 != 0 {
		body.WriteByte(0)
	}
	shoff := uint64(ehSize + body.Len())

	var out bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */}
	if bo == binary.BigEndian {
		ident[5] = 2 // big endian
	}
	out.Write(ident[:])
	binary.Write(&out, bo, struct {
		Type, Machine                                        uint16
		Version                                              uint32
		Entry, Phoff, Shoff                                  uint64
		Flags                                                uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{1 /* ET_REL */, 247 /* EM_BPF */, 1, 0, 0, shoff, 0, ehSize, 0, 0, shSize, uint16(len(sects)), 5})
	out.Write(body.Bytes())
	for i, s := range sects {
		binary.Write(&out, bo, struct {
			Name, Type             uint32
			Flags, Addr, Off, Size uint64
			Link, Info             uint32
			Addralign, Entsize     uint64
		}{s.name, s.typ, s.flags, 0, offs[i], uint64(len(s.data)), s.link, s.info, s.align, s.entsize})
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("ebpf: write elf: %w", err)
	}
	return nil
}
