/*
 * invcache.h - the decode stage's guess of which heartbeats carry an
 * inventory the fold has not applied yet.
 *
 * A heartbeat carries its host's whole inventory; the fold diffs it only
 * when its raw hash (lt_ce.inventory_raw) differs from the one it applied
 * last (hosts.inventory_hash), and then needs the items decoded.  The
 * decode stage cannot read the database, so it remembers, per (lattice,
 * host), the last raw hash it saw, and decodes ahead (lt_fold_decode_ahead())
 * only what differs: an unchanged heartbeat, the common case, costs no
 * item decode anywhere.
 *
 * It is a guess, never a source of truth: a bounded, set-associative
 * table (the least recently used entry of a set is evicted), keyed by a
 * 64-bit hash of (lattice, host).  Wrong guesses only move work: an
 * inventory decoded ahead that the fold finds unchanged is dropped with
 * its event; one the fold needs but the stage did not decode (a restart, a
 * rolled-back or superseded heartbeat, an eviction, a key collision) is
 * decoded by the fold, as before.
 *
 * Not thread-safe: one thread (the decode stage's) uses a cache.  It
 * holds no pointer to what it is given.
 */
#ifndef LT_INVCACHE_H
#define LT_INVCACHE_H

#include <stddef.h>
#include <stdint.h>

struct lt_invcache;

/* Entries (24 bytes each): 1.5 MiB.  A fleet of more hosts than this
   misses on most heartbeats, and a miss decodes the inventory ahead, so
   10,000 hosts beating round-robin through 8,192 entries cost the decode
   stage half as much again (bench soak: 3.3 % of a core against 2 %). */
#define LT_INVCACHE_DEFAULT	65536

/* A cache of at least entries entries (0: LT_INVCACHE_DEFAULT), rounded
   up to a power of two.  Returns LT_OK or LT_ENOMEM. */
int	lt_invcache_new(size_t entries, struct lt_invcache **out);
/* NULL is fine. */
void	lt_invcache_free(struct lt_invcache *ic);

/*
 * A heartbeat of host in lattice[0..latlen) carries an inventory of raw
 * hash raw: return 1 when it differs from the last one seen for the host
 * or none is known (decode it ahead), 0 when it is the same.  Either way
 * raw becomes the host's last one seen.
 */
int	lt_invcache_changed(struct lt_invcache *ic, const char *lattice,
	    size_t latlen, const char *host, uint64_t raw);

/* Forget the host's inventory: an event changed its rows other than by a
   heartbeat, so the fold will diff the next heartbeat whatever it says. */
void	lt_invcache_forget(struct lt_invcache *ic, const char *lattice,
	    size_t latlen, const char *host);

#endif
