/*
 * replay.c - fold a JSONL file of events without NATS (--replay), through
 * the same pipeline as live ingest (pipeline.h): a reader thread splits
 * lines (jsonl.h) into the decode stage, this thread folds what comes out
 * in batches.  So a replay uses both cores, as the daemon does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "config.h"
#include "fold.h"
#include "jsonl.h"
#include "log.h"
#include "maint.h"
#include "outbox.h"
#include "pipeline.h"
#include "queue.h"
#include "replay.h"
#include "stale.h"
#include "store.h"

/* Events per transaction.  A replay is history and can be re-run, so a
   batch can be big: index pages shared by many events are written to the
   WAL once (50,000-event flood file: 6.6 s at 1,000, 5.0 s at 10,000). */
#define REPLAY_BATCH	10000
#define REPLAY_BACKSTOP	8192	/* WAL frames: see replay_run() */
#define REPLAY_QUEUE	2500	/* messages in each queue: what the decode
				   stage needs to stay ahead, not a batch
				   (50,000 queued events took 200 MiB) */

struct reader {
	FILE		*fp;
	const char	*path;
	struct lt_queue	*in;
	unsigned long	 lines;
	int64_t		 last_ms;	/* the replay's clock */
	int		 failed;	/* a read error or out of memory */
};

/* Read, split and queue every line, then close the queue (thread). */
static void *
reader_main(void *arg)
{
	struct reader		*r = arg;
	struct lt_jsonl_line	 l;
	struct lt_item		*it;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 len;

	while ((len = getline(&line, &cap, r->fp)) != -1) {
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		r->lines++;
		if (len == 0)
			continue;
		if (lt_jsonl_split(line, (size_t)len, &l) != LT_OK) {
			r->failed = 1;
			break;
		}
		/* received_at is the clock; else the events' own times */
		if (l.received_ok)
			r->last_ms = l.received_ms;
		else if (l.time_ok)
			r->last_ms = l.time_ms;
		it = lt_item_msg_new(l.subject, NULL, l.payload, l.len,
		    r->last_ms);
		lt_jsonl_clear(&l);
		if (it == NULL) {
			r->failed = 1;
			break;
		}
		if (lt_queue_push(r->in, it, LT_QUEUE_BLOCK) != LT_OK)
			break;		/* the folder gave up */
	}
	if (ferror(r->fp)) {
		log_warn("replay: %s", r->path);
		r->failed = 1;
	}
	free(line);
	lt_queue_close(r->in);
	return NULL;
}

/*
 * In each batch's transaction: a replay records alerts but delivers none
 * (it is history, often old): their queued changes are dropped, so a
 * daemon started on the file later does not send them.
 */
static int
hook_end(void *arg, uint64_t last_seq, struct lt_err *err)
{
	(void)last_seq;
	return lt_outbox_enqueue_pending(arg, NULL, 0, 0, NULL, err);
}

/* Log a rejected line at debug level. */
static void
hook_folded(void *arg, const struct lt_item *it, enum lt_outcome out,
    const struct lt_fold_info *fi, const struct lt_err *why)
{
	(void)arg;
	(void)fi;
	if (out == LT_OUT_REJECTED)
		log_debug("replay: subject=%s rejected: %s",
		    it->msg.subject != NULL ? it->msg.subject : "-", why->msg);
}

/* Replay path into the database. */
int
replay_run(const struct config *cf, const char *path)
{
	struct lt_store		*st = NULL;
	struct lt_fold		*f = NULL;
	struct lt_outbox	*ob = NULL;
	struct lt_queue		*in = NULL, *out = NULL;
	struct lt_decoder	*dec = NULL;
	struct ckpt		*ck = NULL;
	struct ckpt_opts	 co;
	struct lt_pipeline_hooks h = { 0 };
	struct lt_fold_opts	 fo;
	struct lt_stale_opts	 so;
	struct lt_stale_result	 res = { 0 };
	struct lt_err		 err;
	struct lt_item		*batch;
	struct reader		 r = { 0 };
	const struct lt_fold_stats *fs;
	pthread_t		 th;
	size_t			 n;
	int			 status = 1, started = 0;

	lt_err_clear(&err);
	r.path = path;
	r.fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (r.fp == NULL) {
		log_warn("replay: %s", path);
		return 1;
	}
	maint_announce_migration(cf->db);
	if (lt_store_open(cf->db, &st, &err) != LT_OK) {
		maint_open_failed(cf->db, &err);
		goto out;
	}
	/*
	 * The daemon's checkpointer copies the WAL while this thread folds.
	 * A batch writes 2,000 to 3,000 pages (bench mix), more than
	 * store.c's automatic checkpoint allows (2,048): with that as the
	 * backstop this thread would still checkpoint at every commit.  A
	 * replay's backstop lets the WAL reach 32 MiB first, so the fold
	 * copies one batch in three or four, the checkpointer the rest.
	 */
	co.interval_ms = cf->checkpoint_interval_ms;
	co.backstop = REPLAY_BACKSTOP;
	if (ckpt_start(cf->db, st, &co, NULL, NULL, NULL, &ck) == -1) {
		lt_err_set(&err, LT_ENOMEM, "", "cannot start the "
		    "checkpointer");
		goto fail;
	}
	lt_fold_opts_default(&fo);
	fo.limits = cf->limits;
	fo.v2_lattice = cf->v2_lattice;
	fo.v2_lattice_map = cf->v2_lattice_map;
	if (lt_fold_new(st, &fo, &f, &err) != LT_OK ||
	    lt_outbox_new(st, &ob, &err) != LT_OK)
		goto fail;
	if (lt_queue_new(REPLAY_QUEUE, NULL, NULL, &in) != LT_OK ||
	    lt_queue_new(REPLAY_QUEUE, NULL, NULL, &out) != LT_OK ||
	    lt_decoder_start(in, out, &cf->limits, &dec) != LT_OK) {
		lt_err_set(&err, LT_ENOMEM, "", "cannot start the pipeline");
		goto fail;
	}
	r.in = in;
	if (pthread_create(&th, NULL, reader_main, &r) != 0) {
		lt_err_set(&err, LT_ENOMEM, "", "cannot start the reader");
		goto fail;
	}
	started = 1;
	h.arg = ob;
	h.end = hook_end;
	h.folded = hook_folded;
	/* the decode stage closes out once the reader is done */
	while ((batch = lt_queue_take(out, REPLAY_BATCH, 1, &n)) != NULL) {
		if (lt_pipeline_batch(f, &cf->limits, &h, batch, &err) !=
		    LT_OK) {
			lt_item_free(batch);
			goto fail;
		}
		lt_item_free(batch);
		lt_queue_done(out);
	}
	pthread_join(th, NULL);
	started = 0;
	if (r.failed) {
		lt_err_set(&err, LT_ENOMEM, "", "%s: reading stopped at line "
		    "%lu", path, r.lines);
		goto fail;
	}
	config_stale_opts(cf, &so);
	if (lt_fold_begin(f, &err) != LT_OK)
		goto fail;
	if ((r.last_ms > 0 && lt_stale_sweep(f, &so, r.last_ms, 0, &res,
	    &err) != LT_OK) || hook_end(ob, 0, &err) != LT_OK ||
	    lt_fold_commit(f, &err) != LT_OK) {
		lt_fold_rollback(f);
		goto fail;
	}
	fs = lt_fold_stats(f);
	printf("replay: %lu lines: applied %llu, unchanged %llu, superseded "
	    "%llu, recorded %llu, duplicate %llu, rejected %llu; %d host(s) "
	    "marked stale\n", r.lines,
	    (unsigned long long)fs->outcomes[LT_OUT_APPLIED],
	    (unsigned long long)fs->outcomes[LT_OUT_UNCHANGED],
	    (unsigned long long)fs->outcomes[LT_OUT_SUPERSEDED],
	    (unsigned long long)fs->outcomes[LT_OUT_RECORDED],
	    (unsigned long long)fs->outcomes[LT_OUT_DUPLICATE],
	    (unsigned long long)fs->outcomes[LT_OUT_REJECTED], res.marked);
	status = 0;
	goto out;
fail:
	log_warnx("replay: %s: %s", lt_strerror(err.code), err.msg);
out:
	if (in != NULL)
		lt_queue_close(in);	/* the reader stops at its next push */
	if (out != NULL)
		lt_queue_close(out);
	if (started)
		pthread_join(th, NULL);
	lt_decoder_stop(dec);
	lt_queue_free(in);
	lt_queue_free(out);
	if (r.fp != NULL && r.fp != stdin)
		fclose(r.fp);
	lt_outbox_free(ob);
	lt_fold_free(f);
	/* last: closing st, the last connection, checkpoints what is left
	   and removes the WAL */
	ckpt_stop(ck);
	lt_store_close(st);
	return status;
}
