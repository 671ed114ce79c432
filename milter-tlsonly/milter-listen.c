/* milter-listen.c - see milter-listen.h. */
#include "mailfruit-config.h"

#include "milter-listen.h"

#include "mf-daemon.h"
#include "mf-log.h"

#include <libmilter/mfapi.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

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
		    (rc = mf_daemon_resolve_owner("milter_socket_owner", conf->socket_owner,
						  &uid, &gid)) != 0)
			return rc;
		/* libmilter removes whatever socket is at the path, so the
		 * check that no process listens there must come first. */
		if ((rc = mf_daemon_claim_socket_path(path, conf->listen, false)) != 0)
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
