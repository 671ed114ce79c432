/* milter-filter.c - see milter-filter.h. */
#include "mailfruit-config.h"

#include "milter-filter.h"

#include "milter-current.h"
#include "milter-input.h"
#include "mf-log.h"
#include "mf-tlslog.h"
#include "mf-tlspolicy.h"

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the filter asks of the MTA: the connection and the envelope. The
 * MTA then sends neither HELO (its name is in Postfix's own log line),
 * DATA, headers nor body, and does not wait for a reply to CONNECT and
 * MAIL: per refused session that is three round trips fewer, and a
 * filter's cost at this volume is mostly the commands it is sent. */
static const unsigned long wanted_steps = SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH |
	SMFIP_NOBODY | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_MAIL;

/* One SMTP connection. Only the thread running one of its callbacks
 * touches it (libmilter runs one connection's callbacks one at a time). */
struct conn {
	struct milter_config *conf;	/* reference, from negotiate to close */
	unsigned long steps;		/* negotiated SMFIP_* */
	bool add_header;		/* negotiated SMFIF_ADDHDRS and configured */
	char client_addr[MILTER_ADDR_STRLEN];	/* "" = unknown */
	char *client_name;		/* NULL = unknown */
	char *sender;			/* this message's, without <>; NULL before MAIL */
	char tls[MILTER_TLS_SUMMARY_MAX];	/* header value, "" before RCPT */
};

static struct conn *conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The state for ctx, made on first use: normally in xxfi_negotiate, but
 * an MTA speaking an old protocol version never calls that. NULL when out
 * of memory or before any configuration is installed. */
static struct conn *conn_make(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mf_log_error("out of memory for a new connection");
		return NULL;
	}
	if ((c->conf = milter_current_acquire()) == NULL) {
		free(c);
		return NULL;
	}
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		milter_current_release(c->conf);
		free(c);
		return NULL;
	}
	return c;
}

static void message_reset(struct conn *c)
{
	free(c->sender);
	c->sender = NULL;
	c->tls[0] = '\0';
}

/* A step we asked not to be replied to must return SMFIS_NOREPLY; one the
 * MTA did not agree to that for must return SMFIS_CONTINUE. */
static sfsistat no_reply(const struct conn *c, unsigned long flag)
{
	return c != NULL && (c->steps & flag) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c = conn_make(ctx);
	unsigned long actions = 0;

	(void)f2;
	(void)f3;
	*pf2 = 0;
	*pf3 = 0;
	/* Only what the MTA offers; libmilter fails the negotiation for more. */
	*pf1 = wanted_steps & f1;
	if ((f0 & SMFIF_SETSYMLIST) != 0)
		actions |= SMFIF_SETSYMLIST;
	if (c != NULL && c->conf->tls_header != NULL) {
		if ((f0 & SMFIF_ADDHDRS) != 0) {
			actions |= SMFIF_ADDHDRS;
			c->add_header = true;
		} else {
			mf_log_warning("the MTA does not let filters add headers: no %s header",
				       c->conf->tls_header);
		}
	}
	*pf0 = actions;
	if (c != NULL)
		c->steps = *pf1;
	/* Once a filter sends any macro list, Postfix sends only listed
	 * macros, at every stage: list what MAIL and RCPT read. */
	if (smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)MILTER_MACROS) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)MILTER_MACROS) != MI_SUCCESS)
		mf_log_warning("cannot request the macros for MAIL and RCPT; "
			       "relying on the MTA's defaults");
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = conn_make(ctx);

	if (c == NULL)
		return no_reply(c, SMFIP_NR_CONN);
	milter_format_hostaddr(hostaddr, c->client_addr);
	free(c->client_name);
	c->client_name = hostname != NULL ? strdup(hostname) : NULL;
	return no_reply(c, SMFIP_NR_CONN);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL) {
		message_reset(c);
		/* NULL when out of memory: decided as the null sender would be
		 * unless RCPT finds it missing; see on_envrcpt. */
		c->sender = milter_envelope_address(argv != NULL ? argv[0] : NULL);
	}
	return no_reply(c, SMFIP_NR_MAIL);
}

/* Refuses the recipient with the engine's reply. */
static sfsistat refuse(SMFICTX *ctx, const struct mf_tlspolicy_decision *d)
{
	char text[2 * MF_TLSPOLICY_TEXT_MAX + 1];
	sfsistat rc = d->verdict == MF_TLSPOLICY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;

	/* The engine's text is printable ASCII of bounded length, so this
	 * cannot fail; if it ever did, libmilter's generic reply of the
	 * same class still refuses. */
	if (!milter_escape_percent(d->text, text, sizeof(text)) ||
	    smfi_setreply(ctx, (char *)d->code, (char *)d->status, text) != MI_SUCCESS)
		mf_log_warning("could not set the reply \"%s %s %s\"; the MTA's default "
			       "%s reply goes out instead", d->code, d->status, d->text,
			       rc == SMFIS_REJECT ? "5xx" : "4xx");
	return rc;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	struct mf_tlspolicy_request req;
	struct mf_tlspolicy_decision d;
	char action[2 * MF_TLSPOLICY_TEXT_MAX], *rcpt;
	const char *addr_macro;
	sfsistat rc;

	if (c == NULL || c->sender == NULL) {
		/* Out of memory earlier: refuse for now rather than decide
		 * without the facts. */
		mf_log_warning("RCPT: connection state missing (out of memory?): 451 4.3.0");
		smfi_setreply(ctx, (char *)"451", (char *)"4.3.0",
			      (char *)"Temporary filter failure, try again later");
		return SMFIS_TEMPFAIL;
	}
	if ((rcpt = milter_envelope_address(argv != NULL ? argv[0] : NULL)) == NULL) {
		mf_log_warning("RCPT: out of memory: 451 4.3.0");
		return SMFIS_TEMPFAIL;
	}
	addr_macro = smfi_getsymval(ctx, (char *)"{client_addr}");
	memset(&req, 0, sizeof(req));
	/* hostaddr is what the MTA says of the connection itself; the macro
	 * only stands in when the MTA sent no address with CONNECT. */
	req.client_address = c->client_addr[0] != '\0' ? c->client_addr : addr_macro;
	req.client_name = c->client_name;
	req.sasl_username = smfi_getsymval(ctx, (char *)"{auth_authen}");
	req.context = smfi_getsymval(ctx, (char *)"{daemon_name}");
	req.server_port = smfi_getsymval(ctx, (char *)"{daemon_port}");
	req.tls_protocol = smfi_getsymval(ctx, (char *)"{tls_version}");
	req.tls_cipher = smfi_getsymval(ctx, (char *)"{cipher}");
	req.sender = c->sender;
	req.recipient = rcpt;
	mf_tlspolicy_decide(c->conf->policy, &req, &d);
	if (c->add_header && c->tls[0] == '\0')
		milter_tls_summary(req.tls_protocol, req.tls_cipher,
				   smfi_getsymval(ctx, (char *)"{cipher_bits}"), c->tls);

	switch (d.verdict) {
	case MF_TLSPOLICY_REJECT:
	case MF_TLSPOLICY_DEFER:
		snprintf(action, sizeof(action), "%s %s %s", d.code, d.status, d.text);
		rc = refuse(ctx, &d);
		break;
	case MF_TLSPOLICY_WARN:
		snprintf(action, sizeof(action), "WARN %s", d.text);
		rc = SMFIS_CONTINUE;
		break;
	default:
		snprintf(action, sizeof(action), "CONTINUE");
		rc = SMFIS_CONTINUE;
		break;
	}
	if (d.verdict != MF_TLSPOLICY_PASS || mf_log_verbose() > 0)
		mf_tlslog_decision("RCPT", &req, false, &d, action);
	free(rcpt);
	return rc;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL && c->add_header && c->tls[0] != '\0' &&
	    smfi_addheader(ctx, (char *)c->conf->tls_header, c->tls) != MI_SUCCESS)
		mf_log_warning("could not add the %s header", c->conf->tls_header);
	if (c != NULL)
		message_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c != NULL)
		message_reset(c);
	return SMFIS_CONTINUE;
}

/* May be the only callback of a connection, and may find no state. */
static sfsistat on_close(SMFICTX *ctx)
{
	struct conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	message_reset(c);
	free(c->client_name);
	milter_current_release(c->conf);
	free(c);
	return SMFIS_CONTINUE;
}

int milter_filter_register(void)
{
	struct smfiDesc desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)MILTER_FILTER_NAME;
	desc.xxfi_version = SMFI_VERSION;
	/* The most any connection may negotiate; each one asks for
	 * SMFIF_ADDHDRS only when the header is configured. */
	desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_SETSYMLIST;
	desc.xxfi_connect = on_connect;
	desc.xxfi_envfrom = on_envfrom;
	desc.xxfi_envrcpt = on_envrcpt;
	desc.xxfi_eom = on_eom;
	desc.xxfi_abort = on_abort;
	desc.xxfi_close = on_close;
	desc.xxfi_negotiate = on_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
