/*
 * steptime.c - where a process's SQLite time goes, statement by statement.
 *
 * An LD_PRELOAD library: it wraps sqlite3_step(), adds the wall time of
 * each call to the statement's SQL text and, when the process exits,
 * prints one line per statement (total seconds, calls, microseconds per
 * call, the start of the SQL), the most expensive first.
 *
 *	LD_PRELOAD=build-bench/bench/src/libsteptime.so \
 *	    latticed --db X --replay FILE
 *
 * STEPTIME_OUT=path writes the table there instead of stderr.  For
 * profiling only: each step also takes a mutex and two clock reads.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define MAX_STMTS	512

struct stat_ent {
	const char	*key;		/* sqlite3_sql() as last seen */
	char		*sql;		/* a copy: keys are reused after
					   finalize */
	int64_t		 ns;
	uint64_t	 calls;
};

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static struct stat_ent	 tab[MAX_STMTS];
static size_t		 ntab;
static int		 (*real_step)(sqlite3_stmt *);
static pthread_once_t	 once = PTHREAD_ONCE_INIT;

/* Monotonic nanoseconds. */
static int64_t
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Order entries by total time, largest first. */
static int
by_ns(const void *a, const void *b)
{
	const struct stat_ent *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

/* Print the table (atexit). */
static void
report(void)
{
	const char	*path = getenv("STEPTIME_OUT");
	FILE		*fp = stderr;
	int64_t		 total = 0;
	size_t		 i;
	char		 line[101];

	if (path != NULL && (fp = fopen(path, "w")) == NULL)
		fp = stderr;
	pthread_mutex_lock(&mtx);
	qsort(tab, ntab, sizeof(tab[0]), by_ns);
	for (i = 0; i < ntab; i++)
		total += tab[i].ns;
	fprintf(fp, "steptime: %.3f s in sqlite3_step, %zu statements\n",
	    total / 1e9, ntab);
	fprintf(fp, "%9s %10s %9s  %s\n", "seconds", "calls", "us/call",
	    "sql");
	for (i = 0; i < ntab; i++) {
		size_t k;

		snprintf(line, sizeof(line), "%s", tab[i].sql);
		for (k = 0; line[k] != '\0'; k++)
			if (line[k] == '\n' || line[k] == '\t')
				line[k] = ' ';
		fprintf(fp, "%9.3f %10llu %9.2f  %s\n", tab[i].ns / 1e9,
		    (unsigned long long)tab[i].calls,
		    tab[i].calls ? tab[i].ns / 1e3 / (double)tab[i].calls : 0,
		    line);
	}
	pthread_mutex_unlock(&mtx);
	if (fp != stderr)
		fclose(fp);
}

/* The entry for sql (pointer first, then text); NULL when full. */
static struct stat_ent *
lookup(const char *sql)
{
	size_t	i;

	for (i = 0; i < ntab; i++)
		if (tab[i].key == sql && strcmp(tab[i].sql, sql) == 0)
			return &tab[i];
	for (i = 0; i < ntab; i++)
		if (strcmp(tab[i].sql, sql) == 0) {
			tab[i].key = sql;
			return &tab[i];
		}
	if (ntab == MAX_STMTS || (tab[ntab].sql = strdup(sql)) == NULL)
		return NULL;
	tab[ntab].key = sql;
	return &tab[ntab++];
}

/* Find the real sqlite3_step and arrange for the report. */
static void
init(void)
{
	*(void **)&real_step = dlsym(RTLD_NEXT, "sqlite3_step");
	if (real_step == NULL)
		abort();
	atexit(report);
}

/* The wrapper. */
int
sqlite3_step(sqlite3_stmt *s)
{
	struct stat_ent	*e;
	const char	*sql;
	int64_t		 t0, dt;
	int		 rc;

	pthread_once(&once, init);
	t0 = mono_ns();
	rc = real_step(s);
	dt = mono_ns() - t0;
	sql = sqlite3_sql(s);
	pthread_mutex_lock(&mtx);
	if ((e = lookup(sql != NULL ? sql : "(no sql)")) != NULL) {
		e->ns += dt;
		e->calls++;
	}
	pthread_mutex_unlock(&mtx);
	return rc;
}
