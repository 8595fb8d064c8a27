/*
 * metrics.c - the numbers behind /metrics and /healthz (metrics.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "census.h"
#include "fold.h"
#include "queue.h"
#include "log.h"
#include "alert.h"
#include "metrics.h"

#define LABEL_MAX	128		/* longer lattice/type: "_other" */
#define HASH_SLOTS	8192		/* > 2 x METRICS_MAX_SERIES */
#define NOUT		(LT_OUT_REJECTED + 1)
#define OTHER		"_other"

/* One lattice x type: counts per outcome and rpc notifications. */
struct series {
	char		 lattice[LABEL_MAX];
	char		 type[LABEL_MAX];
	uint64_t	 out[NOUT];
	uint64_t	 rpc;
};

/* One lattice: when latticed last received an event for it. */
struct lat {
	char		 name[LABEL_MAX];
	int64_t		 last_ms;
};

struct hist {
	const double	*le;
	size_t		 n;
	uint64_t	 bucket[16];
	uint64_t	 count;
	double		 sum;
};

static const double size_le[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500,
    1000, 2000, 5000, 10000 };
static const double dur_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };

static const char *const reject_class[] = { "parse", "invalid", "limit",
    "unsupported", "poison" };
#define NREJ	(sizeof(reject_class) / sizeof(reject_class[0]))
static const char *const sinks[] = { "alertmanager", "command", OTHER };
#define NSINK	(sizeof(sinks) / sizeof(sinks[0]))

static struct {
	pthread_mutex_t	 mtx;
	struct series	 series[METRICS_MAX_SERIES];
	size_t		 nseries;
	int16_t		 slot[HASH_SLOTS];	/* index + 1, 0: empty */
	struct lat	 lats[METRICS_MAX_LATTICES + 1];
	size_t		 nlats;
	uint64_t	 rejected[NREJ];
	uint64_t	 duplicates;
	uint64_t	 overflows;
	uint64_t	 commit_failures;
	struct hist	 batch_size, batch_dur, commit_dur;
	int		 nats_up;
	int64_t		 nats_since_ms;	/* when nats_up last changed */
	int		 nats_ever;
	uint64_t	 reconnects;
	uint64_t	 resyncs, gaps;
	uint64_t	 delivery_failed[NSINK];
	int		 commit_ok;
	char		 commit_err[200];
	int64_t		 last_commit_ms;
	int64_t		 start_ms;
	int		 ready;
	/* scrape sources, loop thread only */
	struct lt_census_q *cq;
	struct lt_census *census;
	unsigned	 census_mask;	/* the tables census holds */
	int64_t		 census_ms;
	struct lt_queue	*qin, *qloop;	/* the pipeline's two queues */
	char		*db_path;
} M = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.batch_size = { size_le, sizeof(size_le) / sizeof(size_le[0]) },
	.batch_dur = { dur_le, sizeof(dur_le) / sizeof(dur_le[0]) },
	.commit_dur = { dur_le, sizeof(dur_le) / sizeof(dur_le[0]) },
	.commit_ok = 1,
};

/* Copy a string into a fixed buffer, truncating. */
static void
copy(char *dst, const char *src, size_t len)
{
	snprintf(dst, len, "%s", src);
}

/* FNV-1a over lattice, a separator and type. */
static uint32_t
hash2(const char *a, const char *b)
{
	uint32_t	h = 2166136261u;

	for (; *a != '\0'; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *b != '\0'; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

/* Find or add lattice x type; NULL when the map is full. */
static struct series *
series_get(const char *lattice, const char *type, int reserved)
{
	uint32_t	 i = hash2(lattice, type) % HASH_SLOTS;
	struct series	*s;

	for (;; i = (i + 1) % HASH_SLOTS) {
		if (M.slot[i] == 0)
			break;
		s = &M.series[M.slot[i] - 1];
		if (strcmp(s->lattice, lattice) == 0 &&
		    strcmp(s->type, type) == 0)
			return s;
	}
	/* the last entry is kept for ("_other", "_other") */
	if (M.nseries >= METRICS_MAX_SERIES - (reserved ? 0 : 1))
		return NULL;
	s = &M.series[M.nseries++];
	memset(s, 0, sizeof(*s));
	copy(s->lattice, lattice, sizeof(s->lattice));
	copy(s->type, type, sizeof(s->type));
	M.slot[i] = (int16_t)M.nseries;
	return s;
}

/* Find or add a lattice; past the cap, the shared "_other" entry. */
static struct lat *
lat_get(const char *name)
{
	size_t	i;

	/* linear: at most METRICS_MAX_LATTICES, touched once per message
	   only for lattices that are not the last one seen */
	for (i = 0; i < M.nlats; i++)
		if (strcmp(M.lats[i].name, name) == 0)
			return &M.lats[i];
	if (M.nlats >= METRICS_MAX_LATTICES) {
		for (i = 0; i < M.nlats; i++)
			if (strcmp(M.lats[i].name, OTHER) == 0)
				return &M.lats[i];
		i = M.nlats++;	/* the spare slot past the cap */
		copy(M.lats[i].name, OTHER, sizeof(M.lats[i].name));
		return &M.lats[i];
	}
	i = M.nlats++;
	copy(M.lats[i].name, name, sizeof(M.lats[i].name));
	return &M.lats[i];
}

/* Map an lt_err code to a rejected_events.error class index. */
static size_t
reject_index(int code)
{
	switch (code) {
	case LT_EPARSE:
		return 0;
	case LT_EINVAL:
		return 1;
	case LT_ELIMIT:
		return 2;
	case LT_EUNSUPPORTED:
		return 3;
	default:
		return 4;
	}
}

/* Monotonic microseconds. */
int64_t
metrics_mono_us(void)
{
	struct timespec	tp;

	clock_gettime(CLOCK_MONOTONIC, &tp);
	return (int64_t)tp.tv_sec * 1000000 + tp.tv_nsec / 1000;
}

/* Count one folded message. */
void
metrics_event(const struct lt_fold_info *fi, enum lt_outcome out, int code,
    int64_t received_ms)
{
	const char	*lattice = OTHER, *type = OTHER;
	struct series	*s;
	struct lat	*l;

	pthread_mutex_lock(&M.mtx);
	if (out == LT_OUT_REJECTED) {
		M.rejected[reject_index(code)]++;
		goto out;
	}
	if (fi != NULL && fi->lattice[0] != '\0' &&
	    strlen(fi->lattice) < LABEL_MAX - 1)
		lattice = fi->lattice;
	if (fi != NULL && fi->type[0] != '\0' && strlen(fi->type) < LABEL_MAX - 1)
		type = fi->type;
	l = lat_get(lattice);
	if (received_ms > l->last_ms)
		l->last_ms = received_ms;
	lattice = l->name;
	if ((s = series_get(lattice, type, 0)) == NULL &&
	    (s = series_get(OTHER, type, 0)) == NULL)
		s = series_get(OTHER, OTHER, 1);
	if (s != NULL) {
		s->out[out]++;
		if (fi != NULL && fi->rpc)
			s->rpc++;
	}
	if (out == LT_OUT_DUPLICATE)
		M.duplicates++;
out:
	pthread_mutex_unlock(&M.mtx);
}

static size_t	queued(int64_t *);
static size_t	queued_bytes(void);

/* Count inbox drops; kept of them have a rejected_events row (error
   'limit'), so they count as rejected too, as the rows say. */
void
metrics_overflow(uint64_t n, uint64_t kept)
{
	pthread_mutex_lock(&M.mtx);
	M.overflows += n;
	M.rejected[reject_index(LT_ELIMIT)] += kept;
	pthread_mutex_unlock(&M.mtx);
}

/* Observe v in a histogram. */
static void
observe(struct hist *h, double v)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (v <= h->le[i])
			h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* Record one batch. */
void
metrics_batch(size_t n, int64_t batch_us, int64_t commit_us, int ok,
    const char *why, int64_t now_ms)
{
	pthread_mutex_lock(&M.mtx);
	if (ok) {
		observe(&M.batch_size, (double)n);
		observe(&M.batch_dur, (double)batch_us / 1e6);
		observe(&M.commit_dur, (double)commit_us / 1e6);
		M.last_commit_ms = now_ms;
		M.commit_ok = 1;
		M.commit_err[0] = '\0';
	} else {
		M.commit_failures++;
		M.commit_ok = 0;
		copy(M.commit_err, why != NULL ? why : "unknown",
		    sizeof(M.commit_err));
	}
	pthread_mutex_unlock(&M.mtx);
}

/* Record a NATS connection change. */
void
metrics_nats(int connected, int64_t ms)
{
	pthread_mutex_lock(&M.mtx);
	connected = connected != 0;
	if (connected != M.nats_up) {
		if (connected && M.nats_ever)
			M.reconnects++;
		if (connected)
			M.nats_ever = 1;
		M.nats_up = connected;
		M.nats_since_ms = ms;
	}
	pthread_mutex_unlock(&M.mtx);
}

/* Count a JetStream resync. */
void
metrics_resync(void)
{
	pthread_mutex_lock(&M.mtx);
	M.resyncs++;
	pthread_mutex_unlock(&M.mtx);
}

/* Count messages lost in a JetStream sequence gap. */
void
metrics_gap(uint64_t n)
{
	pthread_mutex_lock(&M.mtx);
	M.gaps += n;
	pthread_mutex_unlock(&M.mtx);
}

/* Count an alert delivery failure. */
void
metrics_alert_delivery_failed(const char *sink)
{
	size_t	i;

	for (i = 0; i < NSINK - 1; i++)
		if (sink != NULL && strcmp(sink, sinks[i]) == 0)
			break;
	pthread_mutex_lock(&M.mtx);
	M.delivery_failed[i]++;
	pthread_mutex_unlock(&M.mtx);
}

/* Mirror readiness. */
void
metrics_set_ready(int ready)
{
	pthread_mutex_lock(&M.mtx);
	M.ready = ready != 0;
	pthread_mutex_unlock(&M.mtx);
}

/* Attach the scrape sources. */
int
metrics_attach(struct lt_store *st, struct lt_queue *in,
    struct lt_queue *loop, const char *db_path,
    int64_t now_ms)
{
	struct lt_err	err;

	lt_err_clear(&err);
	metrics_detach();
	if (lt_census_new(st, &M.cq, &err) != LT_OK) {
		log_warnx("metrics: census: %s", err.msg);
		return -1;
	}
	if ((M.db_path = strdup(db_path)) == NULL) {
		metrics_detach();
		return -1;
	}
	M.qin = in;
	M.qloop = loop;
	pthread_mutex_lock(&M.mtx);
	M.start_ms = now_ms;
	if (!M.nats_ever)
		M.nats_since_ms = now_ms;
	pthread_mutex_unlock(&M.mtx);
	return 0;
}

/* Detach the scrape sources. */
void
metrics_detach(void)
{
	lt_census_free(M.census);
	M.census = NULL;
	lt_census_q_free(M.cq);
	M.cq = NULL;
	free(M.db_path);
	M.db_path = NULL;
	M.qin = NULL;
	M.qloop = NULL;
}

/* Write a label value with \, " and newline escaped. */
static void
esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '"')
			fputs("\\\"", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* HELP and TYPE lines of a family. */
static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram's buckets, sum and count. */
static void
hist_write(FILE *fp, const char *name, const struct hist *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		fprintf(fp, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		    h->le[i], h->bucket[i]);
	fprintf(fp, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	fprintf(fp, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, h->sum, name,
	    h->count);
}

/*
 * Refresh the census when it is older than the TTL or lacks a table in
 * mask (loop thread).  STATUS= asks for the hosts alone: counting the
 * components of a 10,000-host fleet every 5 s cost more than folding its
 * heartbeats.
 */
static void
census_refresh(int64_t now_ms, unsigned mask)
{
	struct lt_census	*c;
	struct lt_err		 err;

	if (M.cq == NULL)
		return;
	if (M.census != NULL && now_ms - M.census_ms < METRICS_CENSUS_TTL_MS &&
	    now_ms >= M.census_ms && (M.census_mask & mask) == mask)
		return;
	lt_err_clear(&err);
	if (lt_census_take_only(M.cq, mask, &c, &err) != LT_OK) {
		log_warnx_rl("census", "metrics: census: %s", err.msg);
		return;	/* keep the previous one */
	}
	lt_census_free(M.census);
	M.census = c;
	M.census_mask = mask;
	M.census_ms = now_ms;
}

/* Hosts up and stale now, from the cached census. */
void
metrics_hosts(int64_t now_ms, int64_t *up, int64_t *stale)
{
	const struct lt_census_row	*r;
	size_t				 i;

	*up = *stale = 0;
	census_refresh(now_ms, LT_CENSUS_BIT(LT_CENSUS_HOSTS));
	if (M.census == NULL)
		return;
	for (i = 0; i < M.census->nrows[LT_CENSUS_HOSTS]; i++) {
		r = &M.census->rows[LT_CENSUS_HOSTS][i];
		if (r->key != NULL && strcmp(r->key, "up") == 0)
			*up += r->n;
		else if (r->key != NULL && strcmp(r->key, "stale") == 0)
			*stale += r->n;
	}
}

/*
 * Whether table t has a row for (lattice, key); key NULL: any.  Census
 * rows are ordered by lattice (census.c), and lattices are asked in that
 * order: *cur only moves forward.
 */
static int
census_has(enum lt_census_table t, size_t *cur, const char *lattice,
    const char *key)
{
	const struct lt_census_row	*r;
	size_t				 i;
	int				 c;

	for (; *cur < M.census->nrows[t]; (*cur)++)
		if (strcmp(M.census->rows[t][*cur].lattice, lattice) >= 0)
			break;
	for (i = *cur; i < M.census->nrows[t]; i++) {
		r = &M.census->rows[t][i];
		if ((c = strcmp(r->lattice, lattice)) != 0)
			return 0;
		if (key == NULL || (r->key != NULL && strcmp(r->key, key) == 0))
			return 1;
	}
	return 0;
}

/*
 * Write a 0 for every known lattice (one with hosts) that table t has no
 * row for, and for alerts every kind: a family never vanishes at zero
 * ("No data" in Grafana, absent() alerts firing).
 */
static void
census_zeros(FILE *fp, enum lt_census_table t, const char *name,
    const char *keylabel)
{
	const struct lt_census_row	*r;
	const char *const		*kinds = NULL, *none[] = { NULL };
	const char			*prev = NULL;
	size_t				 i, k, nkinds = 1, nlat = 0, cur = 0;

	if (M.census == NULL || t == LT_CENSUS_HOSTS)
		return;
	if (t == LT_CENSUS_ALERTS && keylabel != NULL)
		kinds = lt_alert_kinds(&nkinds);
	else
		kinds = none;
	for (i = 0; i < M.census->nrows[LT_CENSUS_HOSTS]; i++) {
		r = &M.census->rows[LT_CENSUS_HOSTS][i];
		if (prev != NULL && strcmp(prev, r->lattice) == 0)
			continue;
		prev = r->lattice;
		if (++nlat > METRICS_MAX_LATTICES)
			break;
		for (k = 0; k < nkinds; k++) {
			if (census_has(t, &cur, r->lattice, kinds[k]))
				continue;
			fprintf(fp, "%s{lattice=\"", name);
			esc(fp, r->lattice);
			if (kinds[k] != NULL) {
				fprintf(fp, "\",%s=\"", keylabel);
				esc(fp, kinds[k]);
			}
			fputs("\"} 0\n", fp);
		}
	}
}

/* Write a per-lattice census family; past the cap, sum into "_other". */
static void
census_family(FILE *fp, enum lt_census_table t, const char *name,
    const char *keylabel, const char *help, const char *type)
{
	static const char *const statuses[] = { "up", "stale", "stopped" };
	const struct lt_census_row *r;
	struct { const char *key; int64_t n; } other[16];
	size_t		 i, j, nother = 0, nlat = 0;
	const char	*prev = NULL;
	int64_t		 hs[3];

	family(fp, name, type, help);
	if (M.census == NULL)
		return;
	for (i = 0; i < M.census->nrows[t]; i++) {
		r = &M.census->rows[t][i];
		if (prev == NULL || strcmp(prev, r->lattice) != 0)
			nlat++;
		prev = r->lattice;
		if (nlat > METRICS_MAX_LATTICES) {
			const char *k = r->key != NULL ? r->key : "";

			for (j = 0; j < nother; j++)
				if (strcmp(other[j].key, k) == 0)
					break;
			if (j == nother && nother == 16)
				j = 15;
			else if (j == nother)
				other[nother++].key = k, other[j].n = 0;
			other[j].n += r->n;
			continue;
		}
		if (t == LT_CENSUS_HOSTS) {
			/* every status of a known lattice, zeros included */
			memset(hs, 0, sizeof(hs));
			for (j = i; j < M.census->nrows[t] &&
			    strcmp(M.census->rows[t][j].lattice,
			    r->lattice) == 0; j++) {
				const char *st = M.census->rows[t][j].key;

				hs[strcmp(st, "up") == 0 ? 0 :
				    strcmp(st, "stale") == 0 ? 1 : 2] +=
				    M.census->rows[t][j].n;
			}
			for (j = 0; j < 3; j++) {
				fprintf(fp, "%s{lattice=\"", name);
				esc(fp, r->lattice);
				fprintf(fp, "\",status=\"%s\"} %" PRId64 "\n",
				    statuses[j], hs[j]);
			}
			while (i + 1 < M.census->nrows[t] &&
			    strcmp(M.census->rows[t][i + 1].lattice,
			    r->lattice) == 0)
				i++;
			continue;
		}
		fprintf(fp, "%s{lattice=\"", name);
		esc(fp, r->lattice);
		if (keylabel != NULL) {
			fprintf(fp, "\",%s=\"", keylabel);
			esc(fp, r->key != NULL ? r->key : "");
		}
		fprintf(fp, "\"} %" PRId64 "\n", r->n);
	}
	for (j = 0; j < nother; j++) {
		fprintf(fp, "%s{lattice=\"" OTHER "\"", name);
		if (keylabel != NULL) {
			fprintf(fp, ",%s=\"", keylabel);
			esc(fp, other[j].key);
			fputc('"', fp);
		}
		fprintf(fp, "} %" PRId64 "\n", other[j].n);
	}
	census_zeros(fp, t, name, keylabel);
}

/* Size of a file, 0 when it does not exist. */
static int64_t
file_size(const char *path, const char *suffix)
{
	char		buf[4096];
	struct stat	sb;

	if (path == NULL)
		return 0;
	if (lt_fmt(buf, sizeof(buf), "%s%s", path, suffix) != LT_OK ||
	    stat(buf, &sb) == -1)
		return 0;
	return (int64_t)sb.st_size;
}

/* Write the exposition. */
int
metrics_render(FILE *fp, int64_t now_ms)
{
	const struct series	*s;
	size_t			 i, depth;
	int			 o;

	census_refresh(now_ms, LT_CENSUS_ALL);
	depth = queued(NULL);
	pthread_mutex_lock(&M.mtx);

	family(fp, "latticed_build_info", "gauge",
	    "Always 1; the version label says which latticed runs.");
	fprintf(fp, "latticed_build_info{version=\"%s\"} 1\n",
	    LATTICED_VERSION);
	family(fp, "latticed_start_time_seconds", "gauge",
	    "When latticed started, seconds since the Unix epoch.");
	fprintf(fp, "latticed_start_time_seconds %.3f\n",
	    (double)M.start_ms / 1000);
	family(fp, "latticed_ready", "gauge",
	    "1 once /readyz answers 200 (subscriptions live).");
	fprintf(fp, "latticed_ready %d\n", M.ready);

	family(fp, "latticed_events_total", "counter",
	    "Lattice messages folded, by lattice, CloudEvent type and outcome.");
	for (i = 0; i < M.nseries; i++) {
		s = &M.series[i];
		for (o = 0; o < LT_OUT_REJECTED; o++) {
			fputs("latticed_events_total{lattice=\"", fp);
			esc(fp, s->lattice);
			fputs("\",type=\"", fp);
			esc(fp, s->type);
			fprintf(fp, "\",outcome=\"%s\"} %" PRIu64 "\n",
			    lt_outcome_name(o), s->out[o]);
		}
	}
	family(fp, "latticed_rpc_notifications_total", "counter",
	    "Messages on wasmbus.rpcevt.<lattice> (also in "
	    "latticed_events_total), by lattice and type.");
	for (i = 0; i < M.nseries; i++) {
		s = &M.series[i];
		if (s->rpc == 0)
			continue;
		fputs("latticed_rpc_notifications_total{lattice=\"", fp);
		esc(fp, s->lattice);
		fputs("\",type=\"", fp);
		esc(fp, s->type);
		fprintf(fp, "\"} %" PRIu64 "\n", s->rpc);
	}
	family(fp, "latticed_events_rejected_total", "counter",
	    "Messages kept in rejected_events, by error class.");
	for (i = 0; i < NREJ; i++)
		fprintf(fp, "latticed_events_rejected_total{reason=\"%s\"} %"
		    PRIu64 "\n", reject_class[i], M.rejected[i]);
	family(fp, "latticed_events_duplicate_total", "counter",
	    "Events dropped as duplicates of an applied (source, id).");
	fprintf(fp, "latticed_events_duplicate_total %" PRIu64 "\n",
	    M.duplicates);
	family(fp, "latticed_last_event_age_seconds", "gauge",
	    "Seconds since latticed last received an event for the lattice.");
	for (i = 0; i < M.nlats; i++) {
		fputs("latticed_last_event_age_seconds{lattice=\"", fp);
		esc(fp, M.lats[i].name);
		fprintf(fp, "\"} %.3f\n", now_ms > M.lats[i].last_ms ?
		    (double)(now_ms - M.lats[i].last_ms) / 1000 : 0.0);
	}

	census_family(fp, LT_CENSUS_HOSTS, "latticed_hosts", "status",
	    "Hosts in the model, by lattice and status.", "gauge");
	census_family(fp, LT_CENSUS_COMPONENTS, "latticed_components", NULL,
	    "Component rows (per host) in the model, by lattice.", "gauge");
	census_family(fp, LT_CENSUS_PROVIDERS, "latticed_providers", NULL,
	    "Provider rows (per host) in the model, by lattice.", "gauge");
	census_family(fp, LT_CENSUS_LINKS, "latticed_links", NULL,
	    "Links in the model, by lattice.", "gauge");
	census_family(fp, LT_CENSUS_CONFIGS, "latticed_configs", NULL,
	    "Named configs in the model, by lattice.", "gauge");
	census_family(fp, LT_CENSUS_ALERTS, "latticed_alerts_active", "kind",
	    "Unresolved alerts, by lattice and kind.", "gauge");
	family(fp, "latticed_alert_deliveries_failed_total", "counter",
	    "Alert deliveries that failed, by sink.");
	for (i = 0; i < NSINK; i++)
		fprintf(fp, "latticed_alert_deliveries_failed_total{sink=\"%s\"}"
		    " %" PRIu64 "\n", sinks[i], M.delivery_failed[i]);

	family(fp, "latticed_fold_batch_messages", "histogram",
	    "Messages per folded batch (one transaction each).");
	hist_write(fp, "latticed_fold_batch_messages", &M.batch_size);
	family(fp, "latticed_fold_batch_duration_seconds", "histogram",
	    "Time to fold and commit one batch.");
	hist_write(fp, "latticed_fold_batch_duration_seconds", &M.batch_dur);
	family(fp, "latticed_commit_duration_seconds", "histogram",
	    "Time of the COMMIT of one batch.");
	hist_write(fp, "latticed_commit_duration_seconds", &M.commit_dur);
	family(fp, "latticed_commit_failures_total", "counter",
	    "Batches whose transaction failed (the database cannot be "
	    "written).");
	fprintf(fp, "latticed_commit_failures_total %" PRIu64 "\n",
	    M.commit_failures);

	family(fp, "latticed_inbox_messages", "gauge",
	    "Messages received and waiting to be folded.");
	fprintf(fp, "latticed_inbox_messages %zu\n", depth);
	family(fp, "latticed_inbox_bytes", "gauge",
	    "What the waiting messages count against inbox_max_bytes.");
	fprintf(fp, "latticed_inbox_bytes %zu\n", queued_bytes());
	family(fp, "latticed_inbox_overflows_total", "counter",
	    "Messages dropped because the inbox was full (inbox_max).");
	fprintf(fp, "latticed_inbox_overflows_total %" PRIu64 "\n",
	    M.overflows);
	family(fp, "latticed_nats_connected", "gauge",
	    "1 while connected to NATS, else 0.");
	fprintf(fp, "latticed_nats_connected %d\n", M.nats_up);
	family(fp, "latticed_nats_reconnects_total", "counter",
	    "Reconnections to NATS after a disconnect.");
	fprintf(fp, "latticed_nats_reconnects_total %" PRIu64 "\n",
	    M.reconnects);
	family(fp, "latticed_resyncs_total", "counter",
	    "Full resyncs of the model from JetStream.");
	fprintf(fp, "latticed_resyncs_total %" PRIu64 "\n", M.resyncs);
	family(fp, "latticed_gaps_total", "counter",
	    "Messages missed in JetStream sequence gaps.");
	fprintf(fp, "latticed_gaps_total %" PRIu64 "\n", M.gaps);
	pthread_mutex_unlock(&M.mtx);

	family(fp, "latticed_database_size_bytes", "gauge",
	    "Size of the SQLite database files, by file (main, wal).");
	fprintf(fp, "latticed_database_size_bytes{file=\"main\"} %" PRId64
	    "\n", file_size(M.db_path, ""));
	fprintf(fp, "latticed_database_size_bytes{file=\"wal\"} %" PRId64
	    "\n", file_size(M.db_path, "-wal"));
	fflush(fp);
	return ferror(fp) ? -1 : 0;
}

/* Append one reason to why. */
static void
reason(char *why, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
reason(char *why, size_t len, size_t *off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(why + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
	if (*off >= len)
		*off = len;
}

/* What the messages in the pipeline (both queues) cost against their
   byte bounds. */
static size_t
queued_bytes(void)
{
	return (M.qin != NULL ? lt_queue_bytes(M.qin) : 0) +
	    (M.qloop != NULL ? lt_queue_bytes(M.qloop) : 0);
}

/* Messages in the pipeline (both queues) and the oldest one's receive
   time (0: none). */
static size_t
queued(int64_t *oldest)
{
	int64_t	a = 0, b = 0;
	size_t	n = 0;

	if (M.qin != NULL)
		n += lt_queue_len(M.qin, &a);
	if (M.qloop != NULL)
		n += lt_queue_len(M.qloop, &b);
	if (oldest != NULL)
		*oldest = a == 0 ? b : b == 0 ? a : a < b ? a : b;
	return n;
}

/* Judge health. */
int
metrics_health(int64_t now_ms, int64_t nats_grace_ms, char *why, size_t len)
{
	size_t	 off = 0, depth;
	int64_t	 oldest = 0, since;

	why[0] = '\0';
	depth = queued(&oldest);
	pthread_mutex_lock(&M.mtx);
	if (!M.nats_up && now_ms - M.nats_since_ms > nats_grace_ms)
		reason(why, len, &off, "nats: %s for %llds (grace %llds)\n",
		    M.nats_ever ? "disconnected" : "not connected",
		    (long long)((now_ms - M.nats_since_ms) / 1000),
		    (long long)(nats_grace_ms / 1000));
	if (!M.commit_ok)
		reason(why, len, &off, "database: last commit failed: %s\n",
		    M.commit_err);
	since = M.last_commit_ms > oldest ? M.last_commit_ms : oldest;
	if (depth > 0 && now_ms - since > METRICS_STUCK_MS)
		reason(why, len, &off, "fold: %zu messages waiting, no batch "
		    "committed for %llds\n", depth,
		    (long long)((now_ms - since) / 1000));
	pthread_mutex_unlock(&M.mtx);
	return off > 0;
}
