/* udb-db.c - opening the user database, schema and migrations (udb-db.h). */
#include "mailfruit-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf-err.h"
#include "udb-db.h"
#include "udb-schema.sql.h"

_Static_assert(UDB_N_MIGRATIONS == UDB_SCHEMA_VERSION,
	       "one migration per schema version");

enum udb_rc udb_rc_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return UDB_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return UDB_EBUSY;
	case SQLITE_CANTOPEN:
		return UDB_EMISSING;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return UDB_ECORRUPT;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return UDB_EEXIST;
		return UDB_ECONSTRAINT;
	case SQLITE_SCHEMA:
		return UDB_EBUSY; /* the schema changed under a statement: retry */
	default:
		return UDB_EFAIL;
	}
}

const char *udb_rc_str(enum udb_rc rc)
{
	switch (rc) {
	case UDB_OK: return "ok";
	case UDB_NOTFOUND: return "not found";
	case UDB_EBUSY: return "database busy";
	case UDB_EMISSING: return "database missing";
	case UDB_ECORRUPT: return "database corrupt";
	case UDB_ESCHEMA: return "unknown schema version";
	case UDB_EEXIST: return "exists already";
	case UDB_ECONSTRAINT: return "constraint failed";
	case UDB_EFAIL: return "database error";
	}
	return "?";
}

enum udb_rc udb_fail(sqlite3 *db, int rc, const char *what, char *err, size_t errlen)
{
	mf_err_set(err, errlen, "%s: %s", what,
		   db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return udb_rc_from_sqlite(rc);
}

enum udb_rc udb_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "SQL", err, errlen);
	return UDB_OK;
}

static enum udb_rc pragma_int(sqlite3 *db, const char *sql, int *value_r, char *err,
			      size_t errlen)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "reading the database header", err, errlen);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return udb_fail(db, rc, "reading the database header", err, errlen);
	return UDB_OK;
}

enum udb_rc udb_schema_version(sqlite3 *db, int *version_r, char *err, size_t errlen)
{
	return pragma_int(db, "PRAGMA user_version", version_r, err, errlen);
}

/* Is this mailfruit's database, and at which version? An empty file
 * (application_id 0, no tables) is version 0. */
static enum udb_rc check_header(sqlite3 *db, const char *path, int *version_r, char *err,
				size_t errlen)
{
	int app_id = 0, tables = 0;
	enum udb_rc ret;

	if ((ret = pragma_int(db, "PRAGMA application_id", &app_id, err, errlen)) != UDB_OK ||
	    (ret = udb_schema_version(db, version_r, err, errlen)) != UDB_OK)
		return ret;
	if (app_id == 0 && *version_r == 0) {
		ret = pragma_int(db, "SELECT count(*) FROM sqlite_master", &tables, err, errlen);
		if (ret != UDB_OK)
			return ret;
		if (tables == 0)
			return UDB_OK;
	}
	if (app_id != UDB_APPLICATION_ID) {
		mf_err_set(err, errlen, "%s is a SQLite database, but not mailfruit's "
			   "(application_id 0x%08x)", path, (unsigned int)app_id);
		return UDB_ECORRUPT;
	}
	return UDB_OK;
}

enum udb_rc udb_open_file(const char *path, int flags, int busy_ms, sqlite3 **db_r, char *err,
			  size_t errlen)
{
	sqlite3 *db = NULL;
	int rc;

	*db_r = NULL;
	rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		enum udb_rc ret = udb_fail(db, rc, path, err, errlen);

		sqlite3_close(db);
		return ret;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, busy_ms);
	/* Keep the -wal and -shm files when the last connection closes:
	 * readers without write access to the directory (Postfix's sqlite
	 * maps, as user postfix) can open a WAL database only when both
	 * exist, and SQLite would delete them on every close. */
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	*db_r = db;
	return UDB_OK;
}

enum udb_rc udb_open_ro(const char *path, int busy_ms, sqlite3 **db_r, char *err, size_t errlen)
{
	struct stat st;
	int version = 0;
	enum udb_rc ret;

	/* SQLite would report a missing file as "unable to open": say it. */
	if (stat(path, &st) < 0) {
		mf_err_set(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? UDB_EMISSING : UDB_EFAIL;
	}
	ret = udb_open_file(path, SQLITE_OPEN_READONLY, busy_ms, db_r, err, errlen);
	if (ret != UDB_OK)
		return ret;
	ret = check_header(*db_r, path, &version, err, errlen);
	if (ret == UDB_OK && version != UDB_SCHEMA_VERSION) {
		mf_err_set(err, errlen, "%s has schema version %d; this program reads version "
			   "%d (run 'mailfruit migrate'%s)", path, version, UDB_SCHEMA_VERSION,
			   version > UDB_SCHEMA_VERSION ? " with a newer mailfruit" : "");
		ret = UDB_ESCHEMA;
	}
	if (ret == UDB_OK)
		ret = udb_exec(*db_r, "PRAGMA query_only = 1", err, errlen);
	if (ret != UDB_OK) {
		udb_close(*db_r);
		*db_r = NULL;
	}
	return ret;
}

enum udb_rc udb_open_rw(const char *path, bool create, bool allow_old, int busy_ms,
			sqlite3 **db_r, char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE, version = 0, fd;
	struct stat st;
	enum udb_rc ret;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create) {
			mf_err_set(err, errlen, "%s: %s%s", path, strerror(errno),
				   errno == ENOENT ? " (create it with 'mailfruit init')" : "");
			return errno == ENOENT ? UDB_EMISSING : UDB_EFAIL;
		}
		/* Create the file ourselves: SQLite would make it 0644, and the
		 * database holds password hashes and key wraps: only its owner
		 * (root: the CLI and Dovecot's auth-worker) reads it. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			mf_err_set(err, errlen, "cannot create %s: %s", path, strerror(errno));
			return UDB_EFAIL;
		}
		if (fd >= 0)
			close(fd);
	}
	ret = udb_open_file(path, flags, busy_ms, db_r, err, errlen);
	if (ret != UDB_OK)
		return ret;
	ret = check_header(*db_r, path, &version, err, errlen);
	if (ret == UDB_OK)
		ret = udb_exec(*db_r, "PRAGMA foreign_keys = ON", err, errlen);
	if (ret == UDB_OK && version == 0 && create) {
		/* The caller runs udb_migrate(). WAL is a property of the file. */
		ret = udb_exec(*db_r, "PRAGMA journal_mode = WAL", err, errlen);
	} else if (ret == UDB_OK && version != UDB_SCHEMA_VERSION &&
		   !(allow_old && version < UDB_SCHEMA_VERSION)) {
		if (version == 0)
			mf_err_set(err, errlen, "%s is empty (create it with 'mailfruit init')",
				   path);
		else
			mf_err_set(err, errlen, "%s has schema version %d; this mailfruit uses "
				   "version %d%s", path, version, UDB_SCHEMA_VERSION,
				   version < UDB_SCHEMA_VERSION ? " (run 'mailfruit migrate')"
								: " (it is newer)");
		ret = UDB_ESCHEMA;
	}
	if (ret != UDB_OK) {
		udb_close(*db_r);
		*db_r = NULL;
	}
	return ret;
}

enum udb_rc udb_migrate(sqlite3 *db, int *from_r, char *err, size_t errlen)
{
	char sql[64];
	int version;
	enum udb_rc ret;

	if ((ret = udb_begin(db, err, errlen)) != UDB_OK)
		return ret;
	/* Read inside the transaction: two concurrent migrations must not
	 * both apply the same step. */
	ret = udb_schema_version(db, &version, err, errlen);
	*from_r = version;
	if (ret == UDB_OK && version > UDB_SCHEMA_VERSION) {
		mf_err_set(err, errlen, "schema version %d is newer than this mailfruit's (%d)",
			   version, UDB_SCHEMA_VERSION);
		ret = UDB_ESCHEMA;
	}
	if (ret == UDB_OK && version == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", UDB_APPLICATION_ID);
		ret = udb_exec(db, sql, err, errlen);
	}
	for (; ret == UDB_OK && version < UDB_SCHEMA_VERSION; version++) {
		ret = udb_exec(db, udb_migrations[version], err, errlen);
		if (ret == UDB_OK) {
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
			ret = udb_exec(db, sql, err, errlen);
		}
	}
	if (ret == UDB_OK)
		ret = udb_commit(db, err, errlen);
	else
		udb_rollback(db);
	return ret;
}

void udb_close(sqlite3 *db)
{
	/* Statements a caller forgot would keep the connection open. */
	sqlite3_close_v2(db);
}

enum udb_rc udb_begin(sqlite3 *db, char *err, size_t errlen)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "starting a transaction", err, errlen);
	return UDB_OK;
}

enum udb_rc udb_commit(sqlite3 *db, char *err, size_t errlen)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		enum udb_rc ret = udb_fail(db, rc, "committing", err, errlen);

		udb_rollback(db);
		return ret;
	}
	return UDB_OK;
}

void udb_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

enum udb_rc udb_setting_get(sqlite3 *db, const char *name, const char *def, char *out,
			    size_t outsize, char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	const char *value = def;
	int rc = sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE name = ?1", -1, &stmt,
				    NULL);
	enum udb_rc ret = UDB_OK;

	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "reading settings", err, errlen);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		value = (const char *)sqlite3_column_text(stmt, 0);
	else if (rc != SQLITE_DONE)
		ret = udb_fail(db, rc, "reading settings", err, errlen);
	if (ret == UDB_OK && value == NULL)
		ret = UDB_NOTFOUND;
	if (ret == UDB_OK && strlen(value) >= outsize) {
		mf_err_set(err, errlen, "setting %s is too long", name);
		ret = UDB_EFAIL;
	}
	if (ret == UDB_OK)
		strcpy(out, value);
	sqlite3_finalize(stmt);
	return ret;
}

enum udb_rc udb_setting_set(sqlite3 *db, const char *name, const char *value, char *err,
			    size_t errlen)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, value != NULL ?
				    "INSERT INTO settings (name, value) VALUES (?1, ?2) "
				    "ON CONFLICT (name) DO UPDATE SET value = excluded.value" :
				    "DELETE FROM settings WHERE name = ?1", -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "writing settings", err, errlen);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		enum udb_rc ret = udb_fail(db, rc, "writing settings", err, errlen);

		sqlite3_finalize(stmt);
		return ret;
	}
	sqlite3_finalize(stmt);
	return UDB_OK;
}
