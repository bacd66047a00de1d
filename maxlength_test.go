package bpfc_test

import (
	"errors"
	"testing"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/translate"
)

// TestMaxLength: WithMaxLength lets a program pass the kernel's classic
// limit, for translation to eBPF; the limit stays the default, and a
// program over the limit given is refused with ErrTooLong.
func TestMaxLength(t *testing.T) {
	expr := hostList(1600)
	if _, err := bpfc.Compile(expr); !errors.Is(err, codegen.ErrTooLong) {
		t.Fatalf("default limit: %v, want ErrTooLong", err)
	}
	p, err := bpfc.Compile(expr, bpfc.WithMaxLength(10000))
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() <= cbpf.MaxInstructions {
		t.Fatalf("%d instructions: the test's filter is not over the kernel's limit", p.Len())
	}
	if err := p.Validate(); !errors.Is(err, cbpf.ErrTooLong) {
		t.Errorf("Validate: %v, want ErrTooLong", err)
	}
	raw, err := p.Raw()
	if err != nil {
		t.Fatal(err)
	}
	if err := cbpf.ValidateRules(raw); err != nil {
		t.Errorf("ValidateRules: %v", err)
	}
	if _, err := translate.Skb(p, &translate.SkbOptions{}); err != nil {
		t.Errorf("translate.Skb: %v", err)
	}
	if _, err := bpfc.Compile(expr, bpfc.WithMaxLength(p.Len()-1)); !errors.Is(err, codegen.ErrTooLong) {
		t.Errorf("one instruction short: %v, want ErrTooLong", err)
	}
}
