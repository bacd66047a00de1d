#!/bin/sh
# capture.sh measures `bpfc capture` against `tcpdump` under the same load:
# in a network namespace of its own, with a veth pair, it blasts N small
# UDP frames from one end while one capturer, then the other, captures on
# the other end with the same filter (half the frames match it), writing
# to /dev/null. Each run reports packets received by the filter, dropped
# by the kernel, written, and the CPU time the capturer spent while the
# frames flowed (the time on CPU of all its threads, exact to the
# nanosecond, from /proc/PID/task/*/schedstat, read once it listens and
# again after the last frame: start-up is left out) per packet received.
# The last lines give bpfc's figures as ratios to tcpdump's, from the
# sums over the runs. The runs alternate (tcpdump, bpfc, tcpdump, ...).
#
# Usage: bench/capture.sh [runs] [frames] [ring-KiB [bpfc-block-bytes]]
# Defaults: 3 runs, 200000 frames, and each capturer's own ring: tcpdump's
# 2 MiB in 8 blocks of 256 KiB (libpcap makes TPACKET_V3 blocks as big as
# its largest snapshot length, 256 KiB), bpfc's 4 MiB in 4 blocks of
# 1 MiB. A ring size is given to both as -B (bpfc then makes at least 4
# blocks, libpcap blocks of 256 KiB); a block size to bpfc alone, as
# --block-size: "2048 262144" gives both the same ring.
# Needs: root, go, iproute2, tcpdump, python3 (the sender). Nothing
# outside the namespace is touched; the namespace is removed at the end.
set -eu
runs=${1:-3}
frames=${2:-200000}
ring=${3:+-B $3}
block=${4:+--block-size $4}
expr='udp port 9'
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "capture.sh: needs root" >&2; exit 1; }
for c in ip tcpdump python3; do
	command -v $c >/dev/null || { echo "capture.sh: needs $c" >&2; exit 1; }
done
# A kernel whose BPF JIT allocator is deadlocked hangs every filter
# attach for ever (uninterruptible): refuse to start then.
if grep -qs '^bpf_prog_pack' /proc/[0-9]*/task/[0-9]*/wchan; then
	echo "capture.sh: the kernel's BPF JIT is wedged (tasks blocked in bpf_prog_pack_*, see dmesg): attaching a filter would hang; reboot first" >&2
	exit 1
fi

tmp=$(mktemp -d)
ns=bpfc-bench-$$
cleanup() {
	[ -n "${cap:-}" ] && kill "$cap" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$tmp/bpfc" ./cmd/bpfc)

ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add veth-a type veth peer name veth-b
ip -n "$ns" link set veth-a up
ip -n "$ns" link set veth-b up
mac_b=$(ip -n "$ns" -o link show veth-b | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# The sender: a raw socket on veth-a, two prebuilt frames (to ports 9 and
# 10, alternately), sent as fast as Python sends them.
cat >"$tmp/blast.py" <<PY
import socket, struct, sys
n = int(sys.argv[1])
dst = bytes.fromhex("$mac_b".replace(":", ""))
src = bytes.fromhex("020000000001")
def frame(port):
    udp = struct.pack("!HHHH", 40000, port, 8 + 18, 0) + bytes(18)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10,0,0,1]), bytes([10,0,0,2]))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
    return dst + src + b"\x08\x00" + ip + udp
f = [frame(9), frame(10)]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("veth-a", 0))
send = s.send
for i in range(n):
    send(f[i & 1])
PY

# oncpu PID: nanoseconds all threads of PID have run (/proc/PID/stat
# counts in clock ticks, 10 ms: too coarse).
oncpu() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%d", s }'
}

# run NAME CMD...: one capture under load; prints "received dropped written cpu_seconds".
run() {
	name=$1; shift
	ip netns exec "$ns" "$@" >"$tmp/out" 2>"$tmp/err" &
	cap=$!
	i=0
	until grep -q 'listening on' "$tmp/err"; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "capture.sh: $name did not start" >&2; cat "$tmp/err" >&2; exit 1; }
		sleep 0.1
	done
	sleep 0.5
	cpu0=$(oncpu "$cap")
	ip netns exec "$ns" python3 "$tmp/blast.py" "$frames"
	sleep 1
	cpu=$(awk -v a="$cpu0" -v b="$(oncpu "$cap")" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	kill -INT "$cap"
	wait "$cap" || true
	cap=
	captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$tmp/err")
	received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$tmp/err")
	dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$tmp/err")
	echo "$received $dropped $captured $cpu"
}

printf '%-8s %4s %10s %10s %10s %10s %12s\n' capturer run received dropped written cpu_s ns/packet
: >"$tmp/sums"
r=1
while [ $r -le "$runs" ]; do
	for who in tcpdump bpfc; do
		if [ $who = tcpdump ]; then
			set -- $(run tcpdump tcpdump -i veth-b -p $ring -w /dev/null "$expr")
		else
			set -- $(run bpfc "$tmp/bpfc" capture -i veth-b -p $ring $block -w /dev/null "$expr")
		fi
		per=$(awk -v c="$4" -v n="$1" 'BEGIN { if (n > 0) printf "%.0f", c * 1e9 / n; else print "-" }')
		printf '%-8s %4d %10d %10d %10d %10s %12s\n' $who $r "$1" "$2" "$3" "$4" "$per"
		echo "$who $1 $2 $3 $4" >>"$tmp/sums"
	done
	r=$((r + 1))
done
awk '
	{ recv[$1] += $2; drop[$1] += $3; wrote[$1] += $4; cpu[$1] += $5 }
	END {
		printf "\nbpfc / tcpdump over all runs:\n"
		printf "  received  %.3f\n", recv["bpfc"] / recv["tcpdump"]
		d = drop["tcpdump"] > 0 ? sprintf("%.3f", drop["bpfc"] / drop["tcpdump"]) : sprintf("%d vs %d", drop["bpfc"], drop["tcpdump"])
		printf "  dropped   %s\n", d
		printf "  drop rate %.4f vs %.4f\n", drop["bpfc"] / recv["bpfc"], drop["tcpdump"] / recv["tcpdump"]
		printf "  CPU/packet %.3f\n", (cpu["bpfc"] / recv["bpfc"]) / (cpu["tcpdump"] / recv["tcpdump"])
	}' "$tmp/sums"
