/*
 * ckpt.c - the checkpointer thread: passive checkpoints on its own
 * connection when the writer's WAL grew (lib/ckpt.h says when), truncating
 * ones when its owner asks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt.h"
#include "clock.h"
#include "log.h"
#include "prune.h"
#include "queue.h"
#include "store.h"
#include "walwatch.h"

/*
 * Only mu's fields are shared between the threads.  The connection is the
 * thread's alone; the watch is the writer thread's.  A passive checkpoint
 * never takes the writer's lock, so the writer keeps committing while it
 * copies and fsyncs.
 */
struct ckpt {
	pthread_t		 tid;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct lt_store		*own;		/* the thread's connection */
	struct lt_store		*st;		/* the writer's (borrowed) */
	struct lt_walwatch	*watch;		/* on st, NULL: interval 0 */
	int			 backstop;
	struct lt_queue		*loop;		/* truncate results go here */
	ckpt_done_fn		*done;
	void			*arg;
	/* under mu */
	int			 stop;
	int			 due;		/* a pass now */
	int			 trunc_req;	/* the owner asks for one */
	struct lt_walwatch_policy pol;
	struct lt_walwatch_state state;
};

/* A monotonic time in ms as a timespec for pthread_cond_timedwait(). */
static struct timespec
mono_ts(int64_t ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	return ts;
}

/* The writer committed (its thread, inside the commit): wake the thread
   when a pass is due now or its timer must be armed. */
static void
on_commit(void *arg, int frames)
{
	struct ckpt	*ck = arg;

	pthread_mutex_lock(&ck->mu);
	switch (lt_walwatch_commit(&ck->state, &ck->pol, frames,
	    clock_mono_ms())) {
	case LT_WALWATCH_NOW:
		ck->due = 1;
		/* FALLTHROUGH */
	case LT_WALWATCH_ARM:
		pthread_cond_signal(&ck->cv);
		break;
	case LT_WALWATCH_IDLE:
		break;
	}
	pthread_mutex_unlock(&ck->mu);
}

/* Wait until a pass is due or stop is asked (mu held); 0 to run one. */
static int
wait_due(struct ckpt *ck)
{
	struct timespec	ts;
	int64_t		dl;

	while (!ck->stop && !ck->trunc_req && !ck->due) {
		dl = lt_walwatch_deadline(&ck->state, &ck->pol);
		if (dl < 0)
			pthread_cond_wait(&ck->cv, &ck->mu);
		else if (clock_mono_ms() >= dl)
			ck->due = 1;
		else {
			ts = mono_ts(dl);
			(void)pthread_cond_timedwait(&ck->cv, &ck->mu, &ts);
		}
	}
	return ck->stop ? -1 : 0;
}

/* The thread: a pass whenever one is due, until stopped. */
static void *
ckpt_main(void *arg)
{
	struct ckpt		*ck = arg;
	struct lt_checkpoint	 res, *r;
	struct lt_err		 err;
	int			 trunc, rc;

	/* named, so ps -L and the tests can tell its wake-ups apart */
	(void)pthread_setname_np(pthread_self(), "ckpt");
	pthread_mutex_lock(&ck->mu);
	while (wait_due(ck) == 0) {
		trunc = ck->trunc_req;
		ck->trunc_req = ck->due = 0;
		pthread_mutex_unlock(&ck->mu);
		lt_err_clear(&err);
		rc = lt_store_checkpoint(ck->own, trunc, &res, &err);
		if (rc != LT_OK)
			log_warnx_rl("checkpoint", "checkpoint: %s", err.msg);
		else if (!trunc)
			log_debug("checkpoint: passive, %d of %d frames%s",
			    res.done_frames, res.wal_frames,
			    res.busy ? ", readers busy" : "");
		if (trunc && ck->loop != NULL &&
		    (r = malloc(sizeof(*r))) != NULL) {
			*r = res;
			if (rc != LT_OK)
				r->busy = 1;	/* not truncated */
			(void)lt_queue_push_task(ck->loop, ck->done, ck->arg,
			    r, free);
		}
		pthread_mutex_lock(&ck->mu);
		lt_walwatch_passed(&ck->state,
		    rc == LT_OK ? res.wal_frames : -1, clock_mono_ms());
	}
	pthread_mutex_unlock(&ck->mu);
	return NULL;
}

/* Watch the writer when there is an interval, else give it back SQLite's
   automatic checkpoint (st's thread). */
static void
set_watch(struct ckpt *ck, int64_t interval_ms)
{
	struct lt_err	err;

	if (interval_ms == 0) {
		lt_walwatch_stop(ck->watch);
		ck->watch = NULL;
		return;
	}
	if (ck->watch != NULL)
		return;
	lt_err_clear(&err);
	if (lt_walwatch_start(ck->st, ck->backstop, on_commit, ck, &ck->watch,
	    &err) != LT_OK)
		log_warnx("checkpoint: %s (SQLite's automatic checkpoint "
		    "does the work)", err.msg);
}

/* Open the thread's connection, watch st and start. */
int
ckpt_start(const char *db, struct lt_store *st, const struct ckpt_opts *o,
    struct lt_queue *loop, ckpt_done_fn *done, void *arg, struct ckpt **out)
{
	pthread_condattr_t	 ca;
	struct ckpt		*ck;
	struct lt_err		 err;

	*out = NULL;
	/* a private in-memory database has no WAL to checkpoint */
	if (db == NULL || db[0] == '\0' || strcmp(db, ":memory:") == 0 ||
	    strncmp(db, "file:", 5) == 0)
		return 0;
	if ((ck = calloc(1, sizeof(*ck))) == NULL) {
		log_warnx("checkpoint: out of memory");
		return -1;
	}
	lt_err_clear(&err);
	if (lt_store_open(db, &ck->own, &err) != LT_OK) {
		log_warnx("checkpoint: %s: %s", db, err.msg);
		free(ck);
		return -1;
	}
	ck->st = st;
	ck->backstop = o->backstop;
	ck->loop = loop;
	ck->done = done;
	ck->arg = arg;
	ck->pol.wake_frames = CKPT_WAKE_FRAMES;
	ck->pol.delay_ms = o->interval_ms;
	lt_walwatch_init(&ck->state);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&ck->mu, NULL);
	pthread_cond_init(&ck->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ck->tid, NULL, ckpt_main, ck) != 0) {
		log_warnx("checkpoint: cannot start the thread");
		pthread_cond_destroy(&ck->cv);
		pthread_mutex_destroy(&ck->mu);
		lt_store_close(ck->own);
		free(ck);
		return -1;
	}
	set_watch(ck, o->interval_ms);
	*out = ck;
	return 0;
}

/* Take a new interval. */
void
ckpt_set_interval(struct ckpt *ck, int64_t interval_ms)
{
	if (ck == NULL)
		return;
	set_watch(ck, interval_ms);
	pthread_mutex_lock(&ck->mu);
	ck->pol.delay_ms = interval_ms;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
}

/* Ask for a truncating pass. */
int
ckpt_truncate(struct ckpt *ck)
{
	if (ck == NULL)
		return -1;
	pthread_mutex_lock(&ck->mu);
	ck->trunc_req = 1;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
	return 0;
}

/* Unwatch, stop, close. */
void
ckpt_stop(struct ckpt *ck)
{
	if (ck == NULL)
		return;
	lt_walwatch_stop(ck->watch);
	pthread_mutex_lock(&ck->mu);
	ck->stop = 1;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->tid, NULL);
	pthread_cond_destroy(&ck->cv);
	pthread_mutex_destroy(&ck->mu);
	lt_store_close(ck->own);
	free(ck);
}
