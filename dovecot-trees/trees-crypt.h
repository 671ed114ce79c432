#ifndef TREES_CRYPT_H
#define TREES_CRYPT_H

/*
 * trees-crypt.h - reading Dovecot mail_crypt ("CRYPTED") mail, so a
 * mail_crypt mailbox keeps working (and can be migrated) under TREES.
 *
 * Contract: trees_crypt_keys_load() reads the private keys mail_crypt
 * itself would use (trees-settings.h: on 2.3 mail_crypt_global_private_key,
 * ..._key2, ... and mail_crypt_private_key, ..._key2, ..., each with an
 * optional <name>_password; on 2.4 each crypt_global_private_key NAME {
 * crypt_private_key_file, crypt_private_key_password }); PEM or base64 of
 * PEM - through Dovecot's dcrypt. It
 * returns 0 with *keys_r NULL when none is configured, -1 with *error_r
 * when one does not load (the caller fails the login: a configured key
 * that cannot be used is an admin error, not something to skip).
 * trees_crypt_istream_create() decrypts a CRYPTED stream with those keys;
 * like mail_crypt, it buffers into a seekable stream (temp files under
 * mail_temp_dir, unlinked at once) because dcrypt's stream only reads
 * forward.
 */

struct mail_user;
struct trees_crypt_keys;

bool trees_crypt_is_crypted(const unsigned char *data, size_t size);
int trees_crypt_keys_load(struct mail_user *user, struct trees_crypt_keys **keys_r,
			  const char **error_r);
void trees_crypt_keys_free(struct trees_crypt_keys **keys);
struct istream *trees_crypt_istream_create(struct istream *input, struct trees_crypt_keys *keys,
					   struct mail_user *user);

#endif
