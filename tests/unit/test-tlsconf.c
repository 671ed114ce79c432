/* test-tlsconf.c - unit tests for common/mf-tlsconf, with a made-up
 * daemon ("x_*" parameters, its sibling's "y_*") so that the tests say
 * what the module does for any daemon, not for one. */
#include "mailfruit-config.h"

#include "mf-tlsconf.h"
#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct mf_tlsconf_param params[] = {
	{ "x_listen", "unix:/run/x.sock" },
	{ "x_user", "nobody" },
	{ "x_socket_mode", "0660" },
	{ "x_greeting", "hello ${x_user}" },
};

static const char *const restart_params[] = { "x_listen", "x_user", "x_socket_mode", NULL };

static const struct mf_tlsconf_spec spec = {
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.other_prefix = "y_",
	.socket_mode_param = "x_socket_mode",
	.restart_params = restart_params,
};

static char tmpdir[PATH_MAX];
static char path[PATH_MAX + 64];

/* Writes text to tmpdir/t.conf; path names it. */
static bool write_conf(const char *text)
{
	FILE *fp;
	bool ok;

	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	ok = fputs(text, fp) >= 0;
	return fclose(fp) == 0 && ok;
}

struct loaded {
	struct mf_config *cfg;
	struct mf_tlspolicy *policy;
	unsigned int mode;
	int rc;
	char err[512];
};

static void load(struct loaded *l, const char *text)
{
	memset(l, 0, sizeof(*l));
	l->mode = 01234;
	if (!write_conf(text)) {
		tap_diag("cannot write %s: %s", path, strerror(errno));
		l->rc = -2;
		return;
	}
	l->rc = mf_tlsconf_load(path, &spec, &l->cfg, &l->policy, &l->mode, l->err,
				sizeof(l->err));
}

static void unload(struct loaded *l)
{
	mf_tlspolicy_free(l->policy);
	mf_config_free(l->cfg);
	l->policy = NULL;
	l->cfg = NULL;
}

/* err as "FILE, line N: message" for the current path. */
static const char *at_line(unsigned int line, const char *message)
{
	static char buf[PATH_MAX + 600];

	snprintf(buf, sizeof(buf), "%s, line %u: %s", path, line, message);
	return buf;
}

static void test_defaults(void)
{
	struct loaded l;

	load(&l, "");
	tap_is_int(l.rc, 0, "an empty file loads");
	tap_ok(l.cfg != NULL && l.policy != NULL, "config and policy objects are handed out");
	tap_is_int(l.mode, 0660, "the socket mode's default, read as octal");
	tap_is_str(mf_config_get(l.cfg, "x_user"), "nobody", "the daemon's own defaults apply");
	tap_is_str(mf_config_get(l.cfg, "x_greeting"), "hello nobody",
		   "the daemon's defaults may refer to each other");
	tap_is_str(mf_config_get(l.cfg, "mode"), "reject", "the engine's defaults apply");
	tap_is_int(mf_tlspolicy_mode(l.policy), MF_TLSPOLICY_MODE_REJECT,
		   "the policy is built from them");
	unload(&l);
}

static void test_values(void)
{
	struct loaded l;

	load(&l, "mode = warn\n"
		 "x_user = mail\n"
		 "x_socket_mode = 600\n"
		 "y_listen = inet:10040\n"
		 "y_anything = goes\n");
	tap_is_int(l.rc, 0, "own, engine and sibling parameters load (%s)", l.err);
	tap_is_int(l.mode, 0600, "a mode without a leading 0 is octal too");
	tap_is_str(mf_config_get(l.cfg, "x_user"), "mail", "the file overrides a default");
	tap_is_int(mf_tlspolicy_mode(l.policy), MF_TLSPOLICY_MODE_WARN,
		   "the engine's parameters reach the policy");
	unload(&l);

	load(&l, "x_socket_mode = 0\n");
	tap_ok(l.rc == 0 && l.mode == 0, "mode 0 is a mode");
	unload(&l);
	load(&l, "x_socket_mode = 0777\n");
	tap_ok(l.rc == 0 && l.mode == 0777, "mode 0777 is the largest");
	unload(&l);
}

static void test_errors(void)
{
	static const char *const bad_modes[] = { "01000", "8", "0668", "rw", "-1", "0660x", };
	struct loaded l;
	char text[128], want[256];
	size_t i;

	load(&l, "mode = warn\nx_bogus = 1\n");
	tap_is_int(l.rc, -1, "a misspelt parameter of the daemon's fails");
	tap_is_str(l.err, at_line(2, "unknown parameter \"x_bogus\""),
		   "a misspelt parameter: named with its line");
	tap_ok(l.cfg == NULL && l.policy == NULL, "a failed load hands out nothing");

	load(&l, "exempt_client = 192.0.2.1\n");
	tap_is_str(l.err, at_line(1, "unknown parameter \"exempt_client\""),
		   "a misspelt engine parameter fails too");

	load(&l, "x_user = mail\nmode = sometimes\n");
	tap_is_int(l.rc, -1, "the engine's own errors fail the load");
	tap_is_str(l.err, at_line(2, "mode: expected reject, defer, warn or off, not \"sometimes\""),
		   "the engine's own errors: its text");
	tap_ok(l.cfg == NULL && l.policy == NULL, "nothing is handed out then either");

	for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		snprintf(text, sizeof(text), "\n\nx_socket_mode = %s\n", bad_modes[i]);
		load(&l, text);
		snprintf(want, sizeof(want), "x_socket_mode: expected an octal mode such as 0660, "
			 "not \"%s\"", bad_modes[i]);
		tap_ok(l.rc == -1 && l.mode == 01234 && l.cfg == NULL,
		       "socket mode \"%s\" fails and sets nothing", bad_modes[i]);
		tap_is_str(l.err, at_line(3, want), "socket mode \"%s\": the message",
				   bad_modes[i]);
		unload(&l);
	}

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	l.cfg = (struct mf_config *)&l;
	l.rc = mf_tlsconf_load(path, &spec, &l.cfg, &l.policy, &l.mode, l.err, sizeof(l.err));
	tap_ok(l.rc == -1 && l.cfg == NULL, "a missing file fails");
	tap_contains(l.err, path, "a missing file: named in the message");
}

static void test_needs_restart(void)
{
	struct loaded a, b;
	const char *what = NULL;

	load(&a, "mode = reject\nx_listen = unix:/run/a.sock\n");
	load(&b, "mode = warn\nexempt_clients = 192.0.2.0/24\nx_listen = unix:/run/a.sock\n"
		 "x_greeting = hi\n");
	tap_ok(a.rc == 0 && b.rc == 0, "two configs to compare");
	tap_ok(!mf_tlsconf_needs_restart(&spec, a.cfg, b.cfg, &what),
	       "engine changes and other parameters need no restart");
	tap_ok(what == NULL, "what is left alone then");
	unload(&b);

	load(&b, "mode = reject\nx_listen = unix:/run/a.sock\nx_socket_mode = 0666\n");
	tap_ok(mf_tlsconf_needs_restart(&spec, a.cfg, b.cfg, &what), "a socket mode change does");
	tap_is_str(what, "x_socket_mode", "what names it");
	unload(&b);

	load(&b, "x_user = mail\nx_listen = inet:10025\n");
	tap_ok(mf_tlsconf_needs_restart(&spec, a.cfg, b.cfg, &what), "listen and user changes do");
	tap_is_str(what, "x_listen", "what names the first in restart_params' order");
	unload(&b);

	load(&b, "x_listen = unix:/run/x.sock\n");
	tap_ok(mf_tlsconf_needs_restart(&spec, a.cfg, b.cfg, &what),
	       "a value back to its default is a change too");
	unload(&b);
	unload(&a);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/mf-test-tlsconf.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		tap_ok(false, "mkdtemp %s: %s", tmpdir, strerror(errno));
		return tap_done();
	}
	test_defaults();
	test_values();
	test_errors();
	test_needs_restart();
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return tap_done();
}
