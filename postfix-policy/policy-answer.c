/* policy-answer.c - see policy-answer.h. */
#include "mailfruit-config.h"

#include "policy-answer.h"

#include "mf-log.h"
#include "mf-tlslog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char dunno[] = "action=DUNNO\n\n";

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

/* The stages at which a refusal means something; see the header. */
static bool acts_on(const struct policy_request *req)
{
	const char *state = str(req->protocol_state);

	return strcmp(str(req->request), "smtpd_access_policy") == 0 &&
	       (strcmp(state, "RCPT") == 0 || strcmp(state, "DATA") == 0);
}

size_t policy_answer(const struct mf_tlspolicy *policy, const struct policy_request *req,
		     char out[POLICY_REPLY_MAX])
{
	struct mf_tlspolicy_request in = {
		.client_address = req->client_address,
		.client_name = req->client_name,
		.sasl_username = req->sasl_username,
		.context = req->policy_context,
		.server_port = req->server_port,
		.tls_protocol = req->encryption_protocol,
		.tls_cipher = req->encryption_cipher,
		.helo_name = req->helo_name,
		.sender = req->sender,
		.recipient = req->recipient,
	};
	struct mf_tlspolicy_decision d;
	int len;

	if (!acts_on(req)) {
		if (mf_log_verbose() > 0)
			mf_log_info("ignore: request=%.40s protocol_state=%.20s: DUNNO",
				    str(req->request), str(req->protocol_state));
		memcpy(out, dunno, sizeof(dunno));
		return sizeof(dunno) - 1;
	}
	mf_tlspolicy_decide(policy, &in, &d);
	switch (d.verdict) {
	case MF_TLSPOLICY_REJECT:
	case MF_TLSPOLICY_DEFER:
		len = snprintf(out, POLICY_REPLY_MAX, "action=%s %s %s\n\n", d.code, d.status, d.text);
		break;
	case MF_TLSPOLICY_WARN:
		/* Postfix logs WARN text with client, sender and recipient,
		 * then goes on as for DUNNO. */
		len = snprintf(out, POLICY_REPLY_MAX, "action=WARN mailfruit TLS policy: %s\n\n",
			       d.text);
		break;
	default:
		memcpy(out, dunno, sizeof(dunno));
		len = (int)sizeof(dunno) - 1;
		break;
	}
	if (d.verdict != MF_TLSPOLICY_PASS || mf_log_verbose() > 0) {
		/* The action as sent, without "action=" and the newlines. */
		char action[POLICY_REPLY_MAX];

		snprintf(action, sizeof(action), "%.*s", len - 9, out + 7);
		mf_tlslog_decision(req->protocol_state, &in, true, &d, action);
	}
	return (size_t)len;
}
