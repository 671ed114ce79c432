/*
 * cli-maps.c - the Postfix maps database, kept by the CLI in step with the
 * user database (contract in cli.h; design in docs/userdb.md, "Postfix").
 *
 * users.db holds password hashes and key wraps and is readable by its owner
 * only. Postfix reads a second file, the maps database (users-maps.db next
 * to it, group postfix): domain names, mailbox addresses, alias entries and
 * send-as rights, nothing else. SQLite commits two WAL databases one after
 * the other, never atomically, so the maps carry a guard instead: every
 * query of Postfix goes through views that fail (Postfix: temporary lookup
 * failure, the client retries) unless state.guard is '0'.
 *
 *   1. The commit hook of the CLI's users.db connection sets the guard to
 *      "out of date" (its own commit) before each change of this process
 *      reaches users.db; if it cannot, the change is rolled back.
 *   2. When the command ends, cli_maps_finish() takes users.db's write
 *      lock (BEGIN IMMEDIATE: no other writer can commit meanwhile),
 *      copies the difference from users.db into the maps and sets the
 *      guard to '0' in one maps transaction.
 * A crash between 1 and 2 leaves the guard set: the maps refuse, never
 * answer wrong, until the next CLI command (cli_open repairs a set guard)
 * or 'mailfruit maps sync' copies again. Copying is idempotent: it derives
 * the maps from users.db, whatever state they are in.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "udb-sql.h"

#define MAPS_APPLICATION_ID 0x4d66706d /* "Mfpm" */
#define MAPS_SCHEMA_VERSION 1
#define MAPS_OUT_OF_DATE "out of date: run mailfruit maps sync"

/* A guard that is not valid JSON makes json() fail the statement. The
 * views read state first (CROSS JOIN fixes the order), so the guard is
 * checked also when the key has no entry: a stale "not found" would be a
 * wrong answer too (550 instead of 4xx). */
#define GUARDED(table) "state CROSS JOIN " table " WHERE json(state.guard) IS NOT NULL"

static const char maps_schema[] =
	"CREATE TABLE state (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  guard TEXT NOT NULL,\n"
	"  synced INTEGER NOT NULL\n"
	");\n"
	"INSERT INTO state (id, guard, synced) VALUES (1, '" MAPS_OUT_OF_DATE "', 0);\n"
	"CREATE TABLE domains (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;\n"
	"CREATE TABLE mailboxes (address TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;\n"
	"CREATE TABLE aliases (address TEXT NOT NULL, destination TEXT NOT NULL,\n"
	"  PRIMARY KEY (address, destination)) WITHOUT ROWID;\n"
	/* login: the mailbox (its address) that may send as address. */
	"CREATE TABLE sendas (address TEXT NOT NULL, login TEXT NOT NULL,\n"
	"  PRIMARY KEY (address, login)) WITHOUT ROWID;\n"
	/* What the map files query (userdb/postfix/). */
	"CREATE VIEW postfix_domains AS SELECT name FROM " GUARDED("domains") ";\n"
	"CREATE VIEW postfix_mailboxes AS SELECT address FROM " GUARDED("mailboxes") ";\n"
	/* Every mailbox maps to itself (the catch-all must not take it). */
	"CREATE VIEW postfix_aliases AS\n"
	"  SELECT address, destination FROM " GUARDED("aliases") "\n"
	"  UNION ALL SELECT address, address FROM " GUARDED("mailboxes") ";\n"
	/* A mailbox may always send as itself. */
	"CREATE VIEW postfix_sender_logins AS\n"
	"  SELECT address, login FROM " GUARDED("sendas") "\n"
	"  UNION ALL SELECT address, address FROM " GUARDED("mailboxes") ";\n";

/* The difference between users.db (attached as "u") and the maps. */
static const char maps_sync_sql[] =
	"DELETE FROM main.domains WHERE name NOT IN (SELECT name FROM u.domains);\n"
	"INSERT INTO main.domains SELECT name FROM u.domains\n"
	"  EXCEPT SELECT name FROM main.domains;\n"
	"DELETE FROM main.mailboxes WHERE address NOT IN (SELECT address FROM u.mailboxes);\n"
	"INSERT INTO main.mailboxes SELECT address FROM u.mailboxes\n"
	"  EXCEPT SELECT address FROM main.mailboxes;\n"
	"DELETE FROM main.aliases WHERE (address, destination) NOT IN\n"
	"  (SELECT address, destination FROM u.aliases);\n"
	"INSERT INTO main.aliases SELECT address, destination FROM u.aliases\n"
	"  EXCEPT SELECT address, destination FROM main.aliases;\n"
	"DELETE FROM main.sendas WHERE (address, login) NOT IN\n"
	"  (SELECT s.address, m.address FROM u.sendas s JOIN u.mailboxes m ON m.id = s.mailbox_id);\n"
	"INSERT INTO main.sendas SELECT s.address, m.address FROM u.sendas s\n"
	"  JOIN u.mailboxes m ON m.id = s.mailbox_id EXCEPT SELECT address, login FROM main.sendas;\n"
	"UPDATE main.state SET guard = '0', synced = CAST(strftime('%s', 'now') AS INTEGER);\n";

void cli_maps_path(const char *db_path, char *out, size_t outsize)
{
	size_t len = strlen(db_path);

	if (len > 3 && strcmp(db_path + len - 3, ".db") == 0)
		len -= 3;
	snprintf(out, outsize, "%.*s-maps.db", (int)len, db_path);
}

int cli_maps_permissions(struct cli *cli)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	const char *path = cli->maps_path;
	struct group *gr = NULL;
	char file[4096], group[64] = "";
	enum udb_rc rc;
	size_t i;

	rc = udb_setting_get(cli->db, "maps_group", "", group, sizeof(group), cli->err,
			     sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);

	if (group[0] != '\0' && (gr = getgrnam(group)) == NULL)
		return cli_fail(EX_NOUSER, "no group %s (setting maps_group)", group);
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (gr != NULL && chown(file, (uid_t)-1, gr->gr_gid) < 0 && errno != ENOENT)
			return cli_fail(EX_NOPERM, "chgrp %s %s: %s", group, file, strerror(errno));
		if (chmod(file, gr != NULL ? 0640 : 0600) < 0 && errno != ENOENT)
			return cli_fail(EX_NOPERM, "chmod %s: %s", file, strerror(errno));
	}
	return 0;
}

int cli_userdb_private(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char file[4096];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (chown(file, (uid_t)-1, getegid()) < 0 && errno != ENOENT)
			return cli_fail(EX_NOPERM, "chgrp %s: %s", file, strerror(errno));
		if (chmod(file, 0600) < 0 && errno != ENOENT)
			return cli_fail(EX_NOPERM, "chmod 0600 %s: %s", file, strerror(errno));
	}
	return 0;
}

/* Step 1 above. Runs inside users.db's COMMIT: it must not touch cli->db. */
static int maps_commit_hook(void *context)
{
	struct cli *cli = context;

	/* Every commit, not only the first of the command: another process's
	 * copy may have cleared the mark since. */
	if (cli->maps == NULL)
		return 0;
	if (sqlite3_exec(cli->maps, "UPDATE state SET guard = '" MAPS_OUT_OF_DATE "'", NULL,
			 NULL, NULL) != SQLITE_OK) {
		cli_warn("cannot mark %s out of date (%s): the change is not made",
			 cli->maps_path, sqlite3_errmsg(cli->maps));
		return 1; /* the COMMIT becomes a ROLLBACK */
	}
	cli->maps_marked = true;
	return 0;
}

/* Opens (creating when needed) the maps next to cli->db at the current
 * schema, attaches users.db as "u" and installs the commit hook. */
static int maps_open(struct cli *cli)
{
	char sql[64];
	bool created = false;
	int version = 0, app_id = 0, fd;
	long long v = 0;
	enum udb_rc rc;
	int ret;

	cli_maps_path(cli->db_path, cli->maps_path, sizeof(cli->maps_path));
	fd = open(cli->maps_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST)
		return cli_fail(EX_CANTCREAT, "cannot create %s: %s", cli->maps_path,
				strerror(errno));
	if (fd >= 0) {
		close(fd);
		created = true;
	}
	rc = udb_open_file(cli->maps_path, SQLITE_OPEN_READWRITE, cli->busy_ms, &cli->maps,
			   cli->err, sizeof(cli->err));
	if (rc == UDB_OK)
		rc = udb_query_int(cli->maps, 0, &v, cli->err, sizeof(cli->err),
				   "PRAGMA application_id", "");
	app_id = (int)v;
	if (rc == UDB_OK)
		rc = udb_query_int(cli->maps, 0, &v, cli->err, sizeof(cli->err),
				   "PRAGMA user_version", "");
	version = (int)v;
	if (rc == UDB_OK && app_id == 0 && version == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", MAPS_APPLICATION_ID);
		rc = udb_exec(cli->maps, "PRAGMA journal_mode = WAL", cli->err, sizeof(cli->err));
		if (rc == UDB_OK && (rc = udb_begin(cli->maps, cli->err, sizeof(cli->err))) == UDB_OK) {
			/* Again under the lock: another mailfruit may have been first. */
			rc = udb_query_int(cli->maps, 0, &v, cli->err, sizeof(cli->err),
					   "PRAGMA user_version", "");
			if (rc == UDB_OK && v == 0)
				rc = udb_exec(cli->maps, maps_schema, cli->err, sizeof(cli->err));
			if (rc == UDB_OK && v == 0)
				rc = udb_exec(cli->maps, sql, cli->err, sizeof(cli->err));
			if (rc == UDB_OK && v == 0)
				rc = udb_exec(cli->maps, "PRAGMA user_version = 1", cli->err,
					      sizeof(cli->err));
			if (rc == UDB_OK)
				rc = udb_commit(cli->maps, cli->err, sizeof(cli->err));
			udb_rollback(cli->maps);
		}
		created = true;
	} else if (rc == UDB_OK && (app_id != MAPS_APPLICATION_ID ||
				    version != MAPS_SCHEMA_VERSION)) {
		return cli_fail(EX_CONFIG, "%s is not mailfruit's Postfix maps database at "
				"version %d (move it away and run 'mailfruit maps sync')",
				cli->maps_path, MAPS_SCHEMA_VERSION);
	}
	if (rc == UDB_OK)
		rc = udb_run(cli->maps, cli->err, sizeof(cli->err), NULL,
			     "ATTACH DATABASE ?1 AS u", "t", cli->db_path);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (created && (ret = cli_maps_permissions(cli)) != 0)
		return ret;
	sqlite3_commit_hook(cli->db, maps_commit_hook, cli);
	return 0;
}

/* Step 2 above: copies users.db into the maps under users.db's write lock. */
static int maps_sync(struct cli *cli)
{
	enum udb_rc rc;

	if ((rc = udb_begin(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	/* BEGIN, not IMMEDIATE: that would lock every attached database,
	 * users.db included, which cli->db holds. */
	/* No fsync for the copy (synchronous NORMAL, WAL): a power loss can
	 * only lose it and leave the mark, which is safe; the mark itself is
	 * committed with FULL, before users.db's change. */
	rc = udb_exec(cli->maps, "PRAGMA main.synchronous = NORMAL", cli->err, sizeof(cli->err));
	if (rc == UDB_OK)
		rc = udb_exec(cli->maps, "BEGIN", cli->err, sizeof(cli->err));
	if (rc == UDB_OK)
		rc = udb_exec(cli->maps, maps_sync_sql, cli->err, sizeof(cli->err));
	if (rc == UDB_OK)
		rc = udb_commit(cli->maps, cli->err, sizeof(cli->err));
	udb_rollback(cli->maps);
	sqlite3_exec(cli->maps, "PRAGMA main.synchronous = FULL", NULL, NULL, NULL);
	udb_rollback(cli->db);
	if (rc != UDB_OK) {
		cli_db_fail(cli, rc);
		return cli_fail(EX_TEMPFAIL, "%s stays marked out of date (Postfix defers mail): "
				"run 'mailfruit maps sync'", cli->maps_path);
	}
	cli->maps_marked = false;
	return 0;
}

int cli_maps_attach(struct cli *cli)
{
	char guard[64] = "";
	sqlite3_stmt *s;
	enum udb_rc rc;
	int ret;

	if (cli->maps != NULL)
		return 0;
	if ((ret = maps_open(cli)) != 0)
		return ret;
	/* A set guard that this process did not set: a crash or failure left
	 * the maps refusing. Repair them now. */
	rc = udb_query(cli->maps, &s, cli->err, sizeof(cli->err),
		       "SELECT guard FROM state WHERE id = 1", "");
	if (rc == UDB_OK && (rc = udb_step(cli->maps, s, cli->err, sizeof(cli->err))) == UDB_OK)
		snprintf(guard, sizeof(guard), "%s", (const char *)sqlite3_column_text(s, 0));
	if (s != NULL)
		sqlite3_finalize(s);
	if (rc != UDB_OK && rc != UDB_NOTFOUND)
		return cli_db_fail(cli, rc);
	if (strcmp(guard, "0") != 0)
		return maps_sync(cli);
	return 0;
}

int cli_maps_finish(struct cli *cli)
{
	int ret = 0;

	if (cli->maps != NULL && cli->maps_marked)
		ret = maps_sync(cli);
	if (cli->maps != NULL) {
		sqlite3_commit_hook(cli->db, NULL, NULL);
		udb_close(cli->maps);
		cli->maps = NULL;
	}
	return ret;
}

int cmd_maps_sync(struct cli *cli, int argc, char **argv)
{
	long long counts[4] = { 0 };
	static const char *const tables[] = { "domains", "mailboxes", "aliases", "sendas" };
	char sql[64];
	size_t i;
	enum udb_rc rc = UDB_OK;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc != optind)
		return cli_usage(argv[0], true);
	if ((ret = cli_open(cli)) != 0 || (ret = maps_sync(cli)) != 0)
		return ret;
	for (i = 0; i < 4 && rc == UDB_OK; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM main.%s", tables[i]);
		rc = udb_query_int(cli->maps, 0, &counts[i], cli->err, sizeof(cli->err), sql, "");
	}
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("%s: %lld domains, %lld mailboxes, %lld alias entries, %lld send-as rights\n",
	       cli->maps_path, counts[0], counts[1], counts[2], counts[3]);
	return 0;
}
