/*
 * ceil_sub.c - ceiling: a bare nats.c subscriber that only counts the
 * lattice messages latticed would take (wasmbus.evt.> and wasmbus.rpcevt.>).
 *
 * usage: bench_ceil_sub -s url -n count [-t idle_seconds]
 * Prints "ready" once subscribed (start the publisher then), and at the end
 * "count=N first_ms=... last_ms=..." (wall clock of the first and last
 * message).  Exits when count messages arrived or nothing came for
 * idle_seconds.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nats/nats.h>

#include "benchutil.h"

static _Atomic uint64_t	count;
static _Atomic int64_t	first_ms;
static _Atomic int64_t	last_ms;

/* Count one message. */
static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	int64_t now = bu_now_ms(), zero = 0;

	(void)nc;
	(void)sub;
	(void)arg;
	natsMsg_Destroy(msg);
	atomic_compare_exchange_strong(&first_ms, &zero, now);
	atomic_store(&last_ms, now);
	atomic_fetch_add(&count, 1);
}

/* Subscribe, count, report. */
int
main(int argc, char *argv[])
{
	natsConnection *nc = NULL;
	natsSubscription *s1 = NULL, *s2 = NULL;
	natsOptions *opts = NULL;
	const char *url = "nats://127.0.0.1:4222";
	uint64_t want = 0, seen = 0, dropped = 0;
	int64_t idle_ms = 5000, quiet = 0;
	int ch, rc = 1;
	int64_t d1 = 0, d2 = 0;

	while ((ch = getopt(argc, argv, "s:n:t:")) != -1) {
		switch (ch) {
		case 's':
			url = optarg;
			break;
		case 'n':
			want = strtoull(optarg, NULL, 10);
			break;
		case 't':
			idle_ms = atoll(optarg) * 1000;
			break;
		default:
			fprintf(stderr, "usage: bench_ceil_sub -s url -n count"
			    " [-t idle_seconds]\n");
			return 2;
		}
	}
	if (natsOptions_Create(&opts) != NATS_OK ||
	    natsOptions_SetURL(opts, url) != NATS_OK ||
	    natsConnection_Connect(&nc, opts) != NATS_OK) {
		fprintf(stderr, "connect %s: %s\n", url,
		    nats_GetLastError(NULL));
		goto fail;
	}
	if (natsConnection_Subscribe(&s1, nc, "wasmbus.evt.>", on_msg,
	    NULL) != NATS_OK ||
	    natsConnection_Subscribe(&s2, nc, "wasmbus.rpcevt.>", on_msg,
	    NULL) != NATS_OK ||
	    natsSubscription_SetPendingLimits(s1, -1, -1) != NATS_OK ||
	    natsSubscription_SetPendingLimits(s2, -1, -1) != NATS_OK ||
	    natsConnection_Flush(nc) != NATS_OK) {
		fprintf(stderr, "subscribe failed\n");
		goto fail;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		uint64_t c = atomic_load(&count);

		if (want > 0 && c >= want)
			break;
		if (c != seen) {
			seen = c;
			quiet = 0;
		} else
			quiet += 10;
		/* Wait long for the first message, idle_ms after that. */
		if (quiet > (c > 0 ? idle_ms : 60000))
			break;
		usleep(10000);
	}
	natsSubscription_GetDropped(s1, &d1);
	natsSubscription_GetDropped(s2, &d2);
	dropped = (uint64_t)(d1 + d2);
	printf("count=%llu dropped=%llu first_ms=%lld last_ms=%lld\n",
	    (unsigned long long)atomic_load(&count),
	    (unsigned long long)dropped, (long long)atomic_load(&first_ms),
	    (long long)atomic_load(&last_ms));
	rc = 0;
fail:
	natsSubscription_Destroy(s1);
	natsSubscription_Destroy(s2);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	nats_Close();
	return rc;
}
