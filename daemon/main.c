/*
 * main.c - latticed: fold wasmCloud lattice events from NATS into SQLite.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "process.h"
#include "replay.h"
#include "store.h"

#define EXIT_USAGE	2

/* Print the usage text with one line per flag. */
static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: latticed [-dhnVv] [-f file] [--db path] [--nats url] [--replay file|-]\n"
"  -f file        config file (default %s)\n"
"  -d             debug: log with timestamps to stderr\n"
"  -n             check the config (and alert sinks) and exit; with -v,\n"
"                 print the effective config, secrets redacted\n"
"  -v             more verbose (repeat for more)\n"
"  -V, --version  print the version and the database schema version\n"
"  -h, --help     print this help\n"
"  --db path      the SQLite database (overrides the config's db)\n"
"  --nats url     a NATS server, nats:// tls:// ws:// wss:// or host:port\n"
"                 (repeatable; overrides nats_url)\n"
"  --replay file  fold a JSONL file of events (- for stdin) and exit\n"
"Exit status: 0 ok, 1 error, 2 usage error.\n", config_default_path());
}

/* Say what was wrong with the command line and exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usagex(const char *fmt, ...)
{
	va_list	ap;

	fputs("latticed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(latticed --help for usage)\n", stderr);
	exit(EXIT_USAGE);
}

/* Check the config as start-up would, sinks included; print it with -v. */
static int
check(const char *path, struct config *cf, int verbose)
{
	char	cause[512], where[4096];

	if (alerts_check(cf, cause, sizeof(cause)) == -1) {
		/* the sink names its key; the key's line says where */
		fprintf(stderr, "%s: %s\n", config_where(cf,
		    strncmp(cause, "alert_command", 13) == 0 ?
		    "alert_command" : "alert_alertmanager_url", where,
		    sizeof(where)), cause);
		return 1;
	}
	if (verbose > 0)
		config_print(cf, stdout);
	fprintf(stderr, "%s: configuration OK\n", path);
	return 0;
}

/* Parse flags, load the config, run. */
int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "nats", required_argument, NULL, 'N' },
		{ "replay", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct config_flags	 flags = { 0 };
	struct config_errors	 errs = { 0 };
	struct config		*cf;
	const char		*path = NULL, *replay = NULL;
	int			 ch, debug = 0, checkonly = 0, must_exist = 0;
	size_t			 i;

	lt_process_init();

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":df:hnVv", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			must_exist = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			flags.verbose++;
			break;
		case 'V':
			printf("latticed %s (database schema version %d)\n",
			    LATTICED_VERSION, lt_store_schema_version());
			return 0;
		case 'D':
			flags.db = optarg;
			break;
		case 'N':
			if (flags.nnats_url == CONFIG_MAX_LIST)
				usagex("too many --nats (max %d)",
				    CONFIG_MAX_LIST);
			flags.nats_url[flags.nnats_url++] = optarg;
			break;
		case 'R':
			replay = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usagex("%s needs an argument", argv[optind - 1]);
		default:
			if (optopt != 0)
				usagex("unknown option -%c", optopt);
			usagex("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usagex("unexpected argument \"%s\"", argv[optind]);
	if (path == NULL)
		path = config_default_path();
	/* checking a file that is not there checks nothing */
	if (checkonly)
		must_exist = 1;
	log_init(debug, flags.verbose);
	if (config_load(path, must_exist, &flags, &cf, &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.line[i]);
		if (errs.dropped > 0)
			fprintf(stderr, "%s: %zu more errors\n", path,
			    errs.dropped);
		config_errors_clear(&errs);
		return 1;
	}
	if (checkonly) {
		ch = check(path, cf, flags.verbose);
		config_free(cf);
		return ch;
	}
	log_setverbose(cf->verbose);
	if (replay != NULL) {
		ch = replay_run(cf, replay);
		config_free(cf);
		return ch;
	}
	return daemon_run(cf, &flags, must_exist);
}
