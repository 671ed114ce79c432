/*
 * fuzz-decoder.c - libFuzzer target for the TREES decoder.
 *
 * The key pair is the test vector's (crypto_box_seed_keypair of 00..1f), so
 * the seed corpus (fuzz-corpus/, made by gen-fuzz-corpus.py) holds valid v1
 * and v2 messages and the fuzzer reaches the chunk code, not only the
 * header checks. Properties checked on every input, beyond "no crash, no
 * over-read, no leak" (ASan/UBSan/LSan):
 *   - feeding the input at once or in small pieces gives the same verdict
 *     and the same output (chunking invariance);
 *   - a successful decode of v1/v2 yields exactly trees_plain_size() bytes
 *     whenever that function claims to know the size.
 */
#include "mailfruit-config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "trees-codec.h"
#include "trees-key.h"

struct result {
	int ret;
	size_t out_len;
	unsigned char digest[32];
	enum trees_format format;
};

static void drain(struct trees_decoder *dec, crypto_generichash_state *h, size_t *total)
{
	size_t len;
	const unsigned char *out = trees_decoder_output(dec, &len);

	crypto_generichash_update(h, out, len);
	*total += len;
	trees_decoder_consume(dec, len);
}

static void run(const struct trees_keypair *kp, const uint8_t *data, size_t size, size_t piece,
		struct result *r)
{
	struct trees_decoder *dec = trees_decoder_new(kp);
	crypto_generichash_state h;
	size_t pos = 0, used;

	if (dec == NULL)
		abort();
	crypto_generichash_init(&h, NULL, 0, sizeof(r->digest));
	r->out_len = 0;
	r->ret = 0;
	while (pos < size) {
		size_t n = size - pos < piece ? size - pos : piece;
		if (trees_decoder_feed(dec, data + pos, n, &used) < 0) {
			r->ret = -1;
			break;
		}
		pos += used;
		drain(dec, &h, &r->out_len);
	}
	if (r->ret == 0) {
		while ((r->ret = trees_decoder_finish(dec)) == 0)
			drain(dec, &h, &r->out_len);
		r->ret = r->ret < 0 ? -1 : 0;
	}
	r->format = trees_decoder_format(dec);
	if (strlen(trees_decoder_error(dec)) == 0)
		abort(); /* errors are never empty */
	crypto_generichash_final(&h, r->digest, sizeof(r->digest));
	trees_decoder_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trees_keypair *kp;
	struct result whole, pieces;
	uint64_t plain;

	if (kp == NULL) {
		unsigned char seed[32];
		size_t i;
		for (i = 0; i < sizeof(seed); i++)
			seed[i] = (unsigned char)i;
		if (sodium_init() < 0 || (kp = trees_keypair_new()) == NULL ||
		    trees_keypair_from_seed(kp, seed) < 0)
			abort();
	}
	run(kp, data, size, size > 0 ? size : 1, &whole);
	/* Piece sizes that straddle every boundary kind (7, 104, 8240, 65553). */
	run(kp, data, size, 1 + size % 997, &pieces);
	if (whole.ret != pieces.ret || whole.out_len != pieces.out_len ||
	    (whole.ret == 0 && memcmp(whole.digest, pieces.digest, 32) != 0))
		abort();
	if (whole.ret == 0 && whole.format == TREES_FORMAT_PLAIN && whole.out_len != size)
		abort();
	if (whole.ret == 0 && (whole.format == TREES_FORMAT_V1 || whole.format == TREES_FORMAT_V2) &&
	    trees_plain_size(whole.format, size, &plain) == 0 && plain != whole.out_len)
		abort();
	return 0;
}
