/*
 * alert.h - the alert model: which state changes fire or resolve alerts.
 *
 * Alerts are rows of the `alerts` table (schema/001_init.sql), written in
 * the same transaction as the state change that causes them, so a crash
 * can neither lose nor invent one.  The fold (lt_fold_msg) and the stale
 * sweep (lt_stale_sweep) call in here; nothing else needs to.  The unique
 * index alerts_one_active makes every fire idempotent: at most one active
 * alert per (lattice, kind, entity), so repeated sweeps, repeated failing
 * health checks and duplicate events add nothing.  Every change is queued
 * for delivery by triggers (schema/002_alert_outbox.sql; see outbox.h).
 *
 * Kinds, severities, entities and resolutions are in docs/alerting.md.
 * Times are latticed's clock: the message's received time, the sweep's now.
 *
 * One thread at a time uses a struct lt_alert, inside the caller's write
 * transaction.
 */
#ifndef LT_ALERT_H
#define LT_ALERT_H

#include <stdint.h>

#include "err.h"

struct lt_ce;
struct lt_store;
struct lt_alert;

/* A host's status before and after an event, for the host rules. */
enum lt_alert_host {
	LT_AH_NONE = 0,		/* no host row (or not a host event) */
	LT_AH_UP,
	LT_AH_STALE,
	LT_AH_STOPPED,
};

/* An event the fold applied (never a duplicate or a superseded one). */
struct lt_alert_event {
	const char		*lattice;
	int			 latlen;	/* bytes of lattice, -1: NUL-
						   terminated */
	const struct lt_ce	*ev;		/* borrowed */
	int64_t			 now_ms;	/* received time */
	enum lt_alert_host	 host_was;	/* host events only */
	enum lt_alert_host	 host_is;
	int			 host_known;	/* 1: host_name is the host's
						   friendly name (the fold's
						   row may not be written
						   yet); 0: read it */
	const char		*host_name;	/* may be NULL */
};

/* The alert kinds latticed fires, *n of them (static storage): for
   exporters that show every kind, zeros included. */
const char *const *lt_alert_kinds(size_t *n);

/* Prepare the alert statements on st (borrowed; must outlive *out). */
int	lt_alert_new(struct lt_store *st, struct lt_alert **out,
	    struct lt_err *err);
/* Finalize and free.  NULL is fine. */
void	lt_alert_free(struct lt_alert *a);

/*
 * Fire and resolve what the applied event e implies: host_stopped,
 * host_stale / lattice_silent resolutions, provider_unhealthy and the
 * *_failed kinds.  LT_ESTORE when the database failed.
 */
int	lt_alert_on_event(struct lt_alert *a, const struct lt_alert_event *e,
	    struct lt_err *err);

/* What one sweep's alerts did. */
struct lt_alert_sweep {
	int	host_stale;		/* host_stale alerts fired */
	int	lattice_silent;		/* lattice_silent alerts fired */
	int	fleet_silent;		/* 1 when fleet_silent fired */
	int	suppressed;		/* hosts past the storm threshold */
};

/* How the sweep's alerts are grouped and capped (docs/alerting.md). */
struct lt_alert_sweep_opts {
	int	min_hosts;		/* mass_silence_min_hosts, 3; 0: no
					   lattice_silent */
	double	fraction;		/* mass_silence_fraction, 0.5 */
	int64_t	window_ms;		/* mass_silence_window, 120000 */
	int	storm_threshold;	/* alert_storm_threshold, 50; 0: no
					   cap */
	/* Hosts still up that a sweep at due_ms would mark stale (by
	   lt_stale_sweep's terms below) count as gone silent in the mass
	   judgment, so a flood whose deadlines straddle this sweep is
	   judged whole, not as host_stale alerts now and a lattice_silent
	   at the next sweep.  due_ms <= now_ms: none (the default). */
	int64_t	due_ms;
	int64_t	window_start_ms;
	int64_t	default_interval_ms;
	int64_t	threshold_ms;
	int64_t	grace_ms;
};

/* The names a lattice_silent's details.host_ids holds at most. */
#define LT_ALERT_SILENT_NAMES	100

void	lt_alert_sweep_opts_default(struct lt_alert_sweep_opts *o);

/*
 * After a stale sweep at now_ms marked hosts stale (status 'stale',
 * status_changed_ms = now_ms) and listed them, and only them, in
 * temp.latticed_swept (lt_stale_sweep(), store.c), per lattice with hosts
 * in that list: when at least min_hosts and at least fraction of its hosts
 * (those up and those gone silent in the window) went silent within
 * window_ms or are due by due_ms, one lattice_silent alert (at most one
 * active per lattice) names those gone silent and counts the due ones;
 * else one host_stale per listed host.  Fleet-wide, at most
 * storm_threshold host_stale and lattice_silent alerts fire within
 * window_ms (lattice_silent first); the hosts past it are summed up in
 * one fleet_silent alert (lattice and entity "*").  res may be NULL.
 */
int	lt_alert_on_sweep(struct lt_alert *a, int64_t now_ms,
	    const struct lt_alert_sweep_opts *opts,
	    struct lt_alert_sweep *res, struct lt_err *err);
/*
 * Every sweep: resolve the active fleet_silent once none of the hosts
 * that went silent since it fired is stale.  *resolved may be NULL.
 */
int	lt_alert_sweep_resolve(struct lt_alert *a, int64_t now_ms,
	    int *resolved, struct lt_err *err);

/*
 * A host row was deleted (retention: lt_prune_hosts): resolve at now_ms
 * every active alert of (lattice, host_id) except linkdef_set_failed (a
 * link outlives the host that reported it), adding "resolved_reason":
 * reason to its details object.  *resolved (may be NULL) is increased by
 * the number resolved.
 */
int	lt_alert_on_host_removed(struct lt_alert *a, const char *lattice,
	    const char *host_id, int64_t now_ms, const char *reason,
	    int *resolved, struct lt_err *err);
/*
 * After hosts of lattice were deleted: resolve its lattice_silent when
 * none of the hosts it names is still present and stale, the same way.
 */
int	lt_alert_on_hosts_removed(struct lt_alert *a, const char *lattice,
	    int64_t now_ms, const char *reason, int *resolved,
	    struct lt_err *err);

#endif
