#!/bin/bash
# refusals.sh compares which expressions bpfc refuses with which libpcap
# refuses, in the same run, on random expressions from bench/randexprs
# (the fuzz tests' generator) for some link types. libpcap is the law
# here: an expression it compiles must compile, one it refuses must be
# refused ("expression rejects all packets" included). Both sides compile
# in-process, once each: libpcap's pcap_compile through
# bench/c/compile_bench.c, bpfc.Compile through bench/compilecmp. It
# prints, per link type, how many both accept, both refuse, and how many
# only one of them refuses, then lists those with both messages.
#
# Usage: bench/refusals.sh [N [SEED]]   (default 2000 expressions, seed 21)
#        LINKS="EN10MB RAW" bench/refusals.sh
#        ALL=1 bench/refusals.sh        (with protochain and geneve)
#        MODE=and bench/refusals.sh     (and-heavy; MODE=const: with
#                                        relations of constants)
# Needs: go, a C compiler, libpcap-dev (installed with apt-get if missing).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
seed=${2:-21}
links=${LINKS:-EN10MB LINUX_SLL RAW IPV6 NULL}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/bench/lib.sh"
need_pkg "command -v cc" gcc
need_pkg "test -e /usr/include/pcap/pcap.h" libpcap-dev
cc -O2 -o "$tmp/compile_bench" "$root/bench/c/compile_bench.c" -lpcap
(cd "$root" && go build -o "$tmp/compilecmp" ./bench/compilecmp && go run ./bench/randexprs -n "$n" -seed "$seed" -mode "${MODE:-tree}" ${ALL:+-all}) >"$tmp/exprs.txt"
for lt in $links; do
	sed "s/^/$lt\t/" "$tmp/exprs.txt"
done >"$tmp/input.txt"
"$tmp/compile_bench" -r 1 "$tmp/input.txt" >"$tmp/libpcap.txt"
"$tmp/compilecmp" -r 1 "$tmp/input.txt" >"$tmp/bpfc.txt"

# Both outputs have a line per input line: "line error message" for a
# refusal, "line median_ns ..." otherwise.
paste "$tmp/input.txt" "$tmp/bpfc.txt" "$tmp/libpcap.txt" | awk -F'\t' -v links="$links" '
{
	lt = $1; expr = $2
	# bpfc: fields 3.. (line, error|ns, ...); libpcap: after them.
	bok = ($4 != "error"); bmsg = $5
	nb = (bok ? 8 : 5)
	lok = ($(nb + 2) != "error"); lmsg = $(nb + 3)
	if (bok && lok) both[lt]++
	else if (!bok && !lok) none[lt]++
	else if (!bok) { onlyb[lt]++; diff = diff sprintf("%s\tbpfc refuses: %s\t%s\n", lt, bmsg, expr) }
	else { onlyl[lt]++; diff = diff sprintf("%s\tlibpcap refuses: %s\t%s\n", lt, lmsg, expr) }
}
END {
	split(links, ls, " ")
	for (i = 1; i in ls; i++) {
		lt = ls[i]
		printf "%-10s both accept %d, both refuse %d, only bpfc refuses %d, only libpcap refuses %d\n", lt, both[lt], none[lt], onlyb[lt], onlyl[lt]
	}
	if (diff != "") printf "differences (link type, who refuses and why, expression):\n%s", diff
}'
