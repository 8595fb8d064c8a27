/*
 * check_census.c - lib/census.h counts after folding events through
 * lt_fold_msg_info, and the lattice/type it reports per message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "census.h"
#include "fold.h"
#include "store.h"
#include "store_int.h"

#define BASE	INT64_C(1717236000000)

static struct lt_store *st;
static struct lt_fold *fd;
static int seq;

/* Open a fresh in-memory store and fold. */
static void
setup(void)
{
	struct lt_fold_opts o;

	ck_assert_int_eq(lt_store_open(":memory:", &st, NULL), LT_OK);
	lt_fold_opts_default(&o);
	ck_assert_int_eq(lt_fold_new(st, &o, &fd, NULL), LT_OK);
	seq = 0;
}

/* Close them. */
static void
teardown(void)
{
	lt_fold_free(fd);
	lt_store_close(st);
}

/* Fold one message in its own transaction; fill info, return outcome. */
static enum lt_outcome
fold_subj(const char *subject, const char *json, struct lt_fold_info *fi,
    struct lt_err *err)
{
	struct lt_msg m = { subject, json, strlen(json), BASE + seq, NULL };
	enum lt_outcome out = (enum lt_outcome)-1;

	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_msg_info(fd, &m, &out, fi, err), LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	return out;
}

/* Fold a CloudEvent of type name from host src on lattice lat. */
static enum lt_outcome
ev(const char *lat, const char *name, const char *src, const char *data)
{
	char subj[128], buf[4096];
	struct lt_fold_info fi;

	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.%s", lat, name);
	snprintf(buf, sizeof(buf), "{\"specversion\":\"1.0\",\"id\":"
	    "\"ev-%d\",\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice.%s\","
	    "\"datacontenttype\":\"application/json\",\"data\":%s}", ++seq,
	    src, name, data);
	return fold_subj(subj, buf, &fi, NULL);
}

#define HB(h, comps) "{\"host_id\":\"" h "\",\"labels\":{},\"issuer\":" \
	"\"CX\",\"uptime_seconds\":1,\"uptime_human\":\"1s\",\"version\":" \
	"\"1.0.0\",\"friendly_name\":\"f\",\"components\":[" comps "]," \
	"\"providers\":[]}"
#define COMP(id) "{\"id\":\"" id "\",\"image_ref\":\"r/" id ":1\"," \
	"\"name\":\"" id "\",\"annotations\":{},\"max_instances\":1," \
	"\"revision\":0}"
#define STOPPED(h) "{\"host_id\":\"" h "\",\"labels\":{},\"reason\":\"x\"}"
#define LINK "{\"source_id\":\"c1\",\"target\":\"p1\",\"name\":" \
	"\"default\",\"wit_namespace\":\"wasi\",\"wit_package\":\"http\"," \
	"\"interfaces\":[\"incoming-handler\"],\"source_config\":[]," \
	"\"target_config\":[]}"

/* Find the count of (lattice, key) in table t, -1 when absent. */
static int64_t
count(const struct lt_census *c, enum lt_census_table t, const char *lat,
    const char *key)
{
	size_t i;

	for (i = 0; i < c->nrows[t]; i++) {
		const struct lt_census_row *r = &c->rows[t][i];

		if (strcmp(r->lattice, lat) != 0)
			continue;
		if (key == NULL ? r->key != NULL :
		    r->key == NULL || strcmp(r->key, key) != 0)
			continue;
		return r->n;
	}
	return -1;
}

/* Sum the counts of table t. */
static int64_t
sum(const struct lt_census *c, enum lt_census_table t)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < c->nrows[t]; i++)
		n += c->rows[t][i].n;
	return n;
}

/* One integer from SQL. */
static int64_t
qi(const char *sql)
{
	sqlite3_stmt *s;
	int64_t v;

	ck_assert_int_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Build the fixture: two lattices, hosts in every status, rows in every
   table. */
static void
fixture(void)
{
	ck_assert_int_eq(ev("alpha", "host_heartbeat", "NA1",
	    HB("NA1", COMP("c1") "," COMP("c2"))), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("alpha", "host_heartbeat", "NA2",
	    HB("NA2", COMP("c1"))), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("alpha", "host_heartbeat", "NA3", HB("NA3", "")),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(ev("alpha", "host_stopped", "NA3", STOPPED("NA3")),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(ev("alpha", "linkdef_set", "NA1", LINK),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(ev("alpha", "config_set", "NA1",
	    "{\"config_name\":\"cfg1\"}"), LT_OUT_APPLIED);
	ck_assert_int_eq(ev("beta", "host_heartbeat", "NB1", HB("NB1", "")),
	    LT_OUT_APPLIED);
	/* stale is the sweep's verdict; set it the way an operator sees it */
	ck_assert_int_eq(sqlite3_exec(st->db, "UPDATE latticed_hosts"
	    " SET status = 'stale' WHERE host_id = 'NB1'", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(st->db, "INSERT INTO latticed_alerts"
	    " (lattice, kind, severity, entity, summary, fired_ms) VALUES"
	    " ('beta', 'host_stale', 'warning', 'NB1', 's', 1),"
	    " ('beta', 'host_stale', 'warning', 'NB2', 's', 1),"
	    " ('beta', 'host_stopped', 'info', 'NB3', 's', 1);"
	    "INSERT INTO latticed_alerts (lattice, kind, severity, entity,"
	    " summary, fired_ms, resolved_ms) VALUES"
	    " ('beta', 'host_stale', 'warning', 'NB4', 's', 1, 2)",
	    NULL, NULL, NULL), SQLITE_OK);
}

/* --- valid ---------------------------------------------------------- */

START_TEST(test_counts)
{
	struct lt_census_q *q;
	struct lt_census *c;

	fixture();
	ck_assert_int_eq(lt_census_new(st, &q, NULL), LT_OK);
	ck_assert_int_eq(lt_census_take(q, &c, NULL), LT_OK);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "alpha", "up"), 2);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "alpha", "stopped"), 1);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "alpha", "stale"), -1);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "beta", "stale"), 1);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "beta", "up"), -1);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_HOSTS], 3);
	/* NA3 stopped: its (empty) inventory is gone; NA1 2 + NA2 1 */
	ck_assert_int_eq(count(c, LT_CENSUS_COMPONENTS, "alpha", NULL), 3);
	ck_assert_int_eq(count(c, LT_CENSUS_COMPONENTS, "beta", NULL), -1);
	ck_assert_int_eq(count(c, LT_CENSUS_PROVIDERS, "alpha", NULL), -1);
	ck_assert_int_eq(count(c, LT_CENSUS_LINKS, "alpha", NULL), 1);
	ck_assert_int_eq(count(c, LT_CENSUS_CONFIGS, "alpha", NULL), 1);
	/* resolved alerts do not count */
	ck_assert_int_eq(count(c, LT_CENSUS_ALERTS, "beta", "host_stale"), 2);
	ck_assert_int_eq(count(c, LT_CENSUS_ALERTS, "beta", "host_stopped"),
	    1);
	/* the fold fires alerts of its own (host stopped): every active one
	   is counted once */
	ck_assert_int_eq(sum(c, LT_CENSUS_ALERTS), qi("SELECT count(*) FROM"
	    " alerts WHERE resolved_ms IS NULL"));
	ck_assert_int_eq(sum(c, LT_CENSUS_HOSTS), qi("SELECT count(*) FROM"
	    " hosts"));
	/* ordered by lattice, then key */
	ck_assert_str_eq(c->rows[LT_CENSUS_HOSTS][0].lattice, "alpha");
	ck_assert_str_eq(c->rows[LT_CENSUS_HOSTS][0].key, "stopped");
	ck_assert_str_eq(c->rows[LT_CENSUS_HOSTS][2].lattice, "beta");
	lt_census_free(c);

	/* a second take sees new rows: statements were reset */
	ck_assert_int_eq(ev("beta", "host_heartbeat", "NB9", HB("NB9", "")),
	    LT_OUT_APPLIED);
	ck_assert_int_eq(lt_census_take(q, &c, NULL), LT_OK);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "beta", "up"), 1);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "beta", "stale"), 1);
	lt_census_free(c);

	/* the hosts alone (STATUS=): the same host rows, no other table */
	ck_assert_int_eq(lt_census_take_only(q, LT_CENSUS_BIT(LT_CENSUS_HOSTS),
	    &c, NULL), LT_OK);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "beta", "up"), 1);
	ck_assert_int_eq(count(c, LT_CENSUS_HOSTS, "alpha", "up"), 2);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_HOSTS], 4);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_COMPONENTS], 0);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_LINKS], 0);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_ALERTS], 0);
	lt_census_free(c);
	ck_assert_int_eq(lt_census_take_only(q, LT_CENSUS_BIT(
	    LT_CENSUS_COMPONENTS) | LT_CENSUS_BIT(LT_CENSUS_ALERTS), &c, NULL),
	    LT_OK);
	ck_assert_uint_eq(c->nrows[LT_CENSUS_HOSTS], 0);
	ck_assert_int_eq(count(c, LT_CENSUS_COMPONENTS, "alpha", NULL), 3);
	ck_assert_int_eq(count(c, LT_CENSUS_ALERTS, "beta", "host_stale"), 2);
	lt_census_free(c);
	lt_census_q_free(q);
}
END_TEST

START_TEST(test_info)
{
	struct lt_fold_info fi;
	static const char good[] = "{\"specversion\":\"1.0\",\"id\":\"x1\","
	    "\"source\":\"NH\",\"type\":\"com.wasmcloud.lattice."
	    "invocation_failed\",\"data\":{}}";

	ck_assert_int_eq(fold_subj("wasmbus.rpcevt.gamma", good, &fi, NULL),
	    LT_OUT_RECORDED);
	ck_assert_str_eq(fi.lattice, "gamma");
	ck_assert_str_eq(fi.type,
	    "com.wasmcloud.lattice.invocation_failed");
	ck_assert_int_eq(fi.rpc, 1);
	/* the same event again: duplicate, still named */
	ck_assert_int_eq(fold_subj("wasmbus.evt.gamma", good, &fi, NULL),
	    LT_OUT_DUPLICATE);
	ck_assert_str_eq(fi.lattice, "gamma");
	ck_assert_int_eq(fi.rpc, 0);
	/* NULL info is fine (lt_fold_msg's path) */
	ck_assert_int_eq(fold_subj("wasmbus.evt.gamma", good, NULL, NULL),
	    LT_OUT_DUPLICATE);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

START_TEST(test_info_rejects)
{
	struct lt_fold_info fi;
	struct lt_err err;

	/* bad JSON: lattice known, type not */
	memset(&fi, 'x', sizeof(fi));
	ck_assert_int_eq(fold_subj("wasmbus.evt.delta.host_heartbeat",
	    "{nope", &fi, &err), LT_OUT_REJECTED);
	ck_assert_int_eq(err.code, LT_EPARSE);
	ck_assert_str_eq(fi.lattice, "delta");
	ck_assert_str_eq(fi.type, "");
	/* not a lattice subject: nothing known */
	memset(&fi, 'x', sizeof(fi));
	ck_assert_int_eq(fold_subj("other.subject", "{}", &fi, &err),
	    LT_OUT_REJECTED);
	ck_assert_int_eq(err.code, LT_EINVAL);
	ck_assert_str_eq(fi.lattice, "");
	ck_assert_str_eq(fi.type, "");
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_empty_and_long)
{
	struct lt_census_q *q;
	struct lt_census *c;
	struct lt_fold_info fi;
	char subj[600], lat[400];
	size_t t;

	ck_assert_int_eq(lt_census_new(st, &q, NULL), LT_OK);
	ck_assert_int_eq(lt_census_take(q, &c, NULL), LT_OK);
	for (t = 0; t < LT_CENSUS_NTABLES; t++)
		ck_assert_uint_eq(c->nrows[t], 0);
	lt_census_free(c);
	lt_census_free(NULL);
	lt_census_q_free(q);
	lt_census_q_free(NULL);
	ck_assert_str_eq(lt_census_table_name(LT_CENSUS_ALERTS), "alerts");

	/* a lattice name longer than the info buffer is truncated, NUL
	   terminated */
	memset(lat, 'l', sizeof(lat) - 1);
	lat[sizeof(lat) - 1] = '\0';
	snprintf(subj, sizeof(subj), "wasmbus.evt.%s.x", lat);
	ck_assert_int_eq(fold_subj(subj, "[]", &fi, NULL), LT_OUT_REJECTED);
	ck_assert_uint_eq(strlen(fi.lattice), sizeof(fi.lattice) - 1);
}
END_TEST

/* The suite. */
static Suite *
census_suite(void)
{
	Suite *s = suite_create("census");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_info);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_info_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_and_long);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(census_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
