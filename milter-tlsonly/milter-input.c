/* milter-input.c - see milter-input.h. */
#include "mailfruit-config.h"

#include "milter-input.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void milter_format_hostaddr(const struct sockaddr *sa, char buf[MILTER_ADDR_STRLEN])
{
	const void *addr = NULL;

	buf[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (addr == NULL || inet_ntop(sa->sa_family, addr, buf, MILTER_ADDR_STRLEN) == NULL)
		buf[0] = '\0';
}

char *milter_envelope_address(const char *arg)
{
	size_t len;
	const char *colon;

	if (arg == NULL)
		arg = "";
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		arg++;
		len -= 2;
	}
	/* RFC 5321 source route: "@a,@b:" before the mailbox; ignored. */
	if (len > 0 && arg[0] == '@' && (colon = memchr(arg, ':', len)) != NULL) {
		len -= (size_t)(colon + 1 - arg);
		arg = colon + 1;
	}
	return strndup(arg, len);
}

bool milter_escape_percent(const char *text, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return false;
	for (; *text != '\0'; text++) {
		size_t need = *text == '%' ? 2 : 1;

		if (o + need >= outlen) {
			out[0] = '\0';
			return false;
		}
		out[o++] = *text;
		if (*text == '%')
			out[o++] = '%';
	}
	out[o] = '\0';
	return true;
}

/* Appends the printable, non-space ASCII characters of s, at most max. */
static void append_clean(char *out, size_t *o, size_t outlen, const char *s, size_t max)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n < max && *o + 1 < outlen; s++) {
		if (*s > ' ' && *s < 0x7f) {
			out[(*o)++] = *s;
			n++;
		}
	}
	out[*o] = '\0';
}

/* Appends literal text, as far as it fits. */
static void append_raw(char *out, size_t *o, size_t outlen, const char *s)
{
	for (; *s != '\0' && *o + 1 < outlen; s++)
		out[(*o)++] = *s;
	out[*o] = '\0';
}

void milter_tls_summary(const char *version, const char *cipher, const char *bits,
			char out[MILTER_TLS_SUMMARY_MAX])
{
	size_t o = 0;

	out[0] = '\0';
	append_clean(out, &o, MILTER_TLS_SUMMARY_MAX, version, 32);
	if (o == 0) {
		snprintf(out, MILTER_TLS_SUMMARY_MAX, "none");
		return;
	}
	if (cipher != NULL && *cipher != '\0') {
		append_raw(out, &o, MILTER_TLS_SUMMARY_MAX, " cipher=");
		append_clean(out, &o, MILTER_TLS_SUMMARY_MAX, cipher, 128);
	}
	if (bits != NULL && *bits != '\0') {
		append_raw(out, &o, MILTER_TLS_SUMMARY_MAX, " bits=");
		append_clean(out, &o, MILTER_TLS_SUMMARY_MAX, bits, 8);
	}
}
