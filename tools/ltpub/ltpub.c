/*
 * ltpub - publish JSONL test events to NATS.
 *
 * Each input line is {"subject": S, "event": {...}} (the event is sent as
 * compact JSON) or {"subject": S, "raw": "..."} (the string is sent
 * verbatim, for malformed-payload tests).  Flushes before exiting.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <nats/nats.h>

/* Print usage and exit 2. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ltpub --nats url [--user u --password p] "
	    "[--token t] [--creds file]\n"
	    "             [--nkey pub --nkey-seed file] [--tls-ca f] "
	    "[--tls-cert f --tls-key f]\n"
	    "             [--interval ms | --rate msgs/s] [file|-]\n");
	exit(2);
}

/* Exit with a nats.c error. */
static void __attribute__((noreturn))
die(const char *what, natsStatus s)
{
	fprintf(stderr, "ltpub: %s: %s (%s)\n", what, natsStatus_GetText(s),
	    nats_GetLastError(NULL));
	exit(1);
}

/* Publish one line; returns 0 or -1 for a bad line. */
static int
publish_line(natsConnection *nc, const char *line, unsigned long lineno)
{
	cJSON		*root, *subj, *ev, *raw;
	char		*text = NULL;
	natsStatus	 s;
	int		 rc = -1;

	if ((root = cJSON_Parse(line)) == NULL)
		goto out;
	subj = cJSON_GetObjectItemCaseSensitive(root, "subject");
	ev = cJSON_GetObjectItemCaseSensitive(root, "event");
	raw = cJSON_GetObjectItemCaseSensitive(root, "raw");
	if (!cJSON_IsString(subj))
		goto out;
	if (cJSON_IsString(raw))
		s = natsConnection_Publish(nc, subj->valuestring,
		    raw->valuestring, (int)strlen(raw->valuestring));
	else if (ev != NULL && (text = cJSON_PrintUnformatted(ev)) != NULL)
		s = natsConnection_Publish(nc, subj->valuestring, text,
		    (int)strlen(text));
	else
		goto out;
	if (s != NATS_OK)
		die("publish", s);
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "ltpub: line %lu: not {\"subject\", "
		    "\"event\"|\"raw\"}\n", lineno);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

/* Connect, publish every line, flush. */
int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "nats", required_argument, NULL, 'u' },
		{ "user", required_argument, NULL, 'U' },
		{ "password", required_argument, NULL, 'P' },
		{ "token", required_argument, NULL, 't' },
		{ "creds", required_argument, NULL, 'c' },
		{ "nkey", required_argument, NULL, 'k' },
		{ "nkey-seed", required_argument, NULL, 's' },
		{ "tls-ca", required_argument, NULL, 'a' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "interval", required_argument, NULL, 'i' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*url = NULL, *user = NULL, *pass = NULL, *token = NULL;
	const char	*creds = NULL, *nkey = NULL, *seed = NULL, *ca = NULL;
	const char	*cert = NULL, *key = NULL;
	natsOptions	*o;
	natsConnection	*nc;
	natsStatus	 s;
	FILE		*fp = stdin;
	char		*line = NULL;
	size_t		 cap = 0;
	unsigned long	 lineno = 0, sent = 0, bad = 0;
	long		 interval = 0, rate = 0;
	struct timespec	 t0, due;
	int		 ch, tries;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'U': user = optarg; break;
		case 'P': pass = optarg; break;
		case 't': token = optarg; break;
		case 'c': creds = optarg; break;
		case 'k': nkey = optarg; break;
		case 's': seed = optarg; break;
		case 'a': ca = optarg; break;
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'i': interval = atol(optarg); break;
		case 'r': rate = atol(optarg); break;
		default: usage();
		}
	}
	if (url == NULL || argc - optind > 1)
		usage();
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0 &&
	    (fp = fopen(argv[optind], "r")) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	if ((s = natsOptions_Create(&o)) != NATS_OK)
		die("options", s);
	s = natsOptions_SetURL(o, url);
	if (s == NATS_OK && user != NULL)
		s = natsOptions_SetUserInfo(o, user, pass);
	if (s == NATS_OK && token != NULL)
		s = natsOptions_SetToken(o, token);
	if (s == NATS_OK && creds != NULL)
		s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
	if (s == NATS_OK && seed != NULL)
		s = natsOptions_SetNKeyFromSeed(o, nkey, seed);
	if (s == NATS_OK && (ca != NULL || cert != NULL))
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && ca != NULL)
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	if (s == NATS_OK && cert != NULL)
		s = natsOptions_LoadCertificatesChain(o, cert, key);
	if (s != NATS_OK)
		die("options", s);
	/* a signed nonce: nats.c < 3.8.0 leaves out 1 signature in 256
	   (see latticed's natsconn_open); a new connect signs a new nonce */
	s = natsConnection_Connect(&nc, o);
	for (tries = 1; s == NATS_CONNECTION_AUTH_FAILED && tries < 4 &&
	    (seed != NULL || creds != NULL); tries++)
		s = natsConnection_Connect(&nc, o);
	if (s != NATS_OK)
		die("connect", s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (publish_line(nc, line, lineno) == -1) {
			bad++;
			continue;
		}
		sent++;
		if (interval > 0) {
			struct timespec ts = { interval / 1000,
			    (interval % 1000) * 1000000 };

			natsConnection_FlushTimeout(nc, 5000);
			nanosleep(&ts, NULL);
		} else if (rate > 0) {
			/* on a fixed schedule (message k at t0 + k / rate): a
			   loaded machine delays some, never the average */
			long long ns = (long long)sent * 1000000000LL / rate;

			natsConnection_FlushTimeout(nc, 5000);
			due.tv_sec = t0.tv_sec + (time_t)(ns / 1000000000LL);
			due.tv_nsec = t0.tv_nsec + (long)(ns % 1000000000LL);
			if (due.tv_nsec >= 1000000000L) {
				due.tv_sec++;
				due.tv_nsec -= 1000000000L;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due,
			    NULL);
		}
	}
	if ((s = natsConnection_FlushTimeout(nc, 10000)) != NATS_OK)
		die("flush", s);
	fprintf(stderr, "ltpub: published %lu messages\n", sent);
	free(line);
	if (fp != stdin)
		fclose(fp);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	nats_Close();
	return bad > 0 ? 1 : 0;
}
