/*
 * mf-tlslog.h - the line mailfruit-policyd and mailfruit-milter-tlsonly
 * log for a decision, in Postfix's notation, so that the same searches
 * find both daemons' lines next to smtpd's:
 *   "reject: RCPT from name[addr]: ACTION; from=<s> to=<r> helo=<h>
 *    sasl=<u> tls=PROTOCOL/CIPHER rule=RULE(matched)"
 *
 * Contract: one info line through mf-log.h, nothing else. Each field is
 * cut to a fixed length; NULL strings are logged as "", a NULL client
 * name as "unknown", no TLS protocol as "tls=none".
 */
#ifndef MF_TLSLOG_H
#define MF_TLSLOG_H

#include <stdbool.h>

#include "mf-tlspolicy.h"

/* stage is the SMTP command ("RCPT"); action what was answered. with_helo:
 * whether the line has a helo= field (the milter is not sent the HELO
 * name). */
void mf_tlslog_decision(const char *stage, const struct mf_tlspolicy_request *req,
			bool with_helo, const struct mf_tlspolicy_decision *d,
			const char *action);

#endif
