package bpfc_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/internal/randexpr"
	"github.com/bpfc/bpfc/internal/testpcap"
)

// randomExpr builds a random boolean expression of depth up to d.
func randomExpr(r *rand.Rand, d int) string { return randexpr.Expr(r, randexpr.Primitives, d) }

// TestOptimizerDifferential checks that the optimizer never changes which
// packets a program keeps: random expressions, optimized and not, on the
// tier-1 captures. The packets are padded with zeros so that no load runs
// past their end: the optimizer may reorder loads of one value, as
// libpcap's does, which changes only which load of a truncated packet
// fails first (the golden tests check those against libpcap itself).
func TestOptimizerDifferential(t *testing.T) {
	captures := map[cbpf.LinkType]string{
		cbpf.LinkEN10MB: "en10mb", cbpf.LinkLinuxSLL: "linux_sll", cbpf.LinkNull: "null",
		cbpf.LinkRaw: "raw", cbpf.LinkIPv6: "ipv6", cbpf.LinkIEEE80211Radio: "ieee802_11_radio",
		117: "pflog_synth", 123: "sunatm", 178: "juniper_ether", 107: "frelay", // PFLOG, SUNATM, JUNIPER_ETHER, FRELAY
	}
	type pkt struct {
		data []byte
		wire int
	}
	pkts := map[cbpf.LinkType][]pkt{}
	for lt, name := range captures {
		f, err := testpcap.Read(filepath.Join("testdata", "pcaps", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range f.Records {
			if lt == cbpf.LinkEN10MB && i%4 != 0 {
				continue // a quarter of the large capture is plenty
			}
			padded := make([]byte, len(rec.Data)+70000)
			copy(padded, rec.Data)
			pkts[lt] = append(pkts[lt], pkt{padded, int(rec.Orig)})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 1500
	if testing.Short() {
		n = 100
	}
	compared := 0
	for i := 0; i < n; i++ {
		expr := randomExpr(r, 5)
		for lt := range captures {
			opt, err1 := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian))
			raw, err2 := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian), bpfc.WithOptimize(false))
			if errors.Is(err2, codegen.ErrTooLong) {
				continue // the optimizer may make it fit: nothing to compare
			}
			if err2 != nil {
				if err1 == nil {
					t.Errorf("%v %q: only the unoptimized compile fails: %v", lt, expr, err2)
				}
				continue
			}
			if err1 != nil {
				if strings.Contains(err1.Error(), "rejects all packets") {
					// Then the unoptimized program must keep nothing.
					vm := mustVM(t, raw)
					for _, p := range pkts[lt] {
						if vm.Run(p.data, p.wire) != 0 {
							t.Errorf("%v %q: refused as rejecting all packets, but unoptimized it keeps one", lt, expr)
							break
						}
					}
					continue
				}
				t.Errorf("%v %q: only the optimized compile fails: %v", lt, expr, err1)
				continue
			}
			small, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian), bpfc.WithCompact(true))
			if err != nil {
				t.Errorf("%v %q: only the compact compile fails: %v", lt, expr, err)
				continue
			}
			if small.Len() > opt.Len() {
				t.Errorf("%v %q: compact is longer (%d) than optimized (%d)", lt, expr, small.Len(), opt.Len())
			}
			vo, vs, vr := mustVM(t, opt), mustVM(t, small), mustVM(t, raw)
			for j, p := range pkts[lt] {
				a, c, b := vo.Run(p.data, p.wire), vs.Run(p.data, p.wire), vr.Run(p.data, p.wire)
				if (a != 0) != (b != 0) || (c != 0) != (b != 0) {
					t.Errorf("%v %q: packet %d: optimized %d, compact %d, unoptimized %d\n%s\n%s", lt, expr, j, a, c, b, opt, small)
					break
				}
			}
			compared++
		}
	}
	t.Logf("%d (expression, link type) pairs compared", compared)
}

func mustVM(t *testing.T, p *cbpf.Program) *cbpf.VM {
	t.Helper()
	vm, err := cbpf.NewVM(p)
	if err != nil {
		t.Fatalf("invalid program: %v\n%s", err, p)
	}
	return vm
}

// FuzzOptimizer is TestOptimizerDifferential as a fuzz target: the seed
// draws an expression from the grammar-based generator and a link type,
// and the packet is the fuzzer's (padded with zeros, for the reason
// TestOptimizerDifferential gives). Optimized and unoptimized programs
// must keep the same packets, and an expression refused as rejecting
// every packet must keep none unoptimized.
func FuzzOptimizer(f *testing.F) {
	lts := []cbpf.LinkType{cbpf.LinkEN10MB, cbpf.LinkLinuxSLL, cbpf.LinkNull, cbpf.LinkRaw, cbpf.LinkIPv6}
	syn := append(append(frame(0x0800, nil), ipv4Packet(6, 1, tcp(40000, 80))...), 0)
	f.Add(uint64(1), syn)
	f.Add(uint64(7), []byte{0x45, 0, 0, 40, 0, 0, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	f.Add(uint64(42), []byte{})
	buf := make([]byte, 0, 4096+70000)
	f.Fuzz(func(t *testing.T, seed uint64, pkt []byte) {
		if len(pkt) > 4096 {
			return
		}
		r := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15|1))
		expr := randomExpr(r, 4)
		lt := lts[seed%uint64(len(lts))]
		opts := []bpfc.Option{bpfc.WithLinkType(lt), bpfc.ForSavefile(binary.LittleEndian)}
		opt, err1 := bpfc.Compile(expr, opts...)
		raw, err2 := bpfc.Compile(expr, append(opts, bpfc.WithOptimize(false))...)
		if err2 != nil {
			if err1 == nil && !errors.Is(err2, codegen.ErrTooLong) {
				t.Fatalf("%v %q: only the unoptimized compile fails: %v", lt, expr, err2)
			}
			return
		}
		data := append(append(buf[:0], pkt...), make([]byte, 70000)...)
		b := mustVM(t, raw).Run(data, len(pkt))
		if err1 != nil {
			if !errors.Is(err1, codegen.ErrRejectsAll) {
				t.Fatalf("%v %q: only the optimized compile fails: %v", lt, expr, err1)
			}
			if b != 0 {
				t.Fatalf("%v %q: refused as rejecting all packets, but unoptimized it keeps %x", lt, expr, pkt)
			}
			return
		}
		if a := mustVM(t, opt).Run(data, len(pkt)); a != b {
			t.Fatalf("%v %q: packet %x: optimized %d, unoptimized %d\n%s", lt, expr, pkt, a, b, opt)
		}
		small, err := bpfc.Compile(expr, append(opts, bpfc.WithCompact(true))...)
		if err != nil {
			t.Fatalf("%v %q: only the compact compile fails: %v", lt, expr, err)
		}
		if c := mustVM(t, small).Run(data, len(pkt)); c != b {
			t.Fatalf("%v %q: packet %x: compact %d, unoptimized %d\n%s", lt, expr, pkt, c, b, small)
		}
	})
}

// TestSetTests checks the set tests the optimizer makes of long
// disjunctions (chains, ranges of consecutive values, jgt trees with
// leaves, threading through them) against the sets' meaning: for sets of
// port numbers of every shape, each port from 0 to 2,999 as source and
// as destination of a TCP packet over IPv4 and over IPv6 must be kept
// exactly when it is in the set.
func TestSetTests(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var sets [][]uint16
	for _, n := range []int{2, 3, 5, 17, 31, 32, 33, 100, 400} {
		// Sparse, dense (runs), and runs mixed with single values.
		for _, span := range []int{n * 40, n + n/3, n * 3} {
			seen := map[uint16]bool{}
			var s []uint16
			for len(s) < n {
				v := uint16(r.IntN(span) + 1)
				if !seen[v] {
					seen[v] = true
					s = append(s, v)
				}
			}
			sets = append(sets, s)
		}
	}
	for _, set := range sets {
		in := map[uint16]bool{}
		terms := make([]string, len(set))
		for i, v := range set {
			in[v] = true
			terms[i] = fmt.Sprintf("tcp dst port %d or tcp src port %d", v, v)
		}
		expr := strings.Join(terms, " or ")
		p, err := bpfc.Compile(expr)
		if err != nil {
			t.Fatalf("%d ports: %v", len(set), err)
		}
		vm := mustVM(t, p)
		for port := uint16(0); port < 3000; port++ {
			for _, pkt := range [][]byte{
				frame(0x0800, ipv4Packet(6, 0, tcp(port, 65000))),
				frame(0x0800, ipv4Packet(6, 0, tcp(65000, port))),
				frame(0x86dd, append(ipv6Header(6), tcp(port, 65000)...)),
				frame(0x86dd, append(ipv6Header(6), tcp(65000, port)...)),
			} {
				if got := vm.Run(pkt, len(pkt)) != 0; got != in[port] {
					t.Fatalf("%d ports (%d instructions): port %d kept %v, want %v", len(set), p.Len(), port, got, in[port])
				}
			}
		}
	}
}

// ipv6Header builds a 40-byte IPv6 header with next header nh.
func ipv6Header(nh byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	b[6] = nh
	b[7] = 64
	return b
}

// TestSetRepeats: a value named again in a long disjunction changes
// nothing, small sets (kept in the order of first appearance) and large
// ones (trees) alike.
func TestSetRepeats(t *testing.T) {
	for _, n := range []int{5, 20, 40, 300} {
		var once, twice []string
		for i := range n {
			once = append(once, fmt.Sprintf("port %d", 7*(i+1)))
		}
		twice = append(twice, once...)
		for i := n - 1; i >= 0; i -= 3 {
			twice = append(twice[:i+1], append([]string{once[i/2]}, twice[i+1:]...)...)
		}
		twice = append(twice, once[0], once[n-1])
		a, err := bpfc.Compile(strings.Join(once, " or "))
		if err != nil {
			t.Fatal(err)
		}
		b, err := bpfc.Compile(strings.Join(twice, " or "))
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%d ports: repeating some changes the program:\n%s\nvs\n%s", n, a, b)
		}
		// Every value named four times: more terms than a small set's
		// limit, as few values as once.
		var four []string
		for range 4 {
			four = append(four, once...)
		}
		c, err := bpfc.Compile(strings.Join(four, " or "))
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != c.String() {
			t.Errorf("%d ports: naming each four times changes the program:\n%s\nvs\n%s", n, a, c)
		}
	}
}
