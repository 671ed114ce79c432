/*
 * cli-home.c - removing a mailbox's home as root without following
 * symbolic links (contract in cli.h).
 *
 * The directories above a home (/var/vmail/DOMAIN) belong to the mail
 * user, so a compromised mail process can replace any of them by a
 * symlink while root deletes. Path-based removal (nftw, rm -r) would
 * follow it. Here every step is relative to a directory already open:
 * from "/" down with openat(O_NOFOLLOW | O_DIRECTORY), and the tree is
 * removed with unlinkat() on names inside an open directory, so a symlink
 * is at most removed itself, never followed. Other file systems (mount
 * points inside the home) are left alone.
 */
#include "mailfruit-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

#define HOME_DEPTH_MAX 64

static int open_dir_at(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Opens the parent directory of path, walking from "/" without following
 * a symlink; *last_r points to the last component. */
static int open_parent(const char *path, char *copy, size_t size, const char **last_r)
{
	char *p, *slash, *next;
	int fd, nfd;

	if (path[0] != '/' || strlen(path) >= size) {
		errno = EINVAL;
		return -1;
	}
	strcpy(copy, path);
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	slash = strrchr(copy, '/');
	*last_r = slash + 1;
	for (p = copy + 1; p < slash; p = next) {
		next = strchr(p, '/');
		*next++ = '\0';
		if (*p == '\0')
			continue;
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		nfd = open_dir_at(fd, p);
		close(fd);
		if (nfd < 0)
			return -1;
		fd = nfd;
	}
	if (**last_r == '\0' || strcmp(*last_r, ".") == 0 || strcmp(*last_r, "..") == 0) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Removes everything in the open directory dirfd (closed here). */
static int remove_contents(int dirfd, dev_t dev, int depth, const char *home)
{
	DIR *dir = fdopendir(dirfd);
	struct dirent *de;
	struct stat st;
	int ret = 0, sub;

	if (dir == NULL) {
		close(dirfd);
		return cli_fail(EX_IOERR, "%s: %s", home, strerror(errno));
	}
	while (ret == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = errno == ENOENT ? 0 : cli_fail(EX_IOERR, "%s: %s: %s", home,
							     de->d_name, strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
				ret = cli_fail(EX_IOERR, "cannot remove %s in %s: %s", de->d_name,
					       home, strerror(errno));
			continue;
		}
		if (st.st_dev != dev) {
			ret = cli_fail(EX_DATAERR, "not removing %s in %s: another file system",
				       de->d_name, home);
			continue;
		}
		if (depth >= HOME_DEPTH_MAX) {
			ret = cli_fail(EX_DATAERR, "%s is nested deeper than %d directories", home,
				       HOME_DEPTH_MAX);
			continue;
		}
		/* A directory swapped for a symlink since fstatat: ELOOP. */
		if ((sub = open_dir_at(dirfd, de->d_name)) < 0 ||
		    (ret = remove_contents(sub, dev, depth + 1, home)) != 0) {
			if (sub < 0)
				ret = cli_fail(EX_IOERR, "%s: %s: %s", home, de->d_name,
					       strerror(errno));
			continue;
		}
		if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
			ret = cli_fail(EX_IOERR, "cannot remove %s in %s: %s", de->d_name, home,
				       strerror(errno));
	}
	if (ret == 0 && errno != 0)
		ret = cli_fail(EX_IOERR, "reading %s: %s", home, strerror(errno));
	closedir(dir);
	return ret;
}

int cli_home_state(const char *home, bool *exists_r)
{
	struct stat st;

	/* Only whether something is there: following a link above it
	 * (/var/vmail -> /srv/vmail) is harmless here, unlike for removal. */
	*exists_r = lstat(home, &st) == 0;
	if (!*exists_r && errno != ENOENT && errno != ENOTDIR)
		return cli_fail(EX_IOERR, "%s: %s", home, strerror(errno));
	return 0;
}

int cli_home_remove(const char *home)
{
	char copy[UDB_HOME_MAX + 1];
	const char *last;
	struct stat st;
	int parent, dirfd, ret;

	parent = open_parent(home, copy, sizeof(copy), &last);
	if (parent < 0) {
		if (errno == ENOENT)
			return 0;
		return cli_fail(errno == ELOOP || errno == ENOTDIR ? EX_DATAERR : EX_IOERR,
				"not removing %s: %s%s", home, strerror(errno),
				errno == ELOOP || errno == ENOTDIR ?
				" (a symbolic link in the path?)" : "");
	}
	if (fstatat(parent, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = errno == ENOENT ? 0 : cli_fail(EX_IOERR, "%s: %s", home, strerror(errno));
		close(parent);
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(parent);
		return cli_fail(EX_DATAERR, "not removing %s: not a directory", home);
	}
	if ((dirfd = open_dir_at(parent, last)) < 0) {
		ret = cli_fail(EX_DATAERR, "not removing %s: %s", home, strerror(errno));
		close(parent);
		return ret;
	}
	ret = remove_contents(dirfd, st.st_dev, 0, home);
	if (ret == 0 && unlinkat(parent, last, AT_REMOVEDIR) < 0)
		ret = cli_fail(EX_IOERR, "cannot remove %s: %s", home, strerror(errno));
	close(parent);
	if (ret != 0)
		return cli_fail(ret, "%s was only partly removed", home);
	return 0;
}
