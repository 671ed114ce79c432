/*
 * mf-tlspolicy.h - the TLS-only decision shared by mailfruit-policyd and
 * mailfruit-milter-tlsonly: may this recipient be accepted from this client?
 *
 * Contract: mf_tlspolicy_load() turns the engine's parameters of a loaded
 * mf_config (tls-policy.conf(5)) into an immutable policy object, or fails
 * with "FILE, line N: ..." text. mf_tlspolicy_decide() is a pure function of
 * that object and one request: no globals, no I/O, no allocation, no
 * logging; any number of threads may call it on one object at once. The
 * strings a decision points to live as long as the policy object and the
 * request. Program-specific parameters in the same file start with
 * "policyd_" or "milter_"; the engine ignores both.
 */
#ifndef MF_TLSPOLICY_H
#define MF_TLSPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "mf-config.h"

/* Default path of the file both programs read. */
#define MF_TLSPOLICY_CONFIG_FILE "/etc/mailfruit/tls-policy.conf"
/* Longest configurable reply text: libmilter's reply line limit is 980
 * bytes, and the text must fit in it together with code and status. */
#define MF_TLSPOLICY_TEXT_MAX 400

enum mf_tlspolicy_mode {
	MF_TLSPOLICY_MODE_OFF,		/* decide nothing */
	MF_TLSPOLICY_MODE_WARN,		/* accept, but report what would be refused */
	MF_TLSPOLICY_MODE_DEFER,	/* 4xx: the client retries (RFC 3207 section 4) */
	MF_TLSPOLICY_MODE_REJECT	/* 5xx: refuse for good (the default) */
};

enum mf_tlspolicy_verdict {
	MF_TLSPOLICY_PASS,		/* no objection */
	MF_TLSPOLICY_WARN,		/* no objection, but log it: mode = warn */
	MF_TLSPOLICY_DEFER,		/* temporary refusal with code/status/text */
	MF_TLSPOLICY_REJECT		/* permanent refusal with code/status/text */
};

/* Which rule decided; the order is the order of evaluation. */
enum mf_tlspolicy_rule {
	MF_TLSPOLICY_RULE_MODE_OFF,	/* mode = off */
	MF_TLSPOLICY_RULE_TLS,		/* TLS at or above minimum_tls_version */
	MF_TLSPOLICY_RULE_AUTHENTICATED,	/* SASL login, exempt_authenticated */
	MF_TLSPOLICY_RULE_CLIENT_ADDRESS,	/* exempt_clients */
	MF_TLSPOLICY_RULE_CLIENT_NAME,	/* exempt_client_names */
	MF_TLSPOLICY_RULE_CONTEXT,	/* exempt_contexts */
	MF_TLSPOLICY_RULE_SERVER_PORT,	/* exempt_ports */
	MF_TLSPOLICY_RULE_RECIPIENT,	/* exempt_recipients */
	MF_TLSPOLICY_RULE_SENDER,	/* exempt_senders */
	MF_TLSPOLICY_RULE_WEAK_TLS,	/* TLS below minimum_tls_version: refused */
	MF_TLSPOLICY_RULE_PLAINTEXT	/* no TLS and no exemption: refused */
};

/*
 * One request. NULL and "" both mean "not known / not sent". tls_protocol
 * is the OpenSSL name ("TLSv1.3"); empty means a plaintext session, which
 * is how Postfix reports one (encryption_protocol=, {tls_version} unset).
 */
struct mf_tlspolicy_request {
	const char *client_address;	/* "192.0.2.7", "2001:db8::7" */
	const char *client_name;	/* verified name; "unknown" matches nothing */
	const char *sasl_username;
	const char *context;		/* policy_context, or the milter's {daemon_name} */
	const char *server_port;	/* decimal */
	const char *tls_protocol;
	const char *tls_cipher;		/* for logs only */
	const char *helo_name;		/* for logs only */
	const char *sender;		/* "" = null sender <> */
	const char *recipient;
};

struct mf_tlspolicy_decision {
	enum mf_tlspolicy_verdict verdict;
	enum mf_tlspolicy_rule rule;
	/* The list entry that exempted the request ("198.51.100.0/24",
	 * ".example.org", ...), else NULL. */
	const char *matched;
	/* DEFER and REJECT: the reply, e.g. "550", "5.7.1", text. WARN: code
	 * and status NULL, text says what is wrong. PASS: all NULL. */
	const char *code;
	const char *status;
	const char *text;
};

struct mf_tlspolicy;

/* Puts the engine's defaults into a new cfg, before it is loaded, so that
 * values may refer to them ("$minimum_tls_version"). 0, or -1 when out of
 * memory. Optional: mf_tlspolicy_load() falls back to the same values. */
int mf_tlspolicy_set_defaults(struct mf_config *cfg);
/* Reads the engine's parameters from a loaded cfg. Returns NULL with a
 * message in err on a bad value or when out of memory. */
struct mf_tlspolicy *mf_tlspolicy_load(const struct mf_config *cfg, char *err, size_t errlen);
void mf_tlspolicy_free(struct mf_tlspolicy *policy);

/* True for parameter names the engine reads; lets each program reject
 * unknown (misspelt) parameters in the shared file. */
bool mf_tlspolicy_is_param(const char *name);

enum mf_tlspolicy_mode mf_tlspolicy_mode(const struct mf_tlspolicy *policy);

void mf_tlspolicy_decide(const struct mf_tlspolicy *policy,
			 const struct mf_tlspolicy_request *req,
			 struct mf_tlspolicy_decision *out);

/* Stable lower-case names for logs and test tables: "pass", "reject",
 * "plaintext", "client_address", "defer", ... */
const char *mf_tlspolicy_verdict_name(enum mf_tlspolicy_verdict verdict);
const char *mf_tlspolicy_rule_name(enum mf_tlspolicy_rule rule);
const char *mf_tlspolicy_mode_name(enum mf_tlspolicy_mode mode);

#endif
