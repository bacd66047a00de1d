package main

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// TestGenerated checks that the committed tables are what the generator
// makes of the committed inputs: run `go generate ./parser` after editing
// either.
func TestGenerated(t *testing.T) {
	tests := []struct {
		name, in, src, out string
		gen                func(io.Reader, string) ([]byte, error)
	}{
		{"services", "testdata/services", "internal/gennames/testdata/services", "../../names_services.go", Services},
		{"protocols", "testdata/protocols", "internal/gennames/testdata/protocols", "../../names_protocols.go", Protocols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := tt.gen(bytes.NewReader(in), tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run go generate ./parser", tt.out)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		withProto bool
	}{
		{"no number", "tcpmux\n", true},
		{"no protocol", "tcpmux 1\n", true},
		{"port too big", "x 65536/tcp\n", true},
		{"not a number", "tcp six TCP\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse(bytes.NewReader([]byte(tt.in)), "test", tt.withProto); err == nil {
				t.Errorf("parse(%q) succeeded, want an error", tt.in)
			}
		})
	}
}
