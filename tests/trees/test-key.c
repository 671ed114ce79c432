/* test-key.c - TREES userdb fields, unlock and wrap: the riseup key vector
 * (shared/reference/trees-format.md §6), strict parsing, wrap round trip. */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tap.h"
#include "trees-key.h"

#define RISEUP_PK "b7b151873bb7c14de89ffcf34e1e4a7af2843f9becce9da0f7738a93480ae63f"
#define RISEUP_BOX                                                                              \
	"869ddac34b3afab6e138d7a82b4b93b13aec046f340e4a78d5b44644ad86cf11179473de16a9080bf5261ec4" \
	"06f82889"
#define RISEUP_NONCE "634c29520f376fff514d68b372d497d0eb5b62c14fb84b68"
#define RISEUP_SALT "5c13b1144ad120d6ca275e01b43c61d9"

/* A userdb as a NULL-terminated list of name, value pairs. */
struct fields {
	const char *kv[32];
};

static const char *lookup(void *context, const char *name)
{
	const struct fields *f = context;
	size_t i;

	for (i = 0; f->kv[i] != NULL; i += 2) {
		if (strcmp(f->kv[i], name) == 0)
			return f->kv[i + 1];
	}
	return NULL;
}

static struct fields riseup(const char *algo)
{
	struct fields f = {{"trees_enabled", "1", "trees_version", "1", "trees_public_key", RISEUP_PK,
			    "trees_pwhash_opslimit", "4", "trees_pwhash_memlimit", "33554432",
			    "trees_pwhash_salt", RISEUP_SALT, "trees_pwhash_algo", algo,
			    "trees_sk_nonce", RISEUP_NONCE, "trees_locked_secretbox", RISEUP_BOX,
			    NULL}};
	return f;
}

/* Replace (or with value NULL remove) one field. */
static struct fields with(struct fields f, const char *name, const char *value)
{
	size_t i;

	for (i = 0; f.kv[i] != NULL; i += 2) {
		if (strcmp(f.kv[i], name) == 0) {
			if (value != NULL) {
				f.kv[i + 1] = value;
			} else {
				memmove(&f.kv[i], &f.kv[i + 2], sizeof(f.kv) - (i + 2) * sizeof(f.kv[0]));
			}
			return f;
		}
	}
	f.kv[i] = name;
	f.kv[i + 1] = value;
	f.kv[i + 2] = NULL;
	return f;
}

static char err[256];

static void expect_bad(struct fields f, const char *needle, const char *what)
{
	struct trees_settings set;
	int ret = trees_settings_read(&set, lookup, &f, err, sizeof(err));

	tap_ok(ret < 0 && strstr(err, needle) != NULL, "%s refused: %s", what,
	       ret < 0 ? err : "ACCEPTED");
}

static void test_riseup_vector(void)
{
	struct fields f = riseup("0");
	struct trees_settings set;
	struct trees_keypair *kp = trees_keypair_new();
	unsigned char pk[32], key[32];
	char hex[65];

	tap_ok(trees_settings_read(&set, lookup, &f, err, sizeof(err)) == 0 && set.enabled &&
		       set.version == 1 && set.have_public_key && set.have_locked_key &&
		       set.locked.opslimit == 4 && set.locked.memlimit == 33554432 &&
		       set.locked.algo == TREES_PWHASH_ARGON2I,
	       "riseup vector fields parse");
	tap_ok(trees_unlock_with_password(&set, "PASSWORD", 8, kp, err, sizeof(err)) == 0,
	       "riseup vector unlocks with PASSWORD and argon2i (algo 0)");
	crypto_scalarmult_base(pk, trees_keypair_secret(kp));
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	tap_is_str(hex, RISEUP_PK, "the unlocked secret key belongs to the vector's public key");

	/* The derived key (trees_secretbox_key) unlocks without the password. */
	trees_derive_key(&set.locked, "PASSWORD", 8, key, err, sizeof(err));
	sodium_bin2hex(hex, sizeof(hex), key, 32);
	trees_keypair_free(&kp);
	kp = trees_keypair_new();
	tap_ok(trees_unlock_with_hex_key(&set, hex, kp, err, sizeof(err)) == 0 &&
		       trees_keypair_has_secret(kp),
	       "trees_secretbox_key (the derived key) unlocks without the password");
	hex[62] = '\0';
	tap_ok(trees_unlock_with_hex_key(&set, hex, kp, err, sizeof(err)) < 0 &&
		       strstr(err, "trees_secretbox_key") != NULL,
	       "a 62-hex trees_secretbox_key is refused: %s", err);

	trees_keypair_free(&kp);
	kp = trees_keypair_new();
	tap_ok(trees_unlock_with_password(&set, "PASSWORd", 8, kp, err, sizeof(err)) < 0 &&
		       strstr(err, "wrong password") != NULL && !trees_keypair_has_secret(kp),
	       "wrong password fails: %s", err);

	f = riseup("1");
	trees_settings_read(&set, lookup, &f, err, sizeof(err));
	tap_ok(trees_unlock_with_password(&set, "PASSWORD", 8, kp, err, sizeof(err)) < 0,
	       "the same vector does not open with argon2id (algo 1)");

	/* A right password but a box for another public key. */
	f = with(riseup("0"), "trees_public_key",
		 "4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01");
	trees_settings_read(&set, lookup, &f, err, sizeof(err));
	tap_ok(trees_unlock_with_password(&set, "PASSWORD", 8, kp, err, sizeof(err)) < 0 &&
		       strstr(err, "does not match") != NULL && !trees_keypair_has_secret(kp),
	       "a secret key that does not match trees_public_key is refused: %s", err);
	trees_keypair_free(&kp);
}

static void test_strict_parsing(void)
{
	struct fields f = riseup("0");
	struct fields delivery = {{"trees_enabled", "1", "trees_version", "2", "trees_public_key",
				   RISEUP_PK, NULL}};
	struct fields none = {{NULL}};
	struct fields off = {{"trees_enabled", "0", NULL}};
	struct trees_settings set;

	tap_ok(trees_settings_read(&set, lookup, &delivery, err, sizeof(err)) == 0 &&
		       set.enabled && set.version == 2 && !set.have_locked_key,
	       "delivery fields (enabled, version, public key) are enough");
	tap_ok(trees_settings_read(&set, lookup, &none, err, sizeof(err)) == 0 && !set.enabled &&
		       !set.enabled_set,
	       "no fields: not a TREES user");
	tap_ok(trees_settings_read(&set, lookup, &off, err, sizeof(err)) == 0 && !set.enabled &&
		       set.enabled_set,
	       "trees_enabled=0 alone is valid");

	expect_bad(with(f, "trees_public_key", RISEUP_SALT), "expected 64 hex",
		   "32-hex public key (riseup would accept it)");
	expect_bad(with(f, "trees_public_key", RISEUP_PK "00"), "expected 64 hex",
		   "66-hex public key");
	expect_bad(with(f, "trees_public_key",
			"g7b151873bb7c14de89ffcf34e1e4a7af2843f9becce9da0f7738a93480ae63f"),
		   "not a hex", "non-hex public key");
	expect_bad(with(f, "trees_pwhash_salt", "5c13"), "trees_pwhash_salt", "short salt");
	expect_bad(with(f, "trees_sk_nonce", RISEUP_SALT), "trees_sk_nonce", "short nonce");
	expect_bad(with(f, "trees_locked_secretbox", RISEUP_PK), "trees_locked_secretbox",
		   "short locked box");
	expect_bad(with(f, "trees_pwhash_opslimit", "4x"), "trees_pwhash_opslimit",
		   "opslimit with junk");
	expect_bad(with(f, "trees_pwhash_opslimit", "-4"), "trees_pwhash_opslimit",
		   "negative opslimit");
	expect_bad(with(f, "trees_pwhash_opslimit", "2"), "outside", "argon2i opslimit 2");
	expect_bad(with(f, "trees_pwhash_memlimit", ""), "trees_pwhash_memlimit", "empty memlimit");
	expect_bad(with(f, "trees_pwhash_memlimit", "1024"), "outside", "memlimit below 8 KiB");
	expect_bad(with(f, "trees_pwhash_memlimit", "99999999999999999999999"),
		   "trees_pwhash_memlimit", "overflowing memlimit");
	expect_bad(with(f, "trees_pwhash_algo", "2"), "unknown algorithm", "pwhash algo 2");
	expect_bad(with(f, "trees_pwhash_algo", NULL), "trees_pwhash_algo is missing",
		   "locked key without algo");
	expect_bad(with(f, "trees_sk_nonce", NULL), "trees_sk_nonce is missing",
		   "locked key without nonce");
	expect_bad(with(f, "trees_enabled", "yes"), "trees_enabled", "trees_enabled=yes");
	expect_bad(with(f, "trees_version", "3"), "trees_version", "trees_version=3");
	expect_bad(with(f, "trees_version", "01"), "trees_version", "trees_version=01");
	expect_bad(with(f, "trees_version", NULL), "trees_version is missing",
		   "enabled without version (riseup stores plaintext)");
	expect_bad(with(delivery, "trees_public_key", NULL), "trees_public_key is missing",
		   "enabled without public key (riseup stores plaintext)");
	expect_bad(with(with(f, "trees_enabled", "0"), "trees_public_key", NULL),
		   "trees_public_key is missing", "locked key without public key");
}

static void emit(void *context, const char *field, const char *value)
{
	struct fields *f = context;
	size_t i = 0;

	while (f->kv[i] != NULL)
		i += 2;
	f->kv[i] = strdup(field);
	f->kv[i + 1] = strdup(value);
	f->kv[i + 2] = NULL;
}

static void test_wrap(void)
{
	struct trees_keypair *kp = trees_keypair_new(), *back = trees_keypair_new();
	struct trees_locked_key locked;
	struct trees_settings set;
	struct fields f = {{"trees_enabled", "1", "trees_version", "2", NULL}};
	unsigned char key[32];
	size_t i;

	tap_ok(trees_keypair_generate(kp) == 0, "generate a key pair");
	tap_ok(trees_wrap(kp, "n3w pass%word", 13, 1, 8192, TREES_PWHASH_ARGON2ID, &locked, key,
			  err, sizeof(err)) == 0,
	       "wrap it under a password (argon2id)");
	tap_ok(trees_wrap(kp, "x", 1, 2, 8192, TREES_PWHASH_ARGON2I, &locked, NULL, err,
			  sizeof(err)) < 0 &&
		       strstr(err, "opslimit") != NULL,
	       "wrap refuses limits libsodium refuses: %s", err);
	trees_wrap(kp, "n3w pass%word", 13, 1, 8192, TREES_PWHASH_ARGON2ID, &locked, key, err,
		   sizeof(err));
	trees_locked_key_fields(&locked, trees_keypair_public(kp), emit, &f);
	tap_ok(trees_settings_read(&set, lookup, &f, err, sizeof(err)) == 0 && set.have_locked_key,
	       "the emitted userdb fields parse back");
	tap_ok(trees_unlock_with_password(&set, "n3w pass%word", 13, back, err, sizeof(err)) == 0 &&
		       memcmp(trees_keypair_secret(back), trees_keypair_secret(kp), 32) == 0,
	       "and unlock to the same secret key");
	tap_ok(trees_unlock_with_key(&set.locked, set.public_key, key, back, err, sizeof(err)) ==
		       0,
	       "the derived key returned by wrap unlocks too");
	tap_ok(trees_unlock_with_password(&set, "old pass", 8, back, err, sizeof(err)) < 0,
	       "another password does not");
	for (i = 4; f.kv[i] != NULL; i++)
		free((char *)f.kv[i]);
	trees_keypair_free(&kp);
	trees_keypair_free(&back);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_riseup_vector();
	test_strict_parsing();
	test_wrap();
	return tap_done();
}
