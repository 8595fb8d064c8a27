/*
 * census.h - read-only aggregate counts over the model, for metrics.
 *
 * One census is a snapshot of GROUP BY counts: hosts per lattice and
 * status, components, providers, links and configs per lattice, active
 * alerts per lattice and kind.  Each query is a prepared statement on the
 * caller's store (lt_census_new); a take runs them all and copies the rows
 * out, so the result outlives the statements.  Run it between write
 * transactions (or inside one: it only reads).  One thread at a time.
 */
#ifndef LT_CENSUS_H
#define LT_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct lt_store;
struct lt_census_q;

enum lt_census_table {
	LT_CENSUS_HOSTS,	/* key: status ("up", "stale", "stopped") */
	LT_CENSUS_COMPONENTS,	/* key: NULL */
	LT_CENSUS_PROVIDERS,	/* key: NULL */
	LT_CENSUS_LINKS,	/* key: NULL */
	LT_CENSUS_CONFIGS,	/* key: NULL */
	LT_CENSUS_ALERTS,	/* active alerts; key: kind */
	LT_CENSUS_NTABLES
};

struct lt_census_row {
	char		*lattice;
	char		*key;		/* NULL for the per-lattice tables */
	int64_t		 n;
};

/* The result of one take; rows ordered by lattice, then key. */
struct lt_census {
	struct lt_census_row	*rows[LT_CENSUS_NTABLES];
	size_t			 nrows[LT_CENSUS_NTABLES];
};

/* Prepare the census statements on st (borrowed: must outlive *out). */
int	lt_census_new(struct lt_store *st, struct lt_census_q **out,
	    struct lt_err *err);
/* Finalize the statements.  NULL is fine. */
void	lt_census_q_free(struct lt_census_q *q);
/* Run every query; *out is a new census owned by the caller on LT_OK. */
int	lt_census_take(struct lt_census_q *q, struct lt_census **out,
	    struct lt_err *err);
/* lt_census_take() of the tables in mask only (LT_CENSUS_BIT(t) ORed);
   the others have no rows.  Counting components of a big fleet scans
   every row: a caller that needs the hosts asks for them alone. */
#define LT_CENSUS_BIT(t)	(1u << (t))
#define LT_CENSUS_ALL		(LT_CENSUS_BIT(LT_CENSUS_NTABLES) - 1)
int	lt_census_take_only(struct lt_census_q *q, unsigned mask,
	    struct lt_census **out, struct lt_err *err);
/* Free a census.  NULL is fine. */
void	lt_census_free(struct lt_census *c);
/* Name a table ("hosts", "components", ...). */
const char *lt_census_table_name(enum lt_census_table t);

#endif
