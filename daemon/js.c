/*
 * js.c - JetStream ingest: stream setup, durable pull consumer, acks after
 * commit, gap detection.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "fold.h"
#include "pipeline.h"
#include "queue.h"
#include "js.h"
#include "log.h"
#include "observe.h"

#define FETCH_MAX	256		/* messages per fetch */
#define FETCH_WAIT_MS	1000		/* a fetch returns after this */
#define CHECK_EVERY_MS	5000		/* stream first-sequence check */
#define RETRY_MS	1000		/* after a failed setup step */
#define ACK_WAIT_MS	30000		/* redelivery of unacked messages */
#define NAK_DELAY_NS	"1000000000"	/* before a failed message returns */
#define INFLIGHT_MAX	10000		/* messages fetched, not yet folded */
#define FETCH_FIRST	16		/* per fetch while their size is
					   unknown */
#define PULL_PREFIX	"$JS.API.CONSUMER.MSG.NEXT."

struct js {
	natsConnection	*conn;
	jsCtx		*ctx;
	natsSubscription *sub;		/* on inbox: the pulls' replies */
	char		 inbox[128];
	char		 next[512];		/* where pulls go */
	struct lt_queue	*in;			/* to the decode stage */
	struct lt_queue	*loop;			/* to the loop */
	void		(*on_notice)(void *);	/* loop: take notices */
	void		*notice_arg;
	struct lt_observe *obs;
	char		*own;			/* js_stream */
	char		*durable;
	int		 attach;
	int64_t		 max_age_ms;
	int		 max_deliver;
	char		*lattices[CONFIG_MAX_LIST];
	size_t		 nlattices;
	int		 all;
	size_t		 inflight;
	size_t		 inflight_bytes;	/* their cost, 0: any */
	size_t		 avg_cost;		/* thread: last fetch's */
	/* set by the thread before it posts ready; read-only after */
	char		 stream[256];
	char		 poskey[300];
	uint64_t	 seen;			/* thread: highest seq fetched */
	uint64_t	 committed;		/* loop: highest seq committed */
	pthread_t	 th;
	int		 started;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 stop;
	int		 have_pos;		/* the loop answered ready */
	uint64_t	 pos;
	struct js_notices notes;
	int		 have_notes;
	int		 notes_queued;		/* a task is on its way */
	int		 poisoned;		/* loop: count one in js.poison */
	int		 cut_check;		/* subject_cut() can tell */
};

/* Run the notice task: the loop takes the notices (loop thread). */
static void
run_notice(void *arg, void *data)
{
	struct js	*js = arg;

	(void)data;
	js->on_notice(js->notice_arg);
}

/* Post notices to the loop (thread). */
static void
notify(struct js *js, const struct js_notices *n)
{
	int	post;

	pthread_mutex_lock(&js->mtx);
	if (n->fatal)
		js->notes.fatal = 1;
	if (n->ready)
		js->notes.ready = 1;
	if (n->reset)
		js->notes.reset = 1;
	if (n->gap_to > 0) {
		if (js->notes.gap_from == 0)
			js->notes.gap_from = n->gap_from;
		js->notes.gap_to = n->gap_to;
	}
	if (n->error[0] != '\0')
		memcpy(js->notes.error, n->error, sizeof(js->notes.error));
	js->have_notes = 1;
	post = !js->notes_queued;
	js->notes_queued = 1;
	pthread_mutex_unlock(&js->mtx);
	/* one task carries every notice posted until the loop runs it */
	if (post)
		(void)lt_queue_push_task(js->loop, run_notice, js, NULL, NULL);
}

/* Post an error line (thread). */
static void __attribute__((format(printf, 3, 4)))
notify_error(struct js *js, int fatal, const char *fmt, ...)
{
	struct js_notices	n;
	va_list			ap;

	memset(&n, 0, sizeof(n));
	n.fatal = fatal;
	va_start(ap, fmt);
	vsnprintf(n.error, sizeof(n.error), fmt, ap);
	va_end(ap);
	notify(js, &n);
}

/* Take pending notices. */
int
js_notices(struct js *js, struct js_notices *out)
{
	int	had;

	pthread_mutex_lock(&js->mtx);
	had = js->have_notes;
	*out = js->notes;
	memset(&js->notes, 0, sizeof(js->notes));
	js->have_notes = 0;
	js->notes_queued = 0;
	pthread_mutex_unlock(&js->mtx);
	return had;
}

/* Is the thread told to stop? */
static int
stopped(struct js *js)
{
	int	s;

	pthread_mutex_lock(&js->mtx);
	s = js->stop;
	pthread_mutex_unlock(&js->mtx);
	return s;
}

/* Sleep ms unless told to stop; returns 1 when stopped. */
static int
pause_ms(struct js *js, int64_t ms)
{
	struct timespec	until;
	int		s;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&js->mtx);
	while (!js->stop && pthread_cond_timedwait(&js->cond, &js->mtx,
	    &until) == 0)
		;
	s = js->stop;
	pthread_mutex_unlock(&js->mtx);
	return s;
}

/* Do two NATS subjects (with wildcards) match a common subject? */
static int
overlap(const char *a, const char *b)
{
	size_t	la, lb;

	for (;;) {
		la = strcspn(a, ".");
		lb = strcspn(b, ".");
		if ((la == 1 && *a == '>') || (lb == 1 && *b == '>'))
			return 1;
		if (!((la == 1 && *a == '*') || (lb == 1 && *b == '*') ||
		    (la == lb && strncmp(a, b, la) == 0)))
			return 0;
		a += la;
		b += lb;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		a++;
		b++;
	}
}

/* What latticed follows; its own stream captures each one no other stream
   does.  wadm's stream captures only the first. */
static const char *const wanted[] = {
	"wasmbus.evt.*.>", "wasmbus.evt.*", "wasmbus.rpcevt.*",
	"wasmbus.rpcevt.*.>",
};
#define NWANTED	(sizeof(wanted) / sizeof(wanted[0]))

/* Does a stream capture lattice events? */
static int
captures(const jsStreamInfo *si)
{
	int	i;

	if (si->Config == NULL)
		return 0;
	for (i = 0; i < si->Config->SubjectsLen; i++)
		if (overlap(si->Config->Subjects[i], "wasmbus.evt.*.>") ||
		    overlap(si->Config->Subjects[i], "wasmbus.evt.*"))
			return 1;
	return 0;
}

/* Does a stream other than self capture anything overlapping subj? */
static int
taken(const jsStreamInfoList *list, const char *self, const char *subj)
{
	const jsStreamConfig	*c;
	int			 i, j;

	for (i = 0; list != NULL && i < list->Count; i++) {
		c = list->List[i]->Config;
		if (c == NULL || (self != NULL && c->Name != NULL &&
		    strcmp(c->Name, self) == 0))
			continue;
		for (j = 0; j < c->SubjectsLen; j++)
			if (overlap(c->Subjects[j], subj))
				return 1;
	}
	return 0;
}

/* Does the stream's own subject list already cover subj? */
static int
covers(const jsStreamConfig *c, const char *subj)
{
	int	j;

	for (j = 0; j < c->SubjectsLen; j++)
		if (strcmp(c->Subjects[j], subj) == 0)
			return 1;
	return 0;
}

/*
 * Our own stream captures every followed subject no other stream does (an
 * older latticed created it with fewer, or a sourced stream has none of
 * its own): add what is missing, so nothing latticed follows is lost while
 * it is down.  A failure is logged and the stream used as it is.
 */
static void
complete_own(struct js *js, const jsStreamInfoList *list, jsStreamInfo *own)
{
	jsStreamConfig	*c = own->Config;
	jsStreamInfo	*si = NULL;
	const char	*subj[NWANTED + 64], **old = c->Subjects;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	int		 n = 0, oldn = c->SubjectsLen, i;
	size_t		 w;

	if (c->Mirror != NULL || oldn > 64)
		return;
	for (i = 0; i < oldn; i++)
		subj[n++] = old[i];
	for (w = 0; w < NWANTED; w++)
		if (!covers(c, wanted[w]) && !taken(list, c->Name, wanted[w]))
			subj[n++] = wanted[w];
	if (n == oldn)
		return;
	c->Subjects = subj;
	c->SubjectsLen = n;
	s = js_UpdateStream(&si, js->ctx, c, NULL, &jerr);
	c->Subjects = old;
	c->SubjectsLen = oldn;
	if (s != NATS_OK) {
		notify_error(js, 0, "jetstream: stream %s: could not add the "
		    "subjects it lacks (%s (%d)); events on them are lost "
		    "while latticed is down", c->Name, natsStatus_GetText(s),
		    (int)jerr);
		return;
	}
	jsStreamInfo_Destroy(si);
	for (i = oldn; i < n; i++)
		log_info("jetstream: stream %s now captures %s too", c->Name,
		    subj[i]);
}

/*
 * Find or create the stream to consume (thread).  0: js->stream set; -1:
 * not now, and *fatal says whether it is refused for good (else try again
 * later).
 */
static int
setup_stream(struct js *js, int *fatal)
{
	jsStreamInfoList	*list = NULL;
	jsStreamInfo		*own = NULL, *cap = NULL, *si = NULL, *use;
	jsStreamConfig		 sc;
	jsStreamSource		 src, *srcs[1];
	const char		*subj[NWANTED];
	jsErrCode		 jerr = 0;
	natsStatus		 s;
	int			 i, nsubj = 0, rc = -1;
	size_t			 w;

	*fatal = 0;
	s = js_Streams(&list, js->ctx, NULL, &jerr);
	if (s == NATS_NOT_FOUND)
		list = NULL;
	else if (s != NATS_OK) {
		notify_error(js, 0, "jetstream: list streams: %s (%d): %s",
		    natsStatus_GetText(s), (int)jerr,
		    nats_GetLastError(NULL));
		return -1;
	}
	for (i = 0; list != NULL && i < list->Count; i++) {
		si = list->List[i];
		if (si->Config == NULL || si->Config->Name == NULL)
			continue;
		if (strcmp(si->Config->Name, js->own) == 0)
			own = si;
		else if (cap == NULL && captures(si))
			cap = si;
	}
	if (js->attach && cap != NULL)
		use = cap;
	else if (own != NULL)
		use = own;
	else
		use = NULL;
	if (use != NULL) {
		if (use->Config->Retention == js_WorkQueuePolicy) {
			notify_error(js, 1, "jetstream: stream %s is a "
			    "WorkQueue stream: latticed never consumes from "
			    "one (it would take messages from their owner)",
			    use->Config->Name);
			*fatal = 1;
			goto out;
		}
		if (use == own)
			complete_own(js, list, own);
		if (lt_fmt(js->stream, sizeof(js->stream), "%s",
		    use->Config->Name) != LT_OK) {
			notify_error(js, 1, "jetstream: stream name of %zu "
			    "bytes: latticed takes at most %zu",
			    strlen(use->Config->Name), sizeof(js->stream) - 1);
			*fatal = 1;
			goto out;
		}
		log_info("jetstream: %s stream %s", use == cap ? "attached to" :
		    "using", js->stream);
		rc = 0;
		goto out;
	}
	/* every followed subject no other stream captures */
	for (w = 0; w < NWANTED; w++)
		if (!taken(list, NULL, wanted[w]))
			subj[nsubj++] = wanted[w];
	jsStreamConfig_Init(&sc);
	sc.Name = js->own;
	sc.Description = "latticed: wasmCloud lattice events";
	sc.Retention = js_LimitsPolicy;
	sc.Storage = js_FileStorage;
	sc.MaxAge = js->max_age_ms * 1000000;
	sc.Subjects = subj;
	sc.SubjectsLen = nsubj;
	if (cap != NULL) {
		if (cap->Config->Retention == js_WorkQueuePolicy) {
			notify_error(js, 1, "jetstream: stream %s captures the "
			    "lattice subjects but is a WorkQueue stream: "
			    "latticed will not source or consume it",
			    cap->Config->Name);
			*fatal = 1;
			goto out;
		}
		memset(&src, 0, sizeof(src));
		src.Name = cap->Config->Name;
		srcs[0] = &src;
		sc.Sources = srcs;
		sc.SourcesLen = 1;
	}
	si = NULL;
	s = js_AddStream(&si, js->ctx, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		notify_error(js, 0, "jetstream: create stream %s: %s (%d): "
		    "%s", js->own, natsStatus_GetText(s), (int)jerr,
		    nats_GetLastError(NULL));
		goto out;
	}
	jsStreamInfo_Destroy(si);
	/* js_stream is at most 200 bytes (config.c) */
	(void)lt_fmt(js->stream, sizeof(js->stream), "%s", js->own);
	if (cap != NULL)
		log_info("jetstream: created stream %s sourcing %s (and "
		    "capturing %d subject(s) it does not), max age %llds",
		    js->own, cap->Config->Name, nsubj,
		    (long long)(js->max_age_ms / 1000));
	else
		log_info("jetstream: created stream %s on wasmbus.evt.*.> and "
		    "wasmbus.evt.*, max age %llds", js->own,
		    (long long)(js->max_age_ms / 1000));
	rc = 0;
out:
	jsStreamInfoList_Destroy(list);
	return rc;
}

/* Wait for the loop to hand over the committed position (thread). */
static int
wait_position(struct js *js)
{
	struct js_notices	n;

	memset(&n, 0, sizeof(n));
	n.ready = 1;
	notify(js, &n);
	pthread_mutex_lock(&js->mtx);
	while (!js->stop && !js->have_pos)
		pthread_cond_wait(&js->cond, &js->mtx);
	js->seen = js->pos;
	pthread_mutex_unlock(&js->mtx);
	return stopped(js) ? -1 : 0;
}

/* Hand the committed position to the thread (loop). */
static void
set_position(struct js *js, uint64_t pos)
{
	pthread_mutex_lock(&js->mtx);
	js->pos = pos;
	js->committed = pos;
	js->have_pos = 1;
	pthread_cond_broadcast(&js->cond);
	pthread_mutex_unlock(&js->mtx);
}

/*
 * Make sure the durable consumer exists and resumes at the first message
 * not acknowledged (thread).  Messages a previous run fetched but never
 * acknowledged would only come back after the ack wait, so a consumer with
 * pending acks is recreated at its ack floor.
 */
static int
setup_consumer(struct js *js)
{
	jsConsumerInfo		*ci = NULL;
	jsConsumerConfig	 cc;
	jsErrCode		 jerr = 0;
	natsStatus		 s;
	uint64_t		 start = 0;

	s = js_GetConsumerInfo(&ci, js->ctx, js->stream, js->durable, NULL,
	    &jerr);
	if (s == NATS_OK) {
		if (ci->NumAckPending == 0) {
			jsConsumerInfo_Destroy(ci);
			return 0;
		}
		start = ci->AckFloor.Stream + 1;
		log_info("jetstream: consumer %s has %lld unacknowledged "
		    "messages; resuming at stream sequence %llu",
		    js->durable, (long long)ci->NumAckPending,
		    (unsigned long long)start);
		jsConsumerInfo_Destroy(ci);
		ci = NULL;
		s = js_DeleteConsumer(js->ctx, js->stream, js->durable, NULL,
		    &jerr);
		if (s != NATS_OK) {
			notify_error(js, 0, "jetstream: delete consumer %s: "
			    "%s (%d)", js->durable, natsStatus_GetText(s),
			    (int)jerr);
			return -1;
		}
	} else if (s != NATS_NOT_FOUND) {
		notify_error(js, 0, "jetstream: consumer %s: %s (%d): %s",
		    js->durable, natsStatus_GetText(s), (int)jerr,
		    nats_GetLastError(NULL));
		return -1;
	} else if (js->seen > 0)
		start = js->seen + 1;	/* the database knows where we were */
	jsConsumerConfig_Init(&cc);
	cc.Durable = js->durable;
	cc.Description = "latticed";
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = (int64_t)ACK_WAIT_MS * 1000000;
	cc.MaxDeliver = js->max_deliver;
	cc.MaxAckPending = INFLIGHT_MAX * 2;
	if (start > 0) {
		cc.DeliverPolicy = js_DeliverByStartSequence;
		cc.OptStartSeq = start;
	} else
		cc.DeliverPolicy = js_DeliverAll;
	s = js_AddConsumer(&ci, js->ctx, js->stream, &cc, NULL, &jerr);
	if (s != NATS_OK) {
		notify_error(js, 0, "jetstream: create consumer %s on %s: %s "
		    "(%d): %s", js->durable, js->stream, natsStatus_GetText(s),
		    (int)jerr, nats_GetLastError(NULL));
		return -1;
	}
	jsConsumerInfo_Destroy(ci);
	log_info("jetstream: consumer %s on %s created", js->durable,
	    js->stream);
	return 0;
}

/*
 * Subscribe to an inbox of our own, where the consumer's messages come in
 * answer to the pulls (thread).  Not js_PullSubscribe() and
 * natsSubscription_Fetch(): before nats.c 3.9.0 (Debian 12 ships 3.4.1),
 * Fetch(batch) with p messages of an earlier pull already waiting in the
 * subscription, batch/2 < p < batch, asks for batch - p more but then
 * reads until count == batch - p, which never comes: every message past
 * batch is stored beyond the array it returns, corrupting the heap
 * (nats.c PR #749).  Earlier pulls answer late when the client stopped
 * waiting first (a loaded machine) or went out buffered across a
 * reconnect.
 */
static int
subscribe(struct js *js)
{
	natsInbox	*inbox = NULL;
	natsStatus	 s;
	int		 rc;

	if ((s = natsInbox_Create(&inbox)) != NATS_OK) {
		notify_error(js, 0, "jetstream: inbox: %s",
		    natsStatus_GetText(s));
		return -1;
	}
	rc = lt_fmt(js->inbox, sizeof(js->inbox), "%s", (char *)inbox);
	natsInbox_Destroy(inbox);
	if (rc != LT_OK || lt_fmt(js->next, sizeof(js->next), PULL_PREFIX
	    "%s.%s", js->stream, js->durable) != LT_OK) {
		notify_error(js, 1, "jetstream: subject of the pulls from "
		    "%s.%s too long", js->stream, js->durable);
		return -1;
	}
	s = natsConnection_SubscribeSync(&js->sub, js->conn, js->inbox);
	if (s != NATS_OK) {
		notify_error(js, 0, "jetstream: subscribe %s: %s: %s",
		    js->durable, natsStatus_GetText(s),
		    nats_GetLastError(NULL));
		return -1;
	}
	return 0;
}

/* Post a gap of lost stream sequences [from, to] (thread). */
static void
post_gap(struct js *js, uint64_t from, uint64_t to)
{
	struct js_notices	n;

	memset(&n, 0, sizeof(n));
	n.gap_from = from;
	n.gap_to = to;
	notify(js, &n);
}

/* Compare the stream's first sequence with what we saw (thread). */
static void
check_stream(struct js *js)
{
	jsStreamInfo		*si = NULL;
	struct js_notices	 n;
	jsErrCode		 jerr = 0;

	if (js_GetStreamInfo(&si, js->ctx, js->stream, NULL, &jerr) !=
	    NATS_OK)
		return;
	if (js->seen > 0 && si->State.LastSeq < js->seen) {
		memset(&n, 0, sizeof(n));
		n.reset = 1;
		snprintf(n.error, sizeof(n.error), "jetstream: stream %.100s "
		    "restarted at sequence %llu below our position %llu",
		    js->stream, (unsigned long long)si->State.LastSeq,
		    (unsigned long long)js->seen);
		js->seen = si->State.LastSeq;
		notify(js, &n);
	} else if (js->seen > 0 && si->State.FirstSeq > js->seen + 1) {
		post_gap(js, js->seen + 1, si->State.FirstSeq - 1);
		js->seen = si->State.FirstSeq - 1;
	}
	jsStreamInfo_Destroy(si);
}

/* Free a natsMsg never acknowledged (redelivered). */
static void
msg_destroy(void *p)
{
	natsMsg_Destroy(p);
}

/*
 * A JetStream message's subject cut at a NUL.  nats.c ends the subject at
 * its first NUL; a stream that captures the bare wasmbus.evt.<lattice> as
 * well takes "wasmbus.evt.prod\0x.host_stopped" from a publisher denied
 * wasmbus.evt.prod.>, and the cut subject names another lattice.  nats.c
 * keeps a message's subject and reply in one buffer, the reply right after
 * the subject's full length: bytes between the first NUL and the reply
 * mean a cut.  That layout is checked once at start (layout_known());
 * without it nothing is judged here.
 */
static int
subject_cut(const struct js *js, natsMsg *m)
{
	const char	*s = natsMsg_GetSubject(m), *r = natsMsg_GetReply(m);
	size_t		 n;

	if (!js->cut_check || s == NULL || r == NULL)
		return 0;
	n = strlen(s);
	return r > s + n + 1 && r - s < 65536;
}

/* Whether this nats.c lays a message's reply right after its subject. */
static int
layout_known(void)
{
	natsMsg		*m = NULL;
	int		 ok;

	if (natsMsg_Create(&m, "a.b", "c.d", "x", 1) != NATS_OK)
		return 0;
	ok = natsMsg_GetReply(m) == natsMsg_GetSubject(m) + 4;
	natsMsg_Destroy(m);
	return ok;
}

/* Queue one fetched message (thread); return what it costs the queue. */
static size_t
take(struct js *js, natsMsg *msg, int64_t now)
{
	jsMsgMetaData	*meta = NULL;
	struct lt_item	*it;
	size_t		 cost;

	/* the payload stays in the natsMsg, which is also the ack handle:
	   js_ack() keeps it until the item goes */
	/* a cut subject matches no subscription: the decode rejects it */
	if ((it = lt_item_msg_wrap(natsMsg_GetSubject(msg),
	    subject_cut(js, msg) ? "(a subject cut at a NUL)" : NULL,
	    natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), now,
	    NULL, NULL)) == NULL) {
		/* unacknowledged: redelivered after ack_wait */
		natsMsg_Destroy(msg);
		return 0;
	}
	it->ack = msg;
	it->ack_free = msg_destroy;
	if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
		if (js->seen > 0 && meta->Sequence.Stream > js->seen + 1 &&
		    meta->NumDelivered == 1)
			post_gap(js, js->seen + 1, meta->Sequence.Stream - 1);
		if (meta->Sequence.Stream > js->seen)
			js->seen = meta->Sequence.Stream;
		it->seq = meta->Sequence.Stream;
		it->delivered = (uint64_t)meta->NumDelivered;
		jsMsgMetaData_Destroy(meta);
	}
	cost = lt_item_cost(it);
	/* refused when full or closed: redelivered, never counted lost */
	(void)lt_queue_push(js->in, it, LT_QUEUE_REFUSE);
	return cost;
}

/*
 * How many of at most n messages to fetch with bytes already queued: as
 * many as the byte budget holds at the last fetch's average cost, at least
 * one (a message always fits an empty queue), FETCH_FIRST until a fetch
 * tells the average (thread).
 */
static int
fetch_room(const struct js *js, size_t bytes, int n)
{
	size_t	room;

	if (js->avg_cost == 0)
		return n < FETCH_FIRST ? n : FETCH_FIRST;
	room = bytes < js->inflight_bytes ? (js->inflight_bytes - bytes) /
	    js->avg_cost : 0;
	if (room < 1)
		room = 1;
	return (size_t)n < room ? n : (int)room;
}

/*
 * Take up to n messages (thread): first those of earlier pulls waiting in
 * the subscription, then, if fewer, pull the rest and take what comes
 * within FETCH_WAIT_MS; what comes later waits for the next call.  *count
 * and *cost: the messages queued and their cost; why: a refusal's text.
 */
static natsStatus
pull(struct js *js, int n, int *count, size_t *cost, char *why,
    size_t whylen)
{
	natsMsg		*m;
	const char	*st, *desc;
	char		 body[96];
	natsStatus	 s;
	int64_t		 end = 0, left;

	*count = 0;
	*cost = 0;
	why[0] = '\0';
	while (*count < n) {
		if (end == 0)
			s = natsSubscription_NextMsg(&m, js->sub, 0);
		else if ((left = end - clock_mono_ms()) > 0)
			s = natsSubscription_NextMsg(&m, js->sub, left);
		else
			break;
		if (s == NATS_TIMEOUT && end == 0) {
			/* nothing waiting: pull the rest; the server ends
			   the pull a little before we stop waiting */
			if (lt_fmt(body, sizeof(body), "{\"batch\":%d,"
			    "\"expires\":%lld}", n - *count,
			    (long long)(FETCH_WAIT_MS - 10) * 1000000) !=
			    LT_OK)
				return NATS_ERR;
			if ((s = natsConnection_PublishRequestString(js->conn,
			    js->next, js->inbox, body)) != NATS_OK)
				return s;
			end = clock_mono_ms() + FETCH_WAIT_MS;
			continue;
		}
		if (s == NATS_TIMEOUT)
			break;
		if (s != NATS_OK)
			return s;
		if (natsMsg_GetDataLength(m) == 0 &&
		    natsMsgHeader_Get(m, "Status", &st) == NATS_OK) {
			/* 100 heartbeat, 404 none, 408 expired (this pull
			   or an earlier one): wait on; 409 and others:
			   refused */
			s = NATS_OK;
			if (strcmp(st, "100") != 0 && strcmp(st, "404") != 0 &&
			    strcmp(st, "408") != 0) {
				if (natsMsgHeader_Get(m, "Description",
				    &desc) != NATS_OK)
					desc = "";
				snprintf(why, whylen, "status %.10s %.200s", st,
				    desc);
				s = NATS_ERR;
			}
			natsMsg_Destroy(m);
			if (s != NATS_OK)
				return s;
			continue;
		}
		*cost += take(js, m, clock_now_ms());
		(*count)++;
	}
	return NATS_OK;
}

/* Set up, then fetch while the pipeline has room (thread). */
static void *
js_main(void *arg)
{
	struct js	*js = arg;
	natsStatus	 s;
	int64_t		 checked = 0, now;
	size_t		 len, bytes, cost;
	int		 n, got, fatal;
	char		 why[240];

	while (setup_stream(js, &fatal) == -1)
		if (fatal || pause_ms(js, RETRY_MS))
			return NULL;
	if (wait_position(js) == -1)
		return NULL;
	while (setup_consumer(js) == -1 || subscribe(js) == -1)
		if (pause_ms(js, RETRY_MS))
			return NULL;
	while (!stopped(js)) {
		now = clock_now_ms();
		if (now - checked >= CHECK_EVERY_MS) {
			check_stream(js);
			checked = now;
		}
		len = lt_queue_len(js->in, NULL) +
		    lt_queue_len(js->loop, NULL);
		bytes = lt_queue_bytes(js->in) + lt_queue_bytes(js->loop);
		if (len >= js->inflight || (js->inflight_bytes > 0 &&
		    len > 0 && bytes >= js->inflight_bytes)) {
			pause_ms(js, 10);
			continue;
		}
		n = (int)(js->inflight - len);
		if (n > FETCH_MAX)
			n = FETCH_MAX;
		if (js->inflight_bytes > 0)
			n = fetch_room(js, bytes, n);
		s = pull(js, n, &got, &cost, why, sizeof(why));
		if (got > 0)
			js->avg_cost = cost / (size_t)got;
		if (s == NATS_CONNECTION_CLOSED ||
		    s == NATS_INVALID_SUBSCRIPTION)
			break;
		else if (s != NATS_OK) {
			notify_error(js, 0, "jetstream: fetch: %s",
			    why[0] != '\0' ? why : natsStatus_GetText(s));
			pause_ms(js, 500);
		}
	}
	return NULL;
}

/* Start the JetStream thread. */
int
js_open(natsConnection *conn, const struct config *cf, struct lt_queue *in,
    struct lt_queue *loop, void (*on_notice)(void *), void *notice_arg,
    struct lt_observe *o, struct js **out)
{
	struct js	*js;
	size_t		 i;

	*out = NULL;
	if ((js = calloc(1, sizeof(*js))) == NULL)
		return -1;
	pthread_mutex_init(&js->mtx, NULL);
	pthread_cond_init(&js->cond, NULL);
	js->conn = conn;
	js->in = in;
	js->loop = loop;
	js->on_notice = on_notice;
	js->notice_arg = notice_arg;
	if ((js->cut_check = layout_known()) == 0)
		log_warnx("jetstream: this nats.c keeps subjects apart from "
		    "replies: a subject cut at a NUL cannot be told from "
		    "the bare wasmbus.evt.<lattice> subject");
	js->obs = o;
	js->own = strdup(cf->js_stream);
	js->durable = strdup(cf->js_durable);
	js->attach = strcmp(cf->js_mode, "attach") == 0;
	js->max_age_ms = cf->js_max_age_ms;
	js->max_deliver = cf->js_max_deliver;
	js->inflight = cf->inbox_max;
	if (js->inflight > cf->batch_max * 4)
		js->inflight = cf->batch_max * 4;
	if (js->inflight > INFLIGHT_MAX)
		js->inflight = INFLIGHT_MAX;
	/* half the queues' byte bound (daemon.c): the fetched messages
	   grow once decoded, and a push past the bound would be refused,
	   then redelivered only after ack_wait */
	js->inflight_bytes = cf->inbox_max_bytes / 2;
	if (cf->inbox_max_bytes > 0 && js->inflight_bytes == 0)
		js->inflight_bytes = 1;
	for (i = 0; i < cf->nlattices; i++) {
		if (strcmp(cf->lattices[i], "*") == 0)
			js->all = 1;
		if ((js->lattices[i] = strdup(cf->lattices[i])) == NULL)
			goto fail;
		js->nlattices++;
	}
	if (js->own == NULL || js->durable == NULL)
		goto fail;
	if (natsConnection_JetStream(&js->ctx, conn, NULL) != NATS_OK) {
		log_warnx("jetstream: %s", nats_GetLastError(NULL));
		goto fail;
	}
	if (pthread_create(&js->th, NULL, js_main, js) != 0) {
		log_warn("jetstream: thread");
		goto fail;
	}
	js->started = 1;
	(void)pthread_setname_np(js->th, "jetstream");
	*out = js;
	return 0;
fail:
	js_close(js);
	return -1;
}

/* Tell the thread to stop. */
void
js_stop(struct js *js)
{
	if (js == NULL)
		return;
	pthread_mutex_lock(&js->mtx);
	js->stop = 1;
	pthread_cond_broadcast(&js->cond);
	pthread_mutex_unlock(&js->mtx);
}

/* Stop, join and free. */
void
js_close(struct js *js)
{
	size_t	i;

	if (js == NULL)
		return;
	js_stop(js);
	if (js->started)
		pthread_join(js->th, NULL);
	natsSubscription_Destroy(js->sub);
	jsCtx_Destroy(js->ctx);
	for (i = 0; i < js->nlattices; i++)
		free(js->lattices[i]);
	free(js->own);
	free(js->durable);
	pthread_cond_destroy(&js->cond);
	pthread_mutex_destroy(&js->mtx);
	free(js);
}

/* The stream the thread settled on, "" before ready. */
static int
ready_position(struct js *js, struct lt_err *err)
{
	int64_t	v = 0;
	int	found;
	int	rc;

	if (lt_fmt(js->poskey, sizeof(js->poskey), "js.%s.last_seq",
	    js->stream) != LT_OK)
		return lt_err_set(err, LT_ELIMIT, "", "jetstream: stream name "
		    "too long for its position key");
	rc = lt_observe_state_get(js->obs, js->poskey, &v, &found, err);
	if (rc != LT_OK)
		return rc;
	log_info("jetstream: stream %s, consumer %s, resuming after stream "
	    "sequence %lld", js->stream, js->durable, (long long)v);
	set_position(js, (uint64_t)(v > 0 ? v : 0));
	return LT_OK;
}

/* Is the lattice of a wasmbus.evt or rpcevt subject one we follow? */
static int
followed(struct js *js, const char *subject)
{
	const char	*p;
	size_t		 n, i;

	if (js->all)
		return 1;
	if (strncmp(subject, "wasmbus.evt.", 12) == 0)
		p = subject + 12;
	else if (strncmp(subject, "wasmbus.rpcevt.", 15) == 0)
		p = subject + 15;
	else
		return 1;
	n = strcspn(p, ".");
	for (i = 0; i < js->nlattices; i++)
		if (strlen(js->lattices[i]) == n &&
		    strncmp(js->lattices[i], p, n) == 0)
			return 1;
	return 0;
}

/* Whether to fold a stream message (other lattices are acknowledged). */
int
js_wanted(struct js *js, const struct lt_item *it)
{
	if (it->ack == NULL || it->msg.subject == NULL)
		return 1;
	return followed(js, it->msg.subject);
}

/* Record the stream position in the open transaction. */
int
js_save_position(struct js *js, uint64_t last_seq, struct lt_err *err)
{
	int	rc;

	if (js->poisoned &&
	    (rc = lt_observe_state_add(js->obs, "js.poison", 1, err)) != LT_OK)
		return rc;
	if (last_seq <= js->committed || js->poskey[0] == '\0')
		return LT_OK;
	return lt_observe_state_set(js->obs, js->poskey, (int64_t)last_seq,
	    err);
}

/* Answer a message on its reply subject: the messages come through a
   plain subscription (subscribe()), which natsMsg_Ack() cannot use. */
static natsStatus
answer(struct js *js, natsMsg *msg, const char *what)
{
	const char	*reply = natsMsg_GetReply(msg);

	if (reply == NULL || strncmp(reply, "$JS.ACK.", 8) != 0)
		return NATS_ILLEGAL_STATE;
	return natsConnection_PublishString(js->conn, reply, what);
}

/* Acknowledge a committed message. */
void
js_ack(struct js *js, struct lt_item *it)
{
	natsStatus	s;

	if (it->seq > js->committed)
		js->committed = it->seq;
	js->poisoned = 0;
	if (it->ack == NULL)
		return;
	/* a lost ack is a redelivery, and a redelivery a duplicate */
	if ((s = answer(js, it->ack, "+ACK")) != NATS_OK)
		log_warnx_rl("js-ack", "jetstream: ack of stream sequence "
		    "%llu: %s; it is redelivered and folds as a duplicate",
		    (unsigned long long)it->seq, natsStatus_GetText(s));
	/* answered: the natsMsg now only holds the payload */
	it->owner = it->ack;
	it->owner_free = msg_destroy;
	it->ack = NULL;
}

/* A message that failed alone: redeliver it, or keep it as poison. */
enum lt_verdict
js_failed(struct js *js, struct lt_item *it, const struct lt_err *why)
{
	natsStatus	s;

	if (it->ack == NULL)
		return LT_V_POISON;
	if (lt_redelivery_verdict(it->delivered, js->max_deliver) ==
	    LT_V_POISON) {
		log_warnx("jetstream: poison message subject=%s seq=%llu kept "
		    "in rejected_events after %llu deliveries: %s",
		    it->msg.subject, (unsigned long long)it->seq,
		    (unsigned long long)it->delivered, why->msg);
		js->poisoned = 1;
		return LT_V_POISON;
	}
	log_warnx_rl("js-retry", "jetstream: subject=%s seq=%llu delivery "
	    "%llu of %d failed: %s; redelivering", it->msg.subject,
	    (unsigned long long)it->seq, (unsigned long long)it->delivered,
	    js->max_deliver, why->msg);
	if ((s = answer(js, it->ack, "-NAK {\"delay\":" NAK_DELAY_NS
	    "}")) != NATS_OK)
		log_warnx_rl("js-nak", "jetstream: nak of stream sequence "
		    "%llu: %s; redelivered after ack_wait instead",
		    (unsigned long long)it->seq, natsStatus_GetText(s));
	it->owner = it->ack;
	it->owner_free = msg_destroy;
	it->ack = NULL;
	return LT_V_RETRY;
}

/* Record a gap in latticed_state. */
int
js_record_gap(struct js *js, struct lt_fold *f, uint64_t from, uint64_t to,
    struct lt_err *err)
{
	int	rc;

	if ((rc = lt_fold_begin(f, err)) != LT_OK)
		return rc;
	if ((rc = lt_observe_state_add(js->obs, "js.gaps", 1, err)) !=
	    LT_OK ||
	    (rc = lt_observe_state_add(js->obs, "js.lost", (int64_t)(to -
	    from + 1), err)) != LT_OK ||
	    (rc = lt_observe_state_set(js->obs, "js.gap_last_from",
	    (int64_t)from, err)) != LT_OK ||
	    (rc = lt_observe_state_set(js->obs, "js.gap_last_to",
	    (int64_t)to, err)) != LT_OK ||
	    (rc = lt_fold_commit(f, err)) != LT_OK) {
		lt_fold_rollback(f);
		return rc;
	}
	return LT_OK;
}

/* Answer the thread's ready notice with the committed position. */
int
js_ready(struct js *js, struct lt_err *err)
{
	return ready_position(js, err);
}
