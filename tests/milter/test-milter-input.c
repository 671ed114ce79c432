/* test-milter-input.c - unit tests for milter-tlsonly/milter-input: what
 * the callbacks make of libmilter's arguments. */
#include "mailfruit-config.h"

#include "milter-input.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static void test_hostaddr(void)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_un un;
	char buf[MILTER_ADDR_STRLEN];

	memset(&v4, 0, sizeof(v4));
	v4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
	milter_format_hostaddr((struct sockaddr *)&v4, buf);
	tap_is_str(buf, "192.0.2.7", "IPv4 hostaddr");

	memset(&v6, 0, sizeof(v6));
	v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:0:0::7", &v6.sin6_addr);
	milter_format_hostaddr((struct sockaddr *)&v6, buf);
	tap_is_str(buf, "2001:db8::7", "IPv6 hostaddr, RFC 5952 text");

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
	milter_format_hostaddr((struct sockaddr *)&v6, buf);
	tap_is_str(buf, "::ffff:127.0.0.1", "v4-mapped IPv6 hostaddr");

	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	milter_format_hostaddr((struct sockaddr *)&v6, buf);
	tap_is_str(buf, "::1", "IPv6 loopback");

	strcpy(buf, "stale");
	milter_format_hostaddr(NULL, buf);
	tap_is_str(buf, "", "NULL hostaddr (SMFIA_UNKNOWN) is empty");

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	strcpy(buf, "stale");
	milter_format_hostaddr((struct sockaddr *)&un, buf);
	tap_is_str(buf, "", "a unix-domain hostaddr is empty");
}

static void check_address(const char *arg, const char *want)
{
	char *got = milter_envelope_address(arg);

	tap_is_str(got, want, "envelope address \"%s\"", arg != NULL ? arg : "(null)");
	free(got);
}

static void test_envelope(void)
{
	check_address("<alice@example.test>", "alice@example.test");
	check_address("<>", "");
	check_address(NULL, "");
	check_address("bare@example.test", "bare@example.test");
	check_address("<@a.example,@b.example:user@d.example>", "user@d.example");
	check_address("<\"a b\"@example.test>", "\"a b\"@example.test");
	check_address("<postmaster>", "postmaster");
	check_address("<", "<");
	check_address("<x@y", "<x@y");
}

static void test_escape(void)
{
	char out[16];

	tap_ok(milter_escape_percent("100% TLS", out, sizeof(out)), "escape fits");
	tap_is_str(out, "100%% TLS", "'%%' is doubled for smfi_setreply");
	tap_ok(milter_escape_percent("plain", out, sizeof(out)), "no '%%' fits");
	tap_is_str(out, "plain", "text without '%%' is unchanged");
	tap_ok(milter_escape_percent("%%%%%%%", out, sizeof(out)), "7 x '%%' fits in 15");
	tap_ok(!milter_escape_percent("%%%%%%%%", out, sizeof(out)), "8 x '%%' does not fit in 16");
	tap_is_str(out, "", "nothing half-escaped is left behind");
	tap_ok(!milter_escape_percent("x", out, 0), "zero-size buffer");
}

static void test_summary(void)
{
	char out[MILTER_TLS_SUMMARY_MAX];

	milter_tls_summary("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", out);
	tap_is_str(out, "TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256", "TLS summary");
	milter_tls_summary(NULL, "X", "1", out);
	tap_is_str(out, "none", "no {tls_version}: none");
	milter_tls_summary("", NULL, NULL, out);
	tap_is_str(out, "none", "empty {tls_version}: none");
	milter_tls_summary("TLSv1.2", NULL, NULL, out);
	tap_is_str(out, "TLSv1.2", "version only");
	milter_tls_summary("TLSv1.2\r\nX-Evil: 1", "A B\tC", "12\n8", out);
	tap_is_str(out, "TLSv1.2X-Evil:1 cipher=ABC bits=128",
		   "control characters and spaces cannot fold or end the header");
}

int main(void)
{
	test_hostaddr();
	test_envelope();
	test_escape();
	test_summary();
	return tap_done();
}
