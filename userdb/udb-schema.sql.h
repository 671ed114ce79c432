/*
 * udb-schema.sql.h - the SQL of each schema version, included by udb-db.c
 * only. migrations[v] turns version v into v + 1; version 0 is an empty
 * file. A released migration never changes: add the next one instead.
 *
 * Names are stored normalized (udb-addr.h): lower-case, so equality is
 * exact and Postfix's and Dovecot's lookups hit the UNIQUE indexes.
 * Times are Unix seconds. Keys and salts are BLOBs of fixed length.
 */
#ifndef UDB_SCHEMA_SQL_H
#define UDB_SCHEMA_SQL_H

static const char *const udb_migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE settings (\n"
	"  name TEXT PRIMARY KEY NOT NULL,\n"
	"  value TEXT NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE domains (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	/* password_hash: "{SCHEME}..." for mailboxes without TREES keys; those
	 * with keys log in by opening one of their key_wraps. */
	"CREATE TABLE mailboxes (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,\n"
	"  local_part TEXT NOT NULL,\n"
	"  address TEXT NOT NULL UNIQUE,\n"
	"  password_hash TEXT,\n"
	"  quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),\n"
	"  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),\n"
	"  home TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  updated INTEGER NOT NULL,\n"
	"  UNIQUE (domain_id, local_part)\n"
	");\n"
	/* The TREES key pair: the public key in clear (delivery encrypts to
	 * it), the secret key only inside key_wraps. */
	"CREATE TABLE trees_keys (\n"
	"  mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,\n"
	"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),\n"
	"  version INTEGER NOT NULL CHECK (version IN (1, 2)),\n"
	"  public_key BLOB NOT NULL CHECK (length(public_key) = 32),\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	/* Copies of the same secret key, each wrapped (crypto_secretbox) under
	 * a key argon2 derives from one secret: the login password (at most
	 * one), app passwords (named), the recovery code (at most one). tag
	 * is a keyed BLAKE2b of a generated secret (app password, recovery
	 * code), so a login finds the one wrap to open with a single argon2;
	 * the login password, chosen by a person, gets no fast hash. */
	"CREATE TABLE key_wraps (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  mailbox_id INTEGER NOT NULL REFERENCES trees_keys(mailbox_id) ON DELETE CASCADE,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('password', 'app', 'recovery')),\n"
	"  name TEXT CHECK ((kind = 'app') = (name IS NOT NULL)),\n"
	"  tag BLOB CHECK ((kind = 'password') = (tag IS NULL)\n"
	"                  AND (tag IS NULL OR length(tag) = 16)),\n"
	"  pwhash_algo INTEGER NOT NULL CHECK (pwhash_algo IN (0, 1)),\n"
	"  pwhash_opslimit INTEGER NOT NULL CHECK (pwhash_opslimit > 0),\n"
	"  pwhash_memlimit INTEGER NOT NULL CHECK (pwhash_memlimit > 0),\n"
	"  pwhash_salt BLOB NOT NULL CHECK (length(pwhash_salt) = 16),\n"
	"  sk_nonce BLOB NOT NULL CHECK (length(sk_nonce) = 24),\n"
	"  locked_secretbox BLOB NOT NULL CHECK (length(locked_secretbox) = 48),\n"
	"  created INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX key_wraps_mailbox ON key_wraps(mailbox_id);\n"
	"CREATE UNIQUE INDEX key_wraps_one_password ON key_wraps(mailbox_id)\n"
	"  WHERE kind = 'password';\n"
	"CREATE UNIQUE INDEX key_wraps_one_recovery ON key_wraps(mailbox_id)\n"
	"  WHERE kind = 'recovery';\n"
	"CREATE UNIQUE INDEX key_wraps_app_name ON key_wraps(mailbox_id, name)\n"
	"  WHERE kind = 'app';\n"
	/* address: "local@domain", or "@domain" for the domain's catch-all;
	 * one row per destination. */
	"CREATE TABLE aliases (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,\n"
	"  address TEXT NOT NULL,\n"
	"  destination TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  UNIQUE (address, destination)\n"
	");\n"
	"CREATE INDEX aliases_destination ON aliases(destination);\n"
	/* The mailbox (its address is the SASL login) may use address, or
	 * any address of a domain given as "@domain", as envelope sender. A
	 * mailbox may always send as itself without a row here. */
	"CREATE TABLE sendas (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,\n"
	"  address TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  UNIQUE (address, mailbox_id)\n"
	");\n"
	"CREATE INDEX sendas_mailbox ON sendas(mailbox_id);\n"
	"INSERT INTO settings (name, value) VALUES\n"
	"  ('home_template', '/var/vmail/%d/%n'),\n"
	"  ('argon2_opslimit', '4'),\n"
	"  ('argon2_memlimit', '67108864'),\n"
	"  ('trees_version', '2');\n",
};

#define UDB_N_MIGRATIONS (sizeof(udb_migrations) / sizeof(udb_migrations[0]))

#endif
