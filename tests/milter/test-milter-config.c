/* test-milter-config.c - unit tests for milter-tlsonly/milter-config: the
 * milter's view of tls-policy.conf(5). */
#include "mailfruit-config.h"

#include "milter-config.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];

static const char *write_conf(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL) {
		tap_diag("%s: %s", path, strerror(errno));
		return "/nonexistent";
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static struct milter_config *load(const char *text, char *err, size_t errlen)
{
	return milter_config_load(write_conf("tls-policy.conf", text), err, errlen);
}

static void test_defaults(void)
{
	char err[512] = "";
	struct milter_config *conf = load("", err, sizeof(err));

	if (!tap_ok(conf != NULL, "an empty file loads")) {
		tap_diag("%s", err);
		return;
	}
	tap_is_str(conf->listen, "unix:/var/spool/postfix/private/mailfruit-tlsonly",
		   "default milter_listen");
	tap_is_str(conf->libmilter_conn, "unix:/var/spool/postfix/private/mailfruit-tlsonly",
		   "unix endpoints go to libmilter as they are");
	tap_is_str(conf->user, "nobody", "default milter_user");
	tap_is_str(conf->socket_owner, "postfix", "default milter_socket_owner");
	tap_is_int(conf->socket_mode, 0660, "default milter_socket_mode");
	tap_ok(conf->tls_header == NULL, "no TLS header by default");
	tap_is_int(mf_tlspolicy_mode(conf->policy), MF_TLSPOLICY_MODE_REJECT, "engine default mode");
	milter_config_free(conf);
}

static void test_values(void)
{
	char err[512] = "";
	struct milter_config *conf = load(
		"mode = defer\n"
		"milter_listen = inet:127.0.0.1:10041\n"
		"milter_user = mail\n"
		"milter_socket_owner = postfix:postdrop\n"
		"milter_socket_mode = 0600\n"
		"milter_tls_header = X-Mailfruit-TLS\n"
		"# the policy daemon's parameters share the file\n"
		"policyd_listen = unix:/var/spool/postfix/private/tlspolicy\n"
		"policyd_anything_else = 1\n", err, sizeof(err));

	if (!tap_ok(conf != NULL, "milter_* and policyd_* parameters load")) {
		tap_diag("%s", err);
		return;
	}
	tap_is_str(conf->libmilter_conn, "inet:10041@127.0.0.1", "inet:host:port for libmilter");
	tap_is_str(conf->user, "mail", "milter_user");
	tap_is_str(conf->socket_owner, "postfix:postdrop", "milter_socket_owner");
	tap_is_int(conf->socket_mode, 0600, "milter_socket_mode");
	tap_is_str(conf->tls_header, "X-Mailfruit-TLS", "milter_tls_header");
	tap_is_int(mf_tlspolicy_mode(conf->policy), MF_TLSPOLICY_MODE_DEFER, "mode");
	milter_config_free(conf);
}

static void check_error(const char *text, const char *want, const char *what)
{
	char err[512] = "";
	struct milter_config *conf = load(text, err, sizeof(err));

	tap_ok(conf == NULL, "rejected: %s", what);
	tap_contains(err, want, "error names the problem: %s", what);
	if (conf == NULL && strstr(err, want) == NULL)
		tap_diag("got: %s", err);
	milter_config_free(conf);
}

static void test_errors(void)
{
	check_error("mode = reject\nmilter_lisen = unix:/x\n",
		    "line 2: unknown parameter \"milter_lisen\"", "misspelt milter_ parameter");
	check_error("exempt_client = 192.0.2.0/24\n", "unknown parameter \"exempt_client\"",
		    "misspelt engine parameter");
	check_error("mode = sometimes\n", "line 1: mode: expected reject, defer, warn or off",
		    "engine error passes through");
	check_error("milter_listen = local:/x\n", "milter_listen: \"local:/x\": expected unix:/",
		    "unknown endpoint type");
	check_error("milter_listen = unix:relative\n", "expected unix:/absolute/path",
		    "relative unix path");
	check_error("milter_listen = inet:127.0.0.1\n", "expected a port number",
		    "inet without port");
	check_error("milter_listen = inet:localhost:99999\n", "expected a port number",
		    "port out of range");
	check_error("milter_listen = inet:::1:10041\n", "write IPv6 addresses as inet:[address]:port",
		    "bare IPv6 address");
	check_error("milter_listen = inet:[::1:10041\n", "expected inet:[address]:port",
		    "unclosed bracket");
	check_error("milter_socket_mode = 0999\n", "milter_socket_mode: expected an octal mode",
		    "bad mode");
	check_error("milter_tls_header = X-TLS: yes\n", "milter_tls_header: expected a header",
		    "header name with a colon");
}

static void check_endpoint(const char *in, const char *want)
{
	char err[256] = "";
	char *got = milter_endpoint_to_libmilter(in, err, sizeof(err));

	tap_is_str(got, want, "%s -> %s", in, want != NULL ? want : "error");
	free(got);
}

static void test_endpoints(void)
{
	check_endpoint("unix:/run/x.sock", "unix:/run/x.sock");
	check_endpoint("inet:10041", "inet:10041@127.0.0.1");
	check_endpoint("inet:0.0.0.0:10041", "inet:10041@0.0.0.0");
	check_endpoint("inet:[::1]:10041", "inet6:10041@::1");
	check_endpoint("inet:[2001:db8::1]:25", "inet6:25@2001:db8::1");
	check_endpoint("inet:mx.example:1", "inet:1@mx.example");
	check_endpoint("inet:a@b:1", NULL);
	check_endpoint("inet:[]:1", NULL);
	check_endpoint("inet:host:0", NULL);
	check_endpoint("inet:host:port", NULL);
	check_endpoint("inet6:10041@::1", NULL);
}

static void test_restart(void)
{
	char err[512];
	struct milter_config *a = load("mode = reject\n", err, sizeof(err));
	struct milter_config *b = load("mode = defer\nexempt_clients =\n", err, sizeof(err));
	struct milter_config *c = load("milter_socket_mode = 0666\n", err, sizeof(err));
	const char *what = NULL;

	if (!tap_ok(a != NULL && b != NULL && c != NULL, "three configurations load"))
		return;
	tap_ok(!milter_config_needs_restart(a, b, &what), "policy changes need no restart");
	tap_ok(milter_config_needs_restart(a, c, &what), "a socket mode change needs one");
	tap_is_str(what, "milter_socket_mode", "and names the parameter");
	milter_config_free(a);
	milter_config_free(b);
	milter_config_free(c);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/mf-test-milter-config.XXXXXX",
		 base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		tap_ok(false, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_defaults();
	test_values();
	test_errors();
	test_endpoints();
	test_restart();
	unlink(write_conf("tls-policy.conf", ""));
	rmdir(tmpdir);
	return tap_done();
}
