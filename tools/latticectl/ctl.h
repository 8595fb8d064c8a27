/*
 * ctl.h - latticectl: a read-only view of the latticed database.
 *
 * Modules: main.c (flags, watch loop), query.c (the only file that
 * includes <sqlite3.h>: open, checks, one statement per command),
 * table.c (aligned, escaped tables), json.c (JSON arrays), text.c (UTF-8
 * decoding shared by both printers).
 */
#ifndef LATTICECTL_CTL_H
#define LATTICECTL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
#define CTL_EXIT_OK	0
#define CTL_EXIT_DB	1	/* missing, locked, foreign or newer database */
#define CTL_EXIT_USAGE	2

/* Filters a command accepts (bit mask). */
#define CTL_F_LATTICE	0x01
#define CTL_F_HOST	0x02
#define CTL_F_STATUS	0x04
#define CTL_F_SINCE	0x08
#define CTL_F_TYPE	0x10
#define CTL_F_ALL	0x20
#define CTL_F_LIMIT	0x40

/* Column flags. */
#define CTL_COL_TABLE	0x01	/* shown in table mode (JSON shows all) */
#define CTL_COL_JSON	0x02	/* holds JSON text: nested in --json output,
				   truncated in tables */
#define CTL_COL_NOJSON	0x04	/* table only (a joined name) */
#define CTL_COL_AGE	0x08	/* ms since the epoch, shown as an age */
#define CTL_COL_ID	0x10	/* an id: shortened in the middle */
#define CTL_COL_SHRINK	0x20	/* free text: may be cut at the end */
#define CTL_COL_STATE	0x40	/* a state word: coloured on a terminal */
#define CTL_COL_TYPE	0x80	/* an event type: the wasmCloud prefix is
				   dropped in tables */
#define CTL_COL_CHURN	0x100	/* changes with every heartbeat: a watch
				   ignores it unless --watch-all */

struct ctl_col {
	const char	*name;
	int		 flags;
	const char	*head;		/* table header; NULL: NAME upper-cased */
	int		 order;		/* table position (ascending) */
};

/* How a table is drawn. */
struct ctl_view {
	size_t		 width;		/* terminal columns; 0: no limit */
	int		 wide;		/* nothing shortened */
	int		 colour;
	int		 header;	/* print the header line */
	int		 mask_churn;	/* blank ages and churn columns (to
					   compare two renders) */
	int64_t		 now_ms;	/* for ages */
	size_t		*keep;		/* non-NULL: column widths to reuse
					   and update (a streamed table) */
};

enum ctl_cell_type {
	CTL_NULL,
	CTL_INT,
	CTL_REAL,
	CTL_TEXT,
};

struct ctl_cell {
	enum ctl_cell_type	 type;
	char			*text;	/* owned; NUL-terminated; may hold NULs */
	size_t			 len;
};

/* The rows of one query: nrows * ncols cells, row-major. */
struct ctl_rows {
	const struct ctl_col	*cols;
	size_t			 ncols;
	size_t			 nrows;
	size_t			 cap;
	struct ctl_cell		*cells;
};

/* Parsed filters.  NULL / -1 means "not given". */
struct ctl_filter {
	const char	*lattice;
	const char	*host;
	const char	*status;
	const char	*type;
	int64_t		 since_ms;	/* absolute; -1 when not given */
	int		 all;
	int64_t		 limit;		/* -1: no limit */
	int64_t		 after_seq;	/* events: seq > this; -1: all */
	int		 ascending;	/* events: oldest first */
};

struct ctl_db;

/* Look a command up by name; returns its index or -1. */
int		 ctl_cmd_find(const char *name);
/* Name of command i. */
const char	*ctl_cmd_name(int cmd);
/* Filters command i accepts (CTL_F_*). */
int		 ctl_cmd_filters(int cmd);

/*
 * Open path read-only for command cmd and check it is a latticed database
 * this build understands.  On failure prints one line to stderr and
 * returns CTL_EXIT_DB.  Owns *out on CTL_EXIT_OK.
 */
int	ctl_db_open(const char *path, int busy_ms, int cmd,
	    struct ctl_db **out);
/* Close.  NULL is fine. */
void	ctl_db_close(struct ctl_db *db);
/*
 * Run the command's statement with f into rows (cleared first).  Returns
 * 0, or CTL_EXIT_DB after printing why; *busy is set when the failure was
 * a lock held beyond the busy timeout.
 */
int	ctl_db_query(struct ctl_db *db, const struct ctl_filter *f,
	    struct ctl_rows *rows, int *busy);
/*
 * A value that changes whenever the database may have changed: PRAGMA
 * data_version mixed with the file's and the WAL's size and mtime.
 * Returns 0 or -1 (busy or error; try again later).
 */
int	ctl_db_stamp(struct ctl_db *db, uint64_t *stamp);
/*
 * Whether the database knows lattice (any row of any table names it) and,
 * for type != NULL, has an event of that type (full or short).  Prints
 * what is unknown and returns CTL_EXIT_DB, or CTL_EXIT_OK.
 */
int	ctl_db_known(struct ctl_db *db, const char *lattice, const char *type);
/* Free the cells of rows (the struct itself is the caller's). */
void	ctl_rows_clear(struct ctl_rows *rows);

/* Print rows as an aligned table with escaped text, fitted to v. */
void	ctl_table_print(FILE *fp, const struct ctl_rows *rows,
	    const struct ctl_view *v);
/* Print rows as one JSON array of objects, then a newline. */
void	ctl_json_print(FILE *fp, const struct ctl_rows *rows);

/*
 * Decode one UTF-8 character at s (n bytes left).  Returns its length and
 * sets *cp, or returns 0 when the byte at s does not start a valid,
 * shortest-form, non-surrogate sequence.
 */
size_t	ctl_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
