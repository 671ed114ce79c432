/* policy-request.c - see policy-request.h. */
#include "mailfruit-config.h"

#include "policy-request.h"

#include <stdbool.h>
#include <string.h>

void policy_parser_init(struct policy_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* Postfix's attribute names are lower case words with '_'; accept a bit
 * more (digits, upper case, '-') so that a future name is not "garbage". */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Checks one complete line (without '\n'); on success *name_len is the
 * length of the name before '='. NULL when good. */
static const char *check_line(const char *line, size_t len, size_t *name_len)
{
	size_t i;

	if (len > POLICY_LINE_MAX)
		return "line too long";
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in request";
	for (i = 0; i < len && line[i] != '='; i++) {
		if (!name_char((unsigned char)line[i]))
			return "malformed attribute name";
	}
	if (i == len)
		return "line without '='";
	if (i == 0)
		return "empty attribute name";
	*name_len = i;
	return NULL;
}

/* The known attributes, in the order of struct policy_request's fields. */
static const struct {
	const char *name;
	size_t len;
} known[POLICY_KNOWN_ATTRS] = {
#define KNOWN(s) { s, sizeof(s) - 1 }
	KNOWN("request"), KNOWN("protocol_state"), KNOWN("client_address"),
	KNOWN("client_name"), KNOWN("helo_name"), KNOWN("sender"), KNOWN("recipient"),
	KNOWN("sasl_username"), KNOWN("encryption_protocol"), KNOWN("encryption_cipher"),
	KNOWN("policy_context"), KNOWN("server_port"), KNOWN("queue_id"),
#undef KNOWN
};

static void remember(struct policy_parser *p, const char *line, size_t name_len, size_t pos)
{
	size_t i;

	for (i = 0; i < POLICY_KNOWN_ATTRS; i++) {
		if (known[i].len == name_len && memcmp(line, known[i].name, name_len) == 0) {
			p->value_at[i] = pos + name_len + 1 + 1;
			return;
		}
	}
}

static void fill(const struct policy_parser *p, const char *buf, struct policy_request *req)
{
	const char **field[POLICY_KNOWN_ATTRS] = {
		&req->request, &req->protocol_state, &req->client_address, &req->client_name,
		&req->helo_name, &req->sender, &req->recipient, &req->sasl_username,
		&req->encryption_protocol, &req->encryption_cipher, &req->policy_context,
		&req->server_port, &req->queue_id,
	};
	size_t i;

	for (i = 0; i < POLICY_KNOWN_ATTRS; i++)
		*field[i] = p->value_at[i] != 0 ? buf + p->value_at[i] - 1 : NULL;
	req->attributes = p->attributes;
}

enum policy_parse_status policy_request_parse(struct policy_parser *p, char *buf, size_t len,
					      struct policy_request *req, size_t *used,
					      const char **why)
{
	size_t pos = p->scanned, end, name_len = 0;
	char *nl;

	while (pos < len && (nl = memchr(buf + pos, '\n', len - pos)) != NULL) {
		end = (size_t)(nl - buf);
		if (end == pos) {
			/* The empty line: the request is complete. */
			*used = end + 1;
			if (*used > POLICY_REQUEST_MAX) {
				*why = "request too large";
				return POLICY_PARSE_ERROR;
			}
			fill(p, buf, req);
			return POLICY_PARSE_DONE;
		}
		if ((*why = check_line(buf + pos, end - pos, &name_len)) != NULL)
			return POLICY_PARSE_ERROR;
		if (++p->attributes > POLICY_ATTRS_MAX) {
			*why = "too many attributes";
			return POLICY_PARSE_ERROR;
		}
		remember(p, buf + pos, name_len, pos);
		buf[end] = '\0';
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
