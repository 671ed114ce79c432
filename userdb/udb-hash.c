/* udb-hash.c - Dovecot password hashes (udb-hash.h). */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>
#include <sodium.h>

#include "mf-err.h"
#include "udb-hash.h"

struct scheme {
	const char *name;    /* Dovecot's scheme name */
	const char *prefix;  /* how the bare hash starts */
};

static const struct scheme schemes[] = {
	{ "ARGON2ID", "$argon2id$" },
	{ "ARGON2I", "$argon2i$" },
	{ "BLF-CRYPT", "$2y$" },
	{ "BLF-CRYPT", "$2b$" },
	{ "BLF-CRYPT", "$2a$" },
	{ "SHA512-CRYPT", "$6$" },
	{ "SHA256-CRYPT", "$5$" },
};

static const struct scheme *scheme_of_body(const char *body)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strncmp(body, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			return &schemes[i];
	}
	return NULL;
}

/* crypt(3) and PHC strings use [A-Za-z0-9./$=,+-]: anything else is not a
 * hash and could be a quote or '%' meant for someone's parser. */
static bool hash_chars_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("./$=,+-", c) != NULL))
			return false;
	}
	return true;
}

/* "N" with 1..10 digits, then `end`; advances *s past it. */
static bool number_then(const char **s, char end)
{
	size_t n = 0;

	while ((*s)[n] >= '0' && (*s)[n] <= '9' && n < 11)
		n++;
	if (n == 0 || n > 10 || (*s)[n] != end)
		return false;
	*s += n + 1;
	return true;
}

/* Unpadded base64 of at least `min` characters, then `end`. */
static bool b64_then(const char **s, size_t min, char end)
{
	size_t n = strspn(*s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

	if (n < min || (*s)[n] != end)
		return false;
	*s += n + (end != '\0');
	return true;
}

/* What follows "$argon2id$": "v=19$m=M,t=T,p=P$SALT$HASH" (v= optional). */
static bool argon2_shape_ok(const char *s)
{
	if (strncmp(s, "v=", 2) == 0) {
		s += 2;
		if (!number_then(&s, '$'))
			return false;
	}
	if (strncmp(s, "m=", 2) != 0)
		return false;
	s += 2;
	if (!number_then(&s, ',') || strncmp(s, "t=", 2) != 0)
		return false;
	s += 2;
	if (!number_then(&s, ',') || strncmp(s, "p=", 2) != 0)
		return false;
	s += 2;
	return number_then(&s, '$') && b64_then(&s, 11, '$') && b64_then(&s, 16, '\0');
}

int udb_hash_import(const char *in, char out[UDB_HASH_MAX + 1], char *err, size_t errlen)
{
	const char *body = in, *given = NULL;
	const struct scheme *sc;
	size_t given_len = 0;

	if (in[0] == '{') {
		const char *end = strchr(in, '}');

		if (end == NULL)
			return mf_err_set(err, errlen, "hash has an unterminated {SCHEME}"), -1;
		given = in + 1;
		given_len = (size_t)(end - given);
		body = end + 1;
	}
	if (strlen(body) + 16 > UDB_HASH_MAX)
		return mf_err_set(err, errlen, "hash is longer than %d characters", UDB_HASH_MAX - 16),
		       -1;
	if (!hash_chars_ok(body))
		return mf_err_set(err, errlen, "hash contains characters no supported scheme uses"),
		       -1;
	sc = scheme_of_body(body);
	if (sc == NULL)
		return mf_err_set(err, errlen, "unsupported hash (supported: argon2id, argon2i, "
				  "bcrypt, sha512-crypt, sha256-crypt)"), -1;
	/* A given scheme must agree with the hash, except for the generic
	 * {ARGON2} of dovecot-libsodium-plugin and crypt's {CRYPT}. */
	if (given != NULL && !(given_len == strlen(sc->name) &&
			       strncasecmp(given, sc->name, given_len) == 0) &&
	    !(given_len == 6 && strncasecmp(given, "ARGON2", 6) == 0 &&
	      strncmp(sc->name, "ARGON2", 6) == 0) &&
	    !(given_len == 5 && strncasecmp(given, "CRYPT", 5) == 0))
		return mf_err_set(err, errlen, "the hash's {SCHEME} does not match its format"), -1;
	/* A broken argon2 string would only fail at login: check it now. */
	if (strncmp(sc->name, "ARGON2", 6) == 0 && !argon2_shape_ok(body + strlen(sc->prefix)))
		return mf_err_set(err, errlen, "malformed argon2 hash (expected "
				  "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH)"), -1;
	snprintf(out, UDB_HASH_MAX + 1, "{%s}%s", sc->name, body);
	return 0;
}

/* The argon2 type and the hash after "{ARGON2I(D)}", or NULL. */
static const char *argon2_body(const char *hash, argon2_type *type_r)
{
	if (strncmp(hash, "{ARGON2ID}$argon2id$", 20) == 0) {
		*type_r = Argon2_id;
		return hash + 10;
	}
	if (strncmp(hash, "{ARGON2I}$argon2i$", 18) == 0) {
		*type_r = Argon2_i;
		return hash + 9;
	}
	return NULL;
}

bool udb_hash_needs_libargon2(const char *hash)
{
	argon2_type type;
	const char *body = argon2_body(hash, &type), *p, *last;

	if (body == NULL)
		return false;
	/* libsodium 1.0.18 verifies argon2i/argon2id of version 19 with any
	 * parallelism, but not version 16 (no "v=" or "v=16") and not
	 * outputs shorter than crypto_pwhash_BYTES_MIN (16 bytes = 22 base64
	 * characters). */
	p = strchr(body + 1, '$');
	if (p == NULL || strncmp(p + 1, "v=19$", 5) != 0)
		return true;
	last = strrchr(body, '$');
	return strlen(last + 1) < 22;
}

int udb_hash_verify_libargon2(const char *hash, const char *password, size_t len, char *err,
			      size_t errlen)
{
	argon2_type type;
	const char *body = argon2_body(hash, &type);
	int rc;

	if (body == NULL)
		return mf_err_set(err, errlen, "not an argon2 hash"), -1;
	rc = argon2_verify(body, password, len, type);
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	mf_err_set(err, errlen, "argon2: %s", argon2_error_message(rc));
	return -1;
}

int udb_hash_make(const char *password, size_t len, unsigned long long opslimit, size_t memlimit,
		  char out[UDB_HASH_MAX + 1], char *err, size_t errlen)
{
	char str[crypto_pwhash_STRBYTES];

	if (sodium_init() < 0)
		return mf_err_set(err, errlen, "libsodium cannot initialize"), -1;
	if (crypto_pwhash_str_alg(str, password, len, opslimit, memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return mf_err_set(err, errlen, "crypto_pwhash_str failed (out of memory?)"), -1;
	snprintf(out, UDB_HASH_MAX + 1, "{ARGON2ID}%s", str);
	return 0;
}
