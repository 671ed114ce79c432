/*
 * mailfruit-milter-tlsonly - libmilter filter that refuses mail from SMTP
 * clients that did not use STARTTLS, with exemptions: the decision of
 * mailfruit-policyd, from the same engine and tls-policy.conf(5).
 *
 * One process, in the foreground (a service manager runs it): loads the
 * configuration, opens milter_listen as root, drops to milter_user, then
 * libmilter serves connections on its worker pool (milter-filter.c).
 *
 * Signals. libmilter runs its own signal thread that sigwait()s for
 * SIGHUP, SIGTERM and SIGINT and stops the filter on any of them. SIGTERM
 * and SIGINT are left to it (a clean stop). SIGHUP is for a reload here:
 * every thread but the main one blocks it, and the main thread keeps it
 * unblocked with a handler. Linux gives a process-directed signal to the
 * main thread first whenever that thread does not block it, so it never
 * reaches libmilter's sigwait(); smfi_main() therefore runs on a thread of
 * its own and the main thread only waits for SIGHUP and for the end.
 */
#include "mailfruit-config.h"

#include "milter-config.h"
#include "milter-current.h"
#include "milter-filter.h"
#include "milter-listen.h"
#include "mf-daemon.h"
#include "mf-log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
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

/* The main thread's wake-ups: 'H' from the SIGHUP handler, 'X' when
 * smfi_main() has returned. Written once at startup, then only read. */
static int wake_fds[2] = { -1, -1 };

static void on_sighup(int sig)
{
	int saved = errno;
	char b = 'H';

	(void)sig;
	/* A full pipe means a reload is pending anyway. */
	if (write(wake_fds[1], &b, 1) < 0) {
	}
	errno = saved;
}

struct libmilter_run {
	int result;		/* smfi_main()'s */
};

static void *run_libmilter(void *arg)
{
	struct libmilter_run *run = arg;
	char b = 'X';

	run->result = smfi_main();
	while (write(wake_fds[1], &b, 1) < 0 && errno == EINTR) {
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

static int serve(const char *path, const char *listen, struct milter_config *conf)
{
	struct libmilter_run run = { MI_FAILURE };
	struct sigaction sa;
	sigset_t set;
	pthread_t tid;
	int rc;
	char b;

	if (milter_filter_register() < 0) {
		mf_log_error("libmilter refused the filter description");
		rc = EX_SOFTWARE;
	} else if ((rc = milter_listen_open(conf)) == 0 &&
		   (rc = mf_daemon_drop_privileges("milter_user", conf->user, "run")) == 0 &&
		   pipe2(wake_fds, O_CLOEXEC) < 0) {
		mf_log_error("pipe: %m");
		rc = EX_OSERR;
	}
	if (rc != 0) {
		milter_config_free(conf);
		return rc;
	}
	milter_current_set(conf);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	/* Every thread created from here on starts with these blocked. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rc = pthread_create(&tid, NULL, run_libmilter, &run)) != 0) {
		errno = rc;
		mf_log_fatal(EX_OSERR, "cannot start a thread: %m");
	}
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	mf_log_info("started: mode=%s, listening on %s, config %s",
		    mf_tlspolicy_mode_name(mf_tlspolicy_mode(conf->policy)), conf->listen, path);

	for (;;) {
		ssize_t n = read(wake_fds[0], &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b == 'X')
			break;
		reload(path, listen);
	}
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_join(tid, NULL);
	milter_current_set(NULL);
	if (run.result != MI_SUCCESS) {
		mf_log_error("libmilter stopped with an error (see the syslog for its reason)");
		return EX_SOFTWARE;
	}
	mf_log_info("stopped");
	return 0;
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
	return serve(path, listen, conf);
}
