/*
 * mailfruit-policyd - Postfix policy server that refuses mail from SMTP
 * clients that did not use STARTTLS, with exemptions (tls-policy.conf(5)).
 *
 * Modes (mailfruit-policyd(8)):
 *   spawn(8) (default): one client on stdin/stdout, exits at EOF. Postfix
 *     wires stderr into the protocol too, so in this mode nothing is ever
 *     written there: fd 2 goes to the -L file or /dev/null before anything
 *     can be logged; logs go to syslog (or -L).
 *   standalone (-s): policy-server.c.
 *   check (-t): load the configuration, report, exit.
 */
#include "mailfruit-config.h"

#include "mf-log.h"
#include "policy-config.h"
#include "policy-conn.h"
#include "policy-server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define PROGNAME "mailfruit/policyd"

static const char usage_text[] =
	"usage: mailfruit-policyd [-v] [-c FILE] [-L LOGFILE]          spawn(8) mode\n"
	"       mailfruit-policyd -s [-v] [-c FILE] [-l ENDPOINT] [-e | -L LOGFILE]\n"
	"                                                                standalone\n"
	"       mailfruit-policyd -t [-v] [-c FILE]                      check FILE\n"
	"\n"
	"  -c FILE      configuration (default " MF_TLSPOLICY_CONFIG_FILE ")\n"
	"  -s           standalone: listen on policyd_listen, one process, event loop\n"
	"  -l ENDPOINT  standalone: listen here instead (unix:/path, inet:host:port)\n"
	"  -t           check the configuration and exit (0 when it is good)\n"
	"  -v           log every decision, not only refusals and warnings\n"
	"  -e           standalone: log to stderr instead of syslog\n"
	"  -L LOGFILE   append log lines to LOGFILE instead of syslog\n"
	"  -h, --help   this text\n";

/* Log lines to a file (-L): for tests and debugging on hosts without a
 * syslog daemon. Single-threaded program: no locking needed. */
static int log_file_fd = -1;

static void file_sink(int priority, const char *line, void *ctx)
{
	char buf[MF_LOG_TEXT_MAX + 256], stamp[32];
	struct tm tm;
	time_t t = time(NULL);
	const char *rest = line;
	size_t plen = strlen(PROGNAME);
	int len;

	(void)priority;
	(void)ctx;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* "mailfruit/policyd: text" -> "mailfruit/policyd[pid]: text", as
	 * syslog would write it. */
	if (strncmp(line, PROGNAME ": ", plen + 2) == 0)
		rest = line + plen + 2;
	len = snprintf(buf, sizeof(buf), "%s %s[%ld]: %s\n", stamp, PROGNAME, (long)getpid(), rest);
	if (len > (int)sizeof(buf) - 1)
		len = (int)sizeof(buf) - 1;
	if (len > 0 && write(log_file_fd, buf, (size_t)len) < 0) {
		/* Nowhere left to report it. */
	}
}

static bool log_to_file(const char *path)
{
	log_file_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (log_file_fd < 0)
		return false;
	mf_log_set_sink(file_sink, NULL);
	return true;
}

static bool set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* spawn(8): one connection on fds 0 and 1 until EOF, bad input or a
 * timeout. Exit codes: 0 at EOF, EX_PROTOCOL after bad input, EX_TEMPFAIL
 * on a timeout. */
static int serve_spawn(struct policyd_config *conf)
{
	struct policy_conn c;
	char *scratch = malloc(POLICY_SCRATCH_SIZE);
	enum policy_conn_status st = POLICY_CONN_OK;
	int rc = 0;

	if (scratch == NULL)
		mf_log_fatal(EX_OSERR, "out of memory");
	if (!set_nonblock(0) || !set_nonblock(1))
		mf_log_fatal(EX_OSERR, "cannot make stdin/stdout non-blocking: %m");
	policy_conn_init(&c, 0, 1, "spawn client", policy_now_ms());
	while (st == POLICY_CONN_OK) {
		struct pollfd pfd;
		int64_t now = policy_now_ms(), left;

		if (policy_conn_expired(&c, now, conf->idle_timeout, conf->request_timeout)) {
			rc = c.busy ? EX_TEMPFAIL : 0;
			break;
		}
		left = c.busy ? c.busy_since + (int64_t)conf->request_timeout * 1000 - now
			      : c.last_active + (int64_t)conf->idle_timeout * 1000 - now;
		pfd.fd = policy_conn_want_write(&c) ? 1 : 0;
		pfd.events = policy_conn_want_write(&c) ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, left > 0 ? (int)left : 0) < 0) {
			if (errno == EINTR)
				continue;
			mf_log_fatal(EX_OSERR, "poll: %m");
		}
		if (pfd.revents == 0)
			continue;
		now = policy_now_ms();
		if (pfd.events == POLLIN)
			st = policy_conn_read(&c, conf->policy, scratch, now);
		if (st == POLICY_CONN_OK)
			st = policy_conn_flush(&c, now);
	}
	if (st == POLICY_CONN_CLOSE)
		rc = EX_PROTOCOL;
	mf_log_debug("spawn client: %lu requests, exit %d", c.requests, rc);
	policy_conn_free(&c);
	free(scratch);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = MF_TLSPOLICY_CONFIG_FILE, *listen = NULL, *logfile = NULL;
	bool standalone = false, check = false, to_stderr = false, help = false;
	char bad_option[64] = "", err[1024];
	struct policyd_config *conf;
	int opt, verbose = 0, err_fd, rc;

	opterr = 0;	/* in spawn mode, getopt's own messages would hit the socket */
	while ((opt = getopt_long(argc, argv, "c:ehl:L:stv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'e': to_stderr = true; break;
		case 'h': help = true; break;
		case 'l': listen = optarg; break;
		case 'L': logfile = optarg; break;
		case 's': standalone = true; break;
		case 't': check = true; break;
		case 'v': verbose++; break;
		default:
			snprintf(bad_option, sizeof(bad_option), "bad option or missing argument: %s",
				 argv[optind - 1]);
		}
	}
	if (optind < argc && bad_option[0] == '\0')
		snprintf(bad_option, sizeof(bad_option), "unexpected argument: %.40s", argv[optind]);
	if (help) {
		fputs(usage_text, stdout);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	mf_log_set_verbose(verbose);

	if (!standalone && !check) {
		/* spawn(8): stderr is the client's socket. Whatever a library
		 * (or a sanitizer) might print there goes to the -L file, or
		 * nowhere. */
		mf_log_init(PROGNAME, MF_LOG_SYSLOG, LOG_MAIL);
		err_fd = -1;
		if (logfile != NULL && log_to_file(logfile))
			err_fd = dup(log_file_fd);
		else if (logfile == NULL)
			err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (err_fd < 0 || dup2(err_fd, 2) < 0) {
			/* Never leave fd 2 on the socket: no stderr at all. */
			close(2);
			mf_log_fatal(logfile != NULL ? EX_CANTCREAT : EX_OSERR,
				     "cannot open %s: %m", logfile != NULL ? logfile : "/dev/null");
		}
		if (err_fd != 2)
			close(err_fd);
		if (bad_option[0] != '\0' || to_stderr || listen != NULL)
			mf_log_fatal(EX_USAGE, "%s; see mailfruit-policyd -h",
				     bad_option[0] != '\0' ? bad_option
				     : "-e and -l are for standalone mode (-s)");
		if ((conf = policyd_config_load(config, err, sizeof(err))) == NULL)
			mf_log_fatal(EX_CONFIG, "%s", err);
		rc = serve_spawn(conf);
		policyd_config_free(conf);
		return rc;
	}

	if (bad_option[0] != '\0' || (check && standalone)) {
		fprintf(stderr, "mailfruit-policyd: %s\n%s",
			bad_option[0] != '\0' ? bad_option : "-t and -s exclude each other",
			usage_text);
		return EX_USAGE;
	}
	if (check) {
		mf_log_init(PROGNAME, MF_LOG_STDERR, LOG_MAIL);
		if ((conf = policyd_config_load(config, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mailfruit-policyd: %s\n", err);
			return EX_CONFIG;
		}
		if (verbose > 0)
			printf("%s: good, mode = %s\n", config,
			       mf_tlspolicy_mode_name(mf_tlspolicy_mode(conf->policy)));
		policyd_config_free(conf);
		return 0;
	}

	mf_log_init(PROGNAME, to_stderr ? MF_LOG_STDERR : MF_LOG_SYSLOG, LOG_MAIL);
	if (logfile != NULL && !log_to_file(logfile))
		mf_log_fatal(EX_CANTCREAT, "cannot open log file %s: %m", logfile);
	if ((conf = policyd_config_load(config, err, sizeof(err))) == NULL)
		mf_log_fatal(EX_CONFIG, "%s", err);
	return policy_server_run(config, conf, listen);
}
