/*
 * prune.c - history retention in small batches, WAL checkpoints, optimize.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alert.h"
#include "prune.h"
#include "store.h"
#include "store_int.h"

/* How long a truncating checkpoint waits for readers. */
#define TRUNCATE_BUSY_MS	250
/* store.c's busy timeout, restored after a truncating checkpoint. */

enum prune_stmt {
	PS_EVENTS_AGE,
	PS_EVENTS_CAP,
	PS_REJECTED_AGE,
	PS_REJECTED_CAP,
	PS_HOSTS_OLD,
	PS_HOST_DELETE,
	PS_COUNT
};

/*
 * ?1 limit, ?2 batch.  The age delete walks the received_ms index
 * (events_received, rejected_received) in order, so it costs the batch and
 * not the table even when nothing is old enough.  The cap delete is a rowid
 * range below max(seq) - keep: at most keep rows remain above it.
 */
static const char *const prune_sql[PS_COUNT] = {
	[PS_EVENTS_AGE] =
	    "DELETE FROM latticed_events WHERE seq IN (SELECT seq"
	    " FROM latticed_events WHERE received_ms < ?1"
	    " ORDER BY received_ms, seq LIMIT ?2)",
	[PS_EVENTS_CAP] =
	    "DELETE FROM latticed_events WHERE seq IN (SELECT seq"
	    " FROM latticed_events"
	    " WHERE seq <= (SELECT max(seq) FROM latticed_events) - ?1"
	    " ORDER BY seq LIMIT ?2)",
	[PS_REJECTED_AGE] =
	    "DELETE FROM latticed_rejected_events WHERE seq IN (SELECT seq FROM"
	    " latticed_rejected_events WHERE received_ms < ?1"
	    " ORDER BY received_ms, seq LIMIT ?2)",
	[PS_REJECTED_CAP] =
	    "DELETE FROM latticed_rejected_events WHERE seq IN (SELECT seq FROM"
	    " latticed_rejected_events WHERE seq <= (SELECT max(seq) FROM"
	    " latticed_rejected_events) - ?1 ORDER BY seq LIMIT ?2)",
	/*
	 * Walks hosts_status (status, lattice): the cost is the batch plus
	 * the stale/stopped hosts not old enough yet, never the up hosts.
	 */
	[PS_HOSTS_OLD] =
	    "SELECT lattice, host_id FROM latticed_hosts"
	    " WHERE status IN ('stale', 'stopped') AND status_changed_ms < ?1"
	    " LIMIT ?2",
	[PS_HOST_DELETE] =
	    "DELETE FROM latticed_hosts"
	    " WHERE lattice = ?1 AND host_id = ?2"
	    " AND status IN ('stale', 'stopped') AND status_changed_ms < ?3",
};

/* One host to expire. */
struct host_key {
	char	*lattice;
	char	*host_id;
};

struct lt_prune {
	struct lt_store	*st;
	struct lt_alert	*alert;		/* resolves expired hosts' alerts */
	sqlite3_stmt	*stmt[PS_COUNT];
};

/* Prepare the prune statements. */
int
lt_prune_new(struct lt_store *st, struct lt_prune **out, struct lt_err *err)
{
	struct lt_prune *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "prune: out of memory");
	p->st = st;
	if (lt_store_prepare_table(st, prune_sql, PS_COUNT, p->stmt, err) !=
	    LT_OK)
		goto fail;
	if (lt_alert_new(st, &p->alert, err) != LT_OK) {
		lt_store_finalize_table(p->stmt, PS_COUNT);
		goto fail;
	}
	*out = p;
	return LT_OK;
fail:
	free(p);
	return LT_ESTORE;
}

/* Finalize the statements and free. */
void
lt_prune_free(struct lt_prune *p)
{
	if (p == NULL)
		return;
	lt_store_finalize_table(p->stmt, PS_COUNT);
	lt_alert_free(p->alert);
	free(p);
}

/* Name a prunable table. */
const char *
lt_prune_table_name(enum lt_prune_table t)
{
	switch (t) {
	case LT_PRUNE_EVENTS:
		return "events";
	case LT_PRUNE_REJECTED:
		return "rejected_events";
	case LT_PRUNE_NTABLES:
		break;
	}
	return "?";
}

/* Run one delete statement with (limit, batch); add the rows it deleted. */
static int
run_delete(struct lt_prune *p, enum prune_stmt which, int64_t limit,
    int batch, int *deleted, struct lt_err *err)
{
	sqlite3_stmt	*s = p->stmt[which];
	int		 rc;

	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int(s, 2, batch);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return lt_store_err(p->st, err, prune_sql[which]);
	*deleted += sqlite3_changes(p->st->db);
	return LT_OK;
}

/* Delete at most batch of the oldest rows over the age or count limit. */
int
lt_prune(struct lt_prune *p, enum lt_prune_table t, int64_t older_than_ms,
    int64_t keep_max_rows, int batch, int *deleted, struct lt_err *err)
{
	enum prune_stmt	 age, cap;
	int		 own = 0, n = 0, rc;

	*deleted = 0;
	if (t == LT_PRUNE_EVENTS) {
		age = PS_EVENTS_AGE;
		cap = PS_EVENTS_CAP;
	} else if (t == LT_PRUNE_REJECTED) {
		age = PS_REJECTED_AGE;
		cap = PS_REJECTED_CAP;
	} else
		return lt_err_set(err, LT_EINVAL, "table", "prune: no table "
		    "%d", (int)t);
	if (older_than_ms < 0 || keep_max_rows < 0 || batch < 1)
		return lt_err_set(err, LT_EINVAL, older_than_ms < 0 ?
		    "older_than_ms" : keep_max_rows < 0 ? "keep_max_rows" :
		    "batch", "prune: negative limit or batch < 1");
	if (older_than_ms == 0 && keep_max_rows == 0)
		return LT_OK;
	if (sqlite3_get_autocommit(p->st->db)) {
		if ((rc = lt_store_begin(p->st, err)) != LT_OK)
			return rc;
		own = 1;
	}
	if (older_than_ms > 0 &&
	    (rc = run_delete(p, age, older_than_ms, batch, &n, err)) != LT_OK)
		goto fail;
	if (keep_max_rows > 0 && n < batch &&
	    (rc = run_delete(p, cap, keep_max_rows, batch - n, &n, err)) !=
	    LT_OK)
		goto fail;
	if (own && (rc = lt_store_commit(p->st, err)) != LT_OK)
		goto fail;
	*deleted = n;
	return LT_OK;
fail:
	if (own)
		lt_store_rollback(p->st);
	return rc;
}

/* Prune the events history. */
int
lt_prune_events(struct lt_prune *p, int64_t older_than_ms,
    int64_t keep_max_rows, int batch, int *deleted, struct lt_err *err)
{
	return lt_prune(p, LT_PRUNE_EVENTS, older_than_ms, keep_max_rows,
	    batch, deleted, err);
}

/* Prune the rejected messages. */
int
lt_prune_rejected(struct lt_prune *p, int64_t older_than_ms,
    int64_t keep_max_rows, int batch, int *deleted, struct lt_err *err)
{
	return lt_prune(p, LT_PRUNE_REJECTED, older_than_ms, keep_max_rows,
	    batch, deleted, err);
}

/* Order host keys by lattice, then host id. */
static int
host_key_cmp(const void *a, const void *b)
{
	const struct host_key *x = a, *y = b;
	int c;

	if ((c = strcmp(x->lattice, y->lattice)) != 0)
		return c;
	return strcmp(x->host_id, y->host_id);
}

/* Free n host keys and the array. */
static void
host_keys_free(struct host_key *k, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(k[i].lattice);
		free(k[i].host_id);
	}
	free(k);
}

/* Read at most batch expirable hosts into *out (*n of them). */
static int
old_hosts(struct lt_prune *p, int64_t older_than_ms, int batch,
    struct host_key **out, int *n, struct lt_err *err)
{
	sqlite3_stmt	*s = p->stmt[PS_HOSTS_OLD];
	struct host_key	*k;
	int		 r = SQLITE_DONE, rc = LT_OK;

	*out = NULL;
	*n = 0;
	if ((k = calloc((size_t)batch, sizeof(*k))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "prune: out of memory");
	sqlite3_bind_int64(s, 1, older_than_ms);
	sqlite3_bind_int(s, 2, batch);
	while (*n < batch && (r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *lat = (const char *)sqlite3_column_text(s, 0);
		const char *id = (const char *)sqlite3_column_text(s, 1);

		if (lat == NULL || id == NULL)
			continue;
		k[*n].lattice = strdup(lat);
		k[*n].host_id = strdup(id);
		(*n)++;
		if (k[*n - 1].lattice == NULL || k[*n - 1].host_id == NULL) {
			rc = lt_err_set(err, LT_ENOMEM, "", "prune: out of "
			    "memory");
			goto fail;
		}
	}
	if (*n < batch && r != SQLITE_DONE) {
		rc = lt_store_err(p->st, err, prune_sql[PS_HOSTS_OLD]);
		goto fail;
	}
	sqlite3_reset(s);
	*out = k;
	return LT_OK;
fail:
	sqlite3_reset(s);
	host_keys_free(k, *n);
	*n = 0;
	return rc;
}

/* Delete one host if it is still expirable; *gone gets 1 if it went. */
static int
delete_host(struct lt_prune *p, const struct host_key *k,
    int64_t older_than_ms, int *gone, struct lt_err *err)
{
	sqlite3_stmt	*s = p->stmt[PS_HOST_DELETE];
	int		 r;

	sqlite3_bind_text(s, 1, k->lattice, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->host_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, older_than_ms);
	r = sqlite3_step(s);
	*gone = r == SQLITE_DONE && sqlite3_changes(p->st->db) > 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (r != SQLITE_DONE)
		return lt_store_err(p->st, err, prune_sql[PS_HOST_DELETE]);
	return LT_OK;
}

/* Delete at most batch long-stale or long-stopped hosts; resolve their
   alerts. */
int
lt_prune_hosts(struct lt_prune *p, int64_t older_than_ms, int64_t now_ms,
    int batch, int *deleted, int *resolved, struct lt_err *err)
{
	struct host_key	*k = NULL;
	int		 own = 0, n = 0, i, gone, del = 0, res = 0, rc;
	int		 latdel = 0;

	*deleted = 0;
	if (resolved != NULL)
		*resolved = 0;
	if (older_than_ms < 0 || batch < 1)
		return lt_err_set(err, LT_EINVAL, older_than_ms < 0 ?
		    "older_than_ms" : "batch", "prune: negative limit or "
		    "batch < 1");
	if (older_than_ms == 0)
		return LT_OK;
	if (sqlite3_get_autocommit(p->st->db)) {
		if ((rc = lt_store_begin(p->st, err)) != LT_OK)
			return rc;
		own = 1;
	}
	if ((rc = old_hosts(p, older_than_ms, batch, &k, &n, err)) != LT_OK)
		goto fail;
	/* by lattice: one lattice_silent check per lattice */
	qsort(k, (size_t)n, sizeof(*k), host_key_cmp);
	for (i = 0; i < n; i++) {
		if ((rc = delete_host(p, &k[i], older_than_ms, &gone, err)) !=
		    LT_OK)
			goto fail;
		if (gone) {
			del++;
			latdel = 1;
			if ((rc = lt_alert_on_host_removed(p->alert,
			    k[i].lattice, k[i].host_id, now_ms,
			    LT_PRUNE_HOST_REASON, &res, err)) != LT_OK)
				goto fail;
		}
		if (i + 1 < n && strcmp(k[i].lattice, k[i + 1].lattice) == 0)
			continue;
		/* the lattice's last host of this batch */
		if (latdel && (rc = lt_alert_on_hosts_removed(p->alert,
		    k[i].lattice, now_ms, LT_PRUNE_HOST_REASON, &res, err)) !=
		    LT_OK)
			goto fail;
		latdel = 0;
	}
	if (own && (rc = lt_store_commit(p->st, err)) != LT_OK)
		goto fail;
	host_keys_free(k, n);
	*deleted = del;
	if (resolved != NULL)
		*resolved = res;
	return LT_OK;
fail:
	if (own)
		lt_store_rollback(p->st);
	host_keys_free(k, n);
	return rc;
}

/* Checkpoint the WAL, passively or truncating it. */
int
lt_store_checkpoint(struct lt_store *st, int truncate,
    struct lt_checkpoint *res, struct lt_err *err)
{
	struct lt_checkpoint	 r = { -1, 0, 0 };
	int			 rc;

	if (!sqlite3_get_autocommit(st->db))
		return lt_err_set(err, LT_EINVAL, "", "store: checkpoint "
		    "inside a transaction");
	if (truncate)
		sqlite3_busy_timeout(st->db, TRUNCATE_BUSY_MS);
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, truncate ?
	    SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
	    &r.wal_frames, &r.done_frames);
	if (truncate)
		sqlite3_busy_timeout(st->db, LT_STORE_BUSY_MS);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		r.busy = 1;
	else if (rc != SQLITE_OK) {
		if (res != NULL)
			*res = r;
		return lt_store_err(st, err, "wal checkpoint");
	}
	/* a passive one that could not copy every frame was held up too */
	if (r.wal_frames > 0 && r.done_frames < r.wal_frames)
		r.busy = 1;
	if (res != NULL)
		*res = r;
	return LT_OK;
}

/* Let SQLite refresh the statistics its planner uses. */
int
lt_store_optimize(struct lt_store *st, struct lt_err *err)
{
	char	*msg = NULL;

	if (sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, &msg) !=
	    SQLITE_OK) {
		lt_err_set(err, LT_ESTORE, "", "store: optimize: %s",
		    msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return LT_ESTORE;
	}
	return LT_OK;
}
