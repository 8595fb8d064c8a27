/*
 * maint.h - the maintenance timer: history retention, WAL checkpoints and
 * PRAGMA optimize, on the loop thread between fold batches.
 *
 * Every retention_interval the timer deletes ONE batch of the oldest rows
 * over the limits from events and from rejected_events, each in its own
 * short transaction; while a batch came back full it re-arms after 10 ms,
 * so a backlog drains (a pass takes a few ms: the fold keeps most of the
 * loop) without holding the write lock long enough to delay the fold.
 * In the same pass it expires one batch of hosts stale or stopped for
 * longer than host_max_age (lt_prune_hosts: their inventory goes, their
 * alerts resolve and are handed to the alert scheduler in the same
 * transaction).  It runs the checkpointer (ckpt.h) on the loop's
 * connection and asks it for a truncating checkpoint at most hourly, or
 * when the -wal file grew past 64 MiB.  PRAGMA optimize runs every 4 hours
 * and at maint_stop().
 */
#ifndef MAINT_H
#define MAINT_H

#include <stdint.h>

struct config;
struct event_base;
struct lt_queue;
struct lt_store;
struct maint;

/* Limits and intervals; 0 turns a limit (or the checkpoints) off. */
struct maint_opts {
	int64_t	history_max_age_ms;
	int64_t	history_max_rows;
	int64_t	rejected_max_age_ms;
	int64_t	rejected_max_rows;
	int64_t	interval_ms;		/* between prune passes, > 0 */
	int64_t	checkpoint_interval_ms;
	int64_t	host_max_age_ms;	/* stale/stopped hosts, 0: keep */
	int	batch;			/* rows per table per pass, > 0 */
	int	host_batch;		/* hosts per pass, > 0 */
};

/* Take the retention keys of a config (defaults: config.c), with the
   built-in batch sizes. */
void	maint_opts_config(const struct config *cf, struct maint_opts *o);
/* Prepare on st (borrowed) and arm the timer on base.  db is the file's
   path (its "-wal" is watched).  The checkpointer watches st's commits
   and reports truncations to the loop as tasks on loop (queue.h).
   Returns 0 or -1 (logged). */
int	maint_start(struct event_base *base, struct lt_queue *loop,
	    struct lt_store *st,
	    const char *db, const struct maint_opts *o, struct maint **out);
/* Apply new settings (SIGHUP); the next pass runs soon. */
void	maint_set_opts(struct maint *m, const struct maint_opts *o);
struct alerts;
/* Queue the alert changes of expired hosts on a (borrowed, may be NULL). */
void	maint_set_alerts(struct maint *m, struct alerts *a);
/* PRAGMA optimize, then disarm and free; before lt_store_close().
   NULL is fine. */
void	maint_stop(struct maint *m);

struct lt_err;
/* Before opening db: log (and tell systemd) when a migration will run. */
void	maint_announce_migration(const char *db);
/* Log why db could not be opened, with a hint at --db when its directory
   is missing. */
void	maint_open_failed(const char *db, const struct lt_err *err);

#endif
