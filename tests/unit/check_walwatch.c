/*
 * check_walwatch.c - when a checkpoint is due (growth, delay, restarts,
 * passes) and the WAL hook: frames after every commit, the backstop
 * checkpoint on the committing connection, SQLite's automatic checkpoint
 * given back.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "prune.h"
#include "store.h"
#include "store_int.h"
#include "walwatch.h"

static const struct lt_walwatch_policy pol = { 100, 1000 };

/* --- the policy ----------------------------------------------------- */

START_TEST(test_idle_wakes_nothing)
{
	struct lt_walwatch_state s;

	lt_walwatch_init(&s);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), -1);
	/* a commit that wrote nothing to the WAL (read-only, or empty) */
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 0, 5), LT_WALWATCH_IDLE);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), -1);
}
END_TEST

START_TEST(test_growth_and_delay)
{
	static const struct {
		int	frames;
		int64_t	now;
		int	want;
		int64_t	deadline;
	} steps[] = {
		{ 10, 1000, LT_WALWATCH_ARM, 2000 },	/* first commit */
		{ 50, 1100, LT_WALWATCH_IDLE, 2000 },	/* armed already */
		{ 99, 1200, LT_WALWATCH_IDLE, 2000 },
		{ 100, 1300, LT_WALWATCH_NOW, 2000 },	/* grew by 100 */
		{ 150, 1400, LT_WALWATCH_NOW, 2000 },	/* still, no pass */
	};
	struct lt_walwatch_state s;
	size_t i;

	lt_walwatch_init(&s);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ck_assert_int_eq(lt_walwatch_commit(&s, &pol, steps[i].frames,
		    steps[i].now), steps[i].want);
		ck_assert_int_eq(lt_walwatch_deadline(&s, &pol),
		    steps[i].deadline);
	}
}
END_TEST

START_TEST(test_pass_counts_from_there)
{
	struct lt_walwatch_state s;

	lt_walwatch_init(&s);
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 120, 0), LT_WALWATCH_NOW);
	lt_walwatch_passed(&s, 120, 10);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), -1);
	/* the WAL grows from 120: 219 is 99 more */
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 219, 20),
	    LT_WALWATCH_ARM);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), 1020);
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 220, 30),
	    LT_WALWATCH_NOW);
	/* a pass that saw 200 of 220 frames: the rest waits one delay */
	lt_walwatch_passed(&s, 200, 40);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), 1040);
	/* frames unknown (the pass failed): take the last commit's */
	lt_walwatch_passed(&s, -1, 50);
	ck_assert_int_eq(s.mark, 220);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), -1);
}
END_TEST

START_TEST(test_restart)
{
	struct lt_walwatch_state s;

	lt_walwatch_init(&s);
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 500, 0), LT_WALWATCH_NOW);
	lt_walwatch_passed(&s, 500, 0);
	/* the next writer restarted the WAL: 60 frames is growth from 0 */
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 60, 10),
	    LT_WALWATCH_ARM);
	ck_assert_int_eq(s.mark, 0);
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 100, 20),
	    LT_WALWATCH_NOW);
	/* the backstop copied the WAL to its end (0): nothing to do */
	lt_walwatch_passed(&s, 100, 30);
	ck_assert_int_eq(lt_walwatch_commit(&s, &pol, 0, 40),
	    LT_WALWATCH_IDLE);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &pol), -1);
}
END_TEST

START_TEST(test_no_delay)
{
	const struct lt_walwatch_policy p = { 100, 0 };
	struct lt_walwatch_state s;

	lt_walwatch_init(&s);
	/* growth alone wakes it */
	ck_assert_int_eq(lt_walwatch_commit(&s, &p, 10, 0), LT_WALWATCH_IDLE);
	ck_assert_int_eq(lt_walwatch_deadline(&s, &p), -1);
	ck_assert_int_eq(lt_walwatch_commit(&s, &p, 110, 0), LT_WALWATCH_NOW);
	/* negative frames are no frames */
	lt_walwatch_init(&s);
	ck_assert_int_eq(lt_walwatch_commit(&s, &p, -5, 0), LT_WALWATCH_IDLE);
}
END_TEST

/* --- the hook ------------------------------------------------------- */

static char tmpdir[64];
static char dbpath[128];
static struct lt_store *st;

/* What the hook reported. */
struct seen {
	int	calls;
	int	last;
	int	max;
};

/* The watcher: note every report. */
static void
note(void *arg, int frames)
{
	struct seen *sn = arg;

	sn->calls++;
	sn->last = frames;
	if (frames > sn->max)
		sn->max = frames;
}

/* A fresh file database (WAL) with a table to grow it. */
static void
setup(void)
{
	struct lt_err err;

	strcpy(tmpdir, "/tmp/check_walwatch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/l.db", tmpdir);
	lt_err_clear(&err);
	ck_assert_msg(lt_store_open(dbpath, &st, &err) == LT_OK, "%s",
	    err.msg);
	ck_assert_int_eq(sqlite3_exec(st->db, "CREATE TABLE t (b BLOB)",
	    NULL, NULL, NULL), SQLITE_OK);
	/* an empty WAL: the migrations' frames do not count */
	ck_assert_int_eq(lt_store_checkpoint(st, 1, NULL, &err), LT_OK);
}

/* Close and remove the temporary directory. */
static void
teardown(void)
{
	char p[160];

	lt_store_close(st);
	st = NULL;
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpdir);
	/* best effort: a leftover temporary directory is harmless */
	if (system(p) != 0)
		fprintf(stderr, "teardown: could not remove %s\n", tmpdir);
}

/* One transaction writing n pages of blobs. */
static void
write_pages(int n)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "INSERT INTO t SELECT randomblob(4000)"
	    " FROM generate_series(1, %d)", n);
	/* generate_series may be missing: a recursive CTE then */
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return;
	snprintf(sql, sizeof(sql), "WITH RECURSIVE c(i) AS (SELECT 1 UNION"
	    " ALL SELECT i + 1 FROM c WHERE i < %d) INSERT INTO t SELECT"
	    " randomblob(4000) FROM c", n);
	ck_assert_int_eq(sqlite3_exec(st->db, sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Read one integer. */
static long long
q_int(const char *sql)
{
	sqlite3_stmt *s;
	long long v;

	ck_assert_int_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

START_TEST(test_hook_reports_frames)
{
	struct lt_walwatch *w;
	struct lt_checkpoint res;
	struct lt_err err;
	struct seen sn = { 0, 0, 0 };
	int before;

	lt_err_clear(&err);
	ck_assert_int_eq(lt_walwatch_start(st, 0, note, &sn, &w, &err),
	    LT_OK);
	/* the hook replaced SQLite's: the pragma no longer reports 2,048 */
	ck_assert_int_eq(q_int("PRAGMA wal_autocheckpoint"), 0);
	write_pages(10);
	ck_assert_int_eq(sn.calls, 1);
	ck_assert_int_ge(sn.last, 10);
	before = sn.last;
	write_pages(10);
	ck_assert_int_eq(sn.calls, 2);
	ck_assert_int_ge(sn.last, before + 10);
	/* nothing checkpointed on this connection below the backstop: a
	   passive checkpoint finds every frame still to copy */
	ck_assert_int_eq(lt_store_checkpoint(st, 0, &res, &err), LT_OK);
	ck_assert_int_eq(res.wal_frames, sn.last);
	lt_walwatch_stop(w);
	ck_assert_int_eq(q_int("PRAGMA wal_autocheckpoint"), 2048);
	write_pages(1);
	ck_assert_int_eq(sn.calls, 2);	/* no longer told */
}
END_TEST

START_TEST(test_hook_backstop)
{
	struct lt_walwatch *w;
	struct lt_checkpoint res;
	struct lt_err err;
	struct seen sn = { 0, 0, 0 };

	lt_err_clear(&err);
	ck_assert_int_eq(lt_walwatch_start(st, 50, note, &sn, &w, &err),
	    LT_OK);
	write_pages(20);
	ck_assert_int_gt(sn.last, 0);
	ck_assert_int_lt(sn.last, 50);
	/* past the backstop: checkpointed in the commit, reported as 0 */
	write_pages(40);
	ck_assert_int_eq(sn.last, 0);
	ck_assert_int_eq(lt_store_checkpoint(st, 0, &res, &err), LT_OK);
	ck_assert_int_eq(res.done_frames, res.wal_frames);
	/* the WAL restarts with the next transaction */
	write_pages(5);
	ck_assert_int_gt(sn.last, 0);
	ck_assert_int_lt(sn.last, 20);
	lt_walwatch_stop(w);
	lt_walwatch_stop(NULL);
}
END_TEST

START_TEST(test_hook_no_backstop)
{
	struct lt_walwatch *w = (void *)1;
	struct lt_err err;
	struct seen sn = { 0, 0, 0 };

	/* wal_autocheckpoint off and no backstop given: refused */
	ck_assert_int_eq(sqlite3_exec(st->db, "PRAGMA wal_autocheckpoint = 0",
	    NULL, NULL, NULL), SQLITE_OK);
	lt_err_clear(&err);
	ck_assert_int_eq(lt_walwatch_start(st, 0, note, &sn, &w, &err),
	    LT_EINVAL);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err.msg, "backstop"));
}
END_TEST

/* The suite. */
static Suite *
walwatch_suite(void)
{
	Suite *s = suite_create("walwatch");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_growth_and_delay);
	tcase_add_test(tc, test_pass_counts_from_there);
	suite_add_tcase(s, tc);
	tc = tcase_create("hook");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hook_reports_frames);
	tcase_add_test(tc, test_hook_backstop);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hook_no_backstop);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_idle_wakes_nothing);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_no_delay);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(walwatch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
