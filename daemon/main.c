/*
 * main.c - latticed: fold wasmCloud lattice events from NATS into SQLite.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "process.h"
#include "replay.h"

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: latticed [-dhnVv] [-f file] [--db path] [--nats url]\n"
	    "                [--replay file|-]\n");
	exit(status);
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
	int			 ch, debug = 0, check = 0, must_exist = 0;
	size_t			 i;

	lt_process_init();

	while ((ch = getopt_long(argc, argv, "df:hnVv", longopts, NULL))
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
			check = 1;
			break;
		case 'v':
			flags.verbose++;
			break;
		case 'V':
			printf("latticed %s\n", LATTICED_VERSION);
			return 0;
		case 'D':
			flags.db = optarg;
			break;
		case 'N':
			if (flags.nnats_url == CONFIG_MAX_LIST)
				usage(1);
			flags.nats_url[flags.nnats_url++] = optarg;
			break;
		case 'R':
			replay = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	if (path == NULL)
		path = config_default_path();
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
	if (check) {
		fprintf(stderr, "%s: configuration OK\n", path);
		config_free(cf);
		return 0;
	}
	log_setverbose(cf->verbose);
	if (replay != NULL) {
		ch = replay_run(cf, replay);
		config_free(cf);
		return ch;
	}
	return daemon_run(cf, &flags, must_exist);
}
