/*
 * milter-config.h - mailfruit-milter-tlsonly's view of tls-policy.conf(5):
 * the engine's parameters plus the milter's own "milter_*" ones.
 *
 * Contract: milter_config_load() reads one file into a new object that is
 * immutable from then on, or fails with "FILE, line N: ..." text and
 * leaves nothing behind. A misspelt parameter is an error (it would
 * silently disable an exemption), except mailfruit-policyd's "policyd_*"
 * ones, which share the file. The object carries a reference count for
 * milter-current.h; nothing here touches it.
 */
#ifndef MILTER_CONFIG_H
#define MILTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mf-config.h"
#include "mf-tlspolicy.h"

/* Longest header field name accepted for milter_tls_header. */
#define MILTER_HEADER_NAME_MAX 64

struct milter_config {
	struct mf_config *cfg;
	struct mf_tlspolicy *policy;
	/* milter_listen as written ("unix:/path", "inet:host:port") and in
	 * libmilter's own syntax ("unix:/path", "inet:port@host"). */
	const char *listen;
	char *libmilter_conn;
	const char *user;		/* drop to this user when started as root */
	const char *socket_owner;	/* "user" or "user:group"; "" = leave as is */
	unsigned int socket_mode;
	/* Header field added at end of message with the TLS protocol and
	 * cipher the message came with; NULL = add none. */
	const char *tls_header;
	unsigned long refs;		/* owned by milter-current.c */
};

struct milter_config *milter_config_load(const char *path, char *err, size_t errlen);
void milter_config_free(struct milter_config *conf);

/* True when a reload from old to new needs a restart to take full effect
 * (listening endpoint, user, socket owner or mode changed); *what names
 * the first such parameter. */
bool milter_config_needs_restart(const struct milter_config *old,
				 const struct milter_config *new_conf, const char **what);

/*
 * "unix:/path" -> "unix:/path"; "inet:host:port" -> "inet:port@host";
 * "inet:[v6]:port" -> "inet6:port@v6"; "inet:port" -> "inet:port@127.0.0.1".
 * Returns a new string, or NULL with a reason in err (bad syntax, or out of
 * memory).
 */
char *milter_endpoint_to_libmilter(const char *endpoint, char *err, size_t errlen);

#endif
