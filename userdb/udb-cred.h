/*
 * udb-cred.h - wrapped copies of a TREES secret key ("wraps") and the
 * generated secrets that open some of them.
 *
 * Contract:
 *   - A mailbox's secret key is wrapped once per credential: the login
 *     password, each app password, the recovery code. Each wrap has its own
 *     salt, nonce, argon2 parameters and algorithm (trees-key.h does the
 *     cryptography).
 *   - App passwords and recovery codes are generated here, from
 *     libsodium's randombytes: 20 and 30 characters of Crockford's base32
 *     (100 and 150 bits), shown in groups of five. What a person types is
 *     normalized (dashes and blanks dropped, case folded, o -> 0, i/l -> 1).
 *   - Their wraps carry a tag, a BLAKE2b of the normalized code keyed with
 *     the wrap's salt: cheap to check, safe only because the codes are
 *     random. So udb_unlock() picks the single wrap a secret can open and
 *     runs exactly one argon2: a code's wrap when a tag matches, else the
 *     login password's wrap. The password itself never gets a fast hash.
 *   - Secrets handled here stay in mf_secmem memory and are wiped.
 */
#ifndef UDB_CRED_H
#define UDB_CRED_H

#include <stdbool.h>
#include <stddef.h>

#include "trees-key.h"

#define UDB_TAGBYTES 16
#define UDB_APP_CODE_LEN 20
#define UDB_RECOVERY_CODE_LEN 30
#define UDB_CODE_MAX 48       /* formatted code with dashes, and its NUL */
#define UDB_NAME_MAX 64       /* an app password's name */
#define UDB_APP_PASSWORDS_MAX 32
#define UDB_WRAPS_MAX (UDB_APP_PASSWORDS_MAX + 2)

enum udb_wrap_kind {
	UDB_WRAP_PASSWORD,
	UDB_WRAP_APP,
	UDB_WRAP_RECOVERY,
};

struct udb_wrap {
	long long id;
	enum udb_wrap_kind kind;
	char name[UDB_NAME_MAX + 1];  /* app passwords only */
	bool has_tag;
	unsigned char tag[UDB_TAGBYTES];
	struct trees_locked_key locked;
	long long created;
};

/* "password", "app", "recovery" (the key_wraps.kind values). */
const char *udb_wrap_kind_str(enum udb_wrap_kind kind);
int udb_wrap_kind_parse(const char *str, enum udb_wrap_kind *kind_r);

/* A fresh app password or recovery code, formatted, into out (at least
 * UDB_CODE_MAX bytes; use locked memory). */
int udb_code_generate(enum udb_wrap_kind kind, char *out, size_t outsize);
/* The normalized form of what someone typed, or 0 when it cannot be a
 * generated code (wrong characters or length). out: UDB_CODE_MAX bytes. */
size_t udb_code_normalize(const char *in, size_t len, char *out, size_t outsize);
void udb_code_tag(const char *norm, size_t len, const unsigned char salt[TREES_SALTBYTES],
		  unsigned char tag[UDB_TAGBYTES]);

/* Wraps kp's secret key for a credential of the given kind: codes are
 * normalized and tagged. name: the app password's name (else NULL).
 * key_r, when not NULL, receives the derived key. */
int udb_wrap_make(const struct trees_keypair *kp, enum udb_wrap_kind kind, const char *name,
		  const char *secret, size_t len, unsigned long long opslimit, size_t memlimit,
		  enum trees_pwhash_algo algo, struct udb_wrap *wrap_r,
		  unsigned char key_r[TREES_SECRETBOX_KEYBYTES], char *err, size_t errlen);

/* Opens the one wrap `secret` can open (see above) with one argon2.
 * 1: opened; *used_r is its index, key_r the derived key and kp (when not
 * NULL) the key pair. 0: the secret opens nothing (err says why). -1: an
 * error such as out of memory. */
int udb_unlock(const struct udb_wrap *wraps, size_t n, const unsigned char pk[TREES_KEYBYTES],
	       const char *secret, size_t len, size_t *used_r,
	       unsigned char key_r[TREES_SECRETBOX_KEYBYTES], struct trees_keypair *kp,
	       char *err, size_t errlen);

/* How many argon2 evaluations this process ran through udb_wrap_make() and
 * udb_unlock() (tests and the driver's debug log count them). */
unsigned long udb_argon2_count(void);

#endif
