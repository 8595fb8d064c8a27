/*
 * http.c - /metrics, /healthz and /readyz on the daemon's loop (http.h).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
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

struct http {
	struct evhttp	*evh;
	char		*listen;
	int64_t		 grace_ms;
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

	(void)arg;
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

	(void)arg;
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

	(void)arg;
	reply(req, 404, "Not Found", "text/plain; charset=utf-8", body,
	    sizeof(body) - 1);
}

/* Start the endpoint. */
int
http_start(struct event_base *base, const struct config *cf,
    struct http **out)
{
	struct http	*h;
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
	if (h != NULL)
		h->grace_ms = cf->health_nats_grace_ms;
}

/* Stop the endpoint. */
void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	if (h->evh != NULL)
		evhttp_free(h->evh);
	free(h->listen);
	free(h);
}
