package cbpf

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"
)

func raw(p *Program) []bpf.RawInstruction {
	r, _ := p.Raw()
	return r
}

func TestParseAsm(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []bpf.RawInstruction
	}{
		{
			// The ARP example of the kernel's filter documentation.
			name: "kernel doc arp",
			src: `  ldh [12]
  jne #0x806, drop
  ldb [21]
  jneq #1, drop
  # get a random uint32 number
  ret #-1
  drop: ret #0
`,
			want: []bpf.RawInstruction{
				{Op: 0x28, K: 12}, {Op: 0x15, Jf: 3, K: 0x806}, {Op: 0x30, K: 21},
				{Op: 0x15, Jf: 1, K: 1}, {Op: 0x06, K: 0xffffffff}, {Op: 0x06, K: 0},
			},
		},
		{
			name: "every form",
			src: `; a comment
/* a block
   comment */
start:	LD #LEN
	ldi 5
	ldxi #6
	ld #0x10
	ldx #0b101
	ldx #017
	ld M[3]
	ldx m[4]
	st M[5]
	stx M[6]
	ld [x + 2]
	ldh [%x + 3]
	ldb [x+4]
	ld [4]
	ldxb 4*([14]&0xf)
	ldx 4*([15]&0xf)
	ld #proto
	ldh type
	ldb #vlan_avail
	ld rand
	ldx len
	add #1
	sub x
	mul %x
	div #3
	mod #4
	and #0xff
	or x
	xor #1
	lsh #2
	rsh x
	neg
	tax
	txa
	jeq #1, yes, no
	jgt x, yes
	jge %x, yes, no
	jset #0x1fff, yes, no
	jlt #10, no
	jle x, no
	jmp no
yes:	ret a
no:	ret #+262144
	ret x
	ret %a`,
			want: []bpf.RawInstruction{
				{Op: 0x80}, {Op: 0x00, K: 5}, {Op: 0x01, K: 6}, {Op: 0x00, K: 16}, {Op: 0x01, K: 5}, {Op: 0x01, K: 15},
				{Op: 0x60, K: 3}, {Op: 0x61, K: 4}, {Op: 0x02, K: 5}, {Op: 0x03, K: 6},
				{Op: 0x40, K: 2}, {Op: 0x48, K: 3}, {Op: 0x50, K: 4}, {Op: 0x20, K: 4},
				{Op: 0xb1, K: 14}, {Op: 0xb1, K: 15},
				{Op: 0x20, K: 0xfffff000}, {Op: 0x28, K: 0xfffff004}, {Op: 0x30, K: 0xfffff030}, {Op: 0x20, K: 0xfffff038},
				{Op: 0x81},
				{Op: 0x04, K: 1}, {Op: 0x1c}, {Op: 0x2c}, {Op: 0x34, K: 3}, {Op: 0x94, K: 4}, {Op: 0x54, K: 0xff},
				{Op: 0x4c}, {Op: 0xa4, K: 1}, {Op: 0x64, K: 2}, {Op: 0x7c}, {Op: 0x84}, {Op: 0x07}, {Op: 0x87},
				{Op: 0x15, Jt: 6, Jf: 7, K: 1}, {Op: 0x2d, Jt: 5}, {Op: 0x3d, Jt: 4, Jf: 5}, {Op: 0x45, Jt: 3, Jf: 4, K: 0x1fff},
				{Op: 0x35, Jf: 3, K: 10}, {Op: 0x2d, Jf: 2}, {Op: 0x05, K: 1},
				{Op: 0x16}, {Op: 0x06, K: 262144}, {Op: 0x0e}, {Op: 0x16},
			},
		},
		{
			name: "backward ja",
			src:  "top: ld #1\nja top\n",
			want: []bpf.RawInstruction{{Op: 0x00, K: 1}, {Op: 0x05, K: 0xfffffffe}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := DetectFormat(tt.src); f != FormatAsm {
				t.Errorf("DetectFormat = %v, want asm", f)
			}
			p, err := ParseString(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, raw(p)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			checkRoundTrips(t, p)
		})
	}
}

// checkRoundTrips checks that every format Dump writes parses back to the
// same program (for -d and asm: to the same -d text), and that dumping
// that again gives the same text.
func checkRoundTrips(t *testing.T, p *Program) {
	t.Helper()
	want := raw(p)
	for _, f := range []Format{FormatText, FormatC, FormatDecimal, FormatAsm} {
		var b bytes.Buffer
		if err := p.Dump(&b, f); err != nil {
			if f == FormatAsm && errors.Is(err, ErrNotAsm) {
				continue
			}
			t.Fatalf("Dump(%v): %v", f, err)
		}
		if got := DetectFormat(b.String()); got != f {
			t.Errorf("DetectFormat(Dump(%v)) = %v", f, got)
		}
		q, err := ParseString(b.String())
		if err != nil {
			t.Fatalf("parse Dump(%v): %v\n%s", f, err, b.String())
		}
		if f == FormatText || f == FormatAsm {
			if diff := cmp.Diff(p.String(), q.String()); diff != "" {
				t.Errorf("%v round trip (-want +got):\n%s", f, diff)
			}
		} else if diff := cmp.Diff(want, raw(q)); diff != "" {
			t.Errorf("%v round trip (-want +got):\n%s", f, diff)
		}
		var b2 bytes.Buffer
		if err := q.Dump(&b2, f); err != nil || b2.String() != b.String() {
			t.Errorf("Dump(%v)∘Parse is not the identity (%v):\n%s\n---\n%s", f, err, b.String(), b2.String())
		}
	}
}

// TestRoundTripOdd covers instructions tcpdump never prints: unknown
// opcodes, negative offsets, fields an instruction does not use.
func TestRoundTripOdd(t *testing.T) {
	p := FromRaw([]bpf.RawInstruction{
		{Op: 0x28, K: 0xfffff02c}, {Op: 0x30, K: 0xfffff002}, {Op: 0x20, K: 0xffe00000},
		{Op: 0x40, K: 0x80000000}, {Op: 0xb1, K: 0xffffffff}, {Op: 0x81}, {Op: 0x0e},
		{Op: 0x65, Jt: 1, Jf: 2, K: 9}, {Op: 0xffff, Jt: 3, K: 7}, {Op: 0x07, K: 2},
		{Op: 0x1d, Jt: 0, Jf: 255}, {Op: 0x05, K: 0xffffffff}, {Op: 0x06, K: 0x80000000},
	}, LinkEN10MB, 65535)
	checkRoundTrips(t, p)
	var b bytes.Buffer
	if err := p.Dump(&b, FormatText); err != nil {
		t.Fatal(err)
	}
	want := `(000) ldh      [vlan_tci]
(001) ldb      [-4094]
(002) ld       [-2097152]
(003) ld       [x + -2147483648]
(004) ldxb     4*([-1]&0xf)
(005) unimp    0x81
(006) unimp    0xe
(007) unimp    0x65             jt 9	jf 10
(008) unimp    0xffff
(009) tax      
(010) jeq      x                jt 11	jf 266
(011) ja       11
(012) ret      #-2147483648
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "", 1, "no instructions"},
		{"asm unknown word", "ld [12]\n  foo bar\n", 2, `want an instruction, got label "foo"`},
		{"asm bad char", "ld [12]\nret @\n", 2, "unexpected character"},
		{"asm no label", "jeq #1, yes, no\nyes: ret #1\n", 1, `no such label "no"`},
		{"asm dup label", "a1: ret #1\na1: ret #0\n", 2, "defined twice"},
		{"asm far jump", "jeq #1, far\n" + strings.Repeat("ld #1\n", 300) + "far: ret #0\n", 1, "out of reach"},
		{"asm big number", "ld #0x100000000\n", 1, "bad 32-bit number"},
		{"asm msh", "ldxb 2*([14]&0xf)\n", 1, "only 4*([k]&0xf)"},
		{"asm ret", "ret #\n", 1, "want a number"},
		{"asm comment", "ret #0 /* open\n", 1, "unterminated"},
		{"asm label at end", "ret #0\nend:\n", 2, "want an instruction"},
		{"ddd count", "3\n6 0 0 0\n", 1, "count says 3 instructions, text has 1"},
		{"ddd fields", "2\n6 0 0 0\n6 0 0\n", 3, "want 4 numbers"},
		{"ddd range", "1\n6 256 0 0\n", 2, "jt: 256 does not fit in 8 bits"},
		{"ddd hex", "1\n6 0 0 0x1\n", 2, "bad number"},
		{"dd braces", "{ 0x6, 0, 0, 0x0 },\n{ 0x6, 0, 0, 0x0 \n", 2, "want { code, jt, jf, k }"},
		{"dd fields", "{ 0x6, 0, 0 },\n", 1, "want 4 fields"},
		{"dd code", "{ 0x10000, 0, 0, 0 },\n", 1, "code: 0x10000 does not fit in 16 bits"},
		{"d sequence", "(000) ret      #0\n(002) ret      #0\n", 2, "instruction number (002), want (001)"},
		{"d unknown", "(000) foo      #0\n", 1, `unknown instruction "foo"`},
		{"d operand", "(000) ret      [x + 1]\n", 1, `ret: bad operand "[x+1]"`},
		{"d jump range", "(000) jeq      #0x1             jt 0	jf 1\n", 1, "jump target 0 out of reach"},
		{"d no jt", "(000) jeq      #0x1\n", 1, "missing jt N jf N"},
		{"d extra jt", "(000) ret      #1               jt 1	jf 1\n", 1, "takes no jt/jf"},
		{"d unimp", "(000) unimp    0x28\n", 1, `opcode 0x28 is "ldh", not unimp`},
		{"d ldxb", "(000) ldxb     4*([1]&0xe)\n", 1, "want 4*([k]&0xf)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseString(tt.src)
			if p != nil {
				t.Errorf("got a program with the error")
			}
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("err = %v, want line %d and %q", err, tt.line, tt.msg)
			}
		})
	}
}

func TestParseBpfAsmOutput(t *testing.T) {
	// bpf_asm's default output, as xt_bpf and tc take it.
	p, err := ParseString("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0,\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []bpf.RawInstruction{{Op: 0x28, K: 12}, {Op: 0x15, Jf: 1, K: 0x800}, {Op: 6, K: 262144}, {Op: 6}}
	if diff := cmp.Diff(want, raw(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// bpf_asm -c output.
	q, err := ParseString("{ 0x28,  0,  0, 0x0000000c },\n{ 0x15,  0,  1, 0x00000800 },\n{ 0x06,  0,  0, 0x00040000 },\n{ 0x06,  0,  0, 0000000000 },\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, raw(q)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzParseDump(f *testing.F) {
	f.Add("6\n40 0 0 12\n21 0 3 2048\n48 0 0 23\n21 0 1 1\n6 0 0 262144\n6 0 0 0\n")
	f.Add("{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00000000 },\n")
	f.Add("(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n")
	f.Add("(000) ldb      [vlanp]\n(001) ld       [x + -4]\n(002) ldxb     4*([14]&0xf)\n(003) unimp    0x65             jt 4\tjf 5\n(004) ret      \n")
	f.Add("  ldh [12]\n  jne #0x806, drop\n  ldb [21]\n  jneq #1, drop\n  ret #-1\n  drop: ret #0\n")
	f.Add("l1: ld #len\njset x, l1, l2\nl2: ldxb 4*([0x0e]&0xf)\n/* c */ ret %a ; x\n")
	f.Add("4,40 0 0 12,21 0 1 2048,6 0 0 262144,6 0 0 0,")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseString(s)
		if err != nil {
			if p != nil {
				t.Fatal("program with an error")
			}
			return
		}
		checkRoundTrips(t, p)
	})
}
