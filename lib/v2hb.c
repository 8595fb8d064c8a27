/*
 * v2hb.c - decode a wasmCloud 2 HostHeartbeat (pbjson JSON) into lt_ce.
 *
 * The message (wasmcloud.runtime.v2.HostHeartbeat, proto3) is flat apart
 * from labels (a string map) and imports/exports (lists of WitInterface),
 * so the decoder is a table of members, each looked up under its
 * lowerCamelCase and its snake_case name.  The raw bytes are checked by
 * the strict scanner (json.h) first (RFC 8259, UTF-8, no NUL, depth): cJSON alone
 * is lenient, and the payload is stored where json_valid() must accept it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "ce.h"
#include "err.h"
#include "json.h"
#include "timeutil.h"
#include "v2hb.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL
#define MAX_EXACT	9007199254740992.0	/* 2^53 */

/* The event, its v2 fields and every allocation they point into. */
struct v2box {
	struct lt_ce	 ev;	/* first: lt_ce_free() passes &ev */
	struct lt_v2hb	 v2;
	char		**strs;
	size_t		 nstrs, capstrs;
};

/* Decoder state. */
struct dec {
	struct v2box		*box;
	const struct lt_limits	*lim;
	struct lt_err		*err;
};

/* A member under its two pbjson spellings; the proto name reports it. */
struct name {
	const char	*camel;
	const char	*snake;
};

static const struct name N_ID = { "id", "id" };
static const struct name N_HOSTNAME = { "hostname", "hostname" };
static const struct name N_FRIENDLY = { "friendlyName", "friendly_name" };
static const struct name N_VERSION = { "version", "version" };
static const struct name N_LABELS = { "labels", "labels" };
static const struct name N_STARTED = { "startedAt", "started_at" };
static const struct name N_OS_ARCH = { "osArch", "os_arch" };
static const struct name N_OS_NAME = { "osName", "os_name" };
static const struct name N_OS_KERNEL = { "osKernel", "os_kernel" };
static const struct name N_CPU = { "systemCpuUsage", "system_cpu_usage" };
static const struct name N_MEM_TOTAL =
    { "systemMemoryTotal", "system_memory_total" };
static const struct name N_MEM_FREE =
    { "systemMemoryFree", "system_memory_free" };
static const struct name N_COMPONENTS = { "componentCount", "component_count" };
static const struct name N_WORKLOADS = { "workloadCount", "workload_count" };
static const struct name N_IMPORTS = { "imports", "imports" };
static const struct name N_EXPORTS = { "exports", "exports" };
static const struct name N_HTTP_PORT = { "httpPort", "http_port" };
static const struct name N_ENV = { "environment", "environment" };

/* Free a v2 event (lt_ce_free() calls this through ev->release). */
static void
release(struct lt_ce *ev)
{
	struct v2box	*box = (struct v2box *)ev;
	size_t		 i;

	for (i = 0; i < box->nstrs; i++)
		free(box->strs[i]);
	free(box->strs);
	free(box);
}

/* Record an error on field (printf-style suffix). */
static int
fail(struct dec *D, int code, const char *field, const char *msg)
{
	return lt_err_set(D->err, code, field, "%s: %s", field, msg);
}

/* Keep p (malloc'd) with the event; NULL p is an allocation failure. */
static const char *
keep(struct dec *D, char *p)
{
	struct v2box	*b = D->box;
	char		**n;
	size_t		 cap;

	if (p == NULL)
		return NULL;
	if (b->nstrs == b->capstrs) {
		cap = b->capstrs == 0 ? 16 : b->capstrs * 2;
		if ((n = realloc(b->strs, cap * sizeof(*n))) == NULL) {
			free(p);
			return NULL;
		}
		b->strs = n;
		b->capstrs = cap;
	}
	b->strs[b->nstrs++] = p;
	return p;
}

/* Copy s[0..n) as a kept C string. */
static const char *
keepn(struct dec *D, const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return keep(D, p);
}

/* Report an allocation failure. */
static int
nomem(struct dec *D)
{
	return lt_err_set(D->err, LT_ENOMEM, "", "out of memory");
}

/*
 * Find the member under either spelling; NULL when absent or JSON null
 * (proto3 JSON: null is the default).  Both spellings at once is an error,
 * as pbjson reports it.
 */
static int
member(struct dec *D, const cJSON *obj, const struct name *n,
    const cJSON **out)
{
	const cJSON	*a, *b = NULL;

	*out = NULL;
	a = cJSON_GetObjectItemCaseSensitive(obj, n->camel);
	if (strcmp(n->camel, n->snake) != 0)
		b = cJSON_GetObjectItemCaseSensitive(obj, n->snake);
	if (a != NULL && b != NULL)
		return fail(D, LT_EINVAL, n->snake, "given twice (" "camelCase "
		    "and snake_case)");
	if (a == NULL)
		a = b;
	*out = a != NULL && !cJSON_IsNull(a) ? a : NULL;
	return LT_OK;
}

/* Decode a string item (NULL it: ""). */
static int
take_str(struct dec *D, const cJSON *it, const char *field, const char **out)
{
	size_t	n;

	if (it == NULL) {
		*out = "";
		return LT_OK;
	}
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return fail(D, LT_EINVAL, field, "not a string");
	n = strlen(it->valuestring);
	if (n > D->lim->max_string)
		return fail(D, LT_ELIMIT, field, "string too long");
	if ((*out = keepn(D, it->valuestring, n)) == NULL)
		return nomem(D);
	return LT_OK;
}

/* Decode the string member n of obj. */
static int
get_str(struct dec *D, const cJSON *obj, const struct name *n,
    const char **out)
{
	const cJSON	*it;
	int		 rc;

	if ((rc = member(D, obj, n, &it)) != LT_OK)
		return rc;
	return take_str(D, it, n->snake, out);
}

/*
 * Decode an unsigned integer member (uint64 or uint32) no larger than max:
 * a JSON number, or a string of decimal digits (pbjson's form for 64-bit
 * values).  Absent is 0.
 */
static int
get_uint(struct dec *D, const cJSON *obj, const struct name *n, int64_t max,
    int64_t *out)
{
	const cJSON	*it;
	const char	*p;
	uint64_t	 v = 0;
	double		 d;
	int		 rc;

	*out = 0;
	if ((rc = member(D, obj, n, &it)) != LT_OK || it == NULL)
		return rc;
	if (cJSON_IsString(it) && it->valuestring != NULL) {
		p = it->valuestring;
		if (*p == '\0')
			return fail(D, LT_EINVAL, n->snake, "empty number");
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return fail(D, LT_EINVAL, n->snake,
				    "not an unsigned integer");
			if (v > ((uint64_t)max - (uint64_t)(*p - '0')) / 10)
				return fail(D, LT_ELIMIT, n->snake,
				    "too large");
			v = v * 10 + (uint64_t)(*p - '0');
		}
		*out = (int64_t)v;
		return LT_OK;
	}
	if (!cJSON_IsNumber(it))
		return fail(D, LT_EINVAL, n->snake, "not a number");
	d = it->valuedouble;
	if (d != d)
		return fail(D, LT_EINVAL, n->snake, "not a number");
	if (d < 0)
		return fail(D, LT_EINVAL, n->snake, "negative");
	if (d > MAX_EXACT || d > (double)max)
		return fail(D, LT_ELIMIT, n->snake, "too large");
	if ((double)(int64_t)d != d)
		return fail(D, LT_EINVAL, n->snake, "not an integer");
	*out = (int64_t)d;
	return LT_OK;
}

/* Decode the float member n: a number, or a string ("NaN", "Infinity",
   "-Infinity" or a decimal number).  NaN and infinities are not kept. */
static int
get_float(struct dec *D, const cJSON *obj, const struct name *n,
    double *out, int *has)
{
	const cJSON	*it;
	char		*end;
	double		 d;
	int		 rc;

	*out = 0;
	*has = 1;
	if ((rc = member(D, obj, n, &it)) != LT_OK || it == NULL)
		return rc;
	if (cJSON_IsNumber(it))
		d = it->valuedouble;
	else if (cJSON_IsString(it) && it->valuestring != NULL) {
		if (strcmp(it->valuestring, "NaN") == 0 ||
		    strcmp(it->valuestring, "Infinity") == 0 ||
		    strcmp(it->valuestring, "-Infinity") == 0) {
			*has = 0;
			return LT_OK;
		}
		/* strtod takes "inf", "nan", hex and leading blanks: only a
		   plain decimal number is a number here. */
		if (strspn(it->valuestring, "0123456789+-.eE") !=
		    strlen(it->valuestring) || it->valuestring[0] == '\0')
			return fail(D, LT_EINVAL, n->snake, "not a number");
		errno = 0;
		d = strtod(it->valuestring, &end);
		if (*end != '\0' || end == it->valuestring)
			return fail(D, LT_EINVAL, n->snake, "not a number");
	} else
		return fail(D, LT_EINVAL, n->snake, "not a number");
	if (d != d || d > 3.4028234663852886e38 ||
	    d < -3.4028234663852886e38) {
		/* Over FLT_MAX is not a float: an infinity, not kept. */
		*has = 0;
		return LT_OK;
	}
	*out = d;
	return LT_OK;
}

/* Print a built cJSON value as kept compact text. */
static int
print_kept(struct dec *D, cJSON *v, const char **out)
{
	char	*s;

	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		return nomem(D);
	*out = keepn(D, s, strlen(s));
	cJSON_free(s);
	return *out == NULL ? nomem(D) : LT_OK;
}

/*
 * Check a string map (labels, config) and copy it into *dst, a new cJSON
 * object.
 */
static int
take_map(struct dec *D, const cJSON *m, const char *field, cJSON **dst)
{
	const cJSON	*it;
	size_t		 n = 0;

	if ((*dst = cJSON_CreateObject()) == NULL)
		return nomem(D);
	if (m == NULL)
		return LT_OK;
	if (!cJSON_IsObject(m))
		return fail(D, LT_EINVAL, field, "not an object");
	for (it = m->child; it != NULL; it = it->next) {
		if (++n > D->lim->max_pairs)
			return fail(D, LT_ELIMIT, field, "too many entries");
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return fail(D, LT_EINVAL, field, "value not a string");
		if (strlen(it->string) > D->lim->max_string ||
		    strlen(it->valuestring) > D->lim->max_string)
			return fail(D, LT_ELIMIT, field, "string too long");
		/* names are unique: lt_json_scan() refuses repeats (a
		   lookup per entry here was quadratic up to max_pairs) */
		if (cJSON_AddStringToObject(*dst, it->string,
		    it->valuestring) == NULL)
			return nomem(D);
	}
	return LT_OK;
}

/* Decode the labels member into JSON object text ("{}" when absent). */
static int
get_labels(struct dec *D, const cJSON *obj, const char **out)
{
	const cJSON	*m;
	cJSON		*o = NULL;
	int		 rc;

	if ((rc = member(D, obj, &N_LABELS, &m)) == LT_OK &&
	    (rc = take_map(D, m, "labels", &o)) == LT_OK)
		rc = print_kept(D, o, out);
	cJSON_Delete(o);
	return rc;
}

/* Add item's string member key ("" when absent) to dst. */
static int
wit_str(struct dec *D, const cJSON *item, const char *key, const char *field,
    cJSON *dst)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(item, key);
	const char	*v = "";

	if (it != NULL && !cJSON_IsNull(it)) {
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return fail(D, LT_EINVAL, field, "not a string");
		if (strlen(it->valuestring) > D->lim->max_string)
			return fail(D, LT_ELIMIT, field, "string too long");
		v = it->valuestring;
	}
	return cJSON_AddStringToObject(dst, key, v) == NULL ? nomem(D) : LT_OK;
}

/* Decode one WitInterface into dst (a new object appended by the caller). */
static int
wit_one(struct dec *D, const cJSON *item, const char *pfx, cJSON *dst)
{
	static const char *const strs[] = { "namespace", "package",
	    "version" };
	const cJSON	*it, *s;
	cJSON		*arr, *cfg = NULL;
	char		 field[64];
	size_t		 i, n = 0;
	int		 rc;

	if (!cJSON_IsObject(item))
		return fail(D, LT_EINVAL, pfx, "not an object");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		snprintf(field, sizeof(field), "%s.%s", pfx, strs[i]);
		if ((rc = wit_str(D, item, strs[i], field, dst)) != LT_OK)
			return rc;
	}
	snprintf(field, sizeof(field), "%s.interfaces", pfx);
	if ((arr = cJSON_AddArrayToObject(dst, "interfaces")) == NULL)
		return nomem(D);
	it = cJSON_GetObjectItemCaseSensitive(item, "interfaces");
	if (it != NULL && !cJSON_IsNull(it)) {
		if (!cJSON_IsArray(it))
			return fail(D, LT_EINVAL, field, "not an array");
		for (s = it->child; s != NULL; s = s->next) {
			if (++n > D->lim->max_items)
				return fail(D, LT_ELIMIT, field,
				    "too many items");
			if (!cJSON_IsString(s) || s->valuestring == NULL)
				return fail(D, LT_EINVAL, field,
				    "item not a string");
			if (strlen(s->valuestring) > D->lim->max_string)
				return fail(D, LT_ELIMIT, field,
				    "string too long");
			if (!cJSON_AddItemToArray(arr,
			    cJSON_CreateString(s->valuestring)))
				return nomem(D);
		}
	}
	snprintf(field, sizeof(field), "%s.config", pfx);
	it = cJSON_GetObjectItemCaseSensitive(item, "config");
	if ((rc = take_map(D, it != NULL && !cJSON_IsNull(it) ? it : NULL,
	    field, &cfg)) != LT_OK) {
		cJSON_Delete(cfg);
		return rc;
	}
	if (!cJSON_AddItemToObject(dst, "config", cfg)) {
		cJSON_Delete(cfg);
		return nomem(D);
	}
	snprintf(field, sizeof(field), "%s.name", pfx);
	return wit_str(D, item, "name", field, dst);
}

/* Decode a list of WitInterface into canonical JSON array text. */
static int
get_wits(struct dec *D, const cJSON *obj, const struct name *n,
    const char **out)
{
	const cJSON	*a, *it;
	cJSON		*arr, *o;
	char		 pfx[48];
	size_t		 i = 0;
	int		 rc;

	if ((rc = member(D, obj, n, &a)) != LT_OK)
		return rc;
	if ((arr = cJSON_CreateArray()) == NULL)
		return nomem(D);
	if (a != NULL && !cJSON_IsArray(a)) {
		rc = fail(D, LT_EINVAL, n->snake, "not an array");
		goto out;
	}
	for (it = a != NULL ? a->child : NULL; it != NULL; it = it->next) {
		if (i >= D->lim->max_items) {
			rc = fail(D, LT_ELIMIT, n->snake, "too many items");
			goto out;
		}
		snprintf(pfx, sizeof(pfx), "%s[%zu]", n->snake, i++);
		if ((o = cJSON_CreateObject()) == NULL) {
			rc = nomem(D);
			goto out;
		}
		if (!cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			rc = nomem(D);
			goto out;
		}
		if ((rc = wit_one(D, it, pfx, o)) != LT_OK)
			goto out;
	}
	rc = print_kept(D, arr, out);
out:
	cJSON_Delete(arr);
	return rc;
}

/* Decode startedAt, an RFC 3339 string (google.protobuf.Timestamp). */
static int
get_started(struct dec *D, const cJSON *obj, struct lt_v2hb *v)
{
	const cJSON	*it;
	int		 rc;

	v->has_started = 0;
	if ((rc = member(D, obj, &N_STARTED, &it)) != LT_OK || it == NULL)
		return rc;
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return fail(D, LT_EINVAL, N_STARTED.snake, "not a string");
	if (lt_time_parse(it->valuestring, strlen(it->valuestring),
	    &v->started_ms) != 0)
		return fail(D, LT_EINVAL, N_STARTED.snake,
		    "not an RFC 3339 time");
	v->has_started = 1;
	return LT_OK;
}

/* FNV-1a over the payload bytes. */
static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t	h = FNV_OFFSET;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* The host id of a heartbeat subject (v2hb.h). */
const char *
lt_v2hb_subject_host(const char *subject)
{
	static const char	 pfx[] = LT_V2HB_SUBJECT_PREFIX;
	const char		*id;

	if (subject == NULL || strncmp(subject, pfx, sizeof(pfx) - 1) != 0)
		return NULL;
	id = subject + sizeof(pfx) - 1;
	if (*id == '\0' || strpbrk(id, ". \t\r\n*>") != NULL)
		return NULL;
	return id;
}

/* Decode the members of root into the event. */
static int
dec_root(struct dec *D, const cJSON *root, const char *subj_host)
{
	struct lt_ce	*ev = &D->box->ev;
	struct lt_v2hb	*v = &D->box->v2;
	const char	*id;
	int		 rc;

	if ((rc = get_str(D, root, &N_ID, &id)) != LT_OK)
		return rc;
	if (subj_host != NULL && id[0] != '\0' && strcmp(id, subj_host) != 0)
		return fail(D, LT_EINVAL, "id", "not the host id of the "
		    "subject");
	if (id[0] == '\0' && (id = subj_host) == NULL)
		return fail(D, LT_EINVAL, "id", "missing");
	if (strlen(id) > D->lim->max_string)
		return fail(D, LT_ELIMIT, "id", "string too long");
	ev->host_id = id;
	if ((rc = get_str(D, root, &N_HOSTNAME, &v->hostname)) != LT_OK ||
	    (rc = get_str(D, root, &N_FRIENDLY, &ev->friendly_name)) !=
	    LT_OK ||
	    (rc = get_str(D, root, &N_VERSION, &ev->version)) != LT_OK ||
	    (rc = get_labels(D, root, &ev->labels)) != LT_OK ||
	    (rc = get_started(D, root, v)) != LT_OK ||
	    (rc = get_str(D, root, &N_OS_ARCH, &v->os_arch)) != LT_OK ||
	    (rc = get_str(D, root, &N_OS_NAME, &v->os_name)) != LT_OK ||
	    (rc = get_str(D, root, &N_OS_KERNEL, &v->os_kernel)) != LT_OK ||
	    (rc = get_float(D, root, &N_CPU, &v->cpu_usage, &v->has_cpu)) !=
	    LT_OK ||
	    (rc = get_uint(D, root, &N_MEM_TOTAL, INT64_MAX,
	    &v->memory_total)) != LT_OK ||
	    (rc = get_uint(D, root, &N_MEM_FREE, INT64_MAX,
	    &v->memory_free)) != LT_OK ||
	    (rc = get_uint(D, root, &N_COMPONENTS, INT64_MAX,
	    &v->component_count)) != LT_OK ||
	    (rc = get_uint(D, root, &N_WORKLOADS, INT64_MAX,
	    &v->workload_count)) != LT_OK ||
	    (rc = get_wits(D, root, &N_IMPORTS, &v->imports)) != LT_OK ||
	    (rc = get_wits(D, root, &N_EXPORTS, &v->exports)) != LT_OK ||
	    (rc = get_uint(D, root, &N_HTTP_PORT, UINT32_MAX,
	    &v->http_port)) != LT_OK ||
	    (rc = get_str(D, root, &N_ENV, &v->environment)) != LT_OK)
		return rc;
	return LT_OK;
}

/* Fill the synthetic envelope: source, id, type (v2hb.h). */
static int
envelope(struct dec *D, const char *buf, size_t len, int64_t received_ms)
{
	struct lt_ce	*ev = &D->box->ev;
	char		*s;
	size_t		 n;

	n = sizeof(LT_V2HB_SUBJECT_PREFIX) + strlen(ev->host_id);
	if ((s = malloc(n)) == NULL || keep(D, s) == NULL)
		return nomem(D);
	snprintf(s, n, "%s%s", LT_V2HB_SUBJECT_PREFIX, ev->host_id);
	ev->source = s;
	if ((s = malloc(48)) == NULL || keep(D, s) == NULL)
		return nomem(D);
	snprintf(s, 48, "%016llx-%lld", (unsigned long long)fnv(buf, len),
	    (long long)received_ms);
	ev->id = s;
	ev->type = LT_V2HB_TYPE;
	ev->name = "host_heartbeat";
	if ((ev->data = keepn(D, buf, len)) == NULL)
		return nomem(D);
	ev->data_len = len;
	return LT_OK;
}

/* Decode one v2 heartbeat (v2hb.h). */
int
lt_v2hb_parse(const char *buf, size_t len, const char *subj_host,
    int64_t received_ms, const struct lt_limits *lim, struct lt_ce **out,
    struct lt_err *err)
{
	struct lt_limits	 deflim;
	struct lt_json_span	 none;
	struct dec		 D;
	struct v2box		*box = NULL;
	cJSON			*root = NULL;
	int			 rc;

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
	if ((rc = lt_json_scan(buf, len, lim->max_depth, NULL, 0, &none,
	    err)) != LT_OK)
		return rc;
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL)
		return lt_err_set(err, LT_EPARSE, "", "not json");
	if (!cJSON_IsObject(root)) {
		rc = lt_err_set(err, LT_EINVAL, "", "not a json object");
		goto fail;
	}
	if ((box = calloc(1, sizeof(*box))) == NULL) {
		rc = lt_err_set(err, LT_ENOMEM, "", "out of memory");
		goto fail;
	}
	box->ev.release = release;
	box->ev.kind = LT_K_V2_HEARTBEAT;
	box->ev.v2 = &box->v2;
	D.box = box;
	D.lim = lim;
	D.err = err;
	if ((rc = dec_root(&D, root, subj_host)) != LT_OK ||
	    (rc = envelope(&D, buf, len, received_ms)) != LT_OK)
		goto fail;
	cJSON_Delete(root);
	*out = &box->ev;
	return LT_OK;
fail:
	if (box != NULL)
		release(&box->ev);
	cJSON_Delete(root);
	return rc;
}
