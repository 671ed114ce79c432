/* mf-tlslog.c - see mf-tlslog.h. */
#include "mailfruit-config.h"

#include "mf-tlslog.h"

#include "mf-log.h"

#include <stdio.h>

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

void mf_tlslog_decision(const char *stage, const struct mf_tlspolicy_request *req,
			bool with_helo, const struct mf_tlspolicy_decision *d,
			const char *action)
{
	char rule[160], tls[160], helo[272] = "";

	if (d->matched != NULL)
		snprintf(rule, sizeof(rule), "%s(%.120s)", mf_tlspolicy_rule_name(d->rule), d->matched);
	else
		snprintf(rule, sizeof(rule), "%s", mf_tlspolicy_rule_name(d->rule));
	if (str(req->tls_protocol)[0] != '\0')
		snprintf(tls, sizeof(tls), "%.40s/%.100s", req->tls_protocol, str(req->tls_cipher));
	else
		snprintf(tls, sizeof(tls), "none");
	if (with_helo)
		snprintf(helo, sizeof(helo), " helo=<%.255s>", str(req->helo_name));
	mf_log_info("%s: %.10s from %.255s[%.64s]: %s; from=<%.300s> to=<%.300s>%s "
		    "sasl=<%.100s> tls=%s rule=%s",
		    mf_tlspolicy_verdict_name(d->verdict), str(stage),
		    req->client_name != NULL ? req->client_name : "unknown",
		    str(req->client_address), action, str(req->sender), str(req->recipient), helo,
		    str(req->sasl_username), tls, rule);
}
