/*
 * js.h - JetStream ingest: a durable pull consumer fed into the inbox.
 *
 * A dedicated thread (never the loop thread: every JetStream API call and
 * every Fetch blocks) finds or creates the stream (docs/jetstream.md),
 * binds the durable consumer and fetches while the inbox has room.  Each
 * message travels through the inbox with its natsMsg handle; the loop
 * folds a batch (js_fold_batch), records the stream position in
 * latticed_state in the same transaction, commits, and only then
 * acknowledges.  The thread also watches the stream's first sequence: when
 * messages expired before latticed fetched them it posts a gap, which the
 * loop logs, counts and answers with a resync.
 */
#ifndef JS_H
#define JS_H

#include <stdint.h>

#include <nats/nats.h>

#include "err.h"

struct config;
struct event;
struct inbox;
struct inbox_msg;
struct lt_fold;
struct lt_observe;
struct js;

/* What the thread tells the loop (taken with js_notices()). */
struct js_notices {
	int		 fatal;		/* setup refused: stop latticed */
	int		 ready;		/* consumer bound */
	uint64_t	 gap_from;	/* first lost stream sequence, 0: none */
	uint64_t	 gap_to;	/* last lost stream sequence */
	int		 reset;		/* stream restarted below our position */
	char		 error[400];	/* last problem, "" when none */
};

/* Counters of js_fold_batch(). */
struct js_counts {
	uint64_t	 folded, rejected, poison, skipped, gaps;
};

/*
 * Start the thread on conn (borrowed; must outlive js_close()).  Reads the
 * committed position from o.  wake is activated on notices.  The config's
 * JetStream keys are copied.
 */
int	js_open(natsConnection *conn, const struct config *cf,
	    struct inbox *ib, struct event *wake, struct lt_observe *o,
	    struct js **out);
/* Stop fetching (shutdown); messages already queued can still be acked. */
void	js_stop(struct js *js);
/* Stop, join the thread and free.  NULL is fine. */
void	js_close(struct js *js);
/* Take pending notices; returns 1 when there were any. */
int	js_notices(struct js *js, struct js_notices *out);
/* Answer a ready notice: read the committed position of the chosen stream
   from latticed_state and let the thread bind the consumer. */
int	js_ready(struct js *js, struct lt_err *err);

/*
 * Fold a list taken from the inbox in one transaction, record the stream
 * position, commit, then acknowledge.  in_txn (may be NULL) runs inside
 * the transaction first.  When the database fails on one message, the
 * batch is retried one message at a time: a message that keeps failing is
 * negatively acknowledged (redelivered later) until js_max_deliver
 * deliveries, then kept in rejected_events as 'poison' and acknowledged.
 * Messages of lattices not configured are acknowledged without folding.
 * Returns LT_OK, or LT_ESTORE when the database cannot take even a
 * rejection (the caller stops).  Consumes nothing: acked handles are
 * cleared from the list, the caller frees it.
 */
int	js_fold_batch(struct js *js, struct lt_fold *f, struct inbox_msg *head,
	    int (*in_txn)(void *, struct lt_err *), void *arg,
	    struct js_counts *cnt, struct lt_err *err);
/* Record a gap (from js_notices) in latticed_state, own transaction. */
int	js_record_gap(struct js *js, struct lt_fold *f, uint64_t from,
	    uint64_t to, struct lt_err *err);

#endif
