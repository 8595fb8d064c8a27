/*
 * text.h - small text rules shared by latticed and latticectl: list
 * values, URL redaction and human ages.  Pure: no clock, no I/O.
 */
#ifndef LT_TEXT_H
#define LT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Take the next item of a list value: items are separated by commas,
 * blanks or both ("a b", "a,b", "a, b" are two items each), so no item is
 * ever silently cut.  *p is advanced; *item and *len point into the
 * string (borrowed).  Returns 1 with an item, 0 when none is left.
 */
int	lt_text_next_item(const char **p, const char **item, size_t *len);

/*
 * Copy url into buf with the secret of its userinfo replaced:
 * "nats://u:pw@h" -> "nats://u:xxxxx@h", "nats://token@h" ->
 * "nats://xxxxx@h".  A URL without userinfo is copied as is.  Returns
 * LT_OK, or LT_ELIMIT when buf is too small (buf then holds "" so a
 * secret is never half printed).
 */
int	lt_text_redact_url(const char *url, char *buf, size_t len);

/* Whether url carries userinfo ("user@" or "user:pw@" before the host). */
int	lt_text_url_has_userinfo(const char *url);

/* The longest lattice name latticed takes from a config or a payload. */
#define LT_LATTICE_MAX	200

/*
 * Whether s[0..n) can be a lattice: one NATS subject token of 1 to
 * LT_LATTICE_MAX printable ASCII bytes, without '.', '*', '>' or white
 * space ("*" is latticed's own name for the whole fleet, fleet_silent).
 */
int	lt_text_lattice_ok(const char *s, size_t n);

/*
 * Format a duration of ms as a short age the way kubectl does: "45s",
 * "95s", "3m12s", "42m", "2h5m", "20h", "5d3h", "30d", "2y10d".  Negative
 * ages (clock skew) print "0s".  buf holds at least LT_TEXT_AGESZ bytes.
 * Returns buf.
 */
#define LT_TEXT_AGESZ	24
char	*lt_text_age(int64_t ms, char *buf);

#endif
