/*
 * probe.c - is latticed responsive while it works?  One thread per HTTP
 * path (default /healthz and /metrics) asks latticed's http_listen every
 * -i ms, each request on a new connection as a liveness probe makes it,
 * and times it from connect() to the end of the answer.  At the end one
 * line per path: requests, answers by status, p50/p99/max latency, when
 * the worst happened and how many took longer than -m ms.
 *
 * Without -s it polls until SIGTERM/SIGINT (or -t seconds): the caller
 * starts it, makes latticed work (a JetStream backlog) and stops it.
 * With -s it also publishes -k heartbeats of one host with -n components
 * over core NATS (the first loads the inventory, every later one changes
 * one component), each once the one before is queryable in -d, timing
 * publish -> queryable; then it stops.
 *
 * The first line, "up t_ms=...", says the first path answered (the
 * polling clock starts there; answers before it are not counted).
 *
 * usage: bench_probe -u host:port [-p path]... [-i ms] [-t s] [-m ms]
 *	  [-o samples] [-s url -d db [-n comps] [-k heartbeats] [-l lattice]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sqlite3.h>

#include "benchutil.h"

#define MAX_PATHS	8
#define REQ_TIMEOUT_S	10

/* One answer (or failure) to one request. */
struct sample {
	int64_t	 t_ns;		/* request start, since "up" */
	int64_t	 lat_ns;
	int	 status;	/* HTTP status, -1: no answer */
};

struct poller {
	const char	*path;
	pthread_t	 th;
	struct sample	*v;
	size_t		 n, cap;
};

static struct sockaddr_in addr;
static int64_t interval_ns = 20 * 1000000LL;
static int64_t up_ns;		/* mono: the first answer */
static _Atomic int stop;
static sigset_t sigs;		/* SIGTERM, SIGINT: blocked, taken here */

/* Has a stop signal arrived (without waiting)? */
static int
interrupted(void)
{
	struct timespec zero = { 0, 0 };

	if (sigtimedwait(&sigs, NULL, &zero) > 0)
		atomic_store(&stop, 1);
	return atomic_load(&stop);
}

/* Ask path once: 0 and the status, or -1 (refused, reset, timed out). */
static int
ask(const char *path, int *status)
{
	char req[512], buf[4096], rest[16384], *eoh, *cl;
	struct timeval tv = { REQ_TIMEOUT_S, 0 };
	size_t got = 0, total = 0, want = 0;
	ssize_t r;
	int fd, len, major, minor, rc = -1;

	*status = -1;
	/* HTTP/1.1: the answer carries Content-Length (evhttp adds it), so
	   it is complete when the body is in, as a probe reads it, not when
	   latticed gets round to closing the connection */
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: probe\r\n"
	    "Connection: close\r\n\r\n", path);
	if (len < 0 || (size_t)len >= sizeof(req))
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto out;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		goto out;
	if (write(fd, req, (size_t)len) != len)
		goto out;
	/* the head of the answer stays in buf, the rest is counted */
	for (;;) {
		if (got < sizeof(buf) - 1)
			r = read(fd, buf + got, sizeof(buf) - 1 - got);
		else
			r = read(fd, rest, sizeof(rest));
		if (r == 0)
			break;		/* closed: complete without a length */
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (got < sizeof(buf) - 1) {
			got += (size_t)r;
			buf[got] = '\0';
		}
		total += (size_t)r;
		if (want == 0 && (eoh = strstr(buf, "\r\n\r\n")) != NULL &&
		    (cl = strcasestr(buf, "\r\nContent-Length:")) != NULL &&
		    cl < eoh)
			want = (size_t)(eoh + 4 - buf) +
			    strtoul(cl + 17, NULL, 10);
		if (want > 0 && total >= want)
			break;
	}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, status) == 3)
		rc = 0;
out:
	close(fd);
	return rc;
}

/* Poll one path every interval until told to stop. */
static void *
poll_main(void *arg)
{
	struct poller *p = arg;
	struct timespec ts;
	int64_t due = up_ns, t0;
	int status;

	while (!atomic_load(&stop)) {
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 4096;
			if ((p->v = realloc(p->v, p->cap * sizeof(*p->v))) ==
			    NULL) {
				perror("realloc");
				exit(1);
			}
		}
		t0 = bu_mono_ns();
		(void)ask(p->path, &status);
		p->v[p->n].t_ns = t0 - up_ns;
		p->v[p->n].lat_ns = bu_mono_ns() - t0;
		p->v[p->n].status = status;
		p->n++;
		/* the next slot on the grid; slots a slow answer spanned
		   are skipped, not fired back to back */
		due += interval_ns;
		if ((t0 = bu_mono_ns()) > due)
			due += (t0 - due) / interval_ns * interval_ns +
			    interval_ns;
		ts.tv_sec = due / 1000000000;
		ts.tv_nsec = due % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
	}
	return NULL;
}

/* Print one path's summary line. */
static void
report(const struct poller *p, int64_t over_ns)
{
	int64_t *lat, worst_t = 0, worst = -1;
	size_t i, ok = 0, other = 0, fail = 0, over = 0;

	if ((lat = malloc((p->n ? p->n : 1) * sizeof(*lat))) == NULL) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < p->n; i++) {
		lat[i] = p->v[i].lat_ns;
		if (p->v[i].status == 200)
			ok++;
		else if (p->v[i].status > 0)
			other++;
		else
			fail++;
		if (p->v[i].lat_ns > over_ns)
			over++;
		if (p->v[i].lat_ns > worst) {
			worst = p->v[i].lat_ns;
			worst_t = p->v[i].t_ns;
		}
	}
	qsort(lat, p->n, sizeof(*lat), bu_cmp_i64);
	printf("probe path=%s n=%zu ok=%zu non200=%zu fail=%zu p50_ms=%.2f "
	    "p99_ms=%.2f max_ms=%.2f max_at_s=%.2f over=%zu\n", p->path, p->n,
	    ok, other, fail, bu_pct(lat, p->n, 50) / 1e6,
	    bu_pct(lat, p->n, 99) / 1e6, worst / 1e6, worst_t / 1e9, over);
	free(lat);
}

/* Highest seq in events and rejected_events (-1: not readable yet). */
static int64_t
db_seq(sqlite3 **h, const char *db)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (*h == NULL && sqlite3_open_v2(db, h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(*h);
		*h = NULL;
		return -1;
	}
	if (sqlite3_prepare_v2(*h, "SELECT (SELECT coalesce(max(seq), 0) FROM "
	    "events) + (SELECT coalesce(max(seq), 0) FROM rejected_events)",
	    -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/*
 * Publish k heartbeats of one host with ncomp components, each once the
 * one before is queryable; print one line per heartbeat.  0 when all were
 * folded.
 */
static int
giant(const char *url, const char *db, const char *lattice, size_t ncomp,
    int k)
{
	natsConnection *nc = NULL;
	natsOptions *opts = NULL;
	struct buf b = { 0 };
	sqlite3 *h = NULL;
	char subj[256];
	int64_t base, t0, now, *ms = NULL;
	int i, rc = 1;

	if ((ms = calloc((size_t)k, sizeof(*ms))) == NULL)
		return 1;
	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.host_heartbeat",
	    lattice);
	if (natsOptions_Create(&opts) != NATS_OK ||
	    natsOptions_SetURL(opts, url) != NATS_OK ||
	    natsConnection_Connect(&nc, opts) != NATS_OK) {
		fprintf(stderr, "bench_probe: cannot connect to %s: %s\n", url,
		    nats_GetLastError(NULL));
		goto out;
	}
	for (i = 0; i < k && !interrupted(); i++) {
		if ((base = db_seq(&h, db)) < 0) {
			fprintf(stderr, "bench_probe: cannot read %s\n", db);
			goto out;
		}
		buf_reset(&b);
		/* component 4242 % n flips between max + 1 and max */
		bu_heartbeat(&b, 1, (unsigned long)i, bu_now_ms(), ncomp,
		    i == 0 ? -1 : (long)(4242 % ncomp), i % 2);
		t0 = bu_mono_ns();
		if (natsConnection_Publish(nc, subj, b.p, (int)b.len) !=
		    NATS_OK || natsConnection_FlushTimeout(nc, 5000) !=
		    NATS_OK) {
			fprintf(stderr, "bench_probe: publish: %s\n",
			    nats_GetLastError(NULL));
			goto out;
		}
		while (db_seq(&h, db) <= base) {
			if (interrupted())
				goto out;
			now = bu_mono_ns();
			if (now - t0 > 60 * 1000000000LL) {
				fprintf(stderr, "bench_probe: heartbeat %d "
				    "not queryable after 60 s\n", i);
				goto out;
			}
			usleep(1000);
		}
		ms[i] = bu_mono_ns() - t0;
		printf("giant hb=%d kind=%s bytes=%zu ms=%.1f\n", i,
		    i == 0 ? "first" : "one_changed", b.len, ms[i] / 1e6);
		fflush(stdout);
	}
	rc = 0;
out:
	buf_free(&b);
	sqlite3_close(h);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	free(ms);
	return rc;
}

/* Parse host:port into addr. */
static int
parse_addr(const char *s)
{
	char host[64];
	const char *c;
	long port;

	if ((c = strrchr(s, ':')) == NULL || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	port = strtol(c + 1, NULL, 10);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return -1;
	return 0;
}

/* Poll, maybe publish, summarise. */
int
main(int argc, char *argv[])
{
	const char *url = NULL, *db = NULL, *lattice = "default";
	const char *out = NULL;
	struct poller pv[MAX_PATHS];
	struct timespec ts;
	FILE *fp;
	double seconds = 600;
	int64_t over_ns = 100 * 1000000LL, deadline;
	size_t np = 0, i, j, ncomp = 10000;
	int ch, k = 5, status, rc = 0;

	memset(pv, 0, sizeof(pv));
	while ((ch = getopt(argc, argv, "u:p:i:t:m:o:s:d:n:k:l:")) != -1) {
		switch (ch) {
		case 'u':
			if (parse_addr(optarg) == -1)
				goto usage;
			break;
		case 'p':
			if (np == MAX_PATHS)
				goto usage;
			pv[np++].path = optarg;
			break;
		case 'i':
			interval_ns = (int64_t)(strtod(optarg, NULL) * 1e6);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'm':
			over_ns = (int64_t)(strtod(optarg, NULL) * 1e6);
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			url = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'n':
			ncomp = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			k = atoi(optarg);
			break;
		case 'l':
			lattice = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (addr.sin_family == 0 || interval_ns <= 0 || seconds <= 0 ||
	    (url != NULL && (db == NULL || ncomp < 1 || k < 1)))
		goto usage;
	if (np == 0) {
		pv[np++].path = "/healthz";
		pv[np++].path = "/metrics";
	}
	/* signals are taken by sigtimedwait in this thread only */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	/* wait for the first answer: latticed may still be starting */
	deadline = bu_mono_ns() + (int64_t)(seconds * 1e9);
	while (ask(pv[0].path, &status) == -1) {
		ts.tv_sec = 0;
		ts.tv_nsec = 5000000;
		if (sigtimedwait(&sigs, NULL, &ts) > 0 ||
		    bu_mono_ns() > deadline) {
			fprintf(stderr, "bench_probe: no answer on %s\n",
			    pv[0].path);
			return 1;
		}
	}
	up_ns = bu_mono_ns();
	printf("up t_ms=%lld\n", (long long)bu_now_ms());
	fflush(stdout);
	for (i = 0; i < np; i++)
		if (pthread_create(&pv[i].th, NULL, poll_main, &pv[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	if (url != NULL)
		rc = giant(url, db, lattice, ncomp, k);
	else {
		ts.tv_sec = (time_t)seconds;
		ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
		while (sigtimedwait(&sigs, NULL, &ts) == -1 && errno == EINTR)
			;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < np; i++)
		pthread_join(pv[i].th, NULL);
	for (i = 0; i < np; i++)
		report(&pv[i], over_ns);
	if (out != NULL) {
		if ((fp = fopen(out, "w")) == NULL) {
			perror(out);
			return 1;
		}
		for (i = 0; i < np; i++)
			for (j = 0; j < pv[i].n; j++)
				fprintf(fp, "%.3f %s %.2f %d\n",
				    pv[i].v[j].t_ns / 1e9, pv[i].path,
				    pv[i].v[j].lat_ns / 1e6, pv[i].v[j].status);
		fclose(fp);
	}
	for (i = 0; i < np; i++)
		free(pv[i].v);
	return rc;
usage:
	fprintf(stderr, "usage: bench_probe -u host:port [-p path]... [-i ms] "
	    "[-t s] [-m ms] [-o samples]\n"
	    "       [-s url -d db [-n components] [-k heartbeats] "
	    "[-l lattice]]\n");
	return 2;
}
