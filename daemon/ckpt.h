/*
 * ckpt.h - the checkpointer: a thread with a connection of its own that
 * copies the WAL back into the database, so the thread that folds never
 * waits for a checkpoint's fsyncs.  The daemon (maint.c) and --replay
 * (replay.c) both run it.
 *
 * It watches the writer's connection (lib/ckpt.h): a passive checkpoint
 * runs once the WAL grew by CKPT_WAKE_FRAMES pages since the last pass,
 * or interval_ms after the first commit no pass has copied yet; an idle
 * database wakes nothing.  The writer's own automatic checkpoint stays as
 * a backstop that bounds the WAL should this thread fall behind: at
 * backstop frames (0: the connection's wal_autocheckpoint, store.c).  A
 * truncating checkpoint runs when the owner asks (ckpt_truncate()).
 */
#ifndef CKPT_H
#define CKPT_H

#include <stdint.h>

struct lt_checkpoint;
struct lt_queue;
struct lt_store;
struct ckpt;

/* A pass once the WAL grew by this many pages (4 MiB of 4 KiB pages). */
#define CKPT_WAKE_FRAMES	1024

struct ckpt_opts {
	int64_t	interval_ms;	/* checkpoint_interval; 0: no checkpointer,
				   SQLite's automatic checkpoint alone */
	int	backstop;	/* WAL frames, 0: st's wal_autocheckpoint */
};

/* A truncating pass's outcome, run as a task of the owner's queue; data
   is a struct lt_checkpoint, freed after. */
typedef void	ckpt_done_fn(void *arg, void *data);

/*
 * Open a connection to db and start the thread; watch st (borrowed, the
 * caller's connection, used by the calling thread only) until ckpt_stop().
 * done(arg, res) runs on loop after a truncating pass; loop and done may
 * be NULL when the owner never asks for one.  A database without a -wal
 * file (":memory:", "file:" URIs) gets no checkpointer: 0 with *out NULL.
 * Returns 0 or -1 (logged).
 */
int	ckpt_start(const char *db, struct lt_store *st,
	    const struct ckpt_opts *o, struct lt_queue *loop,
	    ckpt_done_fn *done, void *arg, struct ckpt **out);
/* A new checkpoint_interval (SIGHUP), on st's thread.  NULL is fine. */
void	ckpt_set_interval(struct ckpt *ck, int64_t interval_ms);
/* Ask for a truncating pass; 0, or -1 when there is no checkpointer. */
int	ckpt_truncate(struct ckpt *ck);
/* Stop watching st, stop the thread and close its connection; before st
   is closed, on st's thread.  NULL is fine. */
void	ckpt_stop(struct ckpt *ck);

#endif
