/*
 * policy-request.h - parser for Postfix policy delegation requests
 * (SMTPD_POLICY_README): "name=value" lines ending in an empty line.
 *
 * Contract: bytes arrive in any chunks; policy_request_parse() looks at the
 * buffered bytes of one connection, remembers how far it has checked (so
 * each byte is examined about once), and reports: need more, one complete
 * request (its lines are NUL-terminated in place and the known attributes
 * point into the buffer), or an error with a static reason.
 * Bad input is anything Postfix never sends: a NUL byte, a line without
 * '=' or with a bad name, a line over POLICY_LINE_MAX, a request over
 * POLICY_REQUEST_MAX bytes or POLICY_ATTRS_MAX attributes. Unknown
 * attributes are ignored; of duplicates the last one counts. No I/O, no
 * allocation, no globals: the fuzz target drives it directly.
 */
#ifndef POLICY_REQUEST_H
#define POLICY_REQUEST_H

#include <stddef.h>

#define POLICY_REQUEST_MAX 65536	/* bytes, including the empty line */
#define POLICY_ATTRS_MAX 1000
#define POLICY_LINE_MAX 16384		/* one "name=value", without '\n' */

/* The attributes mailfruit-policyd uses; NULL when not sent. */
struct policy_request {
	const char *request;
	const char *protocol_state;
	const char *client_address;
	const char *client_name;
	const char *helo_name;
	const char *sender;
	const char *recipient;
	const char *sasl_username;
	const char *encryption_protocol;
	const char *encryption_cipher;
	const char *policy_context;
	const char *server_port;
	const char *queue_id;
	unsigned int attributes;	/* lines in the request */
};

/* The attributes of struct policy_request, in the order of its fields. */
#define POLICY_KNOWN_ATTRS 13

/* Per-connection progress through the buffered, not yet complete request.
 * Checked lines are NUL-terminated in place at once, and where the known
 * values start is remembered as offsets (the caller may move the bytes),
 * so each byte is looked at once. */
struct policy_parser {
	size_t scanned;		/* bytes checked: whole good lines */
	unsigned int attributes;	/* lines among them */
	size_t value_at[POLICY_KNOWN_ATTRS];	/* offset + 1 of a value; 0: not sent */
};

enum policy_parse_status {
	POLICY_PARSE_MORE,	/* no complete request yet */
	POLICY_PARSE_DONE,	/* *req filled; the request took *used bytes */
	POLICY_PARSE_ERROR	/* *why says what was wrong */
};

/* Resets a parser for the next request. */
void policy_parser_init(struct policy_parser *p);

/* buf[0..len) are the bytes received since the current request began;
 * the parser changes the lines it has checked ('\n' becomes NUL), and
 * apart from that they must not change between calls. After DONE,
 * the caller drops the first *used bytes and calls policy_parser_init().
 * buf must stay alive while *req is used. */
enum policy_parse_status policy_request_parse(struct policy_parser *p, char *buf, size_t len,
					      struct policy_request *req, size_t *used,
					      const char **why);

#endif
