#ifndef TREES_ISTREAM_H
#define TREES_ISTREAM_H

/*
 * trees-istream.h - Dovecot istream that decrypts a TREES v1/v2 message.
 *
 * Contract: input is the raw stored message, already known (trees_detect)
 * to be `format` (v1 or v2); the stream takes its own reference. Before
 * the first byte is released the whole message is authenticated in a
 * separate pass unless set->verified says that was done: a corrupt message
 * then fails at open, before an IMAP literal has started, so only its own
 * FETCH fails. A message whose plaintext size is at most set->buffer_max
 * keeps the plaintext of that pass in memory (wiped when the stream is
 * destroyed) and is read from there: one decryption. A larger one is
 * decrypted again for reading (never written to temp files), with bounded
 * memory. On success `verified_callback(context)` is called once. Errors
 * are stream errors (EINVAL for corrupt data) whose text names
 * `log_context`, and are logged once with i_error(). Backward seeks in a
 * message read in two passes restart decryption from the start; stat()
 * reports the plaintext size, computed from the stored size. `keys` must
 * outlive the stream.
 */

#include "trees-format.h"

struct trees_keypair;

typedef void trees_istream_verified_callback_t(void *context);

struct trees_istream_settings {
	const struct trees_keypair *keys;
	size_t buffer_max; /* 0: always two passes */
	bool verified;     /* authenticated before: no verification pass */
	bool debug;        /* i_debug() which way the message is read */
	const char *log_context;
	trees_istream_verified_callback_t *verified_callback;
	void *context;
};

struct istream *trees_istream_create(struct istream *input, enum trees_format format,
				     const struct trees_istream_settings *set);

/* Run the verification pass now (at open, before any caller has sent a
   size to a client): 0 when the message authenticated, -1 with the stream
   failed (i_stream_get_error() says why). */
int trees_istream_check(struct istream *input);

#endif
