// Package parser reads tcpdump filter expressions (the pcap-filter(7)
// language of libpcap 1.10) into a typed tree, and resolves that tree into
// the form code generation lowers to BPF.
//
// # Two steps
//
// Parse turns text into a syntax tree that keeps positions and what the
// user wrote: *Binary, *Not, *Paren, *Primitive (qualifiers and an *ID),
// *Bare (an id without qualifiers, as the 443 of "port 80 or 443"),
// *Abbrev ("tcp"), *Special and *Relation. Its String methods print
// canonical text that parses back to the same tree.
//
// Resolve applies libpcap's qualifier inheritance (an id takes the
// qualifiers of the primitive before it: "host a or b", "not host a and
// b", "src net 10.0.0.0/8 or 11.0.0.0/8"), looks up names (services,
// protocols and Ethernet types from tables shipped with the package;
// host, network and link-layer names through a Resolver), checks every
// value libpcap checks whatever the link type, and returns a tree of a
// closed set of node types a type switch can cover:
//
//	*Binary    X and/or Y (equal precedence, left associative)
//	*Not       not X
//	*Host      [Proto] [Dir] [Type] Addr: IPv4 (addr+mask), IPv6
//	           (addr+prefix), MAC, ARCnet or DECnet; a host name with
//	           several addresses becomes an or of *Host
//	*Port      [Proto] [Dir] port/portrange Lo-Hi over a Transport set
//	*Protocol  [Proto] [Dir] proto/protochain Num
//	*Abbrev    a protocol alone: tcp, ip6, arp ...
//	*Special   less, greater, byte, inbound, outbound, ifindex, vlan,
//	           mpls, pppoed, pppoes, geneve, broadcast, multicast,
//	           802.11 type/subtype/dir, llc, pflog, ATM and SS7 primitives
//	           (Kind says which)
//	*Relation  Arith op Arith, where Arith is *Num, *Len, *Load
//	           (proto[off:size]), *BinArith or *Neg
//
// Checks that depend on the link type ("not supported on this link
// type") belong to code generation, as does proving an expression rejects
// every packet.
//
// # Grammar
//
// The lexer is hand-written behind participle's lexer.Definition and
// follows flex's longest-match rules of libpcap's scanner.l, producing
// participle's lexer.Token. The grammar is one participle Parseable
// hook. Parse itself lexes the whole input into a slice sized up front
// and runs the hook's parser on it directly: participle's token
// buffering and reflection cost more than the rest of a parse, and
// TestParticiplePath and FuzzParse check that the two paths give the
// same trees and errors. The hook is recursive descent for the
// boolean layer (libpcap's LALR choices, such as whether "(" opens an
// expression, a list of ids or arithmetic, made with one or two tokens of
// lookahead and no backtracking) and precedence climbing for arithmetic,
// with libpcap's operator precedence (C's, except that '%' and '^', which
// have none in grammar.y, bind as bison's shift makes them).
//
// Errors are *Error values (position and message) in an ErrorList;
// FormatError renders them with the offending line and a caret. Input
// is limited to MaxLen bytes and MaxDepth levels of nesting.
package parser
