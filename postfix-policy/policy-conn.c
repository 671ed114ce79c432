/* policy-conn.c - see policy-conn.h. */
#include "mailfruit-config.h"

#include "policy-conn.h"

#include "mf-log.h"
#include "policy-answer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room for more input beyond an unfinished request, per read(). */
#define READ_MORE 4096
/* An output buffer this small is kept between requests: one reply fits,
 * and a busy connection does not allocate per request. */
#define OUT_KEEP 1024

int64_t policy_now_ms(void)
{
	struct timespec ts;

	/* Monotonic: timeouts must not jump with the wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void policy_conn_init(struct policy_conn *c, int fd_in, int fd_out, const char *name,
		      int64_t now)
{
	memset(c, 0, sizeof(*c));
	c->fd_in = fd_in;
	c->fd_out = fd_out;
	snprintf(c->name, sizeof(c->name), "%s", name);
	policy_parser_init(&c->parser);
	c->last_active = now;
}

void policy_conn_free(struct policy_conn *c)
{
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->in_cap = c->out_len = c->out_off = c->out_cap = 0;
}

static void update_busy(struct policy_conn *c, int64_t now)
{
	if (c->in_len == 0 && !policy_conn_want_write(c)) {
		c->busy = false;
	} else if (!c->busy) {
		c->busy = true;
		c->busy_since = now;
	}
}

/* Appends to the unsent replies; false when the client is not reading. */
static bool queue_out(struct policy_conn *c, const char *data, size_t len)
{
	size_t need, cap;
	char *p;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = c->out_len + len;
	if (need - c->out_off > POLICY_OUT_MAX) {
		mf_log_warning("%s: client does not read its replies (over %d bytes unsent); "
			       "closing the connection", c->name, POLICY_OUT_MAX);
		return false;
	}
	if (need > c->out_cap) {
		/* Drop what was sent before growing. */
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		need = c->out_len + len;
		for (cap = c->out_cap ? c->out_cap : 512; cap < need; cap *= 2)
			;
		if ((p = realloc(c->out, cap)) == NULL) {
			mf_log_warning("%s: out of memory for replies; closing the connection",
				       c->name);
			return false;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return true;
}

/* Writes as much as the kernel takes from data; returns the count, or -1
 * after logging an error. */
static ssize_t write_some(struct policy_conn *c, const char *data, size_t len)
{
	ssize_t n;

	for (;;) {
		n = write(c->fd_out, data, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		mf_log_warning("%s: write: %m; closing the connection", c->name);
		return -1;
	}
}

enum policy_conn_status policy_conn_flush(struct policy_conn *c, int64_t now)
{
	ssize_t n;

	if (policy_conn_want_write(c)) {
		n = write_some(c, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0)
			return POLICY_CONN_CLOSE;
		c->out_off += (size_t)n;
		if (n > 0)
			c->last_active = now;
		if (!policy_conn_want_write(c)) {
			c->out_len = c->out_off = 0;
			if (c->out_cap > OUT_KEEP) {
				/* A burst is over: give the memory back. */
				free(c->out);
				c->out = NULL;
				c->out_cap = 0;
			}
		}
	}
	update_busy(c, now);
	return POLICY_CONN_OK;
}

/* Answers the complete requests in data[0..len); the unfinished rest is
 * left in *rest_off. */
static enum policy_conn_status answer_all(struct policy_conn *c,
					  const struct mf_tlspolicy *policy, char *data,
					  size_t len, size_t *rest_off)
{
	size_t off = 0, used, reply_len;
	struct policy_request req;
	const char *why = NULL;
	enum policy_parse_status st;

	while ((st = policy_request_parse(&c->parser, data + off, len - off, &req, &used, &why)) ==
	       POLICY_PARSE_DONE) {
		char reply[POLICY_REPLY_MAX];

		off += used;
		policy_parser_init(&c->parser);
		if (req.attributes == 0) {
			why = "empty request";
			st = POLICY_PARSE_ERROR;
			break;
		}
		c->requests++;
		reply_len = policy_answer(policy, &req, reply);
		if (!queue_out(c, reply, reply_len))
			return POLICY_CONN_CLOSE;
	}
	if (st == POLICY_PARSE_ERROR) {
		mf_log_warning("%s: bad request after %lu good ones: %s; closing the connection "
			       "without a reply", c->name, c->requests, why);
		return POLICY_CONN_CLOSE;
	}
	*rest_off = off;
	return POLICY_CONN_OK;
}

/* Makes room for READ_MORE bytes after an unfinished request. */
static bool grow_in(struct policy_conn *c, size_t need)
{
	size_t cap;
	char *p;

	if (need <= c->in_cap)
		return true;
	for (cap = c->in_cap ? c->in_cap : 1024; cap < need; cap *= 2)
		;
	if (cap > POLICY_SCRATCH_SIZE)
		cap = POLICY_SCRATCH_SIZE;
	if (cap < need || (p = realloc(c->in, cap)) == NULL) {
		mf_log_warning("%s: out of memory for a request; closing the connection", c->name);
		return false;
	}
	c->in = p;
	c->in_cap = cap;
	return true;
}

enum policy_conn_status policy_conn_read(struct policy_conn *c, const struct mf_tlspolicy *policy,
					 char *scratch, int64_t now)
{
	enum policy_conn_status st;
	char *data;
	size_t len, rest = 0;
	ssize_t n;

	/* The common case, nothing unfinished: parse in the scratch buffer.
	 * Otherwise read behind the unfinished request, so that a client
	 * dripping a big request byte by byte costs no quadratic copying. */
	if (c->in_len == 0) {
		data = scratch;
		n = read(c->fd_in, scratch, POLICY_SCRATCH_SIZE);
	} else {
		if (!grow_in(c, c->in_len + READ_MORE))
			return POLICY_CONN_CLOSE;
		data = c->in;
		n = read(c->fd_in, c->in + c->in_len, c->in_cap - c->in_len);
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return POLICY_CONN_OK;
		mf_log_warning("%s: read: %m; closing the connection", c->name);
		return POLICY_CONN_CLOSE;
	}
	if (n == 0) {
		if (c->in_len > 0)
			mf_log_warning("%s: client closed the connection in the middle of a "
				       "request (%zu bytes)", c->name, c->in_len);
		return POLICY_CONN_EOF;
	}
	c->last_active = now;
	len = data == scratch ? (size_t)n : c->in_len + (size_t)n;
	if ((st = answer_all(c, policy, data, len, &rest)) != POLICY_CONN_OK)
		return st;
	if (rest == len) {
		free(c->in);
		c->in = NULL;
		c->in_len = c->in_cap = 0;
	} else if (data == scratch) {
		if (!grow_in(c, len - rest + READ_MORE))
			return POLICY_CONN_CLOSE;
		memcpy(c->in, scratch + rest, len - rest);
		c->in_len = len - rest;
	} else {
		memmove(c->in, c->in + rest, len - rest);
		c->in_len = len - rest;
	}
	if (rest > 0 && c->in_len > 0) {
		c->busy = true;		/* a new request has begun */
		c->busy_since = now;
	}
	update_busy(c, now);
	return POLICY_CONN_OK;
}

bool policy_conn_expired(const struct policy_conn *c, int64_t now, unsigned long idle_timeout,
			 unsigned long request_timeout)
{
	if (c->busy) {
		if (now - c->busy_since < (int64_t)request_timeout * 1000)
			return false;
		if (policy_conn_want_write(c))
			mf_log_warning("%s: client did not read its replies for %lus; closing the "
				       "connection", c->name, request_timeout);
		else
			mf_log_warning("%s: timeout: request incomplete after %lus (%zu bytes); "
				       "closing the connection without a reply", c->name,
				       request_timeout, c->in_len);
		return true;
	}
	if (now - c->last_active < (int64_t)idle_timeout * 1000)
		return false;
	mf_log_debug("%s: idle for %lus; closing the connection", c->name, idle_timeout);
	return true;
}
