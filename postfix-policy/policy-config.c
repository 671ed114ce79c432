/* policy-config.c - see policy-config.h. */
#include "mailfruit-config.h"

#include "policy-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The daemon's own parameters and their defaults. The socket lives where
 * Debian's chrooted smtpd can reach it as "unix:private/tlspolicy". */
static const struct {
	const char *name;
	const char *def;
} params[] = {
	{ "policyd_listen", "unix:/var/spool/postfix/private/tlspolicy" },
	{ "policyd_user", "nobody" },
	{ "policyd_socket_owner", "postfix" },
	{ "policyd_socket_mode", "0660" },
	{ "policyd_idle_timeout", "600" },
	{ "policyd_request_timeout", "10" },
	{ "policyd_max_connections", "10000" },
};

#define N_PARAMS (sizeof(params) / sizeof(params[0]))

static bool own_param(const char *name)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		if (strcmp(params[i].name, name) == 0)
			return true;
	}
	return false;
}

static int check_names(const struct mf_config *cfg, char *err, size_t errlen)
{
	size_t i;
	const char *key;

	for (i = 0; i < mf_config_count(cfg); i++) {
		key = mf_config_key_at(cfg, i);
		if (!mf_tlspolicy_is_param(key) && !own_param(key) && strncmp(key, "milter_", 7) != 0)
			return mf_config_error(cfg, key, err, errlen, "unknown parameter \"%s\"", key);
	}
	return 0;
}

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

static int get_mode(const struct mf_config *cfg, unsigned int *mode, char *err, size_t errlen)
{
	const char *value = mf_config_get(cfg, "policyd_socket_mode");
	char *end;
	unsigned long m = strtoul(value, &end, 8);

	if (*value < '0' || *value > '7' || *end != '\0' || m > 0777)
		return mf_config_error(cfg, "policyd_socket_mode", err, errlen,
				       "policyd_socket_mode: expected an octal mode such as 0660, "
				       "not \"%.20s\"", value);
	*mode = (unsigned int)m;
	return 0;
}

struct policyd_config *policyd_config_load(const char *path, char *err, size_t errlen)
{
	struct policyd_config *conf = calloc(1, sizeof(*conf));
	size_t i;
	bool ok;

	if (conf == NULL || (conf->cfg = mf_config_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(conf);
		return NULL;
	}
	ok = mf_tlspolicy_set_defaults(conf->cfg) == 0;
	for (i = 0; ok && i < N_PARAMS; i++)
		ok = mf_config_set_default(conf->cfg, params[i].name, params[i].def) == 0;
	if (!ok) {
		snprintf(err, errlen, "%s: out of memory", path);
		policyd_config_free(conf);
		return NULL;
	}
	ok = mf_config_load_file(conf->cfg, path, err, errlen) == 0 &&
	     check_names(conf->cfg, err, errlen) == 0 &&
	     (conf->policy = mf_tlspolicy_load(conf->cfg, err, errlen)) != NULL &&
	     get_mode(conf->cfg, &conf->socket_mode, err, errlen) == 0 &&
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
	static const char *const fixed[] = {
		"policyd_listen", "policyd_user", "policyd_socket_owner", "policyd_socket_mode",
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(mf_config_get(old->cfg, fixed[i]), mf_config_get(new_conf->cfg, fixed[i])) != 0) {
			*what = fixed[i];
			return true;
		}
	}
	return false;
}
