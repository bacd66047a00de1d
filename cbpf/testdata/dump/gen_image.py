#!/usr/bin/env python3
"""Regenerate image.golden: libpcap's own bpf_image() text for every 8-bit
opcode (and a sample of wider ones) with a few operands, called through
ctypes on the installed libpcap (the one tcpdump uses).

    python3 cbpf/testdata/dump/gen_image.py > cbpf/testdata/dump/image.golden

Each line is "code jt jf k pc<TAB>image".
"""
import ctypes
import ctypes.util

lib = ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")


class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


lib.bpf_image.restype = ctypes.c_char_p
lib.bpf_image.argtypes = [ctypes.POINTER(Insn), ctypes.c_int]

operands = [
    (0, 0, 0, 0),
    (3, 7, 12, 5),
    (255, 0, 0x800, 999),
    (0, 255, 0xFFFFFFFF, 1000),
    (1, 2, 0x80000000, 4095),
    (9, 9, 0xFFFFF000, 17),
]
# Every ancillary offset, and a few around them.
anc = [0xFFFFF000 + i for i in range(0, 72, 2)] + [0xFFFFEFFF]

codes = list(range(256)) + [0x100, 0x105, 0x115, 0x116, 0x128, 0x1FF, 0x8015, 0xFFFF]
for code in codes:
    for jt, jf, k, pc in operands:
        i = Insn(code, jt, jf, k)
        print(f"{code} {jt} {jf} {k} {pc}\t{lib.bpf_image(ctypes.byref(i), pc).decode()}")
for code in (0x20, 0x28, 0x30):
    for k in anc:
        i = Insn(code, 0, 0, k)
        print(f"{code} 0 0 {k} 2\t{lib.bpf_image(ctypes.byref(i), 2).decode()}")
