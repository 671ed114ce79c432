#ifndef BENCH_MAILCRYPT_H
#define BENCH_MAILCRYPT_H

/*
 * bench-mailcrypt.h - Dovecot mail_crypt's stream format (dcrypt,
 * aes-256-gcm-sha256 via o_stream_create_encrypt, P-256 key) in-process,
 * for the TREES benchmark. Kept apart because it includes Dovecot's
 * headers (and so Dovecot's config.h).
 */

#include <stddef.h>

/* lib_init() + dcrypt + a P-256 key pair; exits with a message on failure. */
void bench_mailcrypt_init(void);
void bench_mailcrypt_deinit(void);
/* Encrypt msg into an internal buffer; returns the ciphertext size. */
size_t bench_mailcrypt_encrypt(const unsigned char *msg, size_t len);
/* Decrypt the last ciphertext; returns the plaintext size (exits on error). */
size_t bench_mailcrypt_decrypt(void);

#endif
