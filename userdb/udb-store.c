/* udb-store.c - shared lookups (udb-store.h). */
#include "mailfruit-config.h"

#include <stdio.h>
#include <string.h>

#include "mf-err.h"
#include "udb-sql.h"
#include "udb-store.h"

static const char *const stmt_sql[UDB_STMT_COUNT] = {
	[UDB_STMT_MAILBOX] =
		"SELECT m.id, m.address, m.home, m.password_hash, m.quota_bytes, m.active,"
		" k.mailbox_id IS NOT NULL, k.enabled, k.version, k.public_key,"
		" (SELECT value FROM settings WHERE name = 'mail_uid'),"
		" (SELECT value FROM settings WHERE name = 'mail_gid'),"
		" m.created, m.updated"
		" FROM mailboxes m LEFT JOIN trees_keys k ON k.mailbox_id = m.id"
		" WHERE m.address = ?1",
	[UDB_STMT_WRAPS] =
		"SELECT id, kind, name, tag, pwhash_algo, pwhash_opslimit, pwhash_memlimit,"
		" pwhash_salt, sk_nonce, locked_secretbox, created"
		" FROM key_wraps WHERE mailbox_id = ?1 ORDER BY id",
	[UDB_STMT_DATA_VERSION] = "PRAGMA data_version",
};

void udb_lookup_init(struct udb_lookup *lk, sqlite3 *db)
{
	memset(lk, 0, sizeof(*lk));
	lk->db = db;
}

void udb_lookup_deinit(struct udb_lookup *lk)
{
	size_t i;

	for (i = 0; i < UDB_STMT_COUNT; i++)
		sqlite3_finalize(lk->stmt[i]);
	sqlite3_finalize(lk->iter);
	memset(lk->stmt, 0, sizeof(lk->stmt));
	lk->iter = NULL;
}

static enum udb_rc stmt_get(struct udb_lookup *lk, enum udb_stmt_id id, sqlite3_stmt **stmt_r,
			    char *err, size_t errlen)
{
	int rc;

	if (lk->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(lk->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					&lk->stmt[id], NULL);
		if (rc != SQLITE_OK)
			return udb_fail(lk->db, rc, "preparing a lookup", err, errlen);
	}
	*stmt_r = lk->stmt[id];
	return UDB_OK;
}

/* Copies a TEXT column that must fit and contain only printable ASCII
 * (NULL gives ""). */
static bool text_col(sqlite3_stmt *stmt, int col, char *out, size_t outsize)
{
	const unsigned char *v = sqlite3_column_text(stmt, col);
	size_t len, i;

	if (v == NULL) {
		out[0] = '\0';
		return true;
	}
	len = (size_t)sqlite3_column_bytes(stmt, col);
	if (len >= outsize)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] >= 0x7f)
			return false;
	}
	memcpy(out, v, len + 1);
	return true;
}

static bool blob_col(sqlite3_stmt *stmt, int col, unsigned char *out, size_t len)
{
	const void *v = sqlite3_column_blob(stmt, col);

	if (sqlite3_column_type(stmt, col) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(stmt, col) != len || v == NULL)
		return false;
	memcpy(out, v, len);
	return true;
}

static enum udb_rc corrupt(const char *what, const char *who, char *err, size_t errlen)
{
	mf_err_set(err, errlen, "invalid %s in the database for %s", what, who);
	return UDB_ECORRUPT;
}

enum udb_rc udb_lookup_check(struct udb_lookup *lk, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	enum udb_rc ret = stmt_get(lk, UDB_STMT_DATA_VERSION, &s, err, errlen);
	long long version = 0, app_id = 0, schema = 0;
	int rc;

	if (ret != UDB_OK)
		return ret;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		version = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return udb_fail(lk->db, rc, "checking the database", err, errlen);
	if (version == lk->data_version)
		return UDB_OK;
	ret = udb_query_int(lk->db, 0, &app_id, err, errlen, "PRAGMA application_id", "");
	if (ret == UDB_OK)
		ret = udb_query_int(lk->db, 0, &schema, err, errlen, "PRAGMA user_version", "");
	if (ret != UDB_OK)
		return ret;
	if (app_id != UDB_APPLICATION_ID) {
		mf_err_set(err, errlen, "the database is no longer mailfruit's");
		return UDB_ECORRUPT;
	}
	if (schema != UDB_SCHEMA_VERSION) {
		mf_err_set(err, errlen, "the database now has schema version %lld; this program "
			   "reads version %d", schema, UDB_SCHEMA_VERSION);
		return UDB_ESCHEMA;
	}
	lk->data_version = version;
	return UDB_OK;
}

static enum udb_rc read_mailbox(sqlite3_stmt *s, const char *address, struct udb_mailbox *mb,
				char *err, size_t errlen)
{
	long long quota;

	memset(mb, 0, sizeof(*mb));
	mb->id = sqlite3_column_int64(s, 0);
	if (!text_col(s, 1, mb->address, sizeof(mb->address)) || strcmp(mb->address, address) != 0)
		return corrupt("address", address, err, errlen);
	if (!text_col(s, 2, mb->home, sizeof(mb->home)) || mb->home[0] != '/' ||
	    strchr(mb->home, '%') != NULL)
		return corrupt("home", address, err, errlen);
	if (!text_col(s, 3, mb->password_hash, sizeof(mb->password_hash)) ||
	    strchr(mb->password_hash, ' ') != NULL)
		return corrupt("password hash", address, err, errlen);
	quota = sqlite3_column_int64(s, 4);
	if (quota < 0)
		return corrupt("quota", address, err, errlen);
	mb->quota_bytes = (unsigned long long)quota;
	mb->active = sqlite3_column_int(s, 5) != 0;
	mb->has_keys = sqlite3_column_int(s, 6) != 0;
	if (mb->has_keys) {
		mb->trees_enabled = sqlite3_column_int(s, 7) != 0;
		mb->trees_version = (unsigned int)sqlite3_column_int(s, 8);
		if (mb->trees_version < 1 || mb->trees_version > 2)
			return corrupt("trees version", address, err, errlen);
		if (!blob_col(s, 9, mb->public_key, TREES_KEYBYTES))
			return corrupt("public key", address, err, errlen);
	}
	if (!text_col(s, 10, mb->mail_uid, sizeof(mb->mail_uid)) ||
	    !text_col(s, 11, mb->mail_gid, sizeof(mb->mail_gid)) ||
	    strchr(mb->mail_uid, '%') != NULL || strchr(mb->mail_gid, '%') != NULL)
		return corrupt("mail_uid/mail_gid setting", address, err, errlen);
	mb->created = sqlite3_column_int64(s, 12);
	mb->updated = sqlite3_column_int64(s, 13);
	return UDB_OK;
}

enum udb_rc udb_mailbox_get(struct udb_lookup *lk, const char *address, struct udb_mailbox *mb,
			    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	enum udb_rc ret = stmt_get(lk, UDB_STMT_MAILBOX, &s, err, errlen);
	int rc;

	if (ret != UDB_OK)
		return ret;
	sqlite3_bind_text(s, 1, address, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = read_mailbox(s, address, mb, err, errlen);
	else if (rc == SQLITE_DONE)
		ret = UDB_NOTFOUND;
	else
		ret = udb_fail(lk->db, rc, "looking up a mailbox", err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

static enum udb_rc read_wrap(sqlite3_stmt *s, struct udb_wrap *w, char *err, size_t errlen)
{
	char kind[16];
	long long algo, ops, mem;

	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(s, 0);
	if (!text_col(s, 1, kind, sizeof(kind)) || udb_wrap_kind_parse(kind, &w->kind) < 0 ||
	    !text_col(s, 2, w->name, sizeof(w->name)))
		return corrupt("key wrap kind or name", "a key wrap", err, errlen);
	if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
		if (!blob_col(s, 3, w->tag, UDB_TAGBYTES))
			return corrupt("key wrap tag", "a key wrap", err, errlen);
		w->has_tag = true;
	}
	algo = sqlite3_column_int64(s, 4);
	ops = sqlite3_column_int64(s, 5);
	mem = sqlite3_column_int64(s, 6);
	if (algo < 0 || algo > 1 || ops <= 0 || mem <= 0 ||
	    !blob_col(s, 7, w->locked.salt, TREES_SALTBYTES) ||
	    !blob_col(s, 8, w->locked.nonce, TREES_NONCEBYTES) ||
	    !blob_col(s, 9, w->locked.box, TREES_LOCKEDBOXBYTES))
		return corrupt("key wrap parameters", "a key wrap", err, errlen);
	w->locked.algo = (enum trees_pwhash_algo)algo;
	w->locked.opslimit = (unsigned long long)ops;
	w->locked.memlimit = (size_t)mem;
	w->created = sqlite3_column_int64(s, 10);
	return UDB_OK;
}

enum udb_rc udb_wraps_get(struct udb_lookup *lk, long long mailbox_id, struct udb_wrap *wraps,
			  size_t max, size_t *n_r, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	enum udb_rc ret = stmt_get(lk, UDB_STMT_WRAPS, &s, err, errlen);
	int rc;

	*n_r = 0;
	if (ret != UDB_OK)
		return ret;
	sqlite3_bind_int64(s, 1, mailbox_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		/* The CLI never stores more: more is tampering. */
		if (*n_r == max) {
			ret = corrupt("number of key wraps", "a mailbox", err, errlen);
			break;
		}
		if ((ret = read_wrap(s, &wraps[*n_r], err, errlen)) != UDB_OK)
			break;
		(*n_r)++;
	}
	if (ret == UDB_OK && rc != SQLITE_DONE)
		ret = udb_fail(lk->db, rc, "reading key wraps", err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

enum udb_rc udb_login_get(struct udb_lookup *lk, const char *address, struct udb_mailbox *mb,
			  struct udb_wrap *wraps, size_t max, size_t *n_r, char *err,
			  size_t errlen)
{
	bool own_tx = sqlite3_get_autocommit(lk->db) != 0;
	enum udb_rc ret = UDB_OK;

	*n_r = 0;
	if (own_tx && (ret = udb_exec(lk->db, "BEGIN", err, errlen)) != UDB_OK)
		return ret;
	ret = udb_mailbox_get(lk, address, mb, err, errlen);
	if (ret == UDB_OK && mb->has_keys)
		ret = udb_wraps_get(lk, mb->id, wraps, max, n_r, err, errlen);
	if (own_tx)
		sqlite3_exec(lk->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}

enum udb_rc udb_iter_start(struct udb_lookup *lk, char *err, size_t errlen)
{
	int rc;

	udb_iter_end(lk);
	rc = sqlite3_prepare_v2(lk->db, "SELECT address FROM mailboxes ORDER BY address", -1,
				&lk->iter, NULL);
	if (rc != SQLITE_OK)
		return udb_fail(lk->db, rc, "listing mailboxes", err, errlen);
	return UDB_OK;
}

enum udb_rc udb_iter_next(struct udb_lookup *lk, char address[UDB_ADDRESS_MAX + 1], char *err,
			  size_t errlen)
{
	int rc = sqlite3_step(lk->iter);

	if (rc == SQLITE_DONE)
		return UDB_NOTFOUND;
	if (rc != SQLITE_ROW)
		return udb_fail(lk->db, rc, "listing mailboxes", err, errlen);
	if (!text_col(lk->iter, 0, address, UDB_ADDRESS_MAX + 1) ||
	    strchr(address, '%') != NULL)
		return corrupt("address", "a mailbox", err, errlen);
	return UDB_OK;
}

void udb_iter_end(struct udb_lookup *lk)
{
	sqlite3_finalize(lk->iter);
	lk->iter = NULL;
}

int udb_home_expand(const char *tmpl, const char *local, const char *domain,
		    char out[UDB_HOME_MAX + 1], char *err, size_t errlen)
{
	size_t o = 0;
	const char *p, *add;

	for (p = tmpl; *p != '\0'; p++) {
		char one[2] = { *p, '\0' };

		add = one;
		if (*p == '%') {
			p++;
			if (*p == 'd')
				add = domain;
			else if (*p == 'n')
				add = local;
			else if (*p == 'u')
				add = NULL;
			else if (*p == '%')
				add = "%";
			else
				return mf_err_set(err, errlen, "home template '%s': unknown variable "
						  "(use %%d, %%n, %%u, %%%%)", tmpl), -1;
		}
		if (add == NULL) {
			if (o + strlen(local) + 1 + strlen(domain) > UDB_HOME_MAX)
				goto toolong;
			o += (size_t)sprintf(out + o, "%s@%s", local, domain);
			continue;
		}
		if (o + strlen(add) > UDB_HOME_MAX)
			goto toolong;
		strcpy(out + o, add);
		o += strlen(add);
	}
	out[o] = '\0';
	if (out[0] != '/' || strstr(out, "/../") != NULL || strstr(out, "/./") != NULL ||
	    (o >= 3 && strcmp(out + o - 3, "/..") == 0) || strchr(out, '%') != NULL)
		return mf_err_set(err, errlen, "home '%s' must be an absolute path without '..', "
				  "'.' or '%%'", out), -1;
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return mf_err_set(err, errlen, "home template contains control or "
					  "non-ASCII characters"), -1;
	}
	return 0;
toolong:
	return mf_err_set(err, errlen, "home longer than %d characters", UDB_HOME_MAX), -1;
}
