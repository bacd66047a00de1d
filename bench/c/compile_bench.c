/*
 * compile_bench times libpcap's pcap_compile (optimized, netmask 0 as
 * tcpdump -d has it) on expressions read one a line as
 * "LINKTYPE<TAB>expression" (LINKTYPE a libpcap name such as EN10MB),
 * from the file given or standard input. Each expression is compiled
 * with a pcap_open_dead(LINKTYPE, 262144) handle up to -r times (default
 * 21), fewer when the compiles of that expression have taken more than
 * -b milliseconds in all (default 2000); every compile is timed, none is
 * a warm-up. bench/compilecmp is the same for bpfc.
 *
 * Build: cc -O2 -o compile_bench compile_bench.c -lpcap
 * Usage: compile_bench [-r reps] [-b budget_ms] [file]
 * Output, one line per expression, tab-separated:
 *   line  median_ns  instructions  compiles  max_rss_kib
 * or, when libpcap refuses it,
 *   line  error  message
 * (line counts from 1; max_rss_kib is the process's peak so far).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static long max_rss_kib(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	int reps = 21;
	double budget_ms = 2000;
	int c;
	while ((c = getopt(argc, argv, "r:b:")) != -1) {
		switch (c) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 'b':
			budget_ms = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: compile_bench [-r reps] [-b budget_ms] [file]\n");
			return 2;
		}
	}
	if (reps < 1)
		reps = 1;
	FILE *in = stdin;
	if (optind < argc && (in = fopen(argv[optind], "r")) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	double *times = malloc(sizeof(double) * reps);
	if (times == NULL)
		return 1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *tab = strchr(line, '\t');
		if (tab == NULL) {
			printf("%ld\terror\tno tab\n", lineno);
			continue;
		}
		*tab = '\0';
		const char *expr = tab + 1;
		int dlt = pcap_datalink_name_to_val(line);
		if (dlt < 0) {
			printf("%ld\terror\tunknown link type %s\n", lineno, line);
			continue;
		}
		pcap_t *p = pcap_open_dead(dlt, 262144);
		if (p == NULL) {
			printf("%ld\terror\tpcap_open_dead failed\n", lineno);
			continue;
		}
		int done = 0, failed = 0;
		unsigned int insns = 0;
		double spent = 0;
		while (done < reps && (done == 0 || spent < budget_ms * 1e6)) {
			struct bpf_program prog;
			double t0 = now_ns();
			int rc = pcap_compile(p, &prog, expr, 1, 0);
			double t1 = now_ns();
			if (rc != 0) {
				printf("%ld\terror\t%s\n", lineno, pcap_geterr(p));
				failed = 1;
				break;
			}
			insns = prog.bf_len;
			pcap_freecode(&prog);
			times[done++] = t1 - t0;
			spent += t1 - t0;
		}
		pcap_close(p);
		if (failed)
			continue;
		qsort(times, done, sizeof(double), cmp_double);
		double med = done % 2 ? times[done / 2] : (times[done / 2 - 1] + times[done / 2]) / 2;
		printf("%ld\t%.0f\t%u\t%d\t%ld\n", lineno, med, insns, done, max_rss_kib());
		fflush(stdout);
	}
	free(line);
	free(times);
	return 0;
}
