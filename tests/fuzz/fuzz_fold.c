/*
 * fuzz_fold.c - libFuzzer harness for the fold: decode + apply into SQLite.
 *
 * Input layout: byte 0 is a selector, the rest is split on '\n' into at
 * most MAXMSG messages (the last one keeps any remaining newlines).
 *
 *	bits 0-2  subject family (see subject_for())
 *	bits 3-4  lattice name
 *	bit  5    fold with tight limits
 *	bit  6    after a commit, fold the same messages again: every message
 *		  that was not rejected must now be a duplicate
 *	bit  7    commit (else roll back, and nothing may have changed)
 *
 * A message starting with a NUL byte is handed to lt_fold_reject() instead
 * (the daemon's path for messages it drops before decoding); one starting
 * with 0x01 runs lt_stale_sweep() at now + byte[1] x 10 s (byte[2] bit 0:
 * no mass silence, bit 1: a storm threshold of 1), inside the same
 * transaction, and checks that exactly res.marked hosts went up -> stale
 * and that no more alerts fired than hosts were marked.
 *
 * One in-memory database per process, reset every FUZZ_FOLD_RESET inputs
 * (environment, default 256; 1 makes every input independent, which is
 * what you want when minimising a crash).  After every input the harness
 * checks that the database is consistent: foreign keys hold, JSON columns
 * hold valid JSON, every folded message left exactly one row in events or
 * rejected_events, a rollback left no trace, and every generated column can
 * be read.  A broken invariant is an abort().
 *
 * FUZZ_SKIP_NONJSON=1 skips messages SQLite's json_valid() rejects
 * (known bug: lt_ce_parse accepts them and the events INSERT then fails);
 * use it only to hunt past that bug.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ce.h"
#include "err.h"
#include "fold.h"
#include "stale.h"
#include "store.h"
#include "store_int.h"	/* the harness reads st->db for its checks */

#define MAXMSG		16
#define T0_MS		1718301600000LL	/* 2024-06-13T18:00:00Z */
#define TYPE_KEY	"\"type\":\"com.wasmcloud.lattice."

/* Abort with a message when cond is false. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_fold: %s:%d: check failed: %s\n",\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Rows counted before/after an input to prove a rollback left no trace. */
static const char *const tables[] = {
	"hosts", "components", "providers", "links", "configs", "events",
	"rejected_events", "alerts", "latticed_state",
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

static const char *const lattices[] = { "default", "prod", "edge-1", "x" };

/* Per-process harness state (a harness may have globals). */
static struct lt_store	*store;
static struct lt_fold	*fold;
static uint64_t		 ninputs;	/* since the last reset */
static uint64_t		 reset_every = 256;
static int64_t		 clock_ms;
static int		 skip_nonjson;
static sqlite3		*jdb;		/* json_valid() for skip_nonjson */
static sqlite3_stmt	*jvalid;
static uint64_t		 want_events;	/* committed rows expected */
static uint64_t		 want_rejected;

/* Open a fresh store and fold. */
static void
open_db(void)
{
	struct lt_fold_opts opts;
	struct lt_err	 err;

	if (store != NULL) {
		lt_fold_free(fold);
		lt_store_close(store);
	}
	if (lt_store_open(":memory:", &store, &err) != LT_OK) {
		fprintf(stderr, "fuzz_fold: store: %s\n", err.msg);
		abort();
	}
	lt_fold_opts_default(&opts);
	if (lt_fold_new(store, &opts, &fold, &err) != LT_OK) {
		fprintf(stderr, "fuzz_fold: fold: %s\n", err.msg);
		abort();
	}
	ninputs = 0;
	clock_ms = T0_MS;
	want_events = want_rejected = 0;
}

/* Run one SELECT returning a single integer. */
static int64_t
query_int(const char *sql)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 v;

	if (sqlite3_prepare_v2(store->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "fuzz_fold: %s: %s\n", sql,
		    sqlite3_errmsg(store->db));
		abort();
	}
	CHECK(sqlite3_step(s) == SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	CHECK(sqlite3_step(s) == SQLITE_DONE);
	sqlite3_finalize(s);
	return v;
}

/* Count the rows of every table into n[]. */
static void
count_rows(int64_t n[NTABLES])
{
	char	sql[128];
	size_t	i;

	for (i = 0; i < NTABLES; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s",
		    tables[i]);
		n[i] = query_int(sql);
	}
}

/* Return the number of rows sql yields (each must step cleanly). */
static int64_t
rows_of(const char *sql)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 n = 0;
	int		 rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "fuzz_fold: %s: %s\n", sql,
		    sqlite3_errmsg(store->db));
		abort();
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		n++;
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "fuzz_fold: %s: %s\n", sql,
		    sqlite3_errmsg(store->db));
		abort();
	}
	sqlite3_finalize(s);
	return n;
}

/* Check the database is consistent; heavy adds integrity_check. */
static void
check_db(int heavy)
{
	size_t	i;
	char	sql[128];

	CHECK(sqlite3_get_autocommit(store->db));
	CHECK(rows_of("PRAGMA foreign_key_check") == 0);
	CHECK(query_int("SELECT count(*) FROM events") ==
	    (int64_t)want_events);
	CHECK(query_int("SELECT count(*) FROM rejected_events") ==
	    (int64_t)want_rejected);
	CHECK(query_int("SELECT count(*) FROM hosts WHERE "
	    "json_type(labels) IS NOT 'object'") == 0);
	CHECK(query_int("SELECT count(*) FROM components WHERE "
	    "json_type(annotations) IS NOT 'object' OR max_instances <= 0")
	    == 0);
	CHECK(query_int("SELECT count(*) FROM providers WHERE "
	    "json_type(annotations) IS NOT 'object'") == 0);
	CHECK(query_int("SELECT count(*) FROM links WHERE "
	    "json_type(interfaces) IS NOT 'array' OR "
	    "json_type(source_config) IS NOT 'array' OR "
	    "json_type(target_config) IS NOT 'array' OR "
	    "(legacy_values IS NOT NULL AND "
	    "json_type(legacy_values) IS NOT 'object')") == 0);
	CHECK(query_int("SELECT count(*) FROM configs WHERE "
	    "legacy_keys IS NOT NULL AND NOT json_valid(legacy_keys)") == 0);
	CHECK(query_int("SELECT count(*) FROM alerts WHERE "
	    "NOT json_valid(details)") == 0);
	CHECK(query_int("SELECT count(*) FROM events WHERE "
	    "data IS NOT NULL AND NOT json_valid(data)") == 0);
	/* Components and providers only on known hosts (the FK says so
	   too, but only when foreign_keys was really on). */
	CHECK(query_int("SELECT count(*) FROM components c WHERE NOT EXISTS "
	    "(SELECT 1 FROM hosts h WHERE h.lattice = c.lattice AND "
	    "h.host_id = c.host_id)") == 0);
	CHECK(query_int("SELECT count(*) FROM providers p WHERE NOT EXISTS "
	    "(SELECT 1 FROM hosts h WHERE h.lattice = p.lattice AND "
	    "h.host_id = p.host_id)") == 0);
	if (!heavy)
		return;
	/* Every column, generated ones included, can be read. */
	for (i = 0; i < NTABLES; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s", tables[i]);
		(void)rows_of(sql);
	}
	(void)rows_of("SELECT * FROM active_alerts");
	CHECK(rows_of("PRAGMA integrity_check") == 1);
	CHECK(query_int("SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check = 'ok'") == 1);
}

/* Build the subject of message msg under selector sel into buf. */
static const char *
subject_for(uint8_t sel, const uint8_t *msg, size_t len, char *buf,
    size_t bufsz)
{
	const char	*lat = lattices[(sel >> 3) & 3];
	char		 type[65] = "unknown";
	const uint8_t	*p;
	size_t		 klen = strlen(TYPE_KEY), i;

	p = memmem(msg, len, TYPE_KEY, klen);
	if (p != NULL) {
		p += klen;
		for (i = 0; i < sizeof(type) - 1 && p + i < msg + len &&
		    p[i] != '"' && p[i] != '\0'; i++)
			type[i] = (char)p[i];
		type[i] = '\0';
	}
	switch (sel & 7) {
	case 0:
		snprintf(buf, bufsz, "wasmbus.evt.%s.%s", lat, type);
		return buf;
	case 1:
		snprintf(buf, bufsz, "wasmbus.evt.%s", lat);
		return buf;
	case 2:
		snprintf(buf, bufsz, "wasmbus.rpcevt.%s", lat);
		return buf;
	case 3:
		return NULL;
	case 4:
		return "wasmbus.evt";
	case 5:
		return "";
	case 6:
		snprintf(buf, bufsz, "%s.%s", lat, type);
		return buf;
	default:
		snprintf(buf, bufsz, "wasmbus.evt.%s.%s.extra.tokens", lat,
		    type);
		return buf;
	}
}

/* Run the stale sweep from inside the transaction and check its count. */
static void
sweep(const uint8_t *msg, size_t len, int64_t now_ms)
{
	struct lt_stale_opts	 so;
	struct lt_stale_result	 res;
	struct lt_err		 err;
	int64_t			 up0, st0, st1;

	lt_stale_opts_default(&so);
	if (len > 2 && (msg[2] & 1))
		so.mass_silence_min_hosts = 0;
	if (len > 2 && (msg[2] & 2))
		so.storm_threshold = 1;		/* the budget runs out */
	up0 = query_int("SELECT count(*) FROM hosts WHERE status = 'up'");
	st0 = query_int("SELECT count(*) FROM hosts WHERE status = 'stale'");
	memset(&res, 0, sizeof(res));
	if (lt_stale_sweep(fold, &so, now_ms + (len > 1 ? msg[1] : 0) * 10000LL,
	    0, &res, &err) != LT_OK) {
		fprintf(stderr, "fuzz_fold: sweep: %s\n", err.msg);
		abort();
	}
	st1 = query_int("SELECT count(*) FROM hosts WHERE status = 'stale'");
	CHECK(res.marked >= 0 && res.marked <= up0);
	CHECK(st1 - st0 == res.marked);
	CHECK(res.host_stale >= 0 && res.host_stale <= res.marked);
	CHECK(res.lattice_silent >= 0 && res.lattice_silent <= res.marked);
	/* each host it marked is alerted, covered or suppressed once */
	CHECK(res.suppressed >= 0 &&
	    res.host_stale + res.suppressed <= res.marked);
}

/* Fold one message; returns its outcome. */
static enum lt_outcome
fold_one(uint8_t sel, const uint8_t *msg, size_t len, int64_t now_ms)
{
	struct lt_msg	 m = { 0 };
	struct lt_err	 err;
	enum lt_outcome	 out = (enum lt_outcome)-1;
	char		 subj[160];
	int		 rc;

	if (len > 0 && msg[0] == '\1') {
		sweep(msg, len, now_ms);
		return LT_OUT_DUPLICATE;	/* leaves no events row */
	}
	if (len > 0 && msg[0] == '\0') {
		rc = lt_fold_reject(fold, subject_for(sel, msg + 1, len - 1,
		    subj, sizeof(subj)), now_ms, LT_ELIMIT, "inbox overflow",
		    msg + 1, len - 1, len + 1000, &err);
		if (rc != LT_OK) {
			fprintf(stderr, "fuzz_fold: reject: %s\n", err.msg);
			abort();
		}
		return LT_OUT_REJECTED;
	}
	if (skip_nonjson) {
		int ok;

		CHECK(sqlite3_bind_text(jvalid, 1, (const char *)msg,
		    (int)len, SQLITE_STATIC) == SQLITE_OK);
		CHECK(sqlite3_step(jvalid) == SQLITE_ROW);
		ok = sqlite3_column_int(jvalid, 0);
		sqlite3_reset(jvalid);
		if (!ok)
			return LT_OUT_DUPLICATE;	/* leaves no row */
	}
	m.subject = subject_for(sel, msg, len, subj, sizeof(subj));
	m.data = msg;
	m.len = len;
	m.received_ms = now_ms;
	memset(&err, 0, sizeof(err));
	rc = lt_fold_msg(fold, &m, &out, &err);
	if (rc != LT_OK) {
		/* Bad input is never an error of lt_fold_msg(), and an
		   in-memory database does not fail. */
		fprintf(stderr, "fuzz_fold: lt_fold_msg returned %d (%s): "
		    "%s [%s]\n", rc, lt_strerror(rc), err.msg, err.field);
		abort();
	}
	CHECK(out >= LT_OUT_APPLIED && out <= LT_OUT_REJECTED);
	if (out == LT_OUT_REJECTED)
		CHECK(err.code != LT_OK);
	CHECK(lt_outcome_name(out) != NULL);
	return out;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*e = getenv("FUZZ_FOLD_RESET");

	(void)argc;
	(void)argv;
	if (e != NULL && atoi(e) > 0)
		reset_every = (uint64_t)atoi(e);
	e = getenv("FUZZ_SKIP_NONJSON");
	if (e != NULL && atoi(e) > 0) {
		skip_nonjson = 1;
		CHECK(sqlite3_open(":memory:", &jdb) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(jdb, "SELECT json_valid(?1)", -1,
		    &jvalid, NULL) == SQLITE_OK);
	}
	open_db();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*msg[MAXMSG];
	size_t		 len[MAXMSG], n = 0, i, rest;
	enum lt_outcome	 out[MAXMSG];
	struct lt_fold_opts opts;
	struct lt_err	 err;
	int64_t		 before[NTABLES], after[NTABLES];
	uint64_t	 ev = 0, rej = 0;
	const uint8_t	*p, *nl;
	uint8_t		 sel;
	int		 commit, tight;

	if (size < 1)
		return 0;
	if (ninputs++ >= reset_every)
		open_db();
	sel = data[0];
	commit = (sel & 0x80) != 0;
	tight = (sel & 0x20) != 0;

	/* Split on '\n'. */
	p = data + 1;
	rest = size - 1;
	while (rest > 0 && n < MAXMSG) {
		nl = n + 1 < MAXMSG ? memchr(p, '\n', rest) : NULL;
		msg[n] = p;
		len[n] = nl != NULL ? (size_t)(nl - p) : rest;
		n++;
		if (nl == NULL)
			break;
		rest -= len[n - 1] + 1;
		p = nl + 1;
	}

	if (tight) {
		lt_fold_opts_default(&opts);
		opts.limits.max_payload = 2048;
		opts.limits.max_depth = 4;
		opts.limits.max_string = 48;
		opts.limits.max_items = 2;
		opts.limits.max_pairs = 2;
		opts.limits.max_instances = 10;
		opts.limits.max_uptime = 1000;
		opts.max_future_skew_ms = 0;
		lt_fold_set_opts(fold, &opts);
	}

	if (!commit)
		count_rows(before);
	if (lt_fold_begin(fold, &err) != LT_OK) {
		fprintf(stderr, "fuzz_fold: begin: %s\n", err.msg);
		abort();
	}
	for (i = 0; i < n; i++) {
		clock_ms += 250;
		out[i] = fold_one(sel, msg[i], len[i], clock_ms);
		if (out[i] == LT_OUT_REJECTED)
			rej++;
		else if (out[i] != LT_OUT_DUPLICATE)
			ev++;
	}
	if (commit) {
		if (lt_fold_commit(fold, &err) != LT_OK) {
			fprintf(stderr, "fuzz_fold: commit: %s\n", err.msg);
			abort();
		}
		want_events += ev;
		want_rejected += rej;
	} else {
		lt_fold_rollback(fold);
		count_rows(after);
		for (i = 0; i < NTABLES; i++) {
			if (before[i] != after[i]) {
				fprintf(stderr, "fuzz_fold: rollback left "
				    "%lld rows in %s (was %lld)\n",
				    (long long)after[i], tables[i],
				    (long long)before[i]);
				abort();
			}
		}
	}

	/* Fold it all again: everything that was kept is now a duplicate. */
	if (commit && (sel & 0x40)) {
		CHECK(lt_fold_begin(fold, &err) == LT_OK);
		for (i = 0; i < n; i++) {
			enum lt_outcome o;

			clock_ms += 250;
			o = fold_one(sel, msg[i], len[i], clock_ms);
			if (out[i] != LT_OUT_REJECTED && o != LT_OUT_DUPLICATE) {
				fprintf(stderr, "fuzz_fold: message %zu was "
				    "%s, folded again it is %s, not "
				    "duplicate\n", i, lt_outcome_name(out[i]),
				    lt_outcome_name(o));
				abort();
			}
			if (o == LT_OUT_REJECTED)
				want_rejected++;
			else if (o != LT_OUT_DUPLICATE)
				want_events++;
		}
		CHECK(lt_fold_commit(fold, &err) == LT_OK);
	}

	if (tight) {
		lt_fold_opts_default(&opts);
		lt_fold_set_opts(fold, &opts);
	}
	check_db(ninputs % 64 == 1 || reset_every <= 64);
	return 0;
}
