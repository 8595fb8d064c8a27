/*
 * check_generations.c - every host generation's events through the whole
 * path (decode + fold) into the model: wasmCloud 1.x, 1.0-alpha, 0.82 and
 * the OTP host, including the host bugs the model must survive.
 */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fold.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"
#include "timeutil.h"

#define BASE	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define LAT	"wasmbus.evt.edge"
#define H	"NBJA6SRRAF5RDCQPGH4GH5ZSEAFLFTFZVSWDIZ6NJ6WHBBRJXMUZMHQU"
#define PK	"MBCFOPM6JW2APJLXJD3Z5O4CN7CPYJ2B4FTKLJUR5YR5MITIU7HD3WD5"
#define PK2	"MAKOEFBH3NPWSCB2DTLXVCNNJJ3JG3FBHRTDOSMAKJMHLQEYKN5NYBH3"
#define VP	"VAG3QITQQ2ODAOWB5TTQSDJ53XK3SHBEIFNK4AYJ5RKAX2UNSCAPHA5M"


/*
 * Fold one event of type name from host H on subject subj (NULL: the
 * suffixed 1.x subject), with event id id (NULL: a fresh one), dated and
 * received at BASE + t_ms.  Returns the outcome.
 */
static enum lt_outcome
evs(const char *subj, const char *id, const char *name, int64_t t_ms,
    const char *data)
{
	char tb[LT_TIME_BUFSZ], idb[32], sb[160], *buf;
	size_t cap = strlen(data) + 1024;
	enum lt_outcome out;
	struct lt_err err;

	if (id == NULL) {
		snprintf(idb, sizeof(idb), "gen-%d", ++seq);
		id = idb;
	}
	if (subj == NULL) {
		snprintf(sb, sizeof(sb), LAT ".%s", name);
		subj = sb;
	}
	ck_assert_ptr_nonnull(buf = malloc(cap));
	snprintf(buf, cap, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"" H "\",\"type\":\"com.wasmcloud.lattice.%s\","
	    "\"time\":\"%s\",\"datacontenttype\":\"application/json\","
	    "\"data\":%s}", id, name, lt_time_format(BASE + t_ms, tb), data);
	out = fold_raw(subj, buf, strlen(buf), BASE + t_ms, &err);
	ck_assert_msg(out != LT_OUT_REJECTED, "%s rejected: %s (%s)", name,
	    err.msg, err.field);
	free(buf);
	return out;
}

/* The same with the default subject and a fresh id. */
static enum lt_outcome
ev(const char *name, int64_t t_ms, const char *data)
{
	return evs(NULL, NULL, name, t_ms, data);
}

/* max_instances of component id on host H, -999 when absent. */
static int64_t
comp_max(const char *id)
{
	return qi("SELECT max_instances FROM components WHERE host_id='" H
	    "' AND component_id='%s'", id);
}

/* --- wasmCloud 1.x ---------------------------------------------------- */

#define V1_HB(img, n) "{\"host_id\":\"" H "\",\"friendly_name\":\"h\","	\
	"\"labels\":{},\"version\":\"1.9.2\",\"uptime_seconds\":1,"	\
	"\"uptime_human\":\"1s\",\"providers\":[],\"components\":[{"	\
	"\"id\":\"echo\",\"image_ref\":\"" img "\",\"name\":\"echo\","	\
	"\"annotations\":{},\"revision\":0,\"max_instances\":" #n "}]}"
#define V1_SCALED(img, n) "{\"host_id\":\"" H "\",\"component_id\":"	\
	"\"echo\",\"image_ref\":\"" img "\",\"max_instances\":" #n ","	\
	"\"annotations\":{\"a\":\"b\"}}"

/* 1.x update: scaled(new, max) then scaled(new, 0) though it runs on. */
START_TEST(test_v1_update_bug_healed_by_heartbeat)
{
	ck_assert_int_eq(ev("host_started", 0, "{\"friendly_name\":\"h\","
	    "\"labels\":{},\"uptime_seconds\":0,\"version\":\"1.9.2\"}"),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts WHERE host_id='" H
	    "'"), "up");
	ck_assert_int_eq(ev("host_heartbeat", 1000, V1_HB("echo:1", 4)),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max("echo"), 4);
	ck_assert_int_eq(ev("component_scaled", 2000,
	    V1_SCALED("echo:2", 4)), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT image_ref FROM components"), "echo:2");
	ck_assert_str_eq(qs("SELECT annotations FROM components"),
	    "{\"a\":\"b\"}");
	ck_assert_int_eq(ev("component_scaled", 2001,
	    V1_SCALED("echo:2", 0)), LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max("echo"), -999);
	/* the next heartbeat restores the truth */
	ck_assert_int_eq(ev("host_heartbeat", 31000, V1_HB("echo:2", 4)),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max("echo"), 4);
	ck_assert_str_eq(qs("SELECT image_ref FROM components"), "echo:2");
}
END_TEST

/* 1.x host_stopped carries only labels: the host is the source. */
START_TEST(test_v1_host_stopped_labels_only)
{
	ev("host_heartbeat", 0, V1_HB("echo:1", 1));
	ck_assert_int_eq(ev("host_stopped", 5000,
	    "{\"labels\":{\"zone\":\"a\"}}"), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
	/* a late heartbeat dated before the stop changes nothing */
	ck_assert_int_eq(ev("host_heartbeat", 4000, V1_HB("echo:1", 1)),
	    LT_OUT_SUPERSEDED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stopped");
	ck_assert_int_eq(qi("SELECT count(*) FROM components"), 0);
}
END_TEST

/* Failures change no state and stay in the history. */
START_TEST(test_failures_recorded)
{
	ev("host_heartbeat", 0, V1_HB("echo:1", 2));
	ck_assert_int_eq(ev("component_scale_failed", 1000,
	    "{\"host_id\":\"" H "\",\"component_id\":\"echo\",\"image_ref\":"
	    "\"echo:9\",\"max_instances\":9,\"annotations\":{},\"error\":"
	    "\"no such image\"}"), LT_OUT_RECORDED);
	ck_assert_int_eq(ev("provider_start_failed", 1001,
	    "{\"provider_ref\":\"ghcr.io/p:1\",\"provider_id\":\"p\","
	    "\"host_id\":\"" H "\",\"error\":\"boom\",\"link_name\":"
	    "\"default\"}"), LT_OUT_RECORDED);
	ck_assert_int_eq(ev("linkdef_set_failed", 1002,
	    "{\"source_id\":\"echo\",\"target\":\"p\",\"name\":\"default\","
	    "\"wit_namespace\":\"wasi\",\"wit_package\":\"http\","
	    "\"interfaces\":[\"incoming-handler\"],\"source_config\":[],"
	    "\"target_config\":[],\"error\":\"bad\"}"), LT_OUT_RECORDED);
	ck_assert_int_eq(comp_max("echo"), 2);
	ck_assert_str_eq(qs("SELECT image_ref FROM components"), "echo:1");
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE outcome="
	    "'recorded'"), 3);
	ck_assert_str_eq(qs("SELECT json_extract(data, '$.error') FROM "
	    "events WHERE type LIKE '%%provider_start_failed'"), "boom");
}
END_TEST

/* 1.x linkdef_deleted with and without target/interfaces. */
START_TEST(test_v1_link_delete_shapes)
{
#define LINK(name) "{\"source_id\":\"echo\",\"target\":\"kv\","	\
	"\"name\":\"" name "\",\"wit_namespace\":\"wasi\",\"wit_package\":" \
	"\"keyvalue\",\"interfaces\":[\"store\"],\"source_config\":[],"	\
	"\"target_config\":[\"redis\"]}"
	ev("linkdef_set", 0, LINK("a"));
	ev("linkdef_set", 1, LINK("b"));
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 2);
	ck_assert_str_eq(qs("SELECT target_config FROM links WHERE name="
	    "'a'"), "[\"redis\"]");
	ck_assert_int_eq(ev("linkdef_deleted", 2, "{\"source_id\":\"echo\","
	    "\"name\":\"a\",\"wit_namespace\":\"wasi\",\"wit_package\":"
	    "\"keyvalue\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("linkdef_deleted", 3, "{\"source_id\":\"echo\","
	    "\"target\":\"kv\",\"name\":\"b\",\"wit_namespace\":\"wasi\","
	    "\"wit_package\":\"keyvalue\",\"interfaces\":[\"store\"]}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 0);
#undef LINK
}
END_TEST

/* claims.revision may be a number or a string. */
START_TEST(test_v1_claims_revision_forms)
{
	ck_assert_int_eq(ev("component_scaled", 0, "{\"host_id\":\"" H "\","
	    "\"component_id\":\"a\",\"image_ref\":\"a:1\",\"max_instances\":1,"
	    "\"annotations\":{},\"claims\":{\"name\":\"a\",\"revision\":"
	    "\"3\"}}"), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("component_scaled", 1, "{\"host_id\":\"" H "\","
	    "\"component_id\":\"b\",\"image_ref\":\"b:1\",\"max_instances\":1,"
	    "\"annotations\":{},\"claims\":{\"name\":\"b\",\"revision\":4}}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT revision FROM components WHERE "
	    "component_id='a'"), 3);
	ck_assert_int_eq(qi("SELECT revision FROM components WHERE "
	    "component_id='b'"), 4);
}
END_TEST

/* --- wasmCloud 1.0-alpha ------------------------------------------- */

START_TEST(test_alpha_actor_scaled_sets)
{
	ck_assert_int_eq(ev("actor_scaled", 0, "{\"annotations\":{},"
	    "\"host_id\":\"" H "\",\"image_ref\":\"echo:1\",\"max_instances\":"
	    "5,\"actor_id\":\"echo\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max("echo"), 5);
	ck_assert_int_eq(ev("actor_scaled", 1, "{\"annotations\":{},"
	    "\"host_id\":\"" H "\",\"image_ref\":\"echo:1\",\"max_instances\":"
	    "2,\"actor_id\":\"echo\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max("echo"), 2);
}
END_TEST

/* --- wasmCloud 0.82 ------------------------------------------------- */

#define STARTED(n) "{\"public_key\":\"" PK "\",\"image_ref\":\"echo:1\","	\
	"\"annotations\":{},\"host_id\":\"" H "\",\"claims\":{\"issuer\":"	\
	"\"A\",\"name\":\"echo\",\"revision\":0},\"count\":" #n "}"
#define STOPPED(n, r) "{\"public_key\":\"" PK "\",\"annotations\":{},"	\
	"\"host_id\":\"" H "\",\"count\":" #n ",\"remaining\":" #r ","	\
	"\"image_ref\":\"echo:1\"}"
#define SCALED082(n) "{\"public_key\":\"" PK "\",\"claims\":{\"issuer\":" \
	"\"A\"},\"annotations\":{},\"host_id\":\"" H "\",\"image_ref\":"	\
	"\"echo:1\",\"max_instances\":" #n "}"

/* 0.82 publishes every event twice, on the bare and suffixed subjects. */
START_TEST(test_v082_double_publish_applied_once)
{
	ck_assert_int_eq(evs(LAT, "dup-1", "actors_started", 0, STARTED(3)),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(evs(LAT ".actors_started", "dup-1",
	    "actors_started", 0, STARTED(3)), LT_OUT_DUPLICATE);
	ck_assert_int_eq(comp_max(PK), 3);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
}
END_TEST

/* actors_stopped.remaining is the truth, in either order with the
   actor_scaled that carries the number stopped. */
START_TEST(test_v082_scale_down_bug)
{
	ev("actors_started", 0, STARTED(3));
	ev("actor_scaled", 0, SCALED082(3));
	ck_assert_int_eq(comp_max(PK), 3);
	/* scale 3 -> 1: stopped 2, remaining 1; actor_scaled says 2 */
	ev("actors_stopped", 1000, STOPPED(2, 1));
	ev("actor_scaled", 1000, SCALED082(2));
	ck_assert_int_eq(comp_max(PK), 1);
	/* the other order: up to 4 then down to 2 */
	ev("actors_started", 2000, STARTED(3));
	ck_assert_int_eq(comp_max(PK), 4);
	ev("actor_scaled", 3000, SCALED082(2));
	ev("actors_stopped", 3000, STOPPED(2, 2));
	ck_assert_int_eq(comp_max(PK), 2);
	/* stop all: the trailing actor_scaled must not bring it back */
	ev("actors_stopped", 4000, STOPPED(2, 0));
	ev("actor_scaled", 4000, SCALED082(2));
	ck_assert_int_eq(comp_max(PK), -999);
}
END_TEST

/* A 0.82 heartbeat: actors with instances, providers with link names. */
START_TEST(test_v082_heartbeat)
{
	ck_assert_int_eq(ev("host_heartbeat", 0, "{\"actors\":[{\"id\":\""
	    PK "\",\"image_ref\":\"echo:1\",\"name\":\"echo\",\"instances\":"
	    "[{\"annotations\":{\"k\":\"v\"},\"instance_id\":\"i1\","
	    "\"revision\":2,\"image_ref\":\"echo:1\",\"max_instances\":3},"
	    "{\"annotations\":{},\"instance_id\":\"i2\",\"revision\":2,"
	    "\"image_ref\":\"echo:1\",\"max_instances\":1}]}],\"providers\":"
	    "[{\"id\":\"" VP "\",\"image_ref\":\"http:1\",\"contract_id\":"
	    "\"wasmcloud:httpserver\",\"link_name\":\"default\",\"name\":"
	    "\"http\",\"annotations\":{},\"revision\":0},{\"id\":\"" VP "\","
	    "\"image_ref\":\"http:1\",\"contract_id\":\"wasmcloud:httpserver\","
	    "\"link_name\":\"admin\",\"name\":\"http\",\"annotations\":{},"
	    "\"revision\":0}],\"friendly_name\":\"old\",\"labels\":{},"
	    "\"uptime_human\":\"30s\",\"uptime_seconds\":30,\"version\":"
	    "\"0.82.0\",\"host_id\":\"" H "\",\"issuer\":\"C\"}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max(PK), 4);
	ck_assert_str_eq(qs("SELECT annotations FROM components"),
	    "{\"k\":\"v\"}");
	ck_assert_int_eq(qi("SELECT revision FROM components"), 2);
	ck_assert_str_eq(qs("SELECT group_concat(link_name || ':' || "
	    "contract_id, ',') FROM (SELECT * FROM providers ORDER BY "
	    "link_name)"), "admin:wasmcloud:httpserver,"
	    "default:wasmcloud:httpserver");
	ck_assert_str_eq(qs("SELECT version FROM hosts"), "0.82.0");
}
END_TEST

/* 0.82 health checks name the provider by public key and link name. */
START_TEST(test_v082_health)
{
	ev("provider_started", 0, "{\"host_id\":\"" H "\",\"public_key\":\""
	    VP "\",\"image_ref\":\"http:1\",\"link_name\":\"default\","
	    "\"contract_id\":\"wasmcloud:httpserver\",\"instance_id\":\"x\","
	    "\"annotations\":{},\"claims\":{\"issuer\":\"A\",\"name\":"
	    "\"http\",\"version\":\"0.1\"}}");
	ck_assert_str_eq(qs("SELECT health FROM providers"), "unknown");
	ck_assert_int_eq(ev("health_check_failed", 1000, "{\"public_key\":\""
	    VP "\",\"link_name\":\"default\",\"contract_id\":"
	    "\"wasmcloud:httpserver\"}"), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT health FROM providers"), "failing");
	ev("health_check_passed", 2000, "{\"public_key\":\"" VP "\","
	    "\"link_name\":\"default\",\"contract_id\":"
	    "\"wasmcloud:httpserver\"}");
	ck_assert_str_eq(qs("SELECT health FROM providers"), "passing");
	ev("health_check_status", 3000, "{\"public_key\":\"" VP "\","
	    "\"link_name\":\"default\",\"contract_id\":"
	    "\"wasmcloud:httpserver\"}");
	ck_assert_str_eq(qs("SELECT health FROM providers"), "passing");
	ck_assert_int_eq(qi("SELECT health_checked_ms FROM providers"),
	    BASE + 3000);
	ck_assert_int_eq(ev("provider_stopped", 4000, "{\"host_id\":\"" H
	    "\",\"public_key\":\"" VP "\",\"link_name\":\"default\","
	    "\"contract_id\":\"wasmcloud:httpserver\",\"instance_id\":\"x\","
	    "\"annotations\":{},\"reason\":\"stop\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
}
END_TEST

/* 0.82 linkdefs: actor to provider by contract and link name. */
START_TEST(test_v082_links)
{
#define LD "{\"id\":\"a6ae\",\"actor_id\":\"" PK "\",\"provider_id\":\"" \
	VP "\",\"link_name\":\"default\",\"contract_id\":"		\
	"\"wasmcloud:httpserver\",\"values\":{\"address\":\"0.0.0.0:8080\"}}"
	ck_assert_int_eq(ev("linkdef_set", 0, LD), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT source_id || '|' || target || '|' || "
	    "name || '|' || wit_namespace || '|' || wit_package || '|' || "
	    "legacy_values FROM links"), PK "|" VP "|default|wasmcloud|"
	    "httpserver|{\"address\":\"0.0.0.0:8080\"}");
	ck_assert_int_eq(ev("linkdef_deleted", 1000, LD), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 0);
#undef LD
}
END_TEST

/* 0.82 config is per entity and key. */
START_TEST(test_v082_config_keys)
{
	ev("config_set", 0, "{\"entity_id\":\"" PK "\",\"key\":\"greeting\"}");
	ev("config_set", 1, "{\"entity_id\":\"" PK "\",\"key\":\"lang\"}");
	ck_assert_str_eq(qs("SELECT config_name FROM configs"), PK);
	ck_assert_int_eq(qi("SELECT json_array_length(legacy_keys) FROM "
	    "configs"), 2);
	ev("config_deleted", 2, "{\"entity_id\":\"" PK "\",\"key\":"
	    "\"greeting\"}");
	ck_assert_str_eq(qs("SELECT legacy_keys FROM configs"),
	    "[\"lang\"]");
	ev("config_deleted", 3, "{\"entity_id\":\"" PK "\",\"key\":\"lang\"}");
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 0);
	/* 1.x configs by name, lattice-wide */
	ev("config_set", 4, "{\"config_name\":\"redis\"}");
	ck_assert_str_eq(qs("SELECT config_name || ':' || "
	    "ifnull(legacy_keys, '-') FROM configs"), "redis:-");
	ev("config_deleted", 5, "{\"config_name\":\"redis\"}");
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 0);
}
END_TEST

/* --- the OTP host ---------------------------------------------------- */

#define OTP_STARTED "{\"public_key\":\"" PK "\",\"image_ref\":"	\
	"\"wasmcloud.azurecr.io/echo:0.3.4\",\"api_version\":2,"	\
	"\"instance_id\":\"%s\",\"annotations\":{},\"claims\":{"	\
	"\"issuer\":\"A\",\"name\":\"echo\",\"revision\":1}}"

START_TEST(test_otp_actor_instances_and_map_heartbeat)
{
	char d[512];

	snprintf(d, sizeof(d), OTP_STARTED, "i1");
	ev("actor_started", 0, d);
	snprintf(d, sizeof(d), OTP_STARTED, "i2");
	ev("actor_started", 1, d);
	ck_assert_int_eq(comp_max(PK), 2);
	ck_assert_int_eq(ev("actor_stopped", 2, "{\"public_key\":\"" PK
	    "\",\"instance_id\":\"i1\",\"annotations\":{}}"),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max(PK), 1);
	/* the OTP heartbeat is a map of public key to count: counts update,
	   what it cannot say (image_ref) is kept, unlisted actors go */
	ck_assert_int_eq(ev("host_heartbeat", 30000, "{\"actors\":{\"" PK
	    "\":5,\"" PK2 "\":1},\"providers\":[{\"public_key\":\"" VP "\","
	    "\"link_name\":\"default\",\"contract_id\":"
	    "\"wasmcloud:httpserver\"}],\"labels\":{\"hostcore.os\":"
	    "\"linux\"},\"friendly_name\":\"otp\",\"uptime_seconds\":62,"
	    "\"version\":\"0.63.1\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max(PK), 5);
	ck_assert_int_eq(comp_max(PK2), 1);
	ck_assert_str_eq(qs("SELECT image_ref FROM components WHERE "
	    "component_id='" PK "'"), "wasmcloud.azurecr.io/echo:0.3.4");
	ck_assert_str_eq(qs("SELECT provider_id FROM providers"), VP);
	ck_assert_int_eq(ev("host_heartbeat", 60000, "{\"actors\":{\"" PK2
	    "\":1},\"providers\":[],\"labels\":{},\"friendly_name\":\"otp\","
	    "\"uptime_seconds\":92,\"version\":\"0.63.1\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(comp_max(PK), -999);
	ck_assert_int_eq(qi("SELECT count(*) FROM providers"), 0);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "up");
}
END_TEST

/* The spec page's bare heartbeat (no inventory) leaves inventory alone. */
START_TEST(test_bare_heartbeat_keeps_inventory)
{
	ev("host_heartbeat", 0, V1_HB("echo:1", 2));
	ck_assert_int_eq(ev("host_heartbeat", 30000, "{\"host_id\":\"" H
	    "\",\"uptime_seconds\":1000}"), LT_OUT_UNCHANGED);
	ck_assert_int_eq(comp_max("echo"), 2);
	ck_assert_int_eq(qi("SELECT uptime_seconds FROM hosts"), 1000);
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"),
	    BASE + 30000);
}
END_TEST

/* Build the suite. */
static Suite *
generations_suite(void)
{
	Suite *s = suite_create("generations");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_v1_host_stopped_labels_only);
	tcase_add_test(tc, test_failures_recorded);
	tcase_add_test(tc, test_v1_link_delete_shapes);
	tcase_add_test(tc, test_v1_claims_revision_forms);
	tcase_add_test(tc, test_alpha_actor_scaled_sets);
	tcase_add_test(tc, test_v082_heartbeat);
	tcase_add_test(tc, test_v082_health);
	tcase_add_test(tc, test_v082_links);
	tcase_add_test(tc, test_v082_config_keys);
	tcase_add_test(tc, test_otp_actor_instances_and_map_heartbeat);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_v1_update_bug_healed_by_heartbeat);
	tcase_add_test(tc, test_v082_double_publish_applied_once);
	tcase_add_test(tc, test_v082_scale_down_bug);
	tcase_add_test(tc, test_bare_heartbeat_keeps_inventory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(generations_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
