/*
 * census.c - GROUP BY counts over the model (census.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "census.h"
#include "store_int.h"

struct lt_census_q {
	struct lt_store	*st;
	sqlite3_stmt	*stmt[LT_CENSUS_NTABLES];
};

/* Parallel to enum lt_census_table: column 0 lattice, 1 key, 2 count. */
static const char *const census_sql[LT_CENSUS_NTABLES] = {
	[LT_CENSUS_HOSTS] =
	    "SELECT lattice, status, count(*) FROM latticed_hosts"
	    " GROUP BY lattice, status ORDER BY lattice, status",
	[LT_CENSUS_COMPONENTS] =
	    "SELECT lattice, NULL, count(*) FROM latticed_components"
	    " GROUP BY lattice ORDER BY lattice",
	[LT_CENSUS_PROVIDERS] =
	    "SELECT lattice, NULL, count(*) FROM latticed_providers"
	    " GROUP BY lattice ORDER BY lattice",
	[LT_CENSUS_LINKS] =
	    "SELECT lattice, NULL, count(*) FROM latticed_links"
	    " GROUP BY lattice ORDER BY lattice",
	[LT_CENSUS_CONFIGS] =
	    "SELECT lattice, NULL, count(*) FROM latticed_configs"
	    " GROUP BY lattice ORDER BY lattice",
	[LT_CENSUS_ALERTS] =
	    "SELECT lattice, kind, count(*) FROM latticed_alerts"
	    " WHERE resolved_ms IS NULL"
	    " GROUP BY lattice, kind ORDER BY lattice, kind",
};

static const char *const table_names[LT_CENSUS_NTABLES] = {
	"hosts", "components", "providers", "links", "configs", "alerts",
};

/* Name a census table. */
const char *
lt_census_table_name(enum lt_census_table t)
{
	if ((unsigned)t >= LT_CENSUS_NTABLES)
		return "?";
	return table_names[t];
}

/* Prepare the census statements. */
int
lt_census_new(struct lt_store *st, struct lt_census_q **out,
    struct lt_err *err)
{
	struct lt_census_q	*q;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "census: out of memory");
	q->st = st;
	if (lt_store_prepare_table(st, census_sql, LT_CENSUS_NTABLES, q->stmt,
	    err) != LT_OK) {
		free(q);
		return LT_ESTORE;
	}
	*out = q;
	return LT_OK;
}

/* Finalize the census statements. */
void
lt_census_q_free(struct lt_census_q *q)
{
	if (q == NULL)
		return;
	lt_store_finalize_table(q->stmt, LT_CENSUS_NTABLES);
	free(q);
}

/* Free a census. */
void
lt_census_free(struct lt_census *c)
{
	size_t	t, i;

	if (c == NULL)
		return;
	for (t = 0; t < LT_CENSUS_NTABLES; t++) {
		for (i = 0; i < c->nrows[t]; i++) {
			free(c->rows[t][i].lattice);
			free(c->rows[t][i].key);
		}
		free(c->rows[t]);
	}
	free(c);
}

/* Copy a text column, or NULL for SQL NULL; *oom set on failure. */
static char *
coldup(sqlite3_stmt *s, int col, int *oom)
{
	const unsigned char	*v;
	char			*p;

	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	if ((v = sqlite3_column_text(s, col)) == NULL ||
	    (p = strdup((const char *)v)) == NULL) {
		*oom = 1;
		return NULL;
	}
	return p;
}

/* Run one query into c->rows[t]. */
static int
take_one(struct lt_census_q *q, struct lt_census *c, int t,
    struct lt_err *err)
{
	sqlite3_stmt		*s = q->stmt[t];
	struct lt_census_row	*r, *nr;
	size_t			 cap = 0;
	int			 rc, oom = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (c->nrows[t] == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nr = reallocarray(c->rows[t], cap,
			    sizeof(*nr))) == NULL) {
				oom = 1;
				break;
			}
			c->rows[t] = nr;
		}
		r = &c->rows[t][c->nrows[t]];
		r->lattice = coldup(s, 0, &oom);
		r->key = coldup(s, 1, &oom);
		r->n = sqlite3_column_int64(s, 2);
		c->nrows[t]++;
		if (oom)
			break;
	}
	if (oom) {
		sqlite3_reset(s);
		return lt_err_set(err, LT_ENOMEM, "", "census: out of memory");
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		lt_store_err(q->st, err, "census");
		sqlite3_reset(s);
		return LT_ESTORE;
	}
	sqlite3_reset(s);
	return LT_OK;
}

/* Run every census query. */
int
lt_census_take(struct lt_census_q *q, struct lt_census **out,
    struct lt_err *err)
{
	return lt_census_take_only(q, LT_CENSUS_ALL, out, err);
}

/* Run the queries of the tables in mask (census.h). */
int
lt_census_take_only(struct lt_census_q *q, unsigned mask,
    struct lt_census **out, struct lt_err *err)
{
	struct lt_census	*c;
	int			 t, rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "census: out of memory");
	for (t = 0; t < LT_CENSUS_NTABLES; t++)
		if ((mask & LT_CENSUS_BIT(t)) &&
		    (rc = take_one(q, c, t, err)) != LT_OK)
			goto fail;
	*out = c;
	return LT_OK;
fail:
	lt_census_free(c);
	return rc;
}
