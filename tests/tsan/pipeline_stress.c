/*
 * pipeline_stress.c - hammer lib/queue.c and the decode stage
 * (lib/pipeline.c) from several threads.
 *
 * Producers push numbered messages (small CloudEvents, so the decode
 * thread really runs cJSON, heartbeats whose inventories it decodes ahead
 * for the loop thread to read, and some garbage) into an `in` queue whose
 * bound is small and changes while they run: four drop what does not fit,
 * one refuses (JetStream), one blocks for room (replay).  They also queue
 * tasks, through the decode stage and straight to the loop.  An lt_decoder
 * moves everything to an `out` queue whose wake-up is event_active() on a
 * pthread-enabled event_base running on a loop thread, which takes one
 * batch and re-arms itself while messages are left, with a timer beside
 * it.  Checks: every message is taken exactly once, in per-producer order,
 * or counted dropped / refused (its ack freed exactly once); every taken
 * message was decoded, and validly iff it was valid; tasks run only on the
 * loop thread, once, after the messages queued before them; messages
 * never wait without a wake-up (the stage's paced takes and the out
 * queue's wake-at threshold switched on and off as it runs); stop drains
 * and closes cleanly.  Under
 * -fsanitize=thread (cmake -DLATTICED_TSAN=ON) any data race fails it.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "ce.h"
#include "err.h"
#include "fold.h"
#include "pipeline.h"
#include "queue.h"

#define NDROP		4		/* producers with LT_QUEUE_DROP */
#define PREFUSE		NDROP		/* the refusing one */
#define PBLOCK		(NDROP + 1)	/* the blocking one */
#define NPROD		(NDROP + 2)
#define PER_PROD	40000
#define BATCH		61
#define TASK_EVERY	250
#define HB_EVERY	5		/* every 5th message a heartbeat */
#define SUBJ		"wasmbus.evt.stress.config_set"
#define XS	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
/* a message's received_ms is its producer * ID_MS + its sequence */
#define ID_MS		INT64_C(1000000000)

struct state;

struct prod {
	struct state	*s;
	int		 id;
	enum lt_queue_full full;
	long		 pushed_ok;	/* LT_OK pushes */
	long		 refused;	/* LT_ELIMIT pushes */
	atomic_long	 ackfreed;	/* acks freed unacknowledged */
	atomic_long	 tasks_ok;	/* tasks queued */
	atomic_long	 tasks_dropped;	/* task data dropped */
};

struct state {
	struct event_base	*base;
	struct event		*wake, *tick;
	struct lt_queue		*in, *out;
	struct lt_decoder	*dec;
	pthread_t		 loop_thread;
	struct prod		 p[NPROD];
	atomic_int		 prod_done;	/* producers finished */
	atomic_int		 loop_done;
	atomic_long		 tasks_run;
	/* the loop thread's own */
	long			 next[NPROD];	/* next sequence due */
	long			 taken[NPROD];
	uint64_t		 dropped, ovf_kept, wakes, ticks;
	uint64_t		 wakes_seen;
	int			 idle_ticks;
	atomic_int		 bad;
};

/* What a task carries: who queued it, after which message. */
struct tdata {
	struct prod	*p;
	long		 after;		/* last message queued first */
	int		 via_in;	/* through the decode stage */
};

/* Complain and remember that the test failed. */
static void
bad(struct state *s, const char *what, long a, long b)
{
	if (atomic_fetch_add(&s->bad, 1) < 20)
		fprintf(stderr, "pipeline_stress: %s (%ld, %ld)\n", what, a, b);
}

/* Milliseconds of a monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether sequence i of producer id is garbage. */
static int
garbage(int id, long i)
{
	return (i + id) % 7 == 0;
}

/* An acknowledgement freed unacknowledged (drop, refuse, close). */
static void
ack_free(void *arg)
{
	struct prod *p = arg;

	atomic_fetch_add(&p->ackfreed, 1);
}

/* A task on the loop thread. */
static void
task_run(void *arg, void *data)
{
	struct state *s = arg;

	(void)data;
	if (!pthread_equal(pthread_self(), s->loop_thread))
		bad(s, "task run off the loop thread", 0, 0);
	atomic_fetch_add(&s->tasks_run, 1);
}

/* Free a task's data (run or not). */
static void
task_drop(void *data)
{
	struct tdata *t = data;

	atomic_fetch_add(&t->p->tasks_dropped, 1);
	free(t);
}

/* Queue a task from p into q. */
static void
push_task(struct prod *p, struct lt_queue *q, long after, int via_in)
{
	struct tdata *t;

	if ((t = malloc(sizeof(*t))) == NULL) {
		bad(p->s, "out of memory", 0, 0);
		return;
	}
	t->p = p;
	t->after = after;
	t->via_in = via_in;
	if (lt_queue_push_task(q, task_run, p->s, t, task_drop) == LT_OK)
		atomic_fetch_add(&p->tasks_ok, 1);
	else
		bad(p->s, "task refused before close", p->id, after);
}

/* Push PER_PROD numbered messages, valid CloudEvents or garbage. */
static void *
producer(void *arg)
{
	struct prod	*p = arg;
	char		 data[512];
	long		 i, last = -1;
	size_t		 len;
	int		 rc;

	for (i = 0; i < PER_PROD; i++) {
		if (garbage(p->id, i))
			len = (size_t)snprintf(data, sizeof(data),
			    "garbage %d %ld {", p->id, i);
		else if (i % HB_EVERY == 0)
			/* a heartbeat whose inventory changes now and then:
			   the stage decodes it ahead, the loop adopts it */
			len = (size_t)snprintf(data, sizeof(data),
			    "{\"specversion\":\"1.0\",\"id\":\"p%d-%ld\","
			    "\"source\":\"NH%d\",\"type\":"
			    "\"com.wasmcloud.lattice.host_heartbeat\","
			    "\"data\":{\"components\":[{\"id\":\"a%ld\"},"
			    "{\"id\":\"b\",\"max_instances\":2}]}}",
			    p->id, i, p->id, i / (HB_EVERY * 4));
		else
			len = (size_t)snprintf(data, sizeof(data),
			    "{\"specversion\":\"1.0\",\"id\":\"p%d-%ld\","
			    "\"source\":\"NH%d\",\"type\":"
			    "\"com.wasmcloud.lattice.config_set\","
			    "\"data\":{\"config_name\":\"c%ld%.*s\"}}",
			    p->id, i, p->id, i, (int)(i % 200),
			    XS XS XS XS);
		rc = lt_queue_push_msg(p->s->in, SUBJ, "wasmbus.evt.*.>", data,
		    len, p->id * ID_MS + i, p, ack_free, p->full);
		if (rc == LT_OK) {
			p->pushed_ok++;
			last = i;
		} else if (rc == LT_ELIMIT)
			p->refused++;
		else
			bad(p->s, "push failed", p->id, rc);
		if (p->full == LT_QUEUE_BLOCK && rc != LT_OK)
			bad(p->s, "a blocking push did not queue", i, rc);
		if (i % TASK_EVERY == 0)
			push_task(p, p->s->in, last, 1);
		if (p->id == 0 && i % (TASK_EVERY * 3) == 0)
			push_task(p, p->s->out, -1, 0);	/* a notice */
		if (i % 500 == 0)
			sched_yield();
	}
	atomic_fetch_add(&p->s->prod_done, 1);
	return NULL;
}

/* Check one taken message against its producer's sequence. */
static void
check_msg(struct state *s, struct lt_item *it)
{
	char	 want[64];
	struct lt_err err;
	int64_t	 r = it->msg.received_ms;
	long	 seq;
	int	 id, inv;

	id = (int)(r / ID_MS);
	seq = (long)(r % ID_MS);
	if (id < 0 || id >= NPROD || seq < 0 || seq >= PER_PROD) {
		bad(s, "unknown message", (long)id, seq);
		return;
	}
	if (it->ack != &s->p[id])
		bad(s, "ack handle lost", id, seq);
	it->ack = NULL;			/* acknowledged */
	inv = garbage(id, seq);
	if (inv)
		snprintf(want, sizeof(want), "garbage %d %ld {", id, seq);
	else
		snprintf(want, sizeof(want), "\"id\":\"p%d-%ld\"", id, seq);
	if (strstr(it->msg.data, want) == NULL)
		bad(s, "payload is not the message's", id, seq);
	if (it->msg.len != it->size ||
	    ((const char *)it->msg.data)[it->msg.len] != '\0')
		bad(s, "length", (long)it->msg.len, (long)it->size);
	if (it->dec == NULL)
		bad(s, "taken undecoded", id, seq);
	else if ((it->dec->rc == LT_OK) == inv)
		bad(s, "decoded wrongly", id, seq);
	else if (!inv && (it->dec->ev == NULL || it->dec->lattice == NULL ||
	    strncmp(it->dec->lattice, "stress", 6) != 0))
		bad(s, "decoded event incomplete", id, seq);
	else if (!inv && seq % HB_EVERY == 0) {
		/* the inventory, decoded ahead or now, read here */
		snprintf(want, sizeof(want), "a%ld", seq / (HB_EVERY * 4));
		if (lt_ce_inventory(it->dec->ev, NULL, &err) != LT_OK ||
		    it->dec->ev->ncomponents != 2 ||
		    strcmp(it->dec->ev->components[0].id, want) != 0 ||
		    it->dec->ev->components[1].max_instances != 2)
			bad(s, "heartbeat inventory", id, seq);
	}
	/* drops leave gaps, but order within a producer must hold */
	if (seq < s->next[id])
		bad(s, "out of order or repeated", seq, s->next[id]);
	else if (s->p[id].full == LT_QUEUE_BLOCK && seq != s->next[id])
		bad(s, "a blocking producer lost a message", seq, s->next[id]);
	s->next[id] = seq + 1;
	s->taken[id]++;
}

/* Take the overflow records of in. */
static void
take_overflow(struct state *s)
{
	struct lt_item	*ovf, *m;
	uint64_t	 dropped;
	int		 id;

	ovf = lt_queue_take_overflow(s->in, &dropped);
	s->dropped += dropped;
	for (m = ovf; m != NULL; m = m->next) {
		s->ovf_kept++;
		id = (int)(m->msg.received_ms / ID_MS);
		if (m->msg.len > LT_QUEUE_OVERFLOW_PREFIX ||
		    m->msg.len > m->size)
			bad(s, "overflow prefix too long", (long)m->msg.len,
			    (long)m->size);
		if (id < 0 || id >= NDROP)
			bad(s, "a non-dropping producer's message dropped",
			    id, 0);
		if (m->ack != NULL || m->dec != NULL)
			bad(s, "overflow record with ack or decoding", id, 0);
	}
	lt_item_free(ovf);
}

/* The daemon's on_wake: overflow, one batch, re-arm while not empty. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct state	*s = arg;
	struct lt_item	*head, *it;
	struct tdata	*t;
	size_t		 k;
	int		 closed, got, id;

	(void)fd;
	(void)what;
	s->wakes++;
	if (!pthread_equal(pthread_self(), s->loop_thread))
		bad(s, "callback off the loop thread", 0, 0);
	take_overflow(s);
	/* closed first: nothing comes after what the take sees then */
	closed = lt_queue_closed(s->out);
	head = lt_queue_take(s->out, BATCH, 0, &k);
	if (k > BATCH)
		bad(s, "batch larger than asked", (long)k, BATCH);
	for (it = head; it != NULL; it = it->next) {
		if (it->kind == LT_ITEM_MSG) {
			check_msg(s, it);
			k--;
			continue;
		}
		t = it->data;
		id = t->p->id;
		if (t->via_in && t->after >= s->next[id])
			bad(s, "a task overtook a message", t->after,
			    s->next[id]);
	}
	if (k != 0)
		bad(s, "batch count differs from the list", (long)k, 0);
	got = head != NULL;
	lt_item_run_tasks(head);
	lt_item_free(head);
	lt_queue_done(s->out);
	if (lt_queue_len(s->out, NULL) > 0) {
		event_active(s->wake, EV_READ, 0);
		return;
	}
	if (closed && !got) {
		take_overflow(s);
		event_base_loopexit(s->base, NULL);
	} else if (closed)
		event_active(s->wake, EV_READ, 0);
}

/* A timer beside the queues, like the sweep: moves the bound around. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct state	*s = arg;
	int64_t		 oldest;

	(void)fd;
	(void)what;
	s->ticks++;
	if (!pthread_equal(pthread_self(), s->loop_thread))
		bad(s, "timer off the loop thread", 0, 0);
	/* A push that leaves the loop asleep strands messages: the wake
	   event runs before the next tick whenever one is pending. */
	if (lt_queue_len(s->out, &oldest) > 0 && s->wakes == s->wakes_seen) {
		if (++s->idle_ticks == 100) {
			/* stranded for good: whoever pushed them waits */
			bad(s, "messages waiting for 100 ticks, no wake-up",
			    (long)lt_queue_len(s->out, NULL), 0);
			_exit(1);
		}
	} else
		s->idle_ticks = 0;
	s->wakes_seen = s->wakes;
	(void)lt_queue_len(s->in, &oldest);
	lt_queue_set_max(s->in, s->ticks % 3 ? 4 : 3000);
}

/* The loop thread: dispatch until the queues are drained. */
static void *
loop_main(void *arg)
{
	struct state	*s = arg;

	s->loop_thread = pthread_self();
	event_base_dispatch(s->base);
	atomic_store(&s->loop_done, 1);
	return NULL;
}

/* The out queue's wake-up (any thread). */
static void
wake_loop(void *arg)
{
	event_active(arg, EV_READ, 0);
}

/* Fail a run that hangs (a deadlock between the stages). */
static void
on_alarm(int sig)
{
	static const char msg[] = "pipeline_stress: timed out: a stage "
	    "waits for good\n";

	(void)sig;
	/* nothing to do if it fails: exiting is the message */
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Run the producers, the decode stage and the loop; check the sums. */
int
main(void)
{
	static struct state s;
	struct lt_limits lim;
	struct timeval	 tv = { 0, 2000 };
	pthread_t	 th[NPROD], lt;
	struct lt_item	*m;
	uint64_t	 dropped;
	long		 ackfreed, dropped_by_prod = 0, tasks_ok = 0;
	long		 tasks_dropped = 0, taken = 0;
	int64_t		 t0 = mono_ms(), end;
	size_t		 k;
	int		 i, flip = 0;

	signal(SIGALRM, on_alarm);
	alarm(150);
	if (evthread_use_pthreads() != 0) {
		fprintf(stderr, "pipeline_stress: evthread_use_pthreads\n");
		return 1;
	}
	lt_limits_default(&lim);
	if ((s.base = event_base_new()) == NULL ||
	    (s.wake = event_new(s.base, -1, 0, on_wake, &s)) == NULL ||
	    (s.tick = event_new(s.base, -1, EV_PERSIST, on_tick, &s)) == NULL)
		return 1;
	if (lt_queue_new(16, NULL, NULL, &s.in) != LT_OK ||
	    lt_queue_new(64, wake_loop, s.wake, &s.out) != LT_OK ||
	    lt_decoder_start(s.in, s.out, &lim, &s.dec) != LT_OK)
		return 1;
	evtimer_add(s.tick, &tv);
	if (pthread_create(&lt, NULL, loop_main, &s) != 0)
		return 1;
	for (i = 0; i < NPROD; i++) {
		s.p[i].s = &s;
		s.p[i].id = i;
		s.p[i].full = i == PREFUSE ? LT_QUEUE_REFUSE : i == PBLOCK ?
		    LT_QUEUE_BLOCK : LT_QUEUE_DROP;
		if (pthread_create(&th[i], NULL, producer, &s.p[i]) != 0)
			return 1;
	}
	/* meanwhile: SIGHUP-style limit reloads, the out bound moving */
	while (atomic_load(&s.prod_done) < NPROD) {
		lt_decoder_set_limits(s.dec, &lim);
		(void)lt_decoder_count(s.dec);
		/* the stage paced now and then (batch_linger), and the
		   out queue waking at a threshold as the daemon's does */
		lt_decoder_set_pace(s.dec, flip % 4 < 2 ? 4 : 0, 2);
		lt_queue_set_wake_at(s.out, flip % 3 == 0 ? 5 : 0);
		lt_queue_set_max(s.out, (flip++ % 2) ? 8 : 64);
		usleep(100);	/* a pace, not a wait for a condition */
	}
	for (i = 0; i < NPROD; i++)
		pthread_join(th[i], NULL);
	/* nothing more comes in: the stage drains, closes out, the loop
	   drains that and stops */
	lt_decoder_stop(s.dec);
	end = mono_ms() + 60000;
	while (!atomic_load(&s.loop_done) && mono_ms() < end)
		sched_yield();
	if (!atomic_load(&s.loop_done)) {
		fprintf(stderr, "pipeline_stress: the loop did not drain the "
		    "closed queues in 60 s (a lost wake-up?)\n");
		return 1;
	}
	pthread_join(lt, NULL);

	/* closed: pushes are refused, their acks and task data freed */
	if (lt_queue_push_msg(s.in, SUBJ, NULL, "x", 1, 0, &s.p[0], ack_free,
	    LT_QUEUE_BLOCK) != LT_ELIMIT)
		bad(&s, "push after close accepted", 0, 0);
	s.p[0].refused++;
	if (lt_queue_push_task(s.out, task_run, &s, NULL, NULL) != LT_ELIMIT)
		bad(&s, "task after close accepted", 0, 0);
	m = lt_queue_take(s.out, 10, 1, &k);
	if (m != NULL || k != 0)
		bad(&s, "item left after the drain", (long)k, 0);
	lt_item_free(m);
	if (lt_queue_len(s.in, NULL) != 0)
		bad(&s, "input left after the drain",
		    (long)lt_queue_len(s.in, NULL), 0);
	lt_item_free(lt_queue_take_overflow(s.in, &dropped));
	s.dropped += dropped;

	for (i = 0; i < NPROD; i++) {
		struct prod *p = &s.p[i];

		ackfreed = atomic_load(&p->ackfreed);
		taken += s.taken[i];
		if (s.taken[i] + p->refused != PER_PROD + (i == 0))
			bad(&s, "taken + dropped/refused != pushed",
			    s.taken[i] + p->refused, i);
		if (s.taken[i] != p->pushed_ok)
			bad(&s, "queued but not taken", p->pushed_ok,
			    s.taken[i]);
		/* each unacknowledged ack freed once, the taken ones never */
		if (ackfreed != p->refused)
			bad(&s, "acks freed != refused", ackfreed, p->refused);
		if (i < NDROP)
			dropped_by_prod += p->refused - (i == 0);
		else if (i == PBLOCK && p->refused != 0)
			bad(&s, "a blocking producer was refused", p->refused,
			    0);
		tasks_ok += atomic_load(&p->tasks_ok);
		tasks_dropped += atomic_load(&p->tasks_dropped);
	}
	if ((long)s.dropped != dropped_by_prod)
		bad(&s, "dropped count != drops seen by producers",
		    (long)s.dropped, dropped_by_prod);
	if (s.ovf_kept > s.dropped)
		bad(&s, "more overflow records than drops", (long)s.ovf_kept,
		    (long)s.dropped);
	if (atomic_load(&s.tasks_run) != tasks_ok || tasks_dropped != tasks_ok)
		bad(&s, "tasks queued != run != dropped",
		    atomic_load(&s.tasks_run), tasks_ok);
	if (taken == 0 || s.dropped == 0 || s.p[PREFUSE].refused == 0)
		bad(&s, "nothing taken, dropped or refused: no stress",
		    (long)s.dropped, s.p[PREFUSE].refused);
	event_free(s.tick);
	event_free(s.wake);
	lt_queue_free(s.out);
	lt_queue_free(s.in);
	event_base_free(s.base);
	printf("pipeline_stress: %d producers x %d, %ld taken, %llu dropped "
	    "(%llu prefixes kept), %ld refused, %ld tasks, %llu wakes, %llu "
	    "ticks, %lld ms\n", NPROD, PER_PROD, taken,
	    (unsigned long long)s.dropped, (unsigned long long)s.ovf_kept,
	    s.p[PREFUSE].refused, tasks_ok, (unsigned long long)s.wakes,
	    (unsigned long long)s.ticks, (long long)(mono_ms() - t0));
	return atomic_load(&s.bad) ? 1 : 0;
}
