/*
 * fuzz_v2hb.c - libFuzzer harness for lt_v2hb_parse() and its fold.
 *
 * Each input is one message body on runtime.operator.heartbeat.<id>.  It
 * is decoded with the default limits and with tight ones; on success the
 * promises of v2hb.h are checked (strings NUL-terminated and valid UTF-8,
 * labels a JSON object, imports/exports JSON arrays, counts in range, the
 * payload JSON to SQLite, the decode deterministic).  Then it is folded
 * into an in-memory database: whatever the bytes, lt_fold_msg() must not
 * fail with a store error (a CHECK constraint, a bad bind): bad input is
 * a rejected_events row, never a failed batch.  A broken promise is an
 * abort(), which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ce.h"
#include "err.h"
#include "fold.h"
#include "store.h"
#include "v2hb.h"

#define HID	"0199a3b2-5c1e-7d3a-9f0e-2b7c4d8e6f10"

/* Abort with a message when cond is false. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_v2hb: %s:%d: check failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

static sqlite3		*jdb;	/* for json_valid()/json_type() */
static sqlite3_stmt	*jtype;
static struct lt_store	*st;
static struct lt_fold	*fd;

/* SQLite's json_type() of s (NULL s: "null"), or "" when not JSON. */
static const char *
jtype_of(const char *s, size_t n, char *buf, size_t len)
{
	const unsigned char *t;

	if (jdb == NULL) {
		CHECK(sqlite3_open(":memory:", &jdb) == SQLITE_OK);
		CHECK(sqlite3_prepare_v2(jdb, "SELECT CASE WHEN json_valid(?1)"
		    " THEN json_type(?1) ELSE '' END", -1, &jtype, NULL) ==
		    SQLITE_OK);
	}
	CHECK(sqlite3_bind_text(jtype, 1, s, (int)n, SQLITE_STATIC) ==
	    SQLITE_OK);
	CHECK(sqlite3_step(jtype) == SQLITE_ROW);
	t = sqlite3_column_text(jtype, 0);
	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
	sqlite3_reset(jtype);
	return buf;
}

/* Return 1 if s is valid UTF-8 (no overlongs, no surrogates). */
static int
utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k, len = strlen(str);
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Check one decoded string. */
static void
check_str(const char *s)
{
	CHECK(s != NULL);
	CHECK(utf8_ok(s));
}

/* Check every promise of a decoded event. */
static void
check_event(const struct lt_ce *ev, const uint8_t *data, size_t size)
{
	const struct lt_v2hb *v = ev->v2;
	char t[32];

	CHECK(ev->kind == LT_K_V2_HEARTBEAT && v != NULL);
	CHECK(strcmp(ev->type, LT_V2HB_TYPE) == 0);
	CHECK(strcmp(ev->host_id, HID) == 0);
	CHECK(strncmp(ev->source, LT_V2HB_SUBJECT_PREFIX,
	    strlen(LT_V2HB_SUBJECT_PREFIX)) == 0);
	CHECK(ev->data_len == size && memcmp(ev->data, data, size) == 0);
	CHECK(strcmp(jtype_of(ev->data, ev->data_len, t, sizeof(t)),
	    "object") == 0);
	check_str(ev->friendly_name);
	check_str(ev->version);
	check_str(v->hostname);
	check_str(v->environment);
	check_str(v->os_arch);
	check_str(v->os_name);
	check_str(v->os_kernel);
	CHECK(strcmp(jtype_of(ev->labels, strlen(ev->labels), t, sizeof(t)),
	    "object") == 0);
	CHECK(strcmp(jtype_of(v->imports, strlen(v->imports), t, sizeof(t)),
	    "array") == 0);
	CHECK(strcmp(jtype_of(v->exports, strlen(v->exports), t, sizeof(t)),
	    "array") == 0);
	CHECK(v->memory_total >= 0 && v->memory_free >= 0);
	CHECK(v->component_count >= 0 && v->workload_count >= 0);
	CHECK(v->http_port >= 0 && v->http_port <= UINT32_MAX);
	CHECK(!v->has_cpu || (v->cpu_usage == v->cpu_usage &&
	    v->cpu_usage <= 3.5e38 && v->cpu_usage >= -3.5e38));
}

/* Fold the input; only a store failure is a bug. */
static void
fold(const uint8_t *data, size_t size)
{
	static int64_t recv = 1796576400000;
	static unsigned long n;
	struct lt_msg m = { LT_V2HB_SUBJECT_PREFIX HID, data, size, 0,
	    "runtime.operator.heartbeat.>" };
	enum lt_outcome out;
	struct lt_err err;
	int rc;

	/* a fresh database per input when replaying (FUZZ_FOLD_RESET), and
	   every 5000 inputs so the history does not grow without bound */
	if (fd != NULL && (getenv("FUZZ_FOLD_RESET") != NULL ||
	    ++n % 5000 == 0)) {
		lt_fold_free(fd);
		lt_store_close(st);
		fd = NULL;
	}
	if (fd == NULL) {
		CHECK(lt_store_open(":memory:", &st, NULL) == LT_OK);
		CHECK(lt_fold_new(st, NULL, &fd, NULL) == LT_OK);
	}
	m.received_ms = recv += 15000;
	CHECK(lt_fold_begin(fd, NULL) == LT_OK);
	rc = lt_fold_msg(fd, &m, &out, &err);
	if (rc != LT_OK) {
		fprintf(stderr, "fuzz_v2hb: fold: %s: %s (%s)\n",
		    lt_strerror(rc), err.msg, err.field);
		abort();
	}
	CHECK(lt_fold_commit(fd, NULL) == LT_OK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_limits lim;
	struct lt_ce *a = NULL, *b = NULL;
	struct lt_err ea, eb;
	int ra, rb;

	lt_limits_default(&lim);
	ra = lt_v2hb_parse((const char *)data, size, HID, 1, &lim, &a, &ea);
	CHECK((ra == LT_OK) == (a != NULL));
	if (ra == LT_OK)
		check_event(a, data, size);
	else
		CHECK(ra == LT_EPARSE || ra == LT_EINVAL || ra == LT_ELIMIT);
	rb = lt_v2hb_parse((const char *)data, size, HID, 1, &lim, &b, &eb);
	CHECK(ra == rb);
	if (ra == LT_OK) {
		CHECK(strcmp(a->id, b->id) == 0);
		CHECK(strcmp(a->v2->imports, b->v2->imports) == 0);
		CHECK(strcmp(a->labels, b->labels) == 0);
	} else
		CHECK(strcmp(ea.field, eb.field) == 0);
	lt_ce_free(a);
	lt_ce_free(b);

	/* tight limits: never a crash, only LT_ELIMIT more often */
	lim.max_depth = 4;
	lim.max_string = 16;
	lim.max_items = 2;
	lim.max_pairs = 2;
	rb = lt_v2hb_parse((const char *)data, size, HID, 1, &lim, &b, &eb);
	CHECK((rb == LT_OK) == (b != NULL));
	if (rb == LT_OK)
		check_event(b, data, size);
	lt_ce_free(b);

	fold(data, size);
	return 0;
}
