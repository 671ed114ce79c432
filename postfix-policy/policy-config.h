/*
 * policy-config.h - mailfruit-policyd's view of tls-policy.conf(5): the
 * engine's parameters plus the daemon's own "policyd_*" ones.
 *
 * Contract: policyd_config_load() reads one file into a new, immutable
 * object, or fails with "FILE, line N: ..." text and leaves nothing
 * behind. A misspelt parameter is an error (it would silently disable an
 * exemption), except the milter's "milter_*" ones, which share the file.
 */
#ifndef POLICY_CONFIG_H
#define POLICY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mf-config.h"
#include "mf-tlspolicy.h"

struct policyd_config {
	struct mf_config *cfg;
	struct mf_tlspolicy *policy;
	char **listen;			/* endpoints: "unix:/path", "inet:host:port" */
	const char *user;		/* drop to this user when started as root */
	const char *socket_owner;	/* "user" or "user:group"; "" = leave as is */
	unsigned int socket_mode;
	unsigned long idle_timeout;	/* seconds between requests */
	unsigned long request_timeout;	/* seconds for one request or reply */
	unsigned long max_connections;
};

struct policyd_config *policyd_config_load(const char *path, char *err, size_t errlen);
void policyd_config_free(struct policyd_config *conf);

/* True when a reload from old to new needs a restart to take full effect
 * (listening endpoints, user, socket owner or mode changed); *what names
 * the first such parameter. */
bool policyd_config_needs_restart(const struct policyd_config *old,
				  const struct policyd_config *new_conf, const char **what);

#endif
