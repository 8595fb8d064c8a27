/*
 * dblock.h - one latticed per database.
 *
 * The daemon holds a POSIX write lock (fcntl F_SETLK) on "<db>.lock" for
 * its whole run, with its pid written in the file.  The kernel drops the
 * lock when the process dies, however it dies (kill -9 included), so a
 * stale file never blocks a restart.  A second latticed on the same
 * database is refused with the holder's pid.  Readers (sqlite3,
 * latticectl) do not take the lock.
 */
#ifndef DBLOCK_H
#define DBLOCK_H

struct dblock;

/*
 * Lock db for this process.  Returns 0 and *out, or -1 after logging why
 * ("db: PATH is in use by latticed pid N").  The lock is not inherited by
 * children (fcntl locks are per process; the fd is close-on-exec).
 */
int	dblock_acquire(const char *db, struct dblock **out);
/* Release the lock and free.  NULL is fine. */
void	dblock_release(struct dblock *l);

#endif
