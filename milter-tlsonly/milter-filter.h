/*
 * milter-filter.h - the libmilter callbacks: per-connection state, the
 * macros asked for, the decision at RCPT and the optional TLS header.
 *
 * Contract: milter_filter_register() hands libmilter the filter
 * description (call once, before smfi_opensocket()). From then on the
 * callbacks run on libmilter's pooled worker threads; each connection's
 * state lives only behind smfi_setpriv()/smfi_getpriv() and is freed in
 * xxfi_close; the only shared data is the configuration in force
 * (milter-current.h), read through a reference each connection holds.
 * Decisions are logged one line each (refusals and warnings; all of them
 * with -v).
 */
#ifndef MILTER_FILTER_H
#define MILTER_FILTER_H

/* The name Postfix and the logs know the filter by. */
#define MILTER_FILTER_NAME "mailfruit-milter-tlsonly"

/* Macros requested at MAIL FROM and RCPT TO with smfi_setsymlist(): the
 * TLS state must be read per command, not from the HELO stage (a client
 * may issue STARTTLS and then MAIL without a new EHLO). */
#define MILTER_MACROS "{tls_version} {cipher} {cipher_bits} {auth_authen} " \
	"{daemon_name} {daemon_addr} {daemon_port} {client_addr} {mail_addr}"

/* 0, or -1 when libmilter refuses the description. */
int milter_filter_register(void);

#endif
