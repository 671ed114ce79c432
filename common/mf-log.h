/*
 * mf-log.h - Postfix-style logging: "progname[pid]: warning: text".
 *
 * Contract: call mf_log_init() (and mf_log_set_sink(), if at all) once at
 * startup before starting threads; after that every function here is
 * thread-safe, uses no static buffers and preserves errno, so "%m" works.
 * Before mf_log_init() lines go to stderr as "mailfruit: ...". Control
 * characters in the formatted text become '?' so that untrusted text cannot
 * forge log lines, and text longer than MF_LOG_TEXT_MAX bytes is cut and
 * ends in "...". On stderr each line is a single write(2), so lines from
 * concurrent processes and threads do not interleave.
 */
#ifndef MF_LOG_H
#define MF_LOG_H

/* Longest message text, not counting the "progname: warning: " prefix. */
#define MF_LOG_TEXT_MAX 2048
/* Longer program names are cut. */
#define MF_LOG_PROGNAME_MAX 64

enum mf_log_dest {
	MF_LOG_SYSLOG,	/* syslog(3); the prefix "progname[pid]" is syslog's */
	MF_LOG_STDERR	/* "progname: warning: text\n" on fd 2 (foreground) */
};

/* progname such as "mailfruit/policyd"; facility such as LOG_MAIL (only
 * used with MF_LOG_SYSLOG). May be called again to switch destination. */
void mf_log_init(const char *progname, enum mf_log_dest dest, int syslog_facility);

/* While a sink is set, lines go to sink() instead of the destination: the
 * syslog priority (LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_DEBUG) and
 * the line as it would appear on stderr, without the newline. NULL restores
 * the destination. For tests and for hosts with their own logging. */
void mf_log_set_sink(void (*sink)(int priority, const char *line, void *ctx), void *ctx);

/* Debug messages are logged only while the verbosity is above 0. */
void mf_log_set_verbose(int level);
int mf_log_verbose(void);

void mf_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mf_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mf_log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mf_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs at LOG_CRIT, then exit(exit_code), e.g. EX_CONFIG from sysexits.h. */
void mf_log_fatal(int exit_code, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

#endif
