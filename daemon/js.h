/*
 * js.h - JetStream ingest: a durable pull consumer feeding the pipeline.
 *
 * A dedicated thread (never the loop thread: every JetStream API call and
 * every Fetch blocks) finds or creates the stream (docs/jetstream.md),
 * binds the durable consumer and fetches while the pipeline has room.
 * Each message travels through the decode stage with its natsMsg handle;
 * the loop folds a batch (pipeline.h, with the hooks below), records the
 * stream position in latticed_state in the same transaction, commits, and
 * only then acknowledges.  The thread also watches the stream's first sequence: when
 * messages expired before latticed fetched them it posts a gap, which the
 * loop logs, counts and answers with a resync.
 */
#ifndef JS_H
#define JS_H

#include <stdint.h>

#include <nats/nats.h>

#include "err.h"
#include "pipeline.h"

struct config;
struct lt_fold;
struct lt_item;
struct lt_queue;
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


/*
 * Start the thread on conn (borrowed; must outlive js_close()).  Fetched
 * messages go to in (the decode stage) and notices reach the loop as a
 * task on loop that calls on_notice(notice_arg), which takes them with
 * js_notices().  Reads the committed position from o.  The config's
 * JetStream keys are copied.
 */
int	js_open(natsConnection *conn, const struct config *cf,
	    struct lt_queue *in, struct lt_queue *loop,
	    void (*on_notice)(void *), void *notice_arg, struct lt_observe *o,
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
 * The pipeline's JetStream hooks (pipeline.h), loop thread only.
 * js_wanted: messages of lattices not configured are acknowledged without
 * folding.  js_save_position: in the batch's transaction, the stream
 * position (and a poison count).  js_ack: after commit.  js_failed: the
 * redelivery policy (lt_redelivery_verdict) for a message that failed
 * alone: nak it for a later delivery, or let it be kept as poison.
 */
int	js_wanted(struct js *js, const struct lt_item *it);
int	js_save_position(struct js *js, uint64_t last_seq, struct lt_err *err);
void	js_ack(struct js *js, struct lt_item *it);
enum lt_verdict js_failed(struct js *js, struct lt_item *it,
	    const struct lt_err *why);
/* Record a gap (from js_notices) in latticed_state, own transaction. */
int	js_record_gap(struct js *js, struct lt_fold *f, uint64_t from,
	    uint64_t to, struct lt_err *err);

#endif
