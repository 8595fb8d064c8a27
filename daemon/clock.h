/*
 * clock.h - the daemon's clocks.  lib/ never reads a clock: these are
 * where the daemon's times come from.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

struct timeval;

/* Wall clock: milliseconds since the epoch (received times, alerts). */
int64_t		 clock_now_ms(void);
/* Monotonic milliseconds, for intervals. */
int64_t		 clock_mono_ms(void);
/* Fill tv with ms milliseconds and return it (libevent timers). */
struct timeval	*clock_tv(int64_t ms, struct timeval *tv);

#endif
