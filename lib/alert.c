/*
 * alert.c - fire and resolve alerts from the fold and the stale sweep.
 *
 * Every fire is an INSERT that does nothing when the same (lattice, kind,
 * entity) is already active (the unique partial index alerts_one_active),
 * every resolve an UPDATE of the active row only: both are idempotent, so
 * repeating a sweep or an event changes nothing.  The alerts' delivery is
 * queued by triggers (schema/002_alert_outbox.sql).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alert.h"
#include "json.h"
#include "ce.h"
#include "store_int.h"
#include "timeutil.h"

#define SUMMARY_ERROR_MAX	300	/* bytes of an error in a summary */

enum alert_stmt {
	AS_FIRE,
	AS_RESOLVE,
	AS_RESOLVE_PROV_GONE,
	AS_RESOLVE_SILENT,
	AS_HOST_INFO,
	AS_SWEEP_LATTICES,
	AS_SWEEP_SILENT,
	AS_SWEEP_HOSTS,
	AS_GONE_HOST,
	AS_GONE_SILENT,
	AS_ACTIVE_KINDS,
	AS_PROV_ALERTS,
	AS_PROV_ALERTS_HOST,
	AS_STORM_COUNT,
	AS_RESOLVE_FLEET,
	AS_COUNT
};

/* The active provider_unhealthy alerts of the rows `where` picks: lattice,
   host, the alert's provider, whether that provider is on the host. */
#define PROV_ALERTS(where)						\
	"SELECT lattice, host_id, pid, EXISTS (SELECT 1"		\
	" FROM latticed_providers p"					\
	" WHERE p.lattice = a.lattice AND p.host_id = a.host_id"	\
	" AND p.provider_id = a.pid) FROM (SELECT lattice, host_id,"	\
	" CASE WHEN json_valid(details) THEN json_extract(details,"	\
	" '$.provider_id') END AS pid FROM latticed_alerts"		\
	" WHERE " where " AND kind = 'provider_unhealthy'"		\
	" AND resolved_ms IS NULL) AS a"

static const char *const alert_sql[AS_COUNT] = {
	[AS_FIRE] =
	    "INSERT INTO latticed_alerts (lattice, kind, severity, entity,"
	    " host_id, summary, details, fired_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT DO NOTHING",
	[AS_RESOLVE] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?4, fired_ms)"
	    " WHERE lattice = ?1 AND kind = ?2 AND entity = ?3"
	    " AND resolved_ms IS NULL",
	/* provider_unhealthy of providers no longer on the host */
	[AS_RESOLVE_PROV_GONE] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?3, fired_ms)"
	    " WHERE lattice = ?1 AND host_id = ?2"
	    " AND kind = 'provider_unhealthy' AND resolved_ms IS NULL"
	    " AND NOT EXISTS (SELECT 1 FROM latticed_providers p"
	    " WHERE p.lattice = latticed_alerts.lattice"
	    " AND p.host_id = latticed_alerts.host_id"
	    " AND p.provider_id = json_extract(latticed_alerts.details,"
	    " '$.provider_id'))",
	/* lattice_silent once none of its hosts is stale any more */
	[AS_RESOLVE_SILENT] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?2, fired_ms)"
	    " WHERE lattice = ?1 AND kind = 'lattice_silent' AND entity = ?1"
	    " AND resolved_ms IS NULL"
	    /* none of the lattice's hosts that went silent since the
	       window it counted is stale (the names are a capped subset:
	       one index seek, not a scan per name); an alert from before
	       since_ms existed: none of its named hosts */
	    " AND CASE WHEN json_extract(latticed_alerts.details, '$.since_ms')"
	    " IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM latticed_hosts h"
	    " WHERE h.status = 'stale' AND h.lattice = latticed_alerts.lattice"
	    " AND h.status_changed_ms >= json_extract(latticed_alerts.details,"
	    " '$.since_ms'))"
	    " ELSE NOT EXISTS (SELECT 1 FROM json_each(latticed_alerts.details,"
	    " '$.host_ids') j JOIN latticed_hosts h"
	    " ON h.lattice = latticed_alerts.lattice"
	    " AND h.host_id = j.value WHERE h.status = 'stale') END",
	[AS_HOST_INFO] =
	    "SELECT friendly_name FROM latticed_hosts WHERE lattice = ?1"
	    " AND host_id = ?2",
	/* per lattice with hosts this sweep marked (temp.latticed_swept,
	   store.c): those, the hosts gone silent within the mass silence
	   window (since ?2), and up */
	[AS_SWEEP_LATTICES] =
	    "SELECT h.lattice, SUM(w.host_id IS NOT NULL),"
	    " SUM(h.status = 'stale' AND h.status_changed_ms >= ?2),"
	    " SUM(h.status = 'up'),"
	    /* up hosts a sweep at ?3 would mark stale: due by the next */
	    " SUM(h.status = 'up' AND ?3 > ?1 AND "
	    LT_SQL_SILENT_PAST("?3", "?4", "?5", "?6", "?7") ")"
	    " FROM latticed_hosts h LEFT JOIN temp.latticed_swept w"
	    " ON w.lattice = h.lattice AND w.host_id = h.host_id"
	    " WHERE h.status IN ('up', 'stale')"
	    " AND h.lattice IN (SELECT lattice FROM temp.latticed_swept)"
	    " GROUP BY h.lattice",
	/* a lattice_silent's hosts: gone silent within the window */
	[AS_SWEEP_SILENT] =
	    "SELECT host_id, friendly_name, last_heartbeat_ms, first_seen_ms"
	    " FROM latticed_hosts WHERE lattice = ?1 AND status = 'stale'"
	    " AND status_changed_ms >= ?2 ORDER BY host_id LIMIT ?3",
	/* the lattice's hosts this sweep marked */
	[AS_SWEEP_HOSTS] =
	    "SELECT h.host_id, h.friendly_name, h.last_heartbeat_ms,"
	    " h.first_seen_ms FROM temp.latticed_swept w JOIN latticed_hosts h"
	    " ON h.lattice = w.lattice AND h.host_id = w.host_id"
	    " WHERE w.lattice = ?1 ORDER BY w.host_id",
	/* a removed host: every active alert naming it but a link's */
	[AS_GONE_HOST] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?3, fired_ms),"
	    " details = CASE WHEN json_valid(details) AND"
	    " json_type(details) = 'object' THEN json_set(details,"
	    " '$.resolved_reason', ?4) ELSE details END"
	    " WHERE lattice = ?1 AND host_id = ?2 AND resolved_ms IS NULL"
	    " AND kind <> 'linkdef_set_failed'",
	/* lattice_silent once none of its hosts is stale (or present) */
	[AS_GONE_SILENT] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?2, fired_ms),"
	    " details = CASE WHEN json_valid(details) AND"
	    " json_type(details) = 'object' THEN json_set(details,"
	    " '$.resolved_reason', ?3) ELSE details END"
	    " WHERE lattice = ?1 AND kind = 'lattice_silent' AND entity = ?1"
	    " AND resolved_ms IS NULL"
	    /* none of the lattice's hosts that went silent since the
	       window it counted is stale (the names are a capped subset:
	       one index seek, not a scan per name); an alert from before
	       since_ms existed: none of its named hosts */
	    " AND CASE WHEN json_extract(latticed_alerts.details, '$.since_ms')"
	    " IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM latticed_hosts h"
	    " WHERE h.status = 'stale' AND h.lattice = latticed_alerts.lattice"
	    " AND h.status_changed_ms >= json_extract(latticed_alerts.details,"
	    " '$.since_ms'))"
	    " ELSE NOT EXISTS (SELECT 1 FROM json_each(latticed_alerts.details,"
	    " '$.host_ids') j JOIN latticed_hosts h"
	    " ON h.lattice = latticed_alerts.lattice"
	    " AND h.host_id = j.value WHERE h.status = 'stale') END",
	[AS_ACTIVE_KINDS] =
	    "SELECT DISTINCT kind FROM latticed_alerts"
	    " WHERE resolved_ms IS NULL",
	/* what AS_RESOLVE_PROV_GONE looks at: the alert's provider and
	   whether it is on the host now (NULL provider: never) */
	[AS_PROV_ALERTS] = PROV_ALERTS("host_id IS NOT NULL"),
	/* the same for one host (alerts_active_host) */
	[AS_PROV_ALERTS_HOST] = PROV_ALERTS("lattice = ?1 AND host_id = ?2"),
	/* the sweep alerts fired since ?1, counted up to ?2 */
	[AS_STORM_COUNT] =
	    "SELECT count(*) FROM (SELECT 1 FROM latticed_alerts WHERE kind IN"
	    " ('host_stale', 'lattice_silent') AND fired_ms >= ?1 LIMIT ?2)",
	/* fleet_silent once no host that went silent since is stale */
	[AS_RESOLVE_FLEET] =
	    "UPDATE latticed_alerts SET resolved_ms = MAX(?1, fired_ms)"
	    " WHERE lattice = '*' AND kind = 'fleet_silent' AND entity = '*'"
	    " AND resolved_ms IS NULL AND NOT EXISTS (SELECT 1"
	    " FROM latticed_hosts h"
	    " WHERE h.status = 'stale' AND h.status_changed_ms >="
	    " latticed_alerts.fired_ms)",
};

/* Kinds the fold resolves, as bits of lt_alert.active (one for the rest). */
static const char *const kind_bits[] = {
	"host_stale", "host_stopped", "provider_unhealthy",
	"component_scale_failed", "provider_start_failed",
	"linkdef_set_failed", "lattice_silent", "fleet_silent",
};
#define KIND_OTHER	(1U << 31)

/*
 * When a cache of the active alerts was read: the store's rollback and
 * transaction counters (store_int.h).  Only this file fires alerts, and
 * every fire and resolve here updates the caches, so they stay true across
 * commits; a rollback undoes writes they saw, so it drops them.  Resolves
 * by another lt_alert (a removed host, lib/prune.c) leave rows behind that
 * cost a statement, never an alert; a reread every CACHE_TXNS transactions
 * keeps those few.
 */
struct cache_at {
	uint64_t	 rb_gen;
	uint64_t	 txn_gen;
};

#define CACHE_TXNS	128

struct lt_alert {
	struct lt_store	*st;
	sqlite3_stmt	*stmt[AS_COUNT];
	/*
	 * Which kinds have an active alert, known since the write
	 * transaction active_at (see cache_valid()): a resolve of a kind
	 * with none active is skipped, so an event that can resolve nothing
	 * costs no query.  Only this file writes alerts; a fire sets its bit.
	 */
	struct cache_at	 active_at;
	unsigned	 active;
	int		 active_known;
	/*
	 * The active provider_unhealthy alerts, sorted by (lattice, host),
	 * known since the write transaction pa_at, the same way: a host
	 * event runs AS_RESOLVE_PROV_GONE only when its host has one whose
	 * provider may be gone (prov_gone_possible()).  A fire adds its row;
	 * a resolve by health removes it; a resolve by AS_RESOLVE_PROV_GONE
	 * rereads the host's (AS_PROV_ALERTS_HOST).  Rows resolved some
	 * other way may linger: that costs a statement, never an alert.
	 */
	struct palert	*pa;
	size_t		 npa, pacap;
	struct cache_at	 pa_at;
	int		 pa_known;
};

/* An active provider_unhealthy alert: lattice, host and provider in one
   allocation. */
struct palert {
	char		*lat;		/* owns the block */
	size_t		 latlen;
	const char	*host;
	size_t		 hostlen;
	const char	*prov;		/* NULL: details name none */
	int		 present;	/* prov is on the host (a providers
					   row), as of the last event of the
					   host that could remove it */
};

/* A growable string. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

/* One alert to fire. */
struct fire {
	const char	*lattice;
	int		 latlen;
	const char	*kind;
	const char	*severity;
	const char	*entity;
	const char	*host_id;
	const char	*summary;
	const char	*details;
	int64_t		 now_ms;
};

static void	pa_clear(struct lt_alert *);

/* The alert kinds latticed fires. */
const char *const *
lt_alert_kinds(size_t *n)
{
	*n = sizeof(kind_bits) / sizeof(kind_bits[0]);
	return kind_bits;
}

/* Prepare the statement table. */
int
lt_alert_new(struct lt_store *st, struct lt_alert **out, struct lt_err *err)
{
	struct lt_alert *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
	a->st = st;
	if (lt_store_prepare_table(st, alert_sql, AS_COUNT, a->stmt, err) !=
	    LT_OK) {
		free(a);
		return LT_ESTORE;
	}
	*out = a;
	return LT_OK;
}

/* Finalize the statements and free. */
void
lt_alert_free(struct lt_alert *a)
{
	if (a == NULL)
		return;
	lt_store_finalize_table(a->stmt, AS_COUNT);
	pa_clear(a);
	free(a->pa);
	free(a);
}

/* --- strings -------------------------------------------------------- */

/* Make room for n more bytes plus a NUL. */
static int
sb_grow(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes of s. */
static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (sb_grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a formatted string. */
static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append s (NULL: "null") as a JSON string. */
static void
sb_json(struct sbuf *b, const char *s)
{
	size_t	n;
	char	*tmp;

	if (s == NULL) {
		sb_addn(b, "null", 4);
		return;
	}
	n = lt_json_escaped_len(s) + 2;
	if ((tmp = malloc(n)) == NULL) {
		b->oom = 1;
		return;
	}
	lt_json_put_escaped(tmp, s);
	sb_addn(b, tmp, n);
	free(tmp);
}

/* Append "key":value-as-JSON-string, with a leading comma unless first. */
static void
sb_kv(struct sbuf *b, const char *key, const char *val)
{
	sb_addn(b, b->len > 1 ? "," : "", b->len > 1 ? 1 : 0);
	sb_json(b, key);
	sb_addn(b, ":", 1);
	sb_json(b, val);
}

/* Append at most max bytes of s for one summary line, on a UTF-8
   boundary, control characters as blanks. */
static void
sb_line(struct sbuf *b, const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20)
			sb_addn(b, " ", 1);
		else
			sb_addn(b, s + i, 1);
	}
	if (n < strlen(s))
		sb_addn(b, "...", 3);
}

/* Reset b for reuse. */
static void
sb_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* --- statements ----------------------------------------------------- */

/* Bind text or NULL (the value outlives the step). */
static void
bt(sqlite3_stmt *s, int i, const char *v, int len)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, len, SQLITE_STATIC);
}

/* Step s to completion and reset it; *changes (may be NULL) gets the
   rows written. */
static int
run(struct lt_alert *a, sqlite3_stmt *s, int *changes, struct lt_err *err)
{
	return lt_store_run(a->st, s, changes, "alert", err);
}

/* The bit of a kind. */
static unsigned
kind_bit(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kind_bits) / sizeof(kind_bits[0]); i++)
		if (strcmp(kind, kind_bits[i]) == 0)
			return 1U << i;
	return KIND_OTHER;
}

/* Whether a cache read at `at` is still true. */
static int
cache_valid(const struct lt_alert *a, const struct cache_at *at)
{
	return at->rb_gen == a->st->rb_gen &&
	    a->st->txn_gen - at->txn_gen < 2 * CACHE_TXNS;
}

/* Note that a cache is read now. */
static void
cache_now(const struct lt_alert *a, struct cache_at *at)
{
	at->rb_gen = a->st->rb_gen;
	at->txn_gen = a->st->txn_gen;
}

/* Whether an alert of kind may be active (1), or not (0); -1 on error.
   Outside a write transaction nothing is cached: always 1. */
static int
may_be_active(struct lt_alert *a, const char *kind, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_ACTIVE_KINDS];
	const unsigned char *k;
	int rc;

	if (sqlite3_get_autocommit(a->st->db))
		return 1;
	if (!a->active_known || !cache_valid(a, &a->active_at)) {
		a->active = 0;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			if ((k = sqlite3_column_text(s, 0)) != NULL)
				a->active |= kind_bit((const char *)k);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			a->active_known = 0;
			lt_store_err(a->st, err, "alert kinds");
			return -1;
		}
		cache_now(a, &a->active_at);
		a->active_known = 1;
	}
	return (a->active & kind_bit(kind)) != 0;
}

/* --- active provider alerts ----------------------------------------- */

/* Forget the provider alerts. */
static void
pa_clear(struct lt_alert *a)
{
	size_t i;

	for (i = 0; i < a->npa; i++)
		free(a->pa[i].lat);
	a->npa = 0;
	a->pa_known = 0;
}

/* Order (lat, host) against p, as memcmp() and then length. */
static int
pa_cmp(const char *lat, size_t latlen, const char *host, size_t hostlen,
    const struct palert *p)
{
	int c;

	c = memcmp(lat, p->lat, latlen < p->latlen ? latlen : p->latlen);
	if (c != 0 || latlen != p->latlen)
		return c != 0 ? c : latlen < p->latlen ? -1 : 1;
	c = memcmp(host, p->host, hostlen < p->hostlen ? hostlen : p->hostlen);
	if (c != 0 || hostlen != p->hostlen)
		return c != 0 ? c : hostlen < p->hostlen ? -1 : 1;
	return 0;
}

/* The index of the first provider alert not before (lat, host). */
static size_t
pa_lower(const struct lt_alert *a, const char *lat, size_t latlen,
    const char *host, size_t hostlen)
{
	size_t lo = 0, hi = a->npa, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pa_cmp(lat, latlen, host, hostlen, &a->pa[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add a provider alert (prov may be NULL); -1 when out of memory. */
static int
pa_add(struct lt_alert *a, const char *lat, size_t latlen, const char *host,
    const char *prov, int present)
{
	size_t hostlen = strlen(host), provlen = prov ? strlen(prov) : 0;
	size_t i, cap;
	struct palert *p, x;

	if (a->npa == a->pacap) {
		cap = a->pacap ? a->pacap * 2 : 16;
		if ((p = reallocarray(a->pa, cap, sizeof(*p))) == NULL)
			return -1;
		a->pa = p;
		a->pacap = cap;
	}
	if ((x.lat = malloc(latlen + hostlen + provlen + 3)) == NULL)
		return -1;
	memcpy(x.lat, lat, latlen);
	x.lat[latlen] = '\0';
	x.latlen = latlen;
	memcpy(x.lat + latlen + 1, host, hostlen + 1);
	x.host = x.lat + latlen + 1;
	x.hostlen = hostlen;
	x.prov = NULL;
	x.present = prov != NULL && present;
	if (prov != NULL) {
		memcpy(x.lat + latlen + hostlen + 2, prov, provlen + 1);
		x.prov = x.lat + latlen + hostlen + 2;
	}
	i = pa_lower(a, lat, latlen, host, hostlen);
	memmove(&a->pa[i + 1], &a->pa[i], (a->npa - i) * sizeof(*a->pa));
	a->pa[i] = x;
	a->npa++;
	return 0;
}

/* The event's lattice length. */
static size_t
ev_latlen(const struct lt_alert_event *e)
{
	return e->latlen < 0 ? strlen(e->lattice) : (size_t)e->latlen;
}

/* Add the provider alerts statement s finds; s is reset. */
static int
pa_read(struct lt_alert *a, sqlite3_stmt *s, struct lt_err *err)
{
	const char *lat, *host, *prov;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		lat = (const char *)sqlite3_column_text(s, 0);
		host = (const char *)sqlite3_column_text(s, 1);
		prov = (const char *)sqlite3_column_text(s, 2);
		if (lat == NULL || host == NULL)
			continue;
		if (pa_add(a, lat, (size_t)sqlite3_column_bytes(s, 0), host,
		    prov, sqlite3_column_int(s, 3)) != 0) {
			sqlite3_reset(s);
			pa_clear(a);
			return lt_err_set(err, LT_ENOMEM, "", "alert: out of "
			    "memory");
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		pa_clear(a);
		return lt_store_err(a->st, err, "alert providers");
	}
	return LT_OK;
}

/* Read the active provider alerts, unless known (cache_valid()). */
static int
pa_load(struct lt_alert *a, struct lt_err *err)
{
	if (a->pa_known && cache_valid(a, &a->pa_at))
		return LT_OK;
	pa_clear(a);
	if (pa_read(a, a->stmt[AS_PROV_ALERTS], err) != LT_OK)
		return err != NULL ? err->code : LT_ESTORE;
	cache_now(a, &a->pa_at);
	a->pa_known = 1;
	return LT_OK;
}

/* Read e's host's provider alerts again, from index first on. */
static int
pa_reload_host(struct lt_alert *a, const struct lt_alert_event *e,
    size_t first, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_PROV_ALERTS_HOST];
	size_t latlen = ev_latlen(e), hostlen = strlen(e->ev->host_id), i;

	for (i = first; i < a->npa && pa_cmp(e->lattice, latlen,
	    e->ev->host_id, hostlen, &a->pa[i]) == 0; i++)
		free(a->pa[i].lat);
	memmove(&a->pa[first], &a->pa[i], (a->npa - i) * sizeof(*a->pa));
	a->npa -= i - first;
	bt(s, 1, e->lattice, e->latlen);
	bt(s, 2, e->ev->host_id, -1);
	return pa_read(a, s, err);
}

/* Note a provider_unhealthy alert fired (1) or resolved (0) in this
   transaction. */
static void
pa_note(struct lt_alert *a, const struct lt_alert_event *e, const char *prov,
    int fired)
{
	size_t latlen = ev_latlen(e), hostlen, i;
	const char *host = e->ev->host_id;

	if (!a->pa_known || !cache_valid(a, &a->pa_at))
		return;
	if (fired) {
		/* The provider need not be on the host: the next event of
		   the host resolves the alert if not. */
		if (pa_add(a, e->lattice, latlen, host, prov, 0) != 0)
			pa_clear(a);	/* reread when next needed */
		return;
	}
	hostlen = strlen(host);
	for (i = pa_lower(a, e->lattice, latlen, host, hostlen); i < a->npa &&
	    pa_cmp(e->lattice, latlen, host, hostlen, &a->pa[i]) == 0; i++) {
		if (a->pa[i].prov == NULL || strcmp(a->pa[i].prov, prov) != 0)
			continue;
		free(a->pa[i].lat);
		memmove(&a->pa[i], &a->pa[i + 1],
		    (a->npa - i - 1) * sizeof(*a->pa));
		a->npa--;
		return;
	}
}

/* Note that the provider of each alert of e's host, from index i on, is
   on the host. */
static void
pa_present(struct lt_alert *a, const struct lt_alert_event *e, size_t i)
{
	size_t latlen = ev_latlen(e), hostlen = strlen(e->ev->host_id);

	for (; i < a->npa && pa_cmp(e->lattice, latlen, e->ev->host_id,
	    hostlen, &a->pa[i]) == 0; i++)
		a->pa[i].present = a->pa[i].prov != NULL;
}

/* Whether heartbeat ev lists provider id. */
static int
lists_provider(const struct lt_ce *ev, const char *id)
{
	size_t i;

	for (i = 0; i < ev->nproviders; i++)
		if (ev->providers[i].id != NULL &&
		    strcmp(ev->providers[i].id, id) == 0)
			return 1;
	return 0;
}

/*
 * Whether AS_RESOLVE_PROV_GONE may resolve something after e (1), or
 * certainly not (0); -1 on error.  *first gets the host's first provider
 * alert.  Not unless the event's host has an active provider_unhealthy
 * alert.  A heartbeat whose inventory the fold found unchanged
 * (inventory_deferred: the same bytes as applied last) or that has none
 * removes no provider: only an alert whose provider was missing already
 * can resolve.  A heartbeat with a new inventory leaves the host exactly
 * the providers it lists (fold.h: a heartbeat is authoritative): when it
 * lists every alert's provider, none is gone.  Other host events may
 * remove any.
 */
static int
prov_gone_possible(struct lt_alert *a, const struct lt_alert_event *e,
    size_t *first, struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;
	size_t latlen, hostlen, i;
	int r, same;

	if ((r = may_be_active(a, "provider_unhealthy", err)) <= 0)
		return r;
	if (sqlite3_get_autocommit(a->st->db))
		return 1;
	if (pa_load(a, err) != LT_OK)
		return -1;
	latlen = ev_latlen(e);
	hostlen = strlen(ev->host_id);
	*first = i = pa_lower(a, e->lattice, latlen, ev->host_id, hostlen);
	if (i == a->npa ||
	    pa_cmp(e->lattice, latlen, ev->host_id, hostlen, &a->pa[i]) != 0)
		return 0;
	if (ev->kind != LT_K_HOST_HEARTBEAT)
		return 1;
	same = !ev->has_inventory || ev->inventory_deferred;
	for (; i < a->npa && pa_cmp(e->lattice, latlen, ev->host_id, hostlen,
	    &a->pa[i]) == 0; i++) {
		if (a->pa[i].prov == NULL)
			return 1;
		if (same ? !a->pa[i].present :
		    !lists_provider(ev, a->pa[i].prov))
			return 1;
	}
	if (!same)
		pa_present(a, e, *first);
	return 0;
}

/* Fire one alert unless the same one is active; *fired gets 1 if new. */
static int
fire(struct lt_alert *a, const struct fire *x, int *fired,
    struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_FIRE];
	int n = 0;

	bt(s, 1, x->lattice, x->latlen);
	bt(s, 2, x->kind, -1);
	bt(s, 3, x->severity, -1);
	bt(s, 4, x->entity, -1);
	bt(s, 5, x->host_id, -1);
	bt(s, 6, x->summary, -1);
	bt(s, 7, x->details != NULL ? x->details : "{}", -1);
	sqlite3_bind_int64(s, 8, x->now_ms);
	if (run(a, s, &n, err) != LT_OK)
		return LT_ESTORE;
	a->active |= kind_bit(x->kind);
	if (fired != NULL)
		*fired = n;
	return LT_OK;
}

/* Resolve the active (lattice, kind, entity) alert, if any; *n (may be
   NULL) gets 1 if there was one. */
static int
resolve_n(struct lt_alert *a, const struct lt_alert_event *e,
    const char *kind, const char *entity, int *n, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_RESOLVE];
	int r;

	if (n != NULL)
		*n = 0;
	if ((r = may_be_active(a, kind, err)) <= 0)
		return r < 0 ? LT_ESTORE : LT_OK;
	bt(s, 1, e->lattice, e->latlen);
	bt(s, 2, kind, -1);
	bt(s, 3, entity, -1);
	sqlite3_bind_int64(s, 4, e->now_ms);
	return run(a, s, n, err);
}

/* Resolve the active (lattice, kind, entity) alert, if any. */
static int
resolve(struct lt_alert *a, const struct lt_alert_event *e,
    const char *kind, const char *entity, struct lt_err *err)
{
	return resolve_n(a, e, kind, entity, NULL, err);
}

/* Resolve the lattice's lattice_silent once none of its hosts is stale. */
static int
resolve_silent(struct lt_alert *a, const struct lt_alert_event *e,
    struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_RESOLVE_SILENT];
	int r;

	if ((r = may_be_active(a, "lattice_silent", err)) <= 0)
		return r < 0 ? LT_ESTORE : LT_OK;
	bt(s, 1, e->lattice, e->latlen);
	sqlite3_bind_int64(s, 2, e->now_ms);
	return run(a, s, NULL, err);
}

/* Resolve provider_unhealthy alerts of providers gone from the host. */
static int
resolve_prov_gone(struct lt_alert *a, const struct lt_alert_event *e,
    struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_RESOLVE_PROV_GONE];
	size_t first = 0;
	int r, n = 0;

	if ((r = prov_gone_possible(a, e, &first, err)) <= 0)
		return r < 0 ? (err != NULL ? err->code : LT_ESTORE) : LT_OK;
	bt(s, 1, e->lattice, e->latlen);
	bt(s, 2, e->ev->host_id, -1);
	sqlite3_bind_int64(s, 3, e->now_ms);
	if (run(a, s, &n, err) != LT_OK)
		return LT_ESTORE;
	if (!a->pa_known || !cache_valid(a, &a->pa_at))
		return LT_OK;
	first = pa_lower(a, e->lattice, ev_latlen(e), e->ev->host_id,
	    strlen(e->ev->host_id));
	if (n > 0)	/* which ones is not known: read the host's again */
		return pa_reload_host(a, e, first, err);
	pa_present(a, e, first);	/* else it would have resolved */
	return LT_OK;
}

/* Append "host ID" or "host ID (friendly name)" for the event's host. */
static int
host_words(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *b, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_HOST_INFO];
	const unsigned char *name;
	int rc;

	sb_printf(b, "host %s", e->ev->host_id);
	if (e->host_known) {
		if (e->host_name != NULL && e->host_name[0] != '\0') {
			sb_addn(b, " (", 2);
			sb_line(b, e->host_name, 128);
			sb_addn(b, ")", 1);
		}
		return LT_OK;
	}
	bt(s, 1, e->lattice, e->latlen);
	bt(s, 2, e->ev->host_id, -1);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (name = sqlite3_column_text(s, 0)) != NULL &&
	    name[0] != '\0') {
		sb_addn(b, " (", 2);
		sb_line(b, (const char *)name, 128);
		sb_addn(b, ")", 1);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return lt_store_err(a->st, err, "alert host");
	return LT_OK;
}

/* --- the fold's rules ----------------------------------------------- */

/* The host rules: stop, recovery, restart. */
static int
on_host(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;
	struct fire x;

	if (e->host_was == LT_AH_STALE && e->host_is != LT_AH_STALE) {
		/* Back up (the host_recovered resolution) or stopped. */
		if (resolve(a, e, "host_stale", ev->host_id, err) != LT_OK ||
		    resolve_silent(a, e, err) != LT_OK)
			return LT_ESTORE;
	}
	if (e->host_was == LT_AH_STOPPED && e->host_is == LT_AH_UP &&
	    resolve(a, e, "host_stopped", ev->host_id, err) != LT_OK)
		return LT_ESTORE;
	if (e->host_is == LT_AH_STOPPED && e->host_was != LT_AH_STOPPED) {
		if (host_words(a, e, sum, err) != LT_OK)
			return LT_ESTORE;
		sb_addn(sum, " stopped: ", 10);
		sb_line(sum, ev->reason != NULL && ev->reason[0] != '\0' ?
		    ev->reason : "no reason given", SUMMARY_ERROR_MAX);
		sb_addn(det, "{", 1);
		sb_kv(det, "reason", ev->reason);
		sb_addn(det, "}", 1);
		memset(&x, 0, sizeof(x));
		x.lattice = e->lattice;
		x.latlen = e->latlen;
		x.kind = "host_stopped";
		x.severity = "warning";
		x.entity = x.host_id = ev->host_id;
		x.summary = sum->p;
		x.details = det->p;
		x.now_ms = e->now_ms;
		if (sum->oom || det->oom)
			return lt_err_set(err, LT_ENOMEM, "", "alert: out of "
			    "memory");
		if (fire(a, &x, NULL, err) != LT_OK)
			return LT_ESTORE;
	}
	return LT_OK;
}

/* Build "<a>/<b>" into b. */
static void
pair(struct sbuf *b, const char *x, const char *y)
{
	sb_printf(b, "%s/%s", x != NULL ? x : "", y != NULL ? y : "");
}

/* The entity of a link: "source/name/namespace:package". */
static void
link_entity(struct sbuf *b, const struct lt_ce *ev)
{
	const struct lt_ce_link *l = &ev->link;

	sb_printf(b, "%s/%s/%s:%s", l->source_id != NULL ? l->source_id : "",
	    l->name != NULL ? l->name : "default",
	    l->wit_namespace != NULL ? l->wit_namespace : "",
	    l->wit_package != NULL ? l->wit_package : "");
}

/* The id a failure names: the component's or provider's id, or for old
   hosts that send only a reference, the image reference. */
#define ID(c)	((c)->id != NULL ? (c)->id : (c)->image_ref)

/* Resolve kind for entities host/id and host/image_ref (a failure of an
   old host may have named the image only). */
static int
resolve_both(struct lt_alert *a, const struct lt_alert_event *e,
    const char *kind, const char *id, const char *image_ref,
    struct sbuf *ent, struct lt_err *err)
{
	if (id != NULL) {
		sb_reset(ent);
		pair(ent, e->ev->host_id, id);
		if (ent->oom || resolve(a, e, kind, ent->p, err) != LT_OK)
			return LT_ESTORE;
	}
	if (image_ref != NULL) {
		sb_reset(ent);
		pair(ent, e->ev->host_id, image_ref);
		if (ent->oom || resolve(a, e, kind, ent->p, err) != LT_OK)
			return LT_ESTORE;
	}
	return LT_OK;
}

/* A *_failed event: fire its warning. */
static int
on_failure(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent,
    struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;
	const char *error = ev->error != NULL && ev->error[0] != '\0' ?
	    ev->error : "no error given";
	const char *id;
	struct fire x;

	memset(&x, 0, sizeof(x));
	sb_addn(det, "{", 1);
	switch (ev->failure) {
	case LT_FAIL_COMPONENT_SCALE:
		if (ev->host_id == NULL || (id = ID(&ev->component)) == NULL)
			return LT_OK;
		x.kind = "component_scale_failed";
		pair(ent, ev->host_id, id);
		sb_printf(sum, "component %s failed to scale on host %s: ",
		    id, ev->host_id);
		sb_kv(det, "component_id", ev->component.id);
		sb_kv(det, "image_ref", ev->component.image_ref);
		break;
	case LT_FAIL_PROVIDER_START:
		if (ev->host_id == NULL || (id = ID(&ev->provider)) == NULL)
			return LT_OK;
		x.kind = "provider_start_failed";
		pair(ent, ev->host_id, id);
		sb_printf(sum, "provider %s failed to start on host %s: ",
		    id, ev->host_id);
		sb_kv(det, "provider_id", ev->provider.id);
		sb_kv(det, "image_ref", ev->provider.image_ref);
		break;
	case LT_FAIL_LINK_SET:
		if (ev->link.source_id == NULL)
			return LT_OK;
		x.kind = "linkdef_set_failed";
		link_entity(ent, ev);
		sb_printf(sum, "link %s could not be set: ", ent->p);
		sb_kv(det, "source_id", ev->link.source_id);
		sb_kv(det, "target", ev->link.target);
		sb_kv(det, "name", ev->link.name != NULL ? ev->link.name :
		    "default");
		sb_kv(det, "wit_namespace", ev->link.wit_namespace);
		sb_kv(det, "wit_package", ev->link.wit_package);
		break;
	default:
		return LT_OK;	/* invocation_failed: history only */
	}
	sb_line(sum, error, SUMMARY_ERROR_MAX);
	sb_kv(det, "error", ev->error);
	sb_addn(det, "}", 1);
	if (sum->oom || det->oom || ent->oom)
		return lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
	x.lattice = e->lattice;
	x.latlen = e->latlen;
	x.severity = "warning";
	x.entity = ent->p;
	x.host_id = ev->host_id;
	x.summary = sum->p;
	x.details = det->p;
	x.now_ms = e->now_ms;
	return fire(a, &x, NULL, err);
}

/* A health event: failing fires provider_unhealthy, passing resolves. */
static int
on_health(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent,
    struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;
	struct fire x;
	int n;

	if (ev->provider.id == NULL || ev->host_id == NULL)
		return LT_OK;
	pair(ent, ev->host_id, ev->provider.id);
	if (ent->oom)
		return lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
	if (ev->health == LT_HEALTH_PASSING) {
		if (resolve_n(a, e, "provider_unhealthy", ent->p, &n, err) !=
		    LT_OK)
			return LT_ESTORE;
		if (n > 0)
			pa_note(a, e, ev->provider.id, 0);
		return LT_OK;
	}
	if (ev->health != LT_HEALTH_FAILING)
		return LT_OK;
	sb_printf(sum, "provider %s failed its health check on ",
	    ev->provider.id);
	if (host_words(a, e, sum, err) != LT_OK)
		return LT_ESTORE;
	sb_addn(det, "{", 1);
	sb_kv(det, "provider_id", ev->provider.id);
	sb_addn(det, "}", 1);
	if (sum->oom || det->oom)
		return lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
	memset(&x, 0, sizeof(x));
	x.lattice = e->lattice;
	x.latlen = e->latlen;
	x.kind = "provider_unhealthy";
	x.severity = "warning";
	x.entity = ent->p;
	x.host_id = ev->host_id;
	x.summary = sum->p;
	x.details = det->p;
	x.now_ms = e->now_ms;
	if (fire(a, &x, &n, err) != LT_OK)
		return LT_ESTORE;
	if (n > 0)
		pa_note(a, e, ev->provider.id, 1);
	return LT_OK;
}

/*
 * The alert rules, one per event kind (kinds.h's alert column): what an
 * applied event fires and resolves.  sum, det and ent are scratch buffers
 * for the summary, details and entity; lt_alert_on_event() frees them.
 */
typedef int (*alert_rule)(struct lt_alert *, const struct lt_alert_event *,
    struct sbuf *, struct sbuf *, struct sbuf *, struct lt_err *);

/* Nothing to fire or resolve. */
static int
alert_none(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	(void)a;
	(void)e;
	(void)sum;
	(void)det;
	(void)ent;
	(void)err;
	return LT_OK;
}

/* A host started, beat or stopped: its alerts; providers may be gone
   (stop, restart, new inventory). */
static int
alert_host(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	int rc;

	(void)ent;
	if (e->ev->host_id == NULL)
		return LT_OK;
	if ((rc = on_host(a, e, sum, det, err)) != LT_OK)
		return rc;
	return resolve_prov_gone(a, e, err);
}

/* A wasmCloud 2 host beat: recovery (v2 hosts run no providers we know
   of and never stop: they go silent). */
static int
alert_v2_host(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	(void)ent;
	if (e->ev->host_id == NULL)
		return LT_OK;
	return on_host(a, e, sum, det, err);
}

/* A provider stopped: its alerts are resolved. */
static int
alert_provider_stopped(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	(void)sum;
	(void)det;
	(void)ent;
	return e->ev->host_id != NULL ? resolve_prov_gone(a, e, err) : LT_OK;
}

/* A provider's health changed. */
static int
alert_health(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	return on_health(a, e, sum, det, ent, err);
}

/* A component scaled: a failed scale of it is resolved. */
static int
alert_component(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;

	(void)sum;
	(void)det;
	if (ev->host_id == NULL)
		return LT_OK;
	return resolve_both(a, e, "component_scale_failed", ev->component.id,
	    ev->component.image_ref, ent, err);
}

/* A provider started: a failed start of it is resolved. */
static int
alert_provider_started(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	const struct lt_ce *ev = e->ev;

	(void)sum;
	(void)det;
	if (ev->host_id == NULL)
		return LT_OK;
	return resolve_both(a, e, "provider_start_failed", ev->provider.id,
	    ev->provider.image_ref, ent, err);
}

/* A link was set: a failed set of it is resolved. */
static int
alert_link_set(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	(void)sum;
	(void)det;
	if (e->ev->link.source_id == NULL)
		return LT_OK;
	link_entity(ent, e->ev);
	if (ent->oom)
		return LT_OK;	/* reported by the caller */
	return resolve(a, e, "linkdef_set_failed", ent->p, err);
}

/* A recorded event: a failure (*_failed, invocation_failed) fires. */
static int
alert_recorded(struct lt_alert *a, const struct lt_alert_event *e,
    struct sbuf *sum, struct sbuf *det, struct sbuf *ent, struct lt_err *err)
{
	if (e->ev->failure == LT_FAIL_NONE)
		return LT_OK;
	return on_failure(a, e, sum, det, ent, err);
}

#define ALERT_RULE(id, name, fold, alert, fixture)	[LT_K_##id] = alert,
static const alert_rule alert_rules[LT_K_COUNT] = { LT_KINDS(ALERT_RULE) };
#undef ALERT_RULE

/* Fire and resolve what an applied event implies. */
int
lt_alert_on_event(struct lt_alert *a, const struct lt_alert_event *e,
    struct lt_err *err)
{
	struct sbuf sum = { 0 }, det = { 0 }, ent = { 0 };
	int rc = LT_OK;

	if (e->ev->kind >= 0 && e->ev->kind < LT_K_COUNT)
		rc = alert_rules[e->ev->kind](a, e, &sum, &det, &ent, err);
	if (rc == LT_OK && (ent.oom || sum.oom || det.oom))
		rc = lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
	free(sum.p);
	free(det.p);
	free(ent.p);
	return rc;
}

/* --- the sweep ------------------------------------------------------ */

/* What one lt_alert_on_sweep() goes by and counts. */
struct sweep {
	int64_t			 now_ms;
	int64_t			 since_ms;	/* mass silence window start */
	int64_t			 budget;	/* sweep alerts left to fire */
	int64_t			 suppressed;	/* hosts over the budget */
	int64_t			 lattices;	/* with hosts gone silent */
	int64_t			 due_ms;	/* opts.due_ms */
	struct lt_alert_sweep	*res;
};

/* Fire host_stale for each host of lattice this sweep marked while
   the budget lasts, or with mass set one lattice_silent naming (the first
   LT_ALERT_SILENT_NAMES of) the hosts gone silent in the window. */
static int
sweep_lattice(struct lt_alert *a, struct sweep *w, const char *lattice,
    int mass, int64_t nrecent, int64_t nup, int64_t ndue, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[mass ? AS_SWEEP_SILENT : AS_SWEEP_HOSTS];
	struct sbuf sum = { 0 }, det = { 0 };
	char tb[LT_TIME_BUFSZ];
	struct fire x;
	int rc, first = 1, fired, ret = LT_OK;

	memset(&x, 0, sizeof(x));
	x.lattice = lattice;
	x.latlen = -1;
	x.severity = "critical";
	x.now_ms = w->now_ms;
	if (mass)
		sb_addn(&det, "{\"host_ids\":[", 13);
	bt(s, 1, lattice, -1);
	if (mass) {
		sqlite3_bind_int64(s, 2, w->since_ms);
		sqlite3_bind_int64(s, 3, LT_ALERT_SILENT_NAMES);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *name = (const char *)sqlite3_column_text(s, 1);
		int has_hb = sqlite3_column_type(s, 2) != SQLITE_NULL;
		int64_t last = has_hb ? sqlite3_column_int64(s, 2) :
		    sqlite3_column_int64(s, 3);

		if (id == NULL)
			continue;
		if (mass) {
			if (!first)
				sb_addn(&det, ",", 1);
			sb_json(&det, id);
			first = 0;
			continue;
		}
		if (w->budget <= 0) {
			w->suppressed++;
			continue;
		}
		sb_reset(&sum);
		sb_reset(&det);
		sb_printf(&sum, "host %s", id);
		if (name != NULL && name[0] != '\0') {
			sb_addn(&sum, " (", 2);
			sb_line(&sum, name, 128);
			sb_addn(&sum, ")", 1);
		}
		sb_printf(&sum, " silent for %" PRId64 "s (%s %s)",
		    (w->now_ms - last) / 1000, has_hb ? "last heartbeat" :
		    "no heartbeat since first seen", lt_time_format(last, tb));
		sb_printf(&det, "{\"%s\":%" PRId64 ",\"silent_ms\":%" PRId64
		    "}", has_hb ? "last_heartbeat_ms" : "first_seen_ms", last,
		    w->now_ms - last);
		if (sum.oom || det.oom) {
			ret = lt_err_set(err, LT_ENOMEM, "", "alert: out of "
			    "memory");
			goto out;
		}
		x.kind = "host_stale";
		x.entity = x.host_id = id;
		x.summary = sum.p;
		x.details = det.p;
		if ((ret = fire(a, &x, &fired, err)) != LT_OK)
			goto out;
		w->budget -= fired;
		if (w->res != NULL)
			w->res->host_stale += fired;
	}
	if (rc != SQLITE_DONE) {
		ret = lt_store_err(a->st, err, "alert sweep hosts");
		goto out;
	}
	if (mass) {
		sb_printf(&det, "],\"hosts\":%" PRId64 ",\"up_before\":%"
		    PRId64 ",\"since_ms\":%" PRId64, nrecent, nrecent + nup,
		    w->since_ms);
		sb_printf(&sum, "lattice %s: %" PRId64 " of %" PRId64
		    " hosts went silent at once", lattice, nrecent,
		    nrecent + nup);
		if (ndue > 0) {
			sb_printf(&det, ",\"due\":%" PRId64 ",\"due_ms\":%"
			    PRId64, ndue, w->due_ms);
			sb_printf(&sum, ", %" PRId64 " more due by the next "
			    "sweep", ndue);
		}
		sb_addn(&det, "}", 1);
		sb_printf(&sum, " (NATS or network trouble?)");
		if (sum.oom || det.oom) {
			ret = lt_err_set(err, LT_ENOMEM, "", "alert: out of "
			    "memory");
			goto out;
		}
		x.kind = "lattice_silent";
		x.entity = lattice;
		x.host_id = NULL;
		x.summary = sum.p;
		x.details = det.p;
		sqlite3_reset(s);
		if ((ret = fire(a, &x, &fired, err)) != LT_OK)
			goto out;
		w->budget -= fired;
		if (w->res != NULL)
			w->res->lattice_silent += fired;
	}
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	free(sum.p);
	free(det.p);
	return ret;
}

/* One pass over the lattices with hosts gone silent at now_ms: the mass
   ones (pass 1) or the others (pass 2). */
static int
sweep_pass(struct lt_alert *a, struct sweep *w, int pass,
    const struct lt_alert_sweep_opts *o, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_SWEEP_LATTICES];
	int rc, ret = LT_OK;

	sqlite3_bind_int64(s, 1, w->now_ms);
	sqlite3_bind_int64(s, 2, w->since_ms);
	sqlite3_bind_int64(s, 3, w->due_ms);	/* <= now: none due */
	sqlite3_bind_int64(s, 4, o->window_start_ms);
	sqlite3_bind_int64(s, 5, o->default_interval_ms);
	sqlite3_bind_int64(s, 6, o->threshold_ms);
	sqlite3_bind_int64(s, 7, o->grace_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *lat = (const char *)sqlite3_column_text(s, 0);
		int64_t nnew = sqlite3_column_int64(s, 1);
		int64_t nrecent = sqlite3_column_int64(s, 2);
		int64_t nup = sqlite3_column_int64(s, 3);
		int64_t ndue = sqlite3_column_int64(s, 4);
		int mass;

		if (lat == NULL)
			continue;
		/* Of the hosts that were up before the window; those due by
		   the next sweep count as silent, so a flood whose deadlines
		   straddle this sweep is judged whole. */
		mass = o->min_hosts > 0 && nrecent + ndue >= o->min_hosts &&
		    (double)(nrecent + ndue) >=
		    o->fraction * (double)(nrecent + nup);
		if (pass == 1)
			w->lattices++;
		if (mass != (pass == 1))
			continue;
		if (mass && w->budget <= 0) {
			w->suppressed += nnew;
			continue;
		}
		if ((ret = sweep_lattice(a, w, lat, mass, nrecent, nup,
		    ndue, err)) != LT_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = lt_store_err(a->st, err, "alert sweep");
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

/* Fire the one fleet_silent for the hosts over the storm budget. */
static int
fire_fleet(struct lt_alert *a, struct sweep *w,
    const struct lt_alert_sweep_opts *o, struct lt_err *err)
{
	struct sbuf sum = { 0 }, det = { 0 };
	struct fire x;
	int fired = 0, ret;

	sb_printf(&sum, "fleet: %" PRId64 " hosts in %" PRId64 " lattice(s) "
	    "went silent past the alert storm threshold (%d alerts in %"
	    PRId64 "s); no more host_stale or lattice_silent alerts until "
	    "it passes (NATS or network trouble?)", w->suppressed,
	    w->lattices, o->storm_threshold, o->window_ms / 1000);
	sb_printf(&det, "{\"hosts_suppressed\":%" PRId64 ",\"lattices\":%"
	    PRId64 ",\"storm_threshold\":%d,\"window_ms\":%" PRId64 "}",
	    w->suppressed, w->lattices, o->storm_threshold, o->window_ms);
	if (sum.oom || det.oom) {
		ret = lt_err_set(err, LT_ENOMEM, "", "alert: out of memory");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.lattice = "*";
	x.latlen = -1;
	x.kind = "fleet_silent";
	x.severity = "critical";
	x.entity = "*";
	x.summary = sum.p;
	x.details = det.p;
	x.now_ms = w->now_ms;
	if ((ret = fire(a, &x, &fired, err)) == LT_OK && w->res != NULL)
		w->res->fleet_silent += fired;
out:
	free(sum.p);
	free(det.p);
	return ret;
}

/* Fill o with the documented defaults. */
void
lt_alert_sweep_opts_default(struct lt_alert_sweep_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_hosts = 3;
	o->fraction = 0.5;
	o->window_ms = 120000;
	o->storm_threshold = 50;
}

/* Fire the alerts of the hosts one sweep marked stale. */
int
lt_alert_on_sweep(struct lt_alert *a, int64_t now_ms,
    const struct lt_alert_sweep_opts *opts, struct lt_alert_sweep *res,
    struct lt_err *err)
{
	struct lt_alert_sweep_opts o = *opts;
	sqlite3_stmt *s = a->stmt[AS_STORM_COUNT];
	struct sweep w;
	int rc, ret;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (o.fraction < 0)
		o.fraction = 0;
	if (o.fraction > 1)
		o.fraction = 1;
	if (o.window_ms < 0)
		o.window_ms = 0;
	memset(&w, 0, sizeof(w));
	w.now_ms = now_ms;
	w.due_ms = o.due_ms;
	w.since_ms = now_ms - (o.window_ms > 0 ? o.window_ms - 1 : 0);
	w.res = res;
	w.budget = INT64_MAX;
	if (o.storm_threshold > 0) {
		/* what the window's earlier sweeps fired counts */
		sqlite3_bind_int64(s, 1, w.since_ms);
		sqlite3_bind_int64(s, 2, o.storm_threshold);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			w.budget = o.storm_threshold -
			    sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		if (rc != SQLITE_ROW)
			return lt_store_err(a->st, err, "alert storm count");
	}
	/* lattice_silent first: one alert says the most */
	if ((ret = sweep_pass(a, &w, 1, &o, err)) != LT_OK ||
	    (ret = sweep_pass(a, &w, 2, &o, err)) != LT_OK)
		return ret;
	if (w.suppressed > 0) {
		if (res != NULL)
			res->suppressed = (int)(w.suppressed > INT32_MAX ?
			    INT32_MAX : w.suppressed);
		if ((ret = fire_fleet(a, &w, &o, err)) != LT_OK)
			return ret;
	}
	return LT_OK;
}

/* Resolve fleet_silent once no host it covers is stale. */
int
lt_alert_sweep_resolve(struct lt_alert *a, int64_t now_ms, int *resolved,
    struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_RESOLVE_FLEET];
	int r, n = 0;

	if (resolved != NULL)
		*resolved = 0;
	if ((r = may_be_active(a, "fleet_silent", err)) <= 0)
		return r < 0 ? LT_ESTORE : LT_OK;
	sqlite3_bind_int64(s, 1, now_ms);
	if (run(a, s, &n, err) != LT_OK)
		return LT_ESTORE;
	if (resolved != NULL)
		*resolved = n;
	return LT_OK;
}

/* --- removed hosts -------------------------------------------------- */

/* Resolve the active alerts of a host that was removed. */
int
lt_alert_on_host_removed(struct lt_alert *a, const char *lattice,
    const char *host_id, int64_t now_ms, const char *reason, int *resolved,
    struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_GONE_HOST];
	int n = 0;

	bt(s, 1, lattice, -1);
	bt(s, 2, host_id, -1);
	sqlite3_bind_int64(s, 3, now_ms);
	bt(s, 4, reason, -1);
	if (run(a, s, &n, err) != LT_OK)
		return LT_ESTORE;
	if (resolved != NULL)
		*resolved += n;
	return LT_OK;
}

/* Resolve the lattice's lattice_silent once none of its hosts is stale. */
int
lt_alert_on_hosts_removed(struct lt_alert *a, const char *lattice,
    int64_t now_ms, const char *reason, int *resolved, struct lt_err *err)
{
	sqlite3_stmt *s = a->stmt[AS_GONE_SILENT];
	int n = 0;

	bt(s, 1, lattice, -1);
	sqlite3_bind_int64(s, 2, now_ms);
	bt(s, 3, reason, -1);
	if (run(a, s, &n, err) != LT_OK)
		return LT_ESTORE;
	if (resolved != NULL)
		*resolved += n;
	return LT_OK;
}
