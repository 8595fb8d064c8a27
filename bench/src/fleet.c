/*
 * fleet.c - fleet steady state, time compressed: H hosts with C components
 * each send one heartbeat (the load), then R rounds of heartbeats with
 * unchanged inventories, 30 s apart in event time but folded as fast as
 * possible in batches of B.  Reports CPU per heartbeat (fold only, JSON
 * building excluded), the share of a core at H/30 heartbeats per second
 * and the rows written per unchanged heartbeat, by table.
 *
 * usage: bench_fleet [-d db] [-H hosts] [-c components] [-r rounds]
 *	  [-b batch]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "rig.h"

#define HB_INTERVAL_MS	30000

struct run {
	int64_t		 cpu_ns;
	int64_t		 wall_ns;
	uint64_t	 n;
};

/* Fold one round (every host once) in batches; add to run. */
static void
round_fold(struct rig *r, size_t hosts, size_t ncomp, size_t batch,
    unsigned long round, int64_t t_ms, struct run *run)
{
	struct buf *bufs;
	char **data;
	size_t *len, h, i, n;
	int64_t c0, w0;

	if ((bufs = calloc(batch, sizeof(*bufs))) == NULL ||
	    (data = calloc(batch, sizeof(*data))) == NULL ||
	    (len = calloc(batch, sizeof(*len))) == NULL) {
		perror("calloc");
		exit(1);
	}
	for (h = 0; h < hosts; h += n) {
		n = hosts - h < batch ? hosts - h : batch;
		for (i = 0; i < n; i++) {
			buf_reset(&bufs[i]);
			/* Hosts spread over the interval. */
			bu_heartbeat(&bufs[i], h + i, round,
			    t_ms + (int64_t)((h + i) * HB_INTERVAL_MS / hosts),
			    ncomp, -1, 0);
			data[i] = bufs[i].p;
			len[i] = bufs[i].len;
		}
		c0 = bu_cpu_ns();
		w0 = bu_mono_ns();
		rig_batch(r, data, len, n,
		    t_ms + (int64_t)((h + n) * HB_INTERVAL_MS / hosts));
		run->wall_ns += bu_mono_ns() - w0;
		run->cpu_ns += bu_cpu_ns() - c0;
		run->n += n;
	}
	for (i = 0; i < batch; i++)
		buf_free(&bufs[i]);
	free(bufs);
	free(data);
	free(len);
}

/* Load the fleet, then measure unchanged rounds. */
int
main(int argc, char *argv[])
{
	const char *db = "bench-fleet.db";
	struct run load = { 0 }, steady = { 0 };
	struct rig r;
	uint64_t before[RIG_NTABLES], total = 0;
	size_t hosts = 10000, ncomp = 50, batch = 100;
	unsigned long round, rounds = 3;
	int64_t t_ms;
	double cpu_us;
	int ch, i;

	while ((ch = getopt(argc, argv, "d:H:c:r:b:")) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'H':
			hosts = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			ncomp = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_fleet [-d db] [-H hosts]"
			    " [-c components] [-r rounds] [-b batch]\n");
			return 2;
		}
	}
	if (hosts < 1 || batch < 1 || rounds < 1)
		return 2;
	rig_open(&r, db);
	t_ms = bu_now_ms() - (int64_t)(rounds + 1) * HB_INTERVAL_MS;

	round_fold(&r, hosts, ncomp, batch, 0, t_ms, &load);
	printf("phase=load hosts=%zu components=%zu heartbeats=%llu "
	    "wall_s=%.2f cpu_us_per_hb=%.1f\n", hosts, ncomp,
	    (unsigned long long)load.n, load.wall_ns / 1e9,
	    load.cpu_ns / 1e3 / (double)load.n);

	memcpy(before, r.rows, sizeof(before));
	memset(r.outcomes, 0, sizeof(r.outcomes));
	for (round = 1; round <= rounds; round++) {
		t_ms += HB_INTERVAL_MS;
		round_fold(&r, hosts, ncomp, batch, round, t_ms, &steady);
	}
	cpu_us = steady.cpu_ns / 1e3 / (double)steady.n;
	printf("phase=steady batch=%zu heartbeats=%llu unchanged=%llu "
	    "applied=%llu wall_s=%.2f cpu_us_per_hb=%.1f "
	    "core_pct_at_rate=%.2f rate_hb_s=%.0f", batch,
	    (unsigned long long)steady.n,
	    (unsigned long long)r.outcomes[LT_OUT_UNCHANGED],
	    (unsigned long long)r.outcomes[LT_OUT_APPLIED],
	    steady.wall_ns / 1e9, cpu_us,
	    cpu_us * ((double)hosts * 1000.0 / HB_INTERVAL_MS) / 1e4,
	    (double)hosts * 1000.0 / HB_INTERVAL_MS);
	for (i = 0; i < RIG_NTABLES; i++)
		total += r.rows[i] - before[i];
	printf(" rows_per_hb=%.3f", (double)total / (double)steady.n);
	for (i = 0; i < RIG_NTABLES; i++)
		printf(" %s_per_hb=%.3f", rig_table_name(i),
		    (double)(r.rows[i] - before[i]) / (double)steady.n);
	printf(" peak_rss_kib=%ld\n", bu_peak_rss_kib());
	rig_close(&r);
	return 0;
}
