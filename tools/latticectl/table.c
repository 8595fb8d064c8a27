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
#include "text.h"

#define JSON_MAXW	40	/* JSON columns are cut to this many chars */
#define ELLIPSIS	"\xe2\x80\xa6"
#define MIN_ID		12	/* an id is not cut below this */
#define MIN_TEXT	10
#define MIN_TIGHT	5	/* the last resort: "ab…yz" */
#define TYPE_PREFIX	"com.wasmcloud.lattice."

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
render(const struct ctl_cell *c, int flags, const struct ctl_view *v,
    struct cellout *co)
{
	char		 age[LT_TEXT_AGESZ];
	const char	*t = c->text;
	size_t		 len = c->len, width;
	int		 cut;

	co->s = malloc(4 * c->len + LT_TEXT_AGESZ + sizeof(ELLIPSIS) + 2);
	if (co->s == NULL)
		return -1;
	if (v->mask_churn && (flags & (CTL_COL_AGE | CTL_COL_CHURN))) {
		co->s[0] = '\0';
		co->width = 0;
		return 0;
	}
	if (c->type == CTL_NULL) {
		strcpy(co->s, "-");
		co->width = 1;
		return 0;
	}
	if ((flags & CTL_COL_AGE) && c->type == CTL_INT) {
		lt_text_age(v->now_ms - strtoll(c->text, NULL, 10), age);
		strcpy(co->s, age);
		co->width = strlen(age);
		return 0;
	}
	if ((flags & CTL_COL_TYPE) && len > strlen(TYPE_PREFIX) &&
	    memcmp(t, TYPE_PREFIX, strlen(TYPE_PREFIX)) == 0) {
		t += strlen(TYPE_PREFIX);
		len -= strlen(TYPE_PREFIX);
	}
	width = escape(t, len, 0, co->s, &cut);
	if ((flags & CTL_COL_JSON) && !v->wide && width > JSON_MAXW) {
		width = escape(t, len, JSON_MAXW - 1, co->s, &cut);
		strcat(co->s, ELLIPSIS);
		width++;
	}
	co->width = width;
	return 0;
}

/* Byte offset of character n of the escaped (valid UTF-8) string s. */
static size_t
charoff(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0;

	while (n > 0 && p[o] != '\0') {
		o++;
		while ((p[o] & 0xc0) == 0x80)
			o++;
		n--;
	}
	return o;
}

/* Shorten co to w characters: an id loses its middle, text its end. */
static void
shorten(struct cellout *co, size_t w, int id)
{
	size_t	head, tail, ho, to, len;

	if (co->width <= w || w == 0)
		return;
	len = strlen(co->s);
	if (id && w >= 5) {
		head = (w - 1 + 1) / 2;
		tail = w - 1 - head;
		ho = charoff(co->s, head);
		to = charoff(co->s, co->width - tail);
		memmove(co->s + ho + strlen(ELLIPSIS), co->s + to,
		    len - to + 1);
		memcpy(co->s + ho, ELLIPSIS, strlen(ELLIPSIS));
	} else {
		ho = charoff(co->s, w - 1);
		strcpy(co->s + ho, ELLIPSIS);
	}
	co->width = w;
}

/* The smallest width column c may be cut to; 0 when it is never cut.
   Tight: the last resort, headers cut too. */
static size_t
floor_width(const struct ctl_col *col, size_t headw, int tight)
{
	size_t	m;

	if (tight)
		return (col->flags & (CTL_COL_ID | CTL_COL_SHRINK |
		    CTL_COL_JSON)) ? MIN_TIGHT : 0;
	if (col->flags & CTL_COL_ID)
		m = MIN_ID;
	else if (col->flags & (CTL_COL_SHRINK | CTL_COL_JSON))
		m = MIN_TEXT;
	else
		return 0;
	return m > headw ? m : headw;
}

/* The colour of a state word, or NULL. */
static const char *
state_colour(const char *s)
{
	static const struct { const char *word, *sgr; } map[] = {
		{ "up", "32" }, { "passing", "32" }, { "applied", "32" },
		{ "info", "36" },
		{ "stale", "33" }, { "warning", "33" }, { "superseded", "33" },
		{ "stopped", "31" }, { "failing", "31" }, { "critical", "31" },
		{ "rejected", "31" },
	};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].word) == 0)
			return map[i].sgr;
	return NULL;
}

/* Print s padded with spaces to width w (s is width sw). */
static void
pad(FILE *fp, const char *s, size_t sw, size_t w, int last,
    const char *sgr)
{
	if (sgr != NULL)
		fprintf(fp, "\033[%sm%s\033[0m", sgr, s);
	else
		fputs(s, fp);
	if (last)
		return;
	for (; sw < w + 2; sw++)
		fputc(' ', fp);
}

/* Put the table columns of rows in display order into idx; their number. */
static size_t
display_order(const struct ctl_rows *rows, size_t *idx)
{
	size_t	c, n = 0, i, t;

	for (c = 0; c < rows->ncols; c++)
		if (rows->cols[c].flags & CTL_COL_TABLE)
			idx[n++] = c;
	for (i = 1; i < n; i++)		/* insertion sort by order */
		for (t = i; t > 0 && rows->cols[idx[t - 1]].order >
		    rows->cols[idx[t]].order; t--) {
			c = idx[t];
			idx[t] = idx[t - 1];
			idx[t - 1] = c;
		}
	return n;
}

/*
 * Shrink columns until the row fits v->width: JSON first, then free text,
 * then ids (names and ids are what people look for); within a class the
 * widest column gives up a character at a time, down to its floor.  If
 * that is not enough, the same again down to MIN_TIGHT, headers included.
 */
static void
fit(const struct ctl_rows *rows, const size_t *idx, size_t n, size_t *w,
    const size_t *headw, const struct ctl_view *v)
{
	static const int classes[] = { CTL_COL_JSON, CTL_COL_SHRINK,
	    CTL_COL_ID };
	size_t	total, i, best, fl, k, nk = sizeof(classes) / sizeof(classes[0]);
	int	fl_class;

	if (v->width == 0 || v->wide || n == 0)
		return;
	for (k = 0; k < 2 * nk; k++) {
		for (;;) {
			total = 2 * (n - 1);
			for (i = 0; i < n; i++)
				total += w[idx[i]];
			if (total <= v->width)
				return;
			best = n;
			for (i = 0; i < n; i++) {
				fl_class = rows->cols[idx[i]].flags &
				    classes[k % nk];
				fl = floor_width(&rows->cols[idx[i]],
				    headw[idx[i]], k >= nk);
				if (!fl_class || fl == 0 || w[idx[i]] <= fl)
					continue;
				if (best == n || w[idx[i]] > w[idx[best]])
					best = i;
			}
			if (best == n)
				break;		/* this class is spent */
			w[idx[best]]--;
		}
	}
}

/* Print rows as an aligned table: a header, then one line per row. */
void
ctl_table_print(FILE *fp, const struct ctl_rows *rows,
    const struct ctl_view *v)
{
	struct cellout	*co = NULL, hc;
	size_t		*w = NULL, *headw = NULL, *idx = NULL, ncells, r, c, k;
	size_t		 n, i;
	char		 head[64];
	const char	*sgr;

	ncells = rows->nrows * rows->ncols;
	co = calloc(ncells ? ncells : 1, sizeof(*co));
	w = calloc(rows->ncols, sizeof(*w));
	headw = calloc(rows->ncols, sizeof(*headw));
	idx = calloc(rows->ncols, sizeof(*idx));
	if (co == NULL || w == NULL || headw == NULL || idx == NULL) {
		fputs("latticectl: out of memory\n", stderr);
		goto fail;
	}
	n = display_order(rows, idx);
	for (i = 0; i < n; i++) {
		c = idx[i];
		headw[c] = strlen(rows->cols[c].head != NULL ?
		    rows->cols[c].head : rows->cols[c].name);
		w[c] = v->header ? headw[c] : 0;
		if (v->keep != NULL && v->keep[c] > w[c])
			w[c] = v->keep[c];
	}
	for (r = 0; r < rows->nrows; r++) {
		for (i = 0; i < n; i++) {
			c = idx[i];
			k = r * rows->ncols + c;
			if (render(&rows->cells[k], rows->cols[c].flags, v,
			    &co[k]) == -1) {
				fputs("latticectl: out of memory\n", stderr);
				goto fail;
			}
			if (co[k].width > w[c])
				w[c] = co[k].width;
		}
	}
	fit(rows, idx, n, w, headw, v);
	if (v->keep != NULL)
		for (i = 0; i < n; i++)
			v->keep[idx[i]] = w[idx[i]];
	if (v->header) {
		for (i = 0; i < n; i++) {
			c = idx[i];
			if (rows->cols[c].head != NULL)
				snprintf(head, sizeof(head), "%s",
				    rows->cols[c].head);
			else {
				for (k = 0; rows->cols[c].name[k] != '\0' &&
				    k < sizeof(head) - 1; k++)
					head[k] = toupper((unsigned char)
					    rows->cols[c].name[k]);
				head[k] = '\0';
			}
			hc.s = head;
			hc.width = strlen(head);
			if (hc.width > w[c] && w[c] >= 2 &&
			    w[c] + sizeof(ELLIPSIS) < sizeof(head)) {
				/* the tight pass cut the column under it */
				strcpy(head + w[c] - 1, ELLIPSIS);
				hc.width = w[c];
			}
			pad(fp, head, hc.width, w[c], i == n - 1, NULL);
		}
		fputc('\n', fp);
	}
	for (r = 0; r < rows->nrows; r++) {
		for (i = 0; i < n; i++) {
			c = idx[i];
			k = r * rows->ncols + c;
			shorten(&co[k], w[c], rows->cols[c].flags &
			    CTL_COL_ID);
			sgr = v->colour && (rows->cols[c].flags &
			    CTL_COL_STATE) ? state_colour(co[k].s) : NULL;
			pad(fp, co[k].s, co[k].width, w[c], i == n - 1, sgr);
		}
		fputc('\n', fp);
	}
fail:
	if (co != NULL)
		for (k = 0; k < ncells; k++)
			free(co[k].s);
	free(co);
	free(w);
	free(headw);
	free(idx);
}
