/*
 * queue.c - the bounded FIFO + wake-up every thread hands work over with.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "queue.h"

struct lt_queue {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 more;		/* something to take, or closed */
	pthread_cond_t	 room;		/* room for a message, or closed */
	void		(*wake)(void *);
	void		*wake_arg;
	struct lt_item	*head, **tail;
	size_t		 nitems;	/* items of any kind */
	size_t		 len, max;	/* messages */
	size_t		 bytes, max_bytes; /* lt_item_cost(); 0: no bound */
	size_t		 taken;		/* cost taken, not done */
	struct lt_item	*ovf, **ovftail;
	size_t		 novf;
	uint64_t	 dropped;
	int64_t		 inflight;	/* oldest message taken, not done */
	int		 closed;
	int		 takers;	/* blocked in take */
	int		 pushers;	/* blocked for room */
	size_t		 want;		/* messages a blocked taker waits for */
	size_t		 wake_at;	/* wake() also when len reaches it */
	struct timespec	 last_take;	/* of lt_queue_take_paced() */
};

/* Create a queue. */
int
lt_queue_new(size_t max, void (*wake)(void *), void *wake_arg,
    struct lt_queue **out)
{
	pthread_condattr_t ca;
	struct lt_queue *q;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return LT_ENOMEM;
	if (pthread_mutex_init(&q->mtx, NULL) != 0)
		goto fail_mtx;
	/* paced takes wait on the monotonic clock */
	if (pthread_condattr_init(&ca) != 0)
		goto fail_more;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&q->more, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_more;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_cond_init(&q->room, NULL) != 0)
		goto fail_room;
	q->wake = wake;
	q->wake_arg = wake_arg;
	q->max = max > 0 ? max : 1;
	q->want = 1;
	q->tail = &q->head;
	q->ovftail = &q->ovf;
	*out = q;
	return LT_OK;
fail_room:
	pthread_cond_destroy(&q->more);
fail_more:
	pthread_mutex_destroy(&q->mtx);
fail_mtx:
	free(q);
	return LT_ENOMEM;
}

/* Free a list of items. */
void
lt_item_free(struct lt_item *it)
{
	struct lt_item *next;

	for (; it != NULL; it = next) {
		next = it->next;
		if (it->ack != NULL && it->ack_free != NULL)
			it->ack_free(it->ack);
		if (it->data != NULL && it->drop != NULL)
			it->drop(it->data);
		lt_decoded_free(it->dec);
		if (it->owner != NULL && it->owner_free != NULL)
			it->owner_free(it->owner);
		free(it);
	}
}

/* Run the tasks of a list in order. */
void
lt_item_run_tasks(struct lt_item *it)
{
	for (; it != NULL; it = it->next) {
		if (it->kind != LT_ITEM_TASK || it->run == NULL)
			continue;
		it->run(it->arg, it->data);
		it->run = NULL;
		if (it->data != NULL && it->drop != NULL)
			it->drop(it->data);
		it->data = NULL;
	}
}

/* Free the queue. */
void
lt_queue_free(struct lt_queue *q)
{
	if (q == NULL)
		return;
	lt_item_free(q->head);
	lt_item_free(q->ovf);
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->more);
	pthread_mutex_destroy(&q->mtx);
	free(q);
}

/* Change the bound. */
void
lt_queue_set_max(struct lt_queue *q, size_t max)
{
	pthread_mutex_lock(&q->mtx);
	q->max = max > 0 ? max : 1;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mtx);
}

/* Change the byte bound. */
void
lt_queue_set_max_bytes(struct lt_queue *q, size_t max_bytes)
{
	pthread_mutex_lock(&q->mtx);
	q->max_bytes = max_bytes;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mtx);
}

/* What a message item costs against a byte bound. */
size_t
lt_item_cost(const struct lt_item *it)
{
	size_t c = LT_QUEUE_ITEM_COST + it->msg.len;

	if (it->kind != LT_ITEM_MSG)
		return 0;
	if (it->msg.subject != NULL)
		c += strlen(it->msg.subject) + 1;
	if (it->msg.pattern != NULL)
		c += strlen(it->msg.pattern) + 1;
	/* the decoded event copies the payload's strings out of it */
	if (it->dec != NULL)
		c += it->msg.len;
	return c;
}

/* Whether a message of this cost fits now (lock held), leaving 1/keep of
   each bound free (keep 0: none).  A message always fits an empty queue,
   so that no bound can stop one for good. */
static int
fits(const struct lt_queue *q, size_t cost, size_t keep)
{
	size_t	max = q->max, max_bytes = q->max_bytes;

	if (q->len == 0)
		return 1;
	if (keep > 0) {
		max -= max / keep;
		max_bytes -= max_bytes / keep;
	}
	if (q->len >= max)
		return 0;
	return q->max_bytes == 0 || (q->bytes + q->taken <= max_bytes &&
	    cost <= max_bytes - q->bytes - q->taken);
}

/* Refuse further pushes. */
void
lt_queue_close(struct lt_queue *q)
{
	pthread_mutex_lock(&q->mtx);
	q->closed = 1;
	pthread_cond_broadcast(&q->more);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mtx);
	if (q->wake != NULL)
		q->wake(q->wake_arg);
}

/* Whether the queue is closed. */
int
lt_queue_closed(struct lt_queue *q)
{
	int c;

	pthread_mutex_lock(&q->mtx);
	c = q->closed;
	pthread_mutex_unlock(&q->mtx);
	return c;
}

/* Copy a message (at most cap bytes of data) into one allocation. */
static struct lt_item *
item_copy(const char *subject, const char *pattern, const void *data,
    size_t len, size_t cap, int64_t received_ms)
{
	struct lt_item *it;
	size_t n = len < cap ? len : cap;
	size_t sl = subject != NULL ? strlen(subject) + 1 : 0;
	size_t pl = pattern != NULL ? strlen(pattern) + 1 : 0;
	char *p;

	if ((it = malloc(sizeof(*it) + sl + pl + n + 1)) == NULL)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->kind = LT_ITEM_MSG;
	p = (char *)(it + 1);
	if (subject != NULL) {
		memcpy(p, subject, sl);
		it->msg.subject = p;
		p += sl;
	}
	if (pattern != NULL) {
		memcpy(p, pattern, pl);
		it->msg.pattern = p;
		p += pl;
	}
	if (n > 0)
		memcpy(p, data, n);
	p[n] = '\0';
	it->msg.data = p;
	it->msg.len = n;
	it->msg.received_ms = received_ms;
	it->size = len;
	return it;
}

/*
 * Whether a blocked taker should take now (lock held): a task, as many
 * messages as it wants or a big one, or a queue half full (a paced taker
 * must not let the bound drop messages while it waits).
 */
static int
ready(const struct lt_queue *q)
{
	return q->nitems > q->len || q->len >= q->want || q->closed ||
	    (q->want > 1 && q->bytes >= LT_QUEUE_PACE_BYTES) ||
	    q->len >= q->max / 2 ||
	    (q->max_bytes > 0 && q->bytes >= q->max_bytes / 2);
}

/* Append an item with the lock held; returns whether to wake. */
static int
append(struct lt_queue *q, struct lt_item *it)
{
	int was_empty = q->nitems == 0;

	it->next = NULL;
	*q->tail = it;
	q->tail = &it->next;
	q->nitems++;
	if (it->kind == LT_ITEM_MSG) {
		q->len++;
		it->cost = lt_item_cost(it);
		q->bytes += it->cost;
	}
	if (q->takers > 0 && ready(q))
		pthread_cond_signal(&q->more);
	return was_empty || (it->kind == LT_ITEM_MSG && q->wake_at > 0 &&
	    q->len == q->wake_at);
}

/* Count a dropped message and keep a prefix of the first few. */
static int
drop_msg(struct lt_queue *q, const char *subject, const char *pattern,
    const void *data, size_t len, int64_t received_ms)
{
	struct lt_item *it;
	int wake = q->dropped++ == 0;

	if (q->novf < LT_QUEUE_OVERFLOW_KEEP &&
	    (it = item_copy(subject, pattern, data, len,
	    LT_QUEUE_OVERFLOW_PREFIX, received_ms)) != NULL) {
		*q->ovftail = it;
		q->ovftail = &it->next;
		q->novf++;
	}
	return wake;
}

/* A new message item holding copies of subject, pattern and data. */
struct lt_item *
lt_item_msg_new(const char *subject, const char *pattern, const void *data,
    size_t len, int64_t received_ms)
{
	return item_copy(subject, pattern, data, len, len, received_ms);
}

/* A message item whose data stays where it is, in owner. */
struct lt_item *
lt_item_msg_wrap(const char *subject, const char *pattern, const void *data,
    size_t len, int64_t received_ms, void *owner, void (*owner_free)(void *))
{
	struct lt_item *it;

	if ((it = item_copy(subject, pattern, NULL, 0, 0, received_ms)) ==
	    NULL) {
		if (owner != NULL && owner_free != NULL)
			owner_free(owner);
		return NULL;
	}
	it->msg.data = data;
	it->msg.len = len;
	it->size = len;
	it->owner = owner;
	it->owner_free = owner_free;
	return it;
}

/* Queue a message item. */
int
lt_queue_push(struct lt_queue *q, struct lt_item *it, enum lt_queue_full full)
{
	size_t cost = lt_item_cost(it);
	int rc = LT_ELIMIT, wake = 0;

	pthread_mutex_lock(&q->mtx);
	while (full == LT_QUEUE_BLOCK && !q->closed && !fits(q, cost, 0)) {
		if (q->takers > 0)
			pthread_cond_signal(&q->more);
		q->pushers++;
		pthread_cond_wait(&q->room, &q->mtx);
		q->pushers--;
	}
	if (q->closed)
		goto out;
	if (!fits(q, cost, 0)) {
		/* a paced taker takes what fills the queue */
		if (q->takers > 0)
			pthread_cond_signal(&q->more);
		if (full == LT_QUEUE_DROP)
			wake = drop_msg(q, it->msg.subject, it->msg.pattern,
			    it->msg.data, it->msg.len, it->msg.received_ms);
		goto out;
	}
	wake = append(q, it);
	it = NULL;
	rc = LT_OK;
out:
	pthread_mutex_unlock(&q->mtx);
	lt_item_free(it);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
	return rc;
}

/* Queue a message item if it fits, keeping 1/keep of each bound free
   (keep 0: none); otherwise leave it to the caller. */
int
lt_queue_offer(struct lt_queue *q, struct lt_item *it, size_t keep)
{
	size_t cost = lt_item_cost(it);
	int wake;

	pthread_mutex_lock(&q->mtx);
	if (q->closed || !fits(q, cost, keep)) {
		if (!q->closed && q->takers > 0)
			pthread_cond_signal(&q->more);
		pthread_mutex_unlock(&q->mtx);
		return LT_ELIMIT;
	}
	wake = append(q, it);
	pthread_mutex_unlock(&q->mtx);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
	return LT_OK;
}

/* Count n messages dropped that left nothing to keep. */
void
lt_queue_count_drops(struct lt_queue *q, uint64_t n)
{
	int wake;

	if (n == 0)
		return;
	pthread_mutex_lock(&q->mtx);
	wake = q->dropped == 0;
	q->dropped += n;
	pthread_mutex_unlock(&q->mtx);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
}

/* drop_msg() with the lock taken and the wake-up made. */
static void
drop_msg_wake(struct lt_queue *q, const char *subject, const char *pattern,
    const void *data, size_t len, int64_t received_ms)
{
	int wake;

	pthread_mutex_lock(&q->mtx);
	wake = drop_msg(q, subject, pattern, data, len, received_ms);
	pthread_mutex_unlock(&q->mtx);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
}

/* Count a message item as dropped at the queue, and free it. */
void
lt_queue_drop(struct lt_queue *q, struct lt_item *it)
{
	drop_msg_wake(q, it->msg.subject, it->msg.pattern, it->msg.data,
	    it->msg.len, it->msg.received_ms);
	lt_item_free(it);
}

/* Queue a copy of a message. */
int
lt_queue_push_msg(struct lt_queue *q, const char *subject,
    const char *pattern, const void *data, size_t len, int64_t received_ms,
    void *ack, void (*ack_free)(void *), enum lt_queue_full full)
{
	struct lt_item *it;

	/* copy outside the lock: producers on other threads go on */
	if ((it = item_copy(subject, pattern, data, len, len, received_ms)) ==
	    NULL) {
		if (ack != NULL && ack_free != NULL)
			ack_free(ack);
		if (full == LT_QUEUE_DROP)
			drop_msg_wake(q, subject, pattern, data, len,
			    received_ms);
		return LT_ENOMEM;
	}
	it->ack = ack;
	it->ack_free = ack_free;
	return lt_queue_push(q, it, full);
}

/* Queue a task. */
int
lt_queue_push_task(struct lt_queue *q, void (*run)(void *, void *),
    void *arg, void *data, void (*drop)(void *))
{
	struct lt_item *it;
	int wake;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		if (data != NULL && drop != NULL)
			drop(data);
		return LT_ENOMEM;
	}
	it->kind = LT_ITEM_TASK;
	it->run = run;
	it->arg = arg;
	it->data = data;
	it->drop = drop;
	pthread_mutex_lock(&q->mtx);
	if (q->closed) {
		pthread_mutex_unlock(&q->mtx);
		lt_item_free(it);
		return LT_ELIMIT;
	}
	wake = append(q, it);
	pthread_mutex_unlock(&q->mtx);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
	return LT_OK;
}

/* Queue a list, waiting for room. */
int
lt_queue_push_list(struct lt_queue *q, struct lt_item *head)
{
	struct lt_item *it;
	int wake = 0;

	pthread_mutex_lock(&q->mtx);
	while (head != NULL) {
		while (!q->closed && head->kind == LT_ITEM_MSG &&
		    !fits(q, lt_item_cost(head), 0)) {
			if (wake && q->wake != NULL) {
				wake = 0;
				pthread_mutex_unlock(&q->mtx);
				q->wake(q->wake_arg);
				pthread_mutex_lock(&q->mtx);
				continue;
			}
			q->pushers++;
			pthread_cond_wait(&q->room, &q->mtx);
			q->pushers--;
		}
		if (q->closed)
			break;
		it = head;
		head = head->next;
		wake |= append(q, it);
	}
	pthread_mutex_unlock(&q->mtx);
	if (wake && q->wake != NULL)
		q->wake(q->wake_arg);
	if (head != NULL) {
		lt_item_free(head);
		return LT_ELIMIT;
	}
	return LT_OK;
}

/* Take up to max messages and the tasks among them (lock held). */
static struct lt_item *
take_locked(struct lt_queue *q, size_t max, size_t *n)
{
	struct lt_item *head, **pp;
	size_t k = 0, items = 0, bytes = 0;

	head = q->head;
	for (pp = &q->head; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->kind == LT_ITEM_MSG) {
			if (k == max)
				break;
			k++;
			bytes += (*pp)->cost;
		}
		items++;
	}
	if (pp != &q->head) {
		q->head = *pp;
		*pp = NULL;
	}
	if (q->head == NULL)
		q->tail = &q->head;
	q->len -= k;
	q->bytes -= bytes;
	q->taken += bytes;	/* until lt_queue_done() */
	q->nitems -= items;
	if (k > 0 && q->inflight == 0)
		for (pp = &head; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->kind == LT_ITEM_MSG) {
				q->inflight = (*pp)->msg.received_ms;
				break;
			}
	if (k > 0 && q->pushers > 0)
		pthread_cond_broadcast(&q->room);
	*n = k;
	return items > 0 ? head : NULL;
}

/* Take up to max messages and the tasks among them. */
struct lt_item *
lt_queue_take(struct lt_queue *q, size_t max, int block, size_t *n)
{
	struct lt_item *head;

	pthread_mutex_lock(&q->mtx);
	while (block && q->nitems == 0 && !q->closed) {
		q->takers++;
		pthread_cond_wait(&q->more, &q->mtx);
		q->takers--;
	}
	head = take_locked(q, max, n);
	pthread_mutex_unlock(&q->mtx);
	return head;
}

/* Whether a is at or after b. */
static int
ts_ge(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* Take, waiting for min messages until pace_ms after the last take. */
struct lt_item *
lt_queue_take_paced(struct lt_queue *q, size_t max, size_t min,
    int64_t pace_ms, size_t *n)
{
	struct lt_item *head;
	struct timespec now, dl;

	pthread_mutex_lock(&q->mtx);
	while (q->nitems == 0 && !q->closed) {
		q->takers++;
		pthread_cond_wait(&q->more, &q->mtx);
		q->takers--;
	}
	if (min > 1 && pace_ms > 0) {
		/* the wait's deadline only: which messages go together
		   never changes what is folded */
		dl = q->last_take;
		dl.tv_sec += pace_ms / 1000;
		dl.tv_nsec += (long)(pace_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		q->want = min;
		while (!ready(q) && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
		    !ts_ge(&now, &dl)) {
			q->takers++;
			(void)pthread_cond_timedwait(&q->more, &q->mtx, &dl);
			q->takers--;
		}
		q->want = 1;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &q->last_take);
	head = take_locked(q, max, n);
	pthread_mutex_unlock(&q->mtx);
	return head;
}

/* Also wake when a push makes the queue hold n messages (0: never). */
void
lt_queue_set_wake_at(struct lt_queue *q, size_t n)
{
	pthread_mutex_lock(&q->mtx);
	q->wake_at = n;
	pthread_mutex_unlock(&q->mtx);
}

/* Take the overflow records. */
struct lt_item *
lt_queue_take_overflow(struct lt_queue *q, uint64_t *dropped)
{
	struct lt_item *it;

	pthread_mutex_lock(&q->mtx);
	it = q->ovf;
	q->ovf = NULL;
	q->ovftail = &q->ovf;
	q->novf = 0;
	*dropped = q->dropped;
	q->dropped = 0;
	pthread_mutex_unlock(&q->mtx);
	return it;
}

/* Bytes queued. */
size_t
lt_queue_bytes(struct lt_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->mtx);
	n = q->bytes + q->taken;
	pthread_mutex_unlock(&q->mtx);
	return n;
}

/* Queue length and oldest receive time. */
size_t
lt_queue_len(struct lt_queue *q, int64_t *oldest_ms)
{
	struct lt_item *it;
	size_t n;

	pthread_mutex_lock(&q->mtx);
	n = q->len;
	if (oldest_ms != NULL) {
		*oldest_ms = q->inflight;
		for (it = q->head; *oldest_ms == 0 && it != NULL;
		    it = it->next)
			if (it->kind == LT_ITEM_MSG) {
				*oldest_ms = it->msg.received_ms;
				break;
			}
	}
	pthread_mutex_unlock(&q->mtx);
	return n;
}

/* The messages taken last are handed on. */
void
lt_queue_done(struct lt_queue *q)
{
	pthread_mutex_lock(&q->mtx);
	q->inflight = 0;
	if (q->taken > 0 && q->pushers > 0)
		pthread_cond_broadcast(&q->room);
	q->taken = 0;
	pthread_mutex_unlock(&q->mtx);
}
