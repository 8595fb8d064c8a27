/*
 * stale.c - mark hosts stale that have been silent for too long.
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "alert.h"
#include "fold_int.h"
#include "stale.h"
#include "store_int.h"

/* Fill opts with the documented defaults. */
void
lt_stale_opts_default(struct lt_stale_opts *opts)
{
	struct lt_alert_sweep_opts ao;

	memset(opts, 0, sizeof(*opts));
	opts->threshold_ms = 70000;
	opts->default_interval_ms = 30000;
	opts->grace_ms = 10000;
	/* the alert side's defaults, once (alert.h) */
	lt_alert_sweep_opts_default(&ao);
	opts->mass_silence_min_hosts = ao.min_hosts;
	opts->mass_silence_fraction = ao.fraction;
	opts->mass_silence_window_ms = ao.window_ms;
	opts->storm_threshold = ao.storm_threshold;
}

/*
 * Mark 'up' hosts stale whose silence (now - last heartbeat or
 * host_started; first_seen_ms for a host never heard from that way),
 * counted from no earlier than window_start_ms, is over their threshold:
 * threshold_ms, or for a learned interval longer than default_interval_ms
 * the larger of threshold_ms and 2 x interval + grace_ms.
 */
int
lt_stale_sweep(struct lt_fold *f, const struct lt_stale_opts *opts,
    int64_t now_ms, int64_t window_start_ms, struct lt_stale_result *res,
    struct lt_err *err)
{
	struct lt_store *st = lt_fold_store(f);
	struct lt_stale_opts def;
	struct lt_alert_sweep as;
	struct lt_alert_sweep_opts ao;
	sqlite3_stmt *s = st->stmt[LT_ST_SWEPT_FIND];
	int rc, n = 0;

	if (opts == NULL) {
		lt_stale_opts_default(&def);
		opts = &def;
	}
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	/* the sweep reads and writes hosts by time and status */
	if ((rc = lt_fold_sync(f, err)) != LT_OK)
		return rc;
	/* find them (temp.latticed_swept, store.c), then mark them */
	if ((rc = lt_store_run(st, st->stmt[LT_ST_SWEPT_CLEAR], NULL,
	    "stale sweep", err)) != LT_OK)
		return rc;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, window_start_ms);
	sqlite3_bind_int64(s, 3, opts->default_interval_ms);
	sqlite3_bind_int64(s, 4, opts->threshold_ms);
	sqlite3_bind_int64(s, 5, opts->grace_ms);
	if ((rc = lt_store_run(st, s, NULL, "stale sweep", err)) != LT_OK)
		return rc;
	s = st->stmt[LT_ST_STALE_SWEEP];
	sqlite3_bind_int64(s, 1, now_ms);
	if ((rc = lt_store_run(st, s, &n, "stale sweep", err)) != LT_OK)
		return rc;
	if (res != NULL)
		res->marked = n;
	/* A storm's summary ends when its hosts are back (any sweep). */
	if ((rc = lt_alert_sweep_resolve(lt_fold_alerts(f), now_ms,
	    res != NULL ? &res->fleet_resolved : NULL, err)) != LT_OK)
		return rc;
	if (n == 0)
		return LT_OK;
	/* Their alerts, in the same transaction. */
	lt_alert_sweep_opts_default(&ao);
	ao.min_hosts = opts->mass_silence_min_hosts;
	ao.fraction = opts->mass_silence_fraction;
	ao.window_ms = opts->mass_silence_window_ms;
	ao.storm_threshold = opts->storm_threshold;
	ao.due_ms = opts->next_sweep_ms > 0 ? now_ms + opts->next_sweep_ms :
	    0;
	ao.window_start_ms = window_start_ms;
	ao.default_interval_ms = opts->default_interval_ms;
	ao.threshold_ms = opts->threshold_ms;
	ao.grace_ms = opts->grace_ms;
	if ((rc = lt_alert_on_sweep(lt_fold_alerts(f), now_ms, &ao, &as,
	    err)) != LT_OK ||
	    (rc = lt_store_run(st, st->stmt[LT_ST_SWEPT_CLEAR], NULL,
	    "stale sweep", err)) != LT_OK)
		return rc;
	if (res != NULL) {
		res->host_stale = as.host_stale;
		res->lattice_silent = as.lattice_silent;
		res->fleet_silent = as.fleet_silent;
		res->suppressed = as.suppressed;
	}
	return LT_OK;
}
