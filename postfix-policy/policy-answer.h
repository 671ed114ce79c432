/*
 * policy-answer.h - from one parsed policy request to the one reply line
 * Postfix expects, and the log line that goes with it.
 *
 * Contract: the engine decides only for request=smtpd_access_policy at the
 * RCPT and DATA stages; everything else gets "action=DUNNO" (TLS cannot
 * exist at CONNECT, and EHLO/MAIL come back at RCPT with
 * smtpd_delay_reject). Refusals become "action=550 5.7.1 text" (the
 * engine's code, status and text), warn mode "action=WARN text", the rest
 * "action=DUNNO". One log line per decision that is not DUNNO, and per
 * decision while mf_log_verbose() > 0. No state: any caller, any time.
 */
#ifndef POLICY_ANSWER_H
#define POLICY_ANSWER_H

#include <stddef.h>

#include "mf-tlspolicy.h"
#include "policy-request.h"

/* Longest reply: "action=" code status text "\n\n", with room to spare. */
#define POLICY_REPLY_MAX (MF_TLSPOLICY_TEXT_MAX + 64)

/* Writes "action=...\n\n" (NUL-terminated) to out, which has room for
 * POLICY_REPLY_MAX bytes; returns its length, without the NUL. */
size_t policy_answer(const struct mf_tlspolicy *policy, const struct policy_request *req,
		     char out[POLICY_REPLY_MAX]);

#endif
