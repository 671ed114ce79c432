/* test-cred.c - key wraps for password, app passwords and recovery code:
 * each opens the same secret key, with exactly one argon2 per unlock. */
#include "mailfruit-config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mf-secmem.h"
#include "tap.h"
#include "udb-cred.h"

/* libsodium's minimum cost: the tests are about logic, not cost. */
#define OPS 1
#define MEM 8192

static int wrap(const struct trees_keypair *kp, enum udb_wrap_kind kind, const char *name,
		const char *secret, struct udb_wrap *w)
{
	char err[256] = "";
	int ret = udb_wrap_make(kp, kind, name, secret, strlen(secret), OPS, MEM,
				TREES_PWHASH_ARGON2ID, w, NULL, err, sizeof(err));

	if (ret < 0)
		tap_diag("wrap: %s", err);
	return ret;
}

/* Unlocks and reports which wrap opened and how many argon2 it took. */
static int try(const struct udb_wrap *w, size_t n, const struct trees_keypair *kp,
	       const char *secret, size_t *used, unsigned long *argon2)
{
	unsigned char key[TREES_SECRETBOX_KEYBYTES];
	struct trees_keypair *out = trees_keypair_new();
	char err[256] = "";
	unsigned long before = udb_argon2_count();
	int ret;

	*used = 99;
	ret = udb_unlock(w, n, trees_keypair_public(kp), secret, strlen(secret), used, key, out,
			 err, sizeof(err));
	*argon2 = udb_argon2_count() - before;
	if (ret == 1 && memcmp(trees_keypair_secret(out), trees_keypair_secret(kp), 32) != 0)
		ret = -2;
	trees_keypair_free(&out);
	return ret;
}

int main(void)
{
	struct trees_keypair *kp = trees_keypair_new(), *other = trees_keypair_new();
	struct udb_wrap w[4], ow;
	char app[UDB_CODE_MAX], rec[UDB_CODE_MAX], norm[UDB_CODE_MAX], typed[UDB_CODE_MAX];
	char seen[100][UDB_CODE_MAX], err[256], hex[65];
	unsigned char key[TREES_SECRETBOX_KEYBYTES];
	struct trees_settings set;
	size_t used, i, j;
	unsigned long argon2;
	bool distinct = true, alphabet = true;

	tap_ok(kp != NULL && trees_keypair_generate(kp) == 0 && other != NULL &&
	       trees_keypair_generate(other) == 0, "two key pairs");

	/* Generated codes. */
	tap_ok(udb_code_generate(UDB_WRAP_APP, app, sizeof(app)) == 0 && strlen(app) == 23 &&
	       app[5] == '-' && app[11] == '-' && app[17] == '-',
	       "an app password is 20 characters in groups of 5: %s", app);
	tap_ok(udb_code_generate(UDB_WRAP_RECOVERY, rec, sizeof(rec)) == 0 && strlen(rec) == 35,
	       "a recovery code is 30 characters in groups of 5: %s", rec);
	tap_ok(udb_code_generate(UDB_WRAP_PASSWORD, norm, sizeof(norm)) < 0,
	       "passwords are not generated");
	for (i = 0; i < 100; i++) {
		udb_code_generate(UDB_WRAP_APP, seen[i], sizeof(seen[i]));
		alphabet = alphabet && strspn(seen[i], "0123456789abcdefghjkmnpqrstvwxyz-") == 23;
		for (j = 0; j < i; j++)
			distinct = distinct && strcmp(seen[i], seen[j]) != 0;
	}
	tap_ok(distinct && alphabet, "100 app passwords: all distinct, Crockford base32");
	tap_is_int((long long)udb_code_normalize(" ABCDE-fghjk-MNPQR-stvwx ", 25, norm, sizeof(norm)),
		   20, "typing: case, blanks and dashes do not matter");
	tap_is_str(norm, "abcdefghjkmnpqrstvwx", "  normalized");
	tap_is_int((long long)udb_code_normalize("0OoiIlL1000000000000", 20, norm, sizeof(norm)), 20,
		   "o is read as 0, i and l as 1");
	tap_is_str(norm, "00011111000000000000", "  normalized");
	tap_is_int((long long)udb_code_normalize("abcdefghjkmnpqrstvw", 19, norm, sizeof(norm)), 0,
		   "19 characters are no code");
	tap_is_int((long long)udb_code_normalize("abcdefghjkmnpqrstvwu", 20, norm, sizeof(norm)), 0,
		   "'u' is not in the alphabet");
	tap_is_int((long long)udb_code_normalize("abcdefghjkmnpqrstvw%", 20, norm, sizeof(norm)), 0,
		   "'%%' is no code character");

	/* Wraps: password, two app passwords, recovery code. */
	tap_ok(wrap(kp, UDB_WRAP_PASSWORD, NULL, "correct horse", &w[0]) == 0 && !w[0].has_tag,
	       "the password is wrapped, without a fast tag");
	tap_ok(wrap(kp, UDB_WRAP_APP, "phone", app, &w[1]) == 0 && w[1].has_tag &&
	       strcmp(w[1].name, "phone") == 0, "an app password is wrapped with a tag");
	udb_code_generate(UDB_WRAP_APP, seen[0], sizeof(seen[0]));
	tap_ok(wrap(kp, UDB_WRAP_APP, "laptop", seen[0], &w[2]) == 0, "a second app password");
	tap_ok(wrap(kp, UDB_WRAP_RECOVERY, NULL, rec, &w[3]) == 0 && w[3].has_tag,
	       "the recovery code is wrapped with a tag");
	tap_ok(memcmp(w[0].locked.salt, w[1].locked.salt, TREES_SALTBYTES) != 0 &&
	       memcmp(w[0].locked.nonce, w[3].locked.nonce, TREES_NONCEBYTES) != 0,
	       "each wrap has its own salt and nonce");
	tap_ok(wrap(kp, UDB_WRAP_APP, NULL, app, &ow) < 0, "an app password needs a name");
	tap_ok(wrap(kp, UDB_WRAP_APP, "x", "not a code at all", &ow) < 0,
	       "an app password must be a generated code");

	tap_is_int(try(w, 4, kp, "correct horse", &used, &argon2), 1, "the password opens the key");
	tap_ok(used == 0 && argon2 == 1, "  the password wrap, with one argon2 (%lu)", argon2);
	tap_is_int(try(w, 4, kp, app, &used, &argon2), 1, "the app password opens it");
	tap_ok(used == 1 && argon2 == 1, "  its own wrap, with one argon2 (%lu)", argon2);
	strcpy(typed, app);
	for (i = 0; typed[i]; i++)
		typed[i] = typed[i] == '-' ? ' ' : (char)(typed[i] >= 'a' ? typed[i] - 32 : typed[i]);
	tap_is_int(try(w, 4, kp, typed, &used, &argon2), 1, "typed in capitals with blanks: %s",
		   typed);
	tap_ok(used == 1 && argon2 == 1, "  still one argon2");
	tap_is_int(try(w, 4, kp, seen[0], &used, &argon2), 1, "the second app password");
	tap_ok(used == 2 && argon2 == 1, "  its wrap, one argon2");
	tap_is_int(try(w, 4, kp, rec, &used, &argon2), 1, "the recovery code opens it");
	tap_ok(used == 3 && argon2 == 1, "  its wrap, one argon2");
	tap_is_int(try(w, 4, kp, "wrong horse", &used, &argon2), 0, "a wrong password does not");
	tap_is_int((long long)argon2, 1, "  and costs one argon2, like a right one");
	udb_code_generate(UDB_WRAP_APP, norm, sizeof(norm));
	tap_is_int(try(w, 4, kp, norm, &used, &argon2), 0, "an unknown code-shaped secret: no");
	tap_is_int((long long)argon2, 1, "  one argon2 (tried as the password)");
	tap_is_int(try(w + 1, 3, kp, "correct horse", &used, &argon2), 0,
		   "without a password wrap the password opens nothing");
	tap_is_int((long long)argon2, 0, "  and no argon2 runs");
	tap_is_int(try(w, 4, other, "correct horse", &used, &argon2), 0,
		   "a wrap whose key does not match the public key is refused");

	/* The derived key is what the TREES plugin gets as
	 * trees_secretbox_key: it must open the wrap without argon2. */
	{
		struct trees_keypair *out = trees_keypair_new();

		tap_ok(udb_unlock(w, 4, trees_keypair_public(kp), app, strlen(app), &used, key, NULL,
				  err, sizeof(err)) == 1, "unlock without a key pair argument");
		memset(&set, 0, sizeof(set));
		set.have_public_key = set.have_locked_key = true;
		memcpy(set.public_key, trees_keypair_public(kp), TREES_KEYBYTES);
		set.locked = w[used].locked;
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		tap_ok(trees_unlock_with_hex_key(&set, hex, out, err, sizeof(err)) == 0 &&
		       memcmp(trees_keypair_secret(out), trees_keypair_secret(kp), 32) == 0,
		       "the derived key with that wrap's fields unlocks like the plugin does");
		trees_keypair_free(&out);
	}
	tap_is_str(udb_wrap_kind_str(UDB_WRAP_RECOVERY), "recovery", "kind names");
	trees_keypair_free(&kp);
	trees_keypair_free(&other);
	return tap_done();
}
