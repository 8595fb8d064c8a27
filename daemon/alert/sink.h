/*
 * sink.h - alert sinks: where a fired or resolved alert is delivered.
 *
 * The alert outbox (daemon/) owns the bookkeeping: which alert still needs
 * delivering to which sink, retries with backoff, restarts.  A sink only
 * delivers one alert once, asynchronously, on the libevent loop thread:
 * sink_deliver() returns at once and calls done exactly once later, from
 * the loop, never from inside sink_deliver() itself.  Nothing a sink does
 * blocks the loop (no blocking DNS, no waitpid() without WNOHANG, no
 * blocking nats.c calls) and nothing it does is fatal.
 *
 * Kinds:
 *   log           one line through cfg->logfn at a priority by severity.
 *   command       exec argv directly (no shell) with the alert as JSON on
 *                 stdin and LATTICED_ALERT_* in the environment; killed
 *                 (SIGTERM, then SIGKILL) after a timeout.
 *   nats          a CloudEvent 1.0 published on a subject through a
 *                 connection the daemon owns.
 *   alertmanager  POST to Alertmanager's /api/v2/alerts; wants active
 *                 alerts re-posted (sink_wants_repost()).
 */
#ifndef LATTICED_ALERT_SINK_H
#define LATTICED_ALERT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

struct event_base;

/* One alert, as the outbox reads it from the alerts table.  Borrowed:
 * sink_deliver() copies what it keeps. */
struct alert_msg {
	int64_t		 alert_id;
	const char	*lattice;
	const char	*kind;		/* host_stale, provider_unhealthy, ... */
	const char	*severity;	/* info | warning | critical */
	const char	*entity;
	const char	*host_id;	/* may be NULL */
	const char	*summary;
	const char	*details_json;	/* a JSON object; NULL or bad = {} */
	int64_t		 fired_ms;
	int64_t		 resolved_ms;	/* 0 while the alert is active */
};

enum sink_kind {
	SINK_LOG,
	SINK_COMMAND,
	SINK_NATS,
	SINK_ALERTMANAGER,
};

/* Defaults, used when the matching sink_config field is 0. */
#define SINK_COMMAND_TIMEOUT_MS		10000
#define SINK_COMMAND_KILL_GRACE_MS	2000	/* SIGTERM -> SIGKILL */
#define SINK_COMMAND_MAX_RUNNING	8
#define SINK_HTTP_TIMEOUT_MS		10000
#define SINK_REPOST_INTERVAL_MS		60000
#define SINK_NATS_SUBJECT		"latticed.alerts.{lattice}"

/*
 * What to build.  Only the fields of the chosen kind are read.  Strings
 * and argv are copied by sink_new(); nc is borrowed and must outlive the
 * sink.
 */
struct sink_config {
	enum sink_kind	 kind;

	/* log: priority is LOG_CRIT / LOG_WARNING / LOG_INFO / LOG_NOTICE
	 * (syslog.h); the line has no newline.  NULL: stderr with a
	 * journald "<N>" prefix. */
	void		(*logfn)(int priority, const char *fmt, ...)
			    __attribute__((format(printf, 2, 3)));

	/* command: argv[0] is the program's path, NULL-terminated. */
	char *const	*argv;
	int64_t		 timeout_ms;	/* command and alertmanager */

	/* nats: subject may hold "{lattice}"; NULL = SINK_NATS_SUBJECT. */
	natsConnection	*nc;
	const char	*subject;

	/* alertmanager: base URL, http:// only ("http://127.0.0.1:9093");
	 * "/api/v2/alerts" is appended to its path. */
	const char	*url;
	const char	*generator_url;	/* optional */
	int64_t		 repost_interval_ms;
};

struct sink;

/* Called exactly once per sink_deliver(), on the loop thread.  error is
 * NULL when ok, else one lower-case line; borrowed for the call only. */
typedef void	(*sink_done_fn)(void *arg, int ok, const char *error);

/*
 * Build a sink on base from cfg.  Returns 0 and sets *out, or -1 with a
 * one-line reason in cause (e.g. "alertmanager url: https is not
 * supported").  Only checks what can be checked without I/O.
 */
int		 sink_new(struct event_base *base, const struct sink_config *cfg,
		    struct sink **out, char *cause, size_t causelen);

/*
 * Start delivering a.  Returns 0 at once; done runs later on the loop.
 * Returns -1 (and never calls done) only when a is unusable (a required
 * field is NULL) or memory runs out.
 */
int		 sink_deliver(struct sink *s, const struct alert_msg *a,
		    sink_done_fn done, void *arg);

/*
 * How often, in ms, the outbox should deliver active alerts again (0 =
 * once is enough).  Alertmanager forgets an alert that is not re-posted
 * within its resolve_timeout.
 */
int64_t		 sink_wants_repost(const struct sink *s);

/* Name the sink's kind: "log", "command", "nats", "alertmanager". */
const char	*sink_name(const struct sink *s);

/*
 * Keep the process groups of running command children listed in path
 * (NULL: nowhere), and first SIGKILL the groups a previous run listed
 * there (a kill -9 of latticed leaves them running): call once at start,
 * before anything is delivered.  *killed gets how many groups were
 * signalled.  0, or -1 with cause.
 */
int		 sink_command_children(const char *path, int *killed,
		    char *cause, size_t causelen);

/* Parse a kind name; 0 on success, -1 when unknown. */
int		 sink_kind_parse(const char *name, enum sink_kind *kind);

/*
 * Free s (NULL is fine).  Deliveries still in flight are cancelled (a
 * running command is killed with SIGKILL and reaped) and their done is
 * called now with ok=0 and "sink closed", so call sink_free() before
 * freeing whatever the done arguments point at.
 */
void		 sink_free(struct sink *s);

/*
 * Render a as the JSON object the command sink writes on stdin and the
 * nats sink puts in a CloudEvent's data.  Returns a malloc'd string or
 * NULL when out of memory.  Exposed for tests and tools.
 */
char		*sink_alert_json(const struct alert_msg *a);

#endif
