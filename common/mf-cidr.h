/*
 * mf-cidr.h - IPv4/IPv6 addresses and CIDR patterns, without DNS.
 *
 * Contract: every address is kept as 16 IPv6 bytes, IPv4 as v4-mapped
 * (::ffff:a.b.c.d), so "192.0.2.0/24" (stored as ::ffff:192.0.2.0/120)
 * matches both 192.0.2.7 and ::ffff:192.0.2.7. An IPv4 pattern never matches
 * a native IPv6 address, not even 0.0.0.0/0; only ::/0 matches everything.
 * Patterns are Postfix cidr_table style: "addr", "addr/len", "[addr]" or
 * "[addr]/len"; host bits beyond len must be zero. Parse functions return
 * 0, or -1 with a message (quoting the pattern) in the caller's buffer.
 */
#ifndef MF_CIDR_H
#define MF_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text a pattern or address may have (longer is an error). */
#define MF_CIDR_TEXT_MAX 128
/* Buffer size for mf_addr_format(). */
#define MF_ADDR_STRLEN 46

struct mf_addr {
	uint8_t bytes[16];
};

struct mf_cidr {
	uint8_t net[16];
	unsigned int prefix;	/* 0..128, in IPv6 terms (IPv4 /24 is 120) */
};

/* A zero-initialized struct is an empty list. */
struct mf_cidr_list {
	struct mf_cidr *items;
	size_t count;
};

/* A client address: IPv4, IPv6 or v4-mapped, optionally in [] and with an
 * "IPv6:" tag (any case) as in SMTP address literals. Zone ids ("%eth0"),
 * prefixes, whitespace and garbage are rejected. 0 or -1. */
int mf_addr_parse(const char *text, struct mf_addr *addr);
/* True for v4-mapped addresses (IPv4 clients). */
bool mf_addr_is_v4(const struct mf_addr *addr);
/* Dotted quad for IPv4 clients, RFC 5952 text otherwise. */
void mf_addr_format(const struct mf_addr *addr, char *buf, size_t len);

int mf_cidr_parse(const char *text, struct mf_cidr *cidr, char *err, size_t errlen);
bool mf_cidr_match(const struct mf_cidr *cidr, const struct mf_addr *addr);

/* Appends the patterns in text (separated by whitespace and/or commas) to
 * list. On error the list is left as it was. Empty text adds nothing. */
int mf_cidr_list_parse(struct mf_cidr_list *list, const char *text, char *err,
		       size_t errlen);
/* True when any pattern matches; an empty list matches nothing. */
bool mf_cidr_list_match(const struct mf_cidr_list *list, const struct mf_addr *addr);
/* Frees the items and leaves an empty list. */
void mf_cidr_list_free(struct mf_cidr_list *list);

#endif
