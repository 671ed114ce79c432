#!/usr/bin/env python3
"""The CLI's answers to the security review (issue 12), without servers:

3. users.db and its -wal/-shm are private (0600); the Postfix maps database
   holds only names and follows every CLI change, also of failed commands;
   a crash between the two commits leaves the maps refusing, and the next
   command repairs them; an older install is migrated by 'mailfruit
   migrate'.
4. 'user add' refuses the home a deleted mailbox left unless told
   (--existing-home=reuse|purge); 'user del' removes the rights of others
   to send as the address.
7. 'user del --purge-mail' follows no symlink, neither above the home nor
   inside it.
(The real Postfix and Dovecot side: tests/integration/test-userdb-postfix.py
and test-userdb-auth.py.)
"""
import os
import shutil
import sqlite3
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from userdb_fixture import Db, Tap, check, log  # noqa: E402

EX_DATAERR, EX_CANTCREAT = 65, 73

tap = Tap()
TMP = tempfile.mkdtemp(prefix="mf-test-sec-", dir=os.environ.get("MF_TMPDIR"))


def fresh(name):
    db = Db(os.path.join(TMP, name + ".db"))
    return db.init(home_template=os.path.join(TMP, name, "%d", "%n"))


def rows(con, sql):
    return sorted(tuple(r) for r in con.execute(sql))


def derived(db):
    """What the maps must hold, derived from users.db."""
    con = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    try:
        return {
            "domains": rows(con, "SELECT name FROM domains"),
            "mailboxes": rows(con, "SELECT address FROM mailboxes"),
            "aliases": rows(con, "SELECT address, destination FROM aliases"),
            "sendas": rows(con, "SELECT s.address, m.address FROM sendas s"
                                " JOIN mailboxes m ON m.id = s.mailbox_id"),
        }
    finally:
        con.close()


def maps(db):
    con = sqlite3.connect(f"file:{db.maps_path}?mode=ro", uri=True)
    try:
        return ({"domains": rows(con, "SELECT name FROM domains"),
                 "mailboxes": rows(con, "SELECT address FROM mailboxes"),
                 "aliases": rows(con, "SELECT address, destination FROM aliases"),
                 "sendas": rows(con, "SELECT address, login FROM sendas")},
                con.execute("SELECT guard FROM state").fetchone()[0])
    finally:
        con.close()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@tap.test
def test_private_database():
    """users.db and its -wal/-shm are 0600; the maps hold no secret column"""
    db = fresh("private")
    db.ok("domain", "add", "example.org")
    db.add_user("a@example.org", "long enough pw")
    for suffix in ("", "-wal", "-shm"):
        check(mode(db.path + suffix) == 0o600, f"users.db{suffix} is {oct(mode(db.path + suffix))}")
    con = sqlite3.connect(f"file:{db.maps_path}?mode=ro", uri=True)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns = {t: sorted(r[1] for r in con.execute(f"PRAGMA table_info({t})")) for t in tables}
    con.close()
    check(columns == {"state": ["guard", "id", "synced"], "domains": ["name"],
                      "mailboxes": ["address"], "aliases": ["address", "destination"],
                      "sendas": ["address", "login"]}, f"the maps hold more: {columns}")
    log("users.db 0600; the maps: domains, mailboxes, aliases, sendas, state")


@tap.test
def test_maps_follow_every_change():
    """after every CLI change (and a refused one) the maps equal what users.db says"""
    db = fresh("follow")
    steps = [
        ("domain", "add", "example.org"), ("domain", "add", "example.net"),
        ("user", "add", "a@example.org", "--password-fd", "{fd}", "--no-recovery-code"),
        ("user", "add", "b@example.org", "--password-fd", "{fd}", "--no-encryption"),
        ("alias", "add", "info@example.org", "a@example.org", "b@example.org"),
        ("alias", "add", "@example.net", "a@example.org"),
        ("sendas", "allow", "b@example.org", "a@example.org"),
        ("sendas", "allow", "a@example.org", "@example.net"),
        ("alias", "del", "info@example.org", "b@example.org"),
        ("sendas", "deny", "a@example.org", "@example.net"),
        ("alias", "add", "x@example.com", "a@example.org"),   # refused: no such domain
        ("user", "del", "b@example.org", "--yes"),
        ("domain", "del", "example.net"),
    ]
    for args in steps:
        db.run(*args, secrets=["long enough pw"])
        got, guard = maps(db)
        check(guard == "0", f"after {args}: guard {guard!r}")
        check(got == derived(db), f"after {args}: maps {got} != {derived(db)}")
    log(f"{len(steps)} commands, maps equal after each")


@tap.test
def test_maps_repaired_after_crash():
    """a change without its maps copy (a crash) leaves the maps refusing until the next command"""
    db = fresh("crash")
    db.ok("domain", "add", "example.org")
    db.add_user("a@example.org", "long enough pw", "--no-recovery-code")
    # What a crash between the two commits leaves: users.db changed, the
    # maps marked but not copied.
    con = sqlite3.connect(db.maps_path)
    con.execute("UPDATE state SET guard = 'out of date: run mailfruit maps sync'")
    con.commit()
    con.close()
    con = sqlite3.connect(db.path)
    con.execute("INSERT INTO aliases (domain_id, address, destination, created)"
                " VALUES (1, 'late@example.org', 'a@example.org', 0)")
    con.commit()
    con.close()
    con = sqlite3.connect(db.maps_path)
    try:
        # A key the stale maps lack must fail too, not answer "not found".
        con.execute("SELECT destination FROM postfix_aliases"
                    " WHERE address = 'late@example.org'").fetchall()
        refused = False
    except sqlite3.Error as e:
        refused = "malformed JSON" in str(e)
    con.close()
    check(refused, "the maps answered while marked out of date")
    db.ok("user", "list")          # any command repairs
    got, guard = maps(db)
    check(guard == "0" and ("late@example.org", "a@example.org") in got["aliases"], got)
    out = db.ok("maps", "sync")
    check("1 domains, 1 mailboxes, 1 alias entries" in out, out)
    log("refused while marked; repaired by the next command; maps sync idempotent")


@tap.test
def test_migrate_old_install():
    """migrate makes a group-readable users.db (the old layout) private and creates the maps"""
    db = fresh("old")
    db.ok("domain", "add", "example.org")
    db.ok("alias", "add", "a@example.org", "b@example.org")
    # The old layout: users.db 0640, no maps database.
    for suffix in ("", "-wal", "-shm"):
        os.chmod(db.path + suffix, 0o640)
        if os.path.exists(db.maps_path + suffix):
            os.unlink(db.maps_path + suffix)
    db.ok("migrate")
    for suffix in ("", "-wal", "-shm"):
        check(mode(db.path + suffix) == 0o600, f"users.db{suffix}: {oct(mode(db.path + suffix))}")
    got, guard = maps(db)
    check(guard == "0" and got == derived(db), got)


@tap.test
def test_reused_address():
    """user add refuses a deleted mailbox's home unless --existing-home; send-as rights go"""
    db = fresh("reuse")
    db.ok("domain", "add", "example.org")
    db.add_user("a@example.org", "long enough pw", "--no-recovery-code")
    db.add_user("b@example.org", "long enough pw", "--no-recovery-code")
    db.ok("sendas", "allow", "b@example.org", "a@example.org")
    home = os.path.join(TMP, "reuse", "example.org", "a")
    os.makedirs(os.path.join(home, "Maildir", "cur"))
    old_mail = os.path.join(home, "Maildir", "cur", "1.msg")
    open(old_mail, "w").write("the first owner's mail")
    out = db.ok("user", "del", "a@example.org", "--yes")
    check("send as it" in out, out)
    check(db.json("sendas", "list") == [], "b may still send as the deleted address")
    rc, out, err = db.run("user", "add", "a@example.org", "--password-fd", "{fd}",
                          secrets=["another owner pw"])
    check(rc == EX_CANTCREAT and "--existing-home" in err, f"{rc} {err}")
    check(len(db.json("user", "list")) == 1 and os.path.exists(old_mail),
          "the refused add changed something")
    db.add_user("a@example.org", "another owner pw", "--existing-home=reuse")
    check(os.path.exists(old_mail), "reuse removed the mail")
    db.ok("user", "del", "a@example.org", "--yes")
    db.add_user("a@example.org", "third owner pw", "--existing-home=purge")
    check(not os.path.exists(home), "purge left the old home")
    log("refused with EX_CANTCREAT; reuse keeps, purge removes; send-as right removed")


@tap.test
def test_purge_follows_no_symlink():
    """--purge-mail with a symlink planted above or inside the home removes nothing outside"""
    db = fresh("sym")
    db.ok("domain", "add", "example.org")
    db.add_user("x@example.org", "long enough pw", "--no-recovery-code")
    db.add_user("y@example.org", "long enough pw", "--no-recovery-code")
    victim = os.path.join(TMP, "victim")
    for d in ("x", "inside"):
        os.makedirs(os.path.join(victim, d))
        open(os.path.join(victim, d, "precious"), "w").write("not mail")
    domain_dir = os.path.join(TMP, "sym", "example.org")
    os.makedirs(os.path.join(domain_dir, "y", "Maildir"))
    # Inside the home: a symlink to a directory outside is removed, not followed.
    os.symlink(os.path.join(victim, "inside"), os.path.join(domain_dir, "y", "Maildir", "l"))
    db.ok("user", "del", "y@example.org", "--yes", "--purge-mail")
    check(not os.path.exists(os.path.join(domain_dir, "y")), "y's home was not removed")
    # Above the home: the mail user swaps the domain directory for a symlink.
    shutil.rmtree(domain_dir)
    os.symlink(victim, domain_dir)
    rc, out, err = db.run("user", "del", "x@example.org", "--yes", "--purge-mail")
    check(rc == EX_DATAERR and "symbolic link" in err, f"{rc} {out} {err}")
    for d in ("x", "inside"):
        check(os.path.exists(os.path.join(victim, d, "precious")),
              f"{victim}/{d}/precious was deleted through a symlink")
    check(len(db.json("user", "list")) == 1, "the refused purge deleted the mailbox anyway")
    log("symlinks inside removed as links; a symlink above the home refused")


def main():
    try:
        return tap.run()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
