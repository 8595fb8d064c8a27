/*
 * config.c - parse the latticed config file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "err.h"
#include "stale.h"
#include "argv.h"
#include "http.h"
#include "text.h"

enum ktype { K_STR, K_FILE, K_LIST, K_DUR, K_COUNT, K_INT, K_SIZE, K_I64,
    K_BOOL, K_FRAC };

struct key {
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	size_t		 noff;		/* K_LIST: offset of the count */
	int64_t		 min, max;	/* K_DUR, K_COUNT, K_INT */
};

#define O(f)	offsetof(struct config, f)
static const struct key keys[] = {
	{ "db", K_STR, O(db), 0, 0, 0 },
	{ "nats_url", K_LIST, O(nats_url), O(nnats_url), 0, 0 },
	{ "lattices", K_LIST, O(lattices), O(nlattices), 0, 0 },
	{ "nats_user", K_STR, O(nats_user), 0, 0, 0 },
	{ "nats_password", K_STR, O(nats_password), 0, 0, 0 },
	{ "nats_token", K_STR, O(nats_token), 0, 0, 0 },
	{ "nats_creds", K_FILE, O(nats_creds), 0, 0, 0 },
	{ "nats_nkey", K_STR, O(nats_nkey), 0, 0, 0 },
	{ "nats_nkey_seed", K_FILE, O(nats_nkey_seed), 0, 0, 0 },
	{ "tls_ca", K_FILE, O(tls_ca), 0, 0, 0 },
	{ "tls_cert", K_FILE, O(tls_cert), 0, 0, 0 },
	{ "tls_key", K_FILE, O(tls_key), 0, 0, 0 },
	{ "stale_threshold", K_DUR, O(stale_threshold_ms), 0, 100,
	    INT64_C(86400000) * 365 },
	{ "sweep_interval", K_DUR, O(sweep_interval_ms), 0, 10, 3600000 },
	{ "batch_delay", K_DUR, O(batch_delay_ms), 0, 0, 10000 },
	{ "batch_linger", K_DUR, O(batch_linger_ms), 0, 0, 10000 },
	{ "reconnect_wait", K_DUR, O(reconnect_wait_ms), 0, 10, 600000 },
	{ "batch_max", K_COUNT, O(batch_max), 0, 1, 1000000 },
	{ "inbox_max", K_COUNT, O(inbox_max), 0, 1, 100000000 },
	{ "inbox_max_bytes", K_SIZE, O(inbox_max_bytes), 0, 0,
	    INT64_C(1) << 40 },
	{ "inbox_spool", K_SIZE, O(inbox_spool), 0, 0, INT64_C(1) << 40 },
	{ "verbose", K_INT, O(verbose), 0, 0, 3 },
	{ "jetstream", K_BOOL, O(jetstream), 0, 0, 1 },
	{ "js_stream", K_STR, O(js_stream), 0, 0, 0 },
	{ "js_durable", K_STR, O(js_durable), 0, 0, 0 },
	{ "js_mode", K_STR, O(js_mode), 0, 0, 0 },
	{ "js_max_age", K_DUR, O(js_max_age_ms), 0, 1000,
	    INT64_C(86400000) * 3650 },
	{ "js_max_deliver", K_INT, O(js_max_deliver), 0, 1, 1000 },
	{ "resync_gather", K_DUR, O(resync_gather_ms), 0, 100, 60000 },
	{ "resync_max_lattices", K_INT, O(resync_max_lattices), 0, 0,
	    1000000 },
	{ "history_max_age", K_DUR, O(history_max_age_ms), 0, 0,
	    INT64_C(86400000) * 36500 },
	{ "history_max_rows", K_I64, O(history_max_rows), 0, 0,
	    INT64_C(1) << 40 },
	{ "rejected_max_age", K_DUR, O(rejected_max_age_ms), 0, 0,
	    INT64_C(86400000) * 36500 },
	{ "rejected_max_rows", K_I64, O(rejected_max_rows), 0, 0,
	    INT64_C(1) << 40 },
	{ "retention_interval", K_DUR, O(retention_interval_ms), 0, 10,
	    86400000 },
	{ "host_max_age", K_DUR, O(host_max_age_ms), 0, 0,
	    INT64_C(86400000) * 36500 },
	{ "checkpoint_interval", K_DUR, O(checkpoint_interval_ms), 0, 0,
	    86400000 },
	{ "http_listen", K_STR, O(http_listen), 0, 0, 0 },
	{ "health_nats_grace", K_DUR, O(health_nats_grace_ms), 0, 0,
	    86400000 },
	{ "http_header_timeout", K_DUR, O(http_header_timeout_ms), 0, 100,
	    3600000 },
	{ "http_max_connections", K_INT, O(http_max_connections), 0, 1,
	    100000 },
	{ "limit_max_payload", K_SIZE, O(limits.max_payload), 0, 1024,
	    INT64_C(1) << 30 },
	{ "limit_max_depth", K_INT, O(limits.max_depth), 0, 2, 1000 },
	{ "limit_max_string", K_SIZE, O(limits.max_string), 0, 64,
	    INT64_C(1) << 30 },
	{ "limit_max_items", K_COUNT, O(limits.max_items), 0, 1, 100000000 },
	{ "limit_max_pairs", K_COUNT, O(limits.max_pairs), 0, 1, 100000000 },
	{ "limit_max_instances", K_I64, O(limits.max_instances), 0, 1,
	    INT64_MAX },
	{ "limit_max_uptime", K_I64, O(limits.max_uptime), 0, 1, INT64_MAX },
	{ "alert_log", K_BOOL, O(alert_log), 0, 0, 1 },
	{ "alert_command", K_STR, O(alert_command), 0, 0, 0 },
	{ "alert_command_timeout", K_DUR, O(alert_command_timeout_ms), 0, 100,
	    3600000 },
	{ "alert_nats_subject", K_STR, O(alert_nats_subject), 0, 0, 0 },
	{ "alert_alertmanager_url", K_STR, O(alert_alertmanager_url), 0, 0,
	    0 },
	{ "alert_repost_interval", K_DUR, O(alert_repost_interval_ms), 0, 1000,
	    86400000 },
	{ "mass_silence_min_hosts", K_INT, O(mass_silence_min_hosts), 0, 0,
	    1000000 },
	{ "mass_silence_fraction", K_FRAC, O(mass_silence_fraction), 0, 0, 1 },
	{ "mass_silence_window", K_DUR, O(mass_silence_window_ms), 0, 1,
	    86400000 },
	{ "alert_storm_threshold", K_INT, O(alert_storm_threshold), 0, 0,
	    1000000 },
	{ "alert_rate_limit", K_INT, O(alert_rate_limit), 0, 0, 100000 },
	{ "v2_heartbeats", K_BOOL, O(v2_heartbeats), 0, 0, 1 },
	{ "v2_lattice", K_STR, O(v2_lattice), 0, 0, 0 },
	{ "v2_lattice_map", K_STR, O(v2_lattice_map), 0, 0, 0 },
	{ "ctl_topic_prefix", K_STR, O(ctl_topic_prefix), 0, 0, 0 },
	{ "js_domain", K_STR, O(js_domain), 0, 0, 0 },
};
#undef O
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= CONFIG_MAX_KEYS,
    "CONFIG_MAX_KEYS is too small for the key table");

/* Add one error line. */
static void __attribute__((format(printf, 2, 3)))
adderr(struct config_errors *errs, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	if (errs->n == sizeof(errs->line) / sizeof(errs->line[0])) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		errs->dropped++;
	else
		errs->line[errs->n++] = s;
}

/* Free the error lines. */
void
config_errors_clear(struct config_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		free(errs->line[i]);
	memset(errs, 0, sizeof(*errs));
}

/* Parse "250ms", "30s", "5m", "1h", "7d" (or a bare "0") into
   milliseconds; -1 when invalid. */
static int64_t
config_duration(const char *s)
{
	char		*end;
	long long	 v;
	int64_t		 mul;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else if (*end == '\0' && v == 0)
		mul = 1;	/* a bare 0: "off" for the keys that allow it */
	else
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	return v * mul;
}

/* Return the default config path. */
const char *
config_default_path(void)
{
	static char	 buf[PATH_MAX];
	const char	*d = getenv("CONFIGURATION_DIRECTORY");

	if (d != NULL && *d != '\0') {
		/* systemd may pass several, colon-separated: take the first */
		snprintf(buf, sizeof(buf), "%.*s/latticed.conf",
		    (int)strcspn(d, ":"), d);
		return buf;
	}
	return "/etc/latticed/latticed.conf";
}

/* Resolve a credential file name against $CREDENTIALS_DIRECTORY. */
static char *
credpath(const char *v)
{
	const char	*d = getenv("CREDENTIALS_DIRECTORY");
	char		*s;

	if (v[0] == '/' || d == NULL || *d == '\0')
		return strdup(v);
	if (asprintf(&s, "%s/%s", d, v) == -1)
		return NULL;
	return s;
}

/* what a lattice name may be (lt_text_lattice_ok()), for errors */
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define LATTICE_RULE	"(at most " STR(LT_LATTICE_MAX) " bytes; no '.', '*', " \
			"'>' or blanks)"

/* Is s a valid NATS subject token for a lattice name (or "*")? */
static int
valid_lattice(const char *s)
{
	return strcmp(s, "*") == 0 || lt_text_lattice_ok(s, strlen(s));
}

/* Whether url is a NATS server URL: nats://, tls://, ws://, wss:// or a
   bare host:port. */
static int
nats_scheme(const char *url)
{
	static const char *const ok[] = { "nats://", "tls://", "ws://",
	    "wss://" };
	size_t	i;

	if (strstr(url, "://") == NULL)
		return 1;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncasecmp(url, ok[i], strlen(ok[i])) == 0)
			return 1;
	return 0;
}

/* Add the items of v (separated by commas and/or blanks) to a list key. */
static int
addlist(struct config *cf, const struct key *k, const char *v,
    const char *where, struct config_errors *errs)
{
	char		**list = (char **)((char *)cf + k->off);
	size_t		 *n = (size_t *)((char *)cf + k->noff);
	const char	 *p = v, *item;
	char		 *tok, red[512];
	size_t		  len;
	int		  rc = 0;

	while (lt_text_next_item(&p, &item, &len)) {
		if ((tok = strndup(item, len)) == NULL)
			return -1;
		if (k->off == offsetof(struct config, lattices) &&
		    !valid_lattice(tok)) {
			/* a name that would not fit a subject is refused,
			   never cut */
			adderr(errs, "%s: invalid lattice name \"%.40s%s\" "
			    LATTICE_RULE, where, tok,
			    strlen(tok) > 40 ? "..." : "");
			rc = -1;
			free(tok);
			continue;
		}
		if (k->off == offsetof(struct config, nats_url) &&
		    !nats_scheme(tok)) {
			if (lt_text_redact_url(tok, red, sizeof(red)) != LT_OK)
				snprintf(red, sizeof(red), "(too long)");
			adderr(errs, "%s: nats_url: \"%s\" is not a NATS URL "
			    "(nats://, tls://, ws://, wss:// or host:port)",
			    where, red);
			rc = -1;
			free(tok);
			continue;
		}
		if (*n == CONFIG_MAX_LIST) {
			adderr(errs, "%s: too many %s values (max %d)", where,
			    k->name, CONFIG_MAX_LIST);
			free(tok);
			rc = -1;
			break;
		}
		list[(*n)++] = tok;
	}
	return rc;
}

/* Free a list. */
static void
freelist(char **list, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*n = 0;
}

/* Multiplier of a size unit (k, M, G: powers of 1024); 0 if none. */
static long long
sizeunit(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 1024;
	case 'M':
		return 1024 * 1024;
	case 'G':
		return 1024 * 1024 * 1024;
	}
	return 0;
}

/* Set key k from value v; where is "file:line". */
static int
setkey(struct config *cf, const struct key *k, const char *v,
    const char *where, int *seen_list, struct config_errors *errs)
{
	char	**sp = (char **)((char *)cf + k->off);
	int64_t	  d;
	char	 *end;
	long long ll, mul;
	double	  df;

	switch (k->type) {
	case K_STR:
	case K_FILE:
		free(*sp);
		*sp = k->type == K_FILE ? credpath(v) : strdup(v);
		return *sp == NULL ? -1 : 0;
	case K_LIST:
		if (!*seen_list) {
			/* the file replaces the default list */
			freelist(sp, (size_t *)((char *)cf + k->noff));
			*seen_list = 1;
		}
		return addlist(cf, k, v, where, errs);
	case K_DUR:
		if ((d = config_duration(v)) < 0) {
			adderr(errs, "%s: %s: invalid duration \"%s\" (use "
			    "e.g. 250ms, 30s, 5m, 7d)", where, k->name, v);
			return -1;
		}
		if (d < k->min || d > k->max) {
			adderr(errs, "%s: %s: %s out of range", where,
			    k->name, v);
			return -1;
		}
		*(int64_t *)((char *)cf + k->off) = d;
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
			*(int *)((char *)cf + k->off) = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
			*(int *)((char *)cf + k->off) = 0;
		else {
			adderr(errs, "%s: %s: \"%s\" is not yes or no", where,
			    k->name, v);
			return -1;
		}
		return 0;
	case K_FRAC:
		errno = 0;
		df = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' ||
		    !(df >= k->min && df <= k->max)) {
			adderr(errs, "%s: %s: \"%s\" is not a number in "
			    "%lld..%lld", where, k->name, v,
			    (long long)k->min, (long long)k->max);
			return -1;
		}
		*(double *)((char *)cf + k->off) = df;
		return 0;
	case K_COUNT:
	case K_INT:
	case K_SIZE:
	case K_I64:
		errno = 0;
		ll = strtoll(v, &end, 10);
		if (k->type == K_SIZE && errno == 0 && end != v &&
		    end[0] != '\0' && end[1] == '\0' &&
		    (mul = sizeunit(*end)) > 0) {
			ll = ll > LLONG_MAX / mul ? LLONG_MAX : ll * mul;
			end++;
		}
		if (errno != 0 || end == v || *end != '\0' || ll < k->min ||
		    ll > k->max) {
			adderr(errs, "%s: %s: \"%s\" is not a number in "
			    "%lld..%lld", where, k->name, v,
			    (long long)k->min, (long long)k->max);
			return -1;
		}
		if (k->type == K_COUNT || k->type == K_SIZE)
			*(size_t *)((char *)cf + k->off) = (size_t)ll;
		else if (k->type == K_I64)
			*(int64_t *)((char *)cf + k->off) = ll;
		else
			*(int *)((char *)cf + k->off) = (int)ll;
		return 0;
	}
	return -1;
}

/*
 * Split a line into key and value, in place.  A value in double quotes
 * keeps '#' and blanks (\" and \\ escape a quote and a backslash);
 * otherwise '#' at the start of the line or after a blank starts a
 * comment, so "pa#ss" stays whole.  Returns 0 (*key NULL for a blank or
 * comment line) or -1 with *why set.
 */
static int
splitline(char *line, char **key, char **val, const char **why)
{
	char	*p, *r, *w;

	*key = *val = NULL;
	for (p = line; isspace((unsigned char)*p); p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	p += strcspn(p, " \t\r\n");
	if (*p != '\0')
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		for (w = p, r = p + 1; *r != '"'; ) {
			if (*r == '\0') {
				*why = "unterminated quoted value";
				return -1;
			}
			if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r++;
		}
		for (r++; isspace((unsigned char)*r); r++)
			;
		if (*r != '\0' && *r != '#') {
			*why = "text after the closing quote";
			return -1;
		}
		*w = '\0';
		*val = p;
		return 0;
	}
	for (r = p; *r != '\0'; r++)
		if (*r == '#' && (r == p || isspace((unsigned char)r[-1]))) {
			*r = '\0';
			break;
		}
	for (r = p + strlen(p); r > p && isspace((unsigned char)r[-1]); r--)
		r[-1] = '\0';
	*val = p;
	return 0;
}

/* Read the file into cf. */
static int
readfile(struct config *cf, const char *path, int must_exist,
    struct config_errors *errs)
{
	FILE		*fp;
	char		*line = NULL, *key, *val, where[PATH_MAX + 32];
	const char	*why;
	size_t		 cap = 0, i, nkeys = sizeof(keys) / sizeof(keys[0]);
	int		 lineno = 0, rc = 0;
	int		 seen_list[sizeof(keys) / sizeof(keys[0])] = { 0 };

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		adderr(errs, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (splitline(line, &key, &val, &why) == -1) {
			adderr(errs, "%s: %s", where, why);
			rc = -1;
			continue;
		}
		if (key == NULL)
			continue;
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == nkeys) {
			adderr(errs, "%s: unknown key \"%s\"", where, key);
			rc = -1;
			continue;
		}
		if (*val == '\0') {
			adderr(errs, "%s: %s: missing value", where, key);
			rc = -1;
			continue;
		}
		if (cf->key_line[i] && keys[i].type != K_LIST) {
			adderr(errs, "%s: %s: duplicate key (first on line "
			    "%d)", where, key, cf->key_line[i]);
			rc = -1;
			continue;
		}
		if (!cf->key_line[i])
			cf->key_line[i] = lineno;
		if (setkey(cf, &keys[i], val, where, &seen_list[i], errs)
		    == -1)
			rc = -1;
	}
	if (ferror(fp)) {
		adderr(errs, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/* Print a string value, quoted when it holds blanks, '#' or quotes. */
static void
printval(FILE *fp, const char *v)
{
	if (*v != '\0' && strpbrk(v, " \t#\"\\") == NULL) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

/* Print a command line word by word, URLs without their userinfo
   secret (a webhook argument may carry one). */
static void
printwords(FILE *fp, const char *v)
{
	const char	*p = v;
	char		*w, red[1024];
	size_t		 len;
	int		 first = 1;

	/* split on blanks only, as alerts_command_argv() does */
	for (;; p += len) {
		p += strspn(p, " \t");
		if ((len = strcspn(p, " \t")) == 0)
			break;
		if ((w = strndup(p, len)) == NULL)
			break;
		if (lt_text_redact_url(w, red, sizeof(red)) != LT_OK)
			strcpy(red, "(too long)");
		fprintf(fp, "%s%s", first ? "" : " ", red);
		first = 0;
		free(w);
	}
}

/* Print a duration in the largest unit that keeps it exact. */
static void
printdur(FILE *fp, int64_t ms)
{
	static const struct { int64_t mul; const char *unit; } u[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t	i;

	if (ms == 0) {
		fputs("0", fp);
		return;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (ms % u[i].mul == 0) {
			fprintf(fp, "%lld%s", (long long)(ms / u[i].mul),
			    u[i].unit);
			return;
		}
}

/* Whether key k holds a secret whose value must never be printed. */
static int
secret_key(const struct key *k)
{
	return strcmp(k->name, "nats_password") == 0 ||
	    strcmp(k->name, "nats_token") == 0;
}

/* Print the effective configuration, secrets redacted. */
void
config_print(const struct config *cf, FILE *fp)
{
	const struct key	*k;
	const char		*base = (const char *)cf;
	char			*const *sp, red[1024];
	size_t			 i, j, n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		k = &keys[i];
		fprintf(fp, "%-24s ", k->name);
		switch (k->type) {
		case K_STR:
		case K_FILE:
			sp = (char *const *)(base + k->off);
			if (*sp == NULL)
				fputs("# not set", fp);
			else if (secret_key(k))
				fputs("xxxxx # redacted", fp);
			else if (strcmp(k->name, "alert_command") == 0)
				printwords(fp, *sp);
			else if (strstr(k->name, "url") != NULL) {
				if (lt_text_redact_url(*sp, red, sizeof(red))
				    != LT_OK)
					strcpy(red, "(too long)");
				printval(fp, red);
			} else
				printval(fp, *sp);
			break;
		case K_LIST:
			sp = (char *const *)(base + k->off);
			n = *(const size_t *)(base + k->noff);
			for (j = 0; j < n; j++) {
				if (j > 0)
					fputs(", ", fp);
				if (lt_text_redact_url(sp[j], red, sizeof(red))
				    != LT_OK)
					strcpy(red, "(too long)");
				fputs(red, fp);
			}
			break;
		case K_DUR:
			printdur(fp, *(const int64_t *)(base + k->off));
			break;
		case K_BOOL:
			fputs(*(const int *)(base + k->off) ? "yes" : "no", fp);
			break;
		case K_FRAC:
			fprintf(fp, "%g", *(const double *)(base + k->off));
			break;
		case K_COUNT:
		case K_SIZE:
			fprintf(fp, "%zu", *(const size_t *)(base + k->off));
			break;
		case K_I64:
			fprintf(fp, "%lld",
			    (long long)*(const int64_t *)(base + k->off));
			break;
		case K_INT:
			fprintf(fp, "%d", *(const int *)(base + k->off));
			break;
		}
		fputc('\n', fp);
	}
}

/* Say where key was set: "file:line", or the file when it was not. */
const char *
config_where(const struct config *cf, const char *key, char *buf,
    size_t len)
{
	const char	*p = cf->path != NULL ? cf->path : "config";
	size_t		 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0 && cf->key_line[i] > 0) {
			snprintf(buf, len, "%s:%d", p, cf->key_line[i]);
			return buf;
		}
	snprintf(buf, len, "%s", p);
	return buf;
}

/* Whether s is a dot-separated run of non-empty NATS subject tokens. */
static int
is_subject(const char *s, int dots)
{
	if (s[0] == '\0' || s[0] == '.' || s[strlen(s) - 1] == '.' ||
	    strstr(s, "..") != NULL || strpbrk(s, " \t\r\n*>") != NULL)
		return 0;
	return dots || strchr(s, '.') == NULL;
}

/* Check the wasmCloud 2 and control interface keys. */
static int
check_v2(struct config *cf, struct config_errors *errs)
{
	const char	*m, *e, *eq;
	char		 w[PATH_MAX + 32];
	int		 rc = 0;

	if (cf->ctl_topic_prefix == NULL ||
	    strlen(cf->ctl_topic_prefix) > 100 ||
	    !is_subject(cf->ctl_topic_prefix, 1)) {
		adderr(errs, "%s: ctl_topic_prefix: not a subject prefix",
		    config_where(cf, "ctl_topic_prefix", w, sizeof(w)));
		rc = -1;
	}
	if (cf->js_domain != NULL && (strlen(cf->js_domain) > 100 ||
	    !is_subject(cf->js_domain, 0))) {
		adderr(errs, "%s: js_domain: not a single subject token",
		    config_where(cf, "js_domain", w, sizeof(w)));
		rc = -1;
	}
	if (cf->v2_lattice != NULL && !lt_text_lattice_ok(cf->v2_lattice,
	    strlen(cf->v2_lattice))) {
		adderr(errs, "%s: v2_lattice: \"%.40s\" is not a lattice name "
		    LATTICE_RULE,
		    config_where(cf, "v2_lattice", w, sizeof(w)),
		    cf->v2_lattice);
		rc = -1;
	}
	for (m = cf->v2_lattice_map; m != NULL && *m != '\0';
	    m = *e == ',' ? e + 1 : e) {
		e = m + strcspn(m, ",");
		eq = memchr(m, '=', (size_t)(e - m));
		if (eq == NULL || *m == '=' || e[-1] == '=' ||
		    (*e == ',' && e[1] == '\0')) {
			adderr(errs, "%s: v2_lattice_map: \"%.*s\" is not "
			    "environment=lattice", config_where(cf,
			    "v2_lattice_map", w, sizeof(w)), (int)(e - m), m);
			rc = -1;
			break;
		}
		if (!lt_text_lattice_ok(eq + 1, (size_t)(e - eq - 1))) {
			adderr(errs, "%s: v2_lattice_map: \"%.*s\" is not a "
			    "lattice name " LATTICE_RULE, config_where(cf,
			    "v2_lattice_map", w,
			    sizeof(w)), (int)(e - eq - 1), eq + 1);
			rc = -1;
			break;
		}
	}
	return rc;
}

/* Check combinations that no single line shows; each error names the line
   of the key it is about. */
static int
crosscheck(struct config *cf, struct config_errors *errs)
{
	char	 host[256], why[256], w[PATH_MAX + 32], red[512];
	int	 port;
	int	 rc = 0;

#define AT(k)	config_where(cf, (k), w, sizeof(w))
	if (cf->nats_nkey_seed != NULL && cf->nats_nkey == NULL) {
		adderr(errs, "%s: nats_nkey_seed needs nats_nkey (the public "
		    "key)", AT("nats_nkey_seed"));
		rc = -1;
	}
	if ((cf->tls_cert == NULL) != (cf->tls_key == NULL)) {
		adderr(errs, "%s: tls_cert and tls_key go together",
		    AT(cf->tls_cert != NULL ? "tls_cert" : "tls_key"));
		rc = -1;
	}
	if (cf->nats_password != NULL && cf->nats_user == NULL) {
		adderr(errs, "%s: nats_password needs nats_user",
		    AT("nats_password"));
		rc = -1;
	}
	if (cf->nnats_url == 0) {
		adderr(errs, "%s: no nats_url", AT("nats_url"));
		rc = -1;
	}
	if (cf->nlattices == 0) {
		adderr(errs, "%s: no lattices", AT("lattices"));
		rc = -1;
	}
	if (cf->http_listen != NULL && http_parse_listen(cf->http_listen,
	    host, sizeof(host), &port, why, sizeof(why)) == -1) {
		adderr(errs, "%s: http_listen %s", AT("http_listen"), why);
		rc = -1;
	}
	if (cf->alert_command != NULL) {
		struct lt_err	 aerr;
		char		**av;

		if (lt_argv_split(cf->alert_command, &av, NULL, &aerr) !=
		    LT_OK) {
			adderr(errs, "%s: alert_command: %s",
			    AT("alert_command"), aerr.msg);
			rc = -1;
		} else {
			if (av[0][0] != '/') {
				adderr(errs, "%s: alert_command: the program "
				    "must be an absolute path",
				    AT("alert_command"));
				rc = -1;
			}
			free(av);
		}
	}
	if (cf->alert_alertmanager_url != NULL) {
		if (lt_text_redact_url(cf->alert_alertmanager_url, red,
		    sizeof(red)) != LT_OK)
			snprintf(red, sizeof(red), "(too long)");
		if (strncasecmp(cf->alert_alertmanager_url, "http://", 7)
		    != 0) {
			adderr(errs, "%s: alert_alertmanager_url: only http:// "
			    "is supported (use a local TLS proxy): %s",
			    AT("alert_alertmanager_url"), red);
			rc = -1;
		} else if (lt_text_url_has_userinfo(
		    cf->alert_alertmanager_url)) {
			adderr(errs, "%s: alert_alertmanager_url: no user or "
			    "password allowed (sent in clear over http): %s",
			    AT("alert_alertmanager_url"), red);
			rc = -1;
		}
	}
	if (cf->alert_nats_subject != NULL &&
	    strpbrk(cf->alert_nats_subject, " \t\r\n*>") != NULL) {
		adderr(errs, "%s: alert_nats_subject: not a publishable "
		    "subject", AT("alert_nats_subject"));
		rc = -1;
	}
	if (strcmp(cf->js_mode, "source") != 0 &&
	    strcmp(cf->js_mode, "attach") != 0) {
		adderr(errs, "%s: js_mode: \"%s\" is not source or attach",
		    AT("js_mode"), cf->js_mode);
		rc = -1;
	}
	if (strpbrk(cf->js_durable, ".*> \t") != NULL) {
		adderr(errs, "%s: js_durable cannot contain '.', '*', '>' or "
		    "blanks", AT("js_durable"));
		rc = -1;
	}
	if (strpbrk(cf->js_stream, ".*> \t") != NULL) {
		adderr(errs, "%s: js_stream cannot contain '.', '*', '>' or "
		    "blanks", AT("js_stream"));
		rc = -1;
	}
	/* names that go into subjects and keys are never cut */
	if (strlen(cf->js_stream) > 200 || strlen(cf->js_durable) > 200) {
		adderr(errs, "%s: js_stream and js_durable take at most 200 "
		    "bytes", AT(strlen(cf->js_stream) > 200 ? "js_stream" :
		    "js_durable"));
		rc = -1;
	}
#undef AT
	return rc;
}

/* Load defaults, then the file, then flags. */
int
config_load(const char *path, int must_exist,
    const struct config_flags *flags, struct config **out,
    struct config_errors *errs)
{
	struct config	*cf;
	const char	*sd;
	size_t		 i;
	int		 rc = 0;

	*out = NULL;
	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return -1;
	if ((sd = getenv("STATE_DIRECTORY")) != NULL && *sd != '\0') {
		if (asprintf(&cf->db, "%.*s/latticed.db",
		    (int)strcspn(sd, ":"), sd) == -1)
			cf->db = NULL;
	} else
		cf->db = strdup("/var/lib/latticed/latticed.db");
	cf->nats_url[cf->nnats_url++] = strdup("nats://127.0.0.1:4222");
	cf->lattices[cf->nlattices++] = strdup("*");
	cf->stale_threshold_ms = 70000;
	cf->sweep_interval_ms = 5000;
	cf->batch_delay_ms = 20;
	cf->batch_linger_ms = 100;
	cf->reconnect_wait_ms = 2000;
	cf->batch_max = 1000;
	cf->inbox_max = 20000;
	cf->inbox_max_bytes = CONFIG_INBOX_MAX_BYTES;
	cf->inbox_spool = CONFIG_INBOX_SPOOL;
	lt_limits_default(&cf->limits);
	cf->js_stream = strdup("latticed_events");
	cf->js_durable = strdup("latticed");
	cf->js_mode = strdup("source");
	cf->js_max_age_ms = INT64_C(86400000);
	cf->js_max_deliver = 5;
	cf->resync_gather_ms = 2000;
	cf->history_max_age_ms = INT64_C(7) * 86400000;
	cf->history_max_rows = 10000000;
	cf->rejected_max_age_ms = INT64_C(30) * 86400000;
	cf->rejected_max_rows = 100000;
	cf->retention_interval_ms = 10000;
	cf->host_max_age_ms = INT64_C(7) * 86400000;
	cf->resync_max_lattices = 100;
	cf->checkpoint_interval_ms = 1000;
	cf->health_nats_grace_ms = 30000;
	cf->http_header_timeout_ms = 5000;
	cf->http_max_connections = 64;
	cf->alert_log = 1;
	cf->alert_command_timeout_ms = 10000;
	cf->alert_repost_interval_ms = 60000;
	cf->mass_silence_min_hosts = 3;
	cf->mass_silence_fraction = 0.5;
	cf->mass_silence_window_ms = 120000;
	cf->alert_storm_threshold = 50;
	cf->alert_rate_limit = 10;
	cf->v2_heartbeats = 1;
	if ((cf->ctl_topic_prefix = strdup("wasmbus.ctl")) == NULL)
		goto fail;
	if (cf->js_stream == NULL || cf->js_durable == NULL ||
	    cf->js_mode == NULL)
		goto fail;
	if (cf->db == NULL || cf->nats_url[0] == NULL ||
	    cf->lattices[0] == NULL)
		goto fail;
	if (path != NULL) {
		if ((cf->path = strdup(path)) == NULL)
			goto fail;
		if (readfile(cf, path, must_exist, errs) == -1)
			rc = -1;
	}
	if (flags != NULL) {
		if (flags->db != NULL) {
			free(cf->db);
			if ((cf->db = strdup(flags->db)) == NULL)
				goto fail;
		}
		if (flags->nnats_url > 0) {
			freelist(cf->nats_url, &cf->nnats_url);
			for (i = 0; i < flags->nnats_url; i++)
				if (addlist(cf, &keys[1], flags->nats_url[i],
				    "--nats", errs) == -1)
					rc = -1;
		}
		cf->verbose += flags->verbose;
	}
	if (crosscheck(cf, errs) == -1)
		rc = -1;
	if (check_v2(cf, errs) == -1)
		rc = -1;
	if (rc == -1)
		goto fail;
	*out = cf;
	return 0;
fail:
	if (errs->n == 0)
		adderr(errs, "%s: out of memory", path ? path : "config");
	config_free(cf);
	return -1;
}

/* Free a config. */
void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	freelist(cf->nats_url, &cf->nnats_url);
	freelist(cf->lattices, &cf->nlattices);
	free(cf->path);
	free(cf->db);
	free(cf->nats_user);
	free(cf->nats_password);
	free(cf->nats_token);
	free(cf->nats_creds);
	free(cf->nats_nkey);
	free(cf->nats_nkey_seed);
	free(cf->tls_ca);
	free(cf->tls_cert);
	free(cf->tls_key);
	free(cf->js_stream);
	free(cf->js_durable);
	free(cf->js_mode);
	free(cf->http_listen);
	free(cf->alert_command);
	free(cf->alert_nats_subject);
	free(cf->alert_alertmanager_url);
	free(cf->v2_lattice);
	free(cf->v2_lattice_map);
	free(cf->ctl_topic_prefix);
	free(cf->js_domain);
	free(cf);
}

/* Fill so from the config's stale and mass-silence settings. */
void
config_stale_opts(const struct config *cf, struct lt_stale_opts *so)
{
	lt_stale_opts_default(so);
	so->threshold_ms = cf->stale_threshold_ms;
	so->mass_silence_min_hosts = cf->mass_silence_min_hosts;
	so->mass_silence_fraction = cf->mass_silence_fraction;
	so->mass_silence_window_ms = cf->mass_silence_window_ms;
	so->storm_threshold = cf->alert_storm_threshold;
	so->next_sweep_ms = cf->sweep_interval_ms;
}
