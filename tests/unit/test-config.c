/* test-config.c - unit tests for common/mf-config. */
#include "mailfruit-config.h"

#include "mf-config.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/mf-test-config.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		tap_diag("mkdtemp %s: %s", tmpdir, strerror(errno));
		tmpdir[0] = '\0';
	}
}

/* Writes len bytes to tmpdir/name; returns the path (static) or NULL. */
static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	if (fwrite(data, 1, len, fp) != len) {
		fclose(fp);
		return NULL;
	}
	return fclose(fp) == 0 ? path : NULL;
}

static const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

static void remove_file(const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
}

/* Loads text as "t.conf"; returns the object (free it) or NULL with err. */
static struct mf_config *load(const char *text, char *err, size_t errlen)
{
	struct mf_config *cfg = mf_config_new();

	if (cfg != NULL && mf_config_load_string(cfg, "t.conf", text, err, errlen) < 0) {
		mf_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static const char good_text[] =
	"# mailfruit test file\n"				/* 1 */
	"   # an indented comment\n"				/* 2 */
	"\n"							/* 3 */
	"alpha = one\n"						/* 4 */
	"beta=two   \n"						/* 5 */
	"gamma   =    three  four  \t\n"			/* 6 */
	"long = first\n"					/* 7 */
	"    second   \n"					/* 8 */
	"# a comment inside a continued line\n"			/* 9 */
	"\n"							/* 10 */
	"\tthird\n"						/* 11 */
	"dup = 1\n"						/* 12 */
	"dup = 2\n"						/* 13 */
	"ref = $alpha-x\n"					/* 14 */
	"bref = ${beta}x\n"					/* 15 */
	"dollar = cost $$5 and $${x} $$alpha\n"			/* 16 */
	"nested = $ref/${bref}/$fromdef\n"			/* 17 */
	"empty =\n"						/* 18 */
	"fromdef = $base/sub\n"					/* 19 */
	"eqval = a=b = c\n"					/* 20 */
	"crlf = value\r\n"					/* 21 */
	"utf8 = caf\xc3\xa9 # not a comment\n"			/* 22 */
	"dup = 3";						/* 23, no newline */

struct good_case {
	const char *key;
	const char *value;
	unsigned int line;
};

static const struct good_case good_cases[] = {
	{ "alpha", "one", 4 },
	{ "beta", "two", 5 },
	{ "gamma", "three  four", 6 },
	{ "long", "first second third", 7 },
	{ "dup", "3", 23 },
	{ "ref", "one-x", 14 },
	{ "bref", "twox", 15 },
	{ "dollar", "cost $5 and ${x} $alpha", 16 },
	{ "nested", "one-x/twox//var/lib/sub", 17 },
	{ "empty", "", 18 },
	{ "fromdef", "/var/lib/sub", 19 },
	{ "eqval", "a=b = c", 20 },
	{ "crlf", "value", 21 },
	{ "utf8", "caf\xc3\xa9 # not a comment", 22 },
	{ "base", "/var/lib", 0 },
	{ "only_default", "one!", 0 },
	{ "default_ref", "/var/lib/sub", 0 },
	{ "missing", NULL, 0 },
	{ "", NULL, 0 },
	{ "al", NULL, 0 },
};

static void test_good(void)
{
	static const char *const order[] = {
		"alpha", "beta", "gamma", "long", "dup", "ref", "bref", "dollar",
		"nested", "empty", "fromdef", "eqval", "crlf", "utf8",
	};
	struct mf_config *cfg = mf_config_new();
	char err[512] = "";
	size_t i;

	tap_is_int(mf_config_set_default(cfg, "base", "/var/lib"), 0, "set default base");
	tap_is_int(mf_config_set_default(cfg, "alpha", "default-alpha"), 0, "set default alpha");
	tap_is_int(mf_config_set_default(cfg, "only_default", "$alpha!"), 0,
		   "set default only_default");
	tap_is_int(mf_config_set_default(cfg, "default_ref", "${fromdef}"), 0,
		   "set default default_ref");
	tap_is_int(mf_config_set_default(cfg, "bad-name", "x"), -1, "default with bad name fails");
	tap_is_int(mf_config_set_default(cfg, "", "x"), -1, "default with empty name fails");
	tap_ok(mf_config_get(cfg, "base") == NULL, "nothing is visible before loading");

	if (!tap_is_int(mf_config_load_string(cfg, "good.conf", good_text, err, sizeof(err)), 0,
			"good file loads")) {
		tap_diag("error: %s", err);
		mf_config_free(cfg);
		return;
	}
	for (i = 0; i < N_ELEMENTS(good_cases); i++) {
		const struct good_case *c = &good_cases[i];

		tap_is_str(mf_config_get(cfg, c->key), c->value, "value of \"%s\"", c->key);
		tap_is_int(mf_config_line(cfg, c->key), c->line, "line of \"%s\"", c->key);
	}
	tap_is_int(mf_config_overridden_line(cfg, "dup"), 13, "dup at 23 overrides line 13");
	tap_is_int(mf_config_overridden_line(cfg, "alpha"), 0, "alpha overrides nothing");
	tap_is_int(mf_config_overridden_line(cfg, "base"), 0, "default-only overrides nothing");

	tap_is_int((long long)mf_config_count(cfg), (long long)N_ELEMENTS(order),
		   "count of file keys");
	for (i = 0; i < N_ELEMENTS(order); i++)
		tap_is_str(mf_config_key_at(cfg, i), order[i], "key %zu in file order", i);
	tap_ok(mf_config_key_at(cfg, N_ELEMENTS(order)) == NULL, "key_at past the end is NULL");

	mf_config_error(cfg, "gamma", err, sizeof(err), "unknown parameter \"%s\"", "gamma");
	tap_is_str(err, "good.conf, line 6: unknown parameter \"gamma\"",
		   "mf_config_error names file and line");
	tap_is_int(mf_config_error(cfg, "nope", err, sizeof(err), "x %d", 1), -1,
		   "mf_config_error returns -1");
	tap_is_str(err, "good.conf: x 1", "mf_config_error for a key not in the file");

	tap_is_int(mf_config_set_default(cfg, "late", "x"), -1, "set_default after load fails");
	tap_is_int(mf_config_load_string(cfg, "again.conf", "a = 1", err, sizeof(err)), -1,
		   "second load fails");
	tap_is_str(err, "again.conf: configuration object already loaded from good.conf",
		   "second load error text");
	tap_is_str(mf_config_get(cfg, "alpha"), "one", "first load survives a refused second");
	mf_config_free(cfg);
	mf_config_free(NULL);
}

struct bad_case {
	const char *text;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{ "a = 1\nfoo\n", "t.conf, line 2: missing '=' after parameter name \"foo\"" },
	{ "foo bar baz", "t.conf, line 1: missing '=' after parameter name \"foo bar baz\"" },
	{ "a = 1\nfoo\n  = 2\nbar", "t.conf, line 4: missing '=' after parameter name \"bar\"" },
	{ "fo-o = 1", "t.conf, line 1: bad parameter name \"fo-o\"" },
	{ "a = 1\n\n= x", "t.conf, line 3: bad parameter name \"\"" },
	{ "foo bar = x", "t.conf, line 1: bad parameter name \"foo bar\"" },
	{ "foo.bar = x", "t.conf, line 1: bad parameter name \"foo.bar\"" },
	{ "$foo = x", "t.conf, line 1: bad parameter name \"$foo\"" },
	{ "caf\xc3\xa9 = x", "t.conf, line 1: bad parameter name \"caf\xc3\xa9\"" },
	{ "  foo = bar", "t.conf, line 1: continuation line without preceding parameter" },
	{ "# c\n\n\tx = 1", "t.conf, line 3: continuation line without preceding parameter" },
	{ "a = $nope", "t.conf, line 1: undefined parameter \"$nope\" in value of \"a\"" },
	{ "a = 1\nb = x${nope}y",
	  "t.conf, line 2: undefined parameter \"$nope\" in value of \"b\"" },
	{ "a = $b\nb = $c\nc = $a",
	  "t.conf, line 3: reference loop via \"$a\" in value of \"c\"" },
	{ "a = x$a", "t.conf, line 1: reference loop via \"$a\" in value of \"a\"" },
	{ "a = 5$", "t.conf, line 1: stray '$' in value of \"a\" (use \"$$\" for a literal '$')" },
	{ "a = $-x", "t.conf, line 1: stray '$' in value of \"a\" (use \"$$\" for a literal '$')" },
	{ "a = ${b", "t.conf, line 1: missing '}' after \"${\" in value of \"a\"" },
	{ "a = ${}", "t.conf, line 1: bad parameter reference \"${}\" in value of \"a\"" },
	{ "a = ${b c}", "t.conf, line 1: bad parameter reference \"${b c}\" in value of \"a\"" },
	{ "a = $$$", "t.conf, line 1: stray '$' in value of \"a\" (use \"$$\" for a literal '$')" },
};

static void test_bad(void)
{
	struct mf_config *cfg;
	char err[512];
	size_t i;

	for (i = 0; i < N_ELEMENTS(bad_cases); i++) {
		strcpy(err, "(none)");
		cfg = load(bad_cases[i].text, err, sizeof(err));
		tap_ok(cfg == NULL, "bad case %zu is rejected", i);
		tap_is_str(err, bad_cases[i].error, "bad case %zu error text", i);
		mf_config_free(cfg);
	}

	/* A failed object answers nothing. */
	cfg = mf_config_new();
	mf_config_set_default(cfg, "d", "x");
	tap_is_int(mf_config_load_string(cfg, "t.conf", "a = 1\nb = $c", err, sizeof(err)), -1,
		   "load fails");
	tap_ok(mf_config_get(cfg, "a") == NULL && mf_config_get(cfg, "d") == NULL &&
	       mf_config_count(cfg) == 0 && mf_config_line(cfg, "a") == 0,
	       "failed object has no values");
	mf_config_free(cfg);

	cfg = mf_config_new();
	mf_config_set_default(cfg, "d", "$nope");
	tap_is_int(mf_config_load_string(cfg, "t.conf", "a = 1", err, sizeof(err)), -1,
		   "bad default fails the load");
	tap_is_str(err, "t.conf: default value of \"d\": undefined parameter \"$nope\" in value of \"d\"",
		   "bad default error text");
	mf_config_free(cfg);
}

/* Errors that need generated input: sizes and nesting limits. */
static void test_limits(void)
{
	size_t size = 512 * 1024;
	char *text = malloc(size);
	struct mf_config *cfg;
	char err[512];
	size_t len, i;

	if (!tap_ok(text != NULL, "allocate limit test buffer"))
		return;

	/* Exactly MF_CONFIG_LINE_MAX is fine, one more is not. */
	len = (size_t)snprintf(text, size, "a = 1\nb = ");
	memset(text + len, 'x', MF_CONFIG_LINE_MAX - 4);
	text[len + MF_CONFIG_LINE_MAX - 4] = '\0';
	cfg = load(text, err, sizeof(err));
	tap_ok(cfg != NULL, "line of exactly %d bytes loads", MF_CONFIG_LINE_MAX);
	tap_is_int(cfg != NULL ? (long long)strlen(mf_config_get(cfg, "b")) : -1,
		   MF_CONFIG_LINE_MAX - 4, "value of the longest line is whole");
	mf_config_free(cfg);
	strcat(text, "x\nc = 1\n");
	cfg = load(text, err, sizeof(err));
	tap_ok(cfg == NULL, "line of %d bytes is rejected", MF_CONFIG_LINE_MAX + 1);
	tap_is_str(err, "t.conf, line 2: line too long (max 4096)", "overlong line error text");
	mf_config_free(cfg);

	/* 17 continuation lines of 4000 bytes exceed 65536. */
	len = (size_t)snprintf(text, size, "# c\na = start\n");
	for (i = 0; i < 17; i++) {
		text[len++] = ' ';
		memset(text + len, 'y', 4000);
		len += 4000;
		text[len++] = '\n';
	}
	text[len] = '\0';
	cfg = load(text, err, sizeof(err));
	tap_ok(cfg == NULL, "overlong logical line is rejected");
	tap_is_str(err, "t.conf, line 2: logical line too long (max 65536)",
		   "overlong logical line error names its first line");
	mf_config_free(cfg);

	/* Expansion past MF_CONFIG_VALUE_MAX. */
	len = (size_t)snprintf(text, size, "a = ");
	memset(text + len, 'z', 4000);
	len += 4000;
	len += (size_t)snprintf(text + len, size - len, "\nb = ");
	for (i = 0; i < 17; i++)
		len += (size_t)snprintf(text + len, size - len, "$a");
	cfg = load(text, err, sizeof(err));
	tap_ok(cfg == NULL, "overlong expansion is rejected");
	tap_is_str(err, "t.conf, line 2: expanded value of \"b\" too long (max 65536)",
		   "overlong expansion error text");
	mf_config_free(cfg);

	/* 140 copies of a 60000-byte value exceed the 8 MB total. */
	len = (size_t)snprintf(text, size, "a = x");
	for (i = 0; i < 15; i++) {
		text[len++] = '\n';
		text[len++] = ' ';
		memset(text + len, 'w', 3999);
		len += 3999;
	}
	for (i = 0; i < 140; i++)
		len += (size_t)snprintf(text + len, size - len, "\nb%zu = $a", i);
	cfg = load(text, err, sizeof(err));
	tap_ok(cfg == NULL, "expansion past the total budget is rejected");
	tap_contains(err, "expanded values too large in total", "total budget error text");
	mf_config_free(cfg);

	/* A chain of references: 100 levels are fine, 101 are not. */
	for (i = 100; i <= 101; i++) {
		size_t j;

		len = 0;
		for (j = 0; j + 1 < i; j++)
			len += (size_t)snprintf(text + len, size - len, "k%zu = $k%zu\n", j, j + 1);
		len += (size_t)snprintf(text + len, size - len, "k%zu = end\n", j);
		cfg = load(text, err, sizeof(err));
		if (i == 100) {
			tap_is_str(cfg != NULL ? mf_config_get(cfg, "k0") : err, "end",
				   "100 nested references expand");
		} else {
			tap_ok(cfg == NULL, "101 nested references are rejected");
			tap_is_str(err,
				   "t.conf, line 100: references nested too deeply (max 100) in value of \"k99\"",
				   "deep nesting error text");
		}
		mf_config_free(cfg);
	}

	/* Many keys and references: must stay fast (hash table). */
	len = 0;
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(text + len, size - len, "p%zu=$p%zu\n", i + 1, i / 2);
	len += (size_t)snprintf(text + len, size - len, "p0=zero\n");
	cfg = load(text, err, sizeof(err));
	tap_is_str(cfg != NULL ? mf_config_get(cfg, "p20000") : err, "zero",
		   "20000 keys with references load");
	tap_is_int(cfg != NULL ? (long long)mf_config_count(cfg) : -1, 20001, "all 20001 keys kept");
	mf_config_free(cfg);
	free(text);
}

static void test_files(void)
{
	static const char nul_text[] = "a = 1\nb = x\0y\nc = 2\n";
	struct mf_config *cfg;
	char want[PATH_MAX + 256];
	char err[PATH_MAX + 256];
	const char *path;
	char *big;

	if (!tap_ok(tmpdir[0] != '\0', "temp directory exists"))
		return;

	path = write_text("good.conf", "# x\nkey = value\nother = $key\n");
	cfg = mf_config_new();
	tap_is_int(mf_config_load_file(cfg, path, err, sizeof(err)), 0, "file loads");
	tap_is_str(mf_config_get(cfg, "other"), "value", "file value expands");
	tap_is_int(mf_config_line(cfg, "other"), 3, "file line number");
	mf_config_free(cfg);
	remove_file("good.conf");

	path = write_file("nul.conf", nul_text, sizeof(nul_text) - 1);
	cfg = mf_config_new();
	tap_is_int(mf_config_load_file(cfg, path, err, sizeof(err)), -1, "file with NUL fails");
	snprintf(want, sizeof(want), "%s, line 2: line contains a NUL character", path);
	tap_is_str(err, want, "NUL error names file and line");
	mf_config_free(cfg);
	remove_file("nul.conf");

	path = write_text("bad.conf", "ok = 1\n\nnot a setting\n");
	cfg = mf_config_new();
	tap_is_int(mf_config_load_file(cfg, path, err, sizeof(err)), -1, "bad file fails");
	snprintf(want, sizeof(want), "%s, line 3: missing '=' after parameter name \"not a setting\"",
		 path);
	tap_is_str(err, want, "file error uses the path as file name");
	mf_config_free(cfg);
	remove_file("bad.conf");

	snprintf(want, sizeof(want), "%s/missing.conf", tmpdir);
	cfg = mf_config_new();
	tap_is_int(mf_config_load_file(cfg, want, err, sizeof(err)), -1, "missing file fails");
	snprintf(want, sizeof(want), "open %s/missing.conf: %s", tmpdir, strerror(ENOENT));
	tap_is_str(err, want, "missing file error has path and strerror");
	tap_ok(mf_config_get(cfg, "x") == NULL, "failed file load leaves no values");
	mf_config_free(cfg);

	cfg = mf_config_new();
	tap_is_int(mf_config_load_file(cfg, tmpdir, err, sizeof(err)), -1, "directory fails");
	snprintf(want, sizeof(want), "read %s: %s", tmpdir, strerror(EISDIR));
	tap_is_str(err, want, "directory error has path and strerror");
	mf_config_free(cfg);

	if ((big = malloc(MF_CONFIG_FILE_MAX + 1)) != NULL) {
		memset(big, '#', MF_CONFIG_FILE_MAX + 1);
		path = write_file("big.conf", big, MF_CONFIG_FILE_MAX + 1);
		cfg = mf_config_new();
		tap_is_int(mf_config_load_file(cfg, path, err, sizeof(err)), -1,
			   "file over %d bytes fails", MF_CONFIG_FILE_MAX);
		snprintf(want, sizeof(want), "%s: file too large (max 1048576 bytes)", path);
		tap_is_str(err, want, "big file error text");
		mf_config_free(cfg);
		remove_file("big.conf");
		free(big);
	}

	path = write_file("empty.conf", "", 0);
	cfg = mf_config_new();
	mf_config_set_default(cfg, "d", "dv");
	tap_is_int(mf_config_load_file(cfg, path, err, sizeof(err)), 0, "empty file loads");
	tap_is_str(mf_config_get(cfg, "d"), "dv", "empty file leaves defaults");
	tap_is_int((long long)mf_config_count(cfg), 0, "empty file has no keys");
	mf_config_free(cfg);
	remove_file("empty.conf");
}

struct bool_case {
	const char *value;
	int want;	/* -1: error */
};

static const struct bool_case bool_cases[] = {
	{ "yes", 1 }, { "YES", 1 }, { "True", 1 }, { "on", 1 }, { "1", 1 },
	{ "no", 0 }, { "No", 0 }, { "FALSE", 0 }, { "off", 0 }, { "0", 0 },
	{ "maybe", -1 }, { "", -1 }, { "yess", -1 }, { "ye", -1 }, { "2", -1 },
	{ "yes no", -1 }, { "01", -1 },
};

struct uint_case {
	const char *value;
	long long want;	/* -1: bad number, -2: out of range */
};

static const struct uint_case uint_cases[] = {
	{ "10", 10 }, { "0010", 10 }, { "100", 100 }, { "55", 55 },
	{ "9", -2 }, { "101", -2 }, { "18446744073709551615", -2 },
	{ "", -1 }, { "12x", -1 }, { "-1", -1 }, { "+5", -1 }, { "0x10", -1 },
	{ "1 2", -1 }, { "1.5", -1 }, { "18446744073709551616", -1 },
	{ "99999999999999999999999", -1 },
};

static void test_getters(void)
{
	struct mf_config *cfg;
	char text[128], want[256], err[256];
	unsigned long ul;
	bool b;
	size_t i;

	for (i = 0; i < N_ELEMENTS(bool_cases); i++) {
		snprintf(text, sizeof(text), "# c\nother = 1\nflag = %s\n", bool_cases[i].value);
		cfg = load(text, err, sizeof(err));
		b = !bool_cases[i].want;
		strcpy(err, "(none)");
		if (bool_cases[i].want >= 0) {
			tap_ok(mf_config_get_bool(cfg, "flag", false, &b, err, sizeof(err)) == 0 &&
			       b == (bool_cases[i].want == 1), "bool \"%s\" is %d",
			       bool_cases[i].value, bool_cases[i].want);
		} else {
			tap_is_int(mf_config_get_bool(cfg, "flag", false, &b, err, sizeof(err)), -1,
				   "bool \"%s\" is rejected", bool_cases[i].value);
			snprintf(want, sizeof(want),
				 "t.conf, line 3: bad boolean value \"%s\" for parameter \"flag\" (use yes or no)",
				 bool_cases[i].value);
			tap_is_str(err, want, "bool \"%s\" error text", bool_cases[i].value);
		}
		mf_config_free(cfg);
	}
	cfg = load("x = 1", err, sizeof(err));
	b = false;
	tap_ok(mf_config_get_bool(cfg, "unset", true, &b, err, sizeof(err)) == 0 && b,
	       "unset bool gives the default");

	for (i = 0; i < N_ELEMENTS(uint_cases); i++) {
		const struct uint_case *c = &uint_cases[i];

		mf_config_free(cfg);
		snprintf(text, sizeof(text), "n = %s\n", c->value);
		cfg = load(text, err, sizeof(err));
		ul = 7;
		strcpy(err, "(none)");
		if (c->want >= 0) {
			tap_ok(mf_config_get_uint(cfg, "n", 1, 10, 100, &ul, err, sizeof(err)) == 0 &&
			       ul == (unsigned long)c->want, "uint \"%s\" is %lld", c->value, c->want);
			continue;
		}
		tap_is_int(mf_config_get_uint(cfg, "n", 1, 10, 100, &ul, err, sizeof(err)), -1,
			   "uint \"%s\" is rejected", c->value);
		tap_is_int(ul, 7, "uint \"%s\" leaves *out alone", c->value);
		if (c->want == -1)
			snprintf(want, sizeof(want),
				 "t.conf, line 1: bad numerical value \"%s\" for parameter \"n\"",
				 c->value);
		else
			snprintf(want, sizeof(want),
				 "t.conf, line 1: value %s for parameter \"n\" out of range (min 10, max 100)",
				 c->value);
		tap_is_str(err, want, "uint \"%s\" error text", c->value);
	}
	ul = 0;
	tap_ok(mf_config_get_uint(cfg, "unset", 42, 0, 10, &ul, err, sizeof(err)) == 0 && ul == 42,
	       "unset uint gives the default, unchecked");
	mf_config_free(cfg);

	/* A bad default is reported as such, not at a line of the file. */
	cfg = mf_config_new();
	mf_config_set_default(cfg, "flag", "maybe");
	mf_config_load_string(cfg, "t.conf", "x = 1", err, sizeof(err));
	tap_is_int(mf_config_get_bool(cfg, "flag", false, &b, err, sizeof(err)), -1,
		   "bad default bool is rejected");
	tap_is_str(err,
		   "t.conf: default value of \"flag\": bad boolean value \"maybe\" for parameter \"flag\" (use yes or no)",
		   "bad default bool error text");
	mf_config_free(cfg);

	cfg = load("n = 18446744073709551615", err, sizeof(err));
	tap_ok(mf_config_get_uint(cfg, "n", 0, 0, ULONG_MAX, &ul, err, sizeof(err)) == 0 &&
	       ul == ULONG_MAX, "uint ULONG_MAX parses");
	mf_config_free(cfg);
}

struct list_case {
	const char *value;
	const char *joined;	/* items joined with '|' */
	size_t count;
};

static const struct list_case list_cases[] = {
	{ "", "", 0 },
	{ " ,\t, ", "", 0 },
	{ "a", "a", 1 },
	{ "a b", "a|b", 2 },
	{ "a,b", "a|b", 2 },
	{ "  a ,, b\t,c  ", "a|b|c", 3 },
	{ "127.0.0.0/8, [::1]/128", "127.0.0.0/8|[::1]/128", 2 },
	{ "x,", "x", 1 },
};

static void test_split_list(void)
{
	char joined[256];
	char **list;
	size_t count, i, j;

	for (i = 0; i < N_ELEMENTS(list_cases); i++) {
		count = 99;
		list = mf_config_split_list(list_cases[i].value, &count);
		if (!tap_ok(list != NULL, "split list case %zu", i))
			continue;
		joined[0] = '\0';
		for (j = 0; list[j] != NULL; j++) {
			if (j > 0)
				strcat(joined, "|");
			strcat(joined, list[j]);
		}
		tap_is_int((long long)count, (long long)list_cases[i].count, "list case %zu count", i);
		tap_is_int((long long)j, (long long)list_cases[i].count, "list case %zu NULL end", i);
		tap_is_str(joined, list_cases[i].joined, "list case %zu items", i);
		mf_config_free_list(list);
	}
	list = mf_config_split_list(NULL, NULL);
	tap_ok(list != NULL && list[0] == NULL, "NULL value splits into an empty list");
	mf_config_free_list(list);
	mf_config_free_list(NULL);
}

/* Hostile input must load or fail with a message, never crash (the
 * ASan/UBSan build checks the rest). Random characters mostly fail early;
 * random config-ish tokens get further, into continuations and expansion. */
static const char *const fuzz_tokens[] = {
	"a", "b", "c_1", " = ", "=", " ", "\t", "\n", "\n", "\n ", "\n\t", "#", ",",
	"$$", "$a", "$b", "${c_1}", "${", "}", "$", "x", "\r\n", "\na = ", "\nb=", "\nc_1 =",
};

static void fuzz_text(char *text, size_t size, unsigned int *seed, bool tokens)
{
	static const char chars[] = "ab_=$${}# \t\r\n\n,x1\x01\xff";
	/* Token texts stay short: long ones nearly always contain an error. */
	size_t len = 0, goal = (size_t)rand_r(seed) % (tokens ? 120 : size);
	const char *t;

	while (len < goal) {
		if (tokens) {
			t = fuzz_tokens[(size_t)rand_r(seed) % N_ELEMENTS(fuzz_tokens)];
			if (strlen(t) >= size - len)
				break;
			strcpy(text + len, t);
			len += strlen(t);
		} else {
			text[len++] = chars[(size_t)rand_r(seed) % (sizeof(chars) - 1)];
		}
	}
	text[len] = '\0';
}

static void test_fuzz(void)
{
	unsigned int seed = 12345, bad = 0, loaded[2] = { 0, 0 };
	char text[600], err[256];
	struct mf_config *cfg;
	size_t j;
	int i, mode;

	for (i = 0; i < 40000; i++) {
		mode = i % 2;
		fuzz_text(text, sizeof(text), &seed, mode == 1);
		err[0] = '\0';
		cfg = mf_config_new();
		mf_config_set_default(cfg, "a", "x$$");
		if (mf_config_load_string(cfg, "f.conf", text, err, sizeof(err)) == 0) {
			loaded[mode]++;
			for (j = 0; j < mf_config_count(cfg); j++) {
				if (mf_config_get(cfg, mf_config_key_at(cfg, j)) == NULL)
					bad++;
			}
		} else if (strncmp(err, "f.conf", 6) != 0) {
			bad++;
		}
		mf_config_free(cfg);
	}
	tap_diag("fuzz: %u of 20000 random texts and %u of 20000 token texts loaded",
		 loaded[0], loaded[1]);
	tap_ok(loaded[0] > 0 && loaded[1] > 0, "some random inputs load");
	tap_is_int(bad, 0, "every failure has a message, every key a value");
}

int main(void)
{
	make_tmpdir();
	test_good();
	test_bad();
	test_limits();
	test_files();
	test_getters();
	test_split_list();
	test_fuzz();
	if (tmpdir[0] != '\0' && rmdir(tmpdir) < 0)
		tap_diag("rmdir %s: %s", tmpdir, strerror(errno));
	return tap_done();
}
