package main

import (
	"fmt"
	"io"
	"os"

	"github.com/bpfc/bpfc/cbpf"
	"github.com/spf13/cobra"
)

// newAsmCmd makes `bpfc asm`: read a classic BPF program in any textual
// form, validate it, print it in another.
func newAsmCmd(s *streams) *cobra.Command {
	var (
		dump       int
		asm        bool
		noValidate bool
	)
	cmd := &cobra.Command{
		Use:   "asm [-d|-dd|-ddd|--asm] [FILE|-]",
		Short: "Read, validate and print a classic BPF program",
		Long: `Read a classic BPF program from FILE (or standard input) in any of the
forms tcpdump prints (-d, -dd, -ddd), as bpf_asm source (the Linux kernel's
tools/bpf syntax, with labels) or as bpf_asm's output; the form is detected.
The program is checked against the kernel's rules for classic filters, then
printed like tcpdump -d (the default), -dd or -ddd, or as bpf_asm source.

  tcpdump -ddd icmp | bpfc asm -d     # prints what tcpdump -d icmp prints`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asm && dump > 0 {
				return usageError{fmt.Errorf("--asm and -d cannot be used together")}
			}
			format := cbpf.FormatText
			switch {
			case asm:
				format = cbpf.FormatAsm
			case dump == 2:
				format = cbpf.FormatC
			case dump >= 3:
				format = cbpf.FormatDecimal
			}
			name, r := "<stdin>", s.in
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				name, r = args[0], io.Reader(f)
			}
			p, err := cbpf.Parse(r)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if !noValidate {
				if err := p.Validate(); err != nil {
					return fmt.Errorf("%s: invalid program: %w", name, err)
				}
			}
			return p.Dump(s.out, format)
		},
	}
	cmd.Flags().CountVarP(&dump, "dump", "d", "output format: -d as tcpdump -d (the default), -dd as tcpdump -dd, -ddd as tcpdump -ddd")
	cmd.Flags().BoolVar(&asm, "asm", false, "print bpf_asm source, with labels")
	cmd.Flags().BoolVar(&noValidate, "no-validate", false, "print the program even if the kernel would refuse it")
	return cmd
}
