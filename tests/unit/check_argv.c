/*
 * check_argv.c - alert_command's word splitting and quoting (argv.h).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "argv.h"

#define MAXW	8

static const struct {
	const char	*in;
	const char	*want[MAXW];	/* NULL-terminated */
} good[] = {
	{ "/bin/true", { "/bin/true" } },
	{ "  /bin/x  a\tb  ", { "/bin/x", "a", "b" } },
	{ "/x 'a b' c", { "/x", "a b", "c" } },
	{ "/x \"a b\" c", { "/x", "a b", "c" } },
	{ "/x 'it''s'", { "/x", "its" } },
	{ "/x \"it's\"", { "/x", "it's" } },
	{ "/x 'say \"hi\"'", { "/x", "say \"hi\"" } },
	{ "/x \"say \\\"hi\\\"\"", { "/x", "say \"hi\"" } },
	{ "/x \"a\\\\b\"", { "/x", "a\\b" } },
	{ "/x \"a\\nb\"", { "/x", "a\\nb" } },	/* \n stays two bytes */
	{ "/x 'a\\b'", { "/x", "a\\b" } },	/* no escapes in '...' */
	{ "/x a\\ b", { "/x", "a b" } },
	{ "/x \\'", { "/x", "'" } },
	{ "/x pre'mid dle'post", { "/x", "premid dlepost" } },
	{ "/x '' \"\"", { "/x", "", "" } },
	{ "/x $HOME *.sh ~", { "/x", "$HOME", "*.sh", "~" } },
	{ "/x https://h/p?a=1&b=2", { "/x", "https://h/p?a=1&b=2" } },
	{ "'/opt/my tools/hook' on", { "/opt/my tools/hook", "on" } },
};

static const char *const bad[] = {
	"", "   ", "\t", "/x 'open", "/x \"open", "/x \"a\\\"", "/x a\\",
};

/* --- valid ---------------------------------------------------------- */

START_TEST(test_split)
{
	char	**v = NULL;
	size_t	  n, i, want;
	struct lt_err err;

	for (want = 0; good[_i].want[want] != NULL; want++)
		;
	ck_assert_int_eq(lt_argv_split(good[_i].in, &v, &n, &err), LT_OK);
	ck_assert_uint_eq(n, want);
	for (i = 0; i < want; i++)
		ck_assert_str_eq(v[i], good[_i].want[i]);
	ck_assert_ptr_null(v[n]);
	free(v);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

START_TEST(test_bad)
{
	char	**v = (char **)1;
	size_t	  n = 99;
	struct lt_err err;

	lt_err_clear(&err);
	ck_assert_int_eq(lt_argv_split(bad[_i], &v, &n, &err), LT_EINVAL);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert(err.msg[0] != '\0');
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_null_argc_and_messages)
{
	char	**v = NULL;
	struct lt_err err;

	ck_assert_int_eq(lt_argv_split("/a b", &v, NULL, NULL), LT_OK);
	ck_assert_str_eq(v[1], "b");
	free(v);
	lt_err_clear(&err);
	ck_assert_int_eq(lt_argv_split("/x ok 'open", &v, NULL, &err),
	    LT_EINVAL);
	ck_assert_str_eq(err.msg, "unterminated ' at byte 7");
	ck_assert_int_eq(lt_argv_split("", &v, NULL, &err), LT_EINVAL);
	ck_assert_str_eq(err.msg, "no program named");
}
END_TEST

/* The suite. */
static Suite *
argv_suite(void)
{
	Suite	*s = suite_create("argv");
	TCase	*tc;

	tc = tcase_create("valid");
	tcase_add_loop_test(tc, test_split, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("rejects");
	tcase_add_loop_test(tc, test_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("edge");
	tcase_add_test(tc, test_null_argc_and_messages);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner	*sr = srunner_create(argv_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
