/*
 * trees-cli.c - test helper: the TREES library on the command line.
 *
 *   trees-cli encrypt VERSION PKHEX          stdin -> stdout
 *   trees-cli decrypt KEYFILE                stdin -> stdout (exit 1 + error)
 *   trees-cli genkey KEYFILE                 writes "PKHEX SKHEX\n", prints PKHEX
 *   trees-cli wrap KEYFILE OPS MEM ALGO      password on stdin; prints the
 *                                            userdb fields as name=value lines
 *
 * Secret keys and passwords come from a file or stdin, never from argv.
 * KEYFILE holds "PKHEX SKHEX". Test-only: not installed.
 */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "trees-codec.h"
#include "trees-key.h"

static int usage(void)
{
	fprintf(stderr, "usage: trees-cli encrypt VERSION PKHEX | decrypt KEYFILE | "
			"genkey KEYFILE | wrap KEYFILE OPS MEM ALGO\n");
	return 2;
}

static int read_keyfile(const char *path, struct trees_keypair *kp)
{
	char pk_hex[65], sk_hex[65];
	unsigned char pk[32], sk[32];
	FILE *f = fopen(path, "r");
	int ok;

	if (f == NULL)
		return -1;
	ok = fscanf(f, "%64s %64s", pk_hex, sk_hex) == 2 &&
	     sodium_hex2bin(pk, 32, pk_hex, 64, NULL, NULL, NULL) == 0 &&
	     sodium_hex2bin(sk, 32, sk_hex, 64, NULL, NULL, NULL) == 0;
	fclose(f);
	/* The file's public key must be the one the secret key gives. */
	ok = ok && trees_keypair_set_secret(kp, sk) == 0 &&
	     memcmp(trees_keypair_public(kp), pk, 32) == 0;
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk_hex, sizeof(sk_hex));
	return ok ? 0 : -1;
}

static int write_all(const unsigned char *data, size_t len)
{
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static int run_encrypt(unsigned int version, const char *pk_hex)
{
	unsigned char pk[32], in[32768];
	const unsigned char *out;
	struct trees_encoder *enc;
	size_t n, pos, used, olen;
	int ret;

	if (strlen(pk_hex) != 64 || sodium_hex2bin(pk, 32, pk_hex, 64, NULL, NULL, NULL) != 0)
		return usage();
	enc = trees_encoder_new(version, pk);
	if (enc == NULL)
		return usage();
	while ((n = fread(in, 1, sizeof(in), stdin)) > 0) {
		for (pos = 0; pos < n; pos += used) {
			if (trees_encoder_feed(enc, in + pos, n - pos, &used) < 0)
				goto fail;
			out = trees_encoder_output(enc, &olen);
			write_all(out, olen);
			trees_encoder_consume(enc, olen);
		}
	}
	while ((ret = trees_encoder_finish(enc)) == 0) {
		out = trees_encoder_output(enc, &olen);
		write_all(out, olen);
		trees_encoder_consume(enc, olen);
	}
	if (ret < 0)
		goto fail;
	trees_encoder_free(&enc);
	return fflush(stdout) == 0 ? 0 : 1;
fail:
	fprintf(stderr, "trees-cli: %s\n", trees_encoder_error(enc));
	trees_encoder_free(&enc);
	return 1;
}

static int run_decrypt(const char *keyfile)
{
	struct trees_keypair *kp = trees_keypair_new();
	struct trees_decoder *dec;
	unsigned char in[32768];
	const unsigned char *out;
	size_t n, pos, used, olen;
	int ret;

	if (kp == NULL || read_keyfile(keyfile, kp) < 0) {
		fprintf(stderr, "trees-cli: cannot read key file %s\n", keyfile);
		trees_keypair_free(&kp);
		return 2;
	}
	dec = trees_decoder_new(kp);
	while ((n = fread(in, 1, sizeof(in), stdin)) > 0) {
		for (pos = 0; pos < n; pos += used) {
			if (trees_decoder_feed(dec, in + pos, n - pos, &used) < 0)
				goto fail;
			out = trees_decoder_output(dec, &olen);
			write_all(out, olen);
			trees_decoder_consume(dec, olen);
		}
	}
	while ((ret = trees_decoder_finish(dec)) == 0) {
		out = trees_decoder_output(dec, &olen);
		write_all(out, olen);
		trees_decoder_consume(dec, olen);
	}
	if (ret < 0)
		goto fail;
	fprintf(stderr, "trees-cli: %s\n", trees_format_name(trees_decoder_format(dec)));
	trees_decoder_free(&dec);
	trees_keypair_free(&kp);
	return fflush(stdout) == 0 ? 0 : 1;
fail:
	fprintf(stderr, "trees-cli: %s\n", trees_decoder_error(dec));
	trees_decoder_free(&dec);
	trees_keypair_free(&kp);
	return 1;
}

static int run_genkey(const char *keyfile)
{
	struct trees_keypair *kp = trees_keypair_new();
	char pk_hex[65], sk_hex[65];
	FILE *f;

	if (kp == NULL || trees_keypair_generate(kp) < 0)
		return 1;
	sodium_bin2hex(pk_hex, sizeof(pk_hex), trees_keypair_public(kp), 32);
	sodium_bin2hex(sk_hex, sizeof(sk_hex), trees_keypair_secret(kp), 32);
	trees_keypair_free(&kp);
	f = fopen(keyfile, "w");
	if (f == NULL)
		return 1;
	fprintf(f, "%s %s\n", pk_hex, sk_hex);
	sodium_memzero(sk_hex, sizeof(sk_hex));
	if (fclose(f) != 0)
		return 1;
	printf("%s\n", pk_hex);
	return 0;
}

static void emit(void *context, const char *field, const char *value)
{
	printf("%s=%s\n", field, value);
}

static int run_wrap(const char *keyfile, const char *ops, const char *mem, const char *algo)
{
	struct trees_keypair *kp = trees_keypair_new();
	struct trees_locked_key locked;
	unsigned char key[32];
	char password[1024], err[256], key_hex[65];
	size_t len;
	int ret;

	if (kp == NULL || read_keyfile(keyfile, kp) < 0 ||
	    fgets(password, sizeof(password), stdin) == NULL)
		return 2;
	len = strcspn(password, "\n");
	ret = trees_wrap(kp, password, len, strtoull(ops, NULL, 10), strtoull(mem, NULL, 10),
			 (enum trees_pwhash_algo)atoi(algo), &locked, key, err, sizeof(err));
	sodium_memzero(password, sizeof(password));
	if (ret == 0) {
		trees_locked_key_fields(&locked, trees_keypair_public(kp), emit, NULL);
		printf("trees_secretbox_key=%s\n", sodium_bin2hex(key_hex, sizeof(key_hex), key, 32));
	} else {
		fprintf(stderr, "trees-cli: %s\n", err);
	}
	sodium_memzero(key, sizeof(key));
	trees_keypair_free(&kp);
	return ret == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "encrypt") == 0)
		return run_encrypt((unsigned int)atoi(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "decrypt") == 0)
		return run_decrypt(argv[2]);
	if (argc == 3 && strcmp(argv[1], "genkey") == 0)
		return run_genkey(argv[2]);
	if (argc == 6 && strcmp(argv[1], "wrap") == 0)
		return run_wrap(argv[2], argv[3], argv[4], argv[5]);
	return usage();
}
