/*
 * http.c - /metrics, /healthz and /readyz on the daemon's loop (http.h).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define MAX_GATES	8
#define GATE_NAME	32

/*
 * One accepted connection.  libevent 2.1's evhttp has neither a header
 * deadline (its timeout restarts with every byte, so a client dripping a
 * header byte every few seconds stays forever) nor a connection cap
 * (evhttp_set_max_connections is 2.2), so we keep both here: evhttp makes
 * each connection's bufferevent through our bevcb, we keep a reference to
 * it and look at all of them every second.  evhttp frees a connection's
 * bufferevent with bufferevent_free(), which clears its callbacks: our
 * reference then only keeps the struct alive until the next look.
 */
struct conn {
	struct bufferevent	*bev;		/* a reference of ours */
	int64_t			 since_ms;	/* accepted, or last request */
	int			 refused;	/* over http_max_connections */
};

struct http {
	struct evhttp	*evh;
	struct event	*ev_scan;		/* every second */
	struct event	*ev_kick;		/* now (a refusal) */
	char		*listen;
	int64_t		 grace_ms;
	int64_t		 header_ms;		/* http_header_timeout */
	int		 max_conns;		/* http_max_connections */
	struct conn	*conns;
	size_t		 nconns, conncap;
	unsigned long	 timeouts, refusals;	/* for the log */
};

/* Readiness gates: process-wide so stages can register before start. */
static struct {
	pthread_mutex_t	 mtx;
	struct {
		char	 name[GATE_NAME];
		int	 open;
	}		 g[MAX_GATES];
	size_t		 n;
} gates = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.g = { { "subscriptions", 0 } },
	.n = 1,
};

/* Find a gate by name, adding it when add is set (mutex held). */
static int
gate_find(const char *name, int add)
{
	size_t	i;

	for (i = 0; i < gates.n; i++)
		if (strcmp(gates.g[i].name, name) == 0)
			return (int)i;
	if (!add || gates.n == MAX_GATES)
		return -1;
	snprintf(gates.g[gates.n].name, GATE_NAME, "%s", name);
	gates.g[gates.n].open = 0;
	return (int)gates.n++;
}

/* Are all gates open?  Fill why with the closed ones (mutex held). */
static int
gates_open(char *why, size_t len)
{
	size_t	i, off = 0;
	int	all = 1;

	if (len > 0)
		why[0] = '\0';
	for (i = 0; i < gates.n; i++) {
		if (gates.g[i].open)
			continue;
		all = 0;
		if (off < len)
			off += (size_t)snprintf(why + off, len - off,
			    "not ready: waiting for %s\n", gates.g[i].name);
	}
	return all;
}

/* Register a readiness gate. */
void
http_require_ready(const char *gate)
{
	char	why[8];

	pthread_mutex_lock(&gates.mtx);
	if (gate_find(gate, 1) == -1)
		log_warnx("http: too many readiness gates, %s ignored", gate);
	metrics_set_ready(gates_open(why, 0));
	pthread_mutex_unlock(&gates.mtx);
}

/* Open or close a readiness gate. */
void
http_set_ready(const char *gate, int ready)
{
	char	why[8];
	int	i;

	pthread_mutex_lock(&gates.mtx);
	if ((i = gate_find(gate, 1)) != -1)
		gates.g[i].open = ready != 0;
	metrics_set_ready(gates_open(why, 0));
	pthread_mutex_unlock(&gates.mtx);
}

/* Parse a listen address. */
int
http_parse_listen(const char *s, char *host, size_t hostlen, int *port,
    char *why, size_t whylen)
{
	const char	*p, *hs = "127.0.0.1";
	size_t		 hl = strlen(hs);
	char		*end;
	long		 v;

	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':') {
			snprintf(why, whylen, "\"%s\": expected [ADDR]:PORT",
			    s);
			return -1;
		}
		hs = s + 1;
		hl = (size_t)(p - hs);
		p += 2;
	} else if ((p = strrchr(s, ':')) != NULL) {
		if (p == s) {
			snprintf(why, whylen, "\"%s\": no address (use "
			    "0.0.0.0%s for every interface)", s, s);
			return -1;
		}
		if (memchr(s, ':', (size_t)(p - s)) != NULL) {
			snprintf(why, whylen, "\"%s\": write IPv6 addresses "
			    "as [ADDR]:PORT", s);
			return -1;
		}
		hs = s;
		hl = (size_t)(p - s);
		p++;
	} else
		p = s;
	if (hl == 0 || hl >= hostlen) {
		snprintf(why, whylen, "\"%s\": bad address", s);
		return -1;
	}
	if (!isdigit((unsigned char)*p)) {
		snprintf(why, whylen, "\"%s\": bad port", s);
		return -1;
	}
	v = strtol(p, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535) {
		snprintf(why, whylen, "\"%s\": port must be 1..65535", s);
		return -1;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	*port = (int)v;
	return 0;
}

/* Whether evhttp still owns the connection's bufferevent. */
static int
conn_alive(struct conn *c)
{
	void	*arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	return arg != NULL;
}

/* Close a connection evhttp owns: it sees EOF and frees it itself. */
static void
conn_close(struct conn *c, const char *answer)
{
	evutil_socket_t	fd = bufferevent_getfd(c->bev);

	if (fd == -1)
		return;
	if (answer != NULL)
		(void)send(fd, answer, strlen(answer),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_RDWR);
}

/* Drop connections evhttp freed; close the refused and the slow ones. */
static void
conns_scan(struct http *h)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 29\r\nConnection: close\r\n\r\n"
	    "too many connections to http\n";
	int64_t	now = clock_mono_ms();
	size_t	i, j;

	for (i = j = 0; i < h->nconns; i++) {
		struct conn	*c = &h->conns[i];

		if (!conn_alive(c)) {
			bufferevent_decref(c->bev);
			continue;
		}
		if (c->refused) {
			/* once: evhttp frees it on the EOF */
			conn_close(c, busy);
			c->refused = 0;
			c->since_ms = INT64_MAX;
		} else if (c->since_ms != INT64_MAX &&
		    now - c->since_ms >= h->header_ms &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			/* no complete request within the deadline (and not
			   writing an answer: evhttp's write timeout has that) */
			conn_close(c, NULL);
			c->since_ms = INT64_MAX;
			h->timeouts++;
		}
		h->conns[j++] = *c;
	}
	h->nconns = j;
}

/* Every second, and at once when a connection was refused. */
static void
on_scan(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conns_scan(arg);
}

/* evhttp's bevcb: make (and keep a reference to) a new connection's
   bufferevent; past the cap, mark it refused. */
static struct bufferevent *
on_new_conn(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct bufferevent	*bev;
	struct conn		*c;
	size_t			 i, live = 0;

	/* options 0, as evhttp's own: evhttp closes the fd */
	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	if (h->nconns == h->conncap) {
		size_t	 n = h->conncap ? h->conncap * 2 : 16;
		void	*p = reallocarray(h->conns, n, sizeof(*h->conns));

		if (p == NULL)
			return bev;	/* untracked, still served */
		h->conns = p;
		h->conncap = n;
	}
	for (i = 0; i < h->nconns; i++)
		if (h->conns[i].since_ms != INT64_MAX &&
		    conn_alive(&h->conns[i]))
			live++;
	bufferevent_incref(bev);
	c = &h->conns[h->nconns++];
	c->bev = bev;
	c->since_ms = clock_mono_ms();
	c->refused = live >= (size_t)h->max_conns;
	if (c->refused) {
		if (h->refusals++ % 1000 == 0)
			log_warnx("http: %zu connections open, refusing more "
			    "(http_max_connections %d; %lu refused so far)",
			    live, h->max_conns, h->refusals);
		/* not ev_scan: activating a persistent timer moves
		   its next run a period later each time */
		event_active(h->ev_kick, 0, 0);
	}
	return bev;
}

/* A request arrived complete: its connection's header clock restarts. */
static void
conn_request(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	size_t				 i;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return;
	for (i = 0; i < h->nconns; i++)
		if (h->conns[i].bev == bev && h->conns[i].since_ms !=
		    INT64_MAX)
			h->conns[i].since_ms = clock_mono_ms();
}

/* Send a plain-text reply. */
static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const char *body, size_t len)
{
	struct evbuffer		*buf;
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);

	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(buf, body, len);
	evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

/* GET /metrics. */
static void
on_metrics(struct evhttp_request *req, void *arg)
{
	char	*body = NULL;
	size_t	 len = 0;
	FILE	*fp;
	int	 rc;

	conn_request(arg, req);
	if ((fp = open_memstream(&body, &len)) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	rc = metrics_render(fp, clock_now_ms());
	if (fclose(fp) != 0 || rc == -1) {
		free(body);
		evhttp_send_error(req, 500, "cannot render metrics");
		return;
	}
	reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    body, len);
	free(body);
}

/* GET /healthz. */
static void
on_healthz(struct evhttp_request *req, void *arg)
{
	struct http	*h = arg;
	char		 why[1024];

	conn_request(arg, req);
	if (metrics_health(clock_now_ms(), h->grace_ms, why, sizeof(why)) == 0)
		reply(req, 200, "OK", "text/plain; charset=utf-8", "ok\n", 3);
	else
		reply(req, 503, "Service Unavailable",
		    "text/plain; charset=utf-8", why, strlen(why));
}

/* GET /readyz. */
static void
on_readyz(struct evhttp_request *req, void *arg)
{
	char	why[512];
	int	ok;

	conn_request(arg, req);
	pthread_mutex_lock(&gates.mtx);
	ok = gates_open(why, sizeof(why));
	pthread_mutex_unlock(&gates.mtx);
	if (ok)
		reply(req, 200, "OK", "text/plain; charset=utf-8", "ready\n",
		    6);
	else
		reply(req, 503, "Service Unavailable",
		    "text/plain; charset=utf-8", why, strlen(why));
}

/* Anything else. */
static void
on_other(struct evhttp_request *req, void *arg)
{
	static const char body[] = "not found: try /metrics, /healthz, "
	    "/readyz\n";

	conn_request(arg, req);
	reply(req, 404, "Not Found", "text/plain; charset=utf-8", body,
	    sizeof(body) - 1);
}

/* Start the endpoint. */
int
http_start(struct event_base *base, const struct config *cf,
    struct http **out)
{
	struct http	*h;
	struct timeval	 tv;
	char		 host[256], why[256];
	int		 port;

	*out = NULL;
	if (cf->http_listen == NULL)
		return 0;
	if (http_parse_listen(cf->http_listen, host, sizeof(host), &port,
	    why, sizeof(why)) == -1) {
		log_warnx("http: http_listen %s", why);
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->listen = strdup(cf->http_listen)) == NULL ||
	    (h->evh = evhttp_new(base)) == NULL) {
		log_warnx("http: out of memory");
		goto fail;
	}
	h->grace_ms = cf->health_nats_grace_ms;
	h->header_ms = cf->http_header_timeout_ms;
	h->max_conns = cf->http_max_connections;
	if ((h->ev_scan = event_new(base, -1, EV_PERSIST, on_scan, h)) ==
	    NULL || (h->ev_kick = event_new(base, -1, 0, on_scan, h)) ==
	    NULL) {
		log_warnx("http: out of memory");
		goto fail;
	}
	evtimer_add(h->ev_scan, clock_tv(1000, &tv));
	evhttp_set_bevcb(h->evh, on_new_conn, h);
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h->evh, 10);
	evhttp_set_max_headers_size(h->evh, 8192);
	evhttp_set_max_body_size(h->evh, 0);
	evhttp_set_cb(h->evh, "/metrics", on_metrics, h);
	evhttp_set_cb(h->evh, "/healthz", on_healthz, h);
	evhttp_set_cb(h->evh, "/readyz", on_readyz, h);
	evhttp_set_gencb(h->evh, on_other, h);
	if (evhttp_bind_socket_with_handle(h->evh, host, (ev_uint16_t)port)
	    == NULL) {
		log_warn("http: cannot listen on %s", cf->http_listen);
		goto fail;
	}
	log_info("http: listening on %s:%d (/metrics, /healthz, /readyz)",
	    host, port);
	*out = h;
	return 0;
fail:
	http_stop(h);
	return -1;
}

/* Take the reloadable settings. */
void
http_reload(struct http *h, const struct config *cf)
{
	const char	*o = h != NULL ? h->listen : NULL;
	const char	*n = cf->http_listen;

	if ((o == NULL) != (n == NULL) || (o != NULL && strcmp(o, n) != 0))
		log_warnx("reload: http_listen changed; restart latticed to "
		    "apply");
	if (h != NULL) {
		h->grace_ms = cf->health_nats_grace_ms;
		h->header_ms = cf->http_header_timeout_ms;
		h->max_conns = cf->http_max_connections;
	}
}

/* Stop the endpoint. */
void
http_stop(struct http *h)
{
	size_t	i;

	if (h == NULL)
		return;
	if (h->ev_scan != NULL)
		event_free(h->ev_scan);
	if (h->ev_kick != NULL)
		event_free(h->ev_kick);
	/* frees every connection (bufferevent_free), then ours go */
	if (h->evh != NULL)
		evhttp_free(h->evh);
	for (i = 0; i < h->nconns; i++)
		bufferevent_decref(h->conns[i].bev);
	free(h->conns);
	if (h->timeouts > 0 || h->refusals > 0)
		log_info("http: %lu connections closed at the header deadline, "
		    "%lu refused over the cap", h->timeouts, h->refusals);
	free(h->listen);
	free(h);
}
