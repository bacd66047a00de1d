package bpfc_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// fuzzTargets are the link types and options FuzzCompile compiles every
// input for: the tier-1 link types, live and savefile, optimized and not.
var fuzzTargets = []struct {
	name string
	opts []bpfc.Option
}{
	{"EN10MB", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkEN10MB)}},
	{"EN10MB -O", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkEN10MB), bpfc.WithOptimize(false)}},
	{"LINUX_SLL", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkLinuxSLL)}},
	{"LINUX_SLL2 -r", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkLinuxSLL2), bpfc.ForSavefile(binary.LittleEndian)}},
	{"RAW", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkRaw), bpfc.WithNetmask(0xffffff00)}},
	{"IPV6 -s 96", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkIPv6), bpfc.WithSnaplen(96)}},
	{"NULL -r", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkNull), bpfc.ForSavefile(binary.BigEndian)}},
	{"LINUX_SLL --compact", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkLinuxSLL), bpfc.WithCompact(true)}},
	{"IEEE802_11", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkIEEE80211)}},
	{"IEEE802_11_RADIO -O", []bpfc.Option{bpfc.WithLinkType(cbpf.LinkIEEE80211Radio), bpfc.WithOptimize(false)}},
}

// fuzzResolver resolves every name, deterministically and without the
// network: a hash of the name picks "not found", an IPv4 address, or an
// IPv4 and an IPv6 address. It knows network and link-layer names too.
type fuzzResolver struct{}

func (fuzzResolver) hash(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}

// LookupHost implements parser.Resolver.
func (r fuzzResolver) LookupHost(_ context.Context, name string) ([]netip.Addr, error) {
	h := r.hash(name)
	v4 := netip.AddrFrom4([4]byte{198, 51, byte(h >> 8), byte(h)})
	switch h % 3 {
	case 0:
		return nil, parser.ErrNotFound
	case 1:
		return []netip.Addr{v4}, nil
	}
	v6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(h >> 8), 15: byte(h)})
	return []netip.Addr{v4, v6}, nil
}

// LookupNetwork implements parser.NetworkResolver.
func (r fuzzResolver) LookupNetwork(_ context.Context, name string) (uint32, error) {
	if h := r.hash(name); h%2 == 1 {
		return h >> 8, nil
	}
	return 0, parser.ErrNotFound
}

// LookupEther implements parser.EtherResolver.
func (r fuzzResolver) LookupEther(_ context.Context, name string) (parser.MAC, error) {
	h := r.hash(name)
	if h%2 == 1 {
		return parser.MAC{0x02, 0, byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}, nil
	}
	return parser.MAC{}, parser.ErrNotFound
}

// fuzzPackets are the packets every program FuzzCompile makes runs on,
// besides the input itself: empty, short, an Ethernet TCP frame, and
// frames full of ones and of zeros.
var fuzzPackets = [][]byte{
	nil,
	{0x45},
	tcpPacket(80),
	[]byte(strings.Repeat("\xff", 1514)),
	make([]byte, 128),
}

// FuzzCompile compiles any string for several link types. Compile must
// not panic, must not return a program together with an error, and every
// program it returns must be for the link type and snaplen it was asked
// for, pass the kernel's rules (Validate), and run on packets, returning
// 0 or the snaplen, as libpcap's programs do.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, tgt := range fuzzTargets {
			opts := append([]bpfc.Option{bpfc.WithResolver(fuzzResolver{})}, tgt.opts...)
			p, err := bpfc.Compile(expr, opts...)
			if err != nil {
				if p != nil {
					t.Fatalf("%s: %q: a program together with an error: %v", tgt.name, expr, err)
				}
				if parser.FormatError(expr, err) == "" {
					t.Fatalf("%s: %q: an error with an empty message", tgt.name, expr)
				}
				continue
			}
			if p == nil {
				t.Fatalf("%s: %q: no program and no error", tgt.name, expr)
			}
			checkProgram(t, tgt.name, expr, p, opts)
		}
	})
}

// checkProgram checks what FuzzCompile asks of a program Compile made
// with opts.
func checkProgram(t *testing.T, target, expr string, p *cbpf.Program, opts []bpfc.Option) {
	t.Helper()
	want, err := bpfc.Compile("", opts...) // carries the link type and snaplen
	if err != nil {
		t.Fatalf("%s: the empty expression: %v", target, err)
	}
	if p.LinkType != want.LinkType || p.Snaplen != want.Snaplen {
		t.Fatalf("%s: %q: program for %v snaplen %d, want %v snaplen %d", target, expr, p.LinkType, p.Snaplen, want.LinkType, want.Snaplen)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%s: %q: invalid program: %v\n%s", target, expr, err, p)
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		t.Fatalf("%s: %q: %v", target, expr, err)
	}
	meta := &cbpf.Metadata{Protocol: 0x0800, PktType: 4, IfIndex: 1, HAType: 1, NetworkOffset: 14}
	for _, pkt := range append(fuzzPackets, []byte(expr)) {
		for _, m := range []*cbpf.Metadata{nil, meta} {
			if v := vm.RunMeta(pkt, len(pkt), m); v != 0 && v != p.Snaplen {
				t.Fatalf("%s: %q: verdict %d on a %d-byte packet, want 0 or the snaplen %d\n%s", target, expr, v, len(pkt), p.Snaplen, p)
			}
		}
	}
}

// fuzzSeeds returns the expressions of testdata/exprs.txt and every
// seventh expression of the golden files.
func fuzzSeeds(tb testing.TB) []string {
	tb.Helper()
	seeds := readLines(tb, filepath.Join("testdata", "exprs.txt"), func(l string) (string, bool) {
		l = strings.TrimSpace(l)
		return l, l != "" && !strings.HasPrefix(l, "#")
	})
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, gf := range files {
		seeds = append(seeds, readLines(tb, gf, func(l string) (string, bool) {
			expr, _, ok := strings.Cut(l, "\t")
			if !ok || strings.HasPrefix(l, "#") {
				return "", false
			}
			n++
			return expr, n%7 == 0
		})...)
	}
	return seeds
}

// readLines returns keep's result for each line of path it accepts.
func readLines(tb testing.TB, path string, keep func(string) (string, bool)) []string {
	tb.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		tb.Logf("no seeds from %s: %v", path, err)
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if s, ok := keep(sc.Text()); ok {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}
