/*
 * udb-sql.h - parameterized statements in one call, for the CLI's writes.
 *
 * Contract: values only ever reach SQLite as bound parameters, described
 * by a type string, one letter per parameter ?1, ?2, ...:
 *   't' const char * (NULL binds NULL), 'i' long long,
 *   'b' const void *, size_t (a BLOB), 'n' nothing (binds NULL).
 * The SQL text itself is always a constant of the program.
 */
#ifndef UDB_SQL_H
#define UDB_SQL_H

#include <stddef.h>

#include <sqlite3.h>

#include "udb-db.h"

/* Runs a statement to completion; *changes_r (may be NULL) receives
 * sqlite3_changes(). */
enum udb_rc udb_run(sqlite3 *db, char *err, size_t errlen, long long *changes_r,
		    const char *sql, const char *types, ...);

/* Prepares and binds; step with udb_step(), finish with sqlite3_finalize(). */
enum udb_rc udb_query(sqlite3 *db, sqlite3_stmt **stmt_r, char *err, size_t errlen,
		      const char *sql, const char *types, ...);
/* UDB_OK with a row, UDB_NOTFOUND at the end, or an error. */
enum udb_rc udb_step(sqlite3 *db, sqlite3_stmt *stmt, char *err, size_t errlen);

/* The first column of the first row as an integer (*value_r = def when
 * there is no row). */
enum udb_rc udb_query_int(sqlite3 *db, long long def, long long *value_r, char *err,
			  size_t errlen, const char *sql, const char *types, ...);

#endif
