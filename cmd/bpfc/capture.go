package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cilium/ebpf/asm"
	"github.com/spf13/cobra"

	"github.com/bpfc/bpfc"
	"github.com/bpfc/bpfc/capture"
	"github.com/bpfc/bpfc/cbpf"
	"github.com/bpfc/bpfc/codegen"
	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/parser"
	"github.com/bpfc/bpfc/translate"
)

// captureFlags are `bpfc capture`'s options.
type captureFlags struct {
	cf         compileFlags
	iface      string
	output     string
	count      int
	snaplen    uint32
	noPromisc  bool
	direction  string
	useEBPF    bool
	bufferKiB  int
	blockSize  int
	blockTmo   time.Duration
	nanosecond bool
}

// captureSignals stop a capture cleanly.
var captureSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// captureUserSpaceFilter makes captures filter in user space (tests on a
// machine whose kernel cannot load BPF programs at the moment).
var captureUserSpaceFilter bool

// newCaptureCmd makes `bpfc capture`: a live capture with the filter in
// the kernel.
func newCaptureCmd(s *streams) *cobra.Command {
	var f captureFlags
	cmd := &cobra.Command{
		Use:   "capture -i IFACE [-w OUT] [-c N] [-s SNAPLEN] [-p] [-Q DIR] [--ebpf] [-F FILE] [EXPR...]",
		Short: "Capture packets live with the filter in the kernel (like tcpdump -i)",
		Long: `Capture packets on a network interface ("any" for all, cooked as
LINUX_SLL2 like tcpdump 4.99) through an AF_PACKET socket and a TPACKET_V3
ring. EXPR is compiled for the interface's link type and attached to the
socket before it is bound, so no packet reaches bpfc unfiltered. Each
packet is printed on one line, or written to OUT as pcap with -w ("-w -"
is standard output). The interface is put in promiscuous mode unless -p
is given.

-c N stops after N packets; Ctrl-C or SIGTERM stops cleanly. At the end,
standard error says, as tcpdump does, how many packets were captured
(written), received by the filter, and dropped by the kernel because the
ring was full. With --ebpf the program is translated to eBPF and attached
with SO_ATTACH_BPF instead of SO_ATTACH_FILTER. A classic program longer
than the kernel's 4,096 instructions is refused; with --ebpf it is
compiled without that limit (a long list of hosts, say) and translated
into one eBPF program. Capturing needs
root or the CAP_NET_RAW capability (and CAP_BPF with --ebpf).

  bpfc capture -i eth0 -c 10 'tcp port 443'
  bpfc capture -i any -w dns.pcap 'udp port 53'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, err := readExpression(s, args, f.cf.file)
			if err != nil {
				return err
			}
			if f.iface == "" {
				return usageError{errors.New("no interface: give one with -i (or -i any)")}
			}
			if f.count < 0 {
				return usageError{fmt.Errorf("invalid packet count %d: it must be positive", f.count)}
			}
			return runCapture(s, expr, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.iface, "interface", "i", "", "capture on `IFACE` ('any' for every interface)")
	fl.StringVarP(&f.output, "write", "w", "", "write the packets to `FILE` as pcap ('-' for standard output)")
	fl.IntVarP(&f.count, "count", "c", 0, "stop after `N` packets")
	fl.Uint32VarP(&f.snaplen, "snaplen", "s", cbpf.DefaultSnaplen, "keep at most `SNAPLEN` bytes of each packet")
	fl.BoolVarP(&f.noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface in promiscuous mode")
	fl.StringVarP(&f.direction, "direction", "Q", "inout", "capture packets received (in), sent (out) or both (inout)")
	fl.BoolVar(&f.useEBPF, "ebpf", false, "attach the filter as eBPF (SO_ATTACH_BPF) rather than classic BPF")
	fl.IntVarP(&f.bufferKiB, "buffer-size", "B", 0, "ring size in `KiB`, in at least 4 blocks unless --block-size is given (default 4096: 4 blocks of 1 MiB)")
	fl.IntVar(&f.blockSize, "block-size", 0, "ring block size in `BYTES`, a multiple of the page size (default 1 MiB)")
	fl.DurationVar(&f.blockTmo, "block-timeout", 0, "hand over a partly filled block after `DURATION` (default 100ms)")
	fl.BoolVar(&f.nanosecond, "nano", false, "nanosecond timestamps (in the pcap file too)")
	f.cf.register(cmd)
	return cmd
}

// config turns the flags into a capture configuration.
func (f *captureFlags) config() (*capture.Config, error) {
	dir, err := capture.ParseDirection(f.direction)
	if err != nil {
		return nil, usageError{err}
	}
	cfg := &capture.Config{
		Snaplen:      f.snaplen,
		Promiscuous:  !f.noPromisc,
		Direction:    dir,
		BlockSize:    f.blockSize,
		BlockTimeout: f.blockTmo,
		Nanosecond:   f.nanosecond,

		UserSpaceFilter: captureUserSpaceFilter,
	}
	if cfg.Snaplen == 0 {
		cfg.Snaplen = cbpf.DefaultSnaplen
	}
	if f.bufferKiB > 0 {
		// -B is the ring's size; without --block-size, blocks are made
		// small enough for the ring to have at least 4 of them (down to
		// a page), so that the kernel fills one while bpfc reads others.
		size := f.bufferKiB * 1024
		bs := cfg.BlockSize
		if bs == 0 {
			bs = capture.DefaultBlockSize
			for page := os.Getpagesize(); bs > page && 4*bs > size; {
				bs /= 2
			}
			cfg.BlockSize = bs
		}
		cfg.NumBlocks = max(1, size/bs)
	}
	return cfg, nil
}

func runCapture(s *streams, expr string, f *captureFlags) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	// Everything that can refuse the run happens before the output is
	// created: the socket, the program, attaching it, the link type's
	// pcap number.
	sock, err := capture.Open(f.iface, cfg)
	if err != nil {
		return err
	}
	defer sock.Close()
	lt := sock.LinkType()
	if err := attachFilter(s, sock, expr, f, cfg); err != nil {
		return err
	}
	if f.output != "" {
		if _, ok := lt.PcapLinkType(); !ok {
			return fmt.Errorf("link type %v has no pcap file number: capture without -w", lt)
		}
	}
	if err := sock.Start(); err != nil {
		return err
	}

	// Ctrl-C and SIGTERM are caught from before the output exists: until
	// then they end bpfc as usual, with nothing written; from then on,
	// one ends the capture cleanly, even before the loop has started.
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, captureSignals...)
	defer signal.Stop(sigc)
	out, closeOut, err := openCaptureOutput(s, f.output)
	if err != nil {
		return err
	}
	var keep func(n int, p *capture.Packet) error
	var flush func() error
	if f.output != "" {
		w, err := capture.NewFileWriter(out, lt, cfg.Snaplen, cfg.Nanosecond)
		if err != nil {
			closeOut()
			if f.output != "-" {
				os.Remove(f.output) // not even a header in it
			}
			return fmt.Errorf("write %s: %w", outputName(f.output), err)
		}
		keep = func(_ int, p *capture.Packet) error { return w.Write(*p) }
		flush = w.Flush
	} else {
		bw := bufio.NewWriterSize(out, 1<<16)
		keep = func(n int, p *capture.Packet) error {
			printPacket(bw, n, *p, lt)
			return nil
		}
		flush = bw.Flush
	}

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigc:
			sock.Stop()
		case <-done:
		}
	}()
	fmt.Fprintf(s.err, "bpfc: listening on %s, link-type %v (%s), snapshot length %d bytes\n", f.iface, lt, lt.Description(), cfg.Snaplen)

	n, runErr := captureLoop(sock, keep, flush, f.count, f.output == "" && stderrIsTerminal(s.out))
	if err := flush(); runErr == nil && err != nil {
		runErr = fmt.Errorf("write %s: %w", outputName(f.output), err)
	}
	if err := closeOut(); runErr == nil && err != nil {
		runErr = fmt.Errorf("write %s: %w", outputName(f.output), err)
	}
	st, serr := sock.Stats()
	if runErr != nil {
		fmt.Fprintf(s.err, "bpfc: %v\n", runErr)
	}
	fmt.Fprintf(s.err, "%s captured\n", plural(n, "packet"))
	if serr == nil {
		fmt.Fprintf(s.err, "%s received by filter\n", plural(int(st.Received), "packet"))
		fmt.Fprintf(s.err, "%s dropped by kernel\n", plural(int(st.Dropped), "packet"))
	}
	if runErr != nil {
		return silentError{exitError}
	}
	return nil
}

// captureLoop hands packets to keep until the socket ends or count
// packets were kept, and returns how many were: each of them was handed
// over whole. With lines set (a terminal), each line is flushed.
func captureLoop(sock *capture.Socket, keep func(int, *capture.Packet) error, flush func() error, count int, lines bool) (int, error) {
	n := 0
	for count == 0 || n < count {
		p, err := sock.ReadPacket()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if err := keep(n+1, p); err != nil {
			return n, err
		}
		n++
		if lines {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// attachFilter compiles expr for the socket's link type and attaches it,
// as classic BPF or, with --ebpf, translated. A program too long for the
// kernel's classic filters says so, and says whether --ebpf takes it: the
// same expression compiled without that limit and translated into one
// eBPF program.
func attachFilter(s *streams, sock *capture.Socket, expr string, f *captureFlags, cfg *capture.Config) error {
	opts := append(f.cf.options(), bpfc.WithLinkType(sock.LinkType()), bpfc.WithSnaplen(cfg.Snaplen))
	p, err := bpfc.Compile(expr, opts...)
	switch {
	case err == nil && !f.useEBPF:
		return sock.SetFilter(p)
	case err == nil:
		insns, err := ebpfFilter(p)
		if err != nil {
			return err
		}
		return attachEBPF(sock, insns)
	case !errors.Is(err, codegen.ErrTooLong):
		fmt.Fprintf(s.err, "bpfc: %s\n", parser.FormatError(expr, err))
		return silentError{exitError}
	}
	insns, lerr := longEBPF(expr, opts)
	if f.useEBPF && lerr == nil {
		return attachEBPF(sock, insns)
	}
	fmt.Fprintf(s.err, "bpfc: %s\n", parser.FormatError(expr, err))
	switch {
	case f.useEBPF:
		fmt.Fprintf(s.err, "bpfc: --ebpf cannot take it either: %v\n", lerr)
	case lerr == nil:
		fmt.Fprintf(s.err, "bpfc: it fits as eBPF: with --ebpf it is one eBPF program of %d instructions\n", len(insns))
	default:
		fmt.Fprintf(s.err, "bpfc: --ebpf would not help: %v\n", lerr)
	}
	return silentError{exitError}
}

// ebpfFilter translates a classic program, in its kernel form (see
// capture.KernelProgram), into an eBPF socket filter.
func ebpfFilter(p *cbpf.Program) (asm.Instructions, error) {
	kp, err := capture.KernelProgram(p)
	if err != nil {
		return nil, fmt.Errorf("--ebpf: %w", err)
	}
	insns, err := translate.Skb(kp, &translate.SkbOptions{Options: translate.Options{MaxLoop: 64}})
	if err != nil {
		return nil, fmt.Errorf("--ebpf: %w", err)
	}
	return insns, nil
}

// longEBPF makes one eBPF filter of an expression whose classic program
// is too long for the kernel: compiled again without the classic limit
// (its jumps still reach, through `ja` trampolines), then translated.
func longEBPF(expr string, opts []bpfc.Option) (asm.Instructions, error) {
	p, err := bpfc.Compile(expr, append(opts, bpfc.WithMaxLength(maxEBPFInstructions))...)
	if err != nil {
		return nil, err
	}
	insns, err := ebpfFilter(p)
	if err != nil {
		return nil, err
	}
	if len(insns) > maxEBPFInstructions {
		return nil, fmt.Errorf("%d eBPF instructions, more than the kernel's %d", len(insns), maxEBPFInstructions)
	}
	return insns, nil
}

// maxEBPFInstructions is the longest eBPF program the kernel loads for a
// process with CAP_BPF (BPF_COMPLEXITY_LIMIT_INSNS); a variable for the
// tests of what happens past it.
var maxEBPFInstructions = 1_000_000

// attachEBPF loads an eBPF socket filter and attaches it.
func attachEBPF(sock *capture.Socket, insns asm.Instructions) error {
	prog, err := ebpf.Load(ebpf.SocketFilter, insns)
	if err != nil {
		return fmt.Errorf("--ebpf: %w", err)
	}
	defer prog.Close()
	return sock.SetEBPF(prog)
}

// openCaptureOutput opens -w's file, standard output for "-" or no -w.
func openCaptureOutput(s *streams, name string) (io.Writer, func() error, error) {
	if name == "" || name == "-" {
		return s.out, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func outputName(name string) string {
	if name == "" || name == "-" {
		return "standard output"
	}
	return name
}

// plural says "1 packet" or "2 packets", as tcpdump does.
func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
