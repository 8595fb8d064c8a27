/*
 * store.h - the SQLite file: open, migrate, transactions, statements.
 *
 * <sqlite3.h> stays behind this wall: the lib/ modules that keep SQL
 * (fold, stale, alert, outbox, census, prune, observe) reach the connection
 * only through store_int.h, each with its own statement table prepared
 * once; nothing outside lib/ sees SQLite (latticectl, a separate read-only
 * program, opens the file itself).
 * lt_store_open() opens or creates the file (mode 0640), sets WAL,
 * synchronous=NORMAL, busy_timeout and foreign_keys, applies the embedded
 * migrations from schema/ in order (each in its own transaction, tracked by
 * PRAGMA user_version) and prepares every statement once.  A file from a
 * newer schema, or one that is not a latticed database, is refused with
 * LT_ESTORE and a clear message.
 *
 * One thread at a time uses a struct lt_store.
 */
#ifndef LT_STORE_H
#define LT_STORE_H

#include <stdint.h>

#include "err.h"

struct lt_store;

/*
 * Process-wide SQLite settings, before any thread or connection exists
 * (lt_process_init(), process.h, calls it).  Turns off SQLite's allocation
 * statistics, which take a global mutex on every malloc (Debian's build
 * has no lookaside, so each row costs several); nothing here reads them.
 */
void	lt_store_process_init(void);

/* Schema version this build writes (the highest migration number). */
int	lt_store_schema_version(void);

/* The schema version of the file at path without changing it: 0 when it
   is missing or empty (a new database), else its PRAGMA user_version.
   *bytes gets the file's size (0 when missing).  Lets a caller say that a
   migration is about to run and how big the file is. */
int	lt_store_file_version(const char *path, int *version, int64_t *bytes,
	    struct lt_err *err);

/* Open (creating and migrating when needed).  Owns *out on LT_OK. */
int	lt_store_open(const char *path, struct lt_store **out,
	    struct lt_err *err);
/* Open an existing file read-only, without migrating (for readers such as
   latticectl).  Refuses a newer or foreign schema. */
int	lt_store_open_readonly(const char *path, struct lt_store **out,
	    struct lt_err *err);
/* Finalize every statement and close.  NULL is fine. */
void	lt_store_close(struct lt_store *st);

/*
 * How long a statement waits for another connection's lock before failing
 * with "database is locked" (opened with 5 s).  The daemon's fold takes a
 * short wait: its batch is kept and retried, and its loop must answer
 * /healthz meanwhile.
 */
void	lt_store_set_busy_timeout(struct lt_store *st, int ms);

/* Begin / commit / roll back one write transaction (BEGIN IMMEDIATE). */
int	lt_store_begin(struct lt_store *st, struct lt_err *err);
int	lt_store_commit(struct lt_store *st, struct lt_err *err);
void	lt_store_rollback(struct lt_store *st);

#endif
