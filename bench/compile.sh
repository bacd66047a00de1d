#!/bin/sh
# compile.sh compares bpfc's compile time with libpcap's pcap_compile,
# measured in the same run:
#
#  1. the corpus: every expression of parser/testdata/corpus.tsv for
#     EN10MB, LINUX_SLL, NULL, RAW and IPV6 that both accept, each
#     compiled up to 21 times in each of ROUNDS rounds (default 3, the two
#     compilers taking turns on chunks of 20 expressions); it prints the
#     median over the corpus of the per-expression times (the least of the
#     rounds' medians), for libpcap (bench/c/compile_bench.c,
#     pcap_compile in-process, optimized, netmask 0) and bpfc
#     (bench/compilecmp, bpfc.Compile), and the ratio;
#  2. host lists "host 10.0.0.1 or host 10.0.0.2 or ..." on EN10MB, for
#     n = 100, 400, 800, 1,600 and 10,000 terms, one process per n: time,
#     program length and peak memory, and the growth exponent between
#     successive n (log t2/t1 / log n2/n1: 1 is linear, 3 cubic).
#     libpcap's optimizer is cubic (0.07 s for 100 terms, 3.6 s for 400,
#     28 s for 800, 470 s for 1,600 measured on this machine kind), so it
#     runs only up to LIBPCAP_MAX terms (default 800) and is given
#     LIBPCAP_TIMEOUT seconds (default 300) for each n.
#
# Usage: bench/compile.sh            (about 1 to 2 minutes)
#        LIBPCAP_MAX=1600 LIBPCAP_TIMEOUT=900 bench/compile.sh
#        HOSTS=0 ROUNDS=5 bench/compile.sh   (the corpus only)
# Needs: go, a C compiler, libpcap-dev (installed with apt-get if missing).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
libpcap_max=${LIBPCAP_MAX:-800}
libpcap_timeout=${LIBPCAP_TIMEOUT:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$root/bench/lib.sh"
need_pkg "[ -f /usr/include/pcap/pcap.h ]" libpcap-dev
cc=${CC:-cc}
$cc -O2 -o "$tmp/compile_bench" "$root/bench/c/compile_bench.c" -lpcap
(cd "$root" && go build -o "$tmp/compilecmp" ./bench/compilecmp)

# 1. The corpus: the tier-1 rows libpcap accepts (per the corpus), once each.
awk -F'\t' 'NR > 1 && $1 ~ /^(EN10MB|LINUX_SLL|NULL|RAW|IPV6)$/ && $3 !~ /^error/ && !seen[$1 "\t" $2]++ { print $1 "\t" $2 }' \
	"$root/parser/testdata/corpus.tsv" >"$tmp/corpus.txt"
# This machine's speed drifts by tens of percent within a minute (shared
# cores, steal time), so the two compilers take turns on chunks of 20
# expressions, ROUNDS times (default 3), and each expression keeps the
# least of its per-round medians.
rounds=${ROUNDS:-3}
(cd "$tmp" && split -l 20 -d -a 3 corpus.txt chunk.)
: >"$tmp/c.txt"
: >"$tmp/go.txt"
for r in $(seq 1 "$rounds"); do
	off=0
	for ch in "$tmp"/chunk.*; do
		n=$(wc -l <"$ch")
		"$tmp/compile_bench" "$ch" | awk -F'\t' -v o="$off" 'BEGIN { OFS = "\t" } { $1 += o; print }' >>"$tmp/c.txt"
		"$tmp/compilecmp" "$ch" | awk -F'\t' -v o="$off" 'BEGIN { OFS = "\t" } { $1 += o; print }' >>"$tmp/go.txt"
		off=$((off + n))
	done
done

# join the two outputs on the line number, keeping the lines both compiled,
# each with its least time over the rounds
awk -F'\t' 'NR == FNR { if ($2 != "error" && (!($1 in c) || $2 < c[$1])) c[$1] = $2; next }
	$2 != "error" && ($1 in c) && (!($1 in g) || $2 < g[$1]) { g[$1] = $2 }
	END { for (l in g) print c[l] "\t" g[l] }' "$tmp/c.txt" "$tmp/go.txt" >"$tmp/both.txt"
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) exit 1; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
lines=$(wc -l <"$tmp/corpus.txt")
both=$(wc -l <"$tmp/both.txt")
c_med=$(cut -f1 "$tmp/both.txt" | median)
go_med=$(cut -f2 "$tmp/both.txt" | median)
ratio_med=$(awk -F'\t' '{print $2 / $1}' "$tmp/both.txt" | median)
faster=$(awk -F'\t' '$2 <= $1' "$tmp/both.txt" | wc -l)
echo "corpus: $both of $lines expressions compiled by both (tier-1 link types, up to 21 compiles each, least of $rounds rounds taken in turns)"
awk -v c="$c_med" -v g="$go_med" -v r="$ratio_med" -v f="$faster" -v n="$both" 'BEGIN {
	printf "  median per-expression compile time: libpcap %.1f us, bpfc %.1f us, bpfc / libpcap = %.2f\n", c / 1000, g / 1000, g / c
	printf "  median of the per-expression ratios bpfc / libpcap = %.2f; bpfc as fast or faster on %d of %d\n", r, f, n
}'
awk -F'\t' '{ c += $1; g += $2 } END { printf "  total over the corpus: libpcap %.1f ms, bpfc %.1f ms, ratio %.2f\n", c / 1e6, g / 1e6, g / c }' "$tmp/both.txt"

[ "${HOSTS:-1}" = 0 ] && exit 0

# 2. Host lists.
hosts() {
	awk -v n="$1" 'BEGIN {
		printf "EN10MB\t"
		for (i = 1; i <= n; i++) {
			a = (i * 40503) % 16777216 # spread out: no two consecutive (see compile_bench_test.go)
			printf "%shost 10.%d.%d.%d", (i > 1 ? " or " : ""), int(a / 65536) % 256, int(a / 256) % 256, a % 256
		}
		printf "\n"
	}'
}
echo
echo "host lists on EN10MB, one process per n (libpcap up to n = $libpcap_max, ${libpcap_timeout} s timeout each):"
echo
echo "| n | libpcap time | libpcap insns | libpcap max RSS | bpfc time | bpfc insns | bpfc allocated | bpfc max RSS | libpcap / bpfc |"
echo "|---|---|---|---|---|---|---|---|---|"
: >"$tmp/series.txt"
for n in 100 400 800 1600 10000; do
	hosts "$n" >"$tmp/hosts.txt"
	g=$("$tmp/compilecmp" -r 5 -b 1000 "$tmp/hosts.txt")
	if [ "$n" -le "$libpcap_max" ]; then
		c=$(timeout "$libpcap_timeout" "$tmp/compile_bench" -r 5 -b 1000 "$tmp/hosts.txt" || echo "1	timeout")
		[ -n "$c" ] || c="1	timeout"
	else
		c="1	skipped"
	fi
	# C's line padded to its 5 fields (a timeout or an error has fewer)
	c=$(printf '%s\n' "$c" | awk -F'\t' '{ printf "%s\t%s\t%s\t%s\t%s", $1, $2, $3, $4, $5 }')
	printf '%s\t%s\t%s\n' "$n" "$c" "$g" >>"$tmp/series.txt"
done
# series.txt: n, then C's line, ns, insns, compiles, rss; then Go's line, ns, insns, compiles, rss, alloc
awk -F'\t' -v to="$libpcap_timeout" '
function dur(ns) { return ns >= 1e9 ? sprintf("%.2f s", ns / 1e9) : ns >= 1e6 ? sprintf("%.1f ms", ns / 1e6) : sprintf("%.0f us", ns / 1e3) }
function mib(kib) { return kib < 0 ? "?" : sprintf("%.1f MiB", kib / 1024) }
{
	n = $1
	if ($3 == "timeout" || $3 == "skipped" || $3 == "error") {
		ct = ($3 == "skipped" ? "not run" : $3 == "timeout" ? "> " to " s (timeout)" : "error"); ci = "—"; cr = "—"; cns = 0
	} else {
		cns = $3; ct = dur($3); ci = $4; cr = mib($6)
	}
	if ($8 == "error") { print "| " n " | bpfc error: " $9 " |"; next }
	gns = $8
	ratio = cns > 0 ? sprintf("%.0f×", cns / gns) : "—"
	printf "| %d | %s | %s | %s | %s | %s | %.1f MiB | %s | %s |\n", n, ct, ci, cr, dur(gns), $9, $12 / 1048576, mib($11), ratio
	if (pn) {
		ge = sprintf("%.2f", log(gns / pg) / log(n / pn))
		ce = (cns > 0 && pc > 0) ? sprintf("%.2f", log(cns / pc) / log(n / pn)) : "—"
		slopes = slopes sprintf("  %5d → %5d terms: libpcap %s, bpfc %s\n", pn, n, ce, ge)
	}
	pn = n; pg = gns; pc = cns
}
END { printf "\ngrowth exponent of the time, log(t2/t1) / log(n2/n1) (1 linear, 2 quadratic, 3 cubic):\n%s", slopes }
' "$tmp/series.txt"
echo
echo "(times: median of up to 5 compiles, fewer past 1 s; max RSS: the process's peak; bpfc allocated: bytes one compile allocates;"
echo " bpfc's programs over 4,096 instructions are compiled in full and refused only at the end, as the kernel would)"
