/*
 * soak.c - the fleet steady state live and in real time, for memory: H
 * hosts with C components each heartbeat over NATS at R heartbeats/s
 * (10,000 hosts every 30 s is 333/s), round-robin, every inventory
 * unchanged after the host's first heartbeat (the first H/R seconds load
 * the fleet).  Every -i seconds it samples the VmRSS of process -p (the
 * latticed under test) and prints one line per sample; at the end one
 * summary line: first, after the warm-up (-w), last and max RSS, growth =
 * last - after warm-up, VmHWM, and the process's CPU share after the
 * warm-up.
 *
 * usage: bench_soak -s url -p pid [-t seconds] [-H hosts] [-c components]
 *	  [-r hb_per_s] [-i sample_s] [-w warmup_s] [-l lattice]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "benchutil.h"

/* One sample of the process under test. */
struct sample {
	int64_t	 t_ms;		/* since the start */
	long	 rss_kib;
	long	 hwm_kib;
	double	 cpu_s;
};

/* Read VmRSS and VmHWM of pid; 0 when it is gone. */
static int
read_status(long pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *fp;

	*rss = *hwm = 0;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
	}
	fclose(fp);
	return 1;
}

/* User + system CPU seconds of pid (-1 when it is gone). */
static double
read_cpu(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* Fields after the command name, which may hold blanks. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Take one sample; 0 when the process is gone. */
static int
take(long pid, int64_t t_ms, struct sample *s)
{
	s->t_ms = t_ms;
	s->cpu_s = read_cpu(pid);
	return read_status(pid, &s->rss_kib, &s->hwm_kib) && s->cpu_s >= 0;
}

/* Publish on schedule, sample, summarise. */
int
main(int argc, char *argv[])
{
	const char *url = NULL, *lattice = "default";
	natsConnection *nc = NULL;
	natsOptions *opts = NULL;
	struct sample *sv = NULL, warm = { 0 }, *last;
	struct timespec ts;
	struct buf b = { 0 };
	char subj[256];
	long pid = 0, maxrss = 0, hosts = 10000, ncomp = 50;
	double rate = 333.0, seconds = 600, every = 10, warmup = 60;
	int64_t start, due, now, behind = 0, next_sample;
	size_t ns = 0, cap;
	unsigned long sent = 0;
	int ch, have_warm = 0, gone = 0;

	while ((ch = getopt(argc, argv, "s:p:t:H:c:r:i:w:l:")) != -1) {
		switch (ch) {
		case 's':
			url = optarg;
			break;
		case 'p':
			pid = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'H':
			hosts = strtol(optarg, NULL, 10);
			break;
		case 'c':
			ncomp = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'i':
			every = strtod(optarg, NULL);
			break;
		case 'w':
			warmup = strtod(optarg, NULL);
			break;
		case 'l':
			lattice = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_soak -s url -p pid "
			    "[-t s] [-H hosts] [-c comps] [-r hb/s] [-i s] "
			    "[-w s] [-l lattice]\n");
			return 2;
		}
	}
	if (url == NULL || pid <= 0 || hosts <= 0 || ncomp < 0 ||
	    rate <= 0 || seconds <= 0 || every <= 0) {
		fprintf(stderr, "bench_soak: need -s url, -p pid and positive "
		    "figures\n");
		return 2;
	}
	cap = (size_t)(seconds / every) + 3;
	if ((sv = calloc(cap, sizeof(*sv))) == NULL) {
		perror("calloc");
		return 1;
	}
	if (natsOptions_Create(&opts) != NATS_OK ||
	    natsOptions_SetURL(opts, url) != NATS_OK ||
	    natsConnection_Connect(&nc, opts) != NATS_OK) {
		fprintf(stderr, "bench_soak: cannot connect to %s: %s\n", url,
		    nats_GetLastError(NULL));
		return 1;
	}
	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.host_heartbeat",
	    lattice);
	start = bu_mono_ns();
	next_sample = start;
	for (;;) {
		now = bu_mono_ns();
		if (now >= next_sample) {
			if (!take(pid, (now - start) / 1000000, &sv[ns])) {
				gone = 1;
				break;
			}
			printf("sample t_s=%.0f rss_kib=%ld hwm_kib=%ld "
			    "cpu_s=%.2f sent=%lu\n", (double)sv[ns].t_ms /
			    1000, sv[ns].rss_kib, sv[ns].hwm_kib,
			    sv[ns].cpu_s, sent);
			fflush(stdout);
			if (!have_warm && sv[ns].t_ms >= warmup * 1000) {
				warm = sv[ns];
				have_warm = 1;
			}
			if (sv[ns].rss_kib > maxrss)
				maxrss = sv[ns].rss_kib;
			if (ns + 1 < cap)
				ns++;
			next_sample += (int64_t)(every * 1e9);
			if (now - start >= (int64_t)(seconds * 1e9))
				break;
		}
		due = start + (int64_t)((double)sent * 1e9 / rate);
		if (due > next_sample)
			due = next_sample;
		ts.tv_sec = due / 1000000000;
		ts.tv_nsec = due % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
		now = bu_mono_ns();
		if (now < start + (int64_t)((double)sent * 1e9 / rate))
			continue;	/* woke for a sample */
		if (now - due > behind)
			behind = now - due;
		buf_reset(&b);
		bu_heartbeat(&b, sent % (unsigned long)hosts,
		    sent / (unsigned long)hosts, bu_now_ms(), (size_t)ncomp,
		    -1, 0);
		if (natsConnection_Publish(nc, subj, b.p, (int)b.len) !=
		    NATS_OK) {
			fprintf(stderr, "bench_soak: publish: %s\n",
			    nats_GetLastError(NULL));
			return 1;
		}
		sent++;
	}
	natsConnection_FlushTimeout(nc, 5000);
	if (ns == 0) {
		fprintf(stderr, "bench_soak: process %ld is gone\n", pid);
		return 1;
	}
	last = &sv[ns - 1];
	if (!have_warm)
		warm = sv[0];
	printf("soak seconds=%.0f heartbeats=%lu rate_hb_s=%.1f hosts=%ld "
	    "components=%ld samples=%zu first_kib=%ld warm_kib=%ld "
	    "warm_t_s=%.0f last_kib=%ld max_kib=%ld growth_kib=%ld "
	    "hwm_kib=%ld cpu_pct_after_warmup=%.2f publisher_behind_ms=%.0f "
	    "gone=%d\n", (double)last->t_ms / 1000, sent,
	    last->t_ms > 0 ? (double)sent * 1000 / (double)last->t_ms : 0,
	    hosts, ncomp, ns, sv[0].rss_kib, warm.rss_kib,
	    (double)warm.t_ms / 1000, last->rss_kib, maxrss,
	    last->rss_kib - warm.rss_kib, last->hwm_kib,
	    last->t_ms > warm.t_ms ? 100 * (last->cpu_s - warm.cpu_s) * 1000 /
	    (double)(last->t_ms - warm.t_ms) : 0, (double)behind / 1e6, gone);
	buf_free(&b);
	free(sv);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	return gone ? 1 : 0;
}
