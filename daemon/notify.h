/*
 * notify.h - the only module that talks to systemd (sd_notify).
 *
 * Every call is a no-op when NOTIFY_SOCKET is not set.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdint.h>

/* Tell systemd we are ready (once). */
void	notify_ready(void);
/* Set the one-line STATUS=. */
void	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Ask for usec more to start (a long migration before READY=1). */
void	notify_extend_timeout(uint64_t usec);
/* Pet the watchdog. */
void	notify_watchdog(void);
/* Tell systemd we are stopping / reloading. */
void	notify_stopping(void);
/* The watchdog interval in microseconds, 0 when disabled. */
uint64_t notify_watchdog_usec(void);

#endif
