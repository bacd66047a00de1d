#!/bin/sh
# instrs.sh counts the machine instructions bpfc executes per compile,
# under valgrind, for the code of one or more git revisions: a measure of
# compile cost that does not drift with the machine's speed. On this
# machine kind (two shared vCPUs with steal time) timings of the same
# binary vary by tens of percent from one minute to the next; the counts
# vary by about 0.2 %, so two versions of the compiler can be compared
# in one run.
#
# Each revision's bench/compilecmp (built in a temporary git worktree;
# "." is the working tree as it is) compiles every expression of FILE 21
# times (the lines of compile.sh's corpus input, "LINKTYPE<TAB>expression";
# the default is the 593 tier-1 expressions of parser/testdata/corpus.tsv
# that libpcap accepts), with the garbage collector off (GOGC=off), whose
# background work would be counted at times that vary from run to run
# (and which the median compile time of compile.sh barely includes). The
# count of a run over an empty file (the process's start) is taken off,
# and the rest divided by the number of compiles. It includes
# compilecmp's own work per compile: two clock readings, and per
# expression a read of /proc/self/status. Without collections the pools
# of graphs, compilers and token streams are never emptied: the counts
# are of warm pools, and leave out the collector's work (allocation
# itself is counted).
# bench/median101.txt holds 101 expressions around the corpus's median
# compile time, the typical filters: -f bench/median101.txt.
#
# Usage: bench/instrs.sh [-f FILE] [REV ...]     (default REV: ".")
#        bench/instrs.sh HEAD~3 .                 (before and after)
# Prints the instructions per compile for each revision and, for two or
# more, each one's ratio to the first.
# Needs: go, git, valgrind (installed with apt-get if missing).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
need_pkg "command -v valgrind" valgrind

file=
if [ "${1:-}" = -f ]; then
	file=$2
	shift 2
fi
[ $# -gt 0 ] || set -- .
tmp=$(mktemp -d)
cleanup() {
	for wt in "$tmp"/wt.*; do
		[ -d "$wt" ] && git -C "$root" worktree remove --force "$wt" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "$file" ]; then
	file=$tmp/corpus.txt
	awk -F'\t' 'NR > 1 && $1 ~ /^(EN10MB|LINUX_SLL|NULL|RAW|IPV6)$/ && $3 !~ /^error/ && !seen[$1 "\t" $2]++ { print $1 "\t" $2 }' \
		"$root/parser/testdata/corpus.tsv" >"$file"
fi
lines=$(wc -l <"$file")
: >"$tmp/empty.txt"
reps=21

# count BIN INPUT: the instructions of compilecmp over INPUT.
count() {
	GOGC=off GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$1" -r "$reps" "$2" 2>&1 >/dev/null | awk '/I *refs/ { gsub(",", "", $4); print $4 }'
}

first=
i=0
for rev in "$@"; do
	i=$((i + 1))
	if [ "$rev" = . ]; then
		src=$root
	else
		src=$tmp/wt.$i
		git -C "$root" worktree add --detach "$src" "$rev" >/dev/null 2>&1
	fi
	(cd "$src" && go build -o "$tmp/cc.$i" ./bench/compilecmp)
	start=$(count "$tmp/cc.$i" "$tmp/empty.txt")
	total=$(count "$tmp/cc.$i" "$file")
	per=$(awk -v t="$total" -v s="$start" -v n="$lines" -v r="$reps" 'BEGIN { printf "%.0f", (t - s) / (n * r) }')
	label=$rev
	[ "$rev" = . ] && label="working tree"
	if [ -z "$first" ]; then
		first=$per
		printf '%s: %s instructions per compile (%d expressions, %d compiles each)\n' "$label" "$per" "$lines" "$reps"
	else
		printf '%s: %s instructions per compile, %.3f of the first\n' "$label" "$per" "$(awk -v a="$per" -v b="$first" 'BEGIN { print a / b }')"
	fi
done
