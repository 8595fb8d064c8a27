/*
 * check_json.c - lib/json.c: the strict scanner, the walkers, escaping.
 * (check_ce.c covers the scanner's corner cases through the decoder.)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "json.h"

/* Scan a NUL-terminated text for keys. */
static int
scan(const char *t, const char *const *keys, size_t n,
    struct lt_json_span *sp)
{
	return lt_json_scan(t, strlen(t), 32, keys, n, sp, NULL);
}

START_TEST(test_scan_members)
{
	static const char *const keys[] = { "a", "b", "zz" };
	const char *t = "{\"a\": [1, {\"b\": 2}], \"b\" :\"x\\\"y\", \"c\": 3}";
	struct lt_json_span sp[3];

	ck_assert_int_eq(scan(t, keys, 3, sp), LT_OK);
	/* "a", the top-level "b" (not the nested one), no "zz" */
	ck_assert_int_eq(strncmp(t + sp[0].off, "[1, {\"b\": 2}]",
	    sp[0].len), 0);
	ck_assert_uint_eq(sp[0].len, strlen("[1, {\"b\": 2}]"));
	ck_assert_int_eq(strncmp(t + sp[1].off, "\"x\\\"y\"", sp[1].len), 0);
	ck_assert_uint_eq(sp[2].len, 0);
}
END_TEST

/* The members of one top-level object, in the same pass. */
START_TEST(test_scan_sub)
{
	static const char *const keys[] = { "type", "data" };
	static const char *const sk[] = { "components", "actors", "x" };
	struct lt_json_span sp[2], ss[3];
	const struct lt_json_sub sub = { 1, sk, 3, ss };
	const struct lt_json_sub bad = { 2, sk, 3, ss };
	struct lt_err e;
	const char *t = "{\"x\":{\"components\":0},\"type\":\"t\","
	    "\"data\": {\"a\":{\"components\":1},\"comp\\u006fnents\" : "
	    "[ {\"x\":2} ] ,\"x\":null}}";
	const char *arr = "{\"data\":[{\"components\":1}]}";
	const char *late = "{\"data\":{\"actors\":{}},\"x\":{\"actors\":2}}";
	size_t n;

	ck_assert_int_eq(lt_json_scan_sub(t, strlen(t), 8, keys, 2, sp, &sub,
	    &e), LT_OK);
	ck_assert_int_eq(strncmp(t + sp[0].off, "\"t\"", sp[0].len), 0);
	n = strlen("[ {\"x\":2} ]");
	ck_assert_uint_eq(ss[0].len, n);
	ck_assert_int_eq(strncmp(t + ss[0].off, "[ {\"x\":2} ]", n), 0);
	ck_assert_uint_eq(ss[1].len, 0);
	ck_assert_uint_eq(ss[2].len, 4);
	ck_assert_int_eq(strncmp(t + ss[2].off, "null", 4), 0);
	/* data not an object: no members; nothing outside data counts */
	ck_assert_int_eq(lt_json_scan_sub(arr, strlen(arr), 8, keys, 2, sp,
	    &sub, &e), LT_OK);
	ck_assert_uint_eq(ss[0].len + ss[1].len + ss[2].len, 0);
	ck_assert_int_eq(lt_json_scan_sub(late, strlen(late), 8, keys, 2, sp,
	    &sub, &e), LT_OK);
	ck_assert_uint_eq(ss[1].len, 2);
	ck_assert_int_eq(strncmp(late + ss[1].off, "{}", 2), 0);
	/* a failed scan leaves every span empty */
	ck_assert_int_eq(lt_json_scan_sub(t, strlen(t) - 1, 8, keys, 2, sp,
	    &sub, &e), LT_EPARSE);
	ck_assert_uint_eq(sp[1].len + ss[0].len + ss[2].len, 0);
	ck_assert_int_eq(lt_json_scan_sub(t, strlen(t), 8, keys, 2, sp, &bad,
	    &e), LT_EINVAL);
}
END_TEST

START_TEST(test_scan_rejects)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":01}", "{\"a\":+1}", "[1,]", "{\"a\":1,}",
		"\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\tb\"",
		"nul", "[1] x", "\"\xff\"", "{\"a\" 1}",
	};
	struct lt_json_span sp[1];
	struct lt_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(lt_json_scan(bad[i], strlen(bad[i]), 32, NULL, 0,
		    sp, &err) != LT_OK, "accepted: %s", bad[i]);
		ck_assert(err.msg[0] != '\0');
	}
	/* a NUL byte inside the text */
	ck_assert_int_ne(lt_json_scan("\"a\0b\"", 5, 32, NULL, 0, sp, NULL),
	    LT_OK);
	/* depth */
	ck_assert_int_eq(lt_json_scan("[[[]]]", 6, 3, NULL, 0, sp, NULL),
	    LT_OK);
	ck_assert_int_eq(lt_json_scan("[[[[]]]]", 8, 3, NULL, 0, sp, NULL),
	    LT_ELIMIT);
}
END_TEST

START_TEST(test_skip)
{
	const char *t = " [ \"a,]\\\"\" , {\"k\": [1, 2]} ,null, -1.5e3 ] ";
	const unsigned char *p = (const unsigned char *)t;
	size_t len = strlen(t), i;

	ck_assert_int_eq(lt_json_scan(t, len, 32, NULL, 0, NULL, NULL), LT_OK);
	i = lt_json_skip_ws(p, len, 0);
	ck_assert_int_eq(p[i], '[');
	i = lt_json_skip_ws(p, len, i + 1);
	i = lt_json_skip_value(p, len, i);	/* the string */
	ck_assert_int_eq(p[lt_json_skip_ws(p, len, i)], ',');
	i = lt_json_skip_ws(p, len, lt_json_skip_ws(p, len, i) + 1);
	i = lt_json_skip_value(p, len, i);	/* the object */
	ck_assert_int_eq(p[i - 1], '}');
	i = lt_json_skip_ws(p, len, lt_json_skip_ws(p, len, i) + 1);
	ck_assert_uint_eq(lt_json_skip_value(p, len, i) - i, 4);	/* null */
	ck_assert_uint_eq(lt_json_skip_string(p, len, 3), 10);
}
END_TEST

START_TEST(test_escape)
{
	static const char *const in[] = {
		"", "plain", "q\"uote", "back\\slash", "\b\f\n\r\t",
		"\x01\x1f", "caf\xc3\xa9 \xe2\x82\xac", "/",
	};
	size_t i, n;
	char buf[128], *end;
	cJSON *j;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		n = lt_json_escaped_len(in[i]);
		memset(buf, 'X', sizeof(buf));
		end = lt_json_put_escaped(buf, in[i]);
		ck_assert_uint_eq((size_t)(end - buf), n + 2);
		*end = '\0';
		/* strict JSON, and it decodes back to the input */
		ck_assert_int_eq(lt_json_scan(buf, n + 2, 1, NULL, 0, NULL,
		    NULL), LT_OK);
		ck_assert_ptr_nonnull(j = cJSON_Parse(buf));
		ck_assert_str_eq(j->valuestring, in[i]);
		cJSON_Delete(j);
	}
	ck_assert_uint_eq(lt_json_escaped_len("\n"), 2);
	ck_assert_uint_eq(lt_json_escaped_len("\x01"), 6);
}
END_TEST

/* Build the suite. */
static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, test_scan_members);
	tcase_add_test(tc, test_scan_sub);
	tcase_add_test(tc, test_escape);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_test(tc, test_scan_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_skip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
