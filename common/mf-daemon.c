/* mf-daemon.c - see mf-daemon.h. */
#include "mailfruit-config.h"

#include "mf-daemon.h"

#include "mf-log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

int mf_daemon_resolve_owner(const char *param, const char *owner, uid_t *uid, gid_t *gid)
{
	char name[256];
	char *colon;
	struct passwd *pw;
	struct group *gr;

	snprintf(name, sizeof(name), "%s", owner);
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		mf_log_error("%s: unknown user \"%s\"", param, name);
		return EX_NOUSER;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			mf_log_error("%s: unknown group \"%s\"", param, colon);
			return EX_NOUSER;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* Binding over an existing file fails, and both daemons (libmilter on the
 * milter's behalf) remove what is there first: a socket nobody listens on
 * is left over from a crash, but one somebody listens on belongs to a
 * running daemon (another one, or this one started twice), and a file
 * that is no socket is not ours to remove. Asking by connecting is the
 * only way to tell a live socket from a stale one. */
int mf_daemon_claim_socket_path(const char *path, const char *endpoint, bool remove_stale)
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
	if (remove_stale && unlink(path) < 0) {
		mf_log_error("%s: cannot remove the stale socket: %m", endpoint);
		return EX_CANTCREAT;
	}
	return 0;
}

int mf_daemon_drop_privileges(const char *param, const char *user, const char *verb)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (*user == '\0') {
		mf_log_error("started as root, but %s is empty: refusing to %s as root", param,
			     verb);
		return EX_CONFIG;
	}
	if ((pw = getpwnam(user)) == NULL) {
		mf_log_error("%s: unknown user \"%s\"", param, user);
		return EX_NOUSER;
	}
	if (pw->pw_uid == 0) {
		mf_log_error("%s \"%s\" is root: refusing to %s as root", param, user, verb);
		return EX_CONFIG;
	}
	/* Groups first: after setuid() there is no right left to change them. */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		mf_log_error("cannot switch to user \"%s\": %m", user);
		return EX_NOPERM;
	}
	/* A saved set-user-ID of 0 would let an exploit switch back. */
	if (setuid(0) == 0 || geteuid() == 0) {
		mf_log_error("could regain root after switching to \"%s\"", user);
		return EX_SOFTWARE;
	}
	mf_log_debug("running as user %s (uid %lu)", user, (unsigned long)pw->pw_uid);
	return 0;
}
