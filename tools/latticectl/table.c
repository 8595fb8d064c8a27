/*
 * table.c - aligned tables for people.
 *
 * Every value is escaped before it reaches the terminal: C0 and C1
 * controls and DEL print as \xNN (\n, \r and \t as themselves escaped),
 * bytes that are not valid UTF-8 as \xNN, and Unicode direction and line
 * separator controls as \uNNNN, so a label cannot move the cursor, change
 * colours or reorder a line.  Widths count characters, not bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define JSON_MAXW	40	/* JSON columns are cut to this many chars */
#define ELLIPSIS	"\xe2\x80\xa6"

struct cellout {
	char	*s;
	size_t	 width;
};

/* Tell whether code point cp must not reach a terminal as is. */
static int
unsafe_cp(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return 1;
	if (cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 1;
	return 0;
}

/*
 * Escape len bytes of s into out (room for 4 * len + 1 bytes), stopping
 * before the piece that would pass maxw characters (0: no limit).  Returns
 * the width written; *cut is set when something was left out.
 */
static size_t
escape(const char *s, size_t len, size_t maxw, char *out, int *cut)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 piece[16];
	size_t			 i, n, w, width = 0, o = 0;
	uint32_t		 cp;

	*cut = 0;
	for (i = 0; i < len; i += n) {
		n = ctl_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
			n = 1;
		} else if (cp == '\n')
			strcpy(piece, "\\n");
		else if (cp == '\r')
			strcpy(piece, "\\r");
		else if (cp == '\t')
			strcpy(piece, "\\t");
		else if (cp < 0x100 && unsafe_cp(cp))
			snprintf(piece, sizeof(piece), "\\x%02x", cp);
		else if (unsafe_cp(cp))
			snprintf(piece, sizeof(piece), "\\u%04x", cp);
		else {
			memcpy(piece, p + i, n);
			piece[n] = '\0';
		}
		w = (n > 1 && piece[0] != '\\') ? 1 : strlen(piece);
		if (maxw != 0 && width + w > maxw) {
			*cut = 1;
			break;
		}
		memcpy(out + o, piece, strlen(piece));
		o += strlen(piece);
		width += w;
	}
	out[o] = '\0';
	return width;
}

/* Render one cell for the table; NULL prints as "-". */
static int
render(const struct ctl_cell *c, int flags, struct cellout *co)
{
	size_t	 width;
	int	 cut;

	co->s = malloc(4 * c->len + sizeof(ELLIPSIS) + 2);
	if (co->s == NULL)
		return -1;
	if (c->type == CTL_NULL) {
		strcpy(co->s, "-");
		co->width = 1;
		return 0;
	}
	width = escape(c->text, c->len, 0, co->s, &cut);
	if ((flags & CTL_COL_JSON) && width > JSON_MAXW) {
		width = escape(c->text, c->len, JSON_MAXW - 1, co->s, &cut);
		strcat(co->s, ELLIPSIS);
		width++;
	}
	co->width = width;
	return 0;
}

/* Print s padded with spaces to width w (s is width sw). */
static void
pad(FILE *fp, const char *s, size_t sw, size_t w, int last)
{
	fputs(s, fp);
	if (last)
		return;
	for (; sw < w + 2; sw++)
		fputc(' ', fp);
}

/* Print rows as an aligned table: a header, then one line per row. */
void
ctl_table_print(FILE *fp, const struct ctl_rows *rows)
{
	struct cellout	*co = NULL;
	size_t		*w = NULL, ncells, r, c, last = 0, k;
	char		 head[64];

	ncells = rows->nrows * rows->ncols;
	co = calloc(ncells ? ncells : 1, sizeof(*co));
	w = calloc(rows->ncols, sizeof(*w));
	if (co == NULL || w == NULL) {
		fputs("latticectl: out of memory\n", stderr);
		goto fail;
	}
	for (c = 0; c < rows->ncols; c++) {
		if (!(rows->cols[c].flags & CTL_COL_TABLE))
			continue;
		w[c] = strlen(rows->cols[c].name);
		last = c;
	}
	for (r = 0; r < rows->nrows; r++) {
		for (c = 0; c < rows->ncols; c++) {
			k = r * rows->ncols + c;
			if (!(rows->cols[c].flags & CTL_COL_TABLE))
				continue;
			if (render(&rows->cells[k], rows->cols[c].flags,
			    &co[k]) == -1) {
				fputs("latticectl: out of memory\n", stderr);
				goto fail;
			}
			if (co[k].width > w[c])
				w[c] = co[k].width;
		}
	}
	for (c = 0; c < rows->ncols; c++) {
		if (!(rows->cols[c].flags & CTL_COL_TABLE))
			continue;
		for (k = 0; rows->cols[c].name[k] != '\0' &&
		    k < sizeof(head) - 1; k++)
			head[k] = toupper((unsigned char)rows->cols[c].name[k]);
		head[k] = '\0';
		pad(fp, head, k, w[c], c == last);
	}
	fputc('\n', fp);
	for (r = 0; r < rows->nrows; r++) {
		for (c = 0; c < rows->ncols; c++) {
			k = r * rows->ncols + c;
			if (!(rows->cols[c].flags & CTL_COL_TABLE))
				continue;
			pad(fp, co[k].s, co[k].width, w[c], c == last);
		}
		fputc('\n', fp);
	}
fail:
	if (co != NULL)
		for (k = 0; k < ncells; k++)
			free(co[k].s);
	free(co);
	free(w);
}
