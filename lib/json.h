/*
 * json.h - strict JSON scanning and JSON string escaping, for every part of
 * lib/ that reads or writes JSON text without cJSON.
 *
 * lt_json_scan() is a strict RFC 8259 validator: cJSON is lenient (leading
 * zeros, "+1", raw control characters, any byte <= 0x20 as white space),
 * but the fold stores payloads where SQLite's json_valid() must accept
 * them.  One pass checks the syntax, UTF-8, NUL bytes, \u0000 and unpaired
 * surrogate escapes, the nesting depth and that no object has two members
 * of one name (after unescaping: readers disagree on which counts; I-JSON,
 * RFC 7493, LT_EINVAL), and finds the raw text of
 * chosen top-level members, so a caller can take a member (a replay
 * wrapper's "event", a CloudEvent's "data") without building a tree.
 *
 * The lt_json_skip_*() walkers read text lt_json_scan() has validated:
 * they only follow structure and never fail.
 */
#ifndef LT_JSON_H
#define LT_JSON_H

#include <stddef.h>

#include "err.h"

/* Where one member's raw value lies in a JSON text: buf[off..off+len). */
struct lt_json_span {
	size_t		 off;
	size_t		 len;		/* 0: no such member */
};

/*
 * Validate buf[0..len) as one strict JSON text nested no deeper than
 * max_depth, without repeated member names, and find the raw value of the
 * top-level member named keys[k] (ASCII) for each k (spans[k].len 0 when
 * absent; an escaped key is matched decoded, as cJSON's lookups see it, so
 * the span is the member a cJSON tree of the text would give).  LT_EPARSE,
 * LT_ELIMIT or (a repeated name) LT_EINVAL, err saying where, when the
 * text is not valid; then every span is empty.
 */
int	lt_json_scan(const char *buf, size_t len, int max_depth,
	    const char *const *keys, size_t nkeys, struct lt_json_span *spans,
	    struct lt_err *err);

/* Members wanted of one top-level member's object value, in the same pass
   (a CloudEvent's data.components): keys[parent] of lt_json_scan_sub(). */
struct lt_json_sub {
	size_t			 parent;
	const char *const	*keys;		/* ASCII, as keys[] */
	size_t			 nkeys;
	struct lt_json_span	*spans;		/* nkeys, offsets into buf */
};

/* lt_json_scan(), also setting sub->spans[k] to the raw value of the
   member sub->keys[k] of the object keys[sub->parent] (len 0 when absent,
   or when that member is not an object).  sub may be NULL. */
int	lt_json_scan_sub(const char *buf, size_t len, int max_depth,
	    const char *const *keys, size_t nkeys, struct lt_json_span *spans,
	    const struct lt_json_sub *sub, struct lt_err *err);

/* In validated text p[0..len): the index after the white space, the
   string (p[i] == '"') or the value at i. */
size_t	lt_json_skip_ws(const unsigned char *p, size_t len, size_t i);
size_t	lt_json_skip_string(const unsigned char *p, size_t len, size_t i);
size_t	lt_json_skip_value(const unsigned char *p, size_t len, size_t i);

/*
 * Escaping: lt_json_escaped_len(s) is the length of s as a JSON string
 * body (quotes not counted); lt_json_put_escaped() writes s quoted at o,
 * which has room for lt_json_escaped_len(s) + 2 bytes, and returns the end.
 * Control characters are escaped; other bytes (valid UTF-8 in lib/) are
 * copied.
 */
size_t	lt_json_escaped_len(const char *s);
char	*lt_json_put_escaped(char *o, const char *s);

#endif
