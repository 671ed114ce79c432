/* mf-tlspolicy.c - see mf-tlspolicy.h. */
#include "mailfruit-config.h"

#include "mf-tlspolicy.h"

#include "mf-cidr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vocabulary of tls-policy.conf(5) that the engine reads, with the
 * defaults. Loopback is exempt by default: local software (cron mail,
 * monitoring, webmail on the same host) talks to port 25 without TLS. */
static const struct {
	const char *name;
	const char *def;
} params[] = {
	{ "mode", "reject" },
	{ "exempt_clients", "127.0.0.0/8, [::1]/128" },
	{ "exempt_authenticated", "yes" },
	{ "exempt_client_names", "" },
	{ "exempt_contexts", "" },
	{ "exempt_ports", "" },
	{ "exempt_recipients", "" },
	{ "exempt_senders", "" },
	{ "minimum_tls_version", "" },
	{ "reject_code", "550" },
	{ "reject_status", "5.7.1" },
	{ "defer_code", "450" },
	{ "defer_status", "4.7.1" },
	{ "plaintext_text", "Must issue a STARTTLS command first" },
	{ "weak_tls_text", "TLS protocol version too old, use $minimum_tls_version or later" },
};

#define N_PARAMS (sizeof(params) / sizeof(params[0]))

/* An entry of a sender/recipient list or of exempt_client_names. */
enum pattern_kind {
	PAT_DOMAIN,	/* "example.org": that domain only */
	PAT_SUBDOMAIN,	/* ".example.org": any name below it */
	PAT_ADDRESS,	/* "user@example.org" */
	PAT_LOCALPART,	/* "postmaster@": that local part in any domain */
	PAT_NULL_SENDER	/* "<>" */
};

struct pattern {
	enum pattern_kind kind;
	const char *text;	/* as written, for logs */
	const char *key;	/* what is compared: text without '.', '@' */
	size_t key_len;
};

struct pattern_list {
	struct pattern *items;
	size_t count;
	char **words;		/* the texts, one mf_config_split_list() block */
};

struct mf_tlspolicy {
	enum mf_tlspolicy_mode mode;
	bool exempt_authenticated;
	int minimum_rank;		/* 0: any TLS version will do */
	struct mf_cidr_list clients;
	char **client_texts;		/* exempt_clients as written, for logs */
	struct pattern_list client_names, recipients, senders;
	char **contexts;
	unsigned int *ports;
	size_t port_count;
	char *reject_code, *reject_status, *defer_code, *defer_status;
	char *plaintext_text, *weak_tls_text;
};

/* ASCII only: the locale must not change what a file means. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool eq_nocase_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}

static bool empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static const char *param(const struct mf_config *cfg, const char *name)
{
	const char *value = mf_config_get(cfg, name);
	size_t i;

	if (value != NULL)
		return value;
	for (i = 0; i < N_PARAMS; i++) {
		if (strcmp(params[i].name, name) == 0)
			return params[i].def;
	}
	return "";
}

int mf_tlspolicy_set_defaults(struct mf_config *cfg)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		if (mf_config_set_default(cfg, params[i].name, params[i].def) < 0)
			return -1;
	}
	return 0;
}

bool mf_tlspolicy_is_param(const char *name)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		if (strcmp(params[i].name, name) == 0)
			return true;
	}
	return false;
}

/*
 * TLS versions as OpenSSL names them, as numbers that sort: SSLv2 2, SSLv3
 * 3, TLSv1 10, TLSv1.1 11, ..., TLSv1.3 13, a future TLSv2.0 20. -1 for
 * anything else. Postfix sends SSL_get_version(), which says "TLSv1" for
 * 1.0, so both spellings are accepted.
 */
static int tls_rank(const char *s)
{
	unsigned int major, minor = 0;

	if (strcmp(s, "SSLv2") == 0)
		return 2;
	if (strcmp(s, "SSLv3") == 0)
		return 3;
	if (strncmp(s, "TLSv", 4) != 0 || s[4] < '1' || s[4] > '9')
		return -1;
	major = (unsigned int)(s[4] - '0');
	s += 5;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9' || s[2] != '\0')
			return -1;
		minor = (unsigned int)(s[1] - '0');
	} else if (*s != '\0') {
		return -1;
	}
	return (int)(major * 10 + minor);
}

static void free_patterns(struct pattern_list *list)
{
	mf_config_free_list(list->words);
	free(list->items);
	list->words = NULL;
	list->items = NULL;
	list->count = 0;
}

/* Classifies one written entry; NULL when fine, else why not. */
static const char *parse_pattern(struct pattern *p, bool allow_addresses, bool allow_null)
{
	const char *text = p->text, *at = strchr(text, '@');
	size_t len = strlen(text);

	if (strcmp(text, "<>") == 0) {
		if (!allow_null)
			return "\"<>\" (the null sender) only makes sense in exempt_senders";
		p->kind = PAT_NULL_SENDER;
		p->key = text;
		p->key_len = 0;
		return NULL;
	}
	if (strpbrk(text, "<>\"") != NULL)
		return "write addresses without <> or quotes";
	if (at != NULL) {
		if (!allow_addresses)
			return "a host name has no '@'";
		if (strchr(at + 1, '@') != NULL || at == text)
			return "expected domain, .domain, user@domain or user@";
		p->kind = at[1] == '\0' ? PAT_LOCALPART : PAT_ADDRESS;
		p->key = text;
		p->key_len = p->kind == PAT_LOCALPART ? len - 1 : len;
		return NULL;
	}
	if (text[0] == '.') {
		if (len < 2 || text[1] == '.')
			return "\".\" must be followed by a domain";
		p->kind = PAT_SUBDOMAIN;
		p->key = text;		/* compared with the dot: ".example.org" */
		p->key_len = len;
		return NULL;
	}
	p->kind = PAT_DOMAIN;
	p->key = text;
	p->key_len = len;
	return NULL;
}

/* "example.org." is the same name as "example.org", in lists as in mail. */
static const char *parse_pattern_dot(struct pattern *p, bool allow_addresses, bool allow_null)
{
	const char *why = parse_pattern(p, allow_addresses, allow_null);

	if (why == NULL && p->kind != PAT_NULL_SENDER && p->kind != PAT_LOCALPART &&
	    p->key_len > 1 && p->key[p->key_len - 1] == '.')
		p->key_len--;
	return why;
}

static int load_patterns(const struct mf_config *cfg, const char *key, struct pattern_list *list,
			 bool allow_addresses, bool allow_null, char *err, size_t errlen)
{
	size_t n, i;
	const char *why;

	if ((list->words = mf_config_split_list(param(cfg, key), &n)) == NULL)
		return mf_config_error(cfg, key, err, errlen, "out of memory");
	if (n > 0 && (list->items = calloc(n, sizeof(*list->items))) == NULL)
		return mf_config_error(cfg, key, err, errlen, "out of memory");
	for (i = 0; i < n; i++) {
		list->items[i].text = list->words[i];
		list->count++;
		if ((why = parse_pattern_dot(&list->items[i], allow_addresses, allow_null)) != NULL)
			return mf_config_error(cfg, key, err, errlen, "%s: bad entry \"%.100s\": %s",
					       key, list->words[i], why);
	}
	return 0;
}

static bool domain_matches(const struct pattern *p, const char *domain, size_t len)
{
	/* A trailing dot is the same name: "example.org." */
	if (len > 0 && domain[len - 1] == '.')
		len--;
	switch (p->kind) {
	case PAT_DOMAIN:
		return len == p->key_len && eq_nocase_n(domain, p->key, len);
	case PAT_SUBDOMAIN:
		return len > p->key_len && eq_nocase_n(domain + len - p->key_len, p->key, p->key_len);
	default:
		return false;
	}
}

/* The entry of list that matches address ("" is the null sender), or NULL.
 * Addresses are split at the last '@'; one without '@' has no domain. */
static const struct pattern *match_address(const struct pattern_list *list, const char *address)
{
	const char *at = strrchr(address, '@');
	size_t local_len = at != NULL ? (size_t)(at - address) : strlen(address);
	const char *domain = at != NULL ? at + 1 : "";
	size_t len = strlen(address), i;

	for (i = 0; i < list->count; i++) {
		const struct pattern *p = &list->items[i];

		switch (p->kind) {
		case PAT_NULL_SENDER:
			if (*address == '\0')
				return p;
			break;
		case PAT_ADDRESS:
			if (len == p->key_len && eq_nocase_n(address, p->key, len))
				return p;
			break;
		case PAT_LOCALPART:
			if (*address != '\0' && local_len == p->key_len &&
			    eq_nocase_n(address, p->key, local_len))
				return p;
			break;
		default:
			if (domain_matches(p, domain, strlen(domain)))
				return p;
		}
	}
	return NULL;
}

static const struct pattern *match_name(const struct pattern_list *list, const char *name)
{
	size_t i;

	for (i = 0; i < list->count; i++) {
		if (domain_matches(&list->items[i], name, strlen(name)))
			return &list->items[i];
	}
	return NULL;
}

/* Reply texts become part of an SMTP reply line: printable ASCII only. */
static int load_text(const struct mf_config *cfg, const char *key, char **out, char *err,
		     size_t errlen)
{
	const char *value = param(cfg, key);
	const unsigned char *p;

	if (*value == '\0')
		return mf_config_error(cfg, key, err, errlen, "%s must not be empty", key);
	if (strlen(value) > MF_TLSPOLICY_TEXT_MAX)
		return mf_config_error(cfg, key, err, errlen, "%s is longer than %d bytes", key,
				       MF_TLSPOLICY_TEXT_MAX);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return mf_config_error(cfg, key, err, errlen,
					       "%s: only printable ASCII is allowed in an SMTP reply",
					       key);
	}
	if ((*out = strdup(value)) == NULL)
		return mf_config_error(cfg, key, err, errlen, "out of memory");
	return 0;
}

/* 1 to 3 digits, then end (or the character stop); returns what follows. */
static const char *digits(const char *s, char stop)
{
	size_t n = strspn(s, "0123456789");

	if (n < 1 || n > 3 || s[n] != stop)
		return NULL;
	return s + n;
}

/* A reply code such as "550" whose first digit is cls, and an enhanced
 * status code "cls.X.Y" (RFC 3463: X and Y up to three digits each). */
static int load_reply(const struct mf_config *cfg, const char *code_key, const char *status_key,
		      char cls, char **code, char **status, char *err, size_t errlen)
{
	const char *c = param(cfg, code_key), *s = param(cfg, status_key), *p = NULL;

	if (strlen(c) != 3 || c[0] != cls || c[1] < '0' || c[1] > '5' || c[2] < '0' || c[2] > '9')
		return mf_config_error(cfg, code_key, err, errlen,
				       "%s: expected a %cXX SMTP reply code, not \"%.20s\"",
				       code_key, cls, c);
	if (s[0] == cls && s[1] == '.' && (p = digits(s + 2, '.')) != NULL)
		p = digits(p + 1, '\0');
	if (p == NULL)
		return mf_config_error(cfg, status_key, err, errlen,
				       "%s: expected an enhanced status code %c.X.Y, not \"%.20s\"",
				       status_key, cls, s);
	if ((*code = strdup(c)) == NULL || (*status = strdup(s)) == NULL)
		return mf_config_error(cfg, code_key, err, errlen, "out of memory");
	return 0;
}

static int load_mode(const struct mf_config *cfg, struct mf_tlspolicy *policy, char *err,
		     size_t errlen)
{
	static const char *const names[] = { "off", "warn", "defer", "reject" };
	const char *value = param(cfg, "mode");
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(value) == strlen(names[i]) && eq_nocase_n(value, names[i], strlen(value))) {
			policy->mode = (enum mf_tlspolicy_mode)i;
			return 0;
		}
	}
	return mf_config_error(cfg, "mode", err, errlen,
			       "mode: expected reject, defer, warn or off, not \"%.40s\"", value);
}

static int load_ports(const struct mf_config *cfg, struct mf_tlspolicy *policy, char *err,
		      size_t errlen)
{
	char **words, *end;
	size_t n, i;
	unsigned long port;

	if ((words = mf_config_split_list(param(cfg, "exempt_ports"), &n)) == NULL)
		return mf_config_error(cfg, "exempt_ports", err, errlen, "out of memory");
	if (n > 0 && (policy->ports = calloc(n, sizeof(*policy->ports))) == NULL) {
		mf_config_free_list(words);
		return mf_config_error(cfg, "exempt_ports", err, errlen, "out of memory");
	}
	for (i = 0; i < n; i++) {
		port = strtoul(words[i], &end, 10);
		if (words[i][0] < '0' || words[i][0] > '9' || *end != '\0' || port == 0 ||
		    port > 65535) {
			mf_config_error(cfg, "exempt_ports", err, errlen,
					"exempt_ports: \"%.40s\" is not a port number (1-65535)",
					words[i]);
			mf_config_free_list(words);
			return -1;
		}
		policy->ports[policy->port_count++] = (unsigned int)port;
	}
	mf_config_free_list(words);
	return 0;
}

static int load_minimum(const struct mf_config *cfg, struct mf_tlspolicy *policy, char *err,
			size_t errlen)
{
	const char *value = param(cfg, "minimum_tls_version");
	int rank;

	if (*value == '\0') {
		policy->minimum_rank = 0;
		return 0;
	}
	rank = tls_rank(value);
	if (rank < 10 || rank > 13)
		return mf_config_error(cfg, "minimum_tls_version", err, errlen,
				       "minimum_tls_version: expected TLSv1, TLSv1.1, TLSv1.2 or "
				       "TLSv1.3, not \"%.40s\"", value);
	policy->minimum_rank = rank;
	return 0;
}

struct mf_tlspolicy *mf_tlspolicy_load(const struct mf_config *cfg, char *err, size_t errlen)
{
	struct mf_tlspolicy *policy;
	bool ok;

	if ((policy = calloc(1, sizeof(*policy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ok = load_mode(cfg, policy, err, errlen) == 0 &&
	     mf_config_get_bool(cfg, "exempt_authenticated", true, &policy->exempt_authenticated,
				err, errlen) == 0 &&
	     load_minimum(cfg, policy, err, errlen) == 0 &&
	     load_patterns(cfg, "exempt_client_names", &policy->client_names, false, false,
			   err, errlen) == 0 &&
	     load_patterns(cfg, "exempt_recipients", &policy->recipients, true, false,
			   err, errlen) == 0 &&
	     load_patterns(cfg, "exempt_senders", &policy->senders, true, true, err, errlen) == 0 &&
	     load_ports(cfg, policy, err, errlen) == 0 &&
	     load_reply(cfg, "reject_code", "reject_status", '5', &policy->reject_code,
			&policy->reject_status, err, errlen) == 0 &&
	     load_reply(cfg, "defer_code", "defer_status", '4', &policy->defer_code,
			&policy->defer_status, err, errlen) == 0 &&
	     load_text(cfg, "plaintext_text", &policy->plaintext_text, err, errlen) == 0 &&
	     load_text(cfg, "weak_tls_text", &policy->weak_tls_text, err, errlen) == 0;
	if (ok) {
		char cidr_err[256];

		if (mf_cidr_list_parse(&policy->clients, param(cfg, "exempt_clients"), cidr_err,
				       sizeof(cidr_err)) < 0) {
			mf_config_error(cfg, "exempt_clients", err, errlen, "exempt_clients: %s",
					cidr_err);
			ok = false;
		}
	}
	if (ok) {
		size_t n;

		/* The same split as mf_cidr_list_parse(), so entry i of
		 * the texts is pattern i of the list. */
		policy->client_texts = mf_config_split_list(param(cfg, "exempt_clients"), &n);
		policy->contexts = mf_config_split_list(param(cfg, "exempt_contexts"), NULL);
		if (policy->client_texts == NULL || policy->contexts == NULL ||
		    n != policy->clients.count) {
			mf_config_error(cfg, "exempt_clients", err, errlen, "out of memory");
			ok = false;
		}
	}
	if (!ok) {
		mf_tlspolicy_free(policy);
		return NULL;
	}
	return policy;
}

void mf_tlspolicy_free(struct mf_tlspolicy *policy)
{
	if (policy == NULL)
		return;
	mf_cidr_list_free(&policy->clients);
	mf_config_free_list(policy->client_texts);
	free_patterns(&policy->client_names);
	free_patterns(&policy->recipients);
	free_patterns(&policy->senders);
	mf_config_free_list(policy->contexts);
	free(policy->ports);
	free(policy->reject_code);
	free(policy->reject_status);
	free(policy->defer_code);
	free(policy->defer_status);
	free(policy->plaintext_text);
	free(policy->weak_tls_text);
	free(policy);
}

enum mf_tlspolicy_mode mf_tlspolicy_mode(const struct mf_tlspolicy *policy)
{
	return policy->mode;
}

static const char *match_client(const struct mf_tlspolicy *policy, const char *address)
{
	struct mf_addr addr;
	size_t i;

	if (empty(address) || mf_addr_parse(address, &addr) < 0)
		return NULL;
	for (i = 0; i < policy->clients.count; i++) {
		if (mf_cidr_match(&policy->clients.items[i], &addr))
			return policy->client_texts[i];
	}
	return NULL;
}

static const char *match_context(const struct mf_tlspolicy *policy, const char *context)
{
	size_t i, len;

	if (empty(context))
		return NULL;
	len = strlen(context);
	for (i = 0; policy->contexts[i] != NULL; i++) {
		if (strlen(policy->contexts[i]) == len && eq_nocase_n(policy->contexts[i], context, len))
			return policy->contexts[i];
	}
	return NULL;
}

static bool match_port(const struct mf_tlspolicy *policy, const char *text)
{
	unsigned long port;
	char *end;
	size_t i;

	if (empty(text) || text[0] < '0' || text[0] > '9')
		return false;
	port = strtoul(text, &end, 10);
	if (*end != '\0')
		return false;
	for (i = 0; i < policy->port_count; i++) {
		if (policy->ports[i] == port)
			return true;
	}
	return false;
}

/* Fills in an exemption; returns true so that callers can "return pass()". */
static bool pass(struct mf_tlspolicy_decision *out, enum mf_tlspolicy_rule rule,
		 const char *matched)
{
	out->verdict = MF_TLSPOLICY_PASS;
	out->rule = rule;
	out->matched = matched;
	return true;
}

/* The exemptions, in the order the header lists them. */
static bool exempt(const struct mf_tlspolicy *policy, const struct mf_tlspolicy_request *req,
		   struct mf_tlspolicy_decision *out)
{
	const struct pattern *p;
	const char *m;

	if (policy->exempt_authenticated && !empty(req->sasl_username))
		return pass(out, MF_TLSPOLICY_RULE_AUTHENTICATED, NULL);
	if ((m = match_client(policy, req->client_address)) != NULL)
		return pass(out, MF_TLSPOLICY_RULE_CLIENT_ADDRESS, m);
	/* Postfix says "unknown" when the name did not verify; never exempt
	 * that, whatever the list holds. */
	if (!empty(req->client_name) && strcmp(req->client_name, "unknown") != 0 &&
	    (p = match_name(&policy->client_names, req->client_name)) != NULL)
		return pass(out, MF_TLSPOLICY_RULE_CLIENT_NAME, p->text);
	if ((m = match_context(policy, req->context)) != NULL)
		return pass(out, MF_TLSPOLICY_RULE_CONTEXT, m);
	if (match_port(policy, req->server_port))
		return pass(out, MF_TLSPOLICY_RULE_SERVER_PORT, req->server_port);
	if (!empty(req->recipient) &&
	    (p = match_address(&policy->recipients, req->recipient)) != NULL)
		return pass(out, MF_TLSPOLICY_RULE_RECIPIENT, p->text);
	if ((p = match_address(&policy->senders, req->sender != NULL ? req->sender : "")) != NULL)
		return pass(out, MF_TLSPOLICY_RULE_SENDER, p->text);
	return false;
}

void mf_tlspolicy_decide(const struct mf_tlspolicy *policy,
			 const struct mf_tlspolicy_request *req,
			 struct mf_tlspolicy_decision *out)
{
	bool weak = false;

	memset(out, 0, sizeof(*out));
	if (policy->mode == MF_TLSPOLICY_MODE_OFF) {
		pass(out, MF_TLSPOLICY_RULE_MODE_OFF, NULL);
		return;
	}
	if (!empty(req->tls_protocol)) {
		/* An unknown version name counts as too old: with a minimum
		 * set, the admin asked for versions the engine can vouch for. */
		if (policy->minimum_rank == 0 || tls_rank(req->tls_protocol) >= policy->minimum_rank) {
			pass(out, MF_TLSPOLICY_RULE_TLS, NULL);
			return;
		}
		weak = true;
	}
	if (exempt(policy, req, out))
		return;
	out->rule = weak ? MF_TLSPOLICY_RULE_WEAK_TLS : MF_TLSPOLICY_RULE_PLAINTEXT;
	out->text = weak ? policy->weak_tls_text : policy->plaintext_text;
	switch (policy->mode) {
	case MF_TLSPOLICY_MODE_REJECT:
		out->verdict = MF_TLSPOLICY_REJECT;
		out->code = policy->reject_code;
		out->status = policy->reject_status;
		break;
	case MF_TLSPOLICY_MODE_DEFER:
		out->verdict = MF_TLSPOLICY_DEFER;
		out->code = policy->defer_code;
		out->status = policy->defer_status;
		break;
	default:
		out->verdict = MF_TLSPOLICY_WARN;
		break;
	}
}

const char *mf_tlspolicy_verdict_name(enum mf_tlspolicy_verdict verdict)
{
	switch (verdict) {
	case MF_TLSPOLICY_PASS: return "pass";
	case MF_TLSPOLICY_WARN: return "warn";
	case MF_TLSPOLICY_DEFER: return "defer";
	case MF_TLSPOLICY_REJECT: return "reject";
	}
	return "?";
}

const char *mf_tlspolicy_rule_name(enum mf_tlspolicy_rule rule)
{
	switch (rule) {
	case MF_TLSPOLICY_RULE_MODE_OFF: return "mode_off";
	case MF_TLSPOLICY_RULE_TLS: return "tls";
	case MF_TLSPOLICY_RULE_AUTHENTICATED: return "authenticated";
	case MF_TLSPOLICY_RULE_CLIENT_ADDRESS: return "client_address";
	case MF_TLSPOLICY_RULE_CLIENT_NAME: return "client_name";
	case MF_TLSPOLICY_RULE_CONTEXT: return "context";
	case MF_TLSPOLICY_RULE_SERVER_PORT: return "server_port";
	case MF_TLSPOLICY_RULE_RECIPIENT: return "recipient";
	case MF_TLSPOLICY_RULE_SENDER: return "sender";
	case MF_TLSPOLICY_RULE_WEAK_TLS: return "weak_tls";
	case MF_TLSPOLICY_RULE_PLAINTEXT: return "plaintext";
	}
	return "?";
}

const char *mf_tlspolicy_mode_name(enum mf_tlspolicy_mode mode)
{
	switch (mode) {
	case MF_TLSPOLICY_MODE_OFF: return "off";
	case MF_TLSPOLICY_MODE_WARN: return "warn";
	case MF_TLSPOLICY_MODE_DEFER: return "defer";
	case MF_TLSPOLICY_MODE_REJECT: return "reject";
	}
	return "?";
}
