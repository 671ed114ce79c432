#ifndef TREES_OSTREAM_H
#define TREES_OSTREAM_H

/*
 * trees-ostream.h - Dovecot ostream that encrypts to a TREES v1/v2 file.
 *
 * Contract: everything sent is encrypted to `public_key` in `version`
 * (1 or 2) and written to `output`; o_stream_finish() writes the final
 * chunk (a stream that is never finished is not a valid message). The
 * stream's offset counts plaintext bytes, so maildir S= and dbox physical
 * sizes are plaintext sizes. Returns NULL with *error_r on failure (bad
 * version, out of locked memory): the caller must then fail the save,
 * never write plaintext. `tee` (may be NULL) must outlive the stream.
 */

/* Optional copy of the first `limit` plaintext bytes written (truncated
   tells there were more): a delivery has only the public key, yet Dovecot
   re-reads the mail it is saving (e.g. its Message-ID for the log). */
struct trees_ostream_tee {
	buffer_t *buf;
	size_t limit;
	bool truncated;
};

struct ostream *trees_ostream_create(struct ostream *output, unsigned int version,
				     const unsigned char *public_key,
				     struct trees_ostream_tee *tee, const char **error_r);

#endif
