/*
 * err.c - status codes and error detail for lib/.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

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
