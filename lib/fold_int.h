/*
 * fold_int.h - private to lib/fold*.c and lib/stale.c.
 */
#ifndef LT_FOLD_INT_H
#define LT_FOLD_INT_H

struct lt_alert;
struct lt_err;
struct lt_fold;
struct lt_store;

/* The store a fold writes to (borrowed). */
struct lt_store	*lt_fold_store(struct lt_fold *f);
/* The alert statements a fold writes with (borrowed; alert.h). */
struct lt_alert	*lt_fold_alerts(struct lt_fold *f);
/*
 * Inside the fold's transaction, write the host rows whose writes it
 * deferred (fold.h) and forget its cached rows: call before any statement
 * reads or writes hosts by other than the row's key (the stale sweep).
 */
int		 lt_fold_sync(struct lt_fold *f, struct lt_err *err);

#endif
