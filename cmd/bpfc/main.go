// Command bpfc compiles tcpdump filter expressions into classic BPF and
// works with the programs: dump, assemble, validate, run and capture.
package main

import "os"

func main() {
	os.Exit(int(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
}
