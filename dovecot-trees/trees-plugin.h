#ifndef TREES_PLUGIN_H
#define TREES_PLUGIN_H

/*
 * trees-plugin.h - the TREES mail plugin (lib18_trees_plugin.so,
 * mail_plugins = $mail_plugins trees).
 *
 * Contract (docs/trees-v2-format.md for formats and userdb fields):
 *   - At user creation the userdb fields are read strictly; an enabled user
 *     whose key or version is missing or bad, or whose secret key does not
 *     unlock at login, gets user->error: the login or the delivery fails
 *     (LMTP answers 4xx, Postfix keeps the mail queued). Never plaintext.
 *   - Save: with trees_enabled=1 every message is encrypted in
 *     trees_version, as the layer nearest the file (a second hooks struct
 *     under the name lib95_trees_plugin.so puts the ostream below zlib).
 *   - Read: the first layer over the file: plaintext passes, v1/v2 decrypt
 *     with the unlocked key, mail_crypt CRYPTED mail with mail_crypt's keys.
 *   - For TREES users nothing of a message goes to dovecot.index.cache (the
 *     storage's mail_cache_min_mail_count is raised so no field is cached).
 *   - Storages that cannot hold encrypted mail (no binary data: mbox,
 *     imapc) refuse an encrypting user's saves: temporary failure.
 *   - Shared namespaces: the owner's mailboxes refuse saves and their
 *     encrypted mail fails to open (the owner's keys are not there).
 *   - Secret userdb fields are wiped after the unlock (trees-wipe-2[34].c and,
 *     for the derived key, by value in the whole process: mf-memwipe.h).
 */

#include "module-context.h"
#include "mail-user.h"

#define TREES_READ_BUFFER_MAX_DEFAULT (1024 * 1024)

struct trees_keypair;
struct trees_crypt_keys;

struct trees_user {
	union mail_user_module_context module_ctx;

	bool encrypt;          /* trees_enabled=1: new mail is encrypted */
	/* The owner of a shared namespace in another user's session: no keys
	   (the settings are that user's); saving is refused. */
	bool shared_owner;
	unsigned int version;  /* trees_version for new mail */
	struct trees_keypair *keys; /* NULL: no TREES key; secret only after unlock */
	struct trees_crypt_keys *crypt; /* mail_crypt keys, NULL if none */
	/* trees_read_buffer_max: messages up to this plaintext size are
	   decrypted once at open and read from memory; larger ones twice. */
	size_t read_buffer_max;

	/* The last mail whose stream authenticated completely, so opening it
	   again (header, then body) skips the verification pass. */
	struct mailbox *verified_box;
	uint32_t verified_uid;
};

extern const char *trees_plugin_version;

/* Zero the value of userdb field NAME (a secret) in every copy the mail
   process keeps of it (Dovecot-release specific: trees-wipe-23.c,
   trees-wipe-24.c). */
void trees_wipe_user_secret(struct mail_user *user, const char *name);
/* Zero the value of each NAME=value entry of a userdb field list. */
void trees_wipe_userdb_fields(const char *const *fields, const char *name);

void trees_plugin_init(struct module *module);
void trees_plugin_deinit(void);

#endif
