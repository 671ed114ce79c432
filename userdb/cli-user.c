/*
 * cli-user.c - mailfruit user add, del, list, show, disable, enable, quota.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "mf-secmem.h"
#include "udb-sql.h"

struct new_user {
	char address[UDB_ADDRESS_MAX + 1], local[UDB_LOCAL_MAX + 1], domain[UDB_DOMAIN_MAX + 1];
	char home[UDB_HOME_MAX + 1];
	long long domain_id;
	unsigned long long quota;
	bool encrypt, encrypt_given, recovery;
	int password_fd;
	unsigned int trees_version;
	struct cli_kdf kdf;
	bool kdf_ops_given, kdf_mem_given;
	enum { HOME_REFUSE, HOME_REUSE, HOME_PURGE } existing_home;
	bool home_exists;
};

static int user_add_options(struct cli *cli, int argc, char **argv, struct new_user *nu)
{
	static const struct option opts[] = {
		{ "encryption", no_argument, NULL, 'e' },
		{ "no-encryption", no_argument, NULL, 'E' },
		{ "no-recovery-code", no_argument, NULL, 'R' },
		{ "quota", required_argument, NULL, 'q' },
		{ "password-fd", required_argument, NULL, 'p' },
		{ "trees-version", required_argument, NULL, 'v' },
		{ "opslimit", required_argument, NULL, 'o' },
		{ "memlimit", required_argument, NULL, 'm' },
		{ "existing-home", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(argv[0], false);
			return -1;
		case 'e':
		case 'E':
			if (nu->encrypt_given && nu->encrypt != (c == 'e'))
				return cli_fail(EX_USAGE,
						"--encryption and --no-encryption exclude each other");
			nu->encrypt = c == 'e';
			nu->encrypt_given = true;
			break;
		case 'R': nu->recovery = false; break;
		case 'q':
			if (cli_parse_size(optarg, &nu->quota) < 0)
				return cli_fail(EX_USAGE, "--quota takes a size such as 500M or 2G");
			break;
		case 'p':
			if (cli_parse_fd(optarg, &nu->password_fd) != 0)
				return EX_USAGE;
			break;
		case 'v':
			if (cli_parse_uint(optarg, 1, 2, &v) < 0)
				return cli_fail(EX_USAGE, "--trees-version is 1 or 2");
			nu->trees_version = (unsigned int)v;
			break;
		case 'o':
			if (cli_parse_uint(optarg, crypto_pwhash_argon2id_OPSLIMIT_MIN, 1000000,
					   &v) < 0)
				return cli_fail(EX_USAGE, "--opslimit is a number from %d",
						crypto_pwhash_argon2id_OPSLIMIT_MIN);
			nu->kdf.opslimit = v;
			nu->kdf_ops_given = true;
			break;
		case 'm':
			if (cli_parse_size(optarg, &v) < 0 ||
			    v < crypto_pwhash_argon2id_MEMLIMIT_MIN || v > (1ULL << 40))
				return cli_fail(EX_USAGE, "--memlimit is a size from 8K");
			nu->kdf.memlimit = (size_t)v;
			nu->kdf_mem_given = true;
			break;
		case 'H':
			if (strcmp(optarg, "reuse") == 0)
				nu->existing_home = HOME_REUSE;
			else if (strcmp(optarg, "purge") == 0)
				nu->existing_home = HOME_PURGE;
			else
				return cli_fail(EX_USAGE, "--existing-home is reuse or purge");
			break;
		default:
			return EX_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	return 0;
}

/* A home may be removed unless another mailbox's home is in it or around
 * it, or it is too close to the root. */
static int home_purge_check(struct cli *cli, const char *home)
{
	long long others;
	const char *p;
	int depth = 0;
	enum udb_rc rc;

	for (p = home; *p != '\0'; p++)
		depth += *p == '/' && p[1] != '/' && p[1] != '\0';
	rc = udb_query_int(cli->db, 0, &others, cli->err, sizeof(cli->err),
			   "SELECT count(*) FROM mailboxes WHERE home = ?1"
			   " OR substr(home, 1, length(?1) + 1) = ?1 || '/'"
			   " OR substr(?1, 1, length(home) + 1) = home || '/'", "t", home);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (others > 0 || depth < 2)
		return cli_fail(EX_DATAERR, "not removing %s: %s", home,
				others > 0 ? "another mailbox's home is in it" :
					     "too close to the root");
	return 0;
}

/* Everything that can be refused is checked before asking for a password. */
static int user_add_prepare(struct cli *cli, struct new_user *nu)
{
	char tmpl[UDB_HOME_MAX + 1], value[16];
	struct cli_kdf kdf;
	long long exists;
	bool home_exists;
	enum udb_rc rc;
	int ret;

	if ((ret = cli_domain_id(cli, nu->domain, &nu->domain_id)) != 0)
		return ret;
	rc = udb_query_int(cli->db, 0, &exists, cli->err, sizeof(cli->err),
			   "SELECT count(*) FROM mailboxes WHERE address = ?1", "t", nu->address);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (exists)
		return cli_fail(EX_DATAERR, "mailbox %s exists already", nu->address);
	rc = udb_setting_get(cli->db, "home_template", "/var/vmail/%d/%n", tmpl, sizeof(tmpl),
			     cli->err, sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (udb_home_expand(tmpl, nu->local, nu->domain, nu->home, cli->err, sizeof(cli->err)) < 0)
		return cli_fail(EX_CONFIG, "%s", cli->err);
	/* A home left by a deleted mailbox ('user del' keeps the mail) holds
	 * its owner's mail: never hand it to a new owner silently. */
	if ((ret = cli_home_state(nu->home, &home_exists)) != 0)
		return ret;
	if (home_exists && nu->existing_home == HOME_REFUSE)
		return cli_fail(EX_CANTCREAT, "%s exists already (mail of a deleted mailbox?): "
				"give --existing-home=purge to remove it first, or "
				"--existing-home=reuse to give it to the new mailbox", nu->home);
	if (home_exists && nu->existing_home == HOME_PURGE &&
	    (ret = home_purge_check(cli, nu->home)) != 0)
		return ret;
	nu->home_exists = home_exists;
	if (!nu->encrypt_given) {
		rc = udb_setting_get(cli->db, "encrypt_new_mailboxes", "yes", value,
				     sizeof(value), cli->err, sizeof(cli->err));
		if (rc != UDB_OK)
			return cli_db_fail(cli, rc);
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return cli_fail(EX_CONFIG, "setting encrypt_new_mailboxes is invalid: %s",
					value);
		nu->encrypt = strcmp(value, "yes") == 0;
	}
	if (nu->trees_version == 0) {
		rc = udb_setting_get(cli->db, "trees_version", "2", value, sizeof(value), cli->err,
				     sizeof(cli->err));
		if (rc != UDB_OK)
			return cli_db_fail(cli, rc);
		nu->trees_version = value[0] == '1' ? 1 : 2;
	}
	if ((ret = cli_kdf_settings(cli, &kdf)) != 0)
		return ret;
	if (!nu->kdf_ops_given)
		nu->kdf.opslimit = kdf.opslimit;
	if (!nu->kdf_mem_given)
		nu->kdf.memlimit = kdf.memlimit;
	return 0;
}

static enum udb_rc user_add_store(struct cli *cli, const struct new_user *nu, const char *hash,
				  const struct trees_keypair *kp, const struct udb_wrap *wraps,
				  size_t n)
{
	long long now = (long long)time(NULL), id = 0;
	enum udb_rc rc;
	size_t i;

	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return rc;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     "INSERT INTO mailboxes (domain_id, local_part, address, password_hash,"
		     " quota_bytes, active, home, created, updated)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?7)", "itttiti", nu->domain_id,
		     nu->local, nu->address, hash, (long long)nu->quota, nu->home, now);
	if (rc == UDB_OK)
		id = sqlite3_last_insert_rowid(cli->db);
	if (rc == UDB_OK && kp != NULL)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
			     "INSERT INTO trees_keys (mailbox_id, enabled, version, public_key,"
			     " created) VALUES (?1, 1, ?2, ?3, ?4)", "iibi", id,
			     (long long)nu->trees_version, trees_keypair_public(kp),
			     (size_t)TREES_KEYBYTES, now);
	for (i = 0; i < n && rc == UDB_OK; i++)
		rc = cli_wrap_insert(cli, id, &wraps[i]);
	if (rc == UDB_OK)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	return rc;
}

int cmd_user_add(struct cli *cli, int argc, char **argv)
{
	struct new_user nu = { .encrypt = true, .recovery = true, .password_fd = -1 };
	struct trees_keypair *kp = NULL;
	struct udb_wrap wraps[2];
	char hash[UDB_HASH_MAX + 1] = "", *password = NULL, *code = NULL;
	size_t len, n = 0;
	enum udb_rc rc;
	int ret;

	if ((ret = user_add_options(cli, argc, argv, &nu)) != 0)
		return ret < 0 ? 0 : ret;
	if ((ret = cli_address(argv[optind], nu.address, nu.local, nu.domain)) != 0 ||
	    (ret = cli_open(cli)) != 0 || (ret = user_add_prepare(cli, &nu)) != 0)
		return ret;
	if ((ret = cli_new_password(nu.password_fd, nu.address, &password, &len)) != 0)
		return ret;
	if (!nu.encrypt) {
		if (udb_hash_make(password, len, nu.kdf.opslimit, nu.kdf.memlimit, hash, cli->err,
				  sizeof(cli->err)) < 0)
			ret = cli_fail(EX_SOFTWARE, "%s", cli->err);
	} else if ((kp = trees_keypair_new()) == NULL || trees_keypair_generate(kp) < 0) {
		ret = cli_fail(EX_OSERR, "cannot create a key pair (out of locked memory?)");
	} else if (udb_wrap_make(kp, UDB_WRAP_PASSWORD, NULL, password, len, nu.kdf.opslimit,
				 nu.kdf.memlimit, TREES_PWHASH_ARGON2ID, &wraps[n++], NULL,
				 cli->err, sizeof(cli->err)) < 0) {
		ret = cli_fail(EX_SOFTWARE, "%s", cli->err);
	} else if (nu.recovery) {
		code = mf_secmem_alloc(UDB_CODE_MAX);
		if (code == NULL || udb_code_generate(UDB_WRAP_RECOVERY, code, UDB_CODE_MAX) < 0 ||
		    udb_wrap_make(kp, UDB_WRAP_RECOVERY, NULL, code, strlen(code),
				  nu.kdf.opslimit, nu.kdf.memlimit, TREES_PWHASH_ARGON2ID,
				  &wraps[n++], NULL, cli->err, sizeof(cli->err)) < 0)
			ret = cli_fail(EX_SOFTWARE, "cannot create the recovery code: %s", cli->err);
	}
	mf_secmem_free(password);
	if (ret == 0 && nu.home_exists && nu.existing_home == HOME_PURGE)
		ret = cli_home_remove(nu.home);
	if (ret == 0) {
		rc = user_add_store(cli, &nu, nu.encrypt ? NULL : hash, kp, wraps, n);
		if (rc == UDB_EEXIST)
			ret = cli_fail(EX_DATAERR, "mailbox %s exists already", nu.address);
		else if (rc != UDB_OK)
			ret = cli_db_fail(cli, rc);
	}
	trees_keypair_free(&kp);
	if (ret == 0 && cli->json) {
		printf("{\"address\": ");
		json_str(stdout, nu.address);
		printf(", \"encryption\": %s, \"home\": ", nu.encrypt ? "true" : "false");
		json_str(stdout, nu.home);
		printf(", \"recovery_code\": ");
		if (code != NULL)
			json_str(stdout, code);
		else
			printf("null");
		printf("}\n");
	} else if (ret == 0) {
		printf("created %s (%s, home %s)\n", nu.address,
		       nu.encrypt ? (nu.trees_version == 1 ? "TREES v1" : "TREES v2")
				  : "no encryption", nu.home);
		if (code != NULL)
			printf("\nRecovery code for %s - shown only now. Hand it to the user: it\n"
			       "opens the mail if the password is lost.\n\n    %s\n\n",
			       nu.address, code);
	}
	fflush(stdout);
	mf_secmem_free(code);
	return ret;
}

int cmd_user_del(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "purge-mail", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct udb_mailbox mb;
	bool yes = false, purge = false;
	char question[UDB_ADDRESS_MAX + UDB_HOME_MAX + 64];
	long long aliases = 0, sendas = 0, own_alias = 0;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c == 'y')
			yes = true;
		else if (c == 'P')
			purge = true;
		else
			return EX_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if ((ret = cli_mailbox(cli, argv[optind], &mb)) != 0)
		return ret;
	snprintf(question, sizeof(question), "Delete mailbox %s%s%s?", mb.address,
		 purge ? " AND ITS MAIL in " : " (its mail in ", purge ? mb.home : mb.home);
	if (!purge)
		strcat(question, " is kept)");
	if (!yes && !cli_confirm(question))
		return cli_fail(EX_USAGE, "not deleted (confirm on the terminal, or add --yes)");
	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	/* Nothing may point at the address once it is free: a mailbox made
	 * later with the same address must not inherit aliases to it or
	 * other logins' rights to send as it. Entries for the address as an
	 * alias of its own stay and are reported. */
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), &aliases,
		     "DELETE FROM aliases WHERE destination = ?1", "t", mb.address);
	if (rc == UDB_OK)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &sendas,
			     "DELETE FROM sendas WHERE address = ?1", "t", mb.address);
	if (rc == UDB_OK)
		rc = udb_query_int(cli->db, 0, &own_alias, cli->err, sizeof(cli->err),
				   "SELECT count(*) FROM aliases WHERE address = ?1", "t", mb.address);
	if (rc == UDB_OK)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
			     "DELETE FROM mailboxes WHERE id = ?1", "i", mb.id);
	if (rc == UDB_OK && purge && (ret = home_purge_check(cli, mb.home)) == 0)
		ret = cli_home_remove(mb.home);
	if (rc == UDB_OK && ret == 0)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (ret != 0)
		return ret;
	printf("deleted %s%s%s", mb.address, purge ? " and removed " : "; mail kept in ",
	       mb.home);
	if (aliases > 0)
		printf("; removed %lld alias destination(s) pointing to it", aliases);
	if (sendas > 0)
		printf("; removed %lld right(s) of other mailboxes to send as it", sendas);
	printf("\n");
	if (own_alias > 0)
		cli_warn("%s is still an alias (%lld destination(s)): mail to it is forwarded "
			 "('mailfruit alias del %s' to stop that)", mb.address, own_alias,
			 mb.address);
	return 0;
}

static void json_mailbox_head(const struct udb_mailbox *mb)
{
	char pk[TREES_KEYBYTES * 2 + 1];

	printf("{\"address\": ");
	json_str(stdout, mb->address);
	printf(", \"active\": %s, \"quota_bytes\": %llu, \"home\": ", mb->active ? "true" : "false",
	       mb->quota_bytes);
	json_str(stdout, mb->home);
	if (mb->has_keys)
		printf(", \"encryption\": {\"enabled\": %s, \"version\": %u, \"public_key\": \"%s\"}",
		       mb->trees_enabled ? "true" : "false", mb->trees_version,
		       sodium_bin2hex(pk, sizeof(pk), mb->public_key, TREES_KEYBYTES));
	else
		printf(", \"encryption\": null");
}

int cmd_user_list(struct cli *cli, int argc, char **argv)
{
	char domain[UDB_DOMAIN_MAX + 1] = "", addr[UDB_ADDRESS_MAX + 1];
	struct udb_mailbox mb;
	sqlite3_stmt *s;
	enum udb_rc rc;
	int ret, n = 0;

	if ((ret = cli_list_open(cli, argc, argv, domain)) >= 0)
		return ret;
	rc = udb_query(cli->db, &s, cli->err, sizeof(cli->err),
		       "SELECT m.address FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
		       " WHERE ?1 = '' OR d.name = ?1 ORDER BY d.name, m.local_part", "t", domain);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (cli->json)
		printf("[");
	while ((rc = udb_step(cli->db, s, cli->err, sizeof(cli->err))) == UDB_OK) {
		snprintf(addr, sizeof(addr), "%s", (const char *)sqlite3_column_text(s, 0));
		rc = udb_mailbox_get(&cli->lk, addr, &mb, cli->err, sizeof(cli->err));
		if (rc != UDB_OK)
			break;
		if (cli->json) {
			printf("%s", n > 0 ? ", " : "");
			json_mailbox_head(&mb);
			printf("}");
		} else {
			char quota[32] = "-";

			if (n == 0)
				printf("%-40s %-8s %-12s %s\n", "ADDRESS", "STATE", "ENCRYPTION",
				       "QUOTA");
			if (mb.quota_bytes > 0)
				snprintf(quota, sizeof(quota), "%llu", mb.quota_bytes);
			printf("%-40s %-8s %-12s %s\n", mb.address, mb.active ? "active" : "disabled",
			       !mb.has_keys ? "none" : mb.trees_version == 1 ? "trees-v1" : "trees-v2",
			       quota);
		}
		n++;
	}
	sqlite3_finalize(s);
	if (cli->json)
		printf("]\n");
	return rc == UDB_NOTFOUND ? 0 : cli_db_fail(cli, rc);
}

int cmd_user_show(struct cli *cli, int argc, char **argv)
{
	struct udb_mailbox mb;
	struct udb_wrap wraps[UDB_WRAPS_MAX];
	char tbuf[32], pk[TREES_KEYBYTES * 2 + 1];
	size_t n, i;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if ((ret = cli_mailbox(cli, argv[optind], &mb)) != 0)
		return ret;
	rc = udb_wraps_get(&cli->lk, mb.id, wraps, UDB_WRAPS_MAX, &n, cli->err, sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (cli->json) {
		json_mailbox_head(&mb);
		printf(", \"created\": \"%s\", \"credentials\": [", cli_time(mb.created, tbuf));
		for (i = 0; i < n; i++) {
			printf("%s{\"kind\": \"%s\", \"name\": ", i > 0 ? ", " : "",
			       udb_wrap_kind_str(wraps[i].kind));
			if (wraps[i].kind == UDB_WRAP_APP)
				json_str(stdout, wraps[i].name);
			else
				printf("null");
			printf(", \"algorithm\": \"%s\", \"opslimit\": %llu, \"memlimit\": %zu, "
			       "\"created\": \"%s\"}",
			       wraps[i].locked.algo == TREES_PWHASH_ARGON2I ? "argon2i" : "argon2id",
			       wraps[i].locked.opslimit, wraps[i].locked.memlimit,
			       cli_time(wraps[i].created, tbuf));
		}
		printf("], \"password_hash_scheme\": ");
		if (mb.password_hash[0] == '{') {
			*strchr(mb.password_hash, '}') = '\0';
			json_str(stdout, mb.password_hash + 1);
		} else {
			printf("null");
		}
		printf("}\n");
		return 0;
	}
	printf("address:     %s\nstate:       %s\nhome:        %s\nquota:       %llu%s\n"
	       "created:     %s\n", mb.address, mb.active ? "active" : "disabled (no logins)",
	       mb.home, mb.quota_bytes, mb.quota_bytes ? " bytes" : " (no limit)",
	       cli_time(mb.created, tbuf));
	if (mb.has_keys)
		printf("encryption:  TREES v%u%s\npublic key:  %s\n", mb.trees_version,
		       mb.trees_enabled ? "" : " (disabled for new mail)",
		       sodium_bin2hex(pk, sizeof(pk), mb.public_key, TREES_KEYBYTES));
	else
		printf("encryption:  none\npassword:    %.*s\n",
		       (int)strcspn(mb.password_hash, "}") + 1, mb.password_hash);
	for (i = 0; i < n; i++)
		printf("credential:  %-9s %-16s %s t=%llu m=%zu, created %s\n",
		       udb_wrap_kind_str(wraps[i].kind), wraps[i].kind == UDB_WRAP_APP ? wraps[i].name : "",
		       wraps[i].locked.algo == TREES_PWHASH_ARGON2I ? "argon2i " : "argon2id",
		       wraps[i].locked.opslimit, wraps[i].locked.memlimit,
		       cli_time(wraps[i].created, tbuf));
	return 0;
}

enum column { COL_ACTIVE, COL_QUOTA };

static int set_column(struct cli *cli, int argc, char **argv, enum column col, long long value)
{
	struct udb_mailbox mb;
	unsigned long long size;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != (col == COL_QUOTA ? 2 : 1))
		return cli_usage(argv[0], true);
	if (col == COL_QUOTA) {
		if (cli_parse_size(argv[optind + 1], &size) < 0)
			return cli_fail(EX_USAGE, "'%.40s' is not a size (e.g. 500M, 2G, none)",
					argv[optind + 1]);
		value = (long long)size;
	}
	if ((ret = cli_mailbox(cli, argv[optind], &mb)) != 0)
		return ret;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     col == COL_QUOTA ?
		     "UPDATE mailboxes SET quota_bytes = ?1, updated = ?2 WHERE id = ?3" :
		     "UPDATE mailboxes SET active = ?1, updated = ?2 WHERE id = ?3",
		     "iii", value, (long long)time(NULL), mb.id);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (col == COL_QUOTA)
		printf("quota of %s: %lld bytes%s\n", mb.address, value,
		       value == 0 ? " (no limit)" : "");
	else
		printf("%s logins of %s\n", value ? "enabled" : "disabled", mb.address);
	return 0;
}

int cmd_user_disable(struct cli *cli, int argc, char **argv)
{
	return set_column(cli, argc, argv, COL_ACTIVE, 0);
}

int cmd_user_enable(struct cli *cli, int argc, char **argv)
{
	return set_column(cli, argc, argv, COL_ACTIVE, 1);
}

int cmd_user_quota(struct cli *cli, int argc, char **argv)
{
	return set_column(cli, argc, argv, COL_QUOTA, 0);
}
