/* udb-sql.c - parameterized statements (udb-sql.h). */
#include "mailfruit-config.h"

#include <stdarg.h>

#include "mf-err.h"
#include "udb-sql.h"

static enum udb_rc vprepare(sqlite3 *db, sqlite3_stmt **stmt_r, char *err, size_t errlen,
			    const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), i;

	*stmt_r = NULL;
	if (rc != SQLITE_OK)
		return udb_fail(db, rc, "preparing SQL", err, errlen);
	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 't':
			rc = sqlite3_bind_text(stmt, i + 1, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
			break;
		case 'i':
			rc = sqlite3_bind_int64(stmt, i + 1, va_arg(ap, long long));
			break;
		case 'b': {
			const void *data = va_arg(ap, const void *);
			size_t len = va_arg(ap, size_t);

			rc = sqlite3_bind_blob(stmt, i + 1, data, (int)len, SQLITE_TRANSIENT);
			break;
		}
		case 'n':
			rc = sqlite3_bind_null(stmt, i + 1);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	if (rc != SQLITE_OK) {
		enum udb_rc ret = udb_fail(db, rc, "binding SQL parameters", err, errlen);

		sqlite3_finalize(stmt);
		return ret;
	}
	*stmt_r = stmt;
	return UDB_OK;
}

enum udb_rc udb_query(sqlite3 *db, sqlite3_stmt **stmt_r, char *err, size_t errlen,
		      const char *sql, const char *types, ...)
{
	va_list ap;
	enum udb_rc ret;

	va_start(ap, types);
	ret = vprepare(db, stmt_r, err, errlen, sql, types, ap);
	va_end(ap);
	return ret;
}

enum udb_rc udb_step(sqlite3 *db, sqlite3_stmt *stmt, char *err, size_t errlen)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return UDB_OK;
	if (rc == SQLITE_DONE)
		return UDB_NOTFOUND;
	return udb_fail(db, rc, "SQL", err, errlen);
}

enum udb_rc udb_run(sqlite3 *db, char *err, size_t errlen, long long *changes_r,
		    const char *sql, const char *types, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	enum udb_rc ret;
	int rc;

	va_start(ap, types);
	ret = vprepare(db, &stmt, err, errlen, sql, types, ap);
	va_end(ap);
	if (ret != UDB_OK)
		return ret;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		ret = udb_fail(db, rc, "SQL", err, errlen);
	else if (changes_r != NULL)
		*changes_r = sqlite3_changes(db);
	sqlite3_finalize(stmt);
	return ret;
}

enum udb_rc udb_query_int(sqlite3 *db, long long def, long long *value_r, char *err,
			  size_t errlen, const char *sql, const char *types, ...)
{
	sqlite3_stmt *stmt;
	va_list ap;
	enum udb_rc ret;

	va_start(ap, types);
	ret = vprepare(db, &stmt, err, errlen, sql, types, ap);
	va_end(ap);
	if (ret != UDB_OK)
		return ret;
	ret = udb_step(db, stmt, err, errlen);
	*value_r = ret == UDB_OK ? sqlite3_column_int64(stmt, 0) : def;
	if (ret == UDB_NOTFOUND)
		ret = UDB_OK;
	sqlite3_finalize(stmt);
	return ret;
}
