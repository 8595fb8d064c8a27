/*
 * inbox.h - the hand-over from nats.c's threads to the loop thread.
 *
 * A bounded, mutex-protected FIFO of copied messages plus the connection
 * notices.  Producers (NATS callbacks) push; only the loop thread takes.
 * A push wakes the loop (event_active()) only when it makes the inbox
 * non-empty (or is the first drop since the last take): the loop, once
 * woken, must take again or re-arm itself while messages are left.  A
 * message that does not fit
 * is dropped and counted; the first OVERFLOW_KEEP drops since the last
 * take keep a prefix so the loop can record them in rejected_events.
 */
#ifndef INBOX_H
#define INBOX_H

#include <stddef.h>
#include <stdint.h>

struct event;

struct inbox_msg {
	struct inbox_msg *next;
	char		 *subject;
	void		 *data;
	size_t		  len;		/* bytes in data */
	size_t		  size;		/* size of the original message */
	int64_t		  received_ms;
	void		 *ack;		/* JetStream handle, NULL: none */
	void		(*ack_free)(void *);	/* frees ack if still set */
};

enum inbox_conn {
	INBOX_CONN_NONE = 0,
	INBOX_CONN_UP,		/* (re)connected */
	INBOX_CONN_DOWN,	/* disconnected, reconnecting */
	INBOX_CONN_CLOSED,	/* gave up for good */
};

/* Notices collected since the last inbox_notices(). */
struct inbox_notices {
	enum inbox_conn	 conn;		/* latest state, NONE: no change */
	int64_t		 conn_ms;	/* when it changed */
	int		 live;		/* subscriptions confirmed by flush */
	char		 error[200];	/* last async error, "" when none */
};

struct inbox;

/* New inbox holding at most max messages; wake is activated on push. */
int	inbox_new(size_t max, struct event *wake, struct inbox **out);
/* Free it and every queued message.  NULL is fine. */
void	inbox_free(struct inbox *ib);
void	inbox_set_max(struct inbox *ib, size_t max);
/* Refuse further pushes (shutdown). */
void	inbox_close(struct inbox *ib);

/* Copy and queue a message; 0, or -1 when dropped. */
int	inbox_push(struct inbox *ib, const char *subject, const void *data,
	    size_t len, int64_t received_ms);
/*
 * Like inbox_push() with a JetStream handle that travels with the message
 * (the loop acknowledges it after commit).  Consumes ack: on refusal (full
 * or closed) ack_free(ack) runs and nothing is counted as dropped, since
 * an unacknowledged message is redelivered.
 */
int	inbox_push_ack(struct inbox *ib, const char *subject, const void *data,
	    size_t len, int64_t received_ms, void *ack,
	    void (*ack_free)(void *));
/* Record a notice and wake the loop. */
void	inbox_notice_conn(struct inbox *ib, enum inbox_conn c, int64_t ms);
void	inbox_notice_live(struct inbox *ib);
void	inbox_notice_error(struct inbox *ib, const char *msg);

/* Take up to max messages, oldest first, as a list (caller frees). */
struct inbox_msg *inbox_take(struct inbox *ib, size_t max, size_t *n);
/* Take the kept overflow records and the total drop count since the last
   call. */
struct inbox_msg *inbox_take_overflow(struct inbox *ib, uint64_t *dropped);
/* Take pending notices; returns 1 when there were any. */
int	inbox_notices(struct inbox *ib, struct inbox_notices *out);
/* Queue length and the receive time of the oldest message (0: empty). */
size_t	inbox_len(struct inbox *ib, int64_t *oldest_ms);
/* Free a list from inbox_take*(). */
void	inbox_msg_free(struct inbox_msg *m);

#endif
