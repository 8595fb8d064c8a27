/*
 * latency.c - publish->queryable latency at a fixed offered rate.
 *
 * A publisher thread sends component_scaled events at -r events/s for -n
 * events to wasmbus.evt.<lattice>.component_scaled, each with a unique id
 * whose send time it records.  The main thread polls latticed's database
 * (read-only connection) every millisecond for new rows in `events` and
 * takes now - send time for each.  Reports p50/p99/max in ms and how many
 * never appeared.
 *
 * usage: bench_latency -s url -d db [-r rate] [-n count] [-l lattice]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sqlite3.h>

#include "benchutil.h"

struct pub {
	natsConnection	*nc;
	const char	*lattice;
	long		 rate;
	size_t		 n;
	int64_t		*sent_ns;	/* wall clock per event, 0: unsent */
	_Atomic int	 done;
	int64_t		 behind_ns;	/* worst lag behind the schedule */
};

/* Publish n events on schedule. */
static void *
publisher(void *arg)
{
	struct pub *p = arg;
	struct buf b = { 0 };
	struct timespec ts;
	char subj[256], hid[57], iso[32];
	int64_t start = bu_mono_ns(), due, now;
	size_t i;

	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.component_scaled",
	    p->lattice);
	for (i = 0; i < p->n; i++) {
		due = start + (int64_t)((double)i * 1e9 / (double)p->rate);
		ts.tv_sec = due / 1000000000;
		ts.tv_nsec = due % 1000000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if ((now = bu_mono_ns()) - due > p->behind_ns)
			p->behind_ns = now - due;
		bu_host_id(i % 100, hid);
		buf_reset(&b);
		p->sent_ns[i] = bu_now_ns();
		buf_printf(&b, "{\"specversion\":\"1.0\",\"id\":\"lat-%d-%zu\","
		    "\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice."
		    "component_scaled\",\"time\":\"%s\",\"datacontenttype\":"
		    "\"application/json\",\"data\":{\"host_id\":\"%s\","
		    "\"component_id\":\"lat-comp-%zu\",\"image_ref\":"
		    "\"ghcr.io/bench/lat:0.1.0\",\"max_instances\":%zu,"
		    "\"annotations\":{\"wasmcloud.dev/appspec\":\"lat\"},"
		    "\"public_key\":\"\",\"claims\":{}}}", (int)getpid(), i,
		    hid, bu_iso(p->sent_ns[i] / 1000000, iso), hid, i % 50,
		    1 + i % 5);
		if (natsConnection_Publish(p->nc, subj, b.p, (int)b.len) !=
		    NATS_OK)
			fprintf(stderr, "publish %zu failed\n", i);
	}
	natsConnection_Flush(p->nc);
	buf_free(&b);
	atomic_store(&p->done, 1);
	return NULL;
}

/* Publish, poll, report. */
int
main(int argc, char *argv[])
{
	struct pub p = { .lattice = "latency", .rate = 10000, .n = 100000 };
	natsOptions *opts = NULL;
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	pthread_t tid;
	const char *url = "nats://127.0.0.1:4222", *db = NULL, *id;
	int64_t *lat, last_seq = 0, quiet_since = 0, now;
	size_t seen = 0, i;
	char prefix[64];
	int ch, started = 0, rc = 1;

	while ((ch = getopt(argc, argv, "s:d:r:n:l:")) != -1) {
		switch (ch) {
		case 's':
			url = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'r':
			p.rate = atol(optarg);
			break;
		case 'n':
			p.n = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			p.lattice = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (db == NULL || p.rate <= 0 || p.n == 0)
		goto usage;
	if ((p.sent_ns = calloc(p.n, sizeof(*p.sent_ns))) == NULL ||
	    (lat = calloc(p.n, sizeof(*lat))) == NULL)
		return 1;
	if (natsOptions_Create(&opts) != NATS_OK ||
	    natsOptions_SetURL(opts, url) != NATS_OK ||
	    natsConnection_Connect(&p.nc, opts) != NATS_OK) {
		fprintf(stderr, "connect %s failed\n", url);
		goto fail;
	}
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT seq, id FROM events WHERE seq > ? "
	    "ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s (is latticed running?)\n", db,
		    sqlite3_errmsg(h));
		goto fail;
	}
	/* Skip what is already there. */
	if (sqlite3_prepare_v2(h, "SELECT coalesce(max(seq), 0) FROM events",
	    -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		last_seq = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(h, "SELECT seq, id FROM events WHERE seq > ? "
	    "ORDER BY seq", -1, &q, NULL) != SQLITE_OK)
		goto fail;
	snprintf(prefix, sizeof(prefix), "lat-%d-", (int)getpid());
	if (pthread_create(&tid, NULL, publisher, &p) != 0)
		goto fail;
	started = 1;
	for (;;) {
		usleep(1000);
		sqlite3_bind_int64(q, 1, last_seq);
		while (sqlite3_step(q) == SQLITE_ROW) {
			last_seq = sqlite3_column_int64(q, 0);
			id = (const char *)sqlite3_column_text(q, 1);
			now = bu_now_ns();
			if (id == NULL || strncmp(id, prefix,
			    strlen(prefix)) != 0)
				continue;
			i = strtoul(id + strlen(prefix), NULL, 10);
			if (i < p.n && lat[i] == 0 && p.sent_ns[i] != 0) {
				lat[i] = now - p.sent_ns[i];
				if (lat[i] <= 0)
					lat[i] = 1;
				seen++;
			}
		}
		sqlite3_reset(q);
		if (seen == p.n)
			break;
		now = bu_mono_ns();
		if (!atomic_load(&p.done))
			quiet_since = now;
		else if (now - quiet_since > 10000000000LL)
			break;
	}
	{
		int64_t *v = malloc(p.n * sizeof(*v));
		size_t k = 0;

		for (i = 0; i < p.n; i++)
			if (lat[i] > 0)
				v[k++] = lat[i];
		qsort(v, k, sizeof(*v), bu_cmp_i64);
		printf("offered_rate=%ld sent=%zu seen=%zu missing=%zu "
		    "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
		    "publisher_behind_ms=%.1f\n", p.rate, p.n, seen,
		    p.n - seen, bu_pct(v, k, 50) / 1e6,
		    bu_pct(v, k, 99) / 1e6, k ? v[k - 1] / 1e6 : -1.0,
		    p.behind_ns / 1e6);
		free(v);
	}
	rc = 0;
fail:
	if (started)
		pthread_join(tid, NULL);
	sqlite3_finalize(q);
	sqlite3_close(h);
	natsConnection_Destroy(p.nc);
	natsOptions_Destroy(opts);
	nats_Close();
	return rc;
usage:
	fprintf(stderr, "usage: bench_latency -s url -d db [-r rate] "
	    "[-n count] [-l lattice]\n");
	return 2;
}
