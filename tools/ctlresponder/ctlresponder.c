/*
 * ctlresponder - answer wasmCloud control-interface queries from a JSON
 * fixture, or create a JetStream stream, for the integration tests.
 *
 *	ctlresponder --nats url --fixture file [--kv]
 *		Answer wasmbus.ctl.v1.L.host.ping, host.get.H, link.get and
 *		config.get.N with CtlResponse {success, message, response}
 *		replies shaped like wasmCloud 1.x.  --kv also writes the config
 *		names into the CONFIGDATA_L key-value bucket.  Runs until
 *		SIGTERM; prints "ready" once subscribed.  Like a 1.x host
 *		started with them, --ctl-topic-prefix P answers on P.v1.L...
 *		and --js-domain D keeps the bucket in JetStream domain D.
 *	ctlresponder --nats url --make-stream name --subjects a,b
 *	    [--max-age secs] [--max-msgs n] [--workqueue] [--source name]
 *		Create a stream and exit.
 *	ctlresponder --nats url --late-pulls consumer [--copies n]
 *		Send each pull request to consumer (any stream) n (default
 *		2) more times with its reply subject, waiting (no no_wait),
 *		as if earlier pulls were still open at the server (a client
 *		that stopped waiting first, pulls buffered across a
 *		reconnect): their messages arrive while latticed waits for
 *		its own.  Runs until SIGTERM; prints "ready" once
 *		subscribed.
 *
 * Fixture: {"lattice": L, "hosts": [{"host_id", "friendly_name", "labels",
 * "version", "uptime_seconds", "components": [...], "providers": [...]}],
 * "links": [...], "configs": {"name": {"key": "value"}}}.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nats/nats.h>

static cJSON		*fixture;
static const char	*lattice;
static const char	*ctl_prefix = "wasmbus.ctl";	/* --ctl-topic-prefix */
static const char	*js_domain;			/* --js-domain */
static volatile sig_atomic_t done;

/* Print usage and exit 2. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ctlresponder --nats url --fixture file [--kv]\n"
	    "           [--ctl-topic-prefix p] [--js-domain d]\n"
	    "       ctlresponder --nats url --make-stream name --subjects a,b "
	    "[--max-age secs]\n"
	    "           [--max-msgs n] [--workqueue] [--source stream]\n"
	    "       ctlresponder --nats url --late-pulls consumer "
	    "[--copies n]\n");
	exit(2);
}

/* Exit with a nats.c error. */
static void __attribute__((noreturn))
die(const char *what, natsStatus s)
{
	fprintf(stderr, "ctlresponder: %s: %s (%s)\n", what,
	    natsStatus_GetText(s), nats_GetLastError(NULL));
	exit(1);
}

/* Publish {success, message, response} to reply; consumes resp. */
static void
respond(natsConnection *nc, const char *reply, int ok, const char *msg,
    cJSON *resp)
{
	cJSON	*r = cJSON_CreateObject();
	char	*txt;

	cJSON_AddBoolToObject(r, "success", ok);
	cJSON_AddStringToObject(r, "message", msg);
	if (resp != NULL)
		cJSON_AddItemToObject(r, "response", resp);
	txt = cJSON_PrintUnformatted(r);
	natsConnection_PublishString(nc, reply, txt);
	free(txt);
	cJSON_Delete(r);
}

/* Copy a member of o (or a default) into out under name. */
static void
copy_member(cJSON *out, cJSON *o, const char *name, cJSON *dflt)
{
	cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v != NULL) {
		cJSON_AddItemToObject(out, name, cJSON_Duplicate(v, 1));
		cJSON_Delete(dflt);
	} else if (dflt != NULL)
		cJSON_AddItemToObject(out, name, dflt);
}

/* The host of the fixture with this id, or NULL. */
static cJSON *
find_host(const char *id)
{
	cJSON	*h, *hid;

	cJSON_ArrayForEach(h, cJSON_GetObjectItem(fixture, "hosts")) {
		hid = cJSON_GetObjectItemCaseSensitive(h, "host_id");
		if (cJSON_IsString(hid) && strcmp(hid->valuestring, id) == 0)
			return h;
	}
	return NULL;
}

/* Answer one control-interface request. */
static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	const char	*subj = natsMsg_GetSubject(msg);
	const char	*reply = natsMsg_GetReply(msg);
	char		 pfx[300];
	size_t		 plen;
	cJSON		*h, *r, *v;

	(void)sub;
	(void)arg;
	snprintf(pfx, sizeof(pfx), "%s.v1.%s.", ctl_prefix, lattice);
	plen = strlen(pfx);
	if (reply == NULL || strncmp(subj, pfx, plen) != 0)
		goto out;
	subj += plen;
	if (strcmp(subj, "host.ping") == 0) {
		/* one CtlResponse<Host> per host, like a scatter/gather */
		cJSON_ArrayForEach(h, cJSON_GetObjectItem(fixture, "hosts")) {
			r = cJSON_CreateObject();
			v = cJSON_GetObjectItem(h, "host_id");
			cJSON_AddStringToObject(r, "id", cJSON_IsString(v) ?
			    v->valuestring : "");
			copy_member(r, h, "friendly_name",
			    cJSON_CreateString(""));
			copy_member(r, h, "labels", cJSON_CreateObject());
			cJSON_AddStringToObject(r, "lattice", lattice);
			copy_member(r, h, "uptime_seconds",
			    cJSON_CreateNumber(0));
			copy_member(r, h, "version", NULL);
			respond(nc, reply, 1, "", r);
		}
	} else if (strncmp(subj, "host.get.", 9) == 0) {
		if ((h = find_host(subj + 9)) == NULL) {
			respond(nc, reply, 0, "host not found", NULL);
			goto out;
		}
		/* HostInventory */
		r = cJSON_CreateObject();
		copy_member(r, h, "components", cJSON_CreateArray());
		copy_member(r, h, "providers", cJSON_CreateArray());
		copy_member(r, h, "host_id", NULL);
		copy_member(r, h, "friendly_name", cJSON_CreateString(""));
		copy_member(r, h, "labels", cJSON_CreateObject());
		copy_member(r, h, "version", cJSON_CreateString("1.9.2"));
		copy_member(r, h, "uptime_human", cJSON_CreateString("1m"));
		copy_member(r, h, "uptime_seconds", cJSON_CreateNumber(60));
		respond(nc, reply, 1, "", r);
	} else if (strcmp(subj, "link.get") == 0) {
		v = cJSON_GetObjectItem(fixture, "links");
		respond(nc, reply, 1, "", v != NULL ? cJSON_Duplicate(v, 1) :
		    cJSON_CreateArray());
	} else if (strncmp(subj, "config.get.", 11) == 0) {
		v = cJSON_GetObjectItem(cJSON_GetObjectItem(fixture, "configs"),
		    subj + 11);
		if (v == NULL)
			respond(nc, reply, 0, "Configuration not found", NULL);
		else
			respond(nc, reply, 1, "", cJSON_Duplicate(v, 1));
	}
out:
	natsMsg_Destroy(msg);
}

/* Write the config names into CONFIGDATA_<lattice>. */
static void
fill_kv(natsConnection *nc)
{
	jsCtx		*js = NULL;
	kvStore		*kv = NULL;
	kvConfig	 kc;
	jsOptions	 jo;
	char		 bucket[300], *txt;
	cJSON		*c;
	natsStatus	 s;

	if ((s = jsOptions_Init(&jo)) != NATS_OK)
		die("jetstream options", s);
	jo.Domain = js_domain;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		die("jetstream", s);
	snprintf(bucket, sizeof(bucket), "CONFIGDATA_%s", lattice);
	kvConfig_Init(&kc);
	kc.Bucket = bucket;
	if ((s = js_CreateKeyValue(&kv, js, &kc)) != NATS_OK)
		die("create kv", s);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(fixture, "configs")) {
		txt = cJSON_PrintUnformatted(c);
		if ((s = kvStore_PutString(NULL, kv, c->string, txt)) !=
		    NATS_OK)
			die("kv put", s);
		free(txt);
	}
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
}

/* Create a stream and exit. */
static int
make_stream(natsConnection *nc, const char *name, char *subjects,
    long max_age, long max_msgs, int workqueue, const char *source)
{
	jsCtx		*js = NULL;
	jsStreamInfo	*si = NULL;
	jsStreamConfig	 sc;
	jsStreamSource	 src, *srcs[1];
	jsErrCode	 jerr = 0;
	const char	*subj[16];
	char		*p, *tok;
	int		 n = 0;
	natsStatus	 s;

	if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
		die("jetstream", s);
	for (p = subjects; p != NULL && n < 16 &&
	    (tok = strsep(&p, ",")) != NULL;)
		if (*tok != '\0')
			subj[n++] = tok;
	jsStreamConfig_Init(&sc);
	sc.Name = name;
	sc.Subjects = subj;
	sc.SubjectsLen = n;
	sc.Retention = workqueue ? js_WorkQueuePolicy : js_LimitsPolicy;
	sc.Storage = js_FileStorage;
	sc.MaxAge = (int64_t)max_age * 1000000000;
	if (max_msgs > 0)
		sc.MaxMsgs = max_msgs;
	if (source != NULL) {
		memset(&src, 0, sizeof(src));
		src.Name = source;
		srcs[0] = &src;
		sc.Sources = srcs;
		sc.SourcesLen = 1;
	}
	if ((s = js_AddStream(&si, js, &sc, NULL, &jerr)) != NATS_OK) {
		fprintf(stderr, "ctlresponder: add stream %s: %s (%d)\n", name,
		    natsStatus_GetText(s), (int)jerr);
		return 1;
	}
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	printf("stream %s created\n", name);
	return 0;
}

/* Stop on a signal. */
static void
on_signal(int sig)
{
	(void)sig;
	done = 1;
}

/* Read the fixture file. */
static void
load_fixture(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;
	cJSON	*l;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	if ((buf = calloc(1, (size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		fprintf(stderr, "ctlresponder: cannot read %s\n", path);
		exit(1);
	}
	fclose(fp);
	fixture = cJSON_Parse(buf);
	free(buf);
	l = cJSON_GetObjectItem(fixture, "lattice");
	if (!cJSON_IsString(l)) {
		fprintf(stderr, "ctlresponder: %s: no lattice\n", path);
		exit(1);
	}
	lattice = l->valuestring;
}

static int	late_copies = 2;	/* --copies */

/* A pull request of latticed's: send it late_copies more times with its
   reply, waiting at the server (without no_wait), as if earlier pulls
   were still open there. */
static void
on_pull(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	static const char nowait[] = ",\"no_wait\":true";
	const char	*reply = natsMsg_GetReply(msg);
	char		 body[256], *nw;
	int		 i, len = natsMsg_GetDataLength(msg);

	(void)sub;
	(void)arg;
	if (reply == NULL || len <= 0 || len >= (int)sizeof(body))
		goto out;
	memcpy(body, natsMsg_GetData(msg), (size_t)len + 1);
	if ((nw = strstr(body, ",\"no_wait\":true")) != NULL)
		memmove(nw, nw + sizeof(nowait) - 1,
		    strlen(nw + sizeof(nowait) - 1) + 1);
	for (i = 0; i < late_copies; i++)
		natsConnection_PublishRequestString(nc,
		    natsMsg_GetSubject(msg), reply, body);
out:
	natsMsg_Destroy(msg);
}

/* Parse flags; serve or make a stream. */
int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "nats", required_argument, NULL, 'n' },
		{ "fixture", required_argument, NULL, 'f' },
		{ "kv", no_argument, NULL, 'k' },
		{ "make-stream", required_argument, NULL, 's' },
		{ "subjects", required_argument, NULL, 'S' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "max-msgs", required_argument, NULL, 'm' },
		{ "workqueue", no_argument, NULL, 'w' },
		{ "source", required_argument, NULL, 'o' },
		{ "ctl-topic-prefix", required_argument, NULL, 'p' },
		{ "js-domain", required_argument, NULL, 'd' },
		{ "late-pulls", required_argument, NULL, 'l' },
		{ "copies", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	natsConnection		*nc = NULL;
	natsSubscription	*sub = NULL;
	natsOptions		*opts = NULL;
	const char		*url = NULL, *fix = NULL, *stream = NULL;
	const char		*pulls = NULL;
	const char		*source = NULL;
	char			*subjects = NULL, subj[300];
	long			 max_age = 0, max_msgs = 0;
	int			 ch, kv = 0, wq = 0, rc;
	natsStatus		 s;
	sigset_t		 stop, old;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': url = optarg; break;
		case 'f': fix = optarg; break;
		case 'k': kv = 1; break;
		case 's': stream = optarg; break;
		case 'S': subjects = optarg; break;
		case 'a': max_age = atol(optarg); break;
		case 'm': max_msgs = atol(optarg); break;
		case 'w': wq = 1; break;
		case 'o': source = optarg; break;
		case 'p': ctl_prefix = optarg; break;
		case 'd': js_domain = optarg; break;
		case 'l': pulls = optarg; break;
		case 'c': late_copies = atoi(optarg); break;
		default: usage();
		}
	}
	if (url == NULL || (fix == NULL && stream == NULL && pulls == NULL))
		usage();
	/* Block the signals before nats.c starts its threads, which
	   inherit the mask: they reach only the main thread's sigsuspend()
	   (a handler on a nats.c thread raced with the check, TSan), and
	   never land between the check and the wait (lost: the test waited
	   forever). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	/* --late-pulls: no echo, never seeing (and copying) its own pulls */
	if ((s = natsOptions_Create(&opts)) != NATS_OK ||
	    (s = natsOptions_SetURL(opts, url)) != NATS_OK ||
	    (s = natsOptions_SetNoEcho(opts, pulls != NULL)) != NATS_OK ||
	    (s = natsConnection_Connect(&nc, opts)) != NATS_OK)
		die("connect", s);
	natsOptions_Destroy(opts);
	if (stream != NULL) {
		/* a one-shot: a signal ends it the default way */
		sigprocmask(SIG_SETMASK, &old, NULL);
		rc = make_stream(nc, stream, subjects, max_age, max_msgs, wq,
		    source);
		natsConnection_Destroy(nc);
		nats_Close();
		return rc;
	}
	if (pulls != NULL) {
		snprintf(subj, sizeof(subj), "$JS.API.CONSUMER.MSG.NEXT.*.%s",
		    pulls);
		s = natsConnection_Subscribe(&sub, nc, subj, on_pull, NULL);
	} else {
		load_fixture(fix);
		if (kv)
			fill_kv(nc);
		snprintf(subj, sizeof(subj), "%s.v1.%s.>", ctl_prefix,
		    lattice);
		s = natsConnection_Subscribe(&sub, nc, subj, on_msg, NULL);
	}
	if (s != NATS_OK || (s = natsConnection_Flush(nc)) != NATS_OK)
		die("subscribe", s);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!done)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	cJSON_Delete(fixture);
	nats_Close();
	return 0;
}
