/*
 * http.h - the operations endpoint: /metrics, /healthz, /readyz.
 *
 * libevent's evhttp on the daemon's own loop, off unless http_listen is
 * set.  Handlers run on the loop thread between batches, so what they read
 * is consistent; they never block.
 *
 *	/metrics  Prometheus text format (metrics.h, docs/operations.md)
 *	/healthz  200 "ok", or 503 with one line per reason
 *	/readyz   200 "ready" once every readiness gate is open, else 503
 *
 * Readiness gates: "subscriptions" is built in (the first subscriptions
 * are live).  A later stage (JetStream resync) adds its own with
 * http_require_ready("resync") before the loop runs and opens it with
 * http_set_ready("resync", 1).  Gates work with the endpoint off, too.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct http;

/* Parse "PORT" (loopback), "HOST:PORT" or "[V6]:PORT".  0, or -1 with a
   message in why. */
int	http_parse_listen(const char *s, char *host, size_t hostlen,
	    int *port, char *why, size_t whylen);
/* Listen on cf->http_listen (nothing when NULL: *out stays NULL).
   0, or -1 when the address cannot be bound. */
int	http_start(struct event_base *base, const struct config *cf,
	    struct http **out);
/* Take the reloadable settings (health_nats_grace); warn when
   http_listen changed (needs a restart). */
void	http_reload(struct http *h, const struct config *cf);
/* Stop listening and free.  NULL is fine. */
void	http_stop(struct http *h);

/* Add a readiness gate that must open before /readyz says 200. */
void	http_require_ready(const char *gate);
/* Open (1) or close (0) a readiness gate. */
void	http_set_ready(const char *gate, int ready);

#endif
