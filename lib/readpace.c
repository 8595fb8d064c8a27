/*
 * readpace.c - when the NATS reader pauses (readpace.h).
 */
#include "readpace.h"

/* A reader that has read nothing yet. */
void
lt_readpace_init(struct lt_readpace *p, int64_t now_ms)
{
	p->seen = p->win_base = p->win_rate = 0;
	p->win_start = now_ms;
}

/* The pause for a stream that lingers linger_ms. */
int64_t
lt_readpace_pause_ms(int64_t linger_ms)
{
	int64_t	ms = linger_ms / 10;

	return ms > LT_READPACE_MAX_MS ? LT_READPACE_MAX_MS : ms;
}

/* After a read: pause now? */
int
lt_readpace_after(struct lt_readpace *p, uint64_t received, size_t avail,
    int resumed, int64_t now_ms)
{
	int64_t	dt;

	if (received == p->seen)
		return 0;
	p->seen = received;
	if ((dt = now_ms - p->win_start) >= LT_READPACE_WINDOW_MS) {
		p->win_rate = (received - p->win_base) * LT_READPACE_WINDOW_MS /
		    (uint64_t)dt;
		p->win_base = received;
		p->win_start = now_ms;
	}
	if (p->win_rate < LT_READPACE_MIN ||
	    p->win_rate >= LT_READPACE_STREAM ||
	    received - p->win_base >= LT_READPACE_STREAM)
		return 0;
	return avail == 0 && !resumed;
}
