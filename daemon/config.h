/*
 * config.h - latticed settings: defaults < config file < flags.
 *
 * The file holds `key value` lines.  `#` starts a comment at the start of
 * a line or after a blank; a value in double quotes keeps `#` and blanks.
 * List values (nats_url, lattices) take items separated by commas and/or
 * blanks.  Every error is
 * collected as "file:line: message" so a check (-n) or a reload (SIGHUP)
 * reports them all at once.  Durations take a unit: 250ms, 30s, 5m, 1h, 7d.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "ce.h"

#define CONFIG_MAX_LIST	32
#define CONFIG_MAX_KEYS	96	/* room for the key table */
/* inbox_max_bytes: what keeps the daemon under 64 MiB in a flood of
   ~1.3 kB events (docs/operations.md, "Memory") */
#define CONFIG_INBOX_MAX_BYTES	(12 * 1024 * 1024)
/* inbox_spool: a core-NATS burst kept on disk rather than shed */
#define CONFIG_INBOX_SPOOL	((size_t)256 * 1024 * 1024)

struct config {
	char	*path;			/* the file read, or NULL */
	char	*db;
	char	*nats_url[CONFIG_MAX_LIST];
	size_t	 nnats_url;
	char	*lattices[CONFIG_MAX_LIST];	/* "*" means all */
	size_t	 nlattices;
	char	*nats_user;
	char	*nats_password;
	char	*nats_token;
	char	*nats_creds;		/* file */
	char	*nats_nkey;		/* public key for nats_nkey_seed */
	char	*nats_nkey_seed;	/* file */
	char	*tls_ca;		/* file */
	char	*tls_cert;		/* file */
	char	*tls_key;		/* file */
	int64_t	 stale_threshold_ms;
	int64_t	 sweep_interval_ms;
	int64_t	 batch_delay_ms;
	int64_t	 batch_linger_ms;	/* at a trickle (< LINGER_MIN) */
	int64_t	 reconnect_wait_ms;
	size_t	 batch_max;
	size_t	 inbox_max;
	size_t	 inbox_max_bytes;	/* 0: count only */
	size_t	 inbox_spool;		/* bytes on disk past the inbox, 0: none */
	struct lt_limits limits;	/* limit_* keys */
	int	 verbose;
	int	 jetstream;		/* consume through a durable consumer */
	char	*js_stream;		/* latticed's own stream */
	char	*js_durable;		/* durable consumer name */
	char	*js_mode;		/* "source" or "attach" */
	int64_t	 js_max_age_ms;		/* retention of latticed's stream */
	int	 js_max_deliver;	/* tries before a message is poison */
	int64_t	 resync_gather_ms;	/* how long to gather ping replies */
	int64_t	 history_max_age_ms;	/* events retention, 0: no limit */
	int64_t	 history_max_rows;	/* 0: no limit */
	int64_t	 rejected_max_age_ms;	/* rejected_events, 0: no limit */
	int64_t	 rejected_max_rows;	/* 0: no limit */
	int64_t	 retention_interval_ms;	/* between prune passes */
	int64_t	 host_max_age_ms;	/* stale/stopped hosts, 0: keep */
	int	 resync_max_lattices;	/* per resync of "*", 0: no cap */
	int64_t	 checkpoint_interval_ms; /* longest an uncopied commit
					  waits for the checkpointer, 0: off */
	char	*http_listen;		/* /metrics etc., NULL: off */
	int64_t	 health_nats_grace_ms;	/* /healthz: NATS outage allowed */
	int64_t	 http_header_timeout_ms; /* a request's headers, complete */
	int	 http_max_connections;	/* open at once; more are refused */
	int	 alert_log;		/* the log sink, default yes */
	char	*alert_command;		/* "PATH [ARGS...]", NULL: off */
	int64_t	 alert_command_timeout_ms;
	char	*alert_nats_subject;	/* NULL: off */
	char	*alert_alertmanager_url; /* NULL: off */
	int64_t	 alert_repost_interval_ms;
	int	 mass_silence_min_hosts; /* lattice_silent, 0: off */
	double	 mass_silence_fraction;	/* of the up hosts, 0..1 */
	/* wasmCloud 2 hosts and v1 control interface variants */
	int	 v2_heartbeats;		/* follow runtime.operator.heartbeat.> */
	char	*v2_lattice;		/* lattice of every v2 host, or NULL */
	char	*v2_lattice_map;	/* "env=lattice,...", or NULL */
	char	*ctl_topic_prefix;	/* v1 --ctl-topic-prefix: wasmbus.ctl */
	char	*js_domain;		/* v1 --js-domain, or NULL */
	int	 key_line[CONFIG_MAX_KEYS]; /* where each key was set, 0: not */
	int64_t	 mass_silence_window_ms; /* silent together within this */
	int	 alert_storm_threshold;	/* sweep alerts per window, 0: no cap */
	int	 alert_rate_limit;	/* deliveries/s per sink, 0: off */
};

/* What the command line sets; it wins over the file. */
struct config_flags {
	const char	*db;
	const char	*nats_url[CONFIG_MAX_LIST];
	size_t		 nnats_url;
	int		 verbose;	/* number of -v */
};

/* Error lines from a load, "file:line: message" each. */
struct config_errors {
	char	*line[64];
	size_t	 n;
	size_t	 dropped;
};

/*
 * Build a config from defaults, the file at path (NULL: none; a missing
 * file is an error only when must_exist) and flags.  Returns 0, or -1 with
 * errs filled.  *out is a new config on 0 only.
 */
int	config_load(const char *path, int must_exist,
	    const struct config_flags *flags, struct config **out,
	    struct config_errors *errs);
/* Free a config.  NULL is fine. */
void	config_free(struct config *cf);
/* Free the error lines. */
void	config_errors_clear(struct config_errors *errs);

/* Say where key was set ("file:line", else the file) into buf.  Returns
   buf. */
const char *config_where(const struct config *cf, const char *key,
	    char *buf, size_t len);
/* Print the effective configuration as config lines, secrets redacted
   (passwords, tokens, userinfo in URLs). */
void	config_print(const struct config *cf, FILE *fp);

struct lt_stale_opts;
/* Fill so from the config's stale and mass-silence settings. */
void	config_stale_opts(const struct config *cf, struct lt_stale_opts *so);
/* The default config file: $CONFIGURATION_DIRECTORY/latticed.conf or
   /etc/latticed/latticed.conf.  Static storage. */
const char *config_default_path(void);

#endif
