/*
 * observe.h - what latticed remembers about its own observation of the
 * lattice: the JetStream position and counters (latticed_state) and the
 * lattices it knows (for a resync of "*").
 *
 * latticed_state is a small key/value table (schema/001_init.sql).  Writes
 * happen inside the caller's write transaction (lt_fold_begin ...
 * lt_fold_commit) so a position is committed together with the events it
 * covers.  One thread at a time uses a struct lt_observe.
 */
#ifndef LT_OBSERVE_H
#define LT_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct lt_store;
struct lt_observe;

/* Prepare the statements on st (borrowed; must outlive *out). */
int	lt_observe_new(struct lt_store *st, struct lt_observe **out,
	    struct lt_err *err);
/* Finalize and free.  NULL is fine. */
void	lt_observe_free(struct lt_observe *o);

/* Read an integer value; *found is 0 (and *v 0) when the key is absent or
   not an integer. */
int	lt_observe_state_get(struct lt_observe *o, const char *key,
	    int64_t *v, int *found, struct lt_err *err);
/* Set an integer value (inside the caller's transaction). */
int	lt_observe_state_set(struct lt_observe *o, const char *key,
	    int64_t v, struct lt_err *err);
/* Add delta to an integer value (absent counts as 0). */
int	lt_observe_state_add(struct lt_observe *o, const char *key,
	    int64_t delta, struct lt_err *err);

/*
 * Call fn for each distinct lattice of the hosts table, in order; fn's
 * lattice is borrowed for the call.  Stops early when fn returns non-zero.
 */
int	lt_observe_lattices(struct lt_observe *o,
	    int (*fn)(void *arg, const char *lattice), void *arg,
	    struct lt_err *err);
/*
 * Like lt_observe_lattices(), only the lattices with at least one host in
 * status 'up', ordered by the first_seen_ms of their oldest up host (the
 * lattices known longest first), then by name.
 */
int	lt_observe_lattices_up(struct lt_observe *o,
	    int (*fn)(void *arg, const char *lattice), void *arg,
	    struct lt_err *err);
/*
 * Call fn for each distinct host_id of an up wasmCloud 2 host (hosts
 * generation 'v2'), in order; same contract as lt_observe_lattices().
 */
int	lt_observe_v2_up(struct lt_observe *o,
	    int (*fn)(void *arg, const char *host_id), void *arg,
	    struct lt_err *err);

/*
 * Call fn for each link of lattice (the key of its row) / each config
 * name, in no particular order; the strings are borrowed for the call.
 * Stops early when fn returns non-zero.  For a resync's deletions.
 */
int	lt_observe_links(struct lt_observe *o, const char *lattice,
	    int (*fn)(void *arg, const char *source_id, const char *name,
	    const char *wit_namespace, const char *wit_package), void *arg,
	    struct lt_err *err);
int	lt_observe_configs(struct lt_observe *o, const char *lattice,
	    int (*fn)(void *arg, const char *name), void *arg,
	    struct lt_err *err);

#endif
