/* trees-wipe-24.c - wiping a secret userdb field in the copies Dovecot 2.4
   keeps of the raw userdb reply in the mail process (trees-plugin.h). */
#include "lib.h"
#include "mail-user.h"
#include "mail-storage-service.h"

#include "trees-plugin.h"

/* Dovecot 2.4 keeps the userdb reply in the mail user, in the storage
   service user's input and in its own userdb field list; the settings
   overrides made from it are strings of the settings instance's pools,
   which trees-settings-24.c cannot reach by name: the derived key is
   wiped there by value (mf-memwipe.h), the password is not (see
   docs/dovecot-trees.md). */
void trees_wipe_user_secret(struct mail_user *user, const char *name)
{
	struct mail_storage_service_user *service_user = user->service_user;

	trees_wipe_userdb_fields(user->userdb_fields, name);
	if (service_user != NULL) {
		trees_wipe_userdb_fields(mail_storage_service_user_get_input(service_user)->userdb_fields,
			    name);
		trees_wipe_userdb_fields(mail_storage_service_user_get_userdb_fields(service_user), name);
	}
}
