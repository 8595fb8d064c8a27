/*
 * daemon.c - the loop: fold what the pipeline hands it in batches, sweep
 * for silent hosts, pet the watchdog, handle signals.  Everything here runs
 * on the loop thread; other threads only reach it through its queue
 * (queue.h).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "alerts.h"
#include "config.h"
#include "daemon.h"
#include "dblock.h"
#include "fold.h"
#include "http.h"
#include "js.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "natsconn.h"
#include "notify.h"
#include "observe.h"
#include "pipeline.h"
#include "queue.h"
#include "resync.h"
#include "v2ask.h"
#include "stale.h"
#include "store.h"

#define STATUS_INTERVAL_MS	5000
#define RETRY_MIN_MS		100	/* after a failed batch ... */
#define RETRY_MAX_MS		5000	/* ... doubling up to this */
#define LOOP_QUEUE_MIN		1024	/* decoded messages waiting */
#define LINGER_MIN		32	/* fewer waiting: a trickle, the batch
					   and the decode stage wait for more up
					   to batch_linger */
#define FOLD_BUSY_MS		50	/* wait for another writer's lock */
#define PRIO_FOLD		2	/* of 0..2: the lowest; events without
					   a priority get 1 */
#define BUSY_GRACE_MS		2000	/* ... and retry quietly this long */
#define BATCH_BUDGET_US		40000	/* a batch longer than this halves
					   the next one: /healthz and
					   /metrics wait for at most one */

struct daemon {
	struct event_base	 *base;
	struct config		 *cf;
	const struct config_flags *flags;
	int			  must_exist;
	struct lt_queue		 *in;		/* to the decode stage */
	struct lt_queue		 *loop;		/* decoded + tasks, to us */
	struct lt_decoder	 *dec;
	struct natsconn		 *nc;
	struct lt_store		 *st;
	struct lt_fold		 *fold;
	struct lt_stale_opts	  stale;
	struct maint		 *maint;	/* retention, checkpoints */
	struct http		 *http;		/* /metrics, /healthz */
	struct lt_observe	 *obs;		/* latticed_state */
	struct js		 *js;		/* JetStream ingest, or NULL */
	struct resync		 *rs;		/* control-interface resync */
	struct v2ask		 *v2;		/* wasmCloud 2 heartbeat asks */
	struct alerts		 *alerts;	/* alert delivery */
	struct event		 *ev_wake, *ev_delay, *ev_sweep, *ev_wdog;
	struct event		 *ev_status, *ev_term, *ev_int, *ev_hup;
	struct event		 *ev_retry;
	int			  connected, ready, stopping, status;
	int64_t			  window_start_ms;
	int64_t			  batch_start_ms;	/* mono, last batch */
	uint64_t		  progress, progress_seen;
	uint64_t		  folded, rejected, dropped;
	/* the batch being folded, kept while the database fails */
	struct lt_item		 *held;
	size_t			  held_n;
	int64_t			  retry_ms;	/* backoff, 0: no fault */
	int64_t			  fault_since_ms; /* first failure, 0: none */
	int			  faulted;	/* reported as a fault */
	/* dropped messages recorded in the next committed batch */
	struct lt_item		 *ovf;
	uint64_t		  ovf_dropped, nats_dropped;
	/* drops not yet in a log line (rate-limited) */
	uint64_t		  log_dropped, log_kept, log_nats_dropped;
	size_t			  queued;	/* alert changes of the batch */
	size_t			  batch_n;	/* next batch size, <= batch_max */
};

/* Stop the loop with a failure status. */
static void
die(struct daemon *d, const char *what, const struct lt_err *err)
{
	/* the message names its module ("store: ...") */
	log_warnx("%s: %s", what, err->msg);
	d->status = 1;
	event_base_loopexit(d->base, NULL);
}

/* Wake the loop (any thread): the loop queue's wake-up. */
static void
wake_loop(void *arg)
{
	event_active(arg, EV_READ, 0);
}

/*
 * Bound the queues' bytes by inbox_max_bytes, both together, each counting
 * what its consumer holds (lt_queue_done()): the decoded messages, waiting
 * for the loop or in the batch it folds, may take a quarter (a batch and
 * some; a decoded message counts its payload twice), the queue before the
 * decode stage and the stage's hand the rest.  0: inbox_max alone.
 */
static void
inbox_bytes(struct daemon *d)
{
	size_t	all = d->cf->inbox_max_bytes;

	/* 0 would lift the loop's bound: 1 means one message at a time */
	lt_queue_set_max_bytes(d->loop, all > 0 && all < 4 ? 1 : all / 4);
	lt_queue_set_max_bytes(d->in, all - all / 4);
}

/* --- the pipeline's hooks (pipeline.h) -------------------------------- */

/* Take what was dropped since the last batch, to record it in this one. */
static void
take_drops(struct daemon *d)
{
	struct lt_item	*ovf, **tail;
	uint64_t	 dropped;

	d->nats_dropped += natsconn_take_dropped(d->nc);
	ovf = lt_queue_take_overflow(d->in, &dropped);
	d->ovf_dropped += dropped;
	for (tail = &d->ovf; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = ovf;
}

/* In the batch's transaction first: record the dropped messages. */
static int
hook_begin(void *arg, struct lt_err *err)
{
	struct daemon	*d = arg;
	struct lt_item	*m;
	int		 rc;

	take_drops(d);
	for (m = d->ovf; m != NULL; m = m->next)
		if ((rc = lt_fold_reject(d->fold, m->msg.subject,
		    m->msg.received_ms, LT_ELIMIT, "inbox overflow",
		    m->msg.data, m->msg.len, m->size, err)) != LT_OK)
			return rc;
	return LT_OK;
}

/*
 * After commit: count and log the drops the batch recorded.  The log
 * lines add up to the counters: what a rate-limited line could not say is
 * carried into the next one that is written.
 */
static void
drops_committed(struct daemon *d)
{
	uint64_t	kept = 0;
	struct lt_item	*m;

	for (m = d->ovf; m != NULL; m = m->next)
		kept++;
	if (d->nats_dropped > 0) {
		d->dropped += d->nats_dropped;
		metrics_overflow(d->nats_dropped, 0);
		d->log_nats_dropped += d->nats_dropped;
	}
	if (d->ovf_dropped > 0) {
		d->dropped += d->ovf_dropped;
		metrics_overflow(d->ovf_dropped, kept);
		d->log_dropped += d->ovf_dropped;
		d->log_kept += kept;
	}
	if (d->log_nats_dropped > 0 && log_warnx_rl("nats-dropped", "nats: "
	    "subscription pending limit reached, dropped %llu messages",
	    (unsigned long long)d->log_nats_dropped))
		d->log_nats_dropped = 0;
	if (d->log_dropped > 0 && log_warnx_rl("overflow", "inbox: full "
	    "(inbox_max %zu, inbox_max_bytes %zu), dropped %llu messages "
	    "(%llu kept in rejected_events)", d->cf->inbox_max,
	    d->cf->inbox_max_bytes,
	    (unsigned long long)d->log_dropped,
	    (unsigned long long)d->log_kept))
		d->log_dropped = d->log_kept = 0;
	lt_item_free(d->ovf);
	d->ovf = NULL;
	d->ovf_dropped = d->nats_dropped = 0;
}

/* Whether to fold a message. */
static int
hook_wanted(void *arg, const struct lt_item *it)
{
	struct daemon	*d = arg;

	return d->js == NULL || js_wanted(d->js, it);
}

/* A committed message: metrics and the log. */
static void
hook_folded(void *arg, const struct lt_item *it, enum lt_outcome out,
    const struct lt_fold_info *fi, const struct lt_err *why)
{
	struct daemon	*d = arg;

	metrics_event(fi, out, why->code, it->msg.received_ms);
	d->folded++;
	if (out == LT_OUT_REJECTED) {
		d->rejected++;
		/* a message that failed alone is kept as poison */
		log_warnx_rl("reject", "event rejected: subject=%s %s: %s%s%s",
		    it->msg.subject != NULL ? it->msg.subject : "-",
		    why->code == LT_ESTORE ? "poison" : lt_strerror(why->code),
		    why->msg,
		    why->field[0] ? " field=" : "", why->field);
	} else
		log_debug("event %s: subject=%s", lt_outcome_name(out),
		    it->msg.subject != NULL ? it->msg.subject : "-");
}

/* In the transaction last: the stream position, the alert outbox. */
static int
hook_end(void *arg, uint64_t last_seq, struct lt_err *err)
{
	struct daemon	*d = arg;
	size_t		 q = 0;
	int		 rc;

	if (d->js != NULL &&
	    (rc = js_save_position(d->js, last_seq, err)) != LT_OK)
		return rc;
	if ((rc = alerts_enqueue(d->alerts, clock_now_ms(), &q, err)) !=
	    LT_OK)
		return rc;
	d->queued += q;
	return LT_OK;
}

/* After commit: acknowledge a JetStream message. */
static void
hook_ack(void *arg, struct lt_item *it)
{
	struct daemon	*d = arg;

	if (d->js != NULL)
		js_ack(d->js, it);
}

/* A message that failed alone. */
static enum lt_verdict
hook_failed(void *arg, struct lt_item *it, const struct lt_err *why)
{
	struct daemon	*d = arg;

	if (d->js != NULL)
		return js_failed(d->js, it, why);
	log_warnx("fold: subject=%s failed alone (%s); kept in "
	    "rejected_events as poison", it->msg.subject != NULL ?
	    it->msg.subject : "-", why->msg);
	return LT_V_POISON;
}

/* After a commit: the drops it recorded, alerts to deliver. */
static void
hook_committed(void *arg, size_t n)
{
	struct daemon	*d = arg;

	(void)n;
	if (d->ovf != NULL || d->ovf_dropped > 0 || d->nats_dropped > 0)
		drops_committed(d);
	if (d->queued > 0)
		alerts_kick(d->alerts);
	d->queued = 0;
}

static const struct lt_pipeline_hooks hooks_tmpl = {
	.begin = hook_begin,
	.wanted = hook_wanted,
	.folded = hook_folded,
	.end = hook_end,
	.ack = hook_ack,
	.failed = hook_failed,
	.committed = hook_committed,
};

/* The next batch's size: batch_n, which the batch budget adapts, within
   batch_max (which SIGHUP may have lowered). */
static size_t
batch_size(struct daemon *d)
{
	if (d->batch_n == 0 || d->batch_n > d->cf->batch_max)
		d->batch_n = d->cf->batch_max;
	return d->batch_n;
}

/*
 * Fold the held batch.  When the database fails (full, read-only, locked,
 * I/O), nothing is lost: the batch stays held and is tried again with a
 * growing backoff, while the queues hold what keeps arriving (core NATS
 * drops past inbox_max, counted; JetStream acknowledges nothing
 * uncommitted), and /healthz says why.  Returns 0 when committed.
 */
static int
fold_held(struct daemon *d)
{
	struct lt_pipeline_hooks h = hooks_tmpl;
	struct lt_err		 err;
	struct timeval		 tv;
	int64_t			 t0 = metrics_mono_us(), now;
	int			 rc;

	h.arg = d;
	d->queued = 0;
	rc = lt_pipeline_batch(d->fold, &d->cf->limits, &h, d->held, &err);
	if (rc != LT_OK) {
		now = clock_now_ms();
		if (d->fault_since_ms == 0)
			d->fault_since_ms = now;
		/* another writer's lock (the checkpointer's truncate, an
		   operator's sqlite3) is waited out quietly for a moment;
		   anything else, or a lock that stays, is a fault */
		if (!err.db_busy || now - d->fault_since_ms >= BUSY_GRACE_MS) {
			metrics_batch(d->held_n, 0, 0, 0, err.msg, now);
			log_warnx_rl("fold-retry", "fold: %s; %zu messages "
			    "kept, retrying", err.msg, d->held_n);
			d->faulted = 1;
		} else
			log_debug("fold: %s; retrying", err.msg);
		d->retry_ms = d->retry_ms == 0 ? RETRY_MIN_MS :
		    d->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
		    d->retry_ms * 2;
		if (!d->stopping)
			evtimer_add(d->ev_retry, clock_tv(d->retry_ms, &tv));
		return -1;
	}
	d->fault_since_ms = 0;
	if (d->faulted)
		log_info("fold: the database takes writes again; %zu kept "
		    "messages committed", d->held_n);
	d->faulted = 0;
	d->retry_ms = 0;
	t0 = metrics_mono_us() - t0;
	metrics_batch(d->held_n, t0, 0, 1, NULL, clock_now_ms());
	/* keep each batch within the budget, so the loop answers HTTP and
	   runs its timers between batches however deep the backlog */
	if (t0 > BATCH_BUDGET_US && d->batch_n > 1)
		d->batch_n /= 2;
	else if (t0 < BATCH_BUDGET_US / 4 && d->held_n == d->batch_n)
		d->batch_n = d->batch_n * 2 > d->cf->batch_max ?
		    d->cf->batch_max : d->batch_n * 2;
	lt_item_free(d->held);
	d->held = NULL;
	d->held_n = 0;
	lt_queue_done(d->loop);
	d->progress++;
	return 0;
}

/*
 * Take one batch from the loop's queue, run its tasks and fold it.  0, or
 * -1 when the database failed it (held for a retry); *empty says the queue
 * had nothing (closed and drained, when block).
 */
static int
fold_batch(struct daemon *d, int block, int *empty)
{
	struct lt_item	*head;
	size_t		 n;

	*empty = 0;
	if (d->held != NULL)
		return fold_held(d);
	head = lt_queue_take(d->loop, batch_size(d), block, &n);
	if (head == NULL) {
		*empty = 1;
		return 0;
	}
	lt_item_run_tasks(head);
	take_drops(d);
	if (n == 0 && d->ovf == NULL && d->ovf_dropped == 0 &&
	    d->nats_dropped == 0) {
		lt_item_free(head);
		lt_queue_done(d->loop);
		return 0;
	}
	d->held = head;
	d->held_n = n;
	return fold_held(d);
}

/* Resync the configured lattices (or, for "*", those of the hosts table
   with a host up, at most resync_max_lattices) from the control
   interface. */
static void
resync_kick(struct daemon *d, const char *why)
{
	struct resync_list	 rl = { 0 };
	size_t			 i;
	int			 all = 0;

	if (d->rs == NULL || d->stopping)
		return;
	(void)v2ask_send(d->v2, d->obs, why);
	for (i = 0; i < d->cf->nlattices; i++)
		if (strcmp(d->cf->lattices[i], "*") == 0)
			all = 1;
	if (!all)
		for (i = 0; i < d->cf->nlattices; i++)
			resync_list_add(&rl, d->cf->lattices[i]);
	else
		(void)resync_list_up(d->obs, d->cf->resync_max_lattices, &rl);
	resync_start(d->rs, &rl, d->cf->resync_gather_ms, why);
	metrics_resync();
	resync_list_clear(&rl);
}

/* Act on what the JetStream thread posted (a task of the loop queue). */
static void
on_js_notice(void *arg)
{
	struct daemon		*d = arg;
	struct js_notices	 n;
	struct lt_err		 err;

	if (d->js == NULL || !js_notices(d->js, &n))
		return;
	lt_err_clear(&err);
	if (n.error[0] != '\0')
		log_warnx_rl("js-error", "%s", n.error);
	if (n.fatal) {
		d->status = 1;
		event_base_loopexit(d->base, NULL);
		return;
	}
	if (n.ready) {
		if (js_ready(d->js, &err) != LT_OK) {
			die(d, "jetstream", &err);
			return;
		}
		/* /readyz: the durable consumer is bound */
		http_set_ready("jetstream", 1);
	}
	if (n.gap_to > 0) {
		metrics_gap(n.gap_to - n.gap_from + 1);
		log_warnx("jetstream: gap: stream sequences %llu..%llu (%llu "
		    "messages) expired before latticed read them; resyncing",
		    (unsigned long long)n.gap_from,
		    (unsigned long long)n.gap_to,
		    (unsigned long long)(n.gap_to - n.gap_from + 1));
		if (js_record_gap(d->js, d->fold, n.gap_from, n.gap_to,
		    &err) != LT_OK)
			log_warnx("jetstream: gap not recorded: %s", err.msg);
	}
	if (n.gap_to > 0 || n.reset)
		resync_kick(d, n.reset ? "stream reset" : "gap");
}

/* Publish STATUS=. */
static void
status_update(struct daemon *d)
{
	int64_t	up, stale;

	metrics_hosts(clock_now_ms(), &up, &stale);
	notify_status("%s; %lld hosts up, %lld stale; %llu events folded, "
	    "%llu rejected, %llu dropped", d->connected ? "connected" :
	    "disconnected", (long long)up, (long long)stale,
	    (unsigned long long)d->folded, (unsigned long long)d->rejected,
	    (unsigned long long)d->dropped);
}

/* The connection changed state (a task from natsconn). */
static void
on_conn(void *arg, enum natsconn_state st, int64_t ms)
{
	struct daemon	*d = arg;
	char		 why[256];

	switch (st) {
	case NATSCONN_UP:
		if (!d->connected && d->ready)
			resync_kick(d, "reconnect");
		if (!d->connected)
			log_info("nats: connected");
		d->connected = 1;
		metrics_nats(1, ms);
		/* silence before this instant is our outage, not theirs */
		d->window_start_ms = ms;
		status_update(d);
		break;
	case NATSCONN_DOWN:
		if (d->connected)
			log_warnx("nats: disconnected (%s), reconnecting",
			    natsconn_last_error(d->nc, why, sizeof(why)));
		d->connected = 0;
		metrics_nats(0, ms);
		status_update(d);
		break;
	case NATSCONN_CLOSED:
		d->connected = 0;
		metrics_nats(0, ms);
		if (!d->stopping) {
			log_warnx("nats: connection closed: %s",
			    natsconn_last_error(d->nc, why, sizeof(why)));
			d->status = 1;
			event_base_loopexit(d->base, NULL);
		}
		break;
	}
}

/* The subscriptions are live (a task from natsconn). */
static void
on_live(void *arg)
{
	struct daemon	*d = arg;

	if (d->ready)
		return;
	d->ready = 1;
	http_set_ready("subscriptions", 1);
	notify_ready();
	log_info("ready: subscriptions live on %zu lattice pattern(s)",
	    d->cf->nlattices);
	resync_kick(d, "start");
	status_update(d);
}

/* An asynchronous NATS error (a task from natsconn). */
static void
on_nats_error(void *arg, const char *msg)
{
	(void)arg;
	log_warnx_rl("nats-error", "%s", msg);
}

/* Fold what the pipeline hands the loop: one batch, then re-arm so
   timers and HTTP get their turn between batches. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv;
	int64_t		 wait, delay;
	size_t		 n;
	int		 empty, backlog;

	(void)fd;
	(void)what;
	if (d->stopping || d->held != NULL)
		return;		/* the retry timer folds the held batch */
	n = lt_queue_len(d->loop, NULL);
	/*
	 * Group commit: fold as soon as the loop is free, so what arrived
	 * while the last batch folded and committed is the next batch.  Only
	 * when batches would start less than batch_delay apart does the rest
	 * wait for that much, so a trickle does not turn into one commit per
	 * message; and while fewer than LINGER_MIN small ones wait,
	 * batch_linger: a commit costs about as much as folding a few
	 * heartbeats, so a steady trickle (a fleet's heartbeats) commits a
	 * few times a second, not fifty, while a big heartbeat is worth a
	 * batch of its own.  The queue wakes us when LINGER_MIN are there.
	 * Under a backlog (batch_max wait, or a full batch of batch_n, the
	 * size the batch budget allows, and as many again before the
	 * decode stage, or half the inbox, or some in the spool) nothing
	 * waits: the loop folds back to back, HTTP and the timers still
	 * first between batches.  A trickle does not look like that.
	 */
	delay = d->cf->batch_delay_ms;
	if (n < LINGER_MIN && d->cf->batch_linger_ms > delay &&
	    lt_queue_bytes(d->loop) < LT_QUEUE_PACE_BYTES)
		delay = d->cf->batch_linger_ms;
	backlog = n >= d->cf->batch_max || (n >= batch_size(d) &&
	    (lt_queue_len(d->in, NULL) >= (d->batch_n < d->cf->inbox_max / 2 ?
	    d->batch_n : d->cf->inbox_max / 2) ||
	    natsconn_spool_oldest_ms(d->nc) != 0));
	if (n > 0 && delay > 0 && !backlog) {
		wait = d->batch_start_ms + delay - clock_mono_ms();
		if (wait > delay)
			wait = delay;
		if (wait > 0) {
			/* (re)armed: a fuller queue may bring it forward */
			evtimer_add(d->ev_delay, clock_tv(wait, &tv));
			return;
		}
	}
	d->batch_start_ms = clock_mono_ms();
	if (fold_batch(d, 0, &empty) == 0 && empty)
		return;		/* nothing there */
	if (d->held == NULL && lt_queue_len(d->loop, NULL) > 0)
		event_active(d->ev_wake, EV_READ, 0);
	else if (d->held == NULL)
		/* tasks queued behind the batch */
		event_active(d->ev_wake, EV_READ, 0);
}

/* Fold the held batch again (the database failed it). */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	if (d->held != NULL && fold_held(d) == 0)
		event_active(d->ev_wake, EV_READ, 0);
}

/* The earlier of two receive times, 0 standing for none. */
static int64_t
oldest(int64_t a, int64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* The time up to which everything received has been folded: now, or just
   before the oldest message still in the pipeline. */
static int64_t
folded_until(struct daemon *d, int64_t now)
{
	int64_t	a = 0, b = 0, o;

	(void)lt_queue_len(d->in, &a);
	(void)lt_queue_len(d->loop, &b);
	/* the spool holds what came after the queues' messages, but a
	   refill can leave both queues empty a moment */
	o = oldest(oldest(a, b), natsconn_spool_oldest_ms(d->nc));
	return o > 0 && o <= now ? o - 1 : now;
}

/* Mark silent hosts stale, in a transaction of its own. */
static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct daemon		*d = arg;
	struct lt_stale_result	 res = { 0 };
	struct lt_err		 err;
	int64_t			 now;
	size_t			 queued = 0;

	(void)fd;
	(void)what;
	d->progress++;
	/* never blame hosts for our own outage, nor while the database
	   refuses writes */
	if (!d->connected || d->stopping || d->held != NULL)
		return;
	/* judge silence only up to what has been folded: a backlog is no
	   host's fault, and the sweep never waits for it to drain */
	now = folded_until(d, clock_now_ms());
	lt_err_clear(&err);
	if (lt_fold_begin(d->fold, &err) != LT_OK)
		goto fail;
	if (lt_stale_sweep(d->fold, &d->stale, now, d->window_start_ms,
	    &res, &err) != LT_OK ||
	    alerts_enqueue(d->alerts, now, &queued, &err) != LT_OK) {
		lt_fold_rollback(d->fold);
		goto fail;
	}
	if (lt_fold_commit(d->fold, &err) != LT_OK) {
		lt_fold_rollback(d->fold);
		goto fail;
	}
	if (queued > 0)
		alerts_kick(d->alerts);
	if (res.marked > 0) {
		log_info("sweep: %d host(s) marked stale", res.marked);
		status_update(d);
	}
	return;
fail:
	/* the next sweep tries again; a lasting fault shows in /healthz
	   through the fold's batches */
	if (err.db_busy)
		log_debug("sweep: %s; next sweep", err.msg);
	else {
		metrics_batch(0, 0, 0, 0, err.msg, clock_now_ms());
		log_warnx_rl("sweep", "sweep: %s", err.msg);
	}
}

/* Pet the watchdog only while the loop makes progress. */
static void
on_wdog(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	if (d->progress != d->progress_seen ||
	    (lt_queue_len(d->loop, NULL) == 0 && d->held == NULL))
		notify_watchdog();
	else
		log_warnx("watchdog: no batch folded while messages wait");
	d->progress_seen = d->progress;
}

/* Refresh STATUS= periodically. */
static void
on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	status_update(arg);
}

/* Stop taking messages, fold what is queued, leave the loop. */
static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	int		 empty;

	(void)what;
	if (d->stopping)
		return;
	log_info("shutdown: signal %d", (int)sig);
	d->stopping = 1;
	notify_stopping();
	natsconn_unsubscribe(d->nc);
	js_stop(d->js);
	/* the decode stage drains its input into the loop queue and closes
	   it: fold until it is empty */
	lt_queue_close(d->in);
	for (;;) {
		if (fold_batch(d, 1, &empty) == -1) {
			log_warnx("shutdown: the database refuses writes; %zu "
			    "messages not folded%s", d->held_n, d->js != NULL ?
			    " (not acknowledged: redelivered at the next "
			    "start)" : "");
			d->status = 1;
			break;
		}
		if (empty)
			break;
	}
	if (d->log_dropped > 0 || d->log_nats_dropped > 0)
		log_warnx("inbox: dropped %llu more messages (%llu kept in "
		    "rejected_events) since the last line, %llu at nats.c",
		    (unsigned long long)d->log_dropped,
		    (unsigned long long)d->log_kept,
		    (unsigned long long)d->log_nats_dropped);
	log_info("shutdown: folded %llu messages (%llu rejected, %llu "
	    "dropped)", (unsigned long long)d->folded,
	    (unsigned long long)d->rejected, (unsigned long long)d->dropped);
	event_base_loopexit(d->base, NULL);
}

/* Set the stale options from the config. */
static void
apply_stale(struct daemon *d)
{
	config_stale_opts(d->cf, &d->stale);
}

/* Say which settings need a restart. */
static void
warn_restart(const struct config *o, const struct config *n)
{
	size_t	i;
	int	lists = o->nnats_url != n->nnats_url ||
		    o->nlattices != n->nlattices;

	for (i = 0; !lists && i < o->nnats_url; i++)
		lists = strcmp(o->nats_url[i], n->nats_url[i]) != 0;
	for (i = 0; !lists && i < o->nlattices; i++)
		lists = strcmp(o->lattices[i], n->lattices[i]) != 0;
	if (lists || strcmp(o->db, n->db) != 0)
		log_warnx("reload: db, nats_url or lattices changed; "
		    "restart latticed to apply");
}

/* Hand the limit_* keys to the fold (SIGHUP). */
static void
apply_limits(struct daemon *d)
{
	struct lt_fold_opts	fo;

	lt_fold_opts_default(&fo);
	fo.limits = d->cf->limits;
	fo.v2_lattice = d->cf->v2_lattice;
	fo.v2_lattice_map = d->cf->v2_lattice_map;
	lt_fold_set_opts(d->fold, &fo);
}

/* Re-read the config; keep the old one when the new one is bad. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon		*d = arg;
	struct config		*ncf;
	struct config_errors	 errs = { 0 };
	struct maint_opts	 mo;
	struct timeval		 tv;
	size_t			 i;

	(void)sig;
	(void)what;
	if (d->cf->path == NULL) {
		log_info("reload: no config file");
		return;
	}
	if (config_load(d->cf->path, d->must_exist, d->flags, &ncf,
	    &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			log_warnx("%s", errs.line[i]);
		log_warnx("reload: %s has errors; keeping the old "
		    "configuration", d->cf->path);
		config_errors_clear(&errs);
		return;
	}
	warn_restart(d->cf, ncf);
	config_free(d->cf);
	d->cf = ncf;
	http_reload(d->http, d->cf);
	log_setverbose(d->cf->verbose);
	apply_stale(d);
	alerts_reload(d->alerts, d->cf);
	lt_queue_set_max(d->in, d->cf->inbox_max);
	inbox_bytes(d);
	lt_decoder_set_limits(d->dec, &d->cf->limits);
	lt_decoder_set_pace(d->dec, LINGER_MIN, d->cf->batch_linger_ms);
	maint_opts_config(d->cf, &mo);
	maint_set_opts(d->maint, &mo);
	apply_limits(d);
	resync_set_subjects(d->rs, d->cf->ctl_topic_prefix, d->cf->js_domain);
	evtimer_add(d->ev_sweep, clock_tv(d->cf->sweep_interval_ms, &tv));
	log_info("reload: %s: stale_threshold %lldms sweep_interval %lldms "
	    "batch_max %zu batch_delay %lldms batch_linger %lldms",
	    d->cf->path, (long long)d->cf->stale_threshold_ms,
	    (long long)d->cf->sweep_interval_ms, d->cf->batch_max,
	    (long long)d->cf->batch_delay_ms,
	    (long long)d->cf->batch_linger_ms);
}

/* Open the database and the fold. */
static int
open_store(struct daemon *d)
{
	struct lt_fold_opts	fo;
	struct lt_err		err;

	lt_err_clear(&err);
	maint_announce_migration(d->cf->db);
	if (lt_store_open(d->cf->db, &d->st, &err) != LT_OK) {
		maint_open_failed(d->cf->db, &err);
		return -1;
	}
	/* a lock held elsewhere fails a batch quickly: it is kept and
	   retried, and the loop answers /healthz meanwhile */
	lt_store_set_busy_timeout(d->st, FOLD_BUSY_MS);
	lt_fold_opts_default(&fo);
	fo.limits = d->cf->limits;
	fo.v2_lattice = d->cf->v2_lattice;
	fo.v2_lattice_map = d->cf->v2_lattice_map;
	if (lt_fold_new(d->st, &fo, &d->fold, &err) != LT_OK ||
	    lt_observe_new(d->st, &d->obs, &err) != LT_OK) {
		log_warnx("db: %s: %s", d->cf->db, err.msg);
		return -1;
	}
	log_info("db: %s open, schema version %d", d->cf->db,
	    lt_store_schema_version());
	return 0;
}

/* Create the loop's events. */
static int
setup_events(struct daemon *d)
{
	struct event_config	*ecf;
	struct timeval		 tv;
	uint64_t		 wd;

	if ((ecf = event_config_new()) == NULL)
		return -1;
	/* the fold's events run below everything else (HTTP, timers,
	   signals: priority 1), one callback before the loop looks again:
	   a backlog never makes /healthz wait for more than one batch */
	event_config_set_max_dispatch_interval(ecf, NULL, 1, PRIO_FOLD);
	d->base = event_base_new_with_config(ecf);
	event_config_free(ecf);
	if (d->base == NULL || event_base_priority_init(d->base, 3) == -1)
		return -1;
	d->ev_wake = event_new(d->base, -1, 0, on_wake, d);
	d->ev_delay = evtimer_new(d->base, on_wake, d);
	d->ev_sweep = event_new(d->base, -1, EV_PERSIST, on_sweep, d);
	d->ev_status = event_new(d->base, -1, EV_PERSIST, on_status, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, on_term, d);
	d->ev_int = evsignal_new(d->base, SIGINT, on_term, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, on_hup, d);
	d->ev_retry = evtimer_new(d->base, on_retry, d);
	if (d->ev_wake == NULL || d->ev_delay == NULL || d->ev_sweep == NULL ||
	    d->ev_status == NULL || d->ev_term == NULL || d->ev_int == NULL ||
	    d->ev_hup == NULL || d->ev_retry == NULL)
		return -1;
	if (event_priority_set(d->ev_wake, PRIO_FOLD) == -1 ||
	    event_priority_set(d->ev_delay, PRIO_FOLD) == -1 ||
	    event_priority_set(d->ev_retry, PRIO_FOLD) == -1)
		return -1;
	evsignal_add(d->ev_term, NULL);
	evsignal_add(d->ev_int, NULL);
	evsignal_add(d->ev_hup, NULL);
	evtimer_add(d->ev_sweep, clock_tv(d->cf->sweep_interval_ms, &tv));
	evtimer_add(d->ev_status, clock_tv(STATUS_INTERVAL_MS, &tv));
	if ((wd = notify_watchdog_usec()) > 0) {
		d->ev_wdog = event_new(d->base, -1, EV_PERSIST, on_wdog, d);
		if (d->ev_wdog == NULL)
			return -1;
		evtimer_add(d->ev_wdog, clock_tv((int64_t)(wd / 2000), &tv));
		log_debug("watchdog: every %llums",
		    (unsigned long long)(wd / 2000));
	}
	return 0;
}

/* Free every event. */
static void
free_events(struct daemon *d)
{
	struct event	*evs[] = { d->ev_wake, d->ev_delay, d->ev_sweep,
	    d->ev_wdog, d->ev_status, d->ev_term, d->ev_int, d->ev_hup,
	    d->ev_retry };
	size_t		 i;

	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
}

/* Run the daemon until a signal stops it. */
int
daemon_run(struct config *cf, const struct config_flags *flags,
    int must_exist)
{
	struct daemon		d;
	struct maint_opts	mo;
	struct natsconn_notices	ncb = { on_conn, on_live, on_nats_error, NULL };
	struct dblock		*lock = NULL;
	size_t			lmax;
	int			connected = 0;

	memset(&d, 0, sizeof(d));
	d.cf = cf;
	d.flags = flags;
	d.must_exist = must_exist;
	d.status = 1;
	signal(SIGPIPE, SIG_IGN);
	apply_stale(&d);
	if (natsconn_init() == -1) {
		log_warnx("nats: cannot initialise");
		goto out;
	}
	if (dblock_acquire(cf->db, &lock) == -1 || open_store(&d) == -1)
		goto out;
	if (setup_events(&d) == -1) {
		log_warnx("event: cannot set up the loop");
		goto out;
	}
	/* decoded messages waiting for the loop: a few batches, never more
	   than inbox_max */
	lmax = cf->batch_max * 2 > LOOP_QUEUE_MIN ? cf->batch_max * 2 :
	    LOOP_QUEUE_MIN;
	if (lmax > cf->inbox_max)
		lmax = cf->inbox_max;
	if (lt_queue_new(cf->inbox_max, NULL, NULL, &d.in) != LT_OK ||
	    lt_queue_new(lmax, wake_loop, d.ev_wake, &d.loop) != LT_OK) {
		log_warnx("pipeline: cannot start: out of memory");
		goto out;
	}
	inbox_bytes(&d);
	lt_queue_set_wake_at(d.loop, LINGER_MIN);
	if (lt_decoder_start(d.in, d.loop, &cf->limits, &d.dec) != LT_OK) {
		log_warnx("pipeline: cannot start: out of memory or threads");
		goto out;
	}
	lt_decoder_set_pace(d.dec, LINGER_MIN, cf->batch_linger_ms);
	maint_opts_config(cf, &mo);
	if (maint_start(d.base, d.loop, d.st, cf->db, &mo, &d.maint) == -1)
		goto out;
	if (metrics_attach(d.st, d.in, d.loop, cf->db, clock_now_ms()) == -1 ||
	    http_start(d.base, cf, &d.http) == -1)
		goto out;
	d.window_start_ms = clock_now_ms();
	/* the first batch_delay counts from start-up */
	d.batch_start_ms = clock_mono_ms();
	ncb.arg = &d;
	if (natsconn_open(cf, d.in, d.loop, &ncb, &d.nc, &connected) == -1)
		goto out;
	if (cf->jetstream)
		http_require_ready("jetstream");
	if (cf->jetstream && js_open(natsconn_connection(d.nc), cf, d.in,
	    d.loop, on_js_notice, &d, d.obs, &d.js) == -1)
		goto out;
	if (resync_new(d.base, natsconn_connection(d.nc), d.in, d.loop, d.obs,
	    &d.rs) == -1)
		goto out;
	resync_set_subjects(d.rs, cf->ctl_topic_prefix, cf->js_domain);
	if (cf->v2_heartbeats && v2ask_new(natsconn_connection(d.nc),
	    d.in, &d.v2) == -1)
		goto out;
	if (alerts_start(d.base, d.st, natsconn_connection(d.nc), cf,
	    &d.alerts) == -1)
		goto out;
	maint_set_alerts(d.maint, d.alerts);
	d.connected = connected;
	metrics_nats(connected, clock_now_ms());
	if (connected)
		log_info("nats: connected");
	status_update(&d);
	d.status = 0;
	event_base_dispatch(d.base);
out:
	http_stop(d.http);
	/* before the store and the NATS connection its sinks use */
	alerts_stop(d.alerts);
	resync_free(d.rs);
	v2ask_free(d.v2);
	js_close(d.js);
	if (d.in != NULL && d.loop != NULL) {
		size_t	n;

		/* nats.c handles must go before the connection, and the
		   closed queues outlive it (its last callbacks push) */
		lt_queue_close(d.in);
		lt_queue_close(d.loop);
		lt_decoder_stop(d.dec);
		lt_item_free(lt_queue_take(d.in, SIZE_MAX, 0, &n));
		lt_item_free(lt_queue_take(d.loop, SIZE_MAX, 0, &n));
	}
	lt_item_free(d.held);
	lt_item_free(d.ovf);
	natsconn_close(d.nc);
	maint_stop(d.maint);
	free_events(&d);
	lt_queue_free(d.in);
	lt_queue_free(d.loop);
	metrics_detach();
	lt_observe_free(d.obs);
	lt_fold_free(d.fold);
	lt_store_close(d.st);
	dblock_release(lock);
	if (d.base != NULL)
		event_base_free(d.base);
	config_free(d.cf);
	log_info("exiting with status %d", d.status);
	return d.status;
}
