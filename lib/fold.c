/*
 * fold.c - fold decoded lattice events into the SQLite model.
 *
 * Per message: check the subject, decode, drop duplicates by (source, id),
 * apply the event's rule, then record it in `events` with its outcome, all
 * in the caller's transaction.  Rules and the decisions behind them are in
 * docs/schema.md; the short version is next to each function here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alert.h"
#include "ce.h"
#include "fold.h"
#include "fold_int.h"
#include "hostcache.h"
#include "invcache.h"
#include "store.h"
#include "store_int.h"
#include "text.h"
#include "v2hb.h"

#define REJECT_RAW_MAX	(64 * 1024)	/* bytes of a bad message kept */
#define MIN_GAP_MS	1000		/* heartbeat gaps below are noise */
#define NOSTR		SIZE_MAX	/* arena offset of a NULL string */

enum hstatus { HS_UP, HS_STALE, HS_STOPPED };

static const char *const hstatus_name[] = { "up", "stale", "stopped" };

/* A components row as the database holds it (heartbeat diffing). */
struct crow {
	size_t		 o_id, o_img, o_name, o_ann;
	const char	*id, *img, *name, *ann;
	int64_t		 max;
	int64_t		 rev;
	int		 has_rev;
	int		 seen;
};

/* A providers row as the database holds it (heartbeat diffing). */
struct prow {
	size_t		 o_id, o_link, o_img, o_name, o_contract, o_ann;
	const char	*id, *link, *img, *name, *contract, *ann;
	int64_t		 rev;
	int		 has_rev;
	int		 seen;
};

#define MEMO_HOSTS	8	/* big hosts whose inventory is kept */
#define MEMO_MIN	512	/* components: a smaller host's rows are
				   read whole, that is cheap */
#define MEMO_BUDGET	262144	/* components kept, all hosts together */

/* One component a host's last applied heartbeat listed. */
struct mitem {
	uint64_t	 idh;		/* hash of id */
	uint64_t	 h;		/* lt_ce_component.hash */
	const char	*id;		/* in the memo's ids */
	int		 seen;
};

/*
 * What a big host's components rows are after its last heartbeat was
 * applied (apply_inventory()): one row per item it listed (with an id and
 * max_instances > 0, no id twice), each agreeing with its item (a field
 * the item left out keeps its value).  That holds for as long as the
 * host's inventory_hash is still raw: every other write to its components
 * clears the hash (fold_hosted()), and a rolled-back write restores the
 * hash it had.  So the next heartbeat that differs reads only the rows of
 * the items whose hash differs.
 */
struct memo {
	char		*lattice;	/* NULL: a free slot */
	char		*host;
	uint64_t	 raw;		/* lt_ce.inventory_raw applied */
	int		 counts_only;
	struct mitem	*items;		/* by (idh, id) */
	size_t		 n;
	char		*ids;
	uint64_t	 used;		/* tick of the last use */
};

static void	memo_clear(struct memo *m);

struct lt_fold {
	struct lt_store		*st;
	struct lt_fold_opts	 opts;
	char			*default_lattice;
	struct lt_fold_stats	 stats;
	struct lt_alert		*alerts;	/* alert.h statements */

	/* Scratch, reused across messages. */
	char			*arena;
	size_t			 alen, acap;
	struct crow		*crows;
	size_t			 ncrows, ccap;
	struct prow		*prows;
	size_t			 nprows, pcap;
	const struct lt_ce_component **fresh;	/* items without a row */
	size_t			 nfresh, fcap;
	char			*subj;
	size_t			 subjcap;
	char			*v2_opts;	/* opts.v2_lattice and
						   v2_lattice_map copies */
	/* The host rows of the open transaction (hostcache.h): on between
	   lt_fold_begin() and its commit or rollback only. */
	struct lt_hcache	*hc;
	int			 hc_on;
	struct memo		 memo[MEMO_HOSTS];
	uint64_t		 memo_tick;
};

/* One message being folded. */
struct ctx {
	const struct lt_msg	*m;
	struct lt_ce		*ev;
	const char		*lattice;
	int			 latlen;
	const char		*subject;
	int64_t			 recv;
	int64_t			 evtime;
	enum lt_outcome		 out;
	int			 no_data;
	const char		*type;		/* events.type when not
						   ev->type (a v2 restart) */
	enum lt_alert_host	 host_was, host_is; /* for alert.h */
};

/* The host row while an event is applied to it. */
struct host {
	int		 exists;
	enum hstatus	 status;
	enum hstatus	 status0;	/* as loaded (or created) */
	int64_t		 state_ms, first_seen, status_changed;
	int64_t		 last_hb, interval, hash;
	int		 has_hb, has_interval, has_hash;
	int		 meta_changed;
	int		 set_reason;
	const char	*reason;
	const char	*friendly_name, *version, *labels;
	int64_t		 uptime;
	int		 has_uptime;
	struct lt_hrow	*row;		/* its cached row, NULL: none (the
					   row is written at once) */
};

/* Fill opts with the defaults. */
void
lt_fold_opts_default(struct lt_fold_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	lt_limits_default(&opts->limits);
	opts->default_lattice = "default";
	opts->max_future_skew_ms = 5 * 60 * 1000;
}

/* Name an outcome as the events table spells it. */
const char *
lt_outcome_name(enum lt_outcome o)
{
	switch (o) {
	case LT_OUT_APPLIED:
		return "applied";
	case LT_OUT_UNCHANGED:
		return "unchanged";
	case LT_OUT_SUPERSEDED:
		return "superseded";
	case LT_OUT_RECORDED:
		return "recorded";
	case LT_OUT_DUPLICATE:
		return "duplicate";
	case LT_OUT_REJECTED:
		return "rejected";
	}
	return "unknown";
}

/* Copy the v2 lattice options into one buffer (f->v2_opts). */
static char *
v2_opts_copy(const struct lt_fold_opts *opts)
{
	const char *a = opts->v2_lattice != NULL ? opts->v2_lattice : "";
	const char *b = opts->v2_lattice_map != NULL ?
	    opts->v2_lattice_map : "";
	size_t la = strlen(a), lb = strlen(b);
	char *p;

	if ((p = malloc(la + lb + 2)) == NULL)
		return NULL;
	memcpy(p, a, la + 1);
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* Copy opts, owning a copy of the default lattice name. */
static int
set_opts(struct lt_fold *f, const struct lt_fold_opts *opts)
{
	const char *dl;
	char *copy, *v2;

	dl = opts->default_lattice != NULL && opts->default_lattice[0] !=
	    '\0' ? opts->default_lattice : "default";
	if ((copy = strdup(dl)) == NULL)
		return LT_ENOMEM;
	if ((v2 = v2_opts_copy(opts)) == NULL) {
		free(copy);
		return LT_ENOMEM;
	}
	free(f->default_lattice);
	free(f->v2_opts);
	f->opts = *opts;
	f->default_lattice = copy;
	f->opts.default_lattice = copy;
	f->v2_opts = v2;
	f->opts.v2_lattice = v2;
	f->opts.v2_lattice_map = v2 + strlen(v2) + 1;
	return LT_OK;
}

/* Create a fold writing to st. */
int
lt_fold_new(struct lt_store *st, const struct lt_fold_opts *opts,
    struct lt_fold **out, struct lt_err *err)
{
	struct lt_fold_opts def;
	struct lt_fold *f;

	*out = NULL;
	if (opts == NULL) {
		lt_fold_opts_default(&def);
		opts = &def;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    set_opts(f, opts) != LT_OK) {
		free(f);
		return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
	}
	f->st = st;
	if (lt_hcache_new(&f->hc) != LT_OK) {
		free(f->default_lattice);
		free(f->v2_opts);
		free(f);
		return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
	}
	if (lt_alert_new(st, &f->alerts, err) != LT_OK) {
		lt_hcache_free(f->hc);
		free(f->default_lattice);
		free(f->v2_opts);
		free(f);
		return LT_ESTORE;
	}
	*out = f;
	return LT_OK;
}

/* Free a fold.  NULL is fine. */
void
lt_fold_free(struct lt_fold *f)
{
	size_t i;

	if (f == NULL)
		return;
	lt_alert_free(f->alerts);
	lt_hcache_free(f->hc);
	free(f->default_lattice);
	free(f->v2_opts);
	free(f->arena);
	free(f->crows);
	free(f->prows);
	free(f->fresh);
	free(f->subj);
	for (i = 0; i < MEMO_HOSTS; i++)
		memo_clear(&f->memo[i]);
	free(f);
}

/* Replace the options; on allocation failure the old ones stay. */
void
lt_fold_set_opts(struct lt_fold *f, const struct lt_fold_opts *opts)
{
	(void)set_opts(f, opts);
}

/* The store of a fold, for lib/stale.c. */
struct lt_store *
lt_fold_store(struct lt_fold *f)
{
	return f->st;
}

/* The alert statements of a fold, for lib/stale.c. */
struct lt_alert *
lt_fold_alerts(struct lt_fold *f)
{
	return f->alerts;
}

static int	host_write(struct lt_fold *, struct lt_hrow *,
		    struct lt_err *);

/* Forget the cached host rows; from now on rows are written at once. */
static void
cache_off(struct lt_fold *f)
{
	lt_hcache_clear(f->hc);
	f->hc_on = 0;
}

/* Begin a batch. */
int
lt_fold_begin(struct lt_fold *f, struct lt_err *err)
{
	int rc;

	cache_off(f);
	if ((rc = lt_store_begin(f->st, err)) == LT_OK)
		f->hc_on = 1;
	return rc;
}

/* Write the host rows the database lags behind and forget them all (the
   next event of each host reads its row again). */
int
lt_fold_sync(struct lt_fold *f, struct lt_err *err)
{
	struct lt_hrow *r;
	size_t i;

	for (i = 0; (r = lt_hcache_at(f->hc, i)) != NULL; i++)
		if (r->dirty && host_write(f, r, err) != LT_OK)
			return LT_ESTORE;
	lt_hcache_clear(f->hc);
	return LT_OK;
}

/* Commit a batch. */
int
lt_fold_commit(struct lt_fold *f, struct lt_err *err)
{
	int rc;

	if ((rc = lt_fold_sync(f, err)) != LT_OK)
		return rc;		/* the caller rolls back */
	cache_off(f);
	if ((rc = lt_store_commit(f->st, err)) == LT_OK)
		f->stats.batches++;
	return rc;
}

/* Roll back a batch. */
void
lt_fold_rollback(struct lt_fold *f)
{
	cache_off(f);
	lt_store_rollback(f->st);
}

/* Running totals. */
const struct lt_fold_stats *
lt_fold_stats(const struct lt_fold *f)
{
	return &f->stats;
}

/* --- statement helpers --------------------------------------------- */

/* Get a core statement. */
static sqlite3_stmt *
S(struct lt_fold *f, enum lt_stmt which)
{
	return f->st->stmt[which];
}

/* Bind text or NULL (the value outlives the step: SQLITE_STATIC). */
static void
bt(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Bind an integer, or NULL when has is 0. */
static void
bi(sqlite3_stmt *s, int i, int64_t v, int has)
{
	if (has)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Bind ?1 lattice and ?2 host_id. */
static void
bhost(sqlite3_stmt *s, const struct ctx *c)
{
	sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
	bt(s, 2, c->ev->host_id);
}

/* Step s to completion, reset it; *changes (may be NULL) gets the rows
   written. */
static int
run(struct lt_fold *f, sqlite3_stmt *s, int *changes, struct lt_err *err)
{
	return lt_store_run(f->st, s, changes, NULL, err);
}

/* Step a single-row query; 1 row, 0 none, -1 error (s NOT reset on 1). */
static int
row(struct lt_fold *f, sqlite3_stmt *s, struct lt_err *err)
{
	int rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	lt_store_err(f->st, err, sqlite3_sql(s));
	return -1;
}

/* --- subjects and rejects ------------------------------------------ */

/* Find the lattice in wasmbus.evt.{lattice}[.x] or wasmbus.rpcevt.{l}. */
static int
subject_lattice(const char *subj, const char **lat, int *len)
{
	const char *p, *e;

	if (strncmp(subj, "wasmbus.evt.", 12) == 0)
		p = subj + 12;
	else if (strncmp(subj, "wasmbus.rpcevt.", 15) == 0)
		p = subj + 15;
	else
		return -1;
	if ((e = strchr(p, '.')) == NULL)
		e = p + strlen(p);
	if (e == p || e - p > 1024 || strpbrk(subj, " \t\r\n*>") != NULL)
		return -1;
	/* An empty token later on ("a..b", trailing dot) is not a subject. */
	if (strstr(p, "..") != NULL || subj[strlen(subj) - 1] == '.')
		return -1;
	*lat = p;
	*len = (int)(e - p);
	return 0;
}

/* Map a status code to rejected_events.error. */
static const char *
error_class(int code)
{
	switch (code) {
	case LT_EPARSE:
		return "parse";
	case LT_EINVAL:
		return "invalid";
	case LT_ELIMIT:
		return "limit";
	case LT_EUNSUPPORTED:
		return "unsupported";
	default:
		return "poison";
	}
}

/* Insert one rejected_events row. */
static int
insert_reject(struct lt_fold *f, int64_t recv, const char *lat, int latlen,
    const char *subject, int code, const char *reason, const char *field,
    const void *raw, size_t rawlen, size_t raw_size, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_REJECT_INSERT);

	if (rawlen > REJECT_RAW_MAX)
		rawlen = REJECT_RAW_MAX;
	sqlite3_bind_int64(s, 1, recv);
	if (lat != NULL)
		sqlite3_bind_text(s, 2, lat, latlen, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	bt(s, 3, subject);
	bt(s, 4, reason != NULL && reason[0] != '\0' ? reason : "rejected");
	bt(s, 5, error_class(code));
	bt(s, 6, field != NULL && field[0] != '\0' ? field : NULL);
	if (rawlen == 0 || raw == NULL)
		sqlite3_bind_zeroblob(s, 7, 0);
	else
		sqlite3_bind_blob(s, 7, raw, (int)rawlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (int64_t)raw_size);
	return run(f, s, NULL, err);
}

/* Record a message the daemon dropped before decoding. */
int
lt_fold_reject(struct lt_fold *f, const char *subject, int64_t received_ms,
    int code, const char *reason, const void *raw, size_t rawlen,
    size_t raw_size, struct lt_err *err)
{
	const char *lat = NULL;
	int latlen = 0;
	int rc;

	if (subject == NULL) {
		lat = f->default_lattice;
		latlen = -1;
	} else if (subject_lattice(subject, &lat, &latlen) != 0)
		lat = NULL;
	rc = insert_reject(f, received_ms, lat, latlen, subject, code, reason,
	    NULL, raw, rawlen, raw_size, err);
	if (rc == LT_OK)
		f->stats.outcomes[LT_OUT_REJECTED]++;
	return rc;
}

/* --- the host row -------------------------------------------------- */

/* Whether the event's text v would change the column text col. */
static int
differs(const char *v, const unsigned char *col)
{
	return v != NULL && (col == NULL || strcmp(v, (const char *)col) != 0);
}

/* Whether the event may change the host's descriptive columns. */
static int
has_meta(const struct ctx *c)
{
	switch (c->ev->kind) {
	case LT_K_HOST_STARTED:
	case LT_K_HOST_HEARTBEAT:
	case LT_K_HOST_STOPPED:
	case LT_K_LABELS_CHANGED:
	case LT_K_V2_HEARTBEAT:
		return 1;
	default:
		return 0;
	}
}

/* Whether the event's text v would change the cached text col. */
static int
differs_text(const char *v, const char *col)
{
	return v != NULL && (col == NULL || strcmp(v, col) != 0);
}

/* Fill h from the cached row r; with c, say whether c's event changes
   the descriptive columns. */
static void
host_from_row(struct ctx *c, struct host *h, struct lt_hrow *r)
{
	memset(h, 0, sizeof(*h));
	h->exists = 1;
	h->row = r;
	h->status = h->status0 = (enum hstatus)r->status;
	h->state_ms = r->state_ms;
	h->first_seen = r->first_seen_ms;
	h->status_changed = r->status_changed_ms;
	h->last_hb = r->last_heartbeat_ms;
	h->has_hb = r->has_heartbeat;
	h->interval = r->interval_ms;
	h->has_interval = r->has_interval;
	h->hash = r->inventory_hash;
	h->has_hash = r->has_hash;
	if (c != NULL && has_meta(c))
		h->meta_changed =
		    differs_text(c->ev->friendly_name, r->friendly_name) ||
		    differs_text(c->ev->version, r->version) ||
		    differs_text(c->ev->labels, r->labels);
}

/* Copy h's row state into the cached row r (the texts: the caller). */
static void
row_from_host(struct lt_hrow *r, const struct host *h)
{
	r->status = (int)h->status;
	r->state_ms = h->state_ms;
	r->first_seen_ms = h->first_seen;
	r->status_changed_ms = h->status_changed;
	r->last_heartbeat_ms = h->last_hb;
	r->has_heartbeat = h->has_hb;
	r->interval_ms = h->interval;
	r->has_interval = h->has_interval;
	r->inventory_hash = h->hash;
	r->has_hash = h->has_hash;
}

/* Cache the host row just read by s (columns as LT_ST_HOST_GET), or
   created when s is NULL, as h->row.  LT_ENOMEM: the batch cannot go on
   (the caller rolls back, which forgets the cache). */
static int
host_cache(struct lt_fold *f, struct ctx *c, struct host *h,
    sqlite3_stmt *s, struct lt_err *err)
{
	struct lt_hrow *r;

	if ((r = lt_hcache_add(f->hc, c->lattice, c->latlen,
	    c->ev->host_id)) == NULL)
		goto oom;
	row_from_host(r, h);
	r->status_db = (int)h->status0;
	if (s == NULL) {
		/* created: host_create's INSERT */
		if (lt_hcache_text(&r->labels, "{}") != 0)
			goto oom;
	} else if (lt_hcache_text(&r->friendly_name,
	    (const char *)sqlite3_column_text(s, 7)) != 0 ||
	    lt_hcache_text(&r->version,
	    (const char *)sqlite3_column_text(s, 8)) != 0 ||
	    lt_hcache_text(&r->labels,
	    (const char *)sqlite3_column_text(s, 9)) != 0)
		goto oom;
	h->row = r;
	return LT_OK;
oom:
	return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
}

/* Load the host row of the event into h: from the transaction's cache, or
   the database. */
static int
host_load(struct lt_fold *f, struct ctx *c, struct host *h,
    struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_HOST_GET);
	const unsigned char *st;
	struct lt_hrow *r;
	int r1;

	if (f->hc_on && (r = lt_hcache_get(f->hc, c->lattice, c->latlen,
	    c->ev->host_id)) != NULL) {
		host_from_row(c, h, r);
		return LT_OK;
	}
	memset(h, 0, sizeof(*h));
	bhost(s, c);
	if ((r1 = row(f, s, err)) <= 0)
		return r1 < 0 ? LT_ESTORE : LT_OK;
	h->exists = 1;
	st = sqlite3_column_text(s, 0);
	h->status = st == NULL ? HS_UP : st[0] == 'u' ? HS_UP :
	    st[2] == 'a' ? HS_STALE : HS_STOPPED;
	h->status0 = h->status;
	h->state_ms = sqlite3_column_int64(s, 1);
	if ((h->has_hb = sqlite3_column_type(s, 2) != SQLITE_NULL))
		h->last_hb = sqlite3_column_int64(s, 2);
	if ((h->has_interval = sqlite3_column_type(s, 3) != SQLITE_NULL))
		h->interval = sqlite3_column_int64(s, 3);
	if ((h->has_hash = sqlite3_column_type(s, 4) != SQLITE_NULL))
		h->hash = sqlite3_column_int64(s, 4);
	h->first_seen = sqlite3_column_int64(s, 5);
	h->status_changed = sqlite3_column_int64(s, 6);
	if (has_meta(c))
		h->meta_changed =
		    differs(c->ev->friendly_name, sqlite3_column_text(s, 7)) ||
		    differs(c->ev->version, sqlite3_column_text(s, 8)) ||
		    differs(c->ev->labels, sqlite3_column_text(s, 9));
	r1 = f->hc_on ? host_cache(f, c, h, s, err) : LT_OK;
	sqlite3_reset(s);
	return r1;
}

/*
 * The event's place in its host's order: its time, but never later than
 * when latticed received it.  A time ahead of latticed's clock (a skewed
 * host clock, or one clamped to received + max_future_skew_ms) must not
 * push the host's ordering clock (hosts.state_ms) into the future, where
 * it would shadow the host's correctly timed events until then.
 */
static int64_t
host_order_ms(const struct ctx *c)
{
	return c->evtime < c->recv ? c->evtime : c->recv;
}

/* Create the host row (status up, first seen now, no heartbeat yet). */
static int
host_create(struct lt_fold *f, struct ctx *c, struct host *h,
    struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_HOST_INSERT);

	bhost(s, c);
	sqlite3_bind_int64(s, 3, c->recv);
	sqlite3_bind_int64(s, 4, host_order_ms(c));
	memset(h, 0, sizeof(*h));
	h->exists = 1;
	h->status = h->status0 = HS_UP;
	h->first_seen = h->status_changed = c->recv;
	h->state_ms = host_order_ms(c);
	if (run(f, s, NULL, err) != LT_OK)
		return LT_ESTORE;
	return f->hc_on ? host_cache(f, c, h, NULL, err) : LT_OK;
}

/* Bind the host row statement s (LT_ST_HOST_UPDATE[_SAME]) but ?1, ?2. */
static void
bind_host_row(sqlite3_stmt *s, int status, int64_t status_changed,
    const char *friendly_name, const char *version, const char *labels,
    int64_t uptime, int has_uptime, int set_reason, const char *reason,
    int64_t last_seen, const struct host *h)
{
	bt(s, 3, hstatus_name[status]);
	bt(s, 4, friendly_name);
	bt(s, 5, version);
	bt(s, 6, labels);
	bi(s, 7, uptime, has_uptime);
	sqlite3_bind_int(s, 8, set_reason);
	bt(s, 9, reason);
	sqlite3_bind_int64(s, 10, last_seen);
	bi(s, 11, h->last_hb, h->has_hb);
	bi(s, 12, h->interval, h->has_interval);
	sqlite3_bind_int64(s, 13, status_changed);
	sqlite3_bind_int64(s, 14, h->state_ms);
	bi(s, 15, h->hash, h->has_hash);
}

/* Write the cached row r to the database; r is then clean. */
static int
host_write(struct lt_fold *f, struct lt_hrow *r, struct lt_err *err)
{
	sqlite3_stmt *s;
	struct host h;

	/* only status writes touch hosts_status (LT_ST_HOST_UPDATE_SAME) */
	s = S(f, r->status != r->status_db ? LT_ST_HOST_UPDATE :
	    LT_ST_HOST_UPDATE_SAME);
	host_from_row(NULL, &h, r);
	sqlite3_bind_text(s, 1, r->lattice, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->host_id, -1, SQLITE_STATIC);
	bind_host_row(s, r->status, r->status_changed_ms, r->friendly_name,
	    r->version, r->labels, r->uptime_seconds, r->has_uptime,
	    r->set_reason, r->reason, r->last_seen_ms, &h);
	if (run(f, s, NULL, err) != LT_OK)
		return LT_ESTORE;
	r->status_db = r->status;
	r->dirty = 0;
	r->has_uptime = 0;
	r->set_reason = 0;
	(void)lt_hcache_text(&r->reason, NULL);
	return LT_OK;
}

/*
 * Keep h in its cached row: written at once when its status changed
 * (readers of hosts by status inside the transaction: alerts, the
 * sweep), else when the transaction commits (lt_fold_sync()).
 */
static int
host_keep(struct lt_fold *f, struct ctx *c, struct host *h,
    struct lt_err *err)
{
	struct lt_hrow *r = h->row;

	if ((h->friendly_name != NULL &&
	    lt_hcache_text(&r->friendly_name, h->friendly_name) != 0) ||
	    (h->version != NULL &&
	    lt_hcache_text(&r->version, h->version) != 0) ||
	    (h->labels != NULL && lt_hcache_text(&r->labels, h->labels) != 0) ||
	    (h->set_reason && lt_hcache_text(&r->reason, h->reason) != 0))
		return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
	row_from_host(r, h);
	if (h->has_uptime) {
		r->uptime_seconds = h->uptime;
		r->has_uptime = 1;
	}
	if (h->set_reason)
		r->set_reason = 1;
	if (!r->dirty || c->recv > r->last_seen_ms)
		r->last_seen_ms = c->recv;
	r->dirty = 1;
	if (r->status != r->status_db)
		return host_write(f, r, err);
	return LT_OK;
}

/* Write h back to the host row. */
static int
host_store(struct lt_fold *f, struct ctx *c, struct host *h,
    struct lt_err *err)
{
	sqlite3_stmt *s;

	if (h->row != NULL)
		return host_keep(f, c, h, err);
	s = S(f, h->status == h->status0 ? LT_ST_HOST_UPDATE_SAME :
	    LT_ST_HOST_UPDATE);
	bhost(s, c);
	bind_host_row(s, h->status, h->status_changed, h->friendly_name,
	    h->version, h->labels, h->uptime, h->has_uptime, h->set_reason,
	    h->reason, c->recv, h);
	return run(f, s, NULL, err);
}

/* Mark the host up (a heartbeat or host_started). */
static void
host_up(struct ctx *c, struct host *h, int *changed)
{
	if (h->status != HS_UP) {
		h->status = HS_UP;
		h->status_changed = c->recv;
		*changed = 1;
	}
	h->set_reason = 1;	/* an up host has no stop reason */
	h->reason = NULL;
}

/* Take the host's descriptive fields from the event. */
static void
host_meta(struct ctx *c, struct host *h, int *changed)
{
	h->friendly_name = c->ev->friendly_name;
	h->version = c->ev->version;
	h->labels = c->ev->labels;
	if (c->ev->has_uptime) {
		h->uptime = c->ev->uptime_seconds;
		h->has_uptime = 1;
	}
	if (h->meta_changed)
		*changed = 1;
}

/*
 * Learn the heartbeat interval from the gap between two heartbeats
 * received while the host was up.  Gaps under 1 s are ignored (bursts,
 * host_started then the first heartbeat).  The first gap is taken as is;
 * later a gap up to 4x the old interval replaces it (shorter gaps always:
 * the smaller wins).  A gap over 4x (a missed beat, an outage, or a first
 * "interval" measured from host_started) only doubles the old value, so one
 * long gap cannot inflate the threshold much, yet a wrong small first value
 * heals within a few beats.
 */
static void
learn_interval(struct ctx *c, struct host *h)
{
	int64_t gap;

	if (!h->has_hb || h->status != HS_UP)
		return;
	gap = c->recv - h->last_hb;
	if (gap < MIN_GAP_MS)
		return;
	if (!h->has_interval || gap <= 4 * h->interval)
		h->interval = gap;
	else
		h->interval *= 2;
	h->has_interval = 1;
}

/* Delete all components and providers of the host. */
static int
clear_inventory(struct lt_fold *f, struct ctx *c, int *changed,
    struct lt_err *err)
{
	int n1 = 0, n2 = 0;

	bhost(S(f, LT_ST_HOST_CLEAR_COMPS), c);
	if (run(f, S(f, LT_ST_HOST_CLEAR_COMPS), &n1, err) != LT_OK)
		return LT_ESTORE;
	bhost(S(f, LT_ST_HOST_CLEAR_PROVS), c);
	if (run(f, S(f, LT_ST_HOST_CLEAR_PROVS), &n2, err) != LT_OK)
		return LT_ESTORE;
	if (n1 + n2 > 0)
		*changed = 1;
	return LT_OK;
}

/* --- components and providers -------------------------------------- */

/* Upsert one component with max_instances max. */
static int
comp_upsert(struct lt_fold *f, struct ctx *c, const struct lt_ce_component *e,
    int64_t max, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_COMP_UPSERT);

	bhost(s, c);
	bt(s, 3, e->id);
	bt(s, 4, e->image_ref);
	bt(s, 5, e->name);
	sqlite3_bind_int64(s, 6, max);
	bi(s, 7, e->revision, e->has_revision);
	bt(s, 8, e->annotations);
	sqlite3_bind_int64(s, 9, c->evtime);
	return run(f, s, NULL, err);
}

/* Step which (a component read keyed on host and ?3 id) for id; *sp gets
   the statement: 1 row (not reset), 0 none, -1 error. */
static int
comp_row(struct lt_fold *f, struct ctx *c, enum lt_stmt which, const char *id,
    sqlite3_stmt **sp, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, which);

	bhost(s, c);
	bt(s, 3, id);
	*sp = s;
	return row(f, s, err);
}

/* Order items by id, then as listed (they are in one array). */
static int
fresh_cmp(const void *a, const void *b)
{
	const struct lt_ce_component *x = *(const struct lt_ce_component *
	    const *)a, *y = *(const struct lt_ce_component *const *)b;
	int r;

	if ((r = strcmp(x->id, y->id)) != 0)
		return r;
	return x < y ? -1 : x > y;
}

/* Insert the n items of b, which have no rows, LT_COMP_MANY at a time
   (else one by one). */
static int
comp_insert(struct lt_fold *f, struct ctx *c,
    const struct lt_ce_component *const *b, size_t n, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_COMP_INSERT_MANY);
	size_t i;
	int k;

	if (n < LT_COMP_MANY) {
		for (i = 0; i < n; i++)
			if (comp_upsert(f, c, b[i], b[i]->max_instances,
			    err) != LT_OK)
				return LT_ESTORE;
		return LT_OK;
	}
	bhost(s, c);
	sqlite3_bind_int64(s, 3, c->evtime);
	for (i = 0; i < LT_COMP_MANY; i++) {
		k = 4 + (int)i * LT_COMP_MANY_COLS;
		bt(s, k, b[i]->id);
		bt(s, k + 1, b[i]->image_ref);
		bt(s, k + 2, b[i]->name);
		sqlite3_bind_int64(s, k + 3, b[i]->max_instances);
		bi(s, k + 4, b[i]->revision, b[i]->has_revision);
		bt(s, k + 5, b[i]->annotations);
	}
	return run(f, s, NULL, err);
}

/*
 * Insert the rows of the items in f->fresh (listed, none has a row yet),
 * as comp_upsert() would one by one in listing order: sorted by id,
 * LT_COMP_MANY rows per statement.  An id listed again upserts the row
 * its first listing made, in listing order.
 */
static int
comp_insert_fresh(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	const struct lt_ce_component **v = f->fresh;
	size_t i, start = 0;

	qsort(v, f->nfresh, sizeof(*v), fresh_cmp);
	for (i = 0; i <= f->nfresh; i++) {
		if (i < f->nfresh && (i == 0 ||
		    strcmp(v[i]->id, v[i - 1]->id) != 0) &&
		    i - start < LT_COMP_MANY)
			continue;
		/* v[start .. i) are new rows */
		if (comp_insert(f, c, v + start, i - start, err) != LT_OK)
			return LT_ESTORE;
		start = i;
		if (i < f->nfresh && i > 0 &&
		    strcmp(v[i]->id, v[i - 1]->id) == 0) {
			if (comp_upsert(f, c, v[i], v[i]->max_instances,
			    err) != LT_OK)
				return LT_ESTORE;
			start = i + 1;
		}
	}
	return LT_OK;
}

/* Delete one component; *n gets 1 when a row went. */
static int
comp_delete(struct lt_fold *f, struct ctx *c, const char *id, int *n,
    struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_COMP_DELETE);

	bhost(s, c);
	bt(s, 3, id);
	return run(f, s, n, err);
}

/* Upsert one provider. */
static int
prov_upsert(struct lt_fold *f, struct ctx *c, const struct lt_ce_provider *e,
    struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_PROV_UPSERT);

	bhost(s, c);
	bt(s, 3, e->id);
	bt(s, 4, e->link_name != NULL ? e->link_name : "default");
	bt(s, 5, e->image_ref);
	bt(s, 6, e->name);
	bt(s, 7, e->contract_id);
	bi(s, 8, e->revision, e->has_revision);
	bt(s, 9, e->annotations);
	sqlite3_bind_int64(s, 10, c->evtime);
	return run(f, s, NULL, err);
}

/* Delete one provider; *n gets 1 when a row went. */
static int
prov_delete(struct lt_fold *f, struct ctx *c, const char *id,
    const char *link, int *n, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_PROV_DELETE);

	bhost(s, c);
	bt(s, 3, id);
	bt(s, 4, link != NULL ? link : "default");
	return run(f, s, n, err);
}

/* Copy a column's text into the arena; return its offset or NOSTR. */
static int
arena_put(struct lt_fold *f, sqlite3_stmt *s, int col, size_t *off)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n;
	char *na;

	if (t == NULL) {
		*off = NOSTR;
		return 0;
	}
	n = (size_t)sqlite3_column_bytes(s, col) + 1;
	if (f->alen + n > f->acap) {
		size_t cap = f->acap ? f->acap : 4096;

		while (cap < f->alen + n)
			cap *= 2;
		if ((na = realloc(f->arena, cap)) == NULL)
			return -1;
		f->arena = na;
		f->acap = cap;
	}
	memcpy(f->arena + f->alen, t, n);
	*off = f->alen;
	f->alen += n;
	return 0;
}

/* Resolve an arena offset. */
static const char *
arena_get(struct lt_fold *f, size_t off)
{
	return off == NOSTR ? NULL : f->arena + off;
}

/* Order components rows by id. */
static int
crow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct crow *)a)->id,
	    ((const struct crow *)b)->id);
}

/* Order providers rows by (id, link_name). */
static int
prow_cmp(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;
	int r;

	if ((r = strcmp(x->id, y->id)) != 0)
		return r;
	return strcmp(x->link, y->link);
}

/* Whether two nullable strings differ, NULL in the event meaning "keep". */
static int
sdiff(const char *ev, const char *db)
{
	return ev != NULL && (db == NULL || strcmp(ev, db) != 0);
}

/* Make room for one more element in *arr (n used of *cap), doubling from
   first; -1 when out of memory. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if ((p = reallocarray(*arr, ncap, size)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Load the host's providers, and its components unless !comps, into the
   scratch arrays. */
static int
load_inventory(struct lt_fold *f, struct ctx *c, int comps,
    struct lt_err *err)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_DONE;

	f->alen = f->ncrows = f->nprows = 0;
	s = S(f, LT_ST_COMP_LIST);
	bhost(s, c);
	while (comps && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct crow *r;

		if (grow((void **)&f->crows, &f->ccap, f->ncrows,
		    sizeof(*f->crows), 64) == -1)
			goto nomem;
		r = &f->crows[f->ncrows++];
		memset(r, 0, sizeof(*r));
		if (arena_put(f, s, 0, &r->o_id) || arena_put(f, s, 1,
		    &r->o_img) || arena_put(f, s, 2, &r->o_name) ||
		    arena_put(f, s, 5, &r->o_ann))
			goto nomem;
		r->max = sqlite3_column_int64(s, 3);
		if ((r->has_rev = sqlite3_column_type(s, 4) != SQLITE_NULL))
			r->rev = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return lt_store_err(f->st, err, "list components");

	s = S(f, LT_ST_PROV_LIST);
	bhost(s, c);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct prow *r;

		if (grow((void **)&f->prows, &f->pcap, f->nprows,
		    sizeof(*f->prows), 16) == -1)
			goto nomem;
		r = &f->prows[f->nprows++];
		memset(r, 0, sizeof(*r));
		if (arena_put(f, s, 0, &r->o_id) || arena_put(f, s, 1,
		    &r->o_link) || arena_put(f, s, 2, &r->o_img) ||
		    arena_put(f, s, 3, &r->o_name) || arena_put(f, s, 4,
		    &r->o_contract) || arena_put(f, s, 6, &r->o_ann))
			goto nomem;
		if ((r->has_rev = sqlite3_column_type(s, 5) != SQLITE_NULL))
			r->rev = sqlite3_column_int64(s, 5);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return lt_store_err(f->st, err, "list providers");

	/* The arena no longer moves: resolve offsets, then sort. */
	for (i = 0; i < f->ncrows; i++) {
		struct crow *r = &f->crows[i];

		r->id = arena_get(f, r->o_id);
		r->img = arena_get(f, r->o_img);
		r->name = arena_get(f, r->o_name);
		r->ann = arena_get(f, r->o_ann);
	}
	for (i = 0; i < f->nprows; i++) {
		struct prow *r = &f->prows[i];

		r->id = arena_get(f, r->o_id);
		r->link = arena_get(f, r->o_link);
		r->img = arena_get(f, r->o_img);
		r->name = arena_get(f, r->o_name);
		r->contract = arena_get(f, r->o_contract);
		r->ann = arena_get(f, r->o_ann);
	}
	/* The primary key index returns them sorted (BINARY collation is
	   strcmp() order for text without NUL); sort only if not. */
	for (i = 1; i < f->ncrows; i++)
		if (crow_cmp(&f->crows[i - 1], &f->crows[i]) > 0) {
			qsort(f->crows, f->ncrows, sizeof(*f->crows),
			    crow_cmp);
			break;
		}
	for (i = 1; i < f->nprows; i++)
		if (prow_cmp(&f->prows[i - 1], &f->prows[i]) > 0) {
			qsort(f->prows, f->nprows, sizeof(*f->prows),
			    prow_cmp);
			break;
		}
	return LT_OK;
nomem:
	sqlite3_reset(s);
	return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
}

/* --- big hosts' last inventory (struct memo) ----------------------- */

/* Free what a memo holds; the slot is free again. */
static void
memo_clear(struct memo *m)
{
	free(m->lattice);
	free(m->host);
	free(m->items);
	free(m->ids);
	memset(m, 0, sizeof(*m));
}

/* FNV-1a of a component id. */
static uint64_t
id_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Order memo items by (idh, id). */
static int
mitem_cmp(const void *a, const void *b)
{
	const struct mitem *x = a, *y = b;

	if (x->idh != y->idh)
		return x->idh < y->idh ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The memo of the event's host, or NULL. */
static struct memo *
memo_find(struct lt_fold *f, const struct ctx *c)
{
	size_t i, latlen = c->latlen < 0 ? strlen(c->lattice) :
	    (size_t)c->latlen;
	struct memo *m;

	for (i = 0; i < MEMO_HOSTS; i++) {
		m = &f->memo[i];
		if (m->lattice != NULL && strlen(m->lattice) == latlen &&
		    memcmp(m->lattice, c->lattice, latlen) == 0 &&
		    strcmp(m->host, c->ev->host_id) == 0)
			return m;
	}
	return NULL;
}

/*
 * The memo the event's inventory makes once applied, in *m (items and ids
 * only).  LT_OK; LT_EINVAL when an id is listed twice or none is (then
 * none: such an inventory is diffed against every row); LT_ENOMEM.
 */
static int
memo_build(const struct lt_ce *ev, struct memo *m)
{
	size_t i, n = 0, bytes = 0, k;
	char *o;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < ev->ncomponents; i++)
		if (ev->components[i].id != NULL &&
		    ev->components[i].max_instances > 0) {
			n++;
			bytes += strlen(ev->components[i].id) + 1;
		}
	if (n == 0)
		return LT_EINVAL;	/* nothing worth keeping */
	if ((m->items = calloc(n, sizeof(*m->items))) == NULL ||
	    (m->ids = malloc(bytes)) == NULL) {
		memo_clear(m);
		return LT_ENOMEM;
	}
	o = m->ids;
	for (i = 0; i < ev->ncomponents; i++) {
		const struct lt_ce_component *e = &ev->components[i];

		if (e->id == NULL || e->max_instances <= 0)
			continue;
		k = strlen(e->id) + 1;
		memcpy(o, e->id, k);
		m->items[m->n].id = o;
		m->items[m->n].idh = id_hash(e->id);
		m->items[m->n].h = e->hash;
		m->n++;
		o += k;
	}
	qsort(m->items, m->n, sizeof(*m->items), mitem_cmp);
	for (i = 1; i < m->n; i++)
		if (mitem_cmp(&m->items[i - 1], &m->items[i]) == 0) {
			memo_clear(m);
			return LT_EINVAL;
		}
	return LT_OK;
}

/*
 * Keep nm (consumed) as the memo of the event's host, in old's slot (may
 * be NULL), else a free one, else the least recently used; older memos go
 * while all together would keep more than MEMO_BUDGET components.
 */
static void
memo_keep(struct lt_fold *f, const struct ctx *c, struct memo *old,
    struct memo *nm)
{
	size_t i, total, latlen = c->latlen < 0 ? strlen(c->lattice) :
	    (size_t)c->latlen;
	struct memo *slot = old, *lru;

	if (old != NULL)
		memo_clear(old);
	if (nm->n > MEMO_BUDGET)
		goto drop;
	for (;;) {
		total = nm->n;
		lru = NULL;
		for (i = 0; i < MEMO_HOSTS; i++) {
			if (f->memo[i].lattice == NULL) {
				if (slot == NULL)
					slot = &f->memo[i];
				continue;
			}
			total += f->memo[i].n;
			if (lru == NULL || f->memo[i].used < lru->used)
				lru = &f->memo[i];
		}
		if (total <= MEMO_BUDGET && slot != NULL)
			break;
		memo_clear(lru);	/* not NULL: nm alone fits */
	}
	if ((nm->lattice = malloc(latlen + 1)) == NULL ||
	    (nm->host = strdup(c->ev->host_id)) == NULL)
		goto drop;
	memcpy(nm->lattice, c->lattice, latlen);
	nm->lattice[latlen] = '\0';
	nm->raw = c->ev->inventory_raw;
	nm->counts_only = c->ev->comp_counts_only;
	nm->used = ++f->memo_tick;
	*slot = *nm;
	memset(nm, 0, sizeof(*nm));
	return;
drop:
	memo_clear(nm);
}

/*
 * The components half of apply_inventory() against the host's memo m:
 * an item whose hash is the one applied last agrees with its row already;
 * only the others read their row, and the rows of items no longer listed
 * go.  Writes what the full diff would write.
 */
static int
diff_components(struct lt_fold *f, struct ctx *c, struct memo *m,
    int *changed, struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	struct mitem key, *mi;
	sqlite3_stmt *s;
	size_t i;
	int r, n, differs;

	for (i = 0; i < ev->ncomponents; i++) {
		const struct lt_ce_component *e = &ev->components[i];

		if (e->id == NULL || e->max_instances <= 0)
			continue;
		key.idh = id_hash(e->id);
		key.id = e->id;
		mi = bsearch(&key, m->items, m->n, sizeof(*mi), mitem_cmp);
		if (mi != NULL) {
			mi->seen = 1;
			if (mi->h == e->hash)
				continue;
		}
		if (ev->comp_counts_only) {
			if ((r = comp_row(f, c, LT_ST_COMP_GET_COUNT, e->id, &s,
			    err)) < 0)
				return LT_ESTORE;
			if (r == 1) {
				differs = sqlite3_column_int64(s, 0) !=
				    e->max_instances;
				sqlite3_reset(s);
				if (!differs)
					continue;
				s = S(f, LT_ST_COMP_SET_COUNT);
				bhost(s, c);
				bt(s, 3, e->id);
				sqlite3_bind_int64(s, 4, e->max_instances);
				sqlite3_bind_int64(s, 5, c->evtime);
				if (run(f, s, NULL, err) != LT_OK)
					return LT_ESTORE;
				*changed = 1;
				continue;
			}
		} else {
			if ((r = comp_row(f, c, LT_ST_COMP_GET, e->id, &s,
			    err)) < 0)
				return LT_ESTORE;
			if (r == 1) {
				differs = sqlite3_column_int64(s, 2) !=
				    e->max_instances ||
				    sdiff(e->image_ref, (const char *)
				    sqlite3_column_text(s, 0)) ||
				    sdiff(e->name, (const char *)
				    sqlite3_column_text(s, 1)) ||
				    sdiff(e->annotations, (const char *)
				    sqlite3_column_text(s, 4)) ||
				    (e->has_revision &&
				    (sqlite3_column_type(s, 3) == SQLITE_NULL ||
				    sqlite3_column_int64(s, 3) != e->revision));
				sqlite3_reset(s);
				if (!differs)
					continue;
			}
		}
		if (comp_upsert(f, c, e, e->max_instances, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	for (i = 0; i < m->n; i++) {
		if (m->items[i].seen)
			continue;
		if (comp_delete(f, c, m->items[i].id, &n, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	return LT_OK;
}

/* The diff of apply_inventory(): components against m when not NULL,
   else against every row. */
static int
diff_rows(struct lt_fold *f, struct ctx *c, struct memo *m, int *changed,
    struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	struct crow key, *r;
	struct prow pkey, *p;
	size_t i;
	int n;

	if (load_inventory(f, c, m == NULL, err) != LT_OK)
		return err != NULL ? err->code : LT_ESTORE;
	if (m != NULL && diff_components(f, c, m, changed, err) != LT_OK)
		return LT_ESTORE;
	f->nfresh = 0;
	for (i = 0; m == NULL && i < ev->ncomponents; i++) {
		const struct lt_ce_component *e = &ev->components[i];

		if (e->id == NULL || e->max_instances <= 0)
			continue;
		key.id = e->id;
		r = f->ncrows == 0 ? NULL : bsearch(&key, f->crows,
		    f->ncrows, sizeof(*r), crow_cmp);
		if (r != NULL) {
			r->seen = 1;
			if (ev->comp_counts_only) {
				sqlite3_stmt *s = S(f, LT_ST_COMP_SET_COUNT);

				if (r->max == e->max_instances)
					continue;
				bhost(s, c);
				bt(s, 3, e->id);
				sqlite3_bind_int64(s, 4, e->max_instances);
				sqlite3_bind_int64(s, 5, c->evtime);
				if (run(f, s, NULL, err) != LT_OK)
					return LT_ESTORE;
				r->max = e->max_instances;
				*changed = 1;
				continue;
			}
			if (r->max == e->max_instances &&
			    !sdiff(e->image_ref, r->img) &&
			    !sdiff(e->name, r->name) &&
			    !sdiff(e->annotations, r->ann) &&
			    (!e->has_revision ||
			    (r->has_rev && r->rev == e->revision)))
				continue;
			r->max = e->max_instances;
		} else {
			/* no row: inserted below, with the others */
			if (grow((void **)&f->fresh, &f->fcap, f->nfresh,
			    sizeof(*f->fresh), 64) == -1)
				return lt_err_set(err, LT_ENOMEM, "",
				    "fold: out of memory");
			f->fresh[f->nfresh++] = e;
			continue;
		}
		if (comp_upsert(f, c, e, e->max_instances, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	if (f->nfresh > 0) {
		if (comp_insert_fresh(f, c, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	for (i = 0; m == NULL && i < f->ncrows; i++) {
		if (f->crows[i].seen)
			continue;
		if (comp_delete(f, c, f->crows[i].id, &n, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	for (i = 0; i < ev->nproviders; i++) {
		const struct lt_ce_provider *e = &ev->providers[i];

		if (e->id == NULL)
			continue;
		pkey.id = e->id;
		pkey.link = e->link_name != NULL ? e->link_name : "default";
		p = f->nprows == 0 ? NULL : bsearch(&pkey, f->prows,
		    f->nprows, sizeof(*p), prow_cmp);
		if (p != NULL) {
			p->seen = 1;
			if (!sdiff(e->image_ref, p->img) &&
			    !sdiff(e->name, p->name) &&
			    !sdiff(e->contract_id, p->contract) &&
			    !sdiff(e->annotations, p->ann) &&
			    (!e->has_revision ||
			    (p->has_rev && p->rev == e->revision)))
				continue;
		}
		if (prov_upsert(f, c, e, err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	for (i = 0; i < f->nprows; i++) {
		if (f->prows[i].seen)
			continue;
		if (prov_delete(f, c, f->prows[i].id, f->prows[i].link, &n,
		    err) != LT_OK)
			return LT_ESTORE;
		*changed = 1;
	}
	return LT_OK;
}

/*
 * Make the host's components and providers equal to the heartbeat's
 * inventory, writing only rows that differ and deleting only rows that are
 * gone.  A component listed with 0 instances counts as absent.  Fields the
 * heartbeat leaves out (NULL) keep what is known.  A big host's components
 * are diffed against its memo when the memo still holds (h's hash).
 */
static int
apply_inventory(struct lt_fold *f, struct ctx *c, const struct host *h,
    int *changed, struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	struct memo nm, *old;
	int rc, use;

	memset(&nm, 0, sizeof(nm));
	old = memo_find(f, c);
	/* an inventory worth keeping, once applied (else none) */
	if (ev->ncomponents >= MEMO_MIN && ev->has_inventory_raw &&
	    memo_build(ev, &nm) != LT_OK)
		memset(&nm, 0, sizeof(nm));
	use = nm.items != NULL && old != NULL && h->exists && h->has_hash &&
	    (uint64_t)h->hash == old->raw &&
	    old->counts_only == ev->comp_counts_only;
	if (use)
		old->used = ++f->memo_tick;
	rc = diff_rows(f, c, use ? old : NULL, changed, err);
	if (rc == LT_OK && nm.items != NULL)
		memo_keep(f, c, old, &nm);
	else {
		memo_clear(&nm);
		if (old != NULL)
			memo_clear(old);
	}
	return rc;
}

/* Apply a component event (SET / ADD / META). */
static int
apply_component(struct lt_fold *f, struct ctx *c, int *changed,
    struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	sqlite3_stmt *s;
	int64_t cur = 0, n;
	int r, k = 0;

	switch (ev->comp_op) {
	case LT_COMP_SET:
		if (ev->comp_count <= 0) {
			if (comp_delete(f, c, ev->component.id, &k, err))
				return LT_ESTORE;
			*changed = k > 0;
			return LT_OK;
		}
		*changed = 1;
		return comp_upsert(f, c, &ev->component, ev->comp_count, err);
	case LT_COMP_ADD:
		if ((r = comp_row(f, c, LT_ST_COMP_GET_COUNT,
		    ev->component.id, &s, err)) < 0)
			return LT_ESTORE;
		if (r == 1) {
			cur = sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
		}
		n = cur + ev->comp_count;
		if (n <= 0) {
			if (r == 0)
				return LT_OK;
			*changed = 1;
			return comp_delete(f, c, ev->component.id, &k, err);
		}
		*changed = 1;
		return comp_upsert(f, c, &ev->component, n, err);
	case LT_COMP_META:
		s = S(f, LT_ST_COMP_META);
		bhost(s, c);
		bt(s, 3, ev->component.id);
		bt(s, 4, ev->component.image_ref);
		bt(s, 5, ev->component.annotations);
		sqlite3_bind_int64(s, 6, c->evtime);
		if (run(f, s, &k, err) != LT_OK)
			return LT_ESTORE;
		*changed = k > 0;
		return LT_OK;
	}
	return LT_OK;
}

/* Apply a provider health event: only rows that exist are touched. */
static int
apply_health(struct lt_fold *f, struct ctx *c, int *changed,
    struct lt_err *err)
{
	sqlite3_stmt *s;
	int k = 0;

	if (c->ev->health == LT_HEALTH_STATUS) {
		s = S(f, LT_ST_PROV_HEALTH_TIME);
		bhost(s, c);
		bt(s, 3, c->ev->provider.id);
		sqlite3_bind_int64(s, 4, c->evtime);
	} else {
		s = S(f, LT_ST_PROV_HEALTH);
		bhost(s, c);
		bt(s, 3, c->ev->provider.id);
		bt(s, 4, c->ev->health == LT_HEALTH_PASSING ? "passing" :
		    "failing");
		sqlite3_bind_int64(s, 5, c->evtime);
	}
	if (run(f, s, &k, err) != LT_OK)
		return LT_ESTORE;
	*changed = k > 0;
	return LT_OK;
}

/*
 * Apply an event scoped to one host.  An event dated before the newest
 * change already applied to the host (hosts.state_ms) is superseded;
 * both sides are capped at the received time (host_order_ms()).
 */
static int
fold_hosted(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	struct host h;
	int changed = 0, inv = 0, k = 0, same_inv = 0, rc;

	if (ev->host_id == NULL)
		return lt_err_set(err, LT_EINVAL, "host_id",
		    "event has no host");
	if ((rc = host_load(f, c, &h, err)) != LT_OK)
		return rc;
	if (ev->kind == LT_K_HOST_HEARTBEAT && ev->has_inventory) {
		/* The same bytes as the inventory applied last: no diff.
		   Otherwise decode the items now, before anything is
		   written, so a bad item rejects the whole event. */
		same_inv = ev->has_inventory_raw && h.exists && h.has_hash &&
		    (uint64_t)h.hash == ev->inventory_raw;
		if (!same_inv && (rc = lt_ce_inventory(c->ev,
		    &f->opts.limits, err)) != LT_OK)
			return rc;
	}
	if (h.exists && host_order_ms(c) < h.state_ms) {
		c->out = LT_OUT_SUPERSEDED;
		return LT_OK;
	}
	c->host_was = !h.exists ? LT_AH_NONE : h.status == HS_UP ? LT_AH_UP :
	    h.status == HS_STALE ? LT_AH_STALE : LT_AH_STOPPED;
	if (!h.exists) {
		if ((rc = host_create(f, c, &h, err)) != LT_OK)
			return rc;
		changed = 1;
	}
	if (host_order_ms(c) > h.state_ms)
		h.state_ms = host_order_ms(c);

	switch (ev->kind) {
	case LT_K_HOST_STARTED:
		/* A (re)started host runs nothing yet. */
		if (clear_inventory(f, c, &changed, err) != LT_OK)
			return LT_ESTORE;
		h.has_hash = 0;
		host_up(c, &h, &changed);
		host_meta(c, &h, &changed);
		h.last_hb = c->recv;
		h.has_hb = 1;
		changed = 1;
		break;
	case LT_K_HOST_HEARTBEAT:
		learn_interval(c, &h);
		host_up(c, &h, &changed);
		host_meta(c, &h, &changed);
		h.last_hb = c->recv;
		h.has_hb = 1;
		if (ev->has_inventory && !same_inv) {
			if (apply_inventory(f, c, &h, &changed, err) != LT_OK)
				return err != NULL ? err->code : LT_ESTORE;
			h.hash = (int64_t)ev->inventory_raw;
			h.has_hash = ev->has_inventory_raw;
		}
		break;
	case LT_K_HOST_STOPPED:
		if (h.status != HS_STOPPED) {
			h.status = HS_STOPPED;
			h.status_changed = c->recv;
		}
		h.set_reason = 1;
		h.reason = ev->reason;
		host_meta(c, &h, &changed);
		if (clear_inventory(f, c, &changed, err) != LT_OK)
			return LT_ESTORE;
		h.has_hash = 0;
		changed = 1;
		break;
	case LT_K_LABELS_CHANGED:
		h.labels = ev->labels != NULL ? ev->labels : "{}";
		if (h.meta_changed || ev->labels == NULL)
			changed = 1;
		break;
	case LT_K_COMPONENT:
		if (apply_component(f, c, &inv, err) != LT_OK)
			return LT_ESTORE;
		break;
	case LT_K_PROVIDER_STARTED:
		if (prov_upsert(f, c, &ev->provider, err) != LT_OK)
			return LT_ESTORE;
		inv = 1;
		break;
	case LT_K_PROVIDER_STOPPED:
		if (prov_delete(f, c, ev->provider.id, ev->provider.link_name,
		    &k, err) != LT_OK)
			return LT_ESTORE;
		inv = k > 0;
		break;
	case LT_K_PROVIDER_HEALTH:
		if (apply_health(f, c, &changed, err) != LT_OK)
			return LT_ESTORE;
		break;
	default:
		break;
	}
	if (inv) {
		/* The next heartbeat must diff for real. */
		h.has_hash = 0;
		changed = 1;
	}
	if ((rc = host_store(f, c, &h, err)) != LT_OK)
		return rc;
	c->host_is = h.status == HS_UP ? LT_AH_UP : h.status == HS_STALE ?
	    LT_AH_STALE : LT_AH_STOPPED;
	c->out = changed ? LT_OUT_APPLIED : LT_OUT_UNCHANGED;
	return LT_OK;
}

/* --- wasmCloud 2 heartbeats (v2hb.h) ------------------------------ */

/* Whether text column i of s differs from v. */
static int
col_differs(sqlite3_stmt *s, int i, const char *v)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t == NULL || strcmp((const char *)t, v) != 0;
}

/* Whether integer column i of s differs from v (has: v is known). */
static int
col_int_differs(sqlite3_stmt *s, int i, int64_t v, int has)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return has;
	return !has || sqlite3_column_int64(s, i) != v;
}

/*
 * Compare the host's v2 columns with the heartbeat: *changed when any
 * differs (the gauges cpu_usage and memory_free never count), *restarted
 * when the host reports another startedAt than the one stored.
 */
static int
v2_compare(struct lt_fold *f, struct ctx *c, int *changed, int *restarted,
    struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_HOST_V2_GET);
	const struct lt_v2hb *v = c->ev->v2;
	int r;

	bhost(s, c);
	if ((r = row(f, s, err)) <= 0)
		return r < 0 ? LT_ESTORE : LT_OK;
	*restarted = v->has_started &&
	    sqlite3_column_type(s, 3) != SQLITE_NULL &&
	    sqlite3_column_int64(s, 3) != v->started_ms;
	if (sqlite3_column_int(s, 0) == 0 ||
	    col_differs(s, 1, v->hostname) ||
	    col_differs(s, 2, v->environment) ||
	    col_int_differs(s, 3, v->started_ms, v->has_started) ||
	    col_differs(s, 4, v->os_name) ||
	    col_differs(s, 5, v->os_arch) ||
	    col_differs(s, 6, v->os_kernel) ||
	    col_int_differs(s, 7, v->memory_total, 1) ||
	    col_int_differs(s, 8, v->component_count, 1) ||
	    col_int_differs(s, 9, v->workload_count, 1) ||
	    col_int_differs(s, 10, v->http_port, 1) ||
	    col_differs(s, 11, v->imports) ||
	    col_differs(s, 12, v->exports))
		*changed = 1;
	sqlite3_reset(s);
	return LT_OK;
}

/* Write the v2 columns of the host. */
static int
v2_store(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_HOST_V2_SET);
	const struct lt_v2hb *v = c->ev->v2;

	bhost(s, c);
	bt(s, 3, v->hostname);
	bt(s, 4, v->environment);
	bi(s, 5, v->started_ms, v->has_started);
	bt(s, 6, v->os_name);
	bt(s, 7, v->os_arch);
	bt(s, 8, v->os_kernel);
	if (v->has_cpu)
		sqlite3_bind_double(s, 9, v->cpu_usage);
	else
		sqlite3_bind_null(s, 9);
	sqlite3_bind_int64(s, 10, v->memory_total);
	sqlite3_bind_int64(s, 11, v->memory_free);
	sqlite3_bind_int64(s, 12, v->component_count);
	sqlite3_bind_int64(s, 13, v->workload_count);
	sqlite3_bind_int64(s, 14, v->http_port);
	bt(s, 15, v->imports);
	bt(s, 16, v->exports);
	return run(f, s, NULL, err);
}

/*
 * Apply a v2 heartbeat: like a v1 heartbeat without an inventory (the
 * interval is learned, the host is up), plus the v2 columns.  A heartbeat
 * that changes only the gauges is `unchanged`; one with a new startedAt
 * is recorded as LT_V2HB_TYPE_STARTED (the host restarted).  A v2 host
 * never stops: it goes silent and the sweep marks it stale.
 */
static int
fold_v2(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	struct host h;
	int changed = 0, restarted = 0, rc;

	if ((rc = host_load(f, c, &h, err)) != LT_OK)
		return rc;
	if (h.exists && c->evtime < h.state_ms) {
		c->out = LT_OUT_SUPERSEDED;
		return LT_OK;
	}
	c->host_was = !h.exists ? LT_AH_NONE : h.status == HS_UP ? LT_AH_UP :
	    h.status == HS_STALE ? LT_AH_STALE : LT_AH_STOPPED;
	if (!h.exists) {
		if ((rc = host_create(f, c, &h, err)) != LT_OK)
			return rc;
		changed = 1;
	} else if (v2_compare(f, c, &changed, &restarted, err) != LT_OK)
		return LT_ESTORE;
	if (c->evtime > h.state_ms)
		h.state_ms = c->evtime;
	learn_interval(c, &h);
	host_up(c, &h, &changed);
	host_meta(c, &h, &changed);
	h.last_hb = c->recv;
	h.has_hb = 1;
	if (restarted) {
		c->type = LT_V2HB_TYPE_STARTED;
		changed = 1;
	}
	if (host_store(f, c, &h, err) != LT_OK ||
	    v2_store(f, c, err) != LT_OK)
		return LT_ESTORE;
	c->host_is = h.status == HS_UP ? LT_AH_UP : h.status == HS_STALE ?
	    LT_AH_STALE : LT_AH_STOPPED;
	c->out = changed ? LT_OUT_APPLIED : LT_OUT_UNCHANGED;
	return LT_OK;
}

/*
 * The lattice of a v2 heartbeat (fold.h: v2_lattice, v2_lattice_map).  An
 * environment taken as the lattice must be a lattice name: a publisher on
 * runtime.operator.heartbeat.<id> could otherwise name "*" (fleet_silent's)
 * or one no subject can carry.  -1 (why set) when it is not.
 */
static int
v2_lattice(struct lt_fold *f, const char *env, const char **lat, int *len,
    struct lt_err *why)
{
	const char *p = f->opts.v2_lattice_map, *eq, *end;
	size_t el = strlen(env);

	*len = -1;
	if (f->opts.v2_lattice[0] != '\0') {
		*lat = f->opts.v2_lattice;
		return 0;
	}
	for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == el &&
		    memcmp(p, env, el) == 0 && end > eq + 1) {
			*lat = eq + 1;
			*len = (int)(end - eq - 1);
			return 0;
		}
	}
	if (env[0] != '\0' && !lt_text_lattice_ok(env, el)) {
		*lat = NULL;
		lt_err_set(why, LT_EINVAL, "environment", "not a lattice name "
		    "(at most %d bytes; no '.', '*', '>' or blanks): map it "
		    "with v2_lattice_map or set v2_lattice", LT_LATTICE_MAX);
		return -1;
	}
	*lat = env[0] != '\0' ? env : "default";
	return 0;
}

/* Bind the five key columns of a link. */
static void
blink(sqlite3_stmt *s, const struct ctx *c)
{
	const struct lt_ce_link *l = &c->ev->link;

	sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
	bt(s, 2, l->source_id != NULL ? l->source_id : "");
	bt(s, 3, l->name != NULL ? l->name : "default");
	bt(s, 4, l->wit_namespace != NULL ? l->wit_namespace : "");
	bt(s, 5, l->wit_package != NULL ? l->wit_package : "");
}

/*
 * Links are lattice-wide.  links.updated_ms is the event time of the last
 * set: an older set does not overwrite a newer one, and an older delete
 * does not remove a newer set.  There are no tombstones: a set older than
 * a delete that already removed the row recreates it.
 */
static int
fold_link(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	const struct lt_ce_link *l = &c->ev->link;
	sqlite3_stmt *s;
	int k = 0, r;

	if (c->ev->kind == LT_K_LINK_SET) {
		s = S(f, LT_ST_LINK_UPSERT);
		blink(s, c);
		bt(s, 6, l->target);
		bt(s, 7, l->interfaces);
		bt(s, 8, l->source_config);
		bt(s, 9, l->target_config);
		bt(s, 10, l->legacy_values);
		sqlite3_bind_int64(s, 11, c->evtime);
		if (run(f, s, &k, err) != LT_OK)
			return LT_ESTORE;
		c->out = k > 0 ? LT_OUT_APPLIED : LT_OUT_SUPERSEDED;
		return LT_OK;
	}
	s = S(f, LT_ST_LINK_DELETE);
	blink(s, c);
	sqlite3_bind_int64(s, 6, c->evtime);
	if (run(f, s, &k, err) != LT_OK)
		return LT_ESTORE;
	if (k > 0) {
		c->out = LT_OUT_APPLIED;
		return LT_OK;
	}
	s = S(f, LT_ST_LINK_EXISTS);
	blink(s, c);
	if ((r = row(f, s, err)) < 0)
		return LT_ESTORE;
	if (r == 1)
		sqlite3_reset(s);
	c->out = r == 1 ? LT_OUT_SUPERSEDED : LT_OUT_UNCHANGED;
	return LT_OK;
}

/*
 * Configs are lattice-wide, keyed by name, with the same updated_ms rule
 * as links.  Legacy (0.82) events name one key of an entity's config:
 * legacy_keys holds the set of keys and the row goes with the last key.
 */
static int
fold_config(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	const struct lt_ce *ev = c->ev;
	sqlite3_stmt *s;
	int k = 0, r;

	if (ev->config_name == NULL)
		return lt_err_set(err, LT_EINVAL, "data.config_name",
		    "config event has no name");
	if (ev->kind == LT_K_CONFIG_SET) {
		if (ev->config_key != NULL) {
			s = S(f, LT_ST_CONFIG_ADD_KEY);
			sqlite3_bind_text(s, 1, c->lattice, c->latlen,
			    SQLITE_STATIC);
			bt(s, 2, ev->config_name);
			bt(s, 3, ev->config_key);
			sqlite3_bind_int64(s, 4, c->evtime);
		} else {
			s = S(f, LT_ST_CONFIG_SET);
			sqlite3_bind_text(s, 1, c->lattice, c->latlen,
			    SQLITE_STATIC);
			bt(s, 2, ev->config_name);
			sqlite3_bind_int64(s, 3, c->evtime);
		}
		if (run(f, s, &k, err) != LT_OK)
			return LT_ESTORE;
		c->out = k > 0 ? LT_OUT_APPLIED : LT_OUT_SUPERSEDED;
		return LT_OK;
	}
	if (ev->config_key != NULL) {
		s = S(f, LT_ST_CONFIG_DEL_KEY);
		sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
		bt(s, 2, ev->config_name);
		bt(s, 3, ev->config_key);
		sqlite3_bind_int64(s, 4, c->evtime);
		if (run(f, s, &k, err) != LT_OK)
			return LT_ESTORE;
		if (k > 0) {
			s = S(f, LT_ST_CONFIG_DELETE_EMPTY);
			sqlite3_bind_text(s, 1, c->lattice, c->latlen,
			    SQLITE_STATIC);
			bt(s, 2, ev->config_name);
			if (run(f, s, NULL, err) != LT_OK)
				return LT_ESTORE;
			c->out = LT_OUT_APPLIED;
			return LT_OK;
		}
		/* Not a legacy row: a key delete removes the whole config. */
	}
	s = S(f, LT_ST_CONFIG_DELETE);
	sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
	bt(s, 2, ev->config_name);
	sqlite3_bind_int64(s, 3, c->evtime);
	if (run(f, s, &k, err) != LT_OK)
		return LT_ESTORE;
	if (k > 0) {
		c->out = LT_OUT_APPLIED;
		return LT_OK;
	}
	s = S(f, LT_ST_CONFIG_EXISTS);
	sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
	bt(s, 2, ev->config_name);
	if ((r = row(f, s, err)) < 0)
		return LT_ESTORE;
	if (r == 1)
		sqlite3_reset(s);
	c->out = r == 1 ? LT_OUT_SUPERSEDED : LT_OUT_UNCHANGED;
	return LT_OK;
}

/* Build "wasmbus.evt.<lattice>.<name>" for a message without a subject. */
static const char *
make_subject(struct lt_fold *f, struct ctx *c)
{
	const char *name = c->ev->name != NULL ? c->ev->name : "unknown";
	size_t need = 12 + strlen(c->lattice) + 1 + strlen(name) + 1;
	char *p;

	if (need > f->subjcap) {
		if ((p = realloc(f->subj, need)) == NULL)
			return NULL;
		f->subj = p;
		f->subjcap = need;
	}
	snprintf(f->subj, f->subjcap, "wasmbus.evt.%s.%s", c->lattice, name);
	return f->subj;
}

/* Insert the events row with the outcome. */
static int
insert_event(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_EVENT_INSERT);
	const struct lt_ce *ev = c->ev;

	sqlite3_bind_text(s, 1, c->lattice, c->latlen, SQLITE_STATIC);
	bt(s, 2, c->subject);
	bt(s, 3, c->type != NULL ? c->type : ev->type);
	bt(s, 4, ev->source);
	bt(s, 5, ev->id);
	bt(s, 6, ev->host_id);
	sqlite3_bind_int64(s, 7, c->evtime);
	bt(s, 8, ev->time_ok ? NULL : ev->time_raw);
	sqlite3_bind_int64(s, 9, c->recv);
	bt(s, 10, lt_outcome_name(c->out));
	if (c->no_data || ev->data == NULL)
		sqlite3_bind_null(s, 11);
	else
		sqlite3_bind_text(s, 11, ev->data, (int)ev->data_len,
		    SQLITE_STATIC);
	return run(f, s, NULL, err);
}

/* Whether the event's (source, id) is already in events. */
static int
is_duplicate(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	sqlite3_stmt *s = S(f, LT_ST_EVENT_EXISTS);
	int r;

	bt(s, 1, c->ev->source);
	bt(s, 2, c->ev->id);
	if ((r = row(f, s, err)) == 1)
		sqlite3_reset(s);
	return r;
}

/* Record a bad message and report it through err. */
static int
reject(struct lt_fold *f, struct ctx *c, const struct lt_err *why,
    enum lt_outcome *outcome, struct lt_err *err)
{
	const struct lt_msg *m = c->m;

	if (insert_reject(f, m->received_ms, c->lattice, c->latlen,
	    m->subject, why->code, why->msg, why->field, m->data, m->len,
	    m->len, err) != LT_OK)
		return LT_ESTORE;
	if (err != NULL)
		*err = *why;
	f->stats.outcomes[LT_OUT_REJECTED]++;
	if (outcome != NULL)
		*outcome = LT_OUT_REJECTED;
	return LT_OK;
}

/* Fire and resolve the alerts an applied event implies (alert.h). */
static int
alert_hook(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	struct lt_alert_event e;
	struct lt_hrow *r;

	memset(&e, 0, sizeof(e));
	e.lattice = c->lattice;
	e.latlen = c->latlen;
	e.ev = c->ev;
	e.now_ms = c->recv;
	e.host_was = c->host_was;
	e.host_is = c->host_is;
	/* the name as folded so far: the row may lag (fold.h) */
	if (f->hc_on && c->ev->host_id != NULL && (r = lt_hcache_get(f->hc,
	    c->lattice, c->latlen, c->ev->host_id)) != NULL) {
		e.host_known = 1;
		e.host_name = r->friendly_name;
	}
	return lt_alert_on_event(f->alerts, &e, err);
}

/* Keep a valid event the model does not place (history only). */
static int
fold_recorded(struct lt_fold *f, struct ctx *c, struct lt_err *err)
{
	(void)f;
	(void)c;
	(void)err;
	return LT_OK;
}

/* The fold rule of each event kind: kinds.h's fold column. */
typedef int (*fold_rule)(struct lt_fold *, struct ctx *, struct lt_err *);
#define FOLD_RULE(id, name, fold, alert, fixture)	[LT_K_##id] = fold,
static const fold_rule fold_rules[LT_K_COUNT] = { LT_KINDS(FOLD_RULE) };
#undef FOLD_RULE

/* Fold one message into the model, inside the caller's transaction. */
int
lt_fold_msg(struct lt_fold *f, const struct lt_msg *m,
    enum lt_outcome *outcome, struct lt_err *err)
{
	return lt_fold_msg_info(f, m, outcome, NULL, err);
}

/* Copy at most len - 1 bytes of s (n < 0: NUL-terminated) into dst. */
static void
info_copy(char *dst, size_t len, const char *s, int n)
{
	size_t k = n < 0 ? strlen(s) : (size_t)n;

	if (k >= len)
		k = len - 1;
	memcpy(dst, s, k);
	dst[k] = '\0';
}

/* Whether a NATS subject matches a subscription pattern (* and >). */
int
lt_subject_match(const char *pattern, const char *subject)
{
	const char *p = pattern, *s = subject;
	size_t pl, sl;

	for (;;) {
		pl = strcspn(p, ".");
		sl = strcspn(s, ".");
		if (pl == 1 && p[0] == '>' && p[1] == '\0')
			return sl > 0;
		if (sl == 0)
			return 0;
		if (!(pl == 1 && p[0] == '*') &&
		    (pl != sl || memcmp(p, s, pl) != 0))
			return 0;
		p += pl;
		s += sl;
		if (*p == '\0' || *s == '\0')
			return *p == '\0' && *s == '\0';
		p++;
		s++;
	}
}

/* Decode a message without touching the fold (any thread). */
int
lt_fold_decode(const struct lt_limits *lim, const struct lt_msg *m,
    struct lt_decoded **out)
{
	struct lt_decoded *d;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return LT_ENOMEM;
	lt_err_clear(&d->why);
	d->rc = LT_OK;
	if (m->subject != NULL) {
		if (m->pattern != NULL &&
		    !lt_subject_match(m->pattern, m->subject)) {
			/* nats.c ends a subject at its first NUL: a subject
			   that cannot have matched what it arrived on was
			   cut, and its lattice may be forged */
			d->rc = lt_err_set(&d->why, LT_EINVAL, "subject",
			    "subject does not match the subscription it "
			    "arrived on (%s): a NUL or a forged subject",
			    m->pattern);
			goto done;
		}
		if (lt_v2hb_subject_host(m->subject) != NULL) {
			/* wasmCloud 2: the lattice is inside (apply) */
			rc = lt_v2hb_parse(m->data, m->len,
			    lt_v2hb_subject_host(m->subject), m->received_ms,
			    lim, &d->ev, &d->why);
			goto parsed;
		}
		if (subject_lattice(m->subject, &d->lattice, &d->latlen)
		    != 0) {
			d->rc = lt_err_set(&d->why, LT_EINVAL, "subject",
			    "subject is not a lattice event subject "
			    "(wasmbus.evt.<lattice>...)");
			goto done;
		}
		d->rpc = strncmp(m->subject, "wasmbus.rpcevt.", 15) == 0;
	}
	rc = lt_ce_parse_flags(m->data, m->len, lim, LT_CE_DEFER_INVENTORY,
	    &d->ev, &d->why);
parsed:
	if (rc == LT_ENOMEM) {
		free(d);
		return LT_ENOMEM;
	}
	if (rc != LT_OK) {
		if (d->why.code == LT_OK)
			d->why.code = rc;
		d->rc = d->why.code;
	}
done:
	*out = d;
	return LT_OK;
}

/* Decode ahead what the fold will likely need (fold.h). */
int
lt_fold_decode_ahead(struct lt_decoded *d, const struct lt_limits *lim,
    struct lt_invcache *ic)
{
	struct lt_ce *ev = d->ev;
	const char *lat = d->lattice != NULL ? d->lattice : "";
	size_t latlen = d->lattice != NULL ? (size_t)d->latlen : 0;

	if (d->rc != LT_OK || ev == NULL || ev->host_id == NULL)
		return LT_OK;
	switch (ev->kind) {
	case LT_K_HOST_HEARTBEAT:
		if (!ev->inventory_deferred || !ev->has_inventory_raw)
			return LT_OK;
		if (!lt_invcache_changed(ic, lat, latlen, ev->host_id,
		    ev->inventory_raw))
			return LT_OK;
		return lt_ce_inventory_prepare(ev, lim);
	case LT_K_HOST_STARTED:
	case LT_K_HOST_STOPPED:
	case LT_K_COMPONENT:
	case LT_K_PROVIDER_STARTED:
	case LT_K_PROVIDER_STOPPED:
		/* fold_hosted() forgets the host's inventory hash */
		lt_invcache_forget(ic, lat, latlen, ev->host_id);
		return LT_OK;
	default:
		return LT_OK;
	}
}

/* Free a decoded message. */
void
lt_decoded_free(struct lt_decoded *d)
{
	if (d == NULL)
		return;
	lt_ce_free(d->ev);
	free(d);
}

/* lt_fold_msg(), also saying which lattice and type the message had. */
int
lt_fold_msg_info(struct lt_fold *f, const struct lt_msg *m,
    enum lt_outcome *outcome, struct lt_fold_info *info, struct lt_err *err)
{
	struct lt_decoded *d;
	int rc;

	if (lt_fold_decode(&f->opts.limits, m, &d) != LT_OK)
		return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
	rc = lt_fold_apply(f, m, d, outcome, info, err);
	lt_decoded_free(d);
	return rc;
}

/* Fold a message decoded by lt_fold_decode(). */
int
lt_fold_apply(struct lt_fold *f, const struct lt_msg *m, struct lt_decoded *d,
    enum lt_outcome *outcome, struct lt_fold_info *info, struct lt_err *err)
{
	struct lt_err why;
	struct ctx c;
	int rc;

	lt_err_clear(err);
	lt_err_clear(&why);
	memset(&c, 0, sizeof(c));
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	c.m = m;
	c.recv = m->received_ms;
	if (m->subject == NULL) {
		c.lattice = f->default_lattice;
		c.latlen = -1;
	} else {
		c.lattice = d->lattice;
		c.latlen = d->latlen;
	}
	if (d->rc == LT_OK && d->ev->kind == LT_K_V2_HEARTBEAT &&
	    v2_lattice(f, d->ev->v2->environment, &c.lattice, &c.latlen,
	    &why) != 0)
		return reject(f, &c, &why, outcome, err);
	if (info != NULL && c.lattice != NULL) {
		info_copy(info->lattice, sizeof(info->lattice), c.lattice,
		    c.latlen);
		info->rpc = d->rpc;
	}
	if (d->rc != LT_OK)
		return reject(f, &c, &d->why, outcome, err);
	/* borrowed from d, which a retry of a rolled-back batch applies
	   again (a deferred inventory is decoded in place, once) */
	c.ev = d->ev;
	if (info != NULL && c.ev->type != NULL)
		info_copy(info->type, sizeof(info->type), c.ev->type, -1);

	if ((rc = is_duplicate(f, &c, err)) != 0) {
		if (rc < 0)
			return LT_ESTORE;
		f->stats.outcomes[LT_OUT_DUPLICATE]++;
		if (outcome != NULL)
			*outcome = LT_OUT_DUPLICATE;
		return LT_OK;
	}

	c.subject = m->subject;
	if (c.subject == NULL && (c.subject = make_subject(f, &c)) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "fold: out of memory");
	c.evtime = c.ev->time_ok ? c.ev->time_ms : c.recv;
	if (c.evtime > c.recv + f->opts.max_future_skew_ms)
		c.evtime = c.recv + f->opts.max_future_skew_ms;

	c.out = LT_OUT_RECORDED;
	rc = fold_rules[c.ev->kind](f, &c, &why);
	if (rc == LT_EINVAL || rc == LT_ELIMIT || rc == LT_EPARSE) {
		/* A decoded event the model cannot place (no host id, a bad
		   item in a deferred inventory ...). */
		c.ev = NULL;
		return reject(f, &c, &why, outcome, err);
	}
	if (rc != LT_OK) {
		if (err != NULL)
			*err = why;
		return rc;
	}
	if (c.out != LT_OUT_SUPERSEDED &&
	    (rc = alert_hook(f, &c, err)) != LT_OK)
		return rc;
	c.no_data = c.out == LT_OUT_UNCHANGED &&
	    (c.ev->kind == LT_K_HOST_HEARTBEAT ||
	    c.ev->kind == LT_K_V2_HEARTBEAT);
	if ((rc = insert_event(f, &c, err)) != LT_OK)
		return rc;
	f->stats.outcomes[c.out]++;
	if (outcome != NULL)
		*outcome = c.out;
	return LT_OK;
}

/* The lattice of messages without a subject. */
const char *
lt_fold_default_lattice(const struct lt_fold *f)
{
	return f->default_lattice;
}
