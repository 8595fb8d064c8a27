/*
 * check_v2hb.c - the wasmCloud 2 heartbeat decoder (lib/v2hb.c) and how the
 * fold applies it: valid / rejects / edge, then the fold rules (lattice,
 * columns, history, restart, staleness and alerts) with a fake clock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ce.h"
#include "fold.h"
#include "stale.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"
#include "v2hb.h"

#define BASE	INT64_C(1796576400000)	/* 2026-12-06T17:00:00Z */
#define HID	"0199a3b2-5c1e-7d3a-9f0e-2b7c4d8e6f10"
#define HSUBJ	LT_V2HB_SUBJECT_PREFIX HID

/* Read tests/data/v2/name into a NUL-terminated buffer. */
static char *
slurp(const char *name, size_t *len)
{
	char	 path[512], *buf;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof(path), "%s/v2/%s", TEST_DATA_DIR, name);
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "%s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
	ck_assert_int_eq(fread(buf, 1, (size_t)n, fp), n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Decode s (host of the subject: HID) with default limits. */
static int
dec(const char *s, struct lt_ce **ev, struct lt_err *err)
{
	return lt_v2hb_parse(s, strlen(s), HID, BASE, NULL, ev, err);
}

/* --- valid ------------------------------------------------------------ */

/* The camelCase fixture, as washlet's serde_json::to_vec() sends it. */
START_TEST(test_camel)
{
	struct lt_ce *ev;
	struct lt_err err;
	size_t len;
	char *buf = slurp("heartbeat.json", &len);
	const struct lt_v2hb *v;

	ck_assert_int_eq(lt_v2hb_parse(buf, len, HID, BASE, NULL, &ev, &err),
	    LT_OK);
	ck_assert_int_eq(ev->kind, LT_K_V2_HEARTBEAT);
	ck_assert_str_eq(ev->host_id, HID);
	ck_assert_str_eq(ev->source, HSUBJ);
	ck_assert_str_eq(ev->type, LT_V2HB_TYPE);
	ck_assert_int_eq(ev->time_ok, 0);
	ck_assert_str_eq(ev->friendly_name, "quiet-river-7421");
	ck_assert_str_eq(ev->version, "2.7.0");
	ck_assert_str_eq(ev->labels, "{\"hostcore.arch\":\"x86_64\","
	    "\"hostcore.os\":\"linux\",\"zone\":\"eu-west-1a\"}");
	ck_assert_uint_eq(ev->data_len, len);
	ck_assert_int_eq(memcmp(ev->data, buf, len), 0);
	v = ev->v2;
	ck_assert_str_eq(v->hostname, "washlet-0.washlet.prod.svc");
	ck_assert_str_eq(v->environment, "prod");
	ck_assert_int_eq(v->has_started, 1);
	ck_assert_int_eq(v->started_ms, BASE + 2 * 60000 + 11123);
	ck_assert_str_eq(v->os_arch, "x86_64");
	ck_assert_str_eq(v->os_name, "linux");
	ck_assert_str_eq(v->os_kernel, "6.8.0-49-generic");
	ck_assert_int_eq(v->has_cpu, 1);
	ck_assert(v->cpu_usage == 12.5);
	ck_assert_int_eq(v->memory_total, INT64_C(16777216000));
	ck_assert_int_eq(v->memory_free, INT64_C(8123456789));
	ck_assert_int_eq(v->component_count, 3);
	ck_assert_int_eq(v->workload_count, 2);
	ck_assert_int_eq(v->http_port, 8080);
	ck_assert_str_eq(v->imports, "[{\"namespace\":\"wasi\",\"package\":"
	    "\"http\",\"version\":\"0.2.2\",\"interfaces\":["
	    "\"outgoing-handler\"],\"config\":{},\"name\":\"\"},"
	    "{\"namespace\":\"wasi\",\"package\":\"keyvalue\",\"version\":"
	    "\"0.2.0-draft\",\"interfaces\":[\"store\",\"atomics\"],"
	    "\"config\":{\"backend\":\"nats\"},\"name\":\"cache\"}]");
	ck_assert_str_eq(v->exports, "[{\"namespace\":\"wasi\",\"package\":"
	    "\"http\",\"version\":\"0.2.2\",\"interfaces\":["
	    "\"incoming-handler\"],\"config\":{},\"name\":\"\"}]");
	lt_ce_free(ev);
	free(buf);
}
END_TEST

/* snake_case names, 64-bit numbers as numbers, the float as a string and
   an offset time decode to the same fields as the camelCase fixture. */
START_TEST(test_snake_same)
{
	struct lt_ce *a, *b;
	size_t la, lb;
	char *ba = slurp("heartbeat.json", &la);
	char *bb = slurp("heartbeat_snake.json", &lb);

	ck_assert_int_eq(lt_v2hb_parse(ba, la, HID, BASE, NULL, &a, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_v2hb_parse(bb, lb, HID, BASE, NULL, &b, NULL),
	    LT_OK);
	ck_assert_str_eq(a->friendly_name, b->friendly_name);
	ck_assert_str_eq(a->labels, b->labels);
	ck_assert_int_eq(b->v2->started_ms, BASE + 2 * 60000 + 11123);
	ck_assert_str_eq(a->v2->os_kernel, b->v2->os_kernel);
	ck_assert(a->v2->cpu_usage == b->v2->cpu_usage);
	ck_assert_int_eq(a->v2->memory_total, b->v2->memory_total);
	ck_assert_int_eq(a->v2->memory_free, b->v2->memory_free);
	ck_assert_int_eq(a->v2->component_count, b->v2->component_count);
	ck_assert_int_eq(a->v2->workload_count, b->v2->workload_count);
	ck_assert_int_eq(a->v2->http_port, b->v2->http_port);
	ck_assert_str_eq(a->v2->imports, b->v2->imports);
	ck_assert_str_eq(a->v2->exports, b->v2->exports);
	/* different bytes, different id */
	ck_assert_str_ne(a->id, b->id);
	lt_ce_free(a);
	lt_ce_free(b);
	free(ba);
	free(bb);
}
END_TEST

/* Absent members are the proto defaults. */
START_TEST(test_defaults)
{
	struct lt_ce *ev;
	const struct lt_v2hb *v;

	ck_assert_int_eq(dec("{}", &ev, NULL), LT_OK);
	ck_assert_str_eq(ev->host_id, HID);	/* from the subject */
	ck_assert_str_eq(ev->friendly_name, "");
	ck_assert_str_eq(ev->version, "");
	ck_assert_str_eq(ev->labels, "{}");
	v = ev->v2;
	ck_assert_str_eq(v->hostname, "");
	ck_assert_str_eq(v->environment, "");
	ck_assert_int_eq(v->has_started, 0);
	ck_assert_int_eq(v->has_cpu, 1);
	ck_assert(v->cpu_usage == 0);
	ck_assert_int_eq(v->memory_total, 0);
	ck_assert_int_eq(v->component_count, 0);
	ck_assert_int_eq(v->http_port, 0);
	ck_assert_str_eq(v->imports, "[]");
	ck_assert_str_eq(v->exports, "[]");
	lt_ce_free(ev);
	/* null is the default too */
	ck_assert_int_eq(dec("{\"labels\":null,\"httpPort\":null,"
	    "\"imports\":null,\"startedAt\":null}", &ev, NULL), LT_OK);
	ck_assert_str_eq(ev->labels, "{}");
	ck_assert_str_eq(ev->v2->imports, "[]");
	lt_ce_free(ev);
}
END_TEST

/* The pretty reply to runtime.host.<id>.heartbeat decodes too. */
START_TEST(test_pretty)
{
	struct lt_ce *ev;
	size_t len;
	char *buf = slurp("heartbeat_pretty.json", &len);

	ck_assert_int_eq(lt_v2hb_parse(buf, len, HID, BASE, NULL, &ev, NULL),
	    LT_OK);
	ck_assert_str_eq(ev->v2->os_name, "macos");
	ck_assert_int_eq(ev->v2->memory_total, INT64_C(34359738368));
	lt_ce_free(ev);
	free(buf);
}
END_TEST

/* --- rejects ---------------------------------------------------------- */

static const struct reject {
	const char	*json;
	int		 code;
	const char	*field;
} rejects[] = {
	{ "", LT_EPARSE, "" },
	{ "{", LT_EPARSE, "" },
	{ "{\"id\":\"a\"} x", LT_EPARSE, "" },
	{ "{\"hostname\":\"\xff\"}", LT_EPARSE, "" },
	{ "{\"hostname\":\"a\\u0000b\"}", LT_EPARSE, "" },
	{ "{\"hostname\":01}", LT_EPARSE, "" },
	{ "[]", LT_EINVAL, "" },
	{ "\"x\"", LT_EINVAL, "" },
	{ "{\"id\":\"someone-else\"}", LT_EINVAL, "id" },
	{ "{\"id\":7}", LT_EINVAL, "id" },
	{ "{\"hostname\":1}", LT_EINVAL, "hostname" },
	{ "{\"friendlyName\":\"a\",\"friendly_name\":\"b\"}", LT_EINVAL,
	    "friendly_name" },
	{ "{\"labels\":[]}", LT_EINVAL, "labels" },
	{ "{\"labels\":{\"a\":1}}", LT_EINVAL, "labels" },
	{ "{\"startedAt\":\"yesterday\"}", LT_EINVAL, "started_at" },
	{ "{\"startedAt\":1}", LT_EINVAL, "started_at" },
	{ "{\"startedAt\":\"2026-12-06T25:00:00Z\"}", LT_EINVAL,
	    "started_at" },
	{ "{\"systemCpuUsage\":\"lots\"}", LT_EINVAL, "system_cpu_usage" },
	{ "{\"systemCpuUsage\":\"inf\"}", LT_EINVAL, "system_cpu_usage" },
	{ "{\"systemCpuUsage\":true}", LT_EINVAL, "system_cpu_usage" },
	{ "{\"systemMemoryTotal\":-1}", LT_EINVAL, "system_memory_total" },
	{ "{\"systemMemoryTotal\":\"-1\"}", LT_EINVAL,
	    "system_memory_total" },
	{ "{\"systemMemoryTotal\":\"1e9\"}", LT_EINVAL,
	    "system_memory_total" },
	{ "{\"systemMemoryTotal\":\"\"}", LT_EINVAL, "system_memory_total" },
	{ "{\"systemMemoryTotal\":1.5}", LT_EINVAL, "system_memory_total" },
	{ "{\"systemMemoryFree\":\"18446744073709551615\"}", LT_ELIMIT,
	    "system_memory_free" },
	{ "{\"systemMemoryFree\":\"9223372036854775808\"}", LT_ELIMIT,
	    "system_memory_free" },
	{ "{\"componentCount\":1e300}", LT_ELIMIT, "component_count" },
	{ "{\"workloadCount\":[1]}", LT_EINVAL, "workload_count" },
	{ "{\"httpPort\":4294967296}", LT_ELIMIT, "http_port" },
	{ "{\"httpPort\":\"4294967296\"}", LT_ELIMIT, "http_port" },
	{ "{\"imports\":{}}", LT_EINVAL, "imports" },
	{ "{\"imports\":[1]}", LT_EINVAL, "imports[0]" },
	{ "{\"exports\":[{},{\"namespace\":2}]}", LT_EINVAL,
	    "exports[1].namespace" },
	{ "{\"exports\":[{\"interfaces\":\"x\"}]}", LT_EINVAL,
	    "exports[0].interfaces" },
	{ "{\"exports\":[{\"interfaces\":[3]}]}", LT_EINVAL,
	    "exports[0].interfaces" },
	{ "{\"exports\":[{\"config\":{\"a\":{}}}]}", LT_EINVAL,
	    "exports[0].config" },
	{ "{\"environment\":false}", LT_EINVAL, "environment" },
};

/* Each bad payload fails with its class and names its field. */
START_TEST(test_rejects)
{
	const struct reject *r = &rejects[_i];
	struct lt_ce *ev = (struct lt_ce *)1;
	struct lt_err err;

	ck_assert_msg(dec(r->json, &ev, &err) == r->code,
	    "%s: got %d (%s)", r->json, err.code, err.msg);
	ck_assert_ptr_null(ev);
	ck_assert_msg(strcmp(err.field, r->field) == 0, "%s: field %s",
	    r->json, err.field);
}
END_TEST

/* No id on either side is an error; NULL buffers are refused. */
START_TEST(test_no_id)
{
	struct lt_ce *ev;
	struct lt_err err;

	ck_assert_int_eq(lt_v2hb_parse("{}", 2, NULL, BASE, NULL, &ev, &err),
	    LT_EINVAL);
	ck_assert_str_eq(err.field, "id");
	ck_assert_int_eq(lt_v2hb_parse("{\"id\":\"h\"}", 10, NULL, BASE, NULL,
	    &ev, &err), LT_OK);
	ck_assert_str_eq(ev->host_id, "h");
	lt_ce_free(ev);
	ck_assert_int_eq(lt_v2hb_parse(NULL, 0, HID, BASE, NULL, &ev, &err),
	    LT_EINVAL);
}
END_TEST

/* struct lt_limits applies: payload, depth, strings, items, pairs. */
START_TEST(test_limits)
{
	struct lt_limits lim;
	struct lt_ce *ev;
	struct lt_err err;
	const char *s;

	lt_limits_default(&lim);
	lim.max_payload = 10;
	s = "{\"hostname\":\"abcdefgh\"}";
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	lt_limits_default(&lim);
	lim.max_string = 4;
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), "h", BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	ck_assert_str_eq(err.field, "hostname");
	lt_limits_default(&lim);
	lim.max_depth = 3;
	s = "{\"imports\":[{\"config\":{\"a\":\"b\"}}]}";
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	lt_limits_default(&lim);
	lim.max_items = 2;
	s = "{\"exports\":[{},{},{}]}";
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	ck_assert_str_eq(err.field, "exports");
	s = "{\"exports\":[{\"interfaces\":[\"a\",\"b\",\"c\"]}]}";
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	ck_assert_str_eq(err.field, "exports[0].interfaces");
	lt_limits_default(&lim);
	lim.max_pairs = 1;
	s = "{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}";
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, &lim, &ev,
	    &err), LT_ELIMIT);
	ck_assert_str_eq(err.field, "labels");
}
END_TEST

/* --- edge ------------------------------------------------------------- */

/* Unknown members are ignored; a repeated name is refused (json.c). */
START_TEST(test_unknown_and_repeats)
{
	struct lt_ce *ev;

	ck_assert_int_eq(dec("{\"futureField\":{\"x\":[1,2]},"
	    "\"labels\":{\"a\":\"1\"},\"hostname\":\"h1\"}", &ev, NULL),
	    LT_OK);
	ck_assert_str_eq(ev->labels, "{\"a\":\"1\"}");
	ck_assert_str_eq(ev->v2->hostname, "h1");
	lt_ce_free(ev);
	ck_assert_int_eq(dec("{\"labels\":{\"a\":\"1\",\"a\":\"2\"},"
	    "\"hostname\":\"h1\"}", &ev, NULL), LT_EINVAL);
	ck_assert_int_eq(dec("{\"labels\":{},\"hostname\":\"h1\","
	    "\"hostn\\u0061me\":\"h2\"}", &ev, NULL), LT_EINVAL);
}
END_TEST

/* NaN and infinities (pbjson strings, or a float over FLT_MAX) are not
   kept; edge integers are. */
START_TEST(test_numbers)
{
	struct lt_ce *ev;

	ck_assert_int_eq(dec("{\"systemCpuUsage\":\"NaN\"}", &ev, NULL),
	    LT_OK);
	ck_assert_int_eq(ev->v2->has_cpu, 0);
	lt_ce_free(ev);
	ck_assert_int_eq(dec("{\"systemCpuUsage\":\"-Infinity\"}", &ev,
	    NULL), LT_OK);
	ck_assert_int_eq(ev->v2->has_cpu, 0);
	lt_ce_free(ev);
	ck_assert_int_eq(dec("{\"systemCpuUsage\":1e39}", &ev, NULL), LT_OK);
	ck_assert_int_eq(ev->v2->has_cpu, 0);
	lt_ce_free(ev);
	ck_assert_int_eq(dec("{\"systemCpuUsage\":\"-1.5e1\"}", &ev, NULL),
	    LT_OK);
	ck_assert(ev->v2->cpu_usage == -15.0);
	lt_ce_free(ev);
	ck_assert_int_eq(dec("{\"systemMemoryTotal\":"
	    "\"9223372036854775807\",\"httpPort\":4294967295,"
	    "\"componentCount\":\"007\",\"workloadCount\":1.0}", &ev, NULL),
	    LT_OK);
	ck_assert_int_eq(ev->v2->memory_total, INT64_MAX);
	ck_assert_int_eq(ev->v2->http_port, UINT32_MAX);
	ck_assert_int_eq(ev->v2->component_count, 7);
	ck_assert_int_eq(ev->v2->workload_count, 1);
	lt_ce_free(ev);
}
END_TEST

/* The synthetic id: the same bytes at the same time are the same id,
   another time or other bytes another. */
START_TEST(test_identity)
{
	struct lt_ce *a, *b, *c;
	const char *s = "{\"hostname\":\"h\"}";

	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, NULL, &a,
	    NULL), LT_OK);
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE, NULL, &b,
	    NULL), LT_OK);
	ck_assert_int_eq(lt_v2hb_parse(s, strlen(s), HID, BASE + 15000, NULL,
	    &c, NULL), LT_OK);
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_ne(a->id, c->id);
	ck_assert_str_eq(a->source, c->source);
	lt_ce_free(a);
	lt_ce_free(b);
	lt_ce_free(c);
}
END_TEST

/* Subjects: one non-empty token after the prefix. */
START_TEST(test_subjects)
{
	ck_assert_str_eq(lt_v2hb_subject_host(HSUBJ), HID);
	ck_assert_ptr_null(lt_v2hb_subject_host(NULL));
	ck_assert_ptr_null(lt_v2hb_subject_host("runtime.operator.heartbeat."));
	ck_assert_ptr_null(lt_v2hb_subject_host("runtime.operator.heartbeat"));
	ck_assert_ptr_null(lt_v2hb_subject_host(
	    "runtime.operator.heartbeat.a.b"));
	ck_assert_ptr_null(lt_v2hb_subject_host(
	    "runtime.operator.heartbeat.>"));
	ck_assert_ptr_null(lt_v2hb_subject_host("wasmbus.evt.default.x"));
}
END_TEST

/* --- the fold --------------------------------------------------------- */

/* Fold a heartbeat of host HID received at BASE + t_ms. */
static enum lt_outcome
hb(int64_t t_ms, const char *json)
{
	return fold_raw(HSUBJ, json, strlen(json), BASE + t_ms, NULL);
}

#define HB_A	"{\"friendlyName\":\"a\",\"version\":\"2.7.0\"," \
	"\"startedAt\":\"2026-12-06T16:59:00Z\",\"environment\":\"prod\"," \
	"\"systemCpuUsage\":1.5,\"systemMemoryFree\":\"100\"," \
	"\"componentCount\":\"1\"}"
#define HB_A_GAUGES "{\"friendlyName\":\"a\",\"version\":\"2.7.0\"," \
	"\"startedAt\":\"2026-12-06T16:59:00Z\",\"environment\":\"prod\"," \
	"\"systemCpuUsage\":7.25,\"systemMemoryFree\":\"90\"," \
	"\"componentCount\":\"1\"}"
#define HB_A_SCALED "{\"friendlyName\":\"a\",\"version\":\"2.7.0\"," \
	"\"startedAt\":\"2026-12-06T16:59:00Z\",\"environment\":\"prod\"," \
	"\"systemCpuUsage\":7.25,\"systemMemoryFree\":\"90\"," \
	"\"componentCount\":\"2\"}"
#define HB_A_RESTART "{\"friendlyName\":\"a\",\"version\":\"2.7.0\"," \
	"\"startedAt\":\"2026-12-06T17:01:00Z\",\"environment\":\"prod\"}"

/* The fixture lands in hosts with every v2 column. */
START_TEST(test_fold_columns)
{
	size_t len;
	char *buf = slurp("heartbeat.json", &len);

	ck_assert_int_eq(fold_raw(HSUBJ, buf, len, BASE, NULL),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT lattice || ' ' || generation || ' ' ||"
	    " status || ' ' || friendly_name || ' ' || version || ' ' ||"
	    " hostname || ' ' || environment FROM hosts WHERE host_id = '"
	    HID "'"), "prod v2 up quiet-river-7421 2.7.0 "
	    "washlet-0.washlet.prod.svc prod");
	ck_assert_str_eq(qs("SELECT started_at || ' ' || os_name || ' ' ||"
	    " os_arch || ' ' || os_kernel || ' ' || cpu_usage || ' ' ||"
	    " memory_total || ' ' || memory_free || ' ' || component_count"
	    " || ' ' || workload_count || ' ' || http_port FROM hosts"),
	    "2026-12-06T17:02:11.123Z linux x86_64 6.8.0-49-generic 12.5 "
	    "16777216000 8123456789 3 2 8080");
	ck_assert_str_eq(qs("SELECT labels ->> '$.zone' FROM hosts"),
	    "eu-west-1a");
	ck_assert_str_eq(qs("SELECT (imports ->> '$[1].config.backend') ||"
	    " (exports ->> '$[0].interfaces[0]') FROM hosts"),
	    "natsincoming-handler");
	ck_assert_str_eq(qs("SELECT type || ' ' || source || ' ' || outcome"
	    " || ' ' || subject FROM events"), LT_V2HB_TYPE " " HSUBJ
	    " applied " HSUBJ);
	ck_assert_int_eq(qi("SELECT time_ms = received_ms AND json_valid(data)"
	    " FROM events"), 1);
	/* the same message again at the same time: a duplicate */
	ck_assert_int_eq(fold_raw(HSUBJ, buf, len, BASE, NULL),
	    LT_OUT_DUPLICATE);
	free(buf);
}
END_TEST

/* Gauges alone are not a change; a count is; the interval is learned. */
START_TEST(test_fold_history)
{
	ck_assert_int_eq(hb(0, HB_A), LT_OUT_APPLIED);
	ck_assert_int_eq(hb(15000, HB_A), LT_OUT_UNCHANGED);
	ck_assert_int_eq(hb(30000, HB_A_GAUGES), LT_OUT_UNCHANGED);
	ck_assert_str_eq(qs("SELECT cpu_usage || ' ' || memory_free FROM"
	    " hosts"), "7.25 90");
	ck_assert_int_eq(hb(45000, HB_A_SCALED), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT component_count FROM hosts"), 2);
	ck_assert_int_eq(qi("SELECT heartbeat_interval_ms FROM hosts"),
	    15000);
	ck_assert_int_eq(qi("SELECT last_heartbeat_ms FROM hosts"),
	    BASE + 45000);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 4);
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE outcome ="
	    " 'unchanged' AND data IS NULL"), 2);
}
END_TEST

/* A new startedAt is a restart, recorded as its own type. */
START_TEST(test_fold_restart)
{
	ck_assert_int_eq(hb(0, HB_A), LT_OUT_APPLIED);
	ck_assert_int_eq(hb(60000, HB_A_RESTART), LT_OUT_APPLIED);
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE type = '"
	    LT_V2HB_TYPE_STARTED "'"), 1);
	ck_assert_str_eq(qs("SELECT started_at FROM hosts"),
	    "2026-12-06T17:01:00.000Z");
	ck_assert_int_eq(hb(75000, HB_A_RESTART), LT_OUT_UNCHANGED);
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE type = '"
	    LT_V2HB_TYPE_STARTED "'"), 1);
}
END_TEST

/* Silence makes a v2 host stale with a host_stale alert; its next
   heartbeat brings it back and resolves the alert. */
START_TEST(test_fold_stale)
{
	struct lt_stale_opts so;
	struct lt_stale_result r;

	lt_stale_opts_default(&so);
	ck_assert_int_eq(hb(0, HB_A), LT_OUT_APPLIED);
	ck_assert_int_eq(hb(15000, HB_A), LT_OUT_UNCHANGED);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 80000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(r.marked, 0);
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_int_eq(lt_stale_sweep(fd, &so, BASE + 86000, 0, &r, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "stale");
	ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts WHERE kind ="
	    " 'host_stale' AND entity = '" HID "' AND lattice = 'prod'"), 1);
	ck_assert_int_eq(hb(100000, HB_A), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT status FROM hosts"), "up");
	ck_assert_int_eq(qi("SELECT count(*) FROM active_alerts"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM alerts WHERE kind ="
	    " 'host_stale' AND resolved_ms = %lld", (long long)(BASE +
	    100000)), 1);
}
END_TEST

/* The lattice: environment, "default", the map, the override. */
START_TEST(test_fold_lattice)
{
	struct lt_fold_opts o;

	ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h1", "{}", BASE),
	    LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT lattice FROM hosts WHERE host_id = 'h1'"),
	    "default");
	lt_fold_opts_default(&o);
	o.v2_lattice_map = "staging=stage-lattice,prod=prod-lattice";
	lt_fold_set_opts(fd, &o);
	ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h2",
	    "{\"environment\":\"prod\"}", BASE), LT_OUT_APPLIED);
	ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h3",
	    "{\"environment\":\"prodx\"}", BASE), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT lattice FROM hosts WHERE host_id = 'h2'"),
	    "prod-lattice");
	ck_assert_str_eq(qs("SELECT lattice FROM hosts WHERE host_id = 'h3'"),
	    "prodx");
	/* an environment taken as the lattice must be a lattice name: "*"
	   is fleet_silent's, and no subject carries the others */
	{
		static const char *const bad[] = { "*", "prod.eu", "a b",
		    "x>y", "t\\t", "caf\u00e9" };
		char data[64];
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(data, sizeof(data), "{\"environment\":\"%s\"}",
			    bad[i]);
			ck_assert_msg(fold_json(LT_V2HB_SUBJECT_PREFIX "x", data,
			    BASE) == LT_OUT_REJECTED, "%s", bad[i]);
		}
		ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE"
		    " field = 'environment' AND error = 'invalid' AND lattice"
		    " IS NULL AND reason LIKE 'not a lattice name%%'"), 6);
		ck_assert_int_eq(qi("SELECT count(*) FROM hosts WHERE host_id ="
		    " 'x'"), 0);
		/* mapped, it is only a key */
		o.v2_lattice_map = "prod.eu=prod-eu";
		lt_fold_set_opts(fd, &o);
		ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h5",
		    "{\"environment\":\"prod.eu\"}", BASE), LT_OUT_APPLIED);
		ck_assert_str_eq(qs("SELECT lattice || ' ' || environment FROM "
		    "hosts WHERE host_id = 'h5'"), "prod-eu prod.eu");
	}
	o.v2_lattice = "all-v2";
	lt_fold_set_opts(fd, &o);
	ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h4",
	    "{\"environment\":\"prod\"}", BASE), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT lattice FROM hosts WHERE host_id = 'h4'"),
	    "all-v2");
	/* v1 hosts stay 'v1' */
	ck_assert_int_eq(fold_json("wasmbus.evt.default.host_heartbeat",
	    "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"NH1\","
	    "\"type\":\"com.wasmcloud.lattice.host_heartbeat\",\"data\":"
	    "{\"friendly_name\":\"x\"}}", BASE), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT group_concat(generation, ',') FROM (SELECT"
	    " generation FROM hosts ORDER BY host_id)"), "v1,v2,v2,v2,v2,v2");
	/* with v2_lattice set the environment is not a lattice */
	ck_assert_int_eq(fold_json(LT_V2HB_SUBJECT_PREFIX "h6",
	    "{\"environment\":\"*\"}", BASE), LT_OUT_APPLIED);
	ck_assert_str_eq(qs("SELECT lattice FROM hosts WHERE host_id = 'h6'"),
	    "all-v2");
}
END_TEST

/* Hostile payloads land in rejected_events with their field. */
START_TEST(test_fold_rejects)
{
	ck_assert_int_eq(hb(0, "{\"systemMemoryTotal\":\"-3\"}"),
	    LT_OUT_REJECTED);
	ck_assert_int_eq(hb(0, "{\"id\":\"other\"}"), LT_OUT_REJECTED);
	ck_assert_int_eq(hb(0, "not json"), LT_OUT_REJECTED);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE"
	    " subject = '" HSUBJ "' AND lattice IS NULL"), 3);
	ck_assert_str_eq(qs("SELECT group_concat(error || ':' ||"
	    " COALESCE(field, '-'), ' ') FROM (SELECT * FROM rejected_events"
	    " ORDER BY seq)"), "invalid:system_memory_total invalid:id "
	    "parse:-");
	ck_assert_int_eq(qi("SELECT count(*) FROM hosts"), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("v2hb");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_camel);
	tcase_add_test(tc, test_snake_same);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_pretty);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_loop_test(tc, test_rejects, 0,
	    (int)(sizeof(rejects) / sizeof(rejects[0])));
	tcase_add_test(tc, test_no_id);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_unknown_and_repeats);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_subjects);
	suite_add_tcase(s, tc);
	tc = tcase_create("fold");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fold_columns);
	tcase_add_test(tc, test_fold_history);
	tcase_add_test(tc, test_fold_restart);
	tcase_add_test(tc, test_fold_stale);
	tcase_add_test(tc, test_fold_lattice);
	tcase_add_test(tc, test_fold_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
