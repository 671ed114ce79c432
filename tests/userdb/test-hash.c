/* test-hash.c - importing Dovecot password hashes, and argon2 hashes with
 * parallelism > 1 that only libargon2 verifies. */
#include "mailfruit-config.h"

#include <string.h>

#include <argon2.h>
#include <sodium.h>

#include "tap.h"
#include "udb-hash.h"

#define SHA512 "$6$rounds=5000$usesomesillystri$D4IrlXatmP7rx3P3InaxBeoomnAihCKRVQP22JZ6EY47Wc6BkroIuUUBOov1i.S5KPgErtP/EN5mcO.ChWQW21"
#define BCRYPT "$2y$05$SrtiRqNW1uTEDdGMvAahpO7kpAqXNw2ebEeY1sYHQqQl9tHlkG0Pu"
#define ARGON2I "$argon2i$v=19$m=32768,t=4,p=1$1wGYtVOwMzSXjPhUWzMnKA$/yuWQudE0PEzRB2r8fTEY124xn/4AgiEE52fK1tJnRg"

static void imports(const char *in, const char *want, const char *what)
{
	char out[UDB_HASH_MAX + 1] = "", err[256] = "";

	tap_ok(udb_hash_import(in, out, err, sizeof(err)) == 0 && strcmp(out, want) == 0,
	       "import %s -> %.24s... %s", what, want, err);
}

static void refuses(const char *in, const char *what)
{
	char out[UDB_HASH_MAX + 1], err[256] = "";

	tap_ok(udb_hash_import(in, out, err, sizeof(err)) < 0, "refuse %s: %s", what, err);
}

int main(void)
{
	char enc[256], hash[UDB_HASH_MAX + 1], err[256], long_hash[700];
	unsigned char salt[16] = "0123456789abcdef";

	imports(SHA512, "{SHA512-CRYPT}" SHA512, "a bare sha512-crypt hash");
	imports("{SHA512-CRYPT}" SHA512, "{SHA512-CRYPT}" SHA512, "a Dovecot {SHA512-CRYPT} hash");
	imports("{CRYPT}" SHA512, "{SHA512-CRYPT}" SHA512, "{CRYPT} with a $6$ hash");
	imports(BCRYPT, "{BLF-CRYPT}" BCRYPT, "a bare bcrypt hash");
	imports("{BLF-CRYPT}" BCRYPT, "{BLF-CRYPT}" BCRYPT, "{BLF-CRYPT}");
	imports(ARGON2I, "{ARGON2I}" ARGON2I, "riseup's bare $argon2i$ hash");
	imports("{ARGON2}" ARGON2I, "{ARGON2I}" ARGON2I, "dovecot-libsodium-plugin's {ARGON2}");
	imports("{argon2i}" ARGON2I, "{ARGON2I}" ARGON2I, "scheme names in any case");
	refuses("{SHA512-CRYPT}" BCRYPT, "a scheme that does not match the hash");
	refuses("{PLAIN}secret", "plaintext");
	refuses("5f4dcc3b5aa765d61d8327deb882cf99", "unsalted MD5");
	refuses("$6$salt$has'quote", "a quote");
	refuses("$6$salt$has%percent", "a percent sign");
	refuses("$6$salt$has space", "a blank");
	refuses("$6$salt$x\nnext", "a newline");
	refuses("{SHA512-CRYPT" SHA512, "an unterminated scheme");
	refuses("$argon2id$v=19$m=65536,t=3$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", "argon2 without p=");
	refuses("$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0", "argon2 without the hash");
	memset(long_hash, 'a', sizeof(long_hash) - 1);
	memcpy(long_hash, "$6$", 3);
	long_hash[sizeof(long_hash) - 1] = '\0';
	refuses(long_hash, "700 characters");

	/* parallelism 4: Debian's libsodium verifies it, so Dovecot does. */
	tap_ok(argon2id_hash_encoded(1, 64, 4, "pass word", 9, salt, sizeof(salt), 32, enc,
				     sizeof(enc)) == ARGON2_OK, "an argon2id hash with p=4: %s", enc);
	tap_ok(crypto_pwhash_str_verify(enc, "pass word", 9) == 0,
	       "libsodium 1.0.18 verifies p=4 (left to Dovecot)");
	udb_hash_import(enc, hash, err, sizeof(err));
	tap_ok(strncmp(hash, "{ARGON2ID}$argon2id$", 20) == 0 && !udb_hash_needs_libargon2(hash),
	       "imported as {ARGON2ID}, verified by Dovecot");
	/* Version 16 (argon2 1.0, no "v=19"): libsodium cannot. */
	tap_ok(argon2_hash(1, 64, 2, "pass word", 9, salt, sizeof(salt), NULL, 32, enc, sizeof(enc),
			   Argon2_i, ARGON2_VERSION_10) == ARGON2_OK && strstr(enc, "v=16") != NULL,
	       "an argon2i version 16 hash: %s", enc);
	tap_ok(crypto_pwhash_str_verify(enc, "pass word", 9) != 0,
	       "libsodium cannot verify it (the reason for libargon2)");
	tap_ok(udb_hash_import(enc, hash, err, sizeof(err)) == 0 &&
	       strncmp(hash, "{ARGON2I}$argon2i$v=16$", 23) == 0, "imported: %s", hash);
	tap_ok(udb_hash_needs_libargon2(hash), "it needs libargon2");
	tap_is_int(udb_hash_verify_libargon2(hash, "pass word", 9, err, sizeof(err)), 1,
		   "libargon2 verifies the right password");
	tap_is_int(udb_hash_verify_libargon2(hash, "pass worD", 9, err, sizeof(err)), 0,
		   "and refuses a wrong one");
	/* A 12-byte output: below libsodium's minimum. */
	tap_ok(argon2_hash(1, 64, 1, "pass word", 9, salt, sizeof(salt), NULL, 12, enc, sizeof(enc),
			   Argon2_id, ARGON2_VERSION_13) == ARGON2_OK &&
	       crypto_pwhash_str_verify(enc, "pass word", 9) != 0,
	       "a 12-byte argon2id output libsodium cannot verify: %s", enc);
	udb_hash_import(enc, hash, err, sizeof(err));
	tap_ok(udb_hash_needs_libargon2(hash) &&
	       udb_hash_verify_libargon2(hash, "pass word", 9, err, sizeof(err)) == 1,
	       "is verified with libargon2");
	tap_is_int(udb_hash_verify_libargon2("{SHA512-CRYPT}" SHA512, "x", 1, err, sizeof(err)), -1,
		   "not for other schemes");
	udb_hash_import(ARGON2I, hash, err, sizeof(err));
	tap_ok(!udb_hash_needs_libargon2(hash), "riseup's p=1 v=19 hash is left to Dovecot");
	tap_ok(!udb_hash_needs_libargon2("{SHA512-CRYPT}" SHA512), "so is sha512-crypt");

	tap_ok(udb_hash_make("pass word", 9, 1, 8192, hash, err, sizeof(err)) == 0 &&
	       strncmp(hash, "{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$", 37) == 0,
	       "a new hash is {ARGON2ID} with p=1: %s", hash);
	tap_ok(crypto_pwhash_str_verify(hash + 10, "pass word", 9) == 0,
	       "libsodium (Dovecot) verifies it");
	tap_is_int(udb_hash_verify_libargon2(hash, "pass word", 9, err, sizeof(err)), 1,
		   "so does libargon2");
	return tap_done();
}
