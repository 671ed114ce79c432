/* trees-setinfo-24.c - Dovecot 2.4: the trees_* settings' parser info and
   the settings module's exports (trees-setinfo-24.h). */
#include "lib.h"
#include "settings-parser.h"

#include "trees-plugin.h"
#include "trees-setinfo-24.h"

#undef DEF
#define DEF(type, name) SETTING_DEFINE_STRUCT_##type(#name, name, struct trees_plugin_settings)

static const struct setting_define trees_setting_defines[] = {
	DEF(STR_NOVARS, trees_enabled),
	DEF(STR_NOVARS, trees_version),
	DEF(STR_NOVARS, trees_public_key),
	DEF(STR_NOVARS, trees_pwhash_opslimit),
	DEF(STR_NOVARS, trees_pwhash_memlimit),
	DEF(STR_NOVARS, trees_pwhash_salt),
	DEF(STR_NOVARS, trees_pwhash_algo),
	DEF(STR_NOVARS, trees_sk_nonce),
	DEF(STR_NOVARS, trees_locked_secretbox),
	DEF(STR_NOVARS_HIDDEN, trees_password),
	DEF(STR_NOVARS_HIDDEN, trees_secretbox_key),
	DEF(SIZE, trees_read_buffer_max),

	SETTING_DEFINE_LIST_END
};

static const struct trees_plugin_settings trees_default_settings = {
	.trees_enabled = "",
	.trees_version = "",
	.trees_public_key = "",
	.trees_pwhash_opslimit = "",
	.trees_pwhash_memlimit = "",
	.trees_pwhash_salt = "",
	.trees_pwhash_algo = "",
	.trees_sk_nonce = "",
	.trees_locked_secretbox = "",
	.trees_password = "",
	.trees_secretbox_key = "",
	.trees_read_buffer_max = TREES_READ_BUFFER_MAX_DEFAULT,
};

/* No plugin_dependency: the config process looks for it only in the
   default module dir, and a mail_plugin_dir elsewhere must work too. */
const struct setting_parser_info trees_setting_parser_info = {
	.name = "trees",
	.defines = trees_setting_defines,
	.defaults = &trees_default_settings,
	.struct_size = sizeof(struct trees_plugin_settings),
	.pool_offset1 = 1 + offsetof(struct trees_plugin_settings, pool),
};

/* lib20_trees_settings.so: what the config process looks up by the
   module's name ("trees_settings"). */
extern const char *trees_settings_version;
extern const struct setting_parser_info *const trees_settings_set_infos[];

const char *trees_settings_version = DOVECOT_ABI_VERSION;
const struct setting_parser_info *const trees_settings_set_infos[] = {
	&trees_setting_parser_info,
	NULL
};
