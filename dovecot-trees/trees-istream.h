#ifndef TREES_ISTREAM_H
#define TREES_ISTREAM_H

/*
 * trees-istream.h - Dovecot istream that decrypts a TREES v1/v2 message.
 *
 * Contract: input is the raw stored message, already known (trees_detect)
 * to be `format` (v1 or v2); the stream takes its own reference. Before the first byte is released the whole message is
 * authenticated in a separate pass unless `verified` says that was done
 * (the pass costs one more decryption; it makes a corrupt message fail at
 * open, before an IMAP literal has started, so only its own FETCH fails).
 * On success `verified_callback(context)` is called once. Errors are stream
 * errors (EINVAL for corrupt data) whose text names `log_context`, and are
 * logged once with i_error(). Backward seeks restart decryption from the
 * start (no plaintext temp files); stat() reports the plaintext size,
 * computed from the stored size. `keys` must outlive the stream.
 */

#include "trees-format.h"

struct trees_keypair;

typedef void trees_istream_verified_callback_t(void *context);

struct istream *trees_istream_create(struct istream *input, enum trees_format format,
				     const struct trees_keypair *keys, bool verified, const char *log_context,
				     trees_istream_verified_callback_t *verified_callback,
				     void *context);

/* Run the verification pass now (at open, before any caller has sent a
   size to a client): 0 when the message authenticated, -1 with the stream
   failed (i_stream_get_error() says why). */
int trees_istream_check(struct istream *input);

#endif
