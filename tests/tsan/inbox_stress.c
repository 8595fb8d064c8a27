/*
 * inbox_stress.c - hammer daemon/inbox.c from several threads.
 *
 * Producers push numbered messages (and connection notices) the way the
 * NATS callbacks do, while the loop thread drains them with the daemon's
 * wake-up pattern: an event_active()'d event on a pthread-enabled
 * event_base that takes one batch and re-arms itself while messages are
 * left, with a timer running beside it.  The bound is small and changes
 * while producers run, so overflow is exercised too.  Checks: every
 * message is either taken exactly once, in per-producer order, or counted
 * as dropped; only the loop thread ever runs a callback; messages never
 * wait without a wake-up (inbox.c wakes only on empty -> non-empty).  Under
 * -fsanitize=thread (cmake -DLATTICED_TSAN=ON) any data race fails it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "inbox.h"

#define NPROD		6
#define PER_PROD	20000
#define BATCH		97

struct state {
	struct event_base	*base;
	struct event		*wake, *tick;
	struct inbox		*ib;
	pthread_t		 loop_thread;
	atomic_int		 done;		/* producers finished */
	long			 next[NPROD];	/* next sequence expected */
	uint64_t		 taken, dropped, ovf_kept, ticks, wakes;
	uint64_t		 wakes_seen;	/* wakes at the last tick */
	int			 idle_ticks;	/* ticks with messages
						   waiting and no wake */
	int			 closed_seen;
	int			 bad;
};

struct prod {
	struct state	*s;
	int		 id;
};

/* Complain and remember that the test failed. */
static void
bad(struct state *s, const char *what, long a, long b)
{
	if (s->bad++ < 20)
		fprintf(stderr, "inbox_stress: %s (%ld, %ld)\n", what, a, b);
}

/* Push PER_PROD numbered messages of varying size, then say done. */
static void *
producer(void *arg)
{
	struct prod	*p = arg;
	char		 subj[64], data[600];
	size_t		 len;
	long		 i;

	for (i = 0; i < PER_PROD; i++) {
		snprintf(subj, sizeof(subj), "wasmbus.evt.p%d", p->id);
		len = (size_t)snprintf(data, sizeof(data), "%d %ld ", p->id, i);
		/* vary the length: copies of different sizes */
		memset(data + len, 'x', (size_t)(i % 400));
		len += (size_t)(i % 400);
		(void)inbox_push(p->s->ib, subj, data, len, (int64_t)i);
		if (i % 5000 == 0)
			inbox_notice_conn(p->s->ib, INBOX_CONN_UP, i);
		if (i % 7919 == 0)
			inbox_notice_error(p->s->ib, "stress: async error");
		if (i % 1000 == 0)
			sched_yield();
	}
	atomic_fetch_add(&p->s->done, 1);
	/* the last push may have raced the done count: wake once more */
	inbox_notice_live(p->s->ib);
	return NULL;
}

/* Check one taken message against its producer's sequence. */
static void
check_msg(struct state *s, const struct inbox_msg *m)
{
	int	id;
	long	seq;

	if (sscanf(m->data, "%d %ld ", &id, &seq) != 2 || id < 0 ||
	    id >= NPROD) {
		bad(s, "unparseable message", 0, 0);
		return;
	}
	if (m->len != m->size || ((char *)m->data)[m->len] != '\0')
		bad(s, "length", (long)m->len, (long)m->size);
	if (m->received_ms != seq)
		bad(s, "received_ms", (long)m->received_ms, seq);
	/* drops leave gaps, but order within a producer must hold */
	if (seq < s->next[id])
		bad(s, "out of order or repeated", seq, s->next[id]);
	s->next[id] = seq + 1;
}

/* The daemon's on_wake: notices, one batch, re-arm while not empty. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct state		*s = arg;
	struct inbox_msg	*head, *m, *ovf;
	struct inbox_notices	 n;
	uint64_t		 dropped;
	size_t			 k;

	(void)fd;
	(void)what;
	s->wakes++;
	if (!pthread_equal(pthread_self(), s->loop_thread))
		bad(s, "callback off the loop thread", 0, 0);
	(void)inbox_notices(s->ib, &n);
	ovf = inbox_take_overflow(s->ib, &dropped);
	s->dropped += dropped;
	for (m = ovf; m != NULL; m = m->next) {
		s->ovf_kept++;
		if (m->len > m->size)
			bad(s, "overflow prefix longer than message",
			    (long)m->len, (long)m->size);
	}
	inbox_msg_free(ovf);
	head = inbox_take(s->ib, BATCH, &k);
	if (k > BATCH)
		bad(s, "batch larger than asked", (long)k, BATCH);
	s->taken += k;
	for (m = head; m != NULL; m = m->next) {
		check_msg(s, m);
		k--;
	}
	if (k != 0)
		bad(s, "batch count differs from the list", (long)k, 0);
	inbox_msg_free(head);
	if (inbox_len(s->ib, NULL) > 0) {
		event_active(s->wake, EV_READ, 0);
		return;
	}
	if (atomic_load(&s->done) == NPROD) {
		inbox_close(s->ib);
		event_base_loopexit(s->base, NULL);
	}
}

/* A timer beside the inbox, like the sweep: moves the bound around. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct state	*s = arg;
	int64_t		 oldest;

	(void)fd;
	(void)what;
	s->ticks++;
	/* A push that leaves the loop asleep strands messages: the wake
	   event runs before the next tick whenever one is pending. */
	if (inbox_len(s->ib, &oldest) > 0 && s->wakes == s->wakes_seen) {
		if (++s->idle_ticks == 100)
			bad(s, "messages waiting for 100 ticks, no wake-up",
			    (long)inbox_len(s->ib, NULL), 0);
	} else
		s->idle_ticks = 0;
	s->wakes_seen = s->wakes;
	inbox_set_max(s->ib, s->ticks % 2 ? 50 : 5000);
}

/* Whether wake was activated (and clear that). */
static int
woken(struct event *wake)
{
	int	on = event_pending(wake, EV_READ, NULL) != 0;

	event_del(wake);
	return on;
}

/*
 * The wake rule, one thread, no loop: a push wakes only when it makes the
 * inbox non-empty, or is the first drop since the overflow was taken.
 */
static void
wake_rule(struct state *s)
{
	struct inbox_msg	*m;
	uint64_t		 dropped;
	size_t			 k;

	if (woken(s->wake))
		bad(s, "woken before any push", 0, 0);
	(void)inbox_push(s->ib, "a", "1", 1, 0);
	if (!woken(s->wake))
		bad(s, "a push into an empty inbox did not wake", 0, 0);
	(void)inbox_push(s->ib, "a", "2", 1, 0);
	if (woken(s->wake))
		bad(s, "a push into a non-empty inbox woke", 0, 0);
	inbox_msg_free(inbox_take(s->ib, 10, &k));
	if (k != 2)
		bad(s, "wake rule: taken", (long)k, 2);
	(void)inbox_push(s->ib, "a", "3", 1, 0);
	if (!woken(s->wake))
		bad(s, "a push after a take did not wake", 0, 0);
	inbox_set_max(s->ib, 1);
	(void)inbox_push(s->ib, "a", "4", 1, 0);
	if (!woken(s->wake))
		bad(s, "the first drop did not wake", 0, 0);
	(void)inbox_push(s->ib, "a", "5", 1, 0);
	if (woken(s->wake))
		bad(s, "a second drop woke", 0, 0);
	inbox_msg_free(inbox_take(s->ib, 10, &k));
	m = inbox_take_overflow(s->ib, &dropped);
	if (dropped != 2)
		bad(s, "wake rule: dropped", (long)dropped, 2);
	inbox_msg_free(m);
	inbox_set_max(s->ib, 1000);
}

/* Run the producers against the loop and check the accounting. */
int
main(void)
{
	struct state	 s;
	struct prod	 p[NPROD];
	pthread_t	 th[NPROD];
	struct timeval	 tv = { 0, 2000 };
	struct inbox_msg *m;
	uint64_t	 dropped;
	size_t		 k;
	int		 i;

	alarm(120);
	memset(&s, 0, sizeof(s));
	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "inbox_stress: evthread_use_pthreads\n");
		return 1;
	}
	s.loop_thread = pthread_self();
	if ((s.base = event_base_new()) == NULL ||
	    (s.wake = event_new(s.base, -1, 0, on_wake, &s)) == NULL ||
	    (s.tick = event_new(s.base, -1, EV_PERSIST, on_tick, &s)) == NULL)
		return 1;
	if (inbox_new(1000, s.wake, &s.ib) == -1)
		return 1;
	wake_rule(&s);
	evtimer_add(s.tick, &tv);
	for (i = 0; i < NPROD; i++) {
		p[i].s = &s;
		p[i].id = i;
		if (pthread_create(&th[i], NULL, producer, &p[i]) != 0)
			return 1;
	}
	event_base_dispatch(s.base);
	for (i = 0; i < NPROD; i++)
		pthread_join(th[i], NULL);
	/* closed: a push now is refused and wakes nobody harmful */
	if (inbox_push(s.ib, "x", "y", 1, 0) != -1)
		bad(&s, "push after close accepted", 0, 0);
	m = inbox_take(s.ib, 10, &k);
	if (m != NULL || k != 0)
		bad(&s, "message left after the drain", (long)k, 0);
	inbox_msg_free(m);
	inbox_msg_free(inbox_take_overflow(s.ib, &dropped));
	s.dropped += dropped;
	if (s.taken + s.dropped != (uint64_t)NPROD * PER_PROD)
		bad(&s, "taken + dropped != pushed", (long)(s.taken + s.dropped),
		    (long)NPROD * PER_PROD);
	if (s.taken == 0)
		bad(&s, "nothing taken", 0, 0);
	event_free(s.tick);
	event_free(s.wake);
	inbox_free(s.ib);
	event_base_free(s.base);
	printf("inbox_stress: %d producers x %d, %llu taken, %llu dropped, "
	    "%llu overflow prefixes kept, %llu wakes, %llu ticks\n", NPROD,
	    PER_PROD, (unsigned long long)s.taken,
	    (unsigned long long)s.dropped, (unsigned long long)s.ovf_kept,
	    (unsigned long long)s.wakes, (unsigned long long)s.ticks);
	return s.bad ? 1 : 0;
}
