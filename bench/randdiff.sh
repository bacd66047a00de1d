#!/bin/sh
# randdiff.sh runs random expressions (bench/randexprs) through
# ../shared/tools/difftest: for each, bpfc filter and tcpdump on one
# capture, and prints how many keep the same packets (the last line is
# the agreement figure).
#
# Usage: bench/randdiff.sh [N [SEED [CAPTURE]]]
#        (default 2000 expressions, seed 21, ../shared/corpus/pcaps/en10mb.pcap)
#        DIFFTEST=path/to/difftest VERBOSE=1 ALL=1 bench/randdiff.sh
#        (ALL=1: with protochain and geneve among the primitives)
# Needs: go, tcpdump (installed with apt-get if missing), python3 (difftest).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
seed=${2:-21}
pcap=${3:-$root/../shared/corpus/pcaps/en10mb.pcap}
difftest=${DIFFTEST:-$root/../shared/tools/difftest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/bench/lib.sh"
need_pkg "command -v tcpdump" tcpdump
[ -x "$difftest" ] || { echo "randdiff: no difftest at $difftest (set DIFFTEST)" >&2; exit 1; }
(cd "$root" && go build -o "$tmp/bpfc" ./cmd/bpfc && go run ./bench/randexprs -n "$n" -seed "$seed" ${ALL:+-all}) >"$tmp/exprs.txt"
echo "$n random expressions (seed $seed) on $(basename "$pcap"):"
if [ "${VERBOSE:-}" ]; then
	"$difftest" --exprs "$tmp/exprs.txt" --pcap "$pcap" -v "$tmp/bpfc" | grep -v '^match' || true
else
	"$difftest" --exprs "$tmp/exprs.txt" --pcap "$pcap" "$tmp/bpfc" | tail -2 || true
fi
