/*
 * store.c - open, check, migrate and prepare the SQLite file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "migrations.h"
#include "store.h"
#include "store_int.h"


/*
 * Page cache per connection: 16 MiB (negative cache_size is KiB).  The
 * default 2 MiB made every batch re-read index pages of events through
 * pread; 16 MiB leaves room in the 64 MiB RSS budget for a full inbox.
 * Debian builds SQLite with SECURE_DELETE, which zeroes every freed page
 * and so writes it again; FAST zeroes deleted content only where that
 * costs no extra I/O (a pruned row's bytes may stay in a free page until
 * the page is reused).
 */
#define LT_STORE_CACHE_PRAGMA	"PRAGMA cache_size = -16384;" \
	" PRAGMA wal_autocheckpoint = 2048; PRAGMA secure_delete = FAST"

/*
 * The hosts one stale sweep marks, so that its alerts name exactly those
 * (lib/alert.c): status_changed_ms alone cannot tell them from hosts an
 * earlier sweep marked at the same time, or later when a backlog holds the
 * sweep's time back or the clock steps back.  A TEMP table belongs to this
 * connection only: it is not in the database file, no reader sees it and
 * no migration carries it.  lt_stale_sweep() empties it before and after
 * each sweep, inside the sweep's transaction.  Like any statement journal,
 * a sweep of many hosts may spill it to a file in SQLite's temp directory
 * (the unit's PrivateTmp).
 */
#define LT_STORE_TEMP_SQL	"CREATE TEMP TABLE IF NOT EXISTS" \
	" latticed_swept (lattice TEXT NOT NULL, host_id TEXT NOT NULL," \
	" PRIMARY KEY (lattice, host_id)) WITHOUT ROWID"

/* LT_COMP_MANY (32) rows of LT_COMP_MANY_COLS parameters each. */
#define COMP_ROW1	"(?, ?, ?, ?, ?, ?)"
#define COMP_ROW2	COMP_ROW1 ", " COMP_ROW1
#define COMP_ROW4	COMP_ROW2 ", " COMP_ROW2
#define COMP_ROW8	COMP_ROW4 ", " COMP_ROW4
#define COMP_ROW16	COMP_ROW8 ", " COMP_ROW8
#define COMP_ROW32	COMP_ROW16 ", " COMP_ROW16

/* The core statement table, parallel to enum lt_stmt. */
const char *const lt_store_sql[LT_ST_COUNT] = {
	[LT_ST_BEGIN] = "BEGIN IMMEDIATE",
	[LT_ST_COMMIT] = "COMMIT",
	[LT_ST_ROLLBACK] = "ROLLBACK",
	[LT_ST_EVENT_EXISTS] =
	    "SELECT 1 FROM latticed_events WHERE source = ?1 AND id = ?2",
	[LT_ST_EVENT_INSERT] =
	    "INSERT INTO latticed_events (lattice, subject, type, source, id,"
	    " host_id, time_ms, time_raw, received_ms, outcome, data)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[LT_ST_REJECT_INSERT] =
	    "INSERT INTO latticed_rejected_events (received_ms, lattice,"
	    " subject, reason, error, field, raw, raw_size)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[LT_ST_HOST_GET] =
	    "SELECT status, state_ms, last_heartbeat_ms,"
	    " heartbeat_interval_ms, inventory_hash, first_seen_ms,"
	    " status_changed_ms, friendly_name, version, labels"
	    " FROM latticed_hosts WHERE lattice = ?1 AND host_id = ?2",
	[LT_ST_HOST_INSERT] =
	    "INSERT INTO latticed_hosts (lattice, host_id, status, labels,"
	    " first_seen_ms, last_seen_ms, status_changed_ms, state_ms)"
	    " VALUES (?1, ?2, 'up', '{}', ?3, ?3, ?3, ?4)",
	[LT_ST_HOST_UPDATE] =
	    "UPDATE latticed_hosts SET status = ?3,"
	    " friendly_name = COALESCE(?4, friendly_name),"
	    " version = COALESCE(?5, version),"
	    " labels = COALESCE(?6, labels),"
	    " uptime_seconds = COALESCE(?7, uptime_seconds),"
	    " stop_reason = CASE WHEN ?8 THEN ?9 ELSE stop_reason END,"
	    " last_seen_ms = MAX(last_seen_ms, ?10),"
	    " last_heartbeat_ms = ?11, heartbeat_interval_ms = ?12,"
	    " status_changed_ms = ?13, state_ms = ?14, inventory_hash = ?15"
	    " WHERE lattice = ?1 AND host_id = ?2",
	/*
	 * HOST_UPDATE without status and status_changed_ms, for an event
	 * that leaves the status as it was: writing status (indexed by
	 * hosts_status) makes SQLite update in two passes through an
	 * ephemeral table, one per event.
	 */
	[LT_ST_HOST_UPDATE_SAME] =
	    "UPDATE latticed_hosts SET"
	    " friendly_name = COALESCE(?4, friendly_name),"
	    " version = COALESCE(?5, version),"
	    " labels = COALESCE(?6, labels),"
	    " uptime_seconds = COALESCE(?7, uptime_seconds),"
	    " stop_reason = CASE WHEN ?8 THEN ?9 ELSE stop_reason END,"
	    " last_seen_ms = MAX(last_seen_ms, ?10),"
	    " last_heartbeat_ms = ?11, heartbeat_interval_ms = ?12,"
	    " state_ms = ?14, inventory_hash = ?15"
	    " WHERE lattice = ?1 AND host_id = ?2",
	[LT_ST_HOST_CLEAR_COMPS] =
	    "DELETE FROM latticed_components"
	    " WHERE lattice = ?1 AND host_id = ?2",
	[LT_ST_HOST_CLEAR_PROVS] =
	    "DELETE FROM latticed_providers"
	    " WHERE lattice = ?1 AND host_id = ?2",
	[LT_ST_COMP_LIST] =
	    "SELECT component_id, image_ref, name, max_instances, revision,"
	    " annotations FROM latticed_components"
	    " WHERE lattice = ?1 AND host_id = ?2"
	    " ORDER BY component_id",
	[LT_ST_COMP_GET_COUNT] =
	    "SELECT max_instances FROM latticed_components"
	    " WHERE lattice = ?1 AND host_id = ?2 AND component_id = ?3",
	[LT_ST_COMP_GET] =
	    "SELECT image_ref, name, max_instances, revision, annotations"
	    " FROM latticed_components"
	    " WHERE lattice = ?1 AND host_id = ?2 AND component_id = ?3",
	[LT_ST_COMP_UPSERT] =
	    "INSERT INTO latticed_components (lattice, host_id, component_id,"
	    " image_ref, name, max_instances, revision, annotations,"
	    " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	    " COALESCE(?8, '{}'), ?9)"
	    " ON CONFLICT (lattice, host_id, component_id) DO UPDATE SET"
	    " image_ref = COALESCE(excluded.image_ref, image_ref),"
	    " name = COALESCE(excluded.name, name),"
	    " max_instances = excluded.max_instances,"
	    " revision = COALESCE(excluded.revision, revision),"
	    " annotations = COALESCE(?8, annotations),"
	    " updated_ms = excluded.updated_ms",
	/*
	 * New components rows, LT_COMP_MANY per step, for rows the fold
	 * knows are absent (no ON CONFLICT: a conflict is an error).  A
	 * step per row pays a statement's start and end each time, and
	 * rows given in key order find the b-tree cursors where the next
	 * row goes.
	 */
	[LT_ST_COMP_INSERT_MANY] =
	    "INSERT INTO latticed_components (lattice, host_id, component_id,"
	    " image_ref, name, max_instances, revision, annotations,"
	    " updated_ms) SELECT ?1, ?2, column1, column2, column3, column4,"
	    " column5, COALESCE(column6, '{}'), ?3 FROM (VALUES "
	    COMP_ROW32 ")",
	[LT_ST_COMP_SET_COUNT] =
	    "UPDATE latticed_components SET max_instances = ?4, updated_ms = ?5"
	    " WHERE lattice = ?1 AND host_id = ?2 AND component_id = ?3",
	[LT_ST_COMP_DELETE] =
	    "DELETE FROM latticed_components"
	    " WHERE lattice = ?1 AND host_id = ?2 AND component_id = ?3",
	[LT_ST_COMP_META] =
	    "UPDATE latticed_components"
	    " SET image_ref = COALESCE(?4, image_ref),"
	    " annotations = COALESCE(?5, annotations), updated_ms = ?6"
	    " WHERE lattice = ?1 AND host_id = ?2 AND component_id = ?3",
	[LT_ST_PROV_LIST] =
	    "SELECT provider_id, link_name, image_ref, name, contract_id,"
	    " revision, annotations FROM latticed_providers"
	    " WHERE lattice = ?1 AND host_id = ?2"
	    " ORDER BY provider_id, link_name",
	[LT_ST_PROV_UPSERT] =
	    "INSERT INTO latticed_providers (lattice, host_id, provider_id,"
	    " link_name, image_ref, name, contract_id, revision, annotations,"
	    " updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, COALESCE(?9, '{}'), ?10)"
	    " ON CONFLICT (lattice, host_id, provider_id, link_name)"
	    " DO UPDATE SET"
	    " image_ref = COALESCE(excluded.image_ref, image_ref),"
	    " name = COALESCE(excluded.name, name),"
	    " contract_id = COALESCE(excluded.contract_id, contract_id),"
	    " revision = COALESCE(excluded.revision, revision),"
	    " annotations = COALESCE(?9, annotations),"
	    " updated_ms = excluded.updated_ms",
	[LT_ST_PROV_DELETE] =
	    "DELETE FROM latticed_providers WHERE lattice = ?1 AND host_id = ?2"
	    " AND provider_id = ?3 AND link_name = ?4",
	[LT_ST_PROV_HEALTH] =
	    "UPDATE latticed_providers SET health = ?4, health_checked_ms = ?5"
	    " WHERE lattice = ?1 AND host_id = ?2 AND provider_id = ?3",
	[LT_ST_PROV_HEALTH_TIME] =
	    "UPDATE latticed_providers SET health_checked_ms = ?4"
	    " WHERE lattice = ?1 AND host_id = ?2 AND provider_id = ?3",
	[LT_ST_LINK_UPSERT] =
	    "INSERT INTO latticed_links (lattice, source_id, name,"
	    " wit_namespace, wit_package, target, interfaces, source_config,"
	    " target_config, legacy_values, updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " COALESCE(?7, '[]'), COALESCE(?8, '[]'), COALESCE(?9, '[]'),"
	    " ?10, ?11)"
	    " ON CONFLICT (lattice, source_id, name, wit_namespace,"
	    " wit_package) DO UPDATE SET target = excluded.target,"
	    " interfaces = excluded.interfaces,"
	    " source_config = excluded.source_config,"
	    " target_config = excluded.target_config,"
	    " legacy_values = excluded.legacy_values,"
	    " updated_ms = excluded.updated_ms"
	    " WHERE excluded.updated_ms >= latticed_links.updated_ms",
	[LT_ST_LINK_DELETE] =
	    "DELETE FROM latticed_links WHERE lattice = ?1 AND source_id = ?2"
	    " AND name = ?3 AND wit_namespace = ?4 AND wit_package = ?5"
	    " AND updated_ms <= ?6",
	[LT_ST_LINK_EXISTS] =
	    "SELECT 1 FROM latticed_links WHERE lattice = ?1 AND source_id = ?2"
	    " AND name = ?3 AND wit_namespace = ?4 AND wit_package = ?5",
	[LT_ST_CONFIG_SET] =
	    "INSERT INTO latticed_configs (lattice, config_name, updated_ms)"
	    " VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (lattice, config_name) DO UPDATE SET"
	    " updated_ms = excluded.updated_ms"
	    " WHERE excluded.updated_ms >= latticed_configs.updated_ms",
	[LT_ST_CONFIG_ADD_KEY] =
	    "INSERT INTO latticed_configs (lattice, config_name, legacy_keys,"
	    " updated_ms) VALUES (?1, ?2, json_array(?3), ?4)"
	    " ON CONFLICT (lattice, config_name) DO UPDATE SET"
	    " legacy_keys = CASE WHEN EXISTS (SELECT 1 FROM"
	    " json_each(COALESCE(latticed_configs.legacy_keys, '[]'))"
	    " WHERE value = ?3) THEN latticed_configs.legacy_keys"
	    " ELSE json_insert(COALESCE(latticed_configs.legacy_keys, '[]'),"
	    " '$[#]', ?3)"
	    " END, updated_ms = excluded.updated_ms"
	    " WHERE excluded.updated_ms >= latticed_configs.updated_ms",
	[LT_ST_CONFIG_DEL_KEY] =
	    "UPDATE latticed_configs"
	    " SET legacy_keys = (SELECT json_group_array(value)"
	    " FROM json_each(latticed_configs.legacy_keys) WHERE value <> ?3),"
	    " updated_ms = ?4"
	    " WHERE lattice = ?1 AND config_name = ?2"
	    " AND legacy_keys IS NOT NULL AND updated_ms <= ?4",
	[LT_ST_CONFIG_DELETE] =
	    "DELETE FROM latticed_configs"
	    " WHERE lattice = ?1 AND config_name = ?2"
	    " AND updated_ms <= ?3",
	[LT_ST_CONFIG_DELETE_EMPTY] =
	    "DELETE FROM latticed_configs"
	    " WHERE lattice = ?1 AND config_name = ?2"
	    " AND legacy_keys = '[]'",
	[LT_ST_CONFIG_EXISTS] =
	    "SELECT 1 FROM latticed_configs"
	    " WHERE lattice = ?1 AND config_name = ?2",
	/* the stale sweep's list of the hosts it marks (LT_STORE_TEMP_SQL) */
	[LT_ST_SWEPT_CLEAR] = "DELETE FROM temp.latticed_swept",
	/*
	 * List the up hosts gone silent.  ?1 now, ?2 window start, ?3
	 * default interval, ?4 threshold, ?5 grace.  Silence is measured from
	 * the last heartbeat (or host_started), or first_seen_ms for a host
	 * that never sent one, and never counted from before window_start.
	 */
	[LT_ST_SWEPT_FIND] =
	    "INSERT INTO temp.latticed_swept SELECT lattice, host_id"
	    " FROM latticed_hosts WHERE status = 'up' AND "
	    LT_SQL_SILENT_PAST("?1", "?2", "?3", "?4", "?5"),
	/* mark the listed hosts stale at ?1 (the alerts read the list) */
	[LT_ST_STALE_SWEEP] =
	    "UPDATE latticed_hosts SET status = 'stale', status_changed_ms = ?1"
	    " WHERE (lattice, host_id) IN"
	    " (SELECT lattice, host_id FROM temp.latticed_swept)",
	/* The wasmCloud 2 columns (migration 004), apart from the gauges
	   cpu_usage and memory_free, which never count as a change. */
	[LT_ST_HOST_V2_GET] =
	    "SELECT generation = 'v2', hostname, environment, started_ms,"
	    " os_name, os_arch, os_kernel, memory_total, component_count,"
	    " workload_count, http_port, imports, exports"
	    " FROM latticed_hosts WHERE lattice = ?1 AND host_id = ?2",
	[LT_ST_HOST_V2_SET] =
	    "UPDATE latticed_hosts SET generation = 'v2', hostname = ?3,"
	    " environment = ?4, started_ms = ?5, os_name = ?6, os_arch = ?7,"
	    " os_kernel = ?8, cpu_usage = ?9, memory_total = ?10,"
	    " memory_free = ?11, component_count = ?12, workload_count = ?13,"
	    " http_port = ?14, imports = ?15, exports = ?16"
	    " WHERE lattice = ?1 AND host_id = ?2",
};

/* Return the highest migration number this build knows. */
int
lt_store_schema_version(void)
{
	int i, v = 0;

	for (i = 0; i < lt_nmigrations; i++)
		if (lt_migrations[i].version > v)
			v = lt_migrations[i].version;
	return v;
}

/* Does a result code blame the database rather than the data written? */
static int
db_failed(int code)
{
	switch (code & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_NOMEM:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
	case SQLITE_NOLFS:
	case SQLITE_AUTH:
		return 1;
	default:
		return 0;
	}
}

/* Fill err with the connection's last error. */
int
lt_store_err(struct lt_store *st, struct lt_err *err, const char *what)
{
	int	code = st != NULL && st->db != NULL ?
		    sqlite3_extended_errcode(st->db) : SQLITE_CANTOPEN;

	lt_err_set(err, LT_ESTORE, "", "store: %s: %s", what,
	    st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) :
	    "no database");
	if (err != NULL) {
		err->db_failed = db_failed(code);
		err->db_busy = (code & 0xff) == SQLITE_BUSY ||
		    (code & 0xff) == SQLITE_LOCKED;
	}
	return LT_ESTORE;
}

/* Step a statement that returns no rows, then reset it. */
int
lt_store_run(struct lt_store *st, sqlite3_stmt *s, int *changes,
    const char *what, struct lt_err *err)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE && changes != NULL)
		*changes = sqlite3_changes(st->db);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return lt_store_err(st, err, what != NULL ? what :
		    sqlite3_sql(s));
	return LT_OK;
}

/* Prepare a table of persistent statements. */
int
lt_store_prepare_table(struct lt_store *st, const char *const *sql,
    size_t n, sqlite3_stmt **stmts, struct lt_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		stmts[i] = NULL;
	for (i = 0; i < n; i++) {
		if (sql[i] == NULL) {
			lt_err_set(err, LT_ESTORE, "", "store: statement %zu "
			    "has no SQL", i);
			goto fail;
		}
		if (sqlite3_prepare_v3(st->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			lt_err_set(err, LT_ESTORE, "", "store: prepare "
			    "statement %zu: %s", i, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return LT_OK;
fail:
	lt_store_finalize_table(stmts, n);
	return LT_ESTORE;
}

/* Finalize a table of statements. */
void
lt_store_finalize_table(sqlite3_stmt **stmts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

/* Run one SQL text (setup only, never per event). */
static int
exec(struct lt_store *st, const char *sql, struct lt_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		lt_err_set(err, LT_ESTORE, "", "store: %s", msg != NULL ?
		    msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return LT_ESTORE;
	}
	return LT_OK;
}

/* Read one integer from a setup query such as PRAGMA user_version. */
static int
query_int(struct lt_store *st, const char *sql, int64_t *v,
    struct lt_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return lt_store_err(st, err, sql);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*v = 0;
	else {
		lt_store_err(st, err, sql);
		sqlite3_finalize(s);
		return LT_ESTORE;
	}
	sqlite3_finalize(s);
	return LT_OK;
}

/* Refuse a file from a newer latticed or one that is not ours. */
static int
check_schema(struct lt_store *st, const char *path, int64_t *uv,
    struct lt_err *err)
{
	int64_t nobj;

	if (query_int(st, "PRAGMA user_version", uv, err) != LT_OK)
		return LT_ESTORE;
	if (*uv > lt_store_schema_version())
		return lt_err_set(err, LT_ESTORE, "", "store: %s has schema "
		    "version %lld, newer than this latticed (%d): upgrade "
		    "latticed", path, (long long)*uv,
		    lt_store_schema_version());
	if (*uv < 0)
		return lt_err_set(err, LT_ESTORE, "", "store: %s is not a "
		    "latticed database (user_version %lld)", path,
		    (long long)*uv);
	if (*uv == 0) {
		if (query_int(st, "SELECT count(*) FROM sqlite_schema WHERE "
		    "name NOT LIKE 'sqlite_%'", &nobj, err) != LT_OK)
			return LT_ESTORE;
		if (nobj > 0)
			return lt_err_set(err, LT_ESTORE, "", "store: %s is "
			    "not a latticed database (it has %lld schema "
			    "objects and no latticed version); refusing to "
			    "touch it", path, (long long)nobj);
	}
	return LT_OK;
}

/* Apply every migration newer than the file, each in one transaction. */
static int
migrate(struct lt_store *st, const char *path, struct lt_err *err)
{
	char pragma[64];
	int64_t uv;
	int i;

	for (i = 0; i < lt_nmigrations; i++) {
		if (exec(st, "BEGIN IMMEDIATE", err) != LT_OK)
			return LT_ESTORE;
		/* Re-check inside the write lock: another process may have
		   migrated meanwhile. */
		if (check_schema(st, path, &uv, err) != LT_OK)
			goto fail;
		if (uv >= lt_migrations[i].version) {
			if (exec(st, "COMMIT", err) != LT_OK)
				goto fail;
			continue;
		}
		if (exec(st, lt_migrations[i].sql, err) != LT_OK) {
			char msg[sizeof(err->msg)];

			if (err != NULL) {
				memcpy(msg, err->msg, sizeof(msg));
				lt_err_set(err, LT_ESTORE, "", "store: migration "
				    "%s: %.200s", lt_migrations[i].name,
				    msg + 7);
			}
			goto fail;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    lt_migrations[i].version);
		if (exec(st, pragma, err) != LT_OK ||
		    exec(st, "COMMIT", err) != LT_OK)
			goto fail;
	}
	return LT_OK;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return LT_ESTORE;
}

/* Create the file with mode 0640 whatever the umask, if it is missing. */
static int
create_file(const char *path, struct lt_err *err)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd == -1) {
		if (errno == EEXIST)
			return LT_OK;
		return lt_err_set(err, LT_ESTORE, "", "store: create %s: %s",
		    path, strerror(errno));
	}
	if (fchmod(fd, 0640) == -1) {
		lt_err_set(err, LT_ESTORE, "", "store: chmod %s: %s", path,
		    strerror(errno));
		close(fd);
		return LT_ESTORE;
	}
	close(fd);
	return LT_OK;
}

/* Whether path names a private in-memory or temporary database. */
static int
is_memory(const char *path)
{
	return path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0;
}

/* Read the schema version of an existing file (store.h). */
int
lt_store_file_version(const char *path, int *version, int64_t *bytes,
    struct lt_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int rc = LT_ESTORE;

	*version = 0;
	*bytes = 0;
	if (is_memory(path) || stat(path, &sb) == -1 || sb.st_size == 0)
		return LT_OK;
	*bytes = (int64_t)sb.st_size;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		lt_err_set(err, LT_ESTORE, "", "store: %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	*version = sqlite3_column_int(s, 0);
	rc = LT_OK;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* Process-wide settings (store.h); a late call is a harmless no-op. */
void
lt_store_process_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Open, configure, check and (when writable) migrate. */
static int
store_open(const char *path, int readonly, struct lt_store **out,
    struct lt_err *err)
{
	struct lt_store *st;
	int64_t uv;
	int flags;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "store: out of memory");
	st->readonly = readonly;
	if (!readonly && !is_memory(path) &&
	    create_file(path, err) != LT_OK)
		goto fail;
	flags = readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		lt_err_set(err, LT_ESTORE, "", "store: open %s: %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, LT_STORE_BUSY_MS);
	if (!readonly && exec(st, "PRAGMA journal_mode = WAL", err) != LT_OK)
		goto fail;
	if (exec(st, "PRAGMA synchronous = NORMAL", err) != LT_OK ||
	    exec(st, "PRAGMA foreign_keys = ON", err) != LT_OK ||
	    exec(st, LT_STORE_CACHE_PRAGMA, err) != LT_OK)
		goto fail;
	if (check_schema(st, path, &uv, err) != LT_OK)
		goto fail;
	if (readonly) {
		if (uv != lt_store_schema_version()) {
			lt_err_set(err, LT_ESTORE, "", "store: %s has schema "
			    "version %lld, this latticed reads %d", path,
			    (long long)uv, lt_store_schema_version());
			goto fail;
		}
	} else if (migrate(st, path, err) != LT_OK)
		goto fail;
	if (exec(st, LT_STORE_TEMP_SQL, err) != LT_OK ||
	    lt_store_prepare_table(st, lt_store_sql, LT_ST_COUNT, st->stmt,
	    err) != LT_OK)
		goto fail;
	*out = st;
	return LT_OK;
fail:
	lt_store_close(st);
	return err != NULL ? err->code : LT_ESTORE;
}

/* Open or create the database and bring it to this build's schema. */
int
lt_store_open(const char *path, struct lt_store **out, struct lt_err *err)
{
	return store_open(path, 0, out, err);
}

/* Open an existing database read-only, without migrating. */
int
lt_store_open_readonly(const char *path, struct lt_store **out,
    struct lt_err *err)
{
	return store_open(path, 1, out, err);
}

/* Finalize every statement and close the connection. */
void
lt_store_close(struct lt_store *st)
{
	if (st == NULL)
		return;
	lt_store_finalize_table(st->stmt, LT_ST_COUNT);
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st);
}

/* Step a statement that returns no rows, then reset it. */
static int
step_done(struct lt_store *st, enum lt_stmt which, struct lt_err *err)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return lt_store_err(st, err, lt_store_sql[which]);
	return LT_OK;
}

/* Set how long to wait for another connection's lock. */
void
lt_store_set_busy_timeout(struct lt_store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms);
}

/* Begin one write transaction. */
int
lt_store_begin(struct lt_store *st, struct lt_err *err)
{
	st->txn_gen++;
	return step_done(st, LT_ST_BEGIN, err);
}

/* Commit the write transaction. */
int
lt_store_commit(struct lt_store *st, struct lt_err *err)
{
	st->txn_gen++;
	return step_done(st, LT_ST_COMMIT, err);
}

/* Roll back the write transaction, if one is open. */
void
lt_store_rollback(struct lt_store *st)
{
	if (st == NULL)
		return;
	st->txn_gen++;
	st->rb_gen++;
	if (sqlite3_get_autocommit(st->db))
		return;
	step_done(st, LT_ST_ROLLBACK, NULL);
}
