/*
 * maint.c - the maintenance timer: prune the history in small batches,
 * PRAGMA optimize, on the loop thread, so it never interleaves with a fold
 * transaction; and the checkpointer (ckpt.h), asked for a truncating
 * checkpoint now and then.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alerts.h"
#include "ckpt.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "maint.h"
#include "notify.h"
#include "queue.h"
#include "prune.h"
#include "store.h"

#define MAINT_BATCH		1000		/* rows per table per pass */
#define MAINT_HOST_BATCH	100		/* hosts per pass */
#define MAINT_BACKLOG_MS	10		/* re-arm while batches fill */
#define MAINT_TRUNCATE_MS	(3600 * 1000)	/* truncate at most hourly */
#define MAINT_WAL_MAX		(INT64_C(64) << 20)	/* ... or past this */
#define MAINT_OPTIMIZE_MS	(4 * 3600 * 1000)
#define MAINT_LOG_MS		(10 * 60 * 1000)	/* info summary */

struct maint {
	struct event_base	*base;
	struct lt_store		*st;
	struct lt_prune		*pr;
	struct event		*ev;
	char			*wal;		/* the -wal file */
	struct maint_opts	 o;
	int64_t			 last_trunc, last_opt; /* mono */
	int64_t			 last_log;
	uint64_t		 pruned[LT_PRUNE_NTABLES];
	uint64_t		 since_log[LT_PRUNE_NTABLES];
	struct alerts		*alerts;	/* borrowed, may be NULL */
	uint64_t		 hosts, hosts_log, resolved, resolved_log;
	struct ckpt		*ck;		/* NULL: none (in memory) */
	int			 trunc_pending;
	int64_t			 trunc_size;
};

/* Take the retention keys of a config (its defaults are the only ones). */
void
maint_opts_config(const struct config *cf, struct maint_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->history_max_age_ms = cf->history_max_age_ms;
	o->history_max_rows = cf->history_max_rows;
	o->rejected_max_age_ms = cf->rejected_max_age_ms;
	o->rejected_max_rows = cf->rejected_max_rows;
	o->interval_ms = cf->retention_interval_ms;
	o->checkpoint_interval_ms = cf->checkpoint_interval_ms;
	o->host_max_age_ms = cf->host_max_age_ms;
	o->batch = MAINT_BATCH;
	o->host_batch = MAINT_HOST_BATCH;
}

/* Arm the timer in ms. */
static void
arm(struct maint *m, int64_t ms)
{
	struct timeval	tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m->ev, &tv);
}

/* Size of the -wal file, 0 when missing or unknown. */
static int64_t
wal_size(const struct maint *m)
{
	struct stat	sb;

	if (m->wal == NULL || stat(m->wal, &sb) == -1)
		return 0;
	return (int64_t)sb.st_size;
}

/* Prune one batch of one table; return whether a full batch went. */
static int
prune_one(struct maint *m, enum lt_prune_table t, int64_t max_age_ms,
    int64_t max_rows, int64_t now)
{
	struct lt_err	err;
	int64_t		cutoff = 0;
	int		n = 0;

	if (max_age_ms == 0 && max_rows == 0)
		return 0;
	if (max_age_ms > 0)
		cutoff = now - max_age_ms > 0 ? now - max_age_ms : 1;
	lt_err_clear(&err);
	if (lt_prune(m->pr, t, cutoff, max_rows, m->o.batch, &n, &err) !=
	    LT_OK) {
		log_warnx_rl("retention", "retention: %s: %s: %s",
		    lt_prune_table_name(t), lt_strerror(err.code), err.msg);
		return 0;
	}
	m->pruned[t] += (uint64_t)n;
	m->since_log[t] += (uint64_t)n;
	if (n > 0)
		log_debug("retention: %s: pruned %d rows",
		    lt_prune_table_name(t), n);
	return n == m->o.batch;
}

/* Expire one batch of hosts, handing their resolved alerts to the
   scheduler in the same transaction; return whether a full batch went. */
static int
expire_hosts(struct maint *m, int64_t now)
{
	struct lt_err	err;
	int64_t		cutoff;
	size_t		queued = 0;
	int		n = 0, res = 0;

	if (m->o.host_max_age_ms == 0)
		return 0;
	cutoff = now - m->o.host_max_age_ms > 0 ? now - m->o.host_max_age_ms :
	    1;
	lt_err_clear(&err);
	if (lt_store_begin(m->st, &err) != LT_OK)
		goto fail;
	if (lt_prune_hosts(m->pr, cutoff, now, m->o.host_batch, &n, &res,
	    &err) != LT_OK ||
	    alerts_enqueue(m->alerts, now, &queued, &err) != LT_OK ||
	    lt_store_commit(m->st, &err) != LT_OK) {
		lt_store_rollback(m->st);
		goto fail;
	}
	if (queued > 0)
		alerts_kick(m->alerts);
	m->hosts += (uint64_t)n;
	m->hosts_log += (uint64_t)n;
	m->resolved += (uint64_t)res;
	m->resolved_log += (uint64_t)res;
	if (n > 0)
		log_debug("retention: hosts: expired %d hosts, resolved %d "
		    "alerts", n, res);
	return n == m->o.host_batch;
fail:
	log_warnx_rl("retention", "retention: hosts: %s: %s",
	    lt_strerror(err.code), err.msg);
	return 0;
}

/* Act on a truncating checkpoint's outcome (loop thread, a task). */
static void
ckpt_done(void *arg, void *data)
{
	struct maint		*m = arg;
	struct lt_checkpoint	*r = data;

	m->trunc_pending = 0;
	if (!r->busy)
		m->last_trunc = clock_mono_ms();
	log_debug("checkpoint: truncate, wal %lld bytes, %d of %d frames%s",
	    (long long)m->trunc_size, r->done_frames, r->wal_frames,
	    r->busy ? ", readers busy" : "");
	if (r->busy && m->trunc_size > MAINT_WAL_MAX)
		log_warnx_rl("checkpoint", "checkpoint: wal is %lld bytes and "
		    "a reader keeps it from being truncated",
		    (long long)m->trunc_size);
}

/* Ask for a truncating checkpoint when due (hourly, or the WAL is big). */
static void
checkpoint(struct maint *m, int64_t mono)
{
	int64_t		size;

	if (m->ck == NULL || m->o.checkpoint_interval_ms == 0 ||
	    m->trunc_pending)
		return;
	size = wal_size(m);
	if (mono - m->last_trunc < MAINT_TRUNCATE_MS && size <= MAINT_WAL_MAX)
		return;
	if (ckpt_truncate(m->ck) == 0) {
		m->trunc_pending = 1;
		m->trunc_size = size;
	}
}

/* One maintenance pass; re-arm quickly while a backlog remains. */
static void
on_maint(evutil_socket_t fd, short what, void *arg)
{
	struct maint	*m = arg;
	int64_t		 now = clock_now_ms(), mono = clock_mono_ms(), next;
	int		 more = 0;

	(void)fd;
	(void)what;
	more |= prune_one(m, LT_PRUNE_EVENTS, m->o.history_max_age_ms,
	    m->o.history_max_rows, now);
	more |= prune_one(m, LT_PRUNE_REJECTED, m->o.rejected_max_age_ms,
	    m->o.rejected_max_rows, now);
	more |= expire_hosts(m, now);
	/* one info line per 10 minutes at most, whatever the load */
	if ((m->since_log[LT_PRUNE_EVENTS] > 0 ||
	    m->since_log[LT_PRUNE_REJECTED] > 0 || m->hosts_log > 0) &&
	    mono - m->last_log >= MAINT_LOG_MS) {
		log_info("retention: pruned %llu events and %llu rejected "
		    "rows, expired %llu hosts (%llu alerts resolved)",
		    (unsigned long long)m->since_log[LT_PRUNE_EVENTS],
		    (unsigned long long)m->since_log[LT_PRUNE_REJECTED],
		    (unsigned long long)m->hosts_log,
		    (unsigned long long)m->resolved_log);
		memset(m->since_log, 0, sizeof(m->since_log));
		m->hosts_log = m->resolved_log = 0;
		m->last_log = mono;
	}
	checkpoint(m, mono);
	if (mono - m->last_opt >= MAINT_OPTIMIZE_MS) {
		struct lt_err	err;

		m->last_opt = mono;
		lt_err_clear(&err);
		if (lt_store_optimize(m->st, &err) != LT_OK)
			log_warnx_rl("optimize", "optimize: %s", err.msg);
	}
	next = more ? MAINT_BACKLOG_MS : m->o.interval_ms;
	arm(m, next);
}

/* Prepare and arm. */
int
maint_start(struct event_base *base, struct lt_queue *loop,
    struct lt_store *st, const char *db,
    const struct maint_opts *o, struct maint **out)
{
	struct maint	*m;
	struct ckpt_opts co;
	struct lt_err	 err;
	int64_t		 mono = clock_mono_ms();

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_warnx("retention: out of memory");
		return -1;
	}
	m->base = base;
	m->st = st;
	m->o = *o;
	if (m->o.batch < 1)
		m->o.batch = MAINT_BATCH;
	if (m->o.host_batch < 1)
		m->o.host_batch = MAINT_HOST_BATCH;
	/* a truncate waits for readers while holding the writer's lock:
	   not in the first hour unless the WAL is big */
	m->last_opt = m->last_trunc = mono;
	m->last_log = mono - MAINT_LOG_MS;
	if (db != NULL && asprintf(&m->wal, "%s-wal", db) == -1)
		m->wal = NULL;
	lt_err_clear(&err);
	if (lt_prune_new(st, &m->pr, &err) != LT_OK) {
		log_warnx("retention: %s", err.msg);
		goto fail;
	}
	if ((m->ev = evtimer_new(base, on_maint, m)) == NULL) {
		log_warnx("retention: cannot create the timer");
		goto fail;
	}
	co.interval_ms = m->o.checkpoint_interval_ms;
	co.backstop = 0;	/* store.c's wal_autocheckpoint */
	if (m->wal != NULL &&
	    ckpt_start(db, st, &co, loop, ckpt_done, m, &m->ck) == -1)
		goto fail;
	/* a first pass soon: a backlog from before a restart drains now */
	arm(m, m->o.interval_ms < 1000 ? m->o.interval_ms : 1000);
	*out = m;
	return 0;
fail:
	if (m->ev != NULL)
		event_free(m->ev);
	lt_prune_free(m->pr);
	free(m->wal);
	free(m);
	return -1;
}

/* Take new settings; run a pass soon. */
void
maint_set_opts(struct maint *m, const struct maint_opts *o)
{
	if (m == NULL)
		return;
	m->o = *o;
	if (m->o.batch < 1)
		m->o.batch = MAINT_BATCH;
	if (m->o.host_batch < 1)
		m->o.host_batch = MAINT_HOST_BATCH;
	ckpt_set_interval(m->ck, m->o.checkpoint_interval_ms);
	log_info("reload: retention: events %lldms/%lld rows, rejected "
	    "%lldms/%lld rows, hosts %lldms, every %lldms, checkpoint %lldms",
	    (long long)o->history_max_age_ms, (long long)o->history_max_rows,
	    (long long)o->rejected_max_age_ms, (long long)o->rejected_max_rows,
	    (long long)o->host_max_age_ms, (long long)o->interval_ms,
	    (long long)o->checkpoint_interval_ms);
	arm(m, MAINT_BACKLOG_MS);
}

/* Hand expired hosts' alert changes to the scheduler. */
void
maint_set_alerts(struct maint *m, struct alerts *a)
{
	if (m != NULL)
		m->alerts = a;
}

/* Optimize, disarm, free. */
void
maint_stop(struct maint *m)
{
	struct lt_err	err;

	if (m == NULL)
		return;
	ckpt_stop(m->ck);
	lt_err_clear(&err);
	if (lt_store_optimize(m->st, &err) != LT_OK)
		log_warnx("optimize: %s", err.msg);
	if (m->ev != NULL)
		event_free(m->ev);
	lt_prune_free(m->pr);
	free(m->wal);
	free(m);
}

/*
 * Before opening a file of an older schema: say a migration runs, and ask
 * systemd for the time it needs, since READY=1 waits for it.  Migration
 * 003 rebuilds an index of events: 32 s for 10,000,000 events (5 GB) on
 * the 2-core bench machine with the file cached; allow 20 MB/s of file
 * plus a minute, beyond TimeoutStartSec.  The daemon and --replay both
 * call it.
 */
void
maint_announce_migration(const char *db)
{
	struct lt_err	err;
	int64_t		bytes;
	int		v;

	lt_err_clear(&err);
	if (lt_store_file_version(db, &v, &bytes, &err) != LT_OK) {
		log_debug("db: %s: %s", db, err.msg);	/* open says why */
		return;
	}
	if (v <= 0 || v >= lt_store_schema_version())
		return;
	log_info("db: %s: migrating %.1f MiB from schema version %d to %d; "
	    "a long history takes a while", db, (double)bytes / 1048576.0, v,
	    lt_store_schema_version());
	notify_status("migrating the database from schema version %d to %d",
	    v, lt_store_schema_version());
	notify_extend_timeout((uint64_t)(60 + bytes / (20 << 20)) * 1000000);
}

/* Log why db did not open; when its directory is missing, name --db. */
void
maint_open_failed(const char *db, const struct lt_err *err)
{
	struct stat	 sb;
	char		*dup, *dir;
	int		 nodir = 0;

	if ((dup = strdup(db)) != NULL) {
		dir = dirname(dup);
		nodir = stat(dir, &sb) == -1 && errno == ENOENT;
	}
	free(dup);
	log_warnx("db: %s: %s%s", db, err->msg, nodir ? " (its directory "
	    "does not exist: pass --db PATH or set db in the config)" : "");
}
