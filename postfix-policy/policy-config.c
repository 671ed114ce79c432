/* policy-config.c - see policy-config.h. */
#include "mailfruit-config.h"

#include "policy-config.h"

#include "mf-tlsconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The daemon's own parameters and their defaults. The socket lives where
 * Debian's chrooted smtpd can reach it as "unix:private/tlspolicy". */
static const struct mf_tlsconf_param params[] = {
	{ "policyd_listen", "unix:/var/spool/postfix/private/tlspolicy" },
	{ "policyd_user", "nobody" },
	{ "policyd_socket_owner", "postfix" },
	{ "policyd_socket_mode", "0660" },
	{ "policyd_idle_timeout", "600" },
	{ "policyd_request_timeout", "10" },
	{ "policyd_max_connections", "10000" },
};

/* The sockets are made, and root given up, once at startup. */
static const char *const restart_params[] = {
	"policyd_listen", "policyd_user", "policyd_socket_owner", "policyd_socket_mode", NULL,
};

static const struct mf_tlsconf_spec conf_spec = {
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.other_prefix = "milter_",
	.socket_mode_param = "policyd_socket_mode",
	.restart_params = restart_params,
};

static int check_listen(const struct mf_config *cfg, char **listen, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; listen[i] != NULL; i++) {
		if (strncmp(listen[i], "unix:/", 6) != 0 && strncmp(listen[i], "inet:", 5) != 0)
			return mf_config_error(cfg, "policyd_listen", err, errlen,
					       "policyd_listen: \"%.100s\": expected unix:/absolute/path "
					       "or inet:host:port", listen[i]);
	}
	return 0;
}

struct policyd_config *policyd_config_load(const char *path, char *err, size_t errlen)
{
	struct policyd_config *conf = calloc(1, sizeof(*conf));
	bool ok;

	if (conf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	ok = mf_tlsconf_load(path, &conf_spec, &conf->cfg, &conf->policy, &conf->socket_mode,
			     err, errlen) == 0 &&
	     mf_config_get_uint(conf->cfg, "policyd_idle_timeout", 600, 1, 86400,
				&conf->idle_timeout, err, errlen) == 0 &&
	     mf_config_get_uint(conf->cfg, "policyd_request_timeout", 10, 1, 3600,
				&conf->request_timeout, err, errlen) == 0 &&
	     mf_config_get_uint(conf->cfg, "policyd_max_connections", 10000, 1, 1000000,
				&conf->max_connections, err, errlen) == 0;
	if (ok) {
		conf->listen = mf_config_split_list(mf_config_get(conf->cfg, "policyd_listen"), NULL);
		ok = conf->listen != NULL && check_listen(conf->cfg, conf->listen, err, errlen) == 0;
	}
	if (!ok) {
		policyd_config_free(conf);
		return NULL;
	}
	conf->user = mf_config_get(conf->cfg, "policyd_user");
	conf->socket_owner = mf_config_get(conf->cfg, "policyd_socket_owner");
	return conf;
}

void policyd_config_free(struct policyd_config *conf)
{
	if (conf == NULL)
		return;
	mf_tlspolicy_free(conf->policy);
	mf_config_free_list(conf->listen);
	mf_config_free(conf->cfg);
	free(conf);
}

bool policyd_config_needs_restart(const struct policyd_config *old,
				  const struct policyd_config *new_conf, const char **what)
{
	return mf_tlsconf_needs_restart(&conf_spec, old->cfg, new_conf->cfg, what);
}
