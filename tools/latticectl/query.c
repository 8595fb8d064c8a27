/*
 * query.c - the database side of latticectl: open read-only, check, query.
 *
 * The only latticectl file that includes <sqlite3.h>.  Each command has one
 * fixed statement; filters are bound parameters and a filter that was not
 * given binds NULL, which its "(:x IS NULL OR ...)" term ignores, so no SQL
 * is ever built from user input.  The connection is SQLITE_OPEN_READONLY
 * with query_only on: latticectl never writes.
 */
#include <sys/stat.h>

#include <unistd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ctl.h"

#ifndef LATTICECTL_SCHEMA_MAX
#error "LATTICECTL_SCHEMA_MAX must be defined by the build"
#endif

/* --host: a prefix of the host id or of the host's friendly name. */
#define HOST_MATCH(tbl)							\
	"(:host IS NULL OR substr(" tbl ".host_id, 1, length(:host)) = :host" \
	" OR EXISTS (SELECT 1 FROM hosts hm WHERE hm.lattice = " tbl	\
	".lattice AND hm.host_id = " tbl ".host_id AND"			\
	" substr(hm.friendly_name, 1, length(:host)) = :host))"
#define HOST_STATUS(tbl)						\
	"(:status IS NULL OR EXISTS (SELECT 1 FROM hosts h WHERE "	\
	"h.lattice = " tbl ".lattice AND h.host_id = " tbl ".host_id "	\
	"AND h.status = :status))"
/* The friendly name of a row's host, for tables (not in --json). */
#define HOST_NAME(tbl)							\
	"(SELECT friendly_name FROM hosts hn WHERE hn.lattice = " tbl	\
	".lattice AND hn.host_id = " tbl ".host_id) AS host_name"

#define T	CTL_COL_TABLE
#define HOSTNAME_COL(n)							\
	{ "host_name", T | CTL_COL_NOJSON | CTL_COL_SHRINK, "HOST", n }

/* The hosts columns of schema versions 1-3, in table order. */
#define HOST_COLS_V3							\
	{ "lattice", T, NULL, 1 }, \
	{ "host_id", T | CTL_COL_ID, NULL, 3 }, \
	{ "status", T | CTL_COL_STATE, NULL, 4 }, \
	{ "friendly_name", T | CTL_COL_SHRINK, "NAME", 2 }, \
	{ "version", T, NULL, 7 }, \
	{ "labels", T | CTL_COL_JSON, NULL, 8 }, \
	{ "uptime_seconds", 0, NULL, 0 }, \
	{ "stop_reason", 0, NULL, 0 }, \
	{ "first_seen_ms", T | CTL_COL_AGE, "AGE", 6 }, \
	{ "last_seen_ms", 0, NULL, 0 }, \
	{ "last_heartbeat_ms", T | CTL_COL_AGE | CTL_COL_CHURN, "SILENT", 5 }, \
	{ "heartbeat_interval_ms", 0, NULL, 0 }, \
	{ "status_changed_ms", 0, NULL, 0 }, \
	{ "state_ms", 0, NULL, 0 }, \
	{ "inventory_hash", 0, NULL, 0 }, \
	{ "first_seen_at", 0, NULL, 0 }, \
	{ "last_seen_at", 0, NULL, 0 }, \
	{ "last_heartbeat_at", 0, NULL, 0 }, \
	{ "status_changed_at", 0, NULL, 0 }

static const struct ctl_col host_cols[] = { HOST_COLS_V3 };

/* hosts from schema version 4 on: the same, then the wasmCloud 2 columns
   in table order; GENERATION is shown in tables, last. */
static const struct ctl_col host_cols_v4[] = {
	HOST_COLS_V3,
	{ "generation", T, NULL, 9 },
	{ "hostname", 0, NULL, 0 },
	{ "environment", 0, NULL, 0 },
	{ "started_ms", 0, NULL, 0 },
	{ "os_name", 0, NULL, 0 },
	{ "os_arch", 0, NULL, 0 },
	{ "os_kernel", 0, NULL, 0 },
	{ "cpu_usage", CTL_COL_CHURN, NULL, 0 },
	{ "memory_total", 0, NULL, 0 },
	{ "memory_free", CTL_COL_CHURN, NULL, 0 },
	{ "component_count", 0, NULL, 0 },
	{ "workload_count", 0, NULL, 0 },
	{ "http_port", 0, NULL, 0 },
	{ "imports", CTL_COL_JSON, NULL, 0 },
	{ "exports", CTL_COL_JSON, NULL, 0 },
	{ "started_at", 0, NULL, 0 },
};

static const struct ctl_col component_cols[] = {
	{ "lattice", T, NULL, 1 },
	{ "host_id", T | CTL_COL_ID, NULL, 4 },
	{ "component_id", T | CTL_COL_ID, NULL, 2 },
	{ "image_ref", T | CTL_COL_SHRINK, NULL, 5 },
	{ "name", 0, NULL, 0 },
	{ "max_instances", T, "MAX", 6 },
	{ "revision", 0, NULL, 0 },
	{ "annotations", CTL_COL_JSON, NULL, 0 },
	{ "updated_ms", T | CTL_COL_AGE, "UPDATED", 7 },
	{ "updated_at", 0, NULL, 0 },
	HOSTNAME_COL(3),
};

static const struct ctl_col provider_cols[] = {
	{ "lattice", T, NULL, 1 },
	{ "host_id", T | CTL_COL_ID, NULL, 5 },
	{ "provider_id", T | CTL_COL_ID, NULL, 2 },
	{ "link_name", T, NULL, 3 },
	{ "image_ref", T | CTL_COL_SHRINK, NULL, 6 },
	{ "name", 0, NULL, 0 },
	{ "contract_id", 0, NULL, 0 },
	{ "revision", 0, NULL, 0 },
	{ "annotations", CTL_COL_JSON, NULL, 0 },
	{ "health", T | CTL_COL_STATE, NULL, 7 },
	{ "health_checked_ms", 0, NULL, 0 },
	{ "updated_ms", T | CTL_COL_AGE, "UPDATED", 8 },
	{ "health_checked_at", 0, NULL, 0 },
	{ "updated_at", 0, NULL, 0 },
	HOSTNAME_COL(4),
};

static const struct ctl_col link_cols[] = {
	{ "lattice", T, NULL, 1 },
	{ "source_id", T | CTL_COL_ID, NULL, 2 },
	{ "name", T, NULL, 3 },
	{ "wit_namespace", T, "NAMESPACE", 4 },
	{ "wit_package", T, "PACKAGE", 5 },
	{ "target", T | CTL_COL_ID, NULL, 6 },
	{ "interfaces", T | CTL_COL_JSON, NULL, 7 },
	{ "source_config", CTL_COL_JSON, NULL, 0 },
	{ "target_config", CTL_COL_JSON, NULL, 0 },
	{ "legacy_values", CTL_COL_JSON, NULL, 0 },
	{ "updated_ms", T | CTL_COL_AGE, "UPDATED", 8 },
	{ "updated_at", 0, NULL, 0 },
};

static const struct ctl_col config_cols[] = {
	{ "lattice", T, NULL, 1 },
	{ "config_name", T | CTL_COL_ID, NULL, 2 },
	{ "legacy_keys", T | CTL_COL_JSON, NULL, 3 },
	{ "updated_ms", T | CTL_COL_AGE, "UPDATED", 4 },
	{ "updated_at", 0, NULL, 0 },
};

static const struct ctl_col alert_cols[] = {
	{ "alert_id", T, "ID", 1 },
	{ "lattice", T, NULL, 2 },
	{ "kind", T, NULL, 3 },
	{ "severity", T | CTL_COL_STATE, NULL, 4 },
	{ "entity", T | CTL_COL_ID, NULL, 5 },
	{ "host_id", 0, NULL, 0 },
	{ "summary", T | CTL_COL_SHRINK, NULL, 7 },
	{ "details", CTL_COL_JSON, NULL, 0 },
	{ "fired_ms", T | CTL_COL_AGE, "AGE", 8 },
	{ "resolved_ms", T | CTL_COL_AGE, "RESOLVED", 9 },
	{ "fired_at", 0, NULL, 0 },
	{ "resolved_at", 0, NULL, 0 },
	HOSTNAME_COL(6),
};

static const struct ctl_col event_cols[] = {
	{ "seq", T, NULL, 1 },
	{ "lattice", T, NULL, 3 },
	{ "subject", 0, NULL, 0 },
	{ "type", T | CTL_COL_TYPE, NULL, 4 },
	{ "source", 0, NULL, 0 },
	{ "id", 0, NULL, 0 },
	{ "host_id", T | CTL_COL_ID, NULL, 6 },
	{ "time_ms", 0, NULL, 0 },
	{ "time_raw", 0, NULL, 0 },
	{ "received_ms", T | CTL_COL_AGE, "AGE", 2 },
	{ "outcome", T | CTL_COL_STATE, NULL, 7 },
	{ "data", CTL_COL_JSON, NULL, 0 },
	{ "time_at", 0, NULL, 0 },
	{ "received_at", 0, NULL, 0 },
	HOSTNAME_COL(5),
};
#undef T

#define NCOLS(a)	(sizeof(a) / sizeof((a)[0]))

#define HOSTS_WHERE							\
	" WHERE (:lattice IS NULL OR lattice = :lattice)"		\
	" AND " HOST_MATCH("x")						\
	" AND (:status IS NULL OR status = :status)"			\
	" AND (:since IS NULL OR last_seen_ms >= :since)"		\
	" ORDER BY lattice, friendly_name IS NULL, friendly_name, host_id" \
	" LIMIT :limit"

/* The statement table: one fixed statement per command.  Rows come
   sorted by lattice, then name (alerts: newest first; events: by seq). */
static const struct cmd {
	const char		*name;
	int			 filters;
	const struct ctl_col	*cols;
	size_t			 ncols;
	const char		*sql;
} cmds[] = {
	{ "hosts", CTL_F_LATTICE | CTL_F_HOST | CTL_F_STATUS | CTL_F_SINCE |
	    CTL_F_LIMIT, host_cols, NCOLS(host_cols),
	    "SELECT lattice, host_id, status, friendly_name, version, labels,"
	    " uptime_seconds, stop_reason, first_seen_ms, last_seen_ms,"
	    " last_heartbeat_ms, heartbeat_interval_ms, status_changed_ms,"
	    " state_ms, inventory_hash, first_seen_at, last_seen_at,"
	    " last_heartbeat_at, status_changed_at FROM hosts x" HOSTS_WHERE },
	{ "components", CTL_F_LATTICE | CTL_F_HOST | CTL_F_STATUS |
	    CTL_F_SINCE | CTL_F_LIMIT, component_cols, NCOLS(component_cols),
	    "SELECT lattice, host_id, component_id, image_ref, name,"
	    " max_instances, revision, annotations, updated_ms, updated_at, "
	    HOST_NAME("c") " FROM components c"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND " HOST_MATCH("c") " AND " HOST_STATUS("c")
	    " AND (:since IS NULL OR updated_ms >= :since)"
	    " ORDER BY lattice, component_id, host_name, host_id LIMIT :limit" },
	{ "providers", CTL_F_LATTICE | CTL_F_HOST | CTL_F_STATUS |
	    CTL_F_SINCE | CTL_F_LIMIT, provider_cols, NCOLS(provider_cols),
	    "SELECT lattice, host_id, provider_id, link_name, image_ref, name,"
	    " contract_id, revision, annotations, health, health_checked_ms,"
	    " updated_ms, health_checked_at, updated_at, " HOST_NAME("p")
	    " FROM providers p"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND " HOST_MATCH("p") " AND " HOST_STATUS("p")
	    " AND (:since IS NULL OR updated_ms >= :since)"
	    " ORDER BY lattice, provider_id, link_name, host_name, host_id"
	    " LIMIT :limit" },
	{ "links", CTL_F_LATTICE | CTL_F_SINCE | CTL_F_LIMIT, link_cols,
	    NCOLS(link_cols),
	    "SELECT lattice, source_id, name, wit_namespace, wit_package,"
	    " target, interfaces, source_config, target_config,"
	    " legacy_values, updated_ms, updated_at FROM links"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND (:since IS NULL OR updated_ms >= :since)"
	    " ORDER BY lattice, source_id, name, wit_namespace, wit_package"
	    " LIMIT :limit" },
	{ "configs", CTL_F_LATTICE | CTL_F_SINCE | CTL_F_LIMIT, config_cols,
	    NCOLS(config_cols),
	    "SELECT lattice, config_name, legacy_keys, updated_ms, updated_at"
	    " FROM configs"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND (:since IS NULL OR updated_ms >= :since)"
	    " ORDER BY lattice, config_name LIMIT :limit" },
	{ "alerts", CTL_F_LATTICE | CTL_F_HOST | CTL_F_SINCE | CTL_F_ALL |
	    CTL_F_LIMIT, alert_cols, NCOLS(alert_cols),
	    "SELECT alert_id, lattice, kind, severity, entity, host_id,"
	    " summary, details, fired_ms, resolved_ms, fired_at, resolved_at, "
	    HOST_NAME("a") " FROM alerts a"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND (:host IS NULL OR (host_id IS NOT NULL AND " HOST_MATCH("a")
	    "))"
	    " AND (:all OR resolved_ms IS NULL)"
	    " AND (:since IS NULL OR fired_ms >= :since)"
	    " ORDER BY lattice, fired_ms DESC, alert_id DESC LIMIT :limit" },
	/* data is the event's data member exactly as received (JSON text);
	   the JSON printer nests it when it is valid JSON. */
	{ "events", CTL_F_LATTICE | CTL_F_HOST | CTL_F_SINCE | CTL_F_TYPE |
	    CTL_F_LIMIT, event_cols, NCOLS(event_cols),
	    "SELECT seq, lattice, subject, type, source, id, host_id, time_ms,"
	    " time_raw, received_ms, outcome, data,"
	    " time_at, received_at, " HOST_NAME("e") " FROM events e"
	    " WHERE (:lattice IS NULL OR lattice = :lattice)"
	    " AND (:host IS NULL OR (host_id IS NOT NULL AND " HOST_MATCH("e")
	    "))"
	    " AND (:type IS NULL OR type = :type"
	    " OR type = 'com.wasmcloud.lattice.' || :type)"
	    " AND (:since IS NULL OR received_ms >= :since)"
	    " AND (:after IS NULL OR seq > :after)"
	    " ORDER BY CASE WHEN :asc THEN seq END, seq DESC LIMIT :limit" },
};

/* hosts on a schema version 4 database (wasmCloud 2 columns). */
static const struct cmd hosts_v4 = {
	"hosts", CTL_F_LATTICE | CTL_F_HOST | CTL_F_STATUS | CTL_F_SINCE |
	    CTL_F_LIMIT, host_cols_v4, NCOLS(host_cols_v4),
	"SELECT lattice, host_id, status, friendly_name, version, labels,"
	" uptime_seconds, stop_reason, first_seen_ms, last_seen_ms,"
	" last_heartbeat_ms, heartbeat_interval_ms, status_changed_ms,"
	" state_ms, inventory_hash, first_seen_at, last_seen_at,"
	" last_heartbeat_at, status_changed_at, generation, hostname,"
	" environment, started_ms, os_name, os_arch, os_kernel, cpu_usage,"
	" memory_total, memory_free, component_count, workload_count,"
	" http_port, imports, exports, started_at FROM hosts x" HOSTS_WHERE
};

#define NCMDS	NCOLS(cmds)

struct ctl_db {
	sqlite3		*db;
	sqlite3_stmt	*stmt;		/* the command's statement */
	sqlite3_stmt	*version;	/* PRAGMA data_version */
	const struct cmd *cmd;
	char		*path;
	int		 busy_ms;
};

/* Look a command up by name. */
int
ctl_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Name command i. */
const char *
ctl_cmd_name(int cmd)
{
	return cmds[cmd].name;
}

/* Say which filters command i takes. */
int
ctl_cmd_filters(int cmd)
{
	return cmds[cmd].filters;
}

/* Report an SQLite failure on path in one line; returns CTL_EXIT_DB. */
static int
dberr(const struct ctl_db *d, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		fprintf(stderr, "latticectl: %s: database is locked "
		    "(still busy after %d ms; is a writer holding an "
		    "exclusive lock?)\n", d->path, d->busy_ms);
		break;
	case SQLITE_NOTADB:
		fprintf(stderr, "latticectl: %s: not a latticed database "
		    "(not an SQLite file)\n", d->path);
		break;
	default:
		fprintf(stderr, "latticectl: %s: %s: %s\n", d->path, what,
		    d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
		break;
	}
	return CTL_EXIT_DB;
}

/* Run a one-integer query (a pragma or a count). */
static int
scalar(struct ctl_db *d, const char *sql, int64_t *v)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		goto fail;
	*v = sqlite3_column_int64(st, 0);
	rc = SQLITE_OK;
fail:
	sqlite3_finalize(st);
	return rc;
}

/* Open, check and prepare the database for command cmd. */
int
ctl_db_open(const char *path, int busy_ms, int cmd, struct ctl_db **out)
{
	struct ctl_db	*d;
	struct stat	 sb;
	int64_t		 uv = 0, ntab = 0;
	int		 rc, ret = CTL_EXIT_DB;

	*out = NULL;
	/* SQLITE_OPEN_READONLY never creates, but say clearly why. */
	if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
		if (errno == EACCES)
			fprintf(stderr, "latticectl: %s: permission denied; "
			    "the database is readable by group latticed: "
			    "join it (sudo usermod -aG latticed $USER, then "
			    "log in again)\n", path);
		else
			fprintf(stderr, "latticectl: %s: %s (set --db or "
			    "LATTICED_DB)\n", path, errno == ENOENT ?
			    "no such database" : strerror(errno));
		return CTL_EXIT_DB;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "latticectl: %s: not a regular file\n", path);
		return CTL_EXIT_DB;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		fputs("latticectl: out of memory\n", stderr);
		free(d);
		return CTL_EXIT_DB;
	}
	d->busy_ms = busy_ms;
	d->cmd = &cmds[cmd];
	rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		ret = dberr(d, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(d->db, busy_ms);
	sqlite3_exec(d->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if ((rc = scalar(d, "PRAGMA user_version", &uv)) != SQLITE_OK) {
		ret = dberr(d, rc, "cannot read schema version");
		goto fail;
	}
	if (uv > LATTICECTL_SCHEMA_MAX) {
		fprintf(stderr, "latticectl: %s: schema version %lld is newer "
		    "than this latticectl understands (%d); upgrade "
		    "latticectl\n", path, (long long)uv, LATTICECTL_SCHEMA_MAX);
		goto fail;
	}
	/* Tables up to schema version 4, views over latticed_* from 5. */
	rc = scalar(d, "SELECT count(*) FROM sqlite_master WHERE type IN "
	    "('table', 'view') AND name IN ('hosts', 'events')", &ntab);
	if (rc != SQLITE_OK) {
		ret = dberr(d, rc, "cannot read schema");
		goto fail;
	}
	if (ntab != 2) {
		fprintf(stderr, "latticectl: %s: not a latticed database "
		    "(no hosts/events tables)\n", path);
		goto fail;
	}
	if (uv >= 4 && strcmp(d->cmd->name, "hosts") == 0)
		d->cmd = &hosts_v4;
	rc = sqlite3_prepare_v3(d->db, d->cmd->sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &d->stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v3(d->db, "PRAGMA data_version", -1,
		    SQLITE_PREPARE_PERSISTENT, &d->version, NULL);
	if (rc != SQLITE_OK) {
		ret = dberr(d, rc, "unexpected schema");
		goto fail;
	}
	if ((size_t)sqlite3_column_count(d->stmt) != d->cmd->ncols) {
		fprintf(stderr, "latticectl: internal error: column table "
		    "for %s does not match its statement\n", d->cmd->name);
		goto fail;
	}
	*out = d;
	return CTL_EXIT_OK;
fail:
	ctl_db_close(d);
	return ret;
}

/* Finalize and close. */
void
ctl_db_close(struct ctl_db *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->stmt);
	sqlite3_finalize(d->version);
	sqlite3_close(d->db);
	free(d->path);
	free(d);
}

/* Bind text v (or NULL) to the named parameter, if the statement has it. */
static int
bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	int	 i;

	if ((i = sqlite3_bind_parameter_index(st, name)) == 0)
		return SQLITE_OK;
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Bind integer v (NULL when v < 0) to the named parameter. */
static int
bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int	 i;

	if ((i = sqlite3_bind_parameter_index(st, name)) == 0)
		return SQLITE_OK;
	if (v < 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, v);
}

/* Append the current row of st to rows. */
static int
add_row(sqlite3_stmt *st, struct ctl_rows *rows)
{
	struct ctl_cell	*c, *n;
	size_t		 i, cap;
	const char	*t;

	if (rows->nrows == rows->cap) {
		cap = rows->cap ? rows->cap * 2 : 16;
		n = reallocarray(rows->cells, cap * rows->ncols, sizeof(*n));
		if (n == NULL)
			return -1;
		rows->cells = n;
		rows->cap = cap;
	}
	c = &rows->cells[rows->nrows * rows->ncols];
	memset(c, 0, rows->ncols * sizeof(*c));
	rows->nrows++;
	for (i = 0; i < rows->ncols; i++) {
		switch (sqlite3_column_type(st, (int)i)) {
		case SQLITE_NULL:
			c[i].type = CTL_NULL;
			continue;
		case SQLITE_INTEGER:
			c[i].type = CTL_INT;
			break;
		case SQLITE_FLOAT:
			c[i].type = CTL_REAL;
			break;
		default:	/* text; a blob is shown as its bytes */
			c[i].type = CTL_TEXT;
			break;
		}
		t = (const char *)sqlite3_column_blob(st, (int)i);
		c[i].len = (size_t)sqlite3_column_bytes(st, (int)i);
		if ((c[i].text = malloc(c[i].len + 1)) == NULL)
			return -1;
		if (c[i].len)
			memcpy(c[i].text, t, c[i].len);
		c[i].text[c[i].len] = '\0';
	}
	return 0;
}

/* Run the command's statement into rows. */
int
ctl_db_query(struct ctl_db *d, const struct ctl_filter *f,
    struct ctl_rows *rows, int *busy)
{
	sqlite3_stmt	*st = d->stmt;
	int		 rc, ret = CTL_EXIT_DB;

	*busy = 0;
	ctl_rows_clear(rows);
	rows->cols = d->cmd->cols;
	rows->ncols = d->cmd->ncols;
	if ((rc = bind_text(st, ":lattice", f->lattice)) != SQLITE_OK ||
	    (rc = bind_text(st, ":host", f->host)) != SQLITE_OK ||
	    (rc = bind_text(st, ":status", f->status)) != SQLITE_OK ||
	    (rc = bind_text(st, ":type", f->type)) != SQLITE_OK ||
	    (rc = bind_int(st, ":since", f->since_ms)) != SQLITE_OK ||
	    (rc = bind_int(st, ":all", f->all)) != SQLITE_OK ||
	    (rc = bind_int(st, ":after", f->after_seq)) != SQLITE_OK ||
	    (rc = bind_int(st, ":asc", f->ascending)) != SQLITE_OK) {
		ret = dberr(d, rc, "cannot bind");
		goto fail;
	}
	/* LIMIT -1 is "no limit" in SQLite. */
	rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st,
	    ":limit"), f->limit);
	if (rc != SQLITE_OK) {
		ret = dberr(d, rc, "cannot bind");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (add_row(st, rows) == -1) {
			fputs("latticectl: out of memory\n", stderr);
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		*busy = (rc & 0xff) == SQLITE_BUSY;
		ret = dberr(d, rc, "query failed");
		goto fail;
	}
	ret = CTL_EXIT_OK;
fail:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

/* Run sql with text parameter ?1 = v; *yes when it returns a row whose
   first column is non-zero.  Copies that column's text into buf when
   given. */
static int
probe(struct ctl_db *d, const char *sql, const char *v, int *yes, char *buf,
    size_t len)
{
	sqlite3_stmt	*st = NULL;
	const char	*t;
	int		 rc;

	*yes = 0;
	if ((rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC)) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*yes = sqlite3_column_int(st, 0) != 0;
		if (buf != NULL) {
			t = (const char *)sqlite3_column_text(st, 0);
			snprintf(buf, len, "%s", t != NULL ? t : "");
		}
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
fail:
	sqlite3_finalize(st);
	return rc;
}

/* Tell whether the database knows lattice and type (NULL: not asked). */
int
ctl_db_known(struct ctl_db *d, const char *lattice, const char *type)
{
	char	known[512];
	int	yes, rc;

	if (lattice != NULL) {
		rc = probe(d, "SELECT EXISTS (SELECT 1 FROM hosts WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM events WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM links WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM configs WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM alerts WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM components WHERE"
		    " lattice = ?1) OR EXISTS (SELECT 1 FROM providers WHERE"
		    " lattice = ?1)", lattice, &yes, NULL, 0);
		if (rc != SQLITE_OK)
			return dberr(d, rc, "query failed");
		if (!yes) {
			/* the small tables only: events may be huge */
			rc = probe(d, "SELECT group_concat(l, ', ') FROM"
			    " (SELECT lattice AS l FROM hosts UNION SELECT"
			    " lattice FROM links UNION SELECT lattice FROM"
			    " configs UNION SELECT lattice FROM alerts"
			    " WHERE ?1 IS NOT NULL ORDER BY 1 LIMIT 20)",
			    lattice, &yes, known, sizeof(known));
			if (rc != SQLITE_OK || known[0] == '\0')
				snprintf(known, sizeof(known), "none");
			fprintf(stderr, "latticectl: %s: no lattice \"%s\" in "
			    "this database (known: %s)\n", d->path, lattice,
			    known);
			return CTL_EXIT_DB;
		}
	}
	if (type != NULL) {
		rc = probe(d, "SELECT EXISTS (SELECT 1 FROM events WHERE"
		    " type = ?1 OR type = 'com.wasmcloud.lattice.' || ?1)",
		    type, &yes, NULL, 0);
		if (rc != SQLITE_OK)
			return dberr(d, rc, "query failed");
		if (!yes) {
			fprintf(stderr, "latticectl: %s: no events of type "
			    "\"%s\" in this database (a full type such as "
			    "com.wasmcloud.lattice.host_heartbeat, or its "
			    "last part, host_heartbeat)\n", d->path, type);
			return CTL_EXIT_DB;
		}
	}
	return CTL_EXIT_OK;
}

/* Stamp the database's state so a poll can tell it changed. */
int
ctl_db_stamp(struct ctl_db *d, uint64_t *stamp)
{
	struct stat	 sb;
	char		 wal[4096];
	uint64_t	 h = 1469598103934665603ULL;
	int		 rc;

	rc = sqlite3_step(d->version);
	if (rc == SQLITE_ROW)
		h = (h ^ (uint64_t)sqlite3_column_int64(d->version, 0)) *
		    1099511628211ULL;
	sqlite3_reset(d->version);
	if (rc != SQLITE_ROW)
		return -1;
	if (stat(d->path, &sb) == 0)
		h = ((h ^ (uint64_t)sb.st_size) * 1099511628211ULL ^
		    (uint64_t)sb.st_mtim.tv_nsec ^
		    (uint64_t)sb.st_mtim.tv_sec << 20) * 1099511628211ULL;
	snprintf(wal, sizeof(wal), "%s-wal", d->path);
	if (stat(wal, &sb) == 0)
		h = ((h ^ (uint64_t)sb.st_size) * 1099511628211ULL ^
		    (uint64_t)sb.st_mtim.tv_nsec ^
		    (uint64_t)sb.st_mtim.tv_sec << 20) * 1099511628211ULL;
	*stamp = h;
	return 0;
}

/* Free the cells of rows. */
void
ctl_rows_clear(struct ctl_rows *rows)
{
	size_t	 i;

	for (i = 0; i < rows->nrows * rows->ncols; i++)
		free(rows->cells[i].text);
	rows->nrows = 0;
}
