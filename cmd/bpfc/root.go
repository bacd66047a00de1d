package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// exitCode is the process exit status: typed so every command returns one
// of the documented values.
type exitCode int

const (
	exitOK    exitCode = 0 // success
	exitError exitCode = 1 // the command failed: bad expression, bad file, refused program
	exitUsage exitCode = 2 // bad flags or arguments
)

// usageError marks an error in how the command was invoked (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// silentError is an error whose message has already been printed.
type silentError struct{ code exitCode }

func (e silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// streams are the command's standard files, injectable for tests.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// run executes the CLI with args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) exitCode {
	s := &streams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var se silentError
	if errors.As(err, &se) {
		return se.code
	}
	fmt.Fprintf(stderr, "bpfc: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "Run 'bpfc --help' for usage.")
		return exitUsage
	}
	return exitError
}

// isCobraUsage reports whether err is one of cobra's flag/argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "bad flag syntax", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "bpfc",
		Short:         "A pure-Go compiler for tcpdump filter expressions and a BPF toolchain",
		Long:          "bpfc compiles tcpdump (pcap-filter) expressions into classic BPF, dumps\nthem like tcpdump -d, and works with BPF programs without libpcap or cgo.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newParseCmd(s),
		// Each command file adds its constructor here.
		newAsmCmd(s),
		newCompileCmd(s),
		newFilterCmd(s),
		newCaptureCmd(s),
	)
	return root
}

// readExpression builds the filter expression as tcpdump does: the words of
// args joined by single spaces, or, when file is set, the file's contents
// with '#' comments removed (the words are then ignored, with a warning).
func readExpression(s *streams, args []string, file string) (string, error) {
	if file == "" {
		return strings.Join(args, " "), nil
	}
	if len(args) > 0 {
		fmt.Fprintln(s.err, "bpfc: warning: expression arguments ignored with -F")
	}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(s.in)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("read filter file: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if j := strings.IndexByte(l, '#'); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n"), nil
}
