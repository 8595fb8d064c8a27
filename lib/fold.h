/*
 * fold.h - fold lattice messages into the SQLite model.
 *
 * A message is what arrived on NATS (or a replay line): subject, payload
 * bytes and latticed's receive time.  lt_fold_msg() decodes it (ce.h; on
 * runtime.operator.heartbeat.<id>, a wasmCloud 2 heartbeat: v2hb.h),
 * records it in `events` (or `rejected_events` when it is bad input) and
 * applies the rules of the model to hosts, components, providers, links,
 * configs and alerts, all inside the caller's transaction:
 *
 *	lt_fold_begin(f);  lt_fold_msg(f, ...) x N;  lt_fold_commit(f);
 *
 * Rules (docs/schema.md has the full list): duplicates by (source, id) are
 * no-ops; an event older (by event time) than the newest change applied to
 * its host never undoes it; a heartbeat is authoritative for its host's
 * inventory; links and configs are lattice-wide.
 *
 * Time: received_ms is latticed's clock (the daemon's, or in a replay the
 * event's own time).  Staleness is judged on received times only.
 *
 * Errors: bad input is not an error of lt_fold_msg(): it returns LT_OK with
 * *outcome LT_OUT_REJECTED and err describing it (the row is already in
 * rejected_events).  LT_ESTORE means the database failed: the caller rolls
 * back the batch.
 */
#ifndef LT_FOLD_H
#define LT_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "ce.h"
#include "err.h"

struct lt_store;
struct lt_fold;

struct lt_fold_opts {
	struct lt_limits limits;
	const char	*default_lattice;  /* for messages without a subject
					      (bare replay lines): "default" */
	int64_t		 max_future_skew_ms; /* event times further ahead of
					      received_ms are clamped to it
					      (default 5 min) */
	/* wasmCloud 2 heartbeats (v2hb.h) name no lattice: theirs is
	   v2_lattice when set, else the v2_lattice_map entry of their
	   environment ("env=lattice,env2=lattice2"), else the environment,
	   else "default".  NULL: unset.  Copied. */
	const char	*v2_lattice;
	const char	*v2_lattice_map;
};

/* Fill opts with defaults. */
void	lt_fold_opts_default(struct lt_fold_opts *opts);

struct lt_msg {
	const char	*subject;	/* NULL: default lattice */
	const void	*data;
	size_t		 len;
	int64_t		 received_ms;
	const char	*pattern;	/* the subscription the message arrived
					   on, NULL: not checked */
};

enum lt_outcome {
	LT_OUT_APPLIED,		/* changed the model */
	LT_OUT_UNCHANGED,	/* valid, nothing to change (same inventory) */
	LT_OUT_SUPERSEDED,	/* older than what the model already holds */
	LT_OUT_RECORDED,	/* kept in history only (unmodelled, failures,
				   rpc notifications) */
	LT_OUT_DUPLICATE,	/* same (source, id) already folded */
	LT_OUT_REJECTED,	/* bad input, kept in rejected_events */
};

/* Running totals since lt_fold_new(), for logs and metrics. */
struct lt_fold_stats {
	uint64_t	 outcomes[LT_OUT_REJECTED + 1];
	uint64_t	 batches;
};

/* st is borrowed and must outlive the fold.  opts is copied. */
int	lt_fold_new(struct lt_store *st, const struct lt_fold_opts *opts,
	    struct lt_fold **out, struct lt_err *err);
void	lt_fold_free(struct lt_fold *f);
/* Replace the options (SIGHUP).  */
void	lt_fold_set_opts(struct lt_fold *f, const struct lt_fold_opts *opts);

/*
 * A batch's transaction.  Between lt_fold_begin() and lt_fold_commit() the
 * fold keeps each host row it touched in memory: a later event of the host
 * reads no row, and a host row whose status did not change is written
 * once, by lt_fold_commit(), however many events changed it.  So inside
 * the transaction a hosts row's columns other than status and
 * status_changed_ms may lag behind the events folded; readers of the
 * committed file never see that.  A failed lt_fold_commit() leaves the
 * transaction open for lt_fold_rollback().  Without lt_fold_begin() (a
 * transaction the caller opened with the store, or none) every row is
 * written at once.
 */
int	lt_fold_begin(struct lt_fold *f, struct lt_err *err);
int	lt_fold_commit(struct lt_fold *f, struct lt_err *err);
void	lt_fold_rollback(struct lt_fold *f);

/* Fold one message.  outcome may be NULL. */
int	lt_fold_msg(struct lt_fold *f, const struct lt_msg *m,
	    enum lt_outcome *outcome, struct lt_err *err);

/* What lt_fold_msg_info() learned about a message, for metrics. */
struct lt_fold_info {
	char		 lattice[128];	/* from the subject (or the default
					   lattice), truncated; "" when the
					   subject is not a lattice subject */
	char		 type[128];	/* CloudEvent type, truncated; "" when
					   the payload did not decode */
	int		 rpc;		/* the subject is wasmbus.rpcevt.* */
};

/* lt_fold_msg() that also fills info (may be NULL), whatever the
   outcome. */
int	lt_fold_msg_info(struct lt_fold *f, const struct lt_msg *m,
	    enum lt_outcome *outcome, struct lt_fold_info *info,
	    struct lt_err *err);

/*
 * Record a message that never reached the decoder (the daemon dropped it:
 * inbox overflow, over max_payload before copying, ...) in rejected_events
 * with the given error class and reason.  raw may be a prefix of the
 * message; raw_size is the full size.
 */
int	lt_fold_reject(struct lt_fold *f, const char *subject,
	    int64_t received_ms, int code, const char *reason,
	    const void *raw, size_t rawlen, size_t raw_size,
	    struct lt_err *err);

/*
 * The two halves of lt_fold_msg_info(), so that decoding can run on
 * another thread than the fold.  lt_fold_decode() touches no fold and no
 * database: it checks the subject (against m->pattern too, since nats.c
 * cuts a subject at a NUL) and decodes the payload with lim.  Bad input is
 * not an error: it is kept in *out and rejected by lt_fold_apply().
 * Returns LT_OK or LT_ENOMEM.  *out borrows m->subject: apply it with the
 * same m.  lt_fold_apply() folds it in the caller's transaction exactly
 * as lt_fold_msg_info() does; d stays the caller's (lt_decoded_free()),
 * and applying it again after a rollback folds it again.
 */
struct lt_decoded {
	int		 rc;		/* LT_OK, or why the message is bad */
	struct lt_err	 why;
	struct lt_ce	*ev;		/* the event when rc is LT_OK */
	const char	*lattice;	/* in m->subject; NULL: none (a v2
				   heartbeat: lt_fold_apply maps it) */
	int		 latlen;
	int		 rpc;		/* wasmbus.rpcevt.* */
};
int	lt_fold_decode(const struct lt_limits *lim, const struct lt_msg *m,
	    struct lt_decoded **out);
int	lt_fold_apply(struct lt_fold *f, const struct lt_msg *m,
	    struct lt_decoded *d, enum lt_outcome *outcome,
	    struct lt_fold_info *info, struct lt_err *err);
void	lt_decoded_free(struct lt_decoded *d);

/*
 * After lt_fold_decode(), on the decode stage's thread: decode ahead what
 * lt_fold_apply() will likely need, so that the fold's thread does not.
 * Today that is a heartbeat's deferred inventory when ic (invcache.h: the
 * stage's own state, one thread at a time) guesses it changed since the
 * host's last heartbeat (lt_ce_inventory_prepare()); other host events
 * that change a host's components or providers make ic forget the host.
 * What lt_fold_apply() does with d is the same whether or not this ran,
 * and whatever ic guessed: only where the work happens differs.  Call it
 * on messages in the order they will be folded.  Returns LT_OK or
 * LT_ENOMEM (then the fold decodes what it needs itself).
 */
struct lt_invcache;
int	lt_fold_decode_ahead(struct lt_decoded *d,
	    const struct lt_limits *lim, struct lt_invcache *ic);

/* The lattice of messages without a subject (opts.default_lattice). */
const char *lt_fold_default_lattice(const struct lt_fold *f);

/* Whether a NATS subject matches a subscription pattern (* and >
   wildcards). */
int	lt_subject_match(const char *pattern, const char *subject);

const struct lt_fold_stats *lt_fold_stats(const struct lt_fold *f);
const char *lt_outcome_name(enum lt_outcome o);

#endif
