/*
 * authdb-mailfruit.c - Dovecot passdb and userdb driver "mailfruit"
 * (libauthdb_mailfruit.so) over mailfruit's SQLite user database: the
 * lookups, the same on Dovecot 2.3 and 2.4. How the driver is configured
 * and registered is the release's (authdb-mailfruit-23.c / -24.c; the
 * configuration in docs/userdb.md).
 *
 * Contract:
 *   - Both are blocking modules: every lookup, and argon2, runs in
 *     auth-worker processes, never in the auth master. Each worker keeps
 *     one read-only connection per database file and reopens it when the
 *     file is replaced or after an error.
 *   - A login of a mailbox with TREES keys is verified by opening the one
 *     key wrap the password can open (udb-cred.h): exactly one argon2. The
 *     derived key goes to the mail process as userdb trees_secretbox_key
 *     with that wrap's fields, so the plugin unlocks the secret key without
 *     argon2 and the password never leaves the auth process. Mailboxes
 *     without keys are verified by Dovecot's schemes
 *     (auth_request_password_verify), or libargon2 for argon2 hashes
 *     libsodium cannot verify.
 *   - userdb: home, uid/gid (when set in the database), quota_rule,
 *     trees_enabled/version/public_key (all LMTP needs to encrypt).
 *   - A busy, locked, missing, corrupt or unknown-schema database is a
 *     temporary failure (INTERNAL_FAILURE), never "unknown user", so mail
 *     is deferred, not bounced. A name that is not a valid address cannot
 *     be in the database: unknown user, without touching it.
 *   - Every value returned was validated when it was stored and is checked
 *     again when read (udb-store.h): no '%' reaches Dovecot's expansion.
 */
#include "auth-common.h"
#include "array.h"
#include "str.h"
#include "passdb.h"
#include "userdb.h"
#include "password-scheme.h"
#include "auth-request.h"
#include "authdb-mailfruit.h"

#include <sys/stat.h>

#include <sodium.h>

#include "mf-secmem.h"
#include "mf-memwipe.h"
#include "udb-store.h"

/* One read-only connection per database path in this process. */
struct mf_db {
	struct mf_db *next;
	char *path;
	int busy_ms;
	int refcount;
	sqlite3 *db;
	struct udb_lookup lk;
	dev_t dev;
	ino_t ino;
};

static struct mf_db *mf_dbs;

struct mf_iterate_context {
	struct userdb_iterate_context ctx;
	struct mf_db *db;
};

struct mf_db *mf_db_ref(const char *path, unsigned int busy_ms)
{
	struct mf_db *db;

	for (db = mf_dbs; db != NULL; db = db->next) {
		if (strcmp(db->path, path) == 0 && db->busy_ms == (int)busy_ms) {
			db->refcount++;
			return db;
		}
	}
	db = i_new(struct mf_db, 1);
	db->path = i_strdup(path);
	db->busy_ms = (int)busy_ms;
	db->refcount = 1;
	db->next = mf_dbs;
	mf_dbs = db;
	return db;
}

static void mf_db_close(struct mf_db *db)
{
	if (db->db == NULL)
		return;
	udb_lookup_deinit(&db->lk);
	udb_close(db->db);
	db->db = NULL;
}

void mf_db_unref(struct mf_db **_db)
{
	struct mf_db *db = *_db, **p;

	*_db = NULL;
	if (--db->refcount > 0)
		return;
	for (p = &mf_dbs; *p != db; p = &(*p)->next)
		;
	*p = db->next;
	mf_db_close(db);
	i_free(db->path);
	i_free(db);
}

/* The connection, opened lazily (in the worker, not the auth master) and
 * again when the file was replaced, e.g. restored from a backup. */
static enum udb_rc mf_db_get(struct mf_db *db, char *err, size_t errlen)
{
	struct stat st;
	enum udb_rc rc;

	if (db->db != NULL && (stat(db->path, &st) < 0 || st.st_ino != db->ino ||
			       st.st_dev != db->dev))
		mf_db_close(db);
	if (db->db != NULL) {
		rc = udb_lookup_check(&db->lk, err, errlen);
		if (rc != UDB_OK && rc != UDB_EBUSY)
			mf_db_close(db);
		return rc;
	}
	rc = udb_open_ro(db->path, db->busy_ms, &db->db, err, errlen);
	if (rc != UDB_OK)
		return rc;
	if (stat(db->path, &st) == 0) {
		db->dev = st.st_dev;
		db->ino = st.st_ino;
	}
	udb_lookup_init(&db->lk, db->db);
	return udb_lookup_check(&db->lk, err, errlen);
}

/* After an error other than "busy" the connection may be stale. */
static void mf_db_failed(struct mf_db *db, enum udb_rc rc)
{
	if (rc != UDB_EBUSY)
		mf_db_close(db);
}

/* The request's user as a normalized address; false when it cannot be one
 * (then it cannot be in the database either). */
static bool mf_address(struct auth_request *request, char addr[UDB_ADDRESS_MAX + 1])
{
	char err[256];

	if (udb_address_normalize(request->fields.user, addr, NULL, NULL, err, sizeof(err)) < 0) {
		e_debug(authdb_event(request), "not a mailfruit address: %s", err);
		return FALSE;
	}
	return TRUE;
}

static void mf_log_db_error(struct auth_request *request, enum udb_rc rc, const char *err)
{
	e_error(authdb_event(request), "%s (%s: temporary failure)", err, udb_rc_str(rc));
}

struct mf_emit_ctx {
	struct auth_request *request;
};

static void mf_emit_userdb(void *context, const char *field, const char *value)
{
	struct mf_emit_ctx *ctx = context;

	auth_request_set_field(ctx->request, t_strconcat("userdb_", field, NULL), value, NULL);
}

/* The fields the TREES plugin needs to unlock with the derived key; the
   key's hex (locked memory) is returned for mf_wipe_sent_key(). */
static char *mf_set_unlock_fields(struct auth_request *request, const struct udb_mailbox *mb,
				  const struct udb_wrap *wrap, const unsigned char *key)
{
	struct mf_emit_ctx ctx = { request };
	char *hex = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES * 2 + 1);

	if (hex == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mailfruit: out of locked memory");
	sodium_bin2hex(hex, TREES_SECRETBOX_KEYBYTES * 2 + 1, key, TREES_SECRETBOX_KEYBYTES);
	auth_request_set_field(request, "userdb_trees_secretbox_key", hex, NULL);
	trees_locked_key_fields(&wrap->locked, mb->public_key, mf_emit_userdb, &ctx);
	auth_request_set_field(request, "userdb_trees_enabled", mb->trees_enabled ? "1" : "0",
			       NULL);
	auth_request_set_field(request, "userdb_trees_version", dec2str(mb->trees_version), NULL);
	return hex;
}

/* Once the reply carrying the derived key has gone to the auth master,
   this worker needs it no more: Dovecot's copies (the request's fields,
   the serialized reply, the request line from the master) are in pools
   and buffers it frees without wiping, so they are found by value and
   zeroed (mf-memwipe.h); so is what argon2 and libsodium left on the
   stack. */
static void mf_wipe_sent_key(char *key_hex)
{
	if (key_hex != NULL) {
		(void)mf_memwipe_process(key_hex, strlen(key_hex));
		mf_secmem_free(key_hex);
	}
	mf_memwipe_stack();
}

/* The recovery code resets the password ('mailfruit user passwd'); it is no
 * login (issue 12): drop its wrap, so that typed at a login it is tried
 * as the password and fails. Returns the number of wraps kept in front. */
static size_t mf_login_wraps(struct udb_wrap *wraps, size_t n)
{
	size_t i, kept = 0;

	for (i = 0; i < n; i++) {
		if (wraps[i].kind != UDB_WRAP_RECOVERY)
			wraps[kept++] = wraps[i];
	}
	return kept;
}

static enum passdb_result mf_verify_keys(struct auth_request *request,
					 const struct udb_mailbox *mb,
					 const struct udb_wrap *wraps, size_t n,
					 const char *password, char **key_hex_r)
{
	unsigned char *key = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES);
	char err[256] = "";
	size_t used = 0;
	int ret;

	if (key == NULL) {
		e_error(authdb_event(request), "out of locked memory");
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	ret = udb_unlock(wraps, n, mb->public_key, password, strlen(password), &used, key, NULL,
			 err, sizeof(err));
	/* Tests count these lines: one argon2 per login. */
	e_debug(authdb_event(request), "argon2 key unlock #%lu in this process: %s",
		udb_argon2_count(),
		ret > 0 ? t_strdup_printf("opened the %s key wrap%s%s",
					  udb_wrap_kind_str(wraps[used].kind),
					  wraps[used].kind == UDB_WRAP_APP ? " " : "",
					  wraps[used].kind == UDB_WRAP_APP ? wraps[used].name : "")
			: err);
	if (ret > 0)
		*key_hex_r = mf_set_unlock_fields(request, mb, &wraps[used], key);
	mf_secmem_free(key);
	if (ret == 0) {
		mf_request_log_password_mismatch(request);
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	if (ret < 0) {
		e_error(authdb_event(request), "unlocking the key: %s", err);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	return PASSDB_RESULT_OK;
}

static enum passdb_result mf_verify_hash(struct auth_request *request,
					 const struct udb_mailbox *mb, const char *password)
{
	const char *crypted = mb->password_hash, *scheme;
	char err[256] = "";
	int ret;

	if (crypted[0] == '\0') {
		e_info(authdb_event(request), "mailbox has neither a key nor a password hash");
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	if (udb_hash_needs_libargon2(crypted)) {
		ret = udb_hash_verify_libargon2(crypted, password, strlen(password), err,
						sizeof(err));
		if (ret < 0)
			e_error(authdb_event(request), "%s", err);
		else if (ret == 0)
			mf_request_log_password_mismatch(request);
	} else {
		scheme = password_get_scheme(&crypted);
		return mf_request_password_verify(request, password, crypted, scheme);
	}
	return ret > 0 ? PASSDB_RESULT_OK :
	       ret == 0 ? PASSDB_RESULT_PASSWORD_MISMATCH : PASSDB_RESULT_INTERNAL_FAILURE;
}

/* The request's mailbox, with its key wraps when WRAPS is not NULL. UDB_OK:
   found. UDB_NOTFOUND: logged as an unknown user. Anything else: logged,
   and a broken database handle dropped, for a temporary failure. */
static enum udb_rc mf_mailbox_lookup(struct auth_request *request, struct mf_db *db,
				     struct udb_mailbox *mb, struct udb_wrap *wraps, size_t *n)
{
	char addr[UDB_ADDRESS_MAX + 1], err[512] = "";
	enum udb_rc rc;

	if (!mf_address(request, addr)) {
		mf_request_log_unknown_user(request);
		return UDB_NOTFOUND;
	}
	rc = mf_db_get(db, err, sizeof(err));
	if (rc == UDB_OK && wraps != NULL)
		rc = udb_login_get(&db->lk, addr, mb, wraps, UDB_WRAPS_MAX, n, err, sizeof(err));
	else if (rc == UDB_OK)
		rc = udb_mailbox_get(&db->lk, addr, mb, err, sizeof(err));
	if (rc == UDB_NOTFOUND) {
		mf_request_log_unknown_user(request);
	} else if (rc != UDB_OK) {
		mf_log_db_error(request, rc, err);
		mf_db_failed(db, rc);
	}
	return rc;
}

static void mf_verify_plain(struct auth_request *request, const char *password,
			    verify_plain_callback_t *callback)
{
	struct mf_passdb_module *module = (struct mf_passdb_module *)request->passdb->passdb;
	struct udb_wrap wraps[UDB_WRAPS_MAX];
	struct udb_mailbox mb;
	char *key_hex = NULL;
	size_t n = 0;
	enum udb_rc rc;

	rc = mf_mailbox_lookup(request, module->db, &mb, wraps, &n);
	if (rc != UDB_OK) {
		callback(rc == UDB_NOTFOUND ? PASSDB_RESULT_USER_UNKNOWN :
			 PASSDB_RESULT_INTERNAL_FAILURE, request);
		return;
	}
	auth_request_set_field(request, "user", mb.address, NULL);
	if (!mb.active) {
		e_info(authdb_event(request), "mailbox is disabled");
		callback(PASSDB_RESULT_USER_DISABLED, request);
		return;
	}
	callback(mb.has_keys ? mf_verify_keys(request, &mb, wraps, mf_login_wraps(wraps, n),
					      password, &key_hex)
			     : mf_verify_hash(request, &mb, password), request);
	sodium_memzero(wraps, sizeof(wraps));
	if (mb.has_keys)
		mf_wipe_sent_key(key_hex);
}

static void mf_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback)
{
	struct mf_passdb_module *module = (struct mf_passdb_module *)request->passdb->passdb;
	struct udb_mailbox mb;
	const char *crypted, *scheme;
	enum udb_rc rc;

	rc = mf_mailbox_lookup(request, module->db, &mb, NULL, NULL);
	if (rc != UDB_OK) {
		callback(rc == UDB_NOTFOUND ? PASSDB_RESULT_USER_UNKNOWN :
			 PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
		return;
	}
	auth_request_set_field(request, "user", mb.address, NULL);
	if (!mb.active) {
		callback(PASSDB_RESULT_USER_DISABLED, NULL, 0, request);
		return;
	}
	if (mb.has_keys || mb.password_hash[0] == '\0') {
		/* The key opens only with the password itself. */
		e_info(authdb_event(request), "encrypted mailbox: only plaintext mechanisms "
		       "(PLAIN, LOGIN) can log in");
		callback(PASSDB_RESULT_SCHEME_NOT_AVAILABLE, NULL, 0, request);
		return;
	}
	crypted = t_strdup(mb.password_hash);
	scheme = password_get_scheme(&crypted);
	passdb_handle_credentials(PASSDB_RESULT_OK, crypted, scheme, callback, request);
}

static void mf_userdb_lookup(struct auth_request *request, userdb_callback_t *callback)
{
	struct mf_userdb_module *module = (struct mf_userdb_module *)request->userdb->userdb;
	struct udb_mailbox mb;
	char pk[TREES_KEYBYTES * 2 + 1], *key_hex = NULL;
	const char *sent_key;
	enum udb_rc rc;

	rc = mf_mailbox_lookup(request, module->db, &mb, NULL, NULL);
	if (rc != UDB_OK) {
		callback(rc == UDB_NOTFOUND ? USERDB_RESULT_USER_UNKNOWN :
			 USERDB_RESULT_INTERNAL_FAILURE, request);
		return;
	}
	/* A disabled mailbox still receives mail: disabling stops logins. */
	auth_request_set_userdb_field(request, "user", mb.address);
	auth_request_set_userdb_field(request, "home", mb.home);
	if (mb.mail_uid[0] != '\0')
		auth_request_set_userdb_field(request, "uid", mb.mail_uid);
	if (mb.mail_gid[0] != '\0')
		auth_request_set_userdb_field(request, "gid", mb.mail_gid);
	if (mb.quota_bytes > 0)
		auth_request_set_userdb_field(request, "quota_rule",
					      t_strdup_printf("*:bytes=%llu", mb.quota_bytes));
	if (mb.has_keys) {
		auth_request_set_userdb_field(request, "trees_enabled",
					      mb.trees_enabled ? "1" : "0");
		auth_request_set_userdb_field(request, "trees_version",
					      dec2str(mb.trees_version));
		auth_request_set_userdb_field(request, "trees_public_key",
					      sodium_bin2hex(pk, sizeof(pk), mb.public_key,
							     TREES_KEYBYTES));
		/* Every Dovecot process serving this mailbox loads the
		   plugin whatever the local mail_plugins say, or fails
		   (docs/dovecot-trees.md, "Enforcement"). */
		mf_request_require_trees_plugin(request);
		/* The login's derived key (from the passdb) goes back in this
		   reply: remembered to be wiped once it is sent. */
		sent_key = request->fields.userdb_reply == NULL ? NULL :
			auth_fields_find(request->fields.userdb_reply, "trees_secretbox_key");
		if (sent_key != NULL)
			key_hex = mf_secmem_strdup(sent_key);
	}
	callback(USERDB_RESULT_OK, request);
	if (mb.has_keys)
		mf_wipe_sent_key(key_hex);
}

static struct userdb_iterate_context *
mf_iterate_init(struct auth_request *request, userdb_iter_callback_t *callback, void *context)
{
	struct mf_userdb_module *module = (struct mf_userdb_module *)request->userdb->userdb;
	struct mf_iterate_context *ctx = i_new(struct mf_iterate_context, 1);
	char err[512] = "";
	enum udb_rc rc;

	ctx->ctx.auth_request = request;
	ctx->ctx.callback = callback;
	ctx->ctx.context = context;
	ctx->db = module->db;
	rc = mf_db_get(ctx->db, err, sizeof(err));
	if (rc == UDB_OK)
		rc = udb_iter_start(&ctx->db->lk, err, sizeof(err));
	if (rc != UDB_OK) {
		e_error(authdb_event(request), "listing users: %s", err);
		mf_db_failed(ctx->db, rc);
		ctx->ctx.failed = TRUE;
	}
	return &ctx->ctx;
}

static void mf_iterate_next(struct userdb_iterate_context *_ctx)
{
	struct mf_iterate_context *ctx = (struct mf_iterate_context *)_ctx;
	char addr[UDB_ADDRESS_MAX + 1], err[512] = "";
	enum udb_rc rc = UDB_NOTFOUND;

	if (!_ctx->failed && ctx->db->db != NULL)
		rc = udb_iter_next(&ctx->db->lk, addr, err, sizeof(err));
	if (rc == UDB_OK) {
		_ctx->callback(addr, _ctx->context);
		return;
	}
	if (rc != UDB_NOTFOUND) {
		e_error(authdb_event(_ctx->auth_request), "listing users: %s", err);
		_ctx->failed = TRUE;
	}
	_ctx->callback(NULL, _ctx->context);
}

static int mf_iterate_deinit(struct userdb_iterate_context *_ctx)
{
	struct mf_iterate_context *ctx = (struct mf_iterate_context *)_ctx;
	int ret = _ctx->failed ? -1 : 0;

	if (ctx->db->db != NULL)
		udb_iter_end(&ctx->db->lk);
	i_free(ctx);
	return ret;
}

/* 2.4's passdb_preinit()/userdb_preinit() set "blocking" from the
 * use_worker setting after preinit: it is set here, in init, which runs
 * after them on every release. */
static void mf_passdb_init(struct passdb_module *module)
{
	/* argon2 and SQLite belong in auth-worker processes. */
	module->blocking = TRUE;
	module->default_pass_scheme = "ARGON2ID";
}

static void mf_passdb_deinit(struct passdb_module *_module)
{
	struct mf_passdb_module *module = (struct mf_passdb_module *)_module;

	mf_db_unref(&module->db);
}

static void mf_userdb_init(struct userdb_module *module)
{
	module->blocking = TRUE;
	if (global_auth_settings->debug && !global_auth_settings->debug_passwords && !worker)
		i_warning("userdb mailfruit: auth_debug = yes logs userdb replies, which include "
			  "trees_secretbox_key (the derived mail key) after a login: enable it "
			  "only for diagnosis");
}

static void mf_userdb_deinit(struct userdb_module *_module)
{
	struct mf_userdb_module *module = (struct mf_userdb_module *)_module;

	mf_db_unref(&module->db);
}

static struct passdb_module_interface mf_passdb = {
	.name = "mailfruit",
	.preinit = mf_passdb_preinit,
	.init = mf_passdb_init,
	.deinit = mf_passdb_deinit,
	.verify_plain = mf_verify_plain,
	.lookup_credentials = mf_lookup_credentials,
};

static struct userdb_module_interface mf_userdb = {
	.name = "mailfruit",
	.preinit = mf_userdb_preinit,
	.init = mf_userdb_init,
	.deinit = mf_userdb_deinit,
	.lookup = mf_userdb_lookup,
	.iterate_init = mf_iterate_init,
	.iterate_next = mf_iterate_next,
	.iterate_deinit = mf_iterate_deinit,
};

MF_EXPORT void authdb_mailfruit_init(void);
MF_EXPORT void authdb_mailfruit_deinit(void);
MF_EXPORT extern const char *authdb_mailfruit_version;
const char *authdb_mailfruit_version = DOVECOT_ABI_VERSION;

void authdb_mailfruit_init(void)
{
	if (mf_secmem_init() < 0)
		i_fatal("mailfruit: libsodium cannot initialize");
	passdb_register_module(&mf_passdb);
	userdb_register_module(&mf_userdb);
}

void authdb_mailfruit_deinit(void)
{
	passdb_unregister_module(&mf_passdb);
	userdb_unregister_module(&mf_userdb);
}
