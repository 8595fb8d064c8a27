/*
 * prune.h - history retention and file upkeep: prune old rows of the
 * history tables, checkpoint the WAL, let SQLite refresh its statistics.
 *
 * The history tables are pruned by age and count: `events` and
 * `rejected_events`.  Of the current state only hosts that have been stale
 * or stopped for longer than a limit go (lt_prune_hosts(), with their
 * components and providers); links, configs, the alerts and the alert
 * outbox are never deleted.
 *
 * A prune call deletes at most `batch` rows, oldest first, so the write
 * lock is held only briefly and the fold never waits long; the caller calls
 * again (soon) while a call deleted a full batch.  A call runs in its own
 * write transaction, or inside the caller's when one is open.
 *
 * Pruning forgets the (source, id) of the deleted events, so a duplicate
 * redelivered after its original was pruned is applied again; keep the
 * history longer than any redelivery window.
 *
 * One thread at a time uses a struct lt_prune (with its store).
 */
#ifndef LT_PRUNE_H
#define LT_PRUNE_H

#include <stdint.h>

#include "err.h"

struct lt_store;
struct lt_prune;

/* A history table that can be pruned. */
enum lt_prune_table {
	LT_PRUNE_EVENTS = 0,	/* events, by received_ms */
	LT_PRUNE_REJECTED,	/* rejected_events, by received_ms */
	LT_PRUNE_NTABLES
};

/* Prepare the prune statements on st (borrowed; must outlive *out). */
int	lt_prune_new(struct lt_store *st, struct lt_prune **out,
	    struct lt_err *err);
/* Finalize and free.  NULL is fine. */
void	lt_prune_free(struct lt_prune *p);

/*
 * Delete at most batch rows of table t, oldest first: rows received before
 * older_than_ms (0: no age limit), then rows beyond the newest
 * keep_max_rows (0: no count limit; counted by seq, so the table holds at
 * most keep_max_rows rows once nothing is left to delete).  *deleted is the
 * number of rows deleted; when it equals batch there may be more.
 * LT_EINVAL for a negative limit or batch < 1, LT_ESTORE when the database
 * failed (the call's own transaction is rolled back).
 */
int	lt_prune(struct lt_prune *p, enum lt_prune_table t,
	    int64_t older_than_ms, int64_t keep_max_rows, int batch,
	    int *deleted, struct lt_err *err);
/* lt_prune() on events. */
int	lt_prune_events(struct lt_prune *p, int64_t older_than_ms,
	    int64_t keep_max_rows, int batch, int *deleted,
	    struct lt_err *err);
/* lt_prune() on rejected_events. */
int	lt_prune_rejected(struct lt_prune *p, int64_t older_than_ms,
	    int64_t keep_max_rows, int batch, int *deleted,
	    struct lt_err *err);
/*
 * Expire hosts: delete at most batch hosts whose status is 'stale' or
 * 'stopped' and whose status_changed_ms < older_than_ms (0: none), their
 * components and providers going with them (ON DELETE CASCADE); an 'up'
 * host is never deleted.  In the same transaction every active alert of
 * each deleted host (host_stale, host_stopped, provider_unhealthy, the
 * *_failed kinds but linkdef_set_failed) and each lattice_silent none of
 * whose hosts is still stale is resolved at now_ms with
 * "resolved_reason":"host_expired" in its details.  The history (events)
 * is untouched.  *deleted gets the hosts deleted (when it equals batch
 * there may be more), *resolved (may be NULL) the alerts resolved.
 * LT_EINVAL for a negative limit or batch < 1, LT_ESTORE when the database
 * failed (the call's own transaction is rolled back), LT_ENOMEM.
 */
int	lt_prune_hosts(struct lt_prune *p, int64_t older_than_ms,
	    int64_t now_ms, int batch, int *deleted, int *resolved,
	    struct lt_err *err);
/* The resolved_reason lt_prune_hosts() writes into alert details. */
#define LT_PRUNE_HOST_REASON	"host_expired"

/* The table's name: "events", "rejected_events". */
const char *lt_prune_table_name(enum lt_prune_table t);

/* What a WAL checkpoint did. */
struct lt_checkpoint {
	int	wal_frames;	/* frames in the WAL, -1 when unknown */
	int	done_frames;	/* frames copied back into the database */
	int	busy;		/* a reader or writer kept it from finishing */
};

/*
 * Checkpoint the WAL.  Passive (truncate 0) never waits: it copies what
 * no reader still needs.  Truncate (1) waits briefly (at most about 250 ms)
 * for readers, copies everything and truncates the -wal file to zero
 * bytes; when readers hold it up, res->busy is set and it still returns
 * LT_OK.  Must not be called inside a transaction.  res may be NULL.
 */
int	lt_store_checkpoint(struct lt_store *st, int truncate,
	    struct lt_checkpoint *res, struct lt_err *err);
/* Run PRAGMA optimize (cheap; refreshes statistics the planner uses). */
int	lt_store_optimize(struct lt_store *st, struct lt_err *err);

#endif
