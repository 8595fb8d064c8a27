/*
 * readpace.h - when the NATS reader pauses: the policy of read pacing.
 *
 * At a trickle (a 10,000-host fleet sends 333 heartbeats a second), a
 * reader that wakes for every message costs more CPU in wake-ups than in
 * work.  So after a read that emptied the socket, the reader takes its
 * read event off for a short pause and the next messages arrive together.
 * They wait for the loop's batch_linger anyway.  The policy never pauses:
 *   - when no message came since its last call (an idle reader, woken by
 *     a timer or a write, blocks until a message comes, and reads it at
 *     once);
 *   - when bytes are left to read (a burst is read as it comes);
 *   - in a stream: LT_READPACE_STREAM or more messages in the window
 *     that ended, or in the current one so far (a window is
 *     LT_READPACE_WINDOW_MS; a longer gap between calls counts as its
 *     rate per window);
 *   - below LT_READPACE_MIN messages in the window that ended (the first
 *     window included): a pause would bring fewer than two messages
 *     together and only add a timer's wake-up;
 *   - right after a pause ended (resumed): the messages counted then came
 *     before it.
 * Pure: counts and times come in (any monotonic clock, the same in every
 * call); the caller keeps the state, the clock and the pause.
 */
#ifndef LT_READPACE_H
#define LT_READPACE_H

#include <stddef.h>
#include <stdint.h>

#define LT_READPACE_WINDOW_MS	100
#define LT_READPACE_STREAM	80	/* per window: 800 messages/s */
#define LT_READPACE_MIN		20	/* per window: 200 messages/s */
#define LT_READPACE_MAX_MS	10	/* the longest pause */

struct lt_readpace {
	uint64_t	seen;		/* messages at the last call */
	uint64_t	win_base;	/* messages when the window began */
	int64_t		win_start;	/* when it began */
	uint64_t	win_rate;	/* messages in the last window */
};

/* A reader that has read nothing yet, at now_ms. */
void	lt_readpace_init(struct lt_readpace *p, int64_t now_ms);
/* The pause (ms) for a reader whose stream lingers linger_ms in the loop:
   a tenth of it, at most LT_READPACE_MAX_MS; 0 (never pause) below
   10 ms. */
int64_t	lt_readpace_pause_ms(int64_t linger_ms);
/* After a pass of the reader's loop: received counts the messages so
   far, avail the bytes left to read, resumed says a pause ended in that
   pass.  Return 1 if the reader should pause now. */
int	lt_readpace_after(struct lt_readpace *p, uint64_t received,
	    size_t avail, int resumed, int64_t now_ms);

#endif
