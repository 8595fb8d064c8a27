/*
 * daemon.c - the loop: drain the inbox in batches, sweep for silent hosts,
 * pet the watchdog, handle signals.  Everything here runs on the loop
 * thread; nats.c's threads only reach it through the inbox.
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
#include "inbox.h"
#include "js.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "natsconn.h"
#include "notify.h"
#include "observe.h"
#include "resync.h"
#include "stale.h"
#include "store.h"

#define STATUS_INTERVAL_MS	5000

struct daemon {
	struct event_base	 *base;
	struct config		 *cf;
	const struct config_flags *flags;
	int			  must_exist;
	struct inbox		 *inbox;
	struct natsconn		 *nc;
	struct lt_store		 *st;
	struct lt_fold		 *fold;
	struct lt_stale_opts	  stale;
	struct maint		 *maint;	/* retention, checkpoints */
	struct http		 *http;		/* /metrics, /healthz */
	struct lt_observe	 *obs;		/* latticed_state */
	struct js		 *js;		/* JetStream ingest, or NULL */
	struct resync		 *rs;		/* control-interface resync */
	struct alerts		 *alerts;	/* alert delivery */
	struct js_counts	  jsc;
	struct event		 *ev_wake, *ev_delay, *ev_sweep, *ev_wdog;
	struct event		 *ev_status, *ev_term, *ev_int, *ev_hup;
	int			  connected, ready, stopping, status;
	int64_t			  window_start_ms;
	int64_t			  batch_start_ms;	/* mono, last on_wake fold */
	uint64_t		  progress, progress_seen;
	uint64_t		  folded, rejected, dropped;
};

/* Stop the loop with a failure status. */
static void
die(struct daemon *d, const char *what, const struct lt_err *err)
{
	const char	*cls = lt_strerror(err->code);

	/* store errors already say "store: ..." */
	if (strncmp(err->msg, cls, strlen(cls)) == 0)
		log_warnx("%s: %s", what, err->msg);
	else
		log_warnx("%s: %s: %s", what, cls, err->msg);
	d->status = 1;
	event_base_loopexit(d->base, NULL);
}

/* Record dropped messages (inbox overflow) inside the open transaction. */
static int
record_overflow(struct daemon *d, struct lt_err *err)
{
	struct inbox_msg	*ovf, *m;
	uint64_t		 dropped, lost;
	int			 rc = LT_OK;

	/* nats.c's own pending queue overflowed: nothing left to record */
	if ((lost = natsconn_take_dropped(d->nc)) > 0) {
		d->dropped += lost;
		metrics_overflow(lost);
		log_warnx_rl("nats-dropped", "nats: subscription pending "
		    "limit reached, dropped %llu messages",
		    (unsigned long long)lost);
	}
	ovf = inbox_take_overflow(d->inbox, &dropped);
	if (dropped == 0)
		return LT_OK;
	d->dropped += dropped;
	metrics_overflow(dropped);
	log_warnx_rl("overflow", "inbox: full (inbox_max %zu), dropped %llu "
	    "messages", d->cf->inbox_max, (unsigned long long)dropped);
	for (m = ovf; m != NULL && rc == LT_OK; m = m->next)
		rc = lt_fold_reject(d->fold, m->subject, m->received_ms,
		    LT_ELIMIT, "inbox overflow", m->data, m->len, m->size,
		    err);
	inbox_msg_free(ovf);
	return rc;
}

/* record_overflow() for js_fold_batch(). */
static int
overflow_cb(void *arg, struct lt_err *err)
{
	return record_overflow(arg, err);
}

/* Fold a JetStream batch: commit, then acknowledge (js.c). */
static int
js_batch(struct daemon *d, struct inbox_msg *head, size_t n, int64_t t0)
{
	struct lt_err	err;
	uint64_t	before = d->jsc.folded, rej = d->jsc.rejected;

	lt_err_clear(&err);
	if (js_fold_batch(d->js, d->fold, head, overflow_cb, d, &d->jsc,
	    &err) != LT_OK) {
		metrics_batch(n, 0, 0, 0, err.msg, clock_now_ms());
		inbox_msg_free(head);
		die(d, "fold", &err);
		return -1;
	}
	d->folded += d->jsc.folded - before;
	d->rejected += d->jsc.rejected - rej;
	metrics_batch(n, metrics_mono_us() - t0, 0, 1, NULL, clock_now_ms());
	inbox_msg_free(head);
	d->progress++;
	/* js.c owns the transaction: the pump queues what it fired */
	alerts_kick(d->alerts);
	return 0;
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
	for (i = 0; i < d->cf->nlattices; i++)
		if (strcmp(d->cf->lattices[i], "*") == 0)
			all = 1;
	if (!all)
		for (i = 0; i < d->cf->nlattices; i++)
			resync_list_add(&rl, d->cf->lattices[i]);
	else
		(void)resync_list_up(d->obs, d->cf->resync_max_lattices, &rl);
	resync_start(d->rs, &rl, d->cf->resync_gather_ms, why);
	resync_list_clear(&rl);
}

/* Act on what the JetStream thread posted. */
static void
handle_js(struct daemon *d)
{
	struct js_notices	n;
	struct lt_err		err;

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
	if (n.ready && js_ready(d->js, &err) != LT_OK) {
		die(d, "jetstream", &err);
		return;
	}
	if (n.gap_to > 0) {
		d->jsc.gaps++;
		log_warnx("jetstream: gap: stream sequences %llu..%llu (%llu "
		    "messages) expired before latticed read them; resyncing",
		    (unsigned long long)n.gap_from,
		    (unsigned long long)n.gap_to,
		    (unsigned long long)(n.gap_to - n.gap_from + 1));
		if (js_record_gap(d->js, d->fold, n.gap_from, n.gap_to,
		    &err) != LT_OK) {
			die(d, "jetstream", &err);
			return;
		}
	}
	if (n.gap_to > 0 || n.reset)
		resync_kick(d, n.reset ? "stream reset" : "gap");
}

/* Fold one batch (at most batch_max) in one transaction. */
static int
fold_batch(struct daemon *d)
{
	struct inbox_msg	*head, *m;
	struct lt_msg		 lm;
	struct lt_fold_info	 fi;
	struct lt_err		 err;
	enum lt_outcome		 out;
	size_t			 n, queued;
	int64_t			 t0, tc;
	int			 rc;

	lt_err_clear(&err);
	t0 = metrics_mono_us();
	head = inbox_take(d->inbox, d->cf->batch_max, &n);
	if (d->js != NULL)
		return js_batch(d, head, n, t0);
	if ((rc = lt_fold_begin(d->fold, &err)) != LT_OK)
		goto fail;
	if ((rc = record_overflow(d, &err)) != LT_OK)
		goto fail;
	for (m = head; m != NULL; m = m->next) {
		lm.subject = m->subject;
		lm.data = m->data;
		lm.len = m->len;
		lm.received_ms = m->received_ms;
		out = LT_OUT_APPLIED;
		lt_err_clear(&err);
		if ((rc = lt_fold_msg_info(d->fold, &lm, &out, &fi, &err)) !=
		    LT_OK)
			goto fail;
		metrics_event(&fi, out, err.code, m->received_ms);
		if (out == LT_OUT_REJECTED) {
			d->rejected++;
			log_warnx_rl("reject", "event rejected: subject=%s "
			    "%s: %s%s%s", m->subject, lt_strerror(err.code),
			    err.msg, err.field[0] ? " field=" : "",
			    err.field);
		} else
			log_debug("event %s: subject=%s",
			    lt_outcome_name(out), m->subject);
		d->folded++;
	}
	if ((rc = alerts_enqueue(d->alerts, clock_now_ms(), &queued, &err)) !=
	    LT_OK)
		goto fail;
	tc = metrics_mono_us();
	if ((rc = lt_fold_commit(d->fold, &err)) != LT_OK)
		goto fail;
	if (queued > 0)
		alerts_kick(d->alerts);
	metrics_batch(n, metrics_mono_us() - t0, metrics_mono_us() - tc, 1,
	    NULL, clock_now_ms());
	inbox_msg_free(head);
	d->progress++;
	return 0;
fail:
	metrics_batch(n, 0, 0, 0, err.msg, clock_now_ms());
	lt_fold_rollback(d->fold);
	inbox_msg_free(head);
	die(d, "fold", &err);
	return -1;
}

/* Fold everything queued (shutdown, before a sweep). */
static int
fold_all(struct daemon *d)
{
	int64_t	oldest;

	while (inbox_len(d->inbox, &oldest) > 0)
		if (fold_batch(d) == -1)
			return -1;
	return 0;
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

/* Act on connection notices posted by nats.c's threads. */
static void
handle_notices(struct daemon *d)
{
	struct inbox_notices	n;
	char			why[256];

	handle_js(d);
	if (!inbox_notices(d->inbox, &n))
		return;
	if (n.error[0] != '\0')
		log_warnx_rl("nats-error", "%s", n.error);
	switch (n.conn) {
	case INBOX_CONN_UP:
		if (!d->connected && d->ready)
			resync_kick(d, "reconnect");
		if (!d->connected)
			log_info("nats: connected");
		d->connected = 1;
		metrics_nats(1, n.conn_ms);
		/* silence before this instant is our outage, not theirs */
		d->window_start_ms = n.conn_ms;
		status_update(d);
		break;
	case INBOX_CONN_DOWN:
		if (d->connected)
			log_warnx("nats: disconnected (%s), reconnecting",
			    natsconn_last_error(d->nc, why, sizeof(why)));
		d->connected = 0;
		metrics_nats(0, n.conn_ms);
		status_update(d);
		break;
	case INBOX_CONN_CLOSED:
		d->connected = 0;
		metrics_nats(0, n.conn_ms);
		if (!d->stopping) {
			log_warnx("nats: connection closed: %s",
			    natsconn_last_error(d->nc, why, sizeof(why)));
			d->status = 1;
			event_base_loopexit(d->base, NULL);
		}
		break;
	case INBOX_CONN_NONE:
		break;
	}
	if (n.live && !d->ready) {
		d->ready = 1;
		http_set_ready("subscriptions", 1);
		notify_ready();
		log_info("ready: subscriptions live on %zu lattice "
		    "pattern(s)", d->cf->nlattices);
		resync_kick(d, "start");
		status_update(d);
	}
}

/* Drain the inbox: one batch, then re-arm so timers get their turn. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv;
	int64_t		 wait;
	size_t		 n;

	(void)fd;
	(void)what;
	handle_notices(d);
	if (d->stopping)
		return;
	n = inbox_len(d->inbox, NULL);
	if (n == 0)
		return;
	/*
	 * Group commit: fold as soon as the loop is free, so what arrived
	 * while the last batch folded and committed is the next batch.  Only
	 * when batches would start less than batch_delay apart does the rest
	 * wait for that much, so a trickle does not turn into one commit per
	 * message.
	 */
	if (n < d->cf->batch_max && d->cf->batch_delay_ms > 0) {
		wait = d->batch_start_ms + d->cf->batch_delay_ms -
		    clock_mono_ms();
		if (wait > d->cf->batch_delay_ms)
			wait = d->cf->batch_delay_ms;
		if (wait > 0) {
			if (!evtimer_pending(d->ev_delay, NULL))
				evtimer_add(d->ev_delay, clock_tv(wait, &tv));
			return;
		}
	}
	d->batch_start_ms = clock_mono_ms();
	if (fold_batch(d) == -1)
		return;
	if (inbox_len(d->inbox, NULL) > 0)
		event_active(d->ev_wake, EV_READ, 0);
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
	handle_notices(d);
	d->progress++;
	/* never blame hosts for our own outage */
	if (!d->connected || d->stopping)
		return;
	/* what already arrived counts before judging silence */
	if (fold_all(d) == -1)
		return;
	now = clock_now_ms();
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
	die(d, "sweep", &err);
}

/* Pet the watchdog only while the loop makes progress. */
static void
on_wdog(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	if (d->progress != d->progress_seen ||
	    inbox_len(d->inbox, NULL) == 0)
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

	(void)what;
	if (d->stopping)
		return;
	log_info("shutdown: signal %d", (int)sig);
	d->stopping = 1;
	notify_stopping();
	natsconn_unsubscribe(d->nc);
	js_stop(d->js);
	inbox_close(d->inbox);
	handle_notices(d);
	if (fold_all(d) == 0) {
		struct lt_err	 err;

		/* drops that arrived with an empty queue */
		lt_err_clear(&err);
		if (lt_fold_begin(d->fold, &err) != LT_OK ||
		    record_overflow(d, &err) != LT_OK ||
		    lt_fold_commit(d->fold, &err) != LT_OK) {
			lt_fold_rollback(d->fold);
			die(d, "shutdown", &err);
		}
	}
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
	inbox_set_max(d->inbox, d->cf->inbox_max);
	maint_opts_config(d->cf, &mo);
	maint_set_opts(d->maint, &mo);
	apply_limits(d);
	evtimer_add(d->ev_sweep, clock_tv(d->cf->sweep_interval_ms, &tv));
	log_info("reload: %s: stale_threshold %lldms sweep_interval %lldms "
	    "batch_max %zu batch_delay %lldms", d->cf->path,
	    (long long)d->cf->stale_threshold_ms,
	    (long long)d->cf->sweep_interval_ms, d->cf->batch_max,
	    (long long)d->cf->batch_delay_ms);
}

/*
 * Before opening a file of an older schema: say a migration runs, and ask
 * systemd for the time it needs, since READY=1 waits for it.  Migration
 * 003 rebuilds an index of events: 32 s for 10,000,000 events (5 GB) on
 * the 2-core bench machine with the file cached; allow 20 MB/s of file
 * plus a minute, beyond TimeoutStartSec.
 */
static void
announce_migration(const char *db)
{
	struct lt_err	err;
	int64_t		bytes;
	int		v;

	lt_err_clear(&err);
	if (lt_store_file_version(db, &v, &bytes, &err) != LT_OK) {
		log_debug("db: %s: %s", db, err.msg);	/* open says why */
		return;
	}
	if (v <= 0 || v >= lt_store_schema_version())
		return;
	log_info("db: %s: migrating %.1f MiB from schema version %d to %d; "
	    "a long history takes a while", db, (double)bytes / 1048576.0, v,
	    lt_store_schema_version());
	notify_status("migrating the database from schema version %d to %d",
	    v, lt_store_schema_version());
	notify_extend_timeout((uint64_t)(60 + bytes / (20 << 20)) * 1000000);
}

/* Open the database and the fold. */
static int
open_store(struct daemon *d)
{
	struct lt_fold_opts	fo;
	struct lt_err		err;

	lt_err_clear(&err);
	announce_migration(d->cf->db);
	if (lt_store_open(d->cf->db, &d->st, &err) != LT_OK) {
		log_warnx("db: %s: %s", d->cf->db, err.msg);
		return -1;
	}
	lt_fold_opts_default(&fo);
	fo.limits = d->cf->limits;
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
	/* after each callback, look at timers again: a busy inbox must
	   never starve the sweep or the watchdog */
	event_config_set_max_dispatch_interval(ecf, NULL, 1, 0);
	d->base = event_base_new_with_config(ecf);
	event_config_free(ecf);
	if (d->base == NULL)
		return -1;
	d->ev_wake = event_new(d->base, -1, 0, on_wake, d);
	d->ev_delay = evtimer_new(d->base, on_wake, d);
	d->ev_sweep = event_new(d->base, -1, EV_PERSIST, on_sweep, d);
	d->ev_status = event_new(d->base, -1, EV_PERSIST, on_status, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, on_term, d);
	d->ev_int = evsignal_new(d->base, SIGINT, on_term, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, on_hup, d);
	if (d->ev_wake == NULL || d->ev_delay == NULL || d->ev_sweep == NULL ||
	    d->ev_status == NULL || d->ev_term == NULL || d->ev_int == NULL ||
	    d->ev_hup == NULL)
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
	    d->ev_wdog, d->ev_status, d->ev_term, d->ev_int, d->ev_hup };
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
	struct dblock		*lock = NULL;
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
	maint_opts_config(cf, &mo);
	if (maint_start(d.base, d.st, cf->db, &mo, &d.maint) == -1)
		goto out;
	if (inbox_new(cf->inbox_max, d.ev_wake, &d.inbox) == -1)
		goto out;
	if (metrics_attach(d.st, d.inbox, cf->db, clock_now_ms()) == -1 ||
	    http_start(d.base, cf, &d.http) == -1)
		goto out;
	d.window_start_ms = clock_now_ms();
	/* the first batch_delay counts from start-up */
	d.batch_start_ms = clock_mono_ms();
	if (natsconn_open(cf, d.inbox, &d.nc, &connected) == -1)
		goto out;
	if (cf->jetstream && js_open(natsconn_connection(d.nc), cf, d.inbox,
	    d.ev_wake, d.obs, &d.js) == -1)
		goto out;
	if (resync_new(d.base, natsconn_connection(d.nc), d.inbox, d.obs,
	    &d.rs) == -1)
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
	js_close(d.js);
	if (d.inbox != NULL) {
		size_t	n;

		/* nats.c handles must go before the connection */
		inbox_close(d.inbox);
		inbox_msg_free(inbox_take(d.inbox, SIZE_MAX, &n));
	}
	natsconn_close(d.nc);
	free_events(&d);
	inbox_free(d.inbox);
	maint_stop(d.maint);
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
