/*
 * natsconn.c - NATS via nats.c and its libevent adapter.
 *
 * The adapter is attached to an event_base of our own, run by a dedicated
 * I/O thread: the socket is read while the loop thread folds a batch, so
 * a flood fills (and overflows, visibly) the ingest queue instead of making
 * nats-server cut latticed off as a slow consumer, losing what it had
 * queued with no record.  The subscriptions are synchronous ones, which
 * the same thread drains after each pass of its loop: a message goes from
 * the socket to the ingest queue on one thread, with no delivery thread
 * of nats.c's woken for each.  At a trickle the thread pauses its reads
 * (readpace.h) so that it does not wake for every message.
 */
#include <sys/ioctl.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <nats/adapters/libevent.h>
#pragma GCC diagnostic pop

#include "clock.h"
#include "config.h"
#include "queue.h"
#include "log.h"
#include "readpace.h"
#include "spool.h"
#include "natsconn.h"
#include "v2hb.h"

#define MAX_SUBS	(CONFIG_MAX_LIST * 3)
/* the ingest queue (inbox_max) is the bound that matters; nats.c's pending
   queue only holds what one pass of the I/O loop parsed */
#define PENDING_MSGS	1000000
#define PENDING_BYTES	(256 * 1024 * 1024)
/* while the inbox spool holds messages, the I/O loop passes at least
   this often to move them on as the inbox empties */
#define SPOOL_REFILL_MS	2
/* initial connects with a signed nonce (NKey, creds): see natsconn_open */
#define SIGNED_TRIES	4

struct natsconn {
	natsOptions		*opts;
	natsConnection		*nc;
	natsSubscription	*subs[MAX_SUBS];
	char			*subj[MAX_SUBS]; /* subs[i]'s subject */
	int64_t			 subdropped[MAX_SUBS]; /* last seen */
	int			 nsubs;
	struct lt_queue		*in;		/* messages, to the decode stage */
	struct lt_queue		*loop;		/* notices, to the loop */
	struct natsconn_notices	 cb;
	char			 err_pending[200]; /* coalesced async error */
	int			 err_queued;
	struct event_base	*iobase;	/* the adapter's loop */
	pthread_t		 io;
	int			 io_started;
	pthread_t		 probe;
	int			 probe_started;
	pthread_mutex_t		 submtx;	/* subs[] against io_drain */
	int			 nodrain;	/* subs[] going: under submtx */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 stop;
	int			 closed;
	char			 lasterr[256];	/* why it last failed */

	/* read pacing: the I/O thread's; ud, sock, want_read and paused
	   also the adapter's callbacks', under iomtx */
	pthread_mutex_t		 iomtx;
	struct io_ud		*ud;		/* attached: the adapter's */
	natsSock		 sock;
	int			 want_read;	/* as nats.c last asked */
	int			 paused;	/* read event off until pace_ev */
	int			 resumed;	/* a pause ended (pace_end) */
	struct timeval		 pace_tv;	/* pace_ms */
	struct event		*pace_ev;
	int64_t			 pace_ms;	/* 0: never pause */
	struct lt_readpace	 rp;
	uint64_t		 received;	/* by on_msg */
	uint64_t		 pauses;

	/* the inbox spool (spool.h; core NATS): the I/O thread's */
	struct lt_spool		*spool;		/* NULL: shed when full */
	char			*spool_path;
	struct lt_item		*held;		/* from it, not in the inbox yet */
	struct event		*spool_ev;	/* refill while it holds any */
	uint64_t		 spooled;	/* in this burst */
	uint64_t		 spool_peak;	/* bytes, this burst */
	int64_t			 spool_since;	/* the burst's start, mono ms */
	int64_t			 spool_said;	/* its start logged at (mono) */
	int			 spool_told;	/* this burst's start logged */
	int64_t			 spool_oldest;	/* atomic: the receive time of
						   the burst's first, 0: none */
};

/* What nats.c holds as the adapter's user data: the adapter's own, and
   us. */
struct io_ud {
	natsLibeventEvents	*nle;
	struct natsconn		*nc;
};

static const char *scrub(const char *, char *, size_t);

/* Initialise the library. */
int
natsconn_init(void)
{
	natsLibevent_Init();
	if (nats_Open(-1) != NATS_OK)
		return -1;
	return 0;
}

/*
 * Remember why the connection failed (any thread).  nats.c overwrites its
 * last error with "No server available" once it gives up, which would hide
 * the reason that matters (e.g. "Authorization Violation").
 */
static void
note_error(struct natsconn *nc, natsConnection *c)
{
	const char	*txt = NULL;
	natsStatus	 s;
	char		 buf[sizeof(nc->lasterr)];

	if (c == NULL)
		return;
	s = natsConnection_GetLastError(c, &txt);
	if (s == NATS_OK || s == NATS_NO_SERVER ||
	    s == NATS_NOT_YET_CONNECTED || s == NATS_CONNECTION_CLOSED)
		return;
	if (txt == NULL || *txt == '\0')
		txt = natsStatus_GetText(s);
	scrub(txt, buf, sizeof(buf));
	pthread_mutex_lock(&nc->mtx);
	memcpy(nc->lasterr, buf, sizeof(nc->lasterr));
	pthread_mutex_unlock(&nc->mtx);
}

/* Free a natsMsg an item held. */
static void
msg_destroy(void *p)
{
	natsMsg_Destroy(p);
}

/* Is the spool holding messages (I/O thread)?  Then newer ones go
   behind them, into it, whatever room the inbox has. */
static int
spooling(const struct natsconn *nc)
{
	return nc->held != NULL ||
	    (nc->spool != NULL && lt_spool_count(nc->spool) > 0);
}

/* Keep a message the inbox has no room for in the spool, or drop it
   (counted) when the spool cannot take it either (I/O thread). */
static void
spool_or_drop(struct natsconn *nc, struct lt_item *it)
{
	struct lt_err	err;
	uint64_t	b;

	if (lt_spool_put(nc->spool, it->msg.subject, it->msg.pattern,
	    it->msg.data, it->msg.len, it->msg.received_ms, &err) != LT_OK) {
		log_warnx_rl("nats-spool", "nats: inbox spool: %s: messages "
		    "dropped", err.msg);
		lt_queue_drop(nc->in, it);
		return;
	}
	if (nc->spooled++ == 0) {
		nc->spool_since = clock_mono_ms();
		__atomic_store_n(&nc->spool_oldest, it->msg.received_ms,
		    __ATOMIC_RELAXED);
		/* a load at the inbox's bound starts and ends bursts all
		   the time: say so at most every 10 s */
		nc->spool_told = nc->spool_said == 0 ||
		    nc->spool_since - nc->spool_said >= 10000;
		if (nc->spool_told) {
			nc->spool_said = nc->spool_since;
			log_info("nats: the inbox is full: keeping messages "
			    "in %s", nc->spool_path);
		}
	}
	if ((b = lt_spool_bytes(nc->spool)) > nc->spool_peak)
		nc->spool_peak = b;
	lt_item_free(it);
}

/* Move spooled messages into the inbox while it has room, oldest first
   (I/O thread, after each pass of its loop). */
static void
spool_refill(struct natsconn *nc)
{
	struct lt_err	 err;
	struct timeval	 tv = { 0, SPOOL_REFILL_MS * 1000 };
	uint64_t	 lost;
	int		 rc;

	if (nc->spool == NULL)
		return;
	for (;;) {
		if (nc->held == NULL) {
			rc = lt_spool_get(nc->spool, &nc->held, &lost, &err);
			if (rc == LT_ENOMEM)
				log_warnx_rl("nats-spool", "nats: inbox spool: "
				    "%s: trying again", err.msg);
			else if (rc != LT_OK) {
				log_warnx("nats: inbox spool: %s: %llu "
				    "messages lost", err.msg,
				    (unsigned long long)lost);
				lt_queue_count_drops(nc->in, lost);
			}
			if (nc->held == NULL)
				break;
		}
		/* an eighth of the inbox stays free for the replies of
		   resync and wasmCloud 2 requests, which cannot wait */
		if (lt_queue_offer(nc->in, nc->held, 8) != LT_OK)
			break;
		nc->held = NULL;
	}
	if (spooling(nc)) {
		if (!lt_queue_closed(nc->in) &&
		    !evtimer_pending(nc->spool_ev, NULL) &&
		    evtimer_add(nc->spool_ev, &tv) != 0)
			log_warnx_rl("nats-spool", "nats: inbox spool: "
			    "cannot arm its timer");
		return;
	}
	if (nc->spooled > 0) {
		if (nc->spool_told)
			log_info("nats: inbox spool emptied: %llu messages "
			    "kept on disk in %.1f s, at most %.1f MiB",
			    (unsigned long long)nc->spooled,
			    (double)(clock_mono_ms() - nc->spool_since) /
			    1000, (double)nc->spool_peak / (1024 * 1024));
		nc->spooled = 0;
		nc->spool_peak = 0;
		__atomic_store_n(&nc->spool_oldest, 0, __ATOMIC_RELAXED);
	}
}

/* Queue a message item, or spool it behind what the spool holds. */
static void
deliver(struct natsconn *nc, struct lt_item *it)
{
	if (nc->spool == NULL)
		(void)lt_queue_push(nc->in, it, LT_QUEUE_DROP);
	else if (spooling(nc) || lt_queue_offer(nc->in, it, 0) != LT_OK)
		spool_or_drop(nc, it);
}

/* The refill timer: its pass of the loop ends in spool_refill(). */
static void
spool_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Hand a message to the decode stage's queue (I/O thread), or to the
   spool behind it.  The subscription travels with it: nats.c ends a
   subject at its first NUL, so a cut subject no longer matches what it
   arrived on. */
static void
on_msg(struct natsconn *nc, const char *pattern, natsMsg *msg)
{
	int64_t		 t = clock_now_ms();
	struct lt_item	*it;

	nc->received++;
	/* the payload stays in the natsMsg (no copy of a big heartbeat):
	   the item destroys it once folded */
	it = lt_item_msg_wrap(natsMsg_GetSubject(msg), pattern,
	    natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), t, msg,
	    msg_destroy);
	if (it == NULL) {
		/* counted as a drop, like an overflow */
		lt_queue_count_drops(nc->in, 1);
		return;
	}
	deliver(nc, it);
}

/* A connection notice on its way to the loop. */
struct conn_notice {
	enum natsconn_state	 st;
	int64_t			 ms;
};

/* Run a connection notice (loop thread). */
static void
run_conn(void *arg, void *data)
{
	struct natsconn		*nc = arg;
	struct conn_notice	*n = data;

	nc->cb.conn(nc->cb.arg, n->st, n->ms);
}

/* Hand a connection notice to the loop (any thread). */
static void
post_conn(struct natsconn *nc, enum natsconn_state st)
{
	struct conn_notice	*n;

	if ((n = malloc(sizeof(*n))) == NULL) {
		log_warnx("nats: out of memory for a connection notice");
		return;
	}
	n->st = st;
	n->ms = clock_now_ms();
	(void)lt_queue_push_task(nc->loop, run_conn, nc, n, free);
}

/* Run the subscriptions-live notice (loop thread). */
static void
run_live(void *arg, void *data)
{
	struct natsconn	*nc = arg;

	(void)data;
	nc->cb.live(nc->cb.arg);
}

/* Run the pending asynchronous error notice (loop thread). */
static void
run_error(void *arg, void *data)
{
	struct natsconn	*nc = arg;
	char		 buf[sizeof(nc->err_pending)];

	(void)data;
	pthread_mutex_lock(&nc->mtx);
	memcpy(buf, nc->err_pending, sizeof(buf));
	nc->err_queued = 0;
	pthread_mutex_unlock(&nc->mtx);
	nc->cb.error(nc->cb.arg, buf);
}

/* Note a lost connection (nats.c thread). */
static void
on_disconnected(natsConnection *c, void *arg)
{
	struct natsconn	*nc = arg;

	note_error(nc, c);
	post_conn(nc, NATSCONN_DOWN);
}

/* Note a (re)connection (nats.c thread). */
static void
on_connected(natsConnection *c, void *arg)
{
	struct natsconn	*nc = arg;

	(void)c;
	pthread_mutex_lock(&nc->mtx);
	nc->lasterr[0] = '\0';
	pthread_mutex_unlock(&nc->mtx);
	post_conn(nc, NATSCONN_UP);
}

/* Note a closed connection (nats.c thread). */
static void
on_closed(natsConnection *c, void *arg)
{
	struct natsconn	*nc = arg;

	note_error(nc, c);
	post_conn(nc, NATSCONN_CLOSED);
	/* last callback: natsconn_close() waits for it before freeing */
	pthread_mutex_lock(&nc->mtx);
	nc->closed = 1;
	pthread_cond_signal(&nc->cond);
	pthread_mutex_unlock(&nc->mtx);
}

/* Note an asynchronous error such as a slow consumer (nats.c thread). */
static void
on_error(natsConnection *c, natsSubscription *sub, natsStatus s, void *arg)
{
	struct natsconn	*nc = arg;
	int		 post;

	if (s != NATS_SLOW_CONSUMER)
		note_error(nc, c);
	/* a burst of errors is one notice carrying the last of them */
	pthread_mutex_lock(&nc->mtx);
	if (snprintf(nc->err_pending, sizeof(nc->err_pending),
	    "nats: %s%s%s", natsStatus_GetText(s), sub != NULL ? " on " : "",
	    sub != NULL ? natsSubscription_GetSubject(sub) : "") >=
	    (int)sizeof(nc->err_pending))
		/* a long subject: the text says it was cut */
		memcpy(nc->err_pending + sizeof(nc->err_pending) - 4, "...",
		    4);
	post = !nc->err_queued;
	nc->err_queued = 1;
	pthread_mutex_unlock(&nc->mtx);
	if (post)
		(void)lt_queue_push_task(nc->loop, run_error, nc, NULL, NULL);
}

/*
 * Read pacing (core NATS; the policy: readpace.h).  After a read that
 * emptied the socket at a trickle, the read event is off for pace_ms:
 * one wake-up of this thread per pause rather than per message.  Writes
 * are never paused.
 */
static void
pace_end(evutil_socket_t fd, short what, void *arg)
{
	struct natsconn	*nc = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&nc->iomtx);
	if (nc->paused && nc->ud != NULL && nc->want_read &&
	    natsLibevent_Read(nc->ud->nle, true) != NATS_OK) {
		/* reading stays off: try again after another pause */
		pthread_mutex_unlock(&nc->iomtx);
		if (evtimer_add(nc->pace_ev, &nc->pace_tv) != 0)
			log_warnx("nats: cannot resume reading");
		return;
	}
	nc->paused = 0;
	nc->resumed = 1;
	pthread_mutex_unlock(&nc->iomtx);
}

/* After an iteration of the I/O loop: pause reading if the policy says
   so (I/O thread). */
static void
io_pace(struct natsconn *nc)
{
	uint64_t	n = nc->received;
	int		avail = 1, resumed;

	pthread_mutex_lock(&nc->iomtx);
	resumed = nc->resumed;
	nc->resumed = 0;
	if (nc->ud == NULL || !nc->want_read || nc->paused ||
	    ioctl(nc->sock, FIONREAD, &avail) != 0 || avail < 0)
		avail = 1;
	/* avail is 1 without a socket: no pause then */
	if (lt_readpace_after(&nc->rp, n, (size_t)avail, resumed,
	    clock_mono_ms()) &&
	    natsLibevent_Read(nc->ud->nle, false) == NATS_OK) {
		nc->paused = 1;
		if (evtimer_add(nc->pace_ev, &nc->pace_tv) == 0)
			nc->pauses++;
		else {
			(void)natsLibevent_Read(nc->ud->nle, true);
			nc->paused = 0;
		}
	}
	pthread_mutex_unlock(&nc->iomtx);
}

/* The adapter's callbacks, wrapped to follow the socket (nats.c
   threads, under the connection's lock). */
static natsStatus
io_attach(void **userData, void *loop, natsConnection *c, natsSock sock)
{
	struct natsconn	*nc = loop;
	struct io_ud	*ud = *userData;
	natsStatus	 s;

	if (ud == NULL) {
		if ((ud = calloc(1, sizeof(*ud))) == NULL)
			return NATS_NO_MEMORY;
		ud->nc = nc;
	}
	if ((s = natsLibevent_Attach((void **)&ud->nle, nc->iobase, c,
	    sock)) != NATS_OK) {
		/* the adapter freed its own (only a first attach fails) */
		pthread_mutex_lock(&nc->iomtx);
		if (nc->ud == ud)
			nc->ud = NULL;
		pthread_mutex_unlock(&nc->iomtx);
		free(ud);
		*userData = NULL;
		return s;
	}
	pthread_mutex_lock(&nc->iomtx);
	nc->ud = ud;
	nc->sock = sock;
	nc->want_read = 1;	/* the adapter started reading */
	nc->paused = 0;
	pthread_mutex_unlock(&nc->iomtx);
	*userData = ud;
	return NATS_OK;
}

static natsStatus
io_read(void *userData, bool add)
{
	struct io_ud	*ud = userData;
	natsStatus	 s;

	pthread_mutex_lock(&ud->nc->iomtx);
	ud->nc->want_read = add;
	ud->nc->paused = 0;
	s = natsLibevent_Read(ud->nle, add);
	pthread_mutex_unlock(&ud->nc->iomtx);
	return s;
}

static natsStatus
io_write(void *userData, bool add)
{
	struct io_ud	*ud = userData;

	return natsLibevent_Write(ud->nle, add);
}

static natsStatus
io_detach(void *userData)
{
	struct io_ud	*ud = userData;
	struct natsconn	*nc = ud->nc;
	natsStatus	 s;

	pthread_mutex_lock(&nc->iomtx);
	nc->ud = NULL;
	nc->paused = 0;
	pthread_mutex_unlock(&nc->iomtx);
	s = natsLibevent_Detach(ud->nle);
	free(ud);
	return s;
}

/*
 * Take what the pass parsed out of every subscription (I/O thread).  The
 * adapter's read callback, the only place nats.c parses messages once
 * connected, runs on this thread, so a pass leaves at most one read's
 * messages pending.  The pending count is asked first: a NextMsg that
 * finds nothing would record an error text each time.
 */
static void
io_drain(struct natsconn *nc)
{
	struct lt_item	*it;
	natsMsg		*msg;
	natsStatus	 s;
	int		 i, pending;

	/* what waits in the spool came first */
	spool_refill(nc);
	pthread_mutex_lock(&nc->submtx);
	for (i = 0; i < nc->nsubs && !nc->nodrain; i++) {
		if (nc->subs[i] == NULL ||
		    natsSubscription_GetPending(nc->subs[i], &pending,
		    NULL) != NATS_OK)
			continue;
		for (; pending > 0; pending--) {
			s = natsSubscription_NextMsg(&msg, nc->subs[i], 0);
			if (s == NATS_SLOW_CONSUMER)
				/* said once after a drop (on_error logs
				   it): the messages after it are there */
				s = natsSubscription_NextMsg(&msg,
				    nc->subs[i], 0);
			if (s == NATS_NO_RESPONDERS) {
				/* a message of no body and status 503 (any
				   client can publish one): nats.c took and
				   freed it; keep it as the empty message it
				   was, on the subscription's subject */
				log_warnx_rl("nats-503", "nats: a message "
				    "with status 503 on %s, its subject "
				    "lost in nats.c: kept as an empty "
				    "message", nc->subj[i]);
				nc->received++;
				if ((it = lt_item_msg_new(nc->subj[i],
				    nc->subj[i], "", 0, clock_now_ms())) !=
				    NULL)
					deliver(nc, it);
				else
					lt_queue_count_drops(nc->in, 1);
				continue;
			}
			if (s != NATS_OK)
				break;
			on_msg(nc, nc->subj[i], msg);
		}
	}
	pthread_mutex_unlock(&nc->submtx);
}

/* Run the adapter's loop until natsconn_close() ends it, draining the
   subscriptions after every pass (I/O thread). */
static void *
io_main(void *arg)
{
	struct natsconn	*nc = arg;

	for (;;) {
		if (event_base_loop(nc->iobase, EVLOOP_ONCE |
		    EVLOOP_NO_EXIT_ON_EMPTY) == -1) {
			log_warnx("nats: i/o loop failed");
			break;
		}
		io_drain(nc);
		if (event_base_got_exit(nc->iobase) ||
		    event_base_got_break(nc->iobase))
			break;
		if (nc->pace_ms > 0)
			io_pace(nc);
	}
	return NULL;
}

/* Is the probe told to stop? */
static int
probe_stopped(struct natsconn *nc)
{
	int	s;

	pthread_mutex_lock(&nc->mtx);
	s = nc->stop;
	pthread_mutex_unlock(&nc->mtx);
	return s;
}

/* Flush until the server has our subscriptions, then report live. */
static void *
probe_main(void *arg)
{
	struct natsconn	*nc = arg;
	natsStatus	 s;

	while (!probe_stopped(nc)) {
		s = natsConnection_FlushTimeout(nc->nc, 1000);
		if (s == NATS_OK) {
			(void)lt_queue_push_task(nc->loop, run_live, nc, NULL,
			    NULL);
			break;
		}
		if (s == NATS_CONNECTION_CLOSED)
			break;
		if (s != NATS_TIMEOUT) {
			struct timespec ts = { 0, 200 * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* Copy url into buf with any user:password@ or token@ replaced by ***@:
   logs must never show credentials. */
static const char *
redact_url(const char *url, char *buf, size_t len)
{
	const char	*p, *at, *host;

	p = strstr(url, "://");
	host = p != NULL ? p + 3 : url;
	at = strchr(host, '@');
	p = strchr(host, '/');
	if (at == NULL || (p != NULL && p < at))
		snprintf(buf, len, "%s", url);
	else
		snprintf(buf, len, "%.*s***%s", (int)(host - url), url, at);
	return buf;
}

/* Copy msg into buf without nats.c's "(conn.c:123): " prefix and with
   the credentials of every URL in it replaced by ***: nats.c's error
   texts may quote a URL. */
static const char *
scrub(const char *msg, char *buf, size_t len)
{
	const char	*p = msg != NULL ? msg : "no error text", *host, *at;
	size_t		 o = 0, n;

	if (*p == '(' && (at = strstr(p, "): ")) != NULL &&
	    at - p < 40 && memchr(p, ':', (size_t)(at - p)) != NULL)
		p = at + 3;
	if (*p == '\0')
		p = "no error text";

	while (*p != '\0' && o + 1 < len) {
		if (strncmp(p, "://", 3) == 0) {
			host = p + 3;
			n = strcspn(host, " \t/,;'\"");
			at = memchr(host, '@', n);
			o += (size_t)snprintf(buf + o, len - o, "://%s",
			    at != NULL ? "***" : "");
			if (o >= len)
				break;
			p = at != NULL ? at : host;
			continue;
		}
		buf[o++] = *p++;
	}
	if (o >= len)
		o = len - 1;
	buf[o] = '\0';
	return buf;
}

/* Apply the config to nats.c options. */
static natsStatus
set_options(struct natsconn *nc, const struct config *cf)
{
	natsOptions	*o = NULL;
	natsStatus	 s;

	if ((s = natsOptions_Create(&o)) != NATS_OK)
		return s;
	nc->opts = o;
	s = natsOptions_SetServers(o, (const char **)cf->nats_url,
	    (int)cf->nnats_url);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, "latticed");
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, cf->reconnect_wait_ms);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(o, 100, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, nc);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_connected, nc);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, on_closed, nc);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_error, nc);
	if (s == NATS_OK && cf->nats_user != NULL)
		s = natsOptions_SetUserInfo(o, cf->nats_user,
		    cf->nats_password);
	if (s == NATS_OK && cf->nats_token != NULL)
		s = natsOptions_SetToken(o, cf->nats_token);
	if (s == NATS_OK && cf->nats_creds != NULL)
		s = natsOptions_SetUserCredentialsFromFiles(o, cf->nats_creds,
		    NULL);
	if (s == NATS_OK && cf->nats_nkey_seed != NULL)
		s = natsOptions_SetNKeyFromSeed(o, cf->nats_nkey,
		    cf->nats_nkey_seed);
	if (s == NATS_OK && (cf->tls_ca != NULL || cf->tls_cert != NULL))
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && cf->tls_ca != NULL)
		s = natsOptions_LoadCATrustedCertificates(o, cf->tls_ca);
	if (s == NATS_OK && cf->tls_cert != NULL)
		s = natsOptions_LoadCertificatesChain(o, cf->tls_cert,
		    cf->tls_key);
	if (s == NATS_OK)
		s = natsOptions_SetEventLoop(o, nc, io_attach, io_read,
		    io_write, io_detach);
	return s;
}

/* Subscribe to one subject. */
static natsStatus
subscribe(struct natsconn *nc, const char *fmt, const char *lattice)
{
	char		subj[300];
	natsStatus	s;
	int		n;

	n = snprintf(subj, sizeof(subj), fmt, lattice);
	if (n < 0 || (size_t)n >= sizeof(subj)) {
		log_warnx("nats: lattice name of %zu bytes makes a subject "
		    "longer than %zu bytes: refused", strlen(lattice),
		    sizeof(subj) - 1);
		return NATS_INVALID_ARG;
	}
	if (nc->nsubs == MAX_SUBS)
		return NATS_ERR;
	if ((nc->subj[nc->nsubs] = strdup(subj)) == NULL)
		return NATS_NO_MEMORY;
	/* drained by the I/O thread (io_drain) */
	pthread_mutex_lock(&nc->submtx);
	s = natsConnection_SubscribeSync(&nc->subs[nc->nsubs], nc->nc, subj);
	if (s == NATS_OK) {
		s = natsSubscription_SetPendingLimits(nc->subs[nc->nsubs],
		    PENDING_MSGS, PENDING_BYTES);
		nc->nsubs++;
	} else {
		free(nc->subj[nc->nsubs]);
		nc->subj[nc->nsubs] = NULL;
	}
	pthread_mutex_unlock(&nc->submtx);
	if (s != NATS_OK)
		return s;
	log_debug("nats: subscribed to %s", subj);
	return NATS_OK;
}

/*
 * The inbox spool: core NATS only (JetStream keeps what latticed has not
 * acknowledged), a file beside the database (none in memory).  What a
 * previous run left is discarded: nothing says what of it was folded.
 */
static int
spool_open(struct natsconn *nc, const struct config *cf)
{
	struct lt_err	err;
	uint64_t	left;

	if (cf->jetstream || cf->inbox_spool == 0 || cf->db == NULL ||
	    cf->db[0] == '\0' || strcmp(cf->db, ":memory:") == 0 ||
	    strncmp(cf->db, "file:", 5) == 0)
		return 0;
	if (asprintf(&nc->spool_path, "%s.spool", cf->db) == -1) {
		nc->spool_path = NULL;
		log_warnx("nats: out of memory");
		return -1;
	}
	if ((nc->spool_ev = evtimer_new(nc->iobase, spool_tick, nc)) == NULL) {
		log_warnx("nats: out of memory");
		return -1;
	}
	if (lt_spool_open(nc->spool_path, cf->inbox_spool, &nc->spool, &left,
	    &err) != LT_OK) {
		log_warnx("nats: inbox spool: %s", err.msg);
		return -1;
	}
	if (left > 0)
		log_warnx("nats: inbox spool: %s held %llu bytes of messages "
		    "from the previous run, not folded: discarded",
		    nc->spool_path, (unsigned long long)left);
	return 0;
}

/* Connect, subscribe and start the readiness probe. */
int
natsconn_open(const struct config *cf, struct lt_queue *in,
    struct lt_queue *loop, const struct natsconn_notices *cb,
    struct natsconn **out, int *connected)
{
	struct natsconn	*nc;
	natsStatus	 s;
	size_t		 i;
	int		 core, rest;
	char		 ubuf[512], ebuf[256];

	*out = NULL;
	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return -1;
	pthread_mutex_init(&nc->submtx, NULL);
	pthread_mutex_init(&nc->mtx, NULL);
	pthread_cond_init(&nc->cond, NULL);
	pthread_mutex_init(&nc->iomtx, NULL);
	nc->sock = -1;
	/* JetStream pulls are round trips: a pause would lengthen each */
	if (!cf->jetstream)
		nc->pace_ms = lt_readpace_pause_ms(cf->batch_linger_ms);
	nc->pace_tv.tv_sec = nc->pace_ms / 1000;
	nc->pace_tv.tv_usec = (nc->pace_ms % 1000) * 1000;
	lt_readpace_init(&nc->rp, clock_mono_ms());
	nc->in = in;
	nc->loop = loop;
	nc->cb = *cb;
	/* natsconn_init() made libevent thread-aware: the adapter's events
	   are added from nats.c's threads and ours */
	if ((nc->iobase = event_base_new()) == NULL) {
		log_warnx("nats: cannot create the i/o loop");
		goto fail;
	}
	if (nc->pace_ms > 0 && (nc->pace_ev = evtimer_new(nc->iobase,
	    pace_end, nc)) == NULL) {
		log_warnx("nats: out of memory");
		goto fail;
	}
	if (spool_open(nc, cf) == -1)
		goto fail;
	if (pthread_create(&nc->io, NULL, io_main, nc) != 0) {
		log_warn("nats: i/o thread");
		goto fail;
	}
	nc->io_started = 1;
	/* visible in top -H, /proc/PID/task/N/comm */
	pthread_setname_np(nc->io, "nats-io");
	if ((s = set_options(nc, cf)) != NATS_OK) {
		log_warnx("nats: options: %s: %s", natsStatus_GetText(s),
		    nats_GetLastError(NULL));
		goto fail;
	}
	/*
	 * One plain attempt first: with retry-on-failed-connect, nats.c
	 * wipes the reason (e.g. "Authorization Violation") when its
	 * reconnect thread starts, racing us to read it.
	 */
	s = natsConnection_Connect(&nc->nc, nc->opts);
	/*
	 * A signed nonce (NKey, credentials file) is refused about once in
	 * 256 connects by nats.c before 3.8.0 (Debian 12 ships 3.4.1): its
	 * base64 encoder returns nothing for a signature whose first byte
	 * is 0, so the CONNECT goes out without "sig" (nats.c PR #705).  The
	 * next connect signs a new nonce; its reconnects already try twice.
	 */
	for (i = 0; s == NATS_CONNECTION_AUTH_FAILED && i < SIGNED_TRIES - 1 &&
	    (cf->nats_nkey_seed != NULL || cf->nats_creds != NULL); i++) {
		log_info("nats: connect: %s with a signed nonce; once in 256 "
		    "that is nats.c's unsigned CONNECT: trying again",
		    natsStatus_GetText(s));
		s = natsConnection_Connect(&nc->nc, nc->opts);
	}
	if (s == NATS_CONNECTION_AUTH_FAILED) {
		log_warnx("nats: connect: %s: %s", natsStatus_GetText(s),
		    scrub(nats_GetLastError(NULL), ebuf, sizeof(ebuf)));
		goto fail;
	}
	if (s != NATS_OK) {
		log_warnx("nats: %s not reachable yet (%s), retrying",
		    redact_url(cf->nats_url[0], ubuf, sizeof(ubuf)),
		    scrub(nats_GetLastError(NULL), ebuf, sizeof(ebuf)));
		s = natsOptions_SetRetryOnFailedConnect(nc->opts, true,
		    on_connected, nc);
		if (s == NATS_OK)
			s = natsConnection_Connect(&nc->nc, nc->opts);
		note_error(nc, nc->nc);
	}
	if (s == NATS_NOT_YET_CONNECTED)
		*connected = 0;
	else if (s != NATS_OK) {
		log_warnx("nats: connect: %s: %s (%s)", natsStatus_GetText(s),
		    scrub(nats_GetLastError(NULL), ebuf, sizeof(ebuf)),
		    natsconn_last_error(nc, ubuf, sizeof(ubuf)));
		goto fail;
	} else
		*connected = 1;
	for (i = 0; i < cf->nlattices; i++) {
		/*
		 * With jetstream, everything comes through js.c: latticed's
		 * own stream captures the bare and rpcevt subjects too.
		 * Attached to another stream (wadm's captures only
		 * wasmbus.evt.*.>), those two are followed over core NATS
		 * as well (a copy the stream also has is a duplicate).
		 */
		s = NATS_OK;
		core = !cf->jetstream;
		rest = core || strcmp(cf->js_mode, "attach") == 0;
		if (core)
			s = subscribe(nc, "wasmbus.evt.%s.>", cf->lattices[i]);
		if (s == NATS_OK && rest)
			s = subscribe(nc, "wasmbus.evt.%s", cf->lattices[i]);
		if (s == NATS_OK && rest)
			s = subscribe(nc, "wasmbus.rpcevt.%s",
			    cf->lattices[i]);
		if (s != NATS_OK) {
			/* the connection may have closed already (refused
			   credentials): say why */
			log_warnx("nats: subscribe %s: %s (last error: %s)",
			    cf->lattices[i], natsStatus_GetText(s),
			    natsconn_last_error(nc, ebuf, sizeof(ebuf)));
			goto fail;
		}
	}
	/* wasmCloud 2 hosts name no lattice in their subject */
	if (cf->v2_heartbeats && (s = subscribe(nc, "%s>",
	    LT_V2HB_SUBJECT_PREFIX)) != NATS_OK) {
		log_warnx("nats: subscribe %s>: %s", LT_V2HB_SUBJECT_PREFIX,
		    natsStatus_GetText(s));
		goto fail;
	}
	if (pthread_create(&nc->probe, NULL, probe_main, nc) != 0) {
		log_warn("nats: probe thread");
		goto fail;
	}
	nc->probe_started = 1;
	*out = nc;
	return 0;
fail:
	natsconn_close(nc);
	return -1;
}

/* The receive time of the oldest message in the inbox spool, 0 when it
   holds none (any thread). */
int64_t
natsconn_spool_oldest_ms(struct natsconn *nc)
{
	return nc != NULL ? __atomic_load_n(&nc->spool_oldest,
	    __ATOMIC_RELAXED) : 0;
}

/* The connection, for js.c and resync.c (borrowed). */
natsConnection *
natsconn_connection(struct natsconn *nc)
{
	return nc->nc;
}

/* Why the connection last failed, scrubbed of credentials. */
const char *
natsconn_last_error(struct natsconn *nc, char *buf, size_t len)
{
	const char	*txt = NULL;
	natsStatus	 s = NATS_OK;
	char		 cur[sizeof(nc->lasterr)], why[sizeof(nc->lasterr)];

	if (nc == NULL) {
		snprintf(buf, len, "no error reported");
		return buf;
	}
	cur[0] = '\0';
	if (nc->nc != NULL)
		s = natsConnection_GetLastError(nc->nc, &txt);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		if (txt == NULL || *txt == '\0')
			txt = natsStatus_GetText(s);
		scrub(txt, cur, sizeof(cur));
	}
	pthread_mutex_lock(&nc->mtx);
	memcpy(why, nc->lasterr, sizeof(why));
	pthread_mutex_unlock(&nc->mtx);
	if (cur[0] != '\0' && why[0] != '\0' && strcmp(cur, why) != 0)
		snprintf(buf, len, "%s, after: %s", cur, why);
	else if (cur[0] != '\0' || why[0] != '\0')
		snprintf(buf, len, "%s", cur[0] != '\0' ? cur : why);
	else
		snprintf(buf, len, "no error reported");
	return buf;
}

/* Messages nats.c dropped past the pending limits since the last call
   (loop thread). */
uint64_t
natsconn_take_dropped(struct natsconn *nc)
{
	uint64_t	total = 0;
	int64_t		n;
	int		i;

	if (nc == NULL)
		return 0;
	for (i = 0; i < nc->nsubs; i++) {
		/* fails once unsubscribed: nothing more can drop */
		if (nc->subs[i] == NULL ||
		    natsSubscription_GetDropped(nc->subs[i], &n) != NATS_OK)
			continue;
		if (n > nc->subdropped[i])
			total += (uint64_t)(n - nc->subdropped[i]);
		nc->subdropped[i] = n;
	}
	return total;
}

/* Stop taking messages. */
void
natsconn_unsubscribe(struct natsconn *nc)
{
	int	i;

	if (nc == NULL)
		return;
	for (i = 0; i < nc->nsubs; i++) {
		if (nc->subs[i] == NULL)
			continue;
		natsSubscription_Unsubscribe(nc->subs[i]);
	}
}

/*
 * Close the connection and free everything.  nats.c calls back from its
 * own threads after natsConnection_Close() returns, so wait for the closed
 * callback and for the library's threads before freeing what they use.
 * The I/O loop runs until the connection is closed (the final flush needs
 * it, and nats.c detaches from it while closing), then is stopped.
 */
void
natsconn_close(struct natsconn *nc)
{
	struct timespec	 until;
	int		 i;

	if (nc == NULL) {
		nats_CloseAndWait(2000);
		return;
	}
	pthread_mutex_lock(&nc->mtx);
	nc->stop = 1;
	pthread_mutex_unlock(&nc->mtx);
	if (nc->nc != NULL) {
		natsConnection_Close(nc->nc);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3;
		pthread_mutex_lock(&nc->mtx);
		while (!nc->closed && pthread_cond_timedwait(&nc->cond,
		    &nc->mtx, &until) == 0)
			;
		pthread_mutex_unlock(&nc->mtx);
	}
	if (nc->probe_started)
		pthread_join(nc->probe, NULL);
	/* the I/O thread runs on (nats.c detaches from it below): it must
	   not drain a destroyed subscription */
	pthread_mutex_lock(&nc->submtx);
	nc->nodrain = 1;
	pthread_mutex_unlock(&nc->submtx);
	for (i = 0; i < nc->nsubs; i++) {
		natsSubscription_Destroy(nc->subs[i]);
		free(nc->subj[i]);
	}
	natsConnection_Destroy(nc->nc);
	natsOptions_Destroy(nc->opts);
	nats_CloseAndWait(2000);
	if (nc->io_started) {
		/* loopexit, unlike loopbreak, is not lost if the thread has
		   not entered the loop yet */
		event_base_loopexit(nc->iobase, NULL);
		pthread_join(nc->io, NULL);
	}
	if (nc->pace_ms > 0)
		log_info("nats: reads paused %" PRIu64 " times at a trickle, "
		    "%" PRId64 " ms each", nc->pauses, nc->pace_ms);
	if (nc->pace_ev != NULL)
		event_free(nc->pace_ev);
	if (nc->spool_ev != NULL)
		event_free(nc->spool_ev);
	if (nc->spool != NULL) {
		uint64_t lost;

		lt_spool_close(nc->spool, &lost);
		lost += nc->held != NULL;
		if (lost > 0)
			log_warnx("nats: %llu messages in the inbox spool were "
			    "not folded before exit", (unsigned long long)lost);
	}
	lt_item_free(nc->held);
	free(nc->spool_path);
	if (nc->iobase != NULL)
		event_base_free(nc->iobase);
	pthread_mutex_destroy(&nc->iomtx);
	pthread_cond_destroy(&nc->cond);
	pthread_mutex_destroy(&nc->mtx);
	pthread_mutex_destroy(&nc->submtx);
	free(nc);
}
