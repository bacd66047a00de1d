#!/bin/sh
# filter.sh times `bpfc filter` against `tcpdump -r -w` on the same large
# pcap (page-cached), in the same run: best wall time of N runs each and
# the maximum resident set size, checks that both outputs hold the same
# records byte for byte, and prints the ratio.
#
# A last line times bpfc over three copies of the file given in one run
# (filtered in parallel, written in order).
#
# Usage: bench/filter.sh [runs] [packets]   (defaults: 3 runs, 1050000 packets)
# Needs: go, tcpdump, GNU time (/usr/bin/time; installed with apt-get if
# missing). BENCH_DIR (default: a temporary folder) holds the ~150 MB
# capture; it is removed at the end unless BENCH_DIR was given.
set -eu
runs=${1:-3}
packets=${2:-1050000}
expr='tcp port 80 or udp port 53'
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${BENCH_DIR:-}" ]; then
	tmp=$BENCH_DIR
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
fi

. "$root/bench/lib.sh"
need() { need_pkg "command -v $1" "$2"; } # need COMMAND PACKAGE
need tcpdump tcpdump
[ -x /usr/bin/time ] || { need /usr/bin/time time; }

(cd "$root" && go build -o "$tmp/bpfc" ./cmd/bpfc)
if ! [ -f "$tmp/big.pcap" ]; then
	(cd "$root" && go run ./internal/genpcap -n "$packets" -out "$tmp/big.pcap")
fi
size=$(wc -c <"$tmp/big.pcap")
cat "$tmp/big.pcap" >/dev/null # into the page cache

# once NAME CMD...: runs CMD, appends "microseconds maxrss_kib cpu_s" to
# $tmp/NAME.times (wall time from date; max RSS and user+system CPU time
# from GNU time).
once() {
	name=$1
	shift
	start=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$tmp/t1" "$@" >/dev/null 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	end=$(date +%s%N)
	echo "$(((end - start) / 1000)) $(cat "$tmp/t1")" >>"$tmp/$name.times"
}
# best NAME: "seconds maxrss_kib cpu_s" of the fastest run.
best() { sort -n "$tmp/$1.times" | head -1 | awk '{printf "%.4f %d %.2f\n", $1 / 1e6, $2, $3 + $4}'; }

# The two alternate, so that both see the same load.
: >"$tmp/tcpdump.times"
: >"$tmp/bpfc.times"
i=0
while [ "$i" -lt "$runs" ]; do
	once tcpdump tcpdump -r "$tmp/big.pcap" -w "$tmp/tcpdump.pcap" "$expr"
	once bpfc "$tmp/bpfc" filter -r "$tmp/big.pcap" -w "$tmp/bpfc.pcap" "$expr"
	i=$((i + 1))
done
kept=$(tail -1 "$tmp/err")
: >"$tmp/bpfc3.times"
i=0
while [ "$i" -lt "$runs" ]; do
	once bpfc3 "$tmp/bpfc" filter -r "$tmp/big.pcap" -r "$tmp/big.pcap" -r "$tmp/big.pcap" -w "$tmp/bpfc3.pcap" "$expr"
	i=$((i + 1))
done
set -- $(best tcpdump)
td_s=$1 td_kb=$2 td_cpu=$3
set -- $(best bpfc)
bp_s=$1 bp_kb=$2 bp_cpu=$3
set -- $(best bpfc3)
b3_s=$1 b3_kb=$2 b3_cpu=$3

if cmp -s "$tmp/tcpdump.pcap" "$tmp/bpfc.pcap" 24 24; then
	same="identical records"
else
	echo "filter.sh: the outputs differ after the 24-byte header" >&2
	exit 1
fi

echo "'$expr' over $packets packets ($((size / 1000000)) MB, page-cached), best of $runs:"
printf '  %-24s %6.3f s wall  %5.2f s CPU  %6.1f Mpkt/s  max RSS %6.1f MiB\n' \
	"tcpdump -r -w" "$td_s" "$td_cpu" "$(echo "$packets $td_s" | awk '{print $1 / $2 / 1e6}')" "$(echo "$td_kb" | awk '{print $1 / 1024}')" \
	"bpfc filter -r -w" "$bp_s" "$bp_cpu" "$(echo "$packets $bp_s" | awk '{print $1 / $2 / 1e6}')" "$(echo "$bp_kb" | awk '{print $1 / 1024}')" \
	"bpfc, the file 3 times" "$b3_s" "$b3_cpu" "$(echo "$packets $b3_s" | awk '{print 3 * $1 / $2 / 1e6}')" "$(echo "$b3_kb" | awk '{print $1 / 1024}')"
echo "  $kept; $same"
awk -v t="$td_s" -v b="$bp_s" 'BEGIN { printf "  tcpdump / bpfc = %.2fx (goal >= 1)\n", t / b }'
