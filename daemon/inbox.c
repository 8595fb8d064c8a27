/*
 * inbox.c - bounded FIFO between nats.c's threads and the loop.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "inbox.h"

#define OVERFLOW_KEEP	64
#define OVERFLOW_PREFIX	256

struct inbox {
	pthread_mutex_t		 mtx;
	struct event		*wake;
	struct inbox_msg	*head, **tail;
	size_t			 len, max;
	struct inbox_msg	*ovf, **ovftail;
	size_t			 novf;
	uint64_t		 dropped;
	struct inbox_notices	 notices;
	int			 have_notices;
	int			 closed;
};

/* Create an inbox. */
int
inbox_new(size_t max, struct event *wake, struct inbox **out)
{
	struct inbox	*ib;

	if ((ib = calloc(1, sizeof(*ib))) == NULL)
		return -1;
	pthread_mutex_init(&ib->mtx, NULL);
	ib->wake = wake;
	ib->max = max;
	ib->tail = &ib->head;
	ib->ovftail = &ib->ovf;
	*out = ib;
	return 0;
}

/* Free a list of messages. */
void
inbox_msg_free(struct inbox_msg *m)
{
	struct inbox_msg	*next;

	for (; m != NULL; m = next) {
		next = m->next;
		if (m->ack != NULL && m->ack_free != NULL)
			m->ack_free(m->ack);
		free(m->subject);
		free(m->data);
		free(m);
	}
}

/* Free the inbox. */
void
inbox_free(struct inbox *ib)
{
	if (ib == NULL)
		return;
	inbox_msg_free(ib->head);
	inbox_msg_free(ib->ovf);
	pthread_mutex_destroy(&ib->mtx);
	free(ib);
}

/* Change the bound. */
void
inbox_set_max(struct inbox *ib, size_t max)
{
	pthread_mutex_lock(&ib->mtx);
	ib->max = max;
	pthread_mutex_unlock(&ib->mtx);
}

/* Refuse further pushes. */
void
inbox_close(struct inbox *ib)
{
	pthread_mutex_lock(&ib->mtx);
	ib->closed = 1;
	pthread_mutex_unlock(&ib->mtx);
}

/* Copy a message (at most cap bytes of data). */
static struct inbox_msg *
msg_copy(const char *subject, const void *data, size_t len, size_t cap,
    int64_t received_ms)
{
	struct inbox_msg	*m;
	size_t			 n = len < cap ? len : cap;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->subject = strdup(subject != NULL ? subject : "");
	m->data = malloc(n + 1);
	if (m->subject == NULL || m->data == NULL) {
		inbox_msg_free(m);
		return NULL;
	}
	if (n > 0)
		memcpy(m->data, data, n);
	((char *)m->data)[n] = '\0';
	m->len = n;
	m->size = len;
	m->received_ms = received_ms;
	return m;
}

/* Queue a copy of a message and wake the loop. */
int
inbox_push(struct inbox *ib, const char *subject, const void *data,
    size_t len, int64_t received_ms)
{
	struct inbox_msg	*m = NULL;
	int			 rc = -1, wake = 0;

	pthread_mutex_lock(&ib->mtx);
	if (ib->closed)
		goto out;
	if (ib->len >= ib->max) {
		wake = ib->dropped++ == 0;
		if (ib->novf < OVERFLOW_KEEP &&
		    (m = msg_copy(subject, data, len, OVERFLOW_PREFIX,
		    received_ms)) != NULL) {
			*ib->ovftail = m;
			ib->ovftail = &m->next;
			ib->novf++;
		}
		goto out;
	}
	if ((m = msg_copy(subject, data, len, len, received_ms)) == NULL) {
		wake = ib->dropped++ == 0;
		goto out;
	}
	*ib->tail = m;
	ib->tail = &m->next;
	wake = ib->len++ == 0;
	rc = 0;
out:
	pthread_mutex_unlock(&ib->mtx);
	if (wake && ib->wake != NULL)
		event_active(ib->wake, EV_READ, 0);
	return rc;
}

/* Queue a copy of a message with its JetStream handle. */
int
inbox_push_ack(struct inbox *ib, const char *subject, const void *data,
    size_t len, int64_t received_ms, void *ack, void (*ack_free)(void *))
{
	struct inbox_msg	*m = NULL;
	int			 rc = -1, wake = 0;

	pthread_mutex_lock(&ib->mtx);
	if (ib->closed || ib->len >= ib->max)
		goto out;
	if ((m = msg_copy(subject, data, len, len, received_ms)) == NULL)
		goto out;
	m->ack = ack;
	m->ack_free = ack_free;
	ack = NULL;
	*ib->tail = m;
	ib->tail = &m->next;
	wake = ib->len++ == 0;
	rc = 0;
out:
	pthread_mutex_unlock(&ib->mtx);
	if (ack != NULL && ack_free != NULL)
		ack_free(ack);
	if (wake && ib->wake != NULL)
		event_active(ib->wake, EV_READ, 0);
	return rc;
}

/* Record a connection notice. */
void
inbox_notice_conn(struct inbox *ib, enum inbox_conn c, int64_t ms)
{
	pthread_mutex_lock(&ib->mtx);
	ib->notices.conn = c;
	ib->notices.conn_ms = ms;
	ib->have_notices = 1;
	pthread_mutex_unlock(&ib->mtx);
	if (ib->wake != NULL)
		event_active(ib->wake, EV_READ, 0);
}

/* Record that the subscriptions are live. */
void
inbox_notice_live(struct inbox *ib)
{
	pthread_mutex_lock(&ib->mtx);
	ib->notices.live = 1;
	ib->have_notices = 1;
	pthread_mutex_unlock(&ib->mtx);
	if (ib->wake != NULL)
		event_active(ib->wake, EV_READ, 0);
}

/* Record an asynchronous error. */
void
inbox_notice_error(struct inbox *ib, const char *msg)
{
	pthread_mutex_lock(&ib->mtx);
	strncpy(ib->notices.error, msg, sizeof(ib->notices.error) - 1);
	ib->notices.error[sizeof(ib->notices.error) - 1] = '\0';
	ib->have_notices = 1;
	pthread_mutex_unlock(&ib->mtx);
	if (ib->wake != NULL)
		event_active(ib->wake, EV_READ, 0);
}

/* Take up to max queued messages. */
struct inbox_msg *
inbox_take(struct inbox *ib, size_t max, size_t *n)
{
	struct inbox_msg	*head, *m, **pp;
	size_t			 k = 0;

	pthread_mutex_lock(&ib->mtx);
	head = ib->head;
	for (pp = &ib->head; *pp != NULL && k < max; pp = &(*pp)->next)
		k++;
	m = *pp;
	*pp = NULL;
	ib->head = m;
	if (m == NULL)
		ib->tail = &ib->head;
	ib->len -= k;
	pthread_mutex_unlock(&ib->mtx);
	if (k == 0)
		head = NULL;
	*n = k;
	return head;
}

/* Take the overflow records. */
struct inbox_msg *
inbox_take_overflow(struct inbox *ib, uint64_t *dropped)
{
	struct inbox_msg	*m;

	pthread_mutex_lock(&ib->mtx);
	m = ib->ovf;
	ib->ovf = NULL;
	ib->ovftail = &ib->ovf;
	ib->novf = 0;
	*dropped = ib->dropped;
	ib->dropped = 0;
	pthread_mutex_unlock(&ib->mtx);
	return m;
}

/* Take pending notices. */
int
inbox_notices(struct inbox *ib, struct inbox_notices *out)
{
	int	had;

	pthread_mutex_lock(&ib->mtx);
	had = ib->have_notices;
	*out = ib->notices;
	memset(&ib->notices, 0, sizeof(ib->notices));
	ib->have_notices = 0;
	pthread_mutex_unlock(&ib->mtx);
	return had;
}

/* Queue length and oldest receive time. */
size_t
inbox_len(struct inbox *ib, int64_t *oldest_ms)
{
	size_t	n;

	pthread_mutex_lock(&ib->mtx);
	n = ib->len;
	if (oldest_ms != NULL)
		*oldest_ms = ib->head != NULL ? ib->head->received_ms : 0;
	pthread_mutex_unlock(&ib->mtx);
	return n;
}
