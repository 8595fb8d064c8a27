/*
 * check_json.c - lib/json.c: the strict scanner, the walkers, escaping.
 * (check_ce.c covers the scanner's corner cases through the decoder.)
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
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

/*
 * Many distinct names of one hash (json.c's name hash is not keyed: a
 * second 8-byte block can cancel the first) are told apart, and a repeat
 * among them is found, plain or escaped.  The check sorts by hash, length
 * and bytes, so such names cost O(n log n), not a compare per pair
 * (40,000 of them took 4.9 s that way).
 */
#define NH_OFFSET	0xcbf29ce484222325ULL
#define NH_PRIME	0x100000001b3ULL
START_TEST(test_scan_colliding_names)
{
	enum { N = 3000 };
	static char buf[N * 32 + 64], names[N][17];
	struct lt_err e;
	uint64_t ctr = 0, c, w1, w2, h;
	size_t n = 0, o, dup_at;
	unsigned char k[16];
	int i, good, pass;

	while (n < N) {
		for (c = ctr++, i = 0; i < 8; i++, c /= 90)
			k[i] = (unsigned char)(0x23 + c % 90) == '\\' ? '~' :
			    (unsigned char)(0x23 + c % 90);
		memcpy(&w1, k, 8);
		h = ((NH_OFFSET ^ 16) ^ w1) * NH_PRIME;
		h ^= h >> 29;
		w2 = h ^ 0x4141414141414141ULL;
		memcpy(k + 8, &w2, 8);
		for (good = 1, i = 8; i < 16; i++)
			if (k[i] < 0x20 || k[i] >= 0x7f || k[i] == '"' ||
			    k[i] == '\\')
				good = 0;
		if (!good)
			continue;
		memcpy(names[n], k, 16);
		names[n++][16] = '\0';
	}
	for (pass = 0; pass < 3; pass++) {
		o = 0;
		buf[o++] = '{';
		for (n = 0; n < N; n++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "%s\"%s\":0", n ? "," : "", names[n]);
		dup_at = o + 1;
		if (pass == 1)		/* a plain repeat */
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    ",\"%s\":1", names[N / 2]);
		else if (pass == 2)	/* an escaped repeat */
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    ",\"\\u%04x%s\":1", names[7][0], names[7] + 1);
		buf[o++] = '}';
		ck_assert_int_lt(o, sizeof(buf));
		ck_assert_int_eq(lt_json_scan(buf, o, 8, NULL, 0, NULL, &e),
		    pass ? LT_EINVAL : LT_OK);
		if (pass) {
			char want[64];

			snprintf(want, sizeof(want), "duplicate member name "
			    "at byte %zu", dup_at);
			ck_assert_str_eq(e.msg, want);
		}
	}
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
	tcase_add_test(tc, test_scan_colliding_names);
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
