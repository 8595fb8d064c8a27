/*
 * sink_alertmanager.c - deliver an alert to Prometheus Alertmanager.
 *
 * POST [{labels, annotations, startsAt, endsAt?, generatorURL?}] to
 * URL/api/v2/alerts with libevent's evhttp client: connect, write and
 * read are all events on the loop, and host names are resolved with
 * evdns (never getaddrinfo() on the loop).  One connection per delivery,
 * freed from the loop after the request callback has returned.
 */
#include <sys/time.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "err.h"
#include "sink_priv.h"
#include "text.h"

/* Check and split the Alertmanager base URL. */
int
am_configure(struct sink *s, const char *url, char *cause, size_t causelen)
{
	struct evhttp_uri *u = NULL;
	const char *scheme, *host, *path;
	struct in6_addr a6;
	struct in_addr a4;
	size_t plen;
	char red[512];
	int port, rc = -1;

	if (url == NULL || *url == '\0') {
		snprintf(cause, causelen, "alert_alertmanager_url: missing");
		return (-1);
	}
	/* the URL goes into error lines: never its password */
	if (lt_text_redact_url(url, red, sizeof(red)) != LT_OK)
		snprintf(red, sizeof(red), "(too long to show)");
	if ((u = evhttp_uri_parse(url)) == NULL) {
		snprintf(cause, causelen,
		    "alert_alertmanager_url: not a url: %s", red);
		return (-1);
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || strcasecmp(scheme, "http") != 0) {
		snprintf(cause, causelen, "alert_alertmanager_url: only "
		    "http:// is supported (use a local TLS proxy): %s", red);
		goto out;
	}
	if (host == NULL || *host == '\0') {
		snprintf(cause, causelen,
		    "alert_alertmanager_url: no host: %s", red);
		goto out;
	}
	if (evhttp_uri_get_query(u) != NULL ||
	    evhttp_uri_get_fragment(u) != NULL ||
	    evhttp_uri_get_userinfo(u) != NULL) {
		snprintf(cause, causelen, "alert_alertmanager_url: no user, "
		    "query or fragment allowed: %s", red);
		goto out;
	}
	port = evhttp_uri_get_port(u);
	if (port == -1)
		port = 80;
	path = evhttp_uri_get_path(u);
	if (path == NULL)
		path = "";
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (asprintf(&s->url_path, "%.*s/api/v2/alerts", (int)plen,
	    path) == -1 ||
	    (s->url_host = strdup(host)) == NULL ||
	    asprintf(&s->host_header, strchr(host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", host, port) == -1) {
		snprintf(cause, causelen, "out of memory");
		goto out;
	}
	s->url_port = port;
	/* Names need a resolver that does not block the loop. */
	if (inet_pton(AF_INET, host, &a4) != 1 &&
	    inet_pton(AF_INET6, host, &a6) != 1) {
		s->dns = evdns_base_new(s->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (s->dns == NULL) {
			snprintf(cause, causelen, "alertmanager: cannot set "
			    "up the resolver for %s", host);
			goto out;
		}
	}
	rc = 0;
out:
	evhttp_uri_free(u);
	return (rc);
}

/* Add label name=value unless value is empty. */
static int
add_label(cJSON *labels, const char *name, const char *value)
{
	if (value == NULL || *value == '\0')
		return (0);
	return (cJSON_AddStringToObject(labels, name, value) == NULL ? -1 : 0);
}

/* Render a as the Alertmanager v2 postable alerts array. */
static char *
am_body(const struct sink *s, const struct alert_msg *a)
{
	cJSON *arr, *al, *labels, *ann;
	char when[32], *body = NULL;
	int64_t ends;

	if ((arr = cJSON_CreateArray()) == NULL)
		return (NULL);
	if ((al = cJSON_CreateObject()) == NULL)
		goto out;
	cJSON_AddItemToArray(arr, al);
	if ((labels = cJSON_AddObjectToObject(al, "labels")) == NULL ||
	    add_label(labels, "alertname", a->kind) == -1 ||
	    add_label(labels, "lattice", a->lattice) == -1 ||
	    add_label(labels, "host_id", a->host_id) == -1 ||
	    add_label(labels, "entity", a->entity) == -1 ||
	    add_label(labels, "severity", a->severity) == -1)
		goto out;
	if ((ann = cJSON_AddObjectToObject(al, "annotations")) == NULL ||
	    cJSON_AddStringToObject(ann, "summary", a->summary) == NULL ||
	    cJSON_AddStringToObject(ann, "description",
	    a->details_json != NULL ? a->details_json : "{}") == NULL)
		goto out;
	if (cJSON_AddStringToObject(al, "startsAt",
	    sink_rfc3339(a->fired_ms, when, sizeof(when))) == NULL)
		goto out;
	if (a->resolved_ms != 0) {
		/* Alertmanager rejects an end before the start. */
		ends = a->resolved_ms < a->fired_ms ? a->fired_ms :
		    a->resolved_ms;
		if (cJSON_AddStringToObject(al, "endsAt",
		    sink_rfc3339(ends, when, sizeof(when))) == NULL)
			goto out;
	}
	if (s->generator_url != NULL && cJSON_AddStringToObject(al,
	    "generatorURL", s->generator_url) == NULL)
		goto out;
	body = cJSON_PrintUnformatted(arr);
out:
	cJSON_Delete(arr);
	return (body);
}

/* Say why a request failed, from libevent's error code. */
static void
http_error_cb(enum evhttp_request_error err, void *arg)
{
	struct delivery *d = arg;
	const char *why;

	switch (err) {
	case EVREQ_HTTP_TIMEOUT:
		why = "timed out";
		break;
	case EVREQ_HTTP_EOF:
		why = "connection closed";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		why = "bad response header";
		break;
	case EVREQ_HTTP_BUFFER_ERROR:
		why = "connection error";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		why = "response too long";
		break;
	default:
		why = "request failed";
		break;
	}
	delivery_finish(d, 0, "alertmanager %s:%d: %s", d->sink->url_host,
	    d->sink->url_port, why);
}

/* The request completed (or failed without an error callback). */
static void
http_done_cb(struct evhttp_request *req, void *arg)
{
	struct delivery *d = arg;
	struct evbuffer *in;
	char text[160];
	ev_ssize_t got;
	size_t n, i;
	int code;

	if (d->finished)
		return;
	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		delivery_finish(d, 0, "alertmanager %s:%d: cannot connect",
		    d->sink->url_host, d->sink->url_port);
		return;
	}
	if (code >= 200 && code < 300) {
		delivery_finish(d, 1, NULL);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	got = evbuffer_copyout(in, text, sizeof(text) - 1);
	n = got > 0 ? (size_t)got : 0;
	text[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20)
			text[i] = ' ';
	delivery_finish(d, 0, "alertmanager %s:%d: http %d%s%s",
	    d->sink->url_host, d->sink->url_port, code, n > 0 ? ": " : "",
	    text);
}

/* Our own deadline, in case libevent's never fires (e.g. in DNS). */
static void
http_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;

	(void)fd;
	(void)what;
	delivery_finish(d, 0, "alertmanager %s:%d: timed out after %" PRId64
	    " ms", d->sink->url_host, d->sink->url_port, d->sink->timeout_ms);
}

/* POST a to Alertmanager. */
int
am_start(struct delivery *d, const struct alert_msg *a)
{
	struct sink *s = d->sink;
	struct evhttp_request *req;
	struct evkeyvalq *hdr;
	struct timeval tv;
	char *body;

	if ((body = am_body(s, a)) == NULL) {
		delivery_finish(d, 0, "alertmanager: out of memory");
		return (0);
	}
	tv = sink_tv(s->timeout_ms);
	d->conn = evhttp_connection_base_new(s->base, s->dns, s->url_host,
	    (unsigned short)s->url_port);
	d->ev_http_timeout = evtimer_new(s->base, http_timeout_cb, d);
	if (d->conn == NULL || d->ev_http_timeout == NULL)
		goto fail;
	evhttp_connection_set_retries(d->conn, 0);
	evhttp_connection_set_timeout_tv(d->conn, &tv);
	/* A second late so libevent's own timeout wins with its reason. */
	tv = sink_tv(s->timeout_ms + 1000);
	if (evtimer_add(d->ev_http_timeout, &tv) == -1)
		goto fail;
	if ((req = evhttp_request_new(http_done_cb, d)) == NULL)
		goto fail;
	evhttp_request_set_error_cb(req, http_error_cb);
	hdr = evhttp_request_get_output_headers(req);
	evhttp_add_header(hdr, "Host", s->host_header);
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "User-Agent", "latticed/" LATTICED_VERSION);
	evhttp_add_header(hdr, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(req), body,
	    strlen(body));
	free(body);
	body = NULL;
	/* On failure evhttp_make_request() frees req itself. */
	if (evhttp_make_request(d->conn, req, EVHTTP_REQ_POST,
	    s->url_path) == -1)
		goto fail;
	return (0);
fail:
	free(body);
	delivery_finish(d, 0, "alertmanager: cannot start the request");
	return (0);
}

/* Free the connection and timer of a finished delivery. */
void
am_cleanup(struct delivery *d)
{
	if (d->ev_http_timeout != NULL) {
		event_free(d->ev_http_timeout);
		d->ev_http_timeout = NULL;
	}
	/*
	 * Not from inside evhttp's callbacks: libevent still uses the
	 * connection after they return.  done_cb or sink_free frees it.
	 */
}
