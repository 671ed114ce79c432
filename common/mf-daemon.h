/*
 * mf-daemon.h - what a mailfruit daemon does as root before it serves:
 * look up who is to own its unix socket, make sure the socket's path is
 * free, and give up root for good.
 *
 * Contract: each function logs its errors (mf-log.h) in the caller's words
 * (param, endpoint, verb are put into the messages as given) and returns a
 * sysexits.h code, 0 on success. Nothing here keeps state; the caller
 * does the bind/listen itself (mailfruit-policyd directly, the milter
 * through libmilter) and applies mode and owner to the path it made.
 */
#ifndef MF_DAEMON_H
#define MF_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

/* Resolves "user" or "user:group" for chown(): the user's uid and primary
 * group, or the named group. param (e.g. "milter_socket_owner") starts
 * the messages. EX_NOUSER for an unknown user or group. */
int mf_daemon_resolve_owner(const char *param, const char *owner, uid_t *uid, gid_t *gid);

/* Whether a unix socket may be created at path: 0 when nothing is there,
 * or when a socket is there that nobody listens on (left over from a
 * crash; removed first with remove_stale, else left to the caller).
 * EX_UNAVAILABLE when a process listens on it, EX_CANTCREAT when it is no
 * socket (never touched) or cannot be examined or removed, EX_OSERR when
 * no socket can be made to try. endpoint (e.g. "unix:/path") starts the
 * messages. */
int mf_daemon_claim_socket_path(const char *path, const char *endpoint, bool remove_stale);

/* When running as root: switches to user (with its supplementary groups)
 * and verifies that root cannot be regained; otherwise does nothing. An
 * empty user or one with uid 0 is refused (EX_CONFIG), since serving as
 * root is what the switch is for. param names the user parameter (e.g.
 * "milter_user") and verb what is refused ("refusing to VERB as root"). */
int mf_daemon_drop_privileges(const char *param, const char *user, const char *verb);

#endif
