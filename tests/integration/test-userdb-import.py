#!/usr/bin/env python3
"""Imported users log in through the mailfruit driver and read their mail.

A riseup-shaped database (argon2i and argon2id key wraps, a bare $argon2i$
hash), an original-mailfruit-shaped one (no pwhash_algo column) and a
passwd-file (bcrypt, argon2id with parallelism 4, argon2i version 16 that
only libargon2 verifies) are imported with the CLI. The TREES users read
mail their old server had stored (riseup v1 files) and mail delivered after
the import; every login costs one password hash in all of Dovecot.
"""
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mf  # noqa: E402
import trees_fixture as tf  # noqa: E402

tap = harness.TapRunner()
MKHASH = os.path.join(harness.BUILDDIR, "tests", "userdb", "mkhash")


def pw_hash(scheme, password):
    return harness.run(["doveadm", "pw", "-s", scheme, "-p", password]).stdout.strip()


def riseup_source(stack, path, users):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE virtual_domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE virtual_users (id INTEGER PRIMARY KEY, domain_id INT NOT NULL,
            password TEXT NOT NULL, email TEXT NOT NULL, quota INT);
        CREATE TABLE virtual_aliases (id INTEGER PRIMARY KEY, domain_id INT NOT NULL,
            source TEXT NOT NULL, destination TEXT NOT NULL);
        CREATE TABLE virtual_storage_keys (id INTEGER PRIMARY KEY, enabled TINYINT DEFAULT 1,
            version TINYINT DEFAULT 1, public_key TEXT, pwhash_algo TINYINT DEFAULT 1,
            pwhash_opslimit INT, pwhash_memlimit INT, pwhash_salt TEXT, sk_nonce TEXT,
            locked_secretbox TEXT, user_id INT);
        INSERT INTO virtual_domains VALUES (1, 'example.test');
    """)
    for i, (addr, hash_, f) in enumerate(users, 1):
        con.execute("INSERT INTO virtual_users VALUES (?, 1, ?, ?, 0)", (i, hash_, addr))
        if f:
            con.execute("INSERT INTO virtual_storage_keys VALUES (?,1,1,?,?,?,?,?,?,?,?)",
                        (i, f["trees_public_key"], int(f["trees_pwhash_algo"]),
                         int(f["trees_pwhash_opslimit"]), int(f["trees_pwhash_memlimit"]),
                         f["trees_pwhash_salt"], f["trees_sk_nonce"],
                         f["trees_locked_secretbox"], i))
    con.commit()
    con.close()


def mailfruit_source(path, users):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE mailboxes (user_id INTEGER PRIMARY KEY, username TEXT NOT NULL,
            domain TEXT NOT NULL, password TEXT NOT NULL, maildir TEXT NOT NULL,
            is_active INT NOT NULL DEFAULT 0, quota INT NOT NULL DEFAULT 100000000);
        CREATE TABLE storage_keys (id INTEGER PRIMARY KEY, enabled TINYINT DEFAULT 1,
            public_key TEXT, pwhash_opslimit INT, pwhash_memlimit INT, pwhash_salt TEXT,
            sk_nonce TEXT, locked_secretbox TEXT, user_id INT);
    """)
    for i, (addr, hash_, f) in enumerate(users, 1):
        local, domain = addr.split("@")
        con.execute("INSERT INTO mailboxes VALUES (?, ?, ?, ?, '/var/mail/', 1, 100000000)",
                    (i, local, domain, hash_))
        if f:
            con.execute("INSERT INTO storage_keys (public_key, pwhash_opslimit,"
                        " pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, user_id)"
                        " VALUES (?,?,?,?,?,?,?)",
                        (f["trees_public_key"], int(f["trees_pwhash_opslimit"]),
                         int(f["trees_pwhash_memlimit"]), f["trees_pwhash_salt"],
                         f["trees_sk_nonce"], f["trees_locked_secretbox"], i))
    con.commit()
    con.close()


def old_mail(stack, user, pk, subject):
    """A riseup v1 file, as the old server stored it, in the user's maildir."""
    msg, _ = harness.make_message(subject, rcpt=user)
    enc = subprocess.run([tf.CLI, "encrypt", "1", pk], input=msg, stdout=subprocess.PIPE,
                         check=True).stdout
    d = os.path.join(stack.dovecot.home(user), "Maildir", "cur")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"1700000000.old.mx:2,S"), "wb") as f:
        f.write(enc)
    p = d
    while p != stack.dovecot.homes:
        shutil.chown(p, harness.MAIL_USER, harness.MAIL_GROUP)
        p = os.path.dirname(p)
    shutil.chown(os.path.join(d, "1700000000.old.mx:2,S"), harness.MAIL_USER,
                         harness.MAIL_GROUP)
    return msg


@tap.test
def test_imported_users_log_in():
    """riseup, mailfruit and passwd-file imports: logins and reading old and new mail"""
    stack = mf.MailfruitStack("userdb-import", count_pwhash=True, extra_conf=mf.NO_PENALTY)
    tmp = stack.tmp
    keys = {}
    for user, pw, algo in (("ri@example.test", "ri-pass-1", 0), ("rid@example.test", "rid-pass-1", 1),
                           ("mf@example.test", "mf-pass-1", 1)):
        # libsodium's minimum opslimit is 3 for argon2i, 1 for argon2id.
        fields, _, _ = tf.make_key(tmp, pw, name="key-" + user, algo=algo, version=1,
                                   ops=3 if algo == 0 else 1)
        keys[user] = (pw, fields)
    riseup_src = os.path.join(tmp.path, "riseup.db")
    riseup_source(stack, riseup_src, [
        ("ri@example.test", "x", keys["ri@example.test"][1]),
        ("rid@example.test", "x", keys["rid@example.test"][1]),
        ("rplain@example.test", pw_hash("ARGON2I", "rplain-pass-1").split("}", 1)[1], None)])
    mf_src = os.path.join(tmp.path, "mailfruit.db")
    mailfruit_source(mf_src, [
        ("mf@example.test", pw_hash("ARGON2ID", "mf-pass-1"), keys["mf@example.test"][1]),
        ("mfplain@example.test", pw_hash("SHA512-CRYPT", "mfplain-pass-1"), None)])
    p4 = harness.run([MKHASH, "id", "19", "1", "64", "4", "32"], input="p4-pass-1\n").stdout
    v16 = harness.run([MKHASH, "i", "16", "1", "64", "1", "32"], input="v16-pass-1\n").stdout
    passwd = os.path.join(tmp.path, "old.passwd")
    with open(passwd, "w") as f:
        f.write(f"bf@example.test:{pw_hash('BLF-CRYPT', 'bf-pass-1')}::::::\n"
                f"p4@example.test:{p4.strip()}\nv16@example.test:{{ARGON2I}}{v16.strip()}\n")
    stack.db.ok("import", "riseup", "--from", riseup_src)
    stack.db.ok("import", "mailfruit", "--from", mf_src, "--pwhash-algo", "argon2id")
    stack.db.ok("import", "passwd-file", "--from", passwd)
    passwords = {u: keys[u][0] for u in keys}
    passwords.update({"rplain@example.test": "rplain-pass-1",
                      "mfplain@example.test": "mfplain-pass-1", "bf@example.test": "bf-pass-1",
                      "p4@example.test": "p4-pass-1", "v16@example.test": "v16-pass-1"})
    old = {u: old_mail(stack, u, keys[u][1]["trees_public_key"], f"old mail of {u}")
           for u in keys}
    with stack:
        dc = stack.dovecot
        seen = len(stack.pwhash_calls())
        for user, pw in passwords.items():
            dc.users[user] = pw
            new, _ = harness.make_message(f"new mail of {user}", rcpt=user)
            assert tf.lmtp_deliver(dc, user, new)[0] == 250
            mails = [harness.split_trace(m)[1] for m in mf.imap_read_all(dc, user)]
            want = [old[user], new] if user in old else [new]
            # (UIDs: the old file and the delivery may come in either order.)
            assert sorted(mails) == sorted(want), \
                f"{user}: {len(mails)} mails, not the expected ones: {[m[:80] for m in mails]}"
            calls = stack.pwhash_calls()
            new_calls, seen = calls[seen:], len(calls)
            # One hash per login, by whoever can verify it: the driver's
            # key unlock (crypto_pwhash), Dovecot's argon2 scheme (libsodium),
            # the driver's libargon2 for what libsodium cannot verify, and
            # crypt(3) (not counted) for bcrypt and sha512-crypt.
            want_fn = {"mfplain@example.test": [], "bf@example.test": [],
                       "rplain@example.test": ["crypto_pwhash_str_verify"],
                       "p4@example.test": ["crypto_pwhash_str_verify"],
                       "v16@example.test": ["argon2_verify"]}.get(user, ["crypto_pwhash"])
            assert [c[1] for c in new_calls] == want_fn, f"{user}: password hashing {new_calls}"
            assert mf.imap_login_error(dc, user, pw + "x") is not None, f"{user}: wrong pw"
            seen = len(stack.pwhash_calls())
            log(f"{user}: logged in ({', '.join(want_fn) or 'crypt(3)'}), read {len(mails)} "
                "mail(s)")
        files = stack.maildir_files("ri@example.test")
        assert all(d.startswith(b"\xee\xff\xcc\x00\x00\x00\x01") for d in files.values()), \
            "ri's mail is not TREES v1 (its imported version) on disk"
        tf.assert_no_errors(dc)


if __name__ == "__main__":
    sys.exit(tap.run())
