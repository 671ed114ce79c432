/* test-cidr.c - unit tests for common/mf-cidr. */
#include "mailfruit-config.h"

#include "mf-cidr.h"
#include "tap.h"

#include <string.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct addr_case {
	const char *text;
	const char *formatted;	/* NULL: must be rejected */
	bool is_v4;
};

static const struct addr_case addr_cases[] = {
	{ "192.0.2.7", "192.0.2.7", true },
	{ "0.0.0.0", "0.0.0.0", true },
	{ "255.255.255.255", "255.255.255.255", true },
	{ "[192.0.2.7]", "192.0.2.7", true },
	{ "::ffff:192.0.2.7", "192.0.2.7", true },
	{ "[::ffff:c000:207]", "192.0.2.7", true },
	{ "[IPv6:::ffff:192.0.2.7]", "192.0.2.7", true },
	{ "2001:db8::1", "2001:db8::1", false },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", false },
	{ "::1", "::1", false },
	{ "::", "::", false },
	{ "[2001:db8::1]", "2001:db8::1", false },
	{ "[IPv6:2001:db8::1]", "2001:db8::1", false },
	{ "[ipv6:2001:db8::1]", "2001:db8::1", false },
	{ "IPV6:2001:db8::1", "2001:db8::1", false },
	{ "", NULL, false },
	{ "[]", NULL, false },
	{ "[", NULL, false },
	{ "]", NULL, false },
	{ "[192.0.2.7", NULL, false },
	{ "192.0.2.7]", NULL, false },
	{ "[[::1]]", NULL, false },
	{ "192.0.2", NULL, false },
	{ "192.0.2.256", NULL, false },
	{ "192.0.2.7.1", NULL, false },
	{ "192.0.02.7", NULL, false },
	{ "0x7f.0.0.1", NULL, false },
	{ " 192.0.2.7", NULL, false },
	{ "192.0.2.7 ", NULL, false },
	{ "192.0.2.0/24", NULL, false },
	{ "2001:db8::/32", NULL, false },
	{ "fe80::1%eth0", NULL, false },
	{ "[fe80::1%25eth0]", NULL, false },
	{ "2001:db8:::1", NULL, false },
	{ "2001:db8::1::2", NULL, false },
	{ "1:2:3:4:5:6:7:8:9", NULL, false },
	{ "IPv6:192.0.2.7", NULL, false },
	{ "[IPv6:192.0.2.7]", NULL, false },
	{ "IPv6:", NULL, false },
	{ "IPv4:192.0.2.7", NULL, false },
	{ "localhost", NULL, false },
	{ "example.com", NULL, false },
	{ "-1", NULL, false },
};

static void test_addr_parse(void)
{
	char long_text[300];
	char buf[MF_ADDR_STRLEN];
	struct mf_addr addr;
	size_t i;
	int rc;

	for (i = 0; i < N_ELEMENTS(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];

		rc = mf_addr_parse(c->text, &addr);
		if (c->formatted == NULL) {
			tap_is_int(rc, -1, "addr \"%s\" is rejected", c->text);
			continue;
		}
		if (!tap_is_int(rc, 0, "addr \"%s\" parses", c->text))
			continue;
		mf_addr_format(&addr, buf, sizeof(buf));
		tap_is_str(buf, c->formatted, "addr \"%s\" formats", c->text);
		tap_is_int(mf_addr_is_v4(&addr), c->is_v4, "addr \"%s\" is_v4", c->text);
	}
	tap_is_int(mf_addr_parse(NULL, &addr), -1, "addr NULL is rejected");
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	tap_is_int(mf_addr_parse(long_text, &addr), -1, "overlong addr is rejected");

	/* A short buffer must not overflow; the result is empty. */
	mf_addr_parse("2001:db8::1", &addr);
	mf_addr_format(&addr, buf, 4);
	tap_is_str(buf, "", "format into a short buffer gives an empty string");
}

struct match_case {
	const char *pattern;
	const char *addr;
	bool match;
};

static const struct match_case match_cases[] = {
	/* IPv4 network: first, last, one below, one above. */
	{ "192.0.2.0/24", "192.0.2.0", true },
	{ "192.0.2.0/24", "192.0.2.255", true },
	{ "192.0.2.0/24", "192.0.1.255", false },
	{ "192.0.2.0/24", "192.0.3.0", false },
	{ "192.0.2.0/24", "::ffff:192.0.2.7", true },
	{ "192.0.2.0/24", "[IPv6:::ffff:192.0.2.7]", true },
	{ "192.0.2.0/24", "::ffff:192.0.3.7", false },
	{ "192.0.2.0/24", "::192.0.2.7", false },
	{ "192.0.2.0/24", "2001:db8::1", false },
	/* Odd prefix lengths cut inside a byte. */
	{ "10.0.0.0/9", "10.127.255.255", true },
	{ "10.0.0.0/9", "10.128.0.0", false },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "172.16.0.0/12", "172.15.255.255", false },
	{ "192.0.2.128/25", "192.0.2.128", true },
	{ "192.0.2.128/25", "192.0.2.127", false },
	/* Host patterns. */
	{ "10.1.2.3", "10.1.2.3", true },
	{ "10.1.2.3", "10.1.2.4", false },
	{ "10.1.2.3/32", "10.1.2.3", true },
	{ "10.1.2.3/32", "10.1.2.2", false },
	{ "[10.1.2.3]", "10.1.2.3", true },
	{ "[10.1.2.3]/32", "::ffff:10.1.2.3", true },
	/* /0 */
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "::1", false },
	{ "0.0.0.0/0", "2001:db8::1", false },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "192.0.2.7", true },
	{ "::/0", "::", true },
	/* IPv6 networks. */
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/32", "[IPv6:2001:DB8::25]", true },
	{ "[2001:db8::]/32", "2001:db8:1::1", true },
	{ "2001:db8:8000::/33", "2001:db8:8000::", true },
	{ "2001:db8:8000::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "::1", "::1", true },
	{ "::1/128", "::1", true },
	{ "::1/128", "::2", false },
	{ "::1", "127.0.0.1", false },
	{ "::ffff:0:0/96", "192.0.2.7", true },
	{ "::ffff:0:0/96", "2001:db8::1", false },
	/* v4-mapped pattern matches plain IPv4 clients too. */
	{ "::ffff:192.0.2.0/120", "192.0.2.99", true },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.99", true },
	{ "::ffff:192.0.2.0/120", "192.0.3.99", false },
	{ "::ffff:192.0.2.7", "192.0.2.7", true },
};

static void test_match(void)
{
	struct mf_cidr cidr;
	struct mf_addr addr;
	char err[256];
	size_t i;

	for (i = 0; i < N_ELEMENTS(match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		err[0] = '\0';
		if (mf_cidr_parse(c->pattern, &cidr, err, sizeof(err)) < 0) {
			tap_ok(false, "pattern \"%s\" parses", c->pattern);
			tap_diag("error: %s", err);
			continue;
		}
		if (mf_addr_parse(c->addr, &addr) < 0) {
			tap_ok(false, "address \"%s\" parses", c->addr);
			continue;
		}
		tap_is_int(mf_cidr_match(&cidr, &addr), c->match, "\"%s\" %s \"%s\"",
			   c->pattern, c->match ? "matches" : "does not match", c->addr);
	}
}

struct bad_case {
	const char *pattern;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{ "", "empty CIDR pattern" },
	{ "10.1.2.3/8",
	  "non-null host address bits in \"10.1.2.3/8\", perhaps you should use \"10.0.0.0/8\" instead" },
	{ "192.0.2.1/24",
	  "non-null host address bits in \"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\" instead" },
	{ "192.0.2.0/0",
	  "non-null host address bits in \"192.0.2.0/0\", perhaps you should use \"0.0.0.0/0\" instead" },
	{ "2001:db8::1/32",
	  "non-null host address bits in \"2001:db8::1/32\", perhaps you should use \"2001:db8::/32\" instead" },
	{ "[2001:db8::1]/64",
	  "non-null host address bits in \"[2001:db8::1]/64\", perhaps you should use \"2001:db8::/64\" instead" },
	{ "::ffff:192.0.2.1/120",
	  "non-null host address bits in \"::ffff:192.0.2.1/120\", perhaps you should use \"::ffff:192.0.2.0/120\" instead" },
	{ "10.0.0.0/33", "bad prefix length in \"10.0.0.0/33\" (want 0 to 32)" },
	{ "10.0.0.0/100", "bad prefix length in \"10.0.0.0/100\" (want 0 to 32)" },
	{ "2001:db8::/129", "bad prefix length in \"2001:db8::/129\" (want 0 to 128)" },
	{ "::/4294967296", "bad prefix length in \"::/4294967296\" (want 0 to 128)" },
	{ "10.0.0.0/", "missing prefix length after '/' in \"10.0.0.0/\"" },
	{ "[::1]/", "missing prefix length after '/' in \"[::1]/\"" },
	{ "10.0.0.0/-1", "bad prefix length in \"10.0.0.0/-1\" (want 0 to 32)" },
	{ "10.0.0.0/+8", "bad prefix length in \"10.0.0.0/+8\" (want 0 to 32)" },
	{ "10.0.0.0/08x", "bad prefix length in \"10.0.0.0/08x\" (want 0 to 32)" },
	{ "10.0.0.0/ 8", "bad prefix length in \"10.0.0.0/ 8\" (want 0 to 32)" },
	{ "10.0.0.0/8/8", "bad prefix length in \"10.0.0.0/8/8\" (want 0 to 32)" },
	{ "/8", "bad address in \"/8\"" },
	{ "/", "bad address in \"/\"" },
	{ "10.0.0/8", "bad address in \"10.0.0/8\"" },
	{ "300.0.0.0/8", "bad address in \"300.0.0.0/8\"" },
	{ "example.com", "bad address in \"example.com\"" },
	{ "fe80::%eth0/64", "bad address in \"fe80::%eth0/64\"" },
	{ "IPv6:2001:db8::/32", "bad address in \"IPv6:2001:db8::/32\"" },
	{ "[]", "bad address in \"[]\"" },
	{ "[2001:db8::/32", "missing ']' in \"[2001:db8::/32\"" },
	{ "[2001:db8::/32]", "bad address in \"[2001:db8::/32]\"" },
	{ "[2001:db8::]x", "garbage after ']' in \"[2001:db8::]x\"" },
	{ "[2001:db8::]]/32", "garbage after ']' in \"[2001:db8::]]/32\"" },
};

static void test_bad_patterns(void)
{
	char long_text[200];
	struct mf_cidr cidr;
	char err[256];
	size_t i;

	for (i = 0; i < N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		strcpy(err, "(none)");
		tap_is_int(mf_cidr_parse(c->pattern, &cidr, err, sizeof(err)), -1,
			   "pattern \"%s\" is rejected", c->pattern);
		tap_is_str(err, c->error, "pattern \"%s\" error text", c->pattern);
	}
	tap_is_int(mf_cidr_parse(NULL, &cidr, err, sizeof(err)), -1, "NULL pattern is rejected");
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	tap_is_int(mf_cidr_parse(long_text, &cidr, err, sizeof(err)), -1,
		   "overlong pattern is rejected");
	tap_contains(err, "CIDR pattern too long (max 128)", "overlong pattern error text");
	/* A NULL or tiny error buffer must not be written past. */
	tap_is_int(mf_cidr_parse("10.1.2.3/8", &cidr, NULL, 0), -1, "error with no buffer");
	strcpy(err, "xyz");
	tap_is_int(mf_cidr_parse("10.1.2.3/8", &cidr, err, 2), -1, "error with a 2-byte buffer");
	tap_is_str(err, "n", "2-byte error buffer is truncated and terminated");
}

static void test_list(void)
{
	struct mf_cidr_list list = { 0 };
	struct mf_addr addr;
	char err[256];

	tap_is_int(mf_cidr_list_parse(&list, "", err, sizeof(err)), 0, "empty list parses");
	tap_is_int((long long)list.count, 0, "empty list has no items");
	mf_addr_parse("192.0.2.7", &addr);
	tap_ok(!mf_cidr_list_match(&list, &addr), "empty list matches nothing");
	tap_is_int(mf_cidr_list_parse(&list, " ,\t, \n", err, sizeof(err)), 0,
		   "list of separators parses");
	tap_is_int((long long)list.count, 0, "list of separators has no items");

	tap_is_int(mf_cidr_list_parse(&list, "127.0.0.0/8, ::1\t[2001:db8::]/32,,10.1.2.3",
				      err, sizeof(err)), 0, "mixed list parses");
	tap_is_int((long long)list.count, 4, "mixed list has 4 items");
	mf_addr_parse("127.1.2.3", &addr);
	tap_ok(mf_cidr_list_match(&list, &addr), "list matches first item");
	mf_addr_parse("[IPv6:2001:db8:5::1]", &addr);
	tap_ok(mf_cidr_list_match(&list, &addr), "list matches third item");
	mf_addr_parse("10.1.2.3", &addr);
	tap_ok(mf_cidr_list_match(&list, &addr), "list matches last item");
	mf_addr_parse("10.1.2.4", &addr);
	tap_ok(!mf_cidr_list_match(&list, &addr), "list does not match other address");

	tap_is_int(mf_cidr_list_parse(&list, "192.0.2.0/24 10.1.2.3/8", err, sizeof(err)), -1,
		   "list with a bad item is rejected");
	tap_contains(err, "non-null host address bits in \"10.1.2.3/8\"",
		     "list error names the bad item");
	tap_is_int((long long)list.count, 4, "failed parse leaves the list unchanged");
	mf_addr_parse("192.0.2.1", &addr);
	tap_ok(!mf_cidr_list_match(&list, &addr), "items before the error were not added");

	tap_is_int(mf_cidr_list_parse(&list, "192.0.2.0/24", err, sizeof(err)), 0,
		   "second parse appends");
	tap_is_int((long long)list.count, 5, "list now has 5 items");
	tap_ok(mf_cidr_list_match(&list, &addr), "appended item matches");

	tap_is_int(mf_cidr_list_parse(&list,
				      "1.0.0.0/8 2.0.0.0/8 3.0.0.0/8 4.0.0.0/8 5.0.0.0/8 6.0.0.0/8 "
				      "7.0.0.0/8 8.0.0.0/8 9.0.0.0/8 11.0.0.0/8 12.0.0.0/8",
				      err, sizeof(err)), 0, "list longer than the initial array parses");
	tap_is_int((long long)list.count, 16, "list now has 16 items");
	mf_addr_parse("12.255.0.1", &addr);
	tap_ok(mf_cidr_list_match(&list, &addr), "item after array growth matches");

	mf_cidr_list_free(&list);
	tap_ok(list.items == NULL && list.count == 0, "free leaves an empty list");
	mf_cidr_list_free(&list);
	tap_ok(true, "free of an empty list is harmless");
}

int main(void)
{
	test_addr_parse();
	test_match();
	test_bad_patterns();
	test_list();
	return tap_done();
}
