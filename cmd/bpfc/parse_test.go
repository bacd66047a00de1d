package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseCmd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("tcp port 80 # web\nand host 10.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runCLICases(t, []cliCase{
		{"words joined", []string{"parse", "port", "80", "or", "443"}, exitOK, "port 80 or port 443\nor\n", ""},
		{"file", []string{"parse", "-F", file}, exitOK, "tcp port 80 and host 10.0.0.1\n", ""},
		{"json", []string{"parse", "--json", "tcp"}, exitOK, `"node": "Abbrev"`, ""},
		{"syntax tree", []string{"parse", "--syntax", "port 80 or 443"}, exitOK, "Bare", ""},
		{"empty", []string{"parse"}, exitOK, "empty expression", ""},
		{"caret", []string{"parse", "tcp port"}, exitError, "", "bpfc: 1:9: expected a port number or service name after 'port', found end of input\n  tcp port\n          ^\n"},
		{"bad flag", []string{"parse", "--nope"}, exitUsage, "", "unknown flag"},
	})
}
