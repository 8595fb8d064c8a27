/*
 * dblock.c - one latticed per database: a fcntl lock on "<db>.lock".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "dblock.h"
#include "log.h"

struct dblock {
	int	 fd;
	char	*path;
};

/* The pid of the lock's holder: F_GETLK, else the pid in the file. */
static long
holder_pid(int fd)
{
	struct flock	fl;
	char		buf[32];
	ssize_t		n;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
	    fl.l_pid > 0)
		return (long)fl.l_pid;
	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Lock db for this process. */
int
dblock_acquire(const char *db, struct dblock **out)
{
	struct dblock	*l;
	struct flock	 fl;
	char		 pid[32];
	int		 n;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("db: lock");
		return -1;
	}
	l->fd = -1;
	if (asprintf(&l->path, "%s.lock", db) == -1) {
		l->path = NULL;
		log_warn("db: lock");
		goto fail;
	}
	if ((l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) ==
	    -1) {
		log_warn("db: %s", l->path);
		goto fail;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(l->fd, F_SETLK, &fl) == -1) {
		if (errno == EACCES || errno == EAGAIN)
			log_warnx("db: %s is in use by latticed pid %ld (lock "
			    "%s)", db, holder_pid(l->fd), l->path);
		else
			log_warn("db: lock %s", l->path);
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(pid) || ftruncate(l->fd, 0) == -1 ||
	    pwrite(l->fd, pid, (size_t)n, 0) != n) {
		log_warn("db: %s", l->path);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	dblock_release(l);
	return -1;
}

/* Release the lock and free. */
void
dblock_release(struct dblock *l)
{
	if (l == NULL)
		return;
	/* closing the fd drops the lock; the file stays (removing it would
	   race with a starting latticed that already opened it) */
	if (l->fd != -1)
		close(l->fd);
	free(l->path);
	free(l);
}
