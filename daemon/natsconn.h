/*
 * natsconn.h - the NATS connection: options, subscriptions, callbacks.
 *
 * The only module that sees nats.c's libevent adapter.  Callbacks run on
 * nats.c's threads and only push into the inbox.  Subscribes, for each
 * lattice L (or "*"), to wasmbus.evt.L.>, wasmbus.evt.L and
 * wasmbus.rpcevt.L.  Readiness is confirmed by a flush on a helper thread
 * (never on the loop thread), which posts inbox_notice_live().
 */
#ifndef NATSCONN_H
#define NATSCONN_H

#include <nats/nats.h>

struct config;
struct event_base;
struct inbox;
struct natsconn;

/* Initialise nats.c and libevent threading; call before event_base_new. */
int	natsconn_init(void);
/* Connect (retrying in the background if the server is not there yet),
   subscribe and start the readiness probe.  *connected says whether the
   first connect succeeded. */
int	natsconn_open(struct event_base *base, const struct config *cf,
	    struct inbox *ib, struct natsconn **out, int *connected);
/* The nats.c connection (borrowed; valid until natsconn_close()). */
natsConnection *natsconn_connection(struct natsconn *nc);
/* Stop taking messages (unsubscribe every subscription). */
void	natsconn_unsubscribe(struct natsconn *nc);
/* Close, join the probe, release nats.c and free.  NULL still releases
   nats.c. */
void	natsconn_close(struct natsconn *nc);

#endif
