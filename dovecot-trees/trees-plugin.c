/* trees-plugin.c - hooks of the TREES mail plugin (trees-plugin.h). */
#include "lib.h"
#include "buffer.h"
#include "safe-memset.h"
#include "istream.h"
#include "istream-concat.h"
#include "ostream.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mail-storage-private.h"
#include "mail-storage-settings.h"
#include "mail-copy.h"
#include "seq-range-array.h"
#include "module-dir.h"

#include "mf-secmem.h"
#include "mf-memwipe.h"
#include "trees-codec.h"
#include "trees-key.h"
#include "trees-crypt.h"
#include "trees-istream.h"
#include "trees-ostream.h"
#include "trees-plugin.h"
#include "trees-settings.h"

#define TREES_USER_CONTEXT(obj) MODULE_CONTEXT(obj, trees_user_module)
#define TREES_USER_CONTEXT_REQUIRE(obj) MODULE_CONTEXT_REQUIRE(obj, trees_user_module)
#define TREES_MAILBOX_CONTEXT(obj) MODULE_CONTEXT_REQUIRE(obj, trees_storage_module)
#define TREES_MAILBOX_CONTEXT_OPT(obj) MODULE_CONTEXT(obj, trees_storage_module)

/* How much of a message being delivered is kept to answer Dovecot's own
   re-reads of it (headers for the log, e.g.) without the secret key. */
#define TREES_SAVE_TEE_LIMIT (1024 * 1024)

struct trees_mailbox {
	union mailbox_module_context module_ctx;
	/* The plaintext of the mail being saved by this process, for a
	   delivery that holds only the public key: while it is saved
	   (tee_mail, in transaction tee_trans) and, once committed, as the
	   mail with UID tee_uid, which LMTP copies to the other recipients. */
	struct mail *tee_mail;
	struct mailbox_transaction_context *tee_trans;
	uint32_t tee_uid;
	struct trees_ostream_tee tee;
	/* Another user's mailbox in a shared namespace (ns->owner, not this
	   storage's user): its mail is encrypted to the owner's key, which
	   this session does not have; saving here would encrypt to the wrong
	   key (or store clear text), so it is refused. */
	const char *foreign_owner;
};
#define TREES_MAIL_CONTEXT(obj) MODULE_CONTEXT_REQUIRE(obj, trees_mail_module)

const char *trees_plugin_version = DOVECOT_ABI_VERSION;

static MODULE_CONTEXT_DEFINE_INIT(trees_user_module, &mail_user_module_register);
static MODULE_CONTEXT_DEFINE_INIT(trees_storage_module, &mail_storage_module_register);
static MODULE_CONTEXT_DEFINE_INIT(trees_mail_module, &mail_module_register);

static const char *trees_getenv(void *context, const char *name)
{
	return trees_user_env_get(context, name);
}

void trees_wipe_userdb_fields(const char *const *fields, const char *name)
{
	size_t name_len = strlen(name);

	for (; fields != NULL && *fields != NULL; fields++) {
		if (strncmp(*fields, name, name_len) == 0 && (*fields)[name_len] == '=')
			safe_memset((char *)*fields + name_len + 1, 0,
				    strlen(*fields + name_len + 1));
	}
}

static void trees_mail_user_deinit(struct mail_user *user)
{
	struct trees_user *tuser = TREES_USER_CONTEXT_REQUIRE(user);

	trees_keypair_free(&tuser->keys);
	trees_crypt_keys_free(&tuser->crypt);
	tuser->module_ctx.super.deinit(user);
}

static bool trees_service_reads_mail(struct mail_user *user)
{
	return strcmp(user->service, "imap") == 0 || strcmp(user->service, "pop3") == 0;
}

/* Unlock the secret key from trees_secretbox_key or trees_password. */
static int trees_user_unlock(struct mail_user *user, struct trees_user *tuser,
			     struct trees_user_env *env, const struct trees_settings *set,
			     const char **error_r)
{
	const char *password = trees_user_env_get(env, "trees_password");
	const char *key_hex = trees_user_env_get(env, "trees_secretbox_key");
	char error[256], *key_copy;
	int ret = 0;

	if (key_hex != NULL && *key_hex != '\0')
		ret = trees_unlock_with_hex_key(set, key_hex, tuser->keys, error, sizeof(error));
	else if (password != NULL && *password != '\0')
		ret = trees_unlock_with_password(set, password, strlen(password), tuser->keys,
						 error, sizeof(error));
	else if (trees_service_reads_mail(user)) {
		/* A mail reader without the password could only fail on
		   every encrypted message: say why at login instead. */
		*error_r = "no trees_password or trees_secretbox_key at login, so the secret key "
			   "cannot be unlocked (the passdb must return the login password as "
			   "userdb_trees_password)";
		return -1;
	}
	/* Secrets arrive as userdb fields: once used, wiped everywhere the
	   mail process keeps them, and the derived key (64 hex, never an
	   accidental match) also where Dovecot copied it before the plugin
	   ran: the auth reply's buffer and freed pools (mf-memwipe.h). */
	key_copy = key_hex != NULL && strlen(key_hex) >= 64 ? mf_secmem_strdup(key_hex) : NULL;
	trees_user_env_wipe(env, "trees_password");
	trees_user_env_wipe(env, "trees_secretbox_key");
	trees_wipe_user_secret(user, "trees_password");
	trees_wipe_user_secret(user, "trees_secretbox_key");
	if (key_copy != NULL) {
		(void)mf_memwipe_process(key_copy, strlen(key_copy));
		mf_secmem_free(key_copy);
	}
	mf_memwipe_stack();
	if (ret < 0) {
		*error_r = t_strdup_printf("cannot unlock the secret key: %s", error);
		return -1;
	}
	return 0;
}

/* trees_read_buffer_max: a size ("1M", "512k", "0"), strict like the
   userdb fields. */
static int trees_read_buffer_setting(struct trees_user_env *env, struct trees_user *tuser,
				     const char **error_r)
{
	uoff_t size;

	if (trees_user_env_read_buffer_max(env, &size, error_r) < 0)
		return -1;
	if (size > SSIZE_T_MAX / 2) {
		*error_r = t_strdup_printf("trees_read_buffer_max: %"PRIuUOFF_T" is too large",
					   size);
		return -1;
	}
	tuser->read_buffer_max = (size_t)size;
	return 0;
}

static int trees_user_init_env(struct mail_user *user, struct trees_user *tuser,
			       struct trees_user_env *env, const char **error_r)
{
	struct trees_settings set;
	char error[256];
	int ret = 0;

	if (trees_read_buffer_setting(env, tuser, error_r) < 0)
		return -1;
	if (trees_settings_read(&set, trees_getenv, env, error, sizeof(error)) < 0) {
		*error_r = t_strdup(error);
		return -1;
	}
	tuser->encrypt = set.enabled;
	tuser->version = set.version;
	if (set.have_public_key) {
		tuser->keys = trees_keypair_new();
		if (tuser->keys == NULL) {
			*error_r = "out of locked memory for the key";
			return -1;
		}
		trees_keypair_set_public(tuser->keys, set.public_key);
		if (set.have_locked_key)
			ret = trees_user_unlock(user, tuser, env, &set, error_r);
	}
	safe_memset(&set, 0, sizeof(set));
	if (ret == 0 && trees_crypt_keys_load(user, &tuser->crypt, error_r) < 0)
		ret = -1;
	return ret;
}

static int trees_user_init(struct mail_user *user, struct trees_user *tuser,
			   const char **error_r)
{
	struct trees_user_env *env;
	int ret;

	if (trees_user_env_init(user, &env, error_r) < 0)
		return -1;
	ret = trees_user_init_env(user, tuser, env, error_r);
	trees_user_env_deinit(&env);
	return ret;
}

static void trees_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct trees_user *tuser;
	const char *error;

	tuser = p_new(user->pool, struct trees_user, 1);
	tuser->module_ctx.super = *v;
	user->vlast = &tuser->module_ctx.super;
	v->deinit = trees_mail_user_deinit;
	MODULE_CONTEXT_SET(user, trees_user_module, tuser);

	if (user->autocreated && user->creator != NULL) {
		/* The owner of a shared namespace, created in another user's
		   session: its settings, trees_* fields included, are that
		   user's, and the owner's secret key is not here. No key at
		   all: its mail cannot be encrypted nor read (docs, "Shared
		   mailboxes"). */
		tuser->shared_owner = TRUE;
		return;
	}
	if (trees_user_init(user, tuser, &error) < 0) {
		/* Fails this login or delivery (temporary failure for LMTP):
		   never fall back to storing plaintext. */
		user->error = p_strdup_printf(user->pool, "[trees] user %s: %s", user->username,
					      error);
		tuser->encrypt = FALSE;
	}
}

static void trees_mail_storage_created(struct mail_storage *storage)
{
	struct trees_user *tuser = TREES_USER_CONTEXT(storage->user);
	struct mail_storage_settings *set;

	if (tuser == NULL || tuser->keys == NULL)
		return;
	/* dovecot.index.cache holds headers, envelope and bodystructure in
	   clear. Caching starts only at mail_cache_min_mail_count messages
	   in a mailbox: raised out of reach, nothing is ever cached. */
	set = p_new(storage->pool, struct mail_storage_settings, 1);
	*set = *storage->set;
	set->mail_cache_min_mail_count = UINT_MAX;
	storage->set = set;
}

static void trees_stream_verified(void *context)
{
	struct mail *mail = context;
	struct trees_user *tuser = TREES_USER_CONTEXT_REQUIRE(mail->box->storage->user);

	tuser->verified_box = mail->box;
	tuser->verified_uid = mail->uid;
}

/* The mail this process is saving, from the copy the ostream kept. */
static struct istream *trees_open_tee(struct trees_mailbox *tbox, const char *context)
{
	struct istream *inputs[3];
	struct istream *input;

	inputs[0] = i_stream_create_copy_from_data(tbox->tee.buf->data, tbox->tee.buf->used);
	inputs[1] = !tbox->tee.truncated ? NULL :
		i_stream_create_error_str(EACCES, "[trees] %s: reading past the first %u bytes "
					  "of a mail being delivered needs the private key",
					  context, TREES_SAVE_TEE_LIMIT);
	inputs[2] = NULL;
	input = i_stream_create_concat(inputs);
	i_stream_unref(&inputs[0]);
	if (inputs[1] != NULL)
		i_stream_unref(&inputs[1]);
	return input;
}

/* 0 with *output_r a stream to read, -1 with *output_r a failed stream
   and the storage error set: corrupt mail then fails at open, before IMAP
   has sent a literal's size, so only its own FETCH fails. */
static int trees_open_encrypted(struct mail *mail, struct trees_user *tuser,
				struct istream *input, enum trees_format format, uint32_t version,
				struct istream **output_r)
{
	const char *context = t_strdup_printf("user %s, mailbox %s, UID %u",
					      mail->box->storage->user->username,
					      mailbox_get_vname(mail->box), mail->uid);
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT_OPT(mail->box);
	struct trees_istream_settings set;

	if (format == TREES_FORMAT_INVALID) {
		const char *error = version == 0 ? "truncated TREES header" :
			t_strdup_printf("unknown TREES format version %u (this reader knows "
					"1 and 2)", version);
		i_error("[trees] %s: %s", context, error);
		*output_r = i_stream_create_error_str(EINVAL, "[trees] %s: %s", context, error);
	} else if (tbox != NULL && tbox->foreign_owner != NULL) {
		*output_r = i_stream_create_error_str(
			EACCES, "[trees] %s: %s message in a mailbox shared by %s: it opens only "
				"with its owner's key", context, trees_format_name(format),
			tbox->foreign_owner);
	} else if (tuser->keys == NULL || !trees_keypair_has_secret(tuser->keys)) {
		if (tbox != NULL && tbox->tee.buf != NULL &&
		    ((mail->saving && tbox->tee_mail == mail) ||
		     (mail->uid != 0 && mail->uid == tbox->tee_uid))) {
			*output_r = trees_open_tee(tbox, context);
			return 0;
		}
		*output_r = i_stream_create_error_str(
			EACCES, "[trees] %s: %s message but no private key (it is unlocked "
				"only at an IMAP/POP3 login or with trees_secretbox_key)",
			context, trees_format_name(format));
		return 0;
	} else {
		i_zero(&set);
		set.keys = tuser->keys;
		set.buffer_max = tuser->read_buffer_max;
		set.verified = mail->uid > 0 && tuser->verified_box == mail->box &&
			       tuser->verified_uid == mail->uid;
		set.debug = trees_user_debug(mail->box->storage->user);
		set.log_context = context;
		set.verified_callback = mail->uid > 0 ? trees_stream_verified : NULL;
		set.context = mail;
		*output_r = trees_istream_create(input, format, &set);
		if (trees_istream_check(*output_r) == 0)
			return 0;
	}
	mail_storage_set_error(mail->box->storage, MAIL_ERROR_TEMP,
			       t_strdup(i_stream_get_error(*output_r)));
	return -1;
}

static int trees_istream_opened(struct mail *_mail, struct istream **stream)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *tmail = TREES_MAIL_CONTEXT(mail);
	struct trees_user *tuser = TREES_USER_CONTEXT_REQUIRE(_mail->box->storage->user);
	struct istream *input = *stream, *output = NULL;
	const unsigned char *data = NULL;
	size_t size = 0;
	enum trees_format format;
	uint32_t version;
	int ret = 0;

	/* Enough for the TREES prefix (7) and mail_crypt's magic (9); fewer
	   bytes means the message is that short. */
	if (i_stream_read_bytes(input, &data, &size, 9) < 0 && input->stream_errno != 0)
		return tmail->super.istream_opened(_mail, stream);
	format = trees_detect(data, size, 1, &version);
	if (format == TREES_FORMAT_PLAIN) {
		if (tuser->crypt != NULL && trees_crypt_is_crypted(data, size))
			output = trees_crypt_istream_create(input, tuser->crypt,
							    _mail->box->storage->user);
	} else {
		ret = trees_open_encrypted(_mail, tuser, input, format, version, &output);
	}
	if (output != NULL) {
		i_stream_unref(&input);
		*stream = output;
	}
	if (ret < 0)
		return -1;
	return tmail->super.istream_opened(_mail, stream);
}

static void trees_mail_allocated(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct mail_vfuncs *v = mail->vlast;
	union mail_module_context *tmail;

	if (TREES_USER_CONTEXT(_mail->box->storage->user) == NULL)
		return;
	tmail = p_new(mail->pool, union mail_module_context, 1);
	tmail->super = *v;
	mail->vlast = &tmail->super;
	v->istream_opened = trees_istream_opened;
	MODULE_CONTEXT_SET_SELF(mail, trees_mail_module, tmail);
}

static int trees_mail_save_begin(struct mail_save_context *ctx, struct istream *input)
{
	struct mailbox *box = ctx->transaction->box;
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(box);
	struct trees_user *tuser = TREES_USER_CONTEXT_REQUIRE(box->storage->user);
	struct trees_ostream_tee *tee = NULL;
	struct ostream *output;
	const char *error;

	if (tbox->module_ctx.super.save_begin(ctx, input) < 0)
		return -1;
	tbox->tee_mail = NULL;
	tbox->tee_trans = NULL;
	tbox->tee_uid = 0;
	if (!trees_keypair_has_secret(tuser->keys) && ctx->dest_mail != NULL) {
		if (tbox->tee.buf == NULL)
			tbox->tee.buf = buffer_create_dynamic(default_pool, 8192);
		buffer_set_used_size(tbox->tee.buf, 0);
		tbox->tee.limit = TREES_SAVE_TEE_LIMIT;
		tbox->tee.truncated = FALSE;
		tbox->tee_mail = ctx->dest_mail;
		tbox->tee_trans = ctx->transaction;
		tee = &tbox->tee;
	}
	output = trees_ostream_create(ctx->data.output, tuser->version,
				      trees_keypair_public(tuser->keys), tee, &error);
	if (output == NULL) {
		/* A temporary failure: the mail stays with the sender. */
		i_error("[trees] user %s, mailbox %s: cannot encrypt: %s",
			box->storage->user->username, mailbox_get_vname(box), error);
		mail_storage_set_error(box->storage, MAIL_ERROR_TEMP,
				       t_strdup_printf("[trees] cannot encrypt: %s", error));
		return -1;
	}
	o_stream_unref(&ctx->data.output);
	ctx->data.output = output;
	o_stream_cork(ctx->data.output);
	return 0;
}

/* Saving for a user who encrypts into a storage that cannot hold
   encrypted mail (mbox, imapc, ...), or into another user's shared
   mailbox: refused, a temporary failure (LMTP answers 4xx, the mail stays
   queued), never stored in clear or encrypted to the wrong key. */
static int trees_mail_save_refused(struct mail_save_context *ctx, struct istream *input)
{
	struct mailbox *box = ctx->transaction->box;
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(box);
	const char *reason = tbox->foreign_owner != NULL ?
		t_strdup_printf("mailbox shared by %s: its owner's key is not known in "
				"another user's session", tbox->foreign_owner) :
		t_strdup_printf("%s storage cannot hold encrypted mail (use maildir, "
				"sdbox or mdbox)", box->storage->name);

	(void)input;
	i_error("[trees] user %s, mailbox %s: refusing to save: %s",
		box->storage->user->username, mailbox_get_vname(box), reason);
	mail_storage_set_error(box->storage, MAIL_ERROR_TEMP,
			       t_strdup_printf("[trees] refusing to save: %s", reason));
	return -1;
}

/* Remembers the UID the teed mail got, so the saved mail stays readable
   without the secret key while this process delivers it on. */
static int trees_transaction_commit(struct mailbox_transaction_context *t,
				    struct mail_transaction_commit_changes *changes_r)
{
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(t->box);
	bool teed = tbox->tee_trans == t;
	const struct seq_range *range;

	if (teed) {
		tbox->tee_mail = NULL;
		tbox->tee_trans = NULL;
	}
	if (tbox->module_ctx.super.transaction_commit(t, changes_r) < 0)
		return -1;
	if (teed && seq_range_count(&changes_r->saved_uids) == 1) {
		range = array_front(&changes_r->saved_uids);
		tbox->tee_uid = range->seq1;
	}
	return 0;
}

static void trees_transaction_rollback(struct mailbox_transaction_context *t)
{
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(t->box);

	if (tbox->tee_trans == t) {
		tbox->tee_mail = NULL;
		tbox->tee_trans = NULL;
	}
	tbox->module_ctx.super.transaction_rollback(t);
}

/* A copy from another user's mailbox must not carry that user's file over:
   LMTP saves a message for its first recipient and copies the saved mail
   to the others, which maildir and dbox do with a hard link. That would
   give a TREES user a plaintext file, or one user a file encrypted to
   another's key. Copying through the streams decrypts the source in its
   owner's context and encrypts (or not) for this mailbox's user. */
static int trees_mail_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox *box = ctx->transaction->box;
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(box);
	struct trees_mailbox *src_tbox = TREES_MAILBOX_CONTEXT_OPT(mail->box);

	/* The same for a shared mailbox of another user, which has this
	   session's user as its storage's user but the owner's keys. */
	if (mail->box->storage->user != box->storage->user || tbox->foreign_owner != NULL ||
	    (src_tbox != NULL && src_tbox->foreign_owner != NULL))
		return mail_storage_copy(ctx, mail);
	return tbox->module_ctx.super.copy(ctx, mail);
}

static void trees_mailbox_close(struct mailbox *box)
{
	struct trees_mailbox *tbox = TREES_MAILBOX_CONTEXT(box);
	struct trees_user *tuser = TREES_USER_CONTEXT_REQUIRE(box->storage->user);

	if (tuser->verified_box == box)
		tuser->verified_box = NULL;
	tbox->tee_mail = NULL;
	tbox->tee_trans = NULL;
	tbox->tee_uid = 0;
	if (tbox->tee.buf != NULL) {
		safe_memset(buffer_get_modifiable_data(tbox->tee.buf, NULL), 0,
			    tbox->tee.buf->used); /* mail text */
		buffer_free(&tbox->tee.buf);
	}
	tbox->module_ctx.super.close(box);
}

static void trees_mailbox_allocated(struct mailbox *box)
{
	struct mailbox_vfuncs *v = box->vlast;
	struct trees_user *tuser = TREES_USER_CONTEXT(box->storage->user);
	struct mail_namespace *ns = mailbox_get_namespace(box);
	struct trees_mailbox *tbox;

	/* Registered with mail_storage_hooks_add_forced(): runs for users
	   without the plugin too. */
	if (tuser == NULL)
		return;
	tbox = p_new(box->pool, struct trees_mailbox, 1);
	tbox->module_ctx.super = *v;
	box->vlast = &tbox->module_ctx.super;
	v->close = trees_mailbox_close;
	v->copy = trees_mail_copy;
	v->transaction_commit = trees_transaction_commit;
	v->transaction_rollback = trees_transaction_rollback;
	/* Storages with binary data (maildir, sdbox, mdbox, raw) can hold
	   encrypted mail; the others (mbox, imapc, pop3c) refuse to save. */
	if (ns->owner != NULL && ns->owner != box->storage->user)
		tbox->foreign_owner = p_strdup(box->pool, ns->owner->username);
	if (tbox->foreign_owner != NULL || tuser->shared_owner)
		v->save_begin = trees_mail_save_refused;
	else if (tuser->encrypt && tuser->keys != NULL) {
		v->save_begin = (box->storage->class_flags &
				 MAIL_STORAGE_CLASS_FLAG_BINARY_DATA) != 0 ?
			trees_mail_save_begin : trees_mail_save_refused;
	}
	MODULE_CONTEXT_SET(box, trees_storage_module, tbox);
}

static struct mail_storage_hooks trees_mail_storage_hooks = {
	.mail_user_created = trees_mail_user_created,
	.mail_storage_created = trees_mail_storage_created,
	.mail_allocated = trees_mail_allocated,
};

/* Saving must wrap the file's ostream first (nearest the file, inside
   zlib's), reading must wrap the file's istream first: hooks run in the
   order of the module names, so the save hook runs under a later name. */
static struct mail_storage_hooks trees_mail_storage_hooks_post = {
	.mailbox_allocated = trees_mailbox_allocated,
};

static struct module trees_post_module = {
	.path = "lib95_trees_plugin.so",
};

void trees_plugin_init(struct module *module)
{
	if (mf_secmem_init() < 0)
		i_fatal("[trees] libsodium cannot initialize");
	mail_storage_hooks_add(module, &trees_mail_storage_hooks);
	mail_storage_hooks_add_forced(&trees_post_module, &trees_mail_storage_hooks_post);
}

void trees_plugin_deinit(void)
{
	mail_storage_hooks_remove(&trees_mail_storage_hooks);
	mail_storage_hooks_remove(&trees_mail_storage_hooks_post);
	trees_settings_deinit();
}
