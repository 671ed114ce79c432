/* policy-listen.c - see policy-listen.h. */
#include "mailfruit-config.h"

#include "policy-listen.h"

#include "mf-log.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
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

/* Resolves "user" or "user:group" for chown(); 0 or a sysexits code. */
static int resolve_owner(const char *owner, uid_t *uid, gid_t *gid)
{
	char name[256];
	char *colon;
	struct passwd *pw;
	struct group *gr;

	snprintf(name, sizeof(name), "%s", owner);
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		mf_log_error("policyd_socket_owner: unknown user \"%s\"", name);
		return EX_NOUSER;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			mf_log_error("policyd_socket_owner: unknown group \"%s\"", colon);
			return EX_NOUSER;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* A socket file nobody listens on is left over from a crash: replace it.
 * One somebody listens on belongs to a running daemon: refuse. */
static int clear_stale(const char *path, const char *endpoint)
{
	struct stat st;
	struct sockaddr_un sun;
	int fd, alive;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		mf_log_error("%s: %m", endpoint);
		return EX_CANTCREAT;
	}
	if (!S_ISSOCK(st.st_mode)) {
		mf_log_error("%s: exists and is not a socket; not touching it", endpoint);
		return EX_CANTCREAT;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		mf_log_error("socket: %m");
		return EX_OSERR;
	}
	alive = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (alive) {
		mf_log_error("%s: another process is listening there", endpoint);
		return EX_UNAVAILABLE;
	}
	if (unlink(path) < 0) {
		mf_log_error("%s: cannot remove the stale socket: %m", endpoint);
		return EX_CANTCREAT;
	}
	return 0;
}

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
	if (*owner != '\0' && (rc = resolve_owner(owner, &uid, &gid)) != 0)
		return rc;
	if ((rc = clear_stale(path, endpoint)) != 0)
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

int policy_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (*user == '\0') {
		mf_log_error("started as root, but policyd_user is empty: refusing to serve as root");
		return EX_CONFIG;
	}
	if ((pw = getpwnam(user)) == NULL) {
		mf_log_error("policyd_user: unknown user \"%s\"", user);
		return EX_NOUSER;
	}
	if (pw->pw_uid == 0) {
		mf_log_error("policyd_user \"%s\" is root: refusing to serve as root", user);
		return EX_CONFIG;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		mf_log_error("cannot switch to user \"%s\": %m", user);
		return EX_NOPERM;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		mf_log_error("could regain root after switching to \"%s\"", user);
		return EX_SOFTWARE;
	}
	mf_log_debug("running as user %s (uid %lu)", user, (unsigned long)pw->pw_uid);
	return 0;
}
