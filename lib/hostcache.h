/*
 * hostcache.h - the host rows one write transaction of the fold has read
 * or written, by (lattice, host_id).
 *
 * Most events of a batch belong to a host that an earlier event of the same
 * batch touched (a flood of 10,000 events from 1,000 hosts: ten each).  The
 * fold (fold.c) keeps each host row here from its first read to the end of
 * the transaction: later events read no row, and a row whose status stays
 * as it was is written once, at commit, however many events changed it.
 * This module only holds the rows; what they mean and when they are
 * written is fold.c's.
 *
 * Ownership: the cache owns every row and the texts a row points to
 * (lt_hcache_text() replaces them).  A row pointer is valid until
 * lt_hcache_clear() or lt_hcache_free().  No locking: one thread.
 */
#ifndef LT_HOSTCACHE_H
#define LT_HOSTCACHE_H

#include <stddef.h>
#include <stdint.h>

/* One host row.  Fields named like the hosts columns; *_known flags say
   the column is not NULL. */
struct lt_hrow {
	const char	*lattice;	/* the key, NUL-terminated (owned) */
	const char	*host_id;
	int		 status;	/* fold.c's host status */
	int		 status_db;	/* the status the database has */
	int64_t		 state_ms, first_seen_ms, status_changed_ms;
	int64_t		 last_heartbeat_ms, interval_ms, inventory_hash;
	int		 has_heartbeat, has_interval, has_hash;
	char		*friendly_name, *version, *labels; /* NULL: NULL */

	/* What the next write must also say (see fold.c host_write). */
	int		 dirty;		/* the database lags this row */
	int64_t		 last_seen_ms;	/* the latest received time */
	int64_t		 uptime_seconds;
	int		 has_uptime;
	int		 set_reason;	/* write stop_reason = reason */
	char		*reason;
};

struct lt_hcache;

/* A new, empty cache; LT_ENOMEM. */
int	lt_hcache_new(struct lt_hcache **out);
/* Free c and its rows.  NULL is fine. */
void	lt_hcache_free(struct lt_hcache *c);
/* Forget every row (keeps the memory of the table). */
void	lt_hcache_clear(struct lt_hcache *c);

/* The row of (lattice, host_id), or NULL.  latlen < 0: lattice is
   NUL-terminated. */
struct lt_hrow *lt_hcache_get(struct lt_hcache *c, const char *lattice,
	    int latlen, const char *host_id);
/* Add a zeroed row for (lattice, host_id), which must not be held yet;
   NULL when out of memory. */
struct lt_hrow *lt_hcache_add(struct lt_hcache *c, const char *lattice,
	    int latlen, const char *host_id);
/* The i-th row added, in the order added; NULL past the last. */
struct lt_hrow *lt_hcache_at(struct lt_hcache *c, size_t i);

/* Make *dst a copy of v (NULL: NULL), freeing the old text; nothing is
   copied when it is already equal.  0, or -1 when out of memory (*dst is
   then unchanged). */
int	lt_hcache_text(char **dst, const char *v);

#endif
