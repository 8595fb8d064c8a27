/*
 * rig.c - store + fold set-up for the bench programs (see rig.h).
 *
 * The update hook needs the store's sqlite3 handle, so this file reads
 * struct lt_store from store_int.h: bench code only, never a pattern for
 * daemon/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "fold.h"
#include "invcache.h"
#include "pipeline.h"
#include "queue.h"
#include "process.h"
#include "store.h"
#include "store_int.h"

#include "benchutil.h"
#include "rig.h"

/* Count one row change by table. */
static void
on_update(void *arg, int op, const char *db, const char *table,
    sqlite3_int64 rowid)
{
	struct rig *r = arg;
	enum rig_table t = RIG_OTHER;

	(void)op;
	(void)db;
	(void)rowid;
	/* schema 005 on: the tables behind the views of the same names */
	if (strncmp(table, "latticed_", 9) == 0)
		table += 9;
	if (strcmp(table, "hosts") == 0)
		t = RIG_HOSTS;
	else if (strcmp(table, "components") == 0)
		t = RIG_COMPONENTS;
	else if (strcmp(table, "providers") == 0)
		t = RIG_PROVIDERS;
	else if (strcmp(table, "events") == 0)
		t = RIG_EVENTS;
	r->rows[t]++;
}

/* Remove a database and its WAL files. */
static void
remove_db(const char *path)
{
	char p[4096];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* Open a fresh store and fold, in a process set up as latticed's. */
void
rig_open(struct rig *r, const char *path)
{
	struct lt_fold_opts opts;
	struct lt_err err;

	lt_process_init();	/* again is harmless */
	memset(r, 0, sizeof(*r));
	remove_db(path);
	lt_err_clear(&err);
	if (lt_store_open(path, &r->st, &err) != LT_OK) {
		fprintf(stderr, "store open %s: %s\n", path, err.msg);
		exit(1);
	}
	lt_fold_opts_default(&opts);
	/* Time-compressed runs send event times far from the clock. */
	opts.max_future_skew_ms = INT64_MAX / 4;
	if (lt_fold_new(r->st, &opts, &r->fold, &err) != LT_OK) {
		fprintf(stderr, "fold new: %s\n", err.msg);
		exit(1);
	}
	sqlite3_update_hook(r->st->db, on_update, r);
}

/* Close fold and store. */
void
rig_close(struct rig *r)
{
	lt_invcache_free(r->ic);
	r->ic = NULL;
	lt_fold_free(r->fold);
	lt_store_close(r->st);
	r->fold = NULL;
	r->st = NULL;
}

/* Count an outcome (the pipeline's hook). */
static void
rig_folded(void *arg, const struct lt_item *it, enum lt_outcome out,
    const struct lt_fold_info *fi, const struct lt_err *why)
{
	struct rig *r = arg;

	(void)it;
	(void)fi;
	r->outcomes[out]++;
	if (out == LT_OUT_REJECTED)
		fprintf(stderr, "rejected: %s (%s)\n", why->msg, why->field);
}

/* The messages of a batch as pipeline items, or exit. */
static struct lt_item *
rig_items(char *const *data, const size_t *len, size_t n,
    int64_t received_ms)
{
	struct lt_item *head = NULL, **tail = &head, *it;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((it = lt_item_msg_new("wasmbus.evt.bench.host_heartbeat",
		    NULL, data[i], len[i], received_ms)) == NULL) {
			fprintf(stderr, "fold: out of memory\n");
			exit(1);
		}
		*tail = it;
		tail = &it->next;
	}
	return head;
}

/* Fold the items in one transaction through latticed's pipeline, or
   exit. */
static void
rig_fold(struct rig *r, struct lt_item *head, const struct lt_limits *lim)
{
	struct lt_pipeline_hooks h = { 0 };
	struct lt_err err;

	lt_err_clear(&err);
	h.arg = r;
	h.folded = rig_folded;
	if (lt_pipeline_batch(r->fold, lim, &h, head, &err) != LT_OK) {
		fprintf(stderr, "fold: %s\n", err.msg);
		exit(1);
	}
	lt_item_free(head);
}

/* Fold a batch in one transaction, through latticed's pipeline. */
void
rig_batch(struct rig *r, char *const *data, const size_t *len, size_t n,
    int64_t received_ms)
{
	struct lt_limits lim;

	lt_limits_default(&lim);
	rig_fold(r, rig_items(data, len, n, received_ms), &lim);
}

/* rig_batch() with each stage timed: the messages decoded first, as the
   decode stage would, then folded (the fold thread's part). */
void
rig_batch_staged(struct rig *r, char *const *data, const size_t *len,
    size_t n, int64_t received_ms, int64_t *decode_ns, int64_t *fold_ns)
{
	struct lt_item *head, *it;
	struct lt_limits lim;
	int64_t t0, t1, t2;

	lt_limits_default(&lim);
	head = rig_items(data, len, n, received_ms);
	if (r->ic == NULL && lt_invcache_new(0, &r->ic) != LT_OK)
		goto oom;
	t0 = bu_mono_ns();
	for (it = head; it != NULL; it = it->next)
		if (lt_fold_decode(&lim, &it->msg, &it->dec) != LT_OK ||
		    lt_fold_decode_ahead(it->dec, &lim, r->ic) != LT_OK)
			goto oom;
	t1 = bu_mono_ns();
	rig_fold(r, head, &lim);
	t2 = bu_mono_ns();
	*decode_ns = t1 - t0;
	*fold_ns = t2 - t1;
	return;
oom:
	fprintf(stderr, "fold: out of memory\n");
	exit(1);
}

/* Name a table counter. */
const char *
rig_table_name(enum rig_table t)
{
	static const char *const names[RIG_NTABLES] = {
		"hosts", "components", "providers", "events", "other"
	};

	return names[t];
}
