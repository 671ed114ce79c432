/*
 * cli-alias.c - mailfruit alias add/del/list and sendas allow/deny/list.
 */
#include "mailfruit-config.h"

#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "udb-sql.h"

static int plain_args(struct cli *cli, int argc, char **argv, int min, int max)
{
	int c;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? (cli_usage(argv[0], false), -1) : EX_USAGE;
	if (argc - optind < min || (max >= 0 && argc - optind > max))
		return cli_usage(argv[0], true);
	return 0;
}

static int pattern(struct cli *cli, const char *in, char *out, char *domain_r)
{
	if (udb_pattern_normalize(in, 1, out, domain_r, cli->err, sizeof(cli->err)) < 0)
		return cli_fail(EX_DATAERR, "%s", cli->err);
	return 0;
}

int cmd_alias_add(struct cli *cli, int argc, char **argv)
{
	char addr[UDB_ADDRESS_MAX + 1], domain[UDB_DOMAIN_MAX + 1], dest[UDB_ADDRESS_MAX + 1];
	long long domain_id, added = 0, n;
	enum udb_rc rc;
	int i, ret;

	if ((ret = plain_args(cli, argc, argv, 2, -1)) != 0)
		return ret < 0 ? 0 : ret;
	if ((ret = pattern(cli, argv[optind], addr, domain)) != 0)
		return ret;
	/* Check every destination before writing any. */
	for (i = optind + 1; i < argc; i++) {
		if ((ret = cli_address(argv[i], dest, NULL, NULL)) != 0)
			return ret;
		if (strcmp(dest, addr) == 0)
			return cli_fail(EX_DATAERR, "%s cannot be an alias of itself", addr);
	}
	if ((ret = cli_domain_id(cli, domain, &domain_id)) != 0)
		return ret;
	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	for (i = optind + 1; i < argc && rc == UDB_OK; i++) {
		cli_address(argv[i], dest, NULL, NULL);
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
			     "INSERT INTO aliases (domain_id, address, destination, created)"
			     " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", "itti", domain_id,
			     addr, dest, (long long)time(NULL));
		added += n;
	}
	if (rc == UDB_OK)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("%s%s: %lld destination(s) added\n", addr[0] == '@' ? "catch-all " : "alias ",
	       addr, added);
	return 0;
}

int cmd_alias_del(struct cli *cli, int argc, char **argv)
{
	char addr[UDB_ADDRESS_MAX + 1], dest[UDB_ADDRESS_MAX + 1];
	long long removed = 0, n;
	enum udb_rc rc;
	int i, ret;

	if ((ret = plain_args(cli, argc, argv, 1, -1)) != 0)
		return ret < 0 ? 0 : ret;
	if ((ret = pattern(cli, argv[optind], addr, NULL)) != 0)
		return ret;
	for (i = optind + 1; i < argc; i++) {
		if ((ret = cli_address(argv[i], dest, NULL, NULL)) != 0)
			return ret;
	}
	if ((ret = cli_open(cli)) != 0)
		return ret;
	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	if (optind + 1 == argc)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &removed,
			     "DELETE FROM aliases WHERE address = ?1", "t", addr);
	for (i = optind + 1; i < argc && rc == UDB_OK; i++) {
		cli_address(argv[i], dest, NULL, NULL);
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
			     "DELETE FROM aliases WHERE address = ?1 AND destination = ?2", "tt",
			     addr, dest);
		removed += n;
	}
	if (rc == UDB_OK && removed == 0) {
		udb_rollback(cli->db);
		return cli_fail(EX_NOUSER, "no such alias entry for %s", addr);
	}
	if (rc == UDB_OK)
		rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
	udb_rollback(cli->db);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("%s: %lld destination(s) removed\n", addr, removed);
	return 0;
}

/* Prints rows of (key, value) grouped by key, as text or as JSON
 * [{"KEYNAME": k, "VALNAME": [v, ...]}, ...]. */
static enum udb_rc print_groups(struct cli *cli, sqlite3_stmt *s, const char *keyname,
				const char *valname)
{
	char last[UDB_ADDRESS_MAX + 1] = "";
	enum udb_rc rc;
	int n = 0;

	if (cli->json)
		printf("[");
	while ((rc = udb_step(cli->db, s, cli->err, sizeof(cli->err))) == UDB_OK) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);
		bool same = n > 0 && strcmp(k, last) == 0;

		if (cli->json) {
			if (!same) {
				printf("%s{\"%s\": ", n > 0 ? "]}, " : "", keyname);
				json_str(stdout, k);
				printf(", \"%s\": [", valname);
			} else {
				printf(", ");
			}
			json_str(stdout, v);
		} else {
			printf("%-40s %s\n", same ? "" : k, v);
		}
		snprintf(last, sizeof(last), "%s", k);
		n++;
	}
	if (cli->json)
		printf("%s]\n", n > 0 ? "]}" : "");
	return rc == UDB_NOTFOUND ? UDB_OK : rc;
}

int cmd_alias_list(struct cli *cli, int argc, char **argv)
{
	char domain[UDB_DOMAIN_MAX + 1] = "";
	sqlite3_stmt *s;
	enum udb_rc rc;
	int ret;

	if ((ret = cli_list_open(cli, argc, argv, domain)) >= 0)
		return ret;
	rc = udb_query(cli->db, &s, cli->err, sizeof(cli->err),
		       "SELECT a.address, a.destination FROM aliases a"
		       " JOIN domains d ON d.id = a.domain_id WHERE ?1 = '' OR d.name = ?1"
		       " ORDER BY d.name, a.address = '@' || d.name, a.address, a.destination",
		       "t", domain);
	if (rc == UDB_OK) {
		rc = print_groups(cli, s, "address", "destinations");
		sqlite3_finalize(s);
	}
	return cli_db_fail(cli, rc);
}

static int sendas_change(struct cli *cli, int argc, char **argv, bool allow)
{
	struct udb_mailbox mb;
	char addr[UDB_ADDRESS_MAX + 1];
	long long n = 0;
	enum udb_rc rc;
	int ret;

	if ((ret = plain_args(cli, argc, argv, 2, 2)) != 0)
		return ret < 0 ? 0 : ret;
	if ((ret = pattern(cli, argv[optind + 1], addr, NULL)) != 0 ||
	    (ret = cli_mailbox(cli, argv[optind], &mb)) != 0)
		return ret;
	if (allow && strcmp(addr, mb.address) == 0)
		return cli_fail(EX_DATAERR, "%s may always send as itself", mb.address);
	if (allow)
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
			     "INSERT INTO sendas (mailbox_id, address, created) VALUES (?1, ?2, ?3)"
			     " ON CONFLICT DO NOTHING", "iti", mb.id, addr, (long long)time(NULL));
	else
		rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
			     "DELETE FROM sendas WHERE mailbox_id = ?1 AND address = ?2", "it",
			     mb.id, addr);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (!allow && n == 0)
		return cli_fail(EX_NOUSER, "%s has no right to send as %s", mb.address, addr);
	printf("%s %s send as %s%s\n", mb.address, allow ? "may" : "may no longer", addr,
	       allow && n == 0 ? " (already allowed)" : "");
	return 0;
}

int cmd_sendas_allow(struct cli *cli, int argc, char **argv)
{
	return sendas_change(cli, argc, argv, true);
}

int cmd_sendas_deny(struct cli *cli, int argc, char **argv)
{
	return sendas_change(cli, argc, argv, false);
}

int cmd_sendas_list(struct cli *cli, int argc, char **argv)
{
	char login[UDB_ADDRESS_MAX + 1] = "";
	sqlite3_stmt *s;
	enum udb_rc rc;
	int ret;

	if ((ret = plain_args(cli, argc, argv, 0, 1)) != 0)
		return ret < 0 ? 0 : ret;
	if (optind < argc && (ret = cli_address(argv[optind], login, NULL, NULL)) != 0)
		return ret;
	if ((ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_query(cli->db, &s, cli->err, sizeof(cli->err),
		       "SELECT m.address, s.address FROM sendas s"
		       " JOIN mailboxes m ON m.id = s.mailbox_id WHERE ?1 = '' OR m.address = ?1"
		       " ORDER BY m.address, s.address", "t", login);
	if (rc == UDB_OK) {
		rc = print_groups(cli, s, "login", "may_send_as");
		sqlite3_finalize(s);
	}
	return cli_db_fail(cli, rc);
}
