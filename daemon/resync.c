/*
 * resync.c - host.ping / host.get / link.get / config.get into synthetic
 * CloudEvents through the ingest pipeline.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "clock.h"
#include "queue.h"
#include "log.h"
#include "observe.h"
#include "resync.h"
#include "timeutil.h"

#define MAX_HOSTS	4096		/* per lattice and resync */
#define MAX_CONFIGS	4096

/* A reply on its way from the nats.c thread to the loop (a task). */
struct reply {
	char		*subject;
	char		*data;
	int		 len;
	int64_t		 received_ms;
};

/* One lattice of the running resync. */
struct lat {
	char	*name;
	char	**host;
	size_t	  nhost;
	char	**config;
	size_t	  nconfig;
	unsigned  hosts, links, configs;	/* folded observations */
};

struct resync {
	struct event_base *base;
	natsConnection	*conn;
	natsSubscription *sub;
	struct lt_queue	*in;			/* observations: decode stage */
	struct lt_queue	*loop;			/* replies: the loop */
	char		 prefix[128];		/* reply inbox */
	char		 ctl[128];		/* wasmbus.ctl, or else */
	char		 jsapi[160];		/* $JS[.<domain>].API */
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
		for (j = 0; j < rs->lat[i].nconfig; j++)
			free(rs->lat[i].config[j]);
		free(rs->lat[i].host);
		free(rs->lat[i].config);
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

	if (idx >= 0)
		snprintf(reply, sizeof(reply), "%s.%llu.%zu.%s.%ld",
		    rs->prefix, (unsigned long long)rs->gen, li, kind, idx);
	else
		snprintf(reply, sizeof(reply), "%s.%llu.%zu.%s", rs->prefix,
		    (unsigned long long)rs->gen, li, kind);
	s = natsConnection_PublishRequestString(rs->conn, subject, reply,
	    body);
	if (s != NATS_OK)
		log_warnx_rl("resync-pub", "resync: publish %s: %s", subject,
		    natsStatus_GetText(s));
}

/* Push a synthetic CloudEvent through the ingest pipeline. */
static void
push_event(struct resync *rs, const char *lattice, const char *type,
    const char *source, const char *id, int64_t ms, cJSON *data)
{
	cJSON	*ce;
	char	 tbuf[LT_TIME_BUFSZ], subj[300], tname[100];
	char	*txt;
	int	 n;

	if ((ce = cJSON_CreateObject()) == NULL)
		return;
	snprintf(tname, sizeof(tname), "com.wasmcloud.lattice.%s", type);
	cJSON_AddStringToObject(ce, "specversion", "1.0");
	cJSON_AddStringToObject(ce, "id", id);
	cJSON_AddStringToObject(ce, "type", tname);
	cJSON_AddStringToObject(ce, "source", source);
	cJSON_AddStringToObject(ce, "datacontenttype", "application/json");
	cJSON_AddStringToObject(ce, "time", lt_time_format(ms, tbuf));
	cJSON_AddItemReferenceToObject(ce, "data", data);
	txt = cJSON_PrintUnformatted(ce);
	cJSON_Delete(ce);
	if (txt == NULL)
		return;
	n = snprintf(subj, sizeof(subj), "wasmbus.evt.%s.%s", lattice, type);
	if (n < 0 || (size_t)n >= sizeof(subj))
		log_warnx_rl("resync-drop", "resync: lattice name of %zu bytes "
		    "too long for a subject; observation dropped",
		    strlen(lattice));
	else if (lt_queue_push_msg(rs->in, subj, NULL, txt, strlen(txt), ms,
	    NULL, NULL, LT_QUEUE_REFUSE) != LT_OK)
		log_warnx_rl("resync-drop", "resync: ingest queue full, "
		    "observation dropped: lattice=%s type=%s", lattice, type);
	free(txt);
}

/* The response object of a successful CtlResponse, or NULL. */
static cJSON *
ctl_response(cJSON *root, const char *what, const char *lattice)
{
	cJSON	*ok, *msg;

	if (!cJSON_IsObject(root))
		return NULL;
	ok = cJSON_GetObjectItemCaseSensitive(root, "success");
	if (!cJSON_IsTrue(ok)) {
		msg = cJSON_GetObjectItemCaseSensitive(root, "message");
		log_debug("resync: lattice=%s %s: %s", lattice, what,
		    cJSON_IsString(msg) ? msg->valuestring : "failed");
		return NULL;
	}
	return cJSON_GetObjectItemCaseSensitive(root, "response");
}

/* Remember a host that answered the ping. */
static void
on_ping(struct resync *rs, struct lat *l, cJSON *resp)
{
	cJSON	*id = cJSON_GetObjectItemCaseSensitive(resp, "id");
	char	**nh;
	size_t	  i;

	if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
	    strchr(id->valuestring, '.') != NULL ||
	    strpbrk(id->valuestring, "*> \t") != NULL)
		return;
	(void)rs;
	for (i = 0; i < l->nhost; i++)
		if (strcmp(l->host[i], id->valuestring) == 0)
			return;
	if (l->nhost == MAX_HOSTS)
		return;
	if ((nh = reallocarray(l->host, l->nhost + 1, sizeof(*nh))) == NULL)
		return;
	l->host = nh;
	if ((l->host[l->nhost] = strdup(id->valuestring)) != NULL)
		l->nhost++;
}

/* A host inventory: a heartbeat observation. */
static void
on_inventory(struct resync *rs, struct lat *l, size_t hi, cJSON *resp,
    int64_t ms)
{
	cJSON	*hid;
	char	 id[600];

	if (!cJSON_IsObject(resp) || hi >= l->nhost)
		return;
	hid = cJSON_GetObjectItemCaseSensitive(resp, "host_id");
	if (!cJSON_IsString(hid) || hid->valuestring[0] == '\0') {
		/* older hosts leave it out: it is the one we asked */
		cJSON_DeleteItemFromObjectCaseSensitive(resp, "host_id");
		cJSON_AddStringToObject(resp, "host_id", l->host[hi]);
	}
	snprintf(id, sizeof(id), "resync-%s-%s-%lld", l->name, l->host[hi],
	    (long long)ms);
	push_event(rs, l->name, "host_heartbeat", l->host[hi], id, ms, resp);
	l->hosts++;
}

/* The links: one linkdef_set each. */
static void
on_links(struct resync *rs, struct lat *l, cJSON *resp, int64_t ms)
{
	cJSON	*link;
	char	 id[400];
	int	 i = 0;

	if (!cJSON_IsArray(resp))
		return;
	cJSON_ArrayForEach(link, resp) {
		if (!cJSON_IsObject(link))
			continue;
		snprintf(id, sizeof(id), "resync-%s-link-%lld-%d", l->name,
		    (long long)ms, i++);
		push_event(rs, l->name, "linkdef_set", "latticed-resync", id,
		    ms, link);
		l->links++;
	}
}

/* The config bucket's keys: ask for each config. */
static void
on_kv_info(struct resync *rs, size_t li, cJSON *root)
{
	struct lat	*l = &rs->lat[li];
	cJSON		*st, *subs, *it;
	char		 pfx[300], subj[600];
	char		**nc;
	size_t		 plen;

	st = cJSON_GetObjectItemCaseSensitive(root, "state");
	subs = cJSON_GetObjectItemCaseSensitive(st, "subjects");
	if (!cJSON_IsObject(subs))
		return;		/* no bucket: configs are optional */
	snprintf(pfx, sizeof(pfx), "$KV.CONFIGDATA_%s.", l->name);
	plen = strlen(pfx);
	cJSON_ArrayForEach(it, subs) {
		if (it->string == NULL || strncmp(it->string, pfx, plen) != 0 ||
		    it->string[plen] == '\0' || l->nconfig == MAX_CONFIGS)
			continue;
		nc = reallocarray(l->config, l->nconfig + 1, sizeof(*nc));
		if (nc == NULL)
			return;
		l->config = nc;
		if ((l->config[l->nconfig] = strdup(it->string + plen)) ==
		    NULL)
			return;
		snprintf(subj, sizeof(subj), "%s.v1.%s.config.get.%s",
		    rs->ctl, l->name, l->config[l->nconfig]);
		request(rs, li, "c", (long)l->nconfig, subj, "");
		l->nconfig++;
	}
}

/* A config that exists: a config_set observation. */
static void
on_config(struct resync *rs, struct lat *l, size_t ci, cJSON *resp,
    int64_t ms)
{
	cJSON	*data;
	char	 id[600];

	if (ci >= l->nconfig || resp == NULL || cJSON_IsNull(resp))
		return;
	if ((data = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(data, "config_name", l->config[ci]);
	snprintf(id, sizeof(id), "resync-%s-config-%s-%lld", l->name,
	    l->config[ci], (long long)ms);
	push_event(rs, l->name, "config_set", "latticed-resync", id, ms, data);
	cJSON_Delete(data);
	l->configs++;
}

/* Route one reply by its subject: prefix.gen.li.kind[.idx]. */
static void
handle_reply(struct resync *rs, struct reply *r)
{
	unsigned long long	 gen;
	size_t			 li, plen = strlen(rs->prefix);
	char			 kind[4];
	long			 idx = -1;
	cJSON			*root, *resp;
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
	if ((root = cJSON_ParseWithLength(r->data, (size_t)r->len)) == NULL) {
		log_warnx_rl("resync-bad", "resync: lattice=%s: reply is not "
		    "JSON", rs->lat[li].name);
		return;
	}
	if (strcmp(kind, "k") == 0)
		on_kv_info(rs, li, root);
	else if ((resp = ctl_response(root, kind, rs->lat[li].name)) != NULL) {
		if (strcmp(kind, "p") == 0)
			on_ping(rs, &rs->lat[li], resp);
		else if (strcmp(kind, "h") == 0 && idx >= 0)
			on_inventory(rs, &rs->lat[li], (size_t)idx, resp,
			    r->received_ms);
		else if (strcmp(kind, "l") == 0)
			on_links(rs, &rs->lat[li], resp, r->received_ms);
		else if (strcmp(kind, "c") == 0 && idx >= 0)
			on_config(rs, &rs->lat[li], (size_t)idx, resp,
			    r->received_ms);
	}
	cJSON_Delete(root);
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
	char		 subj[600];
	size_t		 i, j;

	(void)fd;
	(void)what;
	for (i = 0; i < rs->nlat; i++)
		for (j = 0; j < rs->lat[i].nhost; j++) {
			snprintf(subj, sizeof(subj), "%s.v1.%s.host.get.%s",
			    rs->ctl, rs->lat[i].name, rs->lat[i].host[j]);
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
		snprintf(subj, sizeof(subj), "%s.v1.%s.host.ping", rs->ctl,
		    rs->lat[i].name);
		request(rs, i, "p", -1, subj, "");
		snprintf(subj, sizeof(subj), "%s.v1.%s.link.get", rs->ctl,
		    rs->lat[i].name);
		request(rs, i, "l", -1, subj, "");
		snprintf(subj, sizeof(subj), "%s.STREAM.INFO."
		    "KV_CONFIGDATA_%s", rs->jsapi, rs->lat[i].name);
		snprintf(body, sizeof(body), "{\"subjects_filter\":"
		    "\"$KV.CONFIGDATA_%s.>\"}", rs->lat[i].name);
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
	for (i = 0; i < rs->nlat; i++)
		log_info("resync: lattice=%s: %zu host(s) answered, %u "
		    "inventories, %u links, %u configs observed",
		    rs->lat[i].name, rs->lat[i].nhost, rs->lat[i].hosts,
		    rs->lat[i].links, rs->lat[i].configs);
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
    struct lt_queue *in, struct lt_queue *loop, struct resync **out)
{
	struct resync	*rs;
	natsInbox	*inbox = NULL;
	char		 subj[160];
	natsStatus	 s;

	*out = NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return -1;
	rs->base = base;
	rs->conn = conn;
	rs->in = in;
	rs->loop = loop;
	resync_set_subjects(rs, NULL, NULL);
	rs->ev_gather = evtimer_new(base, on_gather, rs);
	rs->ev_end = evtimer_new(base, on_end, rs);
	if (rs->ev_gather == NULL || rs->ev_end == NULL)
		goto fail;
	if (natsInbox_Create(&inbox) != NATS_OK)
		goto fail;
	snprintf(rs->prefix, sizeof(rs->prefix), "%s", (char *)inbox);
	natsInbox_Destroy(inbox);
	snprintf(subj, sizeof(subj), "%s.>", rs->prefix);
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
	if (js_domain != NULL)
		snprintf(rs->jsapi, sizeof(rs->jsapi), "$JS.%s.API", js_domain);
	else
		snprintf(rs->jsapi, sizeof(rs->jsapi), "$JS.API");
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
