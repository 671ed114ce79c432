/*
 * authdb-mailfruit-24.c - the mailfruit driver's Dovecot 2.4 side:
 * settings, 2.4's logging and password-scheme calls
 * (authdb-mailfruit.h), and 2.4's userdb field loading the TREES plugin
 * (mail_plugins/trees=yes, under the "*" prefix that applies it in
 * every filter).
 *
 *   passdb mailfruit {
 *     mailfruit_db_path = /var/lib/mailfruit/users.db     # the default
 *     mailfruit_db_busy_timeout = 1s                      # the default
 *   }
 *   userdb mailfruit { (the same) }
 *
 * 2.4 replaced the args string with settings each driver looks up through
 * the event preinit is given (mailfruit-settings-24.h). A bad value fails
 * preinit with an error, which Dovecot reports and stops the auth process
 * on, as 2.3 did with i_fatal().
 */
#include "auth-common.h"
#include "settings.h"
#include "passdb.h"
#include "userdb.h"
#include "auth-request.h"
#include "authdb-mailfruit.h"
#include "mailfruit-settings-24.h"

static int mf_db_ref_settings(struct event *event, struct mf_db **db_r, const char **error_r)
{
	const struct mailfruit_settings *set;

	if (settings_get(event, &mailfruit_setting_parser_info, 0, &set, error_r) < 0)
		return -1;
	*db_r = mf_db_ref(set->mailfruit_db_path, set->mailfruit_db_busy_timeout);
	settings_free(set);
	return 0;
}

void mf_request_log_unknown_user(struct auth_request *request)
{
	auth_request_db_log_unknown_user(request);
}

void mf_request_log_password_mismatch(struct auth_request *request)
{
	auth_request_db_log_password_mismatch(request);
}

enum passdb_result mf_request_password_verify(struct auth_request *request, const char *plain,
					      const char *crypted, const char *scheme)
{
	enum passdb_result result =
		auth_request_db_password_verify(request, plain, crypted, scheme);

	/* Anything but a match or a mismatch (an unknown scheme, a broken
	   hash) is the database's fault: logged by Dovecot, retried later. */
	return result == PASSDB_RESULT_OK || result == PASSDB_RESULT_PASSWORD_MISMATCH ?
	       result : PASSDB_RESULT_INTERNAL_FAILURE;
}

void mf_request_require_trees_plugin(struct auth_request *request)
{
	/* mail_plugins is a boolean list on 2.4, which refuses "KEY+";
	   "LIST/ELEMENT=yes" adds the one element. A userdb setting is
	   applied after the configuration's filters, so protocol lmtp {
	   mail_plugins = } would still empty the list for LMTP: the "*" + "/"
	   prefix applies it before every filter (as lib-storage forces its
	   own overrides), and a list element set first stays, whether a
	   filter then replaces the list or says trees = no. */
	auth_request_set_userdb_field(request, "*/mail_plugins/trees", "yes");
}

int mf_passdb_preinit(pool_t pool, struct event *event, struct passdb_module **module_r,
		      const char **error_r)
{
	struct mf_passdb_module *module = p_new(pool, struct mf_passdb_module, 1);

	if (mf_db_ref_settings(event, &module->db, error_r) < 0)
		return -1;
	*module_r = &module->module;
	return 0;
}

int mf_userdb_preinit(pool_t pool, struct event *event, struct userdb_module **module_r,
		      const char **error_r)
{
	struct mf_userdb_module *module = p_new(pool, struct mf_userdb_module, 1);

	if (mf_db_ref_settings(event, &module->db, error_r) < 0)
		return -1;
	module->module.default_cache_key = AUTH_CACHE_KEY_USER;
	*module_r = &module->module;
	return 0;
}
