/*
 * benchutil.c - helpers shared by the bench programs (see benchutil.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"

/* Read a clock in ns. */
static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wall clock in ms. */
int64_t
bu_now_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000;
}

/* Wall clock in ns. */
int64_t
bu_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Monotonic clock in ns. */
int64_t
bu_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the process in ns. */
int64_t
bu_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* Peak RSS of the process from /proc/self/status. */
long
bu_peak_rss_kib(void)
{
	FILE *fp;
	char line[256];
	long kib = -1;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

/* Append formatted text, growing the buffer. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p == NULL ? NULL : b->p + b->len,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
}

/* Empty the buffer, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Release the buffer. */
void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Format ms as RFC 3339 UTC with milliseconds. */
char *
bu_iso(int64_t ms, char *out)
{
	struct tm tm;
	time_t s = (time_t)(ms / 1000);
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000) % 1000);
	return out;
}

/* Derive a host public key from n (base32 alphabet, 56 chars). */
void
bu_host_id(unsigned long n, char out[57])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t x = n * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
	int i;

	out[0] = 'N';
	for (i = 1; i < 56; i++) {
		x ^= x >> 29;
		x *= 0xBF58476D1CE4E5B9ULL;
		x ^= x >> 32;
		out[i] = b32[x & 31];
	}
	out[56] = '\0';
}

/* Append a 1.x host_heartbeat event with a full inventory. */
void
bu_heartbeat(struct buf *b, unsigned long host, unsigned long seq,
    int64_t time_ms, size_t ncomp, long bumped, long bump)
{
	char hid[57], iso[32];
	uint64_t hi, lo;
	size_t j;

	bu_host_id(host, hid);
	bu_iso(time_ms, iso);
	/* Hosts send ULIDs printed as UUIDs (wasmCloud 0.82 to 1.9:
	   Uuid::from_u128(Ulid::new())): 48 bits of milliseconds first, so
	   ids rise with time.  The 80 low bits, random in a host, are the
	   host and seq here: unique and repeatable. */
	hi = ((uint64_t)time_ms << 16) | (host & 0xffff);
	lo = ((uint64_t)(host >> 16 & 0xffff) << 48) |
	    (seq & UINT64_C(0xffffffffffff));
	buf_printf(b, "{\"specversion\":\"1.0\",\"id\":\"%08" PRIx64 "-%04"
	    PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64 "\",",
	    hi >> 32, hi >> 16 & 0xffff, hi & 0xffff, lo >> 48,
	    lo & UINT64_C(0xffffffffffff));
	buf_printf(b, "\"source\":\"%s\",\"type\":\"com.wasmcloud.lattice."
	    "host_heartbeat\",\"time\":\"%s\",\"datacontenttype\":"
	    "\"application/json\",\"data\":{\"host_id\":\"%s\","
	    "\"issuer\":\"CBENCHISSUER\",\"friendly_name\":\"bench-%lu\","
	    "\"labels\":{\"hostcore.os\":\"linux\",\"hostcore.arch\":"
	    "\"x86_64\",\"zone\":\"z%lu\"},\"version\":\"1.9.2\","
	    "\"uptime_human\":\"%lds\",\"uptime_seconds\":%lu,"
	    "\"components\":[", hid, iso, hid, host, host % 3,
	    (long)seq * 30, seq * 30);
	for (j = 0; j < ncomp; j++) {
		long max = 1 + (long)(j % 4);

		if ((long)j == bumped)
			max += bump;
		buf_printf(b, "%s{\"id\":\"comp-%zu\",\"image_ref\":"
		    "\"ghcr.io/bench/component-%zu:0.1.%zu\",\"name\":"
		    "\"component %zu\",\"annotations\":{\"wasmcloud.dev/"
		    "appspec\":\"app-%zu\",\"wasmcloud.dev/managed-by\":"
		    "\"wadm\"},\"max_instances\":%ld,\"revision\":0}",
		    j ? "," : "", j, j, j % 7, j, j % 10, max);
	}
	buf_printf(b, "],\"providers\":[{\"id\":\"http-server\","
	    "\"image_ref\":\"ghcr.io/wasmcloud/http-server:0.23.0\","
	    "\"name\":\"http server\",\"annotations\":{},\"revision\":0}]}}");
}

/* Order int64_t ascending. */
int
bu_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
int64_t
bu_pct(const int64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}
