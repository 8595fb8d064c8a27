/*
 * resync.h - rebuild the model from the lattice's control interface.
 *
 * For each lattice: publish wasmbus.ctl.v1.L.host.ping (or the configured
 * control topic prefix) with a reply inbox
 * and gather replies for resync_gather; then ask each host that answered
 * for its inventory (host.get.H); ask for the links (link.get) and for each
 * config named in the CONFIGDATA_L key-value bucket (config.get.N).  Every
 * answer becomes a synthetic CloudEvent (host_heartbeat, linkdef_set,
 * config_set; id "resync-L-...", time = receive time) pushed through the
 * inbox like any event, so the fold's ordering rules apply: an observation
 * never undoes a newer event.  After the round, the links and configs of
 * the model that link.get and the config bucket no longer list become
 * linkdef_deleted / config_deleted events the same way (source
 * "latticed-resync": resync deletions in the history); a lattice whose
 * answer did not come, or failed, loses nothing.  The subjects and the
 * translation are lib/resync_ctl.c's.  Everything is asynchronous on the loop (a
 * reply subscription whose callback queues, libevent timers for the
 * deadlines) and bounded by 2 x resync_gather.  A resync asked for while
 * one runs is coalesced into one more afterwards.
 */
#ifndef RESYNC_H
#define RESYNC_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

struct event_base;
struct lt_queue;
struct resync;

/* A list of lattice names (owned strings). */
struct resync_list {
	char	**name;
	size_t	  n, cap;
};

/* Add a copy of name (ignored when out of memory or a duplicate). */
void	resync_list_add(struct resync_list *rl, const char *name);
void	resync_list_clear(struct resync_list *rl);
struct lt_observe;
/*
 * Fill rl with the lattices of "*" worth a resync: those with a host up
 * (lt_observe_lattices_up: known longest first), at most max of them
 * (0: no cap); a truncation is logged.  Returns the number of lattices
 * left out, or -1 when the database failed (logged).
 */
long	resync_list_up(struct lt_observe *obs, int max,
	    struct resync_list *rl);

/* conn and obs (the model, read for the deletions; NULL: none) are
   borrowed and must outlive resync_free().  Observations go to in (the
   decode stage) as synthetic CloudEvents; replies reach the loop as tasks
   on loop. */
int	resync_new(struct event_base *base, natsConnection *conn,
	    struct lt_queue *in, struct lt_queue *loop, struct lt_observe *obs,
	    struct resync **out);
/*
 * The hosts' control topic prefix (wasmCloud 1.x --ctl-topic-prefix; NULL:
 * wasmbus.ctl): requests go to <prefix>.v1.<lattice>...  And their
 * JetStream domain (--js-domain; NULL: none): the CONFIGDATA_<lattice>
 * bucket is looked up through $JS.<domain>.API instead of $JS.API.
 * Strings are copied (cut at 127 bytes); config.c checks them.
 */
void	resync_set_subjects(struct resync *rs, const char *ctl_prefix,
	    const char *js_domain);
/* Unsubscribe and free.  NULL is fine. */
void	resync_free(struct resync *rs);
/* Start a resync of the lattices in rl (copied); why goes to the log. */
void	resync_start(struct resync *rs, const struct resync_list *rl,
	    int64_t gather_ms, const char *why);

#endif
