/* milter-config.c - see milter-config.h. */
#include "mailfruit-config.h"

#include "milter-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The milter's own parameters and their defaults. The socket lives where
 * Debian's chrooted smtpd reaches it as "unix:private/mailfruit-tlsonly"
 * (smtpd works in the queue directory, chrooted or not). */
static const struct {
	const char *name;
	const char *def;
} params[] = {
	{ "milter_listen", "unix:/var/spool/postfix/private/mailfruit-tlsonly" },
	{ "milter_user", "nobody" },
	{ "milter_socket_owner", "postfix" },
	{ "milter_socket_mode", "0660" },
	{ "milter_tls_header", "" },
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
		if (!mf_tlspolicy_is_param(key) && !own_param(key) && strncmp(key, "policyd_", 8) != 0)
			return mf_config_error(cfg, key, err, errlen, "unknown parameter \"%s\"", key);
	}
	return 0;
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* A port is 1-65535, decimal; libmilter would take a service name too, but
 * a name that resolves differently on another host is a trap. */
static bool good_port(const char *s)
{
	size_t len = strlen(s);

	return all_digits(s, len) && len <= 5 && atol(s) >= 1 && atol(s) <= 65535;
}

char *milter_endpoint_to_libmilter(const char *endpoint, char *err, size_t errlen)
{
	const char *spec, *colon, *host = "127.0.0.1", *family = "inet";
	size_t host_len = strlen(host);
	char *out;
	size_t n;

	if (strncmp(endpoint, "unix:/", 6) == 0) {
		/* sockaddr_un.sun_path is 108 bytes. */
		if (strlen(endpoint + 5) >= 108) {
			snprintf(err, errlen, "\"%.100s\": path too long for a unix socket", endpoint);
			return NULL;
		}
		if ((out = strdup(endpoint)) == NULL)
			snprintf(err, errlen, "out of memory");
		return out;
	}
	if (strncmp(endpoint, "inet:", 5) != 0) {
		snprintf(err, errlen, "\"%.100s\": expected unix:/absolute/path or inet:host:port",
			 endpoint);
		return NULL;
	}
	spec = endpoint + 5;
	if (spec[0] == '[') {
		const char *close_br = strchr(spec, ']');

		if (close_br == NULL || close_br[1] != ':' || close_br == spec + 1) {
			snprintf(err, errlen, "\"%.100s\": expected inet:[address]:port", endpoint);
			return NULL;
		}
		host = spec + 1;
		host_len = (size_t)(close_br - host);
		colon = close_br + 1;
		family = "inet6";
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		host = spec;
		host_len = (size_t)(colon - spec);
		if (host_len == 0 || memchr(host, ':', host_len) != NULL) {
			snprintf(err, errlen, "\"%.100s\": write IPv6 addresses as inet:[address]:port",
				 endpoint);
			return NULL;
		}
	} else {
		colon = spec - 1;	/* "inet:port": loopback */
	}
	if (!good_port(colon + 1)) {
		snprintf(err, errlen, "\"%.100s\": expected a port number (1-65535) at the end",
			 endpoint);
		return NULL;
	}
	if (memchr(host, '@', host_len) != NULL || host_len > 255) {
		snprintf(err, errlen, "\"%.100s\": bad host", endpoint);
		return NULL;
	}
	n = strlen(family) + 1 + strlen(colon + 1) + 1 + host_len + 1;
	if ((out = malloc(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(out, n, "%s:%s@%.*s", family, colon + 1, (int)host_len, host);
	return out;
}

static int get_mode(const struct mf_config *cfg, unsigned int *mode, char *err, size_t errlen)
{
	const char *value = mf_config_get(cfg, "milter_socket_mode");
	char *end;
	unsigned long m = strtoul(value, &end, 8);

	if (*value < '0' || *value > '7' || *end != '\0' || m > 0777)
		return mf_config_error(cfg, "milter_socket_mode", err, errlen,
				       "milter_socket_mode: expected an octal mode such as 0660, "
				       "not \"%.20s\"", value);
	*mode = (unsigned int)m;
	return 0;
}

/* A header field name (RFC 5322 allows more; letters, digits and '-' are
 * what every header name in use has). */
static int get_header(const struct mf_config *cfg, const char **out, char *err, size_t errlen)
{
	const char *value = mf_config_get(cfg, "milter_tls_header");
	size_t len = strlen(value);

	*out = NULL;
	if (len == 0)
		return 0;
	if (len > MILTER_HEADER_NAME_MAX || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						   "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
		return mf_config_error(cfg, "milter_tls_header", err, errlen,
				       "milter_tls_header: expected a header field name such as "
				       "X-Mailfruit-TLS (letters, digits, '-'; at most %d), "
				       "not \"%.80s\"", MILTER_HEADER_NAME_MAX, value);
	*out = value;
	return 0;
}

struct milter_config *milter_config_load(const char *path, char *err, size_t errlen)
{
	struct milter_config *conf = calloc(1, sizeof(*conf));
	char why[256];
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
		milter_config_free(conf);
		return NULL;
	}
	ok = mf_config_load_file(conf->cfg, path, err, errlen) == 0 &&
	     check_names(conf->cfg, err, errlen) == 0 &&
	     (conf->policy = mf_tlspolicy_load(conf->cfg, err, errlen)) != NULL &&
	     get_mode(conf->cfg, &conf->socket_mode, err, errlen) == 0 &&
	     get_header(conf->cfg, &conf->tls_header, err, errlen) == 0;
	if (ok) {
		conf->listen = mf_config_get(conf->cfg, "milter_listen");
		conf->libmilter_conn = milter_endpoint_to_libmilter(conf->listen, why, sizeof(why));
		if (conf->libmilter_conn == NULL) {
			mf_config_error(conf->cfg, "milter_listen", err, errlen, "milter_listen: %s",
					why);
			ok = false;
		}
	}
	if (!ok) {
		milter_config_free(conf);
		return NULL;
	}
	conf->user = mf_config_get(conf->cfg, "milter_user");
	conf->socket_owner = mf_config_get(conf->cfg, "milter_socket_owner");
	return conf;
}

void milter_config_free(struct milter_config *conf)
{
	if (conf == NULL)
		return;
	mf_tlspolicy_free(conf->policy);
	free(conf->libmilter_conn);
	mf_config_free(conf->cfg);
	free(conf);
}

bool milter_config_needs_restart(const struct milter_config *old,
				 const struct milter_config *new_conf, const char **what)
{
	static const char *const fixed[] = {
		"milter_listen", "milter_user", "milter_socket_owner", "milter_socket_mode",
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(mf_config_get(old->cfg, fixed[i]),
			   mf_config_get(new_conf->cfg, fixed[i])) != 0) {
			*what = fixed[i];
			return true;
		}
	}
	return false;
}
