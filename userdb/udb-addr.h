/*
 * udb-addr.h - what mailfruit accepts as a domain and a mail address.
 *
 * Contract: every name that enters the user database passes through here
 * and comes out lower-case ASCII from a small alphabet, so it can reach
 * neither SQL (which only ever sees bound parameters anyway) nor Dovecot's
 * '%' variable expansion, a file system path or a log line with surprises:
 *   - domain: LDH labels of 1..63 characters, not starting or ending with
 *     '-', at least two labels, at most 253 characters, no trailing dot;
 *     an internationalized domain must be given in its A-label (xn--) form;
 *   - local part: 1..64 of [a-z0-9._+=-], not starting or ending with '.',
 *     no "..".
 * Upper-case ASCII is folded; anything else (quotes, '%', control
 * characters, non-ASCII, over-long input) is refused with a one-line
 * message naming the problem. Functions return 0 or -1.
 */
#ifndef UDB_ADDR_H
#define UDB_ADDR_H

#include <stddef.h>

#define UDB_DOMAIN_MAX 253
#define UDB_LOCAL_MAX 64
/* local@domain */
#define UDB_ADDRESS_MAX (UDB_LOCAL_MAX + 1 + UDB_DOMAIN_MAX)

int udb_domain_normalize(const char *in, char out[UDB_DOMAIN_MAX + 1], char *err,
			 size_t errlen);
int udb_local_normalize(const char *in, char out[UDB_LOCAL_MAX + 1], char *err, size_t errlen);

/* "local@domain": out receives the whole normalized address; local_r and
 * domain_r (either may be NULL) its parts. */
int udb_address_normalize(const char *in, char out[UDB_ADDRESS_MAX + 1],
			  char local_r[UDB_LOCAL_MAX + 1], char domain_r[UDB_DOMAIN_MAX + 1],
			  char *err, size_t errlen);

/* An address or, when allow_catchall, "@domain" (every address of the
 * domain: catch-all aliases, send-as rights for a whole domain). The domain
 * part goes to domain_r when not NULL. */
int udb_pattern_normalize(const char *in, int allow_catchall, char out[UDB_ADDRESS_MAX + 1],
			  char domain_r[UDB_DOMAIN_MAX + 1], char *err, size_t errlen);

#endif
