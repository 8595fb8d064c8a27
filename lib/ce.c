/*
 * ce.c - decode one wasmCloud CloudEvent (structured JSON) into plain C.
 *
 * The raw bytes are scanned once before cJSON sees them (size, UTF-8,
 * nesting depth, NUL bytes, \u0000 and unpaired surrogate escapes), so
 * cJSON only ever parses text it accepts and that is safe to hand out as
 * C strings.  Every string the event exposes is copied into a per-event
 * arena: lt_ce_free() releases the whole event with one pass over a short
 * block list.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ce.h"
#include "json.h"
#include "err.h"
#include "timeutil.h"

#define TYPE_PREFIX	"com.wasmcloud.lattice."
#define TYPE_PREFIX_LEN	(sizeof(TYPE_PREFIX) - 1)
#define ARENA_MIN	1024
#define MAX_EXACT	9007199254740992.0	/* 2^53 */

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

struct blk {
	struct blk	*next;
	size_t		 cap;
	size_t		 used;
};

/*
 * Where a heartbeat's inventory lies in its raw data member: [INV_COMPS]
 * is "components" (or "actors" when actors is set), [INV_PROVS]
 * "providers"; offsets into lt_ce.data, len 0 when absent or null.
 */
enum { INV_COMPS, INV_PROVS, INV_N };

struct inv_spans {
	size_t		 off[INV_N];
	size_t		 len[INV_N];
	int		 actors;
};

/*
 * A deferred inventory decoded ahead of need (lt_ce_inventory_prepare()):
 * what lt_ce_inventory() left in the event and returned, with the limits
 * it ran under.  The items themselves are in the event's arena.
 */
struct prepared {
	struct lt_limits	 lim;
	int			 rc;
	struct lt_err		 err;
	int			 deferred;	/* inventory_deferred after */
	int			 comp_counts_only;
	struct lt_ce_component	*components;
	size_t			 ncomponents;
	struct lt_ce_provider	*providers;
	size_t			 nproviders;
	uint64_t		 inventory_hash;
};

/* The event and its arena: ev comes first so lt_ce_free() can cast. */
struct ce_box {
	struct lt_ce	 ev;
	struct blk	*blocks;
	struct blk	*inline_blk;
	struct inv_spans inv;		/* valid when ev.inventory_deferred */
	struct prepared	*prep;		/* lt_ce_inventory_prepare()'s result
					   (owned); NULL: none */
};

/* Decoder state for one lt_ce_parse() call. */
struct dec {
	struct ce_box		*box;
	struct lt_ce		*ev;
	const struct lt_limits	*lim;
	struct lt_err		*err;
	int			 defer;	/* heartbeat: leave the items */
};

static const char default_link[] = "default";

/* Fill lim with the documented defaults. */
void
lt_limits_default(struct lt_limits *lim)
{
	lim->max_payload = 16 * 1024 * 1024;
	lim->max_depth = 32;
	lim->max_string = 64 * 1024;
	lim->max_items = 100000;
	lim->max_pairs = 1024;
	lim->max_instances = UINT32_MAX;
	lim->max_uptime = 100LL * 366 * 24 * 3600;
}

/* Allocate n bytes (8-aligned) from the event's arena. */
static void *
arena_alloc(struct dec *D, size_t n)
{
	struct blk	*b = D->box->blocks;
	size_t		 off, cap;
	void		*p;

	off = (b->used + 7) & ~(size_t)7;
	if (off > b->cap || b->cap - off < n) {
		cap = b->cap * 2;
		if (cap < n)
			cap = n;
		if (cap < ARENA_MIN)
			cap = ARENA_MIN;
		if (cap > SIZE_MAX - sizeof(*b) - 8)
			return NULL;
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = D->box->blocks;
		D->box->blocks = b;
		off = 0;
	}
	p = (char *)(b + 1) + off;
	b->used = off + n;
	return p;
}

/* Copy s[0..n) into the arena as a C string. */
static const char *
arena_strndup(struct dec *D, const char *s, size_t n)
{
	char	*p;

	if ((p = arena_alloc(D, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Format a field name into buf; a long name is cut short on purpose. */
static void
fieldname(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

/* Record an error naming prefix.key (either may be NULL). */
static int
fail(struct dec *D, int code, const char *prefix, const char *key,
    const char *msg)
{
	char	field[64];

	if (prefix != NULL && key != NULL)
		fieldname(field, sizeof(field), "%s.%s", prefix, key);
	else
		fieldname(field, sizeof(field), "%s",
		    prefix != NULL ? prefix : key != NULL ? key : "");
	return lt_err_set(D->err, code, field, "%s", msg);
}

/* Report an allocation failure. */
static int
nomem(struct dec *D)
{
	return lt_err_set(D->err, LT_ENOMEM, "", "out of memory");
}

static const char *const inv_keys[] = { "components", "actors",
    "providers" };

/*
 * The inventory members of a heartbeat's data object (at buf[doff]) from
 * the scan's spans of its members inv_keys[], as cJSON lookups see them
 * (the scan matches escaped names decoded and refuses repeated ones;
 * components before actors; null counts as absent), as offsets into the
 * data member.  -1 when data is not an object.
 */
static int
inv_from_spans(const char *buf, size_t doff, const struct lt_json_span *sp,
    struct inv_spans *inv)
{
	int	has[3];
	size_t	k;

	memset(inv, 0, sizeof(*inv));
	if (buf[doff] != '{')
		return -1;
	for (k = 0; k < 3; k++)
		has[k] = sp[k].len > 0 && !(sp[k].len == 4 &&
		    memcmp(buf + sp[k].off, "null", 4) == 0);
	if (has[0] || has[1]) {
		k = has[0] ? 0 : 1;
		inv->off[INV_COMPS] = sp[k].off - doff;
		inv->len[INV_COMPS] = sp[k].len;
		inv->actors = k == 1;
	}
	if (has[2]) {
		inv->off[INV_PROVS] = sp[2].off - doff;
		inv->len[INV_PROVS] = sp[2].len;
	}
	return 0;
}

/* Mix one 64-bit word into h. */
static inline uint64_t
mix64(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* Hash the raw inventory bytes that inv points at in p. */
static uint64_t
raw_inventory_hash(const unsigned char *p, const struct inv_spans *inv)
{
	uint64_t	 h = FNV_OFFSET, w;
	size_t		 k, i, n;

	h = mix64(h, (uint64_t)inv->actors);
	for (k = 0; k < INV_N; k++) {
		const unsigned char *q = p + inv->off[k];

		n = inv->len[k];
		h = mix64(h, (uint64_t)n);
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&w, q + i, 8);
			h = mix64(h, w);
		}
		for (w = 0; i < n; i++)
			w = (w << 8) | q[i];
		h = mix64(h, w);
	}
	return h;
}

/* Return obj[key], or NULL when absent or JSON null. */
static const cJSON *
member(const cJSON *obj, const char *key)
{
	const cJSON	*it;

	if (obj == NULL)
		return NULL;
	it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (it == NULL || cJSON_IsNull(it))
		return NULL;
	return it;
}

/* Copy the string item it (named prefix.key) into *out. */
static int
take_str(struct dec *D, const cJSON *it, const char *prefix, const char *key,
    int required, const char **out)
{
	size_t	n;

	*out = NULL;
	if (it == NULL) {
		if (required)
			return fail(D, LT_EINVAL, prefix, key, "missing");
		return LT_OK;
	}
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return fail(D, LT_EINVAL, prefix, key, "not a string");
	n = strlen(it->valuestring);
	if (n > D->lim->max_string)
		return fail(D, LT_ELIMIT, prefix, key, "string too long");
	if (required && n == 0)
		return fail(D, LT_EINVAL, prefix, key, "empty");
	if ((*out = arena_strndup(D, it->valuestring, n)) == NULL)
		return nomem(D);
	return LT_OK;
}

/* Decode the optional (or required) string obj[key]. */
static int
get_str(struct dec *D, const cJSON *obj, const char *prefix, const char *key,
    int required, const char **out)
{
	return take_str(D, member(obj, key), prefix, key, required, out);
}

/* Decode an integer item in [lo, hi]; over hi is LT_ELIMIT. */
static int
take_int(struct dec *D, const cJSON *it, const char *prefix, const char *key,
    int64_t lo, int64_t hi, int64_t *out)
{
	double	v;

	if (!cJSON_IsNumber(it))
		return fail(D, LT_EINVAL, prefix, key, "not a number");
	v = it->valuedouble;
	if (v != v || v < -MAX_EXACT || v > MAX_EXACT) {
		if (v > 0)
			return fail(D, LT_ELIMIT, prefix, key, "too large");
		return fail(D, LT_EINVAL, prefix, key, "out of range");
	}
	if ((double)(int64_t)v != v)
		return fail(D, LT_EINVAL, prefix, key, "not an integer");
	if ((int64_t)v < lo)
		return fail(D, LT_EINVAL, prefix, key, "negative");
	if ((int64_t)v > hi)
		return fail(D, LT_ELIMIT, prefix, key, "too large");
	*out = (int64_t)v;
	return LT_OK;
}

/* Decode the optional integer obj[key]; *has says whether it was there. */
static int
get_int(struct dec *D, const cJSON *obj, const char *prefix, const char *key,
    int64_t lo, int64_t hi, int64_t *out, int *has)
{
	const cJSON	*it = member(obj, key);
	int		 rc;

	if (has != NULL)
		*has = 0;
	if (it == NULL)
		return LT_OK;
	if ((rc = take_int(D, it, prefix, key, lo, hi, out)) != LT_OK)
		return rc;
	if (has != NULL)
		*has = 1;
	return LT_OK;
}

/*
 * Decode obj[key], an object of strings, into compact JSON text.  Its keys
 * are unique: lt_json_scan() refuses repeated names.
 */
static int
get_strmap(struct dec *D, const cJSON *obj, const char *prefix,
    const char *key, int required, const char **out)
{
	const cJSON	*m = member(obj, key), *it;
	size_t		 n = 0, sz = 2, kl;
	char		*buf, *o;

	*out = NULL;
	if (m == NULL) {
		if (required)
			return fail(D, LT_EINVAL, prefix, key, "missing");
		return LT_OK;
	}
	if (!cJSON_IsObject(m))
		return fail(D, LT_EINVAL, prefix, key, "not an object");
	for (it = m->child; it != NULL; it = it->next) {
		if (++n > D->lim->max_pairs)
			return fail(D, LT_ELIMIT, prefix, key,
			    "too many entries");
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return fail(D, LT_EINVAL, prefix, key,
			    "value not a string");
		kl = strlen(it->string);
		if (kl > D->lim->max_string ||
		    strlen(it->valuestring) > D->lim->max_string)
			return fail(D, LT_ELIMIT, prefix, key,
			    "string too long");
		sz += lt_json_escaped_len(it->string) + lt_json_escaped_len(it->valuestring) + 6;
	}
	if ((buf = arena_alloc(D, sz + 1)) == NULL)
		return nomem(D);
	o = buf;
	*o++ = '{';
	for (it = m->child; it != NULL; it = it->next) {
		if (o != buf + 1)
			*o++ = ',';
		o = lt_json_put_escaped(o, it->string);
		*o++ = ':';
		o = lt_json_put_escaped(o, it->valuestring);
	}
	*o++ = '}';
	*o = '\0';
	*out = buf;
	return LT_OK;
}

/* Decode obj[key], an array of strings, into compact JSON text. */
static int
get_strarr(struct dec *D, const cJSON *obj, const char *prefix,
    const char *key, const char **out)
{
	const cJSON	*a = member(obj, key), *it;
	size_t		 n = 0, sz = 2;
	char		*buf, *o;

	*out = NULL;
	if (a == NULL)
		return LT_OK;
	if (!cJSON_IsArray(a))
		return fail(D, LT_EINVAL, prefix, key, "not an array");
	for (it = a->child; it != NULL; it = it->next) {
		if (++n > D->lim->max_items)
			return fail(D, LT_ELIMIT, prefix, key,
			    "too many entries");
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return fail(D, LT_EINVAL, prefix, key,
			    "entry not a string");
		if (strlen(it->valuestring) > D->lim->max_string)
			return fail(D, LT_ELIMIT, prefix, key,
			    "string too long");
		sz += lt_json_escaped_len(it->valuestring) + 3;
	}
	if ((buf = arena_alloc(D, sz + 1)) == NULL)
		return nomem(D);
	o = buf;
	*o++ = '[';
	for (it = a->child; it != NULL; it = it->next) {
		if (it != a->child)
			*o++ = ',';
		o = lt_json_put_escaped(o, it->valuestring);
	}
	*o++ = ']';
	*o = '\0';
	*out = buf;
	return LT_OK;
}

/* Decode a revision: an integer number or a string holding one. */
static int
take_revision(struct dec *D, const cJSON *it, const char *prefix,
    int64_t *rev, int *has)
{
	const char	*s;
	char		*end;
	long long	 v;
	int		 rc;

	*has = 0;
	if (it == NULL)
		return LT_OK;
	if (cJSON_IsString(it)) {
		s = it->valuestring;
		if (s == NULL || *s == '\0' || strlen(s) > 20)
			return fail(D, LT_EINVAL, prefix, "revision",
			    "not an integer");
		v = strtoll(s, &end, 10);
		if (*end != '\0' || (v < 0 && s[0] != '-'))
			return fail(D, LT_EINVAL, prefix, "revision",
			    "not an integer");
		*rev = v;
		*has = 1;
		return LT_OK;
	}
	rc = take_int(D, it, prefix, "revision", -(int64_t)MAX_EXACT,
	    (int64_t)MAX_EXACT, rev);
	if (rc == LT_OK)
		*has = 1;
	return rc;
}

/* Decode data.claims: the name and revision, the rest is ignored. */
static int
get_claims(struct dec *D, const cJSON *data, const char **name,
    int64_t *rev, int *has_rev)
{
	const cJSON	*c = member(data, "claims");
	int		 rc;

	if (c == NULL)
		return LT_OK;
	if (!cJSON_IsObject(c))
		return fail(D, LT_EINVAL, "data", "claims", "not an object");
	if ((rc = get_str(D, c, "data.claims", "name", 0, name)) != LT_OK)
		return rc;
	return take_revision(D, member(c, "revision"), "data.claims", rev,
	    has_rev);
}

/*
 * What component and provider events share: image_ref (or, when absent,
 * the older ref_key: actor_ref, provider_ref), annotations and the claims'
 * name and revision.
 */
static int
get_workload(struct dec *D, const cJSON *data, const char *ref_key,
    const char **image_ref, const char **annotations, const char **name,
    int64_t *revision, int *has_revision)
{
	int	rc;

	if ((rc = get_str(D, data, "data", "image_ref", 0, image_ref)) !=
	    LT_OK)
		return rc;
	if (*image_ref == NULL && (rc = get_str(D, data, "data", ref_key, 0,
	    image_ref)) != LT_OK)
		return rc;
	if ((rc = get_strmap(D, data, "data", "annotations", 0,
	    annotations)) != LT_OK)
		return rc;
	return get_claims(D, data, name, revision, has_revision);
}

/* Set ev->host_id from data.host_id, else the event source. */
static int
get_host(struct dec *D, const cJSON *data)
{
	int	rc;

	if ((rc = get_str(D, data, "data", "host_id", 0,
	    &D->ev->host_id)) != LT_OK)
		return rc;
	if (D->ev->host_id == NULL || D->ev->host_id[0] == '\0')
		D->ev->host_id = D->ev->source;
	return LT_OK;
}

/* Decode data.error of a failure event. */
static int
get_error(struct dec *D, const cJSON *data, enum lt_failure f)
{
	D->ev->kind = LT_K_RECORDED;
	D->ev->failure = f;
	return get_str(D, data, "data", "error", 0, &D->ev->error);
}

enum comp_mode {
	CM_SCALED,		/* component_scaled, actor_scaled */
	CM_SCALE_FAILED,	/* component_scale_failed, actor_scale_failed */
	CM_STARTED_N,		/* 0.82 actors_started */
	CM_STOPPED_N,		/* 0.82 actors_stopped */
	CM_START_FAILED,	/* actors_start_failed, actor_start_failed */
	CM_STARTED_1,		/* OTP actor_started */
	CM_STOPPED_1,		/* OTP actor_stopped */
};

/* Decode a component/actor event. */
static int
dec_component(struct dec *D, const cJSON *data, int mode)
{
	struct lt_ce		*ev = D->ev;
	struct lt_ce_component	*c = &ev->component;
	const cJSON		*it;
	int64_t			 lim = D->lim->max_instances, n = 0;
	int			 rc, failed, has = 0;

	failed = mode == CM_SCALE_FAILED || mode == CM_START_FAILED;
	ev->kind = LT_K_COMPONENT;
	if ((rc = get_host(D, data)) != LT_OK)
		return rc;

	/* The id: component_id (1.x), actor_id (1.0-alpha), public_key. */
	ev->comp_op = LT_COMP_SET;
	if (mode == CM_SCALED || mode == CM_SCALE_FAILED) {
		if ((it = member(data, "component_id")) != NULL)
			rc = take_str(D, it, "data", "component_id", 1, &c->id);
		else if ((it = member(data, "actor_id")) != NULL)
			rc = take_str(D, it, "data", "actor_id", 1, &c->id);
		else {
			ev->comp_op = LT_COMP_META;
			rc = get_str(D, data, "data",
			    member(data, "public_key") != NULL ? "public_key" :
			    "component_id", !failed, &c->id);
		}
	} else
		rc = get_str(D, data, "data", "public_key", !failed, &c->id);
	if (rc != LT_OK)
		return rc;

	if ((rc = get_workload(D, data, "actor_ref", &c->image_ref,
	    &c->annotations, &c->name, &c->revision, &c->has_revision)) !=
	    LT_OK)
		return rc;

	switch (mode) {
	case CM_SCALED:
	case CM_SCALE_FAILED:
		rc = get_int(D, data, "data", "max_instances", 0, lim, &n,
		    &has);
		if (rc == LT_OK && !has && mode == CM_SCALED &&
		    ev->comp_op == LT_COMP_SET)
			rc = fail(D, LT_EINVAL, "data", "max_instances",
			    "missing");
		break;
	case CM_STARTED_N:
		ev->comp_op = LT_COMP_ADD;
		rc = get_int(D, data, "data", "count", 0, lim, &n, &has);
		if (rc == LT_OK && !has)
			rc = fail(D, LT_EINVAL, "data", "count", "missing");
		break;
	case CM_STOPPED_N:
		if ((rc = get_int(D, data, "data", "count", 0, lim, &n,
		    NULL)) != LT_OK)
			break;
		rc = get_int(D, data, "data", "remaining", 0, lim, &n, &has);
		if (rc == LT_OK && !has)
			rc = fail(D, LT_EINVAL, "data", "remaining",
			    "missing");
		break;
	case CM_START_FAILED:
		rc = get_int(D, data, "data", "count", 0, lim, &n, NULL);
		break;
	case CM_STARTED_1:
		ev->comp_op = LT_COMP_ADD;
		n = 1;
		break;
	case CM_STOPPED_1:
		ev->comp_op = LT_COMP_ADD;
		n = -1;
		break;
	}
	if (rc != LT_OK)
		return rc;
	ev->comp_count = n;
	c->max_instances = n > 0 ? n : 0;
	if (failed)
		return get_error(D, data, LT_FAIL_COMPONENT_SCALE);
	return LT_OK;
}

enum prov_mode {
	PM_STARTED,
	PM_STOPPED,
	PM_START_FAILED,
	PM_HEALTH_PASS,
	PM_HEALTH_FAIL,
	PM_HEALTH_STATUS,
};

/* Decode a provider id, link name and contract from obj into p. */
static int
prov_ident(struct dec *D, const cJSON *obj, const char *prefix, int required,
    struct lt_ce_provider *p)
{
	int	rc;

	if (member(obj, "provider_id") != NULL)
		rc = get_str(D, obj, prefix, "provider_id", 1, &p->id);
	else if (member(obj, "id") != NULL)
		rc = get_str(D, obj, prefix, "id", 1, &p->id);
	else
		rc = get_str(D, obj, prefix, "public_key", required, &p->id);
	if (rc != LT_OK)
		return rc;
	if ((rc = get_str(D, obj, prefix, "link_name", 0, &p->link_name)) !=
	    LT_OK)
		return rc;
	if (p->link_name == NULL || p->link_name[0] == '\0')
		p->link_name = default_link;
	return get_str(D, obj, prefix, "contract_id", 0, &p->contract_id);
}

/* Decode a provider event. */
static int
dec_provider(struct dec *D, const cJSON *data, int mode)
{
	struct lt_ce		*ev = D->ev;
	struct lt_ce_provider	*p = &ev->provider;
	int			 rc;

	if ((rc = get_host(D, data)) != LT_OK)
		return rc;
	if ((rc = prov_ident(D, data, "data", mode != PM_START_FAILED, p)) !=
	    LT_OK)
		return rc;
	switch (mode) {
	case PM_HEALTH_PASS:
	case PM_HEALTH_FAIL:
	case PM_HEALTH_STATUS:
		ev->kind = LT_K_PROVIDER_HEALTH;
		ev->health = mode == PM_HEALTH_PASS ? LT_HEALTH_PASSING :
		    mode == PM_HEALTH_FAIL ? LT_HEALTH_FAILING :
		    LT_HEALTH_STATUS;
		return LT_OK;
	default:
		break;
	}
	if ((rc = get_workload(D, data, "provider_ref", &p->image_ref,
	    &p->annotations, &p->name, &p->revision, &p->has_revision)) !=
	    LT_OK)
		return rc;
	switch (mode) {
	case PM_STARTED:
		ev->kind = LT_K_PROVIDER_STARTED;
		return LT_OK;
	case PM_STOPPED:
		ev->kind = LT_K_PROVIDER_STOPPED;
		return get_str(D, data, "data", "reason", 0, &ev->reason);
	default:
		return get_error(D, data, LT_FAIL_PROVIDER_START);
	}
}

/* Decode a link definition (1.x or 0.82 shape). */
static int
dec_link(struct dec *D, const cJSON *data, int kind)
{
	struct lt_ce_link	*l = &D->ev->link;
	const char		*cid, *colon;
	int			 rc, req = kind != LT_K_RECORDED;

	D->ev->kind = kind;
	if (member(data, "source_id") == NULL &&
	    member(data, "actor_id") != NULL) {
		/* 0.82: {id, actor_id, provider_id, link_name, contract_id,
		   values}. */
		if ((rc = get_str(D, data, "data", "actor_id", 1,
		    &l->source_id)) != LT_OK ||
		    (rc = get_str(D, data, "data", "provider_id", 0,
		    &l->target)) != LT_OK ||
		    (rc = get_str(D, data, "data", "link_name", req,
		    &l->name)) != LT_OK ||
		    (rc = get_str(D, data, "data", "contract_id", req,
		    &cid)) != LT_OK ||
		    (rc = get_strmap(D, data, "data", "values", 0,
		    &l->legacy_values)) != LT_OK)
			return rc;
		if (cid != NULL) {
			if ((colon = strchr(cid, ':')) == NULL) {
				l->wit_namespace = cid;
				l->wit_package = "";
			} else {
				l->wit_namespace = arena_strndup(D, cid,
				    (size_t)(colon - cid));
				l->wit_package = colon + 1;
				if (l->wit_namespace == NULL)
					return nomem(D);
			}
		}
		return LT_OK;
	}
	if ((rc = get_str(D, data, "data", "source_id", req,
	    &l->source_id)) != LT_OK ||
	    (rc = get_str(D, data, "data", "target", 0, &l->target)) != LT_OK ||
	    (rc = get_str(D, data, "data", "name", req, &l->name)) != LT_OK ||
	    (rc = get_str(D, data, "data", "wit_namespace", req,
	    &l->wit_namespace)) != LT_OK ||
	    (rc = get_str(D, data, "data", "wit_package", req,
	    &l->wit_package)) != LT_OK ||
	    (rc = get_strarr(D, data, "data", "interfaces",
	    &l->interfaces)) != LT_OK ||
	    (rc = get_strarr(D, data, "data", "source_config",
	    &l->source_config)) != LT_OK ||
	    (rc = get_strarr(D, data, "data", "target_config",
	    &l->target_config)) != LT_OK)
		return rc;
	return LT_OK;
}

/* Decode config_set/config_deleted (1.x config_name, 0.82 entity/key). */
static int
dec_config(struct dec *D, const cJSON *data, int kind)
{
	int	rc;

	D->ev->kind = kind;
	if (member(data, "config_name") == NULL &&
	    member(data, "entity_id") != NULL) {
		if ((rc = get_str(D, data, "data", "entity_id", 1,
		    &D->ev->config_name)) != LT_OK)
			return rc;
		return get_str(D, data, "data", "key", 0, &D->ev->config_key);
	}
	return get_str(D, data, "data", "config_name", 1, &D->ev->config_name);
}

/* Decode the host fields shared by host_* and labels_changed. */
static int
dec_hostinfo(struct dec *D, const cJSON *data, int labels_required)
{
	struct lt_ce	*ev = D->ev;
	int		 rc;

	if ((rc = get_host(D, data)) != LT_OK ||
	    (rc = get_strmap(D, data, "data", "labels", labels_required,
	    &ev->labels)) != LT_OK ||
	    (rc = get_str(D, data, "data", "friendly_name", 0,
	    &ev->friendly_name)) != LT_OK ||
	    (rc = get_str(D, data, "data", "version", 0, &ev->version)) !=
	    LT_OK ||
	    (rc = get_str(D, data, "data", "reason", 0, &ev->reason)) !=
	    LT_OK ||
	    (rc = get_int(D, data, "data", "uptime_seconds", 0,
	    D->lim->max_uptime, &ev->uptime_seconds, &ev->has_uptime)) !=
	    LT_OK)
		return rc;
	return LT_OK;
}

/* Feed s (or a NULL marker) into an FNV-1a 64 hash. */
static uint64_t
fnv_str(uint64_t h, const char *s)
{
	if (s == NULL) {
		h ^= 0xfe;
		return h * FNV_PRIME;
	}
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	h ^= 0xff;		/* never in UTF-8: separates fields */
	return h * FNV_PRIME;
}

/* Feed an integer into an FNV-1a 64 hash. */
static uint64_t
fnv_int(uint64_t h, int64_t v)
{
	uint64_t	u = (uint64_t)v;
	int		i;

	for (i = 0; i < 8; i++) {
		h ^= (u >> (i * 8)) & 0xff;
		h *= FNV_PRIME;
	}
	return h;
}

/* Hash the normalised inventory of a heartbeat, and each component. */
static uint64_t
inventory_hash(struct lt_ce *ev)
{
	struct lt_ce_component		*c;
	const struct lt_ce_provider	*p;
	uint64_t			 h = FNV_OFFSET;
	size_t				 i;

	h = fnv_int(h, ev->comp_counts_only);
	h = fnv_int(h, (int64_t)ev->ncomponents);
	for (i = 0; i < ev->ncomponents; i++) {
		c = &ev->components[i];
		c->hash = fnv_str(FNV_OFFSET, c->id);
		c->hash = fnv_str(c->hash, c->image_ref);
		c->hash = fnv_str(c->hash, c->name);
		c->hash = fnv_str(c->hash, c->annotations);
		c->hash = fnv_int(c->hash, c->max_instances);
		c->hash = fnv_int(c->hash, c->has_revision ? c->revision :
		    INT64_MIN);
		h = fnv_int(h, (int64_t)c->hash);
	}
	h = fnv_int(h, (int64_t)ev->nproviders);
	for (i = 0; i < ev->nproviders; i++) {
		p = &ev->providers[i];
		h = fnv_str(h, p->id);
		h = fnv_str(h, p->link_name);
		h = fnv_str(h, p->image_ref);
		h = fnv_str(h, p->name);
		h = fnv_str(h, p->contract_id);
		h = fnv_str(h, p->annotations);
		h = fnv_int(h, p->has_revision ? p->revision : INT64_MIN);
	}
	return h;
}

/* Allocate room for n items of size sz; checks the item limit. */
static void *
alloc_items(struct dec *D, size_t n, size_t sz, const char *key, int *rc)
{
	void	*p;

	*rc = LT_OK;
	if (n > D->lim->max_items) {
		*rc = fail(D, LT_ELIMIT, "data", key, "too many items");
		return NULL;
	}
	if (n == 0)
		return NULL;
	if ((p = arena_alloc(D, n * sz)) == NULL) {
		*rc = nomem(D);
		return NULL;
	}
	memset(p, 0, n * sz);
	return p;
}

/* Decode one 1.x heartbeat component. */
static int
hb_component(struct dec *D, const cJSON *it, const char *pfx,
    struct lt_ce_component *c)
{
	int	rc, has;

	if (!cJSON_IsObject(it))
		return fail(D, LT_EINVAL, pfx, NULL, "not an object");
	if ((rc = get_str(D, it, pfx, "id", 1, &c->id)) != LT_OK ||
	    (rc = get_str(D, it, pfx, "image_ref", 0, &c->image_ref)) !=
	    LT_OK ||
	    (rc = get_str(D, it, pfx, "name", 0, &c->name)) != LT_OK ||
	    (rc = get_strmap(D, it, pfx, "annotations", 0,
	    &c->annotations)) != LT_OK ||
	    (rc = take_revision(D, member(it, "revision"), pfx, &c->revision,
	    &c->has_revision)) != LT_OK ||
	    (rc = get_int(D, it, pfx, "max_instances", 0,
	    D->lim->max_instances, &c->max_instances, &has)) != LT_OK)
		return rc;
	if (!has)
		c->max_instances = 1;	/* listed means running */
	return LT_OK;
}

/* Decode one 0.82 heartbeat actor: instances fold into one component. */
static int
hb_actor(struct dec *D, const cJSON *it, const char *pfx,
    struct lt_ce_component *c)
{
	const cJSON	*insts, *in;
	char		 ipfx[64];
	int64_t		 n, sum = 0;
	size_t		 i = 0;
	int		 rc, has;

	if (!cJSON_IsObject(it))
		return fail(D, LT_EINVAL, pfx, NULL, "not an object");
	if ((rc = get_str(D, it, pfx, "id", 1, &c->id)) != LT_OK ||
	    (rc = get_str(D, it, pfx, "image_ref", 0, &c->image_ref)) !=
	    LT_OK ||
	    (rc = get_str(D, it, pfx, "name", 0, &c->name)) != LT_OK)
		return rc;
	insts = member(it, "instances");
	if (insts != NULL && !cJSON_IsArray(insts))
		return fail(D, LT_EINVAL, pfx, "instances", "not an array");
	for (in = insts != NULL ? insts->child : NULL; in != NULL;
	    in = in->next, i++) {
		fieldname(ipfx, sizeof(ipfx), "%s.instances[%zu]", pfx, i);
		if (!cJSON_IsObject(in))
			return fail(D, LT_EINVAL, ipfx, NULL, "not an object");
		if ((rc = get_int(D, in, ipfx, "max_instances", 0,
		    D->lim->max_instances, &n, &has)) != LT_OK)
			return rc;
		sum += has ? n : 1;
		if (sum > D->lim->max_instances)
			return fail(D, LT_ELIMIT, ipfx, "max_instances",
			    "sum too large");
		if (i == 0) {
			if ((rc = get_strmap(D, in, ipfx, "annotations", 0,
			    &c->annotations)) != LT_OK ||
			    (rc = take_revision(D, member(in, "revision"),
			    ipfx, &c->revision, &c->has_revision)) != LT_OK)
				return rc;
			if (c->image_ref == NULL && (rc = get_str(D, in, ipfx,
			    "image_ref", 0, &c->image_ref)) != LT_OK)
				return rc;
		} else if ((rc = get_strmap(D, in, ipfx, "annotations", 0,
		    &(const char *){ NULL })) != LT_OK)
			return rc;
	}
	c->max_instances = sum;
	return LT_OK;
}

/* Decode one heartbeat provider (1.x, 0.82 or OTP). */
static int
hb_provider(struct dec *D, const cJSON *it, const char *pfx,
    struct lt_ce_provider *p)
{
	int	rc;

	if (!cJSON_IsObject(it))
		return fail(D, LT_EINVAL, pfx, NULL, "not an object");
	if ((rc = prov_ident(D, it, pfx, 1, p)) != LT_OK ||
	    (rc = get_str(D, it, pfx, "image_ref", 0, &p->image_ref)) !=
	    LT_OK ||
	    (rc = get_str(D, it, pfx, "name", 0, &p->name)) != LT_OK ||
	    (rc = get_strmap(D, it, pfx, "annotations", 0,
	    &p->annotations)) != LT_OK ||
	    (rc = take_revision(D, member(it, "revision"), pfx, &p->revision,
	    &p->has_revision)) != LT_OK)
		return rc;
	return LT_OK;
}

/*
 * Decode a heartbeat inventory: comps is data.components (or data.actors
 * when actors is set), provs data.providers; either may be NULL.
 */
static int
dec_inventory(struct dec *D, const cJSON *comps, int actors,
    const cJSON *provs)
{
	struct lt_ce	*ev = D->ev;
	const cJSON	*it;
	const char	*key = actors ? "actors" : "components";
	char		 pfx[64];
	size_t		 i;
	int		 rc;

	ev->has_inventory = comps != NULL || provs != NULL;
	ev->comp_counts_only = 0;
	ev->ncomponents = ev->nproviders = 0;
	ev->components = NULL;
	ev->providers = NULL;

	if (comps != NULL && actors && cJSON_IsObject(comps)) {
		/* OTP: {public_key: count}. */
		ev->comp_counts_only = 1;
		ev->ncomponents = (size_t)cJSON_GetArraySize(comps);
		ev->components = alloc_items(D, ev->ncomponents,
		    sizeof(*ev->components), key, &rc);
		if (rc != LT_OK)
			return rc;
		for (it = comps->child, i = 0; it != NULL; it = it->next, i++) {
			fieldname(pfx, sizeof(pfx), "data.actors.%.40s",
			    it->string);
			if (it->string[0] == '\0')
				return fail(D, LT_EINVAL, "data.actors", NULL,
				    "empty public key");
			if (strlen(it->string) > D->lim->max_string)
				return fail(D, LT_ELIMIT, "data.actors", NULL,
				    "string too long");
			if ((ev->components[i].id = arena_strndup(D,
			    it->string, strlen(it->string))) == NULL)
				return nomem(D);
			if ((rc = take_int(D, it, pfx, NULL, 0,
			    D->lim->max_instances,
			    &ev->components[i].max_instances)) != LT_OK)
				return rc;
		}
	} else if (comps != NULL) {
		if (!cJSON_IsArray(comps))
			return fail(D, LT_EINVAL, "data", key, "not an array");
		ev->ncomponents = (size_t)cJSON_GetArraySize(comps);
		ev->components = alloc_items(D, ev->ncomponents,
		    sizeof(*ev->components), key, &rc);
		if (rc != LT_OK)
			return rc;
		for (it = comps->child, i = 0; it != NULL; it = it->next, i++) {
			fieldname(pfx, sizeof(pfx), "data.%s[%zu]", key, i);
			rc = actors ? hb_actor(D, it, pfx, &ev->components[i]) :
			    hb_component(D, it, pfx, &ev->components[i]);
			if (rc != LT_OK)
				return rc;
		}
	}
	if (provs != NULL) {
		if (!cJSON_IsArray(provs))
			return fail(D, LT_EINVAL, "data", "providers",
			    "not an array");
		ev->nproviders = (size_t)cJSON_GetArraySize(provs);
		ev->providers = alloc_items(D, ev->nproviders,
		    sizeof(*ev->providers), "providers", &rc);
		if (rc != LT_OK)
			return rc;
		for (it = provs->child, i = 0; it != NULL; it = it->next, i++) {
			fieldname(pfx, sizeof(pfx), "data.providers[%zu]", i);
			if ((rc = hb_provider(D, it, pfx,
			    &ev->providers[i])) != LT_OK)
				return rc;
		}
	}
	ev->inventory_hash = inventory_hash(ev);
	return LT_OK;
}

/* Decode host_heartbeat: host info and, when sent, the inventory. */
static int
dec_heartbeat(struct dec *D, const cJSON *data)
{
	struct lt_ce	*ev = D->ev;
	const cJSON	*comps;
	int		 rc, actors = 0;

	ev->kind = LT_K_HOST_HEARTBEAT;
	if ((rc = dec_hostinfo(D, data, 0)) != LT_OK)
		return rc;
	if (D->defer) {
		/* The reduced text has null where the inventory was. */
		ev->has_inventory = D->box->inv.len[INV_COMPS] > 0 ||
		    D->box->inv.len[INV_PROVS] > 0;
		ev->inventory_deferred = ev->has_inventory;
		return LT_OK;
	}
	if ((comps = member(data, "components")) == NULL &&
	    (comps = member(data, "actors")) != NULL)
		actors = 1;
	return dec_inventory(D, comps, actors, member(data, "providers"));
}

enum handler {
	H_HOST_STARTED,
	H_HOST_STOPPED,
	H_HEARTBEAT,
	H_LABELS,
	H_COMPONENT,
	H_PROVIDER,
	H_LINK,
	H_CONFIG,
	H_RPC,
};

static const struct {
	const char	*name;
	enum handler	 h;
	int		 arg;
} types[] = {
	{ "host_heartbeat", H_HEARTBEAT, 0 },
	{ "component_scaled", H_COMPONENT, CM_SCALED },
	{ "health_check_status", H_PROVIDER, PM_HEALTH_STATUS },
	{ "health_check_passed", H_PROVIDER, PM_HEALTH_PASS },
	{ "health_check_failed", H_PROVIDER, PM_HEALTH_FAIL },
	{ "host_started", H_HOST_STARTED, 0 },
	{ "host_stopped", H_HOST_STOPPED, 0 },
	{ "labels_changed", H_LABELS, 0 },
	{ "component_scale_failed", H_COMPONENT, CM_SCALE_FAILED },
	{ "actor_scaled", H_COMPONENT, CM_SCALED },
	{ "actor_scale_failed", H_COMPONENT, CM_SCALE_FAILED },
	{ "actors_started", H_COMPONENT, CM_STARTED_N },
	{ "actors_stopped", H_COMPONENT, CM_STOPPED_N },
	{ "actors_start_failed", H_COMPONENT, CM_START_FAILED },
	{ "actor_started", H_COMPONENT, CM_STARTED_1 },
	{ "actor_stopped", H_COMPONENT, CM_STOPPED_1 },
	{ "actor_start_failed", H_COMPONENT, CM_START_FAILED },
	{ "provider_started", H_PROVIDER, PM_STARTED },
	{ "provider_stopped", H_PROVIDER, PM_STOPPED },
	{ "provider_start_failed", H_PROVIDER, PM_START_FAILED },
	{ "linkdef_set", H_LINK, LT_K_LINK_SET },
	{ "linkdef_deleted", H_LINK, LT_K_LINK_DELETED },
	{ "linkdef_set_failed", H_LINK, LT_K_RECORDED },
	{ "config_set", H_CONFIG, LT_K_CONFIG_SET },
	{ "config_deleted", H_CONFIG, LT_K_CONFIG_DELETED },
	{ "invocation_succeeded", H_RPC, LT_FAIL_NONE },
	{ "invocation_failed", H_RPC, LT_FAIL_RPC },
};

/* Decode data for the modelled type at types[t]. */
static int
dec_data(struct dec *D, const cJSON *data, size_t t)
{
	struct lt_ce	*ev = D->ev;
	const cJSON	*it;
	int		 rc;

	if (types[t].h == H_RPC) {
		/* Any data: only the error and host are picked up. */
		ev->kind = LT_K_RECORDED;
		ev->failure = types[t].arg;
		if (ev->failure == LT_FAIL_NONE)
			return LT_OK;
		ev->host_id = ev->source;
		if (cJSON_IsObject(data) &&
		    (it = member(data, "error")) != NULL &&
		    cJSON_IsString(it) &&
		    strlen(it->valuestring) <= D->lim->max_string &&
		    (ev->error = arena_strndup(D, it->valuestring,
		    strlen(it->valuestring))) == NULL)
			return nomem(D);
		return LT_OK;
	}
	if (data == NULL)
		return fail(D, LT_EINVAL, "data", NULL, "missing");
	if (!cJSON_IsObject(data))
		return fail(D, LT_EINVAL, "data", NULL, "not an object");
	switch (types[t].h) {
	case H_HOST_STARTED:
		ev->kind = LT_K_HOST_STARTED;
		return dec_hostinfo(D, data, 0);
	case H_HOST_STOPPED:
		ev->kind = LT_K_HOST_STOPPED;
		return dec_hostinfo(D, data, 0);
	case H_LABELS:
		ev->kind = LT_K_LABELS_CHANGED;
		return dec_hostinfo(D, data, 1);
	case H_HEARTBEAT:
		return dec_heartbeat(D, data);
	case H_COMPONENT:
		return dec_component(D, data, types[t].arg);
	case H_PROVIDER:
		return dec_provider(D, data, types[t].arg);
	case H_LINK:
		if ((rc = dec_link(D, data, types[t].arg)) != LT_OK)
			return rc;
		if (types[t].arg == LT_K_RECORDED) {
			if ((rc = get_host(D, data)) != LT_OK)
				return rc;
			return get_error(D, data, LT_FAIL_LINK_SET);
		}
		return LT_OK;
	case H_CONFIG:
		return dec_config(D, data, types[t].arg);
	default:
		break;
	}
	return LT_OK;
}

/* Decode the envelope and dispatch on the type. */
static int
dec_event(struct dec *D, const cJSON *root)
{
	struct lt_ce	*ev = D->ev;
	const cJSON	*it;
	size_t		 t;
	int		 rc;

	it = cJSON_GetObjectItemCaseSensitive(root, "specversion");
	if (it == NULL)
		return fail(D, LT_EINVAL, "specversion", NULL, "missing");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, "1.0") != 0)
		return fail(D, LT_EINVAL, "specversion", NULL,
		    "not \"1.0\"");
	if ((rc = get_str(D, root, NULL, "id", 1, &ev->id)) != LT_OK ||
	    (rc = get_str(D, root, NULL, "source", 1, &ev->source)) != LT_OK ||
	    (rc = get_str(D, root, NULL, "type", 1, &ev->type)) != LT_OK)
		return rc;
	if ((rc = get_str(D, root, NULL, "time", 0, &ev->time_raw)) != LT_OK)
		return rc;
	if (ev->time_raw != NULL)
		ev->time_ok = lt_time_parse(ev->time_raw,
		    strlen(ev->time_raw), &ev->time_ms) == 0;

	ev->kind = LT_K_RECORDED;
	if (strncmp(ev->type, TYPE_PREFIX, TYPE_PREFIX_LEN) != 0) {
		ev->name = ev->type;
		return LT_OK;
	}
	ev->name = ev->type + TYPE_PREFIX_LEN;
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		if (strcmp(ev->name, types[t].name) == 0)
			return dec_data(D, member(root, "data"), t);
	return LT_OK;
}

/* Decode buf[0..len) into a new event. */
int
lt_ce_parse(const char *buf, size_t len, const struct lt_limits *lim,
    struct lt_ce **out, struct lt_err *err)
{
	return lt_ce_parse_flags(buf, len, lim, 0, out, err);
}

/*
 * Copy buf without the inventory values inv points at (offsets from doff),
 * each replaced by null, into a new NUL-terminated buffer (*outlen bytes).
 */
static char *
reduce(const char *buf, size_t len, size_t doff, const struct inv_spans *inv,
    size_t *outlen)
{
	size_t	 a[INV_N], n[INV_N], k0 = INV_COMPS, k1 = INV_PROVS, at = 0, o;
	char	*r;
	int	 k;

	for (k = 0; k < INV_N; k++) {
		a[k] = doff + inv->off[k];
		n[k] = inv->len[k];
	}
	if (n[k0] == 0 || (n[k1] > 0 && a[k1] < a[k0])) {
		k0 = INV_PROVS;
		k1 = INV_COMPS;
	}
	/* "null" may be longer than what it replaces ("[]"). */
	if ((r = malloc(len + 4 * INV_N + 1)) == NULL)
		return NULL;
	o = 0;
	for (k = 0; k < 2; k++) {
		size_t i = k == 0 ? k0 : k1;

		if (n[i] == 0)
			continue;
		memcpy(r + o, buf + at, a[i] - at);
		o += a[i] - at;
		memcpy(r + o, "null", 4);
		o += 4;
		at = a[i] + n[i];
	}
	memcpy(r + o, buf + at, len - at);
	o += len - at;
	r[o] = '\0';
	*outlen = o;
	return r;
}

/* lt_ce_parse() with flags (ce.h). */
int
lt_ce_parse_flags(const char *buf, size_t len, const struct lt_limits *lim,
    int flags, struct lt_ce **out, struct lt_err *err)
{
	struct lt_limits	 deflim;
	struct dec		 D;
	struct ce_box		*box = NULL;
	static const char *const top_keys[] = { "data", "type" };
	static const char	 hb_type[] =
	    "\"" TYPE_PREFIX "host_heartbeat\"";
	struct lt_json_span	 spans[2], isp[3];
	const struct lt_json_sub sub = { 0, inv_keys, 3, isp };
	struct inv_spans	 inv;
	cJSON			*root = NULL;
	const char		*end = NULL, *text = buf;
	char			*reduced = NULL;
	size_t			 cap, off, n, tlen = len;
	int			 rc, has_raw = 0;

	if (out != NULL)
		*out = NULL;
	lt_err_clear(err);
	if (buf == NULL || out == NULL)
		return lt_err_set(err, LT_EINVAL, "", "no buffer");
	if (lim == NULL) {
		lt_limits_default(&deflim);
		lim = &deflim;
	}
	if (len > lim->max_payload)
		return lt_err_set(err, LT_ELIMIT, "", "payload of %zu bytes",
		    len);
	if ((rc = lt_json_scan_sub(buf, len, lim->max_depth, top_keys, 2,
	    spans, &sub, err)) != LT_OK)
		return rc;
	off = spans[0].off;
	n = spans[0].len;
	/* A heartbeat (type on its raw bytes): find the inventory. */
	if (n > 0 && spans[1].len == sizeof(hb_type) - 1 &&
	    memcmp(buf + spans[1].off, hb_type, sizeof(hb_type) - 1) == 0 &&
	    inv_from_spans(buf, off, isp, &inv) == 0)
		has_raw = 1;
	if (has_raw && (flags & LT_CE_DEFER_INVENTORY) &&
	    (inv.len[INV_COMPS] > 0 || inv.len[INV_PROVS] > 0)) {
		if ((reduced = reduce(buf, len, off, &inv, &tlen)) == NULL)
			return lt_err_set(err, LT_ENOMEM, "", "out of memory");
		text = reduced;
	}
	root = cJSON_ParseWithLengthOpts(text, tlen, &end, 0);
	if (root == NULL) {
		rc = lt_err_set(err, LT_EPARSE, "", "not json");
		goto fail;
	}
	for (; end != NULL && end < text + tlen; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' &&
		    *end != '\r') {
			rc = lt_err_set(err, LT_EPARSE, "",
			    "trailing bytes after the json value");
			goto fail;
		}
	if (!cJSON_IsObject(root)) {
		rc = lt_err_set(err, LT_EINVAL, "", "not a json object");
		goto fail;
	}

	/* One block holds the event and, usually, all of its strings. */
	cap = len + ARENA_MIN;
	if ((box = malloc(sizeof(*box) + sizeof(struct blk) + cap)) == NULL) {
		rc = lt_err_set(err, LT_ENOMEM, "", "out of memory");
		goto fail;
	}
	memset(box, 0, sizeof(*box));
	box->inline_blk = (struct blk *)(box + 1);
	box->inline_blk->next = NULL;
	box->inline_blk->cap = cap;
	box->inline_blk->used = 0;
	box->blocks = box->inline_blk;
	if (reduced != NULL)
		box->inv = inv;

	D.box = box;
	D.ev = &box->ev;
	D.lim = lim;
	D.err = err;
	D.defer = reduced != NULL;
	if ((rc = dec_event(&D, root)) != LT_OK)
		goto fail;
	if (n > 0) {
		if ((box->ev.data = arena_strndup(&D, buf + off, n)) == NULL) {
			rc = nomem(&D);
			goto fail;
		}
		box->ev.data_len = n;
	}
	if (has_raw && box->ev.kind == LT_K_HOST_HEARTBEAT) {
		box->ev.inventory_raw = raw_inventory_hash(
		    (const unsigned char *)buf + off, &inv);
		box->ev.has_inventory_raw = 1;
	}
	cJSON_Delete(root);
	free(reduced);
	*out = &box->ev;
	return LT_OK;
fail:
	lt_ce_free(box != NULL ? &box->ev : NULL);
	cJSON_Delete(root);
	free(reduced);
	return rc;
}

/* Count the elements of the validated JSON array at p[0..len). */
static size_t
skim_count(const unsigned char *p, size_t len)
{
	size_t	i = lt_json_skip_ws(p, len, 0), n = 0;

	if (i >= len || p[i] != '[')
		return 0;
	for (i = lt_json_skip_ws(p, len, i + 1); i < len && p[i] != ']';) {
		n++;
		i = lt_json_skip_ws(p, len, lt_json_skip_value(p, len, i));
		if (i < len && p[i] == ',')
			i = lt_json_skip_ws(p, len, i + 1);
	}
	return n;
}

/* The members of a 1.x heartbeat component that fast_component() reads. */
enum { FC_ID, FC_IMAGE, FC_NAME, FC_ANN, FC_MAX, FC_REV, FC_N };
static const char *const fc_keys[FC_N] = { "id", "image_ref", "name",
    "annotations", "max_instances", "revision" };

/* Whether the raw value p[v..e) is null. */
static int
is_null(const unsigned char *p, size_t v, size_t e)
{
	return e - v == 4 && memcmp(p + v, "null", 4) == 0;
}

/* Whether the raw string value p[v..e) (quotes included) has no escape:
   then its bytes are its value, and its own compact JSON text. */
static int
plain_string(const unsigned char *p, size_t v, size_t e, size_t max)
{
	return e - v >= 2 && p[v] == '"' && e - v - 2 <= max &&
	    memchr(p + v + 1, '\\', e - v - 2) == NULL;
}

/* A raw JSON number p[v..e) that is an integer of at most 15 digits
   (exact as a double, as cJSON reads it), optionally negative. */
static int
plain_int(const unsigned char *p, size_t v, size_t e, int neg_ok,
    int64_t *out)
{
	int64_t	 n = 0;
	int	 neg = 0;

	if (neg_ok && v < e && p[v] == '-') {
		neg = 1;
		v++;
	}
	if (v == e || e - v > 15)
		return 0;
	for (; v < e; v++) {
		if (p[v] < '0' || p[v] > '9')
			return 0;
		n = n * 10 + (p[v] - '0');
	}
	*out = neg ? -n : n;
	return 1;
}

/*
 * Decode an annotations object p[v..e) whose keys and values are all
 * plain strings (never repeated: the scan refuses that) into the compact
 * text get_strmap() makes.  0: anything else (get_strmap() decides).
 */
static int
fast_strmap(struct dec *D, const unsigned char *p, size_t v, size_t e,
    const char **out)
{
	size_t	 n = 0, i, a, ke, b;
	char	*o;

	if (p[v] != '{')
		return 0;
	if ((o = arena_alloc(D, e - v + 1)) == NULL)
		return 0;
	*out = o;
	*o++ = '{';
	for (i = lt_json_skip_ws(p, e, v + 1); i < e && p[i] != '}';) {
		a = i;
		i = lt_json_skip_string(p, e, i);
		if (!plain_string(p, a, i, D->lim->max_string) ||
		    n++ >= D->lim->max_pairs)
			return 0;
		ke = i;
		i = lt_json_skip_ws(p, e, lt_json_skip_ws(p, e, i) + 1);
		b = i;
		i = lt_json_skip_value(p, e, i);
		if (!plain_string(p, b, i, D->lim->max_string))
			return 0;
		if (n > 1)
			*o++ = ',';
		memcpy(o, p + a, ke - a);
		o += ke - a;
		*o++ = ':';
		memcpy(o, p + b, i - b);
		o += i - b;
		i = lt_json_skip_ws(p, e, i);
		if (i < e && p[i] == ',')
			i = lt_json_skip_ws(p, e, i + 1);
	}
	*o++ = '}';
	*o = '\0';
	return 1;
}

/*
 * Decode a 1.x heartbeat component p[0..len) (validated JSON) without a
 * cJSON tree, as hb_component() would, when it has the common shape: an
 * object whose members of interest are null or plain (unescaped) strings,
 * integers and string maps within the limits, none of them repeated, and
 * whose keys are unescaped.  Returns 1 when decoded; 0 for anything else
 * (c is then garbage, nothing is reported): hb_component() decides, with
 * its errors.
 */
static int
fast_component(struct dec *D, const unsigned char *p, size_t len,
    struct lt_ce_component *c)
{
	const char	**str[3] = { &c->id, &c->image_ref, &c->name };
	size_t		 i, ks, kl, v, e;
	int		 k;

	memset(c, 0, sizeof(*c));
	c->max_instances = 1;	/* listed means running */
	i = lt_json_skip_ws(p, len, 0);
	if (i >= len || p[i] != '{')
		return 0;
	for (i = lt_json_skip_ws(p, len, i + 1); i < len && p[i] != '}';) {
		ks = i + 1;
		i = lt_json_skip_string(p, len, i);
		kl = i - ks - 1;
		i = lt_json_skip_ws(p, len, lt_json_skip_ws(p, len, i) + 1);
		v = i;
		e = i = lt_json_skip_value(p, len, i);
		i = lt_json_skip_ws(p, len, i);
		if (i < len && p[i] == ',')
			i = lt_json_skip_ws(p, len, i + 1);
		if (memchr(p + ks, '\\', kl) != NULL)
			return 0;
		for (k = 0; k < FC_N; k++)
			if (strlen(fc_keys[k]) == kl &&
			    memcmp(p + ks, fc_keys[k], kl) == 0)
				break;
		if (k == FC_N)
			continue;	/* not read; names never repeat (the scan) */
		if (is_null(p, v, e))
			continue;	/* absent */
		switch (k) {
		case FC_ID:
		case FC_IMAGE:
		case FC_NAME:
			if (!plain_string(p, v, e, D->lim->max_string) ||
			    (*str[k] = arena_strndup(D, (const char *)p + v +
			    1, e - v - 2)) == NULL)
				return 0;
			break;
		case FC_ANN:
			if (!fast_strmap(D, p, v, e, &c->annotations))
				return 0;
			break;
		case FC_MAX:
			if (!plain_int(p, v, e, 0, &c->max_instances) ||
			    c->max_instances > D->lim->max_instances)
				return 0;
			break;
		case FC_REV:
			if (!plain_int(p, v, e, 1, &c->revision))
				return 0;
			c->has_revision = 1;
			break;
		}
	}
	/* id is required and not empty */
	return c->id != NULL && c->id[0] != '\0';
}

/*
 * Decode one deferred inventory array item by item: each item is parsed
 * and decoded on its own, so the cJSON tree never holds more than one item
 * (a 16 MB heartbeat's whole tree is several times its size).  The text
 * was validated by lt_json_scan(); the decode and its errors are those of
 * dec_inventory().
 */
static int
dec_items(struct dec *D, size_t k, int actors)
{
	struct ce_box	*box = D->box;
	struct lt_ce	*ev = D->ev;
	const char	*txt = ev->data + box->inv.off[k];
	const unsigned char *p = (const unsigned char *)txt;
	size_t		 len = box->inv.len[k], n, i, e, j;
	const char	*key = k == INV_PROVS ? "providers" : actors ? "actors" :
			    "components";
	char		 pfx[64];
	cJSON		*it;
	void		*items;
	int		 rc;

	n = skim_count(p, len);
	items = alloc_items(D, n, k == INV_PROVS ? sizeof(*ev->providers) :
	    sizeof(*ev->components), key, &rc);
	if (rc != LT_OK)
		return rc;
	if (k == INV_PROVS) {
		ev->providers = items;
		ev->nproviders = n;
	} else {
		ev->components = items;
		ev->ncomponents = n;
	}
	i = lt_json_skip_ws(p, len, lt_json_skip_ws(p, len, 0) + 1);
	for (j = 0; j < n; j++) {
		e = lt_json_skip_value(p, len, i);
		if (k == INV_COMPS && !actors &&
		    fast_component(D, p + i, e - i, &ev->components[j]))
			goto next;
		if (k == INV_COMPS)
			memset(&ev->components[j], 0,
			    sizeof(ev->components[j]));
		if ((it = cJSON_ParseWithLength(txt + i, e - i)) == NULL)
			return fail(D, LT_EPARSE, "data", key, "not json");
		fieldname(pfx, sizeof(pfx), "data.%s[%zu]", key, j);
		if (k == INV_PROVS)
			rc = hb_provider(D, it, pfx, &ev->providers[j]);
		else if (actors)
			rc = hb_actor(D, it, pfx, &ev->components[j]);
		else
			rc = hb_component(D, it, pfx, &ev->components[j]);
		cJSON_Delete(it);
		if (rc != LT_OK)
			return rc;
next:
		i = lt_json_skip_ws(p, len, e);
		if (i < len && p[i] == ',')
			i = lt_json_skip_ws(p, len, i + 1);
	}
	return LT_OK;
}

/* Whether a deferred inventory member is an array (else: the tree path,
   which says what is wrong with it, or takes the OTP actors map). */
static int
inv_is_array(const struct ce_box *box, size_t k)
{
	const unsigned char *p = (const unsigned char *)box->ev.data +
	    box->inv.off[k];
	size_t	i = lt_json_skip_ws(p, box->inv.len[k], 0);

	return box->inv.len[k] > 0 && i < box->inv.len[k] && p[i] == '[';
}

/* Whether two limits are the same (member by member: padding). */
static int
limits_eq(const struct lt_limits *a, const struct lt_limits *b)
{
	return a->max_payload == b->max_payload &&
	    a->max_depth == b->max_depth && a->max_string == b->max_string &&
	    a->max_items == b->max_items && a->max_pairs == b->max_pairs &&
	    a->max_instances == b->max_instances &&
	    a->max_uptime == b->max_uptime;
}

/* Put a prepared inventory into the event, as lt_ce_inventory() would
   have left it, and return what it would have returned. */
static int
adopt(struct lt_ce *ev, struct lt_err *err)
{
	const struct prepared *p = ((struct ce_box *)ev)->prep;

	ev->comp_counts_only = p->comp_counts_only;
	ev->components = p->components;
	ev->ncomponents = p->ncomponents;
	ev->providers = p->providers;
	ev->nproviders = p->nproviders;
	ev->inventory_hash = p->inventory_hash;
	ev->inventory_deferred = p->deferred;
	if (p->rc != LT_OK && err != NULL)
		*err = p->err;
	return p->rc;
}

/* Decode a deferred inventory (ce.h). */
int
lt_ce_inventory(struct lt_ce *ev, const struct lt_limits *lim,
    struct lt_err *err)
{
	struct ce_box		*box = (struct ce_box *)ev;
	struct lt_limits	 deflim;
	struct dec		 D;
	cJSON			*part = NULL;
	int			 rc = LT_OK;

	lt_err_clear(err);
	if (ev == NULL || !ev->inventory_deferred)
		return LT_OK;
	if (lim == NULL) {
		lt_limits_default(&deflim);
		lim = &deflim;
	}
	if (box->prep != NULL && limits_eq(&box->prep->lim, lim))
		return adopt(ev, err);
	D.box = box;
	D.ev = ev;
	D.lim = lim;
	D.err = err;
	D.defer = 0;
	ev->has_inventory = 1;
	ev->comp_counts_only = 0;
	ev->ncomponents = ev->nproviders = 0;
	ev->components = NULL;
	ev->providers = NULL;
	/* components first, then providers, as dec_inventory() goes */
	if (box->inv.len[INV_COMPS] > 0) {
		if (inv_is_array(box, INV_COMPS))
			rc = dec_items(&D, INV_COMPS, box->inv.actors);
		else if ((part = cJSON_ParseWithLength(ev->data +
		    box->inv.off[INV_COMPS], box->inv.len[INV_COMPS])) ==
		    NULL)
			/* valid JSON that cJSON takes (lt_json_scan): as good as
			   impossible, but never worse than the full parse */
			rc = lt_err_set(err, LT_EPARSE, "", "not json");
		else
			/* the OTP actors map, or what is wrong with it */
			rc = dec_inventory(&D, part, box->inv.actors, NULL);
		cJSON_Delete(part);
		if (rc != LT_OK)
			return rc;
	}
	if (box->inv.len[INV_PROVS] > 0) {
		if (!inv_is_array(box, INV_PROVS))
			return fail(&D, LT_EINVAL, "data", "providers",
			    "not an array");
		if ((rc = dec_items(&D, INV_PROVS, 0)) != LT_OK)
			return rc;
	}
	ev->has_inventory = 1;
	ev->inventory_hash = inventory_hash(ev);
	ev->inventory_deferred = 0;
	return LT_OK;
}

/* Decode a deferred inventory ahead of need (ce.h). */
int
lt_ce_inventory_prepare(struct lt_ce *ev, const struct lt_limits *lim)
{
	struct ce_box		*box = (struct ce_box *)ev;
	struct lt_limits	 deflim;
	struct prepared		*p;

	if (ev == NULL || !ev->inventory_deferred || box->prep != NULL)
		return LT_OK;
	if (lim == NULL) {
		lt_limits_default(&deflim);
		lim = &deflim;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LT_ENOMEM;
	p->lim = *lim;
	p->rc = lt_ce_inventory(ev, lim, &p->err);
	if (p->rc == LT_ENOMEM) {
		/* the fold tries again itself */
		free(p);
		p = NULL;
	} else {
		p->deferred = ev->inventory_deferred;
		p->comp_counts_only = ev->comp_counts_only;
		p->components = ev->components;
		p->ncomponents = ev->ncomponents;
		p->providers = ev->providers;
		p->nproviders = ev->nproviders;
		p->inventory_hash = ev->inventory_hash;
	}
	/* the event reads as before until lt_ce_inventory() */
	ev->inventory_deferred = 1;
	ev->has_inventory = 1;
	ev->comp_counts_only = 0;
	ev->components = NULL;
	ev->ncomponents = 0;
	ev->providers = NULL;
	ev->nproviders = 0;
	ev->inventory_hash = 0;
	box->prep = p;
	return p != NULL ? LT_OK : LT_ENOMEM;
}

/* Free an event from lt_ce_parse(). */
void
lt_ce_free(struct lt_ce *ev)
{
	struct ce_box	*box = (struct ce_box *)ev;
	struct blk	*b, *next;

	if (ev == NULL)
		return;
	if (ev->release != NULL) {
		ev->release(ev);
		return;
	}
	free(box->prep);
	for (b = box->blocks; b != NULL; b = next) {
		next = b->next;
		if (b != box->inline_blk)
			free(b);
	}
	free(box);
}
