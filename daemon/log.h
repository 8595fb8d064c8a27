/*
 * log.h - OpenBSD-style logging to stderr.
 *
 * Under systemd (JOURNAL_STREAM set, or stderr not a tty with
 * INVOCATION_ID set) each line starts with a "<N>" syslog priority so
 * journald keeps the level.  With -d each line starts with a timestamp.
 * Safe to call from any thread.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

/* Set up logging: debug adds timestamps, verbose enables log_debug. */
void	log_init(int debug, int verbose);
/* Change the verbosity (SIGHUP). */
void	log_setverbose(int verbose);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log at a syslog priority (LOG_CRIT .. LOG_DEBUG; the alert log sink). */
void	logit(int pri, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Warn at most a burst of 5, then one every 10 s, per key; what was
 * suppressed is counted in the next line that gets through.  Returns 1
 * when the line was written, 0 when suppressed (a caller that sums
 * counts into its lines keeps adding until one is written).
 */
int	log_warnx_rl(const char *key, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
