// Package codegen lowers a resolved pcap-filter expression into a classic
// BPF program for a given link type.
//
// Lowering goes through two intermediate forms. A pred is a boolean tree
// of tests ("the 2-byte field at offset 12 equals 0x800"); link types and
// primitives produce preds. A pred is then lowered, in
// continuation-passing style, into a control-flow graph of blocks (each a
// run of statements ending in a conditional jump or a return), which is
// acyclic by construction, and the graph is laid out as instructions with
// every jump forward and far jumps routed through `ja`.
package codegen
