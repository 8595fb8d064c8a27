/*
 * alerts.h - the alert delivery scheduler on the loop.
 *
 * lib/ writes alerts and queues their changes in the state change's own
 * transaction (alert.h, outbox.h).  This module turns the queue into
 * deliveries for the configured sinks (daemon/alert/sink.h) and works them
 * off: right after a batch or sweep that queued something, then every
 * second for retries; failures back off (1 s doubling to 5 min, jittered)
 * and are logged rate-limited, never fatal.  Every database write happens
 * in a short transaction of its own, on the loop thread, between batches.
 *
 * Sinks come from the config: alert_log (default yes), alert_command,
 * alert_nats_subject (through the daemon's NATS connection),
 * alert_alertmanager_url (active alerts re-posted every
 * alert_repost_interval).  A reload rebuilds only the sinks whose settings
 * changed; deliveries a rebuilt sink cancels are retried on the new one.
 */
#ifndef ALERTS_H
#define ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "err.h"

struct config;
struct event_base;
struct lt_store;
struct alerts;

/* Build the sinks of cf and arm the timers on base.  st is borrowed (must
   outlive *out), nc may be NULL (no nats sink then).  0, or -1 (logged). */
int	alerts_start(struct event_base *base, struct lt_store *st,
	    natsConnection *nc, const struct config *cf,
	    struct alerts **out);
/*
 * Inside the caller's write transaction (a batch, a sweep): turn the
 * alert changes it queued into deliveries for every configured sink.
 * NULL is fine (no-op).  After the commit call alerts_kick().
 */
int	alerts_enqueue(struct alerts *a, int64_t now_ms, size_t *queued,
	    struct lt_err *err);
/* Build and free every sink cf asks for (the nats sink: no connection,
   skipped), as alerts_start() would: for -n.  0, or -1 with cause. */
int	alerts_check(const struct config *cf, char *cause, size_t causelen);
/* Deliver what is due soon, from the loop (after a commit). */
void	alerts_kick(struct alerts *a);
/* Apply a new config (SIGHUP): rebuild the sinks that changed; keep a
   sink whose new settings are bad (logged). */
void	alerts_reload(struct alerts *a, const struct config *cf);
/* Cancel what is in flight (retried after a restart), free; before
   lt_store_close() and before the NATS connection goes.  NULL is fine. */
void	alerts_stop(struct alerts *a);

#endif
