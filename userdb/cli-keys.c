/*
 * cli-keys.c - mailfruit user passwd, app-password and recovery: every
 * change of a TREES mailbox's credentials re-wraps the same secret key, so
 * mail stays readable; only --discard-mail-key replaces the key pair.
 */
#include "mailfruit-config.h"

#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "mf-secmem.h"
#include "udb-sql.h"

#define WRAP_INSERT \
	"INSERT INTO key_wraps (mailbox_id, kind, name, tag, pwhash_algo, pwhash_opslimit," \
	" pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, created)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"

enum udb_rc cli_wrap_insert(struct cli *cli, long long mailbox_id, const struct udb_wrap *w)
{
	const struct trees_locked_key *k = &w->locked;
	const char *name = w->kind == UDB_WRAP_APP ? w->name : NULL;
	long long now = w->created != 0 ? w->created : (long long)time(NULL);

	if (w->has_tag)
		return udb_run(cli->db, cli->err, sizeof(cli->err), NULL, WRAP_INSERT,
			       "ittbiiibbbi", mailbox_id, udb_wrap_kind_str(w->kind), name,
			       w->tag, (size_t)UDB_TAGBYTES, (long long)k->algo,
			       (long long)k->opslimit, (long long)k->memlimit, k->salt,
			       (size_t)TREES_SALTBYTES, k->nonce, (size_t)TREES_NONCEBYTES, k->box,
			       (size_t)TREES_LOCKEDBOXBYTES, now);
	return udb_run(cli->db, cli->err, sizeof(cli->err), NULL, WRAP_INSERT, "ittniiibbbi",
		       mailbox_id, udb_wrap_kind_str(w->kind), name, (long long)k->algo,
		       (long long)k->opslimit, (long long)k->memlimit, k->salt,
		       (size_t)TREES_SALTBYTES, k->nonce, (size_t)TREES_NONCEBYTES, k->box,
		       (size_t)TREES_LOCKEDBOXBYTES, now);
}

/* A mailbox with its key wraps, for the commands below. */
struct keyed {
	struct udb_mailbox mb;
	struct udb_wrap wraps[UDB_WRAPS_MAX];
	size_t n;
};

static int load_keyed(struct cli *cli, const char *address, struct keyed *k, bool need_keys)
{
	enum udb_rc rc;
	int ret;

	if ((ret = cli_mailbox(cli, address, &k->mb)) != 0)
		return ret;
	if (need_keys && !k->mb.has_keys)
		return cli_fail(EX_DATAERR, "%s has no encryption key: app passwords and recovery "
				"codes are copies of the mail key", k->mb.address);
	rc = udb_wraps_get(&cli->lk, k->mb.id, k->wraps, UDB_WRAPS_MAX, &k->n, cli->err,
			   sizeof(cli->err));
	return cli_db_fail(cli, rc);
}

/* Asks for a secret of the mailbox and opens its secret key into kp.
 * *used_r: the wrap it opened. EX_NOPERM when it opens nothing. */
static int unlock(struct cli *cli, const struct keyed *k, int fd, struct trees_keypair *kp,
		  size_t *used_r)
{
	char prompt[UDB_ADDRESS_MAX + 80], *secret;
	unsigned char *key;
	size_t len;
	int ret;

	snprintf(prompt, sizeof(prompt), "Current password, an app password or the recovery "
		 "code of %s: ", k->mb.address);
	if ((ret = cli_secret(fd, prompt, false, true, &secret, &len)) != 0)
		return ret;
	if (len == 0) {
		mf_secmem_free(secret);
		return cli_fail(EX_NOPERM, "no secret given: without the password, an app password "
				"or the recovery code the key of %s cannot be re-wrapped (only "
				"'user passwd --discard-mail-key' replaces it, and old mail becomes "
				"unreadable)", k->mb.address);
	}
	key = mf_secmem_alloc(TREES_SECRETBOX_KEYBYTES);
	ret = key == NULL ? -1 :
	      udb_unlock(k->wraps, k->n, k->mb.public_key, secret, len, used_r, key, kp, cli->err,
			 sizeof(cli->err));
	mf_secmem_free(secret);
	mf_secmem_free(key);
	if (ret == 0)
		return cli_fail(EX_NOPERM, "that secret opens none of %s's keys (%s)",
				k->mb.address, cli->err);
	if (ret < 0)
		return cli_fail(EX_SOFTWARE, "%s", cli->err);
	return 0;
}

/* In the writing transaction: the key pair must still be the one that was
 * unlocked (a concurrent --discard-mail-key would have replaced it). */
static enum udb_rc check_same_key(struct cli *cli, const struct keyed *k)
{
	long long same;
	enum udb_rc rc;

	rc = udb_query_int(cli->db, 0, &same, cli->err, sizeof(cli->err),
			   "SELECT count(*) FROM trees_keys WHERE mailbox_id = ?1 AND public_key = ?2",
			   "ib", k->mb.id, k->mb.public_key, (size_t)TREES_KEYBYTES);
	if (rc == UDB_OK && !same) {
		snprintf(cli->err, sizeof(cli->err), "the key of %s changed meanwhile",
			 k->mb.address);
		rc = UDB_EBUSY;
	}
	return rc;
}

/* Replaces the wraps of `kind` (all of them unless name) by w. */
static enum udb_rc replace_wrap(struct cli *cli, const struct keyed *k, const struct udb_wrap *w)
{
	enum udb_rc rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
				 "DELETE FROM key_wraps WHERE mailbox_id = ?1 AND kind = ?2",
				 "it", k->mb.id, udb_wrap_kind_str(w->kind));

	return rc == UDB_OK ? cli_wrap_insert(cli, k->mb.id, w) : rc;
}

static int new_code_wrap(struct cli *cli, const struct trees_keypair *kp, enum udb_wrap_kind kind,
			 const char *name, char **code_r, struct udb_wrap *w)
{
	struct cli_kdf kdf;
	int ret;

	if ((ret = cli_kdf_settings(cli, &kdf)) != 0)
		return ret;
	*code_r = mf_secmem_alloc(UDB_CODE_MAX);
	if (*code_r == NULL || udb_code_generate(kind, *code_r, UDB_CODE_MAX) < 0 ||
	    udb_wrap_make(kp, kind, name, *code_r, strlen(*code_r), kdf.opslimit, kdf.memlimit,
			  TREES_PWHASH_ARGON2ID, w, NULL, cli->err, sizeof(cli->err)) < 0)
		return cli_fail(EX_SOFTWARE, "cannot create the code: %s", cli->err);
	return 0;
}

static void print_code(struct cli *cli, const char *what, const char *address, const char *name,
		       const char *code)
{
	if (cli->json) {
		printf("{\"address\": ");
		json_str(stdout, address);
		if (name != NULL) {
			printf(", \"name\": ");
			json_str(stdout, name);
		}
		printf(", \"%s\": ", what);
		json_str(stdout, code);
		printf("}\n");
	} else {
		printf("\nNew %s for %s%s%s - shown only now:\n\n    %s\n\n",
		       strcmp(what, "recovery_code") == 0 ? "recovery code" : "app password",
		       address, name ? ", " : "", name ? name : "", code);
	}
	fflush(stdout);
}

/* passwd of a mailbox without keys: a new {ARGON2ID} hash. */
static int passwd_plain(struct cli *cli, const struct keyed *k, int fd)
{
	struct cli_kdf kdf;
	char hash[UDB_HASH_MAX + 1], *password;
	size_t len;
	enum udb_rc rc;
	int ret;

	if ((ret = cli_kdf_settings(cli, &kdf)) != 0 ||
	    (ret = cli_new_password(fd, k->mb.address, &password, &len)) != 0)
		return ret;
	ret = udb_hash_make(password, len, kdf.opslimit, kdf.memlimit, hash, cli->err,
			    sizeof(cli->err));
	mf_secmem_free(password);
	if (ret < 0)
		return cli_fail(EX_SOFTWARE, "%s", cli->err);
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     "UPDATE mailboxes SET password_hash = ?1, updated = ?2 WHERE id = ?3", "tii",
		     hash, (long long)time(NULL), k->mb.id);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("password of %s changed\n", k->mb.address);
	return 0;
}

/* passwd --discard-mail-key: a new key pair, password and recovery code. */
static int passwd_discard(struct cli *cli, const struct keyed *k, int fd, bool yes)
{
	struct trees_keypair *kp = trees_keypair_new();
	struct udb_wrap w[2];
	struct cli_kdf kdf;
	char *password = NULL, *code = NULL;
	size_t len;
	enum udb_rc rc;
	int ret;

	fprintf(stderr, "mailfruit: WARNING: --discard-mail-key gives %s a NEW key pair. All "
		"mail stored so far for %s becomes UNREADABLE, for good; its app passwords "
		"and recovery code stop working.\n", k->mb.address, k->mb.address);
	if (!yes && !cli_confirm("Discard the mail key?")) {
		trees_keypair_free(&kp);
		return cli_fail(EX_USAGE, "key kept (confirm on the terminal, or add --yes)");
	}
	if (kp == NULL || trees_keypair_generate(kp) < 0)
		ret = cli_fail(EX_OSERR, "cannot create a key pair");
	else if ((ret = cli_kdf_settings(cli, &kdf)) == 0 &&
		 (ret = cli_new_password(fd, k->mb.address, &password, &len)) == 0 &&
		 udb_wrap_make(kp, UDB_WRAP_PASSWORD, NULL, password, len, kdf.opslimit,
			       kdf.memlimit, TREES_PWHASH_ARGON2ID, &w[0], NULL, cli->err,
			       sizeof(cli->err)) < 0)
		ret = cli_fail(EX_SOFTWARE, "%s", cli->err);
	mf_secmem_free(password);
	if (ret == 0)
		ret = new_code_wrap(cli, kp, UDB_WRAP_RECOVERY, NULL, &code, &w[1]);
	if (ret == 0) {
		rc = udb_begin(cli->db, cli->err, sizeof(cli->err));
		if (rc == UDB_OK)
			rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
				     "DELETE FROM key_wraps WHERE mailbox_id = ?1", "i", k->mb.id);
		if (rc == UDB_OK)
			rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
				     "UPDATE trees_keys SET public_key = ?1, created = ?2"
				     " WHERE mailbox_id = ?3", "bii", trees_keypair_public(kp),
				     (size_t)TREES_KEYBYTES, (long long)time(NULL), k->mb.id);
		if (rc == UDB_OK)
			rc = cli_wrap_insert(cli, k->mb.id, &w[0]);
		if (rc == UDB_OK)
			rc = cli_wrap_insert(cli, k->mb.id, &w[1]);
		if (rc == UDB_OK)
			rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
		udb_rollback(cli->db);
		ret = cli_db_fail(cli, rc);
	}
	trees_keypair_free(&kp);
	if (ret == 0) {
		printf("%s has a new key pair and password; mail stored before is unreadable\n",
		       k->mb.address);
		print_code(cli, "recovery_code", k->mb.address, NULL, code);
	}
	mf_secmem_free(code);
	return ret;
}

int cmd_user_passwd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-fd", required_argument, NULL, 'p' },
		{ "old-password-fd", required_argument, NULL, 'o' },
		{ "discard-mail-key", no_argument, NULL, 'D' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct keyed k;
	struct trees_keypair *kp = NULL;
	struct udb_wrap w[2];
	struct cli_kdf kdf;
	char *password = NULL, *code = NULL;
	bool discard = false, yes = false, new_recovery;
	int c, ret, fd = -1, old_fd = -1;
	size_t used, len;
	enum udb_rc rc;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if ((c == 'p' && cli_parse_fd(optarg, &fd) != 0) ||
		    (c == 'o' && cli_parse_fd(optarg, &old_fd) != 0))
			return EX_USAGE;
		if (c == 'D')
			discard = true;
		else if (c == 'y')
			yes = true;
		else if (c != 'p' && c != 'o')
			return EX_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if ((ret = load_keyed(cli, argv[optind], &k, false)) != 0)
		return ret;
	if (!k.mb.has_keys)
		return passwd_plain(cli, &k, fd);
	if (discard)
		return passwd_discard(cli, &k, fd, yes);
	if ((kp = trees_keypair_new()) == NULL)
		return cli_fail(EX_OSERR, "out of locked memory");
	ret = unlock(cli, &k, old_fd, kp, &used);
	/* Whoever used the recovery code has seen it: it gets replaced. */
	new_recovery = ret == 0 && k.wraps[used].kind == UDB_WRAP_RECOVERY;
	if (ret == 0 && (ret = cli_kdf_settings(cli, &kdf)) == 0 &&
	    (ret = cli_new_password(fd, k.mb.address, &password, &len)) == 0 &&
	    udb_wrap_make(kp, UDB_WRAP_PASSWORD, NULL, password, len, kdf.opslimit, kdf.memlimit,
			  TREES_PWHASH_ARGON2ID, &w[0], NULL, cli->err, sizeof(cli->err)) < 0)
		ret = cli_fail(EX_SOFTWARE, "%s", cli->err);
	mf_secmem_free(password);
	if (ret == 0 && new_recovery)
		ret = new_code_wrap(cli, kp, UDB_WRAP_RECOVERY, NULL, &code, &w[1]);
	trees_keypair_free(&kp);
	if (ret == 0) {
		rc = udb_begin(cli->db, cli->err, sizeof(cli->err));
		if (rc == UDB_OK)
			rc = check_same_key(cli, &k);
		if (rc == UDB_OK)
			rc = replace_wrap(cli, &k, &w[0]);
		if (rc == UDB_OK && new_recovery)
			rc = replace_wrap(cli, &k, &w[1]);
		if (rc == UDB_OK)
			rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
				     "UPDATE mailboxes SET updated = ?1 WHERE id = ?2", "ii",
				     (long long)time(NULL), k.mb.id);
		if (rc == UDB_OK)
			rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
		udb_rollback(cli->db);
		ret = cli_db_fail(cli, rc);
	}
	if (ret == 0) {
		printf("password of %s changed (same mail key: existing mail stays readable)\n",
		       k.mb.address);
		if (new_recovery)
			print_code(cli, "recovery_code", k.mb.address, NULL, code);
	}
	mf_secmem_free(code);
	return ret;
}

static bool name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n > 0 && n <= UDB_NAME_MAX && s[n] == '\0';
}

/* Adds a generated credential (app password, recovery code). */
static int add_code(struct cli *cli, const char *address, enum udb_wrap_kind kind,
		    const char *name, int fd)
{
	struct keyed k;
	struct trees_keypair *kp = NULL;
	struct udb_wrap w;
	char auto_name[16], *code = NULL;
	size_t i, apps = 0, used;
	enum udb_rc rc;
	int ret;

	if ((ret = load_keyed(cli, address, &k, true)) != 0)
		return ret;
	for (i = 0; i < k.n; i++) {
		if (k.wraps[i].kind != UDB_WRAP_APP)
			continue;
		apps++;
		if (name != NULL && strcmp(k.wraps[i].name, name) == 0)
			return cli_fail(EX_DATAERR, "%s has an app password named %s already",
					k.mb.address, name);
	}
	if (kind == UDB_WRAP_APP && apps >= UDB_APP_PASSWORDS_MAX)
		return cli_fail(EX_DATAERR, "%s has %d app passwords, the most there can be",
				k.mb.address, UDB_APP_PASSWORDS_MAX);
	for (i = 1; kind == UDB_WRAP_APP && name == NULL; i++) {
		size_t j;

		snprintf(auto_name, sizeof(auto_name), "app%zu", i);
		for (j = 0; j < k.n && strcmp(k.wraps[j].name, auto_name) != 0; j++)
			;
		if (j == k.n)
			name = auto_name;
	}
	if ((kp = trees_keypair_new()) == NULL)
		return cli_fail(EX_OSERR, "out of locked memory");
	ret = unlock(cli, &k, fd, kp, &used);
	if (ret == 0)
		ret = new_code_wrap(cli, kp, kind, name, &code, &w);
	trees_keypair_free(&kp);
	if (ret == 0) {
		rc = udb_begin(cli->db, cli->err, sizeof(cli->err));
		if (rc == UDB_OK)
			rc = check_same_key(cli, &k);
		if (rc == UDB_OK)
			rc = kind == UDB_WRAP_APP ? cli_wrap_insert(cli, k.mb.id, &w)
						  : replace_wrap(cli, &k, &w);
		if (rc == UDB_OK)
			rc = udb_commit(cli->db, cli->err, sizeof(cli->err));
		udb_rollback(cli->db);
		if (rc == UDB_EEXIST)
			ret = cli_fail(EX_DATAERR, "%s has an app password named %s already",
				       k.mb.address, name);
		else
			ret = cli_db_fail(cli, rc);
	}
	if (ret == 0)
		print_code(cli, kind == UDB_WRAP_APP ? "app_password" : "recovery_code",
			   k.mb.address, kind == UDB_WRAP_APP ? name : NULL, code);
	mf_secmem_free(code);
	return ret;
}

int cmd_app_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "password-fd", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int c, fd = -1;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c == 'n' && !name_ok(optarg))
			return cli_fail(EX_USAGE, "an app password's name has 1 to %d of "
					"A-Z a-z 0-9 . _ -", UDB_NAME_MAX);
		if (c == 'n')
			name = optarg;
		else if (c != 'p' || cli_parse_fd(optarg, &fd) != 0)
			return EX_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	return add_code(cli, argv[optind], UDB_WRAP_APP, name, fd);
}

int cmd_recovery_new(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-fd", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd = -1;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c != 'p' || cli_parse_fd(optarg, &fd) != 0)
			return EX_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	return add_code(cli, argv[optind], UDB_WRAP_RECOVERY, NULL, fd);
}

/* app-password list and recovery show-status: the wraps of one kind. */
static int list_kind(struct cli *cli, int argc, char **argv, enum udb_wrap_kind kind)
{
	struct keyed k;
	char tbuf[32];
	size_t i;
	int c, ret, n = 0;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != 1)
		return cli_usage(argv[0], true);
	if ((ret = load_keyed(cli, argv[optind], &k, kind == UDB_WRAP_APP)) != 0)
		return ret;
	if (cli->json)
		printf(kind == UDB_WRAP_APP ? "[" : "{\"address\": ");
	if (cli->json && kind == UDB_WRAP_RECOVERY)
		json_str(stdout, k.mb.address);
	for (i = 0; i < k.n; i++) {
		if (k.wraps[i].kind != kind)
			continue;
		cli_time(k.wraps[i].created, tbuf);
		if (cli->json && kind == UDB_WRAP_APP) {
			printf("%s{\"name\": ", n > 0 ? ", " : "");
			json_str(stdout, k.wraps[i].name);
			printf(", \"created\": \"%s\"}", tbuf);
		} else if (cli->json) {
			printf(", \"recovery_code\": true, \"created\": \"%s\"", tbuf);
		} else if (kind == UDB_WRAP_APP) {
			printf("%s%-32s %s\n", n == 0 ? "NAME                             CREATED\n" : "",
			       k.wraps[i].name, tbuf);
		} else {
			printf("%s has a recovery code (created %s)\n", k.mb.address, tbuf);
		}
		n++;
	}
	if (kind == UDB_WRAP_RECOVERY && n == 0) {
		if (cli->json)
			printf(", \"recovery_code\": false");
		else
			printf("%s has no recovery code%s\n", k.mb.address,
			       k.mb.has_keys ? " (create one: mailfruit recovery new)" :
					       " (no encryption key)");
	}
	if (cli->json)
		printf(kind == UDB_WRAP_APP ? "]\n" : "}\n");
	return 0;
}

int cmd_app_list(struct cli *cli, int argc, char **argv)
{
	return list_kind(cli, argc, argv, UDB_WRAP_APP);
}

int cmd_recovery_status(struct cli *cli, int argc, char **argv)
{
	return list_kind(cli, argc, argv, UDB_WRAP_RECOVERY);
}

int cmd_app_revoke(struct cli *cli, int argc, char **argv)
{
	struct udb_mailbox mb;
	long long changes = 0;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, NULL)) != -1)
		return c == 'h' ? cli_usage(argv[0], false) : EX_USAGE;
	if (argc - optind != 2)
		return cli_usage(argv[0], true);
	if (!name_ok(argv[optind + 1]))
		return cli_fail(EX_USAGE, "invalid app password name");
	if ((ret = cli_mailbox(cli, argv[optind], &mb)) != 0)
		return ret;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), &changes,
		     "DELETE FROM key_wraps WHERE mailbox_id = ?1 AND kind = 'app' AND name = ?2",
		     "it", mb.id, argv[optind + 1]);
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (changes == 0)
		return cli_fail(EX_NOUSER, "%s has no app password named '%.64s'", mb.address,
				argv[optind + 1]);
	printf("revoked app password %s of %s\n", argv[optind + 1], mb.address);
	return 0;
}
