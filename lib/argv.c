/*
 * argv.c - split a command line into words, without a shell (argv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "argv.h"

/* Whether c separates words. */
static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * One pass over s: with out NULL count the words and the bytes they need,
 * else write the words (NUL-terminated) at out and their starts in argv.
 */
static int
scan(const char *s, char **argv, char *out, size_t *nwords, size_t *nbytes,
    struct lt_err *err)
{
	const char	*p = s;
	size_t		 nw = 0, nb = 0;

	for (;;) {
		while (blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (argv != NULL)
			argv[nw] = out + nb;
		nw++;
		/* one word: up to an unquoted blank */
		while (*p != '\0' && !blank(*p)) {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');

				if (q == NULL)
					return lt_err_set(err, LT_EINVAL, "",
					    "unterminated ' at byte %zu",
					    (size_t)(p - s) + 1);
				if (out != NULL)
					memcpy(out + nb, p + 1,
					    (size_t)(q - p - 1));
				nb += (size_t)(q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				const char *open = p++;

				for (; *p != '"'; p++) {
					if (*p == '\0')
						return lt_err_set(err,
						    LT_EINVAL, "", "unterminated"
						    " \" at byte %zu",
						    (size_t)(open - s) + 1);
					if (*p == '\\' && (p[1] == '"' ||
					    p[1] == '\\'))
						p++;
					if (out != NULL)
						out[nb] = *p;
					nb++;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0')
					return lt_err_set(err, LT_EINVAL, "",
					    "trailing backslash");
				if (out != NULL)
					out[nb] = p[1];
				nb++;
				p += 2;
			} else {
				if (out != NULL)
					out[nb] = *p;
				nb++;
				p++;
			}
		}
		if (out != NULL)
			out[nb] = '\0';
		nb++;
	}
	*nwords = nw;
	*nbytes = nb;
	return LT_OK;
}

/* Split s into *argv and *argc. */
int
lt_argv_split(const char *s, char ***argv, size_t *argc, struct lt_err *err)
{
	char	**v;
	size_t	  nw = 0, nb = 0, nw2 = 0, nb2 = 0;
	int	  rc;

	*argv = NULL;
	if (argc != NULL)
		*argc = 0;
	if ((rc = scan(s, NULL, NULL, &nw, &nb, err)) != LT_OK)
		return rc;
	if (nw == 0)
		return lt_err_set(err, LT_EINVAL, "", "no program named");
	if ((v = malloc((nw + 1) * sizeof(*v) + nb)) == NULL)
		return lt_err_set(err, LT_ENOMEM, "", "out of memory");
	if ((rc = scan(s, v, (char *)(v + nw + 1), &nw2, &nb2, err)) !=
	    LT_OK) {
		free(v);
		return rc;
	}
	v[nw] = NULL;
	*argv = v;
	if (argc != NULL)
		*argc = nw;
	return LT_OK;
}
