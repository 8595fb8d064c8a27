/*
 * ceil_sqlite.c - ceiling: the least a store of these events must do.
 * Read a JSONL file of CloudEvents, parse each line with cJSON, take the
 * envelope and insert it (with the payload) into one SQLite table with a
 * unique (id, source) index (as latticed's, schema 003), in transactions
 * of -b events, WAL and synchronous=NORMAL like latticed.  No model, no
 * validation.
 *
 * usage: bench_ceil_sqlite -f events.jsonl -d db [-b batch]
 * Prints "events=N rejected=N seconds=S rate=R cpu_s=C".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "benchutil.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, subject TEXT,"
    " type TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,"
    " time_raw TEXT, payload TEXT) STRICT;"
    "CREATE UNIQUE INDEX events_id_source ON events (id, source);";

/* Return the string member name of o, or NULL. */
static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Bind a text or NULL. */
static void
bind(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Load the file into the table. */
int
main(int argc, char *argv[])
{
	const char *file = NULL, *db = "bench-ceil.db";
	sqlite3 *h = NULL;
	sqlite3_stmt *ins = NULL;
	FILE *fp = NULL;
	char *line = NULL, path[4096];
	size_t cap = 0, batch = 1000, inbatch = 0;
	ssize_t n;
	unsigned long long events = 0, rejected = 0;
	int64_t w0, c0;
	int ch, rc = 1;

	while ((ch = getopt(argc, argv, "f:d:b:")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'b':
			batch = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (file == NULL || batch == 0)
		goto usage;
	unlink(db);
	snprintf(path, sizeof(path), "%s-wal", db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db);
	unlink(path);
	if ((fp = fopen(file, "r")) == NULL) {
		perror(file);
		goto fail;
	}
	if (sqlite3_open(db, &h) != SQLITE_OK ||
	    sqlite3_exec(h, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(h, "INSERT INTO events (subject, type, source,"
	    " id, time_raw, payload) VALUES (?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT DO NOTHING", -1, SQLITE_PREPARE_PERSISTENT, &ins,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(h));
		goto fail;
	}
	w0 = bu_mono_ns();
	c0 = bu_cpu_ns();
	while ((n = getline(&line, &cap, fp)) > 0) {
		cJSON *root, *ev;
		const char *subject;

		if ((root = cJSON_ParseWithLength(line, (size_t)n)) == NULL) {
			rejected++;
			continue;
		}
		/* Bare events, or {"subject": ..., "event"|"data": {...}}
		   wrappers. */
		ev = root;
		subject = str(root, "subject");
		if (str(root, "specversion") == NULL) {
			ev = cJSON_GetObjectItemCaseSensitive(root, "event");
			if (!cJSON_IsObject(ev))
				ev = cJSON_GetObjectItemCaseSensitive(root,
				    "data");
		}
		if (!cJSON_IsObject(ev) || str(ev, "id") == NULL ||
		    str(ev, "source") == NULL || str(ev, "type") == NULL) {
			rejected++;
			cJSON_Delete(root);
			continue;
		}
		if (inbatch == 0 && sqlite3_exec(h, "BEGIN IMMEDIATE", NULL,
		    NULL, NULL) != SQLITE_OK)
			goto dberr;
		bind(ins, 1, subject);
		bind(ins, 2, str(ev, "type"));
		bind(ins, 3, str(ev, "source"));
		bind(ins, 4, str(ev, "id"));
		bind(ins, 5, str(ev, "time"));
		sqlite3_bind_text(ins, 6, line, (int)n, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto dberr;
		sqlite3_reset(ins);
		cJSON_Delete(root);
		events++;
		if (++inbatch == batch) {
			if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) !=
			    SQLITE_OK)
				goto dberr;
			inbatch = 0;
		}
	}
	if (inbatch > 0 && sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto dberr;
	printf("events=%llu rejected=%llu seconds=%.3f rate=%.0f cpu_s=%.3f"
	    " peak_rss_kib=%ld\n", events, rejected,
	    (bu_mono_ns() - w0) / 1e9,
	    events / ((bu_mono_ns() - w0) / 1e9), (bu_cpu_ns() - c0) / 1e9,
	    bu_peak_rss_kib());
	rc = 0;
	goto fail;
dberr:
	fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(h));
fail:
	free(line);
	sqlite3_finalize(ins);
	sqlite3_close(h);
	if (fp != NULL)
		fclose(fp);
	return rc;
usage:
	fprintf(stderr, "usage: bench_ceil_sqlite -f file [-d db] "
	    "[-b batch]\n");
	return 2;
}
