/*
 * err.c - status codes and error detail for lib/.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* The length of the valid UTF-8 sequence at p (0: not one). */
static size_t
utf8_seq(const unsigned char *p)
{
	size_t	n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Replace every byte of s that is not part of valid UTF-8 with '?': a
 * field name or message cut to its buffer (or by a %.Ns) may end inside a
 * character, and the text goes to logs and rows as UTF-8.
 */
static void
utf8_mend(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n;

	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0)
			*p++ = '?';
		else
			p += n;
	}
}

/* Fill err (if not NULL) and return code. */
int
lt_err_set(struct lt_err *err, int code, const char *field, const char *fmt,
    ...)
{
	va_list	ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->db_failed = 0;
	err->db_busy = 0;
	if (field == NULL)
		field = "";
	snprintf(err->field, sizeof(err->field), "%s", field);
	if (fmt == NULL)
		err->msg[0] = '\0';
	else {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	utf8_mend(err->field);
	utf8_mend(err->msg);
	return code;
}

/* Reset err to "no error". */
void
lt_err_clear(struct lt_err *err)
{
	if (err == NULL)
		return;
	err->code = LT_OK;
	err->db_failed = 0;
	err->db_busy = 0;
	err->field[0] = '\0';
	err->msg[0] = '\0';
}

/* Name a status code: "parse", "invalid", "limit", ... */
const char *
lt_strerror(int code)
{
	switch (code) {
	case LT_OK:
		return "ok";
	case LT_EPARSE:
		return "parse";
	case LT_EINVAL:
		return "invalid";
	case LT_EUNSUPPORTED:
		return "unsupported";
	case LT_ELIMIT:
		return "limit";
	case LT_ESTORE:
		return "store";
	case LT_ENOMEM:
		return "nomem";
	}
	return "unknown";
}

/* snprintf() that says whether the text fit. */
int
lt_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? LT_ELIMIT : LT_OK;
}
