/*
 * resync.c - host.ping / host.get / link.get / config.get into synthetic
 * CloudEvents through the ingest pipeline; what the lattice no longer has
 * into deletions.  The subjects and the translation are lib/resync_ctl.c's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "queue.h"
#include "log.h"
#include "observe.h"
#include "resync.h"
#include "resync_ctl.h"

#define MAX_HOSTS	4096		/* per lattice and resync */
#define MAX_CONFIGS	4096

/* A reply on its way from the nats.c thread to the loop (a task). */
struct reply {
	char		*subject;
	char		*data;
	int		 len;
	int64_t		 received_ms;
};

/* What a config.get said. */
enum cfg_answer { CFG_UNKNOWN = 0, CFG_EXISTS, CFG_ABSENT };

/* One lattice of the running resync. */
struct lat {
	char	*name;
	char	**host;
	size_t	  nhost;
	/* seen.config (the bucket's names) is indexed like cfg */
	struct lt_resync_seen seen;
	enum cfg_answer *cfg;
	int64_t	 *cfg_ms;
	int	  links_known, configs_known;	/* authoritative answers */
	int64_t	  links_ms, kv_ms;
	unsigned  hosts, links, configs;	/* folded observations */
	unsigned  links_deleted, configs_deleted;
};

struct resync {
	struct event_base *base;
	natsConnection	*conn;
	natsSubscription *sub;
	struct lt_queue	*in;			/* observations: decode stage */
	struct lt_queue	*loop;			/* replies: the loop */
	struct lt_observe *obs;			/* the model, for deletions */
	char		 prefix[128];		/* reply inbox */
	char		 ctl[128];		/* control topic prefix */
	char		 domain[128];		/* JetStream domain, "": none */
	struct event	*ev_gather, *ev_end;
	/* loop thread only */
	uint64_t	 gen, count;
	int		 running;
	int64_t		 gather_ms, started_ms;
	struct lat	*lat;
	size_t		 nlat;
	struct resync_list pending;
	int		 have_pending;
	int64_t		 pending_gather_ms;
	char		 pending_why[64];
};

/* Add a lattice name. */
void
resync_list_add(struct resync_list *rl, const char *name)
{
	char	**nn;
	size_t	  i;

	for (i = 0; i < rl->n; i++)
		if (strcmp(rl->name[i], name) == 0)
			return;
	if (rl->n == rl->cap) {
		nn = reallocarray(rl->name, rl->cap ? rl->cap * 2 : 8,
		    sizeof(*nn));
		if (nn == NULL)
			return;
		rl->name = nn;
		rl->cap = rl->cap ? rl->cap * 2 : 8;
	}
	if ((rl->name[rl->n] = strdup(name)) != NULL)
		rl->n++;
}

/* Free the names. */
void
resync_list_clear(struct resync_list *rl)
{
	size_t	i;

	for (i = 0; i < rl->n; i++)
		free(rl->name[i]);
	free(rl->name);
	memset(rl, 0, sizeof(*rl));
}

/* What resync_list_up() collects. */
struct up_collect {
	struct resync_list	*rl;
	size_t			 max;		/* 0: no cap */
	long			 skipped;
};

/* lt_observe_lattices_up() callback: add, or count beyond the cap. */
static int
up_cb(void *arg, const char *name)
{
	struct up_collect	*c = arg;

	if (c->max > 0 && c->rl->n >= c->max)
		c->skipped++;
	else
		resync_list_add(c->rl, name);
	return 0;
}

/* The lattices with a host up, at most max. */
long
resync_list_up(struct lt_observe *obs, int max, struct resync_list *rl)
{
	struct up_collect	c = { rl, max > 0 ? (size_t)max : 0, 0 };
	struct lt_err		err;

	lt_err_clear(&err);
	if (lt_observe_lattices_up(obs, up_cb, &c, &err) != LT_OK) {
		log_warnx("resync: %s", err.msg);
		return -1;
	}
	if (c.skipped > 0)
		log_warnx_rl("resync-cap", "resync: %zu of %zu lattices with "
		    "a host up (resync_max_lattices %d, the longest known "
		    "first); %ld left out", rl->n, rl->n + (size_t)c.skipped,
		    max, c.skipped);
	return c.skipped;
}

/* Free a reply. */
static void
reply_free(void *p)
{
	struct reply	*r = p;

	free(r->subject);
	free(r->data);
	free(r);
}

static void	run_reply(void *, void *);

/* Hand a reply to the loop as a task (nats.c thread).  Replies are
   bounded by the requests outstanding: one per host and kind. */
static void
on_msg(natsConnection *c, natsSubscription *sub, natsMsg *msg, void *arg)
{
	struct resync	*rs = arg;
	struct reply	*r;
	int		 len = natsMsg_GetDataLength(msg);

	(void)c;
	(void)sub;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	r->subject = strdup(natsMsg_GetSubject(msg));
	r->data = malloc((size_t)len + 1);
	if (r->subject == NULL || r->data == NULL) {
		reply_free(r);
		goto out;
	}
	memcpy(r->data, natsMsg_GetData(msg), (size_t)len);
	r->data[len] = '\0';
	r->len = len;
	r->received_ms = clock_now_ms();
	(void)lt_queue_push_task(rs->loop, run_reply, rs, r, reply_free);
out:
	natsMsg_Destroy(msg);
}

/* Free a lattice table. */
static void
free_lats(struct resync *rs)
{
	size_t	i, j;

	for (i = 0; i < rs->nlat; i++) {
		for (j = 0; j < rs->lat[i].nhost; j++)
			free(rs->lat[i].host[j]);
		lt_resync_seen_free(&rs->lat[i].seen);
		free(rs->lat[i].cfg);
		free(rs->lat[i].cfg_ms);
		free(rs->lat[i].host);
		free(rs->lat[i].name);
	}
	free(rs->lat);
	rs->lat = NULL;
	rs->nlat = 0;
}

/* Publish a request whose reply comes to prefix.gen.li.kind[.idx]. */
static void
request(struct resync *rs, size_t li, const char *kind, long idx,
    const char *subject, const char *body)
{
	char		reply[256];
	natsStatus	s;

	if ((idx >= 0 ? lt_fmt(reply, sizeof(reply), "%s.%llu.%zu.%s.%ld",
	    rs->prefix, (unsigned long long)rs->gen, li, kind, idx) :
	    lt_fmt(reply, sizeof(reply), "%s.%llu.%zu.%s", rs->prefix,
	    (unsigned long long)rs->gen, li, kind)) != LT_OK) {
		log_warnx_rl("resync-pub", "resync: reply subject too long; "
		    "%s not asked", subject);
		return;
	}
	s = natsConnection_PublishRequestString(rs->conn, subject, reply,
	    body);
	if (s != NATS_OK)
		log_warnx_rl("resync-pub", "resync: publish %s: %s", subject,
		    natsStatus_GetText(s));
}

/* Push synthetic CloudEvents through the ingest pipeline. */
static void
push_events(struct resync *rs, const char *lattice,
    struct lt_resync_events *evs)
{
	size_t	i;

	for (i = 0; i < evs->n; i++)
		if (lt_queue_push_msg(rs->in, evs->v[i].subject, NULL,
		    evs->v[i].json, strlen(evs->v[i].json), evs->v[i].ms, NULL,
		    NULL, LT_QUEUE_REFUSE) != LT_OK)
			log_warnx_rl("resync-drop", "resync: ingest queue "
			    "full, observation dropped: lattice=%s subject=%s",
			    lattice, evs->v[i].subject);
	lt_resync_events_free(evs);
}

/* Log why a reply was of no use (debug: a lattice may lack a part). */
static void
reply_unused(const struct lat *l, const char *what, const struct lt_err *e)
{
	log_debug("resync: lattice=%s %s: %s", l->name, what, e->msg);
}

/* Remember a host that answered the ping. */
static void
on_ping(struct lat *l, const struct reply *r)
{
	struct lt_err	 e;
	char		 id[256], **nh;
	size_t		 i;

	if (lt_resync_ping(r->data, (size_t)r->len, id, sizeof(id), &e) !=
	    LT_OK) {
		reply_unused(l, "host.ping", &e);
		return;
	}
	for (i = 0; i < l->nhost; i++)
		if (strcmp(l->host[i], id) == 0)
			return;
	if (l->nhost == MAX_HOSTS)
		return;
	if ((nh = reallocarray(l->host, l->nhost + 1, sizeof(*nh))) == NULL)
		return;
	l->host = nh;
	if ((l->host[l->nhost] = strdup(id)) != NULL)
		l->nhost++;
}

/* A host inventory: a heartbeat observation. */
static void
on_inventory(struct resync *rs, struct lat *l, size_t hi,
    const struct reply *r)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_err		e;

	if (hi >= l->nhost)
		return;
	if (lt_resync_inventory(r->data, (size_t)r->len, l->name,
	    l->host[hi], r->received_ms, &evs, &e) != LT_OK)
		reply_unused(l, "host.get", &e);
	else
		l->hosts++;
	push_events(rs, l->name, &evs);
}

/* The links: one linkdef_set each; the list is what the lattice has. */
static void
on_links(struct resync *rs, struct lat *l, const struct reply *r)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_err		e;

	if (lt_resync_links(r->data, (size_t)r->len, l->name,
	    r->received_ms, &evs, &l->seen, &e) != LT_OK)
		reply_unused(l, "link.get", &e);
	else {
		l->links_known = 1;
		l->links_ms = r->received_ms;
		l->links += (unsigned)evs.n;
	}
	push_events(rs, l->name, &evs);
}

/* The config bucket's keys: ask for each config. */
static void
on_kv_info(struct resync *rs, size_t li, const struct reply *r)
{
	struct lat	*l = &rs->lat[li];
	struct lt_err	 e;
	char		 subj[600];
	size_t		 i;

	if (lt_resync_kv_names(r->data, (size_t)r->len, l->name, &l->seen,
	    &e) != LT_OK) {
		reply_unused(l, "config bucket", &e);	/* configs optional */
		return;
	}
	if (l->seen.nconfig > MAX_CONFIGS) {
		log_warnx_rl("resync-configs", "resync: lattice=%s: %zu "
		    "configs, asking for the first %d; no config deleted",
		    l->name, l->seen.nconfig, MAX_CONFIGS);
		while (l->seen.nconfig > MAX_CONFIGS)
			free(l->seen.config[--l->seen.nconfig]);
	} else
		l->configs_known = 1;
	l->kv_ms = r->received_ms;
	if ((l->cfg = calloc(l->seen.nconfig + 1, sizeof(*l->cfg))) == NULL ||
	    (l->cfg_ms = calloc(l->seen.nconfig + 1,
	    sizeof(*l->cfg_ms))) == NULL) {
		l->configs_known = 0;
		return;
	}
	for (i = 0; i < l->seen.nconfig; i++) {
		if (lt_resync_subject_at(subj, sizeof(subj), LT_RS_CONFIG_GET,
		    rs->ctl, rs->domain, l->name, l->seen.config[i], &e) !=
		    LT_OK) {
			reply_unused(l, "config.get", &e);
			continue;
		}
		request(rs, li, "c", (long)i, subj, "");
	}
}

/* A config's answer: a config_set observation when it exists. */
static void
on_config(struct resync *rs, struct lat *l, size_t ci,
    const struct reply *r)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_err		e;
	int			exists;

	if (l->cfg == NULL || ci >= l->seen.nconfig)
		return;
	if (lt_resync_config(r->data, (size_t)r->len, l->name,
	    l->seen.config[ci], r->received_ms, &evs, &exists, &e) != LT_OK) {
		reply_unused(l, "config.get", &e);
		return;
	}
	l->cfg[ci] = exists ? CFG_EXISTS : CFG_ABSENT;
	l->cfg_ms[ci] = r->received_ms;
	if (exists)
		l->configs++;
	push_events(rs, l->name, &evs);
}

/* What deletions() collects from the model. */
struct del {
	struct resync		*rs;
	struct lat		*l;
	struct lt_resync_events	 evs;
	size_t			 seq;
};

/* A link of the model: deleted when link.get did not list it. */
static int
del_link(void *arg, const char *src, const char *name, const char *ns,
    const char *pkg)
{
	struct del		*d = arg;
	struct lt_resync_link	 k;
	struct lt_err		 e;

	if (lt_resync_seen_link(&d->l->seen, src, name, ns, pkg))
		return 0;
	k.source_id = (char *)src;
	k.name = (char *)name;
	k.wit_namespace = (char *)ns;
	k.wit_package = (char *)pkg;
	if (lt_resync_link_deleted(d->l->name, &k, d->l->links_ms, d->seq++,
	    &d->evs, &e) != LT_OK)
		log_warnx_rl("resync-del", "resync: lattice=%s: %s",
		    d->l->name, e.msg);
	else
		d->l->links_deleted++;
	return 0;
}

/* A config of the model: deleted when the bucket does not list it, or
   config.get said the lattice has none of that name. */
static int
del_config(void *arg, const char *name)
{
	struct del	*d = arg;
	struct lat	*l = d->l;
	struct lt_err	 e;
	int64_t		 ms = l->kv_ms;
	size_t		 i;

	for (i = 0; i < l->seen.nconfig; i++)
		if (strcmp(l->seen.config[i], name) == 0)
			break;
	if (i < l->seen.nconfig) {
		if (l->cfg == NULL || l->cfg[i] != CFG_ABSENT)
			return 0;	/* there, or not known for sure */
		ms = l->cfg_ms[i];
	}
	if (lt_resync_config_deleted(l->name, name, ms, &d->evs, &e) !=
	    LT_OK)
		log_warnx_rl("resync-del", "resync: lattice=%s: %s", l->name,
		    e.msg);
	else
		l->configs_deleted++;
	return 0;
}

/*
 * After the round: what the model has and the lattice's authoritative
 * answers (link.get, the config bucket) do not, as deletions dated when
 * those answers came (a newer event of the same link or config wins).
 */
static void
deletions(struct resync *rs, struct lat *l)
{
	struct del	d = { rs, l, { 0 }, 0 };
	struct lt_err	e;

	if (rs->obs == NULL)
		return;
	lt_err_clear(&e);
	if (l->links_known &&
	    lt_observe_links(rs->obs, l->name, del_link, &d, &e) != LT_OK)
		log_warnx("resync: lattice=%s: %s", l->name, e.msg);
	if (l->configs_known &&
	    lt_observe_configs(rs->obs, l->name, del_config, &d, &e) != LT_OK)
		log_warnx("resync: lattice=%s: %s", l->name, e.msg);
	push_events(rs, l->name, &d.evs);
}

/* Route one reply by its subject: prefix.gen.li.kind[.idx]. */
static void
handle_reply(struct resync *rs, struct reply *r)
{
	unsigned long long	 gen;
	size_t			 li, plen = strlen(rs->prefix);
	char			 kind[4];
	long			 idx = -1;
	int			 n;

	if (strncmp(r->subject, rs->prefix, plen) != 0 ||
	    r->subject[plen] != '.')
		return;
	n = sscanf(r->subject + plen + 1, "%llu.%zu.%3[a-z].%ld", &gen, &li,
	    kind, &idx);
	if (n < 3 || !rs->running || gen != rs->gen || li >= rs->nlat)
		return;		/* late: from an earlier resync */
	if (r->len == 0)
		return;		/* no responders (a status message) */
	if (strcmp(kind, "k") == 0)
		on_kv_info(rs, li, r);
	else if (strcmp(kind, "p") == 0)
		on_ping(&rs->lat[li], r);
	else if (strcmp(kind, "h") == 0 && idx >= 0)
		on_inventory(rs, &rs->lat[li], (size_t)idx, r);
	else if (strcmp(kind, "l") == 0)
		on_links(rs, &rs->lat[li], r);
	else if (strcmp(kind, "c") == 0 && idx >= 0)
		on_config(rs, &rs->lat[li], (size_t)idx, r);
}

/* Handle a reply (loop thread, a task of the loop's queue). */
static void
run_reply(void *arg, void *data)
{
	handle_reply(arg, data);
}

/* Gather deadline: ask every host that answered for its inventory. */
static void
on_gather(evutil_socket_t fd, short what, void *arg)
{
	struct resync	*rs = arg;
	struct timeval	 tv;
	struct lt_err	 e;
	char		 subj[600];
	size_t		 i, j;

	(void)fd;
	(void)what;
	for (i = 0; i < rs->nlat; i++)
		for (j = 0; j < rs->lat[i].nhost; j++) {
			if (lt_resync_subject_at(subj, sizeof(subj),
			    LT_RS_HOST_GET, rs->ctl, rs->domain,
			    rs->lat[i].name, rs->lat[i].host[j], &e) !=
			    LT_OK) {
				reply_unused(&rs->lat[i], "host.get", &e);
				continue;
			}
			request(rs, i, "h", (long)j, subj, "");
		}
	tv.tv_sec = rs->gather_ms / 1000;
	tv.tv_usec = (rs->gather_ms % 1000) * 1000;
	evtimer_add(rs->ev_end, &tv);
}

/* Start one round with the lattices in rl. */
static void
begin(struct resync *rs, const struct resync_list *rl, int64_t gather_ms,
    const char *why)
{
	struct timeval	 tv;
	struct lt_err	 e;
	char		 subj[600], body[400];
	size_t		 i;

	free_lats(rs);
	if ((rs->lat = calloc(rl->n ? rl->n : 1, sizeof(*rs->lat))) == NULL)
		return;
	for (i = 0; i < rl->n; i++)
		if ((rs->lat[rs->nlat].name = strdup(rl->name[i])) != NULL)
			rs->nlat++;
	rs->gen++;
	rs->count++;
	rs->running = 1;
	rs->gather_ms = gather_ms;
	rs->started_ms = clock_now_ms();
	log_info("resync: #%llu (%s): %zu lattice(s)",
	    (unsigned long long)rs->count, why, rs->nlat);
	for (i = 0; i < rs->nlat; i++) {
		/* a name that cannot make a subject is refused, never cut */
		if (lt_resync_subject_at(subj, sizeof(subj), LT_RS_PING,
		    rs->ctl, rs->domain, rs->lat[i].name, NULL, &e) !=
		    LT_OK) {
			log_warnx("resync: lattice=%s: %s", rs->lat[i].name,
			    e.msg);
			continue;
		}
		request(rs, i, "p", -1, subj, "");
		if (lt_resync_subject_at(subj, sizeof(subj), LT_RS_LINK_GET,
		    rs->ctl, rs->domain, rs->lat[i].name, NULL, &e) == LT_OK)
			request(rs, i, "l", -1, subj, "");
		if (lt_resync_subject_at(subj, sizeof(subj), LT_RS_KV_INFO,
		    rs->ctl, rs->domain, rs->lat[i].name, NULL, &e) == LT_OK &&
		    lt_resync_kv_body(body, sizeof(body), rs->lat[i].name,
		    &e) == LT_OK)
			request(rs, i, "k", -1, subj, body);
	}
	tv.tv_sec = gather_ms / 1000;
	tv.tv_usec = (gather_ms % 1000) * 1000;
	evtimer_add(rs->ev_gather, &tv);
}

/* End deadline: log the round, run a coalesced one. */
static void
on_end(evutil_socket_t fd, short what, void *arg)
{
	struct resync		*rs = arg;
	struct resync_list	 rl;
	size_t			 i;

	(void)fd;
	(void)what;
	for (i = 0; i < rs->nlat; i++) {
		deletions(rs, &rs->lat[i]);
		log_info("resync: lattice=%s: %zu host(s) answered, %u "
		    "inventories, %u links, %u configs observed; %u links, %u "
		    "configs gone (deleted)", rs->lat[i].name,
		    rs->lat[i].nhost, rs->lat[i].hosts, rs->lat[i].links,
		    rs->lat[i].configs, rs->lat[i].links_deleted,
		    rs->lat[i].configs_deleted);
	}
	log_info("resync: #%llu done in %lldms", (unsigned long long)rs->count,
	    (long long)(clock_now_ms() - rs->started_ms));
	rs->running = 0;
	free_lats(rs);
	if (rs->have_pending) {
		rl = rs->pending;
		memset(&rs->pending, 0, sizeof(rs->pending));
		rs->have_pending = 0;
		begin(rs, &rl, rs->pending_gather_ms, rs->pending_why);
		resync_list_clear(&rl);
	}
}

/* Create the resync machinery. */
int
resync_new(struct event_base *base, natsConnection *conn,
    struct lt_queue *in, struct lt_queue *loop, struct lt_observe *obs,
    struct resync **out)
{
	struct resync	*rs;
	natsInbox	*inbox = NULL;
	char		 subj[160];
	natsStatus	 s;
	int		 rc;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return -1;
	rs->base = base;
	rs->conn = conn;
	rs->in = in;
	rs->loop = loop;
	rs->obs = obs;
	resync_set_subjects(rs, NULL, NULL);
	rs->ev_gather = evtimer_new(base, on_gather, rs);
	rs->ev_end = evtimer_new(base, on_end, rs);
	if (rs->ev_gather == NULL || rs->ev_end == NULL)
		goto fail;
	if (natsInbox_Create(&inbox) != NATS_OK)
		goto fail;
	rc = lt_fmt(rs->prefix, sizeof(rs->prefix), "%s", (char *)inbox);
	natsInbox_Destroy(inbox);
	if (rc != LT_OK || lt_fmt(subj, sizeof(subj), "%s.>", rs->prefix) !=
	    LT_OK) {
		log_warnx("resync: reply inbox name too long");
		goto fail;
	}
	s = natsConnection_Subscribe(&rs->sub, conn, subj, on_msg, rs);
	if (s != NATS_OK) {
		log_warnx("resync: subscribe: %s", natsStatus_GetText(s));
		goto fail;
	}
	*out = rs;
	return 0;
fail:
	resync_free(rs);
	return -1;
}

/* Where the hosts' control interface and JetStream API are. */
void
resync_set_subjects(struct resync *rs, const char *ctl_prefix,
    const char *js_domain)
{
	if (rs == NULL)
		return;
	snprintf(rs->ctl, sizeof(rs->ctl), "%s",
	    ctl_prefix != NULL ? ctl_prefix : "wasmbus.ctl");
	snprintf(rs->domain, sizeof(rs->domain), "%s",
	    js_domain != NULL ? js_domain : "");
}

/* Unsubscribe and free. */
void
resync_free(struct resync *rs)
{
	if (rs == NULL)
		return;
	if (rs->sub != NULL) {
		natsSubscription_Unsubscribe(rs->sub);
		/* waits for a callback in progress before returning */
		natsSubscription_Destroy(rs->sub);
	}
	if (rs->ev_gather != NULL)
		event_free(rs->ev_gather);
	if (rs->ev_end != NULL)
		event_free(rs->ev_end);
	free_lats(rs);
	resync_list_clear(&rs->pending);
	free(rs);
}

/* Start (or queue) a resync. */
void
resync_start(struct resync *rs, const struct resync_list *rl,
    int64_t gather_ms, const char *why)
{
	size_t	i;

	if (rs->running) {
		log_info("resync: (%s) queued after the running one", why);
		for (i = 0; i < rl->n; i++)
			resync_list_add(&rs->pending, rl->name[i]);
		rs->have_pending = 1;
		rs->pending_gather_ms = gather_ms;
		snprintf(rs->pending_why, sizeof(rs->pending_why), "%s", why);
		return;
	}
	begin(rs, rl, gather_ms, why);
}
