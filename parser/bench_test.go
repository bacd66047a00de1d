package parser

import (
	"fmt"
	"strings"
	"testing"
)

func hostList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "host 10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
	}
	return b.String()
}

func BenchmarkParse(b *testing.B) {
	cases := []struct{ name, src string }{
		{"typical", "tcp port 80 and host 10.0.0.1"},
		{"hosts100", hostList(100)},
		{"hosts1000", hostList(1000)},
		{"hosts10000", hostList(10000)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.src)))
			for b.Loop() {
				if _, err := Parse(c.src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLex(b *testing.B) {
	src := "tcp port 80 and host 10.0.0.1"
	b.ReportAllocs()
	for b.Loop() {
		l, _ := lexDefinition{}.LexString("", src)
		for {
			t, _ := l.Next()
			if t.EOF() {
				break
			}
		}
	}
}
