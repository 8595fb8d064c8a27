/*
 * check_queue.c - the one hand-off type (lib/queue.c): order, bounds and
 * full-policies, overflow records, ownership of acks and task data,
 * in-flight age and the wake-up rule, one thread at a time except where a
 * push or a take must wait.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "queue.h"

#define SUBJ	"wasmbus.evt.prod.host_heartbeat"
#define PAT	"wasmbus.evt.*.>"

/* What the callbacks saw. */
struct counts {
	int	wakes;
	int	acks;		/* ack_free calls */
	int	drops;		/* drop(data) calls */
	int	runs;
	char	order[64];	/* tasks run, in order */
	size_t	norder;
};

static struct counts c;

/* An acknowledgement handle: ack_free must see each exactly once. */
struct ack {
	int	freed;
};

/* The queue's wake-up. */
static void
on_wake(void *arg)
{
	ck_assert_ptr_eq(arg, &c);
	c.wakes++;
}

/* Free an acknowledgement handle. */
static void
ack_free(void *p)
{
	struct ack *a = p;

	a->freed++;
	c.acks++;
}

/* Free task data (a heap char naming the task). */
static void
drop(void *data)
{
	c.drops++;
	free(data);
}

/* Run a task: note its name. */
static void
run(void *arg, void *data)
{
	ck_assert_ptr_eq(arg, &c);
	c.runs++;
	if (c.norder < sizeof(c.order) - 1)
		c.order[c.norder++] = data != NULL ? *(char *)data : '-';
}

/* Heap data for a task named ch. */
static void *
tdata(char ch)
{
	char *p = malloc(1);

	ck_assert_ptr_nonnull(p);
	*p = ch;
	return p;
}

/* A new queue of at most max messages waking on_wake. */
static struct lt_queue *
qnew(size_t max)
{
	struct lt_queue *q;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(lt_queue_new(max, on_wake, &c, &q), LT_OK);
	ck_assert_ptr_nonnull(q);
	return q;
}

/* Push message "<n>" received at n (DROP unless told). */
static int
pushn(struct lt_queue *q, int n, enum lt_queue_full full)
{
	char b[32];

	snprintf(b, sizeof(b), "%d", n);
	return lt_queue_push_msg(q, SUBJ, PAT, b, strlen(b), n, NULL, NULL,
	    full);
}

/* Describe a list: "m1 t2 ..." (messages by data, tasks by name). */
static const char *
desc(const struct lt_item *it)
{
	static char out[512];
	size_t o = 0;

	out[0] = '\0';
	for (; it != NULL && o < sizeof(out) - 40; it = it->next) {
		if (it->kind == LT_ITEM_MSG)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%sm%s",
			    o ? " " : "", (const char *)it->msg.data);
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%st%c",
			    o ? " " : "", it->data != NULL ?
			    *(char *)it->data : '?');
	}
	return out;
}

/* Milliseconds of a monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until *flag is set, at most 3 s; return whether it was. */
static int
wait_flag(atomic_int *flag)
{
	int64_t end = mono_ms() + 3000;

	while (!atomic_load(flag) && mono_ms() < end)
		sched_yield();
	return atomic_load(flag);
}

/* Watch *flag for 200 ms; return whether it stayed clear. */
static int
stays_clear(atomic_int *flag)
{
	int64_t end = mono_ms() + 200;

	while (!atomic_load(flag) && mono_ms() < end)
		sched_yield();
	return !atomic_load(flag);
}

/* --- valid ---------------------------------------------------------- */

START_TEST(test_fifo)
{
	struct lt_queue *q = qnew(100);
	struct lt_item *head, *it;
	size_t n;
	int i;

	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(pushn(q, i, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(lt_queue_len(q, NULL), 5);
	head = lt_queue_take(q, 100, 0, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(desc(head), "m1 m2 m3 m4 m5");
	for (i = 1, it = head; it != NULL; it = it->next, i++) {
		ck_assert_int_eq(it->kind, LT_ITEM_MSG);
		ck_assert_str_eq(it->msg.subject, SUBJ);
		ck_assert_str_eq(it->msg.pattern, PAT);
		ck_assert_int_eq(it->msg.received_ms, i);
		ck_assert_uint_eq(it->msg.len, 1);
		ck_assert_uint_eq(it->size, 1);
		ck_assert_int_eq(((const char *)it->msg.data)[1], '\0');
		ck_assert_ptr_null(it->dec);
		ck_assert_ptr_null(it->ack);
	}
	ck_assert_int_eq(lt_queue_len(q, NULL), 0);
	lt_item_free(head);
	/* the items are copies: the caller's buffers may go */
	ck_assert_ptr_null(lt_queue_take(q, 100, 0, &n));
	ck_assert_uint_eq(n, 0);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_take_max_carries_tasks)
{
	struct lt_queue *q = qnew(100);
	struct lt_item *head;
	size_t n;

	ck_assert_int_eq(lt_queue_push_task(q, run, &c, tdata('a'), drop),
	    LT_OK);
	pushn(q, 1, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('b'), drop);
	pushn(q, 2, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('c'), drop);
	pushn(q, 3, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('d'), drop);
	pushn(q, 4, LT_QUEUE_DROP);
	/* tasks do not count as messages */
	ck_assert_int_eq(lt_queue_len(q, NULL), 4);
	head = lt_queue_take(q, 2, 0, &n);
	ck_assert_uint_eq(n, 2);
	/* up to the 2nd message, and the task right after it, which was
	   queued before the next message */
	ck_assert_str_eq(desc(head), "ta m1 tb m2 tc");
	lt_item_run_tasks(head);
	ck_assert_str_eq(c.order, "abc");
	lt_item_free(head);
	ck_assert_int_eq(c.drops, 3);
	ck_assert_int_eq(lt_queue_len(q, NULL), 2);
	head = lt_queue_take(q, 2, 0, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(desc(head), "m3 td m4");
	lt_item_free(head);
	/* freed unrun: dropped, never run */
	ck_assert_int_eq(c.runs, 3);
	ck_assert_int_eq(c.drops, 4);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_tasks_ignore_max)
{
	struct lt_queue *q = qnew(1);
	struct lt_item *head;
	size_t n;
	int i;

	ck_assert_int_eq(pushn(q, 1, LT_QUEUE_REFUSE), LT_OK);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(lt_queue_push_task(q, run, &c,
		    tdata((char)('0' + i)), drop), LT_OK);
	ck_assert_int_eq(pushn(q, 2, LT_QUEUE_REFUSE), LT_ELIMIT);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(desc(head), "m1 t0 t1 t2 t3 t4 t5 t6 t7 t8 t9");
	lt_item_run_tasks(head);
	ck_assert_str_eq(c.order, "0123456789");
	lt_item_free(head);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_run_tasks_once)
{
	struct lt_queue *q = qnew(10);
	struct lt_item *head;
	size_t n;

	lt_queue_push_task(q, run, &c, tdata('x'), drop);
	pushn(q, 1, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('y'), drop);
	/* a task without data */
	lt_queue_push_task(q, run, &c, NULL, NULL);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 1);
	lt_item_run_tasks(head);
	ck_assert_str_eq(c.order, "xy-");
	ck_assert_int_eq(c.runs, 3);
	ck_assert_int_eq(c.drops, 2);
	/* running again runs nothing, freeing drops nothing twice */
	lt_item_run_tasks(head);
	ck_assert_int_eq(c.runs, 3);
	ck_assert_int_eq(head->next->kind, LT_ITEM_MSG);
	lt_item_free(head);
	ck_assert_int_eq(c.drops, 2);
	ck_assert_int_eq(c.acks, 0);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_item_push_and_list)
{
	struct lt_queue *q = qnew(10), *q2;
	struct lt_item *it, *head;
	struct ack a = { 0 };
	int wakes;
	size_t n;

	it = lt_item_msg_new(NULL, NULL, "", 0, 7);
	ck_assert_ptr_nonnull(it);
	ck_assert_ptr_null(it->msg.subject);
	ck_assert_ptr_null(it->msg.pattern);
	ck_assert_uint_eq(it->msg.len, 0);
	ck_assert_str_eq(it->msg.data, "");
	it->ack = &a;
	it->ack_free = ack_free;
	ck_assert_int_eq(lt_queue_push(q, it, LT_QUEUE_DROP), LT_OK);
	lt_queue_push_task(q, run, &c, tdata('k'), drop);
	pushn(q, 2, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 1);

	/* hand the lot on to a second queue, as the decode stage does */
	wakes = c.wakes;
	ck_assert_int_eq(lt_queue_new(10, on_wake, &c, &q2), LT_OK);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(lt_queue_push_list(q2, head), LT_OK);
	ck_assert_int_eq(c.wakes, wakes + 1);	/* one wake for the list */
	lt_queue_done(q);
	ck_assert_int_eq(lt_queue_len(q2, NULL), 2);
	head = lt_queue_take(q2, 10, 0, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(desc(head), "m tk m2");
	ck_assert_int_eq(head->msg.received_ms, 7);
	ck_assert_ptr_eq(head->ack, &a);
	ck_assert_int_eq(a.freed, 0);
	lt_item_free(head);
	/* still unacknowledged when freed: ack_free */
	ck_assert_int_eq(a.freed, 1);
	lt_queue_free(q2);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_wake_rule)
{
	struct lt_queue *q = qnew(2);
	struct lt_item *head, *l;
	uint64_t dropped;
	size_t n;

	ck_assert_int_eq(c.wakes, 0);
	pushn(q, 1, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 1);		/* empty -> non-empty */
	pushn(q, 2, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	ck_assert_int_eq(c.wakes, 1);		/* already non-empty */
	lt_item_free(lt_queue_take(q, 1, 0, &n));
	pushn(q, 3, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 1);		/* m2 still queued */
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	ck_assert_int_eq(lt_queue_len(q, NULL), 0);
	ck_assert_int_eq(c.wakes, 1);		/* taking wakes nobody */
	lt_queue_push_task(q, run, &c, tdata('b'), drop);
	ck_assert_int_eq(c.wakes, 2);		/* a task counts as well */
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	ck_assert_uint_eq(n, 0);

	/* drops: the first since the overflow was taken wakes */
	pushn(q, 4, LT_QUEUE_DROP);
	pushn(q, 5, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 3);
	ck_assert_int_eq(pushn(q, 6, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_int_eq(c.wakes, 4);
	ck_assert_int_eq(pushn(q, 7, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_int_eq(c.wakes, 4);
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 2);
	ck_assert_int_eq(pushn(q, 8, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_int_eq(c.wakes, 5);
	/* refusing never wakes */
	ck_assert_int_eq(pushn(q, 9, LT_QUEUE_REFUSE), LT_ELIMIT);
	ck_assert_int_eq(c.wakes, 5);

	/* a list into an empty queue: one wake */
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(lt_queue_push_list(q, head), LT_OK);
	ck_assert_int_eq(c.wakes, 6);
	l = lt_queue_take(q, 1, 0, &n);
	ck_assert_int_eq(lt_queue_push_list(q, l), LT_OK);
	ck_assert_int_eq(c.wakes, 6);		/* onto m5: not empty */
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	lt_queue_free(q);
}
END_TEST

START_TEST(test_len_oldest)
{
	struct lt_queue *q = qnew(10);
	struct lt_item *a, *b;
	int64_t oldest = -1;
	size_t n;

	ck_assert_uint_eq(lt_queue_len(q, &oldest), 0);
	ck_assert_int_eq(oldest, 0);
	lt_queue_push_task(q, run, &c, NULL, NULL);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 0);
	ck_assert_int_eq(oldest, 0);	/* tasks have no age */
	pushn(q, 100, LT_QUEUE_DROP);
	pushn(q, 200, LT_QUEUE_DROP);
	pushn(q, 300, LT_QUEUE_DROP);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 3);
	ck_assert_int_eq(oldest, 100);
	a = lt_queue_take(q, 1, 0, &n);
	ck_assert_uint_eq(n, 1);
	/* the batch taken is in flight: still the oldest */
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 2);
	ck_assert_int_eq(oldest, 100);
	/* a second take before done: the first is still the oldest */
	b = lt_queue_take(q, 1, 0, &n);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 1);
	ck_assert_int_eq(oldest, 100);
	lt_queue_done(q);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 1);
	ck_assert_int_eq(oldest, 300);
	lt_item_free(a);
	lt_item_free(b);
	a = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 0);
	ck_assert_int_eq(oldest, 300);
	lt_queue_done(q);
	ck_assert_uint_eq(lt_queue_len(q, &oldest), 0);
	ck_assert_int_eq(oldest, 0);
	/* a take of tasks only puts nothing in flight */
	lt_queue_push_task(q, run, &c, NULL, NULL);
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	ck_assert_int_eq(n, 0);
	lt_queue_len(q, &oldest);
	ck_assert_int_eq(oldest, 0);
	lt_item_free(a);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_set_max)
{
	struct lt_queue *q = qnew(2);
	uint64_t dropped;
	size_t n;

	ck_assert_int_eq(pushn(q, 1, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 2, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 3, LT_QUEUE_DROP), LT_ELIMIT);
	lt_queue_set_max(q, 3);
	ck_assert_int_eq(pushn(q, 4, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 5, LT_QUEUE_DROP), LT_ELIMIT);
	/* shrinking keeps what is queued and refuses more */
	lt_queue_set_max(q, 1);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 3);
	lt_item_free(lt_queue_take(q, 2, 0, &n));
	ck_assert_int_eq(pushn(q, 6, LT_QUEUE_DROP), LT_ELIMIT);
	lt_item_free(lt_queue_take(q, 2, 0, &n));
	ck_assert_int_eq(pushn(q, 7, LT_QUEUE_DROP), LT_OK);
	/* 0 means 1, not "nothing fits" */
	lt_queue_set_max(q, 0);
	lt_item_free(lt_queue_take(q, 2, 0, &n));
	ck_assert_int_eq(pushn(q, 8, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 9, LT_QUEUE_DROP), LT_ELIMIT);
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 4);
	lt_queue_free(q);
}
END_TEST

/* A producer thread pushing one message with BLOCK. */
struct blocker {
	struct lt_queue	*q;
	struct ack	 a;
	int		 rc;
	atomic_int	 done;
};

/* Push message 99 with LT_QUEUE_BLOCK and say so. */
static void *
block_push(void *arg)
{
	struct blocker *b = arg;

	b->rc = lt_queue_push_msg(b->q, SUBJ, NULL, "99", 2, 99, &b->a,
	    ack_free, LT_QUEUE_BLOCK);
	atomic_store(&b->done, 1);
	return NULL;
}

START_TEST(test_block_waits_for_room)
{
	struct lt_queue *q = qnew(1);
	struct blocker b = { 0 };
	struct lt_item *head;
	pthread_t th;
	size_t n;

	pushn(q, 1, LT_QUEUE_DROP);
	b.q = q;
	ck_assert_int_eq(pthread_create(&th, NULL, block_push, &b), 0);
	ck_assert_msg(stays_clear(&b.done), "BLOCK push into a full queue "
	    "returned (%d)", b.rc);
	head = lt_queue_take(q, 1, 0, &n);
	ck_assert_msg(wait_flag(&b.done), "a take did not release BLOCK");
	pthread_join(th, NULL);
	ck_assert_int_eq(b.rc, LT_OK);
	lt_item_free(head);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_str_eq(desc(head), "m99");
	lt_item_free(head);
	ck_assert_int_eq(b.a.freed, 1);

	/* a larger bound releases it too */
	memset(&b, 0, sizeof(b));
	b.q = q;
	pushn(q, 2, LT_QUEUE_DROP);
	ck_assert_int_eq(pthread_create(&th, NULL, block_push, &b), 0);
	ck_assert(stays_clear(&b.done));
	lt_queue_set_max(q, 2);
	ck_assert_msg(wait_flag(&b.done), "set_max did not release BLOCK");
	pthread_join(th, NULL);
	ck_assert_int_eq(b.rc, LT_OK);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 2);
	lt_queue_free(q);
	ck_assert_int_eq(b.a.freed, 1);
}
END_TEST

/* A list pushed from a thread (the decode stage). */
struct lister {
	struct lt_queue	*q;
	struct lt_item	*head;
	int		 rc;
	atomic_int	 wakes;
	atomic_int	 done;
};

/* The wake-up of a queue a libevent loop takes from (never blocks). */
static void
on_wake_atomic(void *arg)
{
	struct lister *l = arg;

	atomic_fetch_add(&l->wakes, 1);
}

/* Push l->head with lt_queue_push_list() and say so. */
static void *
list_push(void *arg)
{
	struct lister *l = arg;

	l->rc = lt_queue_push_list(l->q, l->head);
	atomic_store(&l->done, 1);
	return NULL;
}

START_TEST(test_push_list_wakes_before_waiting)
{
	struct lister l = { 0 };
	struct lt_item *head, *got = NULL, **tail = &got;
	pthread_t th;
	int64_t end;
	size_t n, total = 0;

	/* a consumer that only takes when woken (the daemon's loop) and a
	   list longer than the room: the pusher must wake it before it
	   waits for room, or both wait for good */
	ck_assert_int_eq(lt_queue_new(2, on_wake_atomic, &l, &l.q), LT_OK);
	l.head = lt_item_msg_new(SUBJ, NULL, "1", 1, 1);
	l.head->next = lt_item_msg_new(SUBJ, NULL, "2", 1, 2);
	l.head->next->next = lt_item_msg_new(SUBJ, NULL, "3", 1, 3);
	ck_assert_int_eq(pthread_create(&th, NULL, list_push, &l), 0);
	end = mono_ms() + 3000;
	while (!atomic_load(&l.done) && mono_ms() < end) {
		if (atomic_load(&l.wakes) == 0) {
			sched_yield();
			continue;
		}
		/* woken: take what there is, as on_wake does */
		atomic_store(&l.wakes, 0);
		if ((head = lt_queue_take(l.q, 10, 0, &n)) != NULL) {
			total += n;
			*tail = head;
			while (*tail != NULL)
				tail = &(*tail)->next;
		}
	}
	ck_assert_msg(atomic_load(&l.done), "push_list waits for room with "
	    "%zu messages queued and the consumer never woken",
	    lt_queue_len(l.q, NULL));
	pthread_join(th, NULL);
	ck_assert_int_eq(l.rc, LT_OK);
	/* the last part may be queued without a wake yet seen here */
	head = lt_queue_take(l.q, 10, 0, &n);
	total += n;
	*tail = head;
	ck_assert_uint_eq(total, 3);
	ck_assert_str_eq(desc(got), "m1 m2 m3");
	lt_item_free(got);
	lt_queue_free(l.q);
}
END_TEST

/* A consumer thread blocking in take. */
struct taker {
	struct lt_queue	*q;
	struct lt_item	*head;
	size_t		 n;
	atomic_int	 done;
};

/* Take with block set and say so. */
static void *
block_take(void *arg)
{
	struct taker *t = arg;

	t->head = lt_queue_take(t->q, 10, 1, &t->n);
	atomic_store(&t->done, 1);
	return NULL;
}

START_TEST(test_block_take)
{
	struct lt_queue *q = qnew(10);
	struct taker t = { 0 };
	pthread_t th;

	t.q = q;
	ck_assert_int_eq(pthread_create(&th, NULL, block_take, &t), 0);
	ck_assert_msg(stays_clear(&t.done), "take of an empty queue did "
	    "not wait");
	pushn(q, 1, LT_QUEUE_DROP);
	ck_assert_msg(wait_flag(&t.done), "a push did not wake the taker");
	pthread_join(th, NULL);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(desc(t.head), "m1");
	lt_item_free(t.head);

	/* close wakes a waiting taker with nothing */
	memset(&t, 0, sizeof(t));
	t.q = q;
	ck_assert_int_eq(pthread_create(&th, NULL, block_take, &t), 0);
	ck_assert(stays_clear(&t.done));
	lt_queue_close(q);
	ck_assert_msg(wait_flag(&t.done), "close did not wake the taker");
	pthread_join(th, NULL);
	ck_assert_ptr_null(t.head);
	ck_assert_uint_eq(t.n, 0);
	lt_queue_free(q);
}
END_TEST

/* A paced taker: min messages, pace_ms. */
struct pacer {
	struct lt_queue	*q;
	size_t		 min;
	int64_t		 pace_ms;
	struct lt_item	*head;
	size_t		 n;
	atomic_int	 done;
};

/* Take paced and say so. */
static void *
paced_take(void *arg)
{
	struct pacer *p = arg;

	p->head = lt_queue_take_paced(p->q, 10, p->min, p->pace_ms, &p->n);
	atomic_store(&p->done, 1);
	return NULL;
}

/* Start a paced taker on q. */
static void
pacer_start(struct pacer *p, pthread_t *th, struct lt_queue *q, size_t min,
    int64_t pace_ms)
{
	memset(p, 0, sizeof(*p));
	p->q = q;
	p->min = min;
	p->pace_ms = pace_ms;
	ck_assert_int_eq(pthread_create(th, NULL, paced_take, p), 0);
}

START_TEST(test_paced_take)
{
	struct lt_queue *q = qnew(100);
	struct pacer p;
	pthread_t th;

	/* the first take (none before): a message is taken at once */
	pacer_start(&p, &th, q, 3, 60000);
	ck_assert(stays_clear(&p.done));	/* empty: it waits */
	pushn(q, 1, LT_QUEUE_DROP);
	ck_assert_msg(wait_flag(&p.done), "an idle paced taker did not take "
	    "at once");
	pthread_join(th, NULL);
	ck_assert_str_eq(desc(p.head), "m1");
	lt_item_free(p.head);

	/* just after a take: one message waits for more ... */
	pacer_start(&p, &th, q, 3, 60000);
	pushn(q, 2, LT_QUEUE_DROP);
	ck_assert_msg(stays_clear(&p.done), "a paced taker took one "
	    "message of a trickle at once");
	pushn(q, 3, LT_QUEUE_DROP);
	ck_assert(stays_clear(&p.done));
	/* ... until min are there */
	pushn(q, 4, LT_QUEUE_DROP);
	ck_assert_msg(wait_flag(&p.done), "min messages did not wake the "
	    "paced taker");
	pthread_join(th, NULL);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(desc(p.head), "m2 m3 m4");
	lt_item_free(p.head);

	/* a task is taken at once, with the messages before it */
	pacer_start(&p, &th, q, 3, 60000);
	pushn(q, 5, LT_QUEUE_DROP);
	ck_assert(stays_clear(&p.done));
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	ck_assert_msg(wait_flag(&p.done), "a task did not wake the paced "
	    "taker");
	pthread_join(th, NULL);
	ck_assert_str_eq(desc(p.head), "m5 ta");
	lt_item_free(p.head);

	/* a big message is taken at once */
	pacer_start(&p, &th, q, 3, 60000);
	{
		char *big = calloc(1, LT_QUEUE_PACE_BYTES);

		ck_assert_ptr_nonnull(big);
		memset(big, 'x', LT_QUEUE_PACE_BYTES - 1);
		ck_assert(stays_clear(&p.done));
		ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, PAT, big,
		    LT_QUEUE_PACE_BYTES - 1, 0, NULL, NULL, LT_QUEUE_DROP),
		    LT_OK);
		free(big);
	}
	ck_assert_msg(wait_flag(&p.done), "a big message did not wake the "
	    "paced taker");
	pthread_join(th, NULL);
	ck_assert_uint_eq(p.n, 1);
	lt_item_free(p.head);

	/* pace_ms after the last take, a lone message is taken */
	pacer_start(&p, &th, q, 3, 500);
	pushn(q, 6, LT_QUEUE_DROP);
	ck_assert_msg(wait_flag(&p.done), "the pace's deadline did not end "
	    "the wait");
	pthread_join(th, NULL);
	ck_assert_str_eq(desc(p.head), "m6");
	lt_item_free(p.head);

	/* close ends the wait with what is there */
	pacer_start(&p, &th, q, 3, 60000);
	pushn(q, 7, LT_QUEUE_DROP);
	ck_assert(stays_clear(&p.done));
	lt_queue_close(q);
	ck_assert(wait_flag(&p.done));
	pthread_join(th, NULL);
	ck_assert_str_eq(desc(p.head), "m7");
	lt_item_free(p.head);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_paced_take_half_full)
{
	struct lt_queue *q = qnew(4);
	struct pacer p;
	pthread_t th;
	size_t n;

	/* a taken message: the next paced take is not the first */
	pushn(q, 1, LT_QUEUE_DROP);
	lt_item_free(lt_queue_take_paced(q, 10, 50, 60000, &n));
	/* a queue half full is taken whatever min says: the bound must
	   not drop messages while the taker waits */
	pacer_start(&p, &th, q, 50, 60000);
	pushn(q, 2, LT_QUEUE_DROP);
	ck_assert(stays_clear(&p.done));
	pushn(q, 3, LT_QUEUE_DROP);
	ck_assert_msg(wait_flag(&p.done), "a half-full queue did not wake "
	    "the paced taker");
	pthread_join(th, NULL);
	ck_assert_str_eq(desc(p.head), "m2 m3");
	lt_item_free(p.head);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_wake_at)
{
	struct lt_queue *q = qnew(10);
	struct lt_item *head;
	size_t n;

	lt_queue_set_wake_at(q, 3);
	pushn(q, 1, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 1);		/* empty -> non-empty */
	pushn(q, 2, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	ck_assert_int_eq(c.wakes, 1);		/* tasks do not count */
	pushn(q, 3, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 2);		/* 3 messages */
	pushn(q, 4, LT_QUEUE_DROP);
	ck_assert_int_eq(c.wakes, 2);		/* past it: no more */
	/* a list that reaches it: one wake-up for the list */
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(lt_queue_push_list(q, head), LT_OK);
	ck_assert_int_eq(c.wakes, 3);
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	lt_queue_free(q);
}
END_TEST

/* What pushn(q, n) costs: payload, subject, pattern and the overhead. */
static size_t
costn(int n)
{
	char b[32];

	return LT_QUEUE_ITEM_COST + (size_t)snprintf(b, sizeof(b), "%d", n) +
	    sizeof(SUBJ) + sizeof(PAT);
}

START_TEST(test_bytes_accounting)
{
	struct lt_queue *q = qnew(100);
	struct lt_item *it, *head;
	size_t n, c1;
	int i;

	ck_assert_uint_eq(lt_queue_bytes(q), 0);
	for (i = 1; i <= 12; i++)
		ck_assert_int_eq(pushn(q, i, LT_QUEUE_DROP), LT_OK);
	/* tasks cost nothing */
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	for (c1 = 0, i = 1; i <= 12; i++)
		c1 += costn(i);
	ck_assert_uint_eq(lt_queue_bytes(q), c1);
	/* what is taken still counts until it is handed on (done), then
	   exactly what its messages cost is given back */
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(lt_queue_bytes(q), c1);
	for (it = head; it != NULL; it = it->next) {
		ck_assert_uint_eq(it->cost, lt_item_cost(it));
		c1 -= it->cost;
	}
	lt_queue_done(q);
	ck_assert_uint_eq(lt_queue_bytes(q), c1);
	ck_assert_uint_eq(c1, costn(11) + costn(12));
	/* a decoded message counts its payload twice (the decoded event
	   copies its strings); pushed on (the decode stage), it costs that */
	for (it = head; it != NULL; it = it->next)
		ck_assert_uint_eq(it->cost, lt_item_cost(it));
	it = head;
	it->dec = (struct lt_decoded *)1;	/* looked at, not freed */
	c1 = lt_item_cost(it);
	it->dec = NULL;
	ck_assert_uint_eq(c1, lt_item_cost(it) + it->msg.len);
	lt_item_free(head);
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	lt_queue_done(q);
	ck_assert_uint_eq(lt_queue_bytes(q), 0);
	/* a wrapped message costs its payload like a copied one */
	it = lt_item_msg_wrap(SUBJ, NULL, "12345", 5, 1, NULL, NULL);
	ck_assert_uint_eq(lt_item_cost(it), LT_QUEUE_ITEM_COST + 5 +
	    sizeof(SUBJ));
	ck_assert_int_eq(lt_queue_push(q, it, LT_QUEUE_DROP), LT_OK);
	ck_assert_uint_eq(lt_queue_bytes(q), LT_QUEUE_ITEM_COST + 5 +
	    sizeof(SUBJ));
	lt_queue_free(q);
}
END_TEST

START_TEST(test_bytes_block_waits)
{
	struct lt_queue *q = qnew(100);
	struct blocker b = { 0 };
	struct lister l = { 0 };
	struct lt_item *head;
	pthread_t th;
	size_t n;

	/* room for two messages by bytes, a hundred by count */
	lt_queue_set_max_bytes(q, costn(1) + costn(2));
	pushn(q, 1, LT_QUEUE_DROP);
	pushn(q, 2, LT_QUEUE_DROP);
	b.q = q;
	ck_assert_int_eq(pthread_create(&th, NULL, block_push, &b), 0);
	ck_assert_msg(stays_clear(&b.done), "BLOCK push past the byte bound "
	    "returned (%d)", b.rc);
	/* taken is not yet handed on: no room until done */
	head = lt_queue_take(q, 1, 0, &n);
	ck_assert_msg(stays_clear(&b.done), "a take released BLOCK before "
	    "done");
	lt_queue_done(q);
	ck_assert_msg(wait_flag(&b.done), "done did not release BLOCK");
	pthread_join(th, NULL);
	ck_assert_int_eq(b.rc, LT_OK);
	lt_item_free(head);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_str_eq(desc(head), "m2 m99");
	lt_item_free(head);
	lt_queue_done(q);

	/* the decode stage's list waits for byte room too, and a larger
	   byte bound releases it */
	pushn(q, 3, LT_QUEUE_DROP);
	pushn(q, 4, LT_QUEUE_DROP);
	l.q = q;
	l.head = lt_item_msg_new(SUBJ, PAT, "5", 1, 5);
	ck_assert_int_eq(pthread_create(&th, NULL, list_push, &l), 0);
	ck_assert_msg(stays_clear(&l.done), "push_list past the byte bound "
	    "returned");
	lt_queue_set_max_bytes(q, 3 * costn(5));
	ck_assert_msg(wait_flag(&l.done), "set_max_bytes did not release "
	    "push_list");
	pthread_join(th, NULL);
	ck_assert_int_eq(l.rc, LT_OK);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_str_eq(desc(head), "m3 m4 m5");
	lt_item_free(head);
	lt_queue_free(q);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

START_TEST(test_drop_overflow_records)
{
	struct lt_queue *q = qnew(2);
	struct lt_item *ovf, *it;
	struct ack acks[100];
	char big[1000], subj[64];
	uint64_t dropped;
	size_t k, want;
	int i;

	memset(acks, 0, sizeof(acks));
	pushn(q, 1, LT_QUEUE_DROP);
	pushn(q, 2, LT_QUEUE_DROP);
	for (i = 0; i < 100; i++) {
		/* lengths around the prefix size */
		memset(big, 'a' + i % 26, sizeof(big));
		snprintf(big, sizeof(big), "%d;", i);
		big[strlen(big)] = 'z';
		snprintf(subj, sizeof(subj), "wasmbus.evt.p.%d", i);
		ck_assert_int_eq(lt_queue_push_msg(q, subj, PAT, big,
		    (size_t)(200 + i), 1000 + i, &acks[i], ack_free,
		    LT_QUEUE_DROP), LT_ELIMIT);
		/* a dropped message's ack goes at once */
		ck_assert_int_eq(acks[i].freed, 1);
	}
	ck_assert_int_eq(c.acks, 100);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 2);
	ovf = lt_queue_take_overflow(q, &dropped);
	ck_assert_uint_eq(dropped, 100);
	for (k = 0, it = ovf; it != NULL; it = it->next, k++) {
		snprintf(subj, sizeof(subj), "wasmbus.evt.p.%zu", k);
		ck_assert_str_eq(it->msg.subject, subj);
		ck_assert_str_eq(it->msg.pattern, PAT);
		ck_assert_int_eq(it->msg.received_ms, 1000 + (int64_t)k);
		ck_assert_uint_eq(it->size, 200 + k);
		want = 200 + k < LT_QUEUE_OVERFLOW_PREFIX ? 200 + k :
		    LT_QUEUE_OVERFLOW_PREFIX;
		ck_assert_uint_eq(it->msg.len, want);
		ck_assert_int_eq(((const char *)it->msg.data)[want], '\0');
		ck_assert_int_eq(atoi(it->msg.data), (int)k);
		/* records carry no ack of their own */
		ck_assert_ptr_null(it->ack);
	}
	ck_assert_uint_eq(k, LT_QUEUE_OVERFLOW_KEEP);
	lt_item_free(ovf);
	ck_assert_int_eq(c.acks, 100);
	/* taken: counting starts again */
	ovf = lt_queue_take_overflow(q, &dropped);
	ck_assert_ptr_null(ovf);
	ck_assert_uint_eq(dropped, 0);
	for (i = 0; i < 70; i++)
		pushn(q, i, LT_QUEUE_DROP);
	ovf = lt_queue_take_overflow(q, &dropped);
	ck_assert_uint_eq(dropped, 70);
	for (k = 0, it = ovf; it != NULL; it = it->next)
		k++;
	ck_assert_uint_eq(k, LT_QUEUE_OVERFLOW_KEEP);
	lt_item_free(ovf);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_refuse_frees_ack)
{
	struct lt_queue *q = qnew(1);
	struct ack a = { 0 }, b = { 0 };
	struct lt_item *it;
	uint64_t dropped;
	size_t n;

	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, "1", 1, 1, &a,
	    ack_free, LT_QUEUE_REFUSE), LT_OK);
	ck_assert_int_eq(a.freed, 0);
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, "2", 1, 2, &b,
	    ack_free, LT_QUEUE_REFUSE), LT_ELIMIT);
	ck_assert_int_eq(b.freed, 1);
	ck_assert_int_eq(a.freed, 0);
	/* refused is not dropped: no overflow record, no count */
	ck_assert_ptr_null(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 0);
	/* an item made by the caller: consumed, its ack with it */
	it = lt_item_msg_new(SUBJ, NULL, "3", 1, 3);
	memset(&b, 0, sizeof(b));
	it->ack = &b;
	it->ack_free = ack_free;
	ck_assert_int_eq(lt_queue_push(q, it, LT_QUEUE_REFUSE), LT_ELIMIT);
	ck_assert_int_eq(b.freed, 1);
	it = lt_queue_take(q, 10, 0, &n);
	ck_assert_str_eq(desc(it), "m1");
	it->ack = NULL;		/* acknowledged by the consumer */
	lt_item_free(it);
	ck_assert_int_eq(a.freed, 0);
	ck_assert_int_eq(c.acks, 2);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_closed_refuses)
{
	struct lt_queue *q = qnew(10);
	struct ack a = { 0 }, b = { 0 };
	struct lt_item *it, *l;
	size_t n;
	int wakes;

	pushn(q, 1, LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('q'), drop);
	ck_assert_int_eq(lt_queue_closed(q), 0);
	lt_queue_close(q);
	ck_assert_int_eq(lt_queue_closed(q), 1);
	wakes = c.wakes;
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, "x", 1, 5, &a,
	    ack_free, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, "x", 1, 5, &b,
	    ack_free, LT_QUEUE_BLOCK), LT_ELIMIT);
	ck_assert_int_eq(b.freed, 1);
	ck_assert_int_eq(lt_queue_push_task(q, run, &c, tdata('z'), drop),
	    LT_ELIMIT);
	ck_assert_int_eq(c.drops, 1);
	ck_assert_int_eq(c.runs, 0);
	/* a list into a closed queue: freed whole */
	memset(&a, 0, sizeof(a));
	l = lt_item_msg_new(SUBJ, NULL, "l", 1, 6);
	l->ack = &a;
	l->ack_free = ack_free;
	ck_assert_int_eq(lt_queue_push_list(q, l), LT_ELIMIT);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(c.wakes, wakes);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 1);
	/* what was queued before the close is still taken */
	it = lt_queue_take(q, 10, 1, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(desc(it), "m1 tq");
	lt_item_free(it);
	/* then a blocking take returns at once */
	ck_assert_ptr_null(lt_queue_take(q, 10, 1, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(c.drops, 2);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_block_released_by_close)
{
	struct lt_queue *q = qnew(1);
	struct blocker b = { 0 };
	pthread_t th;

	pushn(q, 1, LT_QUEUE_DROP);
	b.q = q;
	ck_assert_int_eq(pthread_create(&th, NULL, block_push, &b), 0);
	ck_assert(stays_clear(&b.done));
	lt_queue_close(q);
	ck_assert_msg(wait_flag(&b.done), "close did not release BLOCK");
	pthread_join(th, NULL);
	ck_assert_int_eq(b.rc, LT_ELIMIT);
	ck_assert_int_eq(b.a.freed, 1);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 1);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_item_free_owns)
{
	struct lt_queue *q = qnew(10);
	struct ack a = { 0 }, b = { 0 };
	struct lt_item *head;
	size_t n;

	lt_item_free(NULL);
	lt_queue_free(NULL);
	lt_queue_push_msg(q, SUBJ, NULL, "1", 1, 1, &a, ack_free,
	    LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	lt_queue_push_msg(q, SUBJ, NULL, "2", 1, 2, &b, ack_free,
	    LT_QUEUE_DROP);
	lt_queue_push_task(q, run, &c, tdata('b'), drop);
	head = lt_queue_take(q, 1, 0, &n);
	ck_assert_str_eq(desc(head), "m1 ta");
	lt_item_free(head);
	ck_assert_int_eq(a.freed, 1);
	ck_assert_int_eq(c.drops, 1);
	ck_assert_int_eq(c.runs, 0);
	/* the queue frees what it still holds, and its overflow */
	lt_queue_set_max(q, 1);
	pushn(q, 3, LT_QUEUE_DROP);
	lt_queue_free(q);
	ck_assert_int_eq(b.freed, 1);
	ck_assert_int_eq(c.drops, 2);
	ck_assert_int_eq(c.runs, 0);
	ck_assert_int_eq(c.acks, 2);
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_take_zero_max)
{
	struct lt_queue *q = qnew(10);
	struct lt_item *head;
	size_t n = 99;

	/* max 0: only the tasks ahead of the first message */
	lt_queue_push_task(q, run, &c, tdata('a'), drop);
	pushn(q, 1, LT_QUEUE_DROP);
	head = lt_queue_take(q, 0, 0, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(desc(head), "ta");
	lt_item_free(head);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 1);
	/* nothing ahead of the message: nothing taken, nothing lost */
	head = lt_queue_take(q, 0, 0, &n);
	ck_assert_ptr_null(head);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 1);
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(desc(head), "m1");
	lt_item_free(head);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_bytes_bound_drops_and_refuses)
{
	struct lt_queue *q = qnew(1000);
	struct lt_item *ovf, *head;
	struct ack a = { 0 };
	uint64_t dropped;
	size_t n, k;
	int i;

	/* 1,000 by count, 3 messages' worth by bytes: the bytes stop it */
	lt_queue_set_max_bytes(q, costn(1) + costn(2) + costn(3));
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(pushn(q, i, LT_QUEUE_DROP), LT_OK);
	for (i = 4; i <= 10; i++)
		ck_assert_int_eq(pushn(q, i, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_uint_eq(lt_queue_len(q, NULL), 3);
	/* dropped by bytes: counted and kept as by count */
	ovf = lt_queue_take_overflow(q, &dropped);
	ck_assert_uint_eq(dropped, 7);
	for (k = 0, head = ovf; head != NULL; head = head->next)
		k++;
	ck_assert_uint_eq(k, 7);
	ck_assert_str_eq(desc(ovf), "m4 m5 m6 m7 m8 m9 m10");
	lt_item_free(ovf);
	/* REFUSE frees the ack (JetStream redelivers) */
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, PAT, "x", 1, 1, &a,
	    ack_free, LT_QUEUE_REFUSE), LT_ELIMIT);
	ck_assert_int_eq(a.freed, 1);
	/* a take makes room by bytes once done */
	lt_item_free(lt_queue_take(q, 1, 0, &n));
	ck_assert_int_eq(pushn(q, 1, LT_QUEUE_DROP), LT_ELIMIT);
	lt_queue_done(q);
	ck_assert_int_eq(pushn(q, 1, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 2, LT_QUEUE_DROP), LT_ELIMIT);
	lt_item_free(lt_queue_take(q, 10, 0, &n));
	lt_queue_done(q);
	ck_assert_uint_eq(lt_queue_bytes(q), 0);
	/* 0 lifts the byte bound */
	lt_queue_set_max_bytes(q, 0);
	for (i = 1; i <= 10; i++)
		ck_assert_int_eq(pushn(q, i, LT_QUEUE_DROP), LT_OK);
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 2);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_bytes_big_message_fits_empty)
{
	struct lt_queue *q = qnew(10);
	struct lt_item *head;
	uint64_t dropped;
	char *big;
	size_t n;

	/* bigger than the byte bound: it fits an empty queue only, so no
	   bound stops a message for good (BLOCK would wait forever) */
	ck_assert_ptr_nonnull(big = calloc(1, 10000));
	lt_queue_set_max_bytes(q, 1000);
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, big, 10000, 1,
	    NULL, NULL, LT_QUEUE_BLOCK), LT_OK);
	ck_assert_uint_gt(lt_queue_bytes(q), 10000);
	ck_assert_int_eq(pushn(q, 2, LT_QUEUE_DROP), LT_ELIMIT);
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, big, 10000, 3,
	    NULL, NULL, LT_QUEUE_DROP), LT_ELIMIT);
	/* taken, not done: the queue is empty, so one more fits */
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(head->msg.len, 10000);
	ck_assert_int_eq(lt_queue_push_msg(q, SUBJ, NULL, big, 10000, 4,
	    NULL, NULL, LT_QUEUE_DROP), LT_OK);
	lt_item_free(head);
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 2);
	free(big);
	lt_queue_free(q);
}
END_TEST

START_TEST(test_zero_bound_and_empty)
{
	struct lt_queue *q;
	struct lt_item *head;
	uint64_t dropped = 9;
	size_t n = 9;

	/* max 0 is 1; wake may be NULL */
	ck_assert_int_eq(lt_queue_new(0, NULL, NULL, &q), LT_OK);
	ck_assert_ptr_null(lt_queue_take(q, 10, 0, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 0);
	ck_assert_int_eq(pushn(q, 1, LT_QUEUE_DROP), LT_OK);
	ck_assert_int_eq(pushn(q, 2, LT_QUEUE_DROP), LT_ELIMIT);
	lt_queue_done(q);	/* nothing in flight: harmless */
	head = lt_queue_take(q, 10, 0, &n);
	ck_assert_str_eq(desc(head), "m1");
	lt_item_free(head);
	lt_item_free(lt_queue_take_overflow(q, &dropped));
	ck_assert_uint_eq(dropped, 1);
	lt_queue_close(q);
	lt_queue_close(q);	/* twice is fine */
	lt_queue_free(q);
}
END_TEST

START_TEST(test_overflow_short_and_binary)
{
	struct lt_queue *q = qnew(1);
	struct lt_item *ovf;
	char bin[LT_QUEUE_OVERFLOW_PREFIX + 10];
	uint64_t dropped;
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)i;	/* NULs inside */
	pushn(q, 1, LT_QUEUE_DROP);
	lt_queue_push_msg(q, NULL, NULL, "ab", 2, 5, NULL, NULL,
	    LT_QUEUE_DROP);
	lt_queue_push_msg(q, SUBJ, NULL, bin, sizeof(bin), 6, NULL, NULL,
	    LT_QUEUE_DROP);
	lt_queue_push_msg(q, SUBJ, NULL, bin, LT_QUEUE_OVERFLOW_PREFIX, 7,
	    NULL, NULL, LT_QUEUE_DROP);
	ovf = lt_queue_take_overflow(q, &dropped);
	ck_assert_uint_eq(dropped, 3);
	ck_assert_ptr_null(ovf->msg.subject);
	ck_assert_uint_eq(ovf->msg.len, 2);
	ck_assert_str_eq(ovf->msg.data, "ab");
	ck_assert_uint_eq(ovf->next->msg.len, LT_QUEUE_OVERFLOW_PREFIX);
	ck_assert_uint_eq(ovf->next->size, sizeof(bin));
	ck_assert_int_eq(memcmp(ovf->next->msg.data, bin,
	    LT_QUEUE_OVERFLOW_PREFIX), 0);
	ck_assert_uint_eq(ovf->next->next->msg.len, LT_QUEUE_OVERFLOW_PREFIX);
	ck_assert_uint_eq(ovf->next->next->size, LT_QUEUE_OVERFLOW_PREFIX);
	ck_assert_ptr_null(ovf->next->next->next);
	lt_item_free(ovf);
	lt_queue_free(q);
}
END_TEST

/* Build the suite. */
static Suite *
queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_take_max_carries_tasks);
	tcase_add_test(tc, test_tasks_ignore_max);
	tcase_add_test(tc, test_run_tasks_once);
	tcase_add_test(tc, test_item_push_and_list);
	tcase_add_test(tc, test_wake_rule);
	tcase_add_test(tc, test_len_oldest);
	tcase_add_test(tc, test_set_max);
	tcase_add_test(tc, test_block_waits_for_room);
	tcase_add_test(tc, test_block_take);
	tcase_add_test(tc, test_push_list_wakes_before_waiting);
	tcase_add_test(tc, test_bytes_accounting);
	tcase_add_test(tc, test_bytes_block_waits);
	tcase_add_test(tc, test_paced_take);
	tcase_add_test(tc, test_wake_at);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejects");
	tcase_add_test(tc, test_drop_overflow_records);
	tcase_add_test(tc, test_refuse_frees_ack);
	tcase_add_test(tc, test_closed_refuses);
	tcase_add_test(tc, test_block_released_by_close);
	tcase_add_test(tc, test_item_free_owns);
	tcase_add_test(tc, test_bytes_bound_drops_and_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_test(tc, test_take_zero_max);
	tcase_add_test(tc, test_zero_bound_and_empty);
	tcase_add_test(tc, test_overflow_short_and_binary);
	tcase_add_test(tc, test_bytes_big_message_fits_empty);
	tcase_add_test(tc, test_paced_take_half_full);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
