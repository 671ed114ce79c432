/*
 * mkhash.c - test helper: an argon2 hash as other systems make them,
 * with libargon2 (parameters libsodium never produces: version 16,
 * parallelism > 1, short outputs).
 *
 *   mkhash i|id VERSION T M_KIB P OUTLEN < password
 *
 * Prints the encoded hash ($argon2id$v=19$...). Test-only: not installed.
 */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <sodium.h>

int main(int argc, char **argv)
{
	char password[256], enc[512];
	unsigned char salt[16];
	size_t len;
	int rc;

	if (argc != 7 || sodium_init() < 0 || fgets(password, sizeof(password), stdin) == NULL) {
		fprintf(stderr, "usage: mkhash i|id VERSION T M_KIB P OUTLEN < password\n");
		return 2;
	}
	len = strcspn(password, "\n");
	randombytes_buf(salt, sizeof(salt));
	rc = argon2_hash((uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]),
			 password, len, salt, sizeof(salt), NULL, (size_t)atoi(argv[6]), enc,
			 sizeof(enc), strcmp(argv[1], "i") == 0 ? Argon2_i : Argon2_id,
			 atoi(argv[2]) == 16 ? ARGON2_VERSION_10 : ARGON2_VERSION_13);
	if (rc != ARGON2_OK) {
		fprintf(stderr, "mkhash: %s\n", argon2_error_message(rc));
		return 1;
	}
	puts(enc);
	return 0;
}
