/* test-request.c - unit tests for postfix-policy/policy-request: framing,
 * attributes, limits and every kind of bad input. */
#include "mailfruit-config.h"

#include "policy-request.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What Postfix 3.7.11 sent at RCPT in a TLS session, in wire order. */
static const char real_request[] =
	"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
	"client_address=127.0.0.1\nclient_name=localhost\nclient_port=59800\n"
	"reverse_client_name=localhost\nserver_address=127.0.0.1\nserver_port=2525\n"
	"helo_name=client.example.net\nsender=a@example.net\nrecipient=user@test.invalid\n"
	"recipient_count=0\nqueue_id=\ninstance=2400.6b0225e7.df15f.0\nsize=0\n"
	"etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
	"ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
	"encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
	"encryption_keysize=256\npolicy_context=\n\n";

/* Parses text in one piece; returns the status, *why on error. */
static enum policy_parse_status parse_all(char *buf, size_t len, struct policy_request *req,
					  size_t *used, const char **why)
{
	struct policy_parser p;

	policy_parser_init(&p);
	*why = NULL;
	return policy_request_parse(&p, buf, len, req, used, why);
}

static void expect_error(const char *name, char *buf, size_t len, const char *want)
{
	struct policy_request req;
	size_t used = 0;
	const char *why;

	tap_is_int(parse_all(buf, len, &req, &used, &why), POLICY_PARSE_ERROR, "%s: refused", name);
	tap_is_str(why, want, "%s: reason", name);
}

static void test_real_request(void)
{
	char buf[sizeof(real_request)];
	struct policy_request req;
	size_t used = 0;
	const char *why;

	memcpy(buf, real_request, sizeof(buf));
	tap_is_int(parse_all(buf, sizeof(buf) - 1, &req, &used, &why), POLICY_PARSE_DONE,
		   "Postfix's request parses");
	tap_is_int((long long)used, (long long)sizeof(buf) - 1, "all of it is used");
	tap_is_int(req.attributes, 29, "29 attributes");
	tap_is_str(req.request, "smtpd_access_policy", "request");
	tap_is_str(req.protocol_state, "RCPT", "protocol_state");
	tap_is_str(req.client_address, "127.0.0.1", "client_address");
	tap_is_str(req.client_name, "localhost", "client_name");
	tap_is_str(req.helo_name, "client.example.net", "helo_name");
	tap_is_str(req.sender, "a@example.net", "sender");
	tap_is_str(req.recipient, "user@test.invalid", "recipient");
	tap_is_str(req.sasl_username, "", "sasl_username empty");
	tap_is_str(req.encryption_protocol, "TLSv1.3", "encryption_protocol");
	tap_is_str(req.encryption_cipher, "TLS_AES_256_GCM_SHA384", "encryption_cipher");
	tap_is_str(req.policy_context, "", "policy_context");
	tap_is_str(req.server_port, "2525", "server_port");
	tap_is_str(req.queue_id, "", "queue_id");
}

/* Byte by byte, as the slowest client would send it. */
static void test_byte_by_byte(void)
{
	char buf[sizeof(real_request)];
	struct policy_parser p;
	struct policy_request req;
	size_t len, used = 0;
	const char *why = NULL;
	enum policy_parse_status st = POLICY_PARSE_MORE;
	bool early = false;

	policy_parser_init(&p);
	for (len = 1; len < sizeof(buf); len++) {
		buf[len - 1] = real_request[len - 1];
		st = policy_request_parse(&p, buf, len, &req, &used, &why);
		if (st != POLICY_PARSE_MORE && len < sizeof(buf) - 1)
			early = true;
	}
	tap_ok(!early, "byte by byte: nothing before the empty line");
	tap_is_int(st, POLICY_PARSE_DONE, "byte by byte: complete at the empty line");
	tap_is_str(req.recipient, "user@test.invalid", "byte by byte: recipient");
}

static void test_pipelined(void)
{
	char buf[256];
	struct policy_parser p;
	struct policy_request req;
	size_t used = 0, len;
	const char *why;

	len = (size_t)snprintf(buf, sizeof(buf),
			       "request=smtpd_access_policy\nsender=one@example\n\n"
			       "request=smtpd_access_policy\nsender=two@example\n\nrequest=sm");
	policy_parser_init(&p);
	tap_is_int(policy_request_parse(&p, buf, len, &req, &used, &why), POLICY_PARSE_DONE,
		   "pipelined: first request");
	tap_is_str(req.sender, "one@example", "pipelined: first sender");
	memmove(buf, buf + used, len - used);
	len -= used;
	policy_parser_init(&p);
	tap_is_int(policy_request_parse(&p, buf, len, &req, &used, &why), POLICY_PARSE_DONE,
		   "pipelined: second request");
	tap_is_str(req.sender, "two@example", "pipelined: second sender");
	memmove(buf, buf + used, len - used);
	len -= used;
	policy_parser_init(&p);
	tap_is_int(policy_request_parse(&p, buf, len, &req, &used, &why), POLICY_PARSE_MORE,
		   "pipelined: third is incomplete");
}

static void test_attributes(void)
{
	char buf[256];
	struct policy_request req;
	size_t used, len;
	const char *why;

	len = (size_t)snprintf(buf, sizeof(buf),
			       "sender=first@example\nx-future_attr=1\nrecipient=a=b@c\n"
			       "sender=last@example\ncompatibility_level=3.8\n\n");
	tap_is_int(parse_all(buf, len, &req, &used, &why), POLICY_PARSE_DONE,
		   "unknown attributes are ignored");
	tap_is_str(req.sender, "last@example", "the last duplicate counts");
	tap_is_str(req.recipient, "a=b@c", "a value may contain '='");
	tap_ok(req.request == NULL && req.client_address == NULL, "missing attributes are NULL");
	tap_is_int(req.attributes, 5, "attribute count");

	len = (size_t)snprintf(buf, sizeof(buf), "\n");
	tap_is_int(parse_all(buf, len, &req, &used, &why), POLICY_PARSE_DONE,
		   "an empty request is a request (with nothing in it)");
	len = (size_t)snprintf(buf, sizeof(buf), "helo_name=caf\xc3\xa9.example\n\n");
	tap_is_int(parse_all(buf, len, &req, &used, &why), POLICY_PARSE_DONE,
		   "UTF-8 values (SMTPUTF8) are fine");
}

static size_t attrs_request(char *buf, size_t count)
{
	size_t len = 0, i;

	for (i = 0; i < count; i++)
		len += (size_t)sprintf(buf + len, "a=b\n");
	buf[len++] = '\n';
	return len;
}

static size_t large_request(char *buf)
{
	size_t len = 0, i;

	for (i = 0; i < 100; i++) {
		len += (size_t)sprintf(buf + len, "x%zu=", i);
		memset(buf + len, 'v', 700);
		len += 700;
		buf[len++] = '\n';
	}
	buf[len++] = '\n';
	return len;
}

static void test_bad_input(void)
{
	char small[128];
	char *big;
	size_t len;

	len = (size_t)snprintf(small, sizeof(small), "request=smtpd_access_policy\nsender=a");
	small[len - 1] = '\0';
	expect_error("NUL in an incomplete line", small, len, "NUL byte in request");
	len = (size_t)snprintf(small, sizeof(small), "sender=a@b\nrecipient=c\n\n");
	small[8] = '\0';
	expect_error("NUL in a complete line", small, len, "NUL byte in request");
	len = (size_t)snprintf(small, sizeof(small), "GET / HTTP/1.0\r\n\r\n");
	expect_error("HTTP", small, len, "malformed attribute name");
	len = (size_t)snprintf(small, sizeof(small), "request=smtpd_access_policy\nhello\n\n");
	expect_error("line without '='", small, len, "line without '='");
	len = (size_t)snprintf(small, sizeof(small), "=value\n\n");
	expect_error("empty name", small, len, "empty attribute name");
	len = (size_t)snprintf(small, sizeof(small), "sen der=a\n\n");
	expect_error("space in name", small, len, "malformed attribute name");

	if ((big = malloc(3 * POLICY_REQUEST_MAX)) == NULL)
		abort();
	/* A line one byte too long, complete and incomplete. */
	memset(big, 'x', POLICY_LINE_MAX + 10);
	memcpy(big, "sender=", 7);
	big[POLICY_LINE_MAX + 1] = '\n';
	big[POLICY_LINE_MAX + 2] = '\n';
	expect_error("overlong line", big, POLICY_LINE_MAX + 3, "line too long");
	expect_error("overlong incomplete line", big, POLICY_LINE_MAX + 1, "line too long");
	{
		struct policy_request req;
		size_t used;
		const char *why;

		big[POLICY_LINE_MAX] = '\n';
		big[POLICY_LINE_MAX + 1] = '\n';
		tap_is_int(parse_all(big, POLICY_LINE_MAX + 2, &req, &used, &why),
			   POLICY_PARSE_DONE, "a line of exactly POLICY_LINE_MAX bytes is fine");
	}

	/* 1001 attributes in 5 KB; then exactly 1000. (The parser writes
	 * into the buffer: each case gets it anew.) */
	len = attrs_request(big, POLICY_ATTRS_MAX + 1);
	expect_error("too many attributes", big, len, "too many attributes");
	{
		struct policy_request req;
		size_t used;
		const char *why;

		len = attrs_request(big, POLICY_ATTRS_MAX);
		tap_is_int(parse_all(big, len, &req, &used, &why), POLICY_PARSE_DONE,
			   "exactly POLICY_ATTRS_MAX attributes are fine");
	}

	/* Over 64 KiB in 100 lines of 700 bytes: complete and incomplete. */
	len = large_request(big);
	expect_error("request over 64 KiB", big, len, "request too large");
	len = large_request(big);
	expect_error("incomplete request over 64 KiB", big, len - 1, "request too large");
	free(big);
}

int main(void)
{
	test_real_request();
	test_byte_by_byte();
	test_pipelined();
	test_attributes();
	test_bad_input();
	return tap_done();
}
