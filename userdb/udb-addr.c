/* udb-addr.c - domain and address syntax (udb-addr.h). */
#include "mailfruit-config.h"

#include <string.h>

#include "mf-err.h"
#include "udb-addr.h"

/* Input goes back into messages cut short and with anything outside
 * printable ASCII replaced, so a hostile name cannot forge output lines. */
static const char *shown(const char *in, char buf[48])
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < 40; i++)
		buf[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	if (in[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static int has_non_ascii(const char *in)
{
	for (; *in != '\0'; in++) {
		if ((unsigned char)*in >= 0x80)
			return 1;
	}
	return 0;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int udb_domain_normalize(const char *in, char out[UDB_DOMAIN_MAX + 1], char *err, size_t errlen)
{
	char buf[48];
	size_t len = strnlen(in, UDB_DOMAIN_MAX + 1), i, label = 0, labels = 1;

	if (len == 0)
		return mf_err_set(err, errlen, "empty domain name"), -1;
	if (len > UDB_DOMAIN_MAX)
		return mf_err_set(err, errlen, "domain name longer than %d characters: %s",
				  UDB_DOMAIN_MAX, shown(in, buf)), -1;
	if (has_non_ascii(in))
		return mf_err_set(err, errlen,
				  "domain '%s' is not ASCII: give an internationalized domain "
				  "in its A-label form (xn--...)", shown(in, buf)), -1;
	for (i = 0; i < len; i++) {
		char c = lower(in[i]);

		if (c == '.') {
			if (label == 0 || out[i - 1] == '-')
				return mf_err_set(err, errlen,
						  "invalid domain '%s': empty label or a label "
						  "ending in '-'", shown(in, buf)), -1;
			label = 0;
			labels++;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				return mf_err_set(err, errlen,
						  "invalid domain '%s': a label starts with '-'",
						  shown(in, buf)), -1;
			if (++label > 63)
				return mf_err_set(err, errlen,
						  "invalid domain '%s': a label is longer than 63 "
						  "characters", shown(in, buf)), -1;
		} else {
			return mf_err_set(err, errlen,
					  "invalid domain '%s': only letters, digits, '-' and '.' "
					  "are allowed", shown(in, buf)), -1;
		}
		out[i] = c;
	}
	if (label == 0 || out[len - 1] == '-')
		return mf_err_set(err, errlen,
				  "invalid domain '%s': it ends with '.' or '-'", shown(in, buf)), -1;
	if (labels < 2)
		return mf_err_set(err, errlen,
				  "invalid domain '%s': a mail domain has at least two labels "
				  "(example.org)", shown(in, buf)), -1;
	out[len] = '\0';
	return 0;
}

int udb_local_normalize(const char *in, char out[UDB_LOCAL_MAX + 1], char *err, size_t errlen)
{
	char buf[48];
	size_t len = strnlen(in, UDB_LOCAL_MAX + 1), i;

	if (len == 0)
		return mf_err_set(err, errlen, "empty local part"), -1;
	if (len > UDB_LOCAL_MAX)
		return mf_err_set(err, errlen, "local part longer than %d characters: %s",
				  UDB_LOCAL_MAX, shown(in, buf)), -1;
	if (has_non_ascii(in))
		return mf_err_set(err, errlen,
				  "local part '%s' is not ASCII: internationalized local parts "
				  "are not supported", shown(in, buf)), -1;
	for (i = 0; i < len; i++) {
		char c = lower(in[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '=' || c == '-'))
			return mf_err_set(err, errlen,
					  "invalid local part '%s': only letters, digits and . _ + "
					  "= - are allowed", shown(in, buf)), -1;
		if (c == '.' && (i == 0 || i == len - 1 || out[i - 1] == '.'))
			return mf_err_set(err, errlen,
					  "invalid local part '%s': a '.' at the start, at the end "
					  "or twice in a row", shown(in, buf)), -1;
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}

int udb_address_normalize(const char *in, char out[UDB_ADDRESS_MAX + 1],
			  char local_r[UDB_LOCAL_MAX + 1], char domain_r[UDB_DOMAIN_MAX + 1],
			  char *err, size_t errlen)
{
	char local[UDB_LOCAL_MAX + 1], domain[UDB_DOMAIN_MAX + 1], lbuf[UDB_LOCAL_MAX + 2], buf[48];
	const char *at = strchr(in, '@');
	size_t llen;

	if (strnlen(in, UDB_ADDRESS_MAX + 1) > UDB_ADDRESS_MAX)
		return mf_err_set(err, errlen, "address longer than %d characters: %s",
				  UDB_ADDRESS_MAX, shown(in, buf)), -1;
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return mf_err_set(err, errlen, "'%s' is not an address of the form local@domain",
				  shown(in, buf)), -1;
	llen = (size_t)(at - in);
	if (llen > UDB_LOCAL_MAX)
		return mf_err_set(err, errlen, "local part longer than %d characters: %s",
				  UDB_LOCAL_MAX, shown(in, buf)), -1;
	memcpy(lbuf, in, llen);
	lbuf[llen] = '\0';
	if (udb_local_normalize(lbuf, local, err, errlen) < 0 ||
	    udb_domain_normalize(at + 1, domain, err, errlen) < 0)
		return -1;
	strcpy(out, local);
	strcat(out, "@");
	strcat(out, domain);
	if (local_r != NULL)
		strcpy(local_r, local);
	if (domain_r != NULL)
		strcpy(domain_r, domain);
	return 0;
}

int udb_pattern_normalize(const char *in, int allow_catchall, char out[UDB_ADDRESS_MAX + 1],
			  char domain_r[UDB_DOMAIN_MAX + 1], char *err, size_t errlen)
{
	char domain[UDB_DOMAIN_MAX + 1];

	if (in[0] == '@' && allow_catchall) {
		if (udb_domain_normalize(in + 1, domain, err, errlen) < 0)
			return -1;
		out[0] = '@';
		strcpy(out + 1, domain);
		if (domain_r != NULL)
			strcpy(domain_r, domain);
		return 0;
	}
	return udb_address_normalize(in, out, NULL, domain_r, err, errlen);
}
