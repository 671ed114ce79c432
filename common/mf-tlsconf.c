/* mf-tlsconf.c - see mf-tlsconf.h. */
#include "mailfruit-config.h"

#include "mf-tlsconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool own_param(const struct mf_tlsconf_spec *spec, const char *name)
{
	size_t i;

	for (i = 0; i < spec->n_params; i++) {
		if (strcmp(spec->params[i].name, name) == 0)
			return true;
	}
	return false;
}

static int check_names(const struct mf_tlsconf_spec *spec, const struct mf_config *cfg,
		       char *err, size_t errlen)
{
	size_t i, other_len = strlen(spec->other_prefix);
	const char *key;

	for (i = 0; i < mf_config_count(cfg); i++) {
		key = mf_config_key_at(cfg, i);
		if (!mf_tlspolicy_is_param(key) && !own_param(spec, key) &&
		    strncmp(key, spec->other_prefix, other_len) != 0)
			return mf_config_error(cfg, key, err, errlen, "unknown parameter \"%s\"", key);
	}
	return 0;
}

/* Octal as chmod(1) takes it, so that "660" is not read as decimal; no
 * set-id or sticky bits, which mean nothing on a socket. */
static int get_mode(const struct mf_config *cfg, const char *param, unsigned int *mode,
		    char *err, size_t errlen)
{
	const char *value = mf_config_get(cfg, param);
	char *end;
	unsigned long m = strtoul(value, &end, 8);

	if (*value < '0' || *value > '7' || *end != '\0' || m > 0777)
		return mf_config_error(cfg, param, err, errlen,
				       "%s: expected an octal mode such as 0660, not \"%.20s\"",
				       param, value);
	*mode = (unsigned int)m;
	return 0;
}

int mf_tlsconf_load(const char *path, const struct mf_tlsconf_spec *spec,
		    struct mf_config **cfg_r, struct mf_tlspolicy **policy_r,
		    unsigned int *socket_mode, char *err, size_t errlen)
{
	struct mf_config *cfg;
	struct mf_tlspolicy *policy = NULL;
	size_t i;
	bool ok;

	*cfg_r = NULL;
	*policy_r = NULL;
	if ((cfg = mf_config_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	ok = mf_tlspolicy_set_defaults(cfg) == 0;
	for (i = 0; ok && i < spec->n_params; i++)
		ok = mf_config_set_default(cfg, spec->params[i].name, spec->params[i].def) == 0;
	if (!ok) {
		snprintf(err, errlen, "%s: out of memory", path);
		mf_config_free(cfg);
		return -1;
	}
	ok = mf_config_load_file(cfg, path, err, errlen) == 0 &&
	     check_names(spec, cfg, err, errlen) == 0 &&
	     (policy = mf_tlspolicy_load(cfg, err, errlen)) != NULL &&
	     get_mode(cfg, spec->socket_mode_param, socket_mode, err, errlen) == 0;
	if (!ok) {
		mf_tlspolicy_free(policy);
		mf_config_free(cfg);
		return -1;
	}
	*cfg_r = cfg;
	*policy_r = policy;
	return 0;
}

bool mf_tlsconf_needs_restart(const struct mf_tlsconf_spec *spec, const struct mf_config *old,
			      const struct mf_config *new_cfg, const char **what)
{
	const char *const *p;

	for (p = spec->restart_params; *p != NULL; p++) {
		if (strcmp(mf_config_get(old, *p), mf_config_get(new_cfg, *p)) != 0) {
			*what = *p;
			return true;
		}
	}
	return false;
}
