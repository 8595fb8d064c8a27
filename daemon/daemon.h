/*
 * daemon.h - the libevent loop: ingest, sweep, signals, watchdog.
 */
#ifndef DAEMON_H
#define DAEMON_H

struct config;
struct config_flags;

/*
 * Run until SIGTERM/SIGINT.  Owns cf (replaced on SIGHUP from cf->path
 * and flags).  Returns the exit status.
 */
int	daemon_run(struct config *cf, const struct config_flags *flags,
	    int must_exist);

#endif
