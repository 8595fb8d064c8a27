/*
 * benchutil.h - small helpers shared by the bench programs: clocks, a
 * growable text buffer, host ids and wasmCloud CloudEvent builders.
 *
 * Bench programs are not lib/: they read the clock and may use SQLite and
 * NATS directly.  Nothing here is part of latticed.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Wall clock, ms and ns since the epoch. */
int64_t	 bu_now_ms(void);
int64_t	 bu_now_ns(void);
/* Monotonic clock in ns. */
int64_t	 bu_mono_ns(void);
/* CPU time of this process (user+system) in ns. */
int64_t	 bu_cpu_ns(void);
/* Peak resident set of this process in KiB (VmHWM). */
long	 bu_peak_rss_kib(void);

/* Append printf-style text; exits on allocation failure (bench only). */
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_reset(struct buf *b);
void	 buf_free(struct buf *b);

/* Format ms as RFC 3339 with milliseconds into out (>= 32 bytes). */
char	*bu_iso(int64_t ms, char *out);
/* A 56-character host public key ("N...") derived from n. */
void	 bu_host_id(unsigned long n, char out[57]);

/*
 * Append a 1.x host_heartbeat CloudEvent for host n with ncomp components.
 * Component j has max_instances 1 + j % 4, plus bump when j == bumped (use
 * bumped = -1 for none).  seq makes the event id unique.
 */
void	 bu_heartbeat(struct buf *b, unsigned long host, unsigned long seq,
	    int64_t time_ms, size_t ncomp, long bumped, long bump);

/* Compare two int64_t (for qsort). */
int	 bu_cmp_i64(const void *a, const void *b);
/* Percentile p (0..100) of a sorted array. */
int64_t	 bu_pct(const int64_t *v, size_t n, double p);

#endif
