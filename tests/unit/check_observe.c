/*
 * check_observe.c - latticed_state values and the lattice lists a resync
 * walks, against an in-memory database.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "observe.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"

#define BASE	INT64_C(1717236000000)

static struct lt_observe *ob;

/* The shared store and fold, plus an observe handle. */
static void
obs_setup(void)
{
	setup();
	ck_assert_int_eq(lt_observe_new(st, &ob, NULL), LT_OK);
}

/* Free them. */
static void
obs_teardown(void)
{
	lt_observe_free(ob);
	ob = NULL;
	teardown();
}

/* A host_started (status up) or host_stopped from host on lattice lat. */
static void
host(const char *lat, const char *id, const char *name, int64_t t)
{
	char subj[128], ev[512];

	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.%s", lat, name);
	snprintf(ev, sizeof(ev), "{\"specversion\":\"1.0\",\"id\":\"%s-%s\","
	    "\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice.%s\","
	    "\"data\":{\"labels\":{}}}", id, name, id, name);
	ck_assert_int_eq(fold_json(subj, ev, BASE + t), LT_OUT_APPLIED);
}

/* Append lattice to the comma list in arg. */
static int
collect(void *arg, const char *lattice)
{
	char *buf = arg;

	if (*buf != '\0')
		strcat(buf, ",");
	strcat(buf, lattice);
	return 0;
}

/* Stop after the first lattice. */
static int
first_only(void *arg, const char *lattice)
{
	strcpy(arg, lattice);
	return 1;
}

START_TEST(state_values)
{
	int64_t v = 7;
	int found = 1;

	ck_assert_int_eq(lt_observe_state_get(ob, "js.x.last_seq", &v, &found,
	    NULL), LT_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_observe_state_set(ob, "js.x.last_seq", 41, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_observe_state_add(ob, "js.x.last_seq", 1, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_observe_state_add(ob, "js.gaps", 2, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_observe_state_get(ob, "js.x.last_seq", &v, &found,
	    NULL), LT_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(lt_observe_state_get(ob, "js.gaps", &v, &found,
	    NULL), LT_OK);
	ck_assert_int_eq(v, 2);

	/* a rolled-back write is not remembered */
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_observe_state_set(ob, "js.x.last_seq", 99, NULL),
	    LT_OK);
	lt_fold_rollback(fd);
	ck_assert_int_eq(lt_observe_state_get(ob, "js.x.last_seq", &v, &found,
	    NULL), LT_OK);
	ck_assert_int_eq(v, 42);

	/* a non-integer value reads as absent */
	ck_assert_int_eq(qi("SELECT count(*) FROM latticed_state"), 2);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_observe_state_set(ob, "text", 1, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(qi("UPDATE latticed_state SET value = 'x' WHERE "
	    "key = 'text' RETURNING 1"), 1);
	ck_assert_int_eq(lt_observe_state_get(ob, "text", &v, &found, NULL),
	    LT_OK);
	ck_assert_int_eq(found, 0);
}
END_TEST

START_TEST(lattice_lists)
{
	char buf[256] = "";

	ck_assert_int_eq(lt_observe_lattices(ob, collect, buf, NULL), LT_OK);
	ck_assert_str_eq(buf, "");
	host("zeta", "NZ1", "host_started", 0);
	host("alpha", "NA1", "host_started", 1000);
	host("mid", "NM1", "host_started", 2000);
	host("mid", "NM1", "host_stopped", 3000);

	ck_assert_int_eq(lt_observe_lattices(ob, collect, buf, NULL), LT_OK);
	ck_assert_str_eq(buf, "alpha,mid,zeta");
	/* only lattices with an up host, known longest first */
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_lattices_up(ob, collect, buf, NULL),
	    LT_OK);
	ck_assert_str_eq(buf, "zeta,alpha");
	/* the callback stops the walk */
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_lattices(ob, first_only, buf, NULL),
	    LT_OK);
	ck_assert_str_eq(buf, "alpha");
}
END_TEST

/* lt_observe_v2_up(): the up wasmCloud 2 hosts only, in id order. */
START_TEST(v2_up)
{
	char buf[256] = "";

	host("alpha", "NA1", "host_started", 0);	/* v1: never listed */
	ck_assert_int_eq(fold_json("runtime.operator.heartbeat.v2-b",
	    "{\"environment\":\"alpha\"}", 1000), LT_OUT_APPLIED);
	ck_assert_int_eq(fold_json("runtime.operator.heartbeat.v2-a",
	    "{}", 1000), LT_OUT_APPLIED);
	ck_assert_int_eq(fold_json("runtime.operator.heartbeat.v2-c",
	    "{}", 1000), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("UPDATE latticed_hosts SET status = 'stale'"
	    " WHERE host_id = 'v2-c' RETURNING 1"), 1);
	ck_assert_int_eq(lt_observe_v2_up(ob, collect, buf, NULL), LT_OK);
	ck_assert_str_eq(buf, "v2-a,v2-b");
	buf[0] = '\0';
	ck_assert_int_eq(lt_observe_v2_up(ob, first_only, buf, NULL), LT_OK);
	ck_assert_str_eq(buf, "v2-a");
}
END_TEST

/* Run SQL on the test store. */
static void
sql(const char *q)
{
	ck_assert_int_eq(sqlite3_exec(st->db, q, NULL, NULL, NULL), SQLITE_OK);
}

/* lt_observe_links() / lt_observe_configs() callbacks: count and join. */
static int
link_cb(void *arg, const char *src, const char *name, const char *ns,
    const char *pkg)
{
	char	*b = arg;

	snprintf(b + strlen(b), 256 - strlen(b), "%s/%s/%s:%s;", src, name,
	    ns, pkg);
	return 0;
}

static int
config_cb(void *arg, const char *name)
{
	char	*b = arg;

	snprintf(b + strlen(b), 256 - strlen(b), "%s;", name);
	return 0;
}

/* A lattice's links and configs, for a resync's deletions. */
START_TEST(links_and_configs)
{
	char	b[256] = "";

	sql("INSERT INTO latticed_links (lattice, source_id, name,"
	    " wit_namespace, wit_package, updated_ms) VALUES"
	    " ('a', 's', 'n', 'wasi', 'http', 1),"
	    " ('b', 'x', 'n', 'wasi', 'kv', 1)");
	sql("INSERT INTO latticed_configs (lattice, config_name, updated_ms)"
	    " VALUES ('a', 'c1', 1), ('b', 'c2', 1)");
	ck_assert_int_eq(lt_observe_links(ob, "a", link_cb, b, NULL), LT_OK);
	ck_assert_str_eq(b, "s/n/wasi:http;");
	b[0] = '\0';
	ck_assert_int_eq(lt_observe_configs(ob, "b", config_cb, b, NULL),
	    LT_OK);
	ck_assert_str_eq(b, "c2;");
	b[0] = '\0';
	ck_assert_int_eq(lt_observe_configs(ob, "none", config_cb, b, NULL),
	    LT_OK);
	ck_assert_str_eq(b, "");
}
END_TEST

/* Build the suite. */
static Suite *
observe_suite(void)
{
	Suite *s = suite_create("observe");
	TCase *tc = tcase_create("valid");

	tcase_add_checked_fixture(tc, obs_setup, obs_teardown);
	tcase_add_test(tc, state_values);
	tcase_add_test(tc, lattice_lists);
	tcase_add_test(tc, v2_up);
	tcase_add_test(tc, links_and_configs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(observe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
