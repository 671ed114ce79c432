/*
 * policy-load - load generator for mailfruit-policyd: N persistent
 * connections, each lock-step like smtpd (one request in flight, the next
 * sent when the reply has arrived), for a fixed time. One epoll loop, so
 * the generator needs one core and leaves the other to the daemon.
 *
 * usage: policy-load -u SOCKET | -x "DAEMON ARGS..." [-c CONNS] [-d SECONDS]
 *                    [-k plain|tls] [-w]
 *   -u  connect to a unix socket (standalone daemon)
 *   -x  spawn(8)-like: start one daemon per connection on a socketpair
 *       (command split at spaces)
 *   -k  plain: plaintext requests (refused, logged); tls: TLS (DUNNO)
 *   -w  after the run, keep the connections open until stdin reaches EOF
 *       (so that the caller can measure the daemon's memory with them)
 * Prints one line: conns=N kind=K requests=R seconds=S rps=X p50_us=Y
 * p99_us=Z errors=E. Exit 0, or 1 when any reply was not the expected one.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 100000		/* latencies up to 100 ms at 1 us resolution */

struct client {
	int fd;
	pid_t pid;		/* -x: the daemon serving this connection */
	uint64_t sent_ns;
	size_t got;		/* reply bytes so far */
	char reply[512];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "policy-load: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* What Postfix 3.7 sends at RCPT, plaintext or TLS. */
static size_t make_request(char *buf, size_t len, bool tls)
{
	int n = snprintf(buf, len,
		"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
		"client_address=192.0.2.10\nclient_name=mx.example.net\nclient_port=59800\n"
		"reverse_client_name=mx.example.net\nserver_address=127.0.0.1\nserver_port=25\n"
		"helo_name=mx.example.net\nsender=a@example.net\nrecipient=alice@example.test\n"
		"recipient_count=0\nqueue_id=\ninstance=2400.6b0225e7.df15f.0\nsize=0\n"
		"etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
		"ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
		"encryption_protocol=%s\nencryption_cipher=%s\nencryption_keysize=%s\n"
		"policy_context=\n\n",
		tls ? "TLSv1.3" : "", tls ? "TLS_AES_256_GCM_SHA384" : "", tls ? "256" : "0");

	return (size_t)n;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		die(path);
	return fd;
}

static int spawn_daemon(char *const argv[], pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	if ((*pid = fork()) < 0)
		die("fork");
	if (*pid == 0) {
		/* Like spawn(8): the socket is stdin, stdout and stderr. */
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		dup2(sv[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

static void send_request(struct client *c, const char *req, size_t len)
{
	c->got = 0;
	c->sent_ns = now_ns();
	/* Requests are far below the socket buffer: one write suffices. */
	if (write(c->fd, req, len) != (ssize_t)len)
		die("write");
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *kind = "plain";
	char *spawn_cmd = NULL, *spawn_argv[32], req[2048];
	int opt, nconns = 1, seconds = 3, epfd, i, n, errors = 0, inflight = 0;
	bool wait_stdin = false;
	struct client *clients;
	uint32_t *hist;
	uint64_t start, end, requests = 0, over = 0, count, p50 = 0, p99 = 0;
	size_t req_len;
	const char *want;
	struct epoll_event ev, events[256];

	while ((opt = getopt(argc, argv, "u:x:c:d:k:w")) != -1) {
		switch (opt) {
		case 'u': sock = optarg; break;
		case 'x': spawn_cmd = optarg; break;
		case 'c': nconns = atoi(optarg); break;
		case 'd': seconds = atoi(optarg); break;
		case 'k': kind = optarg; break;
		case 'w': wait_stdin = true; break;
		default:
			fprintf(stderr, "usage: policy-load -u SOCKET | -x \"DAEMON ARGS\" [-c CONNS] "
				"[-d SECONDS] [-k plain|tls] [-w]\n");
			return 2;
		}
	}
	if ((sock == NULL) == (spawn_cmd == NULL) || nconns < 1 || seconds < 1 ||
	    (strcmp(kind, "plain") != 0 && strcmp(kind, "tls") != 0)) {
		fprintf(stderr, "policy-load: give exactly one of -u and -x; -k plain or tls\n");
		return 2;
	}
	if (spawn_cmd != NULL) {
		char *save = NULL, *tok;

		n = 0;
		for (tok = strtok_r(spawn_cmd, " ", &save); tok != NULL && n < 31;
		     tok = strtok_r(NULL, " ", &save))
			spawn_argv[n++] = tok;
		spawn_argv[n] = NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	req_len = make_request(req, sizeof(req), strcmp(kind, "tls") == 0);
	want = strcmp(kind, "tls") == 0 ? "action=DUNNO\n\n" : "action=5";
	if ((clients = calloc((size_t)nconns, sizeof(*clients))) == NULL ||
	    (hist = calloc(HIST_US, sizeof(*hist))) == NULL)
		die("calloc");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	for (i = 0; i < nconns; i++) {
		clients[i].fd = sock != NULL ? connect_unix(sock)
					     : spawn_daemon(spawn_argv, &clients[i].pid);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &clients[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, clients[i].fd, &ev) < 0)
			die("epoll_ctl");
	}
	start = now_ns();
	end = start + (uint64_t)seconds * 1000000000u;
	for (i = 0; i < nconns; i++, inflight++)
		send_request(&clients[i], req, req_len);
	/* After the deadline no new requests; those in flight finish. */
	while (inflight > 0) {
		uint64_t t;

		n = epoll_wait(epfd, events, 256, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		t = now_ns();
		if (n == 0 && t > end + 10 * 1000000000ull) {
			fprintf(stderr, "policy-load: %d replies missing 10s after the end\n", inflight);
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct client *c = events[i].data.ptr;
			ssize_t r = read(c->fd, c->reply + c->got, sizeof(c->reply) - 1 - c->got);

			if (r <= 0) {
				fprintf(stderr, "policy-load: connection closed by the daemon\n");
				return 1;
			}
			c->got += (size_t)r;
			c->reply[c->got] = '\0';
			if (c->got < 2 || memcmp(c->reply + c->got - 2, "\n\n", 2) != 0)
				continue;
			if (strncmp(c->reply, want, strlen(want)) != 0)
				errors++;
			requests++;
			inflight--;
			if ((t - c->sent_ns) / 1000 < HIST_US)
				hist[(t - c->sent_ns) / 1000]++;
			else
				over++;
			if (t < end) {
				send_request(c, req, req_len);
				inflight++;
			}
		}
	}
	end = now_ns();
	for (i = 0, count = 0; i < HIST_US; i++) {
		count += hist[i];
		if (p50 == 0 && count * 2 >= requests)
			p50 = (uint64_t)i + 1;
		if (p99 == 0 && count * 100 >= requests * 99)
			p99 = (uint64_t)i + 1;
	}
	if (p99 == 0)
		p99 = HIST_US;
	printf("conns=%d kind=%s requests=%llu seconds=%.2f rps=%.0f p50_us=%llu p99_us=%llu "
	       "over100ms=%llu errors=%d\n", nconns, kind, (unsigned long long)requests,
	       (double)(end - start) / 1e9, (double)requests * 1e9 / (double)(end - start),
	       (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)over, errors);
	fflush(stdout);
	if (wait_stdin) {
		char buf[64];

		while (read(0, buf, sizeof(buf)) > 0)
			;
	}
	for (i = 0; i < nconns; i++) {
		close(clients[i].fd);
		if (clients[i].pid > 0)
			waitpid(clients[i].pid, NULL, 0);
	}
	free(clients);
	free(hist);
	return errors > 0;
}
