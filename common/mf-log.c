/* mf-log.c - see mf-log.h. */
#include "mailfruit-config.h"

#include "mf-log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Set up once before threads start (see mf-log.h), read-only afterwards.
 * openlog() keeps a pointer to mf_log_progname, so it must stay static. */
static char mf_log_progname[MF_LOG_PROGNAME_MAX + 1] = "mailfruit";
static enum mf_log_dest mf_log_destination = MF_LOG_STDERR;
static void (*mf_log_sink)(int priority, const char *line, void *ctx);
static void *mf_log_sink_ctx;

/* The one setting that may change while threads log (e.g. on SIGHUP). */
static atomic_int mf_log_verbosity;

void mf_log_init(const char *progname, enum mf_log_dest dest, int syslog_facility)
{
	snprintf(mf_log_progname, sizeof(mf_log_progname), "%s",
		 progname != NULL ? progname : "mailfruit");
	mf_log_destination = dest;
	if (dest == MF_LOG_SYSLOG) {
		/* LOG_NDELAY: connect now, before a chroot or privilege drop
		 * can make /dev/log unreachable. */
		openlog(mf_log_progname, LOG_PID | LOG_NDELAY, syslog_facility);
	}
}

void mf_log_set_sink(void (*sink)(int priority, const char *line, void *ctx), void *ctx)
{
	mf_log_sink = sink;
	mf_log_sink_ctx = ctx;
}

void mf_log_set_verbose(int level)
{
	atomic_store(&mf_log_verbosity, level);
}

int mf_log_verbose(void)
{
	return atomic_load(&mf_log_verbosity);
}

/* Replaces control characters, so that e.g. a client-supplied "\r\nfake
 * line" cannot start what looks like a log line of its own. Bytes >= 0x80
 * stay: UTF-8 text remains readable. */
static void sanitize(char *text)
{
	unsigned char *p;

	for (p = (unsigned char *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
}

/* Writes all of buf with as few write(2) calls as the kernel allows: one,
 * for lines below PIPE_BUF, which is what keeps lines whole. */
static void write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void mf_log_vemit(int priority, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void mf_log_vemit(int priority, const char *prefix, const char *fmt, va_list ap)
{
	char text[MF_LOG_TEXT_MAX + 1];
	char line[MF_LOG_PROGNAME_MAX + 16 + MF_LOG_TEXT_MAX + 2];
	int saved_errno = errno;
	size_t cut;
	int len;

	len = vsnprintf(text, sizeof(text), fmt, ap);
	if (len < 0) {
		snprintf(text, sizeof(text), "(unformattable log message: %s)", fmt);
	} else if ((size_t)len > MF_LOG_TEXT_MAX) {
		/* Cut before any UTF-8 continuation bytes (10xxxxxx), so the
		 * line does not end in half a character. */
		cut = MF_LOG_TEXT_MAX - 3;
		while (cut > MF_LOG_TEXT_MAX - 6 && ((unsigned char)text[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(text + cut, "...", 4);
	}
	sanitize(text);

	len = snprintf(line, sizeof(line), "%s: %s%s", mf_log_progname, prefix, text);
	if (len < 0)
		len = 0;
	else if ((size_t)len >= sizeof(line) - 1)
		len = (int)sizeof(line) - 2;

	if (mf_log_sink != NULL) {
		mf_log_sink(priority, line, mf_log_sink_ctx);
	} else if (mf_log_destination == MF_LOG_SYSLOG) {
		syslog(priority, "%s%s", prefix, text);
	} else {
		line[len] = '\n';
		write_all(STDERR_FILENO, line, (size_t)len + 1);
	}
	errno = saved_errno;
}

void mf_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (mf_log_verbose() <= 0)
		return;
	va_start(ap, fmt);
	mf_log_vemit(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

void mf_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mf_log_vemit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void mf_log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mf_log_vemit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void mf_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mf_log_vemit(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

void mf_log_fatal(int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mf_log_vemit(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(exit_code);
}
