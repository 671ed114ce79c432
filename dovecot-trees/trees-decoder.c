/* trees-decoder.c - incremental TREES reader: detect, then v1 boxes, v2
 * secretstream chunks, or plaintext pass-through (trees-codec.h). */
#include "mailfruit-config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mf-secmem.h"
#include "trees-codec.h"
#include "trees-secret.h"
#include "trees-key.h"

/* The largest ciphertext unit we ever hold: a v2 chunk (65553) is bigger
 * than a v1 box (8240) and the v2 sealed header (104). */
#define IN_CAP TREES_V2_CHUNK_CT
#define OUT_CAP TREES_V2_CHUNK

enum dec_state {
	DEC_PREFIX,    /* collecting up to 7 bytes to decide the format */
	DEC_PLAIN,     /* pass-through */
	DEC_V2_HEADER, /* collecting the 104-byte sealed header */
	DEC_CHUNKS,    /* v1 boxes or v2 chunks */
	DEC_V2_FINAL,  /* v2 TAG_FINAL seen: only end of input may follow */
	DEC_DONE,      /* finish() succeeded */
	DEC_FAILED,
};

struct trees_decoder {
	const struct trees_keypair *keys;
	enum dec_state state;
	enum trees_format format;
	uint64_t chunk_index;

	unsigned char *in;
	size_t in_len;
	unsigned char *out;
	size_t out_pos, out_len;
	size_t out_high; /* how much of out ever held plaintext (to wipe) */

	/* One locked block: stream state, then scratch for the opened
	   sealed header (K || H). */
	crypto_secretstream_xchacha20poly1305_state *ss;
	unsigned char *hdr;
	unsigned char prefix[TREES_PREFIX_SIZE];
	char error[200];
};

static int dec_fail(struct trees_decoder *dec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int dec_fail(struct trees_decoder *dec, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(dec->error, sizeof(dec->error), fmt, args);
	va_end(args);
	dec->state = DEC_FAILED;
	dec->out_pos = dec->out_len = 0;
	return -1;
}

struct trees_decoder *trees_decoder_new(const struct trees_keypair *keys)
{
	struct trees_decoder *dec;

	if (mf_secmem_init() < 0)
		return NULL;
	dec = calloc(1, sizeof(*dec));
	if (dec == NULL)
		return NULL;
	dec->keys = keys;
	dec->in = malloc(IN_CAP);
	dec->out = malloc(OUT_CAP);
	dec->ss = trees_secret_alloc();
	dec->hdr = (unsigned char *)dec->ss + sizeof(*dec->ss);
	if (dec->in == NULL || dec->out == NULL || dec->ss == NULL) {
		trees_decoder_free(&dec);
		return NULL;
	}
	return dec;
}

void trees_decoder_reset(struct trees_decoder *dec)
{
	dec->state = DEC_PREFIX;
	dec->format = TREES_FORMAT_NEED_MORE;
	dec->chunk_index = 0;
	dec->in_len = dec->out_pos = dec->out_len = 0;
	dec->error[0] = '\0';
	mf_secmem_wipe(dec->ss, TREES_SECRET_SIZE);
}

void trees_decoder_free(struct trees_decoder **decp)
{
	struct trees_decoder *dec = *decp;

	if (dec == NULL)
		return;
	*decp = NULL;
	trees_secret_free(dec->ss);
	if (dec->out != NULL)
		sodium_memzero(dec->out, dec->out_high); /* decrypted mail */
	free(dec->in);
	free(dec->out);
	free(dec);
}

static bool have_secret(const struct trees_decoder *dec)
{
	return dec->keys != NULL && trees_keypair_has_secret(dec->keys);
}

/* The first bytes decided the format: set up its state. */
static int dec_start(struct trees_decoder *dec, enum trees_format format, uint32_t version)
{
	dec->format = format;
	switch (format) {
	case TREES_FORMAT_PLAIN:
		/* What we held back while deciding is the first output. */
		memcpy(dec->out, dec->in, dec->in_len);
		dec->out_pos = 0;
		dec->out_len = dec->in_len;
		dec->out_high = dec->in_len > dec->out_high ? dec->in_len : dec->out_high;
		dec->in_len = 0;
		dec->state = DEC_PLAIN;
		return 0;
	case TREES_FORMAT_V1:
	case TREES_FORMAT_V2:
		if (!have_secret(dec))
			return dec_fail(dec, "%s message but no private key to decrypt it",
					trees_format_name(format));
		memcpy(dec->prefix, dec->in, TREES_PREFIX_SIZE);
		dec->in_len = 0;
		dec->state = format == TREES_FORMAT_V1 ? DEC_CHUNKS : DEC_V2_HEADER;
		return 0;
	case TREES_FORMAT_INVALID:
		if (dec->in_len < TREES_PREFIX_SIZE)
			return dec_fail(dec, "truncated TREES header (%zu of 7 bytes)",
					dec->in_len);
		return dec_fail(dec,
				"unknown TREES format version %" PRIu32
				" (this reader knows 1 and 2)",
				version);
	default:
		return 0; /* NEED_MORE */
	}
}

static int dec_open_v2_header(struct trees_decoder *dec)
{
	unsigned char *hdr = dec->hdr;
	int ret;

	if (crypto_box_seal_open(hdr, dec->in, TREES_V2_SEALED_HEADER,
				 trees_keypair_public(dec->keys),
				 trees_keypair_secret(dec->keys)) != 0) {
		return dec_fail(dec, "TREES v2: cannot open the sealed header "
				     "(wrong key or corrupt)");
	}
	ret = crypto_secretstream_xchacha20poly1305_init_pull(
		dec->ss, hdr + TREES_V2_KEYBYTES, hdr);
	mf_secmem_wipe(hdr, TREES_V2_KEYBYTES + TREES_V2_STREAMHDRBYTES);
	if (ret != 0)
		return dec_fail(dec, "TREES v2: bad stream header");
	dec->in_len = 0;
	dec->state = DEC_CHUNKS;
	return 0;
}

/* Decrypt one complete unit (a v1 box or a v2 chunk) into the output. */
static int dec_chunk(struct trees_decoder *dec, const unsigned char *ct, size_t ct_len,
		     bool at_eof)
{
	if (dec->format == TREES_FORMAT_V1) {
		if (ct_len < crypto_box_SEALBYTES)
			return dec_fail(dec, "TREES v1: truncated box %" PRIu64 " (%zu bytes)",
					dec->chunk_index, ct_len);
		if (crypto_box_seal_open(dec->out, ct, ct_len, trees_keypair_public(dec->keys),
					 trees_keypair_secret(dec->keys)) != 0)
			return dec_fail(dec, "TREES v1: box %" PRIu64
					     " failed authentication (corrupt or wrong key)",
					dec->chunk_index);
		dec->out_len = ct_len - crypto_box_SEALBYTES;
	} else {
		unsigned long long mlen;
		unsigned char tag;

		if (ct_len < TREES_V2_ABYTES)
			return dec_fail(dec, "TREES v2: truncated chunk %" PRIu64 " (%zu bytes)",
					dec->chunk_index, ct_len);
		if (crypto_secretstream_xchacha20poly1305_pull(dec->ss, dec->out, &mlen, &tag, ct,
							       ct_len, dec->prefix,
							       TREES_PREFIX_SIZE) != 0)
			return dec_fail(dec, "TREES v2: chunk %" PRIu64
					     " failed authentication (corrupt, reordered, "
					     "dropped or spliced)",
					dec->chunk_index);
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			dec->state = DEC_V2_FINAL;
		else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
			return dec_fail(dec, "TREES v2: chunk %" PRIu64 " has unknown tag %u",
					dec->chunk_index, tag);
		else if (at_eof)
			return dec_fail(dec, "TREES v2: truncated: the stream ended "
					     "before the final chunk");
		dec->out_len = (size_t)mlen;
	}
	dec->out_pos = 0;
	if (dec->out_len > dec->out_high)
		dec->out_high = dec->out_len;
	dec->chunk_index++;
	return 0;
}

/* Size of the next complete ciphertext unit in the current state. */
static size_t dec_unit(const struct trees_decoder *dec)
{
	if (dec->state == DEC_V2_HEADER)
		return TREES_V2_SEALED_HEADER;
	return dec->format == TREES_FORMAT_V1 ? TREES_V1_BOX : TREES_V2_CHUNK_CT;
}

int trees_decoder_feed(struct trees_decoder *dec, const void *in_data, size_t len,
		       size_t *consumed_r)
{
	const unsigned char *in = in_data;
	size_t n, unit;
	uint32_t version = 0;

	*consumed_r = 0;
	if (dec->state == DEC_FAILED || dec->state == DEC_DONE)
		return dec->state == DEC_FAILED ? -1 : dec_fail(dec, "input after the end");
	while (len > 0 && dec->out_pos == dec->out_len) {
		switch (dec->state) {
		case DEC_PREFIX:
			n = TREES_PREFIX_SIZE - dec->in_len;
			n = n < len ? n : len;
			memcpy(dec->in + dec->in_len, in, n);
			dec->in_len += n;
			break;
		case DEC_PLAIN:
			n = len < OUT_CAP ? len : OUT_CAP;
			memcpy(dec->out, in, n);
			dec->out_pos = 0;
			dec->out_len = n;
			dec->out_high = n > dec->out_high ? n : dec->out_high;
			break;
		case DEC_V2_FINAL:
			return dec_fail(dec, "TREES v2: data after the final chunk");
		case DEC_V2_HEADER:
		case DEC_CHUNKS:
			unit = dec_unit(dec);
			if (dec->in_len == 0 && len >= unit && dec->state == DEC_CHUNKS) {
				/* A whole unit in the caller's buffer: no copy. */
				n = unit;
				if (dec_chunk(dec, in, unit, false) < 0)
					return -1;
				break;
			}
			n = unit - dec->in_len;
			n = n < len ? n : len;
			memcpy(dec->in + dec->in_len, in, n);
			dec->in_len += n;
			if (dec->in_len < unit)
				break;
			if (dec->state == DEC_V2_HEADER) {
				if (dec_open_v2_header(dec) < 0)
					return -1;
			} else {
				dec->in_len = 0;
				if (dec_chunk(dec, dec->in, unit, false) < 0)
					return -1;
			}
			break;
		default:
			return -1;
		}
		in += n;
		len -= n;
		*consumed_r += n;
		if (dec->state == DEC_PREFIX) {
			enum trees_format f = trees_detect(dec->in, dec->in_len, 0, &version);
			if (dec_start(dec, f, version) < 0)
				return -1;
		}
	}
	return 0;
}

int trees_decoder_finish(struct trees_decoder *dec)
{
	uint32_t version = 0;

	if (dec->state == DEC_FAILED)
		return -1;
	if (dec->out_pos != dec->out_len)
		return 0;
	switch (dec->state) {
	case DEC_PREFIX:
		if (dec_start(dec, trees_detect(dec->in, dec->in_len, 1, &version), version) < 0)
			return -1;
		/* Plaintext of 0..2 bytes: its output is pending now. */
		return dec->out_pos == dec->out_len ? (dec->state = DEC_DONE, 1) : 0;
	case DEC_V2_HEADER:
		return dec_fail(dec, "TREES v2: truncated sealed header (%zu of %u bytes)",
				dec->in_len, TREES_V2_SEALED_HEADER);
	case DEC_CHUNKS:
		if (dec->in_len == 0) {
			if (dec->format == TREES_FORMAT_V1)
				return dec_fail(dec, "TREES v1: truncated: the final box "
						     "is missing");
			return dec_fail(dec, "TREES v2: truncated: the stream ended "
					     "before the final chunk");
		}
		if (dec_chunk(dec, dec->in, dec->in_len, true) < 0)
			return -1;
		dec->in_len = 0;
		dec->state = DEC_DONE;
		return dec->out_pos == dec->out_len ? 1 : 0;
	case DEC_PLAIN:
	case DEC_V2_FINAL:
	case DEC_DONE:
		dec->state = DEC_DONE;
		return 1;
	default:
		return -1;
	}
}

const unsigned char *trees_decoder_output(struct trees_decoder *dec, size_t *len_r)
{
	*len_r = dec->out_len - dec->out_pos;
	return dec->out + dec->out_pos;
}

void trees_decoder_consume(struct trees_decoder *dec, size_t n)
{
	if (n > dec->out_len - dec->out_pos)
		n = dec->out_len - dec->out_pos;
	dec->out_pos += n;
}

enum trees_format trees_decoder_format(const struct trees_decoder *dec)
{
	return dec->format;
}

const char *trees_decoder_error(const struct trees_decoder *dec)
{
	return dec->error[0] != '\0' ? dec->error : "no error";
}
