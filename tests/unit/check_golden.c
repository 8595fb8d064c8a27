/*
 * check_golden.c - fold tests/data/golden/story.jsonl line by line, the way
 * `latticed --replay` does (received time = the event's own time, else the
 * previous line's; a final stale sweep at the last time), and compare the
 * resulting rows with tests/data/golden/expected.txt.
 *
 * Regenerate after a deliberate rule change with GOLDEN_UPDATE=1 and review
 * the diff.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "fold.h"
#include "jsonl.h"
#include "stale.h"
#include "store.h"
#include "store_int.h"
#include "timeutil.h"

#define STORY		TEST_DATA_DIR "/golden/story.jsonl"
#define EXPECTED	TEST_DATA_DIR "/golden/expected.txt"

/* Append every row of sql to out, one line per row, columns by '|'. */
static void
dump(sqlite3 *db, const char *title, const char *sql, FILE *fp)
{
	sqlite3_stmt *s;
	int i;

	fprintf(fp, "# %s\n", title);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++) {
			const unsigned char *t = sqlite3_column_text(s, i);

			fprintf(fp, "%s%s", i ? "|" : "",
			    t ? (const char *)t : "NULL");
		}
		fputc('\n', fp);
	}
	sqlite3_finalize(s);
}

/* Read a whole file. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	ck_assert_ptr_nonnull(buf = calloc(1, (size_t)n + 1));
	ck_assert_int_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

START_TEST(test_story)
{
	struct lt_store *st;
	struct lt_fold *fd;
	struct lt_fold_opts o;
	struct lt_stale_result r;
	char line[1 << 16], *out = NULL, *want;
	int64_t last = 0;
	size_t len = 0;
	FILE *fp, *mf;
	int nlines = 0, rejected = 0, dups = 0;

	ck_assert_int_eq(lt_store_open(":memory:", &st, NULL), LT_OK);
	lt_fold_opts_default(&o);
	o.default_lattice = "prod";
	ck_assert_int_eq(lt_fold_new(st, &o, &fd, NULL), LT_OK);
	ck_assert_ptr_nonnull(fp = fopen(STORY, "r"));
	ck_assert_int_eq(lt_fold_begin(fd, NULL), LT_OK);
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct lt_msg m = { NULL, NULL, 0, 0, NULL };
		struct lt_jsonl_line jl;
		enum lt_outcome oc;
		size_t n = strlen(line);

		nlines++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		/* the same line splitter and clock as latticed --replay */
		ck_assert_int_eq(lt_jsonl_split(line, n, &jl), LT_OK);
		if (jl.received_ok)
			last = jl.received_ms;
		else if (jl.time_ok)
			last = jl.time_ms;
		m.subject = jl.subject;
		m.data = jl.payload;
		m.len = jl.len;
		m.received_ms = last;
		ck_assert_int_eq(lt_fold_msg(fd, &m, &oc, NULL), LT_OK);
		rejected += oc == LT_OUT_REJECTED;
		dups += oc == LT_OUT_DUPLICATE;
		lt_jsonl_clear(&jl);
	}
	fclose(fp);
	ck_assert_int_eq(lt_stale_sweep(fd, NULL, last, 0, &r, NULL), LT_OK);
	ck_assert_int_eq(r.marked, 1);
	ck_assert_int_eq(lt_fold_commit(fd, NULL), LT_OK);
	ck_assert_int_eq(nlines, 26);
	ck_assert_int_eq(rejected, 1);
	ck_assert_int_eq(dups, 1);

	ck_assert_ptr_nonnull(mf = open_memstream(&out, &len));
	dump(st->db, "hosts", "SELECT lattice, host_id, status, "
	    "friendly_name, version, labels, uptime_seconds, stop_reason, "
	    "first_seen_at, last_seen_at, last_heartbeat_at, "
	    "heartbeat_interval_ms, status_changed_at, "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', state_ms / 1000.0, 'unixepoch') "
	    "FROM hosts ORDER BY lattice, host_id", mf);
	dump(st->db, "components", "SELECT lattice, host_id, component_id, "
	    "image_ref, name, max_instances, revision, annotations, updated_at"
	    " FROM components ORDER BY 1, 2, 3", mf);
	dump(st->db, "providers", "SELECT lattice, host_id, provider_id, "
	    "link_name, image_ref, contract_id, health, health_checked_at, "
	    "updated_at FROM providers ORDER BY 1, 2, 3, 4", mf);
	dump(st->db, "links", "SELECT lattice, source_id, name, wit_namespace,"
	    " wit_package, target, interfaces, source_config, target_config, "
	    "updated_at FROM links ORDER BY 1, 2, 3, 4, 5", mf);
	dump(st->db, "configs", "SELECT lattice, config_name, legacy_keys, "
	    "updated_at FROM configs ORDER BY 1, 2", mf);
	dump(st->db, "events", "SELECT seq, lattice, subject, type, source, "
	    "id, host_id, time_at, received_at, outcome, data IS NULL "
	    "FROM events ORDER BY seq", mf);
	dump(st->db, "rejected_events", "SELECT received_at, lattice, "
	    "subject, error, field, raw_size, length(raw) FROM rejected_events"
	    " ORDER BY seq", mf);

	fclose(mf);
	if (getenv("GOLDEN_UPDATE") != NULL) {
		ck_assert_ptr_nonnull(fp = fopen(EXPECTED, "w"));
		fputs(out, fp);
		fclose(fp);
	}
	want = slurp(EXPECTED);
	ck_assert_msg(want != NULL, "missing " EXPECTED);
	if (strcmp(want, out) != 0) {
		fprintf(stderr, "golden mismatch; got:\n%s", out);
		ck_abort_msg("rows differ from " EXPECTED);
	}
	free(want);
	free(out);
	lt_fold_free(fd);
	lt_store_close(st);
}
END_TEST

/* Build the suite. */
static Suite *
golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("valid");

	tcase_add_test(tc, test_story);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(golden_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
