/*
 * pipeline.h - the one ingest pipeline: decode -> fold -> commit ->
 * after-commit steps, whatever feeds it (core NATS, JetStream, --replay,
 * the bench rig).
 *
 *   producers --lt_queue--> decode stage (its own thread) --lt_queue--> fold
 *
 * The decode stage (lt_decoder) takes messages from its input queue in
 * arrival order, runs lt_fold_decode() on each (strict scan, cJSON, the
 * CloudEvent decoder) and passes them, tasks included, in the same order
 * to its output queue, which the fold's thread takes from.  So decoding
 * uses a second core while the fold writes.  The stage also decodes ahead
 * a heartbeat's inventory when it guesses the fold will diff it
 * (lt_fold_decode_ahead(), with a per-host cache of the last inventory
 * hash it saw, invcache.h, that the stage owns): the fold's thread is the
 * daemon's bottleneck, and a wrong guess only moves work back to it.  When the output is full the
 * stage waits, so the input fills and its producers' full-policy applies
 * (queue.h): memory stays bounded by the two queues' max.
 *
 * lt_pipeline_batch() folds one list taken from the output queue in one
 * transaction: hooks->begin, each message (decoded here if the stage did
 * not), hooks->end, commit, then hooks->committed.  A message whose fold
 * fails the database without the database being at fault (a constraint, a
 * too-big value) does not sink its batch: the batch is folded again one
 * message at a time and the failing one is handed to hooks->failed, which
 * says whether to keep it for a later delivery (JetStream) or record it as
 * poison in rejected_events.  When the database itself fails (full,
 * read-only, locked, I/O), nothing is committed, LT_ESTORE is returned
 * with err->db_failed set and the list is left whole for a retry.
 */
#ifndef LT_PIPELINE_H
#define LT_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fold.h"
#include "queue.h"

/* What to do with a message that failed alone (hooks->failed). */
enum lt_verdict {
	LT_V_POISON,		/* keep in rejected_events, acknowledge */
	LT_V_RETRY,		/* leave unacknowledged: redelivered later */
};

/*
 * The JetStream redelivery policy: a message that failed its
 * delivered-th delivery is retried until max_deliver deliveries, then
 * poison.  delivered 0 (unknown, core NATS) is poison at once, since
 * nothing would deliver it again.
 */
enum lt_verdict lt_redelivery_verdict(uint64_t delivered, int max_deliver);

struct lt_pipeline_hooks {
	void	*arg;
	/* In the transaction before the first message (may be NULL). */
	int	(*begin)(void *arg, struct lt_err *err);
	/* Whether to fold a message; 0: skip it (still acknowledged with
	   the batch).  May be NULL: fold all. */
	int	(*wanted)(void *arg, const struct lt_item *it);
	/* After the commit, for each message folded (or rejected). */
	void	(*folded)(void *arg, const struct lt_item *it,
		    enum lt_outcome out, const struct lt_fold_info *info,
		    const struct lt_err *why);
	/* In the transaction after the last message; last is the list's
	   greatest stream sequence (0: none). */
	int	(*end)(void *arg, uint64_t last_seq, struct lt_err *err);
	/* After commit, per message kept or committed: acknowledge
	   (JetStream).  May be NULL. */
	void	(*ack)(void *arg, struct lt_item *it);
	/* A message whose fold failed alone (not the database's fault);
	   NULL: poison. */
	enum lt_verdict (*failed)(void *arg, struct lt_item *it,
		    const struct lt_err *why);
	/* After commit (may be NULL): the batch's counts. */
	void	(*committed)(void *arg, size_t nmsgs);
};

/*
 * Fold the messages of head in one transaction (tasks in the list are
 * ignored: run them with lt_item_run_tasks()).  lim decodes messages the
 * decode stage has not.  Returns LT_OK when committed, else LT_ESTORE (or
 * LT_ENOMEM) with the transaction rolled back; err->db_failed says the
 * database itself failed and the list can be folded again later.
 */
int	lt_pipeline_batch(struct lt_fold *f, const struct lt_limits *lim,
	    const struct lt_pipeline_hooks *h, struct lt_item *head,
	    struct lt_err *err);

struct lt_decoder;

/* Start the decode stage between in and out (both borrowed, must outlive
   lt_decoder_stop()). */
int	lt_decoder_start(struct lt_queue *in, struct lt_queue *out,
	    const struct lt_limits *lim, struct lt_decoder **dec);
/* Replace the limits (SIGHUP); messages decoded from now on use them. */
void	lt_decoder_set_limits(struct lt_decoder *dec,
	    const struct lt_limits *lim);
/* Take from the input as lt_queue_take_paced() does: at a trickle, once
   per pace_ms unless min messages wait (0, the default: every message at
   once).  Fewer wake-ups; a message waits at most pace_ms longer. */
void	lt_decoder_set_pace(struct lt_decoder *dec, size_t min,
	    int64_t pace_ms);
/* Messages decoded so far. */
uint64_t lt_decoder_count(struct lt_decoder *dec);
/* Wait until the input is closed and drained, then free.  NULL is fine. */
void	lt_decoder_stop(struct lt_decoder *dec);

#endif
