package cbpf

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// TestImageLibpcap compares Image with libpcap's own bpf_image over every
// 8-bit opcode and a sample of wider ones (testdata/dump/image.golden,
// made by testdata/dump/gen_image.py).
func TestImageLibpcap(t *testing.T) {
	f, err := os.Open("testdata/dump/image.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		fields, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("line %d: no tab", n)
		}
		var v [5]uint64
		for i, s := range strings.Fields(fields) {
			v[i], err = strconv.ParseUint(s, 10, 32)
			if err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
		}
		ins := bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
		if got := Image(ins, int(v[4])); got != want {
			t.Errorf("Image(%+v, %d):\n got %q\nwant %q", ins, v[4], got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d golden lines", n)
	}
}
