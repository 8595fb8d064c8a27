/*
 * spool.h - the inbox's overflow on disk: a bounded FIFO file of messages.
 *
 * In core NATS nothing is redelivered: a message that finds the inbox full
 * is lost unless it is kept somewhere.  The spool keeps it in a file
 * beside the database, up to a byte bound, and gives it back in arrival
 * order as the inbox empties; so a burst costs disk, not memory, and is
 * folded whole.  What the spool refuses (over its bound, or the disk
 * failed) the caller sheds as before.
 *
 * A record is a fixed header (lengths, receive time) and the subject,
 * pattern and payload.  The file is an append-only log read from the
 * front; once the reader catches up it is truncated to nothing.  It is a
 * buffer, not a journal: lt_spool_open() discards what a previous run
 * left (core NATS cannot say what was folded of it).
 *
 * One thread only (the caller's I/O thread); no locks.  Ownership: the
 * spool copies what it is given; lt_spool_get() returns a new item.
 */
#ifndef LT_SPOOL_H
#define LT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct lt_item;
struct lt_spool;

/* Create the spool file at path afresh (whatever is there is removed: a
   link or a FIFO too, never followed), never longer than max_bytes
   (records and their headers; the file starts over only once read whole,
   so under a load that never lets it empty, it refuses once it reached
   the bound, until it has).  *left says how many bytes a previous run's
   file held (discarded). */
int	lt_spool_open(const char *path, size_t max_bytes, struct lt_spool **out,
	    uint64_t *left, struct lt_err *err);
/* Append one message.  LT_ELIMIT when it would pass the bound, LT_ESTORE
   (err says why: the disk is full, an I/O error) when the write failed:
   the message is not in the spool, the file is as before. */
int	lt_spool_put(struct lt_spool *sp, const char *subject,
	    const char *pattern, const void *data, size_t len,
	    int64_t received_ms, struct lt_err *err);
/* Take the oldest message as a new item (lt_item_msg_new()) into *out;
   *out NULL when the spool is empty.  LT_ENOMEM: nothing taken, try
   again.  LT_ESTORE when reading failed or a record is damaged: then the
   spool is emptied, and *lost counts the messages it held. */
int	lt_spool_get(struct lt_spool *sp, struct lt_item **out, uint64_t *lost,
	    struct lt_err *err);
/* Messages held, and their bytes in the file. */
uint64_t lt_spool_count(const struct lt_spool *sp);
uint64_t lt_spool_bytes(const struct lt_spool *sp);
/* Close and remove the file; *lost (may be NULL) counts the messages it
   still held.  NULL is fine. */
void	lt_spool_close(struct lt_spool *sp, uint64_t *lost);

#endif
