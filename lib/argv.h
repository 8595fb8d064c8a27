/*
 * argv.h - split a command line into words, without a shell.
 *
 * alert_command's value becomes the argv of a program executed directly.
 * Words are separated by blanks (space, tab).  Quoting, as in sh but
 * with nothing expanded:
 *
 *	'...'	literal: every byte up to the next ' (no escapes inside)
 *	"..."	literal but for \" and \\ (a backslash before anything else
 *		is itself)
 *	\c	outside quotes: the byte c itself (a blank, a quote, \)
 *
 * Quoted pieces join the word they touch ('a b'c is "a bc"); '' or ""
 * alone is an empty word.  No globbing, no $VAR, no ~.  An unterminated
 * quote, a trailing backslash or no word at all is LT_EINVAL.
 */
#ifndef LT_ARGV_H
#define LT_ARGV_H

#include <stddef.h>

#include "err.h"

/*
 * Split s into *argv, NULL-terminated, and *argc (may be NULL).  *argv is
 * one allocation (the pointers, then the words): free(*argv) frees all.
 * LT_EINVAL with a message in err for bad quoting, LT_ENOMEM.
 */
int	lt_argv_split(const char *s, char ***argv, size_t *argc,
	    struct lt_err *err);

#endif
