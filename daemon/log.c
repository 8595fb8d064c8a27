/*
 * log.c - OpenBSD-style logging to stderr with journald priorities.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define RL_KEYS		64
#define RL_BURST	5.0
#define RL_PERIOD_S	10.0

struct rl_bucket {
	char		 key[48];
	double		 tokens;
	double		 last;
	unsigned long	 suppressed;
};

static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static int		 log_debug_ts;
static int		 log_verbose;
static int		 log_prio_prefix;
static struct rl_bucket	 log_rl[RL_KEYS];

/* Set up logging for foreground (debug) or service use. */
void
log_init(int debug, int verbose)
{
	const char	*js = getenv("JOURNAL_STREAM");

	pthread_mutex_lock(&log_mtx);
	log_debug_ts = debug;
	log_verbose = verbose;
	log_prio_prefix = (js != NULL && *js != '\0') ||
	    (!isatty(STDERR_FILENO) && getenv("INVOCATION_ID") != NULL);
	pthread_mutex_unlock(&log_mtx);
}

/* Change the verbosity. */
void
log_setverbose(int verbose)
{
	pthread_mutex_lock(&log_mtx);
	log_verbose = verbose;
	pthread_mutex_unlock(&log_mtx);
}

/* Write s with control bytes as \xNN: a subject or a server's error text
   must not forge a log line or drive the terminal. */
static void
putsafe(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
}

/* Write one line at priority pri; the caller holds log_mtx. */
static void
vlog_locked(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char		 ts[40], *msg;
	struct timespec	 tp;
	struct tm	 tm;

	if (log_prio_prefix)
		fprintf(stderr, "<%d>", pri);
	if (log_debug_ts) {
		clock_gettime(CLOCK_REALTIME, &tp);
		gmtime_r(&tp.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ ", ts, tp.tv_nsec / 1000000);
	}
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	putsafe(msg != NULL ? msg : "log: out of memory");
	free(msg);
	if (suffix != NULL) {
		fputs(": ", stderr);
		putsafe(suffix);
	}
	fputc('\n', stderr);
	fflush(stderr);
}

/* Log at pri, appending suffix when not NULL. */
static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	pthread_mutex_lock(&log_mtx);
	if (pri < LOG_DEBUG || log_verbose > 0)
		vlog_locked(pri, fmt, ap, suffix);
	pthread_mutex_unlock(&log_mtx);
}

/* Warn with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 eb[128];
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror_r(saved, eb, sizeof(eb)));
	va_end(ap);
	errno = saved;
}

/* Warn without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

/* Log a debug line (only with -v or verbose). */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

/* Log a line at syslog priority pri. */
void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	if (pri < LOG_EMERG || pri > LOG_DEBUG)
		pri = LOG_INFO;
	va_start(ap, fmt);
	vlog(pri, fmt, ap, NULL);
	va_end(ap);
}

/* Find or claim the token bucket of key; the caller holds log_mtx. */
static struct rl_bucket *
rl_find(const char *key, double now)
{
	struct rl_bucket	*b, *oldest = &log_rl[0];
	int			 i;

	for (i = 0; i < RL_KEYS; i++) {
		b = &log_rl[i];
		if (b->key[0] != '\0' && strcmp(b->key, key) == 0)
			return b;
		if (b->key[0] == '\0' || b->last < oldest->last)
			oldest = b;
	}
	b = oldest;
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->tokens = RL_BURST;
	b->last = now;
	b->suppressed = 0;
	return b;
}

/* Warn, rate-limited per key by a token bucket. */
int
log_warnx_rl(const char *key, const char *fmt, ...)
{
	struct rl_bucket	*b;
	struct timespec		 tp;
	double			 now;
	va_list			 ap;
	char			 sfx[64];

	clock_gettime(CLOCK_MONOTONIC, &tp);
	now = tp.tv_sec + tp.tv_nsec / 1e9;
	pthread_mutex_lock(&log_mtx);
	b = rl_find(key, now);
	b->tokens += (now - b->last) / RL_PERIOD_S;
	if (b->tokens > RL_BURST)
		b->tokens = RL_BURST;
	b->last = now;
	if (b->tokens < 1.0) {
		b->suppressed++;
		pthread_mutex_unlock(&log_mtx);
		return 0;
	}
	b->tokens -= 1.0;
	va_start(ap, fmt);
	if (b->suppressed > 0) {
		snprintf(sfx, sizeof(sfx), "%lu similar suppressed",
		    b->suppressed);
		vlog_locked(LOG_WARNING, fmt, ap, sfx);
	} else
		vlog_locked(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
	b->suppressed = 0;
	pthread_mutex_unlock(&log_mtx);
	return 1;
}

