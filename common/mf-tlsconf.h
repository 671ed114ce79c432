/*
 * mf-tlsconf.h - tls-policy.conf(5) as one of the two daemons reads it:
 * the engine's parameters (mf-tlspolicy.h) plus the daemon's own.
 *
 * Contract: mf_tlsconf_load() reads one file with the engine's and the
 * daemon's defaults, refuses a misspelt parameter (it would silently
 * disable an exemption) but lets the other daemon's parameters pass (the
 * file is shared), builds the policy object and reads the daemon's octal
 * socket mode. It fails with "FILE, line N: ..." text and leaves nothing
 * behind. The daemon reads its other parameters from *cfg_r itself.
 */
#ifndef MF_TLSCONF_H
#define MF_TLSCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "mf-config.h"
#include "mf-tlspolicy.h"

struct mf_tlsconf_param {
	const char *name;
	const char *def;
};

/* What differs between the daemons; a static const object in each. */
struct mf_tlsconf_spec {
	const struct mf_tlsconf_param *params;	/* the daemon's own, with defaults */
	size_t n_params;
	const char *other_prefix;		/* "policyd_" for the milter, ... */
	const char *socket_mode_param;		/* one of params */
	/* NULL-terminated: parameters a reload cannot apply (the socket,
	 * the user); see mf_tlsconf_needs_restart(). */
	const char *const *restart_params;
};

/* 0 with a new *cfg_r and *policy_r (immutable from then on, the caller
 * frees them) and *socket_mode; -1 with err set and both NULL. */
int mf_tlsconf_load(const char *path, const struct mf_tlsconf_spec *spec,
		    struct mf_config **cfg_r, struct mf_tlspolicy **policy_r,
		    unsigned int *socket_mode, char *err, size_t errlen);

/* True when a reload from old to new_cfg changes one of the spec's
 * restart_params; *what names the first. */
bool mf_tlsconf_needs_restart(const struct mf_tlsconf_spec *spec, const struct mf_config *old,
			      const struct mf_config *new_cfg, const char **what);

#endif
