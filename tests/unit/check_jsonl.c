/*
 * check_jsonl.c - lib/jsonl.c: splitting replay lines.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonl.h"

#define EV	"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\"," \
		"\"type\":\"t\",\"time\":\"2024-01-02T03:04:05Z\"}"
#define T_EV	INT64_C(1704164645000)

/* Split a NUL-terminated line. */
static void
split(const char *line, struct lt_jsonl_line *l)
{
	ck_assert_int_eq(lt_jsonl_split(line, strlen(line), l), LT_OK);
}

START_TEST(test_bare)
{
	struct lt_jsonl_line l;

	split(EV, &l);
	ck_assert_ptr_null(l.subject);
	ck_assert_ptr_null(l.owned);	/* the line itself, not a copy */
	ck_assert_uint_eq(l.len, strlen(EV));
	ck_assert_int_eq(memcmp(l.payload, EV, l.len), 0);
	ck_assert_int_eq(l.time_ok, 1);
	ck_assert_int_eq(l.time_ms, T_EV);
	ck_assert_int_eq(l.received_ok, 0);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_wrapper_raw)
{
	const char *line = "{\"subject\": \"wasmbus.evt.a.x\", \"event\": " EV
	    ", \"received_at\": \"2024-01-02T03:04:06.5Z\"}";
	struct lt_jsonl_line l;

	split(line, &l);
	ck_assert_str_eq(l.subject, "wasmbus.evt.a.x");
	ck_assert_ptr_null(l.owned);
	/* the event member exactly as written */
	ck_assert_uint_eq(l.len, strlen(EV));
	ck_assert_int_eq(memcmp(l.payload, EV, l.len), 0);
	ck_assert(l.payload > line && l.payload < line + strlen(line));
	ck_assert_int_eq(l.time_ms, T_EV);
	ck_assert_int_eq(l.received_ok, 1);
	ck_assert_int_eq(l.received_ms, T_EV + 1500);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_wrapper_escaped)
{
	/* an escape in the subject: split by cJSON, event re-printed */
	const char *line = "{\"subject\": \"wasmbus.evt.a\\u002ex\", "
	    "\"event\": " EV "}";
	struct lt_jsonl_line l;

	split(line, &l);
	ck_assert_str_eq(l.subject, "wasmbus.evt.a.x");
	ck_assert_ptr_nonnull(l.owned);
	ck_assert_ptr_eq(l.payload, l.owned);
	ck_assert_int_eq(l.time_ok, 1);
	ck_assert_int_eq(l.time_ms, T_EV);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_lenient)
{
	/* an escape inside received_at: the raw span cannot be parsed
	   as it stands, so cJSON splits the line */
	const char *line = "{\"subject\": \"wasmbus.evt.a.x\", \"event\": "
	    "{\"id\": \"1\", \"time\": \"2024-01-02T03:04:05Z\"}, "
	    "\"received_at\": \"2024-01-02T03:04:0\\u0036Z\"}";
	struct lt_jsonl_line l;

	split(line, &l);
	ck_assert_str_eq(l.subject, "wasmbus.evt.a.x");
	ck_assert_int_eq(l.received_ok, 1);
	ck_assert_int_eq(l.received_ms, T_EV + 1000);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_not_json)
{
	const char *line = "this is not json";
	struct lt_jsonl_line l;

	split(line, &l);
	/* passed on whole: the fold rejects it with a reason */
	ck_assert_ptr_null(l.subject);
	ck_assert_ptr_eq(l.payload, line);
	ck_assert_uint_eq(l.len, strlen(line));
	ck_assert_int_eq(l.time_ok, 0);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_no_event)
{
	/* a subject without an event: not a wrapper, the line is the
	   payload */
	const char *line = "{\"subject\": \"wasmbus.evt.a.x\"}";
	struct lt_jsonl_line l;

	split(line, &l);
	ck_assert_ptr_null(l.subject);
	ck_assert_ptr_eq(l.payload, line);
	lt_jsonl_clear(&l);
	/* "EVENT" is not "event", on the slow (cJSON) path too */
	line = "{\"subject\":\"s\",\"EVENT\":1,\"a\":01}";
	split(line, &l);
	ck_assert_ptr_null(l.subject);
	ck_assert_ptr_eq(l.payload, line);
	lt_jsonl_clear(&l);
}
END_TEST

START_TEST(test_bad_times)
{
	const char *line = "{\"subject\": \"s.a\", \"event\": {\"time\": 5}, "
	    "\"received_at\": \"yesterday\"}";
	struct lt_jsonl_line l;

	split(line, &l);
	ck_assert_str_eq(l.subject, "s.a");
	ck_assert_int_eq(l.time_ok, 0);
	ck_assert_int_eq(l.received_ok, 0);
	lt_jsonl_clear(&l);
	lt_jsonl_clear(&l);	/* twice is fine */
}
END_TEST

/* Build the suite. */
static Suite *
jsonl_suite(void)
{
	Suite *s = suite_create("jsonl");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_bare);
	tcase_add_test(tc, test_wrapper_raw);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_test(tc, test_not_json);
	tcase_add_test(tc, test_bad_times);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_wrapper_escaped);
	tcase_add_test(tc, test_lenient);
	tcase_add_test(tc, test_no_event);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jsonl_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
