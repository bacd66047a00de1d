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
with SO_ATTACH_BPF instead of SO_ATTACH_FILTER. Capturing needs root or
the CAP_NET_RAW capability (and CAP_BPF with --ebpf).

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
	fl.IntVarP(&f.bufferKiB, "buffer-size", "B", 0, "ring size in `KiB` (default 4096: 4 blocks of 1 MiB)")
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
		bs := cfg.BlockSize
		if bs == 0 {
			bs = capture.DefaultBlockSize
		}
		cfg.NumBlocks = max(1, f.bufferKiB*1024/bs)
	}
	return cfg, nil
}

func runCapture(s *streams, expr string, f *captureFlags) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	// Everything that can refuse the run happens before the output is
	// created: the socket, the program, attaching it.
	sock, err := capture.Open(f.iface, cfg)
	if err != nil {
		return err
	}
	defer sock.Close()
	lt := sock.LinkType()
	p, err := bpfc.Compile(expr, bpfc.WithLinkType(lt), bpfc.WithSnaplen(cfg.Snaplen), bpfc.WithOptimize(!f.cf.noOptimize))
	if err != nil {
		fmt.Fprintf(s.err, "bpfc: %s\n", parser.FormatError(expr, err))
		if errors.Is(err, codegen.ErrTooLong) {
			fmt.Fprintf(s.err, "bpfc: the kernel takes at most %d classic instructions; an eBPF filter (--ebpf) has no such limit, but it is translated from the classic program\n", cbpf.MaxInstructions)
		}
		return silentError{exitError}
	}
	if f.useEBPF {
		err = attachEBPF(sock, p)
	} else {
		err = sock.SetFilter(p)
	}
	if err != nil {
		return err
	}
	if err := sock.Start(); err != nil {
		return err
	}

	out, closeOut, err := openCaptureOutput(s, f.output)
	if err != nil {
		return err
	}
	var sk sink
	var flush func() error
	if f.output != "" {
		w, err := capture.NewFileWriter(out, lt, cfg.Snaplen, cfg.Nanosecond)
		if err != nil {
			closeOut()
			return err
		}
		sk, flush = pcapSink{w}, w.Flush
	} else {
		bw := bufio.NewWriterSize(out, 1<<16)
		sk, flush = liveLineSink{bw, lt}, bw.Flush
	}

	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, captureSignals...)
	defer signal.Stop(sigc)
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

	n, runErr := captureLoop(sock, sk, flush, f.count, f.output == "" && stderrIsTerminal(s.out))
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

// captureLoop hands packets to sk until Next ends or count packets
// were taken; with lines set (a terminal), each line is flushed.
func captureLoop(sock *capture.Socket, sk sink, flush func() error, count int, lines bool) (int, error) {
	n := 0
	for count == 0 || n < count {
		p, err := sock.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if err := sk.keep(n, p); err != nil {
			return n, err
		}
		if lines {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// attachEBPF translates the program's kernel form to eBPF, loads it as a
// socket filter and attaches it.
func attachEBPF(sock *capture.Socket, p *cbpf.Program) error {
	kp, err := capture.KernelProgram(p)
	if err != nil {
		return fmt.Errorf("--ebpf: %w", err)
	}
	insns, err := translate.Skb(kp, &translate.SkbOptions{Options: translate.Options{MaxLoop: 64}})
	if err != nil {
		return fmt.Errorf("--ebpf: %w", err)
	}
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

// liveLineSink prints a line per packet.
type liveLineSink struct {
	w  *bufio.Writer
	lt cbpf.LinkType
}

func (l liveLineSink) keep(n int, p capture.Packet) error {
	printPacket(l.w, n, p, l.lt)
	return nil
}
