/*
 * authdb-mailfruit-23.c - the mailfruit driver's Dovecot 2.3 side: its
 * args string, and 2.3's logging and password-scheme calls
 * (authdb-mailfruit.h), and 2.3's userdb field loading the TREES plugin
 * (mail_plugins+= trees).
 *
 *   passdb { driver = mailfruit  args = [/var/lib/mailfruit/users.db] [busy_timeout=MSEC] }
 *   userdb { driver = mailfruit  args = (the same) }
 *
 * A wrong argument stops the auth process (i_fatal), as 2.3's own drivers do.
 */
#include "auth-common.h"
#include "str.h"
#include "passdb.h"
#include "userdb.h"
#include "auth-request.h"
#include "authdb-mailfruit.h"

#include "udb-db.h"

static struct mf_db *mf_db_ref_args(const char *args, const char *what)
{
	const char *const *arg, *path = UDB_DEFAULT_PATH;
	unsigned int busy_ms = MF_DEFAULT_BUSY_MS;

	for (arg = t_strsplit_spaces(args, " "); *arg != NULL; arg++) {
		if (str_begins(*arg, "busy_timeout=")) {
			if (str_to_uint(*arg + 13, &busy_ms) < 0 || busy_ms > MF_MAX_BUSY_MS)
				i_fatal("%s mailfruit: busy_timeout takes milliseconds: %s", what,
					*arg);
		} else if (str_begins(*arg, "path=")) {
			path = *arg + 5;
		} else if (**arg == '/') {
			path = *arg;
		} else {
			i_fatal("%s mailfruit: unknown argument '%s' (args = [PATH] "
				"[busy_timeout=MSEC])", what, *arg);
		}
	}
	return mf_db_ref(path, busy_ms);
}

void mf_request_log_unknown_user(struct auth_request *request)
{
	auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
}

void mf_request_log_password_mismatch(struct auth_request *request)
{
	auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB);
}

enum passdb_result mf_request_password_verify(struct auth_request *request, const char *plain,
					      const char *crypted, const char *scheme)
{
	/* 1 match, 0 mismatch (logged), -1 error (logged). */
	int ret = auth_request_password_verify(request, plain, crypted, scheme, AUTH_SUBSYS_DB);

	return ret > 0 ? PASSDB_RESULT_OK :
	       ret == 0 ? PASSDB_RESULT_PASSWORD_MISMATCH : PASSDB_RESULT_INTERNAL_FAILURE;
}

void mf_request_require_trees_plugin(struct auth_request *request)
{
	/* "KEY+" appends to the setting: mail_plugins = <local> trees. */
	auth_request_set_userdb_field(request, "mail_plugins+", " trees");
}

struct passdb_module *mf_passdb_preinit(pool_t pool, const char *args)
{
	struct mf_passdb_module *module = p_new(pool, struct mf_passdb_module, 1);

	module->db = mf_db_ref_args(args, "passdb");
	return &module->module;
}

struct userdb_module *mf_userdb_preinit(pool_t pool, const char *args)
{
	struct mf_userdb_module *module = p_new(pool, struct mf_userdb_module, 1);

	module->db = mf_db_ref_args(args, "userdb");
	module->module.default_cache_key = "%u";
	return &module->module;
}
