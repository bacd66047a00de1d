#!/bin/sh
# filter.sh times `bpfc filter` against `tcpdump -r -w` on the same large
# pcap (page-cached), in the same run: best wall time of N runs each and
# the maximum resident set size, checks that both outputs hold the same
# records byte for byte, and prints the ratio.
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

if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
need() { # need COMMAND PACKAGE
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "filter.sh: installing $2" >&2
		$sudo apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >&2
	fi
}
need tcpdump tcpdump
[ -x /usr/bin/time ] || { need /usr/bin/time time; }

(cd "$root" && go build -o "$tmp/bpfc" ./cmd/bpfc)
if ! [ -f "$tmp/big.pcap" ]; then
	(cd "$root" && go run ./internal/genpcap -n "$packets" -out "$tmp/big.pcap")
fi
size=$(wc -c <"$tmp/big.pcap")
cat "$tmp/big.pcap" >/dev/null # into the page cache

# best RUNS CMD...: runs CMD, prints "seconds maxrss_kib" of the fastest run.
best() {
	i=0
	: >"$tmp/times"
	while [ "$i" -lt "$runs" ]; do
		/usr/bin/time -f '%e %M' -o "$tmp/t1" "$@" >/dev/null 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; exit 1; }
		cat "$tmp/t1" >>"$tmp/times"
		i=$((i + 1))
	done
	sort -n "$tmp/times" | head -1
}

set -- $(best tcpdump -r "$tmp/big.pcap" -w "$tmp/tcpdump.pcap" "$expr")
td_s=$1 td_kb=$2
set -- $(best "$tmp/bpfc" filter -r "$tmp/big.pcap" -w "$tmp/bpfc.pcap" "$expr")
bp_s=$1 bp_kb=$2
kept=$(tail -1 "$tmp/err")

if cmp -s "$tmp/tcpdump.pcap" "$tmp/bpfc.pcap" 24 24; then
	same="identical records"
else
	echo "filter.sh: the outputs differ after the 24-byte header" >&2
	exit 1
fi

echo "'$expr' over $packets packets ($((size / 1000000)) MB, page-cached), best of $runs:"
printf '  %-24s %6.2f s  %6.1f Mpkt/s  max RSS %6.1f MiB\n' \
	"tcpdump -r -w" "$td_s" "$(echo "$packets $td_s" | awk '{print $1 / $2 / 1e6}')" "$(echo "$td_kb" | awk '{print $1 / 1024}')" \
	"bpfc filter -r -w" "$bp_s" "$(echo "$packets $bp_s" | awk '{print $1 / $2 / 1e6}')" "$(echo "$bp_kb" | awk '{print $1 / 1024}')"
echo "  $kept; $same"
awk -v t="$td_s" -v b="$bp_s" 'BEGIN { printf "  tcpdump / bpfc = %.2fx (goal >= 1)\n", t / b }'
