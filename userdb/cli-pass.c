/*
 * cli-pass.c - reading secrets: the terminal without echo, or a file
 * descriptor (cli.h). Never argv or the environment: both are visible to
 * other users (ps, /proc) and end up in shell history.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "mf-secmem.h"

#define SECRET_MAX 1024

/* The terminal whose echo is off, so a signal can turn it back on. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

static void restore_tty(void)
{
	if (tty_fd >= 0) {
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		(void)!write(tty_fd, "\n", 1);
	}
}

static void on_signal(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line, byte by byte: several secrets may come from the same fd, so
 * nothing past the newline may be consumed. */
static int read_line(int fd, char *buf, size_t *len_r)
{
	size_t len = 0;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cli_fail(EX_IOERR, "reading the secret: %s", strerror(errno));
		if (n == 0 || c == '\n')
			break;
		if (len == SECRET_MAX)
			return cli_fail(EX_DATAERR, "secret longer than %d bytes", SECRET_MAX);
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*len_r = len;
	return 0;
}

static int ask_tty(const char *prompt, char *buf, size_t *len_r)
{
	struct termios noecho;
	struct sigaction sa, old_int, old_term, old_hup;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), ret;

	if (fd < 0)
		return cli_fail(EX_USAGE, "no terminal to ask for the secret on: give it with "
				"--password-fd N (e.g. --password-fd 3 3<file)");
	if (tcgetattr(fd, &tty_saved) < 0) {
		close(fd);
		return cli_fail(EX_IOERR, "cannot read the terminal's settings: %s",
				strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	noecho = tty_saved;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	tty_fd = fd;
	/* Echo off before the prompt: what is typed as soon as the prompt shows
	 * (a quick typist, a program answering it) must be neither echoed nor
	 * discarded by the flush. */
	if (tcsetattr(fd, TCSAFLUSH, &noecho) < 0) {
		ret = cli_fail(EX_IOERR, "cannot turn off echo: %s", strerror(errno));
	} else {
		(void)!write(fd, prompt, strlen(prompt));
		ret = read_line(fd, buf, len_r);
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
	}
	tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	close(fd);
	return ret;
}

int cli_secret(int fd, const char *prompt, bool confirm, bool allow_empty, char **secret_r,
	       size_t *len_r)
{
	char *buf = mf_secmem_alloc(SECRET_MAX + 1), *again = NULL;
	size_t len = 0, len2 = 0;
	int ret;

	*secret_r = NULL;
	if (buf == NULL)
		return cli_fail(EX_OSERR, "out of locked memory");
	ret = fd >= 0 ? read_line(fd, buf, &len) : ask_tty(prompt, buf, &len);
	if (ret == 0 && len == 0 && !allow_empty)
		ret = cli_fail(EX_DATAERR, "empty secret");
	if (ret == 0 && memchr(buf, '\0', len) != NULL)
		ret = cli_fail(EX_DATAERR, "the secret contains a NUL byte");
	if (ret == 0 && confirm && fd < 0 && len > 0) {
		again = mf_secmem_alloc(SECRET_MAX + 1);
		if (again == NULL)
			ret = cli_fail(EX_OSERR, "out of locked memory");
		else
			ret = ask_tty("Again: ", again, &len2);
		if (ret == 0 && (len2 != len || memcmp(again, buf, len) != 0))
			ret = cli_fail(EX_DATAERR, "the two entries differ");
		mf_secmem_free(again);
	}
	if (ret != 0) {
		mf_secmem_free(buf);
		return ret;
	}
	*secret_r = buf;
	*len_r = len;
	return 0;
}

int cli_new_password(int fd, const char *who, char **secret_r, size_t *len_r)
{
	char prompt[UDB_ADDRESS_MAX + 32];
	int ret;

	snprintf(prompt, sizeof(prompt), "New password for %s: ", who);
	ret = cli_secret(fd, prompt, true, false, secret_r, len_r);
	if (ret == 0 && *len_r < 8) {
		mf_secmem_free(*secret_r);
		*secret_r = NULL;
		ret = cli_fail(EX_DATAERR, "the password must have at least 8 characters");
	}
	return ret;
}
