#!/usr/bin/env python3
"""The mailfruit CLI as an admin uses it: help, exit codes (sysexits),
password input, JSON, hostile input, key re-wrapping, deletion, concurrent
invocations, a busy database, and the default argon2 cost."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from userdb_fixture import CLI, Db, Tap, check, log  # noqa: E402

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_NOUSER = 64, 65, 66, 67
EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 75, 77, 78

tap = Tap()
TMP = tempfile.mkdtemp(prefix="mf-test-cli-", dir=os.environ.get("MF_TMPDIR"))


def fresh(name, **kw):
    db = Db(os.path.join(TMP, name + ".db"))
    return db.init(home_template=os.path.join(TMP, name, "%d", "%n"), **kw)


def expect(result, rc, text=None):
    got, out, err = result
    check(got == rc, f"exit {got}, expected {rc}; stderr: {err.strip()}")
    if text is not None:
        check(text in err or text in out, f"{text!r} not in output: {out!r} {err!r}")
    return out


@tap.test
def test_help():
    """--help for the program and every subcommand; unknown commands are usage errors"""
    p = subprocess.run([CLI, "--help"], stdout=subprocess.PIPE, text=True)
    check(p.returncode == 0 and "mailfruit user add" in p.stdout, p.stdout)
    commands = [line.split()[1:3] for line in p.stdout.splitlines()
                if line.startswith("  mailfruit ")]
    check(len(commands) >= 25, f"only {len(commands)} commands listed")
    for words in commands:
        words = [w for w in words if w.islower() and not w.startswith("[")]
        q = subprocess.run([CLI] + words + ["--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(q.returncode == 0 and "usage:" in q.stdout,
              f"mailfruit {' '.join(words)} --help: {q.returncode} {q.stdout} {q.stderr}")
    for argv, rc in (([], EX_USAGE), (["frobnicate"], EX_USAGE), (["user", "frob"], EX_USAGE),
                     (["user"], EX_USAGE), (["user", "--help"], 0),
                     (["user", "add"], EX_USAGE), (["user", "add", "--password", "x"], EX_USAGE)):
        q = subprocess.run([CLI, "--db", "/nonexistent"] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(q.returncode == rc, f"mailfruit {argv}: exit {q.returncode}, expected {rc}")
    log("every subcommand has --help; there is no --password option")


@tap.test
def test_database_states():
    """missing, foreign and newer databases give EX_NOINPUT / EX_CONFIG; init is idempotent"""
    db = Db(os.path.join(TMP, "missing.db"))
    expect(db.run("domain", "list"), EX_NOINPUT, "mailfruit init")
    check(not os.path.exists(db.path), "a read command created the database")
    other = os.path.join(TMP, "other.db")
    sqlite3.connect(other).execute("CREATE TABLE mailboxes (x)").connection.commit()
    expect(Db(other).run("domain", "list"), EX_CONFIG, "not mailfruit's")
    db = fresh("states")
    expect(db.run("init"), 0, "up to date")
    con = sqlite3.connect(db.path)
    con.execute("PRAGMA user_version = 7")
    con.close()
    expect(db.run("domain", "list"), EX_CONFIG, "newer")
    check(oct(os.stat(db.path).st_mode & 0o777) == "0o600", "database file is not 0600")


@tap.test
def test_hostile_names():
    """quotes, %, newlines, unicode and 10 000-character names are refused and change nothing"""
    db = fresh("hostile")
    db.ok("domain", "add", "example.org")
    hostile = ["ex'ample.org", "ex%dample.org", "a\nb.org", "bücher.org", "x" * 10000 + ".org",
               "exa mple.org", "example.org'; DROP TABLE domains; --"]
    for name in hostile:
        rc, out, err = db.run("domain", "add", name)
        check(rc == EX_DATAERR, f"domain {name[:30]!r}: exit {rc}")
        check(len(err) < 400 and "\n" not in err.rstrip("\n"),
              f"message is not one short line: {err[:200]!r}")
    for addr in ["al'ice@example.org", "al%uice@example.org", "alice\n@example.org",
                 "ålice@example.org", "a" * 10000 + "@example.org", "alice@example.org\nx",
                 "%{user}@example.org", "al\"ice@example.org"]:
        rc, out, err = db.run("user", "add", addr, "--password-fd", "{fd}",
                              secrets=["long enough pw"])
        check(rc == EX_DATAERR, f"user {addr[:30]!r}: exit {rc} {err}")
        expect(db.run("alias", "add", "info@example.org", addr), EX_DATAERR)
        expect(db.run("sendas", "allow", addr, "info@example.org"), EX_DATAERR)
    check([d["domain"] for d in db.json("domain", "list")] == ["example.org"],
          "a hostile name got into the database")
    check(db.json("user", "list") == [] and db.json("alias", "list") == [], "rows were added")
    # Upper case is folded, not refused.
    db.add_user("Mixed.Case@EXAMPLE.org", "long enough pw", "--no-recovery-code")
    check(db.json("user", "show", "mixed.case@example.org")["address"] ==
          "mixed.case@example.org", "address not normalized")


@tap.test
def test_password_input():
    """passwords only from the terminal or --password-fd; short or mismatched refused"""
    db = fresh("pwinput")
    db.ok("domain", "add", "example.org")
    expect(db.run("user", "add", "a@example.org"), EX_USAGE, "--password-fd")
    expect(db.run("user", "add", "a@example.org", "--password-fd", "{fd}", secrets=["short"]),
           EX_DATAERR, "at least 8")
    expect(db.run("user", "add", "a@example.org", "--password-fd", "99"), EX_USAGE,
           "not an open file descriptor")
    expect(db.run("user", "add", "a@example.org", "--password-fd", "{fd}", secrets=[""]),
           EX_DATAERR, "empty")
    env = dict(os.environ, MAILFRUIT_PASSWORD="from the environment", PASSWORD="x" * 12)
    expect(db.run("user", "add", "a@example.org", env=env), EX_USAGE, "--password-fd")
    check(db.json("user", "list") == [], "a user was created without a password")
    # A password with '%' and quotes is just a password.
    code = db.add_user("b@example.org", "100% 'quoted' \"pw\"")
    check(db.passwd("b@example.org", "100% 'quoted' \"pw\"", "another password")[0] == 0,
          "the password with % and quotes does not open the key")
    check(code is not None, "no recovery code printed")


@tap.test
def test_user_lifecycle():
    """user add/list/show/quota/disable/enable with JSON; exists and unknown domain refused"""
    db = fresh("life")
    expect(db.run("user", "add", "a@nodomain.org", "--password-fd", "{fd}",
                  secrets=["long enough pw"]), EX_NOUSER, "domain add")
    db.ok("domain", "add", "example.org")
    code = db.add_user("alice@example.org", "alice password", "--quota", "1G")
    check(code is not None and len(code) == 35, f"recovery code {code!r}")
    db.add_user("plain@example.org", "plain password", "--no-encryption")
    expect(db.run("user", "add", "alice@example.org", "--password-fd", "{fd}",
                  secrets=["long enough pw"]), EX_DATAERR, "exists")
    users = {u["address"]: u for u in db.json("user", "list")}
    check(users["alice@example.org"]["encryption"]["version"] == 2, users)
    check(users["alice@example.org"]["quota_bytes"] == 1 << 30, users)
    check(users["plain@example.org"]["encryption"] is None, users)
    show = db.json("user", "show", "alice@example.org")
    kinds = sorted(c["kind"] for c in show["credentials"])
    check(kinds == ["password", "recovery"], kinds)
    text = db.ok("user", "show", "alice@example.org") + db.ok("--json", "user", "show",
                                                              "plain@example.org")
    check(code not in text and code.replace("-", "") not in text, "recovery code shown again")
    check("$argon2id$" not in text, "user show prints the password hash")
    db.ok("user", "quota", "alice@example.org", "none")
    db.ok("user", "disable", "plain@example.org")
    check(not db.json("user", "show", "plain@example.org")["active"], "not disabled")
    db.ok("user", "enable", "plain@example.org")
    expect(db.run("user", "quota", "alice@example.org", "lots"), EX_USAGE)
    expect(db.run("user", "show", "nobody@example.org"), EX_NOUSER)
    rc, out, _ = db.run("--json", "user", "add", "j@example.org", "--password-fd", "{fd}",
                        secrets=["long enough pw"])
    j = json.loads(out)
    check(rc == 0 and len(j["recovery_code"]) == 35, out)


@tap.test
def test_encrypt_new_mailboxes():
    """encrypt_new_mailboxes = no makes user add store a hash; --encryption overrides it"""
    db = fresh("encdefault")
    db.ok("domain", "add", "example.org")
    check(db.ok("config", "get", "encrypt_new_mailboxes").strip() == "yes",
          "the default is not shown as yes")
    expect(db.run("config", "set", "encrypt_new_mailboxes", "maybe"), EX_DATAERR, "yes or no")
    db.ok("config", "set", "encrypt_new_mailboxes", "no")
    check("encrypt_new_mailboxes = no" in db.ok("config", "list"), "not listed")
    check(db.add_user("plain@example.org", "plain password") is None,
          "a recovery code for a mailbox without encryption")
    db.add_user("forced@example.org", "forced password", "--encryption")
    expect(db.run("user", "add", "both@example.org", "--encryption", "--no-encryption",
                  "--password-fd", "{fd}", secrets=["long enough pw"]), EX_USAGE, "exclude")
    users = {u["address"]: u for u in db.json("user", "list")}
    check(users["plain@example.org"]["encryption"] is None, users)
    check(users["forced@example.org"]["encryption"]["version"] == 2, users)
    db.ok("config", "set", "encrypt_new_mailboxes", "yes")
    db.add_user("enc@example.org", "enc password")
    db.add_user("plain2@example.org", "plain password", "--no-encryption")
    users = {u["address"]: u for u in db.json("user", "list")}
    check(users["enc@example.org"]["encryption"]["enabled"], users)
    check(users["plain2@example.org"]["encryption"] is None, users)
    con = sqlite3.connect(db.path)
    con.execute("UPDATE settings SET value = 'perhaps' WHERE name = 'encrypt_new_mailboxes'")
    con.commit()
    con.close()
    expect(db.run("user", "add", "bad@example.org", "--password-fd", "{fd}",
                  secrets=["long enough pw"]), EX_CONFIG, "encrypt_new_mailboxes")


@tap.test
def test_rewrap_keeps_key():
    """passwd, app passwords and the recovery code re-wrap the same key; --discard-mail-key replaces it"""
    db = fresh("rewrap")
    db.ok("domain", "add", "example.org")
    code = db.add_user("alice@example.org", "first password")
    pk = db.json("user", "show", "alice@example.org")["encryption"]["public_key"]
    expect(db.passwd("alice@example.org", "wrong password", "second password"), EX_NOPERM,
           "opens none")
    expect(db.passwd("alice@example.org", "", "second password"), EX_NOPERM,
           "--discard-mail-key")
    expect(db.passwd("alice@example.org", "first password", "second password"), 0,
           "existing mail stays readable")
    app = db.app_password("alice@example.org", "second password", name="phone")
    app2 = db.app_password("alice@example.org", app)
    names = [a["name"] for a in db.json("app-password", "list", "alice@example.org")]
    check(names == ["phone", "app1"], names)
    # The app password, typed in capitals without dashes, changes the password.
    expect(db.passwd("alice@example.org", app2.replace("-", "").upper(), "third password"), 0)
    expect(db.passwd("alice@example.org", "second password", "x" * 12), EX_NOPERM)
    db.ok("app-password", "revoke", "alice@example.org", "app1")
    expect(db.passwd("alice@example.org", app2, "fourth password"), EX_NOPERM)
    # The recovery code works once: using it prints a new one.
    rc, out, err = db.passwd("alice@example.org", code, "fifth password")
    check(rc == 0 and "New recovery code" in out, out + err)
    new_code = out.split("shown only now:")[1].split()[0]
    expect(db.passwd("alice@example.org", code, "sixth password"), EX_NOPERM)
    expect(db.passwd("alice@example.org", new_code, "sixth password"), 0)
    check(db.json("user", "show", "alice@example.org")["encryption"]["public_key"] == pk,
          "the key pair changed")
    rc, out, err = db.run("recovery", "new", "alice@example.org", "--password-fd", "{fd}",
                          secrets=["sixth password"])
    check(rc == 0 and "recovery code" in out, err)
    check(db.json("recovery", "show-status", "alice@example.org")["recovery_code"], "no code")
    expect(db.run("user", "passwd", "alice@example.org", "--discard-mail-key",
                  "--password-fd", "{fd}", secrets=["new start pw"]), EX_USAGE, "--yes")
    rc, out, err = db.run("user", "passwd", "alice@example.org", "--discard-mail-key", "--yes",
                          "--password-fd", "{fd}", secrets=["new start pw"])
    check(rc == 0 and "UNREADABLE" in err and "recovery code" in out, out + err)
    show = db.json("user", "show", "alice@example.org")
    check(show["encryption"]["public_key"] != pk, "the key pair was not replaced")
    check(sorted(c["kind"] for c in show["credentials"]) == ["password", "recovery"],
          "app passwords survived --discard-mail-key")
    db.add_user("plain@example.org", "plain password", "--no-encryption")
    expect(db.run("user", "passwd", "plain@example.org", "--password-fd", "{fd}",
                  secrets=["new plain pw"]), 0)
    expect(db.run("app-password", "add", "plain@example.org", "--password-fd", "{fd}",
                  secrets=["new plain pw"]), EX_DATAERR, "no encryption")


@tap.test
def test_alias_sendas():
    """aliases with catch-all and send-as rights: add, list (JSON), delete"""
    db = fresh("alias")
    db.ok("domain", "add", "example.org")
    db.add_user("alice@example.org", "alice password")
    db.ok("alias", "add", "info@example.org", "alice@example.org", "ext@other.net")
    db.ok("alias", "add", "@example.org", "alice@example.org")
    expect(db.run("alias", "add", "x@unknown.org", "alice@example.org"), EX_NOUSER)
    expect(db.run("alias", "add", "info@example.org", "info@example.org"), EX_DATAERR)
    aliases = db.json("alias", "list")
    check(aliases == [{"address": "info@example.org",
                       "destinations": ["alice@example.org", "ext@other.net"]},
                      {"address": "@example.org", "destinations": ["alice@example.org"]}],
          aliases)
    db.ok("alias", "del", "info@example.org", "ext@other.net")
    expect(db.run("alias", "del", "info@example.org", "ext@other.net"), EX_NOUSER)
    db.ok("sendas", "allow", "alice@example.org", "info@example.org")
    db.ok("sendas", "allow", "alice@example.org", "@example.org")
    check(db.json("sendas", "list", "alice@example.org") ==
          [{"login": "alice@example.org", "may_send_as": ["@example.org", "info@example.org"]}],
          db.json("sendas", "list"))
    db.ok("sendas", "deny", "alice@example.org", "@example.org")
    expect(db.run("sendas", "deny", "alice@example.org", "@example.org"), EX_NOUSER)
    expect(db.run("domain", "del", "example.org"), EX_DATAERR, "mailbox")


@tap.test
def test_user_del():
    """user del asks (or --yes), keeps mail unless --purge-mail, removes aliases to the user"""
    db = fresh("del")
    db.ok("domain", "add", "example.org")
    for u in ("a", "b"):
        db.add_user(f"{u}@example.org", "long enough pw", "--no-recovery-code")
        home = os.path.join(TMP, "del", "example.org", u, "Maildir", "cur")
        os.makedirs(home)
        open(os.path.join(home, "1.msg"), "w").write("mail")
    db.ok("alias", "add", "team@example.org", "a@example.org", "b@example.org")
    expect(db.run("user", "del", "a@example.org"), EX_USAGE, "--yes")
    db.ok("user", "del", "a@example.org", "--yes")
    check(os.path.exists(os.path.join(TMP, "del", "example.org", "a", "Maildir", "cur",
                                      "1.msg")), "mail was removed without --purge-mail")
    check(db.json("alias", "list") == [{"address": "team@example.org",
                                        "destinations": ["b@example.org"]}], "alias kept")
    db.ok("user", "del", "b@example.org", "--yes", "--purge-mail")
    check(not os.path.exists(os.path.join(TMP, "del", "example.org", "b")), "not purged")
    # A home that holds another mailbox's home is never purged.
    db.ok("config", "set", "home_template", os.path.join(TMP, "del2", "%n"))
    db.add_user("x@example.org", "long enough pw", "--no-recovery-code")
    db.ok("config", "set", "home_template", os.path.join(TMP, "del2", "x", "%n"))
    db.add_user("y@example.org", "long enough pw", "--no-recovery-code")
    os.makedirs(os.path.join(TMP, "del2", "x", "y"))
    expect(db.run("user", "del", "x@example.org", "--yes", "--purge-mail"), EX_DATAERR,
           "another mailbox")
    check(os.path.isdir(os.path.join(TMP, "del2", "x", "y")), "a shared home was removed")
    check(len(db.json("user", "list")) == 2, "the refused delete deleted the user anyway")


@tap.test
def test_concurrency():
    """parallel invocations: 8 user adds and 16 alias adds at once all succeed"""
    db = fresh("conc")
    db.ok("domain", "add", "example.org")
    results = []

    def add(i):
        results.append(db.run("user", "add", f"u{i}@example.org", "--password-fd", "{fd}",
                              secrets=[f"password number {i}"]))

    def alias(i):
        results.append(db.run("alias", "add", "all@example.org", f"d{i}@other.net"))
    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=alias, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [r for r in results if r[0] != 0]
    check(not bad, f"failed: {bad[:3]}")
    check(len(db.json("user", "list")) == 8, "not 8 users")
    check(len(db.json("alias", "list")[0]["destinations"]) == 16, "not 16 destinations")


@tap.test
def test_busy_database():
    """a writer holding the database exclusively: EX_TEMPFAIL after the busy timeout"""
    db = fresh("busy")
    con = sqlite3.connect(db.path, isolation_level=None)
    con.execute("PRAGMA locking_mode = EXCLUSIVE")
    con.execute("BEGIN EXCLUSIVE")
    con.execute("INSERT INTO domains (name, created) VALUES ('held.org', 0)")
    t0 = time.monotonic()
    expect(db.run("domain", "add", "example.org", busy_ms=300), EX_TEMPFAIL, "try again")
    check(time.monotonic() - t0 < 10, "the busy timeout was not honoured")
    con.execute("COMMIT")
    con.close()
    db.ok("domain", "add", "example.org")


@tap.test
def test_default_cost():
    """the default argon2 cost takes about 0.1-0.3 s per key wrap here"""
    db = fresh("cost", fast=False)
    db.ok("domain", "add", "example.org")
    conf = dict(line.split(" = ") for line in db.ok("config", "list").splitlines())
    t0 = time.monotonic()
    db.add_user("a@example.org", "long enough pw", "--no-recovery-code")
    took = time.monotonic() - t0
    log(f"default argon2id opslimit {conf['argon2_opslimit']}, memlimit "
        f"{conf['argon2_memlimit']}: one wrap (plus process start) took {took:.3f} s")
    # The machine is shared: accept a loaded moment, but not an order of
    # magnitude off in either direction.
    check(0.05 <= took <= 0.9, f"{took:.3f} s")


RISEUP_KEY = {  # trees-format.md section 6: riseup's vector, password "PASSWORD", argon2i
    "public_key": "b7b151873bb7c14de89ffcf34e1e4a7af2843f9becce9da0f7738a93480ae63f",
    "locked_secretbox": "869ddac34b3afab6e138d7a82b4b93b13aec046f340e4a78d5b44644ad86cf1117"
                        "9473de16a9080bf5261ec406f82889",
    "sk_nonce": "634c29520f376fff514d68b372d497d0eb5b62c14fb84b68",
    "pwhash_salt": "5c13b1144ad120d6ca275e01b43c61d9",
    "pwhash_opslimit": 4, "pwhash_memlimit": 33554432,
}


def doveadm_pw(scheme, password):
    return subprocess.run(["doveadm", "pw", "-s", scheme, "-p", password], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def riseup_db(path):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE virtual_domains (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
        CREATE TABLE virtual_aliases (id INTEGER PRIMARY KEY, domain_id INT NOT NULL,
            source VARCHAR(100) NOT NULL, destination VARCHAR(100) NOT NULL);
        CREATE TABLE virtual_users (id INTEGER PRIMARY KEY, domain_id INT NOT NULL,
            password VARCHAR(106) NOT NULL, email VARCHAR(120) NOT NULL, quota INT);
        CREATE TABLE virtual_storage_keys (id INTEGER PRIMARY KEY, enabled TINYINT DEFAULT 1,
            version TINYINT DEFAULT 1, public_key TEXT, pwhash_algo TINYINT DEFAULT 1,
            pwhash_opslimit INT, pwhash_memlimit INT, pwhash_salt VARCHAR(255),
            sk_nonce VARCHAR(255), locked_secretbox TEXT, user_id INT);
        INSERT INTO virtual_domains VALUES (1, 'trees.testing');
        INSERT INTO virtual_aliases VALUES (1, 1, 'alias@trees.testing', 'admin@trees.testing');
    """)
    admin_hash = doveadm_pw("ARGON2I", "admin password").split("}", 1)[1]
    con.execute("INSERT INTO virtual_users VALUES (1, 1, ?, 'admin@trees.testing', 1000)",
                (admin_hash,))
    con.execute("INSERT INTO virtual_users VALUES (2, 1, 'x', 'treesenabled@trees.testing', 1000)")
    # riseup's own example: a user without encryption has empty key fields.
    con.execute("INSERT INTO virtual_storage_keys VALUES (1,0,1,'','','','','','','','1')")
    k = RISEUP_KEY
    con.execute("INSERT INTO virtual_storage_keys VALUES (2,1,1,?,0,?,?,?,?,?,2)",
                (k["public_key"], k["pwhash_opslimit"], k["pwhash_memlimit"], k["pwhash_salt"],
                 k["sk_nonce"], k["locked_secretbox"]))
    con.commit()
    con.close()


@tap.test
def test_import_riseup():
    """import riseup: keys (argon2i vector) open with the password, hashes kept, aliases"""
    db = fresh("imp-riseup")
    src = os.path.join(TMP, "riseup.db")
    riseup_db(src)
    out = expect(db.run("import", "riseup", "--from", src, "--dry-run"), 0, "would import")
    check(db.json("user", "list") == [], "--dry-run wrote")
    out = expect(db.run("import", "riseup", "--from", src), 0)
    check("2 mailboxes (1 with TREES keys), 1 alias" in out and "1 new domains" in out, out)
    show = db.json("user", "show", "treesenabled@trees.testing")
    check(show["encryption"]["version"] == 1 and
          show["encryption"]["public_key"] == RISEUP_KEY["public_key"], show)
    check(show["credentials"] == [{"kind": "password", "name": None, "algorithm": "argon2i",
                                   "opslimit": 4, "memlimit": 33554432,
                                   "created": show["credentials"][0]["created"]}], show)
    check(db.json("user", "show", "admin@trees.testing")["password_hash_scheme"] == "ARGON2I",
          "admin's hash")
    check(db.json("alias", "list") == [{"address": "alias@trees.testing",
                                        "destinations": ["admin@trees.testing"]}], "alias")
    # The imported wrap opens with riseup's password: re-wrap it.
    expect(db.passwd("treesenabled@trees.testing", "password", "new password 1"), EX_NOPERM)
    expect(db.passwd("treesenabled@trees.testing", "PASSWORD", "new password 1"), 0)
    expect(db.run("import", "riseup", "--from", src), EX_DATAERR, "exists already")
    expect(db.run("import", "riseup", "--from", os.path.join(TMP, "none.db")), EX_NOINPUT)


@tap.test
def test_import_mailfruit():
    """import mailfruit: without pwhash_algo the admin must name it; quota and state kept"""
    db = fresh("imp-mf")
    src = os.path.join(TMP, "mailfruit.db")
    con = sqlite3.connect(src)
    con.executescript("""
        CREATE TABLE 'mailboxes' ('user_id' INTEGER PRIMARY KEY,
            'username' VARCHAR(128) NOT NULL, 'domain' VARCHAR(128) NOT NULL,
            'password' VARCHAR(64) NOT NULL, 'maildir' VARCHAR(64) NOT NULL,
            'is_active' int(1) NOT NULL DEFAULT 0,
            'quota' UNSIGNED BIG INT NOT NULL DEFAULT 100000000);
        CREATE TABLE 'storage_keys' ('id' INTEGER PRIMARY KEY, 'enabled' tinyint(4) DEFAULT '1',
            'public_key' text, 'pwhash_opslimit' int(11) DEFAULT NULL,
            'pwhash_memlimit' int(11) DEFAULT NULL, 'pwhash_salt' varchar(255) DEFAULT NULL,
            'sk_nonce' varchar(255) DEFAULT NULL, 'locked_secretbox' text,
            'user_id' int(11) DEFAULT NULL);
    """)
    con.execute("INSERT INTO mailboxes VALUES (1, 'test', 'example.org', ?, '/var/mail/', 1,"
                " 100000000)", (doveadm_pw("ARGON2ID", "PASSWORD"),))
    con.execute("INSERT INTO mailboxes VALUES (2, 'gone', 'example.org', ?, '/var/mail/', 0,"
                " 5000)", (doveadm_pw("SHA512-CRYPT", "gone password"),))
    k = RISEUP_KEY
    con.execute("INSERT INTO storage_keys (public_key, pwhash_opslimit, pwhash_memlimit,"
                " pwhash_salt, sk_nonce, locked_secretbox, user_id) VALUES (?,?,?,?,?,?,1)",
                (k["public_key"], k["pwhash_opslimit"], k["pwhash_memlimit"], k["pwhash_salt"],
                 k["sk_nonce"], k["locked_secretbox"]))
    con.commit()
    con.close()
    expect(db.run("import", "mailfruit", "--from", src), EX_DATAERR, "--pwhash-algo")
    check(db.json("user", "list") == [], "a partial import was written")
    out = expect(db.run("import", "mailfruit", "--from", src, "--pwhash-algo", "argon2i"), 0)
    check("2 mailboxes (1 with TREES keys)" in out, out)
    users = {u["address"]: u for u in db.json("user", "list")}
    check(users["test@example.org"]["quota_bytes"] == 100000000 and
          users["test@example.org"]["active"], users)
    check(not users["gone@example.org"]["active"] and
          users["gone@example.org"]["encryption"] is None, users)
    expect(db.passwd("test@example.org", "PASSWORD", "new password 1"), 0)


@tap.test
def test_import_passwd_file():
    """import passwd-file: ARGON2ID, ARGON2I, BLF-CRYPT, SHA512-CRYPT, argon2 v16; all or nothing"""
    db = fresh("imp-pw")
    mkhash = os.path.join(os.path.dirname(CLI), "..", "tests", "userdb", "mkhash")
    v16 = subprocess.run([mkhash, "i", "16", "2", "64", "2", "32"], input="v16 password\n",
                         stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    lines = ["# users from the old server", "",
             "a@example.org:" + doveadm_pw("ARGON2ID", "a password") + "::::::",
             "b@example.org:" + doveadm_pw("ARGON2I", "b password").split("}", 1)[1],
             "c@example.org:" + doveadm_pw("BLF-CRYPT", "c password") + ":1000:1000::/home/c::",
             "d@example.net:" + doveadm_pw("SHA512-CRYPT", "d password"),
             "e@example.net:" + v16]
    good = os.path.join(TMP, "good.passwd")
    bad = os.path.join(TMP, "bad.passwd")
    open(good, "w").write("\n".join(lines) + "\n")
    open(bad, "w").write("\n".join(lines + ["f'@example.net:{PLAIN}x", "g@example.net:{PLAIN}x",
                                            "no colon"]) + "\n")
    rc, out, err = db.run("import", "passwd-file", "--from", bad)
    check(rc == EX_DATAERR and err.count("warning: invalid") == 3, err)
    check(db.json("user", "list") == [], "a partial import was written")
    rc, out, err = db.run("import", "passwd-file", "--from", bad, "--skip-invalid")
    check(rc == 0 and "5 mailboxes" in out and err.count("warning: skipping") == 3, out + err)
    schemes = {u["address"]: db.json("user", "show", u["address"])["password_hash_scheme"]
               for u in db.json("user", "list")}
    check(schemes == {"a@example.org": "ARGON2ID", "b@example.org": "ARGON2I",
                      "c@example.org": "BLF-CRYPT", "d@example.net": "SHA512-CRYPT",
                      "e@example.net": "ARGON2I"}, schemes)


def main():
    try:
        return tap.run()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
