/*
 * trees-codec.h - incremental TREES encoder and decoder (v1 and v2, plus
 * plaintext pass-through on read). No Dovecot, libsodium only.
 *
 * Contract, both directions: feed bytes, collect bytes.
 *   - *_feed() consumes input only while no output is pending, so memory is
 *     bounded by one chunk in and one chunk out (about 128 KiB) whatever the
 *     message size; it reports how much it consumed. Drain the output with
 *     *_output() + *_consume(), then feed the rest.
 *   - *_finish() marks the end of input: it returns 0 while output is
 *     pending (drain it and call again), 1 when everything is out, -1 on
 *     error.
 *   - After an error every call returns -1 and *_error() says why in one
 *     line (never NULL; names the chunk for authentication failures).
 * The decoder releases plaintext only after the chunk holding it has been
 * authenticated; a message that fails part-way has released a true prefix
 * and then errors, it never ends early without an error. Secrets (stream
 * state, message key) live in sodium-locked memory and are wiped on free.
 */
#ifndef TREES_CODEC_H
#define TREES_CODEC_H

#include <stddef.h>

#include "trees-format.h"

struct trees_keypair;

/* ---- decoder ---- */

struct trees_decoder;

/* keys may be NULL or lack a secret key: plaintext still passes through,
 * encrypted input is then the error "no private key". The keypair must
 * outlive the decoder. NULL when out of memory. */
struct trees_decoder *trees_decoder_new(const struct trees_keypair *keys);
void trees_decoder_free(struct trees_decoder **dec);
/* Forget everything fed so far (to restart reading from byte 0). */
void trees_decoder_reset(struct trees_decoder *dec);

int trees_decoder_feed(struct trees_decoder *dec, const void *in, size_t len,
		       size_t *consumed_r);
int trees_decoder_finish(struct trees_decoder *dec);
const unsigned char *trees_decoder_output(struct trees_decoder *dec, size_t *len_r);
void trees_decoder_consume(struct trees_decoder *dec, size_t n);
/* NEED_MORE until the first bytes decided it. */
enum trees_format trees_decoder_format(const struct trees_decoder *dec);
const char *trees_decoder_error(const struct trees_decoder *dec);

/* ---- encoder ---- */

struct trees_encoder;

/* version 1 or 2; public_key is copied. NULL when out of memory, for a bad
 * version, or when libsodium fails. The prefix (and v2 sealed header) is
 * the first output. */
struct trees_encoder *trees_encoder_new(unsigned int version,
					const unsigned char public_key[TREES_KEYBYTES]);
/* TEST ONLY: v2 with a chosen message key, stream header and ephemeral key
 * seed, to reproduce the test vector of docs/trees-v2-format.md. */
struct trees_encoder *
trees_encoder_new_v2_fixed(const unsigned char public_key[TREES_KEYBYTES],
			   const unsigned char key[TREES_V2_KEYBYTES],
			   const unsigned char stream_header[TREES_V2_STREAMHDRBYTES],
			   const unsigned char ephemeral_seed[32]);
void trees_encoder_free(struct trees_encoder **enc);

int trees_encoder_feed(struct trees_encoder *enc, const void *in, size_t len,
		       size_t *consumed_r);
int trees_encoder_finish(struct trees_encoder *enc);
const unsigned char *trees_encoder_output(struct trees_encoder *enc, size_t *len_r);
void trees_encoder_consume(struct trees_encoder *enc, size_t n);
const char *trees_encoder_error(const struct trees_encoder *enc);

#endif
