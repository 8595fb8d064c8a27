/*
 * sinktest.c - alert-sinktest: deliver one fabricated host_stale alert
 * through a real sink on a real event loop, print "ok" or "error: ...",
 * exit 0 or 1.  Used by tests/integration/test_alert_sinks.sh.
 *
 *   alert-sinktest --sink log
 *   alert-sinktest --sink command --cmd /path/script [--timeout 2s]
 *   alert-sinktest --sink nats --nats URL [--subject S] [--sub SUBJ]
 *   alert-sinktest --sink alertmanager --url http://127.0.0.1:PORT
 *   common: [--resolve] [--lattice L] [--id N] [--host H] [--json]
 *
 * --sub subscribes to SUBJ before publishing and prints the message it
 * receives (exit 1 when none arrives within 5 s or it is not the alert's
 * CloudEvent).  --json prints the alert as the command sink would see it.
 */
#include <sys/time.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <nats/nats.h>

#include "sink.h"

struct result {
	int	 called;
	int	 ok;
	char	 error[256];
	struct event_base *base;
};

/* Say how to run the program and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: alert-sinktest --sink log|command|nats|"
	    "alertmanager [--cmd PATH [ARG...]] [--timeout DUR]\n"
	    "\t[--nats URL] [--subject S] [--sub SUBJ] [--url URL]\n"
	    "\t[--resolve] [--lattice L] [--id N] [--host H] [--json]\n");
	exit(2);
}

/* Print log sink lines to stdout with their priority. */
static void
print_log(int priority, const char *fmt, ...)
{
	va_list ap;

	printf("<%d>", priority);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Record the sink's verdict and stop the loop. */
static void
on_done(void *arg, int ok, const char *error)
{
	struct result *r = arg;

	r->called++;
	r->ok = ok;
	if (error != NULL)
		snprintf(r->error, sizeof(r->error), "%s", error);
	event_base_loopexit(r->base, NULL);
}

/* Parse "10s", "500ms", "2m" or plain milliseconds. */
static int64_t
parse_duration(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s || v < 0)
		return (-1);
	if (strcmp(end, "ms") == 0 || *end == '\0')
		return (v);
	if (strcmp(end, "s") == 0)
		return (v * 1000);
	if (strcmp(end, "m") == 0)
		return (v * 60000);
	return (-1);
}

/* Check that msg is the CloudEvent of alert a. */
static int
check_event(const char *data, int len, const struct alert_msg *a)
{
	cJSON *ce, *d;
	char want[64];
	int rc = -1;

	if ((ce = cJSON_ParseWithLength(data, (size_t)len)) == NULL)
		return (-1);
	snprintf(want, sizeof(want), "%" PRId64 "-%s", a->alert_id,
	    a->resolved_ms != 0 ? "resolved" : "firing");
	d = cJSON_GetObjectItemCaseSensitive(ce, "data");
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ce, "id")) &&
	    strcmp(cJSON_GetObjectItemCaseSensitive(ce, "id")->valuestring,
	    want) == 0 && cJSON_IsObject(d) &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "kind")) &&
	    strcmp(cJSON_GetObjectItemCaseSensitive(d, "kind")->valuestring,
	    a->kind) == 0)
		rc = 0;
	cJSON_Delete(ce);
	return (rc);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "sink", required_argument, NULL, 's' },
		{ "cmd", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "nats", required_argument, NULL, 'n' },
		{ "subject", required_argument, NULL, 'S' },
		{ "sub", required_argument, NULL, 'b' },
		{ "url", required_argument, NULL, 'u' },
		{ "resolve", no_argument, NULL, 'r' },
		{ "lattice", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct sink_config cfg;
	struct alert_msg a;
	struct result r;
	struct sink *s = NULL;
	struct timeval now, guard;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	natsMsg *msg = NULL;
	natsStatus st;
	const char *natsurl = NULL, *subto = NULL, *kind = NULL;
	char cause[256], **cmdargv = NULL, *json;
	int ch, resolve = 0, printjson = 0, rc = 1;
	int64_t now_ms;

	memset(&cfg, 0, sizeof(cfg));
	memset(&r, 0, sizeof(r));
	gettimeofday(&now, NULL);
	now_ms = (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
	memset(&a, 0, sizeof(a));
	a.alert_id = 42;
	a.lattice = "default";
	a.kind = "host_stale";
	a.severity = "critical";
	a.host_id = "NBTESTHOSTSTALE0001";
	a.summary = "host NBTESTHOSTSTALE0001 stale: no heartbeat for 95s";
	a.fired_ms = now_ms - 60000;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			kind = optarg;
			break;
		case 'c':
			/* --cmd PATH [ARG...]: the rest of argv. */
			cmdargv = &argv[optind - 1];
			optind = argc;
			break;
		case 't':
			if ((cfg.timeout_ms = parse_duration(optarg)) < 0)
				usage();
			break;
		case 'n':
			natsurl = optarg;
			break;
		case 'S':
			cfg.subject = optarg;
			break;
		case 'b':
			subto = optarg;
			break;
		case 'u':
			cfg.url = optarg;
			break;
		case 'r':
			resolve = 1;
			break;
		case 'l':
			a.lattice = optarg;
			break;
		case 'i':
			a.alert_id = strtoll(optarg, NULL, 10);
			break;
		case 'H':
			a.host_id = *optarg != '\0' ? optarg : NULL;
			break;
		case 'j':
			printjson = 1;
			break;
		default:
			usage();
		}
	}
	if (kind == NULL || sink_kind_parse(kind, &cfg.kind) == -1)
		usage();
	a.entity = a.host_id != NULL ? a.host_id : "unknown";
	a.details_json = "{\"last_seen_ms\":1,\"threshold_ms\":90000,"
	    "\"note\":\"quote \\\" and newline \\n\"}";
	if (resolve)
		a.resolved_ms = now_ms;
	if (printjson) {
		if ((json = sink_alert_json(&a)) == NULL)
			return (1);
		printf("%s\n", json);
		free(json);
		return (0);
	}
	cfg.argv = cmdargv;
	cfg.logfn = print_log;
	cfg.generator_url = "http://latticed.invalid/alerts";

	if ((r.base = event_base_new()) == NULL) {
		printf("error: event_base_new\n");
		return (1);
	}
	if (cfg.kind == SINK_NATS) {
		if (natsurl == NULL)
			usage();
		if ((st = natsConnection_ConnectTo(&nc, natsurl)) != NATS_OK) {
			printf("error: nats connect: %s\n",
			    natsStatus_GetText(st));
			goto out;
		}
		if (subto != NULL && ((st = natsConnection_SubscribeSync(&sub,
		    nc, subto)) != NATS_OK ||
		    (st = natsConnection_Flush(nc)) != NATS_OK)) {
			printf("error: nats subscribe: %s\n",
			    natsStatus_GetText(st));
			goto out;
		}
		cfg.nc = nc;
	}
	if (sink_new(r.base, &cfg, &s, cause, sizeof(cause)) == -1) {
		printf("error: %s\n", cause);
		goto out;
	}
	fprintf(stderr, "sink=%s repost_ms=%" PRId64 "\n", sink_name(s),
	    sink_wants_repost(s));
	if (sink_deliver(s, &a, on_done, &r) == -1) {
		printf("error: sink_deliver refused the alert\n");
		goto out;
	}
	if (r.called != 0) {
		printf("error: done called from inside sink_deliver\n");
		goto out;
	}
	/* A guard so a broken sink cannot hang the test. */
	guard.tv_sec = 60;
	guard.tv_usec = 0;
	event_base_loopexit(r.base, &guard);
	event_base_dispatch(r.base);
	if (r.called != 1) {
		printf("error: done called %d times\n", r.called);
		goto out;
	}
	if (!r.ok) {
		printf("error: %s\n", r.error);
		goto out;
	}
	if (sub != NULL) {
		if ((st = natsSubscription_NextMsg(&msg, sub, 5000)) !=
		    NATS_OK) {
			printf("error: nothing received on %s: %s\n", subto,
			    natsStatus_GetText(st));
			goto out;
		}
		printf("received %s %.*s\n", natsMsg_GetSubject(msg),
		    natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
		if (check_event(natsMsg_GetData(msg),
		    natsMsg_GetDataLength(msg), &a) == -1) {
			printf("error: received message is not the alert\n");
			goto out;
		}
	}
	printf("ok\n");
	rc = 0;
out:
	fflush(stdout);
	sink_free(s);
	natsMsg_Destroy(msg);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	event_base_free(r.base);
	nats_Close();
	return (rc);
}
