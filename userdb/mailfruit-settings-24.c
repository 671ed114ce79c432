/*
 * mailfruit-settings-24.c - the driver's Dovecot 2.4 settings
 * (mailfruit-settings-24.h), and the settings module's exports when built
 * as libauthdb_mailfruit_settings.so (MF_SETTINGS_MODULE).
 */
#include "lib.h"
#include "settings-parser.h"
#include "mailfruit-settings-24.h"
#include "authdb-mailfruit.h"
#include "udb-db.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct mailfruit_settings)

static const struct setting_define mailfruit_setting_defines[] = {
	/* A path, never %-expanded. */
	DEF(STR_NOVARS, mailfruit_db_path),
	DEF(TIME_MSECS, mailfruit_db_busy_timeout),
	SETTING_DEFINE_LIST_END
};

static const struct mailfruit_settings mailfruit_default_settings = {
	.mailfruit_db_path = UDB_DEFAULT_PATH,
	.mailfruit_db_busy_timeout = MF_DEFAULT_BUSY_MS,
};

static bool mailfruit_settings_check(void *_set, pool_t pool ATTR_UNUSED, const char **error_r)
{
	struct mailfruit_settings *set = _set;

	if (set->mailfruit_db_path[0] != '/') {
		*error_r = t_strdup_printf("mailfruit_db_path must be an absolute path: %s",
					   set->mailfruit_db_path);
		return FALSE;
	}
	if (set->mailfruit_db_busy_timeout > MF_MAX_BUSY_MS) {
		*error_r = t_strdup_printf("mailfruit_db_busy_timeout is at most %us",
					   MF_MAX_BUSY_MS / 1000);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info mailfruit_setting_parser_info = {
	.name = "mailfruit",
	.defines = mailfruit_setting_defines,
	.defaults = &mailfruit_default_settings,
	.struct_size = sizeof(struct mailfruit_settings),
	.pool_offset1 = 1 + offsetof(struct mailfruit_settings, pool),
	.check_func = mailfruit_settings_check,
};

#ifdef MF_SETTINGS_MODULE
/* What Dovecot's config process looks up in modules/settings/: the module
   name "authdb_mailfruit_settings" comes from the file name
   libauthdb_mailfruit_settings.so (config-parser.c,
   config_parse_load_modules()). */
MF_EXPORT extern const struct setting_parser_info *authdb_mailfruit_settings_set_infos[];
MF_EXPORT extern const char *authdb_mailfruit_settings_version;

const struct setting_parser_info *authdb_mailfruit_settings_set_infos[] = {
	&mailfruit_setting_parser_info,
	NULL
};
const char *authdb_mailfruit_settings_version = DOVECOT_ABI_VERSION;
#endif
