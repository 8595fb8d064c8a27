/*
 * outbox.h - deliver every alert change to every sink at least once.
 *
 * The alerts table's triggers queue each change (an alert fired, an alert
 * resolved) in alert_changes, in the transaction that wrote the alert
 * (schema/002_alert_outbox.sql).  Only the daemon knows which sinks are
 * configured, so it turns the queue into one alert_deliveries row per sink
 * and change with lt_outbox_enqueue_pending() (idempotent), takes due rows
 * with lt_outbox_next(), and reports each sink's answer with
 * lt_outbox_done() / lt_outbox_failed() (exponential backoff 1 s .. 5 min
 * plus caller-supplied jitter: lib/ has no randomness).  Rows live in the
 * database, so a change committed just before a crash is delivered after
 * the restart.  Call every write function inside a write transaction
 * (lt_store_begin / lt_store_commit, or the fold's batch).
 *
 * Order: a 'resolved' delivery is not due while the 'firing' delivery of
 * the same alert to the same sink is still pending, so no sink sees an
 * alert fire after it saw it resolve.
 *
 * One thread at a time uses a struct lt_outbox.
 */
#ifndef LT_OUTBOX_H
#define LT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct lt_store;
struct lt_outbox;

enum lt_transition {
	LT_TR_FIRING,
	LT_TR_RESOLVED,
};

#define LT_OUTBOX_BACKOFF_MIN_MS	1000
#define LT_OUTBOX_BACKOFF_MAX_MS	(5 * 60 * 1000)

/* One delivery with the alert it carries.  Strings are owned (malloc'd),
   freed by lt_delivery_clear(); host_id may be NULL. */
struct lt_delivery {
	int64_t			 alert_id;
	char			*sink;
	enum lt_transition	 transition;
	int			 attempts;	/* failed attempts so far */
	char			*lattice;
	char			*kind;
	char			*severity;
	char			*entity;
	char			*host_id;
	char			*summary;
	char			*details;	/* JSON object text */
	int64_t			 fired_ms;
	int64_t			 resolved_ms;	/* 0 for a firing delivery
						   (the alert as it was when
						   it fired) */
};

/* Prepare the outbox statements on st (borrowed; must outlive *out). */
int	lt_outbox_new(struct lt_store *st, struct lt_outbox **out,
	    struct lt_err *err);
/* Finalize and free.  NULL is fine. */
void	lt_outbox_free(struct lt_outbox *ob);

/*
 * Create a delivery row (due at now_ms) for every queued alert change and
 * each of the nsinks sink names, then empty the queue.  Idempotent; a sink
 * gets the changes queued while it is configured.  *queued (may be NULL)
 * gets the rows created.
 */
int	lt_outbox_enqueue_pending(struct lt_outbox *ob,
	    const char *const *sinks, size_t nsinks, int64_t now_ms,
	    size_t *queued, struct lt_err *err);

/*
 * Copy up to max due deliveries (next_attempt_ms <= now_ms, undelivered)
 * into out[0..*n), oldest first.  With lease_ms > 0 each one is not due
 * again before now_ms + lease_ms (so a second call does not hand it out
 * while the sink is still working; set it above the sinks' timeouts):
 * then call inside a write transaction.  Free with lt_delivery_clear().
 */
int	lt_outbox_next(struct lt_outbox *ob, int64_t now_ms, int64_t lease_ms,
	    size_t max, struct lt_delivery *out, size_t *n,
	    struct lt_err *err);
/* lt_outbox_next() of the rows of one sink only (NULL: any sink), for a
   per-sink rate limit. */
int	lt_outbox_next_sink(struct lt_outbox *ob, const char *sink,
	    int64_t now_ms, int64_t lease_ms, size_t max,
	    struct lt_delivery *out, size_t *n, struct lt_err *err);

/* The sink delivered it.  Unknown or already delivered rows are fine. */
int	lt_outbox_done(struct lt_outbox *ob, int64_t alert_id,
	    const char *sink, enum lt_transition tr, int64_t now_ms,
	    struct lt_err *err);

/*
 * The sink failed: attempts + 1, last_error = error, next attempt at
 * now_ms + lt_outbox_backoff_ms(previous attempts, jitter).
 */
int	lt_outbox_failed(struct lt_outbox *ob, int64_t alert_id,
	    const char *sink, enum lt_transition tr, const char *error,
	    int64_t now_ms, double jitter, struct lt_err *err);

/*
 * Delay after a failure when attempts failures came before it:
 * min(1 s x 2^attempts, 5 min), plus up to a quarter more by jitter
 * (a random number in [0, 1) from the caller; clamped).
 */
int64_t	lt_outbox_backoff_ms(int attempts, double jitter);

/*
 * Copy up to max active alerts whose firing was already delivered to sink
 * into out[0..*n) (transition LT_TR_FIRING), for sinks that want active
 * alerts re-sent (Alertmanager).  Read-only.
 */
int	lt_outbox_active_for_repost(struct lt_outbox *ob, const char *sink,
	    size_t max, struct lt_delivery *out, size_t *n,
	    struct lt_err *err);

/* Delete deliveries delivered before before_ms (housekeeping); *deleted
   may be NULL. */
int	lt_outbox_prune(struct lt_outbox *ob, int64_t before_ms,
	    size_t *deleted, struct lt_err *err);

/* Free the strings of d[0..n) and zero them.  NULL is fine. */
void	lt_delivery_clear(struct lt_delivery *d, size_t n);

/* "firing" or "resolved". */
const char *lt_transition_name(enum lt_transition tr);

#endif
