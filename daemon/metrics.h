/*
 * metrics.h - counters, gauges and histograms for /metrics and /healthz.
 *
 * One process-wide set, guarded by a mutex: the loop thread records what
 * it folds, other threads may call the hooks (alert delivery, JetStream).
 * Per-lattice series live in a bounded map: past METRICS_MAX_LATTICES
 * distinct lattices (or METRICS_MAX_SERIES lattice x type pairs) new ones
 * are counted under lattice="_other", so a flood of bogus lattice names
 * cannot grow memory.  Model gauges come from lib/census.h, cached for
 * METRICS_CENSUS_TTL_MS.  Everything is in base units (seconds, bytes).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "fold.h"

#define METRICS_MAX_LATTICES	1000
#define METRICS_MAX_SERIES	4096
#define METRICS_CENSUS_TTL_MS	1000
/* A queued message older than this with no commit since: fold stuck. */
#define METRICS_STUCK_MS	10000

struct lt_queue;
struct lt_store;

/* A monotonic clock in microseconds, for durations. */
int64_t	metrics_mono_us(void);

/* Give the scrape its sources (loop thread; borrowed until detach).
   Prepares the census statements on st; -1 on failure. */
int	metrics_attach(struct lt_store *st, struct lt_queue *in,
	    struct lt_queue *loop,
	    const char *db_path, int64_t now_ms);
/* Forget the sources and free the census statements. */
void	metrics_detach(void);

/* One message folded: its lattice/type (from lt_fold_msg_info), outcome
   and, when rejected, the error code (lt_err.code). */
void	metrics_event(const struct lt_fold_info *fi, enum lt_outcome out,
	    int code, int64_t received_ms);
/* Messages the inbox dropped (overflow). */
void	metrics_overflow(uint64_t n, uint64_t kept);
/* One batch: messages, fold+commit and commit-only durations (us), and
   whether the commit succeeded (why: the error when not). */
void	metrics_batch(size_t n, int64_t batch_us, int64_t commit_us, int ok,
	    const char *why, int64_t now_ms);
/* NATS connection state changes (connected 0/1 at ms). */
void	metrics_nats(int connected, int64_t ms);
/* JetStream hooks: a resync ran; a sequence gap of n messages was seen. */
void	metrics_resync(void);
void	metrics_gap(uint64_t n);
/* An alert could not be delivered by sink ("alertmanager", "command"). */
void	metrics_alert_delivery_failed(const char *sink);
/* Readiness, mirrored as the latticed_ready gauge (http.c sets it). */
void	metrics_set_ready(int ready);

/* Write the Prometheus text exposition; -1 on a write error. */
int	metrics_render(FILE *fp, int64_t now_ms);
/* Hosts up and stale across lattices now (the cached census, loop thread
   only); 0 and 0 when there is no census. */
void	metrics_hosts(int64_t now_ms, int64_t *up, int64_t *stale);
/* 0 when healthy; else 1 with why filled (one line per reason). */
int	metrics_health(int64_t now_ms, int64_t nats_grace_ms, char *why,
	    size_t len);

#endif
