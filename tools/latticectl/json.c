/*
 * json.c - one JSON array of objects per query, for scripts.
 *
 * Every column is a key (but table-only ones).  Integers are numbers, as
 * strings beyond 2^53 - 1 where JavaScript would round them, NULL is null, text is a
 * string escaped per RFC 8259 (controls, DEL and C1 as \u00NN; bytes that
 * are not UTF-8 become U+FFFD).  Columns that hold JSON (labels,
 * annotations, interfaces, data, ...) are nested as JSON values when
 * their text is strict, valid JSON, and printed as strings otherwise, so
 * the output is always valid JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define MAXDEPTH	64
#define JSON_SAFE_INT	9007199254740991LL	/* 2^53 - 1 */

struct jp {
	const unsigned char	*s;
	size_t			 n;
	size_t			 i;
};

static int	value(struct jp *, int);

/* Skip JSON whitespace. */
static void
ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

/* Accept the literal word w. */
static int
word(struct jp *p, const char *w)
{
	size_t	 len = strlen(w);

	if (p->n - p->i < len || memcmp(p->s + p->i, w, len) != 0)
		return -1;
	p->i += len;
	return 0;
}

/* Accept a string: UTF-8, no raw controls, valid escapes. */
static int
string(struct jp *p)
{
	uint32_t	 cp;
	size_t		 k, len;

	if (p->i >= p->n || p->s[p->i] != '"')
		return -1;
	p->i++;
	while (p->i < p->n) {
		if (p->s[p->i] == '"') {
			p->i++;
			return 0;
		}
		if (p->s[p->i] == '\\') {
			if (++p->i >= p->n)
				return -1;
			if (p->s[p->i] == 'u') {
				for (k = 1; k <= 4; k++)
					if (p->i + k >= p->n ||
					    strchr("0123456789abcdefABCDEF",
					    p->s[p->i + k]) == NULL ||
					    p->s[p->i + k] == '\0')
						return -1;
				p->i += 5;
			} else if (strchr("\"\\/bfnrt", p->s[p->i]) != NULL &&
			    p->s[p->i] != '\0')
				p->i++;
			else
				return -1;
			continue;
		}
		len = ctl_utf8_decode(p->s + p->i, p->n - p->i, &cp);
		if (len == 0 || cp < 0x20)
			return -1;
		p->i += len;
	}
	return -1;
}

/* Accept a number per the RFC grammar. */
static int
number(struct jp *p)
{
	size_t	 d;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else {
		for (d = 0; p->i < p->n && p->s[p->i] >= '0' &&
		    p->s[p->i] <= '9'; d++)
			p->i++;
		if (d == 0)
			return -1;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		for (d = 0; p->i < p->n && p->s[p->i] >= '0' &&
		    p->s[p->i] <= '9'; d++)
			p->i++;
		if (d == 0)
			return -1;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		for (d = 0; p->i < p->n && p->s[p->i] >= '0' &&
		    p->s[p->i] <= '9'; d++)
			p->i++;
		if (d == 0)
			return -1;
	}
	return 0;
}

/* Accept an object or array whose delimiters are open and close. */
static int
container(struct jp *p, int depth, int obj)
{
	p->i++;
	ws(p);
	if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
		p->i++;
		return 0;
	}
	for (;;) {
		if (obj) {
			ws(p);
			if (string(p) == -1)
				return -1;
			ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return -1;
			p->i++;
		}
		if (value(p, depth + 1) == -1)
			return -1;
		ws(p);
		if (p->i >= p->n)
			return -1;
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] != (obj ? '}' : ']'))
			return -1;
		p->i++;
		return 0;
	}
}

/* Accept one JSON value. */
static int
value(struct jp *p, int depth)
{
	if (depth > MAXDEPTH)
		return -1;
	ws(p);
	if (p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '{':
		return container(p, depth, 1);
	case '[':
		return container(p, depth, 0);
	case '"':
		return string(p);
	case 't':
		return word(p, "true");
	case 'f':
		return word(p, "false");
	case 'n':
		return word(p, "null");
	default:
		return number(p);
	}
}

/* Tell whether len bytes at s are exactly one strict JSON text. */
static int
valid_json(const char *s, size_t len)
{
	struct jp	 p = { (const unsigned char *)s, len, 0 };

	if (value(&p, 0) == -1)
		return 0;
	ws(&p);
	return p.i == p.n;
}

/* Print len bytes of s as a JSON string. */
static void
jstring(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

	fputc('"', fp);
	for (i = 0; i < len; i += n) {
		n = ctl_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			fputs("\\ufffd", fp);
			n = 1;
		} else if (cp == '"')
			fputs("\\\"", fp);
		else if (cp == '\\')
			fputs("\\\\", fp);
		else if (cp == '\n')
			fputs("\\n", fp);
		else if (cp == '\r')
			fputs("\\r", fp);
		else if (cp == '\t')
			fputs("\\t", fp);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			fprintf(fp, "\\u%04x", cp);
		else
			fwrite(p + i, 1, n, fp);
	}
	fputc('"', fp);
}

/*
 * Copy valid JSON text minified (one line) with DEL and C1 controls inside
 * strings escaped, so nested values are as terminal-safe as our strings.
 */
static void
jcopy(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;
	int			 in = 0;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (!in) {
			if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
			    p[i] == '\r')
				continue;
			if (p[i] == '"')
				in = 1;
			fputc(p[i], fp);
		} else if (p[i] == '\\') {
			fwrite(p + i, 1, 2, fp);
			n = 2;
		} else if (p[i] == '"') {
			in = 0;
			fputc(p[i], fp);
		} else {
			n = ctl_utf8_decode(p + i, len - i, &cp);
			if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
				fprintf(fp, "\\u%04x", cp);
			else
				fwrite(p + i, 1, n, fp);
		}
	}
}

/* Print one cell as a JSON value. */
static void
jvalue(FILE *fp, const struct ctl_cell *c, int flags)
{
	struct jp	 p;
	double		 d;
	long long	 v;

	switch (c->type) {
	case CTL_NULL:
		fputs("null", fp);
		break;
	case CTL_INT:
		/* beyond 2^53 a JavaScript reader rounds: give the digits */
		v = strtoll(c->text, NULL, 10);
		if (v > JSON_SAFE_INT || v < -JSON_SAFE_INT)
			fprintf(fp, "\"%s\"", c->text);
		else
			fputs(c->text, fp);
		break;
	case CTL_REAL:
		/* SQLite's own text is shortest; Inf and NaN are not JSON. */
		p.s = (const unsigned char *)c->text;
		p.n = c->len;
		p.i = 0;
		d = strtod(c->text, NULL);
		if (number(&p) == 0 && p.i == p.n)
			fputs(c->text, fp);
		else if (isfinite(d))
			fprintf(fp, "%.17g", d);
		else
			fputs("null", fp);
		break;
	case CTL_TEXT:
		if ((flags & CTL_COL_JSON) && valid_json(c->text, c->len))
			jcopy(fp, c->text, c->len);
		else
			jstring(fp, c->text, c->len);
		break;
	}
}

/* Print rows as one JSON array of objects on one line. */
void
ctl_json_print(FILE *fp, const struct ctl_rows *rows)
{
	size_t	 r, c;
	int	 first;

	fputc('[', fp);
	for (r = 0; r < rows->nrows; r++) {
		fputs(r ? ",{" : "{", fp);
		for (c = 0, first = 1; c < rows->ncols; c++) {
			if (rows->cols[c].flags & CTL_COL_NOJSON)
				continue;
			if (!first)
				fputc(',', fp);
			first = 0;
			jstring(fp, rows->cols[c].name,
			    strlen(rows->cols[c].name));
			fputc(':', fp);
			jvalue(fp, &rows->cells[r * rows->ncols + c],
			    rows->cols[c].flags);
		}
		fputc('}', fp);
	}
	fputs("]\n", fp);
}
