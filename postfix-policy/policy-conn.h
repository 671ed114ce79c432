/*
 * policy-conn.h - one policy client connection: bytes in, replies out.
 *
 * Contract: used the same way by spawn mode (stdin/stdout) and by the
 * standalone event loop. Both fds are non-blocking; the caller polls.
 * policy_conn_read() does one read() and answers every complete request;
 * the replies wait in the connection until policy_conn_flush() writes
 * them (the event loop flushes after a whole batch of events, so that it
 * is not woken up by one client's reply while it still serves others).
 * While replies wait after a flush, the caller must not read (a client
 * that sends but does not read gets no more service). An idle connection
 * holds at most a 1 KiB reply buffer: the bytes of a typical lock-step
 * request are parsed in the caller's scratch buffer, and only an
 * unfinished request is copied to the heap. Bad input is
 * logged as a warning and reported as POLICY_CONN_CLOSE: the caller then
 * closes without a reply, as the protocol asks.
 */
#ifndef POLICY_CONN_H
#define POLICY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mf-tlspolicy.h"
#include "policy-request.h"

/* Scratch buffer size for policy_conn_read(): a whole request fits. */
#define POLICY_SCRATCH_SIZE (POLICY_REQUEST_MAX + 4096)
/* Unsent replies beyond this mean the client does not read them. */
#define POLICY_OUT_MAX (1024 * 1024)

enum policy_conn_status {
	POLICY_CONN_OK,		/* keep going; see policy_conn_want_write() */
	POLICY_CONN_EOF,	/* the client closed (the normal end) */
	POLICY_CONN_CLOSE	/* bad input or I/O error, already logged */
};

struct policy_conn {
	int fd_in, fd_out;
	char name[96];			/* who, for log lines */
	struct policy_parser parser;
	char *in;			/* an unfinished request; NULL when none */
	size_t in_len, in_cap;
	char *out;			/* unsent replies; NULL when none */
	size_t out_len, out_off, out_cap;
	bool busy;			/* an unfinished request or unsent replies */
	int64_t busy_since;		/* since when, in policy_now_ms() time */
	int64_t last_active;
	unsigned long requests;
};

/* Monotonic milliseconds: the "now" of the functions below. */
int64_t policy_now_ms(void);

/* Sets up c for the fds; name is copied. */
void policy_conn_init(struct policy_conn *c, int fd_in, int fd_out, const char *name,
		      int64_t now);
/* Frees the buffers; does not close the fds. */
void policy_conn_free(struct policy_conn *c);

enum policy_conn_status policy_conn_read(struct policy_conn *c, const struct mf_tlspolicy *policy,
					 char *scratch, int64_t now);
enum policy_conn_status policy_conn_flush(struct policy_conn *c, int64_t now);

static inline bool policy_conn_want_write(const struct policy_conn *c)
{
	return c->out_len > c->out_off;
}

/* True (and logged) when c has been busy longer than request_timeout (a
 * request trickling in, replies not read) or idle longer than
 * idle_timeout; the caller then closes it. */
bool policy_conn_expired(const struct policy_conn *c, int64_t now, unsigned long idle_timeout,
			 unsigned long request_timeout);

#endif
