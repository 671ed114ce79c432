/*
 * trees-format.h - the TREES message formats (docs/trees-v2-format.md):
 * constants, detection and size arithmetic. No Dovecot, libsodium only.
 *
 * Contract: a stored message is plaintext (no magic), v1 (riseup TREES) or
 * v2 (mailfruit). trees_detect() decides from the first bytes; the size
 * functions map between plaintext and stored sizes of well-formed files
 * exactly (both formats have fixed chunk sizes), so sizes can be reported
 * without decrypting.
 */
#ifndef TREES_FORMAT_H
#define TREES_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define TREES_MAGIC_SIZE 3
#define TREES_PREFIX_SIZE 7 /* magic + u32 version */

#define TREES_V1_CHUNK 8192u
#define TREES_V1_BOX (TREES_V1_CHUNK + 48u) /* crypto_box_SEALBYTES */

#define TREES_V2_CHUNK 65536u
#define TREES_V2_ABYTES 17u                  /* secretstream ABYTES */
#define TREES_V2_KEYBYTES 32u
#define TREES_V2_STREAMHDRBYTES 24u
#define TREES_V2_SEALED_HEADER (48u + TREES_V2_KEYBYTES + TREES_V2_STREAMHDRBYTES)
#define TREES_V2_PREAMBLE (TREES_PREFIX_SIZE + TREES_V2_SEALED_HEADER) /* 111 */
#define TREES_V2_CHUNK_CT (TREES_V2_CHUNK + TREES_V2_ABYTES)

#define TREES_KEYBYTES 32u /* X25519 public and secret keys */

extern const unsigned char trees_magic[TREES_MAGIC_SIZE];

enum trees_format {
	TREES_FORMAT_NEED_MORE = 0, /* trees_detect(): not decided yet */
	TREES_FORMAT_PLAIN,
	TREES_FORMAT_V1,
	TREES_FORMAT_V2,
	TREES_FORMAT_INVALID, /* magic but truncated prefix or unknown version */
};

/* Look at the first len bytes of a message; eof says there are no more.
 * Returns NEED_MORE only when !eof and fewer than 7 bytes decide nothing
 * yet. For INVALID, *version_r is the version read (0 when truncated). */
enum trees_format trees_detect(const unsigned char *data, size_t len, int eof,
			       uint32_t *version_r);

/* Stored size of an n-byte plaintext in `version` (1 or 2). */
uint64_t trees_stored_size(unsigned int version, uint64_t n);
/* Plaintext size of a well-formed stored file of `size` bytes in `format`
 * (PLAIN: size itself). -1 when no well-formed file has that size. */
int trees_plain_size(enum trees_format format, uint64_t size, uint64_t *n_r);

const char *trees_format_name(enum trees_format format);

#endif
