/*
 * authdb-mailfruit.h - what the mailfruit passdb/userdb driver
 * (authdb-mailfruit.c, the same on every Dovecot release) shares with the
 * release's configuration file (authdb-mailfruit-23.c for Dovecot 2.3,
 * authdb-mailfruit-24.c for 2.4).
 *
 * Contract:
 *   - authdb-mailfruit.c holds the lookups, the interfaces and the module's
 *     exports (authdb_mailfruit_init/_deinit/_version).
 *   - The release's file holds the interfaces' preinit (reading the
 *     configuration: 2.3 the args string, 2.4 settings) and the
 *     mf_request_* functions for what changed between releases (2.3 names
 *     a log subsystem, 2.4 an event; the userdb field adding a plugin).
 *   - The passdb has no cache key: a cached entry would have to hold what
 *     verifies the password (for TREES mailboxes: the derived key). Both
 *     are blocking modules (argon2 and SQLite in auth-worker processes).
 */
#ifndef AUTHDB_MAILFRUIT_H
#define AUTHDB_MAILFRUIT_H

#include "passdb.h"
#include "userdb.h"

#define MF_DEFAULT_BUSY_MS 1000
#define MF_MAX_BUSY_MS 600000

/* One read-only connection per database path and busy timeout in this
   process, opened lazily (in the worker, not the auth master). */
struct mf_db;

struct mf_passdb_module {
	struct passdb_module module;
	struct mf_db *db;
};

struct mf_userdb_module {
	struct userdb_module module;
	struct mf_db *db;
};

struct mf_db *mf_db_ref(const char *path, unsigned int busy_ms);
void mf_db_unref(struct mf_db **db);

/* Per release: the interfaces' preinit, with the type the release's
   interface structs give it (2.3: pool and args string; 2.4: pool, event,
   module_r, error_r). It reads the configuration, takes the database with
   mf_db_ref() and sets the userdb's cache key. */
typedef __typeof__(*((struct passdb_module_interface *)NULL)->preinit) mf_passdb_preinit_t;
typedef __typeof__(*((struct userdb_module_interface *)NULL)->preinit) mf_userdb_preinit_t;
mf_passdb_preinit_t mf_passdb_preinit;
mf_userdb_preinit_t mf_userdb_preinit;

/* Per release (authdb-mailfruit-23.c / -24.c): logging in the request's
   passdb/userdb context, and Dovecot's own password schemes. */
void mf_request_log_unknown_user(struct auth_request *request);
void mf_request_log_password_mismatch(struct auth_request *request);
/* PASSDB_RESULT_OK, _PASSWORD_MISMATCH (logged) or a failure (logged). */
enum passdb_result mf_request_password_verify(struct auth_request *request, const char *plain,
					      const char *crypted, const char *scheme);
/* Adds the userdb field that makes every Dovecot process serving the user
   load the TREES plugin whatever the local mail_plugins say (a protocol
   lmtp { } leaving it out cannot deliver in clear); a process that cannot
   load it fails the session or delivery (LMTP: 4xx). The field is the
   release's syntax for adding one plugin to mail_plugins. */
void mf_request_require_trees_plugin(struct auth_request *request);

#define MF_EXPORT __attribute__((visibility("default")))

#endif
