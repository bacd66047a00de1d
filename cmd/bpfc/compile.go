package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/parser"
)

// compileFlags are the compiler options shared by compile and filter.
type compileFlags struct {
	noOptimize bool
	chainDepth int
	compact    bool
	file       string
}

// options are the compiler options the flags set.
func (f *compileFlags) options() []bpfc.Option {
	return []bpfc.Option{bpfc.WithOptimize(!f.noOptimize), bpfc.WithProtochainDepth(f.chainDepth), bpfc.WithCompact(f.compact)}
}

func (f *compileFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&f.noOptimize, "no-optimize", "O", false, "do not run the optimizer (like tcpdump -O)")
	cmd.Flags().BoolVar(&f.compact, "compact", false, "make the program shorter where that costs some packets more instructions (IPv4 and IPv6 share their port tests)")
	cmd.Flags().IntVar(&f.chainDepth, "protochain-depth", 0, "how many headers deep protochain looks (default 140)")
	cmd.Flags().StringVarP(&f.file, "file", "F", "", "read the expression from `FILE` ('#' starts a comment)")
}

// compileExpr compiles expr; on a bad expression it prints the
// positioned message with its caret line and returns a silent error.
func compileExpr(s *streams, expr string, opts ...bpfc.Option) (*cbpf.Program, error) {
	p, err := bpfc.Compile(expr, opts...)
	if err != nil {
		fmt.Fprintf(s.err, "bpfc: %s\n", parser.FormatError(expr, err))
		return nil, silentError{exitError}
	}
	return p, nil
}

// newCompileCmd makes `bpfc compile`: an expression to a program, printed
// as tcpdump -d, -dd or -ddd prints it.
func newCompileCmd(s *streams) *cobra.Command {
	var (
		cf      compileFlags
		dump    int
		link    string
		snaplen uint32
		ef      ebpfFlags
	)
	cmd := &cobra.Command{
		Use:   "compile [-d|-dd|-ddd] [-O] [--compact] [-y LINKTYPE] [-s SNAPLEN] [-F FILE] EXPR...",
		Short: "Compile a filter expression and print the program (like tcpdump -d)",
		Long: `Compile a tcpdump filter expression into classic BPF and print the program
as tcpdump -d (the default), -dd or -ddd does. The words of EXPR are joined
with spaces; an empty expression accepts every packet.

  bpfc compile 'tcp port 80'
  bpfc compile -ddd -y LINUX_SLL 'udp and not port 53'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, err := readExpression(s, args, cf.file)
			if err != nil {
				return err
			}
			lt, err := cbpf.ParseLinkType(link)
			if err != nil {
				return usageError{err}
			}
			format := cbpf.FormatText
			switch {
			case dump == 2:
				format = cbpf.FormatC
			case dump >= 3:
				format = cbpf.FormatDecimal
			}
			opts := append([]bpfc.Option{bpfc.WithLinkType(lt), bpfc.WithSnaplen(snaplen)}, cf.options()...)
			if ef.on {
				// An eBPF program is not held to classic's 4,096.
				opts = append(opts, bpfc.WithMaxLength(maxEBPFInstructions))
			}
			p, err := compileExpr(s, expr, opts...)
			if err != nil {
				return err
			}
			if ef.on {
				return ef.emit(s, p)
			}
			return p.Dump(s.out, format)
		},
	}
	cmd.Flags().CountVarP(&dump, "dump", "d", "output format: -d as tcpdump -d (the default), -dd as tcpdump -dd, -ddd as tcpdump -ddd")
	cmd.Flags().StringVarP(&link, "linktype", "y", "EN10MB", "link type, by tcpdump's name (case-insensitive) or number")
	cmd.Flags().Uint32VarP(&snaplen, "snaplen", "s", cbpf.DefaultSnaplen, "snapshot length the program returns for a packet it keeps")
	cf.register(cmd)
	ef.register(cmd)
	return cmd
}
