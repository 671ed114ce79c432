/*
 * mailfruit.c - the mailfruit admin CLI: command table, common options,
 * help, dispatch. The subcommands live in cli-*.c (contract in cli.h).
 */
#include "mailfruit-config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "mf-secmem.h"

struct command {
	const char *noun, *verb;
	cli_fn *fn;
	const char *args;
	const char *help;
};

static const struct command commands[] = {
	{ "init", NULL, cmd_init,
	  "[--home-template T] [--mail-uid U] [--mail-gid G] [--group GROUP]",
	  "Create the database (or bring an existing one to the current schema).\n"
	  "The database (mode 0600) holds password hashes and key wraps; Postfix\n"
	  "reads the maps database next to it (users-maps.db), which the CLI keeps\n"
	  "in step with every change. Also moves an older install's database to\n"
	  "mode 0600.\n"
	  "  --group GROUP      make the maps database readable by GROUP (postfix,\n"
	  "                     for the sqlite: maps): mode 0640; setting maps_group\n"
	  "  --home-template T  home of new mailboxes; %d domain, %n local part,\n"
	  "                     %u address (default /var/vmail/%d/%n)\n"
	  "  --mail-uid U, --mail-gid G  uid/gid Dovecot gives mail processes\n"
	  "                     (default: Dovecot's mail_uid/mail_gid)" },
	{ "migrate", NULL, cmd_migrate, "",
	  "Apply the schema migrations to an existing database." },
	{ "config", "list", cmd_config, "", "Show the settings stored in the database." },
	{ "config", "get", cmd_config, "NAME", "Show one setting." },
	{ "config", "set", cmd_config, "NAME VALUE",
	  "Change a setting: home_template, mail_uid, mail_gid, argon2_opslimit,\n"
	  "argon2_memlimit (bytes, or with K/M/G), trees_version (1 or 2),\n"
	  "encrypt_new_mailboxes (yes or no: the default of \"user add\"),\n"
	  "maps_group (the group that reads the Postfix maps database)." },
	{ "config", "unset", cmd_config, "NAME", "Remove mail_uid or mail_gid." },
	{ "config", "calibrate", cmd_config, "[--target-ms N]",
	  "Measure argon2id on this machine and set argon2_opslimit so that one\n"
	  "key unlock takes about N ms (default 200) at argon2_memlimit." },
	{ "domain", "add", cmd_domain_add, "DOMAIN", "Add a mail domain." },
	{ "domain", "del", cmd_domain_del, "DOMAIN",
	  "Delete a domain without mailboxes, with its aliases and send-as rights." },
	{ "domain", "list", cmd_domain_list, "[--json]", "List the domains." },
	{ "user", "add", cmd_user_add,
	  "ADDRESS [--encryption|--no-encryption] [--quota SIZE] [--no-recovery-code]\n"
	  "        [--password-fd N] [--trees-version V] [--opslimit N] [--memlimit SIZE]\n"
	  "        [--existing-home=reuse|purge]",
	  "Create a mailbox. The password is asked twice on the terminal (or read\n"
	  "from file descriptor N). Unless the mailbox is made without encryption\n"
	  "(--no-encryption, or the setting encrypt_new_mailboxes = no without\n"
	  "--encryption), a TREES key pair is created and its secret key wrapped\n"
	  "under the password with argon2id (cost from the settings or\n"
	  "--opslimit/--memlimit), and a recovery code is printed once (not with\n"
	  "--no-recovery-code): it resets the password with \"user passwd\", it\n"
	  "does not log in.\n"
	  "A home that exists already (\"user del\" keeps the mail of a deleted\n"
	  "mailbox) is refused unless --existing-home says what to do with it:\n"
	  "  --existing-home=reuse  the new mailbox gets the files in it\n"
	  "  --existing-home=purge  remove it first (as \"user del --purge-mail\")" },
	{ "user", "del", cmd_user_del, "ADDRESS [--yes] [--purge-mail]",
	  "Delete a mailbox (asks for confirmation unless --yes). Its mail stays\n"
	  "on disk unless --purge-mail (which follows no symbolic link). Aliases\n"
	  "pointing to it and other mailboxes' rights to send as it are removed;\n"
	  "an alias of the same address stays (a warning says so)." },
	{ "user", "list", cmd_user_list, "[--domain DOMAIN] [--json]", "List mailboxes." },
	{ "user", "show", cmd_user_show, "ADDRESS [--json]",
	  "Show a mailbox, its credentials (not the secrets), aliases and send-as rights." },
	{ "user", "passwd", cmd_user_passwd,
	  "ADDRESS [--password-fd N] [--old-password-fd N] [--discard-mail-key] [--yes]",
	  "Set a new login password. For an encrypted mailbox the same secret key is\n"
	  "re-wrapped, so existing mail stays readable: give the current password,\n"
	  "an app password or the recovery code. Without any of them only\n"
	  "--discard-mail-key works: a new key pair replaces the old one and ALL\n"
	  "EXISTING MAIL BECOMES UNREADABLE." },
	{ "user", "disable", cmd_user_disable, "ADDRESS",
	  "Refuse logins (mail is still accepted and delivered)." },
	{ "user", "enable", cmd_user_enable, "ADDRESS", "Allow logins again." },
	{ "user", "quota", cmd_user_quota, "ADDRESS SIZE",
	  "Set the quota (e.g. 500M, 2G; 0 or none = no limit)." },
	{ "alias", "add", cmd_alias_add, "ADDRESS|@DOMAIN DESTINATION...",
	  "Deliver mail for ADDRESS (or, with @DOMAIN, for every address of the\n"
	  "domain that is neither a mailbox nor an alias: a catch-all) to the\n"
	  "destinations." },
	{ "alias", "del", cmd_alias_del, "ADDRESS|@DOMAIN [DESTINATION...]",
	  "Remove destinations (all when none are given)." },
	{ "alias", "list", cmd_alias_list, "[--domain DOMAIN] [--json]", "List aliases." },
	{ "sendas", "allow", cmd_sendas_allow, "LOGIN ADDRESS|@DOMAIN",
	  "Let the mailbox LOGIN send mail as ADDRESS (or any address of DOMAIN)." },
	{ "sendas", "deny", cmd_sendas_deny, "LOGIN ADDRESS|@DOMAIN", "Remove that right." },
	{ "sendas", "list", cmd_sendas_list, "[LOGIN] [--json]", "List send-as rights." },
	{ "app-password", "add", cmd_app_add, "ADDRESS [--name NAME] [--password-fd N]",
	  "Create an app password (printed once). For an encrypted mailbox it is\n"
	  "another wrapped copy of the secret key: give the user's password." },
	{ "app-password", "list", cmd_app_list, "ADDRESS [--json]", "List app passwords." },
	{ "app-password", "revoke", cmd_app_revoke, "ADDRESS NAME", "Delete an app password." },
	{ "recovery", "new", cmd_recovery_new, "ADDRESS [--password-fd N]",
	  "Create a new recovery code (printed once), replacing the old one." },
	{ "recovery", "show-status", cmd_recovery_status, "ADDRESS [--json]",
	  "Whether the mailbox has a recovery code, and since when." },
	{ "maps", "sync", cmd_maps_sync, "",
	  "Copy domains, mailbox addresses, aliases and send-as rights into the\n"
	  "Postfix maps database (users-maps.db) and mark it current. Every change\n"
	  "does this by itself; after a crash the maps refuse lookups (Postfix\n"
	  "defers) until the next mailfruit command or this one. Idempotent." },
	{ "import", "riseup", cmd_import, "--from DB [--dry-run] [--skip-invalid]",
	  "Import a riseup TREES SQLite database: virtual_users (email, password),\n"
	  "[virtual_]storage_keys (the TREES key wrapped under the login password,\n"
	  "argon2i or argon2id by pwhash_algo), virtual_aliases." },
	{ "import", "mailfruit", cmd_import,
	  "--from DB [--pwhash-algo argon2i|argon2id] [--dry-run] [--skip-invalid]",
	  "Import an original mailfruit database (mailboxes, storage_keys). Its\n"
	  "older versions do not record the argon2 algorithm of the key wraps:\n"
	  "then --pwhash-algo must say it (argon2i for libsodium < 1.0.15)." },
	{ "import", "passwd-file", cmd_import, "--from FILE [--dry-run] [--skip-invalid]",
	  "Import Dovecot passwd-file lines user@domain:{SCHEME}hash[:...] as\n"
	  "mailboxes without encryption. Schemes: ARGON2ID, ARGON2I, BLF-CRYPT,\n"
	  "SHA512-CRYPT, SHA256-CRYPT (also bare $argon2..., $2y$, $6$, $5$)." },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *current_cmd;

static void print_usage_line(FILE *f, const struct command *c)
{
	fprintf(f, "  mailfruit %s%s%s%s%s\n", c->noun, c->verb ? " " : "", c->verb ? c->verb : "",
		c->args[0] ? " " : "", c->args);
}

static int usage_all(FILE *f, int code)
{
	size_t i;

	fprintf(f, "usage: mailfruit [--db PATH] [--json] [--busy-timeout MS] COMMAND ...\n\n"
		   "Manage mailfruit's user database (default %s, or $MAILFRUIT_DB).\n"
		   "Passwords are read from the terminal or --password-fd, never from\n"
		   "arguments or the environment. 'mailfruit COMMAND --help' explains one.\n\n",
		UDB_DEFAULT_PATH);
	for (i = 0; i < N_COMMANDS; i++)
		print_usage_line(f, &commands[i]);
	return code;
}

int cli_usage(const char *cmd, bool error)
{
	FILE *f = error ? stderr : stdout;
	size_t i, cmdlen = strlen(cmd);
	bool any = false;

	for (i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		char name[64];

		snprintf(name, sizeof(name), "%s%s%s", c->noun, c->verb ? " " : "",
			 c->verb ? c->verb : "");
		if (strcmp(name, cmd) != 0 &&
		    !(strncmp(name, cmd, cmdlen) == 0 && name[cmdlen] == ' '))
			continue;
		if (!any)
			fprintf(f, "usage:\n");
		print_usage_line(f, c);
		if (strcmp(name, cmd) == 0)
			fprintf(f, "\n%s\n", c->help);
		any = true;
	}
	if (!any)
		return usage_all(f, error ? EX_USAGE : 0);
	if (strchr(cmd, ' ') != NULL || !any)
		fprintf(f, "\nCommon options: --db PATH, --json (list/show), --help.\n");
	return error ? EX_USAGE : 0;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const struct option *opts)
{
	static struct option all[40];
	size_t n = 0;
	int c;

	while (opts != NULL && opts[n].name != NULL && n < 36) {
		all[n] = opts[n];
		n++;
	}
	all[n++] = (struct option){ "db", required_argument, NULL, 0x100 };
	all[n++] = (struct option){ "json", no_argument, NULL, 0x101 };
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ NULL, 0, NULL, 0 };
	for (;;) {
		c = getopt_long(argc, argv, ":h", all, NULL);
		if (c == 0x100)
			cli->db_path = optarg;
		else if (c == 0x101)
			cli->json = true;
		else if (c == '?' || c == ':') {
			fprintf(stderr, "mailfruit %s: %s option %s\n", current_cmd,
				c == '?' ? "unknown" : "missing the value of", argv[optind - 1]);
			cli_usage(current_cmd, true);
			return '?';
		} else
			return c;
	}
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len) == 0 && argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = { .busy_ms = 10000 };
	const char *env = getenv("MAILFRUIT_DB"), *v;
	char name[64];
	int i, ret;
	size_t c;

	cli.db_path = env != NULL && env[0] != '\0' ? env : UDB_DEFAULT_PATH;
	if (mf_secmem_init() < 0)
		return cli_fail(EX_SOFTWARE, "libsodium cannot initialize");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((v = opt_value(argc, argv, &i, "--db")) != NULL)
			cli.db_path = v;
		else if ((v = opt_value(argc, argv, &i, "--busy-timeout")) != NULL) {
			unsigned long long ms;

			if (cli_parse_uint(v, 0, 3600000, &ms) < 0)
				return cli_fail(EX_USAGE, "--busy-timeout takes milliseconds");
			cli.busy_ms = (int)ms;
		} else if (strcmp(argv[i], "--json") == 0)
			cli.json = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage_all(stdout, 0);
		else if (strcmp(argv[i], "--version") == 0) {
			printf("mailfruit %s (user database schema %d)\n", PACKAGE_VERSION,
			       UDB_SCHEMA_VERSION);
			return 0;
		} else
			return cli_fail(EX_USAGE, "unknown option %s (see mailfruit --help)",
					argv[i]);
	}
	if (i == argc)
		return usage_all(stderr, EX_USAGE);
	if (strcmp(argv[i], "help") == 0)
		return i + 1 < argc ? cli_usage(argv[i + 1], false) : usage_all(stdout, 0);
	for (c = 0; c < N_COMMANDS; c++) {
		const struct command *cmd = &commands[c];

		if (strcmp(cmd->noun, argv[i]) != 0)
			continue;
		if (cmd->verb != NULL && (i + 1 >= argc || strcmp(cmd->verb, argv[i + 1]) != 0))
			continue;
		snprintf(name, sizeof(name), "%s%s%s", cmd->noun, cmd->verb ? " " : "",
			 cmd->verb ? cmd->verb : "");
		current_cmd = name;
		/* argv[0] of the subcommand names it; options follow. */
		i += cmd->verb != NULL;
		argv[i] = name;
		optind = 0;
		opterr = 0;
		ret = cmd->fn(&cli, argc - i, argv + i);
		if (cli.db != NULL) {
			/* The maps follow every change, also of a failed command. */
			int maps_ret = cli_maps_finish(&cli);

			ret = ret != 0 ? ret : maps_ret;
		}
		cli_close(&cli);
		return ret;
	}
	for (c = 0; c < N_COMMANDS; c++) {
		bool help;

		if (strcmp(commands[c].noun, argv[i]) != 0)
			continue;
		/* "mailfruit user --help" lists the verbs; a missing or unknown
		 * verb is a usage error. */
		help = i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 ||
					strcmp(argv[i + 1], "-h") == 0);
		if (i + 1 < argc && !help)
			fprintf(stderr, "mailfruit: unknown command '%s %.40s'\n", argv[i],
				argv[i + 1]);
		return cli_usage(argv[i], !help);
	}
	return cli_fail(EX_USAGE, "unknown command '%.40s' (see mailfruit --help)", argv[i]);
}
