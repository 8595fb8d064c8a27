/*
 * check_process.c - lt_process_init(): SQLite keeps no allocation
 * statistics, and freed small blocks do not wait in glibc's fastbins.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <sqlite3.h>

#include "process.h"

/* Small blocks freed after init are never parked in fastbins. */
START_TEST(test_no_fastbins)
{
#if defined(__GLIBC__) && defined(M_MXFAST)
	void *p[2000];
	size_t i;

	lt_process_init();
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		ck_assert_ptr_nonnull(p[i] = malloc(24 + (i % 4) * 16));
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i += 2)
		free(p[i]);		/* every other one: no merging */
	ck_assert_uint_eq(mallinfo2().fsmblks, 0);
	for (i = 1; i < sizeof(p) / sizeof(p[0]); i += 2)
		free(p[i]);
#else
	lt_process_init();
#endif
}
END_TEST

/* SQLite's allocation statistics are off. */
START_TEST(test_no_memstatus)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_shutdown(), SQLITE_OK);
	lt_process_init();
	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (a); INSERT INTO t "
	    "VALUES (randomblob(5000))", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_memory_used(), 0);
	sqlite3_close(db);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("process");
	TCase	*tc = tcase_create("init");
	SRunner	*sr;
	int	 nf;

	tcase_add_test(tc, test_no_fastbins);
	tcase_add_test(tc, test_no_memstatus);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
