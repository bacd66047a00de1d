package main

import (
	"bytes"
	"strings"
	"testing"
)

// cliCase is one run of the CLI: the arguments, and what the exit code,
// standard output and standard error must be (out and err are substrings
// that must appear; a failing run must print nothing on standard output).
type cliCase struct {
	name     string
	args     []string
	code     exitCode
	out, err string
}

func runCLICases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tt.out)
			}
			if !strings.Contains(errb.String(), tt.err) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.err)
			}
			if tt.code != exitOK && out.Len() > 0 {
				t.Errorf("a failed run printed on standard output: %q", out.String())
			}
		})
	}
}
