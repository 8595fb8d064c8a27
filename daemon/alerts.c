/*
 * alerts.c - deliver alert changes to the sinks: enqueue, lease, deliver,
 * record, retry, re-post, prune.  Loop thread only.
 */
#include <sys/types.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "alerts.h"
#include "argv.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "sink.h"
#include "store.h"

#define ALERTS_BATCH		64	/* deliveries leased per pass */
#define ALERTS_RETRY_MS		1000	/* look for due retries */
#define ALERTS_LEASE_MARGIN_MS	3000	/* lease past the slowest sink */
#define ALERTS_REPOST_MAX	500	/* alerts re-posted per round */
#define ALERTS_PRUNE_MS		(3600 * 1000)
#define ALERTS_KEEP_MS		(INT64_C(7) * 86400000)	/* delivered rows */
#define NKINDS			4

/* One configured sink and the settings it was built from. */
struct asink {
	struct alerts	*a;
	enum sink_kind	 kind;
	struct sink	*s;		/* NULL: not configured */
	char		*key;		/* its settings, to compare on reload */
	int64_t		 timeout_ms;	/* slowest a delivery may take */
	struct event	*ev_repost;
	double		 tokens;	/* alert_rate_limit's bucket */
	int64_t		 refill_ms;
};

struct alerts {
	struct event_base	*base;
	struct lt_store		*st;
	struct lt_outbox	*ob;
	natsConnection		*nc;
	struct asink		 sinks[NKINDS];
	const char		*names[NKINDS];	/* configured, for enqueue */
	size_t			 nnames;
	int64_t			 lease_ms;
	int			 rate;		/* per sink per second, 0: off */
	struct event		*ev_retry, *ev_kick, *ev_prune;
	int			 stopping;
	struct lt_delivery	 buf[ALERTS_BATCH];
};

/* One tracked delivery in flight. */
struct inflight {
	struct alerts		*a;
	int64_t			 alert_id;
	enum lt_transition	 tr;
	enum sink_kind		 kind;
	int			 attempt;	/* 1 for the first */
};

static const enum sink_kind kinds[NKINDS] = { SINK_LOG, SINK_COMMAND,
    SINK_NATS, SINK_ALERTMANAGER };
static const char *const kind_names[NKINDS] = { "log", "command", "nats",
    "alertmanager" };

/* A random number in [0, 1) for the backoff's jitter. */
static double
jitter(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

/* Record one delivery's outcome in a transaction of its own. */
static void
record(struct alerts *a, int64_t alert_id, const char *sink,
    enum lt_transition tr, int ok, const char *error)
{
	struct lt_err	err;
	int64_t		now = clock_now_ms();

	lt_err_clear(&err);
	if (lt_store_begin(a->st, &err) != LT_OK)
		goto fail;
	if ((ok ? lt_outbox_done(a->ob, alert_id, sink, tr, now, &err) :
	    lt_outbox_failed(a->ob, alert_id, sink, tr, error, now, jitter(),
	    &err)) != LT_OK || lt_store_commit(a->st, &err) != LT_OK) {
		lt_store_rollback(a->st);
		goto fail;
	}
	return;
fail:
	/* the lease runs out and the delivery is tried again */
	log_warnx_rl("alerts-db", "alerts: recording delivery id=%" PRId64
	    " sink=%s: %s", alert_id, sink, err.msg);
}

/* A tracked delivery ended: record it, log a failure (rate-limited). */
static void
on_done(void *arg, int ok, const char *error)
{
	struct inflight	*f = arg;
	const char	*name = kind_names[f->kind];
	char		 key[32];

	if (ok)
		log_debug("alert: delivered id=%" PRId64 " sink=%s state=%s",
		    f->alert_id, name, lt_transition_name(f->tr));
	else if (error != NULL && strcmp(error, "sink closed") == 0)
		/* a reload or shutdown cancelled it: just try again */
		log_debug("alert: delivery id=%" PRId64 " sink=%s "
		    "cancelled; will retry", f->alert_id, name);
	else {
		/* a rate-limit key: a sink name too long shares one */
		(void)lt_fmt(key, sizeof(key), "alert-%s", name);
		log_warnx_rl(key, "alert: delivery id=%" PRId64 " sink=%s "
		    "state=%s failed (attempt %d): %s; will retry",
		    f->alert_id, name, lt_transition_name(f->tr), f->attempt,
		    error != NULL ? error : "failed");
		metrics_alert_delivery_failed(name);
	}
	record(f->a, f->alert_id, name, f->tr, ok,
	    error != NULL ? error : "failed");
	free(f);
}

/* Fill m from a delivery row (borrowing its strings). */
static void
to_msg(const struct lt_delivery *d, struct alert_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->alert_id = d->alert_id;
	m->lattice = d->lattice;
	m->kind = d->kind;
	m->severity = d->severity;
	m->entity = d->entity;
	m->host_id = d->host_id;
	m->summary = d->summary;
	m->details_json = d->details;
	m->fired_ms = d->fired_ms;
	m->resolved_ms = d->transition == LT_TR_RESOLVED ? d->resolved_ms : 0;
}

/* Find the configured sink named name; NULL when it is not. */
static struct asink *
find_sink(struct alerts *a, const char *name)
{
	size_t	i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kind_names[i], name) == 0)
			return a->sinks[i].s != NULL ? &a->sinks[i] : NULL;
	return NULL;
}

/* Start one leased delivery. */
static void
deliver(struct alerts *a, const struct lt_delivery *d)
{
	struct asink	*as;
	struct inflight	*f;
	struct alert_msg m;

	if ((as = find_sink(a, d->sink)) == NULL) {
		/* configured once, not any more: back off, keep it */
		record(a, d->alert_id, d->sink, d->transition, 0,
		    "sink not configured");
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		record(a, d->alert_id, d->sink, d->transition, 0,
		    "out of memory");
		return;
	}
	f->a = a;
	f->alert_id = d->alert_id;
	f->tr = d->transition;
	f->kind = as->kind;
	f->attempt = d->attempts + 1;
	to_msg(d, &m);
	if (sink_deliver(as->s, &m, on_done, f) == -1) {
		free(f);
		record(a, d->alert_id, d->sink, d->transition, 0,
		    "cannot start delivery");
	}
}

/*
 * How many deliveries sink as may start now under alert_rate_limit: a
 * token bucket of a->rate per second holding at most a->rate (at least
 * 1), never more than ALERTS_BATCH per pass.
 */
static size_t
allowance(struct alerts *a, struct asink *as, int64_t now)
{
	double	cap;

	if (a->rate <= 0)
		return ALERTS_BATCH;
	cap = (double)a->rate;
	if (as->refill_ms == 0 || now < as->refill_ms)
		as->tokens = cap;
	else
		as->tokens += (double)(now - as->refill_ms) * cap / 1000.0;
	if (as->tokens > cap)
		as->tokens = cap;
	as->refill_ms = now;
	return as->tokens >= ALERTS_BATCH ? ALERTS_BATCH :
	    (size_t)as->tokens;
}

/*
 * Queue what changed, lease what is due, deliver it: per configured sink,
 * as many as its rate limit allows (the rest stay due, delivered on the
 * next passes: deferred, never dropped).
 */
static void
pump(struct alerts *a)
{
	struct lt_err	err;
	size_t		n = 0, i, k, max;
	int64_t		now = clock_now_ms();
	int		more = 0;

	if (a->stopping)
		return;
	lt_err_clear(&err);
	if (lt_store_begin(a->st, &err) != LT_OK)
		goto fail;
	if (lt_outbox_enqueue_pending(a->ob, a->names, a->nnames, now, NULL,
	    &err) != LT_OK)
		goto rollback;
	for (k = 0; k < NKINDS && n < ALERTS_BATCH; k++) {
		struct asink	*as = &a->sinks[k];
		size_t		 got = 0;

		if (as->s == NULL)
			continue;
		max = allowance(a, as, now);
		if (max > ALERTS_BATCH - n)
			max = ALERTS_BATCH - n;
		if (max == 0) {
			more = 1;
			continue;
		}
		if (lt_outbox_next_sink(a->ob, kind_names[k], now,
		    a->lease_ms, max, a->buf + n, &got, &err) != LT_OK) {
			lt_delivery_clear(a->buf, n);
			goto rollback;
		}
		if (a->rate > 0) {
			as->tokens -= (double)got;
			if (got == max && max < ALERTS_BATCH)
				log_warnx_rl("alert-rate", "alert: sink=%s at "
				    "alert_rate_limit %d/s; further "
				    "deliveries wait their turn", kind_names[k],
				    a->rate);
		}
		if (got == max)
			more = 1;
		n += got;
	}
	if (lt_store_commit(a->st, &err) != LT_OK) {
		lt_delivery_clear(a->buf, n);
		goto rollback;
	}
	for (i = 0; i < n; i++)
		deliver(a, &a->buf[i]);
	lt_delivery_clear(a->buf, n);
	/* more may be due: go on after whatever else the loop has (a
	   rate-limited sink waits for the retry timer, every second) */
	if (more && a->rate <= 0)
		event_active(a->ev_kick, 0, 0);
	return;
rollback:
	lt_store_rollback(a->st);
fail:
	log_warnx_rl("alerts-db", "alerts: %s", err.msg);
}

/* The retry timer and the kick. */
static void
on_pump(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* A re-post ended (not tracked: the alert is already delivered). */
static void
on_repost_done(void *arg, int ok, const char *error)
{
	struct asink	*as = arg;

	if (!ok && error != NULL && strcmp(error, "sink closed") != 0) {
		log_warnx_rl("alert-repost", "alert: re-post to %s failed: %s",
		    kind_names[as->kind], error);
		metrics_alert_delivery_failed(kind_names[as->kind]);
	}
}

/* Re-send the active alerts a sink already has (Alertmanager forgets). */
static void
on_repost(evutil_socket_t fd, short what, void *arg)
{
	struct asink		*as = arg;
	struct alerts		*a = as->a;
	struct lt_delivery	*arr;
	struct alert_msg	 m;
	struct lt_err		 err;
	size_t			 n = 0, i;

	(void)fd;
	(void)what;
	if (a->stopping || as->s == NULL)
		return;
	if ((arr = calloc(ALERTS_REPOST_MAX, sizeof(*arr))) == NULL)
		return;
	lt_err_clear(&err);
	if (lt_outbox_active_for_repost(a->ob, kind_names[as->kind],
	    ALERTS_REPOST_MAX, arr, &n, &err) != LT_OK)
		log_warnx_rl("alerts-db", "alerts: re-post: %s", err.msg);
	if (n == ALERTS_REPOST_MAX)
		log_warnx_rl("alert-repost-max", "alert: more than %d active "
		    "alerts; re-posting the oldest %d", ALERTS_REPOST_MAX,
		    ALERTS_REPOST_MAX);
	for (i = 0; i < n; i++) {
		to_msg(&arr[i], &m);
		(void)sink_deliver(as->s, &m, on_repost_done, as);
	}
	if (n > 0)
		log_debug("alert: re-posted %zu active alert(s) to %s", n,
		    kind_names[as->kind]);
	lt_delivery_clear(arr, n);
	free(arr);
}

/* Delete delivered rows older than ALERTS_KEEP_MS. */
static void
on_prune(evutil_socket_t fd, short what, void *arg)
{
	struct alerts	*a = arg;
	struct lt_err	 err;
	size_t		 n = 0;

	(void)fd;
	(void)what;
	lt_err_clear(&err);
	if (lt_store_begin(a->st, &err) != LT_OK ||
	    lt_outbox_prune(a->ob, clock_now_ms() - ALERTS_KEEP_MS, &n, &err) !=
	    LT_OK || lt_store_commit(a->st, &err) != LT_OK) {
		lt_store_rollback(a->st);
		log_warnx_rl("alerts-db", "alerts: prune: %s", err.msg);
		return;
	}
	if (n > 0)
		log_debug("alert: pruned %zu delivered row(s)", n);
}

/*
 * Describe the sink of kind k that cf asks for: *want 1 with sc and key
 * filled (*argvp set for a command; free it), 0 when it is off.  Returns
 * 0, or -1 when out of memory or the key does not fit.
 */
static int
want_sink(struct alerts *a, const struct config *cf, enum sink_kind k,
    struct sink_config *sc, char *key, size_t keylen, char ***argvp,
    int64_t *timeout, int *want)
{
	*want = 0;
	memset(sc, 0, sizeof(*sc));
	sc->kind = k;
	*argvp = NULL;
	*timeout = 0;
	switch (k) {
	case SINK_LOG:
		if (!cf->alert_log)
			return 0;
		sc->logfn = logit;
		*want = 1;
		return lt_fmt(key, keylen, "log") == LT_OK ? 0 : -1;
	case SINK_COMMAND:
		if (cf->alert_command == NULL)
			return 0;
		/* quoting as argv.h; config_load() refused bad quoting */
		if (lt_argv_split(cf->alert_command, argvp, NULL, NULL) !=
		    LT_OK)
			return -1;
		sc->argv = *argvp;
		sc->timeout_ms = cf->alert_command_timeout_ms;
		*timeout = sc->timeout_ms + SINK_COMMAND_KILL_GRACE_MS;
		*want = 1;
		return lt_fmt(key, keylen, "command %lld %s",
		    (long long)sc->timeout_ms, cf->alert_command) == LT_OK ?
		    0 : -1;
	case SINK_NATS:
		if (cf->alert_nats_subject == NULL)
			return 0;
		if (a->nc == NULL) {
			log_warnx("alert: alert_nats_subject: no NATS "
			    "connection; the nats sink is off");
			return 0;
		}
		sc->nc = a->nc;
		sc->subject = cf->alert_nats_subject;
		*want = 1;
		return lt_fmt(key, keylen, "nats %s", sc->subject) == LT_OK ?
		    0 : -1;
	case SINK_ALERTMANAGER:
		if (cf->alert_alertmanager_url == NULL)
			return 0;
		sc->url = cf->alert_alertmanager_url;
		sc->repost_interval_ms = cf->alert_repost_interval_ms;
		*timeout = SINK_HTTP_TIMEOUT_MS;
		*want = 1;
		return lt_fmt(key, keylen, "alertmanager %lld %s",
		    (long long)sc->repost_interval_ms, sc->url) == LT_OK ?
		    0 : -1;
	}
	return 0;
}

/* Free a sink; what it cancels is recorded for a retry (on_done). */
static void
close_sink(struct asink *as)
{
	struct sink	*s = as->s;

	if (as->ev_repost != NULL)
		event_del(as->ev_repost);
	as->s = NULL;
	free(as->key);
	as->key = NULL;
	as->timeout_ms = 0;
	sink_free(s);
}

/* Recompute the sink names and the lease after the sinks changed. */
static void
refresh(struct alerts *a)
{
	size_t	i;
	int64_t	slowest = 0;

	a->nnames = 0;
	for (i = 0; i < NKINDS; i++) {
		if (a->sinks[i].s == NULL)
			continue;
		a->names[a->nnames++] = kind_names[i];
		if (a->sinks[i].timeout_ms > slowest)
			slowest = a->sinks[i].timeout_ms;
	}
	a->lease_ms = slowest + ALERTS_LEASE_MARGIN_MS;
}

/*
 * Before anything is (re)delivered: end the command children a previous
 * run left (kill -9 of latticed while a command hung), so a change is not
 * delivered by the orphan and again by us; list ours in <db>.children.
 */
static int
children_start(const struct config *cf)
{
	char	*path, cause[256];
	int	 killed, rc;

	if (asprintf(&path, "%s.children", cf->db) == -1) {
		log_warnx("alert: out of memory");
		return -1;
	}
	rc = sink_command_children(path, &killed, cause, sizeof(cause));
	if (rc == -1)
		log_warnx("alert: command children: %s", cause);
	else if (killed > 0)
		log_info("alert: killed %d command process group(s) a previous "
		    "run left (listed in %s)", killed, path);
	free(path);
	return rc;
}

/* Build (or rebuild) the sinks cf asks for; -1 when one cannot be. */
static int
configure(struct alerts *a, const struct config *cf)
{
	struct sink_config	 sc;
	struct sink		*s;
	struct asink		*as;
	struct timeval		 tv;
	char			 key[4096], cause[256], **argv;
	int64_t			 timeout, rp;
	size_t			 i;
	int			 w, rebuilt, rc = 0;

	a->rate = cf->alert_rate_limit;
	for (i = 0; i < NKINDS; i++) {
		as = &a->sinks[i];
		if (want_sink(a, cf, kinds[i], &sc, key, sizeof(key), &argv,
		    &timeout, &w) == -1) {
			log_warnx("alert: %s sink: out of memory, or its "
			    "settings too long", kind_names[i]);
			free(argv);
			rc = -1;
			continue;
		}
		if (w == 0) {
			if (as->s != NULL) {
				log_info("alert: %s sink off", kind_names[i]);
				close_sink(as);
			}
			continue;
		}
		if (as->s != NULL && strcmp(as->key, key) == 0) {
			free(argv);
			continue;
		}
		if (sink_new(a->base, &sc, &s, cause, sizeof(cause)) == -1) {
			free(argv);
			log_warnx("alert: %s sink: %s%s", kind_names[i], cause,
			    as->s != NULL ? "; keeping the old one" : "");
			rc = -1;
			continue;
		}
		free(argv);
		rebuilt = as->s != NULL;
		/* what the old one cancels is recorded, retried on the new */
		if (rebuilt)
			close_sink(as);
		as->s = s;
		if ((as->key = strdup(key)) == NULL) {
			close_sink(as);
			rc = -1;
			continue;
		}
		as->timeout_ms = timeout;
		if ((rp = sink_wants_repost(s)) > 0 && as->ev_repost != NULL)
			evtimer_add(as->ev_repost, clock_tv(rp, &tv));
		log_info("alert: %s sink %s", kind_names[i],
		    rebuilt ? "rebuilt" : "on");
	}
	refresh(a);
	return rc;
}

/* Build each sink cf asks for on a scratch loop, as start-up does, and
   free it: what -n checks.  The nats sink needs a connection: only its
   subject is checked (config.c). */
int
alerts_check(const struct config *cf, char *cause, size_t causelen)
{
	struct alerts		 a;
	struct sink_config	 sc;
	struct sink		*s;
	char			 key[4096], why[256], **argv;
	int64_t			 timeout;
	size_t			 i;
	int			 w, rc = 0;

	memset(&a, 0, sizeof(a));
	cause[0] = '\0';
	if ((a.base = event_base_new()) == NULL) {
		snprintf(cause, causelen, "alert: cannot make a loop");
		return -1;
	}
	for (i = 0; i < NKINDS && rc == 0; i++) {
		if (kinds[i] == SINK_NATS)
			continue;
		if (want_sink(&a, cf, kinds[i], &sc, key, sizeof(key), &argv,
		    &timeout, &w) == -1) {
			snprintf(cause, causelen, "alert: %s sink: out of "
			    "memory, or its settings too long", kind_names[i]);
			rc = -1;
		} else if (w == 1) {
			if (sink_new(a.base, &sc, &s, why, sizeof(why)) == -1) {
				snprintf(cause, causelen, "%s", why);
				rc = -1;
			} else
				sink_free(s);
		}
		free(argv);
	}
	event_base_free(a.base);
	return rc;
}

/* Build the sinks, arm the timers. */
int
alerts_start(struct event_base *base, struct lt_store *st,
    natsConnection *nc, const struct config *cf, struct alerts **out)
{
	struct alerts	*a;
	struct lt_err	 err;
	struct timeval	 tv;
	size_t		 i;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warnx("alert: out of memory");
		return -1;
	}
	a->base = base;
	a->st = st;
	a->nc = nc;
	srandom((unsigned)(clock_now_ms() ^ getpid()));
	lt_err_clear(&err);
	if (lt_outbox_new(st, &a->ob, &err) != LT_OK) {
		log_warnx("alert: outbox: %s", err.msg);
		goto fail;
	}
	a->ev_retry = event_new(base, -1, EV_PERSIST, on_pump, a);
	a->ev_kick = event_new(base, -1, 0, on_pump, a);
	a->ev_prune = event_new(base, -1, EV_PERSIST, on_prune, a);
	if (a->ev_retry == NULL || a->ev_kick == NULL || a->ev_prune == NULL)
		goto fail;
	for (i = 0; i < NKINDS; i++) {
		a->sinks[i].a = a;
		a->sinks[i].kind = kinds[i];
		a->sinks[i].ev_repost = event_new(base, -1, EV_PERSIST,
		    on_repost, &a->sinks[i]);
		if (a->sinks[i].ev_repost == NULL)
			goto fail;
	}
	if (children_start(cf) == -1)
		goto fail;
	if (configure(a, cf) == -1)
		goto fail;
	evtimer_add(a->ev_retry, clock_tv(ALERTS_RETRY_MS, &tv));
	evtimer_add(a->ev_prune, clock_tv(ALERTS_PRUNE_MS, &tv));
	/* deliver what a previous run left, and prune once, soon */
	event_active(a->ev_kick, 0, 0);
	event_active(a->ev_prune, 0, 0);
	*out = a;
	return 0;
fail:
	alerts_stop(a);
	return -1;
}

/* Turn the queued changes into deliveries inside the caller's tx. */
int
alerts_enqueue(struct alerts *a, int64_t now, size_t *queued,
    struct lt_err *err)
{
	if (queued != NULL)
		*queued = 0;
	if (a == NULL)
		return LT_OK;
	return lt_outbox_enqueue_pending(a->ob, a->names, a->nnames, now,
	    queued, err);
}

/* Deliver soon. */
void
alerts_kick(struct alerts *a)
{
	if (a != NULL && !a->stopping)
		event_active(a->ev_kick, 0, 0);
}

/* Apply a new config. */
void
alerts_reload(struct alerts *a, const struct config *cf)
{
	if (a == NULL)
		return;
	(void)configure(a, cf);
	alerts_kick(a);
}

/* Cancel, record and free. */
void
alerts_stop(struct alerts *a)
{
	size_t	i;

	if (a == NULL)
		return;
	/* cancelled deliveries are recorded as failed: due after a
	   restart, not lost */
	a->stopping = 1;
	for (i = 0; i < NKINDS; i++) {
		if (a->sinks[i].s != NULL)
			close_sink(&a->sinks[i]);
		if (a->sinks[i].ev_repost != NULL)
			event_free(a->sinks[i].ev_repost);
	}
	if (a->ev_retry != NULL)
		event_free(a->ev_retry);
	if (a->ev_kick != NULL)
		event_free(a->ev_kick);
	if (a->ev_prune != NULL)
		event_free(a->ev_prune);
	lt_outbox_free(a->ob);
	free(a);
}
