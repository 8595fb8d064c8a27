/*
 * check_store.c - lt_store_open: file mode, pragmas, migrations, refusals,
 * the statement table.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "migrations.h"
#include "store.h"
#include "store_int.h"

static char tmpdir[64];
static char dbpath[128];

/* Make a fresh temporary directory per test. */
static void
setup(void)
{
	strcpy(tmpdir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/l.db", tmpdir);
}

/* Remove the temporary directory. */
static void
teardown(void)
{
	char p[160];

	snprintf(p, sizeof(p), "rm -rf '%s'", tmpdir);
	/* best effort: a leftover temporary directory is harmless */
	if (system(p) != 0)
		fprintf(stderr, "teardown: could not remove %s\n", tmpdir);
}

/* Read one integer with raw SQLite. */
static long long
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Read one text value into buf with raw SQLite. */
static const char *
q_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s;

	buf[0] = '\0';
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

START_TEST(test_create_mode_and_pragmas)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	struct stat sb;
	mode_t old;
	char buf[32];

	old = umask(0);		/* a permissive umask must not widen it */
	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_OK);
	umask(old);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	ck_assert_str_eq(q_text(st->db, "PRAGMA journal_mode", buf,
	    sizeof(buf)), "wal");
	ck_assert_int_eq(q_int(st->db, "PRAGMA synchronous"), 1);
	ck_assert_int_eq(q_int(st->db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(q_int(st->db, "PRAGMA secure_delete"), 2); /* FAST */
	ck_assert_int_eq(q_int(st->db, "PRAGMA wal_autocheckpoint"), 2048);
	ck_assert_int_eq(q_int(st->db, "PRAGMA user_version"),
	    lt_store_schema_version());
	ck_assert_int_eq(lt_store_schema_version(),
	    lt_migrations[lt_nmigrations - 1].version);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('hosts','components','providers','links',"
	    "'configs','events','rejected_events','alerts')"), 8);
	lt_store_close(st);
}
END_TEST

/* The duplicate check runs on the (id, source) index (migration 003). */
START_TEST(test_duplicate_index)
{
	struct lt_store *st = NULL;
	sqlite3_stmt *s;
	char buf[64], sql[256], plan[512] = "";

	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_str_eq(q_text(st->db, "SELECT group_concat(name, ',') FROM "
	    "(SELECT name FROM pragma_index_info('events_id_source') "
	    "ORDER BY seqno)", buf, sizeof(buf)), "id,source");
	ck_assert_int_eq(q_int(st->db, "SELECT \"unique\" FROM "
	    "pragma_index_list('latticed_events')"
	    " WHERE name = 'events_id_source'"), 1);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'events_source_id'"), 0);
	/* the statement the fold runs finds duplicates through it */
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
	    lt_store_sql[LT_ST_EVENT_EXISTS]);
	ck_assert_int_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL),
	    SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		strncat(plan, (const char *)sqlite3_column_text(s, 3),
		    sizeof(plan) - strlen(plan) - 1);
	sqlite3_finalize(s);
	ck_assert_ptr_nonnull(strstr(plan, "USING COVERING INDEX "
	    "events_id_source"));
	lt_store_close(st);
}
END_TEST

START_TEST(test_umask_strict)
{
	struct lt_store *st = NULL;
	struct stat sb;
	mode_t old;

	old = umask(077);	/* fchmod gives 0640 regardless */
	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	umask(old);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);
	lt_store_close(st);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	struct lt_store *st = NULL;

	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(sqlite3_exec(st->db, "INSERT INTO latticed_configs"
	    " VALUES ('l','c',NULL,1)", NULL, NULL, NULL), SQLITE_OK);
	lt_store_close(st);
	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM configs"), 1);
	lt_store_close(st);
	/* and read-only */
	ck_assert_int_eq(lt_store_open_readonly(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM configs"), 1);
	ck_assert_int_ne(sqlite3_exec(st->db, "DELETE FROM latticed_configs",
	    NULL, NULL, NULL), SQLITE_OK);
	lt_store_close(st);
}
END_TEST

START_TEST(test_every_statement_prepares)
{
	struct lt_store *st = NULL;
	sqlite3_stmt *tab[LT_ST_COUNT];
	size_t i;

	ck_assert_int_eq(lt_store_open(":memory:", &st, NULL), LT_OK);
	for (i = 0; i < LT_ST_COUNT; i++) {
		ck_assert_msg(lt_store_sql[i] != NULL, "statement %zu", i);
		ck_assert_ptr_nonnull(st->stmt[i]);
	}
	/* the many-row insert spells out the rows fold.c binds */
	ck_assert_int_eq(sqlite3_bind_parameter_count(
	    st->stmt[LT_ST_COMP_INSERT_MANY]), 3 + LT_COMP_MANY *
	    LT_COMP_MANY_COLS);
	/* Explicitly, once more, through the helper later modules use. */
	ck_assert_int_eq(lt_store_prepare_table(st, lt_store_sql,
	    LT_ST_COUNT, tab, NULL), LT_OK);
	for (i = 0; i < LT_ST_COUNT; i++)
		ck_assert_ptr_nonnull(tab[i]);
	lt_store_finalize_table(tab, LT_ST_COUNT);
	for (i = 0; i < LT_ST_COUNT; i++)
		ck_assert_ptr_null(tab[i]);
	lt_store_close(st);
}
END_TEST

START_TEST(test_transactions)
{
	struct lt_store *st = NULL;
	struct lt_err err;

	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(lt_store_begin(st, &err), LT_OK);
	sqlite3_exec(st->db, "INSERT INTO latticed_configs"
	    " VALUES ('l','a',NULL,1)",
	    NULL, NULL, NULL);
	lt_store_rollback(st);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM configs"), 0);
	ck_assert_int_eq(lt_store_begin(st, &err), LT_OK);
	sqlite3_exec(st->db, "INSERT INTO latticed_configs"
	    " VALUES ('l','a',NULL,1)",
	    NULL, NULL, NULL);
	ck_assert_int_eq(lt_store_commit(st, &err), LT_OK);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM configs"), 1);
	/* commit without begin is a store error, not a crash */
	ck_assert_int_eq(lt_store_commit(st, &err), LT_ESTORE);
	ck_assert_int_eq(err.code, LT_ESTORE);
	lt_store_rollback(st);	/* no transaction: harmless */
	lt_store_close(st);
	lt_store_close(NULL);
}
END_TEST

/* Create a raw SQLite file with sql in it. */
static void
raw_file(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A version 2 file with history: migration 003 swaps the duplicate index
   and keeps every row; duplicates are still refused afterwards. */
START_TEST(test_migrate_duplicate_index)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	sqlite3 *db;
	char buf[16];
	int i;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	for (i = 0; i < lt_nmigrations && lt_migrations[i].version <= 2; i++)
		ck_assert_int_eq(sqlite3_exec(db, lt_migrations[i].sql, NULL,
		    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 2;"
	    "INSERT INTO events (lattice, subject, type, source, id, time_ms,"
	    " received_ms, outcome) VALUES"
	    " ('d', 's', 't', 'h1', 'e1', 1, 1, 'applied'),"
	    " ('d', 's', 't', 'h2', 'e1', 2, 2, 'applied'),"
	    " ('d', 's', 't', 'h1', 'e2', 3, 3, 'applied')", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'events_source_id'"), 1);
	sqlite3_close(db);

	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_OK);
	ck_assert_int_eq(q_int(st->db, "PRAGMA user_version"),
	    lt_store_schema_version());
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM events"), 3);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'events_source_id'"), 0);
	ck_assert_int_eq(q_int(st->db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'events_id_source'"), 1);
	/* same (source, id): refused; same id from another source: fine */
	ck_assert_int_eq(sqlite3_exec(st->db, "INSERT INTO latticed_events"
	    " (lattice, subject, type, source, id, time_ms, received_ms,"
	    " outcome) VALUES"
	    " ('d', 's', 't', 'h2', 'e1', 4, 4, 'applied')", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT_UNIQUE);
	ck_assert_int_eq(sqlite3_exec(st->db, "INSERT INTO latticed_events"
	    " (lattice, subject, type, source, id, time_ms, received_ms,"
	    " outcome) VALUES"
	    " ('d', 's', 't', 'h3', 'e1', 4, 4, 'applied')", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_str_eq(q_text(st->db, "PRAGMA integrity_check", buf,
	    sizeof(buf)), "ok");
	lt_store_close(st);
}
END_TEST

/* lt_store_file_version(): reads a file's version and size, changes
   nothing, and says 0 for a new database. */
/* The tables latticed reads and writes as views from version 5 on. */
static const char *const public_names[] = {
	"hosts", "components", "providers", "links", "configs", "events",
	"rejected_events", "alerts", "active_alerts",
};
#define NPUBLIC	(sizeof(public_names) / sizeof(public_names[0]))

/*
 * The columns of a table or view, in order, with their declared types;
 * a *_at column's type is left out (TEXT on a generated column, none on
 * a view's expression).
 */
static const char *
columns(sqlite3 *db, const char *name, char *buf, size_t len)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT group_concat(name || ' ' ||"
	    " CASE WHEN name LIKE '%%\\_at' ESCAPE '\\' THEN '' ELSE type"
	    " END, ',') FROM (SELECT name, type FROM pragma_table_xinfo('%s')"
	    " ORDER BY cid)", name);
	return q_text(db, sql, buf, len);
}

/* Every row of a table or view, every column quoted, in a stable order. */
static const char *
dump(sqlite3 *db, const char *name, char *buf, size_t len)
{
	char cols[1024], sql[2048];

	q_text(db, "SELECT 1", cols, sizeof(cols));	/* clears cols */
	snprintf(sql, sizeof(sql), "SELECT group_concat('quote(\"' || name"
	    " || '\")', '||'',''||') FROM pragma_table_xinfo('%s')", name);
	q_text(db, sql, cols, sizeof(cols));
	ck_assert_int_gt(strlen(cols), 0);
	snprintf(sql, sizeof(sql), "SELECT group_concat(r, '|') FROM"
	    " (SELECT %s AS r FROM \"%s\" ORDER BY r)", cols, name);
	return q_text(db, sql, buf, len);
}

/* One row of each table of a version 4 file, the way latticed left it. */
static const char v4_rows[] =
    "INSERT INTO hosts (lattice, host_id, status, friendly_name, labels,"
    " first_seen_ms, last_seen_ms, last_heartbeat_ms, status_changed_ms,"
    " state_ms) VALUES ('l', 'NH1', 'up', 'misty', '{\"a\":\"b\"}',"
    " 1735689600000, 1735689630123, 1735689630123, 1735689600000,"
    " 1735689630123);"
    "INSERT INTO hosts (lattice, host_id, status, first_seen_ms,"
    " last_seen_ms, status_changed_ms, state_ms, generation, hostname,"
    " environment, started_ms, cpu_usage, imports, exports) VALUES"
    " ('l', 'v2-a', 'stale', 1, 2, 3, 4, 'v2', 'h', 'e', 1735689000000,"
    " 12.5, '[]', '[]');"
    "INSERT INTO components (lattice, host_id, component_id,"
    " max_instances, updated_ms) VALUES ('l', 'NH1', 'c1', 2, 5);"
    "INSERT INTO providers (lattice, host_id, provider_id, health,"
    " health_checked_ms, updated_ms) VALUES ('l', 'NH1', 'p1', 'passing',"
    " 6, 7);"
    "INSERT INTO links (lattice, source_id, name, wit_namespace,"
    " wit_package, target, updated_ms) VALUES ('l', 'c1', 'default',"
    " 'wasi', 'http', 'p1', 8);"
    "INSERT INTO configs (lattice, config_name, legacy_keys, updated_ms)"
    " VALUES ('l', 'cfg', '[\"k\"]', 9);"
    "INSERT INTO events (lattice, subject, type, source, id, host_id,"
    " time_ms, time_raw, received_ms, outcome, data) VALUES"
    " ('l', 's', 't', 'NH1', 'e1', 'NH1', 10, NULL, 11, 'applied', '{}'),"
    " ('l', 's', 't', 'NH1', 'e2', NULL, 12, 'bad', 13, 'recorded', NULL);"
    "INSERT INTO rejected_events (received_ms, lattice, subject, reason,"
    " error, field, raw, raw_size) VALUES (14, 'l', 's', 'not json',"
    " 'parse', NULL, x'7b00', 2);"
    "INSERT INTO alerts (lattice, kind, severity, entity, host_id,"
    " summary, fired_ms) VALUES ('l', 'host_stale', 'warning', 'NH1',"
    " 'NH1', 'silent', 15);"
    "INSERT INTO alerts (lattice, kind, severity, entity, host_id,"
    " summary, details, fired_ms, resolved_ms) VALUES ('l', 'host_stale',"
    " 'warning', 'NH2', 'NH2', 'silent', '{\"x\":1}', 16, 17);"
    "INSERT INTO alert_deliveries (alert_id, sink, transition,"
    " next_attempt_ms, queued_ms) VALUES (1, 'log', 'firing', 18, 18);"
    "INSERT INTO latticed_state (key, value) VALUES ('k', 1);";

/*
 * Migration 005 on a version 4 file with data: every row kept, the same
 * columns in the same order under the same names, the *_at values the
 * same, the written tables free of generated columns, foreign keys and
 * indexes carried over, an operator's UPDATE of alerts still delivered.
 */
START_TEST(test_migrate_at_views)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	sqlite3 *db;
	char before_cols[NPUBLIC][1024], before_rows[NPUBLIC][2048];
	char buf[2048], sql[512];
	size_t i;
	int m;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	for (m = 0; m < lt_nmigrations && lt_migrations[m].version <= 4; m++)
		ck_assert_int_eq(sqlite3_exec(db, lt_migrations[m].sql, NULL,
		    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 4", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, v4_rows, NULL, NULL, NULL),
	    SQLITE_OK);
	/* statistics, as PRAGMA optimize leaves them */
	ck_assert_int_eq(sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < NPUBLIC; i++) {
		columns(db, public_names[i], before_cols[i],
		    sizeof(before_cols[i]));
		dump(db, public_names[i], before_rows[i],
		    sizeof(before_rows[i]));
		ck_assert_int_gt(strlen(before_rows[i]), 0);
	}
	/* the *_at columns of version 4 are generated */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM"
	    " pragma_table_xinfo('hosts') WHERE hidden = 2"), 5);
	sqlite3_close(db);

	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_OK);
	db = st->db;
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 5);
	ck_assert_str_eq(q_text(db, "PRAGMA integrity_check", buf,
	    sizeof(buf)), "ok");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM"
	    " pragma_foreign_key_check"), 0);
	for (i = 0; i < NPUBLIC; i++) {
		snprintf(sql, sizeof(sql), "SELECT type FROM sqlite_schema"
		    " WHERE name = '%s'", public_names[i]);
		ck_assert_str_eq(q_text(db, sql, buf, sizeof(buf)), "view");
		ck_assert_str_eq(columns(db, public_names[i], buf,
		    sizeof(buf)), before_cols[i]);
		ck_assert_str_eq(dump(db, public_names[i], buf, sizeof(buf)),
		    before_rows[i]);
	}
	/* what SELECT * shows, *_at included, for one table in full */
	ck_assert_str_eq(q_text(db, "SELECT group_concat(name, ',') FROM"
	    " pragma_table_info('alerts')", buf, sizeof(buf)),
	    "alert_id,lattice,kind,severity,entity,host_id,summary,details,"
	    "fired_ms,resolved_ms,fired_at,resolved_at");
	ck_assert_str_eq(q_text(db, "SELECT resolved_at FROM alerts WHERE"
	    " alert_id = 2", buf, sizeof(buf)), "1970-01-01T00:00:00.017Z");
	ck_assert_str_eq(q_text(db, "SELECT last_seen_at FROM hosts WHERE"
	    " host_id = 'NH1'", buf, sizeof(buf)), "2025-01-01T00:00:30.123Z");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM hosts WHERE"
	    " last_heartbeat_at IS NULL"), 1);
	/* TEXT affinity as before: a number is compared as text */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM alerts WHERE"
	    " fired_at > 5"), 0);
	/* the tables latticed writes compute nothing on a write */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema s,"
	    " pragma_table_xinfo(s.name) x WHERE s.type = 'table' AND"
	    " s.name LIKE 'latticed\\_%' ESCAPE '\\' AND x.hidden <> 0"), 0);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name LIKE 'latticed\\_%' ESCAPE '\\'"),
	    9);
	/* statistics, foreign keys, indexes and triggers follow the tables */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_stat1 WHERE"
	    " tbl = 'latticed_hosts' AND idx ="
	    " 'sqlite_autoindex_latticed_hosts_1'"), 1);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_stat1 WHERE"
	    " tbl NOT LIKE 'latticed\\_%' ESCAPE '\\' AND tbl NOT LIKE"
	    " 'alert\\_%' ESCAPE '\\'"), 0);
	ck_assert_str_eq(q_text(db, "SELECT group_concat(\"table\", ',') FROM"
	    " (SELECT DISTINCT \"table\" FROM pragma_foreign_key_list("
	    "'latticed_components') UNION ALL SELECT DISTINCT \"table\" FROM"
	    " pragma_foreign_key_list('latticed_providers') UNION ALL SELECT"
	    " DISTINCT \"table\" FROM pragma_foreign_key_list("
	    "'alert_deliveries'))", buf, sizeof(buf)),
	    "latticed_hosts,latticed_hosts,latticed_alerts");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'index' AND tbl_name LIKE 'latticed\\_%' ESCAPE '\\'"
	    " AND name NOT LIKE 'sqlite_autoindex%'"), 9);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'trigger' AND tbl_name = 'latticed_alerts'"), 2);
	/* an operator resolving an alert by hand: delivered like any other */
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM alert_changes", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE alerts SET resolved_ms ="
	    " 20 WHERE alert_id = 1", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM alert_changes WHERE"
	    " alert_id = 1 AND transition = 'resolved'"), 1);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM active_alerts"), 0);
	/* a host's delete cascades to its components and providers */
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM latticed_hosts WHERE"
	    " host_id = 'NH1'", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(q_int(db, "SELECT (SELECT count(*) FROM components)"
	    " + (SELECT count(*) FROM providers)"), 0);
	lt_store_close(st);
}
END_TEST

/* The plan of a query through a view is the plan on the table. */
static const char *
plan(sqlite3 *db, const char *query, char *buf, size_t len)
{
	sqlite3_stmt *s;
	char sql[512];

	buf[0] = '\0';
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", query);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL),
	    SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		strncat(buf, (const char *)sqlite3_column_text(s, 3),
		    len - strlen(buf) - 1);
		strncat(buf, ";", len - strlen(buf) - 1);
	}
	sqlite3_finalize(s);
	return buf;
}

/* Readers' queries through the views use the tables' indexes. */
START_TEST(test_views_use_indexes)
{
	static const struct {
		const char *query, *index;
	} cases[] = {
		/* the duplicate check, by a reader */
		{ "SELECT time_at FROM events WHERE source = 'N' AND id = 'e'",
		  "USING INDEX events_id_source (id=? AND source=?)" },
		/* history of a host */
		{ "SELECT time_at, type FROM events WHERE lattice = 'l' AND"
		  " host_id = 'N' ORDER BY time_ms DESC LIMIT 20",
		  "USING INDEX events_host (lattice=? AND host_id=?)" },
		/* the last hour (retention walks the same index) */
		{ "SELECT received_at, type FROM events WHERE received_ms >"
		  " 5 ORDER BY received_ms", "USING INDEX events_received" },
		{ "SELECT received_at FROM rejected_events WHERE received_ms"
		  " > 5", "INDEX rejected_received (received_ms>?)" },
		{ "SELECT * FROM hosts WHERE status = 'stale'",
		  "USING INDEX hosts_status (status=?)" },
		{ "SELECT * FROM components WHERE component_id = 'c'",
		  "USING INDEX components_by_id (component_id=?)" },
		{ "SELECT * FROM active_alerts WHERE lattice = 'l' AND"
		  " kind = 'k' AND entity = 'e'",
		  "USING INDEX alerts_one_active" },
		{ "SELECT * FROM hosts WHERE lattice = 'l' AND host_id = 'N'",
		  "USING INDEX sqlite_autoindex_latticed_hosts_1" },
	};
	struct lt_store *st = NULL;
	char buf[1024];
	size_t i;

	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plan(st->db, cases[i].query, buf, sizeof(buf));
		if (strstr(buf, cases[i].index) == NULL)
			ck_abort_msg("%s: plan %s, want %s", cases[i].query,
			    buf, cases[i].index);
	}
	/* latticed's own retention statements, on the tables */
	plan(st->db, "DELETE FROM latticed_events WHERE seq IN (SELECT seq"
	    " FROM latticed_events WHERE received_ms < 5 ORDER BY"
	    " received_ms, seq LIMIT 10)", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "events_received"));
	lt_store_close(st);
}
END_TEST

START_TEST(test_file_version)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	struct stat sb;
	int64_t bytes;
	int v;
	FILE *fp;

	ck_assert_int_eq(lt_store_file_version(dbpath, &v, &bytes, &err),
	    LT_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(bytes, 0);
	ck_assert_int_ne(access(dbpath, F_OK), 0);	/* not created */
	ck_assert_int_eq(lt_store_file_version(":memory:", &v, &bytes, &err),
	    LT_OK);
	ck_assert_int_eq(v, 0);

	ck_assert_ptr_nonnull(fp = fopen(dbpath, "w"));	/* empty file */
	fclose(fp);
	ck_assert_int_eq(lt_store_file_version(dbpath, &v, &bytes, &err),
	    LT_OK);
	ck_assert_int_eq(v, 0);

	raw_file("CREATE TABLE t (a); PRAGMA user_version = 2");
	ck_assert_int_eq(lt_store_file_version(dbpath, &v, &bytes, &err),
	    LT_OK);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(bytes, (int64_t)sb.st_size);
	unlink(dbpath);

	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	lt_store_close(st);
	ck_assert_int_eq(lt_store_file_version(dbpath, &v, &bytes, &err),
	    LT_OK);
	ck_assert_int_eq(v, lt_store_schema_version());
	ck_assert_int_gt(bytes, 0);

	ck_assert_ptr_nonnull(fp = fopen(dbpath, "w"));	/* not SQLite */
	fputs("this is not a database, not even close, really it is not\n",
	    fp);
	fclose(fp);
	ck_assert_int_eq(lt_store_file_version(dbpath, &v, &bytes, &err),
	    LT_ESTORE);
	ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(test_refuse_newer)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    lt_store_schema_version() + 1);
	raw_file(sql);
	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_ESTORE);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err.msg, "newer"));
	ck_assert_int_eq(lt_store_open_readonly(dbpath, &st, &err),
	    LT_ESTORE);
}
END_TEST

START_TEST(test_refuse_foreign)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	sqlite3 *db;

	raw_file("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_ESTORE);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a latticed database"));
	/* it was not touched */
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 0);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_refuse_not_sqlite)
{
	struct lt_store *st = NULL;
	struct lt_err err;
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(dbpath, "w"));
	fputs("this is not a database, just some text long enough to "
	    "look like a header of a file and more and more and more\n", fp);
	fclose(fp);
	ck_assert_int_eq(lt_store_open(dbpath, &st, &err), LT_ESTORE);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(err.code, LT_ESTORE);
}
END_TEST

START_TEST(test_readonly_missing_or_empty)
{
	struct lt_store *st = NULL;
	struct lt_err err;

	ck_assert_int_eq(lt_store_open_readonly(dbpath, &st, &err),
	    LT_ESTORE);
	ck_assert_int_ne(access(dbpath, F_OK), 0);	/* not created */
	raw_file("PRAGMA user_version = 0");
	ck_assert_int_eq(lt_store_open_readonly(dbpath, &st, &err),
	    LT_ESTORE);
}
END_TEST

START_TEST(test_empty_file_is_ours)
{
	struct lt_store *st = NULL;
	FILE *fp;

	/* An empty (0-byte) file, as left by a crashed first start. */
	ck_assert_ptr_nonnull(fp = fopen(dbpath, "w"));
	fclose(fp);
	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(q_int(st->db, "PRAGMA user_version"),
	    lt_store_schema_version());
	lt_store_close(st);
}
END_TEST

/* Build the suite. */
static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_mode_and_pragmas);
	tcase_add_test(tc, test_umask_strict);
	tcase_add_test(tc, test_duplicate_index);
	tcase_add_test(tc, test_migrate_duplicate_index);
	tcase_add_test(tc, test_migrate_at_views);
	tcase_add_test(tc, test_views_use_indexes);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_every_statement_prepares);
	tcase_add_test(tc, test_transactions);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_refuse_newer);
	tcase_add_test(tc, test_refuse_foreign);
	tcase_add_test(tc, test_refuse_not_sqlite);
	tcase_add_test(tc, test_readonly_missing_or_empty);
	tcase_add_test(tc, test_file_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_file_is_ours);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
