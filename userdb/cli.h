/*
 * cli.h - the mailfruit admin CLI: shared state and helpers of its
 * subcommand modules (cli-*.c).
 *
 * Contract: every subcommand is a function int fn(struct cli *, argc, argv)
 * that returns a sysexits(3) code; argv[0] is "NOUN VERB". Options are
 * parsed with cli_getopt(), which also takes the common --db, --json and
 * --help anywhere. Messages go to stderr as "mailfruit: ..."; results to
 * stdout, as text or (--json) one JSON document. Secrets are read only
 * from the terminal without echo or from a file descriptor (cli-pass.c),
 * held in locked memory, and never printed except a newly generated code
 * the admin must hand over (recovery code, app password).
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <sqlite3.h>

#include "udb-db.h"
#include "udb-store.h"

struct cli {
	const char *db_path;
	bool json;
	int busy_ms;
	sqlite3 *db;
	struct udb_lookup lk;
	char err[512];
	/* The Postfix maps database (cli-maps.c) and whether this process
	 * marked it out of date by a change to db. */
	sqlite3 *maps;
	bool maps_marked;
	char maps_path[4096];
};

typedef int cli_fn(struct cli *cli, int argc, char **argv);

/* Subcommands (cli-*.c). */
cli_fn cmd_init, cmd_migrate, cmd_config;
cli_fn cmd_domain_add, cmd_domain_del, cmd_domain_list;
cli_fn cmd_user_add, cmd_user_del, cmd_user_list, cmd_user_show, cmd_user_disable,
	cmd_user_enable, cmd_user_quota;
cli_fn cmd_user_passwd, cmd_app_add, cmd_app_list, cmd_app_revoke, cmd_recovery_new,
	cmd_recovery_status;
cli_fn cmd_alias_add, cmd_alias_del, cmd_alias_list;
cli_fn cmd_sendas_allow, cmd_sendas_deny, cmd_sendas_list;
cli_fn cmd_import;
cli_fn cmd_maps_sync;

/* Long options of a subcommand (terminated by a zero entry), without the
 * common ones. Returns the option's val, -1 at the end, or '?' after
 * printing the usage for a bad option; 'h' means --help was given. */
int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *opts);
/* Prints "usage: mailfruit NOUN VERB ..." and the subcommand's help. */
int cli_usage(const char *cmd, bool error);

/* Messages: "mailfruit: " + text on stderr; return the exit code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a udb_rc, printing cli->err. */
int cli_db_fail(struct cli *cli, enum udb_rc rc);

/* Opens cli->db read-write (schema must be current); prepares cli->lk;
 * attaches the Postfix maps (cli_maps_attach). */
int cli_open(struct cli *cli);
void cli_close(struct cli *cli);

/* The Postfix maps database (cli-maps.c): a copy of domains, mailbox
 * addresses, aliases and send-as rights that group postfix may read,
 * while users.db stays private. cli_maps_attach() opens (creates) it,
 * repairs it when a crash left it marked out of date, and makes every
 * commit on cli->db mark it out of date first (its Postfix views then
 * fail: a temporary lookup failure, never a wrong answer);
 * cli_maps_finish() copies users.db into it and unmarks it, and must run
 * after every command. */
void cli_maps_path(const char *db_path, char *out, size_t outsize);
int cli_maps_attach(struct cli *cli);
int cli_maps_finish(struct cli *cli);
/* Mode 0640 and group maps_group (a setting) for the maps' files, or
 * 0600 without that setting. */
int cli_maps_permissions(struct cli *cli);
/* Mode 0600, the caller's group, for users.db and its -wal/-shm. */
int cli_userdb_private(const char *path);

/* Parses and normalizes, printing the error (exit code on failure, 0). */
int cli_address(const char *in, char *out, char *local_r, char *domain_r);
/* An existing mailbox by address (EX_NOUSER when there is none). */
int cli_mailbox(struct cli *cli, const char *in, struct udb_mailbox *mb);
/* Fails with EX_NOUSER unless the domain is in the database. */
int cli_domain_id(struct cli *cli, const char *domain, long long *id_r);

/* The list commands' arguments: an optional --domain D (normalized into
 * domain, "" for all) and no operands; then opens the database. Returns -1
 * to go on, or the exit code to end with (0 after --help, or an error's). */
int cli_list_open(struct cli *cli, int argc, char **argv, char domain[UDB_DOMAIN_MAX + 1]);

/* Homes (cli-home.c). cli_home_state() says whether something is at home
 * (lstat). cli_home_remove() walks from "/" with openat(O_NOFOLLOW): a
 * symlink anywhere in the path (the domain directory belongs to the mail
 * user) is an error, never followed; it removes the directory and
 * everything in it on its file system (0 also when it does not exist).
 * Exit code on failure. */
int cli_home_state(const char *home, bool *exists_r);
int cli_home_remove(const char *home);

/* "y" from the terminal; false without a terminal. */
bool cli_confirm(const char *question);

/* Sizes such as 0, 500M, 2G, 1048576 (binary units); "none" = 0. */
int cli_parse_size(const char *s, unsigned long long *out);
/* A decimal number in [min, max]. */
int cli_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *out);
/* A file descriptor given as --password-fd N. */
int cli_parse_fd(const char *s, int *fd_r);

/* JSON output: strings escaped; all output is ASCII or valid UTF-8 from
 * the database, which only holds validated ASCII. */
void json_str(FILE *f, const char *s);
/* ISO 8601 UTC time for the text and JSON output. */
const char *cli_time(long long t, char buf[32]);

/* Secrets (cli-pass.c): into locked memory, which the caller frees with
 * mf_secmem_free(). fd >= 0 reads one line from it; fd < 0 asks on the
 * terminal without echo (twice when confirm). An empty answer is returned
 * as "" when allow_empty, else refused. */
int cli_secret(int fd, const char *prompt, bool confirm, bool allow_empty, char **secret_r,
	       size_t *len_r);
/* A new login password: at least 8 characters. */
int cli_new_password(int fd, const char *who, char **secret_r, size_t *len_r);

/* Key wrapping parameters from the settings (or overrides). */
struct cli_kdf {
	unsigned long long opslimit;
	size_t memlimit;
};
int cli_kdf_settings(struct cli *cli, struct cli_kdf *kdf);

/* Inserts a wrap for mailbox_id (cli-keys.c). */
enum udb_rc cli_wrap_insert(struct cli *cli, long long mailbox_id, const struct udb_wrap *w);

#endif
