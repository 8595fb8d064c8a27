/*
 * check_invcache.c - decoding a heartbeat's inventory ahead, on the decode
 * stage: the stage's per-host cache (lib/invcache.c: hit, miss, eviction,
 * forget), lt_ce_inventory_prepare() giving exactly what lt_ce_inventory()
 * gives, and the fold ending with the same model whether an inventory was
 * decoded early, late, or the stage guessed wrong either way; and a big
 * host's heartbeat diffed against the fold's memo of its last inventory
 * writing what the diff against every row writes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ce.h"
#include "fold.h"
#include "invcache.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"
#include "timeutil.h"

#define BASE	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define H	"NBJA6SRRAF5RDCQPGH4GH5ZSEAFLFTFZVSWDIZ6NJ6WHBBRJXMUZMHQU"
#define PK	"MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"

/* --- the cache ------------------------------------------------------ */

START_TEST(test_cache_hit_miss)
{
	struct lt_invcache *ic;

	ck_assert_int_eq(lt_invcache_new(0, &ic), LT_OK);
	/* unknown: decode */
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 7), 1);
	/* the same: no decode */
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 7), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 7), 0);
	/* changed, then the same again */
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 8), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 8), 0);
	/* the lattice is part of the key; latlen bounds it */
	ck_assert_int_eq(lt_invcache_changed(ic, "b", 1, "h1", 8), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "ab", 1, "h1", 8), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "", 0, "h1", 8), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h2", 8), 1);
	/* forgotten: decode, whatever the hash */
	lt_invcache_forget(ic, "a", 1, "h1");
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 8), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 8), 0);
	/* forgetting what is unknown is fine */
	lt_invcache_forget(ic, "zz", 2, "nobody");
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h2", 8), 0);
	lt_invcache_free(ic);
	lt_invcache_free(NULL);
}
END_TEST

START_TEST(test_cache_eviction)
{
	struct lt_invcache *ic;
	char host[16];
	int i;

	/* 4 entries: one set, every host shares it */
	ck_assert_int_eq(lt_invcache_new(4, &ic), LT_OK);
	for (i = 0; i < 4; i++) {
		snprintf(host, sizeof(host), "h%d", i);
		ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, host, 1), 1);
	}
	for (i = 0; i < 4; i++) {
		snprintf(host, sizeof(host), "h%d", i);
		ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, host, 1), 0);
	}
	/* h0 used last of all: h1 is the least recently used */
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h0", 1), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h4", 1), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h0", 1), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h2", 1), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h3", 1), 0);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h4", 1), 0);
	/* evicted: a miss again (which evicts the next one, h0) */
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h1", 1), 1);
	ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, "h0", 1), 1);
	lt_invcache_free(ic);

	/* a big cache keeps a fleet of 1,000 hosts whole */
	ck_assert_int_eq(lt_invcache_new(0, &ic), LT_OK);
	for (i = 0; i < 2000; i++) {
		snprintf(host, sizeof(host), "h%d", i % 1000);
		ck_assert_int_eq(lt_invcache_changed(ic, "a", 1, host, 5),
		    i < 1000);
	}
	lt_invcache_free(ic);
}
END_TEST

/* --- lt_ce_inventory_prepare() ---------------------------------------- */

/* A 1.x heartbeat of host H with its data's inventory members inv. */
static char *
hb(const char *id, int64_t t_ms, const char *inv)
{
	char tb[LT_TIME_BUFSZ], *buf;
	size_t cap = strlen(inv) + 1024;

	ck_assert_ptr_nonnull(buf = malloc(cap));
	snprintf(buf, cap, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"" H "\",\"type\":\"com.wasmcloud.lattice."
	    "host_heartbeat\",\"time\":\"%s\",\"data\":{%s%s\"host_id\":\""
	    H "\",\"friendly_name\":\"h\",\"labels\":{},\"version\":"
	    "\"1.9.2\",\"uptime_seconds\":5}}", id, lt_time_format(BASE +
	    t_ms, tb), inv, inv[0] != '\0' ? "," : "");
	return buf;
}

/* Any other CloudEvent of host H: type (short), time BASE + t_ms, data. */
static char *
ce(const char *id, const char *type, int64_t t_ms, const char *data)
{
	char tb[LT_TIME_BUFSZ], *buf;
	size_t cap = strlen(data) + 512;

	ck_assert_ptr_nonnull(buf = malloc(cap));
	snprintf(buf, cap, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"" H "\",\"type\":\"com.wasmcloud.lattice.%s\","
	    "\"time\":\"%s\",\"data\":%s}", id, type, lt_time_format(BASE +
	    t_ms, tb), data);
	return buf;
}

/* Decode buf deferred; prepare it first when early. */
static struct lt_ce *
parse(const char *buf, const struct lt_limits *plim, int early)
{
	struct lt_ce *ev;
	struct lt_err err;

	ck_assert_int_eq(lt_ce_parse_flags(buf, strlen(buf), NULL,
	    LT_CE_DEFER_INVENTORY, &ev, &err), LT_OK);
	ck_assert_int_eq(ev->inventory_deferred, 1);
	if (early) {
		ck_assert_int_eq(lt_ce_inventory_prepare(ev, plim), LT_OK);
		/* still reads as deferred */
		ck_assert_int_eq(ev->inventory_deferred, 1);
		ck_assert_int_eq(ev->has_inventory, 1);
		ck_assert_uint_eq(ev->ncomponents, 0);
		ck_assert_uint_eq(ev->nproviders, 0);
		ck_assert_ptr_null(ev->components);
		ck_assert(ev->inventory_hash == 0);
		/* a second prepare is a no-op */
		ck_assert_int_eq(lt_ce_inventory_prepare(ev, plim), LT_OK);
	}
	return ev;
}

/* Two events' inventories are the same. */
static void
same_inventory(const struct lt_ce *a, const struct lt_ce *b)
{
	size_t i;

	ck_assert_int_eq(a->inventory_deferred, b->inventory_deferred);
	ck_assert_int_eq(a->comp_counts_only, b->comp_counts_only);
	ck_assert_uint_eq(a->ncomponents, b->ncomponents);
	ck_assert_uint_eq(a->nproviders, b->nproviders);
	ck_assert(a->inventory_hash == b->inventory_hash);
	for (i = 0; i < a->ncomponents; i++) {
		ck_assert_str_eq(a->components[i].id, b->components[i].id);
		ck_assert_int_eq(a->components[i].max_instances,
		    b->components[i].max_instances);
	}
	for (i = 0; i < a->nproviders; i++)
		ck_assert_str_eq(a->providers[i].id, b->providers[i].id);
}

START_TEST(test_prepare_like_late)
{
	static const char *const invs[] = {
		"\"components\":[{\"id\":\"a\",\"image_ref\":\"x\","
		    "\"max_instances\":2},{\"id\":\"b\",\"annotations\":"
		    "{\"k\":\"v\"},\"revision\":3}],\"providers\":[{\"id\":"
		    "\"p\",\"name\":\"n\"}]",
		"\"actors\":{\"" PK "\":2}",
		"\"actors\":[{\"id\":\"" PK "\",\"instances\":[{},{}]}]",
		"\"providers\":[]",
	};
	struct lt_limits dl;
	struct lt_err e1, e2;
	struct lt_ce *a, *b;
	size_t i;
	char *buf;

	lt_limits_default(&dl);
	for (i = 0; i < sizeof(invs) / sizeof(invs[0]); i++) {
		buf = hb("x", 0, invs[i]);
		a = parse(buf, &dl, 1);
		b = parse(buf, &dl, 0);
		ck_assert_int_eq(lt_ce_inventory(a, &dl, &e1), LT_OK);
		ck_assert_int_eq(lt_ce_inventory(b, &dl, &e2), LT_OK);
		same_inventory(a, b);
		/* adopted once: again is a no-op */
		ck_assert_int_eq(lt_ce_inventory(a, &dl, &e1), LT_OK);
		same_inventory(a, b);
		lt_ce_free(a);
		lt_ce_free(b);
		free(buf);
	}
}
END_TEST

START_TEST(test_prepare_error)
{
	struct lt_limits dl, one;
	struct lt_err e1, e2;
	struct lt_ce *a, *b;
	char *buf;

	lt_limits_default(&dl);
	/* a bad item: the same error, every time it is asked */
	buf = hb("x", 0, "\"components\":[{\"id\":\"a\"},{\"id\":3}]");
	a = parse(buf, &dl, 1);
	b = parse(buf, &dl, 0);
	ck_assert_int_eq(lt_ce_inventory(b, &dl, &e2), LT_EINVAL);
	ck_assert_int_eq(lt_ce_inventory(a, &dl, &e1), LT_EINVAL);
	ck_assert_str_eq(e1.field, e2.field);
	ck_assert_str_eq(e1.msg, e2.msg);
	ck_assert_int_eq(a->inventory_deferred, 1);
	memset(&e1, 0, sizeof(e1));
	ck_assert_int_eq(lt_ce_inventory(a, &dl, &e1), LT_EINVAL);
	ck_assert_str_eq(e1.field, e2.field);
	lt_ce_free(a);
	lt_ce_free(b);
	free(buf);

	/* prepared under other limits: decoded afresh under the fold's */
	buf = hb("x", 0, "\"components\":[{\"id\":\"a\"},{\"id\":\"b\"}]");
	one = dl;
	one.max_items = 1;
	a = parse(buf, &dl, 1);
	ck_assert_int_eq(lt_ce_inventory(a, &one, &e1), LT_ELIMIT);
	lt_ce_free(a);
	a = parse(buf, &one, 1);
	ck_assert_int_eq(lt_ce_inventory(a, &dl, &e1), LT_OK);
	ck_assert_uint_eq(a->ncomponents, 2);
	lt_ce_free(a);
	/* an event without a deferred inventory: nothing to do */
	ck_assert_int_eq(lt_ce_inventory_prepare(NULL, &dl), LT_OK);
	free(buf);
}
END_TEST

/* --- the fold: early, late or guessed wrong, the same model ---------- */

enum mode {
	M_LATE,		/* no decode ahead: the fold decodes (as before) */
	M_CACHE,	/* one cache through the sequence: the stage */
	M_ALWAYS,	/* every inventory decoded ahead (restart, eviction) */
	M_NEVER,	/* the cache always wrong: "unchanged" (the fold
			   decodes what it needs) */
};

struct step {
	const char	*type;	/* without the prefix */
	const char	*data;	/* for a heartbeat: the inventory members */
	int		 rollback; /* fold, roll back, fold again */
};

#define C(id, img, n) "{\"id\":\"" id "\",\"image_ref\":\"" img "\"," \
	"\"name\":\"" id "\",\"max_instances\":" #n "}"
#define P(id) "{\"id\":\"" id "\",\"name\":\"" id "\"}"

static const struct step steps[] = {
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    C("b", "i1", 2) "," C("c", "i1", 3) "],\"providers\":[" P("p")
	    "]", 0 },
	/* unchanged */
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    C("b", "i1", 2) "," C("c", "i1", 3) "],\"providers\":[" P("p")
	    "]", 0 },
	/* one change, rolled back once */
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    C("b", "i2", 2) "," C("c", "i1", 3) "],\"providers\":[" P("p")
	    "]", 1 },
	/* a component event: the next heartbeat diffs whatever it says */
	{ "component_scaled", "{\"host_id\":\"" H "\",\"component_id\":"
	    "\"d\",\"image_ref\":\"i9\",\"max_instances\":4,"
	    "\"annotations\":{}}", 0 },
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    C("b", "i2", 2) "," C("c", "i1", 3) "],\"providers\":[" P("p")
	    "]", 0 },
	/* a bad item: rejected */
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    "{\"id\":7}],\"providers\":[" P("p") "]", 0 },
	/* back to what the model holds */
	{ "host_heartbeat", "\"components\":[" C("a", "i1", 1) ","
	    C("b", "i2", 2) "," C("c", "i1", 3) "],\"providers\":[" P("p")
	    "]", 0 },
	/* items gone, a provider more, one rolled back */
	{ "host_heartbeat", "\"components\":[" C("c", "i1", 5) "],"
	    "\"providers\":[" P("p") "," P("q") "]", 1 },
	{ "provider_stopped", "{\"host_id\":\"" H "\",\"provider_id\":"
	    "\"q\",\"link_name\":\"default\",\"reason\":\"x\"}", 0 },
	{ "host_heartbeat", "\"components\":[" C("c", "i1", 5) "],"
	    "\"providers\":[" P("p") "," P("q") "]", 0 },
	/* the OTP map */
	{ "host_heartbeat", "\"actors\":{\"" PK "\":2}", 0 },
	{ "host_heartbeat", "\"actors\":{\"" PK "\":3}", 0 },
	{ "host_stopped", "{\"host_id\":\"" H "\",\"reason\":\"bye\"}", 0 },
	{ "host_heartbeat", "\"actors\":{\"" PK "\":3}", 0 },
	{ "host_heartbeat", "\"actors\":{\"" PK "\":3}", 0 },
};

/* Fold the steps in mode; the outcomes go to outs. */
static void
fold_steps(enum mode mode, enum lt_outcome *outs)
{
	struct lt_invcache *ic, *once;
	struct lt_limits dl;
	struct lt_decoded *d;
	struct lt_msg m;
	struct lt_err err;
	char id[32], subj[128];
	char *buf;
	size_t i;
	int k;

	lt_limits_default(&dl);
	ck_assert_int_eq(lt_invcache_new(0, &ic), LT_OK);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];

		snprintf(id, sizeof(id), "ev-%zu", i);
		snprintf(subj, sizeof(subj), "wasmbus.evt.edge.%s", s->type);
		if (strcmp(s->type, "host_heartbeat") == 0)
			buf = hb(id, (int64_t)i * 1000, s->data);
		else
			buf = ce(id, s->type, (int64_t)i * 1000, s->data);
		memset(&m, 0, sizeof(m));
		m.subject = subj;
		m.data = buf;
		m.len = strlen(buf);
		m.received_ms = BASE + (int64_t)i * 1000;
		ck_assert_int_eq(lt_fold_decode(&dl, &m, &d), LT_OK);
		switch (mode) {
		case M_LATE:
			break;
		case M_CACHE:
			ck_assert_int_eq(lt_fold_decode_ahead(d, &dl, ic),
			    LT_OK);
			break;
		case M_ALWAYS:
			ck_assert_int_eq(lt_invcache_new(4, &once), LT_OK);
			ck_assert_int_eq(lt_fold_decode_ahead(d, &dl, once),
			    LT_OK);
			lt_invcache_free(once);
			break;
		case M_NEVER:
			if (d->rc == LT_OK && d->ev->has_inventory_raw)
				(void)lt_invcache_changed(ic, "edge", 4, H,
				    d->ev->inventory_raw);
			ck_assert_int_eq(lt_fold_decode_ahead(d, &dl, ic),
			    LT_OK);
			if (d->rc == LT_OK && d->ev->inventory_deferred)
				/* the guess was "unchanged" */
				ck_assert_int_eq(d->ev->ncomponents, 0);
			break;
		}
		for (k = s->rollback ? 0 : 1; k < 2; k++) {
			ck_assert_int_eq(lt_fold_begin(fd, &err), LT_OK);
			ck_assert_int_eq(lt_fold_apply(fd, &m, d, &outs[i],
			    NULL, &err), LT_OK);
			if (k == 0)
				lt_fold_rollback(fd);
			else
				ck_assert_int_eq(lt_fold_commit(fd, &err),
				    LT_OK);
		}
		lt_decoded_free(d);
		free(buf);
	}
	lt_invcache_free(ic);
}

/* Every row of every table, as text. */
static char *
dump(void)
{
	sqlite3_stmt *t, *s;
	char sql[256], *out = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(sqlite3_prepare_v2(st->db, "SELECT name FROM "
	    "sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
	    "ORDER BY name", -1, &t, NULL), SQLITE_OK);
	while (sqlite3_step(t) == SQLITE_ROW) {
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1",
		    (const char *)sqlite3_column_text(t, 0));
		fprintf(f, "== %s\n", (const char *)sqlite3_column_text(t, 0));
		ck_assert_int_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL),
		    SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (i = 0; i < sqlite3_column_count(s); i++)
				fprintf(f, "%s|", sqlite3_column_type(s, i) ==
				    SQLITE_NULL ? "<null>" :
				    (const char *)sqlite3_column_text(s, i));
			fputc('\n', f);
		}
		sqlite3_finalize(s);
	}
	sqlite3_finalize(t);
	fclose(f);
	return out;
}

START_TEST(test_fold_early_late_same)
{
	enum lt_outcome outs[4][sizeof(steps) / sizeof(steps[0])];
	char *dumps[4];
	size_t i;
	int mode;

	for (mode = M_LATE; mode <= M_NEVER; mode++) {
		if (mode > M_LATE) {
			teardown();
			setup();
		}
		fold_steps(mode, outs[mode]);
		dumps[mode] = dump();
	}
	/* the sequence does what it says */
	ck_assert_int_eq(outs[M_LATE][0], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[M_LATE][1], LT_OUT_UNCHANGED);
	ck_assert_int_eq(outs[M_LATE][2], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[M_LATE][4], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[M_LATE][5], LT_OUT_REJECTED);
	ck_assert_int_eq(outs[M_LATE][6], LT_OUT_UNCHANGED);
	ck_assert_int_eq(outs[M_LATE][9], LT_OUT_APPLIED);
	ck_assert_ptr_nonnull(strstr(dumps[M_LATE], "|" PK "|<null>|<null>|3|"));
	for (mode = M_CACHE; mode <= M_NEVER; mode++) {
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			ck_assert_msg(outs[mode][i] == outs[M_LATE][i],
			    "mode %d step %zu: %s, late %s", mode, i,
			    lt_outcome_name(outs[mode][i]),
			    lt_outcome_name(outs[M_LATE][i]));
		ck_assert_str_eq(dumps[mode], dumps[M_LATE]);
	}
	for (mode = M_LATE; mode <= M_NEVER; mode++)
		free(dumps[mode]);
}
END_TEST

/*
 * Whether the stage decoded ev's inventory ahead: change the first item's
 * id in the event's own copy of data, then adopt.  Decoded ahead, the item
 * keeps its id; decoded now, it reads the changed one.
 */
static int
was_prepared(struct lt_ce *ev)
{
	static const char *const marks[] = { "\"components\":[{\"id\":\"",
	    "\"actors\":{\"" };
	struct lt_err err;
	char *p = NULL;
	size_t i;

	for (i = 0; i < 2 && p == NULL; i++)
		if ((p = strstr((char *)ev->data, marks[i])) != NULL)
			p += strlen(marks[i]);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ne(*p, 'Z');
	*p = 'Z';
	ck_assert_int_eq(lt_ce_inventory(ev, NULL, &err), LT_OK);
	ck_assert_uint_gt(ev->ncomponents, 0);
	return ev->components[0].id[0] != 'Z';
}

/* The stage's cache follows the fold: decoded ahead only what changed. */
START_TEST(test_ahead_follows_changes)
{
	/* 1: decoded ahead, 0: not, -1: not a heartbeat, -2: a bad item */
	static const int want[] = { 1, 0, 1, -1, 1, -2, 1, 1, -1, 1, 1, 1,
	    -1, 1, 0 };
	struct lt_invcache *ic;
	struct lt_decoded *d;
	struct lt_msg m;
	char subj[128], *buf;
	size_t i;

	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]),
	    sizeof(steps) / sizeof(steps[0]));
	ck_assert_int_eq(lt_invcache_new(0, &ic), LT_OK);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];

		snprintf(subj, sizeof(subj), "wasmbus.evt.edge.%s", s->type);
		if (strcmp(s->type, "host_heartbeat") == 0)
			buf = hb("x", 0, s->data);
		else
			buf = ce("x", s->type, 0, s->data);
		memset(&m, 0, sizeof(m));
		m.subject = subj;
		m.data = buf;
		m.len = strlen(buf);
		m.received_ms = BASE;
		/* default limits, as was_prepared() adopts with */
		ck_assert_int_eq(lt_fold_decode(NULL, &m, &d), LT_OK);
		ck_assert_int_eq(lt_fold_decode_ahead(d, NULL, ic), LT_OK);
		ck_assert_int_eq(d->rc, LT_OK);
		if (want[i] >= 0)
			ck_assert_msg(was_prepared(d->ev) == want[i],
			    "step %zu: decoded ahead %d, want %d", i,
			    !want[i], want[i]);
		lt_decoded_free(d);
		free(buf);
	}
	lt_invcache_free(ic);
}
END_TEST

/* --- the fold's memo of a big host's last inventory ------------------ */

#define NBIG	600	/* over MEMO_MIN */

/* The inventory members of variant v of a big host. */
static char *
big_inv(int v)
{
	char *buf, *o;
	size_t cap = NBIG * 200 + 4096;
	int i, n = NBIG;

	ck_assert_ptr_nonnull(buf = malloc(cap));
	o = buf;
	if (v >= 20) {
		/* the OTP map: counts only */
		o += sprintf(o, "\"actors\":{");
		for (i = 0; i < n; i++) {
			if (v == 22 && i == 9)
				continue;	/* one gone */
			o += sprintf(o, "%s\"M%04d\":%d", i ? "," : "", i,
			    v == 21 && i == 5 ? 7 : 1 + i % 3);
		}
		o += sprintf(o, "}");
		return buf;
	}
	o += sprintf(o, "\"components\":[");
	for (i = 0; i < n; i++) {
		const char *img = "img:1", *ann = "{\"a\":\"b\"}";
		int max = 1 + i % 4, rev = i;

		if (v == 2 && i == 42)
			img = "img:2";			/* one changed */
		if (v == 3 && i % 50 == 0)
			img = NULL;			/* left out: kept */
		if (v == 4 && i == 100)
			continue;			/* one gone */
		if (v == 4 && i == 101)
			max = 0;			/* 0: absent */
		if (v == 5 && i == 7)
			rev = 1000;			/* a revision */
		if (v == 6 && i == 8)
			ann = "{\"a\":\"c\"}";		/* annotations */
		if (v == 8 && i == 300)
			max = 9;
		if (v == 9 && i == 301)
			max = 9;
		o += sprintf(o, "%s{\"id\":\"c%04d\"", i ? "," : "", i);
		if (img != NULL)
			o += sprintf(o, ",\"image_ref\":\"%s\"", img);
		o += sprintf(o, ",\"name\":\"n%d\",\"annotations\":%s,"
		    "\"revision\":%d,\"max_instances\":%d}", i, ann, rev,
		    max);
	}
	if (v == 4)
		o += sprintf(o, ",{\"id\":\"new\",\"max_instances\":2}");
	if (v == 7)
		/* an id twice: diffed against every row */
		o += sprintf(o, ",{\"id\":\"c0003\",\"max_instances\":5}");
	o += sprintf(o, "],\"providers\":[" P("p") "]");
	return buf;
}

/* One step of the big host's story. */
struct bstep {
	int		 v;		/* big_inv() variant; -1: an event */
	const char	*type;		/* the event's type */
	const char	*data;
	int		 rollback;	/* fold, roll back, fold again; 2:
					   roll back and go on */
};

static const struct bstep bsteps[] = {
	{ 0, NULL, NULL, 0 },
	{ 0, NULL, NULL, 0 },
	{ 2, NULL, NULL, 0 },
	{ 3, NULL, NULL, 0 },
	{ 0, NULL, NULL, 0 },
	{ 4, NULL, NULL, 0 },
	{ 5, NULL, NULL, 0 },
	{ 6, NULL, NULL, 1 },
	{ 7, NULL, NULL, 0 },
	{ 0, NULL, NULL, 0 },
	{ 2, NULL, NULL, 0 },
	{ -1, "component_scaled", "{\"host_id\":\"" H "\",\"component_id\":"
	    "\"c0010\",\"image_ref\":\"x\",\"max_instances\":7}", 0 },
	{ 2, NULL, NULL, 0 },
	{ 0, NULL, NULL, 0 },
	/* applied, then rolled back: the memo is newer than the rows */
	{ 8, NULL, NULL, 2 },
	{ 9, NULL, NULL, 0 },
	{ 8, NULL, NULL, 0 },
	{ 20, NULL, NULL, 0 },
	{ 21, NULL, NULL, 0 },
	{ 22, NULL, NULL, 0 },
	{ 20, NULL, NULL, 0 },
	{ -1, "host_stopped", "{\"host_id\":\"" H "\",\"reason\":\"x\"}", 0 },
	{ 0, NULL, NULL, 0 },
	{ 2, NULL, NULL, 0 },
};

/* Fold the big host's story: with one fold (its memo used), or a fresh
   fold for each event (every diff against every row). */
static void
fold_big(int fresh, enum lt_outcome *outs)
{
	char id[32], subj[128], *buf, *inv;
	struct lt_fold *f;
	struct lt_decoded *d;
	struct lt_msg m;
	struct lt_err err;
	size_t i;
	int k;

	for (i = 0; i < sizeof(bsteps) / sizeof(bsteps[0]); i++) {
		const struct bstep *s = &bsteps[i];

		snprintf(id, sizeof(id), "big-%zu", i);
		if (s->v >= 0) {
			snprintf(subj, sizeof(subj),
			    "wasmbus.evt.edge.host_heartbeat");
			inv = big_inv(s->v);
			buf = hb(id, (int64_t)i * 1000, inv);
			free(inv);
		} else {
			snprintf(subj, sizeof(subj), "wasmbus.evt.edge.%s",
			    s->type);
			buf = ce(id, s->type, (int64_t)i * 1000, s->data);
		}
		memset(&m, 0, sizeof(m));
		m.subject = subj;
		m.data = buf;
		m.len = strlen(buf);
		m.received_ms = BASE + (int64_t)i * 1000;
		if (fresh)
			ck_assert_int_eq(lt_fold_new(st, NULL, &f, NULL),
			    LT_OK);
		else
			f = fd;
		ck_assert_int_eq(lt_fold_decode(NULL, &m, &d), LT_OK);
		for (k = s->rollback == 1 ? 0 : 1; k < 2; k++) {
			ck_assert_int_eq(lt_fold_begin(f, &err), LT_OK);
			ck_assert_int_eq(lt_fold_apply(f, &m, d, &outs[i],
			    NULL, &err), LT_OK);
			if (k == 0 || s->rollback == 2)
				lt_fold_rollback(f);
			else
				ck_assert_int_eq(lt_fold_commit(f, &err),
				    LT_OK);
		}
		if (s->rollback == 2)
			outs[i] = LT_OUT_RECORDED;	/* nothing kept */
		lt_decoded_free(d);
		if (fresh)
			lt_fold_free(f);
		free(buf);
	}
}

START_TEST(test_memo_diff_same)
{
	enum lt_outcome outs[2][sizeof(bsteps) / sizeof(bsteps[0])];
	char *dumps[2];
	size_t i;
	int lists[2];

	fold_big(0, outs[0]);
	dumps[0] = dump();
	/* the whole list of rows was read only where the memo was not
	   there or did not hold */
	lists[0] = sqlite3_stmt_status(st->stmt[LT_ST_COMP_LIST],
	    SQLITE_STMTSTATUS_RUN, 0);
	/* what the story does */
	ck_assert_int_eq(outs[0][0], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][1], LT_OUT_UNCHANGED);
	ck_assert_int_eq(outs[0][2], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][5], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][6], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][7], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][15], LT_OUT_APPLIED);
	ck_assert_int_eq(outs[0][18], LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), NBIG);
	ck_assert_str_eq(qs("SELECT image_ref FROM components WHERE "
	    "component_id = 'c0042'"), "img:2");
	teardown();
	setup();
	fold_big(1, outs[1]);
	dumps[1] = dump();
	lists[1] = sqlite3_stmt_status(st->stmt[LT_ST_COMP_LIST],
	    SQLITE_STMTSTATUS_RUN, 0);
	/* fresh: every heartbeat whose bytes changed, 22 (step 7 twice);
	   the memo: the first, step 7 again after its rollback, the id
	   twice and the one after it, the one after the component event,
	   the one after the rolled-back step 14, the OTP map's first and
	   the one after host_stopped */
	ck_assert_int_eq(lists[1], 22);
	ck_assert_int_eq(lists[0], 8);
	for (i = 0; i < sizeof(bsteps) / sizeof(bsteps[0]); i++)
		ck_assert_msg(outs[0][i] == outs[1][i], "step %zu: %s, "
		    "every row %s", i, lt_outcome_name(outs[0][i]),
		    lt_outcome_name(outs[1][i]));
	ck_assert_str_eq(dumps[0], dumps[1]);
	free(dumps[0]);
	free(dumps[1]);
}
END_TEST

static Suite *
invcache_suite(void)
{
	Suite *s = suite_create("invcache");
	TCase *tc;

	tc = tcase_create("cache");
	tcase_add_test(tc, test_cache_hit_miss);
	tcase_add_test(tc, test_cache_eviction);
	suite_add_tcase(s, tc);
	tc = tcase_create("prepare");
	tcase_add_test(tc, test_prepare_like_late);
	tcase_add_test(tc, test_prepare_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("fold");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fold_early_late_same);
	tcase_add_test(tc, test_ahead_follows_changes);
	tcase_add_test(tc, test_memo_diff_same);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(invcache_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
