/*
 * testdb.c - the shared harness of the fold-level unit tests.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"
#include "testdb.h"

struct lt_store	*st;
struct lt_fold	*fd;
int		 seq;

/* Open a fresh in-memory store and fold. */
void
setup(void)
{
	ck_assert_int_eq(lt_store_open(":memory:", &st, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st, NULL, &fd, NULL), LT_OK);
	seq = 0;
}

/* Close them. */
void
teardown(void)
{
	lt_fold_free(fd);
	lt_store_close(st);
	fd = NULL;
	st = NULL;
}

/* Fold one raw message in its own transaction; return the outcome. */
enum lt_outcome
fold_raw(const char *subject, const char *json, size_t len, int64_t recv,
    struct lt_err *err)
{
	struct lt_msg m = { subject, json, len, recv, NULL };
	enum lt_outcome out = (enum lt_outcome)-1;
	struct lt_err e;

	if (err == NULL)
		err = &e;
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	ck_assert_msg(lt_fold_msg(fd, &m, &out, err) == LT_OK, "%s",
	    err->msg);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	return out;
}

/* fold_raw() of a NUL-terminated message. */
enum lt_outcome
fold_json(const char *subject, const char *json, int64_t recv)
{
	return fold_raw(subject, json, strlen(json), recv, NULL);
}

/* Prepare the formatted query, failing the test when it is bad. */
static sqlite3_stmt *
query(const char *fmt, va_list ap)
{
	char		 sql[4096];
	sqlite3_stmt	*s;

	vsnprintf(sql, sizeof(sql), fmt, ap);
	ck_assert_msg(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) ==
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(st->db));
	return s;
}

/* Query one integer. */
int64_t
qi(const char *fmt, ...)
{
	sqlite3_stmt	*s;
	int64_t		 v = -999;
	va_list		 ap;

	va_start(ap, fmt);
	s = query(fmt, ap);
	va_end(ap);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Query one text value. */
const char *
qs(const char *fmt, ...)
{
	static char	 out[4096];
	sqlite3_stmt	*s;
	va_list		 ap;

	va_start(ap, fmt);
	s = query(fmt, ap);
	va_end(ap);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, sizeof(out), "%s", sqlite3_column_type(s, 0) ==
		    SQLITE_NULL ? "<null>" : (const char *)
		    sqlite3_column_text(s, 0));
	else
		snprintf(out, sizeof(out), "<none>");
	sqlite3_finalize(s);
	return out;
}
