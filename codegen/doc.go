// Package codegen lowers a resolved pcap-filter expression into a classic
// BPF program for a given link type, and optimizes it.
//
// Lowering goes through two intermediate forms. A pred is a boolean tree
// of tests ("the 2-byte field at offset 12 equals 0x800"); link types
// (link.go: a table entry and one protocol-test function each) and
// primitives (gen_*.go) produce preds, following libpcap's semantics and
// its order of tests, which decides which load of a short packet fails
// first. A pred is then lowered, in continuation-passing style, into a
// control-flow graph of blocks (each a run of statements ending in a
// conditional jump or a return), acyclic by construction, and the graph
// is laid out as instructions with every jump forward and far jumps
// routed through shared `ja` trampolines.
//
// The optimizer (Options.NoOptimize turns it off, like tcpdump -O) works
// on both forms: on preds it regroups disjunctions by their common first
// test and turns equality tests of one value into set tests (balanced jgt
// trees for large sets, regroup.go); on blocks it threads jumps past
// tests whose outcome is known on the edge, removes tests whose branches
// meet, merges identical blocks, drops loads of values a register
// already holds, moving a test of such a value up its chain where that
// saves its load (optimize.go), and reorders equality chains to share
// their tails (tails.go). A regrouped program of up to 256 instructions
// is also made as written, and the shorter kept: regrouping can move a
// test away from where both its outcomes are the same (compile.go).
// Its first round follows libpcap's rules for
// deciding tests (a relation such as "ip[9] = 6" is never decided from
// a protocol test), so that it refuses "rejects all packets" where
// libpcap does and no more. Options.Compact adds passes that make
// the program shorter at some cost in instructions run: IPv6 shares
// IPv4's transport tests through X (compact.go). Every pass is a bounded
// walk, and programs keep within the kernel's rules.
package codegen
