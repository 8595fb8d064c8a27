/*
 * check_pipeline.c - the one ingest pipeline (lib/pipeline.c): a batch
 * folded in one transaction with its hooks, the one-by-one slow path with
 * poison and retry verdicts, a failing database keeping the list whole for
 * a retry, the redelivery policy and the decode stage, against a real
 * store (in memory, or a temp file where a second connection must lock
 * it).
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fold.h"
#include "pipeline.h"
#include "queue.h"
#include "store.h"
#include "store_int.h"
#include "testdb.h"

#define BASE	INT64_C(1717236000000)	/* 2024-06-01T10:00:00Z */
#define SUBJ	"wasmbus.evt.prod.config_set"
#define CFGTYPE	"com.wasmcloud.lattice.config_set"

/* What the hooks saw, as one line: "b w3 e3 f3:applied a3 c1 ...". */
struct rec {
	char	 log[4096];
	size_t	 len;
	int	 wanted_skip;		/* seq wanted skips, -1: none */
	enum lt_verdict verdict;	/* what failed answers */
	int	 nfailed;
	char	 failed_why[256];
	int	 begin_marker;		/* begin records a row */
	int	 readonly_on_failed;	/* failed breaks the db */
	int	 bad;			/* a hook ran at a wrong time */
	char	 badwhy[256];
	struct lt_fold_info info[16];	/* by seq */
	struct lt_err why[16];
};

static struct rec r;
static struct lt_limits lim;

/* Append to the log. */
static void
note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
note(const char *fmt, ...)
{
	va_list ap;

	if (r.len > 0 && r.len < sizeof(r.log) - 1)
		r.log[r.len++] = ' ';
	va_start(ap, fmt);
	r.len += (size_t)vsnprintf(r.log + r.len, sizeof(r.log) - r.len, fmt,
	    ap);
	va_end(ap);
	if (r.len >= sizeof(r.log))
		r.len = sizeof(r.log) - 1;
}

/* Note a hook that ran outside (in: 1) or inside (0) a transaction. */
static void
want_txn(const char *hook, int in)
{
	int open = !sqlite3_get_autocommit(st->db);

	if (open != in && r.bad++ == 0)
		snprintf(r.badwhy, sizeof(r.badwhy), "%s ran %s a transaction",
		    hook, open ? "inside" : "outside");
}

/* Hook: first in the transaction. */
static int
h_begin(void *arg, struct lt_err *err)
{
	ck_assert_ptr_eq(arg, &r);
	want_txn("begin", 1);
	note("b");
	if (r.begin_marker)
		return lt_fold_reject(fd, SUBJ, BASE, LT_ELIMIT, "begin-marker",
		    "x", 1, 1, err);
	return LT_OK;
}

/* Hook: whether to fold. */
static int
h_wanted(void *arg, const struct lt_item *it)
{
	ck_assert_ptr_eq(arg, &r);
	want_txn("wanted", 1);
	note("w%llu", (unsigned long long)it->seq);
	return (int)it->seq != r.wanted_skip;
}

/* Hook: a message's outcome. */
static void
h_folded(void *arg, const struct lt_item *it, enum lt_outcome out,
    const struct lt_fold_info *info, const struct lt_err *why)
{
	ck_assert_ptr_eq(arg, &r);
	/* reported only once committed (pipeline.c) */
	want_txn("folded", 0);
	note("f%llu:%s", (unsigned long long)it->seq, lt_outcome_name(out));
	if (it->seq < 16) {
		r.info[it->seq] = *info;
		r.why[it->seq] = *why;
	}
}

/* Hook: last in the transaction. */
static int
h_end(void *arg, uint64_t last_seq, struct lt_err *err)
{
	(void)err;
	ck_assert_ptr_eq(arg, &r);
	want_txn("end", 1);
	note("e%llu", (unsigned long long)last_seq);
	return LT_OK;
}

/* Hook: acknowledge after commit. */
static void
h_ack(void *arg, struct lt_item *it)
{
	ck_assert_ptr_eq(arg, &r);
	want_txn("ack", 0);
	note("a%llu", (unsigned long long)it->seq);
	/* acknowledged: nothing for ack_free */
	it->ack = NULL;
}

/* Hook: a message failed alone. */
static enum lt_verdict
h_failed(void *arg, struct lt_item *it, const struct lt_err *why)
{
	ck_assert_ptr_eq(arg, &r);
	want_txn("failed", 0);
	note("x%llu", (unsigned long long)it->seq);
	r.nfailed++;
	snprintf(r.failed_why, sizeof(r.failed_why), "%s", why->msg);
	if (r.readonly_on_failed)
		ck_assert_int_eq(sqlite3_exec(st->db, "PRAGMA query_only = 1",
		    NULL, NULL, NULL), SQLITE_OK);
	return r.verdict;
}

/* Hook: after commit. */
static void
h_committed(void *arg, size_t n)
{
	ck_assert_ptr_eq(arg, &r);
	want_txn("committed", 0);
	note("c%zu", n);
}

static const struct lt_pipeline_hooks hooks = {
	.arg = &r,
	.begin = h_begin,
	.wanted = h_wanted,
	.folded = h_folded,
	.end = h_end,
	.ack = h_ack,
	.failed = h_failed,
	.committed = h_committed,
};

/* Count ack_free calls (unacknowledged items freed). */
static int nackfree;

/* Free an acknowledgement handle. */
static void
ack_free(void *p)
{
	(void)p;
	nackfree++;
}

/* Per-test state on top of testdb's fixture. */
static void
psetup(void)
{
	setup();
	memset(&r, 0, sizeof(r));
	r.verdict = LT_V_POISON;
	r.wanted_skip = -1;
	nackfree = 0;
	lt_limits_default(&lim);
}

/* A config_set message for config name, stream sequence sq; name NULL:
   a payload that is not JSON. */
static struct lt_item *
msg(const char *name, uint64_t sq, int decode)
{
	char j[512];
	struct lt_item *it;

	if (name == NULL)
		snprintf(j, sizeof(j), "not json %llu", (unsigned long long)sq);
	else
		snprintf(j, sizeof(j), "{\"specversion\":\"1.0\",\"id\":"
		    "\"ev-%llu\",\"source\":\"NH1\",\"type\":\"" CFGTYPE "\","
		    "\"data\":{\"config_name\":\"%s\"}}",
		    (unsigned long long)sq, name);
	it = lt_item_msg_new(SUBJ, "wasmbus.evt.*.>", j, strlen(j),
	    BASE + (int64_t)sq);
	ck_assert_ptr_nonnull(it);
	it->seq = sq;
	it->ack = &r;		/* any non-NULL handle */
	it->ack_free = ack_free;
	if (decode)
		ck_assert_int_eq(lt_fold_decode(&lim, &it->msg, &it->dec),
		    LT_OK);
	return it;
}

/* Chain items (NULL-terminated) into a list. */
static struct lt_item *
chain(struct lt_item *first, ...)
{
	struct lt_item *it, *last = first;
	va_list ap;

	va_start(ap, first);
	while ((it = va_arg(ap, struct lt_item *)) != NULL) {
		last->next = it;
		last = it;
	}
	va_end(ap);
	last->next = NULL;
	return first;
}

/* A task item that must never run. */
static void
never(void *arg, void *data)
{
	(void)arg;
	(void)data;
	ck_abort_msg("a task ran inside lt_pipeline_batch");
}

/* A task item. */
static struct lt_item *
task(void)
{
	struct lt_item *it = calloc(1, sizeof(*it));

	ck_assert_ptr_nonnull(it);
	it->kind = LT_ITEM_TASK;
	it->run = never;
	return it;
}

/* Make inserting config "bad" fail, the data's fault (not the db's). */
static void
trigger_bad(void)
{
	ck_assert_int_eq(sqlite3_exec(st->db, "CREATE TRIGGER boom BEFORE "
	    "INSERT ON latticed_configs WHEN NEW.config_name = 'bad' BEGIN "
	    "SELECT RAISE(ABORT, 'bad config refused'); END", NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Assert no hook ran at the wrong time. */
static void
hooks_ok(void)
{
	ck_assert_msg(r.bad == 0, "%s (log: %s)", r.badwhy, r.log);
}

/* --- valid ---------------------------------------------------------- */

START_TEST(test_batch_commits_with_hooks)
{
	struct lt_item *head;
	struct lt_err err;

	/* decoded by the stage or not; a task in the middle is left be */
	head = chain(msg("c1", 11, 1), task(), msg(NULL, 12, 0),
	    msg("c3", 10, 0), NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_str_eq(r.log, "b w11 w12 w10 e12 f11:applied a11 "
	    "f12:rejected a12 f10:applied a10 c3");
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 2);
	ck_assert_str_eq(qs("SELECT error FROM rejected_events"), "parse");
	ck_assert_int_eq(lt_fold_stats(fd)->batches, 1);
	ck_assert_str_eq(r.info[11].lattice, "prod");
	ck_assert_str_eq(r.info[11].type, CFGTYPE);
	ck_assert_str_eq(r.info[12].lattice, "prod");
	ck_assert_str_eq(r.info[12].type, "");
	ck_assert_int_eq(r.why[12].code, LT_EPARSE);
	ck_assert_int_eq(r.why[11].code, LT_OK);
	/* every message decoded on the way */
	ck_assert_ptr_nonnull(head->next->next->dec);
	ck_assert_ptr_nonnull(head->next->next->next->dec);
	/* the task is still there, unrun */
	ck_assert_int_eq(head->next->kind, LT_ITEM_TASK);
	ck_assert_ptr_eq(head->next->run, never);
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 0);	/* all acknowledged */
}
END_TEST

START_TEST(test_wanted_skips)
{
	struct lt_item *head;
	struct lt_err err;

	r.wanted_skip = 2;
	head = chain(msg("c1", 1, 0), msg("c2", 2, 0), msg("c3", 3, 0),
	    NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	/* skipped: acknowledged with the batch, not folded, not reported */
	ck_assert_str_eq(r.log, "b w1 w2 w3 e3 f1:applied a1 a2 f3:applied "
	    "a3 c3");
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM configs WHERE "
	    "config_name='c2'"), 0);
	lt_item_free(head);
}
END_TEST

START_TEST(test_no_hooks_and_empty)
{
	struct lt_pipeline_hooks none = { 0 };
	struct lt_item *head;
	struct lt_err err;

	/* an empty list, a list of tasks: one empty transaction */
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, NULL, &err),
	    LT_OK);
	ck_assert_str_eq(r.log, "b e0 c0");
	head = msg("c1", 0, 0);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &none, head, &err),
	    LT_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	lt_item_free(head);
	/* no ack hook: the handle is still the item's */
	ck_assert_int_eq(nackfree, 1);
}
END_TEST

/* --- rejects -------------------------------------------------------- */

START_TEST(test_fails_alone_poison)
{
	struct lt_item *head;
	struct lt_err err;

	trigger_bad();
	head = chain(msg("c1", 1, 1), msg("bad", 2, 1), msg("c3", 3, 0),
	    NULL);
	head->next->delivered = 3;
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_int_eq(r.nfailed, 1);
	ck_assert_ptr_nonnull(strstr(r.failed_why, "bad config refused"));
	/* the others are committed, each alone */
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM events WHERE id='ev-2'"),
	    0);
	ck_assert_str_eq(qs("SELECT error||' '||subject FROM "
	    "rejected_events"), "poison " SUBJ);
	ck_assert_int_eq(qi("SELECT raw_size FROM rejected_events"),
	    (int64_t)head->next->size);
	ck_assert_ptr_nonnull(strstr(qs("SELECT reason FROM "
	    "rejected_events"), "failed 3 deliveries"));
	ck_assert_ptr_nonnull(strstr(qs("SELECT CAST(raw AS TEXT) FROM "
	    "rejected_events"), "\"config_name\":\"bad\""));
	/* reported rejected, acknowledged, in order */
	ck_assert_ptr_nonnull(strstr(r.log, "x2"));
	ck_assert_ptr_nonnull(strstr(r.log, "f1:applied a1"));
	ck_assert_ptr_nonnull(strstr(r.log, "f2:rejected a2"));
	ck_assert_ptr_nonnull(strstr(r.log, "f3:applied a3"));
	ck_assert_int_eq(r.why[2].code, LT_ESTORE);
	ck_assert_int_eq(r.why[2].db_failed, 0);
	ck_assert(strstr(r.log, "a1") < strstr(r.log, "a2"));
	ck_assert(strstr(r.log, "a2") < strstr(r.log, "a3"));
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 0);
}
END_TEST

START_TEST(test_fails_alone_no_failed_hook)
{
	struct lt_pipeline_hooks h = hooks;
	struct lt_item *head;
	struct lt_err err;

	h.failed = NULL;	/* poison */
	trigger_bad();
	head = chain(msg("bad", 1, 0), msg("c2", 2, 0), NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &h, head, &err), LT_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error='poison'"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	lt_item_free(head);
}
END_TEST

START_TEST(test_fails_alone_retry)
{
	struct lt_item *head;
	struct lt_err err;

	trigger_bad();
	r.verdict = LT_V_RETRY;
	head = chain(msg("c1", 1, 0), msg("bad", 2, 0), msg("c3", 3, 0),
	    NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_int_eq(r.nfailed, 1);
	/* left out: neither folded, recorded, nor acknowledged */
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 0);
	ck_assert_ptr_null(strstr(r.log, "f2"));
	ck_assert_ptr_null(strstr(r.log, "a2"));
	ck_assert_ptr_nonnull(strstr(r.log, "a1"));
	ck_assert_ptr_nonnull(strstr(r.log, "a3"));
	/* its handle is freed unacknowledged: redelivered */
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 1);
}
END_TEST

START_TEST(test_poison_first_keeps_begin)
{
	struct lt_item *head;
	struct lt_err err;

	/* begin records something (the daemon: the overflow records);
	   whatever fails alone, it is committed exactly once */
	trigger_bad();
	r.begin_marker = 1;
	head = chain(msg("bad", 1, 0), msg("c2", 2, 0), NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error='poison'"), 1);
	ck_assert_msg(qi("SELECT count(*) FROM rejected_events WHERE "
	    "reason='begin-marker'") == 1, "begin's work committed %lld "
	    "times (log: %s)", (long long)qi("SELECT count(*) FROM "
	    "rejected_events WHERE reason='begin-marker'"), r.log);
	lt_item_free(head);
}
END_TEST

START_TEST(test_db_failed_readonly_then_retry)
{
	struct lt_item *head, *it;
	struct lt_err err;

	trigger_bad();
	head = chain(msg("c1", 1, 1), msg(NULL, 2, 0), msg("bad", 3, 0),
	    msg("c4", 4, 0), NULL);
	/* the database refuses writes: nobody's fault in the list */
	ck_assert_int_eq(sqlite3_exec(st->db, "PRAGMA query_only = 1", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_ESTORE);
	ck_assert_msg(err.db_failed, "%s", err.msg);
	ck_assert_int_eq(err.code, LT_ESTORE);
	ck_assert(sqlite3_get_autocommit(st->db));	/* rolled back */
	ck_assert_int_eq(r.nfailed, 0);
	ck_assert_ptr_null(strstr(r.log, "a"));
	ck_assert_ptr_null(strstr(r.log, "f"));
	ck_assert_ptr_null(strstr(r.log, "c"));
	for (it = head; it != NULL; it = it->next)
		ck_assert_int_eq(it->kind, LT_ITEM_MSG);
	ck_assert_int_eq(sqlite3_exec(st->db, "PRAGMA query_only = 0", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 0);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 0);

	/* the fault clears: the same list folds, the bad one alone */
	memset(r.log, 0, sizeof(r.log));
	r.len = 0;
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error='parse'"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error='poison'"), 1);
	ck_assert_int_eq(r.nfailed, 1);
	/* folded: a third pass folds nothing again */
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 2);
	ck_assert_int_eq(r.nfailed, 1);
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 0);
}
END_TEST

START_TEST(test_db_failed_in_slow_path)
{
	struct lt_item *head;
	struct lt_err err;

	/* the slow path has committed c1 when the database goes read-only
	   under the poison record of "bad" */
	trigger_bad();
	r.readonly_on_failed = 1;
	head = chain(msg("c1", 1, 0), msg("bad", 2, 0), msg("c3", 3, 0),
	    NULL);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_ESTORE);
	ck_assert_msg(err.db_failed, "%s", err.msg);
	ck_assert_int_eq(sqlite3_exec(st->db, "PRAGMA query_only = 0", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 1);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 0);
	ck_assert_ptr_nonnull(strstr(r.log, "a1"));
	ck_assert_ptr_null(strstr(r.log, "a2"));
	ck_assert_ptr_null(strstr(r.log, "a3"));

	/* the retry passes over c1: no duplicate, no second ack */
	r.readonly_on_failed = 0;
	memset(r.log, 0, sizeof(r.log));
	r.len = 0;
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	ck_assert_ptr_null(strstr(r.log, "a1"));
	ck_assert_ptr_nonnull(strstr(r.log, "f2:rejected a2"));
	ck_assert_ptr_nonnull(strstr(r.log, "f3:applied a3"));
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events WHERE "
	    "error='poison'"), 1);
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 0);
}
END_TEST

/* A temp-file store (a second connection can lock it). */
static char tmpdir[64];
static char dbpath[128];

/* Open a fresh store in a temp directory. */
static void
fsetup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_pipeline.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/l.db", tmpdir);
	ck_assert_int_eq(lt_store_open(dbpath, &st, NULL), LT_OK);
	ck_assert_int_eq(lt_fold_new(st, NULL, &fd, NULL), LT_OK);
	memset(&r, 0, sizeof(r));
	r.verdict = LT_V_POISON;
	r.wanted_skip = -1;
	nackfree = 0;
	lt_limits_default(&lim);
}

/* Close it and remove the files. */
static void
fteardown(void)
{
	char p[160];

	teardown();
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(tmpdir);
}

START_TEST(test_db_failed_locked_then_retry)
{
	struct lt_item *head;
	struct lt_err err;
	sqlite3 *other;

	head = chain(msg("c1", 1, 0), msg("c2", 2, 0), NULL);
	ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(st->db, 20);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_ESTORE);
	ck_assert_msg(err.db_failed, "%s", err.msg);
	ck_assert_int_eq(r.nfailed, 0);
	ck_assert_ptr_null(strstr(r.log, "a"));
	ck_assert_int_eq(head->kind, LT_ITEM_MSG);
	ck_assert_int_eq(head->next->kind, LT_ITEM_MSG);
	ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 0);

	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM configs"), 2);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 0);
	ck_assert_ptr_nonnull(strstr(r.log, "a1 f2:applied a2 c2"));
	lt_item_free(head);
	ck_assert_int_eq(nackfree, 0);
}
END_TEST

/* --- edge ----------------------------------------------------------- */

START_TEST(test_redelivery_verdict)
{
	static const struct {
		uint64_t	delivered;
		int		max;
		enum lt_verdict	want;
	} t[] = {
		{ 0, 5, LT_V_POISON },		/* unknown: core NATS */
		{ 1, 5, LT_V_RETRY },
		{ 4, 5, LT_V_RETRY },
		{ 5, 5, LT_V_POISON },		/* the last delivery */
		{ 6, 5, LT_V_POISON },
		{ 1, 1, LT_V_POISON },
		{ 1, 2, LT_V_RETRY },
		{ 1, 0, LT_V_POISON },		/* no limit configured */
		{ 3, -1, LT_V_POISON },
		{ UINT64_MAX, 2147483647, LT_V_POISON },
		{ 2147483646, 2147483647, LT_V_RETRY },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(lt_redelivery_verdict(t[i].delivered, t[i].max)
		    == t[i].want, "delivered %llu of %d",
		    (unsigned long long)t[i].delivered, t[i].max);
}
END_TEST

/* A task for the decode stage to carry through. */
static void
mark(void *arg, void *data)
{
	(void)data;
	(*(int *)arg)++;
}

/* The consumer of the decoder's output: collects until closed. */
struct sink {
	struct lt_queue	*out;
	struct lt_item	*head, **tail;
	size_t		 n;
};

/* Take from out until it is closed and empty. */
static void *
sink_main(void *arg)
{
	struct sink *s = arg;
	struct lt_item *l;
	size_t n;

	while ((l = lt_queue_take(s->out, 7, 1, &n)) != NULL) {
		s->n += n;
		*s->tail = l;
		while (*s->tail != NULL)
			s->tail = &(*s->tail)->next;
		lt_queue_done(s->out);
	}
	return NULL;
}

START_TEST(test_decoder_end_to_end)
{
	struct lt_queue *in, *out;
	struct lt_decoder *dec;
	struct sink s = { 0 };
	struct lt_item *it;
	struct lt_err err;
	pthread_t th;
	char j[256], name[32];
	int i, k, runs = 0;

	/* small bounds: the stage waits for the consumer, producers for
	   the stage */
	ck_assert_int_eq(lt_queue_new(3, NULL, NULL, &in), LT_OK);
	ck_assert_int_eq(lt_queue_new(2, NULL, NULL, &out), LT_OK);
	ck_assert_int_eq(lt_decoder_start(in, out, &lim, &dec), LT_OK);
	s.out = out;
	s.tail = &s.head;
	ck_assert_int_eq(pthread_create(&th, NULL, sink_main, &s), 0);
	for (i = 1; i <= 200; i++) {
		if (i % 3 == 0)
			snprintf(j, sizeof(j), "broken %d", i);
		else {
			snprintf(name, sizeof(name), "c%d", i);
			it = msg(name, (uint64_t)i, 0);
			memcpy(j, it->msg.data, it->msg.len + 1);
			lt_item_free(it);
		}
		ck_assert_int_eq(lt_queue_push_msg(in, SUBJ, NULL, j,
		    strlen(j), BASE + i, NULL, NULL, LT_QUEUE_BLOCK), LT_OK);
		if (i % 50 == 0)
			ck_assert_int_eq(lt_queue_push_task(in, mark, &runs,
			    NULL, NULL), LT_OK);
	}
	lt_decoder_stop(dec);
	/* the stage closes its output when done: the sink ends */
	pthread_join(th, NULL);
	ck_assert(lt_queue_closed(in));
	ck_assert(lt_queue_closed(out));
	ck_assert_uint_eq(s.n, 200);
	for (i = 1, k = 0, it = s.head; it != NULL; it = it->next) {
		if (it->kind == LT_ITEM_TASK) {
			/* in place: after every 50th message */
			ck_assert_int_eq((i - 1) % 50, 0);
			k++;
			continue;
		}
		ck_assert_int_eq(it->msg.received_ms, BASE + i);
		ck_assert_ptr_nonnull(it->dec);
		ck_assert_int_eq(it->dec->rc, i % 3 == 0 ? LT_EPARSE : LT_OK);
		i++;
	}
	ck_assert_int_eq(k, 4);
	ck_assert_int_eq(i, 201);
	/* and the fold takes the lot (decoded: not decoded again) */
	lt_item_run_tasks(s.head);
	ck_assert_int_eq(runs, 4);
	ck_assert_int_eq(lt_pipeline_batch(fd, &lim, &hooks, s.head, &err),
	    LT_OK);
	hooks_ok();
	ck_assert_int_eq(qi("SELECT count(*) FROM events"), 134);
	ck_assert_int_eq(qi("SELECT count(*) FROM rejected_events"), 66);
	lt_item_free(s.head);
	lt_queue_free(out);
	lt_queue_free(in);
}
END_TEST

START_TEST(test_decoder_limits)
{
	struct lt_queue *in, *out;
	struct lt_decoder *dec;
	struct lt_limits small = lim;
	struct lt_item *head, *it;
	size_t n;

	ck_assert_int_eq(lt_queue_new(100, NULL, NULL, &in), LT_OK);
	ck_assert_int_eq(lt_queue_new(100, NULL, NULL, &out), LT_OK);
	ck_assert_int_eq(lt_decoder_start(in, out, &lim, &dec), LT_OK);
	small.max_payload = 20;
	lt_decoder_set_limits(dec, &small);
	it = msg("c1", 1, 0);
	ck_assert_int_eq(lt_queue_push_msg(in, SUBJ, NULL, it->msg.data,
	    it->msg.len, BASE, NULL, NULL, LT_QUEUE_BLOCK), LT_OK);
	lt_item_free(it);
	lt_decoder_stop(dec);
	head = lt_queue_take(out, 10, 0, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(head->dec);
	ck_assert_int_eq(head->dec->rc, LT_ELIMIT);
	lt_item_free(head);
	lt_queue_free(out);
	lt_queue_free(in);
	lt_decoder_stop(NULL);
}
END_TEST

/* Build the suite. */
static Suite *
pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_checked_fixture(tc, psetup, teardown);
	tcase_add_test(tc, test_batch_commits_with_hooks);
	tcase_add_test(tc, test_wanted_skips);
	tcase_add_test(tc, test_no_hooks_and_empty);
	tcase_add_test(tc, test_decoder_end_to_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejects");
	tcase_add_checked_fixture(tc, psetup, teardown);
	tcase_add_test(tc, test_fails_alone_poison);
	tcase_add_test(tc, test_fails_alone_no_failed_hook);
	tcase_add_test(tc, test_fails_alone_retry);
	tcase_add_test(tc, test_poison_first_keeps_begin);
	tcase_add_test(tc, test_db_failed_readonly_then_retry);
	tcase_add_test(tc, test_db_failed_in_slow_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("rejects-file");
	tcase_add_checked_fixture(tc, fsetup, fteardown);
	tcase_add_test(tc, test_db_failed_locked_then_retry);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge");
	tcase_add_checked_fixture(tc, psetup, teardown);
	tcase_add_test(tc, test_redelivery_verdict);
	tcase_add_test(tc, test_decoder_limits);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(pipeline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
