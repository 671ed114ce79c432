/*
 * policy-listen.h - the listening sockets of the standalone daemon, made
 * while it is still root (the privilege drop after them is mf-daemon.h's).
 *
 * Contract: policy_listen_open() turns "unix:/path" (a stale socket file
 * is replaced, a live one or a non-socket is an error) or
 * "inet:host:port" ("inet:[::1]:10040" for IPv6) into non-blocking
 * listening sockets. Errors are logged; it returns a sysexits.h code, 0 on
 * success.
 */
#ifndef POLICY_LISTEN_H
#define POLICY_LISTEN_H

#include <stddef.h>

#define POLICY_LISTEN_MAX 16	/* sockets, over all endpoints */

struct policy_listener {
	int fd;
	char name[128];		/* the endpoint, for logs */
	char *unix_path;	/* to remove at exit; NULL for inet */
};

/* Appends the sockets for endpoint to ls[*count]. owner ("user" or
 * "user:group", "" = leave) and mode apply to unix sockets. */
int policy_listen_open(const char *endpoint, const char *owner, unsigned int mode,
		       struct policy_listener *ls, size_t *count);
/* Closes the socket and removes a unix socket file (if still allowed). */
void policy_listen_close(struct policy_listener *l);

/* Raises the soft open-file limit to the hard one (thousands of clients). */
void policy_raise_fd_limit(void);

#endif
