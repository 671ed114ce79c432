/*
 * fuzz-request.c - libFuzzer target for the policy request parser.
 *
 * Beyond "does not crash": the input is parsed twice, as one buffer and in
 * chunks of pseudo-random sizes (as a slow or odd client would send it),
 * the way mailfruit-policyd keeps a connection's bytes. Both runs must see
 * the same requests, with the same attributes, and end the same way
 * (error or waiting for more). Built by clang with -fsanitize=fuzzer, or
 * by any compiler with fuzz-replay.c as main() to replay a corpus.
 */
#include "mailfruit-config.h"

#include "policy-request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEN 64

struct seen {
	size_t count;
	int end;			/* POLICY_PARSE_MORE or _ERROR */
	unsigned long hash[MAX_SEEN];	/* of each request's known attributes */
};

static unsigned long hash_str(unsigned long h, const char *s)
{
	if (s == NULL)
		return h * 31 + 7;
	for (; *s != '\0'; s++)
		h = h * 131 + (unsigned char)*s;
	return h * 31 + 1;
}

static unsigned long hash_request(const struct policy_request *r)
{
	const char *v[] = { r->request, r->protocol_state, r->client_address, r->client_name,
			    r->helo_name, r->sender, r->recipient, r->sasl_username,
			    r->encryption_protocol, r->encryption_cipher, r->policy_context,
			    r->server_port, r->queue_id };
	unsigned long h = r->attributes;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		h = hash_str(h, v[i]);
	return h;
}

/* Feeds data in chunks (chunk == 0: all at once); a connection buffer
 * that drops each finished request, like the daemon's. */
static void run(const uint8_t *data, size_t size, unsigned int seed, struct seen *out)
{
	char *buf = malloc(size + 1);
	size_t have = 0, fed = 0, used;
	struct policy_parser p;
	struct policy_request req;
	const char *why;
	enum policy_parse_status st;

	if (buf == NULL)
		abort();
	memset(out, 0, sizeof(*out));
	out->end = POLICY_PARSE_MORE;
	policy_parser_init(&p);
	while (fed < size) {
		size_t chunk = seed == 0 ? size : 1 + (seed = seed * 1103515245 + 12345) % 97;

		if (chunk > size - fed)
			chunk = size - fed;
		memcpy(buf + have, data + fed, chunk);
		have += chunk;
		fed += chunk;
		while ((st = policy_request_parse(&p, buf, have, &req, &used, &why)) ==
		       POLICY_PARSE_DONE) {
			if (used > have || used > POLICY_REQUEST_MAX ||
			    req.attributes > POLICY_ATTRS_MAX)
				abort();
			if (req.recipient != NULL &&
			    (req.recipient < buf || req.recipient >= buf + used ||
			     memchr(req.recipient, '\0', (size_t)(buf + used - req.recipient)) == NULL))
				abort();
			if (out->count < MAX_SEEN)
				out->hash[out->count] = hash_request(&req);
			out->count++;
			memmove(buf, buf + used, have - used);
			have -= used;
			policy_parser_init(&p);
		}
		if (st == POLICY_PARSE_ERROR) {
			if (why == NULL || *why == '\0')
				abort();
			out->end = POLICY_PARSE_ERROR;
			break;
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole, chunked;
	unsigned int seed = size > 0 ? data[0] * 257u + 1 : 1;

	run(data, size, 0, &whole);
	run(data, size, seed, &chunked);
	if (whole.count != chunked.count || whole.end != chunked.end ||
	    memcmp(whole.hash, chunked.hash, sizeof(whole.hash)) != 0) {
		fprintf(stderr, "fuzz-request: whole and chunked parsing disagree: "
			"%zu/%zu requests, end %d/%d\n", whole.count, chunked.count, whole.end,
			chunked.end);
		abort();
	}
	return 0;
}
