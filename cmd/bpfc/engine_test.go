package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/bpfc/bpfc/ebpf"
	"github.com/bpfc/bpfc/internal/testenv"
	"github.com/bpfc/bpfc/internal/testpcap"
)

var kernelCheck = sync.OnceValue(func() error {
	if err := testenv.KernelBPFWedged(); err != nil {
		return err
	}
	return ebpf.Supported()
})

// kernelEnginesSkip returns why the kernel engines cannot be tested here
// (no privilege, no eBPF, a wedged kernel), or "". Another failure of
// ebpf.Supported fails the test: a privileged machine must run them.
func kernelEnginesSkip(t *testing.T) string {
	t.Helper()
	err := kernelCheck()
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ebpf.ErrPermission), errors.Is(err, ebpf.ErrNotSupported), testenv.KernelBPFWedged() != nil:
		return err.Error()
	}
	t.Fatalf("ebpf.Supported: %v", err)
	return ""
}

// testEngines lists the engines the filter tests run with: vm, and the
// kernel ones when this process can run eBPF programs.
func testEngines(t *testing.T) []string {
	t.Helper()
	if why := kernelEnginesSkip(t); why != "" {
		t.Logf("kernel engines not tested: %s", why)
		return []string{engineVM}
	}
	return []string{engineVM, engineKernel, engineXDP}
}

// noteRE is the kernel engines' line on the packets they left to the
// interpreter.
var noteRE = regexp.MustCompile(`(?m)^bpfc: note: ([0-9]+) of ([0-9]+) packets were run by the interpreter, not the kernel: .*\n`)

// dropNote removes the kernel engines' note from standard error and
// returns the rest and the number of packets the note gives (-1 when
// there is no note).
func dropNote(stderr string) (string, int) {
	m := noteRE.FindStringSubmatch(stderr)
	if m == nil {
		return stderr, -1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return noteRE.ReplaceAllString(stderr, ""), n
}

// refusedByTestRun counts the packets of a capture the kernel's test run
// of each program type refuses (ebpf.ErrPacketSize), with a program that
// returns 0: how many each kernel engine must leave to the interpreter.
func refusedByTestRun(t *testing.T, path string) map[string]int {
	t.Helper()
	c, err := testpcap.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for engine, typ := range map[string]ebpf.Type{engineKernel: ebpf.SchedCLS, engineXDP: ebpf.XDP} {
		p, err := ebpf.Load(typ, asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range c.Records {
			_, err := p.Run(r.Data, int(r.Orig))
			switch {
			case errors.Is(err, ebpf.ErrPacketSize):
				out[engine]++
			case err != nil:
				p.Close()
				t.Fatal(err)
			}
		}
		p.Close()
	}
	return out
}

// engineResult is what one `bpfc filter` run gave.
type engineResult struct {
	code   exitCode
	out    []byte // the -w file, nil if none was written
	stdout string
	stderr string
}

func runEngine(t *testing.T, engine, in, out, expr string) engineResult {
	t.Helper()
	os.Remove(out)
	args := []string{"filter", "--engine", engine, "-r", in}
	if out != "" {
		args = append(args, "-w", out)
	}
	var stdout, stderr bytes.Buffer
	code := run(append(args, expr), nil, &stdout, &stderr)
	res := engineResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if out != "" {
		res.out, _ = os.ReadFile(out)
	}
	return res
}

// TestFilterEnginesAgree runs `bpfc filter` with each engine over every
// capture of testdata/pcaps (eleven link types, truncated and malformed
// packets among them) and every expression of testdata/exprs.txt: the
// kernel and xdp engines must write byte for byte the pcap file the vm
// engine writes and print the same count line (or refuse the expression
// with the same message), their only addition being the note on the
// packets the kernel's test run cannot take, which must count exactly
// those. On a few expressions the line output (no -w) is compared too.
func TestFilterEnginesAgree(t *testing.T) {
	if why := kernelEnginesSkip(t); why != "" {
		t.Skipf("cannot run eBPF in the kernel: %s", why)
	}
	exprs := readExprs(t, "../../testdata/exprs.txt")
	caps, err := filepath.Glob(pcaps + "*.pcap")
	if err != nil || len(caps) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	if testing.Short() {
		caps = []string{pcaps + "en10mb.pcap", pcaps + "linux_sll.pcap"}
	}
	dir := t.TempDir()
	var runs, refusedExprs, kept, total, noted int
	for _, c := range caps {
		name := strings.TrimSuffix(filepath.Base(c), ".pcap")
		refused := refusedByTestRun(t, c)
		for i, expr := range exprs {
			if testing.Short() && i%4 != 0 {
				continue
			}
			want := runEngine(t, engineVM, c, filepath.Join(dir, "vm.pcap"), expr)
			if _, n := dropNote(want.stderr); n >= 0 {
				t.Fatalf("%s %q: the vm engine printed a note: %q", name, expr, want.stderr)
			}
			lines := i < 12
			var wantLines engineResult
			if lines {
				wantLines = runEngine(t, engineVM, c, "", expr)
			}
			if want.code != exitOK {
				refusedExprs++
			} else {
				var k, n int
				fmt.Sscanf(want.stderr[strings.LastIndexByte(strings.TrimSuffix(want.stderr, "\n"), '\n')+1:], "%d of %d packets kept", &k, &n)
				kept, total = kept+k, total+n
			}
			for _, engine := range []string{engineKernel, engineXDP} {
				runs++
				got := runEngine(t, engine, c, filepath.Join(dir, engine+".pcap"), expr)
				stderr, note := dropNote(got.stderr)
				switch {
				case got.code != want.code || stderr != want.stderr:
					t.Errorf("%s %q: --engine %s: exit %d, stderr %q; vm: exit %d, stderr %q", name, expr, engine, got.code, got.stderr, want.code, want.stderr)
				case !bytes.Equal(got.out, want.out):
					t.Errorf("%s %q: --engine %s wrote %d bytes, vm %d (or different ones)", name, expr, engine, len(got.out), len(want.out))
				case want.code == exitOK && refused[engine] > 0 && note != refused[engine]:
					t.Errorf("%s %q: --engine %s: note gives %d packets run by the interpreter, want %d: %q", name, expr, engine, note, refused[engine], got.stderr)
				case want.code == exitOK && refused[engine] == 0 && note >= 0:
					t.Errorf("%s %q: --engine %s: a note, but the test run takes every packet: %q", name, expr, engine, got.stderr)
				}
				if note > 0 {
					noted++
				}
				if lines {
					gl := runEngine(t, engine, c, "", expr)
					if gl.stdout != wantLines.stdout {
						t.Errorf("%s %q: --engine %s printed other lines than vm:\n%s\nvm:\n%s", name, expr, engine, gl.stdout, wantLines.stdout)
					}
				}
			}
		}
		t.Logf("%-16s %4d packets; test run refuses %d (tc) and %d (xdp)", name, countRecords(t, c), refused[engineKernel], refused[engineXDP])
	}
	t.Logf("%d captures × %d expressions: %d kernel and xdp runs identical to vm (%d of %d packets kept, summed over the runs; %d expression×capture refused by all engines alike; %d runs with a note)",
		len(caps), len(exprs), runs, kept, total, refusedExprs, noted)
}

func countRecords(t *testing.T, path string) int {
	t.Helper()
	c, err := testpcap.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return len(c.Records)
}

// TestFilterEngineUsage: an unknown engine is a usage error.
func TestFilterEngineUsage(t *testing.T) {
	runCLICases(t, []cliCase{
		{name: "unknown engine", args: []string{"filter", "--engine", "gpu", "-r", pcaps + "en10mb.pcap", "tcp"}, code: exitUsage, err: `unknown --engine "gpu": want vm, kernel or xdp`},
		{name: "vm by name", args: []string{"filter", "--engine", "vm", "-r", pcaps + "en10mb.pcap", "-w", filepath.Join(t.TempDir(), "out.pcap"), "tcp"}, code: exitOK, err: "packets kept"},
	})
}

// unprivilegedEnv carries the CLI arguments to the child of
// TestFilterEngineUnprivileged, fields separated by \x1f.
const unprivilegedEnv = "BPFC_TEST_UNPRIVILEGED_ARGS"

// TestFilterEngineUnprivileged runs `bpfc filter --engine kernel|xdp`
// without privilege: as root, in a copy of this test binary run as
// nobody with no capabilities (setpriv); otherwise in this process. It
// must exit 1 with a message that says the kernel refused and that the
// vm engine needs no privilege, and create no output; the vm engine,
// run the same way, must work.
func TestFilterEngineUnprivileged(t *testing.T) {
	dir := t.TempDir()
	var runAs func(args []string) (exitCode, string)
	if os.Geteuid() != 0 {
		if ebpf.Supported() == nil {
			t.Skip("this process is not root but may load eBPF programs")
		}
		runAs = func(args []string) (exitCode, string) {
			var stdout, stderr bytes.Buffer
			return run(args, nil, &stdout, &stderr), stderr.String()
		}
	} else {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("setpriv (util-linux) is not installed: cannot drop privilege")
		}
		// nobody must reach the binary, the capture and the output folder.
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "bpfc.test")
		copyFile(t, exe, bin, 0o755)
		runAs = func(args []string) (exitCode, string) {
			cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "-test.run=^TestFilterEngineUnprivilegedChild$")
			cmd.Env = append(os.Environ(), unprivilegedEnv+"="+strings.Join(args, "\x1f"))
			out, err := cmd.CombinedOutput()
			m := regexp.MustCompile(`(?s)<<exit ([0-9]+)>>\n(.*)<<end>>`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("child as nobody: %v:\n%s", err, out)
			}
			var code exitCode
			fmt.Sscan(string(m[1]), &code)
			return code, string(m[2])
		}
	}
	in := filepath.Join(dir, "in.pcap")
	copyFile(t, pcaps+"en10mb.pcap", in, 0o644)
	out := filepath.Join(dir, "out.pcap")
	for _, engine := range []string{engineKernel, engineXDP} {
		code, stderr := runAs([]string{"filter", "--engine", engine, "-r", in, "-w", out, "tcp port 80"})
		want := "^bpfc: --engine " + engine + ` runs the filter in the kernel, which this process cannot do \(--engine vm needs no privilege\): .*not permitted to load eBPF programs .*operation not permitted\n$`
		if code != exitError || !regexp.MustCompile(want).MatchString(stderr) {
			t.Errorf("--engine %s without privilege: exit %d, stderr %q; want exit 1 and %q", engine, code, stderr, want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--engine %s without privilege created %s", engine, out)
		}
	}
	code, stderr := runAs([]string{"filter", "-r", in, "-w", out, "tcp port 80"})
	if code != exitOK || !strings.HasSuffix(stderr, " packets kept\n") {
		t.Errorf("--engine vm without privilege: exit %d, stderr %q", code, stderr)
	}
}

// TestFilterEngineUnprivilegedChild is TestFilterEngineUnprivileged's
// child: it runs the CLI with the arguments it is given and prints the
// exit code and standard error between markers.
func TestFilterEngineUnprivilegedChild(t *testing.T) {
	args := os.Getenv(unprivilegedEnv)
	if args == "" {
		t.Skip("runs only as TestFilterEngineUnprivileged's child")
	}
	var stdout, stderr bytes.Buffer
	code := run(strings.Split(args, "\x1f"), nil, &stdout, &stderr)
	fmt.Printf("<<exit %d>>\n%s<<end>>\n", code, stderr.String())
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
