/* milter-listen.c - see milter-listen.h. */
#include "mailfruit-config.h"

#include "milter-listen.h"

#include "mf-log.h"

#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

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
		mf_log_error("milter_socket_owner: unknown user \"%s\"", name);
		return EX_NOUSER;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL && *colon != '\0') {
		if ((gr = getgrnam(colon)) == NULL) {
			mf_log_error("milter_socket_owner: unknown group \"%s\"", colon);
			return EX_NOUSER;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* libmilter removes whatever socket is at the path; refuse when a running
 * process (another milter, or this one started twice) still listens on
 * it, and leave files that are no sockets alone. */
static int check_unix_path(const char *path, const char *endpoint)
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
	return 0;
}

int milter_listen_open(const struct milter_config *conf)
{
	const char *path = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	mode_t old_umask = 0;
	int rc, opened;

	if (strncmp(conf->libmilter_conn, "unix:", 5) == 0) {
		path = conf->libmilter_conn + 5;
		if (*conf->socket_owner != '\0' &&
		    (rc = resolve_owner(conf->socket_owner, &uid, &gid)) != 0)
			return rc;
		if ((rc = check_unix_path(path, conf->listen)) != 0)
			return rc;
	}
	if (smfi_setconn(conf->libmilter_conn) != MI_SUCCESS) {
		mf_log_error("%s: libmilter does not take this endpoint", conf->listen);
		return EX_CONFIG;
	}
	/* No moment in which the socket is more open than asked for. */
	if (path != NULL)
		old_umask = umask(0777 & ~(mode_t)conf->socket_mode);
	opened = smfi_opensocket(true) == MI_SUCCESS;
	if (path != NULL)
		umask(old_umask);
	if (!opened) {
		/* libmilter said why in syslog; errno is often still right. */
		mf_log_error("%s: cannot listen: %m (see the syslog for libmilter's reason)",
			     conf->listen);
		return EX_UNAVAILABLE;
	}
	if (path != NULL &&
	    (chmod(path, (mode_t)conf->socket_mode) < 0 ||
	     (*conf->socket_owner != '\0' && chown(path, uid, gid) < 0))) {
		mf_log_error("%s: %m", conf->listen);
		return EX_CANTCREAT;
	}
	return 0;
}

int milter_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (*user == '\0') {
		mf_log_error("started as root, but milter_user is empty: refusing to run as root");
		return EX_CONFIG;
	}
	if ((pw = getpwnam(user)) == NULL) {
		mf_log_error("milter_user: unknown user \"%s\"", user);
		return EX_NOUSER;
	}
	if (pw->pw_uid == 0) {
		mf_log_error("milter_user \"%s\" is root: refusing to run as root", user);
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
