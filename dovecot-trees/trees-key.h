/*
 * trees-key.h - TREES user keys: the riseup userdb fields, unlocking the
 * secret key, and wrapping one. No Dovecot, libsodium only; used by the
 * Dovecot plugin and by the userdb CLI (create and re-wrap keys).
 *
 * Contract:
 *   - trees_settings_read() parses the non-secret fields strictly through a
 *     lookup callback (NULL = field absent): hex of the wrong length, a
 *     number with trailing junk or out of libsodium's range, an unknown
 *     algorithm or version is an error naming the field. Partial locked-key
 *     fields are an error too.
 *   - Secrets never pass through this module in the clear except as
 *     arguments: keypairs and derived keys live in sodium-locked memory
 *     (mf-secmem) and are wiped when freed; the module keeps no copies.
 *   - Unlocking checks that the opened secret key matches the public key.
 *   - Errors go to a caller buffer as one line; functions return 0 or -1.
 */
#ifndef TREES_KEY_H
#define TREES_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "trees-format.h"

#define TREES_SALTBYTES 16u       /* crypto_pwhash_SALTBYTES */
#define TREES_NONCEBYTES 24u      /* crypto_secretbox_NONCEBYTES */
#define TREES_LOCKEDBOXBYTES 48u  /* crypto_secretbox_MACBYTES + secret key */
#define TREES_SECRETBOX_KEYBYTES 32u

enum trees_pwhash_algo {
	TREES_PWHASH_ARGON2I = 0,  /* crypto_pwhash_ALG_ARGON2I13 */
	TREES_PWHASH_ARGON2ID = 1, /* crypto_pwhash_ALG_ARGON2ID13 */
};

/* The wrapped secret key as riseup stores it in the userdb. */
struct trees_locked_key {
	unsigned long long opslimit;
	size_t memlimit;
	enum trees_pwhash_algo algo;
	unsigned char salt[TREES_SALTBYTES];
	unsigned char nonce[TREES_NONCEBYTES];
	unsigned char box[TREES_LOCKEDBOXBYTES];
};

struct trees_settings {
	bool enabled_set, enabled;      /* trees_enabled */
	unsigned int version;           /* trees_version; 0 = absent */
	bool have_public_key;           /* trees_public_key */
	unsigned char public_key[TREES_KEYBYTES];
	bool have_locked_key;           /* all six trees_pwhash_..., trees_sk_nonce, trees_locked_secretbox */
	struct trees_locked_key locked;
};

/* Returns the value of a userdb field, or NULL when it is absent. */
typedef const char *trees_lookup_fn(void *context, const char *name);

int trees_settings_read(struct trees_settings *set_r, trees_lookup_fn *lookup, void *context,
			char *error, size_t error_size);

/* An X25519 key pair in locked memory. */
struct trees_keypair;

struct trees_keypair *trees_keypair_new(void);
void trees_keypair_free(struct trees_keypair **kp);
/* Public key only (enough to encrypt). */
void trees_keypair_set_public(struct trees_keypair *kp, const unsigned char pk[TREES_KEYBYTES]);
/* From a raw secret key; the public key is derived from it. */
int trees_keypair_set_secret(struct trees_keypair *kp, const unsigned char sk[TREES_KEYBYTES]);
/* A fresh random key pair. */
int trees_keypair_generate(struct trees_keypair *kp);
/* The key pair crypto_box_seed_keypair() derives from a 32-byte seed
 * (deterministic: for tests and key-derivation schemes). */
int trees_keypair_from_seed(struct trees_keypair *kp, const unsigned char seed[32]);
bool trees_keypair_has_public(const struct trees_keypair *kp);
bool trees_keypair_has_secret(const struct trees_keypair *kp);
const unsigned char *trees_keypair_public(const struct trees_keypair *kp);
const unsigned char *trees_keypair_secret(const struct trees_keypair *kp);

/* Derive the 32-byte secretbox key (trees_secretbox_key) from the password:
 * crypto_pwhash with the locked key's parameters. key_r should be locked
 * memory (mf_secmem_alloc). */
int trees_derive_key(const struct trees_locked_key *locked, const char *password,
		     size_t password_len, unsigned char key_r[TREES_SECRETBOX_KEYBYTES],
		     char *error, size_t error_size);
/* Open the locked box with a derived key into kp; the secret key must match
 * public_key. */
int trees_unlock_with_key(const struct trees_locked_key *locked,
			  const unsigned char public_key[TREES_KEYBYTES],
			  const unsigned char key[TREES_SECRETBOX_KEYBYTES], struct trees_keypair *kp,
			  char *error, size_t error_size);
/* trees_derive_key() + trees_unlock_with_key(); the derived key is wiped. */
int trees_unlock_with_password(const struct trees_settings *set, const char *password,
			       size_t password_len, struct trees_keypair *kp, char *error,
			       size_t error_size);
/* trees_secretbox_key given as 64 hex characters (decoded into locked
 * memory, wiped afterwards). */
int trees_unlock_with_hex_key(const struct trees_settings *set, const char *key_hex,
			      struct trees_keypair *kp, char *error, size_t error_size);

/* Wrap kp's secret key under password: fresh salt and nonce, the given
 * opslimit/memlimit/algo (checked against libsodium's limits). key_r, when
 * not NULL, receives the derived key (for trees_secretbox_key). */
int trees_wrap(const struct trees_keypair *kp, const char *password, size_t password_len,
	       unsigned long long opslimit, size_t memlimit, enum trees_pwhash_algo algo,
	       struct trees_locked_key *locked_r, unsigned char key_r[TREES_SECRETBOX_KEYBYTES],
	       char *error, size_t error_size);

/* Calls emit(context, field, value) for trees_public_key, trees_pwhash_*,
 * trees_sk_nonce and trees_locked_secretbox in the userdb encodings. */
void trees_locked_key_fields(const struct trees_locked_key *locked,
			     const unsigned char public_key[TREES_KEYBYTES],
			     void (*emit)(void *context, const char *field, const char *value),
			     void *context);

#endif
