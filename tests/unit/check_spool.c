/*
 * check_spool.c - the inbox spool (lib/spool.c): a bounded FIFO file of
 * messages, read back in order, emptied once read, refusing past its bound
 * and reporting a damaged file instead of folding it.
 */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "queue.h"
#include "spool.h"

/* A fresh path in a directory of its own. */
static void
tmp_path(char *buf, size_t len)
{
	char	dir[] = "/tmp/check_spool.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(buf, len, "%s/db.spool", dir);
}

/* The size of the file at path (-1: none). */
static long long
fsize(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Take one message and check it. */
static void
get_is(struct lt_spool *sp, const char *subject, const char *pattern,
    const char *data, int64_t ms)
{
	struct lt_item	*it;
	struct lt_err	 err;
	uint64_t	 lost;

	ck_assert_int_eq(lt_spool_get(sp, &it, &lost, &err), LT_OK);
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(it->msg.subject, subject);
	if (pattern == NULL)
		ck_assert_ptr_null(it->msg.pattern);
	else
		ck_assert_str_eq(it->msg.pattern, pattern);
	ck_assert_uint_eq(it->msg.len, strlen(data));
	ck_assert(memcmp(it->msg.data, data, it->msg.len) == 0);
	ck_assert_int_eq(it->msg.received_ms, ms);
	lt_item_free(it);
}

START_TEST(test_fifo)
{
	struct lt_spool	*sp;
	struct lt_item	*it;
	struct lt_err	 err;
	uint64_t	 left, lost;
	char		 path[256], big[300000];

	tmp_path(path, sizeof(path));
	ck_assert_int_eq(lt_spool_open(path, 1 << 20, &sp, &left, &err),
	    LT_OK);
	ck_assert_uint_eq(left, 0);
	ck_assert_int_eq(lt_spool_put(sp, "wasmbus.evt.a.x", "wasmbus.evt.*.>",
	    "{\"one\":1}", 9, 11, &err), LT_OK);
	ck_assert_int_eq(lt_spool_put(sp, "runtime.operator.heartbeat.h",
	    NULL, "", 0, 12, &err), LT_OK);
	/* bigger than a read: the reader grows its buffer */
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(lt_spool_put(sp, "s.big", "s.>", big,
	    sizeof(big) - 1, 13, &err), LT_OK);
	ck_assert_uint_eq(lt_spool_count(sp), 3);
	ck_assert_int_eq((long long)lt_spool_bytes(sp), fsize(path));
	get_is(sp, "wasmbus.evt.a.x", "wasmbus.evt.*.>", "{\"one\":1}", 11);
	/* written while reading: comes after */
	ck_assert_int_eq(lt_spool_put(sp, "s.last", "s.>", "last", 4, 14,
	    &err), LT_OK);
	get_is(sp, "runtime.operator.heartbeat.h", NULL, "", 12);
	get_is(sp, "s.big", "s.>", big, 13);
	ck_assert(fsize(path) > 0);
	get_is(sp, "s.last", "s.>", "last", 14);
	/* all read: the file (past 256 KiB) is truncated */
	ck_assert_uint_eq(lt_spool_count(sp), 0);
	ck_assert_uint_eq(lt_spool_bytes(sp), 0);
	ck_assert_int_eq(fsize(path), 0);
	ck_assert_int_eq(lt_spool_get(sp, &it, &lost, &err), LT_OK);
	ck_assert_ptr_null(it);
	ck_assert_int_eq(lt_spool_put(sp, "s.again", NULL, "x", 1, 15, &err),
	    LT_OK);
	get_is(sp, "s.again", NULL, "x", 15);
	lt_spool_close(sp, &lost);
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(fsize(path), -1);
}
END_TEST

START_TEST(test_bound)
{
	struct lt_spool	*sp;
	struct lt_err	 err;
	uint64_t	 left, lost;
	char		 path[256], data[1001];
	int		 n = 0;

	tmp_path(path, sizeof(path));
	memset(data, 'd', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	/* a record is 1,026 bytes here (header, "s", payload): 9 fit */
	ck_assert_int_eq(lt_spool_open(path, 10000, &sp, &left, &err), LT_OK);
	while (lt_spool_put(sp, "s", NULL, data, 1000, n, &err) == LT_OK)
		n++;
	ck_assert_int_eq(err.code, LT_ELIMIT);
	ck_assert_int_eq(n, 9);
	ck_assert(lt_spool_bytes(sp) <= 10000);
	ck_assert_int_eq((long long)lt_spool_bytes(sp), fsize(path));
	/* the bound is the file's size: reading one frees nothing until
	   every record is read and the file starts over */
	get_is(sp, "s", NULL, data, 0);
	ck_assert_int_eq(lt_spool_put(sp, "s", NULL, data, 1000, 9, &err),
	    LT_ELIMIT);
	ck_assert_int_eq(fsize(path), 9 * 1026);
	for (n = 1; n < 9; n++)
		get_is(sp, "s", NULL, data, n);
	/* read whole: written again from the start (a small file is reused
	   in place, not truncated) */
	ck_assert_uint_eq(lt_spool_bytes(sp), 0);
	ck_assert_int_eq(lt_spool_put(sp, "s", NULL, data, 1000, 9, &err),
	    LT_OK);
	ck_assert_int_eq(fsize(path), 9 * 1026);
	get_is(sp, "s", NULL, data, 9);
	ck_assert_int_eq(lt_spool_put(sp, "s", NULL, data, 1000, 10, &err),
	    LT_OK);
	lt_spool_close(sp, &lost);
	ck_assert_uint_eq(lost, 1);
}
END_TEST

START_TEST(test_left_and_damage)
{
	struct lt_spool	*sp;
	struct lt_item	*it;
	struct lt_err	 err;
	uint64_t	 left, lost;
	char		 path[256];
	int		 fd;

	tmp_path(path, sizeof(path));
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	/* what a previous run left is discarded, and counted */
	ck_assert_int_eq(lt_spool_open(path, 1 << 20, &sp, &left, &err),
	    LT_OK);
	ck_assert_uint_eq(left, 10);
	ck_assert_int_eq(fsize(path), 0);
	ck_assert_int_eq(lt_spool_put(sp, "s.1", NULL, "one", 3, 1, &err),
	    LT_OK);
	ck_assert_int_eq(lt_spool_put(sp, "s.2", NULL, "two", 3, 2, &err),
	    LT_OK);
	/* a length past the end of the file: refused, never read */
	ck_assert_int_ge(fd = open(path, O_WRONLY), 0);
	{
		uint32_t huge = 0x7fffffff;

		/* data_len, the header's fourth field */
		ck_assert_int_eq(pwrite(fd, &huge, 4, 12), 4);
	}
	close(fd);
	ck_assert_int_eq(lt_spool_get(sp, &it, &lost, &err), LT_ESTORE);
	ck_assert_ptr_null(it);
	ck_assert_uint_eq(lost, 2);
	ck_assert_int_eq(lt_spool_put(sp, "s.1", NULL, "one", 3, 1, &err),
	    LT_OK);
	ck_assert_int_eq(lt_spool_put(sp, "s.2", NULL, "two", 3, 2, &err),
	    LT_OK);
	/* someone else wrote over the first record: refused, not folded */
	ck_assert_int_ge(fd = open(path, O_WRONLY), 0);
	ck_assert_int_eq(pwrite(fd, "XXXX", 4, 0), 4);
	close(fd);
	ck_assert_int_eq(lt_spool_get(sp, &it, &lost, &err), LT_ESTORE);
	ck_assert_ptr_null(it);
	ck_assert_uint_eq(lost, 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "damaged"));
	/* and it starts over: what is past the new records is never read */
	ck_assert_uint_eq(lt_spool_count(sp), 0);
	ck_assert_uint_eq(lt_spool_bytes(sp), 0);
	ck_assert_int_eq(lt_spool_put(sp, "s.3", NULL, "three", 5, 3, &err),
	    LT_OK);
	get_is(sp, "s.3", NULL, "three", 3);
	lt_spool_close(sp, NULL);
}
END_TEST

START_TEST(test_not_a_file)
{
	struct lt_spool	*sp;
	struct lt_err	 err;
	struct stat	 st;
	uint64_t	 left;
	char		 path[256], target[300];

	tmp_path(path, sizeof(path));
	snprintf(target, sizeof(target), "%s.target", path);
	/* a link is replaced, never followed (the state directory is the
	   daemon's) */
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(lt_spool_open(path, 1 << 20, &sp, &left, &err),
	    LT_OK);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(fsize(target), -1);
	ck_assert_uint_eq(left, 0);
	lt_spool_close(sp, NULL);
	/* so is a FIFO, which an open would block on */
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(lt_spool_open(path, 1 << 20, &sp, &left, &err),
	    LT_OK);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	lt_spool_close(sp, NULL);
	/* a directory is refused */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(lt_spool_open(path, 1 << 20, &sp, &left, &err),
	    LT_ESTORE);
	ck_assert_ptr_null(sp);
	ck_assert_ptr_nonnull(strstr(err.msg, path));
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite	*s = suite_create("spool");
	TCase	*tc = tcase_create("file");

	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_left_and_damage);
	tcase_add_test(tc, test_not_a_file);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(spool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
