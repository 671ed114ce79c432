/* trees-settings-23.c - Dovecot 2.3: the plugin { } settings and userdb
   fields through mail_user_plugin_getenv() (trees-settings.h). */
#include "lib.h"
#include "safe-memset.h"
#include "settings-parser.h"
#include "mail-user.h"

#include "trees-plugin.h"
#include "trees-settings.h"

struct trees_user_env {
	struct mail_user *user;
};

int trees_user_env_init(struct mail_user *user, struct trees_user_env **env_r,
			const char **error_r ATTR_UNUSED)
{
	struct trees_user_env *env = i_new(struct trees_user_env, 1);

	env->user = user;
	*env_r = env;
	return 0;
}

const char *trees_user_env_get(struct trees_user_env *env, const char *name)
{
	return mail_user_plugin_getenv(env->user, name);
}

void trees_user_env_wipe(struct trees_user_env *env, const char *name)
{
	const char *value = mail_user_plugin_getenv(env->user, name);

	if (value != NULL)
		safe_memset((char *)value, 0, strlen(value));
}

int trees_user_env_read_buffer_max(struct trees_user_env *env, uoff_t *size_r,
				   const char **error_r)
{
	const char *value = mail_user_plugin_getenv(env->user, "trees_read_buffer_max");
	const char *error;

	*size_r = TREES_READ_BUFFER_MAX_DEFAULT;
	if (value == NULL || *value == '\0')
		return 0;
	if (settings_get_size(value, size_r, &error) < 0) {
		*error_r = t_strdup_printf("trees_read_buffer_max: %s", error);
		return -1;
	}
	return 0;
}

void trees_user_env_deinit(struct trees_user_env **env)
{
	i_free_and_null(*env);
}

/* As mail_crypt 2.3: mail_crypt_global_private_key, ..._key2, ... up to the
   first gap, then mail_crypt_private_key, ...; each with <name>_password. */
int trees_crypt_settings_keys(struct mail_user *user, trees_crypt_key_cb *key_cb, void *context,
			      const char **error_r)
{
	static const char *const prefixes[] = {"mail_crypt_global_private_key",
					       "mail_crypt_private_key"};
	const char *name, *value;
	unsigned int i, n;

	for (i = 0; i < N_ELEMENTS(prefixes); i++) {
		for (n = 1;; n++) {
			name = n == 1 ? prefixes[i] : t_strdup_printf("%s%u", prefixes[i], n);
			value = mail_user_plugin_getenv(user, name);
			if (value == NULL || *value == '\0')
				break;
			if (key_cb(context, name, value,
				   mail_user_plugin_getenv(user, t_strconcat(name, "_password", NULL)),
				   error_r) < 0)
				return -1;
		}
	}
	return 0;
}

bool trees_user_debug(struct mail_user *user)
{
	return user->mail_debug;
}

void trees_settings_deinit(void)
{
}
