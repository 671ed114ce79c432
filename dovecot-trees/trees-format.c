/* trees-format.c - detection and size arithmetic of the TREES formats. */
#include "mailfruit-config.h"

#include <string.h>

#include "trees-format.h"

const unsigned char trees_magic[TREES_MAGIC_SIZE] = {0xee, 0xff, 0xcc};

enum trees_format trees_detect(const unsigned char *data, size_t len, int eof,
			       uint32_t *version_r)
{
	size_t cmp = len < TREES_MAGIC_SIZE ? len : TREES_MAGIC_SIZE;

	*version_r = 0;
	if (len == 0) /* (data may be NULL) */
		return eof ? TREES_FORMAT_PLAIN : TREES_FORMAT_NEED_MORE;
	/* A mismatch in the bytes we have decides "plaintext" at once. */
	if (memcmp(data, trees_magic, cmp) != 0)
		return TREES_FORMAT_PLAIN;
	if (len < TREES_MAGIC_SIZE) {
		/* 0..2 bytes that start like the magic: too short to be
		 * anything but (legacy) plaintext once the input ends. */
		return eof ? TREES_FORMAT_PLAIN : TREES_FORMAT_NEED_MORE;
	}
	if (len < TREES_PREFIX_SIZE)
		return eof ? TREES_FORMAT_INVALID : TREES_FORMAT_NEED_MORE;
	*version_r = ((uint32_t)data[3] << 24) | ((uint32_t)data[4] << 16) |
		     ((uint32_t)data[5] << 8) | (uint32_t)data[6];
	switch (*version_r) {
	case 1:
		return TREES_FORMAT_V1;
	case 2:
		return TREES_FORMAT_V2;
	default:
		return TREES_FORMAT_INVALID;
	}
}

uint64_t trees_stored_size(unsigned int version, uint64_t n)
{
	if (version == 1)
		return TREES_PREFIX_SIZE + n + 48u * (n / TREES_V1_CHUNK + 1);
	return TREES_V2_PREAMBLE + n + TREES_V2_ABYTES * (n / TREES_V2_CHUNK + 1);
}

/* Shared shape of both formats: prefix, then chunks of `ct` stored bytes
 * each carrying `ct - overhead` plaintext bytes, then a final chunk of
 * overhead..ct-1 bytes (v2 may also end in a full final chunk; the writer
 * never produces one, and then the arithmetic below does not apply). */
static int chunked_plain_size(uint64_t size, uint64_t prefix, uint64_t ct,
			      uint64_t overhead, uint64_t *n_r)
{
	uint64_t k;

	if (size < prefix + overhead)
		return -1;
	k = (size - prefix) / ct;
	if ((size - prefix) % ct < overhead)
		return -1;
	*n_r = size - prefix - overhead * (k + 1);
	return 0;
}

int trees_plain_size(enum trees_format format, uint64_t size, uint64_t *n_r)
{
	switch (format) {
	case TREES_FORMAT_PLAIN:
		*n_r = size;
		return 0;
	case TREES_FORMAT_V1:
		return chunked_plain_size(size, TREES_PREFIX_SIZE, TREES_V1_BOX, 48u, n_r);
	case TREES_FORMAT_V2:
		return chunked_plain_size(size, TREES_V2_PREAMBLE, TREES_V2_CHUNK_CT,
					  TREES_V2_ABYTES, n_r);
	default:
		return -1;
	}
}

const char *trees_format_name(enum trees_format format)
{
	switch (format) {
	case TREES_FORMAT_PLAIN:
		return "plaintext";
	case TREES_FORMAT_V1:
		return "TREES v1";
	case TREES_FORMAT_V2:
		return "TREES v2";
	case TREES_FORMAT_INVALID:
		return "invalid TREES";
	default:
		return "undecided";
	}
}
