/*
 * outbox.c - the alert_deliveries table: queue, due rows, retries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "outbox.h"
#include "store_int.h"

enum outbox_stmt {
	OS_ENQUEUE,
	OS_CLEAR_CHANGES,
	OS_NEXT,
	OS_LEASE,
	OS_DONE,
	OS_ATTEMPTS,
	OS_FAILED,
	OS_REPOST,
	OS_PRUNE,
	OS_COUNT
};

/* The alert columns every reader copies, in struct lt_delivery order. */
#define ALERT_COLS \
	"a.lattice, a.kind, a.severity, a.entity, a.host_id, a.summary," \
	" a.details, a.fired_ms, a.resolved_ms"

static const char *const outbox_sql[OS_COUNT] = {
	[OS_ENQUEUE] =
	    "INSERT INTO alert_deliveries (alert_id, sink, transition,"
	    " attempts, next_attempt_ms, queued_ms)"
	    " SELECT alert_id, ?1, transition, 0, ?2, ?2 FROM alert_changes"
	    " WHERE 1 ON CONFLICT DO NOTHING",
	[OS_CLEAR_CHANGES] =
	    "DELETE FROM alert_changes",
	[OS_NEXT] =
	    "SELECT d.alert_id, d.sink, d.transition, d.attempts, "
	    ALERT_COLS
	    " FROM alert_deliveries d JOIN latticed_alerts a USING (alert_id)"
	    " WHERE d.delivered_ms IS NULL AND d.next_attempt_ms <= ?1"
	    " AND NOT (d.transition = 'resolved' AND EXISTS (SELECT 1"
	    " FROM alert_deliveries f WHERE f.alert_id = d.alert_id"
	    " AND f.sink = d.sink AND f.transition = 'firing'"
	    " AND f.delivered_ms IS NULL))"
	    " AND (?3 IS NULL OR d.sink = ?3)"
	    " ORDER BY d.next_attempt_ms, d.alert_id, d.transition, d.sink"
	    " LIMIT ?2",
	[OS_LEASE] =
	    "UPDATE alert_deliveries SET next_attempt_ms = ?4"
	    " WHERE alert_id = ?1 AND sink = ?2 AND transition = ?3"
	    " AND delivered_ms IS NULL",
	[OS_DONE] =
	    "UPDATE alert_deliveries SET delivered_ms = ?4"
	    " WHERE alert_id = ?1 AND sink = ?2 AND transition = ?3"
	    " AND delivered_ms IS NULL",
	[OS_ATTEMPTS] =
	    "SELECT attempts FROM alert_deliveries"
	    " WHERE alert_id = ?1 AND sink = ?2 AND transition = ?3"
	    " AND delivered_ms IS NULL",
	[OS_FAILED] =
	    "UPDATE alert_deliveries SET attempts = attempts + 1,"
	    " next_attempt_ms = ?4, last_error = ?5"
	    " WHERE alert_id = ?1 AND sink = ?2 AND transition = ?3"
	    " AND delivered_ms IS NULL",
	[OS_REPOST] =
	    "SELECT a.alert_id, ?1, 'firing', 0, " ALERT_COLS
	    " FROM latticed_alerts a WHERE a.resolved_ms IS NULL"
	    " AND EXISTS (SELECT 1"
	    " FROM alert_deliveries d WHERE d.alert_id = a.alert_id"
	    " AND d.sink = ?1 AND d.transition = 'firing'"
	    " AND d.delivered_ms IS NOT NULL)"
	    " ORDER BY a.alert_id LIMIT ?2",
	[OS_PRUNE] =
	    "DELETE FROM alert_deliveries WHERE delivered_ms < ?1",
};

struct lt_outbox {
	struct lt_store	*st;
	sqlite3_stmt	*stmt[OS_COUNT];
};

/* Name a transition as the table spells it. */
const char *
lt_transition_name(enum lt_transition tr)
{
	return tr == LT_TR_RESOLVED ? "resolved" : "firing";
}

/* Prepare the statement table. */
int
lt_outbox_new(struct lt_store *st, struct lt_outbox **out,
    struct lt_err *err)
{
	struct lt_outbox *ob;

	*out = NULL;
	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "outbox: out of memory");
	ob->st = st;
	if (lt_store_prepare_table(st, outbox_sql, OS_COUNT, ob->stmt, err) !=
	    LT_OK) {
		free(ob);
		return LT_ESTORE;
	}
	*out = ob;
	return LT_OK;
}

/* Finalize the statements and free. */
void
lt_outbox_free(struct lt_outbox *ob)
{
	if (ob == NULL)
		return;
	lt_store_finalize_table(ob->stmt, OS_COUNT);
	free(ob);
}

/* Step s to completion and reset it; *changes may be NULL. */
static int
run(struct lt_outbox *ob, sqlite3_stmt *s, int *changes, struct lt_err *err)
{
	return lt_store_run(ob->st, s, changes, "outbox", err);
}

/* Bind the primary key ?1 alert_id, ?2 sink, ?3 transition. */
static void
bkey(sqlite3_stmt *s, int64_t alert_id, const char *sink,
    enum lt_transition tr)
{
	sqlite3_bind_int64(s, 1, alert_id);
	sqlite3_bind_text(s, 2, sink, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, lt_transition_name(tr), -1, SQLITE_STATIC);
}

/* Queue every pending alert change for every sink. */
int
lt_outbox_enqueue_pending(struct lt_outbox *ob, const char *const *sinks,
    size_t nsinks, int64_t now_ms, size_t *queued, struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_ENQUEUE];
	size_t i, total = 0;
	int n;

	if (queued != NULL)
		*queued = 0;
	for (i = 0; i < nsinks; i++) {
		if (sinks[i] == NULL || sinks[i][0] == '\0')
			return lt_err_set(err, LT_EINVAL, "sink",
			    "outbox: empty sink name");
		sqlite3_bind_text(s, 1, sinks[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now_ms);
		n = 0;
		if (run(ob, s, &n, err) != LT_OK)
			return LT_ESTORE;
		total += (size_t)n;
	}
	if (run(ob, ob->stmt[OS_CLEAR_CHANGES], NULL, err) != LT_OK)
		return LT_ESTORE;
	if (queued != NULL)
		*queued = total;
	return LT_OK;
}

/* Copy column col as an owned string (NULL stays NULL); -1 on ENOMEM. */
static int
dupcol(sqlite3_stmt *s, int col, char **out)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	*out = NULL;
	if (t == NULL)
		return sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM ?
		    -1 : 0;
	return (*out = strdup((const char *)t)) == NULL ? -1 : 0;
}

/* Fill d from a row of OS_NEXT / OS_REPOST. */
static int
read_row(sqlite3_stmt *s, struct lt_delivery *d)
{
	const unsigned char *tr;

	memset(d, 0, sizeof(*d));
	d->alert_id = sqlite3_column_int64(s, 0);
	tr = sqlite3_column_text(s, 2);
	d->transition = tr != NULL && tr[0] == 'r' ? LT_TR_RESOLVED :
	    LT_TR_FIRING;
	d->attempts = sqlite3_column_int(s, 3);
	d->fired_ms = sqlite3_column_int64(s, 11);
	d->resolved_ms = d->transition == LT_TR_RESOLVED ?
	    sqlite3_column_int64(s, 12) : 0;
	if (dupcol(s, 1, &d->sink) || dupcol(s, 4, &d->lattice) ||
	    dupcol(s, 5, &d->kind) || dupcol(s, 6, &d->severity) ||
	    dupcol(s, 7, &d->entity) || dupcol(s, 8, &d->host_id) ||
	    dupcol(s, 9, &d->summary) || dupcol(s, 10, &d->details) ||
	    d->sink == NULL || d->kind == NULL) {
		lt_delivery_clear(d, 1);
		return -1;
	}
	return 0;
}

/* Read up to max rows of the bound statement s into out. */
static int
read_rows(struct lt_outbox *ob, sqlite3_stmt *s, size_t max,
    struct lt_delivery *out, size_t *n, struct lt_err *err)
{
	int rc = SQLITE_DONE;

	sqlite3_bind_int64(s, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (read_row(s, &out[*n]) != 0) {
			rc = LT_ENOMEM;
			goto fail;
		}
		(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE) {
		rc = lt_store_err(ob->st, err, "outbox read");
		goto fail;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return LT_OK;
fail:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	lt_delivery_clear(out, *n);
	*n = 0;
	if (rc == LT_ENOMEM)
		return lt_err_set(err, LT_ENOMEM, "", "outbox: out of memory");
	return LT_ESTORE;
}

/* Copy the due deliveries, leasing them when lease_ms > 0. */
int
lt_outbox_next(struct lt_outbox *ob, int64_t now_ms, int64_t lease_ms,
    size_t max, struct lt_delivery *out, size_t *n, struct lt_err *err)
{
	return lt_outbox_next_sink(ob, NULL, now_ms, lease_ms, max, out, n,
	    err);
}

/* Copy the due deliveries of one sink (NULL: any), leasing them. */
int
lt_outbox_next_sink(struct lt_outbox *ob, const char *sink, int64_t now_ms,
    int64_t lease_ms, size_t max, struct lt_delivery *out, size_t *n,
    struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_NEXT];
	size_t i;

	*n = 0;
	if (max == 0)
		return LT_OK;
	sqlite3_bind_int64(s, 1, now_ms);
	if (sink != NULL)
		sqlite3_bind_text(s, 3, sink, -1, SQLITE_STATIC);
	if (read_rows(ob, s, max, out, n, err) != LT_OK)
		return err != NULL ? err->code : LT_ESTORE;
	if (lease_ms <= 0)
		return LT_OK;
	for (i = 0; i < *n; i++) {
		s = ob->stmt[OS_LEASE];
		bkey(s, out[i].alert_id, out[i].sink, out[i].transition);
		sqlite3_bind_int64(s, 4, now_ms + lease_ms);
		if (run(ob, s, NULL, err) != LT_OK) {
			lt_delivery_clear(out, *n);
			*n = 0;
			return LT_ESTORE;
		}
	}
	return LT_OK;
}

/* Mark one delivery delivered. */
int
lt_outbox_done(struct lt_outbox *ob, int64_t alert_id, const char *sink,
    enum lt_transition tr, int64_t now_ms, struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_DONE];

	if (sink == NULL)
		return lt_err_set(err, LT_EINVAL, "sink", "outbox: no sink");
	bkey(s, alert_id, sink, tr);
	sqlite3_bind_int64(s, 4, now_ms);
	return run(ob, s, NULL, err);
}

/* The backoff after attempts earlier failures, with jitter in [0, 1). */
int64_t
lt_outbox_backoff_ms(int attempts, double jitter)
{
	int64_t d;

	if (attempts < 0)
		attempts = 0;
	if (attempts > 20)
		attempts = 20;
	d = (int64_t)LT_OUTBOX_BACKOFF_MIN_MS << attempts;
	if (d > LT_OUTBOX_BACKOFF_MAX_MS)
		d = LT_OUTBOX_BACKOFF_MAX_MS;
	if (!(jitter >= 0))	/* also NaN */
		jitter = 0;
	if (jitter > 1)
		jitter = 1;
	return d + (int64_t)(jitter * (double)(d / 4));
}

/* Record a failed attempt and schedule the next one. */
int
lt_outbox_failed(struct lt_outbox *ob, int64_t alert_id, const char *sink,
    enum lt_transition tr, const char *error, int64_t now_ms, double jitter,
    struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_ATTEMPTS];
	int rc, attempts;

	if (sink == NULL)
		return lt_err_set(err, LT_EINVAL, "sink", "outbox: no sink");
	bkey(s, alert_id, sink, tr);
	rc = sqlite3_step(s);
	attempts = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE)
		return LT_OK;	/* delivered meanwhile, or unknown */
	if (rc != SQLITE_ROW)
		return lt_store_err(ob->st, err, "outbox attempts");
	s = ob->stmt[OS_FAILED];
	bkey(s, alert_id, sink, tr);
	sqlite3_bind_int64(s, 4, now_ms + lt_outbox_backoff_ms(attempts,
	    jitter));
	if (error != NULL)
		sqlite3_bind_text(s, 5, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 5, "failed", -1, SQLITE_STATIC);
	return run(ob, s, NULL, err);
}

/* Copy the active alerts already delivered to sink, for re-posting. */
int
lt_outbox_active_for_repost(struct lt_outbox *ob, const char *sink,
    size_t max, struct lt_delivery *out, size_t *n, struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_REPOST];

	*n = 0;
	if (sink == NULL)
		return lt_err_set(err, LT_EINVAL, "sink", "outbox: no sink");
	if (max == 0)
		return LT_OK;
	sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
	if (read_rows(ob, s, max, out, n, err) != LT_OK)
		return err != NULL ? err->code : LT_ESTORE;
	return LT_OK;
}

/* Delete old delivered rows. */
int
lt_outbox_prune(struct lt_outbox *ob, int64_t before_ms, size_t *deleted,
    struct lt_err *err)
{
	sqlite3_stmt *s = ob->stmt[OS_PRUNE];
	int n = 0;

	sqlite3_bind_int64(s, 1, before_ms);
	if (run(ob, s, &n, err) != LT_OK)
		return LT_ESTORE;
	if (deleted != NULL)
		*deleted = (size_t)n;
	return LT_OK;
}

/* Free the strings of n deliveries. */
void
lt_delivery_clear(struct lt_delivery *d, size_t n)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(d[i].sink);
		free(d[i].lattice);
		free(d[i].kind);
		free(d[i].severity);
		free(d[i].entity);
		free(d[i].host_id);
		free(d[i].summary);
		free(d[i].details);
		memset(&d[i], 0, sizeof(d[i]));
	}
}
