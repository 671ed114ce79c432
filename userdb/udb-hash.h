/*
 * udb-hash.h - Dovecot password hashes for mailboxes without TREES keys.
 *
 * Contract:
 *   - Stored hashes are "{SCHEME}hash" in Dovecot's notation, for the
 *     schemes mailfruit accepts: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT,
 *     SHA256-CRYPT. Dovecot verifies them (auth_request_password_verify),
 *     except argon2 hashes that libsodium (which Dovecot uses) cannot
 *     verify; those are checked here with libargon2. With Debian 12's
 *     libsodium 1.0.18 that is version 16 hashes ("$argon2i$m=..." without
 *     v=19, from argon2 1.0) and outputs shorter than 16 bytes; parallelism
 *     > 1 it does verify (tests/userdb/test-hash.c checks both).
 *   - udb_hash_import() accepts a hash as other systems store it: with a
 *     {SCHEME} prefix (also the {ARGON2} of dovecot-libsodium-plugin) or
 *     bare ($argon2id$..., $2y$..., $6$..., $5$...), checks its shape and
 *     character set (no blanks, quotes or '%') and returns the stored form.
 *   - New hashes are argon2id from libsodium (p=1).
 */
#ifndef UDB_HASH_H
#define UDB_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define UDB_HASH_MAX 512

int udb_hash_import(const char *in, char out[UDB_HASH_MAX + 1], char *err, size_t errlen);

/* An {ARGON2I}/{ARGON2ID} hash that libsodium cannot verify. */
bool udb_hash_needs_libargon2(const char *hash);
/* 1 match, 0 mismatch, -1 not an argon2 hash or an error. */
int udb_hash_verify_libargon2(const char *hash, const char *password, size_t len, char *err,
			      size_t errlen);

/* "{ARGON2ID}$argon2id$v=19$m=...,t=...,p=1$..." */
int udb_hash_make(const char *password, size_t len, unsigned long long opslimit, size_t memlimit,
		  char out[UDB_HASH_MAX + 1], char *err, size_t errlen);

#endif
