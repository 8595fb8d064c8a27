/*
 * sink.c - alert sinks: construction, dispatch, deferred completion, and
 * the two kinds that need no I/O of their own (log, nats).
 */
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>

#include "sink_priv.h"

static void	done_cb(evutil_socket_t, short, void *);

/* Name a sink kind. */
static const char *
kind_name(enum sink_kind k)
{
	switch (k) {
	case SINK_LOG:
		return ("log");
	case SINK_COMMAND:
		return ("command");
	case SINK_NATS:
		return ("nats");
	case SINK_ALERTMANAGER:
		return ("alertmanager");
	}
	return ("unknown");
}

/* Parse a kind name. */
int
sink_kind_parse(const char *name, enum sink_kind *kind)
{
	static const enum sink_kind all[] = { SINK_LOG, SINK_COMMAND,
	    SINK_NATS, SINK_ALERTMANAGER };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, kind_name(all[i])) == 0) {
			*kind = all[i];
			return (0);
		}
	}
	return (-1);
}

/* Name the sink's kind. */
const char *
sink_name(const struct sink *s)
{
	return (kind_name(s->kind));
}

/* Turn ms into a struct timeval. */
struct timeval
sink_tv(int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return (tv);
}

/* Format ms as RFC 3339 UTC with milliseconds. */
char *
sink_rfc3339(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs;
	int64_t frac;

	secs = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return (buf);
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	return (buf);
}

/* Say "firing" or "resolved". */
const char *
sink_state(const struct alert_msg *a)
{
	return (a->resolved_ms != 0 ? "resolved" : "firing");
}

/* Render a as a JSON object (the command's stdin, the CloudEvent data). */
static cJSON *
alert_object(const struct alert_msg *a)
{
	cJSON *o, *details = NULL;
	char when[32];

	if ((o = cJSON_CreateObject()) == NULL)
		return (NULL);
	if (cJSON_AddNumberToObject(o, "alert_id", (double)a->alert_id) ==
	    NULL ||
	    cJSON_AddStringToObject(o, "lattice", a->lattice) == NULL ||
	    cJSON_AddStringToObject(o, "kind", a->kind) == NULL ||
	    cJSON_AddStringToObject(o, "severity", a->severity) == NULL ||
	    cJSON_AddStringToObject(o, "entity", a->entity) == NULL ||
	    cJSON_AddStringToObject(o, "state", sink_state(a)) == NULL)
		goto fail;
	if (a->host_id != NULL) {
		if (cJSON_AddStringToObject(o, "host_id", a->host_id) == NULL)
			goto fail;
	} else if (cJSON_AddNullToObject(o, "host_id") == NULL)
		goto fail;
	if (cJSON_AddStringToObject(o, "summary", a->summary) == NULL)
		goto fail;
	/* Bad details are passed on as a string rather than dropped. */
	if (a->details_json != NULL)
		details = cJSON_Parse(a->details_json);
	if (details == NULL)
		details = a->details_json == NULL ? cJSON_CreateObject() :
		    cJSON_CreateString(a->details_json);
	if (details == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "details", details);
	if (cJSON_AddNumberToObject(o, "fired_ms", (double)a->fired_ms) ==
	    NULL ||
	    cJSON_AddStringToObject(o, "fired_at",
	    sink_rfc3339(a->fired_ms, when, sizeof(when))) == NULL)
		goto fail;
	if (a->resolved_ms != 0) {
		if (cJSON_AddNumberToObject(o, "resolved_ms",
		    (double)a->resolved_ms) == NULL ||
		    cJSON_AddStringToObject(o, "resolved_at",
		    sink_rfc3339(a->resolved_ms, when, sizeof(when))) == NULL)
			goto fail;
	} else if (cJSON_AddNullToObject(o, "resolved_ms") == NULL ||
	    cJSON_AddNullToObject(o, "resolved_at") == NULL)
		goto fail;
	return (o);
fail:
	cJSON_Delete(o);
	return (NULL);
}

/* Render a as a JSON string. */
char *
sink_alert_json(const struct alert_msg *a)
{
	cJSON *o;
	char *s;

	if ((o = alert_object(a)) == NULL)
		return (NULL);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return (s);
}

/* Free a NULL-terminated string vector. */
static void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Build a sink from cfg. */
int
sink_new(struct event_base *base, const struct sink_config *cfg,
    struct sink **out, char *cause, size_t causelen)
{
	struct sink *s;
	size_t i, n;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(cause, causelen, "out of memory");
		return (-1);
	}
	s->base = base;
	s->kind = cfg->kind;
	TAILQ_INIT(&s->pending);

	switch (cfg->kind) {
	case SINK_LOG:
		s->logfn = cfg->logfn;
		break;
	case SINK_COMMAND:
		if (cfg->argv == NULL || cfg->argv[0] == NULL ||
		    cfg->argv[0][0] != '/') {
			snprintf(cause, causelen,
			    "alert_command: need an absolute program path");
			goto fail;
		}
		for (n = 0; cfg->argv[n] != NULL; n++)
			;
		if ((s->argv = calloc(n + 1, sizeof(*s->argv))) == NULL)
			goto nomem;
		for (i = 0; i < n; i++)
			if ((s->argv[i] = strdup(cfg->argv[i])) == NULL)
				goto nomem;
		s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms :
		    SINK_COMMAND_TIMEOUT_MS;
		break;
	case SINK_NATS:
		if (cfg->nc == NULL) {
			snprintf(cause, causelen, "nats sink: no connection");
			goto fail;
		}
		s->nc = cfg->nc;
		if (cfg->subject != NULL && (cfg->subject[0] == '\0' ||
		    strpbrk(cfg->subject, " \t\r\n*>") != NULL)) {
			snprintf(cause, causelen,
			    "alert_nats_subject: not a publishable subject");
			goto fail;
		}
		s->subject = strdup(cfg->subject != NULL ? cfg->subject :
		    SINK_NATS_SUBJECT);
		if (s->subject == NULL)
			goto nomem;
		break;
	case SINK_ALERTMANAGER:
		s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms :
		    SINK_HTTP_TIMEOUT_MS;
		s->repost_ms = cfg->repost_interval_ms > 0 ?
		    cfg->repost_interval_ms : SINK_REPOST_INTERVAL_MS;
		if (cfg->generator_url != NULL &&
		    (s->generator_url = strdup(cfg->generator_url)) == NULL)
			goto nomem;
		if (am_configure(s, cfg->url, cause, causelen) == -1)
			goto fail;
		break;
	default:
		snprintf(cause, causelen, "unknown sink kind %d",
		    (int)cfg->kind);
		goto fail;
	}
	*out = s;
	return (0);
nomem:
	snprintf(cause, causelen, "out of memory");
fail:
	sink_free(s);
	return (-1);
}

/* How often the outbox should re-deliver active alerts. */
int64_t
sink_wants_repost(const struct sink *s)
{
	return (s->kind == SINK_ALERTMANAGER ? s->repost_ms : 0);
}

/* Record the outcome and arrange for done to run from the loop. */
void
delivery_finish(struct delivery *d, int ok, const char *fmt, ...)
{
	va_list ap;

	if (d->finished)
		return;
	d->finished = 1;
	d->ok = ok;
	d->error[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(d->error, sizeof(d->error), fmt, ap);
		va_end(ap);
	}
	if (d->sink->kind == SINK_COMMAND)
		command_cleanup(d);
	else if (d->sink->kind == SINK_ALERTMANAGER)
		am_cleanup(d);
	event_active(d->ev_done, 0, 0);
}

/* Free a delivery whose kind-specific resources are gone. */
static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	/* Only here, outside evhttp's callbacks (see am_cleanup()). */
	if (d->conn != NULL)
		evhttp_connection_free(d->conn);
	if (d->ev_done != NULL)
		event_free(d->ev_done);
	free(d->input);
	free(d);
}

/* Run done for a finished delivery, from the loop. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	sink_done_fn done = d->done;
	void *darg = d->arg;
	char error[sizeof(d->error)];
	int ok = d->ok;

	(void)fd;
	(void)what;
	/* done may free the sink or deliver again: detach d first. */
	TAILQ_REMOVE(&d->sink->pending, d, entry);
	memcpy(error, d->error, sizeof(error));
	delivery_free(d);
	done(darg, ok, ok ? NULL : error);
}

/* Quote v for a key=value log line when it needs it. */
static void
logval(char *buf, size_t len, const char *v)
{
	size_t o = 0;
	int quote = (*v == '\0');
	const char *p;

	for (p = v; *p != '\0' && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			quote = 1;
	if (quote && o + 1 < len)
		buf[o++] = '"';
	for (p = v; *p != '\0' && o + 4 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf[o++] = '?';
		else
			buf[o++] = *p;
	}
	if (quote && o + 1 < len)
		buf[o++] = '"';
	buf[o] = '\0';
}

/* Write a log line to stderr for journald when no logfn was given. */
static void
stderr_log(int priority, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "<%d>", priority);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Pick the log priority for an alert. */
static int
log_priority(const struct alert_msg *a)
{
	/* A resolution is good news: never page on it. */
	if (a->resolved_ms != 0)
		return (LOG_NOTICE);
	if (strcmp(a->severity, "critical") == 0)
		return (LOG_CRIT);
	if (strcmp(a->severity, "warning") == 0)
		return (LOG_WARNING);
	return (LOG_INFO);
}

/* Deliver by logging one line. */
static void
log_deliver(struct delivery *d, const struct alert_msg *a)
{
	void (*logfn)(int, const char *, ...);
	char lat[128], ent[192], host[128], sum[512];

	logfn = d->sink->logfn != NULL ? d->sink->logfn : stderr_log;
	logval(lat, sizeof(lat), a->lattice);
	logval(ent, sizeof(ent), a->entity);
	logval(host, sizeof(host), a->host_id != NULL ? a->host_id : "-");
	/* The summary is always quoted, as operators grep for it. */
	logval(sum + 1, sizeof(sum) - 2, a->summary);
	if (sum[1] == '"')
		memmove(sum, sum + 1, strlen(sum + 1) + 1);
	else {
		sum[0] = '"';
		strcat(sum, "\"");
	}
	logfn(log_priority(a), "alert id=%" PRId64 " lattice=%s kind=%s "
	    "severity=%s entity=%s host_id=%s summary=%s state=%s",
	    a->alert_id, lat, a->kind, a->severity, ent, host, sum,
	    sink_state(a));
	delivery_finish(d, 1, NULL);
}

/* Expand the subject template for a's lattice. */
static char *
nats_subject(const char *tmpl, const char *lattice)
{
	const char *mark = strstr(tmpl, "{lattice}");
	char *subj, *p;
	size_t pre, llen;

	if (mark == NULL)
		return (strdup(tmpl));
	pre = (size_t)(mark - tmpl);
	llen = strlen(lattice);
	if ((subj = malloc(strlen(tmpl) - 9 + llen + 1)) == NULL)
		return (NULL);
	memcpy(subj, tmpl, pre);
	/* A lattice name must stay one token and never a wildcard. */
	for (p = subj + pre; *lattice != '\0'; lattice++, p++)
		*p = (*lattice == '.' || *lattice == '*' || *lattice == '>' ||
		    (unsigned char)*lattice <= ' ') ? '_' : *lattice;
	strcpy(p, mark + 9);
	return (subj);
}

/* Render a as a CloudEvent 1.0 JSON string. */
static char *
cloudevent_json(const struct alert_msg *a)
{
	cJSON *ce, *data;
	char id[64], type[64], when[32], *s = NULL;

	if ((ce = cJSON_CreateObject()) == NULL)
		return (NULL);
	snprintf(id, sizeof(id), "%" PRId64 "-%s", a->alert_id,
	    sink_state(a));
	snprintf(type, sizeof(type), "com.latticed.alert.%s", sink_state(a));
	sink_rfc3339(a->resolved_ms != 0 ? a->resolved_ms : a->fired_ms,
	    when, sizeof(when));
	if (cJSON_AddStringToObject(ce, "specversion", "1.0") == NULL ||
	    cJSON_AddStringToObject(ce, "type", type) == NULL ||
	    cJSON_AddStringToObject(ce, "source", "latticed") == NULL ||
	    cJSON_AddStringToObject(ce, "id", id) == NULL ||
	    cJSON_AddStringToObject(ce, "time", when) == NULL ||
	    cJSON_AddStringToObject(ce, "subject", a->kind) == NULL ||
	    cJSON_AddStringToObject(ce, "datacontenttype",
	    "application/json") == NULL)
		goto out;
	if ((data = alert_object(a)) == NULL)
		goto out;
	cJSON_AddItemToObject(ce, "data", data);
	s = cJSON_PrintUnformatted(ce);
out:
	cJSON_Delete(ce);
	return (s);
}

/* Deliver by publishing a CloudEvent (buffered by nats.c: no wait). */
static void
nats_deliver(struct delivery *d, const struct alert_msg *a)
{
	natsStatus st;
	char *subj = NULL, *body = NULL;

	if ((subj = nats_subject(d->sink->subject, a->lattice)) == NULL ||
	    (body = cloudevent_json(a)) == NULL) {
		delivery_finish(d, 0, "nats: out of memory");
		goto out;
	}
	st = natsConnection_Publish(d->sink->nc, subj, body,
	    (int)strlen(body));
	if (st != NATS_OK)
		delivery_finish(d, 0, "nats publish on %s: %s", subj,
		    natsStatus_GetText(st));
	else
		delivery_finish(d, 1, NULL);
out:
	free(body);
	free(subj);
}

/* Start delivering a; done runs later on the loop. */
int
sink_deliver(struct sink *s, const struct alert_msg *a, sink_done_fn done,
    void *arg)
{
	struct delivery *d;

	if (a->lattice == NULL || a->kind == NULL || a->severity == NULL ||
	    a->entity == NULL || a->summary == NULL || done == NULL)
		return (-1);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (-1);
	d->sink = s;
	d->done = done;
	d->arg = arg;
	d->pid = -1;
	d->pidfd = d->in_fd = d->out_fd = -1;
	if ((d->ev_done = event_new(s->base, -1, 0, done_cb, d)) == NULL) {
		free(d);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&s->pending, d, entry);

	switch (s->kind) {
	case SINK_LOG:
		log_deliver(d, a);
		break;
	case SINK_NATS:
		nats_deliver(d, a);
		break;
	case SINK_COMMAND:
		if (command_start(d, a) == -1 && !d->finished)
			delivery_finish(d, 0, "command: cannot start");
		break;
	case SINK_ALERTMANAGER:
		if (am_start(d, a) == -1 && !d->finished)
			delivery_finish(d, 0, "alertmanager: cannot start");
		break;
	}
	return (0);
}

/* Free s, cancelling what is in flight. */
void
sink_free(struct sink *s)
{
	struct delivery *d;

	if (s == NULL)
		return;
	while ((d = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, d, entry);
		if (!d->finished) {
			if (s->kind == SINK_COMMAND)
				command_cancel(d);
			delivery_finish(d, 0, "sink closed");
		}
		d->done(d->arg, d->ok, d->ok ? NULL : d->error);
		delivery_free(d);
	}
	if (s->dns != NULL)
		evdns_base_free(s->dns, 0);
	strv_free(s->argv);
	free(s->subject);
	free(s->url_host);
	free(s->url_path);
	free(s->host_header);
	free(s->generator_url);
	free(s);
}
