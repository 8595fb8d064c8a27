/*
 * rig.h - a latticed store and fold for the in-process bench programs,
 * with per-table counts of rows written (SQLite's update hook on the
 * store's own connection).
 */
#ifndef RIG_H
#define RIG_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

struct lt_invcache;

enum rig_table {
	RIG_HOSTS,
	RIG_COMPONENTS,
	RIG_PROVIDERS,
	RIG_EVENTS,
	RIG_OTHER,
	RIG_NTABLES
};

struct rig {
	struct lt_store	*st;
	struct lt_fold	*fold;
	uint64_t	 rows[RIG_NTABLES];	/* rows inserted/updated/deleted */
	uint64_t	 outcomes[LT_OUT_REJECTED + 1];
	struct lt_invcache *ic;		/* rig_batch_staged()'s decode stage */
};

/* Create a fresh database at path (removing an old one); exits on error.
   Applies latticed's process settings (process.h) first. */
void	rig_open(struct rig *r, const char *path);
void	rig_close(struct rig *r);
/* Fold n messages (bare CloudEvents) in one transaction; exits on error. */
void	rig_batch(struct rig *r, char *const *data, const size_t *len,
	    size_t n, int64_t received_ms);
/* rig_batch() in two timed stages: decode every message (the decode
   stage's work, on the calling thread, decoding ahead as the stage does),
   then fold them (the fold thread's). */
void	rig_batch_staged(struct rig *r, char *const *data, const size_t *len,
	    size_t n, int64_t received_ms, int64_t *decode_ns,
	    int64_t *fold_ns);
/* Name a table counter. */
const char *rig_table_name(enum rig_table t);

#endif
