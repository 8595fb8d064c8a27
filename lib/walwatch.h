/*
 * walwatch.h - when to checkpoint the WAL, and how a writer's connection
 * says that its WAL grew.
 *
 * A checkpointer with a connection of its own copies the WAL back into the
 * database so that the writer never waits for a checkpoint's fsyncs.  It
 * runs when the WAL grew by wake_frames since its last pass, or delay_ms
 * after the first commit no pass has copied yet, and never while nothing
 * is written.  The policy (lt_walwatch_commit() and friends) is pure:
 * frames and times come in, the caller keeps the state and the clock.
 *
 * lt_walwatch_start() tells a function, after every commit on a
 * connection, how many frames its WAL holds (SQLite's WAL hook, on the
 * committing thread).  The hook replaces SQLite's automatic checkpoint,
 * so it does that job itself as a backstop: when the WAL holds backstop
 * frames or more, it runs a passive checkpoint on the committing
 * connection, as SQLite would have, so the WAL stays bounded should the
 * checkpointer fall behind.
 */
#ifndef LT_WALWATCH_H
#define LT_WALWATCH_H

#include <stdint.h>

#include "err.h"

struct lt_store;

struct lt_walwatch_policy {
	int	wake_frames;	/* a pass once the WAL grew by this, > 0 */
	int64_t	delay_ms;	/* ... or this long after an uncopied commit;
				   0: never by time */
};

/* The checkpointer's view of the WAL; the caller serialises access. */
struct lt_walwatch_state {
	int	mark;		/* WAL frames when the last pass ran */
	int	frames;		/* WAL frames after the last commit */
	int64_t	dirty_ms;	/* first commit no pass copied, -1: none */
};

enum lt_walwatch_wake {
	LT_WALWATCH_IDLE,	/* nothing new for the checkpointer */
	LT_WALWATCH_ARM,	/* a pass is due at lt_walwatch_deadline() */
	LT_WALWATCH_NOW		/* a pass is due now */
};

/* An empty WAL, nothing to copy. */
void	lt_walwatch_init(struct lt_walwatch_state *s);
/* A commit left frames in the WAL at now_ms (any clock, the same in every
   call); fewer than the last pass saw means the WAL restarted.  Say
   whether the checkpointer must wake. */
enum lt_walwatch_wake lt_walwatch_commit(struct lt_walwatch_state *s,
	    const struct lt_walwatch_policy *p, int frames, int64_t now_ms);
/* When the next pass is due by time, or -1 when none is. */
int64_t	lt_walwatch_deadline(const struct lt_walwatch_state *s,
	    const struct lt_walwatch_policy *p);
/* A pass found frames in the WAL (struct lt_checkpoint's wal_frames; -1
   when unknown) at now_ms; commits after it count from there. */
void	lt_walwatch_passed(struct lt_walwatch_state *s, int frames,
	    int64_t now_ms);

/*
 * Called after each commit on the watched connection, on the thread that
 * committed, with the frames in its WAL; 0 when the backstop has just
 * copied the WAL to its end.  It must be quick and must not use the
 * connection.
 */
typedef void lt_walwatch_fn(void *arg, int frames);

struct lt_walwatch;

/*
 * Watch st's WAL (st is borrowed and must outlive the watch): call fn(arg,
 * frames) after every commit, and checkpoint passively on st when the WAL
 * holds backstop frames or more (0: st's own wal_autocheckpoint, store.c).
 * Only the thread that uses st may call this and lt_walwatch_stop().
 */
int	lt_walwatch_start(struct lt_store *st, int backstop,
	    lt_walwatch_fn *fn, void *arg, struct lt_walwatch **out,
	    struct lt_err *err);
/* Stop watching and give st its automatic checkpoint back.  NULL is
   fine. */
void	lt_walwatch_stop(struct lt_walwatch *w);

#endif
