/* trees-encoder.c - incremental TREES writer, v1 (riseup) and v2
 * (docs/trees-v2-format.md); see trees-codec.h for the contract. */
#include "mailfruit-config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mf-secmem.h"
#include "trees-codec.h"
#include "trees-secret.h"

_Static_assert(sizeof(crypto_secretstream_xchacha20poly1305_state) + TREES_V2_KEYBYTES +
			       TREES_V2_STREAMHDRBYTES <= TREES_SECRET_SIZE,
	       "stream state and K || H must fit one secret block");

/* Output holds the prefix + sealed header or one encrypted chunk. */
#define OUT_CAP TREES_V2_CHUNK_CT

struct trees_encoder {
	unsigned int version;
	size_t chunk; /* plaintext bytes per chunk */
	bool finished;
	unsigned char public_key[TREES_KEYBYTES];
	unsigned char prefix[TREES_PREFIX_SIZE];

	unsigned char *buf; /* plaintext not yet encrypted (< chunk bytes) */
	size_t buf_len;
	size_t buf_high; /* how much of buf ever held plaintext (to wipe) */
	unsigned char *out;
	size_t out_pos, out_len;

	/* v2: one locked block, the stream state then scratch for K || H. */
	crypto_secretstream_xchacha20poly1305_state *ss;
	const char *error;
};

static struct trees_encoder *enc_alloc(unsigned int version, const unsigned char *pk)
{
	struct trees_encoder *enc;

	if ((version != 1 && version != 2) || mf_secmem_init() < 0)
		return NULL;
	enc = calloc(1, sizeof(*enc));
	if (enc == NULL)
		return NULL;
	enc->version = version;
	enc->chunk = version == 1 ? TREES_V1_CHUNK : TREES_V2_CHUNK;
	memcpy(enc->public_key, pk, TREES_KEYBYTES);
	memcpy(enc->prefix, trees_magic, TREES_MAGIC_SIZE);
	enc->prefix[3] = enc->prefix[4] = enc->prefix[5] = 0;
	enc->prefix[6] = (unsigned char)version;
	enc->buf = malloc(enc->chunk);
	enc->out = malloc(OUT_CAP);
	if (version == 2)
		enc->ss = trees_secret_alloc();
	if (enc->buf == NULL || enc->out == NULL || (version == 2 && enc->ss == NULL)) {
		trees_encoder_free(&enc);
		return NULL;
	}
	memcpy(enc->out, enc->prefix, TREES_PREFIX_SIZE);
	enc->out_len = TREES_PREFIX_SIZE;
	return enc;
}

struct trees_encoder *trees_encoder_new(unsigned int version,
					const unsigned char public_key[TREES_KEYBYTES])
{
	struct trees_encoder *enc = enc_alloc(version, public_key);
	unsigned char *hdr;
	int ret;

	if (enc == NULL || version == 1)
		return enc;
	/* v2: K || H sealed to the user, H drawn by init_push. */
	hdr = (unsigned char *)enc->ss + sizeof(*enc->ss);
	crypto_secretstream_xchacha20poly1305_keygen(hdr);
	ret = crypto_secretstream_xchacha20poly1305_init_push(enc->ss, hdr + TREES_V2_KEYBYTES,
							      hdr);
	if (ret == 0)
		ret = crypto_box_seal(enc->out + TREES_PREFIX_SIZE, hdr,
				      TREES_V2_KEYBYTES + TREES_V2_STREAMHDRBYTES, public_key);
	mf_secmem_wipe(hdr, TREES_V2_KEYBYTES + TREES_V2_STREAMHDRBYTES);
	if (ret != 0) {
		trees_encoder_free(&enc);
		return NULL;
	}
	enc->out_len = TREES_V2_PREAMBLE;
	return enc;
}

struct trees_encoder *
trees_encoder_new_v2_fixed(const unsigned char public_key[TREES_KEYBYTES],
			   const unsigned char key[TREES_V2_KEYBYTES],
			   const unsigned char stream_header[TREES_V2_STREAMHDRBYTES],
			   const unsigned char ephemeral_seed[32])
{
	struct trees_encoder *enc = enc_alloc(2, public_key);
	unsigned char epk[32], esk[32], nonce[crypto_box_NONCEBYTES], nonce_in[64];
	unsigned char hdr[TREES_V2_KEYBYTES + TREES_V2_STREAMHDRBYTES];
	unsigned char *sealed;
	int ret;

	if (enc == NULL)
		return NULL;
	/* crypto_box_seal's construction with a chosen ephemeral key pair:
	 * epk || crypto_box_easy(m, nonce = BLAKE2b-192(epk || pk), pk, esk). */
	sealed = enc->out + TREES_PREFIX_SIZE;
	memcpy(hdr, key, TREES_V2_KEYBYTES);
	memcpy(hdr + TREES_V2_KEYBYTES, stream_header, TREES_V2_STREAMHDRBYTES);
	ret = crypto_box_seed_keypair(epk, esk, ephemeral_seed);
	memcpy(nonce_in, epk, 32);
	memcpy(nonce_in + 32, public_key, 32);
	if (ret == 0)
		ret = crypto_generichash(nonce, sizeof(nonce), nonce_in, sizeof(nonce_in), NULL, 0);
	if (ret == 0)
		ret = crypto_box_easy(sealed + 32, hdr, sizeof(hdr), nonce, public_key, esk);
	memcpy(sealed, epk, 32);
	/* init_pull derives from (H, K) the state init_push derives after
	 * drawing H itself: the stream is the one a random H would give. */
	if (ret == 0)
		ret = crypto_secretstream_xchacha20poly1305_init_pull(enc->ss, stream_header, key);
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(hdr, sizeof(hdr));
	if (ret != 0) {
		trees_encoder_free(&enc);
		return NULL;
	}
	enc->out_len = TREES_V2_PREAMBLE;
	return enc;
}

void trees_encoder_free(struct trees_encoder **encp)
{
	struct trees_encoder *enc = *encp;

	if (enc == NULL)
		return;
	*encp = NULL;
	trees_secret_free(enc->ss);
	if (enc->buf != NULL)
		sodium_memzero(enc->buf, enc->buf_high); /* plaintext mail */
	free(enc->buf);
	free(enc->out);
	free(enc);
}

/* Encrypt one chunk into the (empty) output. */
static int enc_chunk(struct trees_encoder *enc, const unsigned char *pt, size_t len, bool final)
{
	int ret;

	if (enc->version == 1) {
		ret = crypto_box_seal(enc->out, pt, len, enc->public_key);
		enc->out_len = len + crypto_box_SEALBYTES;
	} else {
		unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
					  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		ret = crypto_secretstream_xchacha20poly1305_push(enc->ss, enc->out, NULL, pt, len,
								 enc->prefix, TREES_PREFIX_SIZE,
								 tag);
		enc->out_len = len + TREES_V2_ABYTES;
	}
	enc->out_pos = 0;
	if (ret != 0) {
		enc->out_len = 0;
		enc->error = "libsodium failed to encrypt a chunk";
		return -1;
	}
	return 0;
}

int trees_encoder_feed(struct trees_encoder *enc, const void *in_data, size_t len,
		       size_t *consumed_r)
{
	const unsigned char *in = in_data;
	size_t n;

	*consumed_r = 0;
	if (enc->error != NULL)
		return -1;
	if (enc->finished && len > 0) {
		enc->error = "input after finish";
		return -1;
	}
	while (len > 0 && enc->out_pos == enc->out_len) {
		if (enc->buf_len == 0 && len >= enc->chunk) {
			/* A whole chunk in the caller's buffer: no copy. */
			n = enc->chunk;
			if (enc_chunk(enc, in, n, false) < 0)
				return -1;
		} else {
			n = enc->chunk - enc->buf_len;
			n = n < len ? n : len;
			memcpy(enc->buf + enc->buf_len, in, n);
			enc->buf_len += n;
			if (enc->buf_len > enc->buf_high)
				enc->buf_high = enc->buf_len;
			if (enc->buf_len == enc->chunk) {
				enc->buf_len = 0;
				if (enc_chunk(enc, enc->buf, enc->chunk, false) < 0)
					return -1;
			}
		}
		in += n;
		len -= n;
		*consumed_r += n;
	}
	return 0;
}

int trees_encoder_finish(struct trees_encoder *enc)
{
	if (enc->error != NULL)
		return -1;
	if (enc->out_pos != enc->out_len)
		return 0;
	if (enc->finished)
		return 1;
	/* The final chunk is always written, also when empty: riseup's reader
	 * needs the short box, and v2 needs TAG_FINAL. */
	if (enc_chunk(enc, enc->buf, enc->buf_len, true) < 0)
		return -1;
	sodium_memzero(enc->buf, enc->buf_len);
	enc->buf_len = 0;
	enc->finished = true;
	return 0;
}

const unsigned char *trees_encoder_output(struct trees_encoder *enc, size_t *len_r)
{
	*len_r = enc->out_len - enc->out_pos;
	return enc->out + enc->out_pos;
}

void trees_encoder_consume(struct trees_encoder *enc, size_t n)
{
	if (n > enc->out_len - enc->out_pos)
		n = enc->out_len - enc->out_pos;
	enc->out_pos += n;
}

const char *trees_encoder_error(const struct trees_encoder *enc)
{
	return enc->error != NULL ? enc->error : "no error";
}
