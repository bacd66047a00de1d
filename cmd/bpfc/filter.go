package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"
	"golang.org/x/term"

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
		engine string
	)
	cmd := &cobra.Command{
		Use:   "filter -r IN [-r IN2 ...] [-w OUT] [-c N] [--engine vm|kernel|xdp] [-O] [-F FILE] [EXPR...]",
		Short: "Filter capture files offline (like tcpdump -r IN -w OUT EXPR)",
		Long: `Read pcap or pcapng files, compile EXPR for their link type, run the
program on every packet and keep the packets it accepts: written to OUT as
pcap (same link type, snapshot length, timestamps and lengths; "-w -" is
standard output), or printed one line each. The last line, on standard
error, says how many packets were kept. -r may be repeated or be a glob:
the files must share a link type; they are filtered in parallel and their
packets written in the order the files were given.

Like tcpdump, a bad expression or an unreadable input is reported before
OUT is created, so nothing is written. A file that is cut short or corrupt
is reported with the packet number and byte offset that failed; the
packets kept before the damage are in OUT, which stays a valid pcap file,
and the exit status is 1. On a terminal, standard error shows progress.

--engine chooses what runs the program: vm (the default) is bpfc's
interpreter; kernel translates it to eBPF (translate's skb form) and runs
each packet through the kernel as a TC classifier with BPF_PROG_TEST_RUN;
xdp does the same with the direct-packet-access form as an XDP program.
All three keep the same packets, but for a shift by X of 32 or more,
which gives 0 in the interpreter, as in libpcap's (tcpdump -r), and X
modulo 32 in the kernel's; len, less and greater see the length on the
wire, which the kernel is handed beside the captured bytes. Both
kernel engines need Linux and root (or CAP_BPF and CAP_NET_ADMIN). The
kernel's test run does not take every packet whole: neither takes one
under 14 bytes or over about a page, and the TC one refuses an IPv4 or
IPv6 header cut short. Those packets are run by the interpreter, and a
line on standard error says how many.

  bpfc filter -r in.pcap -w out.pcap 'tcp port 80'
  bpfc filter -r 'ring-*.pcap' -w web.pcap -c 1000 'tcp port 443'
  bpfc filter --engine xdp -r in.pcap -w out.pcap 'udp and not port 53'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			expr, err := readExpression(s, args, cf.file)
			if err != nil {
				return err
			}
			if count < 0 {
				return usageError{fmt.Errorf("invalid packet count %d: it must be positive", count)}
			}
			if err := checkEngine(engine); err != nil {
				return err
			}
			files, err := expandInputs(inputs)
			if err != nil {
				return usageError{err}
			}
			return runFilter(s, files, output, count, expr, cf, engine)
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "read", "r", nil, "capture `FILE` to read (pcap or pcapng; repeatable; globs allowed)")
	cmd.Flags().StringVarP(&output, "write", "w", "", "write the packets kept to `FILE` as pcap ('-' for standard output)")
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after keeping `N` packets")
	cmd.Flags().StringVar(&engine, "engine", engineVM, "what runs the program: vm (bpfc's interpreter), kernel (eBPF, TC test run) or xdp (eBPF, XDP test run)")
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

// input is one capture file of a run.
type input struct {
	name      string
	size      int64       // bytes, or 0 when unknown (standard input)
	stat      os.FileInfo // nil for standard input
	vm        *cbpf.VM
	kernel    *kernelFilter // the program in the kernel, or nil for the vm engine
	bigEndian bool          // a classic pcap file written big-endian
	// direct marks the inputs the main goroutine streams to the output
	// (the first file and standard input), whose reader fr stays open
	// from the start; a worker reopens the others.
	direct bool
	fr     *capture.FileReader
	close  func() error
	prog   fileProgress
	// result is filled by the worker that filtered the file into a
	// temporary file, and done closed when it has.
	result workResult
	done   chan struct{}
	// interp counts the packets of the last pass over the file that the
	// kernel engines left to the interpreter.
	interp int
}

// fileProgress counts what has been read of one file, for the progress
// line: written by the goroutine that reads the file, read by the one
// that prints progress.
type fileProgress struct {
	bytes   atomic.Int64
	packets atomic.Int64
	_       [48]byte // keep files' counters on separate cache lines
}

// workResult is what a worker made of one file.
type workResult struct {
	tmp      *os.File // the kept packets (pcap records after a header, or lines)
	kept     int
	total    int
	hitLimit bool  // the worker stopped on reaching -c on its own
	err      error // the input failed after kept packets (they are in tmp)
	fatal    error // nothing usable: the temporary file could not be made
}

// filterRun is the state of one `bpfc filter` run.
type filterRun struct {
	s      *streams
	output string
	limit  int
	engine string
	lt     cbpf.LinkType
	snap   uint32
	nanos  bool
	inputs []*input

	out    io.Writer           // the raw output (file or standard output)
	w      *capture.FileWriter // pcap output, or nil
	lines  *bufio.Writer       // line output, or nil
	kept   int
	total  int
	interp int // packets the kernel's test run could not take
	progs  []*kernelFilter
	stop   atomic.Bool // tells workers to give up
	tmpDir string
}

// errStopped is returned by a worker told to stop.
var errStopped = errors.New("stopped")

func runFilter(s *streams, files []string, output string, limit int, expr string, cf compileFlags, engine string) error {
	r := &filterRun{s: s, output: output, limit: limit, engine: engine}
	defer r.closeInputs()
	defer r.closePrograms()
	// Everything that can refuse the run happens before the output is
	// created: reading each file's header, the link types, compiling.
	if err := r.openInputs(files); err != nil {
		return err
	}
	if err := r.compile(expr, cf); err != nil {
		return err
	}
	closeOut, err := r.openOutput()
	if err != nil {
		return err
	}
	prog := startProgress(s.err, r.inputs)
	err = r.filterAll()
	prog.finish()
	if ferr := r.flush(); err == nil {
		err = ferr
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", r.output, cerr)
	}
	if err != nil {
		fmt.Fprintf(s.err, "bpfc: %v\n", err)
	}
	if r.interp > 0 {
		fmt.Fprintf(s.err, "bpfc: note: %s\n", interpNote(r.engine, r.interp, r.total))
	}
	fmt.Fprintf(s.err, "%d of %d packets kept\n", r.kept, r.total)
	if err != nil {
		return silentError{exitError}
	}
	return nil
}

// openInputs reads every file's header and checks they share a link type.
// The first file and standard input stay open; the others are reopened
// by the workers, so a glob of many files does not hold many open.
func (r *filterRun) openInputs(files []string) error {
	for i, name := range files {
		in := &input{name: name, done: make(chan struct{})}
		r.inputs = append(r.inputs, in)
		fr, closeFn, stat, err := openCapture(r.s, name, &in.prog.bytes)
		if err != nil {
			return err
		}
		in.stat, in.bigEndian = stat, fr.ByteOrder() == binary.BigEndian
		if stat != nil {
			in.size = stat.Size()
		}
		lt := fr.LinkType()
		if i == 0 {
			r.lt, r.snap, r.nanos = lt, fr.Snaplen(), fr.Nanosecond()
		} else if lt != r.lt {
			closeFn()
			return fmt.Errorf("%s has link type %v but %s has %v: filter files of different link types separately", name, lt, files[0], r.lt)
		}
		r.snap = max(r.snap, fr.Snaplen())
		r.nanos = r.nanos || fr.Nanosecond()
		if i == 0 || name == "-" {
			in.direct, in.fr, in.close = true, fr, closeFn
		} else {
			closeFn()
			in.prog.bytes.Store(0)
		}
	}
	return nil
}

func (r *filterRun) closeInputs() {
	for _, in := range r.inputs {
		if in.close != nil {
			in.close()
			in.close = nil
		}
	}
}

// openCapture opens a capture file (or standard input for "-") and reads
// its header; the bytes read from it are counted in n. The file's
// information is nil for standard input.
func openCapture(s *streams, name string, n *atomic.Int64) (*capture.FileReader, func() error, os.FileInfo, error) {
	var (
		src     io.Reader
		closeFn = func() error { return nil }
		stat    os.FileInfo
	)
	if name == "-" {
		src = s.in
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, nil, err
		}
		if stat, err = f.Stat(); err != nil {
			f.Close()
			return nil, nil, nil, err
		}
		if stat.IsDir() {
			f.Close()
			return nil, nil, nil, fmt.Errorf("%s: is a directory", name)
		}
		src, closeFn = f, f.Close
	}
	fr, err := capture.NewFileReader(countingReader{src, n})
	if err != nil {
		closeFn()
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return fr, closeFn, stat, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// compile compiles the expression once per byte order among the files
// (the link type is the same for all).
func (r *filterRun) compile(expr string, cf compileFlags) error {
	vms := map[vmKey]*cbpf.VM{}
	kernels := map[vmKey]*kernelFilter{}
	for _, in := range r.inputs {
		bo := binary.ByteOrder(binary.LittleEndian)
		if in.bigEndian {
			bo = binary.BigEndian
		}
		key := vmKey{r.lt, in.bigEndian}
		if vm, ok := vms[key]; ok {
			in.vm, in.kernel = vm, kernels[key]
			continue
		}
		p, err := compileExpr(r.s, expr, append(cf.options(), bpfc.WithLinkType(r.lt), bpfc.WithSnaplen(r.snap), bpfc.ForSavefile(bo))...)
		if err != nil {
			return err
		}
		// (libpcap's semantics, which tcpdump -r has: see the help.)
		vm, err := cbpf.NewLibpcapVM(p)
		if err != nil {
			return fmt.Errorf("compiled program is invalid: %w", err)
		}
		vms[key], in.vm = vm, vm
		if r.engine == engineVM {
			continue
		}
		kf, err := loadKernelFilter(r.engine, p)
		if err != nil {
			return err
		}
		r.progs = append(r.progs, kf)
		kernels[key], in.kernel = kf, kf
	}
	return nil
}

// closePrograms unloads the programs of the kernel engines.
func (r *filterRun) closePrograms() {
	for _, kf := range r.progs {
		kf.close()
	}
	r.progs = nil
}

// openOutput creates the output; the returned function closes it.
func (r *filterRun) openOutput() (func() error, error) {
	noClose := func() error { return nil }
	if r.output == "" {
		r.out = r.s.out
		r.lines = bufio.NewWriterSize(r.s.out, 1<<16)
		return noClose, nil
	}
	closeFn := noClose
	r.out = r.s.out
	if r.output != "-" {
		if st, err := os.Stat(r.output); err == nil {
			for _, in := range r.inputs {
				if in.stat != nil && os.SameFile(st, in.stat) {
					return nil, fmt.Errorf("%s is also an input: it would be overwritten while read", r.output)
				}
			}
		}
		f, err := os.Create(r.output)
		if err != nil {
			return nil, err
		}
		r.out, closeFn = f, f.Close
		r.tmpDir = filepath.Dir(r.output)
	}
	w, err := capture.NewFileWriter(r.out, r.lt, r.snap, r.nanos)
	if err != nil {
		closeFn()
		return nil, err
	}
	r.w = w
	return closeFn, nil
}

func (r *filterRun) flush() error {
	var err error
	if r.w != nil {
		err = r.w.Flush()
	} else if r.lines != nil {
		err = r.lines.Flush()
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", r.outName(), err)
	}
	return nil
}

func (r *filterRun) outName() string {
	if r.output == "" || r.output == "-" {
		return "standard output"
	}
	return r.output
}

// filterAll filters the inputs in order. The first file and standard
// input are streamed straight to the output; the others are filtered by
// a pool of workers, each into a temporary file, and appended in order
// as they are needed, so memory stays bounded whatever the files' sizes.
func (r *filterRun) filterAll() error {
	var queue []*input
	for _, in := range r.inputs {
		if !in.direct {
			queue = append(queue, in)
		}
	}
	var wg sync.WaitGroup
	if len(queue) > 0 {
		jobs := make(chan *input, len(queue))
		for _, in := range queue {
			jobs <- in
		}
		close(jobs)
		for range min(runtime.GOMAXPROCS(0), len(queue)) {
			wg.Go(func() {
				for in := range jobs {
					r.work(in)
					close(in.done)
				}
			})
		}
	}
	err := r.sequence()
	// Stop the workers and drop what they made and was not used.
	r.stop.Store(true)
	wg.Wait()
	for _, in := range queue {
		if t := in.result.tmp; t != nil {
			t.Close()
			os.Remove(t.Name())
		}
	}
	return err
}

// sequence writes the inputs' packets to the output in order.
func (r *filterRun) sequence() error {
	for _, in := range r.inputs {
		if r.limit > 0 && r.kept >= r.limit {
			return nil
		}
		if in.direct {
			if err := r.direct(in, in.fr); err != nil {
				return err
			}
			continue
		}
		<-in.done
		res := &in.result
		if res.fatal != nil {
			return res.fatal
		}
		// With -c, a file's packets can be taken whole only if they do
		// not pass the limit, or if the worker stopped at the limit with
		// nothing kept before it; otherwise the file is filtered again
		// here, to stop at the right packet.
		if r.limit > 0 && r.kept+res.kept >= r.limit && !(r.kept == 0 && res.hitLimit) {
			res.tmp.Close()
			os.Remove(res.tmp.Name())
			res.tmp = nil
			in.prog.bytes.Store(0)
			fr, closeFn, _, err := openCapture(r.s, in.name, &in.prog.bytes)
			if err != nil {
				return err
			}
			in.close = closeFn
			if err := r.direct(in, fr); err != nil {
				return err
			}
			continue
		}
		if err := r.appendResult(res); err != nil {
			return err
		}
		r.kept += res.kept
		r.total += res.total
		r.interp += in.interp
		if res.err != nil {
			return res.err
		}
	}
	return nil
}

// direct streams an open input to the output.
func (r *filterRun) direct(in *input, fr *capture.FileReader) error {
	var sk sink = pcapSink{r.w}
	if r.w == nil {
		sk = lineSink{r.lines, r.lt}
	}
	limit := 0
	if r.limit > 0 {
		limit = r.limit - r.kept
	}
	kept, total, _, err := r.filterFile(in, fr, sk, r.total, limit)
	r.kept += kept
	r.total += total
	r.interp += in.interp
	if in.close != nil {
		in.close()
		in.close = nil
	}
	return err
}

// work filters one input into a temporary file.
func (r *filterRun) work(in *input) {
	res := &in.result
	if r.stop.Load() {
		return
	}
	fr, closeFn, _, err := openCapture(r.s, in.name, &in.prog.bytes)
	if err != nil {
		res.fatal = err
		return
	}
	defer closeFn()
	tmp, err := os.CreateTemp(r.tmpDir, ".bpfc-filter-*")
	if err != nil {
		tmp, err = os.CreateTemp("", "bpfc-filter-*")
	}
	if err != nil {
		res.fatal = fmt.Errorf("temporary file: %w", err)
		return
	}
	res.tmp = tmp
	if runtime.GOOS != "windows" {
		// Unlinked at once: nothing is left behind if the run is killed.
		os.Remove(tmp.Name())
	}
	var sk sink
	var flush func() error
	if r.w != nil {
		w, err := capture.NewFileWriter(tmp, r.lt, r.snap, r.nanos)
		if err != nil {
			res.fatal = err
			return
		}
		sk, flush = pcapSink{w}, w.Flush
	} else {
		bw := bufio.NewWriterSize(tmp, 1<<16)
		sk, flush = lineSink{bw, r.lt}, bw.Flush
	}
	res.kept, res.total, res.hitLimit, res.err = r.filterFile(in, fr, sk, 0, r.limit)
	if errors.Is(res.err, errStopped) {
		return
	}
	if err := flush(); err != nil {
		res.fatal = fmt.Errorf("temporary file: %w", err)
		return
	}
	off := int64(0)
	if r.w != nil {
		off = 24 // the temporary file's pcap header
	}
	if _, err := tmp.Seek(off, io.SeekStart); err != nil {
		res.fatal = fmt.Errorf("temporary file: %w", err)
	}
}

// appendResult copies a worker's kept packets to the output.
func (r *filterRun) appendResult(res *workResult) error {
	defer func() {
		res.tmp.Close()
		os.Remove(res.tmp.Name())
		res.tmp = nil
	}()
	if r.w != nil {
		// Copied file to file, this can stay in the kernel.
		if err := r.w.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", r.outName(), err)
		}
		if _, err := io.Copy(r.out, res.tmp); err != nil {
			return fmt.Errorf("write %s: %w", r.outName(), err)
		}
		return nil
	}
	// Lines: renumber from the packets before this file.
	br := bufio.NewReaderSize(res.tmp, 1<<16)
	var num []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			i := strings.IndexByte(string(line), ' ')
			n, perr := strconv.Atoi(string(line[:max(i, 0)]))
			if i < 0 || perr != nil {
				return errors.New("temporary file: malformed line")
			}
			num = strconv.AppendInt(num[:0], int64(r.total+n), 10)
			r.lines.Write(num)
			if _, err := r.lines.Write(line[i:]); err != nil {
				return fmt.Errorf("write %s: %w", r.outName(), err)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("temporary file: %w", err)
		}
	}
}

// A sink takes the packets kept.
type sink interface {
	keep(n int, p capture.Packet) error
}

type pcapSink struct{ w *capture.FileWriter }

func (s pcapSink) keep(_ int, p capture.Packet) error { return s.w.Write(p) }

type lineSink struct {
	w  *bufio.Writer
	lt cbpf.LinkType
}

func (s lineSink) keep(n int, p capture.Packet) error {
	printPacket(s.w, n, p, s.lt)
	return nil
}

// progressEvery is how many packets pass between updates of the progress
// counters and checks of the stop flag.
const progressEvery = 4096

// filterFile runs the filter over an input's packets, handing those kept
// to sk (numbered from base+1), until the end of the file or limit kept
// packets (0: no limit). This is the hot loop: with the vm engine, no
// allocation per packet. With a kernel engine, a packet the kernel's test
// run cannot take is run by the interpreter, and counted in in.interp.
func (r *filterRun) filterFile(in *input, fr *capture.FileReader, sk sink, base, limit int) (kept, total int, hitLimit bool, err error) {
	vm, kf := in.vm, in.kernel
	interp := 0
	defer func() {
		in.prog.packets.Store(int64(total))
		in.interp = interp
	}()
	for {
		p, err := fr.Next()
		if err != nil {
			if err == io.EOF {
				return kept, total, false, nil
			}
			return kept, total, false, fmt.Errorf("%s: %w", in.name, err)
		}
		total++
		if total%progressEvery == 0 {
			in.prog.packets.Store(int64(total))
			if r.stop.Load() {
				return kept, total, false, errStopped
			}
		}
		if kf == nil {
			if vm.Run(p.Data, p.Info.Len) == 0 {
				continue
			}
		} else {
			keep, byVM, err := kf.keep(vm, p.Data, p.Info.Len)
			if err != nil {
				return kept, total, false, fmt.Errorf("%s: packet %d: %w", in.name, total, err)
			}
			if byVM {
				interp++
			}
			if !keep {
				continue
			}
		}
		kept++
		if err := sk.keep(base+total, p); err != nil {
			return kept, total, false, fmt.Errorf("write %s: %w", r.outName(), err)
		}
		if limit > 0 && kept >= limit {
			return kept, total, true, nil
		}
	}
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
	cbpf.LinkLinuxSLL2: layers.LayerTypeLinuxSLL2,
}

// describe decodes a packet lazily and names its layers and addresses
// (and, for a Linux cooked v2 capture, its direction).
func describe(data []byte, lt cbpf.LinkType) string {
	if lt == cbpf.LinkLinuxSLL2 && len(data) > 10 {
		dir := "In "
		if data[10] == 4 { // PACKET_OUTGOING
			dir = "Out "
		}
		return dir + describeLayers(data, lt)
	}
	return describeLayers(data, lt)
}

func describeLayers(data []byte, lt cbpf.LinkType) string {
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

// stderrIsTerminal reports whether progress may be shown on w.
var stderrIsTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Progress is shown once a run has lasted progressDelay, refreshed every
// progressInterval.
var (
	progressDelay    = 500 * time.Millisecond
	progressInterval = 250 * time.Millisecond
)

// progress shows, on one line of a terminal, how far a run has read.
type progress struct {
	w      io.Writer
	inputs []*input
	start  time.Time
	stopc  chan struct{}
	done   chan struct{}
}

// startProgress starts showing progress on w if it is a terminal.
func startProgress(w io.Writer, inputs []*input) *progress {
	p := &progress{w: w, inputs: inputs, start: time.Now()}
	if !stderrIsTerminal(w) {
		return p
	}
	p.stopc, p.done = make(chan struct{}), make(chan struct{})
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	shown := false
	for {
		select {
		case <-p.stopc:
			if shown {
				fmt.Fprint(p.w, "\r\x1b[K") // erase the line
			}
			return
		case now := <-t.C:
			if now.Sub(p.start) < progressDelay {
				continue
			}
			fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(now))
			shown = true
		}
	}
}

// line says how much has been read and how fast.
func (p *progress) line(now time.Time) string {
	var read, size, pkts int64
	known := true
	for _, in := range p.inputs {
		read += in.prog.bytes.Load()
		pkts += in.prog.packets.Load()
		size += in.size
		known = known && in.size > 0
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", megabytes(read))
	if known && size > 0 {
		fmt.Fprintf(&b, " of %s (%d%%)", megabytes(size), min(100, read*100/size))
	}
	secs := now.Sub(p.start).Seconds()
	fmt.Fprintf(&b, " read, %d packets, %.2f Mpkt/s", pkts, float64(pkts)/secs/1e6)
	return b.String()
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// finish stops the progress line and erases it.
func (p *progress) finish() {
	if p.stopc == nil {
		return
	}
	close(p.stopc)
	<-p.done
}
