/* test-store.c - the lookups the Dovecot driver makes: mailbox, key wraps,
 * listing; damaged rows; home templates. */
#include "mailfruit-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "udb-sql.h"
#include "udb-store.h"

static char dir[] = "/tmp/mf-test-store-XXXXXX";

static void home(const char *tmpl, const char *want)
{
	char out[UDB_HOME_MAX + 1] = "", err[256] = "";
	int ret = udb_home_expand(tmpl, "alice", "example.org", out, err, sizeof(err));

	if (want != NULL)
		tap_ok(ret == 0 && strcmp(out, want) == 0, "home '%s' -> '%s' %s", tmpl, want, err);
	else
		tap_ok(ret < 0, "home template '%s' refused: %s", tmpl, err);
}

int main(void)
{
	char path[256], err[512] = "", addr[UDB_ADDRESS_MAX + 1];
	unsigned char pk[32], blob[48] = { 0 };
	sqlite3 *db = NULL, *ro = NULL;
	struct udb_lookup lk;
	struct udb_mailbox mb;
	struct udb_wrap wraps[UDB_WRAPS_MAX];
	size_t n = 0;
	int from, count;

	home("/var/vmail/%d/%n", "/var/vmail/example.org/alice");
	home("/srv/mail/%u", "/srv/mail/alice@example.org");
	home("/srv/100%%/%n", NULL);
	home("/srv/%x/%n", NULL);
	home("relative/%n", NULL);
	home("/srv/../etc/%n", NULL);
	home("/srv/./%n", NULL);

	if (mkdtemp(dir) == NULL)
		return tap_ok(false, "mkdtemp"), tap_done();
	snprintf(path, sizeof(path), "%s/u.db", dir);
	tap_ok(udb_open_rw(path, true, false, 1000, &db, err, sizeof(err)) == UDB_OK &&
	       udb_migrate(db, &from, err, sizeof(err)) == UDB_OK, "database created %s", err);
	memset(pk, 0x42, sizeof(pk));
	tap_ok(udb_exec(db,
			"INSERT INTO domains (name, created) VALUES ('example.org', 0);"
			"INSERT INTO settings (name, value) VALUES ('mail_uid', '5000'),"
			" ('mail_gid', 'vmail');"
			"INSERT INTO mailboxes (domain_id, local_part, address, password_hash,"
			" quota_bytes, active, home, created, updated) VALUES"
			" (1, 'plain', 'plain@example.org', '{SHA512-CRYPT}$6$x$y', 0, 1,"
			"  '/h/plain', 10, 20),"
			" (1, 'alice', 'alice@example.org', NULL, 1048576, 0, '/h/alice', 10, 20);",
			err, sizeof(err)) == UDB_OK, "two mailboxes %s", err);
	tap_ok(udb_run(db, err, sizeof(err), NULL,
		       "INSERT INTO trees_keys (mailbox_id, enabled, version, public_key, created)"
		       " VALUES (2, 1, 2, ?1, 0)", "b", pk, sizeof(pk)) == UDB_OK,
	       "alice has a key pair");
	tap_ok(udb_run(db, err, sizeof(err), NULL,
		       "INSERT INTO key_wraps (mailbox_id, kind, name, tag, pwhash_algo,"
		       " pwhash_opslimit, pwhash_memlimit, pwhash_salt, sk_nonce,"
		       " locked_secretbox, created) VALUES (2, 'password', NULL, NULL, 1, 3, 65536,"
		       " ?1, ?2, ?3, 7), (2, 'app', 'phone', ?1, 0, 4, 8192, ?1, ?2, ?3, 8)",
		       "bbb", blob, (size_t)16, blob, (size_t)24, blob, (size_t)48) == UDB_OK,
	       "and two key wraps %s", err);
	tap_ok(udb_run(db, err, sizeof(err), NULL,
		       "INSERT INTO key_wraps (mailbox_id, kind, tag, pwhash_algo, pwhash_opslimit,"
		       " pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, created)"
		       " VALUES (2, 'password', NULL, 1, 3, 65536, ?1, ?2, ?3, 7)",
		       "bbb", blob, (size_t)16, blob, (size_t)24, blob, (size_t)48) == UDB_EEXIST,
	       "a second login password wrap is refused by the schema");
	tap_ok(udb_run(db, err, sizeof(err), NULL,
		       "INSERT INTO key_wraps (mailbox_id, kind, tag, pwhash_algo, pwhash_opslimit,"
		       " pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, created)"
		       " VALUES (2, 'app', ?1, 1, 3, 65536, ?1, ?2, ?3, 7)",
		       "bbb", blob, (size_t)16, blob, (size_t)24, blob, (size_t)48) == UDB_ECONSTRAINT,
	       "an app password wrap without a name too");
	udb_close(db);

	tap_ok(udb_open_ro(path, 100, &ro, err, sizeof(err)) == UDB_OK, "opened read-only");
	udb_lookup_init(&lk, ro);
	tap_ok(udb_mailbox_get(&lk, "plain@example.org", &mb, err, sizeof(err)) == UDB_OK &&
	       !mb.has_keys && strcmp(mb.password_hash, "{SHA512-CRYPT}$6$x$y") == 0 &&
	       mb.active && strcmp(mb.home, "/h/plain") == 0 && mb.quota_bytes == 0 &&
	       strcmp(mb.mail_uid, "5000") == 0 && strcmp(mb.mail_gid, "vmail") == 0,
	       "a mailbox without keys: hash, home, uid/gid settings %s", err);
	tap_ok(udb_login_get(&lk, "alice@example.org", &mb, wraps, UDB_WRAPS_MAX, &n, err,
			     sizeof(err)) == UDB_OK && mb.has_keys && mb.trees_enabled &&
	       mb.trees_version == 2 && memcmp(mb.public_key, pk, 32) == 0 && !mb.active &&
	       mb.quota_bytes == 1048576 && mb.password_hash[0] == '\0',
	       "a TREES mailbox: key fields, disabled, quota %s", err);
	tap_ok(n == 2 && wraps[0].kind == UDB_WRAP_PASSWORD && !wraps[0].has_tag &&
	       wraps[0].locked.opslimit == 3 && wraps[0].locked.memlimit == 65536 &&
	       wraps[0].locked.algo == TREES_PWHASH_ARGON2ID && wraps[1].kind == UDB_WRAP_APP &&
	       strcmp(wraps[1].name, "phone") == 0 && wraps[1].has_tag &&
	       wraps[1].locked.algo == TREES_PWHASH_ARGON2I && wraps[1].created == 8,
	       "its two wraps, with their own parameters");
	tap_is_int(udb_wraps_get(&lk, 2, wraps, 1, &n, err, sizeof(err)), UDB_ECORRUPT,
		   "more wraps than the caller allows is damage: %s", err);
	tap_is_int(udb_mailbox_get(&lk, "nobody@example.org", &mb, err, sizeof(err)), UDB_NOTFOUND,
		   "unknown address");
	tap_ok(udb_iter_start(&lk, err, sizeof(err)) == UDB_OK, "iterate");
	count = 0;
	while (udb_iter_next(&lk, addr, err, sizeof(err)) == UDB_OK)
		count += strcmp(addr, count == 0 ? "alice@example.org" : "plain@example.org") == 0;
	udb_iter_end(&lk);
	tap_is_int(count, 2, "every address, in order");
	udb_lookup_deinit(&lk);
	udb_close(ro);

	/* Rows edited behind the CLI's back. */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA ignore_check_constraints = 1;"
		     "UPDATE trees_keys SET public_key = x'0102';"
		     "UPDATE mailboxes SET home = '/h/%u' WHERE local_part = 'plain'", NULL, NULL, NULL);
	sqlite3_close(db);
	udb_open_ro(path, 100, &ro, err, sizeof(err));
	udb_lookup_init(&lk, ro);
	tap_is_int(udb_mailbox_get(&lk, "alice@example.org", &mb, err, sizeof(err)), UDB_ECORRUPT,
		   "a public key of the wrong length: %s", err);
	tap_is_int(udb_mailbox_get(&lk, "plain@example.org", &mb, err, sizeof(err)), UDB_ECORRUPT,
		   "a home with '%%' (Dovecot would expand it): %s", err);
	udb_lookup_deinit(&lk);
	udb_close(ro);

	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
