/*
 * walwatch.c - the checkpoint policy (pure) and the WAL hook that feeds it.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "walwatch.h"
#include "store.h"
#include "store_int.h"

struct lt_walwatch {
	struct lt_store		*st;
	int			 backstop;	/* frames, > 0 */
	int			 saved;		/* st's wal_autocheckpoint */
	lt_walwatch_fn	*fn;
	void			*arg;
};

/* Start from an empty WAL. */
void
lt_walwatch_init(struct lt_walwatch_state *s)
{
	s->mark = 0;
	s->frames = 0;
	s->dirty_ms = -1;
}

/* Note a commit; say whether the checkpointer must wake. */
enum lt_walwatch_wake
lt_walwatch_commit(struct lt_walwatch_state *s,
    const struct lt_walwatch_policy *p, int frames, int64_t now_ms)
{
	if (frames < 0)
		frames = 0;
	/* the WAL restarted (or the backstop copied it): count from 0 */
	if (frames < s->mark)
		s->mark = 0;
	s->frames = frames;
	if (frames == s->mark)
		return LT_WALWATCH_IDLE;
	if (frames - s->mark >= p->wake_frames)
		return LT_WALWATCH_NOW;
	if (s->dirty_ms >= 0 || p->delay_ms <= 0)
		return LT_WALWATCH_IDLE;
	s->dirty_ms = now_ms;
	return LT_WALWATCH_ARM;
}

/* When the next pass is due by time, -1 for none. */
int64_t
lt_walwatch_deadline(const struct lt_walwatch_state *s,
    const struct lt_walwatch_policy *p)
{
	if (s->dirty_ms < 0 || p->delay_ms <= 0)
		return -1;
	return s->dirty_ms + p->delay_ms;
}

/* A pass saw frames; later commits count from there. */
void
lt_walwatch_passed(struct lt_walwatch_state *s, int frames, int64_t now_ms)
{
	if (frames < 0)
		frames = s->frames;
	s->mark = frames;
	/* commits the pass did not see wait at most one more delay */
	s->dirty_ms = s->frames > frames ? now_ms : -1;
}

/* SQLite's WAL hook: the backstop, then tell the watcher. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct lt_walwatch	*w = arg;
	int			 log = -1, done = -1;

	/* what sqlite3_wal_autocheckpoint() would have done; its errors
	   are left to the next commit and the checkpointer, as SQLite's */
	if (frames >= w->backstop &&
	    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done) == SQLITE_OK && log >= 0 && done == log)
		frames = 0;
	w->fn(w->arg, frames);
	return SQLITE_OK;
}

/* Install the hook on st. */
int
lt_walwatch_start(struct lt_store *st, int backstop, lt_walwatch_fn *fn,
    void *arg, struct lt_walwatch **out, struct lt_err *err)
{
	struct lt_walwatch	*w;
	sqlite3_stmt		*s = NULL;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "",
		    "walwatch: out of memory");
	/* a setup query, not a statement of the fold: prepared here once */
	if (sqlite3_prepare_v2(st->db, "PRAGMA wal_autocheckpoint", -1, &s,
	    NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		(void)lt_store_err(st, err, "PRAGMA wal_autocheckpoint");
		sqlite3_finalize(s);
		free(w);
		return LT_ESTORE;
	}
	w->saved = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	w->st = st;
	w->backstop = backstop > 0 ? backstop : w->saved;
	if (w->backstop <= 0) {
		free(w);
		return lt_err_set(err, LT_EINVAL, "", "walwatch: no backstop: "
		    "wal_autocheckpoint is off");
	}
	w->fn = fn;
	w->arg = arg;
	sqlite3_wal_hook(st->db, wal_hook, w);
	*out = w;
	return LT_OK;
}

/* Remove the hook; SQLite's automatic checkpoint is back. */
void
lt_walwatch_stop(struct lt_walwatch *w)
{
	if (w == NULL)
		return;
	/* this installs SQLite's own hook in place of ours */
	(void)sqlite3_wal_autocheckpoint(w->st->db, w->saved);
	free(w);
}
