/*
 * check_text.c - list items, URL redaction, ages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "text.h"

static const struct {
	const char	*in;
	const char	*items;		/* joined with '|' */
} lists[] = {
	{ "default prod", "default|prod" },
	{ "default,prod", "default|prod" },
	{ "default, prod", "default|prod" },
	{ " default ,\tprod, ", "default|prod" },
	{ "a,,b", "a|b" },
	{ "one", "one" },
	{ "", "" },
	{ " , ", "" },
	{ "nats://a:4222 nats://b:4222,tls://c:4443",
	    "nats://a:4222|nats://b:4222|tls://c:4443" },
};

START_TEST(test_list_items)
{
	const char	*p = lists[_i].in, *item;
	char		 got[256] = "";
	size_t		 len;

	while (lt_text_next_item(&p, &item, &len)) {
		ck_assert_uint_gt(len, 0);
		if (got[0] != '\0')
			strcat(got, "|");
		strncat(got, item, len);
	}
	ck_assert_str_eq(got, lists[_i].items);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
	int		 has;
} urls[] = {
	{ "nats://127.0.0.1:4222", "nats://127.0.0.1:4222", 0 },
	{ "http://user:s3cret@am:9093/", "http://user:xxxxx@am:9093/", 1 },
	{ "nats://tok3n@h:4222", "nats://xxxxx@h:4222", 1 },
	{ "h:4222", "h:4222", 0 },
	{ "u:p@h:4222", "u:xxxxx@h:4222", 1 },
	{ "http://u:p#w@d@h/x?y=@z", "http://u:xxxxx@h/x?y=@z", 1 },
	{ "http://h/path@x", "http://h/path@x", 0 },
	{ "wss://:pw@h", "wss://:xxxxx@h", 1 },
};

START_TEST(test_redact_url)
{
	char	buf[128];

	ck_assert_int_eq(lt_text_redact_url(urls[_i].in, buf, sizeof(buf)),
	    LT_OK);
	ck_assert_str_eq(buf, urls[_i].out);
	ck_assert_int_eq(lt_text_url_has_userinfo(urls[_i].in),
	    urls[_i].has);
}
END_TEST

START_TEST(test_redact_short_buffer)
{
	char	buf[12];

	/* never half a secret: an empty string and LT_ELIMIT */
	ck_assert_int_eq(lt_text_redact_url("http://user:s3cret@host/",
	    buf, sizeof(buf)), LT_ELIMIT);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	int64_t		 ms;
	const char	*out;
} ages[] = {
	{ -5000, "0s" },
	{ 0, "0s" },
	{ 999, "0s" },
	{ 45000, "45s" },
	{ 95000, "95s" },
	{ 192000, "3m12s" },
	{ 180000, "3m" },
	{ 42 * 60000, "42m" },
	{ 59 * 60000LL + 59000, "59m" },
	{ 2 * 3600000LL + 5 * 60000, "2h5m" },
	{ 2 * 3600000LL, "2h" },
	{ 20 * 3600000LL + 59 * 60000, "20h" },
	{ 47 * 3600000LL, "47h" },
	{ 5 * 86400000LL + 3 * 3600000, "5d3h" },
	{ 5 * 86400000LL, "5d" },
	{ 30 * 86400000LL + 3600000, "30d" },
	{ 740 * 86400000LL, "2y10d" },
	{ 3650 * 86400000LL, "10y" },
};

START_TEST(test_lattice_names)
{
	char big[LT_LATTICE_MAX + 2];

	ck_assert(lt_text_lattice_ok("default", 7));
	ck_assert(lt_text_lattice_ok("prod-eu_1", 9));
	ck_assert(lt_text_lattice_ok("a.b", 1));	/* n bytes only */
	ck_assert(!lt_text_lattice_ok("", 0));
	ck_assert(!lt_text_lattice_ok("*", 1));
	ck_assert(!lt_text_lattice_ok("a.b", 3));
	ck_assert(!lt_text_lattice_ok("a>", 2));
	ck_assert(!lt_text_lattice_ok("a b", 3));
	ck_assert(!lt_text_lattice_ok("a\tb", 3));
	ck_assert(!lt_text_lattice_ok("a\x7f", 2));
	ck_assert(!lt_text_lattice_ok("caf\xc3\xa9", 5));
	memset(big, 'x', sizeof(big));
	ck_assert(lt_text_lattice_ok(big, LT_LATTICE_MAX));
	ck_assert(!lt_text_lattice_ok(big, LT_LATTICE_MAX + 1));
}
END_TEST

START_TEST(test_age)
{
	char	buf[LT_TEXT_AGESZ];

	ck_assert_str_eq(lt_text_age(ages[_i].ms, buf), ages[_i].out);
}
END_TEST

START_TEST(test_age_extreme)
{
	char	buf[LT_TEXT_AGESZ];

	lt_text_age(INT64_MAX, buf);
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
}
END_TEST

/* Build the suite. */
static Suite *
text_suite(void)
{
	Suite	*s = suite_create("text");
	TCase	*valid = tcase_create("valid");
	TCase	*edge = tcase_create("edge");

	tcase_add_loop_test(valid, test_list_items, 0,
	    sizeof(lists) / sizeof(lists[0]));
	tcase_add_loop_test(valid, test_redact_url, 0,
	    sizeof(urls) / sizeof(urls[0]));
	tcase_add_loop_test(valid, test_age, 0, sizeof(ages) / sizeof(ages[0]));
	tcase_add_test(edge, test_redact_short_buffer);
	tcase_add_test(edge, test_age_extreme);
	tcase_add_test(edge, test_lattice_names);
	suite_add_tcase(s, valid);
	suite_add_tcase(s, edge);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(text_suite());
	int	 nfail;

	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
