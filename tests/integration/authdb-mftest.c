/*
 * authdb-mftest.c - a test-only Dovecot passdb driver "mftest".
 *
 * It exists to prove the harness's auth-module overlay: Dovecot loads auth
 * drivers only from the compiled-in /usr/lib/dovecot/modules/auth, so the
 * harness bind-mounts a private copy of that directory (stock modules plus
 * the build's own) in a mount namespace. This driver lives only in that
 * copy; a login through it shows the overlay works without touching the
 * system directory. Every user with the configured password is accepted,
 * every other password is a mismatch. The password is, on Dovecot 2.3,
 * args = password=<word>; on 2.4 (no args, and a setting of our own would
 * need a settings module) static's passdb_static_password, which the auth
 * binary exports: passdb mftest { passdb_static_password = <word> }.
 * Test-only, so the release check is an #if here, not a file per release.
 */
#include "auth-common.h"
#include "passdb.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "auth-settings.h"
#endif

struct mftest_passdb_module {
	struct passdb_module module;
	const char *password;
};

#if DOVECOT_PREREQ(2, 4, 0)
static int
mftest_preinit(pool_t pool, struct event *event, struct passdb_module **module_r,
	       const char **error_r)
{
	struct mftest_passdb_module *module;
	const struct auth_static_settings *set;

	if (settings_get(event, &auth_static_setting_parser_info, 0, &set, error_r) < 0)
		return -1;
	module = p_new(pool, struct mftest_passdb_module, 1);
	module->password = p_strdup(pool, set->passdb_static_password);
	settings_free(set);
	if (module->password[0] == '\0') {
		*error_r = "passdb mftest needs passdb_static_password";
		return -1;
	}
	*module_r = &module->module;
	return 0;
}
#else
static struct passdb_module *
mftest_preinit(pool_t pool, const char *args)
{
	struct mftest_passdb_module *module;

	module = p_new(pool, struct mftest_passdb_module, 1);
	if (!str_begins(args, "password=") || args[9] == '\0')
		i_fatal("passdb mftest: args must be password=<word>");
	module->password = p_strdup(pool, args + 9);
	return &module->module;
}
#endif

static void
mftest_verify_plain(struct auth_request *request, const char *password,
		    verify_plain_callback_t *callback)
{
	struct mftest_passdb_module *module =
		(struct mftest_passdb_module *)request->passdb->passdb;

	i_info("passdb mftest: verifying %s", request->fields.user);
	callback(strcmp(password, module->password) == 0 ?
		 PASSDB_RESULT_OK : PASSDB_RESULT_PASSWORD_MISMATCH, request);
}

static struct passdb_module_interface mftest_passdb = {
	.name = "mftest",
	.preinit = mftest_preinit,
	.verify_plain = mftest_verify_plain,
};

void authdb_mftest_init(void);
void authdb_mftest_deinit(void);
extern const char *authdb_mftest_version;
const char *authdb_mftest_version = DOVECOT_ABI_VERSION;

void authdb_mftest_init(void)
{
	passdb_register_module(&mftest_passdb);
}

void authdb_mftest_deinit(void)
{
	passdb_unregister_module(&mftest_passdb);
}
