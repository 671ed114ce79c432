/* test-secmem.c - unit tests for common/mf-secmem. */
#include "mailfruit-config.h"

#include "mf-secmem.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit status of a child that caught SIGSEGV; a plain crash would be
 * reported by ASan (which installs its own handler) as an error. */
#define SEGV_EXIT 42

static void segv_exit(int sig)
{
	(void)sig;
	_exit(SEGV_EXIT);
}

/* Runs fn(arg) in a child that turns SIGSEGV into exit(SEGV_EXIT); returns
 * the child's exit status, or -1 when it ended some other way. */
static int run_child(void (*fn)(void *), void *arg)
{
	struct sigaction sa;
	struct rlimit nocore = { 0, 0 };
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		tap_diag("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = segv_exit;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		setrlimit(RLIMIT_CORE, &nocore);
		fn(arg);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (!WIFEXITED(status)) {
		tap_diag("child ended with status 0x%x", (unsigned int)status);
		return -1;
	}
	return WEXITSTATUS(status);
}

static void write_byte(void *arg)
{
	volatile unsigned char *p = arg;

	*p = 0x5a;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

static void test_alloc_free(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 32, 4095, 4096, 4097, 100000 };
	size_t i;
	unsigned char *p;

	tap_is_int(mf_secmem_init(), 0, "init succeeds");
	tap_is_int(mf_secmem_init(), 0, "init is idempotent");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = mf_secmem_alloc(sizes[i]);
		if (!tap_ok(p != NULL, "alloc(%zu) succeeds", sizes[i]))
			continue;
		tap_ok(all_zero(p, sizes[i]), "alloc(%zu) is zero-filled", sizes[i]);
		memset(p, 0xa5, sizes[i]);
		mf_secmem_free(p);
	}
	mf_secmem_free(NULL);
	tap_ok(true, "free(NULL) is a no-op");
}

static void test_strdup(void)
{
	static const char *const strs[] = { "", "s3cret", "pass word with spaces\tand tab" };
	size_t i;
	char *copy;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		copy = mf_secmem_strdup(strs[i]);
		tap_is_str(copy, strs[i], "strdup copies string %zu", i);
		tap_ok(copy != strs[i], "strdup returns a new buffer for string %zu", i);
		mf_secmem_free(copy);
	}
	tap_ok(mf_secmem_strdup(NULL) == NULL, "strdup(NULL) is NULL");
}

static void test_wipe(void)
{
	unsigned char buf[64];

	memset(buf, 0xff, sizeof(buf));
	mf_secmem_wipe(buf + 8, 32);
	tap_ok(all_zero(buf + 8, 32), "wipe zeroes the range");
	tap_ok(buf[7] == 0xff && buf[40] == 0xff, "wipe stays inside the range");
	mf_secmem_wipe(NULL, 10);
	mf_secmem_wipe(buf, 0);
	tap_ok(buf[0] == 0xff, "wipe(NULL) and wipe(len 0) are no-ops");
}

static void test_lock(void)
{
	unsigned char buf[128];

	memset(buf, 0x77, sizeof(buf));
	tap_is_int(mf_secmem_lock(buf, sizeof(buf)), 0, "lock a stack buffer");
	tap_ok(buf[0] == 0x77, "lock keeps the contents");
	tap_is_int(mf_secmem_unlock(buf, sizeof(buf)), 0, "unlock a stack buffer");
	tap_ok(all_zero(buf, sizeof(buf)), "unlock wipes the buffer");
	errno = 0;
	tap_ok(mf_secmem_lock(NULL, 1) == -1 && errno == EINVAL, "lock(NULL) fails with EINVAL");
	errno = 0;
	tap_ok(mf_secmem_unlock(NULL, 1) == -1 && errno == EINVAL,
	       "unlock(NULL) fails with EINVAL");
}

/* Child: with RLIMIT_MEMLOCK at 0, alloc must still work; lock must either
 * fail with errno set or succeed (root has CAP_IPC_LOCK). Exit codes tell
 * the parent which check failed. */
static void memlock_child(void *arg)
{
	struct rlimit zero = { 0, 0 };
	unsigned char buf[4096];
	char *p;
	int rc;

	(void)arg;
	if (setrlimit(RLIMIT_MEMLOCK, &zero) < 0)
		_exit(10);
	if ((p = mf_secmem_strdup("key")) == NULL || strcmp(p, "key") != 0)
		_exit(11);
	mf_secmem_free(p);
	errno = 0;
	rc = mf_secmem_lock(buf, sizeof(buf));
	if (rc == -1 && errno != ENOMEM && errno != EPERM)
		_exit(12);
	if (rc != 0 && rc != -1)
		_exit(13);
	if (rc == 0)
		mf_secmem_unlock(buf, sizeof(buf));
	_exit(0);
}

static void test_memlock_limit(void)
{
	tap_is_int(run_child(memlock_child, NULL), 0,
		   "under RLIMIT_MEMLOCK 0: alloc succeeds, lock fails cleanly or succeeds");
}

static void test_protect(void)
{
	unsigned char *p;

	if (!tap_ok((p = mf_secmem_alloc(64)) != NULL, "alloc 64 bytes for protection tests"))
		return;
	p[0] = 1;
	tap_is_int(mf_secmem_readonly(p), 0, "readonly succeeds");
	tap_is_int(p[0], 1, "read-only memory stays readable");
	tap_is_int(run_child(write_byte, p), SEGV_EXIT, "write to read-only memory faults");
	tap_is_int(mf_secmem_readwrite(p), 0, "readwrite succeeds");
	p[0] = 2;
	tap_is_int(p[0], 2, "memory is writable again");
	tap_is_int(run_child(write_byte, p + 63), 0, "write to the last byte works");
	tap_is_int(run_child(write_byte, p + 64), SEGV_EXIT,
		   "write one byte past the end hits the guard page");
	tap_is_int(mf_secmem_readonly(p), 0, "readonly again before free");
	mf_secmem_free(p);
	tap_ok(true, "free of read-only memory works");
	errno = 0;
	tap_ok(mf_secmem_readonly(NULL) == -1 && errno == EINVAL, "readonly(NULL) fails");
	errno = 0;
	tap_ok(mf_secmem_readwrite(NULL) == -1 && errno == EINVAL, "readwrite(NULL) fails");
}

int main(void)
{
	test_alloc_free();
	test_strdup();
	test_wipe();
	test_lock();
	test_memlock_limit();
	test_protect();
	return tap_done();
}
