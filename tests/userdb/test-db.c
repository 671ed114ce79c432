/* test-db.c - creating, migrating and opening the user database, and the
 * classification of every way opening it can fail. */
#include "mailfruit-config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "udb-db.h"
#include "udb-sql.h"
#include "udb-store.h"

static char dir[] = "/tmp/mf-test-db-XXXXXX";

static const char *path_of(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static sqlite3 *create(const char *name)
{
	char err[256] = "";
	sqlite3 *db = NULL;
	int from = -1;

	if (udb_open_rw(path_of(name), true, false, 1000, &db, err, sizeof(err)) != UDB_OK ||
	    udb_migrate(db, &from, err, sizeof(err)) != UDB_OK)
		tap_diag("create %s: %s", name, err);
	return db;
}

static void raw_sql(const char *name, const char *sql)
{
	sqlite3 *db;

	if (sqlite3_open(path_of(name), &db) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		tap_diag("raw SQL on %s: %s", name, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static enum udb_rc open_ro(const char *name, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	enum udb_rc rc = udb_open_ro(path_of(name), 100, &db, err, errlen);

	udb_close(db);
	return rc;
}

int main(void)
{
	char err[512] = "", value[64];
	sqlite3 *db, *ro = NULL, *writer;
	struct stat st;
	int version = -1, from = -1, fd;
	long long n = -1;
	struct udb_lookup lk;
	struct udb_mailbox mb;

	if (mkdtemp(dir) == NULL)
		return tap_ok(false, "mkdtemp"), tap_done();

	/* Creation. */
	umask(022);
	db = create("u.db");
	tap_ok(db != NULL, "a new database is created");
	tap_ok(udb_schema_version(db, &version, err, sizeof(err)) == UDB_OK &&
	       version == UDB_SCHEMA_VERSION, "it has schema version %d", UDB_SCHEMA_VERSION);
	tap_ok(stat(path_of("u.db"), &st) == 0 && (st.st_mode & 0777) == 0600,
	       "the file is mode 0600 (password hashes: owner only) whatever the umask: %o",
	       st.st_mode & 0777);
	tap_ok(udb_query_int(db, 0, &n, err, sizeof(err), "PRAGMA application_id", "") == UDB_OK &&
	       n == UDB_APPLICATION_ID, "application_id marks it as mailfruit's");
	{
		sqlite3_stmt *s;

		udb_query(db, &s, err, sizeof(err), "PRAGMA journal_mode", "");
		tap_ok(udb_step(db, s, err, sizeof(err)) == UDB_OK &&
		       strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0,
		       "it is in WAL mode");
		sqlite3_finalize(s);
	}
	tap_ok(udb_query_int(db, 0, &n, err, sizeof(err), "PRAGMA foreign_keys", "") == UDB_OK &&
	       n == 1, "foreign keys are enforced on write connections");
	tap_ok(udb_setting_get(db, "home_template", NULL, value, sizeof(value), err,
			       sizeof(err)) == UDB_OK && strcmp(value, "/var/vmail/%d/%n") == 0,
	       "default settings are in place");
	tap_ok(udb_setting_set(db, "mail_uid", "vmail", err, sizeof(err)) == UDB_OK &&
	       udb_setting_get(db, "mail_uid", NULL, value, sizeof(value), err, sizeof(err)) ==
		       UDB_OK && strcmp(value, "vmail") == 0, "a setting is changed");
	tap_ok(udb_setting_set(db, "mail_uid", NULL, err, sizeof(err)) == UDB_OK &&
	       udb_setting_get(db, "mail_uid", "dflt", value, sizeof(value), err, sizeof(err)) ==
		       UDB_OK && strcmp(value, "dflt") == 0, "and removed again");
	tap_ok(udb_migrate(db, &from, err, sizeof(err)) == UDB_OK && from == UDB_SCHEMA_VERSION,
	       "migrating a current database changes nothing");
	tap_ok(udb_run(db, err, sizeof(err), NULL,
		       "INSERT INTO mailboxes (domain_id, local_part, address, home, created, "
		       "updated) VALUES (42, 'a', 'a@x.org', '/h', 0, 0)", "") == UDB_ECONSTRAINT,
	       "a mailbox without its domain violates the foreign key: %s", err);
	udb_close(db);

	/* Read-only opening. */
	tap_ok(udb_open_ro(path_of("u.db"), 100, &ro, err, sizeof(err)) == UDB_OK,
	       "opened read-only");
	tap_ok(udb_exec(ro, "INSERT INTO domains (name, created) VALUES ('x.org', 0)", err,
			sizeof(err)) != UDB_OK, "a read-only connection cannot write");
	udb_close(ro);

	tap_is_int(open_ro("missing.db", err, sizeof(err)), UDB_EMISSING,
		   "a missing file is UDB_EMISSING: %s", err);
	db = NULL;
	tap_is_int(udb_open_rw(path_of("missing.db"), false, false, 100, &db, err, sizeof(err)),
		   UDB_EMISSING, "also for writers without create: %s", err);
	tap_ok(access(path_of("missing.db"), F_OK) < 0, "and no file was created");

	fd = open(path_of("garbage.db"), O_WRONLY | O_CREAT, 0600);
	{
		static const char garbage[] = "this is not a database, just text long enough to "
					      "be taken for the header of one, and more text";

		tap_ok(fd >= 0 && write(fd, garbage, sizeof(garbage)) == (ssize_t)sizeof(garbage),
		       "a file of garbage");
	}
	close(fd);
	tap_is_int(open_ro("garbage.db", err, sizeof(err)), UDB_ECORRUPT,
		   "garbage is UDB_ECORRUPT: %s", err);

	raw_sql("other.db", "CREATE TABLE mailboxes (user_id INTEGER, username TEXT)");
	tap_is_int(open_ro("other.db", err, sizeof(err)), UDB_ECORRUPT,
		   "another program's SQLite file is refused: %s", err);
	tap_ok(strstr(err, "not mailfruit's") != NULL, "  and the message says so");

	db = create("future.db");
	udb_close(db);
	raw_sql("future.db", "PRAGMA user_version = 99");
	tap_is_int(open_ro("future.db", err, sizeof(err)), UDB_ESCHEMA,
		   "a newer schema is refused by readers: %s", err);
	db = NULL;
	tap_is_int(udb_open_rw(path_of("future.db"), false, true, 100, &db, err, sizeof(err)),
		   UDB_ESCHEMA, "and by writers, even allowing old ones");

	db = create("old.db");
	udb_close(db);
	raw_sql("old.db", "PRAGMA user_version = 0");
	tap_is_int(open_ro("old.db", err, sizeof(err)), UDB_ESCHEMA, "an older schema: readers "
		   "refuse it");
	db = NULL;
	tap_is_int(udb_open_rw(path_of("old.db"), false, false, 100, &db, err, sizeof(err)),
		   UDB_ESCHEMA, "writers too, unless allowed: %s", err);

	/* Locks. */
	db = create("lock.db");
	udb_exec(db, "INSERT INTO domains (name, created) VALUES ('example.org', 0);"
		 "INSERT INTO mailboxes (domain_id, local_part, address, home, created, updated)"
		 " VALUES (1, 'alice', 'alice@example.org', '/h/alice', 0, 0)", err, sizeof(err));
	udb_close(db);
	writer = NULL;
	udb_open_rw(path_of("lock.db"), false, false, 100, &writer, err, sizeof(err));
	tap_ok(udb_begin(writer, err, sizeof(err)) == UDB_OK &&
	       udb_exec(writer, "UPDATE mailboxes SET quota_bytes = 5", err, sizeof(err)) ==
		       UDB_OK, "a writer holds the write lock (BEGIN IMMEDIATE, uncommitted)");
	tap_ok(udb_open_ro(path_of("lock.db"), 100, &ro, err, sizeof(err)) == UDB_OK,
	       "a reader still opens the database (WAL)");
	udb_lookup_init(&lk, ro);
	tap_ok(udb_mailbox_get(&lk, "alice@example.org", &mb, err, sizeof(err)) == UDB_OK &&
	       mb.quota_bytes == 0, "and reads the last committed state");
	tap_is_int(udb_mailbox_get(&lk, "bob@example.org", &mb, err, sizeof(err)), UDB_NOTFOUND,
		   "an unknown address is UDB_NOTFOUND");
	udb_lookup_deinit(&lk);
	udb_close(ro);
	udb_commit(writer, err, sizeof(err));

	tap_ok(udb_exec(writer, "PRAGMA locking_mode = EXCLUSIVE", err, sizeof(err)) == UDB_OK &&
	       udb_begin(writer, err, sizeof(err)) == UDB_OK &&
	       udb_exec(writer, "UPDATE mailboxes SET quota_bytes = 6", err, sizeof(err)) ==
		       UDB_OK && udb_commit(writer, err, sizeof(err)) == UDB_OK,
	       "a writer takes the database exclusively");
	tap_is_int(open_ro("lock.db", err, sizeof(err)), UDB_EBUSY,
		   "then readers get UDB_EBUSY (try again later): %s", err);
	udb_close(writer);
	tap_is_int(open_ro("lock.db", err, sizeof(err)), UDB_OK,
		   "once the writer is gone, readers open it again");

	tap_is_int(udb_rc_from_sqlite(SQLITE_BUSY_SNAPSHOT), UDB_EBUSY, "extended busy codes");
	tap_is_int(udb_rc_from_sqlite(SQLITE_CONSTRAINT_UNIQUE), UDB_EEXIST, "unique constraint");
	tap_is_int(udb_rc_from_sqlite(SQLITE_IOERR_READ), UDB_EFAIL, "I/O error");
	tap_is_int(udb_rc_from_sqlite(SQLITE_CORRUPT_INDEX), UDB_ECORRUPT, "corrupt index");

	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
