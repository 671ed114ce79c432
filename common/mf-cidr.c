/* mf-cidr.c - see mf-cidr.h. */
#include "mailfruit-config.h"

#include "mf-cidr.h"
#include "mf-err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Separators of a pattern list, as in Postfix parameter lists. */
#define MF_CIDR_LIST_SEP " \t\r\n,"

static const uint8_t mf_v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Parses an address without brackets or tag; IPv4 becomes v4-mapped.
 * *is_v4_r tells which syntax it was, for the prefix length limit. */
static int parse_bare(const char *text, uint8_t out[16], bool *is_v4_r)
{
	struct in_addr a4;
	struct in6_addr a6;

	/* inet_pton() rejects zone ids, but say it here: they are never valid. */
	if (strchr(text, '%') != NULL)
		return -1;
	if (strchr(text, ':') == NULL) {
		if (inet_pton(AF_INET, text, &a4) != 1)
			return -1;
		memcpy(out, mf_v4mapped_prefix, sizeof(mf_v4mapped_prefix));
		memcpy(out + 12, &a4.s_addr, 4);
		*is_v4_r = true;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return -1;
	memcpy(out, a6.s6_addr, 16);
	*is_v4_r = false;
	return 0;
}

/* ASCII-only, so the locale cannot change what "IPv6:" matches. */
static bool has_ipv6_tag(const char *text)
{
	static const char tag[] = "ipv6:";
	size_t i;
	char c;

	for (i = 0; tag[i] != '\0'; i++) {
		c = text[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != tag[i])
			return false;
	}
	return true;
}

int mf_addr_parse(const char *text, struct mf_addr *addr)
{
	char buf[MF_CIDR_TEXT_MAX + 1];
	char *p;
	size_t len;
	bool is_v4;

	if (text == NULL || (len = strlen(text)) == 0 || len > MF_CIDR_TEXT_MAX)
		return -1;
	memcpy(buf, text, len + 1);
	p = buf;
	if (p[0] == '[') {
		if (len < 2 || p[len - 1] != ']')
			return -1;
		p[len - 1] = '\0';
		p++;
	}
	if (has_ipv6_tag(p)) {
		p += 5;
		/* "IPv6:192.0.2.1" is not a valid SMTP address literal. */
		if (parse_bare(p, addr->bytes, &is_v4) < 0 || is_v4)
			return -1;
		return 0;
	}
	return parse_bare(p, addr->bytes, &is_v4);
}

bool mf_addr_is_v4(const struct mf_addr *addr)
{
	return memcmp(addr->bytes, mf_v4mapped_prefix, sizeof(mf_v4mapped_prefix)) == 0;
}

void mf_addr_format(const struct mf_addr *addr, char *buf, size_t len)
{
	const char *ok;

	if (buf == NULL || len == 0)
		return;
	if (mf_addr_is_v4(addr))
		ok = inet_ntop(AF_INET, addr->bytes + 12, buf, (socklen_t)len);
	else
		ok = inet_ntop(AF_INET6, addr->bytes, buf, (socklen_t)len);
	if (ok == NULL)
		buf[0] = '\0';
}

/* Clears every bit after the first prefix bits. */
static void apply_mask(uint8_t bytes[16], unsigned int prefix)
{
	size_t i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		bytes[i] &= (uint8_t)(0xff << (8 - prefix));
		prefix = 0;
	}
}

/* Parses the digits after '/'; returns -1 for anything but 0..max. */
static int parse_prefix(const char *text, unsigned int max, unsigned int *prefix_r)
{
	unsigned int val = 0;

	if (*text == '\0')
		return -1;
	for (; *text != '\0'; text++) {
		if (*text < '0' || *text > '9')
			return -1;
		val = val * 10 + (unsigned int)(*text - '0');
		if (val > max)
			return -1;
	}
	*prefix_r = val;
	return 0;
}

int mf_cidr_parse(const char *text, struct mf_cidr *cidr, char *err, size_t errlen)
{
	char buf[MF_CIDR_TEXT_MAX + 1];
	char hint[MF_ADDR_STRLEN];
	uint8_t masked[16];
	char *addr_text;
	char *mask_text;
	char *end;
	size_t len;
	bool is_v4;
	unsigned int max;
	unsigned int prefix;

	if (text == NULL || (len = strlen(text)) == 0) {
		mf_err_set(err, errlen, "empty CIDR pattern");
		return -1;
	}
	if (len > MF_CIDR_TEXT_MAX) {
		mf_err_set(err, errlen, "CIDR pattern too long (max %d): \"%.40s...\"",
			MF_CIDR_TEXT_MAX, text);
		return -1;
	}
	memcpy(buf, text, len + 1);

	/* Postfix syntax: "[addr]" or "[addr]/len", never "[addr/len]". */
	if (buf[0] == '[') {
		addr_text = buf + 1;
		if ((end = strchr(addr_text, ']')) == NULL) {
			mf_err_set(err, errlen, "missing ']' in \"%s\"", text);
			return -1;
		}
		*end++ = '\0';
		if (*end != '\0' && *end != '/') {
			mf_err_set(err, errlen, "garbage after ']' in \"%s\"", text);
			return -1;
		}
		mask_text = *end == '/' ? end + 1 : NULL;
	} else {
		addr_text = buf;
		if ((mask_text = strchr(buf, '/')) != NULL)
			*mask_text++ = '\0';
	}

	if (parse_bare(addr_text, cidr->net, &is_v4) < 0) {
		mf_err_set(err, errlen, "bad address in \"%s\"", text);
		return -1;
	}
	max = is_v4 ? 32 : 128;
	if (mask_text == NULL) {
		prefix = max;
	} else if (*mask_text == '\0') {
		mf_err_set(err, errlen, "missing prefix length after '/' in \"%s\"", text);
		return -1;
	} else if (parse_prefix(mask_text, max, &prefix) < 0) {
		mf_err_set(err, errlen, "bad prefix length in \"%s\" (want 0 to %u)", text, max);
		return -1;
	}
	cidr->prefix = is_v4 ? prefix + 96 : prefix;

	/* A typo such as 10.1.2.3/8 is far more likely than intent; say so
	 * instead of silently widening or narrowing the pattern. */
	memcpy(masked, cidr->net, 16);
	apply_mask(masked, cidr->prefix);
	if (memcmp(masked, cidr->net, 16) != 0) {
		if (inet_ntop(is_v4 ? AF_INET : AF_INET6, is_v4 ? masked + 12 : masked,
			      hint, sizeof(hint)) == NULL)
			hint[0] = '\0';
		mf_err_set(err, errlen,
			"non-null host address bits in \"%s\", perhaps you should use \"%s/%u\" instead",
			text, hint, prefix);
		return -1;
	}
	return 0;
}

bool mf_cidr_match(const struct mf_cidr *cidr, const struct mf_addr *addr)
{
	uint8_t masked[16];

	memcpy(masked, addr->bytes, 16);
	apply_mask(masked, cidr->prefix);
	return memcmp(masked, cidr->net, 16) == 0;
}

int mf_cidr_list_parse(struct mf_cidr_list *list, const char *text, char *err,
		       size_t errlen)
{
	char buf[MF_CIDR_TEXT_MAX + 1];
	struct mf_cidr *items = NULL;
	struct mf_cidr *grown;
	size_t count = 0;
	size_t size = 0;
	size_t len;

	if (text == NULL)
		return 0;
	/* Parse into a private array so that an error leaves list unchanged. */
	for (text += strspn(text, MF_CIDR_LIST_SEP); *text != '\0';
	     text += strspn(text, MF_CIDR_LIST_SEP)) {
		len = strcspn(text, MF_CIDR_LIST_SEP);
		if (len > MF_CIDR_TEXT_MAX) {
			mf_err_set(err, errlen, "CIDR pattern too long (max %d): \"%.40s...\"",
				MF_CIDR_TEXT_MAX, text);
			goto fail;
		}
		memcpy(buf, text, len);
		buf[len] = '\0';
		text += len;
		if (count == size) {
			size = size == 0 ? 8 : size * 2;
			if ((grown = reallocarray(items, size, sizeof(*items))) == NULL) {
				mf_err_set(err, errlen, "out of memory");
				goto fail;
			}
			items = grown;
		}
		if (mf_cidr_parse(buf, &items[count], err, errlen) < 0)
			goto fail;
		count++;
	}
	if (count == 0)
		return 0;
	if (list->count > SIZE_MAX / sizeof(*items) - count ||
	    (grown = reallocarray(list->items, list->count + count, sizeof(*items))) == NULL) {
		mf_err_set(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(grown + list->count, items, count * sizeof(*items));
	list->items = grown;
	list->count += count;
	free(items);
	return 0;

fail:
	free(items);
	return -1;
}

bool mf_cidr_list_match(const struct mf_cidr_list *list, const struct mf_addr *addr)
{
	size_t i;

	for (i = 0; i < list->count; i++) {
		if (mf_cidr_match(&list->items[i], addr))
			return true;
	}
	return false;
}

void mf_cidr_list_free(struct mf_cidr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
