// Command bpfprobe attaches a one-instruction classic filter to a UDP
// socket and exits 0. It exists for .ci/run: on a kernel whose BPF
// program loading is wedged (a bpf_prog_pack deadlock leaves every load
// blocked forever in uninterruptible sleep) it never returns, and the
// script, which runs it in the background and checks on it, can then
// tell the kernel tests to skip with that reason instead of hanging.
package main

import (
	"fmt"
	"os"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func main() {
	if err := probe(); err != nil {
		fmt.Fprintln(os.Stderr, "bpfprobe:", err)
		os.Exit(1)
	}
}

func probe() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	raw, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0xffff}})
	if err != nil {
		return err
	}
	filter := []unix.SockFilter{{Code: raw[0].Op, Jt: raw[0].Jt, Jf: raw[0].Jf, K: raw[0].K}}
	prog := unix.SockFprog{Len: 1, Filter: &filter[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
}
