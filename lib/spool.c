/*
 * spool.c - the inbox's overflow on disk (spool.h).
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "queue.h"
#include "spool.h"

#define SPOOL_MAGIC	0x4c53504cu	/* "LPSL" */
#define READ_CHUNK	(256 * 1024)
/* a spool emptied after less than this is reused in place, not
   truncated (a load hovering at the inbox's bound empties it often) */
#define TRUNCATE_MIN	(256 * 1024)

/* A record's header; the subject and pattern follow with their NULs
   (pattern_len 0: none), then the payload. */
struct rec {
	uint32_t	magic;
	uint32_t	subject_len;	/* with its NUL */
	uint32_t	pattern_len;	/* with its NUL, 0: none */
	uint32_t	data_len;
	int64_t		received_ms;
};

struct lt_spool {
	int		 fd;
	char		*path;
	size_t		 max;
	uint64_t	 wend;		/* bytes written */
	uint64_t	 roff;		/* file offset of rbuf[0] */
	unsigned char	*rbuf;
	size_t		 rcap, rlen, rpos;
	uint64_t	 count;		/* records held */
};

/* Create or empty the file. */
int
lt_spool_open(const char *path, size_t max_bytes, struct lt_spool **out,
    uint64_t *left, struct lt_err *err)
{
	struct lt_spool	*sp;
	struct stat	 st;

	*out = NULL;
	*left = 0;
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->path = strdup(path)) == NULL) {
		free(sp);
		return lt_err_set(err, LT_ENOMEM, "", "out of memory");
	}
	sp->fd = -1;
	/* what is there is discarded: remove the name (a link or a FIFO
	   too, never what it points to) and create the file afresh */
	if (lstat(path, &st) == 0) {
		if (S_ISREG(st.st_mode))
			*left = (uint64_t)st.st_size;
		if (unlink(path) == -1) {
			lt_err_set(err, LT_ESTORE, "", "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
	}
	sp->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (sp->fd == -1) {
		lt_err_set(err, LT_ESTORE, "", "%s: %s", path,
		    strerror(errno));
		goto fail;
	}
	sp->max = max_bytes;
	*out = sp;
	return LT_OK;
fail:
	if (sp->fd != -1)
		close(sp->fd);
	free(sp->path);
	free(sp);
	return err != NULL ? err->code : LT_ESTORE;
}

/* Start the file over once everything in it was read (reads stop at
   wend, so what is left past it is never read). */
static void
reset(struct lt_spool *sp)
{
	int	trunc = sp->wend >= TRUNCATE_MIN;

	sp->count = 0;
	sp->wend = sp->roff = 0;
	sp->rlen = sp->rpos = 0;
	/* a big message grew the buffer: do not keep it for the next burst */
	if (sp->rcap > READ_CHUNK) {
		free(sp->rbuf);
		sp->rbuf = NULL;
		sp->rcap = 0;
	}
	if (trunc && ftruncate(sp->fd, 0) == -1) {
		/* the next records overwrite it from the start */
	}
}

/* Append a message. */
int
lt_spool_put(struct lt_spool *sp, const char *subject, const char *pattern,
    const void *data, size_t len, int64_t received_ms, struct lt_err *err)
{
	struct rec	 r;
	struct iovec	 iov[4];
	size_t		 total, done = 0;
	ssize_t		 n;
	int		 k, cnt = 0;

	if (len > UINT32_MAX)
		return lt_err_set(err, LT_ELIMIT, "", "message of %zu bytes",
		    len);
	if (subject == NULL)
		subject = "";
	r.magic = SPOOL_MAGIC;
	r.subject_len = (uint32_t)strlen(subject) + 1;
	r.pattern_len = pattern != NULL ? (uint32_t)strlen(pattern) + 1 : 0;
	r.data_len = (uint32_t)len;
	r.received_ms = received_ms;
	total = sizeof(r) + r.subject_len + r.pattern_len + len;
	/* the file, read or not: it only starts over once read whole */
	if (sp->wend + total > sp->max)
		return lt_err_set(err, LT_ELIMIT, "", "spool full (%zu bytes)",
		    sp->max);
	iov[cnt].iov_base = &r;
	iov[cnt++].iov_len = sizeof(r);
	iov[cnt].iov_base = (void *)subject;
	iov[cnt++].iov_len = r.subject_len;
	if (r.pattern_len > 0) {
		iov[cnt].iov_base = (void *)pattern;
		iov[cnt++].iov_len = r.pattern_len;
	}
	iov[cnt].iov_base = (void *)data;
	iov[cnt++].iov_len = len;
	/* pwritev at the end; a short write continues where it stopped */
	while (done < total) {
		struct iovec	v[4];
		size_t		skip = done;
		int		m = 0;

		for (k = 0; k < cnt; k++) {
			if (skip >= iov[k].iov_len) {
				skip -= iov[k].iov_len;
				continue;
			}
			v[m].iov_base = (char *)iov[k].iov_base + skip;
			v[m++].iov_len = iov[k].iov_len - skip;
			skip = 0;
		}
		n = pwritev(sp->fd, v, m, (off_t)(sp->wend + done));
		if (n <= 0) {
			int	e = n == 0 ? 0 : errno;

			if (e == EINTR)
				continue;
			/* the file keeps only whole records (a failed
			   truncate: the next record overwrites the part,
			   and reads stop at wend) */
			if (ftruncate(sp->fd, (off_t)sp->wend) == -1) {
			}
			return lt_err_set(err, LT_ESTORE, "", "%s: %s",
			    sp->path, e == 0 ? "wrote nothing" : strerror(e));
		}
		done += (size_t)n;
	}
	sp->wend += total;
	sp->count++;
	return LT_OK;
}

/* Have at least need bytes at rbuf[rpos]; LT_ESTORE, LT_ENOMEM. */
static int
fill(struct lt_spool *sp, size_t need, struct lt_err *err)
{
	unsigned char	*nb;
	size_t		 keep, want;
	ssize_t		 n;

	if (sp->rlen - sp->rpos >= need)
		return LT_OK;
	keep = sp->rlen - sp->rpos;
	if (keep > 0)
		memmove(sp->rbuf, sp->rbuf + sp->rpos, keep);
	sp->roff += sp->rpos;
	sp->rpos = 0;
	sp->rlen = keep;
	want = need > READ_CHUNK ? need : READ_CHUNK;
	if (sp->rcap < want) {
		if ((nb = realloc(sp->rbuf, want)) == NULL)
			return lt_err_set(err, LT_ENOMEM, "", "out of memory");
		sp->rbuf = nb;
		sp->rcap = want;
	}
	while (sp->rlen < need) {
		/* never past what was written */
		want = sp->rcap - sp->rlen;
		if (want > sp->wend - (sp->roff + sp->rlen))
			want = (size_t)(sp->wend - (sp->roff + sp->rlen));
		if (want == 0)
			return lt_err_set(err, LT_ESTORE, "", "%s: %s",
			    sp->path, "a record longer than the file");
		n = pread(sp->fd, sp->rbuf + sp->rlen, want,
		    (off_t)(sp->roff + sp->rlen));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return lt_err_set(err, LT_ESTORE, "", "%s: %s",
			    sp->path, n == 0 ? "ends inside a record" :
			    strerror(errno));
		sp->rlen += (size_t)n;
	}
	return LT_OK;
}

/* Take the oldest message. */
int
lt_spool_get(struct lt_spool *sp, struct lt_item **out, uint64_t *lost,
    struct lt_err *err)
{
	struct rec	 r;
	const char	*subject, *pattern;
	size_t		 total;
	int		 rc;

	*out = NULL;
	*lost = 0;
	if (sp->count == 0)
		return LT_OK;
	if ((rc = fill(sp, sizeof(r), err)) != LT_OK)
		goto fail;
	memcpy(&r, sp->rbuf + sp->rpos, sizeof(r));
	if (r.magic != SPOOL_MAGIC || r.subject_len == 0) {
		rc = lt_err_set(err, LT_ESTORE, "", "%s: a damaged record",
		    sp->path);
		goto fail;
	}
	if ((uint64_t)sizeof(r) + r.subject_len + r.pattern_len + r.data_len >
	    lt_spool_bytes(sp)) {
		rc = lt_err_set(err, LT_ESTORE, "", "%s: a damaged record",
		    sp->path);
		goto fail;
	}
	total = sizeof(r) + (size_t)r.subject_len + r.pattern_len + r.data_len;
	if ((rc = fill(sp, total, err)) != LT_OK)
		goto fail;
	subject = (const char *)sp->rbuf + sp->rpos + sizeof(r);
	pattern = r.pattern_len > 0 ? subject + r.subject_len : NULL;
	if (subject[r.subject_len - 1] != '\0' ||
	    (pattern != NULL && pattern[r.pattern_len - 1] != '\0')) {
		rc = lt_err_set(err, LT_ESTORE, "", "%s: a damaged record",
		    sp->path);
		goto fail;
	}
	*out = lt_item_msg_new(subject, pattern, subject + r.subject_len +
	    r.pattern_len, r.data_len, r.received_ms);
	if (*out == NULL)
		/* the record stays: the caller tries again */
		return lt_err_set(err, LT_ENOMEM, "", "out of memory");
	sp->rpos += total;
	if (--sp->count == 0)
		reset(sp);
	return LT_OK;
fail:
	if (rc == LT_ENOMEM)
		return rc;	/* nothing consumed: try again */
	*lost = sp->count;
	reset(sp);
	return rc;
}

uint64_t
lt_spool_count(const struct lt_spool *sp)
{
	return sp->count;
}

uint64_t
lt_spool_bytes(const struct lt_spool *sp)
{
	return sp->wend - (sp->roff + sp->rpos);
}

/* Close and remove the file. */
void
lt_spool_close(struct lt_spool *sp, uint64_t *lost)
{
	if (lost != NULL)
		*lost = sp != NULL ? sp->count : 0;
	if (sp == NULL)
		return;
	(void)unlink(sp->path);
	close(sp->fd);
	free(sp->rbuf);
	free(sp->path);
	free(sp);
}
