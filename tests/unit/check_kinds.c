/*
 * check_kinds.c - the event kinds table (kinds.h): every kind has a name
 * and a fixture that decodes to it and folds; every fixture decodes to a
 * kind of the table.  A kind added without its row's parts fails here.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ce.h"
#include "fold.h"
#include "jsonl.h"
#include "kinds.h"
#include "testdb.h"

#define EVENTS	TEST_DATA_DIR "/events"

/* Read a whole file (caller frees). */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp;
	char *buf;
	long n;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	ck_assert_ptr_nonnull(buf = calloc(1, (size_t)n + 1));
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/*
 * Decode a fixture as the pipeline would: a .json file is a CloudEvent on
 * wasmbus.evt.k.x; a .jsonl file is one replay line whose subject picks
 * the decoder (a v2 heartbeat).  Sets *subject (static storage) and the
 * payload span in buf; returns the decoded message (caller frees).
 */
static struct lt_decoded *
decode(const char *name, char *buf, size_t len, const char **subject,
    const char **payload, size_t *plen)
{
	static char subj[512];
	struct lt_jsonl_line l;
	struct lt_decoded *d;
	struct lt_msg m;
	size_t n = strlen(name);

	memset(&m, 0, sizeof(m));
	snprintf(subj, sizeof(subj), "wasmbus.evt.k.x");
	*payload = buf;
	*plen = len;
	if (n > 6 && strcmp(name + n - 6, ".jsonl") == 0) {
		while (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		ck_assert_int_eq(lt_jsonl_split(buf, len, &l), LT_OK);
		ck_assert_msg(l.subject != NULL && l.owned == NULL,
		    "%s: not a plain wrapper line", name);
		snprintf(subj, sizeof(subj), "%s", l.subject);
		*payload = l.payload;
		*plen = l.len;
		lt_jsonl_clear(&l);
	}
	*subject = subj;
	m.subject = subj;
	m.data = *payload;
	m.len = *plen;
	m.received_ms = 1000;
	ck_assert_int_eq(lt_fold_decode(NULL, &m, &d), LT_OK);
	return d;
}

START_TEST(test_names)
{
	int k, j;

	for (k = 0; k < LT_K_COUNT; k++) {
		ck_assert_ptr_nonnull(lt_kind_name(k));
		ck_assert_str_ne(lt_kind_name(k), "unknown");
		for (j = 0; j < k; j++)
			ck_assert_str_ne(lt_kind_name(k), lt_kind_name(j));
	}
	ck_assert_str_eq(lt_kind_name(LT_K_COUNT), "unknown");
	ck_assert_str_eq(lt_kind_name(-1), "unknown");
	ck_assert_ptr_null(lt_kind_fixture(LT_K_COUNT));
}
END_TEST

/* Each kind's fixture decodes to it and folds (not rejected). */
START_TEST(test_fixture)
{
	char path[512], *buf;
	const char *subject, *payload;
	struct lt_decoded *d;
	struct lt_err err;
	size_t len, plen;
	enum lt_outcome out;
	int k = _i;

	snprintf(path, sizeof(path), "%s/%s", EVENTS, lt_kind_fixture(k));
	buf = slurp(path, &len);
	d = decode(lt_kind_fixture(k), buf, len, &subject, &payload, &plen);
	ck_assert_msg(d->rc == LT_OK, "%s: %s", path, d->why.msg);
	ck_assert_msg((int)d->ev->kind == k, "%s decodes to %s, not %s",
	    path, lt_kind_name(d->ev->kind), lt_kind_name(k));
	lt_decoded_free(d);
	out = fold_raw(subject, payload, plen, 1000, &err);
	ck_assert_msg(out != LT_OUT_REJECTED, "%s rejected: %s", path,
	    err.msg);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	free(buf);
}
END_TEST

/* Every fixture decodes to a kind of the table, and every kind has at
   least one fixture. */
START_TEST(test_all_fixtures)
{
	int seen[LT_K_COUNT] = { 0 }, k;
	char path[512], *buf;
	const char *subject, *payload;
	struct lt_decoded *dec;
	struct dirent *de;
	size_t len, plen;
	DIR *d;

	ck_assert_ptr_nonnull(d = opendir(EVENTS));
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".json") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", EVENTS, de->d_name);
		buf = slurp(path, &len);
		dec = decode(de->d_name, buf, len, &subject, &payload, &plen);
		if (dec->rc == LT_OK) {
			ck_assert((int)dec->ev->kind >= 0 &&
			    dec->ev->kind < LT_K_COUNT);
			seen[dec->ev->kind]++;
		}
		lt_decoded_free(dec);
		free(buf);
	}
	closedir(d);
	for (k = 0; k < LT_K_COUNT; k++)
		ck_assert_msg(seen[k] > 0, "no fixture for %s",
		    lt_kind_name(k));
}
END_TEST

/* Build the suite. */
static Suite *
kinds_suite(void)
{
	Suite *s = suite_create("kinds");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_fixture, 0, LT_K_COUNT);
	tcase_add_test(tc, test_all_fixtures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(kinds_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
