/*
 * main.c - latticectl: flags, one query, or a watch loop.
 *
 * latticectl [--db PATH] [--json] [--wide] [--watch [--interval 1s]]
 *            COMMAND [filters]
 *
 * The database is --db, else $LATTICED_DB, else ./lattice.db when it
 * exists, else the daemon's /var/lib/latticed/latticed.db.  Exit 0 on
 * success (an empty result included), 1 when the database is missing,
 * unreadable, locked, foreign or newer, or the lattice or event type asked
 * for is not in it, 2 on a usage error.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define LOCAL_DB	"./lattice.db"
#define DAEMON_DB	"/var/lib/latticed/latticed.db"
#define STREAM_MAX	1000	/* events a streaming watch prints per poll */
#define DEFAULT_BUSY_MS	2000
#define DEFAULT_EV_LIM	50

static volatile sig_atomic_t quit;

struct opts {
	const char		*db;
	int			 json;
	int			 watch;
	int			 watch_all;	/* redraw on churn too */
	int			 wide;
	int64_t			 width;		/* -1: the terminal's */
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
"usage: latticectl [--db PATH] [--json] [--wide] [--width N]\n"
"                  [--watch [--watch-all] [--interval 1s]]\n"
"                  [--busy-timeout 2s] COMMAND [filters]\n"
"commands: hosts components providers links configs alerts events\n"
"output:   tables fit the terminal (ids shortened with \xe2\x80\xa6); --wide shows\n"
"          everything, --width N sets the width ($COLUMNS is honoured);\n"
"          times are ages (3m12s, 2h, 5d); colour on a terminal unless\n"
"          NO_COLOR is set.  --watch redraws when what is shown changes\n"
"          (ages and heartbeats alone do not count unless --watch-all);\n"
"          --watch events streams new events as they arrive.\n"
"filters:  --lattice L       one lattice (an error if the database has none)\n"
"          --host H          a prefix of the host id or its friendly name\n"
"          --status S        up, stale or stopped (hosts, and the hosts of\n"
"                            components and providers)\n"
"          --since D         changed within D (10s, 5m, 2h, 1d): last_seen\n"
"                            for hosts, updated for components, providers,\n"
"                            links and configs, fired for alerts, received\n"
"                            for events\n"
"          --type T          events of type T (full or short, host_heartbeat)\n"
"          --all             alerts: resolved ones too (default: active only)\n"
"          --limit N         at most N rows (events: 50 unless given)\n"
"The database is --db, else $LATTICED_DB, else ./lattice.db when present,\n"
"else " DAEMON_DB "; it is opened read-only.\n"
"--json prints one JSON array of objects with every column (one array per\n"
"line; with --watch one array per change); integers beyond 2^53 are\n"
"strings.\n"
"Exit status: 0 ok (an empty result too), 1 database problem or unknown\n"
"lattice or event type, 2 usage error.\n", fp);
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
		{ "watch-all", no_argument, NULL, 'A' },
		{ "wide", no_argument, NULL, 'W' },
		{ "width", required_argument, NULL, 'c' },
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
		case 'A':
			o->watch = o->watch_all = 1;
			break;
		case 'W':
			o->wide = 1;
			break;
		case 'c':
			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    n < 20 || n > 100000)
				return usagex("bad --width: %s (20..100000)",
				    optarg);
			o->width = n;
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
	if (o->json && (o->wide || o->width > 0))
		return usagex("%s", "--wide and --width shape tables, not "
		    "--json");
	if (!(o->given & CTL_F_LIMIT) && strcmp(ctl_cmd_name(o->cmd),
	    "events") == 0)
		o->f.limit = DEFAULT_EV_LIM;
	if (o->db == NULL && ((o->db = getenv("LATTICED_DB")) == NULL ||
	    *o->db == '\0'))
		o->db = access(LOCAL_DB, F_OK) == 0 ? LOCAL_DB : DAEMON_DB;
	return -1;
}

/* "Now" for ages and --since: LATTICECTL_NOW_MS (tests only), else the
   clock. */
static int64_t
view_now(void)
{
	const char	*e = getenv("LATTICECTL_NOW_MS");

	if (e != NULL && *e != '\0')
		return strtoll(e, NULL, 10);
	return now_ms();
}

/* Set up the table view: width, colour, now. */
static void
view_init(const struct opts *o, struct ctl_view *v)
{
	struct winsize	 ws;
	const char	*e;
	long		 n;

	memset(v, 0, sizeof(*v));
	v->wide = o->wide;
	v->header = 1;
	if (o->width > 0)
		v->width = (size_t)o->width;
	else if ((e = getenv("COLUMNS")) != NULL && (n = atol(e)) > 0)
		v->width = (size_t)n;
	else if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		v->width = ws.ws_col;
	e = getenv("NO_COLOR");
	v->colour = isatty(STDOUT_FILENO) && (e == NULL || *e == '\0');
}

/* Reverse the rows (newest-first events, printed oldest first). */
static void
reverse_rows(struct ctl_rows *rows)
{
	struct ctl_cell	 t;
	size_t		 a, b, c;

	for (a = 0, b = rows->nrows; a + 1 < b; a++, b--)
		for (c = 0; c < rows->ncols; c++) {
			t = rows->cells[a * rows->ncols + c];
			rows->cells[a * rows->ncols + c] =
			    rows->cells[(b - 1) * rows->ncols + c];
			rows->cells[(b - 1) * rows->ncols + c] = t;
		}
}

/*
 * Query once and render into a memory buffer; *sig (when not NULL) gets
 * the same table without ages and heartbeat churn, to tell whether what
 * is shown changed.  check: an empty result for an unknown lattice or
 * type is an error.
 */
static int
render(struct ctl_db *db, struct opts *o, struct ctl_rows *rows,
    struct ctl_view *v, char **buf, size_t *len, char **sig, size_t *siglen,
    int check, int *busy)
{
	struct ctl_view	 mv;
	FILE		*fp;
	int		 ret;

	o->f.since_ms = o->since_dur < 0 ? -1 : view_now() - o->since_dur;
	if ((ret = ctl_db_query(db, &o->f, rows, busy)) != CTL_EXIT_OK)
		return ret;
	if (rows->nrows == 0 && check && (o->f.lattice != NULL ||
	    o->f.type != NULL) && (ret = ctl_db_known(db, o->f.lattice,
	    o->f.type)) != CTL_EXIT_OK)
		return ret;
	if (o->f.ascending == 0 && o->f.after_seq == 0)
		reverse_rows(rows);	/* a stream starts oldest first */
	v->now_ms = view_now();
	if ((fp = open_memstream(buf, len)) == NULL)
		goto nomem;
	if (o->json)
		ctl_json_print(fp, rows);
	else if (rows->nrows == 0)
		fprintf(fp, "No %s found.\n", ctl_cmd_name(o->cmd));
	else
		ctl_table_print(fp, rows, v);
	if (fclose(fp) != 0)
		goto nomem;
	if (sig == NULL)
		return CTL_EXIT_OK;
	if ((fp = open_memstream(sig, siglen)) == NULL)
		goto nomem;
	mv = *v;
	mv.mask_churn = !o->watch_all;
	mv.colour = 0;
	mv.keep = NULL;
	ctl_table_print(fp, rows, &mv);
	if (fclose(fp) != 0)
		goto nomem;
	return CTL_EXIT_OK;
nomem:
	fputs("latticectl: out of memory\n", stderr);
	return CTL_EXIT_DB;
}

/* Sleep one interval (a signal cuts it short). */
static void
nap(const struct opts *o)
{
	struct timespec	 ts;

	ts.tv_sec = o->interval_ms / 1000;
	ts.tv_nsec = (o->interval_ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

/* Largest seq among the event rows. */
static int64_t
max_seq(const struct ctl_rows *rows, int64_t seq)
{
	size_t	r;
	int64_t	s;

	for (r = 0; r < rows->nrows; r++)
		if (rows->cells[r * rows->ncols].type == CTL_INT &&
		    (s = strtoll(rows->cells[r * rows->ncols].text, NULL,
		    10)) > seq)
			seq = s;
	return seq;
}

/* Stream events: the last ones, then each new one as it arrives. */
static int
stream(struct ctl_db *db, struct opts *o, struct ctl_rows *rows,
    struct ctl_view *v)
{
	size_t	*keep, len = 0;
	char	*buf = NULL;
	int64_t	 last = 0;
	int	 busy, ret = CTL_EXIT_OK, first = 1;

	if ((keep = calloc(64, sizeof(*keep))) == NULL)
		return CTL_EXIT_DB;
	v->keep = keep;
	o->f.after_seq = 0;	/* the first batch: newest, reversed */
	while (!quit) {
		ret = render(db, o, rows, v, &buf, &len, NULL, NULL, first,
		    &busy);
		if (ret != CTL_EXIT_OK && !busy)
			break;
		ret = CTL_EXIT_OK;
		if (buf != NULL && (rows->nrows > 0 || first)) {
			fwrite(buf, 1, len, stdout);
			if (fflush(stdout) != 0)
				break;	/* reader went away */
			if (rows->nrows > 0)
				v->header = 0;	/* once, above the first rows */
		}
		free(buf);
		buf = NULL;
		if (!busy) {
			last = max_seq(rows, last);
			if (first) {
				/* from now on: what is new, oldest first */
				o->f.after_seq = last;
				o->f.ascending = 1;
				o->f.limit = STREAM_MAX;
				o->since_dur = -1;
				first = 0;
			}
			o->f.after_seq = last;
		}
		nap(o);
	}
	free(buf);
	free(keep);
	v->keep = NULL;
	return ret;
}

/* Redraw whenever what is shown changes, until a signal. */
static int
watch(struct ctl_db *db, struct opts *o, struct ctl_rows *rows,
    struct ctl_view *v)
{
	char		*buf = NULL, *sig = NULL, *prev = NULL;
	size_t		 len = 0, siglen = 0, prevlen = 0;
	uint64_t	 stamp = 0, last = 0;
	int		 tty, first = 1, busy, ret = CTL_EXIT_OK;

	if (strcmp(ctl_cmd_name(o->cmd), "events") == 0)
		return stream(db, o, rows, v);
	o->f.after_seq = -1;
	tty = isatty(STDOUT_FILENO);
	while (!quit) {
		if (ctl_db_stamp(db, &stamp) == 0 &&
		    (first || stamp != last || o->since_dur >= 0)) {
			ret = render(db, o, rows, v, &buf, &len, &sig, &siglen,
			    first, &busy);
			if (ret != CTL_EXIT_OK && !busy)
				goto fail;
			ret = CTL_EXIT_OK;
			if (sig != NULL && (prev == NULL || siglen != prevlen ||
			    memcmp(sig, prev, siglen) != 0)) {
				if (tty && !o->json)
					fputs("\033[H\033[2J", stdout);
				else if (!o->json && !first)
					fputc('\n', stdout);
				fwrite(buf, 1, len, stdout);
				if (fflush(stdout) != 0)
					goto fail;	/* reader went away */
				first = 0;
				free(prev);
				prev = sig;
				prevlen = siglen;
			} else
				free(sig);
			free(buf);
			buf = sig = NULL;
			if (!busy)
				last = stamp;
		}
		nap(o);
	}
fail:
	free(buf);
	free(sig);
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
	struct ctl_view		 v;
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
	o.f.after_seq = -1;
	o.width = -1;
	if ((ret = parse_args(argc, argv, &o)) != -1)
		return ret;
	view_init(&o, &v);

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
		ret = watch(db, &o, &rows, &v);
	else if ((ret = render(db, &o, &rows, &v, &buf, &len, NULL, NULL, 1,
	    &busy)) == CTL_EXIT_OK) {
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
