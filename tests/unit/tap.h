/*
 * tap.h - a minimal TAP producer for mailfruit's C unit tests.
 *
 * Contract: each check prints one "ok N - name" or "not ok N - name" line on
 * stdout (automake's tap-driver.sh counts them); diagnostics go to stdout as
 * "# ..." lines. tap_done() prints the plan "1..N" and returns 0 for main():
 * failed checks are reported by their "not ok" lines, so a non-zero exit
 * status stays reserved for crashes and sanitizer reports (tap-driver.sh
 * counts those as an ERROR of their own).
 */
#ifndef MF_TAP_H
#define MF_TAP_H

#include <stdbool.h>
#include <stddef.h>

bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool tap_is_int(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* NULL compares equal only to NULL. */
bool tap_is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* true when the string `needle` occurs in `haystack` (NULL never matches). */
bool tap_contains(const char *haystack, const char *needle, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

#endif
