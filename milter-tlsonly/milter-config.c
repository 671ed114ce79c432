/* milter-config.c - see milter-config.h. */
#include "mailfruit-config.h"

#include "milter-config.h"

#include "mf-tlsconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The milter's own parameters and their defaults. The socket lives where
 * Debian's chrooted smtpd reaches it as "unix:private/mailfruit-tlsonly"
 * (smtpd works in the queue directory, chrooted or not). */
static const struct mf_tlsconf_param params[] = {
	{ "milter_listen", "unix:/var/spool/postfix/private/mailfruit-tlsonly" },
	{ "milter_user", "nobody" },
	{ "milter_socket_owner", "postfix" },
	{ "milter_socket_mode", "0660" },
	{ "milter_tls_header", "" },
};

/* Bound to the socket libmilter listens on, or applied before it. */
static const char *const restart_params[] = {
	"milter_listen", "milter_user", "milter_socket_owner", "milter_socket_mode", NULL,
};

static const struct mf_tlsconf_spec conf_spec = {
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.other_prefix = "policyd_",
	.socket_mode_param = "milter_socket_mode",
	.restart_params = restart_params,
};

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

	if (conf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (mf_tlsconf_load(path, &conf_spec, &conf->cfg, &conf->policy, &conf->socket_mode,
			    err, errlen) < 0 ||
	    get_header(conf->cfg, &conf->tls_header, err, errlen) < 0) {
		milter_config_free(conf);
		return NULL;
	}
	conf->listen = mf_config_get(conf->cfg, "milter_listen");
	conf->libmilter_conn = milter_endpoint_to_libmilter(conf->listen, why, sizeof(why));
	if (conf->libmilter_conn == NULL) {
		mf_config_error(conf->cfg, "milter_listen", err, errlen, "milter_listen: %s", why);
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
	return mf_tlsconf_needs_restart(&conf_spec, old->cfg, new_conf->cfg, what);
}
