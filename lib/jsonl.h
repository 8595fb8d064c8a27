/*
 * jsonl.h - split one line of a replay file (--replay) into what the
 * pipeline folds.
 *
 * A line is a bare CloudEvent, or a wrapper {"subject": "...", "event":
 * {...}} with an optional "received_at" (RFC 3339): the time latticed
 * received it, the clock for messages that carry no time of their own.
 * The event's own "time" is read too, so that a replay's clock can follow
 * the events.  The raw "event" member is used as it stands (not copied,
 * not re-printed) whenever the strict scanner takes the line; lines it
 * refuses (cJSON is more lenient) or with escapes in the subject or a
 * time are split with cJSON instead.  A line that is not JSON at all is
 * passed on whole as the payload, so the fold rejects it with a reason.
 */
#ifndef LT_JSONL_H
#define LT_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct lt_jsonl_line {
	char		*subject;	/* owned, NULL: none (bare event) */
	const char	*payload;	/* in the line, or in owned */
	size_t		 len;
	char		*owned;		/* a re-printed event, or NULL */
	int64_t		 time_ms;	/* the event's time, if time_ok */
	int		 time_ok;
	int64_t		 received_ms;	/* received_at, if received_ok */
	int		 received_ok;
};

/* Split line[0..len) (need not be NUL-terminated, must stay valid while
   out is used).  Returns LT_OK or LT_ENOMEM; free out with
   lt_jsonl_clear(). */
int	lt_jsonl_split(const char *line, size_t len,
	    struct lt_jsonl_line *out);
/* Free what a split owns.  A zeroed struct is fine. */
void	lt_jsonl_clear(struct lt_jsonl_line *l);

#endif
