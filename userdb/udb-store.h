/*
 * udb-store.h - the lookups Dovecot's driver and the CLI share: a mailbox
 * by address, its key wraps, and the list of all mailboxes.
 *
 * Contract: a struct udb_lookup keeps prepared statements for one open
 * connection (the driver looks up a user in a few microseconds, without
 * re-parsing SQL). Addresses must be normalized (udb-addr.h) by the
 * caller. Values read back are checked (key and salt lengths, numbers,
 * characters) so that a damaged or hand-edited row gives UDB_ECORRUPT
 * rather than garbage in a userdb reply. Returns UDB_OK, UDB_NOTFOUND or
 * an error class with a message.
 */
#ifndef UDB_STORE_H
#define UDB_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "trees-key.h"
#include "udb-addr.h"
#include "udb-cred.h"
#include "udb-db.h"
#include "udb-hash.h"

#define UDB_HOME_MAX 1024
#define UDB_ID_MAX 32   /* a uid/gid setting: number or name */

struct udb_mailbox {
	long long id;
	char address[UDB_ADDRESS_MAX + 1];
	char home[UDB_HOME_MAX + 1];
	char password_hash[UDB_HASH_MAX + 1];  /* "" for none */
	unsigned long long quota_bytes;        /* 0: no limit */
	bool active;
	bool has_keys;                         /* a TREES key pair */
	bool trees_enabled;
	unsigned int trees_version;
	unsigned char public_key[TREES_KEYBYTES];
	char mail_uid[UDB_ID_MAX + 1], mail_gid[UDB_ID_MAX + 1];  /* "" when unset */
	long long created, updated;
};

enum udb_stmt_id {
	UDB_STMT_MAILBOX,
	UDB_STMT_WRAPS,
	UDB_STMT_DATA_VERSION,
	UDB_STMT_COUNT,
};

struct udb_lookup {
	sqlite3 *db;
	sqlite3_stmt *stmt[UDB_STMT_COUNT];
	sqlite3_stmt *iter;
	long long data_version;
};

void udb_lookup_init(struct udb_lookup *lk, sqlite3 *db);
/* Finalizes the statements; the connection stays open. */
void udb_lookup_deinit(struct udb_lookup *lk);

/* For long-lived connections: when another connection changed the file
 * since the last call (PRAGMA data_version, a few microseconds), checks
 * again that it is mailfruit's at UDB_SCHEMA_VERSION (a newer CLI may have
 * migrated it meanwhile): UDB_ESCHEMA / UDB_ECORRUPT otherwise. */
enum udb_rc udb_lookup_check(struct udb_lookup *lk, char *err, size_t errlen);

enum udb_rc udb_mailbox_get(struct udb_lookup *lk, const char *address, struct udb_mailbox *mb,
			    char *err, size_t errlen);
enum udb_rc udb_wraps_get(struct udb_lookup *lk, long long mailbox_id, struct udb_wrap *wraps,
			  size_t max, size_t *n_r, char *err, size_t errlen);
/* The mailbox and its wraps from one snapshot of the database (a read
 * transaction), so a password change cannot fall between the two reads. */
enum udb_rc udb_login_get(struct udb_lookup *lk, const char *address, struct udb_mailbox *mb,
			  struct udb_wrap *wraps, size_t max, size_t *n_r, char *err,
			  size_t errlen);

/* Every mailbox address in order: start, then next until UDB_NOTFOUND. */
enum udb_rc udb_iter_start(struct udb_lookup *lk, char *err, size_t errlen);
enum udb_rc udb_iter_next(struct udb_lookup *lk, char address[UDB_ADDRESS_MAX + 1], char *err,
			  size_t errlen);
void udb_iter_end(struct udb_lookup *lk);

/* Expands a home template: %d domain, %n local part, %u address, %% '%'.
 * The result must be an absolute path without "..", '%' or control
 * characters (Dovecot would expand '%' again). */
int udb_home_expand(const char *tmpl, const char *local, const char *domain,
		    char out[UDB_HOME_MAX + 1], char *err, size_t errlen);

#endif
