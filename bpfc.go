package bpfc

import (
	"context"
	"encoding/binary"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/parser"
)

// config is what the options set.
type config struct {
	linkType   cbpf.LinkType
	snaplen    uint32
	netmask    uint32
	noOptimize bool
	savefile   bool
	chainDepth int
	maxLength  int
	compact    bool
	// nullBigEndian: the file's DLT_NULL families are big-endian.
	nullBigEndian bool
	resolver      parser.Resolver
}

// An Option changes how Compile works.
type Option func(*config)

// WithLinkType sets the link type of the packets the program will see
// (default cbpf.LinkEN10MB, Ethernet): the header they start with. The
// package documentation says which link type each kind of socket needs.
func WithLinkType(lt cbpf.LinkType) Option { return func(c *config) { c.linkType = lt } }

// WithSnaplen sets the snapshot length the program returns to accept a
// packet (default, and for 0, cbpf.DefaultSnaplen, 262144). The kernel
// keeps that many bytes of an accepted packet.
func WithSnaplen(n uint32) Option { return func(c *config) { c.snaplen = n } }

// WithNetmask sets the IPv4 netmask "ip broadcast" uses (default 0:
// unknown, as libpcap has it when reading a file).
func WithNetmask(m uint32) Option { return func(c *config) { c.netmask = m } }

// WithOptimize turns the optimizer on (the default) or off, like
// tcpdump's -O.
func WithOptimize(on bool) Option { return func(c *config) { c.noOptimize = !on } }

// ForSavefile says the program will filter packets read from a capture
// file (like tcpdump -r) rather than a live capture, and gives the file's
// byte order. Linux ancillary data (inbound, outbound and ifindex on most
// link types) does not exist then, and libpcap refuses those primitives,
// as bpfc does; DLT_NULL headers hold the address family in the byte
// order of the machine that wrote the file.
func ForSavefile(order binary.ByteOrder) Option {
	return func(c *config) {
		c.savefile = true
		c.nullBigEndian = order == binary.BigEndian
	}
}

// WithProtochainDepth sets how many headers deep "protochain" looks
// (default codegen.DefaultProtochainDepth, 140; 0 keeps the default).
// libpcap walks the chain with a loop the kernel refuses; bpfc unrolls
// it, so each level costs instructions.
func WithProtochainDepth(n int) Option { return func(c *config) { c.chainDepth = n } }

// WithMaxLength sets the most instructions the program may have
// (default, and for 0, cbpf.MaxInstructions: the 4,096 the kernel
// accepts in a classic filter). A longer program, such as a list of a
// few thousand hosts, cannot be attached as it is but can be translated
// to eBPF (package translate), whose programs may be much longer.
func WithMaxLength(n int) Option { return func(c *config) { c.maxLength = n } }

// WithCompact makes programs shorter where that costs some packets more
// instructions to run (see codegen.Options.Compact): IPv4 and IPv6 share
// one copy of their port tests, and IPv6 packets run one instruction
// more to reach it.
func WithCompact(on bool) Option { return func(c *config) { c.compact = on } }

// WithResolver sets how host and network names are resolved (default:
// parser.SystemResolver). A resolver that also implements
// parser.NetworkResolver resolves "net NAME", and one that implements
// parser.EtherResolver resolves "ether host NAME"; without them those
// names are unknown. Compile calls r in the goroutine that calls
// Compile, so r must be safe for concurrent use when Compile is called
// from several goroutines.
func WithResolver(r parser.Resolver) Option { return func(c *config) { c.resolver = r } }

// Compile compiles a tcpdump filter expression into a classic BPF
// program for the link type and snaplen of opts. An empty expression
// (or only white space) accepts every packet, as in tcpdump. Compile is
// safe for concurrent use.
//
// It returns either a program that passes the kernel's checks
// (cbpf.Program.Validate; with WithMaxLength above the kernel's limit,
// all of them but the length) or a nil program and an error, never both.
// Errors from a malformed or refused expression are *parser.Error values
// (in a parser.ErrorList) with the position of the mistake;
// parser.FormatError renders them with a caret line. The package
// documentation lists the sentinel errors to test with errors.Is.
func Compile(expr string, opts ...Option) (*cbpf.Program, error) {
	return CompileContext(context.Background(), expr, opts...)
}

// CompileContext is Compile with a context for the name lookups of
// "host NAME" and friends: the resolver is given ctx, so a deadline or
// a cancellation ends a slow lookup with an error.
func CompileContext(ctx context.Context, expr string, opts ...Option) (*cbpf.Program, error) {
	cfg := config{linkType: cbpf.LinkEN10MB, snaplen: cbpf.DefaultSnaplen}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := parser.Parse(expr)
	if err != nil {
		return nil, err
	}
	if e != nil {
		e, err = parser.Resolve(ctx, e, cfg.resolver)
		if err != nil {
			return nil, err
		}
	}
	return codegen.Compile(e, codegen.Options{
		LinkType:        cfg.linkType,
		Snaplen:         cfg.snaplen,
		Netmask:         cfg.netmask,
		NoOptimize:      cfg.noOptimize,
		Savefile:        cfg.savefile,
		ProtochainDepth: cfg.chainDepth,
		NullBigEndian:   cfg.nullBigEndian,
		MaxLength:       cfg.maxLength,
		Compact:         cfg.compact,
	})
}
