/*
 * resync_ctl.h - the pure part of a resync: control-interface subjects and
 * the translation of its replies into synthetic CloudEvents.
 *
 * daemon/resync.c asks (host.ping, host.get.H, link.get, the
 * CONFIGDATA_<lattice> bucket's stream info, config.get.N) and pushes what
 * this module makes through the inbox like any event, so the fold's
 * ordering rules apply: an observation never undoes a newer event.  Every
 * event is dated at the reply's receive time (ms), its id starts with
 * "resync-<lattice>-" and its source is the host or "latticed-resync".
 *
 * What the lattice no longer has is deleted the same way: after a resync
 * the daemon compares the model's links and configs of a lattice with
 * what link.get and the config bucket listed, and each one missing becomes
 * a linkdef_deleted / config_deleted event (source "latticed-resync"), so
 * the history (events) records it as a resync deletion.
 *
 * Replies are raw bytes; cJSON stays inside.  No clock, no globals.
 */
#ifndef LT_RESYNC_CTL_H
#define LT_RESYNC_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The control-interface requests of a resync. */
enum lt_resync_req {
	LT_RS_PING,		/* wasmbus.ctl.v1.L.host.ping */
	LT_RS_HOST_GET,		/* wasmbus.ctl.v1.L.host.get.ARG */
	LT_RS_LINK_GET,		/* wasmbus.ctl.v1.L.link.get */
	LT_RS_CONFIG_GET,	/* wasmbus.ctl.v1.L.config.get.ARG */
	LT_RS_KV_INFO,		/* $JS.API.STREAM.INFO.KV_CONFIGDATA_L */
};

/*
 * Write the subject of request what for lattice (arg: the host or config
 * name, else NULL) into buf.  LT_EINVAL when a name could break the
 * subject (empty, '.', '*', '>', blanks) or it does not fit: never cut.
 * The one place resync subjects are made.
 */
int	lt_resync_subject(char *buf, size_t len, enum lt_resync_req what,
	    const char *lattice, const char *arg, struct lt_err *err);
/*
 * lt_resync_subject() for hosts started with a control topic prefix
 * (wasmCloud 1.x --ctl-topic-prefix: P.v1.L... instead of
 * wasmbus.ctl.v1.L...) and a JetStream domain (--js-domain D: the
 * LT_RS_KV_INFO request goes to $JS.D.API...).  NULL or "": the default.
 */
int	lt_resync_subject_at(char *buf, size_t len, enum lt_resync_req what,
	    const char *ctl_prefix, const char *js_domain,
	    const char *lattice, const char *arg, struct lt_err *err);
/* The body of the LT_RS_KV_INFO request (a subjects filter). */
int	lt_resync_kv_body(char *buf, size_t len, const char *lattice,
	    struct lt_err *err);

/* One synthetic event: NATS subject and CloudEvent JSON (owned). */
struct lt_resync_event {
	char	*subject;
	char	*json;
	int64_t	 ms;
};

/* A growing list of events. */
struct lt_resync_events {
	struct lt_resync_event	*v;
	size_t			 n, cap;
};

void	lt_resync_events_free(struct lt_resync_events *evs);

/* A link's key (owned strings). */
struct lt_resync_link {
	char	*source_id, *name, *wit_namespace, *wit_package;
};

/* A set of link keys and one of config names, as a resync saw them. */
struct lt_resync_seen {
	struct lt_resync_link	*link;
	size_t			 nlink, linkcap;
	char			**config;
	size_t			 nconfig, configcap;
};

void	lt_resync_seen_free(struct lt_resync_seen *s);
/* Whether the set holds that link / that config. */
int	lt_resync_seen_link(const struct lt_resync_seen *s,
	    const char *source_id, const char *name, const char *wit_namespace,
	    const char *wit_package);
int	lt_resync_seen_config(const struct lt_resync_seen *s,
	    const char *name);

/*
 * A host.ping reply: the answering host's id into host (LT_EINVAL when
 * not a successful CtlResponse or the id is unusable in a subject).
 */
int	lt_resync_ping(const char *json, size_t len, char *host,
	    size_t hostlen, struct lt_err *err);
/* A host.get reply of host: one host_heartbeat event appended to out. */
int	lt_resync_inventory(const char *json, size_t len, const char *lattice,
	    const char *host, int64_t ms, struct lt_resync_events *out,
	    struct lt_err *err);
/*
 * A link.get reply: one linkdef_set event per link appended to out, and
 * (seen not NULL) every link's key added to seen.  LT_EINVAL when not a
 * successful CtlResponse with a list: then nothing is known (and nothing
 * may be deleted).
 */
int	lt_resync_links(const char *json, size_t len, const char *lattice,
	    int64_t ms, struct lt_resync_events *out,
	    struct lt_resync_seen *seen, struct lt_err *err);
/*
 * The CONFIGDATA_<lattice> stream info: the config names its subjects
 * hold, appended to names (a seen set's configs).  LT_EINVAL when it is
 * not a stream info (no bucket, no JetStream): nothing is known.
 */
int	lt_resync_kv_names(const char *json, size_t len, const char *lattice,
	    struct lt_resync_seen *names, struct lt_err *err);
/*
 * A config.get reply for name: a config_set event appended to out when it
 * exists (*exists 1), nothing when the lattice says it has none (success
 * with a null or no response; *exists 0).  LT_EINVAL when not a
 * successful CtlResponse (an error answer says nothing for sure).
 */
int	lt_resync_config(const char *json, size_t len, const char *lattice,
	    const char *name, int64_t ms, struct lt_resync_events *out,
	    int *exists, struct lt_err *err);

/* A link the lattice no longer has: a linkdef_deleted event. */
int	lt_resync_link_deleted(const char *lattice,
	    const struct lt_resync_link *key, int64_t ms, size_t seq,
	    struct lt_resync_events *out, struct lt_err *err);
/* A config the lattice no longer has: a config_deleted event. */
int	lt_resync_config_deleted(const char *lattice, const char *name,
	    int64_t ms, struct lt_resync_events *out, struct lt_err *err);

#endif
