/*
 * check_resync_ctl.c - resync's control-interface subjects and the
 * translation of its replies into CloudEvents (lib/resync_ctl.c), and
 * those events through the fold: observations, then resync deletions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "resync_ctl.h"
#include "testdb.h"

#define MS	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define R(s)	(s), strlen(s)

#define LINKS "{\"success\":true,\"message\":\"\",\"response\":[" \
	"{\"source_id\":\"http\",\"target\":\"echo\",\"name\":\"default\"," \
	"\"wit_namespace\":\"wasi\",\"wit_package\":\"http\"," \
	"\"interfaces\":[\"incoming-handler\"],\"source_config\":[]," \
	"\"target_config\":[]}," \
	"{\"source_id\":\"echo\",\"target\":\"kv\",\"name\":\"default\"," \
	"\"wit_namespace\":\"wasi\",\"wit_package\":\"keyvalue\"," \
	"\"interfaces\":[\"store\"],\"source_config\":[]," \
	"\"target_config\":[]}]}"

/* --- valid ---------------------------------------------------------- */

START_TEST(test_subjects)
{
	char b[256];

	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_PING, "prod",
	    NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "wasmbus.ctl.v1.prod.host.ping");
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_LINK_GET,
	    "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "wasmbus.ctl.v1.prod.link.get");
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_HOST_GET,
	    "prod", "NH1", NULL), LT_OK);
	ck_assert_str_eq(b, "wasmbus.ctl.v1.prod.host.get.NH1");
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_CONFIG_GET,
	    "prod", "cfg-a", NULL), LT_OK);
	ck_assert_str_eq(b, "wasmbus.ctl.v1.prod.config.get.cfg-a");
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_KV_INFO,
	    "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "$JS.API.STREAM.INFO.KV_CONFIGDATA_prod");
	ck_assert_int_eq(lt_resync_kv_body(b, sizeof(b), "prod", NULL),
	    LT_OK);
	ck_assert_str_eq(b, "{\"subjects_filter\":\"$KV.CONFIGDATA_prod.>\"}");
}
END_TEST

START_TEST(test_ping_inventory)
{
	struct lt_resync_events	evs = { 0 };
	char			host[64];

	ck_assert_int_eq(lt_resync_ping(R("{\"success\":true,\"response\":"
	    "{\"id\":\"NH1\",\"lattice\":\"prod\"}}"), host, sizeof(host),
	    NULL), LT_OK);
	ck_assert_str_eq(host, "NH1");
	/* an older host leaves host_id out: the one asked */
	ck_assert_int_eq(lt_resync_inventory(R("{\"success\":true,"
	    "\"response\":{\"components\":[],\"providers\":[]}}"), "prod",
	    "NH1", MS, &evs, NULL), LT_OK);
	ck_assert_uint_eq(evs.n, 1);
	ck_assert_str_eq(evs.v[0].subject, "wasmbus.evt.prod.host_heartbeat");
	ck_assert_int_eq(evs.v[0].ms, MS);
	ck_assert_str_eq(evs.v[0].json, "{\"specversion\":\"1.0\","
	    "\"id\":\"resync-prod-NH1-1717236000000\",\"type\":"
	    "\"com.wasmcloud.lattice.host_heartbeat\",\"source\":\"NH1\","
	    "\"datacontenttype\":\"application/json\",\"time\":"
	    "\"2024-06-01T10:00:00.000Z\",\"data\":{\"components\":[],"
	    "\"providers\":[],\"host_id\":\"NH1\"}}");
	lt_resync_events_free(&evs);
}
END_TEST

START_TEST(test_links_and_configs)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_resync_seen	seen = { 0 };
	int			exists = -1;

	ck_assert_int_eq(lt_resync_links(R(LINKS), "prod", MS, &evs, &seen,
	    NULL), LT_OK);
	ck_assert_uint_eq(evs.n, 2);
	ck_assert_str_eq(evs.v[1].subject, "wasmbus.evt.prod.linkdef_set");
	ck_assert_ptr_nonnull(strstr(evs.v[1].json,
	    "\"id\":\"resync-prod-link-1717236000000-1\""));
	ck_assert_ptr_nonnull(strstr(evs.v[1].json,
	    "\"source\":\"latticed-resync\""));
	ck_assert_uint_eq(seen.nlink, 2);
	ck_assert(lt_resync_seen_link(&seen, "echo", "default", "wasi",
	    "keyvalue"));
	ck_assert(!lt_resync_seen_link(&seen, "echo", "default", "wasi",
	    "http"));
	/* the bucket's subjects are the config names; others ignored */
	ck_assert_int_eq(lt_resync_kv_names(R("{\"config\":{},\"state\":{"
	    "\"messages\":3,\"subjects\":{\"$KV.CONFIGDATA_prod.a\":1,"
	    "\"$KV.CONFIGDATA_prod.b-c\":2,\"$KV.CONFIGDATA_other.x\":1,"
	    "\"$KV.CONFIGDATA_prod.\":1}}}"), "prod", &seen, NULL), LT_OK);
	ck_assert_uint_eq(seen.nconfig, 2);
	ck_assert(lt_resync_seen_config(&seen, "b-c"));
	ck_assert(!lt_resync_seen_config(&seen, "x"));
	/* an existing config, and one the lattice says it has not */
	ck_assert_int_eq(lt_resync_config(R("{\"success\":true,\"response\":"
	    "{\"k\":\"v\"}}"), "prod", "a", MS, &evs, &exists, NULL), LT_OK);
	ck_assert_int_eq(exists, 1);
	ck_assert_uint_eq(evs.n, 3);
	ck_assert_str_eq(evs.v[2].subject, "wasmbus.evt.prod.config_set");
	ck_assert_ptr_nonnull(strstr(evs.v[2].json,
	    "\"data\":{\"config_name\":\"a\"}"));
	ck_assert_int_eq(lt_resync_config(R("{\"success\":true,\"response\":"
	    "null}"), "prod", "b-c", MS, &evs, &exists, NULL), LT_OK);
	ck_assert_int_eq(exists, 0);
	ck_assert_uint_eq(evs.n, 3);
	lt_resync_events_free(&evs);
	lt_resync_seen_free(&seen);
}
END_TEST

START_TEST(test_deletions)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_resync_link	k = { "http", "default", "wasi", "http" };

	ck_assert_int_eq(lt_resync_link_deleted("prod", &k, MS, 3, &evs,
	    NULL), LT_OK);
	ck_assert_int_eq(lt_resync_config_deleted("prod", "old", MS, &evs,
	    NULL), LT_OK);
	ck_assert_uint_eq(evs.n, 2);
	ck_assert_str_eq(evs.v[0].subject, "wasmbus.evt.prod.linkdef_deleted");
	ck_assert_str_eq(evs.v[0].json, "{\"specversion\":\"1.0\","
	    "\"id\":\"resync-prod-unlink-1717236000000-3\",\"type\":"
	    "\"com.wasmcloud.lattice.linkdef_deleted\",\"source\":"
	    "\"latticed-resync\",\"datacontenttype\":\"application/json\","
	    "\"time\":\"2024-06-01T10:00:00.000Z\",\"data\":{\"source_id\":"
	    "\"http\",\"name\":\"default\",\"wit_namespace\":\"wasi\","
	    "\"wit_package\":\"http\"}}");
	ck_assert_str_eq(evs.v[1].subject, "wasmbus.evt.prod.config_deleted");
	ck_assert_ptr_nonnull(strstr(evs.v[1].json,
	    "\"id\":\"resync-prod-unconfig-old-1717236000000\""));
	lt_resync_events_free(&evs);
}
END_TEST

/* The events fold: a link observed, then deleted by a later resync; one
   set after the resync's answer survives its deletion. */
START_TEST(test_fold_round_trip)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_resync_seen	seen = { 0 };
	struct lt_resync_link	k = { "http", "default", "wasi", "http" };
	size_t			i;

	ck_assert_int_eq(lt_resync_links(R(LINKS), "prod", MS, &evs, &seen,
	    NULL), LT_OK);
	for (i = 0; i < evs.n; i++)
		ck_assert_int_eq(fold_json(evs.v[i].subject, evs.v[i].json,
		    evs.v[i].ms), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 2);
	lt_resync_events_free(&evs);
	/* a later resync's link.get no longer lists http->echo */
	ck_assert_int_eq(lt_resync_link_deleted("prod", &k, MS + 60000, 0,
	    &evs, NULL), LT_OK);
	ck_assert_int_eq(fold_json(evs.v[0].subject, evs.v[0].json,
	    evs.v[0].ms), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 1);
	ck_assert_str_eq(qs("SELECT source || ' ' || outcome FROM events "
	    "WHERE type = 'com.wasmcloud.lattice.linkdef_deleted'"),
	    "latticed-resync applied");
	lt_resync_events_free(&evs);
	/* echo->kv set again after the answer a deletion is dated at: the
	   deletion is superseded */
	k.source_id = "echo";
	k.wit_package = "keyvalue";
	ck_assert_int_eq(fold_json("wasmbus.evt.prod.linkdef_set",
	    "{\"specversion\":\"1.0\",\"id\":\"l2\",\"source\":\"x\","
	    "\"type\":\"com.wasmcloud.lattice.linkdef_set\",\"time\":"
	    "\"2024-06-01T10:02:00.000Z\",\"data\":{\"source_id\":\"echo\","
	    "\"target\":\"kv\",\"name\":\"default\",\"wit_namespace\":"
	    "\"wasi\",\"wit_package\":\"keyvalue\",\"interfaces\":[],"
	    "\"source_config\":[],\"target_config\":[]}}", MS + 120000),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(lt_resync_link_deleted("prod", &k, MS + 90000, 1,
	    &evs, NULL), LT_OK);
	ck_assert_int_eq(fold_json(evs.v[0].subject, evs.v[0].json,
	    MS + 130000), LT_OUT_SUPERSEDED);
	ck_assert_int_eq(qi("SELECT count(*) FROM links"), 1);
	lt_resync_events_free(&evs);
	lt_resync_seen_free(&seen);
}
END_TEST

/* Hosts started with --ctl-topic-prefix and --js-domain (wasmCloud
   1.x): every control subject under the prefix, the bucket through the
   domain's API; NULL or "" is the default. */
START_TEST(test_subjects_at)
{
	char b[256];

	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_PING,
	    "acme.ctl", "hub", "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "acme.ctl.v1.prod.host.ping");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_LINK_GET,
	    "acme.ctl", "hub", "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "acme.ctl.v1.prod.link.get");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_HOST_GET,
	    "acme.ctl", "hub", "prod", "NH1", NULL), LT_OK);
	ck_assert_str_eq(b, "acme.ctl.v1.prod.host.get.NH1");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_CONFIG_GET,
	    "acme.ctl", "hub", "prod", "cfg-a", NULL), LT_OK);
	ck_assert_str_eq(b, "acme.ctl.v1.prod.config.get.cfg-a");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_KV_INFO,
	    "acme.ctl", "hub", "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "$JS.hub.API.STREAM.INFO.KV_CONFIGDATA_prod");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_KV_INFO,
	    "", "", "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "$JS.API.STREAM.INFO.KV_CONFIGDATA_prod");
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_PING,
	    NULL, NULL, "prod", NULL, NULL), LT_OK);
	ck_assert_str_eq(b, "wasmbus.ctl.v1.prod.host.ping");
	/* a domain that is not one token is refused */
	ck_assert_int_eq(lt_resync_subject_at(b, sizeof(b), LT_RS_KV_INFO,
	    NULL, "a.b", "prod", NULL, NULL), LT_EINVAL);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

START_TEST(test_bad_names)
{
	char b[64], big[200];

	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_PING, "a.b",
	    NULL, NULL), LT_EINVAL);
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_PING, "",
	    NULL, NULL), LT_EINVAL);
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_PING, "*",
	    NULL, NULL), LT_EINVAL);
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_HOST_GET,
	    "prod", "N H", NULL), LT_EINVAL);
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_CONFIG_GET,
	    "prod", NULL, NULL), LT_EINVAL);
	/* too long for the buffer: refused, never cut */
	memset(big, 'l', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(lt_resync_subject(b, sizeof(b), LT_RS_LINK_GET, big,
	    NULL, NULL), LT_EINVAL);
}
END_TEST

START_TEST(test_bad_replies)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_resync_seen	seen = { 0 };
	struct lt_err		e;
	char			host[64];
	int			exists;

	ck_assert_int_eq(lt_resync_ping(R("not json"), host, sizeof(host),
	    &e), LT_EPARSE);
	ck_assert_int_eq(lt_resync_ping(R("{\"success\":true,\"response\":"
	    "{\"id\":\"a.b\"}}"), host, sizeof(host), &e), LT_EINVAL);
	/* a failed link.get says nothing: nothing seen, nothing deleted */
	ck_assert_int_eq(lt_resync_links(R("{\"success\":false,\"message\":"
	    "\"timeout\"}"), "prod", MS, &evs, &seen, &e), LT_EINVAL);
	ck_assert_str_eq(e.msg, "resync: timeout");
	ck_assert_int_eq(lt_resync_links(R("{\"success\":true,\"response\":"
	    "{}}"), "prod", MS, &evs, &seen, &e), LT_EINVAL);
	ck_assert_uint_eq(evs.n, 0);
	ck_assert_uint_eq(seen.nlink, 0);
	/* no bucket (a JetStream API error): nothing known */
	ck_assert_int_eq(lt_resync_kv_names(R("{\"type\":\"io.nats.jetstream"
	    ".api.v1.stream_info_response\",\"error\":{\"code\":404,"
	    "\"description\":\"stream not found\"}}"), "prod", &seen, &e),
	    LT_EINVAL);
	/* an error answer to config.get: not known for sure */
	ck_assert_int_eq(lt_resync_config(R("{\"success\":false,\"message\":"
	    "\"Configuration not found\"}"), "prod", "a", MS, &evs, &exists,
	    &e), LT_EINVAL);
	ck_assert_int_eq(exists, 0);
	ck_assert_uint_eq(evs.n, 0);
	lt_resync_seen_free(&seen);
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_empty)
{
	struct lt_resync_events	evs = { 0 };
	struct lt_resync_seen	seen = { 0 };

	/* an empty list and an empty bucket are answers: all gone */
	ck_assert_int_eq(lt_resync_links(R("{\"success\":true,\"response\":"
	    "[]}"), "prod", MS, &evs, &seen, NULL), LT_OK);
	ck_assert_int_eq(lt_resync_kv_names(R("{\"state\":{\"messages\":0}}"),
	    "prod", &seen, NULL), LT_OK);
	ck_assert_uint_eq(evs.n, 0);
	ck_assert_uint_eq(seen.nlink + seen.nconfig, 0);
	lt_resync_events_free(NULL);
	lt_resync_seen_free(NULL);
}
END_TEST

/* The suite. */
static Suite *
resync_suite(void)
{
	Suite	*s = suite_create("resync_ctl");
	TCase	*tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_subjects);
	tcase_add_test(tc, test_subjects_at);
	tcase_add_test(tc, test_ping_inventory);
	tcase_add_test(tc, test_links_and_configs);
	tcase_add_test(tc, test_deletions);
	tcase_add_test(tc, test_fold_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_bad_replies);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(resync_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
