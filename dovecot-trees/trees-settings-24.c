/* trees-settings-24.c - Dovecot 2.4: the trees_* settings through
   settings_get(), mail_crypt's keys through mail_crypt's own parser infos
   (trees-settings.h). */
#include "lib.h"
#include "array.h"
#include "settings.h"
#include "settings-parser.h"
#include "mail-user.h"
#include "mail-storage-settings.h"

#include <dlfcn.h>

#include "trees-setinfo-24.h"
#include "trees-settings.h"

struct trees_user_env {
	const struct trees_plugin_settings *set;
};

/* Only the pool of a settings struct whose layout is another plugin's. */
struct trees_foreign_settings {
	pool_t pool;
};

#define TREES_SETTING(set, name) \
	{ #name, offsetof(struct trees_plugin_settings, name) }
static const struct {
	const char *name;
	size_t offset;
} trees_string_settings[] = {
	TREES_SETTING(set, trees_enabled),
	TREES_SETTING(set, trees_version),
	TREES_SETTING(set, trees_public_key),
	TREES_SETTING(set, trees_pwhash_opslimit),
	TREES_SETTING(set, trees_pwhash_memlimit),
	TREES_SETTING(set, trees_pwhash_salt),
	TREES_SETTING(set, trees_pwhash_algo),
	TREES_SETTING(set, trees_sk_nonce),
	TREES_SETTING(set, trees_locked_secretbox),
	TREES_SETTING(set, trees_password),
	TREES_SETTING(set, trees_secretbox_key),
};

int trees_user_env_init(struct mail_user *user, struct trees_user_env **env_r,
			const char **error_r)
{
	const struct trees_plugin_settings *set;
	const char *error;

	if (settings_get(user->event, &trees_setting_parser_info, 0, &set, &error) < 0) {
		*error_r = t_strdup_printf("trees settings: %s", error);
		return -1;
	}
	*env_r = i_new(struct trees_user_env, 1);
	(*env_r)->set = set;
	return 0;
}

static const char **trees_user_env_field(struct trees_user_env *env, const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(trees_string_settings); i++) {
		if (strcmp(trees_string_settings[i].name, name) == 0)
			return PTR_OFFSET(env->set, trees_string_settings[i].offset);
	}
	i_panic("trees: unknown setting %s", name);
}

const char *trees_user_env_get(struct trees_user_env *env, const char *name)
{
	const char *value = *trees_user_env_field(env, name);

	/* 2.3's plugin settings have no defaults: "" is what absent was. */
	return *value == '\0' ? NULL : value;
}

void trees_user_env_wipe(struct trees_user_env *env ATTR_UNUSED, const char *name ATTR_UNUSED)
{
	/* Not wiped: a value from dovecot.conf points into the config
	   process's read-only mapping, and the userdb's copy stays in the
	   user's settings instance, out of reach, until the user is freed
	   (as for every userdb field in 2.4). settings_free() at deinit drops
	   this copy. */
}

int trees_user_env_read_buffer_max(struct trees_user_env *env, uoff_t *size_r,
				   const char **error_r ATTR_UNUSED)
{
	/* A SET_SIZE: the settings parser already refused what is no size. */
	*size_r = env->set->trees_read_buffer_max;
	return 0;
}

void trees_user_env_deinit(struct trees_user_env **envp)
{
	struct trees_user_env *env = *envp;

	if (env == NULL)
		return;
	*envp = NULL;
	settings_free(env->set);
	i_free(env);
}

/* mail_crypt's settings are declared by its own plugin (its parser infos
   are in lib10_mail_crypt_plugin.so, the config process knows them from
   Dovecot's build). Reading them with mail_crypt's own infos, found in
   its .so, keeps the names, types and layout mail_crypt's. */
static void *trees_mail_crypt_handle;
static const struct setting_parser_info *trees_crypt_info, *trees_crypt_key_info;

static bool trees_mail_crypt_infos(struct mail_user *user)
{
	const char *path;

	if (trees_crypt_info != NULL)
		return TRUE;
	if (trees_mail_crypt_handle == NULL) {
		path = t_strconcat(user->set->mail_plugin_dir, "/lib10_mail_crypt_plugin.so", NULL);
		/* RTLD_NOLOAD: the copy already loaded for mail_plugins, if any. */
		trees_mail_crypt_handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
		if (trees_mail_crypt_handle == NULL)
			trees_mail_crypt_handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
		if (trees_mail_crypt_handle == NULL)
			return FALSE; /* not installed: no crypt_* settings exist */
	}
	trees_crypt_info = dlsym(trees_mail_crypt_handle, "crypt_setting_parser_info");
	trees_crypt_key_info = dlsym(trees_mail_crypt_handle, "crypt_private_key_setting_parser_info");
	if (trees_crypt_info == NULL || trees_crypt_key_info == NULL) {
		trees_crypt_info = NULL;
		return FALSE;
	}
	return TRUE;
}

static const struct setting_define *trees_define(const struct setting_parser_info *info,
						 const char *key)
{
	const struct setting_define *def;

	for (def = info->defines; def->key != NULL; def++) {
		if (strcmp(def->key, key) == 0)
			return def;
	}
	return NULL;
}

static int trees_crypt_key_get(struct mail_user *user, const char *key_name,
			       const struct setting_define *file_def,
			       const struct setting_define *password_def,
			       trees_crypt_key_cb *key_cb, void *context, const char **error_r)
{
	const struct trees_foreign_settings *kset;
	struct settings_file file;
	const char *password, *error;
	const char *name = t_strdup_printf("crypt_global_private_key %s", key_name);
	int ret;

	if (settings_get_filter(user->event, "crypt_global_private_key", key_name,
				trees_crypt_key_info, 0, &kset, &error) < 0) {
		*error_r = t_strdup_printf("%s: %s", name, error);
		return -1;
	}
	settings_file_get(*(const char *const *)CONST_PTR_OFFSET(kset, file_def->offset),
			  unsafe_data_stack_pool, &file);
	password = *(const char *const *)CONST_PTR_OFFSET(kset, password_def->offset);
	if (*file.content == '\0') {
		*error_r = t_strdup_printf("%s: crypt_private_key_file is empty", name);
		ret = -1;
	} else {
		ret = key_cb(context, name, file.content, *password == '\0' ? NULL : password,
			     error_r);
	}
	settings_free(kset);
	return ret;
}

int trees_crypt_settings_keys(struct mail_user *user, trees_crypt_key_cb *key_cb, void *context,
			      const char **error_r)
{
	const struct setting_define *list_def, *file_def, *password_def;
	const struct trees_foreign_settings *set;
	const ARRAY_TYPE(const_string) *names;
	const char *key_name, *error;
	int ret = 0;

	if (!trees_mail_crypt_infos(user))
		return 0;
	list_def = trees_define(trees_crypt_info, "crypt_global_private_key");
	file_def = trees_define(trees_crypt_key_info, "crypt_private_key_file");
	password_def = trees_define(trees_crypt_key_info, "crypt_private_key_password");
	if (list_def == NULL || list_def->type != SET_FILTER_ARRAY || file_def == NULL ||
	    file_def->type != SET_FILE || password_def == NULL) {
		*error_r = "mail_crypt's settings are not those of Dovecot 2.4.1 "
			   "(crypt_global_private_key { crypt_private_key_file })";
		return -1;
	}
	if (settings_get(user->event, trees_crypt_info, 0, &set, &error) < 0) {
		*error_r = t_strdup_printf("crypt settings: %s", error);
		return -1;
	}
	names = CONST_PTR_OFFSET(set, list_def->offset);
	if (array_is_created(names)) {
		array_foreach_elem(names, key_name) {
			ret = trees_crypt_key_get(user, key_name, file_def, password_def, key_cb,
						  context, error_r);
			if (ret < 0)
				break;
		}
	}
	settings_free(set);
	return ret;
}

bool trees_user_debug(struct mail_user *user)
{
	return event_want_debug(user->event);
}

void trees_settings_deinit(void)
{
	trees_crypt_info = NULL;
	trees_crypt_key_info = NULL;
	if (trees_mail_crypt_handle != NULL) {
		(void)dlclose(trees_mail_crypt_handle);
		trees_mail_crypt_handle = NULL;
	}
}
