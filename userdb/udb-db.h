/*
 * udb-db.h - opening mailfruit's SQLite user database; its schema and
 * migrations.
 *
 * Contract:
 *   - The database is one SQLite file in WAL mode with foreign keys on. It
 *     carries PRAGMA application_id UDB_APPLICATION_ID (so another SQLite
 *     file is never mistaken for it) and its schema version in PRAGMA
 *     user_version. Migrations from every older version to
 *     UDB_SCHEMA_VERSION run in one transaction, by the CLI only.
 *   - Readers (the Dovecot driver) open it read-only and refuse a schema
 *     other than UDB_SCHEMA_VERSION; writers (the CLI) open it read-write,
 *     create it on request, and run every change in a BEGIN IMMEDIATE
 *     transaction with a busy timeout, so concurrent invocations serialize.
 *   - Every failure is classified (enum udb_rc) so that callers can tell
 *     "try again later" (busy, locked, missing, corrupt, wrong schema) from
 *     "no such entry", and comes with a one-line message.
 */
#ifndef UDB_DB_H
#define UDB_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#define UDB_DEFAULT_PATH "/var/lib/mailfruit/users.db"
#define UDB_APPLICATION_ID 0x4d667564 /* "Mfud" */
#define UDB_SCHEMA_VERSION 1

enum udb_rc {
	UDB_OK = 0,
	UDB_NOTFOUND = 1,   /* a lookup found nothing: a definite answer */
	UDB_EBUSY = -1,     /* busy or locked by a writer: try again later */
	UDB_EMISSING = -2,  /* no database file */
	UDB_ECORRUPT = -3,  /* not a SQLite file, damaged, or not mailfruit's */
	UDB_ESCHEMA = -4,   /* schema version this program does not know */
	UDB_EEXIST = -5,    /* a unique constraint: the entry exists already */
	UDB_ECONSTRAINT = -6, /* another constraint (foreign key, check) */
	UDB_EFAIL = -7,     /* anything else: I/O, out of memory, permissions */
};

/* The class of an SQLite result code (extended or primary). */
enum udb_rc udb_rc_from_sqlite(int sqlite_rc);
/* A few words for messages: "busy", "missing", ... */
const char *udb_rc_str(enum udb_rc rc);

/* Read-only, for lookups. busy_ms: how long to wait for a writer's lock. */
enum udb_rc udb_open_ro(const char *path, int busy_ms, sqlite3 **db_r, char *err, size_t errlen);

/* Opens any SQLite file (flags: SQLITE_OPEN_*) with extended result codes,
 * the busy timeout and SQLITE_FCNTL_PERSIST_WAL (readers without write
 * access to the directory need the -wal and -shm files to exist). */
enum udb_rc udb_open_file(const char *path, int flags, int busy_ms, sqlite3 **db_r, char *err,
			  size_t errlen);

/* Read-write. With create, a missing or empty file is accepted (a new
 * file is made mode 0600, put in WAL mode, and needs udb_migrate() to get
 * its tables); otherwise the file must be mailfruit's at
 * UDB_SCHEMA_VERSION, or older when allow_old (for udb_migrate()). */
enum udb_rc udb_open_rw(const char *path, bool create, bool allow_old, int busy_ms,
			sqlite3 **db_r, char *err, size_t errlen);

/* The schema version of an open database (0 for an empty file). */
enum udb_rc udb_schema_version(sqlite3 *db, int *version_r, char *err, size_t errlen);
/* Applies the migrations from the current version; *from_r receives it. */
enum udb_rc udb_migrate(sqlite3 *db, int *from_r, char *err, size_t errlen);

void udb_close(sqlite3 *db);

/* BEGIN IMMEDIATE (takes the write lock at once, so a concurrent writer
 * waits for the busy timeout instead of failing half-way), COMMIT and
 * ROLLBACK. */
enum udb_rc udb_begin(sqlite3 *db, char *err, size_t errlen);
enum udb_rc udb_commit(sqlite3 *db, char *err, size_t errlen);
void udb_rollback(sqlite3 *db);

/* Runs SQL without results (no parameters: for fixed statements only). */
enum udb_rc udb_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Classifies rc and writes "what: sqlite's message" into err. */
enum udb_rc udb_fail(sqlite3 *db, int rc, const char *what, char *err, size_t errlen);

/* Settings stored in the database (table settings). NULL default allowed;
 * get copies the value or the default into out. */
enum udb_rc udb_setting_get(sqlite3 *db, const char *name, const char *def, char *out,
			    size_t outsize, char *err, size_t errlen);
enum udb_rc udb_setting_set(sqlite3 *db, const char *name, const char *value, char *err,
			    size_t errlen);

#endif
