package parser_test

import (
	"context"
	"fmt"

	"github.com/bpfc/bpfc/parser"
)

func ExampleParse() {
	e, err := parser.Parse("tcp dst port 80 or 443 and not src net 10/8")
	if err != nil {
		fmt.Println(parser.FormatError("tcp dst port 80 or 443 and not src net 10/8", err))
	}
	fmt.Println(e == nil)

	src := "tcp dst port http or 443 and not src net 10.0.0.0/8"
	e, err = parser.Parse(src)
	if err != nil {
		panic(err)
	}
	fmt.Println(e)
	r, err := parser.Resolve(context.Background(), e, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output:
	// 1:42: expected 'and', 'or' or end of input, found '/'; a prefix length needs a dotted address, such as 10.0.0.0/8
	//   tcp dst port 80 or 443 and not src net 10/8
	//                                            ^
	// true
	// tcp dst port http or 443 and not src net 10.0.0.0/8
	// tcp dst port 80 or tcp dst port 443 and not src net 10.0.0.0/8
}
