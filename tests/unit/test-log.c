/* test-log.c - unit tests for common/mf-log. */
#include "mailfruit-config.h"

#include "mf-log.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

struct capture {
	unsigned int calls;
	int priority;
	char line[MF_LOG_TEXT_MAX + 256];
};

static void capture_sink(int priority, const char *line, void *ctx)
{
	struct capture *cap = ctx;

	cap->calls++;
	cap->priority = priority;
	snprintf(cap->line, sizeof(cap->line), "%s", line);
}

static void test_sink_levels(void)
{
	struct capture cap = { 0 };

	mf_log_init("test/prog", MF_LOG_STDERR, LOG_MAIL);
	mf_log_set_sink(capture_sink, &cap);

	mf_log_info("hello %d", 42);
	tap_is_str(cap.line, "test/prog: hello 42", "info line has no level prefix");
	tap_is_int(cap.priority, LOG_INFO, "info priority");

	mf_log_warning("disk %s", "full");
	tap_is_str(cap.line, "test/prog: warning: disk full", "warning prefix");
	tap_is_int(cap.priority, LOG_WARNING, "warning priority");

	mf_log_error("cannot %s", "open");
	tap_is_str(cap.line, "test/prog: error: cannot open", "error prefix");
	tap_is_int(cap.priority, LOG_ERR, "error priority");

	mf_log_set_verbose(0);
	tap_is_int(mf_log_verbose(), 0, "verbosity reads back 0");
	cap.calls = 0;
	mf_log_debug("hidden");
	tap_is_int(cap.calls, 0, "debug is silent at verbosity 0");
	mf_log_set_verbose(2);
	tap_is_int(mf_log_verbose(), 2, "verbosity reads back 2");
	mf_log_debug("shown %s", "now");
	tap_is_int(cap.calls, 1, "debug logs at verbosity 2");
	tap_is_str(cap.line, "test/prog: debug: shown now", "debug prefix");
	tap_is_int(cap.priority, LOG_DEBUG, "debug priority");
	mf_log_set_verbose(0);

	errno = ENOENT;
	mf_log_warning("open /x: %m");
	tap_is_str(cap.line, "test/prog: warning: open /x: No such file or directory",
		   "%%m expands errno");
	tap_is_int(errno, ENOENT, "errno is preserved");

	/* 70 characters; the first 64 are kept. */
	mf_log_init("0123456789012345678901234567890123456789012345678901234567890123456789",
		    MF_LOG_STDERR, LOG_MAIL);
	mf_log_info("x");
	tap_is_str(cap.line, "0123456789012345678901234567890123456789012345678901234567890123: x",
		   "program name is cut at %d bytes", MF_LOG_PROGNAME_MAX);
	mf_log_init(NULL, MF_LOG_STDERR, LOG_MAIL);
	mf_log_info("x");
	tap_is_str(cap.line, "mailfruit: x", "NULL program name gives \"mailfruit\"");

	mf_log_set_sink(NULL, NULL);
}

struct sanitize_case {
	const char *text;
	const char *want;
};

static const struct sanitize_case sanitize_cases[] = {
	{ "plain text", "plain text" },
	{ "line1\nline2", "line1?line2" },
	{ "evil\r\nmailfruit/policyd[1]: fake", "evil??mailfruit/policyd[1]: fake" },
	{ "tab\there", "tab?here" },
	{ "esc\x1b[31mred", "esc?[31mred" },
	{ "del\x7f", "del?" },
	{ "bell\a\b\f\v", "bell????" },
	{ "\x01\x1f", "??" },
	{ "utf-8 caf\xc3\xa9 stays", "utf-8 caf\xc3\xa9 stays" },
};

static void test_sanitize(void)
{
	struct capture cap = { 0 };
	char want[256];
	size_t i;

	mf_log_init("t", MF_LOG_STDERR, LOG_MAIL);
	mf_log_set_sink(capture_sink, &cap);
	for (i = 0; i < sizeof(sanitize_cases) / sizeof(sanitize_cases[0]); i++) {
		snprintf(want, sizeof(want), "t: warning: %s", sanitize_cases[i].want);
		mf_log_warning("%s", sanitize_cases[i].text);
		tap_is_str(cap.line, want, "control characters replaced, case %zu", i);
	}
	mf_log_set_sink(NULL, NULL);
}

static void test_truncation(void)
{
	struct capture cap = { 0 };
	char *text = malloc(5001);
	char *want = malloc(5100);
	size_t len;

	if (!tap_ok(text != NULL && want != NULL, "allocate truncation buffers"))
		goto out;
	mf_log_init("t", MF_LOG_STDERR, LOG_MAIL);
	mf_log_set_sink(capture_sink, &cap);

	memset(text, 'x', MF_LOG_TEXT_MAX);
	text[MF_LOG_TEXT_MAX] = '\0';
	mf_log_info("%s", text);
	tap_is_int((long long)strlen(cap.line), 3 + MF_LOG_TEXT_MAX,
		   "text of exactly %d bytes is kept whole", MF_LOG_TEXT_MAX);
	tap_ok(cap.line[strlen(cap.line) - 1] == 'x', "text at the limit has no \"...\"");

	memset(text, 'x', 5000);
	text[5000] = '\0';
	mf_log_info("%s", text);
	len = strlen(cap.line);
	tap_is_int((long long)len, 3 + MF_LOG_TEXT_MAX, "long text is cut to %d bytes",
		   MF_LOG_TEXT_MAX);
	tap_ok(len >= 3 && strcmp(cap.line + len - 3, "...") == 0, "cut text ends in \"...\"");

	text[MF_LOG_TEXT_MAX + 1] = '\0';
	mf_log_info("%s", text);
	tap_is_int((long long)strlen(cap.line), 3 + MF_LOG_TEXT_MAX,
		   "text one byte over the limit is cut");

	/* 2044 x, then two-byte characters: a cut at 2045 would split one. */
	memset(text, 'x', 2044);
	text[2044] = '\0';
	strcat(text, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	mf_log_info("%s", text);
	snprintf(want, 5100, "t: %.*s...", 2044, text);
	tap_is_str(cap.line, want, "cut does not split a UTF-8 character");
	mf_log_set_sink(NULL, NULL);
out:
	free(text);
	free(want);
}

/* An unlinked temp file under $TMPDIR (or /tmp); -1 on error. */
static int temp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/mf-test-log.XXXXXX", dir);
	if ((fd = mkstemp(path)) >= 0)
		unlink(path);
	return fd;
}

/* Runs fn with fd 2 redirected to a fresh temp file; returns its contents
 * (malloc'ed, NUL-terminated) or NULL. */
static char *capture_stderr(void (*fn)(void))
{
	char *buf = NULL;
	struct stat st;
	int fd, saved;
	ssize_t n;

	fflush(stderr);
	if ((fd = temp_fd()) < 0)
		return NULL;
	saved = dup(STDERR_FILENO);
	/* O_APPEND: threads sharing the fd must not overwrite each other. */
	fcntl(fd, F_SETFL, O_APPEND);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		n = pread(fd, buf, (size_t)st.st_size, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	return buf;
}

static void stderr_lines(void)
{
	mf_log_init("mailfruit/policyd", MF_LOG_STDERR, LOG_MAIL);
	mf_log_info("started");
	mf_log_warning("evil\nline");
	mf_log_error("bad");
	mf_log_debug("not shown");
}

static void test_stderr(void)
{
	char *out = capture_stderr(stderr_lines);

	tap_is_str(out,
		   "mailfruit/policyd: started\n"
		   "mailfruit/policyd: warning: evil?line\n"
		   "mailfruit/policyd: error: bad\n",
		   "stderr lines have program name, prefixes and newlines");
	free(out);
}

#define THREADS 8
#define THREAD_LINES 200

static void *thread_logger(void *arg)
{
	char pad[1001];
	int t = (int)(long)arg;
	int i;

	memset(pad, 'a' + t, 1000);
	pad[1000] = '\0';
	for (i = 0; i < THREAD_LINES; i++)
		mf_log_warning("thread %d line %d %s end", t, i, pad);
	return NULL;
}

static void threaded_lines(void)
{
	pthread_t tids[THREADS];
	long t;

	mf_log_init("mt", MF_LOG_STDERR, LOG_MAIL);
	for (t = 0; t < THREADS; t++)
		pthread_create(&tids[t], NULL, thread_logger, (void *)t);
	for (t = 0; t < THREADS; t++)
		pthread_join(tids[t], NULL);
}

/* Every line must be exactly what one call wrote: no interleaving. */
static void test_threads(void)
{
	char *out = capture_stderr(threaded_lines);
	unsigned int seen[THREADS] = { 0 };
	unsigned int bad = 0, lines = 0;
	char *line, *save = NULL;
	int t, i, off;
	size_t j;

	if (!tap_ok(out != NULL, "captured threaded output"))
		return;
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		off = 0;
		if (sscanf(line, "mt: warning: thread %d line %d %n", &t, &i, &off) != 2 || off == 0 ||
		    t < 0 || t >= THREADS || strlen(line + off) != 1004 ||
		    strcmp(line + off + 1000, " end") != 0) {
			bad++;
			continue;
		}
		for (j = 0; j < 1000; j++) {
			if (line[off + j] != 'a' + t)
				break;
		}
		if (j != 1000 || (unsigned int)i != seen[t]) {
			bad++;
			continue;
		}
		seen[t]++;
	}
	tap_is_int(lines, THREADS * THREAD_LINES, "threads wrote %d lines", THREADS * THREAD_LINES);
	tap_is_int(bad, 0, "no line from concurrent threads is mangled");
	free(out);
}

static void test_fatal(void)
{
	char buf[256];
	int fd, status;
	ssize_t n;
	pid_t pid;

	if (!tap_ok((fd = temp_fd()) >= 0, "create temp file for fatal test"))
		return;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(fd, STDERR_FILENO);
		mf_log_init("test/fatal", MF_LOG_STDERR, LOG_MAIL);
		mf_log_fatal(EX_CONFIG, "bad setting \"%s\"", "x\ny");
	}
	if (!tap_ok(pid > 0, "fork for fatal test")) {
		close(fd);
		return;
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status), "fatal exits normally");
	tap_is_int(WEXITSTATUS(status), EX_CONFIG, "fatal exits with the given code");
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	tap_is_str(buf, "test/fatal: fatal: bad setting \"x?y\"\n", "fatal message on stderr");
	close(fd);
}

int main(void)
{
	test_sink_levels();
	test_sanitize();
	test_truncation();
	test_stderr();
	test_threads();
	test_fatal();
	return tap_done();
}
