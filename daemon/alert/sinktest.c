/*
 * sinktest.c - alert-sinktest: deliver one fabricated host_stale alert
 * through a real sink on a real event loop, print "ok" or "error: ...",
 * exit 0 or 1.  Used by tests/integration/test_alert_sinks.sh.
 *
 *   alert-sinktest --sink log
 *   alert-sinktest --sink command [--timeout 2s] --cmd /path/script [ARG...]
 *   alert-sinktest --sink nats --nats URL [--subject S] [--sub SUBJ]
 *   alert-sinktest --sink alertmanager --url http://127.0.0.1:PORT
 *   common: [--resolve] [--lattice L] [--id N] [--host H] [--json]
 *           [--count N] [--free-after DUR]
 *
 * --sub subscribes to SUBJ before publishing and prints the message it
 * receives (exit 1 when none arrives within 5 s or it is not the alert's
 * CloudEvent).  --json prints the alert as the command sink would see it.
 * --count N delivers N alerts at once (ids from --id, entities HOST-0...);
 * every one must succeed.  --free-after frees the sink with deliveries in
 * flight, which must then each end once ("sink closed").  --cmd takes the
 * rest of the command line as the program and its arguments.
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

#define MAX_COUNT	64

struct run {
	struct event_base	*base;
	struct sink		*sink;
	int			 outstanding;
};

struct slot {
	struct run	*run;
	int		 called;
	int		 ok;
	char		 error[256];
};

/* Say how to run the program and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: alert-sinktest --sink log|command|nats|"
	    "alertmanager [--cmd PATH [ARG...]] [--timeout DUR]\n"
	    "\t[--nats URL] [--subject S] [--sub SUBJ] [--url URL]\n"
	    "\t[--resolve] [--lattice L] [--id N] [--host H] [--json]\n"
	    "\t[--count N] [--free-after DUR]\n");
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

/* Record the sink's verdict; stop the loop after the last one. */
static void
on_done(void *arg, int ok, const char *error)
{
	struct slot *sl = arg;

	sl->called++;
	sl->ok = ok;
	if (error != NULL)
		snprintf(sl->error, sizeof(sl->error), "%s", error);
	if (--sl->run->outstanding == 0)
		event_base_loopexit(sl->run->base, NULL);
}

/* Free the sink while deliveries are in flight (--free-after). */
static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *run = arg;

	(void)fd;
	(void)what;
	sink_free(run->sink);
	run->sink = NULL;
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
		{ "count", required_argument, NULL, 'N' },
		{ "free-after", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct sink_config cfg;
	struct alert_msg a;
	struct run run;
	struct slot slots[MAX_COUNT];
	struct event *ev_free = NULL;
	char hostbuf[MAX_COUNT][64];
	const char *host;
	int64_t free_after = -1, first_id;
	int count = 1, i, bad;
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
	memset(&run, 0, sizeof(run));
	memset(slots, 0, sizeof(slots));
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
		case 'N':
			count = atoi(optarg);
			if (count < 1 || count > MAX_COUNT)
				usage();
			break;
		case 'F':
			if ((free_after = parse_duration(optarg)) < 0)
				usage();
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

	if ((run.base = event_base_new()) == NULL) {
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
	if (sink_new(run.base, &cfg, &run.sink, cause, sizeof(cause)) == -1) {
		printf("error: %s\n", cause);
		goto out;
	}
	fprintf(stderr, "sink=%s repost_ms=%" PRId64 "\n",
	    sink_name(run.sink), sink_wants_repost(run.sink));
	/* --count N: N alerts in flight at once, one entity each. */
	host = a.host_id;
	first_id = a.alert_id;
	for (i = 0; i < count; i++) {
		if (count > 1)
			snprintf(hostbuf[i], sizeof(hostbuf[i]), "%s-%d",
			    host != NULL ? host : "entity", i);
		else
			snprintf(hostbuf[i], sizeof(hostbuf[i]), "%s",
			    host != NULL ? host : "unknown");
		a.entity = hostbuf[i];
		if (host != NULL)
			a.host_id = hostbuf[i];
		a.alert_id = first_id + i;
		slots[i].run = &run;
		run.outstanding++;
		if (sink_deliver(run.sink, &a, on_done, &slots[i]) == -1) {
			printf("error: sink_deliver refused the alert\n");
			goto out;
		}
		if (slots[i].called != 0) {
			printf("error: done called inside sink_deliver\n");
			goto out;
		}
	}
	/* The alert is borrowed: the sink must have copied what it keeps. */
	for (i = 0; i < count; i++)
		memset(hostbuf[i], 'X', sizeof(hostbuf[i]) - 1);
	a.alert_id = first_id;
	if (free_after >= 0) {
		struct timeval tv;

		tv.tv_sec = free_after / 1000;
		tv.tv_usec = (free_after % 1000) * 1000;
		if ((ev_free = evtimer_new(run.base, free_cb, &run)) == NULL ||
		    evtimer_add(ev_free, &tv) == -1) {
			printf("error: evtimer\n");
			goto out;
		}
	}
	/* A guard so a broken sink cannot hang the test. */
	guard.tv_sec = 60;
	guard.tv_usec = 0;
	event_base_loopexit(run.base, &guard);
	event_base_dispatch(run.base);
	for (i = bad = 0; i < count; i++) {
		if (slots[i].called != 1) {
			printf("error: done called %d times\n",
			    slots[i].called);
			bad = 1;
		} else if (!slots[i].ok) {
			printf("error: %s\n", slots[i].error);
			bad = 1;
		}
	}
	if (bad)
		goto out;
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
	sink_free(run.sink);
	if (ev_free != NULL)
		event_free(ev_free);
	natsMsg_Destroy(msg);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	event_base_free(run.base);
	nats_Close();
	return (rc);
}
