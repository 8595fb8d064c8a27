/*
 * latticed-sim - publish a simulated wasmCloud 1.x lattice.
 *
 * Hosts start, heartbeat their full inventories, scale components, start
 * providers, pass and fail health checks; links and configs come and go;
 * labels change; one host stops gracefully and one vanishes without a
 * word.  Events are CloudEvents 1.0 structured JSON, shaped as wasmCloud
 * 1.9 hosts send them, on wasmbus.evt.{lattice}.{type}.
 *
 * --v2-hosts N adds wasmCloud 2 hosts (washlet, v2.7): no CloudEvents, only
 * a HostHeartbeat (pbjson JSON: camelCase, 64-bit integers as strings) on
 * runtime.operator.heartbeat.{id} every --v2-heartbeat-interval (15 s),
 * their environment being a lattice name, so lattices mix generations.
 * Live, each answers runtime.host.{id}.heartbeat requests too.  In a story
 * with two or more v2 hosts, the last one goes silent (a v2 host has no
 * stop event) and the first one restarts (a new startedAt).
 *
 * Everything is driven by a virtual clock and one seeded PRNG, so a seed
 * gives the same stream every time.  Live mode (--nats) paces the virtual
 * clock with the wall clock; --out writes JSONL replay lines
 * ({"subject":...,"event":{...}}) as fast as it can, with time compressed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <nats/nats.h>

#define US_PER_MS	((int64_t)1000)
#define US_PER_S	((int64_t)1000000)
#define HOST_VERSION	"1.9.2"
#define V2_VERSION	"2.7.0"

static volatile sig_atomic_t quit;

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct comp {
	char	 id[96];
	char	 name[64];
	char	 image_ref[160];
	char	 app[48];
	int	 revision;
};

struct prov {
	char	 id[96];
	char	 name[64];
	char	 image_ref[160];
	char	 app[48];
	int	 revision;
};

struct link {
	const char	*source_id;
	const char	*target;
	const char	*wit_namespace;
	const char	*wit_package;
	const char	*interfaces;	/* JSON array text */
	char		 target_config[128];	/* config name or "" */
	int		 active;
};

struct lattice {
	char		 name[64];
	struct link	*links;
	int		 nlinks;
	char		(*configs)[128];
	int		*config_set;
	int		 nconfigs;
};

enum host_state { H_NEW, H_UP, H_STOPPED, H_VANISHED };

struct host {
	char		 id[57];
	char		 name[64];
	char		 zone[32];
	int		 lattice;
	enum host_state	 state;
	int		 maintenance;	/* label toggled by labels_changed */
	int64_t		 start_us;
	int64_t		*max;		/* per lattice catalog component */
	int		*prov_running;
	int		*prov_healthy;	/* what the provider would answer */
	int		*prov_reported;	/* last health event sent: -1 none */
};

struct sim;

/* A wasmCloud 2 host: heartbeats only. */
struct v2host {
	struct sim	*sim;
	char		 id[40];	/* a UUID */
	char		 name[64];
	int		 lattice;	/* its environment */
	int		 up;		/* 0 once silent */
	int64_t		 start_us;
	int		 components;
	natsSubscription *sub;		/* runtime.host.{id}.heartbeat */
	volatile int	 answered;	/* requests answered (stats only) */
};

enum job_kind {
	J_HOST_START, J_PROV_START, J_HEALTH, J_COMP_SCALE, J_HEARTBEAT,
	J_ACTION, J_HOST_STOP, J_HOST_VANISH, J_LATTICE_SETUP,
	J_V2_BEAT, J_V2_VANISH, J_V2_RESTART,
};

struct job {
	int64_t		 t;
	uint64_t	 seq;
	enum job_kind	 kind;
	int		 host;
	int		 arg;
	int64_t		 arg2;
};

struct opts {
	const char	*nats_url;
	const char	*out;
	int		 hosts;
	int		 lattices;
	int		 comps;
	int64_t		 hb_us;
	int64_t		 duration_us;
	double		 rate;
	uint64_t	 count;
	uint64_t	 seed;
	int		 flood;
	int64_t		 start_us;	/* -1: now (live) / fixed (out) */
	int		 quiet;
	int		 v2_hosts;
	int64_t		 v2_hb_us;
};

struct sim {
	struct opts	 o;
	uint64_t	 rng;
	int64_t		 now;		/* virtual time, us since epoch */
	int64_t		 t0;
	int64_t		 wall0;		/* live: wall time at t0 */
	struct lattice	*lat;
	struct host	*host;
	struct comp	*cat;		/* component catalog */
	int		 ncat;
	struct prov	*pcat;		/* provider catalog */
	int		 npcat;
	struct job	*heap;
	size_t		 nheap;
	size_t		 capheap;
	uint64_t	 jobseq;
	struct buf	 ev;
	struct buf	 line;
	FILE		*outf;
	natsConnection	*nc;
	uint64_t	 sent;
	uint64_t	 by_type[32];
	const char	*type_names[32];
	int		 ntypes;
	struct v2host	*v2;
	pthread_mutex_t	 v2mtx;		/* v2 hosts: the reply callback */
};

static const char *comp_names[] = {
	"http-hello-world", "kv-counter", "echo-messaging", "blobby",
	"image-resize", "auth-api", "pingpong", "sqldb-todo", "dog-fetcher",
	"ollama-chat", "grpc-greeter", "config-reader", "cron-tick",
	"webhook-relay", "static-site", "rate-limiter",
};

static const struct {
	const char	*short_name;
	const char	*name;
	const char	*image_ref;
	const char	*wit_namespace;
	const char	*wit_package;
	const char	*interfaces;
	int		 outbound;	/* 1: component -> provider link */
} prov_kinds[] = {
	{ "httpserver", "http-server-provider",
	    "ghcr.io/wasmcloud/http-server:0.27.0", "wasi", "http",
	    "[\"incoming-handler\"]", 0 },
	{ "kvredis", "keyvalue-redis-provider",
	    "ghcr.io/wasmcloud/keyvalue-redis:0.28.2", "wasi", "keyvalue",
	    "[\"atomics\",\"store\"]", 1 },
	{ "nats", "messaging-nats-provider",
	    "ghcr.io/wasmcloud/messaging-nats:0.27.0", "wasmcloud", "messaging",
	    "[\"consumer\"]", 1 },
};
#define NPROV_KINDS ((int)(sizeof(prov_kinds) / sizeof(prov_kinds[0])))

static const char *adjectives[] = {
	"autumn", "hidden", "bitter", "misty", "silent", "empty", "dry",
	"dark", "summer", "icy", "delicate", "quiet", "white", "cool",
	"spring", "winter", "patient", "twilight", "dawn", "crimson",
};
static const char *nouns[] = {
	"waterfall", "river", "breeze", "moon", "rain", "wind", "sea",
	"morning", "snow", "lake", "sunset", "pine", "shadow", "leaf",
	"dawn", "glitter", "forest", "hill", "cloud", "meadow",
};
static const char *zones[] = {
	"us-east-1a", "us-east-1b", "eu-west-1a", "eu-central-1b",
	"ap-south-1a",
};
#define LIT(b, s)	buf_add((b), (s), sizeof(s) - 1)
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Print a message and exit. */
static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("latticed-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Set the quit flag; the main loop notices it. */
static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Allocate or die. */
static void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n ? n : 1, sz)) == NULL)
		die("out of memory");
	return p;
}

/* Advance the splitmix64 generator. */
static uint64_t
rnd(struct sim *s)
{
	uint64_t z;

	z = (s->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Pick an integer in [0, n). */
static int
rndn(struct sim *s, int n)
{
	return n <= 0 ? 0 : (int)(rnd(s) % (uint64_t)n);
}

/* Pick a real in [0, 1). */
static double
rndf(struct sim *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

/* Make room for n more bytes. */
static void
buf_grow(struct buf *b, size_t n)
{
	size_t cap;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((b->p = realloc(b->p, cap)) == NULL)
		die("out of memory");
	b->cap = cap;
}

/* Append formatted text. */
static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append raw bytes. */
static void
buf_add(struct buf *b, const char *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append s as a JSON string literal, escaped. */
static void
buf_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u;
	char esc[7];

	LIT(b, "\"");
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		switch (*u) {
		case '"':
			LIT(b, "\\\"");
			break;
		case '\\':
			LIT(b, "\\\\");
			break;
		case '\n':
			LIT(b, "\\n");
			break;
		case '\r':
			LIT(b, "\\r");
			break;
		case '\t':
			LIT(b, "\\t");
			break;
		default:
			if (*u < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*u >> 4];
				esc[5] = hex[*u & 0xf];
				buf_add(b, esc, 6);
			} else
				buf_add(b, (const char *)u, 1);
		}
	}
	LIT(b, "\"");
}

/* Append "key": as an object member name. */
static void
buf_key(struct buf *b, const char *k)
{
	buf_str(b, k);
	LIT(b, ":");
}

/* Format us as RFC 3339 UTC with microseconds. */
static void
fmt_time(int64_t us, char *out, size_t len)
{
	time_t t;
	struct tm tm;
	int64_t frac;

	t = (time_t)(us / US_PER_S);
	frac = us % US_PER_S;
	if (frac < 0) {
		frac += US_PER_S;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
}

/* Read the wall clock in microseconds. */
static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* Parse "30s", "1500ms", "5m", "2h", "1d" or plain seconds; -1 if bad. */
static int64_t
parse_duration(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return (int64_t)(v * US_PER_S);
	if (strcmp(end, "ms") == 0)
		return (int64_t)(v * US_PER_MS);
	if (strcmp(end, "m") == 0)
		return (int64_t)(v * 60 * US_PER_S);
	if (strcmp(end, "h") == 0)
		return (int64_t)(v * 3600 * US_PER_S);
	if (strcmp(end, "d") == 0)
		return (int64_t)(v * 86400 * US_PER_S);
	return -1;
}

/* Parse "YYYY-MM-DDTHH:MM:SSZ" or milliseconds since the epoch; -1 if bad. */
static int64_t
parse_start(const char *s)
{
	struct tm tm;
	char *end;
	long long ms;
	int n = 0;

	errno = 0;
	ms = strtoll(s, &end, 10);
	if (errno == 0 && end != s && *end == '\0' && ms >= 0)
		return ms * US_PER_MS;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    s[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * US_PER_S;
}

/* Parse a positive int flag or die. */
static long
parse_num(const char *flag, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("%s: bad value '%s' (want %ld..%ld)", flag, s, lo, hi);
	return v;
}

/* Push a job on the min-heap ordered by (t, seq). */
static void
job_push(struct sim *s, int64_t t, enum job_kind k, int host, int arg,
    int64_t arg2)
{
	struct job j, tmp;
	size_t i, p;

	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? s->capheap * 2 : 256;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (s->heap == NULL)
			die("out of memory");
	}
	j.t = t;
	j.seq = s->jobseq++;
	j.kind = k;
	j.host = host;
	j.arg = arg;
	j.arg2 = arg2;
	i = s->nheap++;
	s->heap[i] = j;
	while (i > 0) {
		p = (i - 1) / 2;
		if (s->heap[p].t < s->heap[i].t || (s->heap[p].t ==
		    s->heap[i].t && s->heap[p].seq < s->heap[i].seq))
			break;
		tmp = s->heap[p];
		s->heap[p] = s->heap[i];
		s->heap[i] = tmp;
		i = p;
	}
}

/* Is heap entry a before b? */
static int
job_before(const struct job *a, const struct job *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Pop the earliest job; 0 when empty. */
static int
job_pop(struct sim *s, struct job *out)
{
	struct job tmp;
	size_t i, l, r, m;

	if (s->nheap == 0)
		return 0;
	*out = s->heap[0];
	s->heap[0] = s->heap[--s->nheap];
	i = 0;
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->nheap && job_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->nheap && job_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = tmp;
		i = m;
	}
	return 1;
}

/* Count one event of type name for the summary. */
static void
count_type(struct sim *s, const char *name)
{
	int i;

	for (i = 0; i < s->ntypes; i++)
		if (strcmp(s->type_names[i], name) == 0)
			break;
	if (i == s->ntypes) {
		if (s->ntypes == NELEM(s->type_names))
			return;
		s->type_names[s->ntypes++] = name;
	}
	s->by_type[i]++;
}

/* Start an event envelope in s->ev; data follows and ev_finish closes it. */
static void
ev_begin(struct sim *s, const char *source, const char *name)
{
	char ts[64], uuid[40];
	uint64_t a, b;

	/* What hosts send (0.82 to 1.9: Uuid::from_u128(Ulid::new())): a
	   ULID printed as a UUID, 48 bits of milliseconds then 80 random
	   bits, so one host's ids rise with time. */
	a = ((uint64_t)(s->now / 1000) << 16) | (rnd(s) & 0xffff);
	b = rnd(s);
	snprintf(uuid, sizeof(uuid), "%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32
	    "-%04" PRIx32 "-%012" PRIx64, (uint32_t)(a >> 32),
	    (uint32_t)(a >> 16) & 0xffff, (uint32_t)a & 0xffff,
	    (uint32_t)(b >> 48) & 0xffff,
	    (uint64_t)(b & 0xffffffffffffULL));
	fmt_time(s->now, ts, sizeof(ts));
	s->ev.len = 0;
	LIT(&s->ev, "{");
	buf_key(&s->ev, "specversion");
	buf_str(&s->ev, "1.0");
	LIT(&s->ev, ",");
	buf_key(&s->ev, "id");
	buf_str(&s->ev, uuid);
	LIT(&s->ev, ",");
	buf_key(&s->ev, "type");
	buf_printf(&s->ev, "\"com.wasmcloud.lattice.%s\",", name);
	buf_key(&s->ev, "source");
	buf_str(&s->ev, source);
	LIT(&s->ev, ",");
	buf_key(&s->ev, "datacontenttype");
	buf_str(&s->ev, "application/json");
	LIT(&s->ev, ",");
	buf_key(&s->ev, "time");
	buf_str(&s->ev, ts);
	LIT(&s->ev, ",");
	buf_key(&s->ev, "data");
}

/* Publish or write s->ev on subject; a line of a message without a time
   of its own (recv_at) carries "received_at". */
static void
emit(struct sim *s, const char *subject, const char *name, int recv_at)
{
	char rt[64];
	natsStatus ns;
	int64_t wait;
	struct timespec ts;

	if (s->outf != NULL) {
		s->line.len = 0;
		LIT(&s->line, "{\"subject\":");
		buf_str(&s->line, subject);
		LIT(&s->line, ",\"event\":");
		buf_add(&s->line, s->ev.p, s->ev.len);
		if (recv_at) {
			fmt_time(s->now, rt, sizeof(rt));
			LIT(&s->line, ",\"received_at\":");
			buf_str(&s->line, rt);
		}
		LIT(&s->line, "}\n");
		if (fwrite(s->line.p, 1, s->line.len, s->outf) != s->line.len)
			die("write %s: %s", s->o.out, strerror(errno));
	} else {
		/* Pace the virtual clock with the wall clock. */
		wait = (s->now - s->t0) - (wall_us() - s->wall0);
		if (wait > 0 && !quit) {
			ts.tv_sec = wait / US_PER_S;
			ts.tv_nsec = (wait % US_PER_S) * 1000;
			nanosleep(&ts, NULL);
		}
		if (quit)
			return;
		ns = natsConnection_Publish(s->nc, subject, s->ev.p,
		    (int)s->ev.len);
		if (ns != NATS_OK)
			fprintf(stderr, "latticed-sim: publish %s: %s\n",
			    subject, natsStatus_GetText(ns));
	}
	s->sent++;
	count_type(s, name);
}

/* Close the envelope and publish or write it. */
static void
ev_finish(struct sim *s, int lattice, const char *name)
{
	char subject[256];

	LIT(&s->ev, "}");
	snprintf(subject, sizeof(subject), "wasmbus.evt.%s.%s",
	    s->lat[lattice].name, name);
	emit(s, subject, name, 0);
}

/*
 * Build v2 host h's HostHeartbeat into b as washlet's serde_json::to_vec()
 * does (pbjson: camelCase, defaults left out, 64-bit integers as strings,
 * startedAt as RFC 3339).  cpu and mem_free are the live gauges.
 */
static void
v2_body(struct sim *s, struct buf *b, const struct v2host *h, double cpu,
    int64_t mem_free)
{
	char ts[64];

	fmt_time(h->start_us, ts, sizeof(ts));
	b->len = 0;
	LIT(b, "{\"id\":");
	buf_str(b, h->id);
	LIT(b, ",\"hostname\":");
	buf_printf(b, "\"%s.washlet.%s.svc\"", h->name,
	    s->lat[h->lattice].name);
	LIT(b, ",\"friendlyName\":");
	buf_str(b, h->name);
	LIT(b, ",\"version\":\"" V2_VERSION "\",\"labels\":{\"hostcore.arch\":"
	    "\"x86_64\",\"hostcore.os\":\"linux\"},\"startedAt\":");
	buf_str(b, ts);
	LIT(b, ",\"osArch\":\"x86_64\",\"osName\":\"linux\",\"osKernel\":"
	    "\"6.8.0-49-generic\"");
	if (cpu > 0)
		buf_printf(b, ",\"systemCpuUsage\":%.2f", cpu);
	buf_printf(b, ",\"systemMemoryTotal\":\"17179869184\","
	    "\"systemMemoryFree\":\"%" PRId64 "\"", mem_free);
	if (h->components > 0)
		buf_printf(b, ",\"componentCount\":\"%d\",\"workloadCount\":"
		    "\"%d\"", h->components, (h->components + 1) / 2);
	LIT(b, ",\"imports\":[{\"namespace\":\"wasi\",\"package\":\"http\","
	    "\"version\":\"0.2.2\",\"interfaces\":[\"outgoing-handler\"]},"
	    "{\"namespace\":\"wasi\",\"package\":\"keyvalue\",\"version\":"
	    "\"0.2.0-draft\",\"interfaces\":[\"store\",\"atomics\"],"
	    "\"config\":{\"backend\":\"nats\"}}],\"exports\":[{\"namespace\":"
	    "\"wasi\",\"package\":\"http\",\"version\":\"0.2.2\","
	    "\"interfaces\":[\"incoming-handler\"]}],\"httpPort\":8080,"
	    "\"environment\":");
	buf_str(b, s->lat[h->lattice].name);
	LIT(b, "}");
}

/* Publish v2 host i's periodic heartbeat. */
static void
ev_v2_heartbeat(struct sim *s, int i)
{
	struct v2host *h = &s->v2[i];
	char subject[128];

	pthread_mutex_lock(&s->v2mtx);
	v2_body(s, &s->ev, h, 1 + rndn(s, 9000) / 100.0,
	    INT64_C(4294967296) + rndn(s, 1 << 20) * INT64_C(4096));
	pthread_mutex_unlock(&s->v2mtx);
	snprintf(subject, sizeof(subject), "runtime.operator.heartbeat.%s",
	    h->id);
	emit(s, subject, "v2_heartbeat", 1);
}

/* Answer runtime.host.{id}.heartbeat as washlet does (nats.c thread). */
static void
on_v2_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *arg)
{
	struct v2host *h = arg;
	struct sim *s = h->sim;
	struct buf b = { NULL, 0, 0 };
	const char *reply = natsMsg_GetReply(msg);

	(void)sub;
	pthread_mutex_lock(&s->v2mtx);
	if (h->up && reply != NULL)
		v2_body(s, &b, h, 0, INT64_C(4294967296));
	pthread_mutex_unlock(&s->v2mtx);
	if (b.len > 0 && natsConnection_Publish(nc, reply, b.p, (int)b.len) ==
	    NATS_OK)
		h->answered++;
	natsMsg_Destroy(msg);
	free(b.p);
}

/* Append the host's labels object. */
static void
labels(struct sim *s, const struct host *h)
{
	LIT(&s->ev, "{");
	buf_printf(&s->ev, "\"hostcore.arch\":\"x86_64\","
	    "\"hostcore.os\":\"linux\",\"hostcore.osfamily\":\"unix\"");
	if (h->maintenance)
		LIT(&s->ev, ",\"maintenance\":\"true\"");
	LIT(&s->ev, ",\"zone\":");
	buf_str(&s->ev, h->zone);
	LIT(&s->ev, "}");
}

/* Append wadm-style annotations for an app. */
static void
annotations(struct sim *s, const char *app)
{
	LIT(&s->ev, "{\"wasmcloud.dev/appspec\":");
	buf_str(&s->ev, app);
	LIT(&s->ev, ",\"wasmcloud.dev/managed-by\":\"wadm\"}");
}

/* Publish host_started: no host_id in data, source says who. */
static void
ev_host_started(struct sim *s, struct host *h)
{
	ev_begin(s, h->id, "host_started");
	LIT(&s->ev, "{\"friendly_name\":");
	buf_str(&s->ev, h->name);
	LIT(&s->ev, ",\"labels\":");
	labels(s, h);
	LIT(&s->ev, ",\"uptime_seconds\":0,\"version\":\"" HOST_VERSION
	    "\"}");
	ev_finish(s, h->lattice, "host_started");
}

/* Publish host_stopped: data is only the labels. */
static void
ev_host_stopped(struct sim *s, struct host *h)
{
	ev_begin(s, h->id, "host_stopped");
	LIT(&s->ev, "{\"labels\":");
	labels(s, h);
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, "host_stopped");
}

/* Publish host_heartbeat: the whole HostInventory. */
static void
ev_heartbeat(struct sim *s, struct host *h)
{
	int64_t up;
	int i, first;

	up = (s->now - h->start_us) / US_PER_S;
	ev_begin(s, h->id, "host_heartbeat");
	LIT(&s->ev, "{\"components\":[");
	for (i = 0, first = 1; i < s->ncat; i++) {
		if (h->max[i] <= 0)
			continue;
		if (!first)
			LIT(&s->ev, ",");
		first = 0;
		LIT(&s->ev, "{\"id\":");
		buf_str(&s->ev, s->cat[i].id);
		LIT(&s->ev, ",\"image_ref\":");
		buf_str(&s->ev, s->cat[i].image_ref);
		LIT(&s->ev, ",\"name\":");
		buf_str(&s->ev, s->cat[i].name);
		LIT(&s->ev, ",\"annotations\":");
		annotations(s, s->cat[i].app);
		buf_printf(&s->ev, ",\"revision\":%d,\"max_instances\":%" PRId64
		    ",\"limits\":null}", s->cat[i].revision, h->max[i]);
	}
	LIT(&s->ev, "],\"providers\":[");
	for (i = 0, first = 1; i < s->npcat; i++) {
		if (!h->prov_running[i])
			continue;
		if (!first)
			LIT(&s->ev, ",");
		first = 0;
		LIT(&s->ev, "{\"id\":");
		buf_str(&s->ev, s->pcat[i].id);
		LIT(&s->ev, ",\"image_ref\":");
		buf_str(&s->ev, s->pcat[i].image_ref);
		LIT(&s->ev, ",\"name\":");
		buf_str(&s->ev, s->pcat[i].name);
		buf_printf(&s->ev, ",\"revision\":%d,\"annotations\":",
		    s->pcat[i].revision);
		annotations(s, s->pcat[i].app);
		LIT(&s->ev, "}");
	}
	LIT(&s->ev, "],\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"friendly_name\":");
	buf_str(&s->ev, h->name);
	LIT(&s->ev, ",\"labels\":");
	labels(s, h);
	buf_printf(&s->ev, ",\"version\":\"%s\",\"uptime_human\":"
	    "\"%" PRId64 "m %" PRId64 "s\",\"uptime_seconds\":%" PRId64 "}",
	    HOST_VERSION, up / 60, up % 60, up);
	ev_finish(s, h->lattice, "host_heartbeat");
}

/* Publish component_scaled (max 0 = stopped). */
static void
ev_component_scaled(struct sim *s, struct host *h, int c, int64_t max)
{
	ev_begin(s, h->id, "component_scaled");
	LIT(&s->ev, "{\"annotations\":");
	annotations(s, s->cat[c].app);
	LIT(&s->ev, ",\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"image_ref\":");
	buf_str(&s->ev, s->cat[c].image_ref);
	buf_printf(&s->ev, ",\"max_instances\":%" PRId64 ",\"component_id\":",
	    max);
	buf_str(&s->ev, s->cat[c].id);
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, "component_scaled");
	h->max[c] = max;
}

/* Publish component_scale_failed (history only). */
static void
ev_component_scale_failed(struct sim *s, struct host *h, int c)
{
	ev_begin(s, h->id, "component_scale_failed");
	LIT(&s->ev, "{\"annotations\":");
	annotations(s, s->cat[c].app);
	LIT(&s->ev, ",\"component_id\":");
	buf_str(&s->ev, s->cat[c].id);
	LIT(&s->ev, ",\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"image_ref\":");
	buf_str(&s->ev, s->cat[c].image_ref);
	LIT(&s->ev, ",\"max_instances\":4,\"error\":");
	buf_str(&s->ev, "failed to fetch component: "
	    "registry returned \"429 Too Many Requests\"\n\tretry later");
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, "component_scale_failed");
}

/* Publish provider_started (without claims, as for unsigned providers). */
static void
ev_provider_started(struct sim *s, struct host *h, int p)
{
	ev_begin(s, h->id, "provider_started");
	LIT(&s->ev, "{\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"image_ref\":");
	buf_str(&s->ev, s->pcat[p].image_ref);
	LIT(&s->ev, ",\"provider_id\":");
	buf_str(&s->ev, s->pcat[p].id);
	LIT(&s->ev, ",\"annotations\":");
	annotations(s, s->pcat[p].app);
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, "provider_started");
	h->prov_running[p] = 1;
	h->prov_healthy[p] = 1;
	h->prov_reported[p] = -1;
}

/* Publish provider_stopped. */
static void
ev_provider_stopped(struct sim *s, struct host *h, int p)
{
	ev_begin(s, h->id, "provider_stopped");
	LIT(&s->ev, "{\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"provider_id\":");
	buf_str(&s->ev, s->pcat[p].id);
	LIT(&s->ev, ",\"annotations\":");
	annotations(s, s->pcat[p].app);
	LIT(&s->ev, ",\"reason\":\"stop\",\"instance_id\":");
	buf_str(&s->ev, s->pcat[p].id);
	LIT(&s->ev, ",\"public_key\":");
	buf_str(&s->ev, s->pcat[p].id);
	LIT(&s->ev, ",\"link_name\":\"default\"}");
	ev_finish(s, h->lattice, "provider_stopped");
	h->prov_running[p] = 0;
}

/* Publish a health check: passed/failed on change, status otherwise. */
static void
ev_health(struct sim *s, struct host *h, int p)
{
	const char *name;

	if (h->prov_reported[p] == h->prov_healthy[p])
		name = "health_check_status";
	else if (h->prov_healthy[p])
		name = "health_check_passed";
	else if (h->prov_reported[p] == -1)
		name = "health_check_status";	/* hosts start "unhealthy" */
	else
		name = "health_check_failed";
	h->prov_reported[p] = h->prov_healthy[p];
	ev_begin(s, h->id, name);
	LIT(&s->ev, "{\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"provider_id\":");
	buf_str(&s->ev, s->pcat[p].id);
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, name);
}

/* Publish labels_changed with the host's whole label map. */
static void
ev_labels_changed(struct sim *s, struct host *h)
{
	ev_begin(s, h->id, "labels_changed");
	LIT(&s->ev, "{\"host_id\":");
	buf_str(&s->ev, h->id);
	LIT(&s->ev, ",\"labels\":");
	labels(s, h);
	LIT(&s->ev, "}");
	ev_finish(s, h->lattice, "labels_changed");
}

/* Publish linkdef_set or linkdef_deleted for link li of lattice l. */
static void
ev_link(struct sim *s, const char *source, int l, int li, int set)
{
	struct link *k = &s->lat[l].links[li];
	const char *name = set ? "linkdef_set" : "linkdef_deleted";

	ev_begin(s, source, name);
	LIT(&s->ev, "{\"source_id\":");
	buf_str(&s->ev, k->source_id);
	LIT(&s->ev, ",\"target\":");
	buf_str(&s->ev, k->target);
	LIT(&s->ev, ",\"name\":\"default\",\"wit_namespace\":");
	buf_str(&s->ev, k->wit_namespace);
	LIT(&s->ev, ",\"wit_package\":");
	buf_str(&s->ev, k->wit_package);
	buf_printf(&s->ev, ",\"interfaces\":%s", k->interfaces);
	if (set) {
		LIT(&s->ev, ",\"source_config\":[],\"target_config\":[");
		if (k->target_config[0] != '\0')
			buf_str(&s->ev, k->target_config);
		LIT(&s->ev, "]");
	}
	LIT(&s->ev, "}");
	ev_finish(s, l, name);
	k->active = set;
}

/* Publish config_set or config_deleted. */
static void
ev_config(struct sim *s, const char *source, int l, int ci, int set)
{
	const char *name = set ? "config_set" : "config_deleted";

	ev_begin(s, source, name);
	LIT(&s->ev, "{\"config_name\":");
	buf_str(&s->ev, s->lat[l].configs[ci]);
	LIT(&s->ev, "}");
	ev_finish(s, l, name);
	s->lat[l].config_set[ci] = set;
}

/* Make a 56-character nkey-like public key starting with prefix. */
static void
make_key(struct sim *s, char prefix, char *out)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	int i;

	out[0] = prefix;
	for (i = 1; i < 56; i++)
		out[i] = b32[rnd(s) & 31];
	out[56] = '\0';
}

/* Build lattices, catalogs and hosts from the options and the seed. */
static void
setup(struct sim *s)
{
	struct lattice *lt;
	struct host *h;
	struct link *k;
	int i, j, l, n;

	s->ncat = s->o.comps + 3;
	if (s->ncat > NELEM(comp_names))
		s->ncat = NELEM(comp_names);
	if (s->o.comps > s->ncat)
		s->o.comps = s->ncat;
	s->cat = xcalloc((size_t)s->ncat, sizeof(*s->cat));
	for (i = 0; i < s->ncat; i++) {
		snprintf(s->cat[i].app, sizeof(s->cat[i].app), "app-%s",
		    comp_names[i]);
		snprintf(s->cat[i].id, sizeof(s->cat[i].id), "%s-component",
		    comp_names[i]);
		snprintf(s->cat[i].name, sizeof(s->cat[i].name), "%s",
		    comp_names[i]);
		snprintf(s->cat[i].image_ref, sizeof(s->cat[i].image_ref),
		    "ghcr.io/wasmcloud/components/%s-rust:0.%d.%d",
		    comp_names[i], 1 + rndn(s, 4), rndn(s, 3));
		s->cat[i].revision = rndn(s, 3);
	}
	s->npcat = NPROV_KINDS;
	s->pcat = xcalloc((size_t)s->npcat, sizeof(*s->pcat));
	for (i = 0; i < s->npcat; i++) {
		snprintf(s->pcat[i].app, sizeof(s->pcat[i].app), "app-shared");
		snprintf(s->pcat[i].id, sizeof(s->pcat[i].id), "%s",
		    prov_kinds[i].short_name);
		snprintf(s->pcat[i].name, sizeof(s->pcat[i].name), "%s",
		    prov_kinds[i].name);
		snprintf(s->pcat[i].image_ref, sizeof(s->pcat[i].image_ref),
		    "%s", prov_kinds[i].image_ref);
	}

	s->lat = xcalloc((size_t)s->o.lattices, sizeof(*s->lat));
	for (l = 0; l < s->o.lattices; l++) {
		lt = &s->lat[l];
		if (l == 0)
			snprintf(lt->name, sizeof(lt->name), "default");
		else
			snprintf(lt->name, sizeof(lt->name), "lattice-%d", l);
		/* Every component gets one link per provider kind. */
		lt->nlinks = s->ncat * s->npcat;
		lt->links = xcalloc((size_t)lt->nlinks, sizeof(*lt->links));
		lt->nconfigs = lt->nlinks;
		lt->configs = xcalloc((size_t)lt->nconfigs,
		    sizeof(*lt->configs));
		lt->config_set = xcalloc((size_t)lt->nconfigs, sizeof(int));
		for (i = 0, n = 0; i < s->ncat; i++) {
			for (j = 0; j < s->npcat; j++, n++) {
				k = &lt->links[n];
				if (prov_kinds[j].outbound) {
					k->source_id = s->cat[i].id;
					k->target = s->pcat[j].id;
				} else {
					k->source_id = s->pcat[j].id;
					k->target = s->cat[i].id;
				}
				k->wit_namespace = prov_kinds[j].wit_namespace;
				k->wit_package = prov_kinds[j].wit_package;
				k->interfaces = prov_kinds[j].interfaces;
				snprintf(lt->configs[n], sizeof(lt->configs[n]),
				    "%s-%s-config", comp_names[i],
				    prov_kinds[j].short_name);
				if (prov_kinds[j].outbound)
					snprintf(k->target_config,
					    sizeof(k->target_config), "%s",
					    lt->configs[n]);
			}
		}
	}

	s->host = xcalloc((size_t)s->o.hosts, sizeof(*s->host));
	for (i = 0; i < s->o.hosts; i++) {
		h = &s->host[i];
		make_key(s, 'N', h->id);
		snprintf(h->name, sizeof(h->name), "%s-%s-%04d",
		    adjectives[rndn(s, NELEM(adjectives))],
		    nouns[rndn(s, NELEM(nouns))], rndn(s, 10000));
		snprintf(h->zone, sizeof(h->zone), "%s",
		    zones[rndn(s, NELEM(zones))]);
		h->lattice = i % s->o.lattices;
		h->max = xcalloc((size_t)s->ncat, sizeof(*h->max));
		h->prov_running = xcalloc((size_t)s->npcat, sizeof(int));
		h->prov_healthy = xcalloc((size_t)s->npcat, sizeof(int));
		h->prov_reported = xcalloc((size_t)s->npcat, sizeof(int));
	}
	s->v2 = xcalloc((size_t)s->o.v2_hosts + 1, sizeof(*s->v2));
	for (i = 0; i < s->o.v2_hosts; i++) {
		struct v2host *v = &s->v2[i];
		uint64_t a = rnd(s), b = rnd(s);

		v->sim = s;
		/* a version 4 UUID */
		snprintf(v->id, sizeof(v->id), "%08" PRIx32 "-%04" PRIx32
		    "-4%03" PRIx32 "-%04" PRIx32 "-%012" PRIx64,
		    (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff,
		    (uint32_t)a & 0xfff, 0x8000 | ((uint32_t)(b >> 48) &
		    0x3fff), (uint64_t)(b & 0xffffffffffffULL));
		snprintf(v->name, sizeof(v->name), "washlet-%s-%d",
		    nouns[rndn(s, NELEM(nouns))], i);
		v->lattice = i % s->o.lattices;
	}
}

/* Pick a random host that is up, optionally in lattice l (-1: any). */
static struct host *
pick_up_host(struct sim *s, int l)
{
	int i, n, tries;

	for (tries = 0; tries < 4 * s->o.hosts; tries++) {
		n = rndn(s, s->o.hosts);
		if (s->host[n].state == H_UP && (l < 0 ||
		    s->host[n].lattice == l))
			return &s->host[n];
	}
	for (i = 0; i < s->o.hosts; i++)
		if (s->host[i].state == H_UP && (l < 0 ||
		    s->host[i].lattice == l))
			return &s->host[i];
	return NULL;
}

/* Do one random thing to the lattice, as operators and wadm would. */
static void
random_action(struct sim *s)
{
	struct host *h;
	struct lattice *lt;
	int r, c, p, li, l, tries;
	int64_t max;

	if ((h = pick_up_host(s, -1)) == NULL)
		return;
	l = h->lattice;
	lt = &s->lat[l];
	r = rndn(s, 100);
	if (r < 35) {
		/* Scale a component up or down, sometimes to zero. */
		c = rndn(s, s->ncat);
		if (h->max[c] == 0)
			max = 1 + rndn(s, 4);
		else if (rndn(s, 4) == 0)
			max = 0;
		else
			max = 1 + rndn(s, 16);
		ev_component_scaled(s, h, c, max);
	} else if (r < 48) {
		/* A provider turns unhealthy, or recovers. */
		for (tries = 0; tries < 8; tries++) {
			p = rndn(s, s->npcat);
			if (h->prov_running[p]) {
				h->prov_healthy[p] = !h->prov_healthy[p];
				break;
			}
		}
	} else if (r < 60) {
		li = rndn(s, lt->nlinks);
		ev_link(s, h->id, l, li, 1);
	} else if (r < 66) {
		for (tries = 0; tries < 8; tries++) {
			li = rndn(s, lt->nlinks);
			if (lt->links[li].active) {
				ev_link(s, h->id, l, li, 0);
				break;
			}
		}
	} else if (r < 76) {
		ev_config(s, h->id, l, rndn(s, lt->nconfigs), 1);
	} else if (r < 82) {
		for (tries = 0; tries < 8; tries++) {
			c = rndn(s, lt->nconfigs);
			if (lt->config_set[c]) {
				ev_config(s, h->id, l, c, 0);
				break;
			}
		}
	} else if (r < 88) {
		h->maintenance = !h->maintenance;
		ev_labels_changed(s, h);
	} else if (r < 96) {
		p = rndn(s, s->npcat);
		if (h->prov_running[p])
			ev_provider_stopped(s, h, p);
		else
			ev_provider_started(s, h, p);
	} else
		ev_component_scale_failed(s, h, rndn(s, s->ncat));
}

/* Run one scheduled job. */
static void
run_job(struct sim *s, const struct job *j)
{
	struct host *h = j->host >= 0 ? &s->host[j->host] : NULL;
	struct v2host *v = &s->v2[j->arg >= 0 && j->arg < s->o.v2_hosts ?
	    j->arg : s->o.v2_hosts];
	int64_t hb = s->o.hb_us, gap;
	int i, n;

	switch (j->kind) {
	case J_V2_BEAT:
		if (!v->up)
			break;
		ev_v2_heartbeat(s, j->arg);
		job_push(s, s->now + s->o.v2_hb_us, J_V2_BEAT, -1, j->arg, 0);
		break;
	case J_V2_VANISH:
		pthread_mutex_lock(&s->v2mtx);
		v->up = 0;
		pthread_mutex_unlock(&s->v2mtx);
		break;
	case J_V2_RESTART:
		pthread_mutex_lock(&s->v2mtx);
		v->start_us = s->now;
		v->components = 0;
		pthread_mutex_unlock(&s->v2mtx);
		break;
	case J_HOST_START:
		h->state = H_UP;
		h->start_us = s->now;
		ev_host_started(s, h);
		/* Providers first, then components, as wadm would. */
		for (i = 0, n = 0; i < s->npcat; i++) {
			if (i == 0 || rndn(s, 2) == 0)
				job_push(s, s->now + (n++ + 1) * hb / 20 +
				    rndn(s, 1000) * US_PER_MS / 10,
				    J_PROV_START, j->host, i, 0);
		}
		for (i = 0, n = (j->host * 3) % s->ncat; i < s->o.comps;
		    i++, n = (n + 1) % s->ncat)
			job_push(s, s->now + hb / 4 + i * hb / 40,
			    J_COMP_SCALE, j->host, n, 1 + rndn(s, 4));
		job_push(s, s->now + hb, J_HEARTBEAT, j->host, 0, 0);
		break;
	case J_PROV_START:
		if (h->state != H_UP || h->prov_running[j->arg])
			break;
		ev_provider_started(s, h, j->arg);
		job_push(s, s->now + hb / 10, J_HEALTH, j->host, j->arg, 0);
		break;
	case J_HEALTH:
		if (h->state != H_UP)
			break;
		if (h->prov_running[j->arg])
			ev_health(s, h, j->arg);
		job_push(s, s->now + hb, J_HEALTH, j->host, j->arg, 0);
		break;
	case J_COMP_SCALE:
		if (h->state == H_UP)
			ev_component_scaled(s, h, j->arg, j->arg2);
		break;
	case J_HEARTBEAT:
		if (h->state != H_UP)
			break;
		ev_heartbeat(s, h);
		job_push(s, s->now + hb, J_HEARTBEAT, j->host, 0, 0);
		break;
	case J_ACTION:
		random_action(s);
		/* About one change per host per two heartbeats. */
		gap = 2 * hb / (s->o.hosts > 0 ? s->o.hosts : 1);
		gap = (int64_t)((double)gap * (0.2 + 1.6 * rndf(s)));
		job_push(s, s->now + (gap > 1000 ? gap : 1000), J_ACTION, -1,
		    0, 0);
		break;
	case J_HOST_STOP:
		if (h->state != H_UP)
			break;
		for (i = 0; i < s->npcat; i++)
			if (h->prov_running[i])
				ev_provider_stopped(s, h, i);
		for (i = 0; i < s->ncat; i++)
			if (h->max[i] > 0)
				ev_component_scaled(s, h, i, 0);
		ev_host_stopped(s, h);
		h->state = H_STOPPED;
		break;
	case J_HOST_VANISH:
		if (h->state == H_UP)
			h->state = H_VANISHED;
		break;
	case J_LATTICE_SETUP:
		if ((h = pick_up_host(s, j->arg)) == NULL)
			break;
		/* Configs before the links that name them. */
		for (i = 0; i < s->lat[j->arg].nlinks; i++) {
			if (rndn(s, 3) != 0)
				continue;
			if (s->lat[j->arg].links[i].target_config[0] != '\0')
				ev_config(s, h->id, j->arg, i, 1);
			ev_link(s, h->id, j->arg, i, 1);
		}
		break;
	}
}

/* Schedule the story: starts, lattice setup, the stop and the vanishing. */
static void
schedule_story(struct sim *s)
{
	int64_t hb = s->o.hb_us, stop_at, vanish_at, jit;
	int i, l;

	jit = hb < 2 * US_PER_S ? hb : 2 * US_PER_S;
	for (i = 0; i < s->o.hosts; i++)
		job_push(s, s->now + (int64_t)(rndf(s) * (double)jit),
		    J_HOST_START, i, 0, 0);
	for (l = 0; l < s->o.lattices; l++)
		job_push(s, s->now + hb / 2, J_LATTICE_SETUP, -1, l, 0);
	job_push(s, s->now + hb, J_ACTION, -1, 0, 0);
	if (s->o.duration_us > 0) {
		stop_at = s->now + s->o.duration_us * 2 / 5;
		vanish_at = s->now + s->o.duration_us * 11 / 20;
	} else {
		stop_at = s->now + 5 * hb;
		vanish_at = s->now + 7 * hb;
	}
	if (s->o.hosts >= 2) {
		job_push(s, stop_at, J_HOST_STOP, s->o.hosts - 2, 0, 0);
		job_push(s, vanish_at, J_HOST_VANISH, s->o.hosts - 1, 0, 0);
	}
	for (i = 0; i < s->o.v2_hosts; i++) {
		s->v2[i].up = 1;
		/* started a while ago, busy with a few components */
		s->v2[i].start_us = s->now - (int64_t)rndn(s, 3600) * US_PER_S;
		s->v2[i].components = 1 + rndn(s, 5);
		job_push(s, s->now + (int64_t)(rndf(s) * (double)jit),
		    J_V2_BEAT, -1, i, 0);
	}
	if (s->o.v2_hosts >= 2) {
		job_push(s, stop_at, J_V2_RESTART, -1, 0, 0);
		job_push(s, vanish_at, J_V2_VANISH, -1, s->o.v2_hosts - 1, 0);
	}
}

/* Story mode: run jobs in time order until the end. */
static void
run_story(struct sim *s)
{
	struct job j;
	int64_t end;

	schedule_story(s);
	end = s->o.duration_us > 0 ? s->t0 + s->o.duration_us : INT64_MAX;
	while (!quit && job_pop(s, &j)) {
		if (j.t > end)
			break;
		if (j.t > s->now)
			s->now = j.t;
		run_job(s, &j);
		if (s->o.count > 0 && s->sent >= s->o.count)
			break;
	}
}

/* Flood mode: a mixed stream at --rate (0: as fast as possible). */
static void
run_flood(struct sim *s)
{
	struct host *h;
	int64_t step;
	int i, r, p;

	step = s->o.rate > 0 ? (int64_t)((double)US_PER_S / s->o.rate) : 0;
	/* In --out files, time still moves: 1 ms per event by default. */
	if (step == 0 && s->outf != NULL)
		step = US_PER_MS;
	for (i = 0; i < s->o.hosts && !quit; i++) {
		s->host[i].state = H_UP;
		s->host[i].start_us = s->now;
		ev_host_started(s, &s->host[i]);
		for (p = 0; p < s->npcat; p++)
			if (p == 0 || rndn(s, 2) == 0)
				ev_provider_started(s, &s->host[i], p);
		s->now += step;
		if (s->o.count > 0 && s->sent >= s->o.count)
			return;
	}
	while (!quit && (s->o.count == 0 || s->sent < s->o.count)) {
		if (s->o.duration_us > 0 && s->now - s->t0 >= s->o.duration_us)
			break;
		h = &s->host[rndn(s, s->o.hosts)];
		r = rndn(s, 100);
		if (r < 45)
			ev_heartbeat(s, h);
		else if (r < 60) {
			p = rndn(s, s->npcat);
			if (h->prov_running[p])
				ev_health(s, h, p);
		} else
			random_action(s);
		if (step > 0)
			s->now += step;
		else
			s->now = s->t0 + (wall_us() - s->wall0);
	}
}

/* Print usage and exit with status. */
static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: latticed-sim [--nats URL | --out FILE] [options]\n"
"  --nats URL                publish to NATS (default nats://127.0.0.1:4222)\n"
"  --out FILE                write JSONL replay lines instead ('-' = stdout);\n"
"                            time is compressed: no waiting\n"
"  --mode story|flood        story (default) or a max-rate mixed stream\n"
"  --hosts N                 hosts (default 5)\n"
"  --lattices L              lattices: default, lattice-1, ... (default 2)\n"
"  --components-per-host C   components each host starts with (default 3)\n"
"  --heartbeat-interval DUR  e.g. 30s (default), 1s, 500ms\n"
"  --duration DUR            simulated time to run; 0 = forever (default)\n"
"  --count N                 stop after N events (0 = no limit)\n"
"  --rate EV/S               flood: events per second (0 = max)\n"
"  --start-time T            virtual start, RFC 3339 (…Z) or epoch ms\n"
"                            (default: now live, 2025-01-01T00:00:00Z --out)\n"
"  --seed N                  PRNG seed (default 1): same seed, same stream\n"
"  --v2-hosts N              wasmCloud 2 hosts as well (default 0); story only\n"
"  --v2-heartbeat-interval DUR  their heartbeat (default 15s)\n"
"  -q, --quiet               no summary on stderr\n"
"  -h, --help                this text\n");
	exit(status);
}

/* Parse the command line into o. */
static void
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_NATS = 256, O_OUT, O_MODE, O_HOSTS, O_LATTICES, O_COMPS,
	    O_HB, O_DURATION, O_COUNT, O_RATE, O_START, O_SEED, O_V2_HOSTS,
	    O_V2_HB };
	static const struct option longopts[] = {
		{ "nats", required_argument, NULL, O_NATS },
		{ "out", required_argument, NULL, O_OUT },
		{ "mode", required_argument, NULL, O_MODE },
		{ "hosts", required_argument, NULL, O_HOSTS },
		{ "lattices", required_argument, NULL, O_LATTICES },
		{ "components-per-host", required_argument, NULL, O_COMPS },
		{ "heartbeat-interval", required_argument, NULL, O_HB },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "count", required_argument, NULL, O_COUNT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "start-time", required_argument, NULL, O_START },
		{ "seed", required_argument, NULL, O_SEED },
		{ "v2-hosts", required_argument, NULL, O_V2_HOSTS },
		{ "v2-heartbeat-interval", required_argument, NULL, O_V2_HB },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->hosts = 5;
	o->lattices = 2;
	o->comps = 3;
	o->hb_us = 30 * US_PER_S;
	o->v2_hb_us = 15 * US_PER_S;
	o->seed = 1;
	o->start_us = -1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (ch) {
		case O_NATS:
			o->nats_url = optarg;
			break;
		case O_OUT:
			o->out = optarg;
			break;
		case O_MODE:
			if (strcmp(optarg, "flood") == 0)
				o->flood = 1;
			else if (strcmp(optarg, "story") != 0)
				die("--mode: want story or flood");
			break;
		case O_HOSTS:
			o->hosts = (int)parse_num("--hosts", optarg, 1, 100000);
			break;
		case O_LATTICES:
			o->lattices = (int)parse_num("--lattices", optarg, 1,
			    1000);
			break;
		case O_COMPS:
			o->comps = (int)parse_num("--components-per-host",
			    optarg, 0, NELEM(comp_names));
			break;
		case O_HB:
			o->hb_us = parse_duration(optarg);
			if (o->hb_us < 10 * US_PER_MS)
				die("--heartbeat-interval: bad duration '%s'",
				    optarg);
			break;
		case O_DURATION:
			if ((o->duration_us = parse_duration(optarg)) < 0)
				die("--duration: bad duration '%s'", optarg);
			break;
		case O_COUNT:
			errno = 0;
			o->count = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-')
				die("--count: bad number '%s'", optarg);
			break;
		case O_RATE:
			o->rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || o->rate < 0)
				die("--rate: bad number '%s'", optarg);
			break;
		case O_START:
			if ((o->start_us = parse_start(optarg)) < 0)
				die("--start-time: want 2025-01-01T00:00:00Z "
				    "or epoch ms, got '%s'", optarg);
			break;
		case O_SEED:
			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0')
				die("--seed: bad number '%s'", optarg);
			break;
		case O_V2_HOSTS:
			o->v2_hosts = (int)parse_num("--v2-hosts", optarg, 0,
			    100000);
			break;
		case O_V2_HB:
			o->v2_hb_us = parse_duration(optarg);
			if (o->v2_hb_us < 10 * US_PER_MS)
				die("--v2-heartbeat-interval: bad duration "
				    "'%s'", optarg);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (o->out != NULL && o->nats_url != NULL)
		die("--out and --nats are exclusive");
	if (o->out != NULL && o->duration_us == 0 && o->count == 0)
		die("--out needs --duration or --count (it does not wait)");
	if (o->nats_url == NULL)
		o->nats_url = "nats://127.0.0.1:4222";
}

/* Connect to NATS or die. */
static void
connect_nats(struct sim *s)
{
	natsOptions *no = NULL;
	natsStatus ns;

	if ((ns = natsOptions_Create(&no)) != NATS_OK ||
	    (ns = natsOptions_SetURL(no, s->o.nats_url)) != NATS_OK ||
	    (ns = natsOptions_SetName(no, "latticed-sim")) != NATS_OK ||
	    (ns = natsOptions_SetMaxReconnect(no, -1)) != NATS_OK ||
	    (ns = natsOptions_SetReconnectBufSize(no, 64 * 1024 * 1024)) !=
	    NATS_OK)
		die("nats options: %s", natsStatus_GetText(ns));
	ns = natsConnection_Connect(&s->nc, no);
	natsOptions_Destroy(no);
	if (ns != NATS_OK)
		die("connect %s: %s", s->o.nats_url, natsStatus_GetText(ns));
}

/* Print the per-type totals on stderr. */
static void
summary(struct sim *s)
{
	int i;

	fprintf(stderr, "latticed-sim: %" PRIu64 " events (", s->sent);
	for (i = 0; i < s->ntypes; i++)
		fprintf(stderr, "%s%s %" PRIu64, i ? ", " : "",
		    s->type_names[i], s->by_type[i]);
	fprintf(stderr, ")\n");
}

/* Free everything setup() and the run allocated. */
static void
teardown(struct sim *s)
{
	int i;

	for (i = 0; i < s->o.hosts; i++) {
		free(s->host[i].max);
		free(s->host[i].prov_running);
		free(s->host[i].prov_healthy);
		free(s->host[i].prov_reported);
	}
	for (i = 0; i < s->o.lattices; i++) {
		free(s->lat[i].links);
		free(s->lat[i].configs);
		free(s->lat[i].config_set);
	}
	for (i = 0; i < s->o.v2_hosts; i++)
		if (s->v2[i].sub != NULL)
			natsSubscription_Destroy(s->v2[i].sub);
	free(s->v2);
	free(s->host);
	free(s->lat);
	free(s->cat);
	free(s->pcat);
	free(s->heap);
	free(s->ev.p);
	free(s->line.p);
}

/* Parse flags, build the lattice, run the story or the flood. */
int
main(int argc, char **argv)
{
	struct sim s;
	struct sigaction sa;
	int status = 0, i;

	memset(&s, 0, sizeof(s));
	parse_args(argc, argv, &s.o);
	s.rng = s.o.seed;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (s.o.out != NULL) {
		if (strcmp(s.o.out, "-") == 0)
			s.outf = stdout;
		else if ((s.outf = fopen(s.o.out, "w")) == NULL)
			die("open %s: %s", s.o.out, strerror(errno));
		setvbuf(s.outf, NULL, _IOFBF, 1 << 20);
		s.t0 = s.o.start_us >= 0 ? s.o.start_us :
		    (int64_t)1735689600 * US_PER_S;	/* 2025-01-01 */
	} else {
		connect_nats(&s);
		s.t0 = s.o.start_us >= 0 ? s.o.start_us : wall_us();
	}
	s.now = s.t0;
	s.wall0 = wall_us();
	pthread_mutex_init(&s.v2mtx, NULL);
	setup(&s);
	for (i = 0; s.nc != NULL && i < s.o.v2_hosts; i++) {
		char subj[128];
		natsStatus ns;

		snprintf(subj, sizeof(subj), "runtime.host.%s.heartbeat",
		    s.v2[i].id);
		if ((ns = natsConnection_Subscribe(&s.v2[i].sub, s.nc, subj,
		    on_v2_request, &s.v2[i])) != NATS_OK)
			die("subscribe %s: %s", subj, natsStatus_GetText(ns));
	}
	if (!s.o.quiet)
		fprintf(stderr, "latticed-sim: %s, %d hosts in %d lattices, "
		    "heartbeat every %" PRId64 " ms, seed %" PRIu64 ", to %s\n",
		    s.o.flood ? "flood" : "story", s.o.hosts, s.o.lattices,
		    s.o.hb_us / US_PER_MS, s.o.seed,
		    s.outf != NULL ? s.o.out : s.o.nats_url);

	if (s.o.flood)
		run_flood(&s);
	else
		run_story(&s);

	if (s.outf != NULL) {
		if (fflush(s.outf) != 0 || (s.outf != stdout &&
		    fclose(s.outf) != 0)) {
			fprintf(stderr, "latticed-sim: write %s: %s\n",
			    s.o.out, strerror(errno));
			status = 1;
		}
	} else {
		if (natsConnection_FlushTimeout(s.nc, 5000) != NATS_OK) {
			fprintf(stderr, "latticed-sim: flush failed\n");
			status = 1;
		}
		for (i = 0; i < s.o.v2_hosts; i++)
			if (s.v2[i].sub != NULL) {
				/* waits for a callback in progress */
				natsSubscription_Unsubscribe(s.v2[i].sub);
				natsSubscription_Destroy(s.v2[i].sub);
				s.v2[i].sub = NULL;
			}
		natsConnection_Destroy(s.nc);
		nats_Close();
	}
	if (!s.o.quiet)
		summary(&s);
	teardown(&s);
	return status;
}
