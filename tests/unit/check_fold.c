/*
 * check_fold.c - the fold rules, through lt_fold_msg with JSON messages and
 * a fake clock, against an in-memory database.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fold.h"
#include "stale.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"
#include "timeutil.h"

#define BASE	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define SUBJ	"wasmbus.evt.prod"


/*
 * Fold a CloudEvent of type name from host src, dated BASE + t_ms
 * (t_ms < 0: no time), received at BASE + recv_ms, with data.
 */
static enum lt_outcome
ev(const char *id, const char *name, const char *src, int64_t t_ms,
    int64_t recv_ms, const char *data)
{
	char tb[LT_TIME_BUFSZ], idb[32], timef[64] = "";
	char subj[128], *buf;
	size_t cap = strlen(data) + 1024;
	enum lt_outcome out;

	if (id == NULL) {
		snprintf(idb, sizeof(idb), "ev-%d", ++seq);
		id = idb;
	}
	if (t_ms >= 0)
		snprintf(timef, sizeof(timef), "\"time\":\"%s\",",
		    lt_time_format(BASE + t_ms, tb));
	ck_assert_ptr_nonnull(buf = malloc(cap));
	snprintf(buf, cap, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice.%s\",%s"
	    "\"datacontenttype\":\"application/json\",\"data\":%s}",
	    id, src, name, timef, data);
	snprintf(subj, sizeof(subj), SUBJ ".%s", name);
	out = fold_raw(subj, buf, strlen(buf), BASE + recv_ms, NULL);
	free(buf);
	return out;
}

#define HB1(comps, provs) "{\"host_id\":\"NH1\",\"friendly_name\":\"a-1\"," \
	"\"version\":\"1.0.4\",\"labels\":{\"zone\":\"a\"},"		\
	"\"uptime_seconds\":10,\"issuer\":\"CX\",\"uptime_human\":\"10s\"," \
	"\"components\":[" comps "],\"providers\":[" provs "]}"
#define COMP(id, n) "{\"id\":\"" id "\",\"image_ref\":\"ghcr.io/x/" id \
	":1\",\"name\":\"" id "\",\"annotations\":{},\"max_instances\":" #n \
	",\"revision\":0}"
#define PROV(id) "{\"id\":\"" id "\",\"image_ref\":\"ghcr.io/p/" id \
	":1\",\"name\":\"" id "\",\"annotations\":{},\"revision\":0}"
#define STARTED "{\"host_id\":\"NH1\",\"labels\":{\"zone\":\"a\"}," \
	"\"friendly_name\":\"a-1\",\"version\":\"1.0.4\"}"

/* --- valid ---------------------------------------------------------- */

START_TEST(test_host_started)
{
	ck_assert_int_eq(ev(NULL, "host_started", "NH1", 0, 5, STARTED),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id='NH1'"),
	    "up");
	ck_assert_str_eq(qs("SELECT lattice FROM hosts"), "prod");
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"), BASE + 5);
	ck_assert_int_eq(qi("SELECT first_seen_ms FROM hosts"), BASE + 5);
	ck_assert_int_eq(qi("SELECT state_ms FROM hosts"), BASE);
	ck_assert_str_eq(qs("SELECT labels FROM hosts"), "{\"zone\":\"a\"}");
	ck_assert_str_eq(qs("SELECT friendly_name FROM hosts"), "a-1");
	ck_assert_str_eq(qs("SELECT outcome||' '||lattice||' '||subject||' '"
	    "||type||' '||host_id FROM events"), "applied prod "
	    "wasmbus.evt.prod.host_started com.wasmcloud.lattice.host_started"
	    " NH1");
	ck_assert_str_eq(qs("SELECT json_extract(data, '$.host_id') "
	    "FROM events"), "NH1");
	ck_assert_str_eq(qs("SELECT time_raw FROM events"), "<null>");
}
END_TEST

START_TEST(test_heartbeat_inventory)
{
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 0, 0,
	    HB1(COMP("c1", 2) "," COMP("c2", 1), PROV("p1"))),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 2);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='c1'"), 2);
	ck_assert_str_eq(qs("SELECT image_ref FROM components WHERE "
	    "component_id='c2'"), "ghcr.io/x/c2:1");
	ck_assert_str_eq(qs("SELECT provider_id||'/'||link_name||'/'||health "
	    "FROM providers"), "p1/default/unknown");
	ck_assert_int_eq(qi("SELECT uptime_seconds FROM hosts"), 10);
	ck_assert_int_ne(qi("SELECT inventory_hash FROM hosts"), -999);

	/* same inventory later: unchanged, no inventory row written, NULL
	   payload, but the host row moves on */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 30000, 30000,
	    HB1(COMP("c1", 2) "," COMP("c2", 1), PROV("p1"))),
	    LT_OUT_UNCHANGED);
	ck_assert_int_eq(qi("SELECT max(updated_ms) FROM components"), BASE);
	ck_assert_int_eq(qi("SELECT updated_ms FROM providers"), BASE);
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"),
	    BASE + 30000);
	ck_assert_str_eq(qs("SELECT data FROM events WHERE outcome="
	    "'unchanged'"), "<null>");

	/* one change, one removal, one addition: only those rows written */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 60000, 60000,
	    HB1(COMP("c1", 3) "," COMP("c3", 1), PROV("p1"))),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 2);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='c1'"), 3);
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE "
	    "component_id='c2'"), 0);
	ck_assert_int_eq(qi("SELECT updated_ms FROM components WHERE "
	    "component_id='c3'"), BASE + 60000);
	ck_assert_int_eq(qi("SELECT updated_ms FROM providers"), BASE);
	ck_assert_str_eq(qs("SELECT data IS NOT NULL FROM events ORDER "
	    "BY seq DESC LIMIT 1"), "1");

	/* providers gone, zero-instance component counts as absent */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 90000, 90000,
	    HB1(COMP("c1", 3) "," COMP("c3", 0), "")), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 1);
}
END_TEST

START_TEST(test_heartbeat_big_one_change)
{
	static char comps[600000], data[620000];
	size_t off = 0;
	int i;

	for (i = 0; i < 3000; i++)
		off += snprintf(comps + off, sizeof(comps) - off,
		    "%s{\"id\":\"c%d\",\"image_ref\":\"r/c%d:1\",\"name\":"
		    "\"c%d\",\"annotations\":{},\"max_instances\":1,"
		    "\"revision\":0}", i ? "," : "", i, i, i);
	snprintf(data, sizeof(data), "{\"host_id\":\"NH1\",\"labels\":{},"
	    "\"uptime_seconds\":1,\"components\":[%s],\"providers\":[]}",
	    comps);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 0, 0, data),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 3000);
	/* change c1234 only */
	{
		char *p = strstr(data, "\"c1234\",\"annotations\":{},"
		    "\"max_instances\":1");

		ck_assert_ptr_nonnull(p);
		p = strstr(p, "\"max_instances\":1") + 16;
		*p = '7';
	}
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 30000, 30000,
	    data), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE "
	    "updated_ms = %" PRId64, BASE + 30000), 1);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='c1234'"), 7);
}
END_TEST

/*
 * The rows a heartbeat's new components get, LT_COMP_MANY per statement
 * (lt_store LT_ST_COMP_INSERT_MANY) in id order, are the rows one upsert
 * per item in listing order would make: optional fields NULL or '{}', an
 * id listed twice updated by its second listing (fields it leaves out
 * kept), a zero-instance item left out; and later, new rows beside rows
 * that stay, change and go.
 */
START_TEST(test_heartbeat_many_new_rows)
{
	static char comps[40000], data[42000];
	size_t off = 0;
	int i, n = 3 * LT_COMP_MANY + 7;

	/* listed backwards: c0099 .. c0000, c0050 again, x0 with 0 */
	for (i = n - 1; i >= 0; i--) {
		off += snprintf(comps + off, sizeof(comps) - off,
		    "%s{\"id\":\"c%04d\",\"image_ref\":\"r/c%d:1\"", i ==
		    n - 1 ? "" : ",", i, i);
		if (i % 3 != 0)
			off += snprintf(comps + off, sizeof(comps) - off,
			    ",\"name\":\"n%d\",\"revision\":%d", i, i);
		if (i % 5 == 0)
			off += snprintf(comps + off, sizeof(comps) - off,
			    ",\"annotations\":{\"a\":\"%d\"}", i);
		off += snprintf(comps + off, sizeof(comps) - off,
		    ",\"max_instances\":%d}", 1 + i % 4);
	}
	off += snprintf(comps + off, sizeof(comps) - off, ",{\"id\":\"c0050"
	    "\",\"image_ref\":\"r/again:2\",\"max_instances\":9},{\"id\":"
	    "\"x0\",\"max_instances\":0}");
	ck_assert_uint_lt(off, sizeof(comps) - 1);
	snprintf(data, sizeof(data), "{\"host_id\":\"NH1\",\"labels\":{},"
	    "\"uptime_seconds\":1,\"components\":[%s],\"providers\":[]}",
	    comps);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 0, 0, data),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), n);
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE lattice ="
	    " 'prod' AND host_id = 'NH1' AND updated_ms = %" PRId64, BASE),
	    n);
	for (i = 0; i < n; i++) {
		char name[16] = "<null>", rev[16] = "<null>", ann[32] = "{}";
		char want[128];

		if (i == 50)
			continue;
		if (i % 3 != 0) {
			snprintf(name, sizeof(name), "n%d", i);
			snprintf(rev, sizeof(rev), "%d", i);
		}
		if (i % 5 == 0)
			snprintf(ann, sizeof(ann), "{\"a\":\"%d\"}", i);
		snprintf(want, sizeof(want), "r/c%d:1|%s|%d|%s|%s", i, name,
		    1 + i % 4, rev, ann);
		ck_assert_str_eq(qs("SELECT image_ref||'|'||COALESCE(name,"
		    " '<null>')||'|'||max_instances||'|'||COALESCE(revision,"
		    " '<null>')||'|'||annotations FROM components WHERE"
		    " component_id = 'c%04d'", i), want);
	}
	/* c0050: the second listing's fields, the first's name kept */
	ck_assert_str_eq(qs("SELECT image_ref||'|'||name||'|'||max_instances"
	    "||'|'||revision||'|'||annotations FROM components WHERE"
	    " component_id = 'c0050'"), "r/again:2|n50|9|50|{\"a\":\"50\"}");
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE"
	    " component_id = 'x0'"), 0);

	/* later: c0000 goes, c0001 (count) and c0050 (image) change, 40
	   new ones */
	off = 0;
	for (i = 1; i < n + 40; i++)
		off += snprintf(comps + off, sizeof(comps) - off,
		    "%s{\"id\":\"c%04d\",\"image_ref\":\"r/c%d:1\","
		    "\"max_instances\":%d}", i == 1 ? "" : ",", i, i,
		    i == 1 ? 4 : i == 50 ? 9 : 1 + i % 4);
	snprintf(data, sizeof(data), "{\"host_id\":\"NH1\",\"labels\":{},"
	    "\"uptime_seconds\":1,\"components\":[%s],\"providers\":[]}",
	    comps);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 30000, 30000,
	    data), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), n + 39);
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE"
	    " component_id = 'c0000'"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM components WHERE"
	    " updated_ms = %" PRId64, BASE + 30000), 42);
	ck_assert_str_eq(qs("SELECT name||'|'||max_instances FROM components"
	    " WHERE component_id = 'c0001'"), "n1|4");
	ck_assert_str_eq(qs("SELECT COALESCE(name, '<null>')||'|'||"
	    "annotations||'|'||COALESCE(revision, '<null>') FROM components"
	    " WHERE component_id = 'c%04d'", n + 38), "<null>|{}|<null>");
}
END_TEST

/*
 * The fold skips the diff only for the very bytes it applied last: a
 * reformatted inventory is diffed (and found equal), a scale between two
 * identical heartbeats is undone by the second, and a bad item in a
 * changed inventory rejects the whole heartbeat before anything is written.
 */
START_TEST(test_heartbeat_raw_bytes)
{
	const char *hb = HB1(COMP("c1", 2) "," COMP("c2", 1), PROV("p1"));
	const char *spaced = HB1(COMP("c1", 2) ", " COMP("c2", 1),
	    PROV("p1"));
	const char *bad = HB1(COMP("c1", 2) ",{\"id\":7}", PROV("p1"));
	int64_t h0, h1;

	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 0, 0, hb),
	    LT_OUT_APPLIED);
	h0 = qi("SELECT inventory_hash FROM hosts");
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 30000, 30000,
	    spaced), LT_OUT_UNCHANGED);
	h1 = qi("SELECT inventory_hash FROM hosts");
	ck_assert_int_ne(h0, h1);
	ck_assert_int_eq(qi("SELECT max(updated_ms) FROM components"), BASE);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 60000, 60000,
	    spaced), LT_OUT_UNCHANGED);
	ck_assert_int_eq(qi("SELECT inventory_hash FROM hosts"), h1);

	/* a scale, then the same bytes again: the heartbeat restores */
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 70000, 70000,
	    "{\"host_id\":\"NH1\",\"component_id\":\"c1\","
	    "\"image_ref\":\"ghcr.io/x/c1:1\",\"max_instances\":5}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='c1'"), 5);
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 90000, 90000,
	    spaced), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='c1'"), 2);

	/* a bad item: rejected, the host row and inventory untouched */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 120000, 120000,
	    bad), LT_OUT_REJECTED);
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"),
	    BASE + 90000);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 2);
	ck_assert_str_eq(qs("SELECT error||' '||field||': '||reason FROM "
	    "rejected_events"), "invalid data.components[1].id: not a "
	    "string");
	/* and for a host never seen, no row at all */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH2", 0, 0,
	    "{\"components\":[{\"id\":\"x\",\"max_instances\":-1}]}"),
	    LT_OUT_REJECTED);
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts WHERE host_id="
	    "'NH2'"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 2);
}
END_TEST

START_TEST(test_interval_learning)
{
	const char *hb = "{\"host_id\":\"NH1\",\"uptime_seconds\":1}";

	ev(NULL, "host_heartbeat", "NH1", 0, 0, hb);
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), -999);
	ev(NULL, "host_heartbeat", "NH1", 500, 500, hb);	/* < 1 s */
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), -999);
	ev(NULL, "host_heartbeat", "NH1", 30500, 30500, hb);
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), 30000);
	ev(NULL, "host_heartbeat", "NH1", 90500, 90500, hb);	/* 2x */
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), 60000);
	ev(NULL, "host_heartbeat", "NH1", 400500, 400500, hb); /* > 4x */
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), 120000);
	ev(NULL, "host_heartbeat", "NH1", 410500, 410500, hb); /* smaller */
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), 10000);
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"),
	    BASE + 410500);
}
END_TEST

START_TEST(test_host_stopped)
{
	ev(NULL, "host_started", "NH1", 0, 0, STARTED);
	ev(NULL, "host_heartbeat", "NH1", 1000, 1000,
	    HB1(COMP("c1", 1), PROV("p1")));
	ev(NULL, "linkdef_set", "NH1", 1500, 1500, "{\"source_id\":\"c1\","
	    "\"target\":\"p1\",\"name\":\"default\",\"wit_namespace\":\"wasi\","
	    "\"wit_package\":\"http\",\"interfaces\":[\"incoming-handler\"],"
	    "\"source_config\":[],\"target_config\":[]}");
	ck_assert_int_eq(ev(NULL, "host_stopped", "NH1", 2000, 2000,
	    "{\"host_id\":\"NH1\",\"labels\":{\"zone\":\"a\"},\"reason\":"
	    "\"stop\"}"), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status||' '||stop_reason FROM hosts"),
	    "stopped stop");
	ck_assert_int_eq(qi("SELECT status_changed_ms FROM hosts"),
	    BASE + 2000);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 1);

	/* a late heartbeat dated before the stop never brings it back */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 1900, 2100,
	    HB1(COMP("c1", 1), PROV("p1"))), LT_OUT_SUPERSEDED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
	ck_assert_str_eq(qs("SELECT outcome FROM events ORDER BY seq DESC "
	    "LIMIT 1"), "superseded");
	/* nor does a stale component event */
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 1950, 2200,
	    "{\"host_id\":\"NH1\",\"component_id\":\"c9\",\"image_ref\":\"r\","
	    "\"max_instances\":2,\"annotations\":{}}"), LT_OUT_SUPERSEDED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
}
END_TEST

START_TEST(test_component_set)
{
	const char *fmt = "{\"host_id\":\"NH1\",\"component_id\":\"c1\","
	    "\"image_ref\":\"r/c1:%d\",\"max_instances\":%d,\"annotations\":"
	    "{\"k\":\"v\"}}";
	char d[512];

	snprintf(d, sizeof(d), fmt, 1, 4);
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 0, 0, d),
	    LT_OUT_APPLIED);
	/* unknown host created, no heartbeat time */
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "up");
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"), -999);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 4);
	ck_assert_str_eq(qs("SELECT annotations FROM components"),
	    "{\"k\":\"v\"}");
	snprintf(d, sizeof(d), fmt, 2, 6);
	ev(NULL, "component_scaled", "NH1", 10, 10, d);
	ck_assert_str_eq(qs("SELECT max_instances||' '||image_ref FROM "
	    "components"), "6 r/c1:2");
	snprintf(d, sizeof(d), fmt, 2, 0);
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 20, 20, d),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
	/* scaling a missing component to 0 changes nothing */
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 30, 30, d),
	    LT_OUT_UNCHANGED);
}
END_TEST

START_TEST(test_component_legacy_add)
{
	/* 0.82 actors_started / actors_stopped: ADD with count */
	const char *st1 = "{\"public_key\":\"MA1\",\"image_ref\":\"r/a:1\","
	    "\"annotations\":{},\"host_id\":\"NH1\",\"claims\":{},"
	    "\"count\":3}";
	const char *sp1 = "{\"public_key\":\"MA1\",\"annotations\":{},"
	    "\"host_id\":\"NH1\",\"count\":2,\"remaining\":1,"
	    "\"image_ref\":\"r/a:1\"}";
	const char *sp2 = "{\"public_key\":\"MA1\",\"annotations\":{},"
	    "\"host_id\":\"NH1\",\"count\":1,\"remaining\":0,"
	    "\"image_ref\":\"r/a:1\"}";

	ck_assert_int_eq(ev(NULL, "actors_started", "NH1", 0, 0, st1),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT max_instances FROM components WHERE "
	    "component_id='MA1'"), 3);
	ev(NULL, "actors_started", "NH1", 10, 10, st1);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 6);
	ev(NULL, "actors_stopped", "NH1", 20, 20, sp1);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 1);
	ev(NULL, "actors_stopped", "NH1", 30, 30, sp2);
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
}
END_TEST

START_TEST(test_providers_and_health)
{
	const char *ps = "{\"host_id\":\"NH1\",\"image_ref\":\"r/kv:1\","
	    "\"provider_id\":\"kv\",\"annotations\":{}}";
	const char *hp = "{\"host_id\":\"NH1\",\"provider_id\":\"kv\"}";

	ck_assert_int_eq(ev(NULL, "provider_started", "NH1", 0, 0, ps),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT health FROM providers"), "unknown");
	ck_assert_int_eq(ev(NULL, "health_check_passed", "NH1", 10, 10, hp),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT health FROM providers"), "passing");
	ck_assert_int_eq(qi("SELECT health_checked_ms FROM providers"),
	    BASE + 10);
	ev(NULL, "health_check_failed", "NH1", 20, 20, hp);
	ck_assert_str_eq(qs("SELECT health FROM providers"), "failing");
	ev(NULL, "health_check_status", "NH1", 30, 30, hp);
	ck_assert_str_eq(qs("SELECT health FROM providers"), "failing");
	ck_assert_int_eq(qi("SELECT health_checked_ms FROM providers"),
	    BASE + 30);
	/* a heartbeat listing the provider keeps its health */
	ev(NULL, "host_heartbeat", "NH1", 40, 40, HB1("", PROV("kv")));
	ck_assert_str_eq(qs("SELECT health FROM providers"), "failing");
	ck_assert_int_eq(ev(NULL, "provider_stopped", "NH1", 50, 50,
	    "{\"host_id\":\"NH1\",\"provider_id\":\"kv\",\"annotations\":{},"
	    "\"reason\":\"stop\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
	/* the next identical heartbeat must re-add it (hash invalidated) */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 60, 60,
	    HB1("", PROV("kv"))), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 1);
}
END_TEST

#define LINK(t) "{\"source_id\":\"c1\",\"target\":\"" t "\",\"name\":" \
	"\"default\",\"wit_namespace\":\"wasi\",\"wit_package\":\"http\"," \
	"\"interfaces\":[\"incoming-handler\"],\"source_config\":[]," \
	"\"target_config\":[]}"
#define LINKDEL "{\"source_id\":\"c1\",\"name\":\"default\"," \
	"\"wit_namespace\":\"wasi\",\"wit_package\":\"http\"}"

START_TEST(test_links)
{
	ck_assert_int_eq(ev(NULL, "linkdef_set", "NH1", 100, 100, LINK("p1")),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT target||' '||interfaces FROM links"),
	    "p1 [\"incoming-handler\"]");
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts"), 0);
	/* an older set does not overwrite a newer one */
	ck_assert_int_eq(ev(NULL, "linkdef_set", "NH2", 50, 150, LINK("p0")),
	    LT_OUT_SUPERSEDED);
	ck_assert_str_eq(qs("SELECT target FROM links"), "p1");
	ck_assert_int_eq(ev(NULL, "linkdef_set", "NH2", 200, 200, LINK("p2")),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT target FROM links"), "p2");
	/* an older delete does not remove a newer set */
	ck_assert_int_eq(ev(NULL, "linkdef_deleted", "NH1", 150, 250,
	    LINKDEL), LT_OUT_SUPERSEDED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 1);
	ck_assert_int_eq(ev(NULL, "linkdef_deleted", "NH1", 300, 300,
	    LINKDEL), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(ev(NULL, "linkdef_deleted", "NH1", 400, 400,
	    LINKDEL), LT_OUT_UNCHANGED);
}
END_TEST

START_TEST(test_configs)
{
	ck_assert_int_eq(ev(NULL, "config_set", "NH1", 0, 0,
	    "{\"config_name\":\"cfg\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT updated_ms FROM configs"), BASE);
	ck_assert_int_eq(ev(NULL, "config_deleted", "NH1", -1 + 0, 10,
	    "{\"config_name\":\"other\"}"), LT_OUT_UNCHANGED);
	ck_assert_int_eq(ev(NULL, "config_deleted", "NH1", 20, 20,
	    "{\"config_name\":\"cfg\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 0);
}
END_TEST

START_TEST(test_labels_changed)
{
	ev(NULL, "host_started", "NH1", 0, 0, STARTED);
	ck_assert_int_eq(ev(NULL, "labels_changed", "NH1", 10, 10,
	    "{\"host_id\":\"NH1\",\"labels\":{\"zone\":\"b\",\"gpu\":\"1\"}}"),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT json_extract(labels,'$.zone')||"
	    "json_extract(labels,'$.gpu') FROM hosts"), "b1");
	ck_assert_int_eq(qi("SELECT (SELECT count(*) FROM json_each(labels))"
	    " FROM hosts"), 2);
	/* labels_changed for an unknown host creates it */
	ev(NULL, "labels_changed", "NH9", 10, 10,
	    "{\"host_id\":\"NH9\",\"labels\":{}}");
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id='NH9'"),
	    "up");
}
END_TEST

START_TEST(test_recorded_and_null_subject)
{
	struct lt_msg m = { 0 };
	enum lt_outcome out;
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"f1\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.component_scale_failed\","
	    "\"time\":\"2024-06-01T10:00:00Z\",\"data\":{\"host_id\":\"NH1\","
	    "\"component_id\":\"c1\",\"image_ref\":\"r\",\"max_instances\":1,"
	    "\"annotations\":{},\"error\":\"boom\"}}";

	m.subject = NULL;
	m.data = j;
	m.len = strlen(j);
	m.received_ms = BASE;
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg(fd, &m, &out, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(out, LT_OUT_RECORDED);
	ck_assert_str_eq(qs("SELECT lattice||' '||subject||' '||outcome FROM "
	    "events"), "default wasmbus.evt.default.component_scale_failed "
	    "recorded");
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts"), 0);
	ck_assert_int_eq(lt_fold_stats(fd)->outcomes[LT_OUT_RECORDED], 1);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

/* Fold bad input and check the rejected row; then a good event works. */
static void
expect_reject(const char *subject, const char *json, size_t len,
    const char *class, const char *field)
{
	struct lt_err err;
	int64_t before = qi("SELECT count(*) FROM rejected_events");

	ck_assert_int_eq(fold_raw(subject, json, len, BASE + 1, &err),
	    LT_OUT_REJECTED);
	ck_assert_int_ne(err.code, LT_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"),
	    before + 1);
	ck_assert_str_eq(qs("SELECT error FROM rejected_events ORDER BY seq "
	    "DESC LIMIT 1"), class);
	if (field != NULL)
		ck_assert_str_eq(qs("SELECT field FROM rejected_events ORDER BY"
		    " seq DESC LIMIT 1"), field);
	ck_assert_int_eq(qi("SELECT raw_size FROM rejected_events ORDER BY "
	    "seq DESC LIMIT 1"), (int64_t)len);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 0);
	/* the next message is fine */
	ck_assert_int_eq(ev(NULL, "config_set", "NH1", 0, 0,
	    "{\"config_name\":\"ok\"}"), LT_OUT_APPLIED);
	sqlite3_exec(st->db, "DELETE FROM latticed_events;"
	    " DELETE FROM latticed_configs", NULL, NULL, NULL);
}

START_TEST(test_reject_parse)
{
	expect_reject(SUBJ ".x", "{not json", 9, "parse", NULL);
	ck_assert_str_eq(qs("SELECT lattice||' '||CAST(raw AS TEXT) FROM "
	    "rejected_events"), "prod {not json");
	ck_assert_str_eq(qs("SELECT typeof(raw) FROM rejected_events"),
	    "blob");
}
END_TEST

START_TEST(test_reject_invalid)
{
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.component_scaled\","
	    "\"data\":{\"host_id\":\"NH1\",\"component_id\":\"c1\","
	    "\"max_instances\":\"three\"}}";

	expect_reject(SUBJ ".component_scaled", j, strlen(j), "invalid",
	    NULL);
	/* missing id */
	j = "{\"specversion\":\"1.0\",\"source\":\"NH1\",\"type\":\"a\"}";
	expect_reject(SUBJ, j, strlen(j), "invalid", NULL);
}
END_TEST

START_TEST(test_subject_match)
{
	static const struct {
		const char *pat, *subj;
		int want;
	} t[] = {
		{ "wasmbus.evt.*.>", "wasmbus.evt.prod.host_stopped", 1 },
		{ "wasmbus.evt.*.>", "wasmbus.evt.prod.a.b", 1 },
		{ "wasmbus.evt.*.>", "wasmbus.evt.prod", 0 },	/* cut at NUL */
		{ "wasmbus.evt.*", "wasmbus.evt.prod", 1 },
		{ "wasmbus.evt.*", "wasmbus.evt.prod.x", 0 },
		{ "wasmbus.evt.dev.>", "wasmbus.evt.prod.x", 0 },
		{ "wasmbus.evt.dev.>", "wasmbus.evt.dev.x", 1 },
		{ "wasmbus.evt.dev", "wasmbus.evt.dev", 1 },
		{ "wasmbus.evt.dev", "wasmbus.evt.de", 0 },
		{ ">", "a", 1 },
		{ ">", "", 0 },
		{ "a.*", "a.", 0 },
		{ "a.*.c", "a..c", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(lt_subject_match(t[i].pat, t[i].subj) ==
		    t[i].want, "%s ~ %s", t[i].pat, t[i].subj);
}
END_TEST

START_TEST(test_reject_cut_subject)
{
	/* "wasmbus.evt.prod\0x.host_stopped" passes a permission that
	   denies wasmbus.evt.prod.>, and nats.c hands it over cut at the
	   NUL: it no longer matches the subscription it arrived on */
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.host_stopped\","
	    "\"data\":{\"host_id\":\"NH1\",\"labels\":{}}}";
	struct lt_msg m = { "wasmbus.evt.prod", j, strlen(j), BASE,
	    "wasmbus.evt.*.>" };
	struct lt_err err;
	enum lt_outcome out;

	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg(fd, &m, &out, &err), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(out, LT_OUT_REJECTED);
	ck_assert_str_eq(err.field, "subject");
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error = 'invalid' AND field = 'subject' AND reason LIKE "
	    "'%%subscription it arrived on%%'"), 1);
	/* the forged event changed nothing */
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 0);
}
END_TEST

START_TEST(test_reject_subject)
{
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.config_set\","
	    "\"data\":{\"config_name\":\"c\"}}";

	expect_reject("foo.bar", j, strlen(j), "invalid", "subject");
	ck_assert_str_eq(qs("SELECT lattice FROM rejected_events"), "<null>");
	expect_reject("wasmbus.evt.", j, strlen(j), "invalid", "subject");
	expect_reject("wasmbus.evt..x", j, strlen(j), "invalid", "subject");
}
END_TEST

START_TEST(test_reject_limit_truncates_raw)
{
	struct lt_fold_opts o;
	static char big[200000];
	size_t n;

	lt_fold_opts_default(&o);
	o.limits.max_payload = 100000;
	lt_fold_set_opts(fd, &o);
	n = (size_t)snprintf(big, sizeof(big), "{\"specversion\":\"1.0\","
	    "\"id\":\"big\",\"source\":\"NH1\",\"type\":\"com.wasmcloud."
	    "lattice.config_set\",\"data\":{\"config_name\":\"");
	memset(big + n, 'a', 150000);
	n += 150000;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"}}");
	expect_reject(SUBJ, big, n, "limit", NULL);
	ck_assert_int_eq(qi("SELECT length(raw) FROM rejected_events"),
	    65536);
	ck_assert_int_eq(qi("SELECT raw_size FROM rejected_events"),
	    (int64_t)n);
}
END_TEST

START_TEST(test_reject_api)
{
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_reject(fd, SUBJ ".host_heartbeat", BASE,
	    LT_ELIMIT, "inbox full", "abc", 3, 1000, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_str_eq(qs("SELECT lattice||' '||error||' '||reason||' '||"
	    "raw_size FROM rejected_events"), "prod limit inbox full 1000");
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_duplicates)
{
	ck_assert_int_eq(ev("same", "component_scaled", "NH1", 0, 0,
	    "{\"host_id\":\"NH1\",\"component_id\":\"c1\",\"image_ref\":\"r\","
	    "\"max_instances\":2,\"annotations\":{}}"), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("same", "component_scaled", "NH1", 10, 10,
	    "{\"host_id\":\"NH1\",\"component_id\":\"c1\",\"image_ref\":\"r\","
	    "\"max_instances\":9,\"annotations\":{}}"), LT_OUT_DUPLICATE);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	ck_assert_int_eq(lt_fold_stats(fd)->outcomes[LT_OUT_DUPLICATE], 1);
	/* same id from another source is another event */
	ck_assert_int_eq(ev("same", "config_set", "NH2", 20, 20,
	    "{\"config_name\":\"c\"}"), LT_OUT_APPLIED);
}
END_TEST

START_TEST(test_duplicate_in_one_batch)
{
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"d\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.config_set\","
	    "\"data\":{\"config_name\":\"c\"}}";
	struct lt_msg m = { SUBJ, j, strlen(j), BASE, NULL };
	enum lt_outcome o1, o2;

	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg(fd, &m, &o1, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg(fd, &m, &o2, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(o1, LT_OUT_APPLIED);
	ck_assert_int_eq(o2, LT_OUT_DUPLICATE);
}
END_TEST

START_TEST(test_reorder_component)
{
	const char *d4 = "{\"host_id\":\"NH1\",\"component_id\":\"c1\","
	    "\"image_ref\":\"r\",\"max_instances\":4,\"annotations\":{}}";
	const char *d2 = "{\"host_id\":\"NH1\",\"component_id\":\"c1\","
	    "\"image_ref\":\"r\",\"max_instances\":2,\"annotations\":{}}";

	ev(NULL, "component_scaled", "NH1", 1000, 1000, d4);
	/* older scale arrives late: superseded */
	ck_assert_int_eq(ev(NULL, "component_scaled", "NH1", 500, 1100, d2),
	    LT_OUT_SUPERSEDED);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 4);
	ck_assert_int_eq(qi("SELECT state_ms FROM hosts"), BASE + 1000);
	ck_assert_str_eq(qs("SELECT outcome FROM events WHERE time_ms=%"
	    PRId64, BASE + 500), "superseded");
}
END_TEST

START_TEST(test_time_missing_future_and_bad)
{
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"t1\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.host_heartbeat\","
	    "\"time\":\"2023-06-13T01:12:88.856590Z\","
	    "\"data\":{\"host_id\":\"NH1\",\"uptime_seconds\":1}}";

	/* unparseable time: received time used, raw kept */
	ck_assert_int_eq(fold_raw(SUBJ, j, strlen(j), BASE, NULL),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT time_ms FROM events"), BASE);
	ck_assert_str_eq(qs("SELECT time_raw FROM events"),
	    "2023-06-13T01:12:88.856590Z");
	/* missing time */
	ev(NULL, "host_heartbeat", "NH2", -1, 10,
	    "{\"host_id\":\"NH2\",\"uptime_seconds\":1}");
	ck_assert_int_eq(qi("SELECT time_ms FROM events WHERE host_id='NH2'"),
	    BASE + 10);
	/* a day in the future: clamped to received + 5 min in the history,
	   and the host's ordering clock goes no further than received */
	ev(NULL, "host_heartbeat", "NH3", 86400000, 20,
	    "{\"host_id\":\"NH3\",\"uptime_seconds\":1}");
	ck_assert_int_eq(qi("SELECT time_ms FROM events WHERE host_id='NH3'"),
	    BASE + 20 + 300000);
	ck_assert_int_eq(qi("SELECT state_ms FROM hosts WHERE host_id='NH3'"),
	    BASE + 20);
}
END_TEST

/* A future-dated (clamped) or skewed event never shadows the host's
   correctly timed later events (issue 14 item 5). */
START_TEST(test_future_time_no_shadow)
{
	const char *stop = "{\"host_id\":\"NH1\",\"reason\":\"x\"}";

	ck_assert_int_eq(ev(NULL, "host_started", "NH1", 0, 0, STARTED),
	    LT_OUT_APPLIED);
	/* dated 2100: clamped to received + 5 min */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1",
	    INT64_C(4102444800000) - BASE, 1000, HB1(COMP("c1", 1), "")),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT state_ms FROM hosts"), BASE + 1000);
	/* a genuine heartbeat 2 s later is applied, not superseded */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 3000, 3010,
	    HB1(COMP("c1", 2), "")), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT max_instances FROM components"), 2);
	/* a host clock 4 min fast (inside the skew, not clamped) */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 4000 + 240000,
	    4000, HB1(COMP("c1", 3), "")), LT_OUT_APPLIED);
	/* ... corrected: the next genuine event still applies */
	ck_assert_int_eq(ev(NULL, "host_stopped", "NH1", 5000, 5000, stop),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE outcome = "
	    "'superseded'"), 0);
	/* an event older than one applied is still superseded */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 4500, 6000,
	    HB1(COMP("c1", 9), "")), LT_OUT_SUPERSEDED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
}
END_TEST

START_TEST(test_stale_and_back)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	const char *hb = "{\"host_id\":\"NH1\",\"uptime_seconds\":1}";

	lt_stale_opts_default(&so);
	ev(NULL, "host_heartbeat", "NH1", 0, 0, hb);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 70000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 0);		/* not over 70 s */
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 70001, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 90000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 0);		/* once */
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stale");
	ck_assert_int_eq(qi("SELECT status_changed_ms FROM hosts"),
	    BASE + 70001);
	/* a heartbeat brings it back, without learning the outage gap */
	ck_assert_int_eq(ev(NULL, "host_heartbeat", "NH1", 100000, 100000,
	    hb), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "up");
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"), -999);
}
END_TEST

START_TEST(test_stale_window_and_interval)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;
	const char *h1 = "{\"host_id\":\"NH1\",\"uptime_seconds\":1}";
	const char *h2 = "{\"host_id\":\"NH2\",\"uptime_seconds\":1}";

	lt_stale_opts_default(&so);
	/* NH1 beats every 60 s: threshold 2*60+10 = 130 s */
	ev(NULL, "host_heartbeat", "NH1", 0, 0, h1);
	ev(NULL, "host_heartbeat", "NH1", 60000, 60000, h1);
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts WHERE "
	    "host_id='NH1'"), 60000);
	/* NH2 only known from a component event: judged by first_seen */
	ev(NULL, "component_scaled", "NH2", 60000, 60000,
	    "{\"host_id\":\"NH2\",\"component_id\":\"c\",\"image_ref\":\"r\","
	    "\"max_instances\":1,\"annotations\":{}}");
	(void)h2;
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	/* window: latticed reconnected at +150 s, now +200 s: nobody has
	   been silent for more than 50 s as far as we know */
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 200000, BASE + 150000,
	    &r, NULL), LT_OK);
	ck_assert_int_eq(r.marked, 0);
	/* at +140 s without window: NH2 (80 s) stale, NH1 (80 s < 130) not */
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 140000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id='NH2'"),
	    "stale");
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 190001, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id='NH1'"),
	    "stale");
	/* stopped hosts are never marked */
	ev(NULL, "host_stopped", "NH1", 300000, 300000,
	    "{\"host_id\":\"NH1\",\"labels\":{},\"reason\":\"stop\"}");
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 999000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(r.marked, 0);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
}
END_TEST

START_TEST(test_store_error)
{
	struct lt_msg m = { 0 };
	struct lt_err err;
	const char *j = "{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":"
	    "\"NH1\",\"type\":\"com.wasmcloud.lattice.config_set\","
	    "\"data\":{\"config_name\":\"c\"}}";

	sqlite3_exec(st->db, "CREATE TRIGGER boom BEFORE INSERT ON"
	    " latticed_configs BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
	    NULL, NULL, NULL);
	m.subject = SUBJ;
	m.data = j;
	m.len = strlen(j);
	m.received_ms = BASE;
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg(fd, &m, NULL, &err), LT_ESTORE);
	ck_assert_ptr_nonnull(strstr(err.msg, "disk on fire"));
	lt_fold_rollback(fd);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 0);
}
END_TEST


/* --- one transaction or many: the same rows (hostcache.h) ------------ */

/* One event of the story below. */
struct step {
	const char	*name, *src;
	int64_t		 t, recv;	/* event time (< 0: none), received */
	const char	*data;
	int		 sweep;		/* a stale sweep at recv instead */
};

#define HBX(h, fn, up, comps) "{\"host_id\":\"" h "\",\"friendly_name\":" \
	"\"" fn "\",\"version\":\"1.0.4\",\"labels\":{\"zone\":\"a\"},"	\
	"\"uptime_seconds\":" #up ",\"components\":[" comps "],"		\
	"\"providers\":[" PROV("kv") "]}"

/* Three hosts: restarts, renames, labels, uptime, stops, a superseded
   event, provider health with its alerts, a stale sweep in the middle. */
static const struct step story[] = {
	{ "host_started", "NH1", 0, 0, STARTED, 0 },
	{ "host_heartbeat", "NH1", 1000, 1000,
	    HBX("NH1", "a-1", 1, COMP("c1", 1)), 0 },
	{ "host_heartbeat", "NH2", 1000, 1100,
	    HBX("NH2", "b-1", 5, COMP("c2", 2)), 0 },
	{ "host_heartbeat", "NH3", 1000, 1200,
	    HBX("NH3", "c-1", 7, ""), 0 },
	{ "labels_changed", "NH1", 2000, 2000,
	    "{\"host_id\":\"NH1\",\"labels\":{\"zone\":\"b\"}}", 0 },
	{ "host_heartbeat", "NH1", 31000, 31000,
	    HBX("NH1", "a-2", 31, COMP("c1", 1)), 0 },
	{ "component_scaled", "NH1", 32000, 32000,
	    "{\"host_id\":\"NH1\",\"component_id\":\"c1\",\"image_ref\":"
	    "\"ghcr.io/x/c1:2\",\"max_instances\":3}", 0 },
	{ "health_check_failed", "NH1", 33000, 33000,
	    "{\"host_id\":\"NH1\",\"provider_id\":\"kv\"}", 0 },
	{ "host_stopped", "NH2", 34000, 34000,
	    "{\"host_id\":\"NH2\",\"reason\":\"bye\"}", 0 },
	{ "host_heartbeat", "NH1", 20000, 35000,
	    HBX("NH1", "a-old", 20, ""), 0 },		/* superseded */
	{ "host_heartbeat", "NH2", 36000, 36000,
	    HBX("NH2", "b-2", 1, COMP("c2", 2)), 0 },	/* back up */
	{ "health_check_failed", "NH2", 36500, 36500,
	    "{\"host_id\":\"NH2\",\"provider_id\":\"kv\"}", 0 },
	{ "health_check_failed", "NH3", 36600, 36600,
	    "{\"host_id\":\"NH3\",\"provider_id\":\"kv\"}", 0 },
	{ "host_heartbeat", "NH2", 37000, 37000,	/* kv gone */
	    "{\"host_id\":\"NH2\",\"uptime_seconds\":2,\"components\":[],"
	    "\"providers\":[]}", 0 },
	{ "host_heartbeat", "NH3", 37100, 37100,	/* kv still there */
	    HBX("NH3", "c-1", 37, ""), 0 },
	{ "host_heartbeat", "NH1", 61000, 61000,
	    "{\"host_id\":\"NH1\",\"uptime_seconds\":61}", 0 },
	{ NULL, NULL, 0, 200000, NULL, 1 },		/* all stale */
	{ "host_heartbeat", "NH3", 201000, 201000,
	    HBX("NH3", "c-2", 200, COMP("c3", 1)), 0 },	/* NH3 back */
	{ "health_check_passed", "NH1", 202000, 202000,
	    "{\"host_id\":\"NH1\",\"provider_id\":\"kv\"}", 0 },
	{ "host_stopped", "NH1", 203000, 203000,
	    "{\"host_id\":\"NH1\",\"reason\":\"x\"}", 0 },
	{ "host_started", "NH1", 204000, 204000, STARTED, 0 },
	{ "host_heartbeat", "NH1", -1, 205000,
	    HBX("NH1", "a-3", 1, COMP("c9", 4)), 0 },
	{ "host_heartbeat", "NH3", 231000, 231000,
	    HBX("NH3", "c-2", 230, COMP("c3", 1)), 0 },
	{ "host_heartbeat", "NH3", 261000, 261000,
	    HBX("NH3", "c-2", 260, COMP("c3", 2)), 0 },
};

/* After the story: NH1 stops, NH3 renamed, NH1 beats. */
static const struct step late[] = {
	{ "host_stopped", "NH1", 300000, 300000,
	    "{\"host_id\":\"NH1\",\"reason\":\"late\"}", 0 },
	{ "host_heartbeat", "NH3", 300000, 300000,
	    HBX("NH3", "c-late", 300, ""), 0 },
	{ "host_heartbeat", "NH1", 301000, 301000,
	    "{\"host_id\":\"NH1\",\"uptime_seconds\":301}", 0 },
};

/* Fold step p as event idp-i into f (inside the caller's transaction). */
static void
fold_step(struct lt_fold *f, const struct step *p, const char *idp,
    size_t i)
{
	char tb[LT_TIME_BUFSZ], timef[64] = "", subj[128], buf[4096];
	struct lt_stale_opts so;
	struct lt_err err;
	struct lt_msg m = { 0 };
	enum lt_outcome out;

	if (p->sweep) {
		lt_stale_opts_default(&so);
		ck_assert_int_eq(lt_stale_sweep(f, &so, BASE + p->recv, 0,
		    NULL, NULL), LT_OK);
		return;
	}
	if (p->t >= 0)
		snprintf(timef, sizeof(timef), "\"time\":\"%s\",",
		    lt_time_format(BASE + p->t, tb));
	snprintf(buf, sizeof(buf), "{\"specversion\":\"1.0\",\"id\":"
	    "\"%s-%zu\",\"source\":\"%s\",\"type\":"
	    "\"com.wasmcloud.lattice.%s\",%s\"data\":%s}", idp, i, p->src,
	    p->name,
	    timef, p->data);
	snprintf(subj, sizeof(subj), SUBJ ".%s", p->name);
	m.subject = subj;
	m.data = buf;
	m.len = strlen(buf);
	m.received_ms = BASE + p->recv;
	ck_assert_msg(lt_fold_msg(f, &m, &out, &err) == LT_OK, "%s", err.msg);
	ck_assert_int_ne(out, LT_OUT_REJECTED);
}

/* Fail unless a and b are the same text, showing where they part. */
static void
same_text(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] != '\0' && a[i] == b[i])
		i++;
	ck_assert_msg(a[i] == b[i], "rows differ at byte %zu:\n%.300s\n"
	    "%.300s", i, a + (i > 100 ? i - 100 : 0),
	    b + (i > 100 ? i - 100 : 0));
}

/* Every row of the model and its history, as one text. */
static char *
dump(struct lt_store *s)
{
	static const char *const q[] = {
	    "SELECT json_group_array(json_array(lattice, host_id, status,"
	    " friendly_name, version, labels, uptime_seconds, stop_reason,"
	    " first_seen_ms, last_seen_ms, last_heartbeat_ms,"
	    " heartbeat_interval_ms, status_changed_ms, state_ms,"
	    " inventory_hash, generation)) FROM"
	    " (SELECT * FROM hosts ORDER BY lattice, host_id)",
	    "SELECT json_group_array(json_array(host_id, component_id,"
	    " image_ref, max_instances, updated_ms)) FROM"
	    " (SELECT * FROM components ORDER BY host_id, component_id)",
	    "SELECT json_group_array(json_array(host_id, provider_id, health,"
	    " health_checked_ms)) FROM"
	    " (SELECT * FROM providers ORDER BY host_id, provider_id)",
	    "SELECT json_group_array(json_array(seq, type, id, outcome,"
	    " length(data))) FROM (SELECT * FROM events ORDER BY seq)",
	    "SELECT json_group_array(json_array(kind, entity, summary,"
	    " details, fired_ms, resolved_ms)) FROM"
	    " (SELECT * FROM alerts ORDER BY alert_id)",
	};
	sqlite3_stmt *stmt;
	char *all = NULL, *p;
	size_t i, len = 0, n;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		ck_assert_int_eq(sqlite3_prepare_v2(s->db, q[i], -1, &stmt,
		    NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
		n = (size_t)sqlite3_column_bytes(stmt, 0);
		ck_assert_ptr_nonnull(p = realloc(all, len + n + 2));
		all = p;
		memcpy(all + len, sqlite3_column_text(stmt, 0), n);
		len += n;
		all[len++] = '\n';
		all[len] = '\0';
		sqlite3_finalize(stmt);
	}
	return all;
}

START_TEST(test_batch_same_rows)
{
	struct lt_store *st2, *st3;
	struct lt_fold *f2, *f3;
	char *a, *b;
	size_t i, n = sizeof(story) / sizeof(story[0]);

	/* one transaction per event: every row written at once */
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
		fold_step(fd, &story[i], "s", i);
		ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	}
	/* no transaction at all: nothing is cached */
	ck_assert_int_eq(lt_store_open(":memory:", &st3, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st3, NULL, &f3, NULL), LT_OK);
	for (i = 0; i < n; i++)
		fold_step(f3, &story[i], "s", i);
	/* all in one: host rows written at commit or on a status change */
	ck_assert_int_eq(lt_store_open(":memory:", &st2, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st2, NULL, &f2, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_begin(f2, NULL), LT_OK);
	for (i = 0; i < n; i++)
		fold_step(f2, &story[i], "s", i);
	ck_assert_int_eq(lt_fold_commit(f2, NULL), LT_OK);
	a = dump(st);
	b = dump(st2);
	same_text(a, b);
	free(b);
	b = dump(st3);
	same_text(a, b);
	lt_fold_free(f3);
	lt_store_close(st3);
	/* the story did what it says */
	ck_assert_str_eq(qs("SELECT friendly_name||' '||status||' '||"
	    "uptime_seconds FROM hosts WHERE host_id = 'NH1'"), "a-3 up 1");
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id = 'NH2'"),
	    "stale");
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE outcome ="
	    " 'superseded'"), 1);
	ck_assert_int_ge(qi("SELECT count(*) FROM alerts WHERE summary LIKE"
	    " '%%(a-2)%%'"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE host_id ="
	    " 'NH2' AND kind = 'provider_unhealthy' AND resolved_ms IS NOT"
	    " NULL"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE host_id ="
	    " 'NH3' AND kind = 'provider_unhealthy' AND resolved_ms IS"
	    " NULL"), 1);
	free(a);
	free(b);
	/* a rolled-back batch leaves nothing behind, cached or written */
	a = dump(st2);
	ck_assert_int_eq(lt_fold_begin(f2, NULL), LT_OK);
	fold_step(f2, &late[0], "r", 0);	/* written at once */
	fold_step(f2, &late[1], "r", 1);	/* only cached */
	lt_fold_rollback(f2);
	b = dump(st2);
	same_text(a, b);
	free(b);
	/* the next batch reads the rows again, not the rolled-back ones */
	ck_assert_int_eq(lt_fold_begin(f2, NULL), LT_OK);
	fold_step(f2, &late[2], "r", 2);
	ck_assert_int_eq(lt_fold_commit(f2, NULL), LT_OK);
	b = dump(st2);
	ck_assert_ptr_nonnull(strstr(b, "[\"prod\",\"NH1\",\"up\",\"a-3\""));
	ck_assert_ptr_nonnull(strstr(b, "\"c-2\""));
	ck_assert_ptr_null(strstr(b, "c-late"));
	free(a);
	free(b);
	lt_fold_free(f2);
	lt_store_close(st2);
}
END_TEST

/* Build the suite. */
static Suite *
fold_suite(void)
{
	Suite *s = suite_create("fold");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_host_started);
	tcase_add_test(tc, test_heartbeat_inventory);
	tcase_add_test(tc, test_heartbeat_big_one_change);
	tcase_add_test(tc, test_heartbeat_many_new_rows);
	tcase_add_test(tc, test_heartbeat_raw_bytes);
	tcase_add_test(tc, test_interval_learning);
	tcase_add_test(tc, test_host_stopped);
	tcase_add_test(tc, test_component_set);
	tcase_add_test(tc, test_component_legacy_add);
	tcase_add_test(tc, test_providers_and_health);
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_configs);
	tcase_add_test(tc, test_labels_changed);
	tcase_add_test(tc, test_recorded_and_null_subject);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reject_parse);
	tcase_add_test(tc, test_reject_invalid);
	tcase_add_test(tc, test_reject_cut_subject);
	tcase_add_test(tc, test_subject_match);
	tcase_add_test(tc, test_reject_subject);
	tcase_add_test(tc, test_reject_limit_truncates_raw);
	tcase_add_test(tc, test_reject_api);
	tcase_add_test(tc, test_store_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_duplicate_in_one_batch);
	tcase_add_test(tc, test_reorder_component);
	tcase_add_test(tc, test_time_missing_future_and_bad);
	tcase_add_test(tc, test_future_time_no_shadow);
	tcase_add_test(tc, test_stale_and_back);
	tcase_add_test(tc, test_stale_window_and_interval);
	tcase_add_test(tc, test_batch_same_rows);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(fold_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
