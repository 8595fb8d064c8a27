/*
 * sink_command.c - deliver an alert by running a program.
 *
 * The program is spawned directly (fork + execve, no shell) in its own
 * process group, with the alert JSON on stdin, LATTICED_ALERT_* in its
 * environment, stdout to /dev/null and stderr captured (its first bytes
 * end up in the error message).  Nothing here blocks the loop:
 *   - stdin is a non-blocking socketpair written on EV_WRITE (a socket so
 *     send(MSG_NOSIGNAL) cannot raise SIGPIPE when the program does not
 *     read its input);
 *   - the exit is noticed through a pidfd (Linux >= 5.3) that becomes
 *     readable when the child dies, then reaped with waitpid(pid, WNOHANG).
 *     Where pidfd_open() fails we fall back to a 100 ms timer polling
 *     waitpid(pid, WNOHANG).  SIGCHLD is deliberately not used: it is
 *     process-wide and would steal or be stolen by other code's children;
 *   - the timeout sends SIGTERM to the process group, then SIGKILL after
 *     SINK_COMMAND_KILL_GRACE_MS.
 * No child outlives latticed to deliver a second time: the child gets
 * PR_SET_PDEATHSIG SIGKILL (it dies with latticed, kill -9 included), and
 * the process groups of the running children are listed in a file
 * (sink_command_children()) whose groups the next start kills before
 * anything is redelivered (what the child itself started, too).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sink_priv.h"

extern char **environ;

#define POLL_MS		100
#define MAX_CHILDREN	64	/* across sinks (a reload overlaps two) */

static void	exit_cb(evutil_socket_t, short, void *);

/*
 * The running children, process-wide: a reload builds the new command
 * sink while the old one's children still run, and both are listed in
 * the one file.  The loop thread only.
 */
static struct {
	char			*path;		/* NULL: not kept */
	struct {
		pid_t			pid;	/* = its process group */
		unsigned long long	start;	/* /proc starttime */
	}			 kid[MAX_CHILDREN];
	size_t			 n;
} children;

/* The start time (clock ticks since boot) of pid from /proc; -1 if gone. */
static int
proc_start(pid_t pid, unsigned long long *start)
{
	char	 path[64], buf[1024], *p;
	FILE	*fp;
	size_t	 n;
	int	 i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the name may hold anything: fields resume after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* field 3 (state) is the first after it; starttime is field 22 */
	for (i = 3; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", start) != 1)
		return -1;
	return 0;
}

/* Rewrite the children file (a temporary file renamed over it). */
static void
children_write(void)
{
	char	 tmp[4096];
	FILE	*fp;
	size_t	 i;
	int	 n, bad;

	if (children.path == NULL)
		return;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", children.path);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    (fp = fopen(tmp, "we")) == NULL)
		return;
	for (i = 0; i < children.n; i++)
		fprintf(fp, "%ld %llu\n", (long)children.kid[i].pid,
		    children.kid[i].start);
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad || rename(tmp, children.path) == -1)
		(void)unlink(tmp);
}

/* List a new child's process group. */
static void
children_add(pid_t pid)
{
	unsigned long long	start = 0;

	if (children.n == MAX_CHILDREN)
		return;
	(void)proc_start(pid, &start);
	children.kid[children.n].pid = pid;
	children.kid[children.n].start = start;
	children.n++;
	children_write();
}

/* Forget a child that was reaped. */
static void
children_del(pid_t pid)
{
	size_t	i;

	for (i = 0; i < children.n; i++)
		if (children.kid[i].pid == pid) {
			children.kid[i] = children.kid[--children.n];
			children_write();
			return;
		}
}

/* Keep the children in path; first kill the groups a previous run left. */
int
sink_command_children(const char *path, int *killed, char *cause,
    size_t causelen)
{
	FILE			*fp;
	long			 pid;
	unsigned long long	 start, now;
	int			 n = 0;

	*killed = 0;
	free(children.path);
	children.path = NULL;
	children.n = 0;
	if (path == NULL)
		return 0;
	if ((children.path = strdup(path)) == NULL) {
		snprintf(cause, causelen, "out of memory");
		return -1;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(cause, causelen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fscanf(fp, "%ld %llu", &pid, &start) == 2) {
		if (pid <= 1 || pid == (long)getpid())
			continue;
		/*
		 * A pid in use is not reused as a process group id while
		 * that group has members, so: when a process with this pid
		 * exists it must be the leader we started (same start
		 * time), else any group with this id is ours.
		 */
		if (proc_start((pid_t)pid, &now) == 0 && now != start)
			continue;
		if (kill(-(pid_t)pid, SIGKILL) == 0)
			n++;
	}
	fclose(fp);
	*killed = n;
	children_write();
	return 0;
}

/* Open a pidfd for pid, or -1 where the kernel has none. */
static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return ((int)syscall(SYS_pidfd_open, pid, 0));
#else
	(void)pid;
	errno = ENOSYS;
	return (-1);
#endif
}

/* Append "NAME=value" to env at *n. */
static int
env_add(char **env, size_t *n, const char *name, const char *value)
{
	if (asprintf(&env[*n], "LATTICED_ALERT_%s=%s", name,
	    value != NULL ? value : "") == -1) {
		env[*n] = NULL;
		return (-1);
	}
	(*n)++;
	env[*n] = NULL;
	return (0);
}

/* Build the child's environment: ours minus stale LATTICED_ALERT_*. */
static char **
build_env(const struct alert_msg *a)
{
	char **env, id[32], fired[32], resolved[32];
	size_t i, n = 0, count;

	for (count = 0; environ[count] != NULL; count++)
		;
	if ((env = calloc(count + 11, sizeof(*env))) == NULL)
		return (NULL);
	for (i = 0; i < count; i++) {
		if (strncmp(environ[i], "LATTICED_ALERT_", 15) == 0)
			continue;
		if ((env[n] = strdup(environ[i])) == NULL)
			goto fail;
		n++;
	}
	snprintf(id, sizeof(id), "%" PRId64, a->alert_id);
	sink_rfc3339(a->fired_ms, fired, sizeof(fired));
	if (a->resolved_ms != 0)
		sink_rfc3339(a->resolved_ms, resolved, sizeof(resolved));
	else
		resolved[0] = '\0';
	if (env_add(env, &n, "ID", id) == -1 ||
	    env_add(env, &n, "LATTICE", a->lattice) == -1 ||
	    env_add(env, &n, "KIND", a->kind) == -1 ||
	    env_add(env, &n, "SEVERITY", a->severity) == -1 ||
	    env_add(env, &n, "ENTITY", a->entity) == -1 ||
	    env_add(env, &n, "HOST_ID", a->host_id) == -1 ||
	    env_add(env, &n, "SUMMARY", a->summary) == -1 ||
	    env_add(env, &n, "STATE", sink_state(a)) == -1 ||
	    env_add(env, &n, "FIRED_AT", fired) == -1 ||
	    env_add(env, &n, "RESOLVED_AT", resolved) == -1)
		goto fail;
	return (env);
fail:
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
	return (NULL);
}

/* Free what build_env() made. */
static void
env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Make fd non-blocking. */
static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	return (fcntl(fd, F_SETFL, fl | O_NONBLOCK));
}

/* Drain captured output, keeping the first bytes only. */
static int
drain_output(struct delivery *d)
{
	char buf[4096];
	ssize_t n;
	size_t room;

	for (;;) {
		n = read(d->out_fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (0);
		if (n <= 0)
			return (-1);	/* EOF or error: stop watching */
		room = sizeof(d->captured) - 1 - d->caplen;
		if ((size_t)n < room)
			room = (size_t)n;
		memcpy(d->captured + d->caplen, buf, room);
		d->caplen += room;
		d->captured[d->caplen] = '\0';
	}
}

/* Read the program's output as it comes. */
static void
output_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;

	(void)fd;
	(void)what;
	if (drain_output(d) == -1) {
		event_free(d->ev_out);
		d->ev_out = NULL;
		close(d->out_fd);
		d->out_fd = -1;
	}
}

/* Close the program's stdin (EOF for it). */
static void
close_input(struct delivery *d)
{
	if (d->ev_in != NULL) {
		event_free(d->ev_in);
		d->ev_in = NULL;
	}
	if (d->in_fd != -1) {
		close(d->in_fd);
		d->in_fd = -1;
	}
}

/* Feed the alert JSON to the program's stdin. */
static void
input_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	ssize_t n;

	(void)what;
	while (d->inoff < d->inlen) {
		n = send(fd, d->input + d->inoff, d->inlen - d->inoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EV_PERSIST: called again */
		if (n == -1) {
			/* It stopped reading (EPIPE): its exit decides. */
			break;
		}
		d->inoff += (size_t)n;
	}
	close_input(d);
}

/* Make the one-line error text from the captured output. */
static const char *
captured_line(struct delivery *d)
{
	char *nl;

	while (d->caplen > 0 && (d->captured[d->caplen - 1] == '\n' ||
	    d->captured[d->caplen - 1] == '\r'))
		d->captured[--d->caplen] = '\0';
	for (nl = d->captured; *nl != '\0'; nl++)
		if (*nl == '\n' || *nl == '\r' || *nl == '\t')
			*nl = ' ';
	return (d->captured);
}

/* Reap the child if it is gone; finish the delivery then. */
static int
try_reap(struct delivery *d)
{
	const char *out;
	pid_t r;
	int status;

	do
		r = waitpid(d->pid, &status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return (0);
	children_del(d->pid);
	d->pid = -1;
	d->sink->running--;
	if (r == -1) {
		delivery_finish(d, 0, "command: waitpid: %s", strerror(errno));
		return (1);
	}
	if (d->out_fd != -1)
		(void)drain_output(d);
	out = captured_line(d);
	if (d->term_sent)
		delivery_finish(d, 0, "command timed out after %" PRId64
		    " ms (killed by %s)", d->sink->timeout_ms,
		    d->kill_sent ? "SIGKILL" : "SIGTERM");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		delivery_finish(d, 1, NULL);
	else if (WIFEXITED(status))
		delivery_finish(d, 0, "command exited %d%s%s",
		    WEXITSTATUS(status), *out != '\0' ? ": " : "", out);
	else if (WIFSIGNALED(status))
		delivery_finish(d, 0, "command killed by signal %d%s%s",
		    WTERMSIG(status), *out != '\0' ? ": " : "", out);
	else
		delivery_finish(d, 0, "command ended with status %d", status);
	return (1);
}

/* The pidfd became readable, or the poll timer ticked. */
static void
exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;

	(void)fd;
	(void)what;
	(void)try_reap(d);
}

/* Signal the child's whole process group. */
static void
kill_group(struct delivery *d, int sig)
{
	if (d->pid > 0 && kill(-d->pid, sig) == -1)
		(void)kill(d->pid, sig);
}

/* The timeout passed: SIGTERM now, SIGKILL after the grace period. */
static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (d->pid <= 0)
		return;
	if (!d->term_sent) {
		d->term_sent = 1;
		close_input(d);
		kill_group(d, SIGTERM);
		tv = sink_tv(SINK_COMMAND_KILL_GRACE_MS);
		evtimer_add(d->ev_timeout, &tv);
	} else if (!d->kill_sent) {
		d->kill_sent = 1;
		kill_group(d, SIGKILL);
	}
}

/* Close every descriptor from lo up but keep (async-signal-safe). */
static void
close_from(int lo, int keep)
{
	int	fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)keep - 1, 0) ==
	    0 && syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
		return;
#endif
	for (fd = lo; fd < 65536; fd++)
		if (fd != keep)
			(void)close(fd);
}

/*
 * Start argv[0] with env: stdin from in, stdout to /dev/null, stderr to
 * errfd, its own process group, default signals, nothing else of ours,
 * and SIGKILL when latticed dies.  fork, not posix_spawn: only a child can
 * ask for PR_SET_PDEATHSIG.  Between fork and execve the child calls
 * async-signal-safe functions only (latticed has threads).  0 and *pid,
 * or an errno (the child's execve error too, through a close-on-exec
 * pipe).
 */
static int
spawn_child(char *const argv[], char *const env[], int in, int errfd,
    pid_t *pid)
{
	static const int	 defsig[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP,
	    SIGCHLD };
	pid_t			 parent = getpid(), p;
	sigset_t		 none;
	ssize_t			 n;
	size_t			 i;
	int			 ep[2], e = 0, nullfd;

	if (pipe2(ep, O_CLOEXEC) == -1)
		return errno;
	sigemptyset(&none);
	if ((p = fork()) == -1) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return e;
	}
	if (p == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);	/* latticed is gone already */
		(void)setpgid(0, 0);
		for (i = 0; i < sizeof(defsig) / sizeof(defsig[0]); i++)
			(void)signal(defsig[i], SIG_DFL);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if ((nullfd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(in, 0) == -1 || dup2(nullfd, 1) == -1 ||
		    dup2(errfd, 2) == -1)
			goto fail;
		close_from(3, ep[1]);
		execve(argv[0], argv, env);
fail:
		e = errno;
		(void)!write(ep[1], &e, sizeof(e));
		_exit(127);
	}
	/* both sides set the group: no window where it is ours */
	(void)setpgid(p, p);
	close(ep[1]);
	do
		n = read(ep[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(p, NULL, 0) == -1 && errno == EINTR)
			;
		return e != 0 ? e : EIO;
	}
	*pid = p;
	return 0;
}

/* Spawn the program for a. */
int
command_start(struct delivery *d, const struct alert_msg *a)
{
	struct sink *s = d->sink;
	struct timeval tv;
	char **env = NULL;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int rc;
	pid_t pid = -1;

	if (s->running >= SINK_COMMAND_MAX_RUNNING) {
		delivery_finish(d, 0, "command: %d already running",
		    s->running);
		return (0);
	}
	if ((d->input = sink_alert_json(a)) == NULL)
		goto nomem;
	d->inlen = strlen(d->input);
	if ((env = build_env(a)) == NULL)
		goto nomem;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == -1 ||
	    pipe2(out, O_CLOEXEC) == -1) {
		delivery_finish(d, 0, "command: %s", strerror(errno));
		goto out;
	}
	/* The child reads only; EOF on its stdin when we are done. */
	(void)shutdown(in[1], SHUT_RD);
	(void)shutdown(in[0], SHUT_WR);

	if ((rc = spawn_child(s->argv, env, in[0], out[1], &pid)) != 0)
		goto spawnfail;
	d->pid = pid;
	s->running++;
	children_add(pid);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	d->in_fd = in[1];
	d->out_fd = out[0];
	in[1] = out[0] = -1;
	if (set_nonblock(d->in_fd) == -1 || set_nonblock(d->out_fd) == -1)
		goto evfail;

	if ((d->pidfd = open_pidfd(pid)) != -1) {
		d->ev_exit = event_new(s->base, d->pidfd, EV_READ | EV_PERSIST,
		    exit_cb, d);
		if (d->ev_exit == NULL || event_add(d->ev_exit, NULL) == -1)
			goto evfail;
	} else {
		d->ev_exit = event_new(s->base, -1, EV_PERSIST, exit_cb, d);
		tv = sink_tv(POLL_MS);
		if (d->ev_exit == NULL || event_add(d->ev_exit, &tv) == -1)
			goto evfail;
	}
	d->ev_in = event_new(s->base, d->in_fd, EV_WRITE | EV_PERSIST,
	    input_cb, d);
	d->ev_out = event_new(s->base, d->out_fd, EV_READ | EV_PERSIST,
	    output_cb, d);
	d->ev_timeout = evtimer_new(s->base, timeout_cb, d);
	tv = sink_tv(s->timeout_ms);
	if (d->ev_in == NULL || d->ev_out == NULL || d->ev_timeout == NULL ||
	    event_add(d->ev_in, NULL) == -1 ||
	    event_add(d->ev_out, NULL) == -1 ||
	    evtimer_add(d->ev_timeout, &tv) == -1)
		goto evfail;
	goto out;

spawnfail:
	delivery_finish(d, 0, "command %s: %s", s->argv[0], strerror(rc));
	goto out;
evfail:
	/* The child runs but we cannot watch it: stop it now. */
	command_cancel(d);
	delivery_finish(d, 0, "command: cannot watch the child");
	goto out;
nomem:
	delivery_finish(d, 0, "command: out of memory");
out:
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	env_free(env);
	return (0);
}

/* Kill a running child and reap it (shutdown or watch failure only). */
void
command_cancel(struct delivery *d)
{
	if (d->pid <= 0)
		return;
	kill_group(d, SIGKILL);
	/* SIGKILL cannot be caught: this wait is short. */
	while (waitpid(d->pid, NULL, 0) == -1 && errno == EINTR)
		;
	children_del(d->pid);
	d->pid = -1;
	d->sink->running--;
}

/* Release the events and descriptors of a finished command. */
void
command_cleanup(struct delivery *d)
{
	close_input(d);
	if (d->ev_out != NULL) {
		event_free(d->ev_out);
		d->ev_out = NULL;
	}
	if (d->out_fd != -1) {
		close(d->out_fd);
		d->out_fd = -1;
	}
	if (d->ev_exit != NULL) {
		event_free(d->ev_exit);
		d->ev_exit = NULL;
	}
	if (d->pidfd != -1) {
		close(d->pidfd);
		d->pidfd = -1;
	}
	if (d->ev_timeout != NULL) {
		event_free(d->ev_timeout);
		d->ev_timeout = NULL;
	}
	/* Finished before the child was reaped (cancelled): stop it. */
	if (d->pid > 0)
		command_cancel(d);
}
