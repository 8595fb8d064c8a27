/*
 * store_int.h - inside struct lt_store, for lib/store*.c, lib/fold*.c and
 * lib/stale.c only.  Includes <sqlite3.h>: never include it from a public
 * header or from daemon/.
 *
 * The core statement table (enum lt_stmt + lt_store_sql[] in store.c) is
 * prepared once by lt_store_open().  A later module with its own statements
 * (lib/store_alerts.c, ...) keeps its own enum and SQL array and calls
 * lt_store_prepare_table() / lt_store_finalize_table() with them.
 */
#ifndef LT_STORE_INT_H
#define LT_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"

/*
 * The stale sweep's test as SQL over a latticed_hosts row: at time NOW,
 * silent (counted from no earlier than WS) for longer than its threshold:
 * TH, or for a learned heartbeat interval over DI the larger of TH and
 * 2 x interval + GR.  The arguments are SQL parameter names.  The stale
 * sweep (store.c) marks by it; the alert sweep (alert.c) counts the hosts
 * due by the next sweep with it.  Its column names are unqualified: in a
 * join, no other table may have columns of these names.
 */
#define LT_SQL_SILENT_PAST(now, ws, di, th, gr)				\
	"MIN(" now " - COALESCE(last_heartbeat_ms, first_seen_ms), "	\
	now " - " ws ") > CASE WHEN heartbeat_interval_ms > " di		\
	" THEN MAX(" th ", 2 * heartbeat_interval_ms + " gr ") ELSE " th	\
	" END"

enum lt_stmt {
	LT_ST_BEGIN,
	LT_ST_COMMIT,
	LT_ST_ROLLBACK,
	LT_ST_EVENT_EXISTS,
	LT_ST_EVENT_INSERT,
	LT_ST_REJECT_INSERT,
	LT_ST_HOST_GET,
	LT_ST_HOST_INSERT,
	LT_ST_HOST_UPDATE,
	LT_ST_HOST_UPDATE_SAME,
	LT_ST_HOST_CLEAR_COMPS,
	LT_ST_HOST_CLEAR_PROVS,
	LT_ST_COMP_LIST,
	LT_ST_COMP_GET_COUNT,
	LT_ST_COMP_GET,
	LT_ST_COMP_UPSERT,
	LT_ST_COMP_INSERT_MANY,
	LT_ST_COMP_SET_COUNT,
	LT_ST_COMP_DELETE,
	LT_ST_COMP_META,
	LT_ST_PROV_LIST,
	LT_ST_PROV_UPSERT,
	LT_ST_PROV_DELETE,
	LT_ST_PROV_HEALTH,
	LT_ST_PROV_HEALTH_TIME,
	LT_ST_LINK_UPSERT,
	LT_ST_LINK_DELETE,
	LT_ST_LINK_EXISTS,
	LT_ST_CONFIG_SET,
	LT_ST_CONFIG_ADD_KEY,
	LT_ST_CONFIG_DEL_KEY,
	LT_ST_CONFIG_DELETE,
	LT_ST_CONFIG_DELETE_EMPTY,
	LT_ST_CONFIG_EXISTS,
	LT_ST_SWEPT_CLEAR,
	LT_ST_SWEPT_FIND,
	LT_ST_STALE_SWEEP,
	LT_ST_HOST_V2_GET,
	LT_ST_HOST_V2_SET,
	LT_ST_COUNT
};

/*
 * Rows LT_ST_COMP_INSERT_MANY inserts: ?1 lattice, ?2 host_id, ?3
 * updated_ms, then per row LT_COMP_MANY_COLS values from ?4 on:
 * component_id, image_ref, name, max_instances, revision, annotations
 * (NULL: '{}').  store.c spells out as many rows in the SQL.
 */
#define LT_COMP_MANY		32
#define LT_COMP_MANY_COLS	6

/* How long a writer waits for a lock (PRAGMA busy_timeout). */
#define LT_STORE_BUSY_MS	5000

struct lt_store {
	sqlite3		*db;
	int		 readonly;
	sqlite3_stmt	*stmt[LT_ST_COUNT];
	uint64_t	 txn_gen;	/* bumped by lt_store_begin(),
					   _commit() and _rollback(): names
					   the open write transaction for
					   per-transaction caches */
	uint64_t	 rb_gen;	/* bumped by lt_store_rollback():
					   a cache of what this connection
					   wrote stays true until then */
};

/* The SQL of the core statement table, parallel to enum lt_stmt. */
extern const char *const lt_store_sql[LT_ST_COUNT];

/* Prepare n statements sql[i] into stmts[i] (persistent).  On failure
   every statement already prepared is finalized and err names the index. */
int	lt_store_prepare_table(struct lt_store *st, const char *const *sql,
	    size_t n, sqlite3_stmt **stmts, struct lt_err *err);
/* Finalize n statements; NULL entries are fine. */
void	lt_store_finalize_table(sqlite3_stmt **stmts, size_t n);
/*
 * Step s (no rows expected) and reset it.  *changes (may be NULL) gets
 * sqlite3_changes().  On failure err says what failed: what, or the
 * statement's SQL when what is NULL.
 */
int	lt_store_run(struct lt_store *st, sqlite3_stmt *s, int *changes,
	    const char *what, struct lt_err *err);
/* Fill err with LT_ESTORE and the connection's last error; return
   LT_ESTORE. */
int	lt_store_err(struct lt_store *st, struct lt_err *err, const char *what);

#endif
