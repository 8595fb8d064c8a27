/*
 * json.c - the strict RFC 8259 scanner and JSON string escaping, once, for
 * every part of lib/ (json.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"

/*
 * The raw scan is a strict RFC 8259 validator: cJSON is lenient (leading
 * zeros, "+1", raw control characters, any byte <= 0x20 as white space),
 * but the fold stores the payload where SQLite's json_valid() must accept
 * it.  One pass also checks UTF-8, NULs, \u0000 escapes and the nesting
 * depth, and finds the raw text of the top-level "data" member.
 */
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

struct scan {
	const unsigned char	*p;
	size_t			 len;
	size_t			 i;
	struct lt_err		*err;
	int			 esc;	/* the last string had escapes */
};

/* Return nonzero if any of the 8 bytes at p is < 0x20, '"', '\\', >= 0x80. */
static inline uint64_t
str_word_special(const unsigned char *p)
{
	uint64_t	w, q, b, c;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ONES * '"');
	b = w ^ (ONES * '\\');
	c = w & (ONES * 0xe0);	/* a zero byte iff that byte < 0x20 */
	return (w | ((c - ONES) & ~c) | ((q - ONES) & ~q) |
	    ((b - ONES) & ~b)) & HIGHS;
}

/*
 * The offset in its word of the first byte str_word_special() flagged.  A
 * flag only spills (through a borrow) into bytes after a flagged one, so
 * on a little-endian load the lowest flag is a real one; elsewhere say 0
 * and let the caller step byte by byte.
 */
static inline size_t
str_word_first(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) >> 3;
#else
	(void)m;
	return 0;
#endif
}

/* Skip string bytes from p[i] that are certainly plain, 8 at a time: the
   index of the first byte that may be special, or of the tail of fewer
   than 8 bytes, which the caller steps through. */
static inline size_t
str_skip_plain(const unsigned char *p, size_t len, size_t i)
{
	uint64_t	m;

	while (len - i >= 8) {
		if ((m = str_word_special(p + i)) != 0)
			return i + str_word_first(m);
		i += 8;
	}
	return i;
}

/* Check one UTF-8 sequence at p[i]; return its length or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t len, size_t i)
{
	size_t		n, k;
	uint32_t	cp;
	unsigned char	c = p[i];

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else
		return 0;
	if (len - i <= n)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((p[i + k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i + k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

/* Report a syntax error at the scan position. */
static int
scan_fail(struct scan *S, const char *what)
{
	return lt_err_set(S->err, LT_EPARSE, "", "%s at byte %zu", what, S->i);
}

/* Skip RFC 8259 white space from i. */
size_t
lt_json_skip_ws(const unsigned char *p, size_t len, size_t i)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

/* Skip white space at the scan position. */
static void
scan_ws(struct scan *S)
{
	S->i = lt_json_skip_ws(S->p, S->len, S->i);
}

/* Return 1 if c is a hex digit. */
static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* The value of 4 hex digits at p (checked by the caller). */
static unsigned
hex4(const unsigned char *p)
{
	unsigned	v = 0;
	int		k;

	for (k = 0; k < 4; k++)
		v = v * 16 + (p[k] <= '9' ? p[k] - '0' :
		    (p[k] | 0x20) - 'a' + 10);
	return v;
}

/* Scan a string at p[i] == '"'. */
static int
scan_string(struct scan *S)
{
	const unsigned char	*p = S->p;
	size_t			 len = S->len, i = S->i + 1, n, k;
	unsigned		 u;
	unsigned char		 c;

	S->esc = 0;
	for (;;) {
		i = str_skip_plain(p, len, i);
		if (i >= len) {
			S->i = i;
			return scan_fail(S, "unterminated string");
		}
		c = p[i];
		if (c == '"') {
			S->i = i + 1;
			return LT_OK;
		}
		if (c >= 0x80) {
			if ((n = utf8_seq(p, len, i)) == 0) {
				S->i = i;
				return scan_fail(S, "invalid utf-8");
			}
			i += n;
			continue;
		}
		if (c < 0x20) {
			S->i = i;
			return scan_fail(S, c == 0 ? "nul byte" :
			    "control character in a string");
		}
		if (c != '\\') {
			i++;
			continue;
		}
		S->esc = 1;
		if (++i >= len)
			break;
		switch (p[i]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i++;
			break;
		case 'u':
			if (len - i < 5)
				goto bad_escape;
			for (k = 1; k <= 4; k++)
				if (!is_hex(p[i + k]))
					goto bad_escape;
			if (memcmp(p + i + 1, "0000", 4) == 0) {
				S->i = i;
				return scan_fail(S, "\\u0000 escape");
			}
			/* UTF-16 surrogates come in pairs (cJSON, and the
			   deferred inventory decode, rely on it). */
			if ((u = hex4(p + i + 1)) >= 0xdc00 && u <= 0xdfff) {
				S->i = i;
				return scan_fail(S, "lone low surrogate escape");
			}
			i += 5;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (len - i < 6 || p[i] != '\\' ||
				    p[i + 1] != 'u' || !is_hex(p[i + 2]) ||
				    !is_hex(p[i + 3]) || !is_hex(p[i + 4]) ||
				    !is_hex(p[i + 5]) ||
				    (u = hex4(p + i + 2)) < 0xdc00 ||
				    u > 0xdfff) {
					S->i = i;
					return scan_fail(S,
					    "lone high surrogate escape");
				}
				i += 6;
			}
			break;
		default:
			goto bad_escape;
		}
	}
bad_escape:
	S->i = i;
	return scan_fail(S, "bad escape");
}

/* Scan a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *S)
{
	const unsigned char	*p = S->p;
	size_t			 len = S->len, i = S->i, d;

	if (i < len && p[i] == '-')
		i++;
	if (i < len && p[i] == '0')
		i++;
	else {
		for (d = i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			goto bad;
	}
	if (i < len && p[i] == '.') {
		for (d = ++i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			goto bad;
	}
	if (i < len && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < len && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			goto bad;
	}
	S->i = i;
	return LT_OK;
bad:
	S->i = i;
	return scan_fail(S, "bad number");
}

/* Scan the literal word at p[i]. */
static int
scan_word(struct scan *S, const char *w, size_t n)
{
	if (S->len - S->i < n || memcmp(S->p + S->i, w, n) != 0)
		return scan_fail(S, "unexpected character");
	S->i += n;
	return LT_OK;
}

/* The longest key name match_key() decodes an escaped key for. */
#define KEY_MAX		64

/* Put code point cp as UTF-8 at o; return the bytes written. */
static size_t
put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the validated string q[0..n) (quotes included) into b[0..cap) as
 * cJSON does (escapes, surrogate pairs to UTF-8): its length, or
 * (size_t)-1 when it does not fit.  The decoded text is never longer than
 * n - 2 bytes.
 */
static size_t
str_decode(const unsigned char *q, size_t n, unsigned char *b, size_t cap)
{
	unsigned char	u8[4];
	size_t		i, o = 0, k;
	unsigned	u, lo;
	unsigned char	c;

	for (i = 1; i + 1 < n; i++) {
		c = q[i];
		k = 1;
		u8[0] = c;
		if (c == '\\') {
			switch ((c = q[++i])) {
			case 'b': u8[0] = '\b'; break;
			case 'f': u8[0] = '\f'; break;
			case 'n': u8[0] = '\n'; break;
			case 'r': u8[0] = '\r'; break;
			case 't': u8[0] = '\t'; break;
			case 'u':
				u = hex4(q + i + 1);
				i += 4;
				if (u >= 0xd800 && u <= 0xdbff) {
					/* the scan checked the low half */
					lo = hex4(q + i + 3);
					i += 6;
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (lo - 0xdc00);
				}
				k = put_utf8(u8, u);
				break;
			default:	/* '"', '\\', '/' stand for themselves */
				u8[0] = c;
				break;
			}
		}
		if (cap - o < k)
			return (size_t)-1;
		memcpy(b + o, u8, k);
		o += k;
	}
	return o;
}

/*
 * Which of keys[] (ASCII, not yet found) the quoted raw key q[0..n) names,
 * or -1.  An escaped key is compared decoded, as cJSON's lookups see it:
 * {"d\u0061ta": A, "data": B} has member data A to both.
 */
static int
match_key(const unsigned char *q, size_t n, const char *const *keys,
    size_t nkeys, const struct lt_json_span *spans)
{
	const unsigned char	*name = q + 1;
	unsigned char		 b[KEY_MAX];
	size_t			 k, kl, nl;

	if (n < 2 || nkeys == 0)
		return -1;
	nl = n - 2;
	if (memchr(name, '\\', nl) != NULL) {
		/* longer than any of keys[]: names none of them */
		if ((nl = str_decode(q, n, b, sizeof(b))) == (size_t)-1)
			return -1;
		name = b;
	}
	for (k = 0; k < nkeys; k++) {
		kl = strlen(keys[k]);
		if (spans[k].len == 0 && nl == kl &&
		    memcmp(name, keys[k], kl) == 0)
			return (int)k;
	}
	return -1;
}

/*
 * Member names of the objects open in a scan, to refuse duplicates: JSON
 * readers disagree on which of two members of one name counts (cJSON and
 * SQLite take the first, Python's json the last, and SQLite compares
 * escaped names raw), so a payload with duplicates could be folded as one
 * thing and read back as another (I-JSON, RFC 7493: names MUST be
 * unique).  An object pushes a mark (len 0), then its names; its close
 * checks them and pops back to the mark.
 */
struct name {
	uint64_t		 h;	/* of the decoded name */
	size_t			 off;	/* p[off] == '"' */
	const unsigned char	*s;	/* the decoded name; NULL: a mark */
	size_t			 n;	/* its length */
	unsigned char		*own;	/* s, when decoded into a copy */
};

struct names {
	struct name	*v;
	size_t		 n, cap;
	size_t		 nown;		/* names with a decoded copy */
	struct name	 small[64];
};

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* A hash of b[0..n), 8 bytes at a time. */
static inline uint64_t
bytes_hash(const unsigned char *b, size_t n)
{
	uint64_t	h = FNV_OFFSET ^ n, w;
	size_t		i, k;

	for (i = 0; n - i >= 8; i += 8) {
		memcpy(&w, b + i, sizeof(w));
		h = (h ^ w) * FNV_PRIME;
		h ^= h >> 29;
	}
	for (w = 0, k = 0; i + k < n; k++)
		w |= (uint64_t)b[i + k] << (8 * k);
	h = (h ^ w) * FNV_PRIME;
	return h ^ (h >> 29);
}

/* Double the room for names; LT_ENOMEM when out of memory. */
static int
names_grow(struct names *N)
{
	struct name	*nv;

	if (N->cap > SIZE_MAX / 2 / sizeof(*nv) ||
	    (nv = malloc(N->cap * 2 * sizeof(*nv))) == NULL)
		return LT_ENOMEM;
	memcpy(nv, N->v, N->n * sizeof(*nv));
	if (N->v != N->small)
		free(N->v);
	N->v = nv;
	N->cap *= 2;
	return LT_OK;
}

/* Push a name (s != NULL) or a mark; LT_ENOMEM when out of memory. */
static inline int
names_push(struct names *N, size_t off, const unsigned char *s, size_t n,
    unsigned char *own)
{
	struct name	*e;

	if (N->n == N->cap && names_grow(N) != LT_OK)
		return LT_ENOMEM;
	e = N->v + N->n++;
	e->h = s != NULL ? bytes_hash(s, n) : 0;
	e->off = off;
	e->s = s;
	e->n = n;
	e->own = own;
	N->nown += own != NULL;
	return LT_OK;
}

/* Push the name at p[off..off+len) (esc: with escapes), decoded. */
static int
names_add(struct names *N, const unsigned char *p, size_t off, size_t len,
    int esc)
{
	unsigned char	*b;

	if (!esc)
		return names_push(N, off, p + off + 1, len - 2, NULL);
	if ((b = malloc(len)) == NULL)
		return LT_ENOMEM;
	if (names_push(N, off, b, str_decode(p + off, len, b, len), b) !=
	    LT_OK) {
		free(b);
		return LT_ENOMEM;
	}
	return LT_OK;
}

/* Pop names down to N->n == m, freeing decoded copies. */
static void
names_pop(struct names *N, size_t m)
{
	if (N->nown == 0) {		/* the common case: no copies */
		N->n = m < N->n ? m : N->n;
		return;
	}
	while (N->n > m)
		if (N->v[--N->n].own != NULL) {
			free(N->v[N->n].own);
			N->nown--;
		}
}

/* Order names by hash, then length, then bytes: a total order, so equal
   names end up adjacent whatever the hashes do. */
static int
name_cmp(const void *a, const void *b)
{
	const struct name	*x = a, *y = b;
	int			 c;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return (c = memcmp(x->s, y->s, x->n)) < 0 ? -1 : c > 0;
}

/* Close the innermost object: refuse two members of one name, pop its
   names and mark. */
static int
names_close(struct names *N, struct lt_err *err)
{
	struct name	*v;
	size_t		 m = N->n, k, i, j, d = 0;

	while (m > 0 && N->v[m - 1].s != NULL)
		m--;
	v = N->v + m;
	k = N->n - m;
	/* few names: each pair; many: sorted, then neighbours */
	if (k > 16) {
		qsort(v, k, sizeof(*v), name_cmp);
		for (i = 0; i + 1 < k && d == 0; i++)
			if (name_cmp(v + i, v + i + 1) == 0)
				d = v[i].off > v[i + 1].off ? v[i].off :
				    v[i + 1].off;
	} else
		for (i = 0; i < k && d == 0; i++)
			for (j = i + 1; j < k && d == 0; j++)
				if (name_cmp(v + i, v + j) == 0)
					d = v[j].off;
	names_pop(N, m > 0 ? m - 1 : 0);
	if (d != 0)
		return lt_err_set(err, LT_EINVAL, "",
		    "duplicate member name at byte %zu", d);
	return LT_OK;
}

enum scan_state {
	SS_VALUE,		/* a value is due */
	SS_VALUE_OR_CLOSE,	/* after '[' */
	SS_KEY_OR_CLOSE,	/* after '{' */
	SS_KEY,			/* after ',' in an object */
	SS_COLON,		/* after a key */
	SS_AFTER,		/* after a value */
};

/*
 * Validate buf as one RFC 8259 JSON text no deeper than max_depth.  For
 * each of the nkeys keys, sets spans[k] to the raw value of the top-level
 * member of that name (an escaped key is matched decoded, as cJSON sees
 * it), len 0 when there is none; with sub, the same for the members of
 * the object that is top-level member keys[sub->parent].
 */
static int
prescan(const unsigned char *p, size_t len, int max_depth,
    struct lt_err *err, const char *const *keys, size_t nkeys,
    struct lt_json_span *spans, const struct lt_json_sub *sub)
{
	struct scan		 S = { p, len, 0, err, 0 };
	struct names		 N;
	unsigned char		 small[64], *stack = small;
	size_t			 depth = 0, cap = sizeof(small), key = 0, k;
	enum scan_state		 st = SS_VALUE;
	int			 rc = LT_OK, in_key = -1, in_sub = -1;
	int			 parent = sub != NULL ? (int)sub->parent : -1;
	unsigned char		 c;

	for (k = 0; k < nkeys; k++)
		spans[k].off = spans[k].len = 0;
	for (k = 0; sub != NULL && k < sub->nkeys; k++)
		sub->spans[k].off = sub->spans[k].len = 0;
	N.v = N.small;
	N.n = 0;
	N.cap = sizeof(N.small) / sizeof(N.small[0]);
	N.nown = 0;
	for (;;) {
		scan_ws(&S);
		if (S.i >= len)
			break;
		c = p[S.i];
		switch (st) {
		case SS_VALUE_OR_CLOSE:
			if (c == ']') {
				depth--;
				S.i++;
				st = SS_AFTER;
				break;
			}
			/* FALLTHROUGH */
		case SS_VALUE:
			if (c == '{' || c == '[') {
				if (max_depth < 0 ||
				    depth >= (size_t)max_depth) {
					rc = lt_err_set(err, LT_ELIMIT, "",
					    "json nested deeper than %d",
					    max_depth);
					goto done;
				}
				if (depth == cap) {
					unsigned char *ns;

					ns = malloc(cap * 2);
					if (ns == NULL) {
						rc = lt_err_set(err, LT_ENOMEM,
						    "", "out of memory");
						goto done;
					}
					memcpy(ns, stack, cap);
					if (stack != small)
						free(stack);
					stack = ns;
					cap *= 2;
				}
				if (c == '{' &&
				    names_push(&N, 0, NULL, 0, NULL) != LT_OK) {
					rc = lt_err_set(err, LT_ENOMEM, "",
					    "out of memory");
					goto done;
				}
				stack[depth++] = c;
				S.i++;
				st = c == '{' ? SS_KEY_OR_CLOSE :
				    SS_VALUE_OR_CLOSE;
				break;
			}
			if (c == '"')
				rc = scan_string(&S);
			else if (c == '-' || (c >= '0' && c <= '9'))
				rc = scan_number(&S);
			else if (c == 't')
				rc = scan_word(&S, "true", 4);
			else if (c == 'f')
				rc = scan_word(&S, "false", 5);
			else if (c == 'n')
				rc = scan_word(&S, "null", 4);
			else
				rc = scan_fail(&S, c == 0 ? "nul byte" :
				    "unexpected character");
			if (rc != LT_OK)
				goto done;
			st = SS_AFTER;
			break;
		case SS_KEY_OR_CLOSE:
			if (c == '}') {
				N.n--;		/* its mark */
				depth--;
				S.i++;
				st = SS_AFTER;
				break;
			}
			/* FALLTHROUGH */
		case SS_KEY:
			if (c != '"') {
				rc = scan_fail(&S, "expected a key");
				goto done;
			}
			key = S.i;
			if ((rc = scan_string(&S)) != LT_OK)
				goto done;
			if (names_add(&N, p, key, S.i - key, S.esc) !=
			    LT_OK) {
				rc = lt_err_set(err, LT_ENOMEM, "",
				    "out of memory");
				goto done;
			}
			if (depth == 1)
				in_key = match_key(p + key, S.i - key, keys,
				    nkeys, spans);
			else if (depth == 2 && in_key >= 0 &&
			    in_key == parent)
				in_sub = match_key(p + key, S.i - key,
				    sub->keys, sub->nkeys, sub->spans);
			st = SS_COLON;
			break;
		case SS_COLON:
			if (c != ':') {
				rc = scan_fail(&S, "expected ':'");
				goto done;
			}
			S.i++;
			if (in_key >= 0 && depth == 1) {
				scan_ws(&S);
				spans[in_key].off = S.i;
			} else if (in_sub >= 0 && depth == 2) {
				scan_ws(&S);
				sub->spans[in_sub].off = S.i;
			}
			st = SS_VALUE;
			break;
		case SS_AFTER:
			if (depth == 0) {
				rc = scan_fail(&S, "trailing bytes");
				goto done;
			}
			if (c == ',') {
				st = stack[depth - 1] == '{' ? SS_KEY :
				    SS_VALUE;
				S.i++;
			} else if (c == '}' && stack[depth - 1] == '{') {
				if ((rc = names_close(&N, err)) != LT_OK)
					goto done;
				depth--;
				S.i++;
			} else if (c == ']' && stack[depth - 1] == '[') {
				depth--;
				S.i++;
			} else {
				rc = scan_fail(&S, "expected ',' or a close");
				goto done;
			}
			break;
		}
		/* A wanted value ends when a value completes at depth 1
		   (a sub member's at depth 2). */
		if (in_key >= 0 && st == SS_AFTER && depth == 1) {
			spans[in_key].len = S.i - spans[in_key].off;
			in_key = -1;
		} else if (in_sub >= 0 && st == SS_AFTER && depth == 2) {
			sub->spans[in_sub].len = S.i - sub->spans[in_sub].off;
			in_sub = -1;
		}
	}
	if (st != SS_AFTER || depth != 0)
		rc = scan_fail(&S, len == 0 ? "empty message" :
		    "truncated json");
done:
	if (stack != small)
		free(stack);
	names_pop(&N, 0);
	if (N.v != N.small)
		free(N.v);
	if (rc != LT_OK) {
		for (k = 0; k < nkeys; k++)
			spans[k].off = spans[k].len = 0;
		for (k = 0; sub != NULL && k < sub->nkeys; k++)
			sub->spans[k].off = sub->spans[k].len = 0;
	}
	return rc;
}

/*
 * The skim reads text prescan() already validated: it only walks
 * structure, to find a heartbeat's inventory members inside `data`.
 */

/* Skip the string at p[i] == '"'; return the index after it. */
size_t
lt_json_skip_string(const unsigned char *p, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		i = str_skip_plain(p, len, i);
		if (i >= len)
			break;
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return len;
}

/* Skip the value at p[i]; return the index after it. */
size_t
lt_json_skip_value(const unsigned char *p, size_t len, size_t i)
{
	size_t	depth = 0;

	while (i < len) {
		switch (p[i]) {
		case '"':
			i = lt_json_skip_string(p, len, i);
			if (depth == 0)
				return i;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return i + 1;
			break;
		default:
			if (depth == 0) {
				while (i < len && p[i] != ',' && p[i] != '}' &&
				    p[i] != ']' && p[i] != ' ' &&
				    p[i] != '\t' && p[i] != '\n' &&
				    p[i] != '\r')
					i++;
				return i;
			}
			break;
		}
		i++;
	}
	return len;
}

/* Validate a JSON text and find the raw top-level members keys[]. */
int
lt_json_scan(const char *buf, size_t len, int max_depth,
    const char *const *keys, size_t nkeys, struct lt_json_span *spans,
    struct lt_err *err)
{
	return lt_json_scan_sub(buf, len, max_depth, keys, nkeys, spans, NULL,
	    err);
}

/* lt_json_scan(), and the members of one top-level object (json.h). */
int
lt_json_scan_sub(const char *buf, size_t len, int max_depth,
    const char *const *keys, size_t nkeys, struct lt_json_span *spans,
    const struct lt_json_sub *sub, struct lt_err *err)
{
	lt_err_clear(err);
	if (buf == NULL)
		return lt_err_set(err, LT_EINVAL, "", "no buffer");
	if (sub != NULL && sub->parent >= nkeys)
		return lt_err_set(err, LT_EINVAL, "", "no such parent key");
	return prescan((const unsigned char *)buf, len, max_depth, err, keys,
	    nkeys, spans, sub);
}

/* The length of s as a JSON string body, quotes not counted (json.h). */
size_t
lt_json_escaped_len(const char *s)
{
	size_t			 n = 0;
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || *p == '\b' || *p == '\f' ||
		    *p == '\n' || *p == '\r' || *p == '\t')
			n += 2;
		else if (*p < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

/* Write s as a quoted JSON string at o; return the end (json.h). */
char *
lt_json_put_escaped(char *o, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;

	*o++ = '"';
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
		case '\\':
			*o++ = '\\';
			*o++ = (char)*p;
			break;
		case '\b':
			*o++ = '\\';
			*o++ = 'b';
			break;
		case '\f':
			*o++ = '\\';
			*o++ = 'f';
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		default:
			if (*p < 0x20) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[*p >> 4];
				o[5] = hex[*p & 0xf];
				o += 6;
			} else
				*o++ = (char)*p;
		}
	}
	*o++ = '"';
	return o;
}
