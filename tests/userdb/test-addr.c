/* test-addr.c - what the user database accepts as domains and addresses,
 * and that hostile input is refused with a clean message. */
#include "mailfruit-config.h"

#include <string.h>

#include "tap.h"
#include "udb-addr.h"

static void good_domain(const char *in, const char *want)
{
	char out[UDB_DOMAIN_MAX + 1], err[256] = "";

	tap_ok(udb_domain_normalize(in, out, err, sizeof(err)) == 0 && strcmp(out, want) == 0,
	       "domain '%s' -> '%s' %s", in, want, err);
}

static void bad_domain(const char *in, const char *why, const char *msg_part)
{
	char out[UDB_DOMAIN_MAX + 1], err[256] = "";

	tap_ok(udb_domain_normalize(in, out, err, sizeof(err)) < 0 && strstr(err, msg_part),
	       "domain refused: %s (%s)", why, err);
}

static void good_addr(const char *in, const char *want)
{
	char out[UDB_ADDRESS_MAX + 1], local[UDB_LOCAL_MAX + 1], domain[UDB_DOMAIN_MAX + 1];
	char err[256] = "";

	tap_ok(udb_address_normalize(in, out, local, domain, err, sizeof(err)) == 0 &&
	       strcmp(out, want) == 0 && strncmp(want, local, strlen(local)) == 0 &&
	       strcmp(strchr(want, '@') + 1, domain) == 0,
	       "address '%s' -> '%s' %s", in, want, err);
}

static void bad_addr(const char *in, const char *why)
{
	char out[UDB_ADDRESS_MAX + 1], err[256] = "";
	size_t i;
	bool clean = true;

	tap_ok(udb_address_normalize(in, out, NULL, NULL, err, sizeof(err)) < 0 && err[0] != '\0',
	       "address refused: %s", why);
	/* The message quotes the input, but never a control character or
	 * non-ASCII byte, and never at length. */
	for (i = 0; err[i] != '\0'; i++)
		clean = clean && (unsigned char)err[i] >= 0x20 && (unsigned char)err[i] < 0x7f;
	tap_ok(clean && strlen(err) < 200, "  its message is one clean line: %s", err);
}

int main(void)
{
	char big[10001], out[UDB_ADDRESS_MAX + 1], err[256];
	char label63[80], label64[80];

	good_domain("example.org", "example.org");
	good_domain("Mail.EXAMPLE.org", "mail.example.org");
	good_domain("xn--bcher-kva.example", "xn--bcher-kva.example");
	good_domain("a-b.c0", "a-b.c0");
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".org");
	good_domain(label63, label63);
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".org");
	bad_domain(label64, "label of 64", "longer than 63");
	bad_domain("", "empty", "empty");
	bad_domain("localhost", "one label", "two labels");
	bad_domain("example.org.", "trailing dot", "ends with");
	bad_domain(".example.org", "leading dot", "empty label");
	bad_domain("ex..ample.org", "empty label", "empty label");
	bad_domain("-ex.org", "label starting with -", "starts with");
	bad_domain("ex-.org", "label ending with -", "ending in '-'");
	bad_domain("bücher.example", "UTF-8", "A-label");
	bad_domain("ex'ample.org", "quote", "only letters");
	bad_domain("ex%ample.org", "percent", "only letters");
	bad_domain("ex_ample.org", "underscore", "only letters");
	bad_domain("example.org\n", "newline", "only letters");

	good_addr("alice@example.org", "alice@example.org");
	good_addr("Alice.Smith+tag@Example.Org", "alice.smith+tag@example.org");
	good_addr("a_b=c-d@example.org", "a_b=c-d@example.org");
	bad_addr("alice", "no @");
	bad_addr("a@b@example.org", "two @");
	bad_addr("@example.org", "empty local part");
	bad_addr("alice@", "empty domain");
	bad_addr(".alice@example.org", "leading dot");
	bad_addr("alice.@example.org", "trailing dot");
	bad_addr("al..ice@example.org", "double dot");
	bad_addr("al'ice@example.org", "single quote (SQL)");
	bad_addr("al\"ice@example.org", "double quote");
	bad_addr("al%uice@example.org", "percent (Dovecot expansion)");
	bad_addr("al%%ice@example.org", "doubled percent");
	bad_addr("alice\n@example.org", "newline");
	bad_addr("alice@example.org\nX-Injected: yes", "newline in the domain");
	bad_addr("al\tice@example.org", "tab");
	bad_addr("al ice@example.org", "space");
	bad_addr("alice;DROP TABLE mailboxes@example.org", "SQL");
	bad_addr("ålice@example.org", "UTF-8 local part");
	bad_addr("alice@ex\xc3\xa4mple.org", "UTF-8 domain");
	bad_addr("\xff\xfe@example.org", "invalid UTF-8");
	bad_addr("../../etc@example.org", "path");
	bad_addr("alice/x@example.org", "slash");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[100] = '@';
	bad_addr(big, "10 000 characters");
	big[100] = 'a';
	big[9990] = '@';
	bad_addr(big, "10 000 characters, @ at the end");

	tap_ok(udb_pattern_normalize("@Example.ORG", 1, out, NULL, err, sizeof(err)) == 0 &&
	       strcmp(out, "@example.org") == 0, "catch-all pattern @domain");
	tap_ok(udb_pattern_normalize("@example.org", 0, out, NULL, err, sizeof(err)) < 0,
	       "no catch-all where it is not allowed");
	tap_ok(udb_pattern_normalize("@", 1, out, NULL, err, sizeof(err)) < 0, "bare @ refused");
	return tap_done();
}
