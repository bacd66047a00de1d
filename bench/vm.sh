#!/bin/sh
# vm.sh compares cbpf's interpreter with x/net/bpf's VM and libpcap's C
# bpf_filter, on the same program (`tcp port 80`) and packet (a 54-byte
# TCP SYN to port 80), measured in the same run, and prints the ratios.
#
# Usage: bench/vm.sh [count]    (count: runs of each benchmark, default 5)
# Needs: go, a C compiler, libpcap-dev (installed with apt-get if missing).
set -eu
count=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/bench/lib.sh"
need_pkg "[ -f /usr/include/pcap/pcap.h ]" libpcap-dev
cc=${CC:-cc}
$cc -O2 -o "$tmp/bpf_filter_bench" "$root/bench/c/bpf_filter_bench.c" -lpcap

(cd "$root" && go test ./cbpf -run '^$' -bench '^BenchmarkVM$' -count "$count") >"$tmp/go.txt"
"$tmp/bpf_filter_bench" "$count" >"$tmp/c.txt"

# median of the ns/op column for lines matching $1 in file $2
median() {
	grep -- "$1" "$2" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i}' |
		sort -n | awk '{v[NR] = $1} END {if (NR == 0) exit 1; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}
ours=$(median 'BenchmarkVM/bpfc-' "$tmp/go.txt")
count_ns=$(median 'BenchmarkVM/bpfc-count' "$tmp/go.txt")
xnet=$(median 'BenchmarkVM/xnet' "$tmp/go.txt")
libpcap=$(median 'bpf_filter' "$tmp/c.txt")

echo "tcp port 80, 54-byte TCP SYN to port 80 (13 instructions executed), median of $count runs:"
printf '  %-28s %8.2f ns/op\n' "cbpf VM.Run" "$ours" "cbpf VM.RunCount" "$count_ns" \
	"x/net/bpf VM.Run" "$xnet" "libpcap bpf_filter (C, -O2)" "$libpcap"
awk -v o="$ours" -v x="$xnet" -v c="$libpcap" 'BEGIN {
	printf "  x/net/bpf / cbpf = %.2fx (goal >= 2)\n", x / o
	printf "  libpcap / cbpf   = %.2fx (goal >= 1)\n", c / o
}'
