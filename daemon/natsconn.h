/*
 * natsconn.h - the NATS connection: options, subscriptions, callbacks.
 *
 * The only module that sees nats.c's libevent adapter, which it attaches
 * to an event_base of its own run by a dedicated I/O thread, so the socket
 * is read while the loop thread folds.  Its subscriptions are synchronous:
 * the I/O thread drains them after each pass and pushes the messages into
 * the inbox; nats.c's callbacks (connection notices, errors) run on
 * nats.c's threads and only post to the loop.  Subscribes, for each
 * lattice L (or "*"), to wasmbus.evt.L.>, wasmbus.evt.L and
 * wasmbus.rpcevt.L, and (v2_heartbeats, default on) to
 * runtime.operator.heartbeat.> for wasmCloud 2 hosts.  Readiness is confirmed by a flush on a helper thread
 * (never on the loop thread), which posts inbox_notice_live().
 */
#ifndef NATSCONN_H
#define NATSCONN_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

struct config;
struct lt_queue;
struct natsconn;

enum natsconn_state {
	NATSCONN_UP,		/* (re)connected */
	NATSCONN_DOWN,		/* disconnected, reconnecting */
	NATSCONN_CLOSED,	/* gave up for good */
};

/* What the connection tells the loop; each runs on the loop thread, as a
   task item of the loop's queue (queue.h). */
struct natsconn_notices {
	void	(*conn)(void *arg, enum natsconn_state st, int64_t ms);
	void	(*live)(void *arg);	/* subscriptions confirmed */
	void	(*error)(void *arg, const char *msg); /* async error */
	void	*arg;
};

/* Initialise nats.c and libevent threading; call before event_base_new. */
int	natsconn_init(void);
/* Connect (retrying in the background if the server is not there yet),
   subscribe and start the readiness probe.  *connected says whether the
   first connect succeeded. */
int	natsconn_open(const struct config *cf, struct lt_queue *in,
	    struct lt_queue *loop, const struct natsconn_notices *cb,
	    struct natsconn **out, int *connected);
/* The nats.c connection (borrowed; valid until natsconn_close()). */
natsConnection *natsconn_connection(struct natsconn *nc);
/* Why the connection last failed ("Authorization Violation"), scrubbed of
   credentials, into buf; "no error reported" when nats.c has none. */
const char *natsconn_last_error(struct natsconn *nc, char *buf, size_t len);
/* Messages nats.c dropped past the subscriptions' pending limits since
   the last call (loop thread only; NULL: 0).  Lost without a record:
   count and log them like inbox overflows. */
uint64_t natsconn_take_dropped(struct natsconn *nc);
/* The receive time (ms) of the oldest message waiting in the inbox spool
   (inbox_spool), or 0 when it holds none; any thread, NULL: 0.  An upper
   bound of what is folded, and a backlog. */
int64_t	natsconn_spool_oldest_ms(struct natsconn *nc);
/* Stop taking messages (unsubscribe every subscription). */
void	natsconn_unsubscribe(struct natsconn *nc);
/* Close, join the probe, release nats.c, stop and join the I/O thread
   and free.  NULL still releases nats.c. */
void	natsconn_close(struct natsconn *nc);

#endif
