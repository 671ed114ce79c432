/* trees-wipe-23.c - wiping a secret userdb field in every copy Dovecot 2.3
   keeps in the mail process (trees-plugin.h). */
#include "lib.h"
#include "array.h"
#include "safe-memset.h"
#include "mail-user.h"
#include "mail-storage-settings.h"
#include "mail-storage-service.h"

#include "trees-plugin.h"

static void wipe_plugin_env(const struct mail_user_settings *set, const char *name)
{
	const char *const *envs;
	unsigned int i, count;

	if (set == NULL || !array_is_created(&set->plugin_envs))
		return;
	envs = array_get(&set->plugin_envs, &count);
	for (i = 0; i + 1 < count; i += 2) {
		if (strcmp(envs[i], name) == 0 && envs[i + 1] != NULL)
			safe_memset((char *)envs[i + 1], 0, strlen(envs[i + 1]));
	}
}

/* Dovecot 2.3 keeps a userdb field in: the user's expanded settings
   (mail_user_plugin_getenv), its unexpanded settings, the storage
   service user's settings parser (the plugin env it was parsed into), the
   service user's copy of the userdb reply and the mail user's copy. */
void trees_wipe_user_secret(struct mail_user *user, const char *name)
{
	const char *value = mail_user_plugin_getenv(user, name);
	struct mail_storage_service_user *service_user = user->_service_user;

	if (value != NULL)
		safe_memset((char *)value, 0, strlen(value));
	wipe_plugin_env(user->unexpanded_set, name);
	trees_wipe_userdb_fields(user->userdb_fields, name);
	if (service_user != NULL) {
		void **sets = mail_storage_service_user_get_set(service_user);

		wipe_plugin_env(sets[0], name);
		trees_wipe_userdb_fields(mail_storage_service_user_get_input(service_user)->userdb_fields,
			    name);
	}
}
