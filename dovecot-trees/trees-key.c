/* trees-key.c - riseup TREES userdb fields, unlock and wrap (trees-key.h). */
#include "mailfruit-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mf-secmem.h"
#include "trees-key.h"

struct trees_keypair {
	unsigned char public_key[TREES_KEYBYTES];
	unsigned char secret_key[TREES_KEYBYTES];
	bool have_public, have_secret;
};

static int key_fail(char *error, size_t error_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int key_fail(char *error, size_t error_size, const char *fmt, ...)
{
	va_list args;

	if (error_size > 0) {
		va_start(args, fmt);
		vsnprintf(error, error_size, fmt, args);
		va_end(args);
	}
	return -1;
}

/* Exactly 2*len hex digits (either case), nothing else. */
static int parse_hex(const char *field, const char *value, unsigned char *out, size_t len,
		     char *error, size_t error_size)
{
	size_t hex_len = strlen(value), bin_len = 0;
	const char *end = NULL;

	if (hex_len != len * 2)
		return key_fail(error, error_size,
				"%s: expected %zu hex characters, got %zu", field, len * 2,
				hex_len);
	if (sodium_hex2bin(out, len, value, hex_len, NULL, &bin_len, &end) != 0 ||
	    bin_len != len || end != value + hex_len)
		return key_fail(error, error_size, "%s: not a hex string", field);
	return 0;
}

/* A plain decimal number: digits only, no sign, no overflow. */
static int parse_decimal(const char *field, const char *value, unsigned long long *out,
			 char *error, size_t error_size)
{
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return key_fail(error, error_size, "%s: not a decimal number: '%.40s'", field,
				value);
	errno = 0;
	*out = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return key_fail(error, error_size, "%s: not a decimal number: '%.40s'", field,
				value);
	return 0;
}

static int check_pwhash_limits(unsigned long long ops, unsigned long long mem,
			       enum trees_pwhash_algo algo, char *error, size_t error_size)
{
	unsigned long long ops_min, ops_max;
	size_t mem_min, mem_max;

	if (algo == TREES_PWHASH_ARGON2I) {
		ops_min = crypto_pwhash_argon2i_OPSLIMIT_MIN;
		ops_max = crypto_pwhash_argon2i_OPSLIMIT_MAX;
		mem_min = crypto_pwhash_argon2i_MEMLIMIT_MIN;
		mem_max = crypto_pwhash_argon2i_MEMLIMIT_MAX;
	} else if (algo == TREES_PWHASH_ARGON2ID) {
		ops_min = crypto_pwhash_argon2id_OPSLIMIT_MIN;
		ops_max = crypto_pwhash_argon2id_OPSLIMIT_MAX;
		mem_min = crypto_pwhash_argon2id_MEMLIMIT_MIN;
		mem_max = crypto_pwhash_argon2id_MEMLIMIT_MAX;
	} else {
		return key_fail(error, error_size, "trees_pwhash_algo: unknown algorithm %d",
				(int)algo);
	}
	if (ops < ops_min || ops > ops_max)
		return key_fail(error, error_size,
				"trees_pwhash_opslimit: %llu is outside %llu..%llu", ops, ops_min,
				ops_max);
	if (mem < mem_min || mem > mem_max)
		return key_fail(error, error_size,
				"trees_pwhash_memlimit: %llu is outside %zu..%zu", mem, mem_min,
				mem_max);
	return 0;
}

static const char *const locked_fields[] = {
	"trees_pwhash_opslimit", "trees_pwhash_memlimit", "trees_pwhash_salt",
	"trees_pwhash_algo",     "trees_sk_nonce",        "trees_locked_secretbox",
};
#define N_LOCKED_FIELDS (sizeof(locked_fields) / sizeof(locked_fields[0]))

static int read_locked_key(struct trees_locked_key *locked, const char *const values[],
			   char *error, size_t error_size)
{
	unsigned long long ops, mem, algo;

	if (parse_decimal(locked_fields[0], values[0], &ops, error, error_size) < 0 ||
	    parse_decimal(locked_fields[1], values[1], &mem, error, error_size) < 0 ||
	    parse_hex(locked_fields[2], values[2], locked->salt, TREES_SALTBYTES, error,
		      error_size) < 0 ||
	    parse_decimal(locked_fields[3], values[3], &algo, error, error_size) < 0 ||
	    parse_hex(locked_fields[4], values[4], locked->nonce, TREES_NONCEBYTES, error,
		      error_size) < 0 ||
	    parse_hex(locked_fields[5], values[5], locked->box, TREES_LOCKEDBOXBYTES, error,
		      error_size) < 0)
		return -1;
	if (algo > TREES_PWHASH_ARGON2ID)
		return key_fail(error, error_size,
				"trees_pwhash_algo: unknown algorithm %llu (0 = argon2i, "
				"1 = argon2id)",
				algo);
	if (check_pwhash_limits(ops, mem, (enum trees_pwhash_algo)algo, error, error_size) < 0)
		return -1;
	locked->opslimit = ops;
	locked->memlimit = (size_t)mem;
	locked->algo = (enum trees_pwhash_algo)algo;
	return 0;
}

int trees_settings_read(struct trees_settings *set, trees_lookup_fn *lookup, void *context,
			char *error, size_t error_size)
{
	const char *values[N_LOCKED_FIELDS], *value;
	size_t i, present = 0;

	memset(set, 0, sizeof(*set));
	value = lookup(context, "trees_enabled");
	if (value != NULL) {
		if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
			return key_fail(error, error_size,
					"trees_enabled: expected 0 or 1, got '%.40s'", value);
		set->enabled_set = true;
		set->enabled = value[0] == '1';
	}
	value = lookup(context, "trees_version");
	if (value != NULL) {
		if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
			return key_fail(error, error_size,
					"trees_version: expected 1 or 2, got '%.40s'", value);
		set->version = (unsigned int)(value[0] - '0');
	}
	value = lookup(context, "trees_public_key");
	if (value != NULL) {
		if (parse_hex("trees_public_key", value, set->public_key, TREES_KEYBYTES, error,
			      error_size) < 0)
			return -1;
		set->have_public_key = true;
	}
	for (i = 0; i < N_LOCKED_FIELDS; i++) {
		values[i] = lookup(context, locked_fields[i]);
		present += values[i] != NULL;
	}
	if (present > 0) {
		for (i = 0; i < N_LOCKED_FIELDS; i++) {
			if (values[i] == NULL)
				return key_fail(error, error_size,
						"%s is missing (the other locked-key fields "
						"are set)",
						locked_fields[i]);
		}
		if (read_locked_key(&set->locked, values, error, error_size) < 0)
			return -1;
		set->have_locked_key = true;
	}
	/* Fail closed: an enabled user must be able to encrypt. */
	if (set->enabled && set->version == 0)
		return key_fail(error, error_size, "trees_enabled=1 but trees_version is missing");
	if (set->enabled && !set->have_public_key)
		return key_fail(error, error_size,
				"trees_enabled=1 but trees_public_key is missing");
	if (set->have_locked_key && !set->have_public_key)
		return key_fail(error, error_size,
				"trees_locked_secretbox is set but trees_public_key is missing");
	return 0;
}

struct trees_keypair *trees_keypair_new(void)
{
	return mf_secmem_alloc(sizeof(struct trees_keypair));
}

void trees_keypair_free(struct trees_keypair **kp)
{
	mf_secmem_free(*kp);
	*kp = NULL;
}

void trees_keypair_set_public(struct trees_keypair *kp, const unsigned char pk[TREES_KEYBYTES])
{
	memcpy(kp->public_key, pk, TREES_KEYBYTES);
	kp->have_public = true;
	kp->have_secret = false;
	mf_secmem_wipe(kp->secret_key, sizeof(kp->secret_key));
}

int trees_keypair_generate(struct trees_keypair *kp)
{
	if (crypto_box_keypair(kp->public_key, kp->secret_key) != 0)
		return -1;
	kp->have_public = kp->have_secret = true;
	return 0;
}

int trees_keypair_set_secret(struct trees_keypair *kp, const unsigned char sk[TREES_KEYBYTES])
{
	memcpy(kp->secret_key, sk, TREES_KEYBYTES);
	if (crypto_scalarmult_base(kp->public_key, kp->secret_key) != 0) {
		mf_secmem_wipe(kp->secret_key, sizeof(kp->secret_key));
		return -1;
	}
	kp->have_public = kp->have_secret = true;
	return 0;
}

int trees_keypair_from_seed(struct trees_keypair *kp, const unsigned char seed[32])
{
	if (crypto_box_seed_keypair(kp->public_key, kp->secret_key, seed) != 0)
		return -1;
	kp->have_public = kp->have_secret = true;
	return 0;
}

bool trees_keypair_has_public(const struct trees_keypair *kp)
{
	return kp->have_public;
}

bool trees_keypair_has_secret(const struct trees_keypair *kp)
{
	return kp->have_secret;
}

const unsigned char *trees_keypair_public(const struct trees_keypair *kp)
{
	return kp->public_key;
}

const unsigned char *trees_keypair_secret(const struct trees_keypair *kp)
{
	return kp->secret_key;
}

static int sodium_alg(enum trees_pwhash_algo algo)
{
	return algo == TREES_PWHASH_ARGON2I ? crypto_pwhash_ALG_ARGON2I13
					    : crypto_pwhash_ALG_ARGON2ID13;
}

int trees_derive_key(const struct trees_locked_key *locked, const char *password,
		     size_t password_len, unsigned char key_r[TREES_SECRETBOX_KEYBYTES],
		     char *error, size_t error_size)
{
	if (mf_secmem_init() < 0)
		return key_fail(error, error_size, "libsodium cannot initialize");
	if (check_pwhash_limits(locked->opslimit, locked->memlimit, locked->algo, error,
				error_size) < 0)
		return -1;
	if (crypto_pwhash(key_r, TREES_SECRETBOX_KEYBYTES, password, password_len, locked->salt,
			  locked->opslimit, locked->memlimit, sodium_alg(locked->algo)) != 0)
		return key_fail(error, error_size,
				"crypto_pwhash failed (out of memory for memlimit %zu?)",
				locked->memlimit);
	return 0;
}

int trees_unlock_with_key(const struct trees_locked_key *locked,
			  const unsigned char public_key[TREES_KEYBYTES],
			  const unsigned char key[TREES_SECRETBOX_KEYBYTES], struct trees_keypair *kp,
			  char *error, size_t error_size)
{
	unsigned char derived_pk[TREES_KEYBYTES];

	if (crypto_secretbox_open_easy(kp->secret_key, locked->box, TREES_LOCKEDBOXBYTES,
				       locked->nonce, key) != 0) {
		mf_secmem_wipe(kp->secret_key, sizeof(kp->secret_key));
		return key_fail(error, error_size,
				"cannot open trees_locked_secretbox (wrong password or key)");
	}
	if (crypto_scalarmult_base(derived_pk, kp->secret_key) != 0 ||
	    sodium_memcmp(derived_pk, public_key, TREES_KEYBYTES) != 0) {
		mf_secmem_wipe(kp->secret_key, sizeof(kp->secret_key));
		return key_fail(error, error_size,
				"the unlocked secret key does not match trees_public_key");
	}
	memcpy(kp->public_key, public_key, TREES_KEYBYTES);
	kp->have_public = kp->have_secret = true;
	return 0;
}

static int unlock_check(const struct trees_settings *set, char *error, size_t error_size)
{
	if (!set->have_locked_key)
		return key_fail(error, error_size,
				"no locked secret key (trees_locked_secretbox and friends)");
	return 0;
}

int trees_unlock_with_password(const struct trees_settings *set, const char *password,
			       size_t password_len, struct trees_keypair *kp, char *error,
			       size_t error_size)
{
	unsigned char *key;
	int ret;

	if (unlock_check(set, error, error_size) < 0)
		return -1;
	key = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES);
	if (key == NULL)
		return key_fail(error, error_size, "out of locked memory");
	ret = trees_derive_key(&set->locked, password, password_len, key, error, error_size);
	if (ret == 0)
		ret = trees_unlock_with_key(&set->locked, set->public_key, key, kp, error,
					    error_size);
	mf_secmem_free(key);
	return ret;
}

int trees_unlock_with_hex_key(const struct trees_settings *set, const char *key_hex,
			      struct trees_keypair *kp, char *error, size_t error_size)
{
	unsigned char *key;
	int ret;

	if (unlock_check(set, error, error_size) < 0)
		return -1;
	key = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES);
	if (key == NULL)
		return key_fail(error, error_size, "out of locked memory");
	ret = parse_hex("trees_secretbox_key", key_hex, key, TREES_SECRETBOX_KEYBYTES, error,
			error_size);
	if (ret == 0)
		ret = trees_unlock_with_key(&set->locked, set->public_key, key, kp, error,
					    error_size);
	mf_secmem_free(key);
	return ret;
}

int trees_wrap(const struct trees_keypair *kp, const char *password, size_t password_len,
	       unsigned long long opslimit, size_t memlimit, enum trees_pwhash_algo algo,
	       struct trees_locked_key *locked, unsigned char key_r[TREES_SECRETBOX_KEYBYTES],
	       char *error, size_t error_size)
{
	unsigned char *key;
	int ret;

	if (!kp->have_secret)
		return key_fail(error, error_size, "no secret key to wrap");
	if (check_pwhash_limits(opslimit, memlimit, algo, error, error_size) < 0)
		return -1;
	locked->opslimit = opslimit;
	locked->memlimit = memlimit;
	locked->algo = algo;
	randombytes_buf(locked->salt, sizeof(locked->salt));
	randombytes_buf(locked->nonce, sizeof(locked->nonce));
	key = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES);
	if (key == NULL)
		return key_fail(error, error_size, "out of locked memory");
	ret = trees_derive_key(locked, password, password_len, key, error, error_size);
	if (ret == 0 && crypto_secretbox_easy(locked->box, kp->secret_key, TREES_KEYBYTES,
					      locked->nonce, key) != 0)
		ret = key_fail(error, error_size, "crypto_secretbox_easy failed");
	if (ret == 0 && key_r != NULL)
		memcpy(key_r, key, TREES_SECRETBOX_KEYBYTES);
	mf_secmem_free(key);
	return ret;
}

void trees_locked_key_fields(const struct trees_locked_key *locked,
			     const unsigned char public_key[TREES_KEYBYTES],
			     void (*emit)(void *context, const char *field, const char *value),
			     void *context)
{
	char hex[TREES_LOCKEDBOXBYTES * 2 + 1], num[24];

	emit(context, "trees_public_key", sodium_bin2hex(hex, sizeof(hex), public_key, TREES_KEYBYTES));
	snprintf(num, sizeof(num), "%llu", locked->opslimit);
	emit(context, "trees_pwhash_opslimit", num);
	snprintf(num, sizeof(num), "%zu", locked->memlimit);
	emit(context, "trees_pwhash_memlimit", num);
	emit(context, "trees_pwhash_salt",
	     sodium_bin2hex(hex, sizeof(hex), locked->salt, TREES_SALTBYTES));
	snprintf(num, sizeof(num), "%d", (int)locked->algo);
	emit(context, "trees_pwhash_algo", num);
	emit(context, "trees_sk_nonce",
	     sodium_bin2hex(hex, sizeof(hex), locked->nonce, TREES_NONCEBYTES));
	emit(context, "trees_locked_secretbox",
	     sodium_bin2hex(hex, sizeof(hex), locked->box, TREES_LOCKEDBOXBYTES));
}
