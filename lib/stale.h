/*
 * stale.h - mark silent hosts stale.
 *
 * A host is silent when latticed has received neither a heartbeat nor a
 * host_started from it for longer than its threshold: the configured
 * threshold (default 70 s: two 30 s heartbeats plus 10 s), or, for a host
 * whose learned heartbeat interval is longer than the default 30 s,
 * 2 x interval + grace.  Only received times count (hosts' clocks drift).
 *
 * window_start_ms protects hosts from latticed's own outage: the daemon
 * passes the time it (re)connected to NATS, and no host is judged silent
 * for longer than now - window_start_ms.  A replay passes 0.
 *
 * lt_stale_sweep() runs inside the caller's transaction (lt_fold_begin /
 * lt_fold_commit) so the status change and its alert commit together
 * (alert.h: host_stale, or lattice_silent on mass silence, and past the
 * storm threshold one fleet_silent).
 */
#ifndef LT_STALE_H
#define LT_STALE_H

#include <stdint.h>

#include "err.h"

struct lt_fold;

struct lt_stale_opts {
	int64_t	threshold_ms;		/* default 70000 */
	int64_t	default_interval_ms;	/* default 30000 */
	int64_t	grace_ms;		/* default 10000 */
	/* Mass silence: when within mass_silence_window at least
	   mass_silence_min_hosts and at least mass_silence_fraction of a
	   lattice's hosts go silent, one lattice_silent alert names them
	   instead of one host_stale per host (they are still marked
	   stale).  0 hosts turns it off. */
	int	mass_silence_min_hosts;	/* default 3 */
	double	mass_silence_fraction;	/* default 0.5 */
	int64_t	mass_silence_window_ms;	/* default 120000 */
	/* Alert storms: at most this many host_stale and lattice_silent
	   alerts per mass_silence_window, fleet-wide; the hosts past it
	   are summed up in one fleet_silent.  0: no cap. */
	int	storm_threshold;	/* default 50 */
	/* Time to the next sweep (the daemon: sweep_interval; 0, the
	   default: none).  Hosts whose deadline falls before it count
	   toward this sweep's mass silence (alert.h, due_ms). */
	int64_t	next_sweep_ms;
};

void	lt_stale_opts_default(struct lt_stale_opts *opts);

struct lt_stale_result {
	int	marked;			/* hosts that went up -> stale */
	int	host_stale;		/* host_stale alerts fired */
	int	lattice_silent;		/* lattice_silent alerts fired */
	int	fleet_silent;		/* 1 when fleet_silent fired */
	int	fleet_resolved;		/* 1 when fleet_silent resolved */
	int	suppressed;		/* hosts past the storm threshold */
};

int	lt_stale_sweep(struct lt_fold *f, const struct lt_stale_opts *opts,
	    int64_t now_ms, int64_t window_start_ms,
	    struct lt_stale_result *res, struct lt_err *err);

#endif
