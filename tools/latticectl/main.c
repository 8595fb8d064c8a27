/*
 * main.c - latticectl: flags, one query, or a watch loop.
 *
 * latticectl [--db PATH] [--json] [--watch [--interval 1s]] COMMAND [filters]
 *
 * The database is --db, else $LATTICED_DB, else ./lattice.db.  Exit 0 on
 * success, 1 when the database is missing, locked, foreign or newer, 2 on
 * a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define DEFAULT_DB	"./lattice.db"
#define DEFAULT_BUSY_MS	2000
#define DEFAULT_EV_LIM	50

static volatile sig_atomic_t quit;

struct opts {
	const char		*db;
	int			 json;
	int			 watch;
	int64_t			 interval_ms;
	int64_t			 busy_ms;
	int64_t			 since_dur;	/* -1: not given */
	int			 cmd;
	int			 given;		/* CTL_F_* flags given */
	struct ctl_filter	 f;
};

/* Print the usage text to fp. */
static void
usage(FILE *fp)
{
	fputs(
"usage: latticectl [--db PATH] [--json] [--watch [--interval 1s]]\n"
"                  [--busy-timeout 2s] COMMAND [filters]\n"
"commands: hosts components providers links configs alerts events\n"
"filters:  --lattice L       one lattice\n"
"          --host H          host_id, or a prefix of it\n"
"          --status S        up, stale or stopped (hosts, and the hosts of\n"
"                            components and providers)\n"
"          --since D         changed within D (10s, 5m, 2h, 1d): last_seen\n"
"                            for hosts, updated for components, providers,\n"
"                            links and configs, fired for alerts, received\n"
"                            for events\n"
"          --type T          events of type T (full or short, host_heartbeat)\n"
"          --all             alerts: resolved ones too (default: active only)\n"
"          --limit N         at most N rows (events: 50 unless given)\n"
"The database is --db, else $LATTICED_DB, else ./lattice.db; it is opened\n"
"read-only.  --json prints one JSON array of objects with every column\n"
"(one array per line; with --watch one array per change).\n"
"Exit status: 0 ok, 1 database problem, 2 usage error.\n", fp);
}

/* Note a signal; the loop exits at its next wake-up. */
static void
onsignal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Parse a duration ("200ms", "10s", "5m", "2h", "1d", bare = s) in ms. */
static int
parse_duration(const char *s, int64_t *ms)
{
	char		*end;
	long long	 v;
	int64_t		 mul;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	*ms = v * mul;
	return 0;
}

/* Read the wall clock in ms. */
static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Complain about a usage error; returns CTL_EXIT_USAGE. */
static int
usagex(const char *fmt, const char *arg)
{
	fputs("latticectl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(latticectl --help for usage)\n", stderr);
	return CTL_EXIT_USAGE;
}

/* Parse argv into o.  Returns -1 to go on, or an exit status. */
static int
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "busy-timeout", required_argument, NULL, 'b' },
		{ "lattice", required_argument, NULL, 'l' },
		{ "host", required_argument, NULL, 'H' },
		{ "status", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "type", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { int flag; const char *name; } fnames[] = {
		{ CTL_F_LATTICE, "--lattice" }, { CTL_F_HOST, "--host" },
		{ CTL_F_STATUS, "--status" }, { CTL_F_SINCE, "--since" },
		{ CTL_F_TYPE, "--type" }, { CTL_F_ALL, "--all" },
		{ CTL_F_LIMIT, "--limit" },
	};
	char		*end;
	long long	 n;
	size_t		 i;
	int		 ch, interval = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			o->db = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'w':
			o->watch = 1;
			break;
		case 'i':
			if (parse_duration(optarg, &o->interval_ms) == -1 ||
			    o->interval_ms <= 0)
				return usagex("bad --interval: %s", optarg);
			interval = 1;
			break;
		case 'b':
			if (parse_duration(optarg, &o->busy_ms) == -1 ||
			    o->busy_ms > INT32_MAX)
				return usagex("bad --busy-timeout: %s", optarg);
			break;
		case 'l':
			o->f.lattice = optarg;
			o->given |= CTL_F_LATTICE;
			break;
		case 'H':
			o->f.host = optarg;
			o->given |= CTL_F_HOST;
			break;
		case 's':
			if (strcmp(optarg, "up") != 0 &&
			    strcmp(optarg, "stale") != 0 &&
			    strcmp(optarg, "stopped") != 0)
				return usagex("bad --status: %s (up, stale or "
				    "stopped)", optarg);
			o->f.status = optarg;
			o->given |= CTL_F_STATUS;
			break;
		case 'S':
			if (parse_duration(optarg, &o->since_dur) == -1)
				return usagex("bad --since: %s (like 10m)",
				    optarg);
			o->given |= CTL_F_SINCE;
			break;
		case 't':
			o->f.type = optarg;
			o->given |= CTL_F_TYPE;
			break;
		case 'a':
			o->f.all = 1;
			o->given |= CTL_F_ALL;
			break;
		case 'n':
			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    n < 0)
				return usagex("bad --limit: %s", optarg);
			o->f.limit = n;
			o->given |= CTL_F_LIMIT;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("latticectl %s (schema %d)\n", LATTICED_VERSION,
			    LATTICECTL_SCHEMA_MAX);
			return CTL_EXIT_OK;
		default:
			return usagex("unknown or incomplete option: %s",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usagex("%s", "no command given");
	if ((o->cmd = ctl_cmd_find(argv[optind])) == -1)
		return usagex("unknown command: %s", argv[optind]);
	if (optind + 1 < argc)
		return usagex("unexpected argument: %s", argv[optind + 1]);
	for (i = 0; i < sizeof(fnames) / sizeof(fnames[0]); i++)
		if ((o->given & fnames[i].flag) &&
		    !(ctl_cmd_filters(o->cmd) & fnames[i].flag)) {
			fprintf(stderr, "latticectl: %s does not apply to %s\n"
			    "(latticectl --help for usage)\n", fnames[i].name,
			    ctl_cmd_name(o->cmd));
			return CTL_EXIT_USAGE;
		}
	if (interval && !o->watch)
		return usagex("%s", "--interval needs --watch");
	if (!(o->given & CTL_F_LIMIT) && strcmp(ctl_cmd_name(o->cmd),
	    "events") == 0)
		o->f.limit = DEFAULT_EV_LIM;
	if (o->db == NULL && ((o->db = getenv("LATTICED_DB")) == NULL ||
	    *o->db == '\0'))
		o->db = DEFAULT_DB;
	return -1;
}

/* Query once and render into a memory buffer. */
static int
render(struct ctl_db *db, struct opts *o, struct ctl_rows *rows,
    char **buf, size_t *len, int *busy)
{
	FILE	*fp;
	int	 ret;

	o->f.since_ms = o->since_dur < 0 ? -1 : now_ms() - o->since_dur;
	if ((ret = ctl_db_query(db, &o->f, rows, busy)) != CTL_EXIT_OK)
		return ret;
	if ((fp = open_memstream(buf, len)) == NULL) {
		fputs("latticectl: out of memory\n", stderr);
		return CTL_EXIT_DB;
	}
	if (o->json)
		ctl_json_print(fp, rows);
	else
		ctl_table_print(fp, rows);
	if (fclose(fp) != 0) {
		fputs("latticectl: out of memory\n", stderr);
		return CTL_EXIT_DB;
	}
	return CTL_EXIT_OK;
}

/* Redraw whenever the database changes, until a signal. */
static int
watch(struct ctl_db *db, struct opts *o, struct ctl_rows *rows)
{
	struct timespec	 ts;
	char		*buf = NULL, *prev = NULL;
	size_t		 len = 0, prevlen = 0;
	uint64_t	 stamp = 0, last = 0;
	int		 tty, first = 1, busy, ret = CTL_EXIT_OK;

	tty = isatty(STDOUT_FILENO);
	while (!quit) {
		if (ctl_db_stamp(db, &stamp) == 0 &&
		    (first || stamp != last || o->since_dur >= 0)) {
			ret = render(db, o, rows, &buf, &len, &busy);
			if (ret != CTL_EXIT_OK && !busy)
				goto fail;
			ret = CTL_EXIT_OK;
			if (buf != NULL && (prev == NULL || len != prevlen ||
			    memcmp(buf, prev, len) != 0)) {
				if (tty && !o->json)
					fputs("\033[H\033[2J", stdout);
				else if (!o->json && !first)
					fputc('\n', stdout);
				fwrite(buf, 1, len, stdout);
				if (fflush(stdout) != 0)
					goto fail;	/* reader went away */
				first = 0;
				free(prev);
				prev = buf;
				prevlen = len;
			} else
				free(buf);
			buf = NULL;
			if (!busy)
				last = stamp;
		}
		ts.tv_sec = o->interval_ms / 1000;
		ts.tv_nsec = (o->interval_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);	/* a signal cuts it short */
	}
fail:
	free(buf);
	free(prev);
	return ret;
}

/* Parse flags, open the database, then print once or watch. */
int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct ctl_rows		 rows;
	struct ctl_db		*db = NULL;
	struct sigaction	 sa;
	char			*buf = NULL;
	size_t			 len = 0;
	int			 ret, busy;

	memset(&o, 0, sizeof(o));
	memset(&rows, 0, sizeof(rows));
	o.interval_ms = 1000;
	o.busy_ms = DEFAULT_BUSY_MS;
	o.since_dur = -1;
	o.f.since_ms = -1;
	o.f.limit = -1;
	if ((ret = parse_args(argc, argv, &o)) != -1)
		return ret;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = onsignal;	/* no SA_RESTART: wake nanosleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((ret = ctl_db_open(o.db, (int)o.busy_ms, o.cmd, &db)) !=
	    CTL_EXIT_OK)
		goto fail;
	if (o.watch)
		ret = watch(db, &o, &rows);
	else if ((ret = render(db, &o, &rows, &buf, &len, &busy)) ==
	    CTL_EXIT_OK) {
		fwrite(buf, 1, len, stdout);
		if (fflush(stdout) != 0)
			ret = CTL_EXIT_DB;
	}
fail:
	free(buf);
	ctl_rows_clear(&rows);
	free(rows.cells);
	ctl_db_close(db);
	return ret;
}
