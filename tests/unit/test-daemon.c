/* test-daemon.c - unit tests for common/mf-daemon. The privilege drop is
 * tried in child processes, so that this process stays root for the
 * checks after it. */
#include "mailfruit-config.h"

#include "mf-daemon.h"
#include "mf-log.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];
static char last_line[MF_LOG_TEXT_MAX + 256];
static unsigned int lines;

static void capture_sink(int priority, const char *line, void *ctx)
{
	(void)priority;
	(void)ctx;
	lines++;
	snprintf(last_line, sizeof(last_line), "%s", line);
}

static void forget_log(void)
{
	lines = 0;
	last_line[0] = '\0';
}

/* tmpdir/name in buf (PATH_MAX + 64 bytes). */
static char *tmp_path(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX + 64, "%s/%s", tmpdir, name);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A unix socket bound at path; listening if listening, else closed at once
 * (the file stays: a stale socket, as a crash leaves it). -1 on error. */
static int make_socket(const char *path, bool listening)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (listening && listen(fd, 4) < 0)) {
		close(fd);
		return -1;
	}
	if (!listening) {
		close(fd);
		return 0;
	}
	return fd;
}

/* Runs fn in a child; its exit status, or -1 when it did not exit. */
static int run_child(int (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_resolve_owner(void)
{
	struct passwd *pw = getpwnam("nobody");
	uid_t uid = 1, nobody_uid;
	gid_t gid = 1, nobody_gid;

	if (!tap_ok(pw != NULL, "the system has a user nobody"))
		return;
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;

	forget_log();
	tap_is_int(mf_daemon_resolve_owner("x_owner", "nobody", &uid, &gid), 0, "user alone");
	tap_ok(uid == nobody_uid && gid == nobody_gid, "user alone: its uid and primary group");
	tap_is_int(lines, 0, "success logs nothing");

	uid = gid = 1;
	tap_is_int(mf_daemon_resolve_owner("x_owner", "nobody:root", &uid, &gid), 0,
		   "user:group");
	tap_ok(uid == nobody_uid && gid == 0, "user:group: the user's uid, the group's gid");

	uid = gid = 1;
	tap_is_int(mf_daemon_resolve_owner("x_owner", "nobody:", &uid, &gid), 0,
		   "user: with an empty group");
	tap_ok(uid == nobody_uid && gid == nobody_gid, "an empty group is the primary group");

	tap_is_int(mf_daemon_resolve_owner("milter_socket_owner", "mf-no-such-user:root", &uid,
					   &gid), EX_NOUSER, "unknown user: EX_NOUSER");
	tap_is_str(last_line, "test: error: milter_socket_owner: unknown user \"mf-no-such-user\"",
		   "unknown user: logged with the parameter's name");
	tap_is_int(mf_daemon_resolve_owner("policyd_socket_owner", "nobody:mf-no-such-group", &uid,
					   &gid), EX_NOUSER, "unknown group: EX_NOUSER");
	tap_is_str(last_line,
		   "test: error: policyd_socket_owner: unknown group \"mf-no-such-group\"",
		   "unknown group: logged with the parameter's name");
}

static void test_claim_socket_path(void)
{
	char path[PATH_MAX + 64], below[PATH_MAX + 64];
	FILE *fp;
	int fd;

	forget_log();
	tmp_path(path, "absent.sock");
	tap_is_int(mf_daemon_claim_socket_path(path, "unix:absent", true), 0,
		   "nothing at the path: free");
	tap_is_int(lines, 0, "nothing at the path: nothing logged");

	tmp_path(path, "plain-file");
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	tap_is_int(mf_daemon_claim_socket_path(path, "unix:plain", true), EX_CANTCREAT,
		   "a file that is no socket: EX_CANTCREAT");
	tap_is_str(last_line, "test: error: unix:plain: exists and is not a socket; not touching it",
		   "a file that is no socket: logged");
	tap_ok(exists(path), "a file that is no socket is left alone");

	tmp_path(below, "plain-file/x.sock");
	tap_is_int(mf_daemon_claim_socket_path(below, "unix:below", true), EX_CANTCREAT,
		   "a path that cannot be examined: EX_CANTCREAT");
	tap_is_str(last_line, "test: error: unix:below: Not a directory",
		   "a path that cannot be examined: logged with the reason");

	tmp_path(path, "live.sock");
	fd = make_socket(path, true);
	tap_ok(fd >= 0, "a listening socket to try");
	tap_is_int(mf_daemon_claim_socket_path(path, "unix:live", true), EX_UNAVAILABLE,
		   "a socket somebody listens on: EX_UNAVAILABLE");
	tap_is_str(last_line, "test: error: unix:live: another process is listening there",
		   "a socket somebody listens on: logged");
	tap_ok(exists(path), "a socket somebody listens on is left alone");
	if (fd >= 0)
		close(fd);

	tmp_path(path, "stale.sock");
	forget_log();
	tap_is_int(make_socket(path, false), 0, "a stale socket to try");
	tap_is_int(mf_daemon_claim_socket_path(path, "unix:stale", false), 0,
		   "a stale socket: free");
	tap_ok(exists(path), "a stale socket stays without remove_stale (libmilter removes it)");
	tap_is_int(mf_daemon_claim_socket_path(path, "unix:stale", true), 0,
		   "a stale socket with remove_stale: free");
	tap_ok(!exists(path), "a stale socket is removed with remove_stale");
	tap_is_int(lines, 0, "a stale socket: nothing logged");
}

/* As nobody, a stale socket in a directory of root's cannot be removed. */
static int unremovable_child(void)
{
	char path[PATH_MAX + 64];
	struct passwd *pw = getpwnam("nobody");

	tmp_path(path, "root-only/stale.sock");
	if (pw == NULL || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return 10;
	if (mf_daemon_claim_socket_path(path, "unix:rootdir", true) != EX_CANTCREAT)
		return 11;
	if (strcmp(last_line, "test: error: unix:rootdir: cannot remove the stale socket: "
		   "Permission denied") != 0)
		return 12;
	return 0;
}

static void test_claim_unremovable(void)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 64];

	if (geteuid() != 0) {
		tap_ok(true, "a stale socket that cannot be removed # SKIP not root");
		return;
	}
	tmp_path(dir, "root-only");
	tmp_path(path, "root-only/stale.sock");
	if (mkdir(dir, 0755) < 0 || make_socket(path, false) < 0 ||
	    chmod(tmpdir, 0755) < 0 || chmod(path, 0777) < 0) {
		tap_ok(false, "a stale socket that cannot be removed: setup: %s", strerror(errno));
		return;
	}
	tap_is_int(run_child(unremovable_child), 0,
		   "a stale socket that cannot be removed: EX_CANTCREAT, logged");
	unlink(path);
	rmdir(dir);
}

static int drop_child(void)
{
	struct passwd *pw = getpwnam("nobody");

	mf_log_set_verbose(1);
	if (pw == NULL)
		return 10;
	if (mf_daemon_drop_privileges("x_user", "nobody", "run") != 0)
		return 11;
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid ||
	    getegid() != pw->pw_gid)
		return 12;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 13;
	if (strstr(last_line, "running as user nobody (uid ") == NULL)
		return 14;
	/* Not root any more: nothing to do. */
	if (mf_daemon_drop_privileges("x_user", "", "run") != 0)
		return 15;
	return 0;
}

static void test_drop_privileges(void)
{
	if (geteuid() != 0) {
		tap_is_int(mf_daemon_drop_privileges("x_user", "", "run"), 0,
			   "not root: nothing to do");
		tap_ok(true, "refusals as root # SKIP not root");
		return;
	}
	forget_log();
	tap_is_int(mf_daemon_drop_privileges("milter_user", "", "run"), EX_CONFIG,
		   "root with an empty user: EX_CONFIG");
	tap_is_str(last_line, "test: error: started as root, but milter_user is empty: "
		   "refusing to run as root", "root with an empty user: logged in the caller's words");
	tap_is_int(mf_daemon_drop_privileges("policyd_user", "root", "serve"), EX_CONFIG,
		   "a user with uid 0: EX_CONFIG");
	tap_is_str(last_line, "test: error: policyd_user \"root\" is root: refusing to serve as root",
		   "a user with uid 0: logged in the caller's words");
	tap_is_int(mf_daemon_drop_privileges("policyd_user", "mf-no-such-user", "serve"),
		   EX_NOUSER, "unknown user: EX_NOUSER");
	tap_is_str(last_line, "test: error: policyd_user: unknown user \"mf-no-such-user\"",
		   "unknown user: logged");
	tap_ok(geteuid() == 0, "the refusals left this process root");
	tap_is_int(run_child(drop_child), 0,
		   "switch to nobody: uid and gid changed, root cannot be regained");
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	mf_log_init("test", MF_LOG_STDERR, LOG_MAIL);
	mf_log_set_sink(capture_sink, NULL);
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/mf-test-daemon.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		tap_ok(false, "mkdtemp %s: %s", tmpdir, strerror(errno));
		return tap_done();
	}
	test_resolve_owner();
	test_claim_socket_path();
	test_claim_unremovable();
	test_drop_privileges();

	{
		char path[PATH_MAX + 64];

		unlink(tmp_path(path, "plain-file"));
		unlink(tmp_path(path, "live.sock"));
		rmdir(tmpdir);
	}
	return tap_done();
}
