/* test-tlspolicy.c - unit tests for common/mf-tlspolicy: every row of the
 * shared decision table, then loading, errors and the details a table
 * cannot show. */
#include "mailfruit-config.h"

#include "mf-config.h"
#include "mf-tlspolicy.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_CONFIGS 32
#define N_COLUMNS 13

struct table_config {
	char name[64];
	char *text;		/* the tls-policy.conf lines */
	size_t len;
	struct mf_config *cfg;
	struct mf_tlspolicy *policy;
};

static struct table_config configs[MAX_CONFIGS];
static size_t n_configs;

static struct mf_tlspolicy *load_text(const char *name, const char *text, struct mf_config **cfg_r,
				      char *err, size_t errlen)
{
	struct mf_config *cfg = mf_config_new();
	struct mf_tlspolicy *policy = NULL;

	if (cfg != NULL && mf_tlspolicy_set_defaults(cfg) == 0 &&
	    mf_config_load_string(cfg, name, text, err, errlen) == 0)
		policy = mf_tlspolicy_load(cfg, err, errlen);
	if (cfg_r != NULL && policy != NULL)
		*cfg_r = cfg;
	else
		mf_config_free(cfg);
	return policy;
}

/* "-" is an empty column. */
static const char *col(char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static struct table_config *find_config(const char *name)
{
	size_t i;

	for (i = 0; i < n_configs; i++) {
		if (strcmp(configs[i].name, name) == 0)
			return &configs[i];
	}
	return NULL;
}

static void append_line(struct table_config *c, const char *line)
{
	size_t n = strlen(line);

	c->text = realloc(c->text, c->len + n + 1);
	if (c->text == NULL)
		abort();
	memcpy(c->text + c->len, line, n + 1);
	c->len += n;
}

static void run_row(char **f, unsigned int lineno)
{
	/* id config client name sasl context port tls sender rcpt verdict reply rule */
	struct table_config *c = find_config(f[1]);
	struct mf_tlspolicy_request req = { 0 };
	struct mf_tlspolicy_decision d;
	char want_reply[64], got_reply[64];

	if (c == NULL || c->policy == NULL) {
		tap_ok(false, "row %s (line %u): config %s is loaded", f[0], lineno, f[1]);
		return;
	}
	req.client_address = col(f[2]);
	req.client_name = col(f[3]);
	req.sasl_username = col(f[4]);
	req.context = col(f[5]);
	req.server_port = col(f[6]);
	req.tls_protocol = col(f[7]);
	req.tls_cipher = req.tls_protocol != NULL ? "TLS_AES_256_GCM_SHA384" : NULL;
	req.helo_name = "client.example.net";
	req.sender = strcmp(f[8], "<>") == 0 ? "" : f[8];
	req.recipient = f[9];
	mf_tlspolicy_decide(c->policy, &req, &d);

	snprintf(want_reply, sizeof(want_reply), "%s", f[11]);
	if (d.code != NULL)
		snprintf(got_reply, sizeof(got_reply), "%s/%s", d.code, d.status);
	else
		snprintf(got_reply, sizeof(got_reply), "-");
	if (!tap_ok(strcmp(mf_tlspolicy_verdict_name(d.verdict), f[10]) == 0 &&
		    strcmp(got_reply, want_reply) == 0 &&
		    strcmp(mf_tlspolicy_rule_name(d.rule), f[12]) == 0,
		    "row %s: %s %s %s", f[0], f[10], f[11], f[12]))
		tap_diag("line %u: got %s %s %s", lineno, mf_tlspolicy_verdict_name(d.verdict),
			 got_reply, mf_tlspolicy_rule_name(d.rule));
	/* Refusals carry the config's text for their rule; passes nothing. */
	if (d.verdict != MF_TLSPOLICY_PASS) {
		const char *want = mf_config_get(c->cfg, d.rule == MF_TLSPOLICY_RULE_WEAK_TLS ?
						 "weak_tls_text" : "plaintext_text");
		tap_is_str(d.text, want, "row %s: reply text", f[0]);
	} else {
		tap_ok(d.text == NULL && d.code == NULL && d.status == NULL,
		       "row %s: a pass carries no reply", f[0]);
	}
}

static void run_table(void)
{
	char path[4096], line[1024];
	struct table_config *cur = NULL;
	bool in_cases = false;
	unsigned int lineno = 0, rows = 0;
	FILE *fp;
	size_t i;

	snprintf(path, sizeof(path), "%s/decision-cases.txt", MF_TEST_SRCDIR);
	if (!tap_ok((fp = fopen(path, "r")) != NULL, "open %s", path))
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char name[64];

		lineno++;
		if (sscanf(line, "[config %63[^]]]", name) == 1) {
			if (n_configs == MAX_CONFIGS)
				abort();
			cur = &configs[n_configs++];
			snprintf(cur->name, sizeof(cur->name), "%s", name);
			append_line(cur, "");
			in_cases = false;
		} else if (strncmp(line, "[cases]", 7) == 0) {
			char err[512];

			cur = NULL;
			in_cases = true;
			for (i = 0; i < n_configs; i++) {
				configs[i].policy = load_text(configs[i].name, configs[i].text,
							      &configs[i].cfg, err, sizeof(err));
				if (!tap_ok(configs[i].policy != NULL, "table config %s loads",
					    configs[i].name))
					tap_diag("%s", err);
			}
		} else if (cur != NULL) {
			append_line(cur, line);
		} else if (in_cases && line[0] != '#' && strspn(line, " \t\n") != strlen(line)) {
			char *f[N_COLUMNS + 1], *save = NULL, *tok;
			int n = 0;

			for (tok = strtok_r(line, " \t\n", &save); tok != NULL && n <= N_COLUMNS;
			     tok = strtok_r(NULL, " \t\n", &save))
				f[n++] = tok;
			if (n != N_COLUMNS) {
				tap_ok(false, "line %u has %d columns", lineno, N_COLUMNS);
				continue;
			}
			run_row(f, lineno);
			rows++;
		}
	}
	fclose(fp);
	tap_ok(rows >= 50, "the table has %u rows", rows);
	for (i = 0; i < n_configs; i++) {
		mf_tlspolicy_free(configs[i].policy);
		mf_config_free(configs[i].cfg);
		free(configs[i].text);
	}
}

/* A config that must fail, with text expected in the message. */
static void check_error(const char *text, const char *want)
{
	char err[512] = "";
	struct mf_tlspolicy *policy = load_text("bad.conf", text, NULL, err, sizeof(err));

	if (!tap_ok(policy == NULL, "refused: %s", want))
		mf_tlspolicy_free(policy);
	tap_contains(err, want, "message for %s", want);
}

static void test_errors(void)
{
	check_error("mode = block\n", "bad.conf, line 1: mode: expected reject, defer, warn or off");
	check_error("\n\nexempt_clients = 10.0.0.0/33\n", "bad.conf, line 3: exempt_clients:");
	check_error("exempt_clients = 10.0.0.1/8\n", "exempt_clients:");
	check_error("exempt_authenticated = perhaps\n", "bad.conf, line 1:");
	check_error("exempt_client_names = a@b.example\n", "a host name has no '@'");
	check_error("exempt_client_names = <>\n", "only makes sense in exempt_senders");
	check_error("exempt_recipients = <>\n", "only makes sense in exempt_senders");
	check_error("exempt_recipients = <a@b.example>\n", "without <> or quotes");
	check_error("exempt_recipients = @b.example\n", "expected domain, .domain");
	check_error("exempt_senders = a@b@c.example\n", "expected domain, .domain");
	check_error("exempt_senders = ..example\n", "must be followed by a domain");
	check_error("exempt_senders = .\n", "must be followed by a domain");
	check_error("exempt_ports = 25 smtp\n", "\"smtp\" is not a port number");
	check_error("exempt_ports = 0\n", "\"0\" is not a port number");
	check_error("exempt_ports = 65536\n", "\"65536\" is not a port number");
	check_error("minimum_tls_version = TLSv1.4\n", "minimum_tls_version: expected TLSv1");
	check_error("minimum_tls_version = SSLv3\n", "minimum_tls_version: expected TLSv1");
	check_error("reject_code = 450\n", "reject_code: expected a 5XX SMTP reply code");
	check_error("reject_code = 5000\n", "reject_code: expected a 5XX");
	check_error("reject_code = 590\n", "reject_code: expected a 5XX");
	check_error("defer_code = 550\n", "defer_code: expected a 4XX SMTP reply code");
	check_error("reject_status = 4.7.1\n", "reject_status: expected an enhanced status code 5.X.Y");
	check_error("reject_status = 5.7\n", "reject_status: expected an enhanced");
	check_error("reject_status = 5.7.1.1\n", "reject_status: expected an enhanced");
	check_error("reject_status = 5.1000.1\n", "reject_status: expected an enhanced");
	check_error("defer_status = 4..1\n", "defer_status: expected an enhanced status code 4.X.Y");
	check_error("plaintext_text =\n", "plaintext_text must not be empty");
	check_error("plaintext_text = caf\xc3\xa9\n", "only printable ASCII");
	{
		char text[600];

		snprintf(text, sizeof(text), "weak_tls_text = %0500d\n", 7);
		check_error(text, "weak_tls_text is longer than 400 bytes");
	}
}

static void test_details(void)
{
	char err[512] = "";
	struct mf_config *cfg = NULL;
	struct mf_tlspolicy *policy;
	struct mf_tlspolicy_request req = { 0 };
	struct mf_tlspolicy_decision d;

	/* Defaults, and a text that refers to another parameter. */
	policy = load_text("t.conf", "minimum_tls_version = TLSv1.2\nreject_code = 554\n", &cfg, err,
			   sizeof(err));
	if (!tap_ok(policy != NULL, "defaults load")) {
		tap_diag("%s", err);
		return;
	}
	tap_is_int(mf_tlspolicy_mode(policy), MF_TLSPOLICY_MODE_REJECT, "mode defaults to reject");
	req.client_address = "192.0.2.1";
	req.tls_protocol = "TLSv1.1";
	req.sender = "a@example.net";
	req.recipient = "b@example.org";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.text, "TLS protocol version too old, use TLSv1.2 or later",
		   "weak_tls_text expands $minimum_tls_version");
	tap_is_str(d.code, "554", "reject_code is used");
	tap_is_str(d.status, "5.7.1", "reject_status default");
	tap_ok(d.matched == NULL, "a refusal names no list entry");
	req.tls_protocol = "";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.text, "Must issue a STARTTLS command first", "plaintext_text default");
	tap_is_str(mf_tlspolicy_rule_name(d.rule), "plaintext", "empty protocol is plaintext");

	/* Addresses that are not addresses exempt nothing. */
	req.client_address = "localhost";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_int(d.verdict, MF_TLSPOLICY_REJECT, "a client address that is a name is not exempt");
	req.client_address = "127.0.0.1%lo";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_int(d.verdict, MF_TLSPOLICY_REJECT, "a zone id is not an address");
	req.client_address = "127.0.0.1";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "127.0.0.0/8", "the matching CIDR is reported");
	req.client_address = "::1";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "[::1]/128", "the IPv6 loopback entry is reported");

	/* A NULL sender pointer is the null sender, not a crash. */
	req.client_address = "192.0.2.1";
	req.sender = NULL;
	req.recipient = NULL;
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_int(d.verdict, MF_TLSPOLICY_REJECT, "NULL sender and recipient are handled");
	mf_tlspolicy_free(policy);
	mf_config_free(cfg);

	policy = load_text("t.conf",
			   "exempt_senders = <>, .Example.ORG\nexempt_client_names = mx.example.\n"
			   "exempt_ports = 2525\nexempt_contexts = Submission\n",
			   &cfg, err, sizeof(err));
	if (!tap_ok(policy != NULL, "lists load")) {
		tap_diag("%s", err);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.client_address = "192.0.2.1";
	req.sender = NULL;
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "<>", "NULL sender matches <>");
	req.sender = "a@b.example.org.";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, ".Example.ORG", "a trailing dot on the domain is the same name");
	req.sender = "a@example.org";
	req.client_name = "mx.example";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "mx.example.", "a trailing dot in a list entry is the same name");
	req.client_name = NULL;
	req.server_port = "2525";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "2525", "exempt port reported");
	req.server_port = "02525x";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_int(d.verdict, MF_TLSPOLICY_REJECT, "a garbled port matches nothing");
	req.context = "submission";
	mf_tlspolicy_decide(policy, &req, &d);
	tap_is_str(d.matched, "Submission", "contexts compare without case");
	mf_tlspolicy_free(policy);
	mf_config_free(cfg);
}

/* The example file says its values are the defaults: hold it to that. */
static void test_example_file(void)
{
	char path[4096], err[512] = "";
	struct mf_config *example = mf_config_new(), *defaults = mf_config_new();
	size_t i, engine_keys = 0;
	bool same = true;

	snprintf(path, sizeof(path), "%s/../../postfix-policy/tls-policy.conf", MF_TEST_SRCDIR);
	if (!tap_ok(example != NULL && defaults != NULL &&
		    mf_tlspolicy_set_defaults(example) == 0 &&
		    mf_tlspolicy_set_defaults(defaults) == 0 &&
		    mf_config_load_file(example, path, err, sizeof(err)) == 0 &&
		    mf_config_load_string(defaults, "defaults", "", err, sizeof(err)) == 0,
		    "example tls-policy.conf loads"))
		tap_diag("%s", err);
	for (i = 0; i < mf_config_count(example); i++) {
		const char *key = mf_config_key_at(example, i);

		if (!mf_tlspolicy_is_param(key))
			continue;
		engine_keys++;
		if (strcmp(mf_config_get(example, key), mf_config_get(defaults, key)) != 0) {
			tap_diag("%s: example \"%s\", default \"%s\"", key,
				 mf_config_get(example, key), mf_config_get(defaults, key));
			same = false;
		}
	}
	tap_ok(same, "the example file's engine values are the defaults");
	tap_is_int((long long)engine_keys, 15, "the example file lists every engine parameter");
	mf_config_free(example);
	mf_config_free(defaults);
}

static void test_names(void)
{
	tap_ok(mf_tlspolicy_is_param("mode") && mf_tlspolicy_is_param("exempt_clients") &&
	       mf_tlspolicy_is_param("weak_tls_text"), "engine parameters are known");
	tap_ok(!mf_tlspolicy_is_param("policyd_listen") && !mf_tlspolicy_is_param("exempt_client"),
	       "others are not");
	tap_is_str(mf_tlspolicy_mode_name(MF_TLSPOLICY_MODE_DEFER), "defer", "mode name");
	tap_is_str(mf_tlspolicy_verdict_name(MF_TLSPOLICY_WARN), "warn", "verdict name");
	tap_is_str(mf_tlspolicy_rule_name(MF_TLSPOLICY_RULE_SERVER_PORT), "server_port", "rule name");
}

int main(void)
{
	run_table();
	test_errors();
	test_details();
	test_example_file();
	test_names();
	return tap_done();
}
