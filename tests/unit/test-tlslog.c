/* test-tlslog.c - unit tests for common/mf-tlslog: the decision line, to
 * the byte, with and without the helo= field. */
#include "mailfruit-config.h"

#include "mf-log.h"
#include "mf-tlslog.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

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

static void test_refusal_with_helo(struct capture *cap)
{
	struct mf_tlspolicy_request req = {
		.client_address = "192.0.2.10",
		.client_name = "mx.example.net",
		.helo_name = "mx.example.net",
		.sender = "a@example.net",
		.recipient = "alice@example.test",
		.tls_protocol = "",
	};
	struct mf_tlspolicy_decision d = {
		.verdict = MF_TLSPOLICY_REJECT,
		.rule = MF_TLSPOLICY_RULE_PLAINTEXT,
	};

	cap->calls = 0;
	mf_tlslog_decision("RCPT", &req, true, &d, "550 5.7.1 Must issue a STARTTLS command first");
	tap_is_int(cap->calls, 1, "one line");
	tap_is_int(cap->priority, LOG_INFO, "at info");
	tap_is_str(cap->line,
		   "t: reject: RCPT from mx.example.net[192.0.2.10]: 550 5.7.1 Must issue a "
		   "STARTTLS command first; from=<a@example.net> to=<alice@example.test> "
		   "helo=<mx.example.net> sasl=<> tls=none rule=plaintext",
		   "a refusal with helo=, an empty protocol as tls=none");
}

static void test_pass_without_helo(struct capture *cap)
{
	struct mf_tlspolicy_request req = {
		.client_address = "198.51.100.7",
		.sasl_username = "alice@example.test",
		.helo_name = "not logged",
		.sender = "",
		.recipient = "bob@example.test",
		.tls_protocol = "TLSv1.3",
		.tls_cipher = "TLS_AES_256_GCM_SHA384",
	};
	struct mf_tlspolicy_decision d = {
		.verdict = MF_TLSPOLICY_PASS,
		.rule = MF_TLSPOLICY_RULE_CLIENT_ADDRESS,
		.matched = "198.51.100.0/24",
	};

	mf_tlslog_decision("RCPT", &req, false, &d, "CONTINUE");
	tap_is_str(cap->line,
		   "t: pass: RCPT from unknown[198.51.100.7]: CONTINUE; from=<> "
		   "to=<bob@example.test> sasl=<alice@example.test> "
		   "tls=TLSv1.3/TLS_AES_256_GCM_SHA384 rule=client_address(198.51.100.0/24)",
		   "no helo= field, no name as unknown, the matched entry with the rule");
}

static void test_nulls(struct capture *cap)
{
	struct mf_tlspolicy_request req = { .tls_protocol = "TLSv1.2" };
	struct mf_tlspolicy_decision d = {
		.verdict = MF_TLSPOLICY_WARN,
		.rule = MF_TLSPOLICY_RULE_WEAK_TLS,
	};

	mf_tlslog_decision(NULL, &req, true, &d, "WARN x");
	tap_is_str(cap->line,
		   "t: warn:  from unknown[]: WARN x; from=<> to=<> helo=<> sasl=<> "
		   "tls=TLSv1.2/ rule=weak_tls",
		   "NULL strings are logged as empty");
}

/* Untrusted fields are cut, so that one line stays one line's length. */
static void test_lengths(struct capture *cap)
{
	char longer[400], want_helo[300], want_rule[200];
	struct mf_tlspolicy_request req = { .client_address = "192.0.2.1" };
	struct mf_tlspolicy_decision d = {
		.verdict = MF_TLSPOLICY_PASS,
		.rule = MF_TLSPOLICY_RULE_RECIPIENT,
	};
	size_t n;

	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	req.helo_name = longer;
	d.matched = longer;
	mf_tlslog_decision("DATA-and-more", &req, true, &d, "DUNNO");
	tap_contains(cap->line, "t: pass: DATA-and-m from unknown[192.0.2.1]: DUNNO; ",
		     "the stage is cut at 10 bytes");
	n = (size_t)snprintf(want_helo, sizeof(want_helo), " helo=<");
	memset(want_helo + n, 'x', 255);
	snprintf(want_helo + n + 255, sizeof(want_helo) - n - 255, "> sasl=<>");
	tap_contains(cap->line, want_helo, "helo is cut at 255 bytes");
	n = (size_t)snprintf(want_rule, sizeof(want_rule), "rule=recipient(");
	memset(want_rule + n, 'x', 120);
	snprintf(want_rule + n + 120, sizeof(want_rule) - n - 120, ")");
	tap_ok(strlen(cap->line) > strlen(want_rule) &&
	       strcmp(cap->line + strlen(cap->line) - strlen(want_rule), want_rule) == 0,
	       "the matched entry is cut at 120 bytes");
}

int main(void)
{
	struct capture cap = { 0 };

	mf_log_init("t", MF_LOG_STDERR, LOG_MAIL);
	mf_log_set_sink(capture_sink, &cap);
	test_refusal_with_helo(&cap);
	test_pass_without_helo(&cap);
	test_nulls(&cap);
	test_lengths(&cap);
	mf_log_set_sink(NULL, NULL);
	return tap_done();
}
