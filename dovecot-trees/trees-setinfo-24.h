#ifndef TREES_SETINFO_24_H
#define TREES_SETINFO_24_H

/*
 * trees-setinfo-24.h - Dovecot 2.4: the trees_* settings as Dovecot's
 * settings parser knows them. The same parser info is compiled into the
 * plugin (settings_get()) and into lib20_trees_settings.so, the settings
 * module the config process loads from $(moduledir)/settings so that
 * trees_* in dovecot.conf and in userdb replies are known settings.
 *
 * Every value is a string without %variable expansion (secrets may hold
 * '%'); "" means absent. They are parsed strictly by trees-key.c, as on
 * 2.3. trees_read_buffer_max is a size.
 */

#include "settings-parser.h"

struct trees_plugin_settings {
	pool_t pool;

	const char *trees_enabled;
	const char *trees_version;
	const char *trees_public_key;
	const char *trees_pwhash_opslimit;
	const char *trees_pwhash_memlimit;
	const char *trees_pwhash_salt;
	const char *trees_pwhash_algo;
	const char *trees_sk_nonce;
	const char *trees_locked_secretbox;
	const char *trees_password;
	const char *trees_secretbox_key;
	uoff_t trees_read_buffer_max;
};

extern const struct setting_parser_info trees_setting_parser_info;

#endif
