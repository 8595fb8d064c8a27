/*
 * v2ask.h - ask wasmCloud 2 hosts for a heartbeat now.
 *
 * A v2 host answers a request on runtime.host.<id>.heartbeat with its
 * HostHeartbeat.  At start and after a reconnect the daemon asks every
 * host the database holds as up and generation 'v2', so their rows are
 * fresh within a round trip instead of one 15 s interval.  Requests are
 * published with a reply subject <inbox>.<id> on a subscription of our
 * own (never a blocking request on the loop thread); the nats.c callback
 * pushes each reply into the decode stage's queue as an ordinary message
 * on runtime.operator.heartbeat.<id>, so it folds through the one
 * pipeline.
 */
#ifndef V2ASK_H
#define V2ASK_H

#include <stdint.h>

#include <nats/nats.h>

struct lt_queue;
struct lt_observe;
struct v2ask;

/* conn and in (the decode stage's queue) are borrowed and must outlive
   v2ask_free(). */
int	v2ask_new(natsConnection *conn, struct lt_queue *in,
	    struct v2ask **out);
/* Unsubscribe and free.  NULL is fine. */
void	v2ask_free(struct v2ask *va);
/* Ask each up v2 host of obs (loop thread); why goes to the log.
   Returns the number of requests published, -1 when the database
   failed (logged). */
long	v2ask_send(struct v2ask *va, struct lt_observe *obs,
	    const char *why);

#endif
