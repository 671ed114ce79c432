/* policy-request.c - see policy-request.h. */
#include "mailfruit-config.h"

#include "policy-request.h"

#include <stdbool.h>
#include <string.h>

void policy_parser_init(struct policy_parser *p)
{
	p->scanned = 0;
	p->attributes = 0;
}

/* Postfix's attribute names are lower case words with '_'; accept a bit
 * more (digits, upper case, '-') so that a future name is not "garbage". */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Checks one complete line (without '\n'). NULL when good. */
static const char *check_line(const char *line, size_t len)
{
	size_t i;

	if (len > POLICY_LINE_MAX)
		return "line too long";
	for (i = 0; i < len && line[i] != '='; i++) {
		if (!name_char((unsigned char)line[i]))
			return "malformed attribute name";
	}
	if (i == len)
		return "line without '='";
	if (i == 0)
		return "empty attribute name";
	return NULL;
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return strlen(name) == name_len && memcmp(line, name, name_len) == 0;
}

/* Sets the known attribute that line names; the line is NUL-terminated. */
static void store(struct policy_request *req, const char *line)
{
	static const struct {
		const char *name;
		size_t offset;
	} known[] = {
#define KNOWN(f) { #f, offsetof(struct policy_request, f) }
		KNOWN(request), KNOWN(protocol_state), KNOWN(client_address),
		KNOWN(client_name), KNOWN(helo_name), KNOWN(sender), KNOWN(recipient),
		KNOWN(sasl_username), KNOWN(encryption_protocol), KNOWN(encryption_cipher),
		KNOWN(policy_context), KNOWN(server_port), KNOWN(queue_id),
#undef KNOWN
	};
	const char *eq = strchr(line, '=');
	size_t name_len = (size_t)(eq - line), i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (name_is(line, name_len, known[i].name)) {
			*(const char **)((char *)req + known[i].offset) = eq + 1;
			return;
		}
	}
}

enum policy_parse_status policy_request_parse(struct policy_parser *p, char *buf, size_t len,
					      struct policy_request *req, size_t *used,
					      const char **why)
{
	size_t pos = p->scanned, end;
	char *nl, *line;

	for (;;) {
		nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		if (nl == NULL)
			break;
		end = (size_t)(nl - buf);
		if (end == pos) {
			/* The empty line: the request is complete. */
			*used = end + 1;
			if (*used > POLICY_REQUEST_MAX) {
				*why = "request too large";
				return POLICY_PARSE_ERROR;
			}
			memset(req, 0, sizeof(*req));
			req->attributes = p->attributes;
			for (line = buf; line < buf + end; line += strlen(line) + 1) {
				*strchr(line, '\n') = '\0';
				store(req, line);
			}
			return POLICY_PARSE_DONE;
		}
		/* Per line, not per buffer: bytes of a pipelined next request
		 * must not spoil this one. */
		if (memchr(buf + pos, '\0', end - pos) != NULL) {
			*why = "NUL byte in request";
			return POLICY_PARSE_ERROR;
		}
		if ((*why = check_line(buf + pos, end - pos)) != NULL)
			return POLICY_PARSE_ERROR;
		if (++p->attributes > POLICY_ATTRS_MAX) {
			*why = "too many attributes";
			return POLICY_PARSE_ERROR;
		}
		pos = end + 1;
		p->scanned = pos;
	}
	/* An incomplete line: refuse as soon as it cannot become good. */
	if (memchr(buf + pos, '\0', len - pos) != NULL) {
		*why = "NUL byte in request";
		return POLICY_PARSE_ERROR;
	}
	if (len - pos > POLICY_LINE_MAX) {
		*why = "line too long";
		return POLICY_PARSE_ERROR;
	}
	if (len > POLICY_REQUEST_MAX) {
		*why = "request too large";
		return POLICY_PARSE_ERROR;
	}
	return POLICY_PARSE_MORE;
}
