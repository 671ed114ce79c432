/*
 * mailfruit-settings-24.h - the mailfruit auth driver's Dovecot 2.4
 * settings (docs/userdb.md):
 *
 *   mailfruit_db_path = /var/lib/mailfruit/users.db
 *   mailfruit_db_busy_timeout = 1s
 *
 * Global, or inside a passdb/userdb filter (passdb mailfruit { ... }).
 *
 * Contract: mailfruit_setting_parser_info is compiled twice: into the
 * driver (libauthdb_mailfruit.so), which reads it with settings_get() in
 * the auth process, and into the settings module
 * (modules/settings/libauthdb_mailfruit_settings.so), from which Dovecot's config
 * process learns the names. 2.4 has no other way for an out-of-tree module
 * to have settings: a name the config process does not know is an error.
 */
#ifndef MAILFRUIT_SETTINGS_24_H
#define MAILFRUIT_SETTINGS_24_H

#include "settings-parser.h"

struct mailfruit_settings {
	pool_t pool;
	const char *mailfruit_db_path;
	unsigned int mailfruit_db_busy_timeout;   /* milliseconds */
};

extern const struct setting_parser_info mailfruit_setting_parser_info;

#endif
