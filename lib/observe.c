/*
 * observe.c - latticed_state and the known lattices.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "observe.h"
#include "store.h"
#include "store_int.h"

enum observe_stmt {
	OS_GET,
	OS_SET,
	OS_ADD,
	OS_LATTICES,
	OS_LATTICES_UP,
	OS_V2_UP,
	OS_LINKS,
	OS_CONFIGS,
	OS_COUNT
};

static const char *const observe_sql[OS_COUNT] = {
	[OS_GET] = "SELECT value FROM latticed_state WHERE key = ?1",
	[OS_SET] = "INSERT INTO latticed_state (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[OS_ADD] = "INSERT INTO latticed_state (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET value ="
	    " coalesce(CAST(value AS INTEGER), 0) + excluded.value",
	[OS_LATTICES] =
	    "SELECT DISTINCT lattice FROM latticed_hosts ORDER BY lattice",
	/* hosts_status (status, lattice) finds the up hosts */
	[OS_LATTICES_UP] =
	    "SELECT lattice FROM latticed_hosts WHERE status = 'up'"
	    " GROUP BY lattice ORDER BY min(first_seen_ms), lattice",
	[OS_V2_UP] =
	    "SELECT DISTINCT host_id FROM latticed_hosts WHERE status = 'up'"
	    " AND generation = 'v2' ORDER BY host_id",
	[OS_LINKS] = "SELECT source_id, name, wit_namespace, wit_package"
	    " FROM latticed_links WHERE lattice = ?1",
	[OS_CONFIGS] =
	    "SELECT config_name FROM latticed_configs WHERE lattice = ?1",
};

struct lt_observe {
	struct lt_store	*st;
	sqlite3_stmt	*stmt[OS_COUNT];
};

/* Prepare the statements. */
int
lt_observe_new(struct lt_store *st, struct lt_observe **out,
    struct lt_err *err)
{
	struct lt_observe *o;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "observe: out of memory");
	o->st = st;
	if (lt_store_prepare_table(st, observe_sql, OS_COUNT, o->stmt, err) !=
	    LT_OK)
		goto fail;
	*out = o;
	return LT_OK;
fail:
	free(o);
	return LT_ESTORE;
}

/* Finalize the statements and free. */
void
lt_observe_free(struct lt_observe *o)
{
	if (o == NULL)
		return;
	lt_store_finalize_table(o->stmt, OS_COUNT);
	free(o);
}

/* Read an integer value. */
int
lt_observe_state_get(struct lt_observe *o, const char *key, int64_t *v,
    int *found, struct lt_err *err)
{
	sqlite3_stmt *s = o->stmt[OS_GET];
	int r, rc = LT_OK;

	*v = 0;
	*found = 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_INTEGER) {
			*v = sqlite3_column_int64(s, 0);
			*found = 1;
		}
	} else if (r != SQLITE_DONE)
		rc = lt_store_err(o->st, err, "observe: get");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Run a (key, integer) write statement. */
static int
write_kv(struct lt_observe *o, enum observe_stmt which, const char *key,
    int64_t v, struct lt_err *err)
{
	sqlite3_stmt *s = o->stmt[which];
	int rc = LT_OK;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, v);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = lt_store_err(o->st, err, "observe: set");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Set an integer value. */
int
lt_observe_state_set(struct lt_observe *o, const char *key, int64_t v,
    struct lt_err *err)
{
	return write_kv(o, OS_SET, key, v, err);
}

/* Add to an integer value. */
int
lt_observe_state_add(struct lt_observe *o, const char *key, int64_t delta,
    struct lt_err *err)
{
	return write_kv(o, OS_ADD, key, delta, err);
}

/* Call fn for each lattice a statement lists. */
static int
each_lattice(struct lt_observe *o, enum observe_stmt which,
    int (*fn)(void *arg, const char *lattice), void *arg, struct lt_err *err)
{
	sqlite3_stmt *s = o->stmt[which];
	int r, rc = LT_OK;

	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(s, 0)) != 0)
			break;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = lt_store_err(o->st, err, "observe: lattices");
	sqlite3_reset(s);
	return rc;
}

/* Call fn for each lattice of the hosts table. */
int
lt_observe_lattices(struct lt_observe *o,
    int (*fn)(void *arg, const char *lattice), void *arg, struct lt_err *err)
{
	return each_lattice(o, OS_LATTICES, fn, arg, err);
}

/* Call fn for each wasmCloud 2 host that is up. */
int
lt_observe_v2_up(struct lt_observe *o,
    int (*fn)(void *arg, const char *host_id), void *arg, struct lt_err *err)
{
	return each_lattice(o, OS_V2_UP, fn, arg, err);
}

/* Call fn for each lattice with a host up, longest-known first. */
int
lt_observe_lattices_up(struct lt_observe *o,
    int (*fn)(void *arg, const char *lattice), void *arg, struct lt_err *err)
{
	return each_lattice(o, OS_LATTICES_UP, fn, arg, err);
}

/* Call fn for each link of lattice (its key). */
int
lt_observe_links(struct lt_observe *o, const char *lattice,
    int (*fn)(void *arg, const char *source_id, const char *name,
    const char *wit_namespace, const char *wit_package), void *arg,
    struct lt_err *err)
{
	sqlite3_stmt *s = o->stmt[OS_LINKS];
	int r, rc = LT_OK;

	sqlite3_bind_text(s, 1, lattice, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    (const char *)sqlite3_column_text(s, 3)) != 0)
			break;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = lt_store_err(o->st, err, "observe: links");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Call fn for each config name of lattice. */
int
lt_observe_configs(struct lt_observe *o, const char *lattice,
    int (*fn)(void *arg, const char *name), void *arg, struct lt_err *err)
{
	sqlite3_stmt *s = o->stmt[OS_CONFIGS];
	int r, rc = LT_OK;

	sqlite3_bind_text(s, 1, lattice, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(arg, (const char *)sqlite3_column_text(s, 0)) != 0)
			break;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = lt_store_err(o->st, err, "observe: configs");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}
