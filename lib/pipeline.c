/*
 * pipeline.c - the batch fold every ingest path shares, and the decode
 * stage that feeds it from a thread of its own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ce.h"
#include "err.h"
#include "fold.h"
#include "invcache.h"
#include "pipeline.h"
#include "queue.h"

#define DECODE_TAKE	256	/* messages the stage takes at once */

/* The redelivery policy for a message that failed alone. */
enum lt_verdict
lt_redelivery_verdict(uint64_t delivered, int max_deliver)
{
	if (delivered == 0 || max_deliver <= 0)
		return LT_V_POISON;
	return delivered < (uint64_t)max_deliver ? LT_V_RETRY : LT_V_POISON;
}

/* Per-message state while a batch is folded (kept in the item). */
struct mstate {
	enum lt_outcome	 out;
	struct lt_err	 why;
};

/* Copy at most len - 1 bytes of s (n < 0: NUL-terminated) into dst. */
static void
copy_name(char *dst, size_t len, const char *s, int n)
{
	size_t k;

	if (s == NULL) {
		dst[0] = '\0';
		return;
	}
	k = n < 0 ? strlen(s) : (size_t)n;
	if (k >= len)
		k = len - 1;
	memcpy(dst, s, k);
	dst[k] = '\0';
}

/* What the fold learned about a message, from its decoded form. */
static void
item_info(struct lt_fold *f, const struct lt_item *it,
    struct lt_fold_info *fi)
{
	const struct lt_decoded *d = it->dec;

	memset(fi, 0, sizeof(*fi));
	if (it->msg.subject == NULL)
		copy_name(fi->lattice, sizeof(fi->lattice),
		    lt_fold_default_lattice(f), -1);
	else if (d != NULL && d->lattice != NULL)
		copy_name(fi->lattice, sizeof(fi->lattice), d->lattice,
		    d->latlen);
	if (d != NULL) {
		fi->rpc = d->rpc;
		if (d->ev != NULL)
			copy_name(fi->type, sizeof(fi->type), d->ev->type, -1);
	}
}

/* Fold one message inside the open transaction. */
static int
fold_item(struct lt_fold *f, const struct lt_limits *lim,
    const struct lt_pipeline_hooks *h, struct lt_item *it,
    struct mstate *ms, struct lt_err *err)
{
	int rc;

	ms->out = LT_OUT_APPLIED;
	lt_err_clear(&ms->why);
	if (h->wanted != NULL && !h->wanted(h->arg, it)) {
		ms->out = LT_OUT_RECORDED;
		ms->why.code = -1;	/* skipped: not reported */
		return LT_OK;
	}
	if (it->dec == NULL && lt_fold_decode(lim, &it->msg, &it->dec) !=
	    LT_OK)
		return lt_err_set(err, LT_ENOMEM, "", "pipeline: out of "
		    "memory");
	rc = lt_fold_apply(f, &it->msg, it->dec, &ms->out, NULL, &ms->why);
	if (rc != LT_OK) {
		*err = ms->why;
		return rc;
	}
	return LT_OK;
}

/* Report a committed message and acknowledge it. */
static void
settle(struct lt_fold *f, const struct lt_pipeline_hooks *h,
    struct lt_item *it, const struct mstate *ms)
{
	struct lt_fold_info fi;

	if (ms->why.code != -1 && h->folded != NULL) {
		item_info(f, it, &fi);
		h->folded(h->arg, it, ms->out, &fi, &ms->why);
	}
	if (h->ack != NULL)
		h->ack(h->arg, it);
	/* done: a retry of this list passes over it */
	it->kind = LT_ITEM_TASK;
	it->run = NULL;
}

/* Commit, or say why not. */
static int
commit(struct lt_fold *f, const struct lt_pipeline_hooks *h, uint64_t seq,
    struct lt_err *err)
{
	int rc;

	if (h->end != NULL && (rc = h->end(h->arg, seq, err)) != LT_OK)
		return rc;
	return lt_fold_commit(f, err);
}

/* Keep a message that fails alone as poison, in a transaction of its
   own. */
static int
poison(struct lt_fold *f, const struct lt_pipeline_hooks *h,
    struct lt_item *it, const struct lt_err *why, int first,
    struct lt_err *err)
{
	char reason[300];
	int rc, n;

	n = snprintf(reason, sizeof(reason), "poison: failed %llu "
	    "deliveries: %s", (unsigned long long)(it->delivered > 0 ?
	    it->delivered : 1), why->msg);
	if (n < 0)
		reason[0] = '\0';	/* a longer reason is cut: it is text */
	if ((rc = lt_fold_begin(f, err)) != LT_OK)
		return rc;
	/* the first transaction of the list carries begin's work */
	if ((first && h->begin != NULL &&
	    (rc = h->begin(h->arg, err)) != LT_OK) ||
	    (rc = lt_fold_reject(f, it->msg.subject, it->msg.received_ms,
	    LT_ESTORE, reason, it->msg.data, it->msg.len, it->size, err)) !=
	    LT_OK || (rc = commit(f, h, it->seq, err)) != LT_OK) {
		lt_fold_rollback(f);
		return rc;
	}
	return LT_OK;
}

/* Fold the list one message per transaction (the slow path). */
static int
one_by_one(struct lt_fold *f, const struct lt_limits *lim,
    const struct lt_pipeline_hooks *h, struct lt_item *head,
    struct lt_err *err)
{
	struct lt_item *it;
	struct mstate ms;
	struct lt_err why;
	size_t n = 0;
	int rc;

	for (it = head; it != NULL; it = it->next) {
		if (it->kind != LT_ITEM_MSG)
			continue;
		if ((rc = lt_fold_begin(f, err)) != LT_OK)
			return rc;
		if ((h->begin != NULL && n == 0 &&
		    (rc = h->begin(h->arg, err)) != LT_OK) ||
		    (rc = fold_item(f, lim, h, it, &ms, err)) != LT_OK ||
		    (rc = commit(f, h, it->seq, err)) != LT_OK) {
			lt_fold_rollback(f);
			if (rc != LT_ESTORE || err->db_failed)
				return rc;
			why = *err;
			if (h->failed != NULL &&
			    h->failed(h->arg, it, &why) == LT_V_RETRY) {
				/* the hook gave it back for redelivery */
				it->kind = LT_ITEM_TASK;
				it->run = NULL;
				continue;
			}
			if ((rc = poison(f, h, it, &why, n == 0, err)) !=
			    LT_OK)
				return rc;
			ms.out = LT_OUT_REJECTED;
			ms.why = why;
			ms.why.code = LT_ESTORE;
		}
		n++;
		settle(f, h, it, &ms);
		if (h->committed != NULL)
			h->committed(h->arg, 1);
	}
	return LT_OK;
}

/* Fold a list in one transaction, then the after-commit steps. */
int
lt_pipeline_batch(struct lt_fold *f, const struct lt_limits *lim,
    const struct lt_pipeline_hooks *h, struct lt_item *head,
    struct lt_err *err)
{
	struct mstate *ms = NULL;
	struct lt_item *it;
	uint64_t last = 0;
	size_t n = 0, i;
	int rc;

	lt_err_clear(err);
	for (it = head; it != NULL; it = it->next)
		if (it->kind == LT_ITEM_MSG) {
			n++;
			if (it->seq > last)
				last = it->seq;
		}
	/* outcomes are reported only once committed */
	if (n > 0 && (ms = calloc(n, sizeof(*ms))) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "pipeline: out of "
		    "memory");
	if ((rc = lt_fold_begin(f, err)) != LT_OK)
		goto out;
	if (h->begin != NULL && (rc = h->begin(h->arg, err)) != LT_OK)
		goto slow;
	for (i = 0, it = head; it != NULL; it = it->next)
		if (it->kind == LT_ITEM_MSG &&
		    (rc = fold_item(f, lim, h, it, &ms[i++], err)) != LT_OK)
			goto slow;
	if ((rc = commit(f, h, last, err)) != LT_OK)
		goto slow;
	for (i = 0, it = head; it != NULL; it = it->next)
		if (it->kind == LT_ITEM_MSG)
			settle(f, h, it, &ms[i++]);
	if (h->committed != NULL)
		h->committed(h->arg, n);
	rc = LT_OK;
	goto out;
slow:
	lt_fold_rollback(f);
	/* a failing database is no message's fault: keep them all */
	if (rc != LT_ESTORE || err->db_failed)
		goto out;
	rc = one_by_one(f, lim, h, head, err);
out:
	free(ms);
	return rc;
}

/* --- the decode stage ------------------------------------------------ */

struct lt_decoder {
	pthread_t	 tid;
	pthread_mutex_t	 mtx;
	struct lt_queue	*in, *out;
	struct lt_limits lim;
	uint64_t	 count;
	size_t		 pace_min;	/* lt_decoder_set_pace() */
	int64_t		 pace_ms;
	struct lt_invcache *ic;		/* the stage thread's alone */
};

/* Decode what arrives, in order, until the input is closed and empty. */
static void *
decoder_main(void *arg)
{
	struct lt_decoder *d = arg;
	struct lt_limits lim;
	struct lt_item *head, *it;
	size_t n, pace_min;
	int64_t pace_ms;

	for (;;) {
		pthread_mutex_lock(&d->mtx);
		pace_min = d->pace_min;
		pace_ms = d->pace_ms;
		pthread_mutex_unlock(&d->mtx);
		head = lt_queue_take_paced(d->in, DECODE_TAKE, pace_min,
		    pace_ms, &n);
		if (head == NULL) {
			if (lt_queue_closed(d->in) &&
			    lt_queue_len(d->in, NULL) == 0)
				break;
			continue;
		}
		pthread_mutex_lock(&d->mtx);
		lim = d->lim;
		pthread_mutex_unlock(&d->mtx);
		for (it = head; it != NULL; it = it->next)
			/* out of memory: the fold decodes what it needs */
			if (it->kind == LT_ITEM_MSG && it->dec == NULL &&
			    lt_fold_decode(&lim, &it->msg, &it->dec) == LT_OK)
				(void)lt_fold_decode_ahead(it->dec, &lim,
				    d->ic);
		if (lt_queue_push_list(d->out, head) != LT_OK)
			break;
		lt_queue_done(d->in);
		pthread_mutex_lock(&d->mtx);
		d->count += n;
		pthread_mutex_unlock(&d->mtx);
	}
	/* nothing more comes: the consumer drains and stops */
	lt_queue_close(d->out);
	return NULL;
}

/* Start the decode stage. */
int
lt_decoder_start(struct lt_queue *in, struct lt_queue *out,
    const struct lt_limits *lim, struct lt_decoder **out_dec)
{
	struct lt_decoder *d;

	*out_dec = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return LT_ENOMEM;
	if (lt_invcache_new(0, &d->ic) != LT_OK) {
		free(d);
		return LT_ENOMEM;
	}
	if (pthread_mutex_init(&d->mtx, NULL) != 0) {
		lt_invcache_free(d->ic);
		free(d);
		return LT_ENOMEM;
	}
	d->in = in;
	d->out = out;
	d->lim = *lim;
	if (pthread_create(&d->tid, NULL, decoder_main, d) != 0) {
		pthread_mutex_destroy(&d->mtx);
		lt_invcache_free(d->ic);
		free(d);
		return LT_ENOMEM;
	}
	/* visible in top -H and /proc/PID/task/N/comm */
	(void)pthread_setname_np(d->tid, "decode");
	*out_dec = d;
	return LT_OK;
}

/* Replace the limits. */
void
lt_decoder_set_limits(struct lt_decoder *d, const struct lt_limits *lim)
{
	pthread_mutex_lock(&d->mtx);
	d->lim = *lim;
	pthread_mutex_unlock(&d->mtx);
}

/* Pace the stage's takes at a trickle. */
void
lt_decoder_set_pace(struct lt_decoder *d, size_t min, int64_t pace_ms)
{
	pthread_mutex_lock(&d->mtx);
	d->pace_min = min;
	d->pace_ms = pace_ms;
	pthread_mutex_unlock(&d->mtx);
}

/* Messages decoded so far. */
uint64_t
lt_decoder_count(struct lt_decoder *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->mtx);
	n = d->count;
	pthread_mutex_unlock(&d->mtx);
	return n;
}

/* Wait for the stage to finish and free it. */
void
lt_decoder_stop(struct lt_decoder *d)
{
	if (d == NULL)
		return;
	lt_queue_close(d->in);
	pthread_join(d->tid, NULL);
	pthread_mutex_destroy(&d->mtx);
	lt_invcache_free(d->ic);
	free(d);
}
