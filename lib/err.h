/*
 * err.h - status codes and error detail for lib/.
 *
 * Every lib/ function returns LT_OK or an LT_E* code.  Callers that want to
 * know why pass a struct lt_err, which the callee fills on failure (it may
 * be NULL).  Bad input is an error code, never an assert.
 */
#ifndef LT_ERR_H
#define LT_ERR_H

#include <stddef.h>

enum lt_status {
	LT_OK = 0,
	LT_EPARSE,		/* not JSON, or not UTF-8 */
	LT_EINVAL,		/* valid JSON that breaks the event schema */
	LT_EUNSUPPORTED,	/* a CloudEvent type latticed cannot take */
	LT_ELIMIT,		/* over a configured limit */
	LT_ESTORE,		/* the database failed */
	LT_ENOMEM,		/* allocation failed */
};

struct lt_err {
	int	code;
	char	field[64];	/* offending field, "" when none */
	char	msg[256];	/* one line, lower-case, no payload bytes */
	int	db_failed;	/* LT_ESTORE: the database itself failed (I/O,
				   full, read-only, corrupt, locked), not the
				   data written: retrying the data is futile */
	int	db_busy;	/* ... because another connection holds its
				   lock (busy, locked): likely to pass */
};

/* Fill err (if not NULL) and return code. */
int		 lt_err_set(struct lt_err *err, int code, const char *field,
		    const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* Reset err to "no error". */
void		 lt_err_clear(struct lt_err *err);
/* snprintf() that says whether it fit: LT_OK, or LT_ELIMIT when the text
   was cut (buf then holds the cut text).  Identifiers (subjects, keys,
   names) must never be cut: check it. */
int		 lt_fmt(char *buf, size_t len, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Name a status code: "parse", "invalid", "limit", ... */
const char	*lt_strerror(int code);

#endif
