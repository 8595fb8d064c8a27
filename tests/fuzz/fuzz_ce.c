/*
 * fuzz_ce.c - libFuzzer harness for lt_ce_parse() and its deferred form.
 *
 * Each input is one message body.  It is decoded with the default limits
 * and again with tight ones; on success every documented promise of ce.h
 * is checked (strings NUL-terminated, valid UTF-8, JSON-valued fields are
 * compact JSON of the right kind, counts sane, the decode deterministic).
 * A broken promise is an abort(), which libFuzzer reports as a crash.
 *
 * "Not JSON" is judged by SQLite's json_valid() (RFC 8259): the fold
 * stores the payload in events.payload, whose generated column `data`
 * runs json_extract() on it, so anything the decoder accepts must be JSON
 * to SQLite too, or the INSERT fails and takes the whole batch with it.
 * FUZZ_SKIP_NONJSON=1 turns that one check off (to hunt past the bug).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "ce.h"
#include "err.h"

#define PREFIX	"com.wasmcloud.lattice."

/* Abort with a message when cond is false. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_ce: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Return 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t	i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n >= len - i)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Check an optional string: NUL-terminated (ASan sees overreads), UTF-8. */
static void
check_str(const char *s)
{
	if (s == NULL)
		return;
	CHECK(utf8_ok((const unsigned char *)s, strlen(s)));
}

/* Return 1 if JSON text s has no whitespace outside strings. */
static int
compact_ok(const char *s)
{
	int	instr = 0;

	for (; *s != '\0'; s++) {
		if (instr) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				instr = 0;
		} else if (*s == '"')
			instr = 1;
		else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			return 0;
	}
	return 1;
}

/* Check an optional JSON-valued field: compact JSON of the given kind. */
static void
check_json(const char *s, int want_object)
{
	cJSON	*j;

	if (s == NULL)
		return;
	check_str(s);
	CHECK(compact_ok(s));
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	if (want_object)
		CHECK(cJSON_IsObject(j));
	else
		CHECK(cJSON_IsArray(j));
	cJSON_Delete(j);
}

/* Check one component description. */
static void
check_component(const struct lt_ce_component *c)
{
	CHECK(c->id != NULL);
	check_str(c->id);
	check_str(c->image_ref);
	check_str(c->name);
	check_json(c->annotations, 1);
	CHECK(c->max_instances >= 0);
}

/* Check one provider description. */
static void
check_provider(const struct lt_ce_provider *p, int need_id)
{
	if (need_id)
		CHECK(p->id != NULL);
	check_str(p->id);
	check_str(p->link_name);
	check_str(p->image_ref);
	check_str(p->name);
	check_str(p->contract_id);
	check_json(p->annotations, 1);
	if (need_id)
		CHECK(p->link_name != NULL);
}

static sqlite3		*jdb;	/* for json_valid(), harness only */
static sqlite3_stmt	*jvalid;

/* Return 1 if SQLite's JSON1 accepts data[0..size) as JSON. */
static int
sqlite_json_ok(const uint8_t *data, size_t size)
{
	int	v;

	if (jdb == NULL) {
		CHECK(sqlite3_open(":memory:", &jdb) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(jdb, "SELECT json_valid(?1)", -1,
		    &jvalid, NULL) == SQLITE_OK);
	}
	CHECK(sqlite3_bind_text(jvalid, 1, (const char *)data, (int)size,
	    SQLITE_STATIC) == SQLITE_OK);
	CHECK(sqlite3_step(jvalid) == SQLITE_ROW);
	v = sqlite3_column_int(jvalid, 0);
	sqlite3_reset(jvalid);
	return v;
}

/* Check the promises ce.h makes about a decoded event. */
static void
check_event(const struct lt_ce *ev, const struct lt_limits *lim)
{
	size_t	i;

	CHECK(ev->id != NULL && ev->source != NULL && ev->type != NULL);
	CHECK(ev->name != NULL);
	check_str(ev->id);
	check_str(ev->source);
	check_str(ev->type);
	check_str(ev->name);
	/* name is type without the prefix (or the whole type). */
	if (strncmp(ev->type, PREFIX, strlen(PREFIX)) == 0)
		CHECK(strcmp(ev->name, ev->type + strlen(PREFIX)) == 0);
	check_str(ev->time_raw);
	if (ev->data != NULL) {
		/* The `data` member as sent: JSON text, no NUL. */
		CHECK(ev->data_len > 0);
		CHECK(memchr(ev->data, '\0', ev->data_len) == NULL);
		if (getenv("FUZZ_SKIP_NONJSON") == NULL)
			CHECK(sqlite_json_ok((const uint8_t *)ev->data,
			    ev->data_len));
	} else
		CHECK(ev->data_len == 0);
	if (ev->time_ok)
		CHECK(ev->time_raw != NULL);
	check_str(ev->error);
	check_str(ev->host_id);
	CHECK(ev->kind >= 0 && ev->kind < LT_K_COUNT);
	CHECK(ev->failure >= LT_FAIL_NONE && ev->failure <= LT_FAIL_RPC);
	if (ev->failure != LT_FAIL_NONE)
		CHECK(ev->kind == LT_K_RECORDED);
	check_json(ev->labels, 1);
	check_str(ev->friendly_name);
	check_str(ev->version);
	check_str(ev->reason);
	if (ev->has_uptime)
		CHECK(ev->uptime_seconds >= 0 &&
		    ev->uptime_seconds <= lim->max_uptime);

	switch (ev->kind) {
	case LT_K_HOST_STARTED:
	case LT_K_HOST_STOPPED:
	case LT_K_HOST_HEARTBEAT:
	case LT_K_LABELS_CHANGED:
	case LT_K_COMPONENT:
	case LT_K_PROVIDER_STARTED:
	case LT_K_PROVIDER_STOPPED:
	case LT_K_PROVIDER_HEALTH:
		CHECK(ev->host_id != NULL);
		break;
	default:
		break;
	}

	if (ev->kind == LT_K_HOST_HEARTBEAT) {
		CHECK(ev->ncomponents <= lim->max_items);
		CHECK(ev->nproviders <= lim->max_items);
		CHECK(ev->ncomponents == 0 || ev->components != NULL);
		CHECK(ev->nproviders == 0 || ev->providers != NULL);
		if (!ev->has_inventory)
			CHECK(ev->ncomponents == 0 && ev->nproviders == 0);
		for (i = 0; i < ev->ncomponents; i++) {
			check_component(&ev->components[i]);
			CHECK(ev->components[i].max_instances <=
			    lim->max_instances);
			if (ev->comp_counts_only)
				CHECK(ev->components[i].image_ref == NULL);
		}
		for (i = 0; i < ev->nproviders; i++)
			check_provider(&ev->providers[i], 1);
	} else
		CHECK(ev->ncomponents == 0 && ev->nproviders == 0);

	if (ev->kind == LT_K_COMPONENT) {
		CHECK(ev->comp_op == LT_COMP_SET || ev->comp_op == LT_COMP_ADD ||
		    ev->comp_op == LT_COMP_META);
		check_component(&ev->component);
		if (ev->comp_op == LT_COMP_SET)
			CHECK(ev->comp_count >= 0 &&
			    ev->comp_count <= lim->max_instances);
		else
			CHECK(ev->comp_count >= -lim->max_instances &&
			    ev->comp_count <= lim->max_instances);
	}
	if (ev->kind == LT_K_PROVIDER_STARTED ||
	    ev->kind == LT_K_PROVIDER_STOPPED ||
	    ev->kind == LT_K_PROVIDER_HEALTH)
		check_provider(&ev->provider, 1);
	else
		check_provider(&ev->provider, 0);
	if (ev->kind == LT_K_PROVIDER_HEALTH)
		CHECK(ev->health == LT_HEALTH_PASSING ||
		    ev->health == LT_HEALTH_FAILING ||
		    ev->health == LT_HEALTH_STATUS);

	if (ev->kind == LT_K_LINK_SET || ev->kind == LT_K_LINK_DELETED) {
		CHECK(ev->link.source_id != NULL && ev->link.name != NULL);
		CHECK(ev->link.wit_namespace != NULL &&
		    ev->link.wit_package != NULL);
	}
	check_str(ev->link.source_id);
	check_str(ev->link.target);
	check_str(ev->link.name);
	check_str(ev->link.wit_namespace);
	check_str(ev->link.wit_package);
	check_json(ev->link.interfaces, 0);
	check_json(ev->link.source_config, 0);
	check_json(ev->link.target_config, 0);
	check_json(ev->link.legacy_values, 1);

	if (ev->kind == LT_K_CONFIG_SET || ev->kind == LT_K_CONFIG_DELETED)
		CHECK(ev->config_name != NULL);
	check_str(ev->config_name);
	check_str(ev->config_key);
}

/*
 * Decode with lim; on success check and return the event.  deferred: the
 * fold's way, LT_CE_DEFER_INVENTORY then lt_ce_inventory() (after
 * lt_ce_inventory_prepare() for inputs of odd size).
 */
static int
parse(const uint8_t *data, size_t size, const struct lt_limits *lim,
    int deferred, struct lt_ce **out)
{
	struct lt_err	 err;
	int		 rc;

	memset(&err, 0x5a, sizeof(err));
	*out = (struct lt_ce *)(uintptr_t)1;
	rc = lt_ce_parse_flags((const char *)data, size, lim,
	    deferred ? LT_CE_DEFER_INVENTORY : 0, out, &err);
	if (rc == LT_OK && deferred) {
		CHECK(*out != NULL);
		if ((*out)->inventory_deferred)
			CHECK((*out)->ncomponents == 0 &&
			    (*out)->nproviders == 0);
		if ((*out)->inventory_deferred && size % 2 == 1) {
			/* decoded ahead, as the decode stage does: it still
			   reads as deferred until adopted */
			CHECK(lt_ce_inventory_prepare(*out, lim) == LT_OK);
			CHECK((*out)->inventory_deferred &&
			    (*out)->ncomponents == 0 &&
			    (*out)->nproviders == 0);
		}
		if ((rc = lt_ce_inventory(*out, lim, &err)) != LT_OK) {
			lt_ce_free(*out);
			*out = NULL;
		} else
			CHECK(!(*out)->inventory_deferred);
	}
	if (rc == LT_OK) {
		CHECK(*out != NULL);
		check_event(*out, lim);
	} else {
		CHECK(*out == NULL);
		CHECK(rc == LT_EPARSE || rc == LT_EINVAL || rc == LT_ELIMIT ||
		    rc == LT_EUNSUPPORTED || rc == LT_ENOMEM);
		CHECK(err.code == rc);
		/* Messages and fields are NUL-terminated in their arrays. */
		CHECK(memchr(err.field, '\0', sizeof(err.field)) != NULL);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		check_str(err.field);
		check_str(err.msg);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_limits lim, tight;
	struct lt_ce	*a = NULL, *b = NULL;
	int		 ra, rb;

	lt_limits_default(&lim);
	ra = parse(data, size, &lim, 0, &a);
	if (ra == LT_OK && getenv("FUZZ_SKIP_NONJSON") == NULL &&
	    !sqlite_json_ok(data, size)) {
		fprintf(stderr, "fuzz_ce: lt_ce_parse accepted a message "
		    "SQLite's json_valid() rejects (raw control character, "
		    "leading zero, ...): the fold cannot store it\n");
		abort();
	}

	/* Deterministic, and the fold's deferred decode agrees. */
	rb = parse(data, size, &lim, 1, &b);
	CHECK(ra == rb);
	if (ra == LT_OK) {
		CHECK(a->kind == b->kind);
		CHECK(strcmp(a->id, b->id) == 0);
		CHECK(a->ncomponents == b->ncomponents);
		CHECK(a->nproviders == b->nproviders);
		CHECK(a->has_inventory == b->has_inventory);
		CHECK(a->has_inventory_raw == b->has_inventory_raw);
		CHECK(a->inventory_raw == b->inventory_raw);
		if (a->kind == LT_K_HOST_HEARTBEAT)
			CHECK(a->inventory_hash == b->inventory_hash);
	}
	lt_ce_free(b);
	b = NULL;

	/* Tight limits: what fails with the defaults fails here too. */
	tight = lim;
	tight.max_payload = 4096;
	tight.max_depth = 4;
	tight.max_string = 64;
	tight.max_items = 2;
	tight.max_pairs = 2;
	tight.max_instances = 10;
	tight.max_uptime = 1000;
	rb = parse(data, size, &tight, 1, &b);
	if (ra != LT_OK && ra != LT_ENOMEM)
		CHECK(rb != LT_OK);
	lt_ce_free(b);
	lt_ce_free(a);
	lt_ce_free(NULL);
	return 0;
}
