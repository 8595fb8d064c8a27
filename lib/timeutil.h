/*
 * timeutil.h - RFC 3339 times <-> milliseconds since the epoch (UTC).
 *
 * lib/ never reads the clock; these only convert.
 */
#ifndef LT_TIMEUTIL_H
#define LT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse an RFC 3339 timestamp ("2024-06-13T18:00:53.856590Z",
 * "2023-06-13T00:00:00+00:00").  Fractions beyond milliseconds are
 * truncated.  Returns 0 and sets *ms on success, -1 when the text is not a
 * valid instant (out-of-range fields such as "01:12:88" included).
 */
int	lt_time_parse(const char *s, size_t len, int64_t *ms);

/*
 * Format ms as "YYYY-MM-DDTHH:MM:SS.sssZ" into buf (at least
 * LT_TIME_BUFSZ bytes).  Returns buf.
 */
#define LT_TIME_BUFSZ 32
char	*lt_time_format(int64_t ms, char *buf);

#endif
