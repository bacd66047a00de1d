#!/bin/bash
# lenrand.sh compares the length of bpfc's optimized programs with
# libpcap's (tcpdump -d -y EN10MB, measured in the same run) on random
# expressions from bench/randexprs (internal/randexpr, the fuzz tests'
# generator, at depth 3 and without protochain and geneve unless ALL=1;
# randdiff.sh's too): it prints how many of bpfc's programs are shorter,
# equal and longer, the total of each, and lists the longer ones. The
# expressions both accept count; bench/lencmp does the same over
# libpcap's corpus.
#
# Usage: bench/lenrand.sh [N [SEED]]   (default 2000 expressions, seed 5)
#        ALL=1 bench/lenrand.sh        (with protochain and geneve)
# Needs: go, tcpdump (installed with apt-get if missing).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
seed=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/bench/lib.sh"
need_pkg "command -v tcpdump" tcpdump
(cd "$root" && go build -o "$tmp/bpfc" ./cmd/bpfc && go run ./bench/randexprs -n "$n" -seed "$seed" ${ALL:+-all}) >"$tmp/exprs.txt"

shorter=0 equal=0 longer=0 ours=0 theirs=0
: >"$tmp/longer.txt"
while IFS= read -r e; do
	b=$("$tmp/bpfc" compile -d -y EN10MB "$e" 2>/dev/null | wc -l) || true
	[ "$b" -gt 0 ] || continue
	l=$(tcpdump -d -y EN10MB "$e" 2>/dev/null | wc -l) || true
	[ "$l" -gt 0 ] || continue
	ours=$((ours + b))
	theirs=$((theirs + l))
	if [ "$b" -lt "$l" ]; then
		shorter=$((shorter + 1))
	elif [ "$b" -eq "$l" ]; then
		equal=$((equal + 1))
	else
		longer=$((longer + 1))
		printf '%d\t%d\t%s\n' "$b" "$l" "$e" >>"$tmp/longer.txt"
	fi
done <"$tmp/exprs.txt"
echo "$n random expressions (seed $seed), EN10MB, $((shorter + equal + longer)) accepted by both:"
echo "bpfc shorter $shorter, equal $equal, longer $longer"
awk -v b="$ours" -v l="$theirs" 'BEGIN { printf "instructions: bpfc %d, libpcap %d, ratio %.3f\n", b, l, b / l }'
if [ "$longer" -gt 0 ]; then
	echo "longer (bpfc, libpcap, expression):"
	sort -rn "$tmp/longer.txt"
fi
