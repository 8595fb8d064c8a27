/*
 * waitdb.c - wait until latticed's database holds N events (events plus
 * rejected_events), polling a read-only connection every 5 ms.
 *
 * usage: bench_waitdb -d db -n count [-t idle_seconds]
 * Prints "rows=N events=E rejected=R done_ms=T": T is the wall clock when
 * the count was reached, or when the count last moved if it stalled for
 * idle_seconds (then the exit status is 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"

/* Poll until the count is reached or stalls. */
int
main(int argc, char *argv[])
{
	const char *db = NULL;
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	long long want = 0, rows = -1, ev = 0, rej = 0;
	int64_t idle_ms = 10000, moved_ms, now;
	int ch, rc = 3;

	while ((ch = getopt(argc, argv, "d:n:t:")) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'n':
			want = atoll(optarg);
			break;
		case 't':
			idle_ms = atoll(optarg) * 1000;
			break;
		default:
			goto usage;
		}
	}
	if (db == NULL || want <= 0)
		goto usage;
	moved_ms = bu_now_ms();
	for (;; usleep(5000)) {
		now = bu_now_ms();
		if (q == NULL) {
			/* The daemon may not have created the file yet. */
			if (h == NULL && sqlite3_open_v2(db, &h,
			    SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
				sqlite3_close(h);
				h = NULL;
			}
			if (h != NULL && sqlite3_prepare_v2(h, "SELECT "
			    "(SELECT coalesce(max(seq), 0) FROM events), "
			    "(SELECT coalesce(max(seq), 0) FROM "
			    "rejected_events)", -1, &q, NULL) != SQLITE_OK) {
				sqlite3_close(h);
				h = NULL;
			}
		}
		if (q != NULL && sqlite3_step(q) == SQLITE_ROW) {
			ev = sqlite3_column_int64(q, 0);
			rej = sqlite3_column_int64(q, 1);
			if (ev + rej != rows) {
				rows = ev + rej;
				moved_ms = now;
			}
		}
		if (q != NULL)
			sqlite3_reset(q);
		if (rows >= want) {
			rc = 0;
			break;
		}
		if (now - moved_ms > idle_ms)
			break;
	}
	printf("rows=%lld events=%lld rejected=%lld done_ms=%lld\n",
	    rows, ev, rej, (long long)moved_ms);
	sqlite3_finalize(q);
	sqlite3_close(h);
	return rc;
usage:
	fprintf(stderr, "usage: bench_waitdb -d db -n count [-t idle_s]\n");
	return 2;
}
