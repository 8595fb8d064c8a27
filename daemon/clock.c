/*
 * clock.c - the daemon's clocks.
 */
#include <sys/time.h>

#include <time.h>

#include "clock.h"

/* Read clock id in milliseconds. */
static int64_t
read_ms(clockid_t id)
{
	struct timespec	tp;

	clock_gettime(id, &tp);
	return (int64_t)tp.tv_sec * 1000 + tp.tv_nsec / 1000000;
}

/* Wall clock in milliseconds since the epoch. */
int64_t
clock_now_ms(void)
{
	return read_ms(CLOCK_REALTIME);
}

/* Monotonic milliseconds. */
int64_t
clock_mono_ms(void)
{
	return read_ms(CLOCK_MONOTONIC);
}

/* Fill a timeval from milliseconds. */
struct timeval *
clock_tv(int64_t ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}
