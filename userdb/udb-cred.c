/* udb-cred.c - key wraps and generated codes (udb-cred.h). */
#include "mailfruit-config.h"

#include <string.h>

#include <sodium.h>

#include "mf-err.h"
#include "mf-secmem.h"
#include "udb-cred.h"

/* Crockford's base32, lower case: no i, l, o, u to misread. */
static const char code_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

static unsigned long argon2_count;

unsigned long udb_argon2_count(void)
{
	return argon2_count;
}

const char *udb_wrap_kind_str(enum udb_wrap_kind kind)
{
	switch (kind) {
	case UDB_WRAP_PASSWORD: return "password";
	case UDB_WRAP_APP: return "app";
	case UDB_WRAP_RECOVERY: return "recovery";
	}
	return "?";
}

int udb_wrap_kind_parse(const char *str, enum udb_wrap_kind *kind_r)
{
	if (strcmp(str, "password") == 0)
		*kind_r = UDB_WRAP_PASSWORD;
	else if (strcmp(str, "app") == 0)
		*kind_r = UDB_WRAP_APP;
	else if (strcmp(str, "recovery") == 0)
		*kind_r = UDB_WRAP_RECOVERY;
	else
		return -1;
	return 0;
}

static size_t code_len(enum udb_wrap_kind kind)
{
	return kind == UDB_WRAP_APP ? UDB_APP_CODE_LEN :
	       kind == UDB_WRAP_RECOVERY ? UDB_RECOVERY_CODE_LEN : 0;
}

int udb_code_generate(enum udb_wrap_kind kind, char *out, size_t outsize)
{
	size_t len = code_len(kind), i, o = 0;

	if (len == 0 || outsize < len + len / 5 || mf_secmem_init() < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = '-';
		out[o++] = code_alphabet[randombytes_uniform(32)];
	}
	out[o] = '\0';
	return 0;
}

size_t udb_code_normalize(const char *in, size_t len, char *out, size_t outsize)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '-' || c == ' ' || c == '\t')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == 'o')
			c = '0';
		else if (c == 'i' || c == 'l')
			c = '1';
		if (c == '\0' || strchr(code_alphabet, c) == NULL || o + 1 >= outsize ||
		    o >= UDB_RECOVERY_CODE_LEN) {
			mf_secmem_wipe(out, o);
			return 0;
		}
		out[o++] = c;
	}
	if (o != UDB_APP_CODE_LEN && o != UDB_RECOVERY_CODE_LEN) {
		mf_secmem_wipe(out, o);
		return 0;
	}
	out[o] = '\0';
	return o;
}

void udb_code_tag(const char *norm, size_t len, const unsigned char salt[TREES_SALTBYTES],
		  unsigned char tag[UDB_TAGBYTES])
{
	_Static_assert(TREES_SALTBYTES >= crypto_generichash_KEYBYTES_MIN, "salt as key");
	crypto_generichash(tag, UDB_TAGBYTES, (const unsigned char *)norm, len, salt,
			   TREES_SALTBYTES);
}

int udb_wrap_make(const struct trees_keypair *kp, enum udb_wrap_kind kind, const char *name,
		  const char *secret, size_t len, unsigned long long opslimit, size_t memlimit,
		  enum trees_pwhash_algo algo, struct udb_wrap *wrap,
		  unsigned char key_r[TREES_SECRETBOX_KEYBYTES], char *err, size_t errlen)
{
	char *norm = NULL;
	size_t nlen = 0;
	int ret;

	memset(wrap, 0, sizeof(*wrap));
	wrap->kind = kind;
	if (kind == UDB_WRAP_APP) {
		if (name == NULL || strlen(name) > UDB_NAME_MAX)
			return mf_err_set(err, errlen, "an app password needs a name of at most "
					  "%d characters", UDB_NAME_MAX), -1;
		strcpy(wrap->name, name);
	}
	if (kind != UDB_WRAP_PASSWORD) {
		norm = mf_secmem_alloc(UDB_CODE_MAX);
		if (norm == NULL)
			return mf_err_set(err, errlen, "out of locked memory"), -1;
		nlen = udb_code_normalize(secret, len, norm, UDB_CODE_MAX);
		if (nlen != code_len(kind)) {
			mf_secmem_free(norm);
			return mf_err_set(err, errlen, "not a generated %s code",
					  udb_wrap_kind_str(kind)), -1;
		}
		secret = norm;
		len = nlen;
	}
	argon2_count++;
	ret = trees_wrap(kp, secret, len, opslimit, memlimit, algo, &wrap->locked, key_r, err,
			 errlen);
	if (ret == 0 && norm != NULL) {
		udb_code_tag(norm, nlen, wrap->locked.salt, wrap->tag);
		wrap->has_tag = true;
	}
	mf_secmem_free(norm);
	return ret;
}

/* The wrap whose tag the normalized code matches, or -1. Every tag is
 * compared, in constant time, whatever matched before. */
static int match_tag(const struct udb_wrap *wraps, size_t n, const char *norm, size_t nlen)
{
	unsigned char tag[UDB_TAGBYTES];
	int found = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!wraps[i].has_tag || code_len(wraps[i].kind) != nlen)
			continue;
		udb_code_tag(norm, nlen, wraps[i].locked.salt, tag);
		if (sodium_memcmp(tag, wraps[i].tag, UDB_TAGBYTES) == 0 && found < 0)
			found = (int)i;
	}
	return found;
}

int udb_unlock(const struct udb_wrap *wraps, size_t n, const unsigned char pk[TREES_KEYBYTES],
	       const char *secret, size_t len, size_t *used_r,
	       unsigned char key_r[TREES_SECRETBOX_KEYBYTES], struct trees_keypair *kp,
	       char *err, size_t errlen)
{
	struct trees_keypair *own_kp = NULL;
	char *norm;
	size_t nlen, i;
	int chosen = -1, ret;

	norm = mf_secmem_alloc(UDB_CODE_MAX);
	if (norm == NULL)
		return mf_err_set(err, errlen, "out of locked memory"), -1;
	nlen = udb_code_normalize(secret, len, norm, UDB_CODE_MAX);
	if (nlen > 0 && (chosen = match_tag(wraps, n, norm, nlen)) >= 0) {
		secret = norm;
		len = nlen;
	} else {
		for (i = 0; i < n; i++) {
			if (wraps[i].kind == UDB_WRAP_PASSWORD)
				chosen = (int)i;
		}
	}
	if (chosen < 0) {
		mf_secmem_free(norm);
		return mf_err_set(err, errlen, "no login password is set, and the secret is "
				  "none of the app passwords or the recovery code"), 0;
	}
	if (kp == NULL && (kp = own_kp = trees_keypair_new()) == NULL) {
		mf_secmem_free(norm);
		return mf_err_set(err, errlen, "out of locked memory"), -1;
	}
	argon2_count++;
	ret = trees_derive_key(&wraps[chosen].locked, secret, len, key_r, err, errlen);
	mf_secmem_free(norm);
	if (ret < 0) {
		trees_keypair_free(&own_kp);
		return -1;
	}
	ret = trees_unlock_with_key(&wraps[chosen].locked, pk, key_r, kp, err, errlen);
	trees_keypair_free(&own_kp);
	if (ret < 0) {
		mf_secmem_wipe(key_r, TREES_SECRETBOX_KEYBYTES);
		return 0;
	}
	*used_r = (size_t)chosen;
	return 1;
}
