/*
 * cli-import.c - mailfruit import riseup|mailfruit|passwd-file.
 *
 * Reads another system's users (read-only), checks every row the way the
 * CLI checks its own input, and writes them in one transaction: all or
 * nothing, unless --skip-invalid. TREES key material is taken over as the
 * mailbox's login password wrap (riseup and the original mailfruit wrap
 * the secret key under the login password); the old password hash of such
 * a mailbox is dropped, since logging in opens the wrap. Mailboxes without
 * keys keep their hash (udb-hash.h). Domains are created as needed.
 */
#include "mailfruit-config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "udb-sql.h"

struct import {
	struct cli *cli;
	const char *source;
	bool dry_run, skip_invalid;
	int default_algo;          /* -1: the source must say */
	char tmpl[UDB_HOME_MAX + 1];
	unsigned long users, keyed, aliases, skipped, domains;
};

/* One user as read from a source; NULL fields are absent. */
struct src_user {
	const char *address, *hash;
	bool active;
	long long quota;
	/* TREES fields as the riseup userdb has them (hex and decimals). */
	const char *enabled, *version, *public_key, *algo, *ops, *mem, *salt, *nonce, *box;
};

static void problem(struct import *im, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct import *im, const char *what, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Source data may hold anything: print it tamed. */
	for (i = 0; msg[i] != '\0'; i++)
		msg[i] = (unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f ? '?' : msg[i];
	cli_warn("%s %.60s: %s", im->skip_invalid ? "skipping" : "invalid", what, msg);
	im->skipped++;
}

static enum udb_rc domain_id(struct import *im, const char *domain, long long *id_r)
{
	struct cli *cli = im->cli;
	long long n = 0;
	enum udb_rc rc;

	rc = udb_query_int(cli->db, -1, id_r, cli->err, sizeof(cli->err),
			   "SELECT id FROM domains WHERE name = ?1", "t", domain);
	if (rc != UDB_OK || *id_r >= 0)
		return rc;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
		     "INSERT INTO domains (name, created) VALUES (?1, ?2)", "ti", domain,
		     (long long)time(NULL));
	*id_r = sqlite3_last_insert_rowid(cli->db);
	im->domains += rc == UDB_OK;
	return rc;
}

static const char *field_of(void *context, const char *name)
{
	const struct src_user *u = context;
	const char *v = NULL;

	if (strcmp(name, "trees_enabled") == 0)
		v = u->enabled;
	else if (strcmp(name, "trees_version") == 0)
		v = u->version;
	else if (strcmp(name, "trees_public_key") == 0)
		v = u->public_key;
	else if (strcmp(name, "trees_pwhash_algo") == 0)
		v = u->algo;
	else if (strcmp(name, "trees_pwhash_opslimit") == 0)
		v = u->ops;
	else if (strcmp(name, "trees_pwhash_memlimit") == 0)
		v = u->mem;
	else if (strcmp(name, "trees_pwhash_salt") == 0)
		v = u->salt;
	else if (strcmp(name, "trees_sk_nonce") == 0)
		v = u->nonce;
	else if (strcmp(name, "trees_locked_secretbox") == 0)
		v = u->box;
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Adds one user (in the caller's transaction). Returns an error class only
 * for database errors; a bad row is a problem() and UDB_OK. */
static enum udb_rc import_user(struct import *im, struct src_user *u)
{
	struct cli *cli = im->cli;
	char addr[UDB_ADDRESS_MAX + 1], local[UDB_LOCAL_MAX + 1], domain[UDB_DOMAIN_MAX + 1];
	char home[UDB_HOME_MAX + 1], hash[UDB_HASH_MAX + 1], err[256];
	struct trees_settings set;
	struct udb_wrap w;
	long long did, id, exists = 0, now = (long long)time(NULL);
	bool keyed;
	enum udb_rc rc;

	if (u->address == NULL ||
	    udb_address_normalize(u->address, addr, local, domain, err, sizeof(err)) < 0)
		return problem(im, u->address ? u->address : "(no address)", "%s", err), UDB_OK;
	/* Keys: a row with a public key is a TREES mailbox; riseup marks
	 * mailboxes without encryption with empty key fields. */
	keyed = field_of(u, "trees_public_key") != NULL;
	if (keyed && field_of(u, "trees_pwhash_algo") == NULL && im->default_algo >= 0)
		u->algo = im->default_algo == 0 ? "0" : "1";
	if (keyed && field_of(u, "trees_version") == NULL)
		u->version = "1";
	if (keyed && field_of(u, "trees_enabled") == NULL)
		u->enabled = "1";
	if (keyed && field_of(u, "trees_pwhash_algo") == NULL)
		return problem(im, addr, "the source does not say which argon2 its key wraps use: "
			       "give --pwhash-algo argon2i (libsodium < 1.0.15) or argon2id"),
		       UDB_OK;
	if (keyed && trees_settings_read(&set, field_of, u, err, sizeof(err)) < 0)
		return problem(im, addr, "TREES key fields: %s", err), UDB_OK;
	if (keyed && !set.have_locked_key)
		return problem(im, addr, "TREES key fields: no locked secret key"), UDB_OK;
	if (!keyed && (u->hash == NULL || udb_hash_import(u->hash, hash, err, sizeof(err)) < 0))
		return problem(im, addr, "password hash: %s", u->hash ? err : "none"), UDB_OK;
	if (udb_home_expand(im->tmpl, local, domain, home, err, sizeof(err)) < 0)
		return problem(im, addr, "%s", err), UDB_OK;
	rc = udb_query_int(cli->db, 0, &exists, cli->err, sizeof(cli->err),
			   "SELECT count(*) FROM mailboxes WHERE address = ?1", "t", addr);
	if (rc != UDB_OK)
		return rc;
	if (exists)
		return problem(im, addr, "a mailbox with this address exists already"), UDB_OK;
	if ((rc = domain_id(im, domain, &did)) != UDB_OK)
		return rc;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     "INSERT INTO mailboxes (domain_id, local_part, address, password_hash,"
		     " quota_bytes, active, home, created, updated)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)", "itttiiti", did, local, addr,
		     keyed ? NULL : hash, u->quota > 0 ? u->quota : 0LL, (long long)u->active, home,
		     now);
	if (rc != UDB_OK || !keyed) {
		im->users += rc == UDB_OK;
		return rc;
	}
	id = sqlite3_last_insert_rowid(cli->db);
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), NULL,
		     "INSERT INTO trees_keys (mailbox_id, enabled, version, public_key, created)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)", "iiibi", id, (long long)set.enabled,
		     (long long)set.version, set.public_key, (size_t)TREES_KEYBYTES, now);
	memset(&w, 0, sizeof(w));
	w.kind = UDB_WRAP_PASSWORD;
	w.locked = set.locked;
	w.created = now;
	if (rc == UDB_OK)
		rc = cli_wrap_insert(cli, id, &w);
	im->users += rc == UDB_OK;
	im->keyed += rc == UDB_OK;
	return rc;
}

static enum udb_rc import_alias(struct import *im, const char *source, const char *dest)
{
	struct cli *cli = im->cli;
	char addr[UDB_ADDRESS_MAX + 1], domain[UDB_DOMAIN_MAX + 1], to[UDB_ADDRESS_MAX + 1];
	char err[256];
	long long did, n = 0;
	enum udb_rc rc;

	if (source == NULL || dest == NULL ||
	    udb_pattern_normalize(source, 1, addr, domain, err, sizeof(err)) < 0 ||
	    udb_address_normalize(dest, to, NULL, NULL, err, sizeof(err)) < 0)
		return problem(im, source ? source : "(alias)", "alias: %s",
			       source && dest ? err : "empty"), UDB_OK;
	if ((rc = domain_id(im, domain, &did)) != UDB_OK)
		return rc;
	rc = udb_run(cli->db, cli->err, sizeof(cli->err), &n,
		     "INSERT INTO aliases (domain_id, address, destination, created)"
		     " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", "itti", did, addr, to,
		     (long long)time(NULL));
	im->aliases += (unsigned long)n;
	return rc;
}

/* The source database, read-only. */
static int open_source(struct import *im, sqlite3 **src)
{
	int rc = sqlite3_open_v2(im->source, src, SQLITE_OPEN_READONLY, NULL);

	if (rc != SQLITE_OK) {
		cli_fail(EX_NOINPUT, "%s: %s", im->source, sqlite3_errstr(rc));
		sqlite3_close(*src);
		return EX_NOINPUT;
	}
	return 0;
}

static bool has_table(sqlite3 *src, const char *table)
{
	long long n = 0;

	return udb_query_int(src, 0, &n, NULL, 0, "SELECT count(*) FROM sqlite_master "
			     "WHERE type = 'table' AND name = ?1", "t", table) == UDB_OK && n > 0;
}

static bool has_column(sqlite3 *src, const char *table, const char *column)
{
	long long n = 0;

	return udb_query_int(src, 0, &n, NULL, 0, "SELECT count(*) FROM pragma_table_info(?1) "
			     "WHERE name = ?2", "tt", table, column) == UDB_OK && n > 0;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Runs `sql` over the source and imports each row as a user: columns
 * address, hash, active, quota, enabled, version, public_key, algo, ops,
 * mem, salt, nonce, box. */
static enum udb_rc users_from(struct import *im, sqlite3 *src, const char *sql)
{
	struct src_user u;
	sqlite3_stmt *s;
	enum udb_rc rc = udb_query(src, &s, im->cli->err, sizeof(im->cli->err), sql, "");

	while (rc == UDB_OK && (rc = udb_step(src, s, im->cli->err, sizeof(im->cli->err))) ==
				       UDB_OK) {
		u = (struct src_user){ col(s, 0), col(s, 1), sqlite3_column_int(s, 2) != 0,
				       sqlite3_column_int64(s, 3), col(s, 4), col(s, 5), col(s, 6),
				       col(s, 7), col(s, 8), col(s, 9), col(s, 10), col(s, 11),
				       col(s, 12) };
		rc = import_user(im, &u);
	}
	sqlite3_finalize(s);
	return rc == UDB_NOTFOUND ? UDB_OK : rc;
}

static enum udb_rc aliases_from(struct import *im, sqlite3 *src, const char *sql)
{
	sqlite3_stmt *s;
	enum udb_rc rc = udb_query(src, &s, im->cli->err, sizeof(im->cli->err), sql, "");

	while (rc == UDB_OK &&
	       (rc = udb_step(src, s, im->cli->err, sizeof(im->cli->err))) == UDB_OK)
		rc = import_alias(im, col(s, 0), col(s, 1));
	sqlite3_finalize(s);
	return rc == UDB_NOTFOUND ? UDB_OK : rc;
}

/* riseup: virtual_domains, virtual_users, virtual_aliases and
 * [virtual_]storage_keys, whose user_id (or, in riseup's own example
 * configuration, id) is the user's id. Quotas are not taken over: their
 * unit is the deployment's. */
static enum udb_rc import_riseup(struct import *im, sqlite3 *src)
{
	const char *keys = has_table(src, "virtual_storage_keys") ? "virtual_storage_keys" :
			   has_table(src, "storage_keys") ? "storage_keys" : NULL;
	char sql[1536];
	enum udb_rc rc;

	if (!has_table(src, "virtual_users") || keys == NULL) {
		snprintf(im->cli->err, sizeof(im->cli->err), "%s has no virtual_users and "
			 "storage_keys tables (riseup's schema)", im->source);
		return UDB_ECORRUPT;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT u.email, u.password, 1, 0, k.enabled, k.version, k.public_key,"
		 " %s, k.pwhash_opslimit, k.pwhash_memlimit, k.pwhash_salt, k.sk_nonce,"
		 " k.locked_secretbox FROM virtual_users u LEFT JOIN %s k"
		 " ON k.user_id = u.id OR (k.user_id IS NULL AND k.id = u.id) ORDER BY u.id",
		 has_column(src, keys, "pwhash_algo") ? "k.pwhash_algo" : "NULL", keys);
	rc = users_from(im, src, sql);
	if (rc == UDB_OK && has_table(src, "virtual_aliases"))
		rc = aliases_from(im, src, "SELECT source, destination FROM virtual_aliases "
				  "ORDER BY id");
	return rc;
}

/* The original mailfruit: mailboxes (username, domain, password, is_active,
 * quota in bytes) and storage_keys (version and pwhash_algo only in later
 * versions). */
static enum udb_rc import_mailfruit(struct import *im, sqlite3 *src)
{
	char sql[1536];

	if (!has_table(src, "mailboxes") || !has_table(src, "storage_keys") ||
	    !has_column(src, "mailboxes", "username")) {
		snprintf(im->cli->err, sizeof(im->cli->err), "%s has no mailboxes and "
			 "storage_keys tables (the original mailfruit's schema)", im->source);
		return UDB_ECORRUPT;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT m.username || '@' || m.domain, m.password, m.is_active, m.quota,"
		 " k.enabled, %s, k.public_key, %s, k.pwhash_opslimit, k.pwhash_memlimit,"
		 " k.pwhash_salt, k.sk_nonce, k.locked_secretbox"
		 " FROM mailboxes m LEFT JOIN storage_keys k ON k.user_id = m.user_id"
		 " ORDER BY m.user_id",
		 has_column(src, "storage_keys", "version") ? "k.version" : "NULL",
		 has_column(src, "storage_keys", "pwhash_algo") ? "k.pwhash_algo" : "NULL");
	return users_from(im, src, sql);
}

/* Dovecot passwd-file: user@domain:{SCHEME}hash[:uid:gid:...]. */
static enum udb_rc import_passwd_file(struct import *im)
{
	FILE *f = fopen(im->source, "r");
	char line[4096], what[64];
	unsigned int lineno = 0;
	enum udb_rc rc = UDB_OK;

	if (f == NULL) {
		snprintf(im->cli->err, sizeof(im->cli->err), "%s: %s", im->source,
			 strerror(errno));
		return UDB_EMISSING;
	}
	while (rc == UDB_OK && fgets(line, sizeof(line), f) != NULL) {
		struct src_user u = { .active = true };
		char *colon, *end;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL) {
			snprintf(what, sizeof(what), "line %u", lineno);
			problem(im, what, "not user:hash");
			continue;
		}
		*colon = '\0';
		end = strchr(colon + 1, ':');
		if (end != NULL)
			*end = '\0';
		u.address = line;
		u.hash = colon + 1;
		rc = import_user(im, &u);
	}
	fclose(f);
	return rc;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "skip-invalid", no_argument, NULL, 's' },
		{ "pwhash-algo", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = strchr(argv[0], ' ') + 1;
	struct import im = { .cli = cli, .default_algo = -1 };
	sqlite3 *src = NULL;
	enum udb_rc rc;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (c == 'h')
			return cli_usage(argv[0], false);
		if (c == 'f')
			im.source = optarg;
		else if (c == 'n')
			im.dry_run = true;
		else if (c == 's')
			im.skip_invalid = true;
		else if (c == 'a' && strcmp(optarg, "argon2i") == 0)
			im.default_algo = 0;
		else if (c == 'a' && strcmp(optarg, "argon2id") == 0)
			im.default_algo = 1;
		else
			return c == 'a' ? cli_fail(EX_USAGE, "--pwhash-algo is argon2i or argon2id")
					: EX_USAGE;
	}
	if (argc != optind || im.source == NULL)
		return cli_usage(argv[0], true);
	if ((ret = cli_open(cli)) != 0)
		return ret;
	rc = udb_setting_get(cli->db, "home_template", "/var/vmail/%d/%n", im.tmpl,
			     sizeof(im.tmpl), cli->err, sizeof(cli->err));
	if (rc != UDB_OK)
		return cli_db_fail(cli, rc);
	if (strcmp(kind, "passwd-file") != 0 && (ret = open_source(&im, &src)) != 0)
		return ret;
	rc = udb_begin(cli->db, cli->err, sizeof(cli->err));
	if (rc == UDB_OK)
		rc = strcmp(kind, "riseup") == 0 ? import_riseup(&im, src) :
		     strcmp(kind, "mailfruit") == 0 ? import_mailfruit(&im, src) :
		     import_passwd_file(&im);
	sqlite3_close(src);
	if (rc != UDB_OK) {
		udb_rollback(cli->db);
		return cli_db_fail(cli, rc);
	}
	if (im.skipped > 0 && !im.skip_invalid) {
		udb_rollback(cli->db);
		return cli_fail(EX_DATAERR, "nothing imported: %lu invalid entries (fix them, or "
				"import the rest with --skip-invalid)", im.skipped);
	}
	if (im.dry_run)
		udb_rollback(cli->db);
	else if ((rc = udb_commit(cli->db, cli->err, sizeof(cli->err))) != UDB_OK)
		return cli_db_fail(cli, rc);
	printf("%s %lu mailboxes (%lu with TREES keys), %lu alias destinations, %lu new "
	       "domains from %s%s\n", im.dry_run ? "would import" : "imported", im.users,
	       im.keyed, im.aliases, im.domains, im.source,
	       im.skipped ? "; skipped invalid entries (see above)" : "");
	return 0;
}
