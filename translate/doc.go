// Package translate turns classic BPF programs (cbpf.Program) into eBPF
// instructions for github.com/cilium/ebpf/asm, in two forms.
//
// The skb form (Skb) is a whole program for the socket filter
// (BPF_PROG_TYPE_SOCKET_FILTER) and TC classifier (BPF_PROG_TYPE_SCHED_CLS)
// program types. It loads packet bytes as the kernel's own classic-to-eBPF
// conversion does, with LD_ABS and LD_IND, so a load past the packet ends
// the program with 0, negative offsets (SKF_NET_OFF, SKF_LL_OFF) work, and
// the classic program's return values are kept (or mapped to TC actions).
// Linux ancillary loads read the matching __sk_buff fields or helpers.
//
// The direct form (Direct) reads the packet through the data and data_end
// pointers, for XDP and TC direct packet access. Bounds checks are merged:
// one check of the furthest byte per straight-line run of absolute loads
// (and per run of indirect loads with the same X). It ends with results
// chosen by the caller (XDP_PASS/XDP_DROP, TC_ACT_OK/TC_ACT_SHOT), and it
// can be a piece of a larger program: with Embed the caller chooses the
// registers, the stack area and the labels, and the filter jumps to the
// caller's match and no-match labels instead of returning.
//
// In both forms A and X live in registers and the 16 scratch cells on the
// stack; a division or modulus by an X of zero ends the program as a
// rejection, as in the kernel and libpcap. Classic programs may not jump
// backwards, but libpcap's `protochain` does: with Options.MaxLoop set,
// backward jumps are accepted and become a bounded loop (each backward jump
// counts down from MaxLoop; at zero the packet is rejected) that the
// verifier accepts.
package translate
