/*
 * pwhash-count.c - test-only LD_PRELOAD shim that counts password hashing.
 *
 * Loaded into every Dovecot process of a test (import_environment), it
 * wraps libsodium's and libargon2's password-hashing entry points, appends
 * "PID COMM FUNCTION" to the file named by $MF_PWHASH_LOG for each call,
 * and calls the real function. test-userdb-auth.py reads the file to prove
 * that a TREES login costs exactly one argon2 evaluation in all of
 * Dovecot's processes together (auth, auth-worker, imap), not just in the
 * driver. Built without sanitizers (it lives in Dovecot's processes).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(const char *fn)
{
	const char *path = getenv("MF_PWHASH_LOG");
	char comm[32] = "?", line[128];
	int fd, len;

	if (path == NULL)
		return;
	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = (int)read(fd, comm, sizeof(comm) - 1);
		comm[len > 0 ? len - 1 : 0] = '\0';
		close(fd);
	}
	len = snprintf(line, sizeof(line), "%d %s %s\n", (int)getpid(), comm, fn);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)len);
		close(fd);
	}
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int crypto_pwhash(unsigned char *out, unsigned long long outlen, const char *passwd,
		  unsigned long long passwdlen, const unsigned char *salt,
		  unsigned long long opslimit, size_t memlimit, int alg);
int crypto_pwhash_str_verify(const char *str, const char *passwd, unsigned long long passwdlen);
int crypto_pwhash_str_alg(char *out, const char *passwd, unsigned long long passwdlen,
			  unsigned long long opslimit, size_t memlimit, int alg);
int argon2_verify(const char *encoded, const void *pwd, size_t pwdlen, int type);

int crypto_pwhash(unsigned char *out, unsigned long long outlen, const char *passwd,
		  unsigned long long passwdlen, const unsigned char *salt,
		  unsigned long long opslimit, size_t memlimit, int alg)
{
	note("crypto_pwhash");
	return REAL(crypto_pwhash)(out, outlen, passwd, passwdlen, salt, opslimit, memlimit, alg);
}

int crypto_pwhash_str_verify(const char *str, const char *passwd, unsigned long long passwdlen)
{
	note("crypto_pwhash_str_verify");
	return REAL(crypto_pwhash_str_verify)(str, passwd, passwdlen);
}

int crypto_pwhash_str_alg(char *out, const char *passwd, unsigned long long passwdlen,
			  unsigned long long opslimit, size_t memlimit, int alg)
{
	note("crypto_pwhash_str_alg");
	return REAL(crypto_pwhash_str_alg)(out, passwd, passwdlen, opslimit, memlimit, alg);
}

int argon2_verify(const char *encoded, const void *pwd, size_t pwdlen, int type)
{
	note("argon2_verify");
	return REAL(argon2_verify)(encoded, pwd, pwdlen, type);
}
