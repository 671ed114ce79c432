/* policy-server.c - see policy-server.h. */
#include "mailfruit-config.h"

#include "policy-server.h"

#include "mf-daemon.h"
#include "mf-log.h"
#include "policy-conn.h"
#include "policy-listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#define MAX_EVENTS 256
/* Connections accepted per listener wake-up, so one busy listener cannot
 * starve the clients already connected. */
#define ACCEPT_BATCH 64

enum source_type { SRC_LISTENER, SRC_SIGNAL, SRC_CONN };

/* What epoll_event.data.ptr points to: the type comes first. */
struct source {
	enum source_type type;
};

struct listener_src {
	struct source src;
	struct policy_listener l;
	bool armed;		/* in the epoll set */
};

struct conn {
	struct source src;
	struct policy_conn pc;
	struct conn *prev, *next;
	uint32_t events;	/* current epoll interest */
};

struct server {
	const char *config_path;
	struct policyd_config *conf;
	int epfd;
	struct source signal_src;
	int sigfd;
	struct listener_src listeners[POLICY_LISTEN_MAX];
	size_t n_listeners;
	struct conn *conns;
	unsigned long n_conns;
	unsigned long next_id;
	int64_t last_sweep, last_limit_warning;	/* policy_now_ms() */
	bool listeners_paused, stop;
	char *scratch;
};

static int ep_ctl(struct server *s, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	return epoll_ctl(s->epfd, op, fd, &ev);
}

static void conn_close(struct server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pc.fd_in, NULL);
	close(c->pc.fd_in);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	mf_log_debug("%s: closed after %lu requests", c->pc.name, c->pc.requests);
	policy_conn_free(&c->pc);
	free(c);
	s->n_conns--;
}

/* Reading and writing never happen together: a client gets more service
 * only after it has taken its replies. */
static bool conn_rearm(struct server *s, struct conn *c)
{
	uint32_t want = policy_conn_want_write(&c->pc) ? EPOLLOUT : EPOLLIN;

	if (want == c->events)
		return true;
	if (ep_ctl(s, EPOLL_CTL_MOD, c->pc.fd_in, want, c) < 0) {
		mf_log_warning("%s: epoll_ctl: %m; closing the connection", c->pc.name);
		return false;
	}
	c->events = want;
	return true;
}

static void conn_name(int fd, unsigned long id, char *name, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(name, len, "client #%lu [%s]:%u", id, addr, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(name, len, "client #%lu [%s]:%u", id, addr, ntohs(sin6->sin6_port));
	} else {
		struct ucred cred;
		socklen_t cl = sizeof(cred);

		/* Which smtpd process it is, for matching with mail.log. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			snprintf(name, len, "client #%lu unix:pid=%ld,uid=%lu", id, (long)cred.pid,
				 (unsigned long)cred.uid);
		else
			snprintf(name, len, "client #%lu unix", id);
	}
}

static void pause_listeners(struct server *s, bool pause)
{
	size_t i;

	for (i = 0; i < s->n_listeners; i++) {
		struct listener_src *ls = &s->listeners[i];

		if (pause && ls->armed)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, ls->l.fd, NULL);
		else if (!pause && !ls->armed)
			ep_ctl(s, EPOLL_CTL_ADD, ls->l.fd, EPOLLIN, ls);
		ls->armed = !pause;
	}
	s->listeners_paused = pause;
}

static void accept_some(struct server *s, struct listener_src *ls, int64_t now)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		char name[96];

		fd = accept4(ls->l.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Try again at the next sweep rather than spin
				 * on a listener that stays readable. */
				mf_log_warning("%s: accept: %m; pausing new connections",
					       ls->l.name);
				pause_listeners(s, true);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				   errno != ECONNABORTED) {
				mf_log_warning("%s: accept: %m", ls->l.name);
			}
			return;
		}
		if (s->n_conns >= s->conf->max_connections) {
			if (now - s->last_limit_warning >= 1000)
				mf_log_warning("%s: policyd_max_connections (%lu) reached; "
					       "refusing connections", ls->l.name,
					       s->conf->max_connections);
			s->last_limit_warning = now;
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			mf_log_warning("%s: out of memory for a connection", ls->l.name);
			close(fd);
			return;
		}
		conn_name(fd, ++s->next_id, name, sizeof(name));
		c->src.type = SRC_CONN;
		policy_conn_init(&c->pc, fd, fd, name, now);
		c->events = EPOLLIN;
		if (ep_ctl(s, EPOLL_CTL_ADD, fd, EPOLLIN, c) < 0) {
			mf_log_warning("%s: epoll_ctl: %m", name);
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		mf_log_debug("%s: connected via %s", name, ls->l.name);
	}
}

/* Reads and answers; the replies are written by flush_dirty() after the
 * whole batch of events. Returns c when it has replies to write. */
static struct conn *conn_event(struct server *s, struct conn *c, uint32_t events, int64_t now)
{
	enum policy_conn_status st;

	if (events & EPOLLOUT)
		return c;
	st = policy_conn_read(&c->pc, s->conf->policy, s->scratch, now);
	if (st != POLICY_CONN_OK) {
		conn_close(s, c);
		return NULL;
	}
	return policy_conn_want_write(&c->pc) ? c : NULL;
}

static void flush_dirty(struct server *s, struct conn **dirty, int n, int64_t now)
{
	int i;

	for (i = 0; i < n; i++) {
		if (policy_conn_flush(&dirty[i]->pc, now) != POLICY_CONN_OK ||
		    !conn_rearm(s, dirty[i]))
			conn_close(s, dirty[i]);
	}
}

static void reload(struct server *s)
{
	char err[1024];
	struct policyd_config *fresh;
	const char *what;

	if ((fresh = policyd_config_load(s->config_path, err, sizeof(err))) == NULL) {
		mf_log_warning("reload failed, keeping the previous configuration: %s", err);
		return;
	}
	if (policyd_config_needs_restart(s->conf, fresh, &what))
		mf_log_warning("reload: %s changed; that takes effect only after a restart", what);
	/* Single-threaded: no request is being decided right now, so the
	 * old engine object can go at once. */
	policyd_config_free(s->conf);
	s->conf = fresh;
	mf_log_info("reloaded %s: mode=%s, %lu open connections kept", s->config_path,
		    mf_tlspolicy_mode_name(mf_tlspolicy_mode(fresh->policy)), s->n_conns);
}

static void signal_event(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(s);
		} else {
			mf_log_info("terminating on signal %u", si.ssi_signo);
			s->stop = true;
		}
	}
}

static void sweep(struct server *s, int64_t now)
{
	struct conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (policy_conn_expired(&c->pc, now, s->conf->idle_timeout,
					s->conf->request_timeout))
			conn_close(s, c);
	}
	if (s->listeners_paused)
		pause_listeners(s, false);
	s->last_sweep = now;
}

static int setup(struct server *s, const char *listen_override)
{
	char **endpoints, *override[2] = { (char *)listen_override, NULL };
	size_t i, n = 0;
	int rc;
	sigset_t mask;

	endpoints = listen_override != NULL ? override : s->conf->listen;
	if (endpoints[0] == NULL) {
		mf_log_error("standalone mode, but policyd_listen is empty");
		return EX_CONFIG;
	}
	for (i = 0; endpoints[i] != NULL; i++) {
		struct policy_listener ls[POLICY_LISTEN_MAX];
		size_t before = n, k;

		for (k = 0; k < n; k++)
			ls[k] = s->listeners[k].l;
		if ((rc = policy_listen_open(endpoints[i], s->conf->socket_owner,
					     s->conf->socket_mode, ls, &n)) != 0)
			return rc;
		for (k = before; k < n; k++) {
			s->listeners[k].src.type = SRC_LISTENER;
			s->listeners[k].l = ls[k];
			s->n_listeners++;
		}
	}
	policy_raise_fd_limit();
	if ((rc = mf_daemon_drop_privileges("policyd_user", s->conf->user, "serve")) != 0)
		return rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		mf_log_error("setting up the event loop: %m");
		return EX_OSERR;
	}
	s->signal_src.type = SRC_SIGNAL;
	if (ep_ctl(s, EPOLL_CTL_ADD, s->sigfd, EPOLLIN, &s->signal_src) < 0) {
		mf_log_error("epoll_ctl: %m");
		return EX_OSERR;
	}
	pause_listeners(s, false);
	if ((s->scratch = malloc(POLICY_SCRATCH_SIZE)) == NULL) {
		mf_log_error("out of memory");
		return EX_OSERR;
	}
	return 0;
}

static void teardown(struct server *s)
{
	size_t i;

	while (s->conns != NULL)
		conn_close(s, s->conns);
	for (i = 0; i < s->n_listeners; i++)
		policy_listen_close(&s->listeners[i].l);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->scratch);
	policyd_config_free(s->conf);
}

int policy_server_run(const char *config_path, struct policyd_config *conf,
		      const char *listen_override)
{
	struct server s;
	struct epoll_event events[MAX_EVENTS];
	struct conn *dirty[MAX_EVENTS];
	int rc, n, i, n_dirty, timeout;
	int64_t now;

	memset(&s, 0, sizeof(s));
	s.config_path = config_path;
	s.conf = conf;
	s.epfd = s.sigfd = -1;
	if ((rc = setup(&s, listen_override)) != 0) {
		teardown(&s);
		return rc;
	}
	for (i = 0; i < (int)s.n_listeners; i++)
		mf_log_info("listening on %s", s.listeners[i].l.name);
	mf_log_info("started: mode=%s, config %s",
		    mf_tlspolicy_mode_name(mf_tlspolicy_mode(s.conf->policy)), config_path);
	s.last_sweep = policy_now_ms();
	while (!s.stop) {
		/* Timeouts have one-second resolution: a sweep per second
		 * costs nothing next to a per-connection timer. */
		timeout = s.n_conns > 0 || s.listeners_paused ? 1000 : -1;
		n = epoll_wait(s.epfd, events, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			mf_log_error("epoll_wait: %m");
			teardown(&s);
			return EX_OSERR;
		}
		now = policy_now_ms();
		n_dirty = 0;
		for (i = 0; i < n; i++) {
			struct source *src = events[i].data.ptr;

			switch (src->type) {
			case SRC_LISTENER:
				accept_some(&s, (struct listener_src *)src, now);
				break;
			case SRC_SIGNAL:
				signal_event(&s);
				break;
			case SRC_CONN:
				if (conn_event(&s, (struct conn *)src, events[i].events, now))
					dirty[n_dirty++] = (struct conn *)src;
				break;
			}
		}
		flush_dirty(&s, dirty, n_dirty, now);
		if (now - s.last_sweep >= 1000)
			sweep(&s, now);
	}
	teardown(&s);
	mf_log_info("stopped");
	return 0;
}
