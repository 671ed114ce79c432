/*
 * cli-domain.c - mailfruit init, migrate, config and domain subcommands.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sysexits.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "udb-sql.h"

/* uid/gid settings end up in Dovecot's userdb reply: a number or a
 * user/group name, nothing Dovecot would expand. */
static bool id_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

	return n > 0 && n <= UDB_ID_MAX && s[n] == '\0' && s[0] != '-';
}

/* Checks a setting's value; returns the value to store in canon. */
static int check_setting(const char *name, const char *value, char canon[UDB_HOME_MAX + 1])
{
	unsigned long long v;
	char err[UDB_HOME_MAX + 64], home[UDB_HOME_MAX + 1];

	if (strcmp(name, "home_template") == 0) {
		if (udb_home_expand(value, "local", "example.org", home, err, sizeof(err)) < 0)
			return cli_fail(EX_DATAERR, "%s", err);
		snprintf(canon, UDB_HOME_MAX + 1, "%s", value);
	} else if (strcmp(name, "mail_uid") == 0 || strcmp(name, "mail_gid") == 0) {
		if (!id_ok(value))
			return cli_fail(EX_DATAERR, "%s must be a number or a user/group name",
					name);
		snprintf(canon, UDB_HOME_MAX + 1, "%s", value);
	} else if (strcmp(name, "argon2_opslimit") == 0) {
		if (cli_parse_uint(value, crypto_pwhash_argon2id_OPSLIMIT_MIN, 1000000, &v) < 0)
			return cli_fail(EX_DATAERR, "argon2_opslimit must be a number from %d",
					crypto_pwhash_argon2id_OPSLIMIT_MIN);
		snprintf(canon, UDB_HOME_MAX + 1, "%llu", v);
	} else if (strcmp(name, "argon2_memlimit") == 0) {
		if (cli_parse_size(value, &v) < 0 || v < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
		    v > (1ULL << 40))
			return cli_fail(EX_DATAERR, "argon2_memlimit must be a size from 8K");
		snprintf(canon, UDB_HOME_MAX + 1, "%llu", v);
	} else if (strcmp(name, "trees_version") == 0) {
		if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
			return cli_fail(EX_DATAERR, "trees_version must be 1 or 2");
		snprintf(canon, UDB_HOME_MAX + 1, "%s", value);
	} else if (strcmp(name, "maps_group") == 0) {
		if (!id_ok(value) || getgrnam(value) == NULL)
			return cli_fail(EX_NOUSER, "maps_group: no group %s", value);
		snprintf(canon, UDB_HOME_MAX + 1, "%s", value);
	} else if (strcmp(name, "encrypt_new_mailboxes") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return cli_fail(EX_DATAERR, "encrypt_new_mailboxes must be yes or no");
		snprintf(canon, UDB_HOME_MAX + 1, "%s", value);
	} else {
		return cli_fail(EX_USAGE, "unknown setting '%.40s' (home_template, mail_uid, "
				"mail_gid, argon2_opslimit, argon2_memlimit, trees_version, "
				"encrypt_new_mailboxes, maps_group)", name);
	}
	return 0;
}

static int set_settings(struct cli *cli, const char *const *pairs, size_t n)
{
	char canon[UDB_HOME_MAX + 1];
	enum udb_rc rc;
	size_t i;
	int ret;

	for (i = 0; i < n; i += 2) {
		if (pairs[i + 1] == NULL)
			continue;
		if ((ret = check_setting(pairs[i], pairs[i + 1], canon)) != 0)
			return ret;
	}
	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	for (i = 0; i < n && rc == UDB_OK; i += 2) {
		if (pairs[i + 1] != NULL && check_setting(pairs[i], pairs[i + 1], canon) == 0)
			rc = udb_setting_set(cli->db, pairs[i], canon, cli->err, sizeof(cli->err));
	}
	if (rc == UDB_OK)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	return cli_db_fail(cli, rc);
}

/* The group of the Postfix maps: --group, else the setting, else (an
 * install from before the maps database) the group that could read
 * users.db itself. "" for none. */
static int maps_group(struct cli *cli, const char *given, char out[64])
{
	struct stat st;
	struct group *gr;
	enum udb_rc rc;

	if (given != NULL) {
		if (getgrnam(given) == NULL)
			return cli_fail(EX_NOUSER, "no group %s", given);
		snprintf(out, 64, "%s", given);
		return 0;
	}
	rc = udb_setting_get(cli->db, "maps_group", "", out, 64, cli->err, sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (out[0] == '\0' && stat(cli->db_path, &st) == 0 && (st.st_mode & 0040) != 0 &&
	    st.st_gid != getegid() && (gr = getgrgid(st.st_gid)) != NULL)
		snprintf(out, 64, "%s", gr->gr_name);
	return 0;
}

static int init_or_migrate(struct cli *cli, int argc, char **argv, bool create)
{
	static const struct option opts[] = {
		{ "home-template", required_argument, NULL, 't' },
		{ "mail-uid", required_argument, NULL, 'u' },
		{ "mail-gid", required_argument, NULL, 'g' },
		{ "group", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const char *set[8] = { "home_template", NULL, "mail_uid", NULL, "mail_gid", NULL,
			       "maps_group", NULL };
	const char *group = NULL;
	char group_name[64];
	int c, from, version, ret;
	enum udb_rc rc;

	while ((c = cli_getopt(cli, argc, argv, create ? opts : NULL)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c == 't')
			set[1] = optarg;
		else if (c == 'u')
			set[3] = optarg;
		else if (c == 'g')
			set[5] = optarg;
		else if (c == 'G')
			group = optarg;
		else
			return EX_USAGE;
	}
	if (optind != argc)
		return cli_usage(argv[0], true);
	rc = udb_open_rw(cli->db_path, create, true, cli->busy_ms, &cli->db, cli->err,
			 sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	udb_lookup_init(&cli->lk, cli->db);
	if ((rc = udb_migrate(cli->db, &from, cli->err, sizeof(cli->err))) != UDB_OK ||
	    (rc = udb_schema_version(cli->db, &version, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	if ((ret = maps_group(cli, group, group_name)) != 0)
		return ret;
	if (group_name[0] != '\0')
		set[7] = group_name;
	/* users.db private (it was group-readable before the maps database),
	 * then the maps made or brought up to date, with their group. */
	if ((ret = set_settings(cli, set, 8)) != 0 || (ret = cli_userdb_private(cli->db_path)) != 0 ||
	    (ret = cli_maps_attach(cli)) != 0 || (ret = cli_maps_permissions(cli)) != 0)
		return ret;
	if (from == 0)
		printf("created %s (schema version %d)\n", cli->db_path, version);
	else if (from < version)
		printf("migrated %s from schema version %d to %d\n", cli->db_path, from, version);
	else
		printf("%s is up to date (schema version %d)\n", cli->db_path, version);
	return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	return init_or_migrate(cli, argc, argv, true);
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	return init_or_migrate(cli, argc, argv, false);
}

static const char *const setting_names[] = {
	"home_template", "mail_uid", "mail_gid", "argon2_opslimit", "argon2_memlimit",
	"trees_version", "encrypt_new_mailboxes", "maps_group",
};

/* Settings that mean something when absent from the database (added after
 * the first schema, so not inserted by it): shown with that meaning. */
static const char *setting_default(const char *name)
{
	return strcmp(name, "encrypt_new_mailboxes") == 0 ? "yes" : NULL;
}

/* Times argon2id at the configured memlimit and picks the opslimit that
 * takes about target_ms (at least the libsodium minimum). */
static int calibrate(struct cli *cli, unsigned long long target_ms)
{
	struct cli_kdf kdf;
	unsigned char key[32], salt[16] = { 0 };
	struct timespec a, b;
	unsigned long long ops = 1;
	double ms = 0;
	char value[32];
	const char *pairs[2] = { "argon2_opslimit", value };
	int ret;

	if ((ret = cli_kdf_settings(cli, &kdf)) != 0)
		return ret;
	for (ops = 1; ops <= 64; ops *= 2) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (crypto_pwhash(key, sizeof(key), "calibrate", 9, salt, ops, kdf.memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
			return cli_fail(EX_OSERR, "argon2id with %zu bytes failed (out of memory?)",
					kdf.memlimit);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms * 2 > (double)target_ms)
			break;
	}
	/* Cost grows linearly with opslimit. */
	ops = (unsigned long long)((double)ops * (double)target_ms / (ms > 0.1 ? ms : 0.1) + 0.5);
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN)
		ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
	snprintf(value, sizeof(value), "%llu", ops);
	if ((ret = set_settings(cli, pairs, 2)) != 0)
		return ret;
	printf("argon2_opslimit = %llu (memlimit %zu bytes: about %llu ms per unlock here)\n",
	       ops, kdf.memlimit, target_ms);
	return 0;
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb = strchr(argv[0], ' ') + 1;
	unsigned long long target = 200;
	char value[UDB_HOME_MAX + 1];
	enum udb_rc rc;
	size_t i;
	int c, ret, nargs;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c == 't' && cli_parse_uint(optarg, 10, 100000, &target) < 0)
			return cli_fail(EX_USAGE, "--target-ms takes milliseconds (10..100000)");
		if (c != 't')
			return EX_USAGE;
	}
	nargs = argc - optind;
	if (nargs != (strcmp(verb, "set") == 0 ? 2 :
		      strcmp(verb, "get") == 0 || strcmp(verb, "unset") == 0 ? 1 : 0))
		return cli_usage(argv[0], true);
	if ((ret = cli_open(cli)) != 0)
		return ret;
	if (strcmp(verb, "calibrate") == 0)
		return calibrate(cli, target);
	if (strcmp(verb, "set") == 0) {
		ret = set_settings(cli, (const char *const *)argv + optind, 2);
		if (ret == 0 && strcmp(argv[optind], "maps_group") == 0)
			ret = cli_maps_permissions(cli);
		return ret;
	}
	if (strcmp(verb, "unset") == 0) {
		if (strcmp(argv[optind], "mail_uid") != 0 && strcmp(argv[optind], "mail_gid") != 0)
			return cli_fail(EX_USAGE, "only mail_uid and mail_gid can be unset");
		rc = udb_setting_set(cli->db, argv[optind], NULL, cli->err, sizeof(cli->err));
		return cli_db_fail(cli, rc);
	}
	if (cli->json)
		printf("{");
	for (i = 0; i < sizeof(setting_names) / sizeof(setting_names[0]); i++) {
		if (strcmp(verb, "get") == 0 && strcmp(argv[optind], setting_names[i]) != 0)
			continue;
		rc = udb_setting_get(cli->db, setting_names[i], setting_default(setting_names[i]),
				     value, sizeof(value), cli->err, sizeof(cli->err));
		if (rc != UDB_OK && rc != UDB_NOTFOUND)
			return cli_db_fail(cli, rc);
		if (cli->json) {
			printf("%s", i > 0 && strcmp(verb, "list") == 0 ? ", " : "");
			json_str(stdout, setting_names[i]);
			printf(": ");
			if (rc == UDB_NOTFOUND)
				printf("null");
			else
				json_str(stdout, value);
		} else if (strcmp(verb, "get") == 0) {
			printf("%s\n", rc == UDB_NOTFOUND ? "" : value);
		} else {
			printf("%s = %s\n", setting_names[i], rc == UDB_NOTFOUND ? "" : value);
		}
		if (strcmp(verb, "get") == 0)
			break;
	}
	if (strcmp(verb, "get") == 0 && i == sizeof(setting_names) / sizeof(setting_names[0]))
		return cli_fail(EX_USAGE, "unknown setting '%.40s'", argv[optind]);
	if (cli->json)
		printf("}\n");
	return 0;
}

int cmd_domain_add(struct cli *cli, int argc, char **argv)
{
	char domain[UDB_DOMAIN_MAX + 1];
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if (udb_domain_normalize(argv[optind], domain, cli->err, sizeof(cli->err)) < 0)
		return cli_fail(EX_DATAERR, "%s", cli->err);
	if ((ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     "INSERT INTO domains (name, created) VALUES (?1, ?2)", "ti", domain,
		     (long long)time(NULL));
	if (rc == UDB_EEXIST)
		return cli_fail(EX_DATAERR, "domain %s exists already", domain);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("added domain %s\n", domain);
	return 0;
}

int cmd_domain_del(struct cli *cli, int argc, char **argv)
{
	char domain[UDB_DOMAIN_MAX + 1], at[UDB_DOMAIN_MAX + 2];
	long long id, mailboxes = 0, aliases = 0, sendas = 0;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if (udb_domain_normalize(argv[optind], domain, cli->err, sizeof(cli->err)) < 0)
		return cli_fail(EX_DATAERR, "%s", cli->err);
	snprintf(at, sizeof(at), "@%s", domain);
	if ((ret = cli_open(cli)) != 0)
		return ret;
	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	rc = udb_query_int(cli->db, -1, &id, cli->err, sizeof(cli->err),
			   "SELECT id FROM domains WHERE name = ?1", "t", domain);
	if (rc == UDB_OK && id < 0) {
		udb_rollback(cli->db);
		return cli_fail(EX_NOUSER, "no domain %s", domain);
	}
	if (rc == UDB_OK)
		rc = udb_query_int(cli->db, 0, &mailboxes, cli->err, sizeof(cli->err),
				   "SELECT count(*) FROM mailboxes WHERE domain_id = ?1", "i", id);
	if (rc == UDB_OK && mailboxes > 0) {
		udb_rollback(cli->db);
		return cli_fail(EX_DATAERR, "domain %s still has %lld mailbox(es): delete them "
				"first", domain, mailboxes);
	}
	/* Send-as rights for addresses of the domain go with it; aliases by
	 * the foreign key's ON DELETE CASCADE. */
	if (rc == UDB_OK)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &sendas,
			     "DELETE FROM sendas WHERE substr(address, -length(?1)) = ?1", "t",
			     at);
	if (rc == UDB_OK)
		rc = udb_query_int(cli->db, 0, &aliases, cli->err, sizeof(cli->err),
				   "SELECT count(*) FROM aliases WHERE domain_id = ?1", "i", id);
	if (rc == UDB_OK)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
			     "DELETE FROM domains WHERE id = ?1", "i", id);
	if (rc == UDB_OK)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("deleted domain %s (%lld alias entries, %lld send-as rights)\n", domain, aliases,
	       sendas);
	return 0;
}

int cmd_domain_list(struct cli *cli, int argc, char **argv)
{
	sqlite3_stmt *s;
	enum udb_rc rc;
	char tbuf[32];
	int c, ret, n = 0;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc != optind)
		return cli_usage(argv[0], true);
	if ((ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_query(cli->db, &s, cli->err, sizeof(cli->err),
		       "SELECT d.name, d.created,"
		       " (SELECT count(*) FROM mailboxes m WHERE m.domain_id = d.id),"
		       " (SELECT count(DISTINCT address) FROM aliases a WHERE a.domain_id = d.id)"
		       " FROM domains d ORDER BY d.name", "");
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (cli->json)
		printf("[");
	while ((rc = udb_step(cli->db, s, cli->err, sizeof(cli->err))) == UDB_OK) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		cli_time(sqlite3_column_int64(s, 1), tbuf);
		if (cli->json) {
			printf("%s{\"domain\": ", n > 0 ? ", " : "");
			json_str(stdout, name);
			printf(", \"mailboxes\": %lld, \"aliases\": %lld, \"created\": \"%s\"}",
			       sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), tbuf);
		} else {
			if (n == 0)
				printf("%-40s %9s %7s  %s\n", "DOMAIN", "MAILBOXES", "ALIASES",
				       "CREATED");
			printf("%-40s %9lld %7lld  %s\n", name, sqlite3_column_int64(s, 2),
			       sqlite3_column_int64(s, 3), tbuf);
		}
		n++;
	}
	sqlite3_finalize(s);
	if (cli->json)
		printf("]\n");
	return rc == UDB_NOTFOUND ? 0 : cli_db_fail(cli, rc);
}
