#ifndef TREES_SETTINGS_H
#define TREES_SETTINGS_H

/*
 * trees-settings.h - the TREES plugin's per-user settings (the trees_*
 * userdb fields and global settings) and mail_crypt's private keys, read
 * the way the running Dovecot release provides them. One of two files
 * implements it, chosen by configure:
 *   trees-settings-23.c  Dovecot 2.3: plugin { } settings and userdb
 *                        fields through mail_user_plugin_getenv();
 *   trees-settings-24.c  Dovecot 2.4: settings_get() with the parser info
 *                        that lib20_trees_settings.so declares to the
 *                        config process (userdb fields override it).
 *
 * Contract:
 *   - trees_user_env_init() reads the user's values once (at user
 *     creation); trees_user_env_get() returns a value or NULL when the
 *     field is absent (or empty); strings stay valid until deinit.
 *   - trees_user_env_wipe() overwrites a secret (trees_password,
 *     trees_secretbox_key) in the settings value where it can (2.3; on
 *     2.4 the values are not writable, see trees-settings-24.c). The
 *     caller wipes the raw userdb reply, user->userdb_fields, which both
 *     releases keep.
 *   - trees_user_env_read_buffer_max(): trees_read_buffer_max as a size,
 *     TREES_READ_BUFFER_MAX_DEFAULT when unset, -1 with *error_r when it
 *     is not a size.
 *   - trees_crypt_settings_keys() calls key_cb for each mail_crypt private
 *     key configured for the user (its setting name, the key as PEM or
 *     base64 of PEM, and its password or NULL), in mail_crypt's order;
 *     it stops at the first callback returning -1 and returns -1.
 *   - trees_user_debug(): mail_debug is on for this user.
 */

#include "mail-user.h"

struct trees_user_env;

int trees_user_env_init(struct mail_user *user, struct trees_user_env **env_r,
			const char **error_r);
const char *trees_user_env_get(struct trees_user_env *env, const char *name);
void trees_user_env_wipe(struct trees_user_env *env, const char *name);
int trees_user_env_read_buffer_max(struct trees_user_env *env, uoff_t *size_r,
				   const char **error_r);
void trees_user_env_deinit(struct trees_user_env **env);

typedef int trees_crypt_key_cb(void *context, const char *name, const char *key,
			       const char *password, const char **error_r);
int trees_crypt_settings_keys(struct mail_user *user, trees_crypt_key_cb *key_cb, void *context,
			      const char **error_r);

bool trees_user_debug(struct mail_user *user);

/* At plugin deinit: drops what the settings reading keeps per process. */
void trees_settings_deinit(void);

#endif
