/*
 * mailfruit-milter-tlsonly - libmilter filter that refuses mail from SMTP
 * clients that did not use STARTTLS, with exemptions: the decision of
 * mailfruit-policyd, from the same engine and tls-policy.conf(5).
 *
 * Two processes, in the foreground (a service manager runs them): it
 * loads the configuration, opens milter_listen as root, drops to
 * milter_user, then forks (milter-supervisor.h). The child serves
 * connections on libmilter's worker pool (milter-filter.c); the parent,
 * the process the service manager knows, only supervises it.
 *
 * Signals. libmilter's own signal thread stops the filter on SIGHUP,
 * SIGTERM and SIGINT. SIGTERM and SIGINT are left to it: the supervisor
 * passes them on and exits with the child's status. SIGHUP, a reload
 * here, must never reach it: the supervisor turns each one into a byte
 * on a pipe, the child ignores SIGHUP itself, and the child's main thread
 * reads the pipe and reloads; smfi_main() runs on a thread of its own.
 */
#include "mailfruit-config.h"

#include "milter-config.h"
#include "milter-current.h"
#include "milter-filter.h"
#include "milter-listen.h"
#include "milter-supervisor.h"
#include "mf-daemon.h"
#include "mf-log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libmilter/mfapi.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#define PROGNAME "mailfruit/milter-tlsonly"

static const char usage_text[] =
	"usage: mailfruit-milter-tlsonly [-v] [-e] [-c FILE] [-l ENDPOINT]   serve\n"
	"       mailfruit-milter-tlsonly -t [-v] [-c FILE]                   check FILE\n"
	"\n"
	"  -c FILE      configuration (default " MF_TLSPOLICY_CONFIG_FILE ")\n"
	"  -l ENDPOINT  listen here instead of milter_listen\n"
	"               (unix:/path, inet:host:port, inet:[address]:port)\n"
	"  -t           check the configuration and exit (0 when it is good)\n"
	"  -v           log every decision, not only refusals and warnings\n"
	"  -e           log to stderr instead of syslog\n"
	"  -h, --help   this text\n";

struct libmilter_run {
	int result;		/* smfi_main()'s */
	int done_fd;		/* written to when smfi_main() has returned */
};

static void *run_libmilter(void *arg)
{
	struct libmilter_run *run = arg;
	char b = 'X';

	run->result = smfi_main();
	while (write(run->done_fd, &b, 1) < 0 && errno == EINTR) {
	}
	return NULL;
}

/* The listening endpoint cannot change without a restart; a -l given at
 * startup stays in force over reloads. */
static struct milter_config *load(const char *path, const char *listen, char *err,
				  size_t errlen)
{
	struct milter_config *conf = milter_config_load(path, err, errlen);
	char *conn;

	if (conf == NULL || listen == NULL)
		return conf;
	if ((conn = milter_endpoint_to_libmilter(listen, err, errlen)) == NULL) {
		milter_config_free(conf);
		return NULL;
	}
	free(conf->libmilter_conn);
	conf->libmilter_conn = conn;
	conf->listen = listen;
	return conf;
}

static void reload(const char *path, const char *listen)
{
	struct milter_config *old = milter_current_acquire(), *conf;
	const char *what;
	char err[1024];

	if ((conf = load(path, listen, err, sizeof(err))) == NULL) {
		mf_log_warning("reload failed, keeping the previous configuration: %s", err);
		milter_current_release(old);
		return;
	}
	if (old != NULL && milter_config_needs_restart(old, conf, &what))
		mf_log_warning("reload: %s changed; that takes effect only after a restart", what);
	milter_current_release(old);
	milter_current_set(conf);
	mf_log_info("reloaded %s: mode=%s; connections already open keep the previous "
		    "configuration until they end", path,
		    mf_tlspolicy_mode_name(mf_tlspolicy_mode(conf->policy)));
}

struct server {
	const char *path, *listen;	/* for reloads */
	struct milter_config *conf;	/* the first one; the server's to install */
};

/* The server child (milter-supervisor.h): libmilter on a thread, this
 * (main) thread reloads whenever the supervisor passes a SIGHUP on. */
static int serve(int reload_fd, void *arg)
{
	const struct server *server = arg;
	struct libmilter_run run = { MI_FAILURE, -1 };
	struct pollfd pfd[2];
	int done_fds[2], rc;
	pthread_t tid;
	char buf[64];

	if (pipe2(done_fds, O_CLOEXEC) < 0) {
		mf_log_error("pipe: %m");
		milter_config_free(server->conf);
		return EX_OSERR;
	}
	run.done_fd = done_fds[1];
	milter_current_set(server->conf);
	if ((rc = pthread_create(&tid, NULL, run_libmilter, &run)) != 0) {
		errno = rc;
		mf_log_fatal(EX_OSERR, "cannot start a thread: %m");
	}
	mf_log_info("started: mode=%s, listening on %s, config %s",
		    mf_tlspolicy_mode_name(mf_tlspolicy_mode(server->conf->policy)),
		    server->conf->listen, server->path);

	pfd[0] = (struct pollfd){ .fd = done_fds[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = reload_fd, .events = POLLIN };
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			mf_log_fatal(EX_OSERR, "poll: %m");
		}
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents == 0)
			continue;
		/* All the bytes of a burst, then one reload: it reads the
		 * file after the last SIGHUP that has come so far. */
		if ((n = read(reload_fd, buf, sizeof(buf))) > 0) {
			reload(server->path, server->listen);
		} else if (n == 0 || errno != EINTR) {
			mf_log_error("the supervisor process is gone; stopping");
			pfd[1].fd = -1;
			smfi_stop();
		}
	}
	pthread_join(tid, NULL);
	close(done_fds[0]);
	close(done_fds[1]);
	close(reload_fd);
	milter_current_set(NULL);
	if (run.result != MI_SUCCESS) {
		mf_log_error("libmilter stopped with an error (see the syslog for its reason)");
		return EX_SOFTWARE;
	}
	mf_log_info("stopped");
	return 0;
}

/* As root: the socket, then the user; then the two processes. */
static int start(const char *path, const char *listen, struct milter_config *conf)
{
	struct server server = { path, listen, conf };
	int rc;

	if (milter_filter_register() < 0) {
		mf_log_error("libmilter refused the filter description");
		rc = EX_SOFTWARE;
	} else if ((rc = milter_listen_open(conf)) == 0 &&
		   (rc = mf_daemon_drop_privileges("milter_user", conf->user, "run")) == 0) {
		rc = milter_supervise(serve, &server);
	}
	/* Here only in the supervisor (or before it): the child exit()s. */
	milter_config_free(conf);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = MF_TLSPOLICY_CONFIG_FILE, *listen = NULL;
	bool check = false, to_stderr = false;
	struct milter_config *conf;
	char err[1024];
	int opt, verbose = 0;

	while ((opt = getopt_long(argc, argv, "c:ehl:tv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'e': to_stderr = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'l': listen = optarg; break;
		case 't': check = true; break;
		case 'v': verbose++; break;
		default:
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailfruit-milter-tlsonly: unexpected argument: %s\n%s",
			argv[optind], usage_text);
		return EX_USAGE;
	}
	mf_log_set_verbose(verbose);
	if (check) {
		mf_log_init(PROGNAME, MF_LOG_STDERR, LOG_MAIL);
		if ((conf = load(path, listen, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mailfruit-milter-tlsonly: %s\n", err);
			return EX_CONFIG;
		}
		if (verbose > 0)
			printf("%s: good, mode = %s, listen = %s\n", path,
			       mf_tlspolicy_mode_name(mf_tlspolicy_mode(conf->policy)), conf->listen);
		milter_config_free(conf);
		return 0;
	}
	mf_log_init(PROGNAME, to_stderr ? MF_LOG_STDERR : MF_LOG_SYSLOG, LOG_MAIL);
	if ((conf = load(path, listen, err, sizeof(err))) == NULL)
		mf_log_fatal(EX_CONFIG, "%s", err);
	return start(path, listen, conf);
}
