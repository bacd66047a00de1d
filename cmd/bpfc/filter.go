package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/capture"
	"github.com/bpfc/bpfc/cbpf"
)

// newFilterCmd makes `bpfc filter`: run a filter over capture files and
// keep what it accepts.
func newFilterCmd(s *streams) *cobra.Command {
	var (
		cf     compileFlags
		inputs []string
		output string
		count  int
	)
	cmd := &cobra.Command{
		Use:   "filter -r IN [-r IN2 ...] [-w OUT] [-c N] [-O] [-F FILE] [EXPR...]",
		Short: "Filter capture files offline (like tcpdump -r IN -w OUT EXPR)",
		Long: `Read pcap or pcapng files, compile EXPR for their link type, run the
program on every packet and keep the packets it accepts: written to OUT as
pcap (same link type, snapshot length, timestamps and lengths; "-w -" is
standard output), or printed one line each. The last line, on standard
error, says how many packets were kept. -r may be repeated or be a glob.

  bpfc filter -r in.pcap -w out.pcap 'tcp port 80'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, err := readExpression(s, args, cf.file)
			if err != nil {
				return err
			}
			files, err := expandInputs(inputs)
			if err != nil {
				return usageError{err}
			}
			return runFilter(s, files, output, count, expr, cf)
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "read", "r", nil, "capture `FILE` to read (pcap or pcapng; repeatable; globs allowed)")
	cmd.Flags().StringVarP(&output, "write", "w", "", "write the packets kept to `FILE` as pcap ('-' for standard output)")
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after keeping `N` packets")
	cf.register(cmd)
	return cmd
}

// expandInputs expands globs and checks there is at least one file.
func expandInputs(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", p, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("no file matches %q", p)
			}
			out = append(out, m...)
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no input: give a capture file with -r")
	}
	return out, nil
}

// vmKey is what a compiled program depends on in a file.
type vmKey struct {
	lt        cbpf.LinkType
	bigEndian bool
}

// filterRun is the state of one `bpfc filter` run.
type filterRun struct {
	s      *streams
	expr   string
	cf     compileFlags
	limit  int
	kept   int
	total  int
	w      *capture.FileWriter
	closeW func() error
	lines  *bufio.Writer
	vms    map[vmKey]*cbpf.VM
	// badExpr is set when the expression was refused: nothing was read.
	badExpr bool
}

func runFilter(s *streams, files []string, output string, limit int, expr string, cf compileFlags) (err error) {
	r := &filterRun{s: s, expr: expr, cf: cf, limit: limit, vms: map[vmKey]*cbpf.VM{}}
	defer func() {
		if r.w != nil {
			if ferr := r.w.Flush(); ferr != nil && err == nil {
				err = ferr
			}
		}
		if r.closeW != nil {
			if cerr := r.closeW(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if r.lines != nil {
			r.lines.Flush()
		}
		if !r.badExpr {
			fmt.Fprintf(s.err, "%d of %d packets kept\n", r.kept, r.total)
		}
	}()
	for _, name := range files {
		done, err := r.file(name, output)
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	return nil
}

// vmFor compiles the expression for a link type, once.
func (r *filterRun) vmFor(fr *capture.FileReader) (*cbpf.VM, error) {
	lt, snaplen := fr.LinkType(), fr.Snaplen()
	key := vmKey{lt, fr.ByteOrder() == binary.BigEndian}
	if vm, ok := r.vms[key]; ok {
		return vm, nil
	}
	p, err := compileExpr(r.s, r.expr, bpfc.WithLinkType(lt), bpfc.WithSnaplen(snaplen), bpfc.WithOptimize(!r.cf.noOptimize), bpfc.ForSavefile(fr.ByteOrder()))
	if err != nil {
		r.badExpr = true
		return nil, err
	}
	vm, err := cbpf.NewVM(p)
	if err != nil {
		return nil, fmt.Errorf("compiled program is invalid: %w", err)
	}
	r.vms[key] = vm
	return vm, nil
}

// file filters one capture file; done reports that -c was reached.
func (r *filterRun) file(name, output string) (done bool, err error) {
	var in io.Reader
	if name == "-" {
		in = r.s.in
	} else {
		f, err := os.Open(name)
		if err != nil {
			return false, err
		}
		defer f.Close()
		in = f
	}
	fr, err := capture.NewFileReader(in)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	vm, err := r.vmFor(fr)
	if err != nil {
		return false, err
	}
	if output != "" && r.w == nil {
		if err := r.openOutput(output, fr); err != nil {
			return false, err
		}
	} else if output == "" && r.lines == nil {
		r.lines = bufio.NewWriter(r.s.out)
	}
	for {
		p, err := fr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		r.total++
		if vm.Run(p.Data, p.Info.Len) == 0 {
			continue
		}
		r.kept++
		if r.w != nil {
			if err := r.w.Write(p); err != nil {
				return false, fmt.Errorf("write: %w", err)
			}
		} else {
			printPacket(r.lines, r.total, p, fr.LinkType())
		}
		if r.limit > 0 && r.kept >= r.limit {
			return true, nil
		}
	}
}

func (r *filterRun) openOutput(output string, fr *capture.FileReader) error {
	var out io.Writer = r.s.out
	if output != "-" {
		f, err := os.Create(output)
		if err != nil {
			return err
		}
		out, r.closeW = f, f.Close
	}
	w, err := capture.NewFileWriter(out, fr.LinkType(), fr.Snaplen(), fr.Nanosecond())
	if err != nil {
		return err
	}
	r.w = w
	return nil
}

// printPacket prints one line for a kept packet: its number in the input,
// time, length and a short decode.
func printPacket(w io.Writer, n int, p capture.Packet, lt cbpf.LinkType) {
	ts := p.Info.Time().Format("15:04:05.000000")
	fmt.Fprintf(w, "%d %s len %d: %s\n", n, ts, p.Info.Len, describe(p.Data, lt))
}

// decoders maps link types to gopacket's first layer.
var decoders = map[cbpf.LinkType]gopacket.Decoder{
	cbpf.LinkEN10MB: layers.LayerTypeEthernet, cbpf.LinkLinuxSLL: layers.LayerTypeLinuxSLL,
	cbpf.LinkNull: layers.LayerTypeLoopback, cbpf.LinkLoop: layers.LayerTypeLoopback,
	cbpf.LinkRaw: layers.LayerTypeIPv4, cbpf.LinkIPv4: layers.LayerTypeIPv4, cbpf.LinkIPv6: layers.LayerTypeIPv6,
}

// describe decodes a packet lazily and names its layers and addresses.
func describe(data []byte, lt cbpf.LinkType) string {
	dec, ok := decoders[lt]
	if lt == cbpf.LinkRaw && len(data) > 0 && data[0]>>4 == 6 {
		dec = layers.LayerTypeIPv6
	}
	if !ok {
		return fmt.Sprintf("%d bytes (%v)", len(data), lt)
	}
	pkt := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var parts []string
	if nl := pkt.NetworkLayer(); nl != nil {
		f := nl.NetworkFlow()
		parts = append(parts, fmt.Sprintf("%v %v > %v", nl.LayerType(), f.Src(), f.Dst()))
	}
	if tl := pkt.TransportLayer(); tl != nil {
		f := tl.TransportFlow()
		parts = append(parts, fmt.Sprintf("%v %v > %v", tl.LayerType(), f.Src(), f.Dst()))
	}
	if len(parts) == 0 {
		var names []string
		for _, l := range pkt.Layers() {
			names = append(names, l.LayerType().String())
		}
		if len(names) == 0 {
			return "undecoded"
		}
		return strings.Join(names, "/")
	}
	return strings.Join(parts, ", ")
}
