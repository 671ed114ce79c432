/* bench-mailcrypt.c - mail_crypt's format in-process (bench-mailcrypt.h). */
#include "lib.h"
#include "buffer.h"
#include "istream.h"
#include "ostream.h"
#include "dcrypt.h"
#include "dcrypt-iostream.h"
#include "istream-decrypt.h"
#include "ostream-encrypt.h"

#include "bench-mailcrypt.h"

static struct dcrypt_keypair pair;
static buffer_t *ciphertext;

void bench_mailcrypt_init(void)
{
	const char *error;

	lib_init();
	if (!dcrypt_initialize("openssl", NULL, &error))
		i_fatal("dcrypt_initialize: %s", error);
	if (!dcrypt_keypair_generate(&pair, DCRYPT_KEY_EC, 0, "prime256v1", &error))
		i_fatal("dcrypt_keypair_generate: %s", error);
	ciphertext = buffer_create_dynamic(default_pool, 4 * 1024 * 1024);
}

void bench_mailcrypt_deinit(void)
{
	buffer_free(&ciphertext);
	dcrypt_keypair_unref(&pair);
	dcrypt_deinitialize();
	lib_deinit();
}

size_t bench_mailcrypt_encrypt(const unsigned char *msg, size_t len)
{
	T_BEGIN {
		struct ostream *output, *enc;

		buffer_set_used_size(ciphertext, 0);
		output = o_stream_create_buffer(ciphertext);
		/* What mail_crypt's save path does for mail_crypt_save_version=2. */
		enc = o_stream_create_encrypt(output, "aes-256-gcm-sha256", pair.pub,
					      IO_STREAM_ENC_INTEGRITY_AEAD);
		if (o_stream_send(enc, msg, len) != (ssize_t)len || o_stream_finish(enc) < 0)
			i_fatal("mail_crypt encrypt: %s", o_stream_get_error(enc));
		o_stream_unref(&enc);
		o_stream_unref(&output);
	} T_END;
	return ciphertext->used;
}

size_t bench_mailcrypt_decrypt(void)
{
	size_t total = 0;

	T_BEGIN {
		struct istream *input, *dec;
		const unsigned char *data;
		size_t size;

		input = i_stream_create_from_data(ciphertext->data, ciphertext->used);
		dcrypt_key_ref_private(pair.priv); /* the stream unrefs it */
		dec = i_stream_create_decrypt(input, pair.priv);
		while (i_stream_read_more(dec, &data, &size) > 0) {
			total += size;
			i_stream_skip(dec, size);
		}
		if (dec->stream_errno != 0)
			i_fatal("mail_crypt decrypt: %s", i_stream_get_error(dec));
		i_stream_unref(&dec);
		i_stream_unref(&input);
	} T_END;
	return total;
}
