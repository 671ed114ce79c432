/* milter-supervisor.c - see milter-supervisor.h. */
#include "mailfruit-config.h"

#include "milter-supervisor.h"

#include "mf-log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

static void ignore_signal(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* The supervisor's copy of the listening socket would keep accepting
 * connections into its backlog, unanswered, after the server died. The
 * socket was made inside libmilter, so it is found by what it is. */
static void close_listening_sockets(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *ent;
	int listening, own;
	socklen_t len;

	if (dir == NULL)
		return;
	own = dirfd(dir);
	while ((ent = readdir(dir)) != NULL) {
		int fd = atoi(ent->d_name);

		len = sizeof(listening);
		listening = 0;
		if (fd > STDERR_FILENO && fd != own &&
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
			close(fd);
	}
	closedir(dir);
}

static void run_child(int reload_fd, milter_serve_fn *serve, void *arg)
{
	sigset_t set;

	ignore_signal(SIGHUP);
	ignore_signal(SIGPIPE);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	exit(serve(reload_fd, arg));
}

/* -1 while the child runs (WNOHANG), else the supervisor's exit status. */
static int reap(pid_t child, int options)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(child, &status, options)) < 0 && errno == EINTR) {
	}
	if (pid == 0)
		return -1;
	if (pid < 0) {
		mf_log_error("waitpid: %m");
		return EX_OSERR;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	mf_log_error("server process %ld was killed by signal %d (%s)%s; exiting with status %d "
		     "so that the service manager restarts the filter", (long)pid,
		     WTERMSIG(status), strsignal(WTERMSIG(status)),
		     WCOREDUMP(status) ? ", core dumped" : "", EX_SOFTWARE);
	return EX_SOFTWARE;
}

static int supervise(pid_t child, int reload_fd, const sigset_t *set)
{
	siginfo_t info;
	char b = 'H';
	int sig, rc;

	for (;;) {
		if ((sig = sigwaitinfo(set, &info)) < 0) {
			if (errno == EINTR)
				continue;
			mf_log_error("sigwaitinfo: %m; stopping the server");
			kill(child, SIGTERM);
			return reap(child, 0);
		}
		switch (sig) {
		case SIGHUP:
			/* EAGAIN: the pipe is full, so the server has a
			 * reload still to do, which reads the file after
			 * this signal. EPIPE: it is ending (SIGCHLD next). */
			if (write(reload_fd, &b, 1) < 0 && errno != EAGAIN && errno != EPIPE)
				mf_log_warning("cannot pass SIGHUP on to the server: %m");
			break;
		case SIGTERM:
		case SIGINT:
			kill(child, sig);
			break;
		case SIGCHLD:
			if ((rc = reap(child, WNOHANG)) >= 0)
				return rc;
			break;
		}
	}
}

int milter_supervise(milter_serve_fn *serve, void *arg)
{
	sigset_t set, old;
	int fds[2], rc;
	pid_t child;

	/* Blocked before the fork: a signal that comes before the
	 * supervisor waits for it is pending, not lost or fatal. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		mf_log_error("pipe: %m");
		sigprocmask(SIG_SETMASK, &old, NULL);
		return EX_OSERR;
	}
	if ((child = fork()) < 0) {
		mf_log_error("fork: %m");
		close(fds[0]);
		close(fds[1]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return EX_OSERR;
	}
	if (child == 0) {
		close(fds[1]);
		run_child(fds[0], serve, arg);
	}
	close(fds[0]);
	close_listening_sockets();
	ignore_signal(SIGPIPE);
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		mf_log_warning("pipe: O_NONBLOCK: %m");
	rc = supervise(child, fds[1], &set);
	close(fds[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
