/*
 * bpf_filter_bench times libpcap's bpf_filter on `tcp port 80` (the
 * program `tcpdump -ddd 'tcp port 80'` prints) and a 54-byte TCP SYN to
 * port 80: the same program and packet as cbpf's BenchmarkVM.
 *
 * Build: cc -O2 -o bpf_filter_bench bpf_filter_bench.c -lpcap
 * Output: one line per round, "bpf_filter <ns> ns/op".
 */
#include <pcap/pcap.h>
#include <pcap/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct bpf_insn prog[] = {
	{40, 0, 0, 12}, {21, 0, 6, 34525}, {48, 0, 0, 20}, {21, 0, 15, 6},
	{40, 0, 0, 54}, {21, 12, 0, 80}, {40, 0, 0, 56}, {21, 10, 11, 80},
	{21, 0, 10, 2048}, {48, 0, 0, 23}, {21, 0, 8, 6}, {40, 0, 0, 20},
	{69, 6, 0, 8191}, {177, 0, 0, 14}, {72, 0, 0, 14}, {21, 2, 0, 80},
	{72, 0, 0, 16}, {21, 0, 1, 80}, {6, 0, 0, 262144}, {6, 0, 0, 0},
};

static const unsigned char pkt[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	long iters = argc > 2 ? atol(argv[2]) : 20000000;
	volatile unsigned int sink = 0;
	unsigned int len = sizeof pkt;

	if (bpf_filter(prog, pkt, len, len) != 262144) {
		fprintf(stderr, "bpf_filter: unexpected verdict\n");
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		for (long i = 0; i < iters; i++)
			sink += bpf_filter(prog, pkt, len, len);
		double t1 = now();
		printf("bpf_filter %.2f ns/op\n", (t1 - t0) / iters);
	}
	(void)sink;
	return 0;
}
