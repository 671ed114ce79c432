/*
 * milter-input.h - turning what libmilter hands the callbacks into the
 * engine's request, and the engine's answer into what libmilter takes.
 *
 * Contract: pure functions of their arguments (no globals, no logging);
 * callers on any thread. Output buffers are always NUL-terminated; a
 * result that does not fit is reported, never silently cut (a cut address
 * could match an exemption the whole one does not).
 */
#ifndef MILTER_INPUT_H
#define MILTER_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Enough for any IPv6 text, v4-mapped included. */
#define MILTER_ADDR_STRLEN 64
/* "TLSv1.3 cipher=... bits=..." for the optional header. */
#define MILTER_TLS_SUMMARY_MAX 256

/* The client address of xxfi_connect's hostaddr as text: "192.0.2.7",
 * "2001:db8::7", "::ffff:192.0.2.7". "" for NULL (the MTA did not know
 * it: SMFIA_UNKNOWN) and for families other than IPv4/IPv6. */
void milter_format_hostaddr(const struct sockaddr *sa, char buf[MILTER_ADDR_STRLEN]);

/* The envelope address of an xxfi_envfrom/xxfi_envrcpt argument, as the
 * engine wants it: "<user@example.org>" -> "user@example.org", "<>" -> ""
 * (the null sender), a source route "<@a,@b:user@d>" -> "user@d". A new
 * string, NULL when out of memory. */
char *milter_envelope_address(const char *arg);

/* text with every '%' doubled, for smfi_setreply(), which reads its text
 * as a format. false when out is too small. */
bool milter_escape_percent(const char *text, char *out, size_t outlen);

/* The value of the optional TLS header: "TLSv1.3 cipher=X bits=256", or
 * "none" for a plaintext session. Characters that are not printable
 * non-space ASCII are dropped, so a macro cannot fold or end the header. */
void milter_tls_summary(const char *version, const char *cipher, const char *bits,
			char out[MILTER_TLS_SUMMARY_MAX]);

#endif
