/* policy-listen.c - see policy-listen.h. */
#include "mailfruit-config.h"

#include "policy-listen.h"

#include "mf-daemon.h"
#include "mf-log.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

/* Postfix's smtpd processes (default_process_limit 100 per listener) each
 * keep one connection; leave room for bursts of reconnects. */
#define BACKLOG 1024

static int open_unix(const char *endpoint, const char *owner, unsigned int mode,
		     struct policy_listener *l)
{
	const char *path = endpoint + strlen("unix:");
	struct sockaddr_un sun;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	mode_t old_umask;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		mf_log_error("%s: path too long for a unix socket", endpoint);
		return EX_CONFIG;
	}
	if (*owner != '\0' &&
	    (rc = mf_daemon_resolve_owner("policyd_socket_owner", owner, &uid, &gid)) != 0)
		return rc;
	/* A stale socket file is removed here: bind() does not replace it. */
	if ((rc = mf_daemon_claim_socket_path(path, endpoint, true)) != 0)
		return rc;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		mf_log_error("socket: %m");
		return EX_OSERR;
	}
	/* No moment in which the socket is more open than asked for. */
	old_umask = umask(0777 & ~(mode_t)mode);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (rc < 0 || chmod(path, (mode_t)mode) < 0 ||
	    (*owner != '\0' && chown(path, uid, gid) < 0) || listen(fd, BACKLOG) < 0) {
		mf_log_error("%s: %m", endpoint);
		close(fd);
		return EX_CANTCREAT;
	}
	l->fd = fd;
	l->unix_path = strdup(path);
	return 0;
}

/* "inet:host:port", "inet:[v6]:port", "inet:port" (loopback). */
static int open_inet(const char *endpoint, struct policy_listener *ls, size_t *count)
{
	char host[256] = "127.0.0.1", port[32];
	const char *spec = endpoint + strlen("inet:"), *colon;
	struct addrinfo hints, *res, *ai;
	int fd, rc, one = 1;

	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');

		if (close_br == NULL || close_br[1] != ':' ||
		    (size_t)(close_br - spec - 1) >= sizeof(host)) {
			mf_log_error("%s: expected inet:[address]:port", endpoint);
			return EX_CONFIG;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close_br - spec - 1), spec + 1);
		colon = close_br + 1;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if ((size_t)(colon - spec) >= sizeof(host)) {
			mf_log_error("%s: host name too long", endpoint);
			return EX_CONFIG;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	}
	snprintf(port, sizeof(port), "%s", colon != NULL ? colon + 1 : spec);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		mf_log_error("%s: %s", endpoint, gai_strerror(rc));
		return EX_CONFIG;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (*count == POLICY_LISTEN_MAX) {
			mf_log_error("%s: more than %d listening sockets", endpoint,
				     POLICY_LISTEN_MAX);
			freeaddrinfo(res);
			return EX_CONFIG;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			mf_log_error("%s: socket: %m", endpoint);
			freeaddrinfo(res);
			return EX_OSERR;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
			mf_log_error("%s: %m", endpoint);
			close(fd);
			freeaddrinfo(res);
			return EX_UNAVAILABLE;
		}
		ls[*count].fd = fd;
		ls[*count].unix_path = NULL;
		snprintf(ls[*count].name, sizeof(ls[*count].name), "%s", endpoint);
		(*count)++;
	}
	freeaddrinfo(res);
	return 0;
}

int policy_listen_open(const char *endpoint, const char *owner, unsigned int mode,
		       struct policy_listener *ls, size_t *count)
{
	int rc;

	if (strncmp(endpoint, "inet:", 5) == 0)
		return open_inet(endpoint, ls, count);
	if (strncmp(endpoint, "unix:/", 6) != 0) {
		mf_log_error("%s: expected unix:/absolute/path or inet:host:port", endpoint);
		return EX_CONFIG;
	}
	if (*count == POLICY_LISTEN_MAX) {
		mf_log_error("%s: more than %d listening sockets", endpoint, POLICY_LISTEN_MAX);
		return EX_CONFIG;
	}
	if ((rc = open_unix(endpoint, owner, mode, &ls[*count])) != 0)
		return rc;
	snprintf(ls[*count].name, sizeof(ls[*count].name), "%s", endpoint);
	(*count)++;
	return 0;
}

void policy_listen_close(struct policy_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* After the privilege drop this fails when the directory is not
	 * ours; the next start replaces the stale socket then. */
	if (l->unix_path != NULL && unlink(l->unix_path) < 0 && errno != ENOENT)
		mf_log_debug("%s: not removed: %m", l->name);
	free(l->unix_path);
	l->unix_path = NULL;
}

void policy_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			mf_log_warning("cannot raise the open file limit: %m");
	}
}
