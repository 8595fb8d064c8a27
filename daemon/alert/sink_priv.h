/*
 * sink_priv.h - what the sink kinds share inside daemon/alert/.
 */
#ifndef LATTICED_ALERT_SINK_PRIV_H
#define LATTICED_ALERT_SINK_PRIV_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "sink.h"

struct delivery;

/* One sink; kind-specific fields live side by side (a sink is small). */
struct sink {
	struct event_base	*base;
	enum sink_kind		 kind;
	TAILQ_HEAD(, delivery)	 pending;
	int			 running;	/* commands alive */

	void			(*logfn)(int, const char *, ...);
	char			**argv;
	int64_t			 timeout_ms;
	natsConnection		*nc;
	char			*subject;
	char			*url_host;
	int			 url_port;
	char			*url_path;	/* ".../api/v2/alerts" */
	char			*host_header;
	char			*generator_url;
	int64_t			 repost_ms;
	struct evdns_base	*dns;
};

/* One sink_deliver() in flight. */
struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	struct sink		*sink;
	sink_done_fn		 done;
	void			*arg;
	struct event		*ev_done;	/* fires done on the loop */
	int			 finished;
	int			 ok;
	char			 error[256];

	/* command */
	pid_t			 pid;
	int			 pidfd;
	int			 in_fd;
	int			 out_fd;
	struct event		*ev_exit;	/* pidfd readable or poll */
	struct event		*ev_in;
	struct event		*ev_out;
	struct event		*ev_timeout;
	char			*input;
	size_t			 inlen;
	size_t			 inoff;
	char			 captured[256];
	size_t			 caplen;
	int			 term_sent;
	int			 kill_sent;

	/* alertmanager */
	struct evhttp_connection *conn;
	struct event		*ev_http_timeout;
};

/* Record the outcome and arrange for done to run from the loop. */
void	delivery_finish(struct delivery *, int ok, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Turn ms into a struct timeval. */
struct timeval	sink_tv(int64_t ms);
/* Format ms as RFC 3339 UTC with milliseconds into buf (>= 32 bytes). */
char	*sink_rfc3339(int64_t ms, char *buf, size_t len);
/* Say "firing" or "resolved" for a. */
const char *sink_state(const struct alert_msg *a);

int	command_start(struct delivery *, const struct alert_msg *);
void	command_cancel(struct delivery *);
void	command_cleanup(struct delivery *);
int	am_configure(struct sink *, const char *url, char *, size_t);
int	am_start(struct delivery *, const struct alert_msg *);
void	am_cleanup(struct delivery *);

#endif
