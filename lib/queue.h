/*
 * queue.h - the one hand-off between threads: a bounded FIFO of items and
 * a wake-up.
 *
 * Every thread that feeds another hands over through an lt_queue: nats.c's
 * callbacks and the JetStream thread feed the decode stage (pipeline.h),
 * the decode stage feeds the loop, and every notice (connection state,
 * JetStream, resync replies, checkpoint results) reaches the loop as a
 * task item in the same FIFO.  Producers push from any thread; one
 * consumer takes.  A push that makes the queue non-empty calls wake(arg)
 * (the daemon's loop: event_active), and a consumer may also block in
 * lt_queue_take() until there is something to take.
 *
 * Bounds: at most max message items and, when a byte bound is set, at
 * most max_bytes of their cost (lt_item_cost(): payload, subject and a
 * fixed overhead per item, the payload twice once decoded), counting what
 * the consumer took and has not handed on yet (lt_queue_done()); a
 * message always fits an empty queue, however big.  What happens to a message
 * that does not fit is the producer's choice (enum lt_queue_full): DROP
 * copies it away (counted; the first LT_QUEUE_OVERFLOW_KEEP since the
 * last lt_queue_take_overflow() keep a prefix, for rejected_events),
 * REFUSE returns LT_ELIMIT and frees its acknowledgement handle
 * (JetStream redelivers it), BLOCK waits for room (replay, the decode
 * stage).  Task items count against neither bound: each producer bounds
 * its own (one pending notice per kind, resync replies by the requests
 * outstanding).
 *
 * Ownership: an item and everything it points to belong to the queue until
 * taken, then to the taker, who frees the list with lt_item_free().
 */
#ifndef LT_QUEUE_H
#define LT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

#define LT_QUEUE_OVERFLOW_KEEP	64	/* dropped messages kept between two
					   lt_queue_take_overflow() */
#define LT_QUEUE_OVERFLOW_PREFIX 256	/* bytes of each kept */
#define LT_QUEUE_PACE_BYTES (1024 * 1024) /* queued cost that ends a paced
					   wait: a big message is worth a
					   wake-up of its own */
#define LT_QUEUE_ITEM_COST 256	/* bytes a message item costs beyond
					   its payload and subject: the item,
					   nats.c's message, allocator slack */

enum lt_item_kind {
	LT_ITEM_MSG,		/* a message to fold */
	LT_ITEM_TASK,		/* a function to run on the consumer's thread */
};

struct lt_item {
	struct lt_item	*next;
	enum lt_item_kind kind;

	/* LT_ITEM_MSG: msg.subject, msg.pattern and msg.data point into
	   this item's own allocation. */
	struct lt_msg	 msg;
	size_t		 size;		/* size of the message as received */
	size_t		 cost;		/* lt_item_cost(), queued */
	void		*ack;		/* JetStream handle, NULL: none */
	void		(*ack_free)(void *); /* frees ack if still set */
	struct lt_decoded *dec;		/* set by the decode stage */
	void		*owner;		/* holds msg.data when not copied */
	void		(*owner_free)(void *);
	uint64_t	 seq;		/* stream sequence, 0: none */
	uint64_t	 delivered;	/* delivery count, 0: unknown */

	/* LT_ITEM_TASK: run(arg, data) on the consumer's thread; data is
	   freed with drop(data) afterwards, or when the item is freed
	   without running. */
	void		(*run)(void *arg, void *data);
	void		(*drop)(void *data);
	void		*arg;
	void		*data;
};

enum lt_queue_full {
	LT_QUEUE_DROP,
	LT_QUEUE_REFUSE,
	LT_QUEUE_BLOCK,
};

struct lt_queue;

/* New queue of at most max messages; wake(wake_arg) (may be NULL) runs
   when a push makes it non-empty, and at the first drop after an
   lt_queue_take_overflow(). */
int	lt_queue_new(size_t max, void (*wake)(void *), void *wake_arg,
	    struct lt_queue **out);
/* Free it and every item in it.  NULL is fine. */
void	lt_queue_free(struct lt_queue *q);
void	lt_queue_set_max(struct lt_queue *q, size_t max);
/* Bound the cost of the messages queued too (0, the default: no byte
   bound). */
void	lt_queue_set_max_bytes(struct lt_queue *q, size_t max_bytes);
/* What a message item costs against the byte bound: its payload, subject
   and pattern, LT_QUEUE_ITEM_COST, and the payload again once decoded
   (the decoded event copies its strings).  0 for a task. */
size_t	lt_item_cost(const struct lt_item *it);
/* Refuse further pushes and wake every waiter; taking goes on until the
   queue is empty. */
void	lt_queue_close(struct lt_queue *q);
int	lt_queue_closed(struct lt_queue *q);

/*
 * Copy a message into a new item and queue it.  pattern (may be NULL) is
 * the subscription it arrived on.  ack travels with it (ack_free frees it
 * when the item is freed unacknowledged); the queue takes ack even when
 * the push fails.  Returns LT_OK, LT_ELIMIT (dropped or refused: full or
 * closed) or LT_ENOMEM (dropped and counted).
 */
int	lt_queue_push_msg(struct lt_queue *q, const char *subject,
	    const char *pattern, const void *data, size_t len,
	    int64_t received_ms, void *ack, void (*ack_free)(void *),
	    enum lt_queue_full full);
/* A new message item holding copies of subject, pattern (may be NULL)
   and data; NULL when out of memory. */
struct lt_item *lt_item_msg_new(const char *subject, const char *pattern,
	    const void *data, size_t len, int64_t received_ms);
/* lt_item_msg_new() without copying data: it stays in owner, freed with
   owner_free(owner) when the item is (also when this fails: NULL). */
struct lt_item *lt_item_msg_wrap(const char *subject, const char *pattern,
	    const void *data, size_t len, int64_t received_ms, void *owner,
	    void (*owner_free)(void *));
/* Queue a message item made by lt_item_msg_new() (consumed, whatever the
   outcome: a refused item is freed, its ack with it).  LT_OK or
   LT_ELIMIT. */
int	lt_queue_push(struct lt_queue *q, struct lt_item *it,
	    enum lt_queue_full full);
/* Queue a message item if it fits now, leaving 1/keep of each bound free
   for other producers (keep 0: all of it; an empty queue takes any one
   message) (LT_OK: consumed); LT_ELIMIT when full or closed: the item
   stays the caller's (the inbox spool). */
int	lt_queue_offer(struct lt_queue *q, struct lt_item *it, size_t keep);
/* Count n messages as dropped for want of room when nothing of them is
   left to keep (a failed allocation, a damaged spool). */
void	lt_queue_count_drops(struct lt_queue *q, uint64_t n);
/* Count a message item as dropped for want of room, as DROP does (kept
   for rejected_events within LT_QUEUE_OVERFLOW_KEEP), and free it. */
void	lt_queue_drop(struct lt_queue *q, struct lt_item *it);
/* Queue a task: run(arg, data) on the consumer's thread.  LT_ELIMIT when
   closed (then drop(data) has run), LT_ENOMEM likewise. */
int	lt_queue_push_task(struct lt_queue *q, void (*run)(void *, void *),
	    void *arg, void *data, void (*drop)(void *));
/* Queue a list of items taken from another queue (the decode stage),
   waiting for room when full.  Consumes the list; LT_ELIMIT when closed
   (then the list is freed). */
int	lt_queue_push_list(struct lt_queue *q, struct lt_item *head);

/*
 * Take up to max messages, oldest first, and every task queued before the
 * last of them, as one list.  block: wait until there is something or the
 * queue is closed.  *n counts the messages; NULL when nothing was queued.
 */
struct lt_item *lt_queue_take(struct lt_queue *q, size_t max, int block,
	    size_t *n);
/*
 * lt_queue_take(q, max, 1, n) that, at a trickle, takes less often: once
 * something is queued it waits, without a wake-up per push, until min
 * messages are (or LT_QUEUE_PACE_BYTES of their cost, or a task, or the
 * queue is half full by either bound, or closed), but never past pace_ms
 * after its previous take.  So a message
 * that finds the taker idle is taken at once, and a steady trickle costs
 * one wake-up per pace_ms instead of one per message.  The deadline is the
 * only clock lib/ reads (CLOCK_MONOTONIC): it decides when, never what.
 * min <= 1 or pace_ms <= 0: lt_queue_take() blocking.
 */
struct lt_item *lt_queue_take_paced(struct lt_queue *q, size_t max,
	    size_t min, int64_t pace_ms, size_t *n);
/* Call wake() also when a push makes the queue hold n messages, so a
   consumer that waits for a fuller batch hears of it (0: only when a push
   makes it non-empty). */
void	lt_queue_set_wake_at(struct lt_queue *q, size_t n);
/* Take the kept overflow records and the number of messages dropped since
   the last call. */
struct lt_item *lt_queue_take_overflow(struct lt_queue *q,
	    uint64_t *dropped);
/* The consumer has handed on (folded, or passed to the next queue) what
   it took: until then lt_queue_len() still counts the oldest of it, and
   the byte bound and lt_queue_bytes() its cost. */
void	lt_queue_done(struct lt_queue *q);
/* Messages queued and the receive time of the oldest queued or taken and
   not yet done (0: none). */
size_t	lt_queue_len(struct lt_queue *q, int64_t *oldest_ms);
/* The cost (lt_item_cost()) of the messages queued, and of those taken
   and not done yet. */
size_t	lt_queue_bytes(struct lt_queue *q);

/* Free a list of items (tasks not run: drop(data)).  NULL is fine. */
void	lt_item_free(struct lt_item *head);
/* Run the task items of a list in order (messages are left alone). */
void	lt_item_run_tasks(struct lt_item *head);

#endif
