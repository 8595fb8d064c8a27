/*
 * giant.c - one host with many components: time and rows written to fold
 * its first heartbeat, the same inventory again, and the inventory with
 * one component changed.  Each heartbeat is its own transaction.  Each is
 * decoded first, as the daemon's decode stage does, then folded: the
 * phase lines give the whole (ms_*) and both shares (decode_ms_median,
 * the decode stage's; fold_ms_median, the fold thread's).
 *
 * usage: bench_giant [-d db] [-n components] [-r repetitions]
 * Prints one "phase=... key=value ..." line per phase (median time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "rig.h"

#define HB_INTERVAL_MS	30000

/* The stages of the heartbeats of one phase. */
static int64_t	*dns, *fns;

/* Fold one heartbeat (the i-th of its phase); return wall ns, keep the
   decode stage's and the fold thread's shares and add rows to delta. */
static int64_t
fold_one(struct rig *r, struct buf *b, int64_t t_ms, int i,
    uint64_t *delta)
{
	uint64_t before[RIG_NTABLES];
	char *data = b->p;
	size_t len = b->len;
	int64_t t0, t1;
	int k;

	memcpy(before, r->rows, sizeof(before));
	t0 = bu_mono_ns();
	rig_batch_staged(r, &data, &len, 1, t_ms, &dns[i], &fns[i]);
	t1 = bu_mono_ns();
	for (k = 0; k < RIG_NTABLES; k++)
		delta[k] = r->rows[k] - before[k];
	return t1 - t0;
}

/* Print one phase line: median time and the rows of its last run. */
static void
report(const char *phase, int64_t *ns, int n, const uint64_t *rows,
    size_t bytes)
{
	uint64_t total = 0;
	int i;

	qsort(ns, (size_t)n, sizeof(*ns), bu_cmp_i64);
	qsort(dns, (size_t)n, sizeof(*dns), bu_cmp_i64);
	qsort(fns, (size_t)n, sizeof(*fns), bu_cmp_i64);
	for (i = 0; i < RIG_NTABLES; i++)
		total += rows[i];
	printf("phase=%s runs=%d ms_median=%.2f ms_min=%.2f ms_max=%.2f "
	    "decode_ms_median=%.2f fold_ms_median=%.2f bytes=%zu rows=%llu",
	    phase, n, ns[n / 2] / 1e6, ns[0] / 1e6, ns[n - 1] / 1e6,
	    dns[n / 2] / 1e6, fns[n / 2] / 1e6, bytes,
	    (unsigned long long)total);
	for (i = 0; i < RIG_NTABLES; i++)
		printf(" %s=%llu", rig_table_name(i),
		    (unsigned long long)rows[i]);
	printf("\n");
}

/* Run the three phases. */
int
main(int argc, char *argv[])
{
	const char *db = "bench-giant.db";
	struct buf b = { 0 };
	struct rig r;
	uint64_t rows[RIG_NTABLES];
	int64_t *ns, t_ms;
	size_t ncomp = 10000;
	unsigned long seq = 0;
	int ch, reps = 5, i;

	while ((ch = getopt(argc, argv, "d:n:r:")) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'n':
			ncomp = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_giant [-d db] "
			    "[-n components] [-r reps]\n");
			return 2;
		}
	}
	if (reps < 1 || ncomp < 1)
		return 2;
	if ((ns = calloc((size_t)reps, sizeof(*ns))) == NULL ||
	    (dns = calloc((size_t)reps, sizeof(*dns))) == NULL ||
	    (fns = calloc((size_t)reps, sizeof(*fns))) == NULL)
		return 1;
	rig_open(&r, db);
	t_ms = bu_now_ms();

	bu_heartbeat(&b, 1, seq++, t_ms, ncomp, -1, 0);
	ns[0] = fold_one(&r, &b, t_ms, 0, rows);
	report("first", ns, 1, rows, b.len);

	for (i = 0; i < reps; i++) {
		t_ms += HB_INTERVAL_MS;
		buf_reset(&b);
		bu_heartbeat(&b, 1, seq++, t_ms, ncomp, -1, 0);
		ns[i] = fold_one(&r, &b, t_ms, i, rows);
	}
	report("unchanged", ns, reps, rows, b.len);

	for (i = 0; i < reps; i++) {
		/* Component 4242 % n flips between max+1 and max: each
		   heartbeat differs from the one before in one component. */
		t_ms += HB_INTERVAL_MS;
		buf_reset(&b);
		bu_heartbeat(&b, 1, seq++, t_ms, ncomp,
		    (long)(4242 % ncomp), i % 2 == 0 ? 1 : 0);
		ns[i] = fold_one(&r, &b, t_ms, i, rows);
	}
	report("one_changed", ns, reps, rows, b.len);
	rig_close(&r);
	buf_free(&b);
	free(fns);
	free(dns);
	free(ns);
	return 0;
}
