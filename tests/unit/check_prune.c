/*
 * check_prune.c - history retention (age cap, row cap, batches), what is
 * never pruned, host expiry (cascade, alerts resolved, batches), WAL
 * checkpoints and optimize.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "observe.h"
#include "prune.h"
#include "store.h"
#include "store_int.h"

static char tmpdir[64];
static char dbpath[128];
static struct lt_store *st;
static struct lt_prune *pr;

/* A fresh file database (WAL) and prune statements per test. */
static void
setup(void)
{
	struct lt_err err;

	strcpy(tmpdir, "/tmp/check_prune.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/l.db", tmpdir);
	lt_err_clear(&err);
	ck_assert_msg(lt_store_open(dbpath, &st, &err) == LT_OK, "%s",
	    err.msg);
	ck_assert_msg(lt_prune_new(st, &pr, &err) == LT_OK, "%s", err.msg);
}

/* Close and remove the temporary directory. */
static void
teardown(void)
{
	char p[160];

	lt_prune_free(pr);
	lt_store_close(st);
	pr = NULL;
	st = NULL;
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpdir);
	/* best effort: a leftover temporary directory is harmless */
	if (system(p) != 0)
		fprintf(stderr, "teardown: could not remove %s\n", tmpdir);
}

/* Read one integer. */
static long long
q_int(const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	ck_assert_msg(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) ==
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(st->db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Run SQL that must succeed. */
static void
exec_ok(const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(st->db, sql, NULL, NULL, &msg) ==
	    SQLITE_OK, "%s: %s", sql, msg ? msg : "");
}

/* Insert n events received at start_ms, start_ms + step, ... */
static void
add_events(int n, long long start_ms, long long step)
{
	sqlite3_stmt *s;
	char id[32];
	int i;

	ck_assert_int_eq(sqlite3_prepare_v2(st->db, "INSERT INTO "
	    "latticed_events (lattice, subject, type, source, id, host_id,"
	    " time_ms, received_ms, outcome) VALUES ('default',"
	    " 'wasmbus.evt.default.host_heartbeat', 'com.wasmcloud.lattice.host_heartbeat', 'N1',"
	    " ?1, 'N1', ?2, ?2, 'unchanged')", -1, &s, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "ev-%lld-%d",
		    q_int("SELECT coalesce(max(seq), 0) FROM events"), i);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, start_ms + i * step);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
}

/* Insert n rejected messages received at start_ms, start_ms + step, ... */
static void
add_rejects(int n, long long start_ms, long long step)
{
	sqlite3_stmt *s;
	int i;

	ck_assert_int_eq(sqlite3_prepare_v2(st->db, "INSERT INTO "
	    "latticed_rejected_events"
	    " (received_ms, lattice, subject, reason, error,"
	    " raw, raw_size) VALUES (?1, 'default', 'wasmbus.evt.default.x',"
	    " 'not json', 'parse', x'7b', 1)", -1, &s, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, start_ms + i * step);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
}

/* Current state, alerts (one active, one resolved) and internal state. */
static void
add_state(void)
{
	exec_ok("INSERT INTO latticed_hosts"
	    " (lattice, host_id, status, first_seen_ms,"
	    " last_seen_ms, status_changed_ms, state_ms) VALUES"
	    " ('default', 'N1', 'up', 1, 1, 1, 1),"
	    " ('default', 'N2', 'stale', 1, 1, 1, 1)");
	exec_ok("INSERT INTO latticed_components"
	    " (lattice, host_id, component_id,"
	    " max_instances, updated_ms) VALUES ('default', 'N1', 'c1', 1, 1)");
	exec_ok("INSERT INTO latticed_providers (lattice, host_id, provider_id,"
	    " updated_ms) VALUES ('default', 'N1', 'p1', 1)");
	exec_ok("INSERT INTO latticed_links"
	    " (lattice, source_id, name, wit_namespace,"
	    " wit_package, updated_ms) VALUES ('default', 'c1', 'default',"
	    " 'wasi', 'http', 1)");
	exec_ok("INSERT INTO latticed_configs"
	    " (lattice, config_name, updated_ms)"
	    " VALUES ('default', 'cfg', 1)");
	exec_ok("INSERT INTO latticed_alerts"
	    " (lattice, kind, severity, entity, host_id,"
	    " summary, fired_ms) VALUES ('default', 'host_stale', 'warning',"
	    " 'host:N2', 'N2', 'host N2 went silent', 1)");
	exec_ok("INSERT INTO latticed_alerts"
	    " (lattice, kind, severity, entity, host_id,"
	    " summary, fired_ms, resolved_ms) VALUES ('default', 'host_stale',"
	    " 'warning', 'host:N1', 'N1', 'host N1 went silent', 1, 2)");
	exec_ok("INSERT INTO latticed_state (key, value) VALUES ('k', 1)");
}

/* One number summing every row outside the two history tables. */
static long long
state_rows(void)
{
	return q_int("SELECT (SELECT count(*) FROM hosts) * 1 +"
	    " (SELECT count(*) FROM components) * 10 +"
	    " (SELECT count(*) FROM providers) * 100 +"
	    " (SELECT count(*) FROM links) * 1000 +"
	    " (SELECT count(*) FROM configs) * 10000 +"
	    " (SELECT count(*) FROM alerts) * 100000 +"
	    " (SELECT count(*) FROM active_alerts) * 1000000 +"
	    " (SELECT count(*) FROM latticed_state) * 10000000");
}

START_TEST(test_age_cap)
{
	struct lt_err err;
	int n = -1;

	add_events(100, 1, 1);		/* received 1..100 */
	ck_assert_int_eq(lt_prune_events(pr, 51, 0, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 50);
	ck_assert_int_eq(q_int("SELECT min(received_ms) FROM events"), 51);
	ck_assert_int_eq(q_int("SELECT max(received_ms) FROM events"), 100);
}
END_TEST

START_TEST(test_age_cap_not_by_seq)
{
	struct lt_err err;
	int n = -1;

	/* the clock stepped back: seq order is not received order */
	add_events(10, 1000, 1);
	add_events(10, 10, 1);		/* seq 11..20, received 10..19 */
	ck_assert_int_eq(lt_prune_events(pr, 500, 0, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(q_int("SELECT min(seq) FROM events"), 1);
	ck_assert_int_eq(q_int("SELECT max(seq) FROM events"), 10);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events WHERE "
	    "received_ms < 500"), 0);
}
END_TEST

START_TEST(test_row_cap)
{
	struct lt_err err;
	int n = -1;

	add_events(100, 1, 1);
	ck_assert_int_eq(lt_prune_events(pr, 0, 30, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 70);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 30);
	/* the newest survive */
	ck_assert_int_eq(q_int("SELECT min(seq) FROM events"), 71);
	ck_assert_int_eq(q_int("SELECT max(seq) FROM events"), 100);
	/* new rows keep seq growing; the cap follows them */
	add_events(5, 200, 1);
	ck_assert_int_eq(lt_prune_events(pr, 0, 30, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(q_int("SELECT min(seq) FROM events"), 76);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 30);
}
END_TEST

START_TEST(test_both_caps)
{
	struct lt_err err;
	int n = -1;

	add_events(100, 1, 1);
	/* age removes 1..20; the cap then removes down to 50 rows */
	ck_assert_int_eq(lt_prune_events(pr, 21, 50, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 50);
	ck_assert_int_eq(q_int("SELECT min(seq) FROM events"), 51);
	/* age is the tighter limit here */
	ck_assert_int_eq(lt_prune_events(pr, 91, 50, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 40);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
	ck_assert_int_eq(q_int("SELECT min(received_ms) FROM events"), 91);
}
END_TEST

START_TEST(test_batch_respected)
{
	struct lt_err err;
	int n, calls = 0, total = 0;

	add_events(100, 1, 1);
	do {
		n = -1;
		ck_assert_int_eq(lt_prune_events(pr, 0, 10, 7, &n, &err),
		    LT_OK);
		ck_assert_int_le(n, 7);
		ck_assert_int_ge(n, 0);
		/* oldest first: what is left is one contiguous tail */
		ck_assert_int_eq(q_int("SELECT max(seq) - min(seq) + 1 - "
		    "count(*) FROM events"), 0);
		total += n;
		calls++;
		ck_assert_int_lt(calls, 100);
	} while (n == 7);
	ck_assert_int_eq(total, 90);
	ck_assert_int_eq(calls, 13);	/* 12 full batches and 6 */
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
	/* the age and cap deletes share one batch */
	add_events(20, 1000, 1);	/* seq 91..120: received 91..100, 1000.. */
	ck_assert_int_eq(lt_prune_events(pr, 95, 10, 7, &n, &err), LT_OK);
	ck_assert_int_eq(n, 7);		/* 4 old enough + 3 over the cap */
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 23);
	ck_assert_int_eq(q_int("SELECT min(received_ms) FROM events"), 98);
}
END_TEST

START_TEST(test_state_untouched)
{
	struct lt_err err;
	long long before;
	int n = -1;

	add_state();
	add_events(50, 1, 1);
	add_rejects(50, 1, 1);
	before = state_rows();
	/* 2 hosts, 1 of each, 2 alerts (1 active), 1 state key */
	ck_assert_int_eq(before, 11211112LL);
	ck_assert_int_eq(lt_prune_events(pr, INT64_MAX, 0, 1000, &n, &err),
	    LT_OK);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(lt_prune_rejected(pr, 0, 1, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 49);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 0);
	ck_assert_int_eq(state_rows(), before);
	ck_assert_int_eq(q_int("SELECT count(*) FROM active_alerts WHERE "
	    "entity = 'host:N2'"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts WHERE "
	    "status = 'up'"), 1);
}
END_TEST

START_TEST(test_rejected_independent)
{
	struct lt_err err;
	int n = -1;

	add_events(40, 1, 1);
	add_rejects(60, 1, 1);
	ck_assert_int_eq(lt_prune_events(pr, 0, 10, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 30);
	ck_assert_int_eq(q_int("SELECT count(*) FROM rejected_events"), 60);
	ck_assert_int_eq(lt_prune_rejected(pr, 21, 0, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(n, 20);
	ck_assert_int_eq(q_int("SELECT count(*) FROM rejected_events"), 40);
	ck_assert_int_eq(q_int("SELECT min(received_ms) FROM "
	    "rejected_events"), 21);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
	ck_assert_int_eq(lt_prune(pr, LT_PRUNE_REJECTED, 0, 5, 1000, &n,
	    &err), LT_OK);
	ck_assert_int_eq(n, 35);
	ck_assert_int_eq(q_int("SELECT min(seq) FROM rejected_events"), 56);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
	ck_assert_str_eq(lt_prune_table_name(LT_PRUNE_EVENTS), "events");
	ck_assert_str_eq(lt_prune_table_name(LT_PRUNE_REJECTED),
	    "rejected_events");
}
END_TEST

START_TEST(test_idempotent)
{
	struct lt_err err;
	int n = -1;

	/* empty tables */
	ck_assert_int_eq(lt_prune_events(pr, 1000, 10, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(lt_prune_rejected(pr, 1000, 10, 100, &n, &err),
	    LT_OK);
	ck_assert_int_eq(n, 0);
	add_events(20, 100, 1);
	/* nothing over either limit */
	ck_assert_int_eq(lt_prune_events(pr, 50, 20, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 0);
	/* no limits at all */
	n = -1;
	ck_assert_int_eq(lt_prune_events(pr, 0, 0, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(lt_prune_events(pr, 0, 15, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(lt_prune_events(pr, 0, 15, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 15);
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 1);
}
END_TEST

START_TEST(test_callers_transaction)
{
	struct lt_err err;
	int n = -1;

	add_events(20, 1, 1);
	ck_assert_int_eq(lt_store_begin(st, &err), LT_OK);
	ck_assert_int_eq(lt_prune_events(pr, 0, 5, 100, &n, &err), LT_OK);
	ck_assert_int_eq(n, 15);
	/* still the caller's transaction: it can be rolled back */
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 0);
	lt_store_rollback(st);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 20);
}
END_TEST

START_TEST(test_rejects_bad_arguments)
{
	struct lt_err err;
	int n = -1;

	add_events(10, 1, 1);
	lt_err_clear(&err);
	ck_assert_int_eq(lt_prune_events(pr, 0, 5, 0, &n, &err), LT_EINVAL);
	ck_assert_str_eq(err.field, "batch");
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(lt_prune_events(pr, -1, 5, 10, &n, &err), LT_EINVAL);
	ck_assert_str_eq(err.field, "older_than_ms");
	ck_assert_int_eq(lt_prune_events(pr, 0, -5, 10, &n, &err), LT_EINVAL);
	ck_assert_str_eq(err.field, "keep_max_rows");
	ck_assert_int_eq(lt_prune(pr, LT_PRUNE_NTABLES, 0, 5, 10, &n, &err),
	    LT_EINVAL);
	ck_assert_int_eq(lt_prune(pr, (enum lt_prune_table)-1, 0, 5, 10, &n,
	    NULL), LT_EINVAL);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
}
END_TEST

START_TEST(test_store_failure_rolls_back)
{
	struct lt_err err;
	int n = -1;

	add_events(20, 1, 1);
	/* a trigger that fails the 5th delete: the whole batch is undone */
	exec_ok("CREATE TEMP TRIGGER boom BEFORE DELETE ON latticed_events "
	    "WHEN old.seq = 5 BEGIN SELECT RAISE(ABORT, 'boom'); END");
	lt_err_clear(&err);
	ck_assert_int_eq(lt_prune_events(pr, 0, 5, 100, &n, &err), LT_ESTORE);
	ck_assert_ptr_nonnull(strstr(err.msg, "boom"));
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 20);
}
END_TEST

/* Size of the -wal file, -1 when missing. */
static long long
wal_size(void)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s-wal", dbpath);
	if (stat(p, &sb) == -1)
		return -1;
	return (long long)sb.st_size;
}

START_TEST(test_checkpoint)
{
	struct lt_checkpoint res;
	struct lt_err err;
	int n;

	add_events(500, 1, 1);
	ck_assert_int_gt(wal_size(), 0);
	ck_assert_int_eq(lt_store_checkpoint(st, 0, &res, &err), LT_OK);
	ck_assert_int_gt(res.wal_frames, 0);
	ck_assert_int_eq(res.done_frames, res.wal_frames);
	ck_assert_int_eq(res.busy, 0);
	/* passive never shrinks the file */
	ck_assert_int_gt(wal_size(), 0);
	ck_assert_int_eq(lt_prune_events(pr, 0, 10, 1000, &n, &err), LT_OK);
	ck_assert_int_eq(lt_store_checkpoint(st, 1, &res, &err), LT_OK);
	ck_assert_int_eq(res.busy, 0);
	ck_assert_int_eq(wal_size(), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 10);
	ck_assert_int_eq(lt_store_checkpoint(st, 0, NULL, &err), LT_OK);
	/* never inside a transaction */
	ck_assert_int_eq(lt_store_begin(st, &err), LT_OK);
	ck_assert_int_eq(lt_store_checkpoint(st, 0, &res, &err), LT_EINVAL);
	lt_store_rollback(st);
	ck_assert_int_eq(lt_store_optimize(st, &err), LT_OK);
}
END_TEST

START_TEST(test_checkpoint_reader_busy)
{
	struct lt_checkpoint res;
	struct lt_err err;
	struct timespec t0, t1;
	sqlite3 *rd;
	sqlite3_stmt *s;
	long long ms;

	add_events(100, 1, 1);
	ck_assert_int_eq(sqlite3_open_v2(dbpath, &rd, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	/* an operator's long read holds a snapshot */
	ck_assert_int_eq(sqlite3_prepare_v2(rd, "SELECT seq FROM events",
	    -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	add_events(100, 200, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(lt_store_checkpoint(st, 1, &res, &err), LT_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(res.busy, 1);
	ck_assert_int_lt(ms, 2000);	/* not the 5 s busy timeout */
	ck_assert_int_gt(wal_size(), 0);
	/* passive copies what the reader does not need, without waiting */
	ck_assert_int_eq(lt_store_checkpoint(st, 0, &res, &err), LT_OK);
	ck_assert_int_eq(res.busy, 1);
	sqlite3_finalize(s);
	sqlite3_close(rd);
	ck_assert_int_eq(lt_store_checkpoint(st, 1, &res, &err), LT_OK);
	ck_assert_int_eq(res.busy, 0);
	ck_assert_int_eq(wal_size(), 0);
	/* the normal busy timeout is back: a writer waits for the lock */
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 200);
}
END_TEST

/* --- host expiry ---------------------------------------------------- */

/* Insert a host (lattice, id, status, status_changed_ms). */
static void
add_host(const char *lat, const char *id, const char *status, long long ms)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO latticed_hosts"
	    " (lattice, host_id,"
	    " status, first_seen_ms, last_seen_ms, status_changed_ms,"
	    " state_ms) VALUES ('%s', '%s', '%s', 1, %lld, %lld, %lld)",
	    lat, id, status, ms, ms, ms);
	exec_ok(sql);
}

/* Give a host one component and one provider. */
static void
add_inventory(const char *lat, const char *id)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO latticed_components"
	    " (lattice, host_id,"
	    " component_id, max_instances, updated_ms) VALUES ('%s', '%s',"
	    " 'c1', 1, 1)", lat, id);
	exec_ok(sql);
	snprintf(sql, sizeof(sql), "INSERT INTO latticed_providers"
	    " (lattice, host_id,"
	    " provider_id, updated_ms) VALUES ('%s', '%s', 'p1', 1)", lat, id);
	exec_ok(sql);
}

/* Fire an active alert. */
static void
add_alert(const char *lat, const char *kind, const char *entity,
    const char *host, const char *details)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "INSERT INTO latticed_alerts (lattice, kind,"
	    " severity, entity, host_id, summary, details, fired_ms) VALUES"
	    " ('%s', '%s', 'warning', '%s', %s%s%s, 's', '%s', 100)", lat,
	    kind, entity, host ? "'" : "", host ? host : "NULL",
	    host ? "'" : "", details);
	exec_ok(sql);
}

/* Is the alert (lattice, kind, entity) resolved (1), active (0),
   missing (-1)? */
static long long
alert_resolved(const char *lat, const char *kind, const char *entity)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(resolved_ms IS NOT"
	    " NULL), -1) FROM alerts WHERE lattice = '%s' AND kind = '%s'"
	    " AND entity = '%s'", lat, kind, entity);
	return q_int(sql);
}

/* The fleet of the expiry tests at cutoff 5000:
   default: A stale@1000 (inventory), B stopped@1000, C up@1000
   (inventory), D stale@9000; x: E stale@1000. */
static void
add_fleet(void)
{
	add_host("default", "A", "stale", 1000);
	add_host("default", "B", "stopped", 1000);
	add_host("default", "C", "up", 1000);
	add_host("default", "D", "stale", 9000);
	add_host("x", "E", "stale", 1000);
	add_inventory("default", "A");
	add_inventory("default", "C");
	add_inventory("x", "E");
	add_alert("default", "host_stale", "A", "A", "{\"silent_ms\":75000}");
	add_alert("default", "provider_unhealthy", "A/p1", "A",
	    "{\"provider_id\":\"p1\"}");
	add_alert("default", "component_scale_failed", "A/c1", "A", "{}");
	add_alert("default", "linkdef_set_failed", "c1/default/wasi:http",
	    "A", "{}");
	add_alert("default", "host_stopped", "B", "B", "not json");
	add_alert("default", "host_stale", "D", "D", "{}");
	add_alert("default", "host_stale", "C", "C", "{}");
	/* names A (expires) and D (stale, too recent): stays */
	add_alert("default", "lattice_silent", "default", NULL,
	    "{\"host_ids\":[\"A\",\"D\"]}");
	/* names E only: goes with it */
	add_alert("x", "lattice_silent", "x", NULL,
	    "{\"host_ids\":[\"E\",\"gone-before\"]}");
	add_events(5, 1, 1);
}

START_TEST(test_hosts_expire)
{
	struct lt_err err;
	int n = -1, res = -1;

	add_fleet();
	lt_err_clear(&err);
	ck_assert_msg(lt_prune_hosts(pr, 5000, 20000, 100, &n, &res, &err) ==
	    LT_OK, "%s", err.msg);
	ck_assert_int_eq(n, 3);				/* A, B, E */
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts WHERE host_id"
	    " IN ('C', 'D')"), 2);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 2);
	/* the inventory went with A and E; C's stays */
	ck_assert_int_eq(q_int("SELECT count(*) FROM components WHERE"
	    " host_id IN ('A', 'E')"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM providers WHERE"
	    " host_id IN ('A', 'E')"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM components WHERE"
	    " host_id = 'C'"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM providers WHERE"
	    " host_id = 'C'"), 1);
	/* A's alerts, B's, E's lattice_silent resolved; the rest active */
	ck_assert_int_eq(alert_resolved("default", "host_stale", "A"), 1);
	ck_assert_int_eq(alert_resolved("default", "provider_unhealthy",
	    "A/p1"), 1);
	ck_assert_int_eq(alert_resolved("default", "component_scale_failed",
	    "A/c1"), 1);
	ck_assert_int_eq(alert_resolved("default", "host_stopped", "B"), 1);
	ck_assert_int_eq(alert_resolved("x", "lattice_silent", "x"), 1);
	ck_assert_int_eq(alert_resolved("default", "linkdef_set_failed",
	    "c1/default/wasi:http"), 0);
	ck_assert_int_eq(alert_resolved("default", "host_stale", "D"), 0);
	ck_assert_int_eq(alert_resolved("default", "host_stale", "C"), 0);
	ck_assert_int_eq(alert_resolved("default", "lattice_silent",
	    "default"), 0);
	ck_assert_int_eq(res, 5);
	ck_assert_int_eq(q_int("SELECT count(*) FROM alerts WHERE"
	    " resolved_ms = 20000"), 5);
	/* the reason, the details kept; bad JSON left alone */
	ck_assert_int_eq(q_int("SELECT count(*) FROM alerts WHERE"
	    " json_valid(details) AND json_extract(details,"
	    " '$.resolved_reason') = 'host_expired'"), 4);
	ck_assert_int_eq(q_int("SELECT json_extract(details, '$.silent_ms')"
	    " FROM alerts WHERE entity = 'A' AND kind = 'host_stale'"), 75000);
	ck_assert_int_eq(q_int("SELECT details = 'not json' FROM alerts"
	    " WHERE kind = 'host_stopped'"), 1);
	/* queued for delivery like any resolution */
	ck_assert_int_eq(q_int("SELECT count(*) FROM alert_changes WHERE"
	    " transition = 'resolved'"), 5);
	/* the history is untouched */
	ck_assert_int_eq(q_int("SELECT count(*) FROM events"), 5);
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 1);
}
END_TEST

START_TEST(test_hosts_silent_last_goes)
{
	struct lt_err err;
	int n = -1, res = -1;

	add_fleet();
	ck_assert_int_eq(lt_prune_hosts(pr, 5000, 20000, 100, &n, &res,
	    &err), LT_OK);
	ck_assert_int_eq(alert_resolved("default", "lattice_silent",
	    "default"), 0);
	/* D is old enough now: its host_stale and the lattice_silent go */
	ck_assert_int_eq(lt_prune_hosts(pr, 10000, 30000, 100, &n, &res,
	    &err), LT_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(res, 2);
	ck_assert_int_eq(alert_resolved("default", "host_stale", "D"), 1);
	ck_assert_int_eq(alert_resolved("default", "lattice_silent",
	    "default"), 1);
	ck_assert_int_eq(q_int("SELECT json_extract(details,"
	    " '$.resolved_reason') = 'host_expired' AND resolved_ms = 30000"
	    " AND json_array_length(details, '$.host_ids') = 2 FROM alerts"
	    " WHERE kind = 'lattice_silent' AND lattice = 'default'"), 1);
	/* only the up host is left */
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts WHERE host_id ="
	    " 'C' AND status = 'up'"), 1);
}
END_TEST

START_TEST(test_hosts_up_never)
{
	struct lt_err err;
	int n = -1;

	add_host("default", "U", "up", 1);
	add_inventory("default", "U");
	ck_assert_int_eq(lt_prune_hosts(pr, INT64_MAX, INT64_MAX, 100, &n,
	    NULL, &err), LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM components"), 1);
	/* exactly at the cutoff is not older than it */
	add_host("default", "S", "stale", 5000);
	ck_assert_int_eq(lt_prune_hosts(pr, 5000, 6000, 100, &n, NULL, &err),
	    LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(lt_prune_hosts(pr, 5001, 6000, 100, &n, NULL, &err),
	    LT_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 1);
}
END_TEST

START_TEST(test_hosts_batch)
{
	struct lt_err err;
	char id[32];
	int i, n = -1, res = -1;

	for (i = 0; i < 25; i++) {
		snprintf(id, sizeof(id), "B%02d", i);
		add_host(i % 2 ? "odd" : "even", id, i % 3 ? "stale" :
		    "stopped", 100 + i);
		add_alert(i % 2 ? "odd" : "even", "host_stale", id, id, "{}");
	}
	ck_assert_int_eq(lt_prune_hosts(pr, 1000, 2000, 10, &n, &res, &err),
	    LT_OK);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(res, 10);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 15);
	ck_assert_int_eq(q_int("SELECT count(*) FROM active_alerts"), 15);
	ck_assert_int_eq(lt_prune_hosts(pr, 1000, 2000, 10, &n, &res, &err),
	    LT_OK);
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(lt_prune_hosts(pr, 1000, 2000, 10, &n, &res, &err),
	    LT_OK);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(res, 5);
	ck_assert_int_eq(lt_prune_hosts(pr, 1000, 2000, 10, &n, &res, &err),
	    LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(res, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM active_alerts"), 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM alerts"), 25);
}
END_TEST

START_TEST(test_hosts_bad_arguments)
{
	struct lt_err err;
	int n = -1, res = -1;

	add_host("default", "S", "stale", 1);
	lt_err_clear(&err);
	ck_assert_int_eq(lt_prune_hosts(pr, 100, 100, 0, &n, &res, &err),
	    LT_EINVAL);
	ck_assert_str_eq(err.field, "batch");
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(res, 0);
	ck_assert_int_eq(lt_prune_hosts(pr, -1, 100, 10, &n, NULL, &err),
	    LT_EINVAL);
	ck_assert_str_eq(err.field, "older_than_ms");
	/* 0: keep for ever */
	ck_assert_int_eq(lt_prune_hosts(pr, 0, 100, 10, &n, NULL, &err),
	    LT_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 1);
}
END_TEST

START_TEST(test_hosts_rollback)
{
	struct lt_err err;
	int n = -1;

	add_fleet();
	/* the caller's transaction: rolled back, nothing happened */
	ck_assert_int_eq(lt_store_begin(st, &err), LT_OK);
	ck_assert_int_eq(lt_prune_hosts(pr, 5000, 20000, 100, &n, NULL,
	    &err), LT_OK);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 0);
	lt_store_rollback(st);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 5);
	ck_assert_int_eq(q_int("SELECT count(*) FROM active_alerts"), 9);
	/* a failing alert update undoes the host deletes too */
	exec_ok("CREATE TEMP TRIGGER boom BEFORE UPDATE ON latticed_alerts "
	    "WHEN old.kind = 'host_stopped' BEGIN SELECT RAISE(ABORT,"
	    " 'boom'); END");
	lt_err_clear(&err);
	ck_assert_int_eq(lt_prune_hosts(pr, 5000, 20000, 100, &n, NULL,
	    &err), LT_ESTORE);
	ck_assert_ptr_nonnull(strstr(err.msg, "boom"));
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sqlite3_get_autocommit(st->db), 1);
	ck_assert_int_eq(q_int("SELECT count(*) FROM hosts"), 5);
	ck_assert_int_eq(q_int("SELECT count(*) FROM components"), 3);
	ck_assert_int_eq(q_int("SELECT count(*) FROM active_alerts"), 9);
}
END_TEST

/* Append each lattice to a comma-separated list; stop at "stop". */
static int
collect(void *arg, const char *lattice)
{
	char *buf = arg;

	if (buf[0] != '\0')
		strcat(buf, ",");
	strcat(buf, lattice);
	return strcmp(lattice, "stop") == 0;
}

START_TEST(test_observe_lattices_up)
{
	struct lt_observe *o;
	struct lt_err err;
	char buf[256] = "";

	ck_assert_int_eq(lt_observe_new(st, &o, &err), LT_OK);
	/* every lattice known, but only "new", "old", "mid" have a host up */
	add_host("bogus", "X", "stale", 1);
	add_host("gone", "Y", "stopped", 1);
	add_host("new", "N", "up", 1);
	add_host("old", "O", "up", 1);
	add_host("old", "O2", "stale", 1);
	add_host("mid", "M", "up", 1);
	exec_ok("UPDATE latticed_hosts"
	    " SET first_seen_ms = CASE host_id WHEN 'N' THEN"
	    " 300 WHEN 'O' THEN 100 WHEN 'M' THEN 200 ELSE 1 END");
	ck_assert_int_eq(lt_observe_lattices(o, collect, buf, &err), LT_OK);
	ck_assert_str_eq(buf, "bogus,gone,mid,new,old");
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_lattices_up(o, collect, buf, &err),
	    LT_OK);
	ck_assert_str_eq(buf, "old,mid,new");
	/* a tie goes by name; the callback stops the walk */
	add_host("stop", "S", "up", 1);
	add_host("a", "A", "up", 1);
	exec_ok("UPDATE latticed_hosts SET first_seen_ms = 100 WHERE host_id IN"
	    " ('S', 'A')");
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_lattices_up(o, collect, buf, &err),
	    LT_OK);
	ck_assert_str_eq(buf, "a,old,stop");
	/* the statement was reset: a second walk starts over */
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_lattices_up(o, collect, buf, &err),
	    LT_OK);
	ck_assert_str_eq(buf, "a,old,stop");
	lt_observe_free(o);
}
END_TEST

/* The suite. */
static Suite *
prune_suite(void)
{
	Suite *s = suite_create("prune");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_age_cap);
	tcase_add_test(tc, test_row_cap);
	tcase_add_test(tc, test_both_caps);
	tcase_add_test(tc, test_batch_respected);
	tcase_add_test(tc, test_state_untouched);
	tcase_add_test(tc, test_rejected_independent);
	tcase_add_test(tc, test_checkpoint);
	tcase_add_test(tc, test_hosts_expire);
	tcase_add_test(tc, test_hosts_silent_last_goes);
	tcase_add_test(tc, test_hosts_batch);
	tcase_add_test(tc, test_observe_lattices_up);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rejects_bad_arguments);
	tcase_add_test(tc, test_store_failure_rolls_back);
	tcase_add_test(tc, test_hosts_bad_arguments);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_age_cap_not_by_seq);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_callers_transaction);
	tcase_add_test(tc, test_checkpoint_reader_busy);
	tcase_add_test(tc, test_hosts_up_never);
	tcase_add_test(tc, test_hosts_rollback);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(prune_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
