/*
 * notify.c - sd_notify wrappers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

/* Send READY=1. */
void
notify_ready(void)
{
	if (sd_notify(0, "READY=1") < 0)
		log_warnx("notify: READY=1 failed");
	else
		log_debug("notify: READY=1");
}

/* Send STATUS=... */
void
notify_status(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

/* Send EXTEND_TIMEOUT_USEC=... */
void
notify_extend_timeout(uint64_t usec)
{
	sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long)usec);
}

/* Send WATCHDOG=1. */
void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

/* Send STOPPING=1. */
void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

/* Return the watchdog interval. */
uint64_t
notify_watchdog_usec(void)
{
	uint64_t	usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}
