/*
 * v2ask.c - request a heartbeat from each known wasmCloud 2 host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "observe.h"
#include "queue.h"
#include "v2ask.h"
#include "v2hb.h"

#define V2_REQUEST_FMT	"runtime.host.%s.heartbeat"

struct v2ask {
	natsConnection		*conn;
	natsSubscription	*sub;
	struct lt_queue		*in;	/* the decode stage */
	char			 prefix[128];	/* reply inbox */
	size_t			 plen;
};

/* Hand a reply to the loop as a heartbeat message (nats.c thread). */
static void
on_msg(natsConnection *c, natsSubscription *sub, natsMsg *msg, void *arg)
{
	struct v2ask	*va = arg;
	const char	*subj = natsMsg_GetSubject(msg), *id;
	char		 hb[300];
	int		 n;

	(void)c;
	(void)sub;
	/* a no-responders status or an empty reply carries nothing */
	if (natsMsg_GetDataLength(msg) == 0 ||
	    strncmp(subj, va->prefix, va->plen) != 0 ||
	    subj[va->plen] != '.')
		goto out;
	id = subj + va->plen + 1;
	n = snprintf(hb, sizeof(hb), "%s%s", LT_V2HB_SUBJECT_PREFIX, id);
	if (n < 0 || (size_t)n >= sizeof(hb))
		goto out;
	if (lt_queue_push_msg(va->in, hb, NULL, natsMsg_GetData(msg),
	    (size_t)natsMsg_GetDataLength(msg), clock_now_ms(), NULL, NULL,
	    LT_QUEUE_REFUSE) != LT_OK)
		log_warnx_rl("v2-drop", "v2: ingest queue full, heartbeat "
		    "reply dropped: host_id=%s", id);
out:
	natsMsg_Destroy(msg);
}

/* Subscribe to a reply inbox of our own. */
int
v2ask_new(natsConnection *conn, struct lt_queue *in, struct v2ask **out)
{
	struct v2ask	*va;
	natsInbox	*inbox = NULL;
	char		 subj[160];
	natsStatus	 s;

	*out = NULL;
	if ((va = calloc(1, sizeof(*va))) == NULL)
		return -1;
	va->conn = conn;
	va->in = in;
	if (natsInbox_Create(&inbox) != NATS_OK)
		goto fail;
	snprintf(va->prefix, sizeof(va->prefix), "%s", (char *)inbox);
	natsInbox_Destroy(inbox);
	va->plen = strlen(va->prefix);
	snprintf(subj, sizeof(subj), "%s.*", va->prefix);
	s = natsConnection_Subscribe(&va->sub, conn, subj, on_msg, va);
	if (s != NATS_OK) {
		log_warnx("v2: subscribe: %s", natsStatus_GetText(s));
		goto fail;
	}
	*out = va;
	return 0;
fail:
	v2ask_free(va);
	return -1;
}

/* Unsubscribe and free. */
void
v2ask_free(struct v2ask *va)
{
	if (va == NULL)
		return;
	if (va->sub != NULL) {
		natsSubscription_Unsubscribe(va->sub);
		/* waits for a callback in progress before returning */
		natsSubscription_Destroy(va->sub);
	}
	free(va);
}

struct ask {
	struct v2ask	*va;
	long		 n;
};

/* Publish one request (an lt_observe_v2_up() callback). */
static int
ask_one(void *arg, const char *id)
{
	struct ask	*a = arg;
	char		 subj[300], reply[300];
	natsStatus	 s;
	int		 n1, n2;

	/* a host id that is not one subject token cannot be asked */
	if (id == NULL || id[0] == '\0' || strpbrk(id, ". \t\r\n*>") != NULL)
		return 0;
	n1 = snprintf(subj, sizeof(subj), V2_REQUEST_FMT, id);
	n2 = snprintf(reply, sizeof(reply), "%s.%s", a->va->prefix, id);
	if (n1 < 0 || (size_t)n1 >= sizeof(subj) || n2 < 0 ||
	    (size_t)n2 >= sizeof(reply))
		return 0;
	s = natsConnection_PublishRequest(a->va->conn, subj, reply, NULL, 0);
	if (s != NATS_OK) {
		log_warnx_rl("v2-ask", "v2: publish %s: %s", subj,
		    natsStatus_GetText(s));
		return 1;
	}
	a->n++;
	return 0;
}

/* Ask each up v2 host for its heartbeat. */
long
v2ask_send(struct v2ask *va, struct lt_observe *obs, const char *why)
{
	struct ask	 a = { va, 0 };
	struct lt_err	 err;

	if (va == NULL)
		return 0;
	lt_err_clear(&err);
	if (lt_observe_v2_up(obs, ask_one, &a, &err) != LT_OK) {
		log_warnx("v2: listing hosts: %s", err.msg);
		return -1;
	}
	if (a.n > 0)
		log_info("v2: asked %ld host(s) for a heartbeat (%s)", a.n,
		    why);
	return a.n;
}
