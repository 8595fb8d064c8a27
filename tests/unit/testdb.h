/*
 * testdb.h - the harness the fold-level unit tests share: one in-memory
 * store and fold per test (Check fixture), folding JSON messages in their
 * own transaction, and one-value SQL queries for assertions.
 */
#ifndef TESTDB_H
#define TESTDB_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

struct lt_store;

extern struct lt_store	*st;	/* the test's store (store_int.h for ->db) */
extern struct lt_fold	*fd;	/* the test's fold over st */
extern int		 seq;	/* for fresh event ids; 0 after setup */

/* Check fixture: open a fresh in-memory store and fold / close them. */
void		 setup(void);
void		 teardown(void);

/* Fold one message in its own transaction; return the outcome.  err may
   be NULL. */
enum lt_outcome	 fold_raw(const char *subject, const char *json, size_t len,
		    int64_t recv, struct lt_err *err);
/* fold_raw() of a NUL-terminated message, failing the test on error. */
enum lt_outcome	 fold_json(const char *subject, const char *json,
		    int64_t recv);

/* Query one integer (-999 when no row or NULL). */
int64_t		 qi(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* Query one text value ("<null>" when NULL, "<none>" when no row); the
   result lives until the next call. */
const char	*qs(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

#endif
