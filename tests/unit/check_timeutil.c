/*
 * check_timeutil.c - RFC 3339 parsing and formatting.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "timeutil.h"

static const struct {
	const char	*s;
	int64_t		 ms;
} good[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1970-01-01T00:00:00.001Z", 1 },
	{ "2024-06-13T18:00:53.856590Z", 1718301653856LL },
	{ "2024-06-13T18:00:53.856590123Z", 1718301653856LL },
	{ "2024-06-13T18:00:53.8Z", 1718301653800LL },
	{ "2024-06-13T18:00:53Z", 1718301653000LL },
	{ "2024-06-13t18:00:53z", 1718301653000LL },
	{ "2023-06-13T00:00:00+00:00", 1686614400000LL },
	{ "2023-06-13T00:00:00-00:00", 1686614400000LL },
	{ "2023-06-13T02:00:00+02:00", 1686614400000LL },
	{ "2023-06-12T19:30:00.250-04:30", 1686614400250LL },
	{ "2024-02-29T12:00:00Z", 1709208000000LL },
	{ "2000-02-29T00:00:00Z", 951782400000LL },
	{ "1969-12-31T23:59:59.999Z", -1 },
	{ "1900-01-01T00:00:00Z", -2208988800000LL },
	{ "9999-12-31T23:59:59.999Z", 253402300799999LL },
};

static const char *const bad[] = {
	"",
	"2023-06-13T00:00:00+00:00Z",	/* the spec page's form */
	"2023-06-13T01:12:88.856590Z",	/* seconds out of range */
	"2023-06-13T24:00:00Z",
	"2023-06-13T23:60:00Z",
	"2023-13-01T00:00:00Z",
	"2023-00-01T00:00:00Z",
	"2023-02-29T00:00:00Z",		/* not a leap year */
	"1900-02-29T00:00:00Z",
	"2023-04-31T00:00:00Z",
	"2023-06-00T00:00:00Z",
	"2023-06-13T00:00:00",		/* no offset */
	"2023-06-13",
	"2023-06-13T00:00:00.Z",
	"2023-06-13T00:00:00+0000",
	"2023-06-13T00:00:00+24:00",
	"2023-06-13T00:00:00+01:60",
	"2023-6-13T00:00:00Z",
	"2023-06-13X00:00:00Z",
	"2023-06-13T00:00:00Z ",
	" 2023-06-13T00:00:00Z",
	"garbage",
	"20230613T000000Z",
	"-023-06-13T00:00:00Z",
};

START_TEST(parse_good)
{
	int64_t	ms = 42;

	ck_assert_msg(lt_time_parse(good[_i].s, strlen(good[_i].s), &ms) == 0,
	    "rejected %s", good[_i].s);
	ck_assert_int_eq(ms, good[_i].ms);
}
END_TEST

START_TEST(parse_bad)
{
	int64_t	ms = 42;

	ck_assert_msg(lt_time_parse(bad[_i], strlen(bad[_i]), &ms) == -1,
	    "accepted %s", bad[_i]);
	ck_assert_int_eq(ms, 42);
}
END_TEST

/* The length bounds the parse: no NUL needed, nothing read past len. */
START_TEST(parse_len_bounded)
{
	const char	*s = "2024-06-13T18:00:53Zjunk";
	char		*heap;
	int64_t		 ms;

	ck_assert_int_eq(lt_time_parse(s, 20, &ms), 0);
	ck_assert_int_eq(ms, 1718301653000LL);
	ck_assert_int_eq(lt_time_parse(s, strlen(s), &ms), -1);
	ck_assert_int_eq(lt_time_parse(s, 19, &ms), -1);
	heap = malloc(20);
	memcpy(heap, s, 20);
	ck_assert_int_eq(lt_time_parse(heap, 20, &ms), 0);
	ck_assert_int_eq(lt_time_parse(heap, 10, &ms), -1);
	free(heap);
	ck_assert_int_eq(lt_time_parse(NULL, 0, &ms), -1);
}
END_TEST

/* TZ in the environment changes nothing. */
START_TEST(parse_ignores_tz)
{
	int64_t	a, b;

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(lt_time_parse(good[2].s, strlen(good[2].s), &a), 0);
	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(lt_time_parse(good[2].s, strlen(good[2].s), &b), 0);
	ck_assert_int_eq(a, b);
	unsetenv("TZ");
}
END_TEST

START_TEST(format_known)
{
	char	buf[LT_TIME_BUFSZ];

	ck_assert_str_eq(lt_time_format(0, buf), "1970-01-01T00:00:00.000Z");
	ck_assert_str_eq(lt_time_format(1718301653856LL, buf),
	    "2024-06-13T18:00:53.856Z");
	ck_assert_str_eq(lt_time_format(-1, buf), "1969-12-31T23:59:59.999Z");
	ck_assert_str_eq(lt_time_format(951782400000LL, buf),
	    "2000-02-29T00:00:00.000Z");
	ck_assert_str_eq(lt_time_format(253402300799999LL, buf),
	    "9999-12-31T23:59:59.999Z");
	ck_assert_ptr_eq(lt_time_format(5, buf), buf);
}
END_TEST

/* Format then parse gives the same instant, over a wide span. */
START_TEST(format_roundtrip)
{
	char	buf[LT_TIME_BUFSZ];
	int64_t	ms, back;

	for (ms = -2208988800000LL; ms < 253402300799999LL;
	    ms += 86400000LL * 37 + 3600007) {
		lt_time_format(ms, buf);
		ck_assert_int_eq(strlen(buf), 24);
		ck_assert_int_eq(lt_time_parse(buf, strlen(buf), &back), 0);
		ck_assert_int_eq(back, ms);
	}
}
END_TEST

/* Extreme values still fit the buffer. */
START_TEST(format_extremes)
{
	char	buf[LT_TIME_BUFSZ];

	lt_time_format(INT64_MAX, buf);
	ck_assert(strlen(buf) < LT_TIME_BUFSZ);
	lt_time_format(INT64_MIN, buf);
	ck_assert(strlen(buf) < LT_TIME_BUFSZ);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("timeutil");
	TCase	*valid = tcase_create("valid");
	TCase	*rejects = tcase_create("rejects");
	TCase	*edge = tcase_create("edge");
	SRunner	*sr;
	int	 nf;

	tcase_add_loop_test(valid, parse_good, 0, sizeof(good) /
	    sizeof(good[0]));
	tcase_add_test(valid, format_known);
	tcase_add_test(valid, format_roundtrip);
	tcase_add_loop_test(rejects, parse_bad, 0, sizeof(bad) /
	    sizeof(bad[0]));
	tcase_add_test(edge, parse_len_bounded);
	tcase_add_test(edge, parse_ignores_tz);
	tcase_add_test(edge, format_extremes);
	suite_add_tcase(s, valid);
	suite_add_tcase(s, rejects);
	suite_add_tcase(s, edge);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
