#!/usr/bin/env python3
"""mailfruit's Postfix sqlite: maps with a real Postfix and Dovecot.

1. postmap -q (as user postfix) on every map: domains, mailboxes, aliases
   with catch-all, sender logins; hostile keys find nothing and break
   nothing.
2. Mail sent over SMTP reaches a mailbox, an alias's destinations and a
   domain's catch-all, all over LMTP into TREES-encrypted mailboxes;
   mailboxes are not swallowed by the catch-all; unknown users of a domain
   without catch-all are refused with 550.
3. Send-as through a submission listener with reject_sender_login_mismatch:
   a login may use its own address and what 'mailfruit sendas' allows.
4. An open write transaction blocks nothing (WAL); a database Dovecot
   cannot use makes LMTP answer 451, Postfix defers, and delivers on the
   retry once the database is back: never a bounce.
5. users.db (password hashes, key wraps, salts) is unreadable for user
   postfix and for any user with gid postfix; Postfix reads the maps
   database; maps marked out of date (a crash between the CLI's two
   commits) make the SMTP client wait, never get a wrong answer, until the
   next mailfruit command; 'mailfruit migrate' moves an older install.
"""
import os
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mf  # noqa: E402
import trees_fixture as tf  # noqa: E402

tap = harness.TapRunner()
MAPS_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "userdb",
                        "postfix")
MAPS = ("domains", "mailboxes", "aliases", "sender-login")
ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"


def postfix_stack(name, submission=False):
    """A MailfruitStack with Postfix using mailfruit's map files."""
    stack = mf.MailfruitStack(name, postfix=True, group="postfix", extra_conf=mf.NO_PENALTY)
    tmp = stack.tmp
    maps = tmp.sub("postfix-maps")
    for m in MAPS:
        with open(os.path.join(MAPS_SRC, f"mailfruit-{m}.cf")) as f:
            text = f.read().replace("/var/lib/mailfruit/users-maps.db", stack.db.maps_path)
        tmp.write(f"postfix-maps/mailfruit-{m}.cf", text)
    pf = stack.postfix
    pf.params.update({
        "virtual_mailbox_domains": f"proxy:sqlite:{maps}/mailfruit-domains.cf",
        "virtual_mailbox_maps": f"proxy:sqlite:{maps}/mailfruit-mailboxes.cf",
        "virtual_alias_maps": f"proxy:sqlite:{maps}/mailfruit-aliases.cf",
        "smtpd_sender_login_maps": f"proxy:sqlite:{maps}/mailfruit-sender-login.cf",
        # A map failure makes proxymap exit; restart it at once, not in 60 s.
        "service_throttle_time": "1s",
        # One recipient per LMTP transaction: for several recipients Dovecot
        # stores the first copy and copies it to the others, which cannot
        # work when each mailbox is encrypted to its own key (see
        # docs/userdb.md).
        "lmtp_destination_recipient_limit": "1",
    })
    stack.maps = maps
    if submission:
        sock = os.path.join(tmp.path, "dovecot-sasl")
        stack.dovecot.extra_conf += (f"service auth {{\n  unix_listener {sock} {{\n"
                                     "    mode = 0666\n  }\n}\n")
        sub_port = harness.free_port()
        pf.master_lines.insert(1, (
            f"127.0.0.1:{sub_port} inet n - n - - smtpd"
            " -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot"
            f" -o smtpd_sasl_path={sock} -o smtpd_tls_security_level=none"
            " -o smtpd_sender_restrictions=reject_sender_login_mismatch"
            " -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject"))
        stack.submission_port = sub_port
    return stack


def postmap(stack, map_name, key):
    p = subprocess.run(["runuser", "-u", "postfix", "--", "postmap", "-q", key,
                        f"sqlite:{stack.maps}/mailfruit-{map_name}.cf"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def add_people(stack):
    stack.db.ok("domain", "add", "example.org")
    for user in (ALICE, BOB, CAROL):
        stack.add_user(user, user.split("@")[0] + "-pass-1", "--no-recovery-code")
    stack.add_user("dave@example.org", "dave-pass-1", "--no-encryption")
    stack.db.ok("alias", "add", "info@example.test", ALICE, BOB)
    stack.db.ok("alias", "add", "@example.test", BOB)
    stack.db.ok("sendas", "allow", CAROL, "@example.test")


@tap.test
def test_postmap():
    """postmap -q as user postfix on every map; hostile keys find nothing"""
    stack = postfix_stack("userdb-postmap")
    add_people(stack)
    expect = [
        ("domains", "example.test", "example.test"), ("domains", "example.org", "example.org"),
        ("domains", "example.net", None),
        ("mailboxes", ALICE, "OK"), ("mailboxes", "info@example.test", None),
        ("mailboxes", "@example.test", None),
        ("aliases", "info@example.test", f"{ALICE},{BOB}"),
        ("aliases", ALICE, ALICE), ("aliases", "@example.test", BOB),
        ("aliases", "nobody@example.org", None), ("aliases", "@example.org", None),
        ("sender-login", ALICE, f"{ALICE},{CAROL}"), ("sender-login", "@example.test", CAROL),
        ("sender-login", "x@example.test", CAROL),
        ("sender-login", "info@example.test", CAROL),
        ("sender-login", "dave@example.org", "dave@example.org"),
    ]
    # (example.org: carol's right for all of example.test would match there.)
    hostile = ["x'y@example.org", "' OR '1'='1", "%s@example.org", "dave@example.org'--",
               "dave@example.org' OR '1'='1", "a\"b@example.org", "\u00e5lice@example.org",
               "a" * 10000]
    for name in ("domains", "mailboxes", "aliases", "sender-login"):
        expect += [(name, key, None) for key in hostile]
    try:      # no server runs here: the temp dir is ours to remove
        for map_name, key, want in expect:
            rc, out, err = postmap(stack, map_name, key)
            got = out if rc == 0 else None
            if map_name in ("aliases", "sender-login") and got:
                got = ",".join(sorted(got.split(",")))
            assert got == want and (rc in (0, 1)) and not err, \
                f"postmap -q {key[:40]!r} {map_name}: rc {rc} {out!r} {err!r}, wanted {want!r}"
    finally:
        stack.tmp.cleanup()
    log(f"{len(expect)} postmap -q lookups as user postfix, {len(hostile) * 4} hostile keys")


@tap.test
def test_deliveries():
    """SMTP to a mailbox, an alias and a catch-all arrives (encrypted) over LMTP"""
    stack = postfix_stack("userdb-deliver")
    add_people(stack)
    with stack:
        dc, pf = stack.dovecot, stack.postfix
        sends = [(ALICE, "to alice"), ("info@example.test", "to info"),
                 ("whoever@example.test", "to the catch-all"), ("dave@example.org", "to dave")]
        for rcpt, subject in sends:
            msg, _ = harness.make_message(subject, rcpt=rcpt)
            refused = harness.smtp_send(pf.port, msg, "sender@example.net", [rcpt],
                                        starttls=False)
            assert not refused, refused
        try:
            harness.smtp_send(pf.port, harness.make_message("x")[0], "sender@example.net",
                              ["nobody@example.org"], starttls=False)
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients["nobody@example.org"]
            assert code == 550 and b"User unknown" in reply, (code, reply)
        else:
            raise AssertionError("nobody@example.org was accepted")
        want = {ALICE: ["to alice", "to info"], BOB: ["to info", "to the catch-all"],
                CAROL: [], "dave@example.org": ["to dave"]}
        for user, subjects in want.items():
            if not subjects:
                continue
            mails = harness.imap_wait_fetch(dc, user, len(subjects))
            got = sorted(m.split(b"Subject: ")[1].split(b"\r\n")[0].decode() for m in mails)
            assert got == sorted(subjects), (user, got)
            files = stack.maildir_files(user)
            encrypted = all(d.startswith(b"\xee\xff\xcc") for d in files.values())
            assert encrypted == (user != "dave@example.org"), (user, "encryption on disk")
            log(f"{user}: {got} ({'TREES' if encrypted else 'plain'} on disk)")
        assert mf.imap_read_all(dc, CAROL) == [], "carol got mail"
        log("nobody@example.org: 550 User unknown (no catch-all there)")


@tap.test
def test_sendas():
    """reject_sender_login_mismatch over submission: own address, sendas rights, @domain"""
    stack = postfix_stack("userdb-sendas", submission=True)
    add_people(stack)
    with stack:
        port = stack.submission_port

        def mail_from(user, sender):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.ehlo("client.example.net")
                if user:
                    s.login(user, user.split("@")[0] + "-pass-1")
                code, reply = s.mail(sender)
                if code == 250:
                    code, reply = s.rcpt("someone@example.net")
                return code, reply.decode(errors="replace")
        cases = [(ALICE, ALICE, 250), (ALICE, "info@example.test", 553),
                 (ALICE, "alice@example.net", 553), (CAROL, "anything@example.test", 250),
                 (CAROL, ALICE, 250), (CAROL, "carol@example.org", 553),
                 ("dave@example.org", "dave@example.org", 250), (None, ALICE, 553)]
        for user, sender, want in cases:
            code, reply = mail_from(user, sender)
            assert code == want, f"{user} as {sender}: {code} {reply}, wanted {want}"
        stack.db.ok("sendas", "allow", ALICE, "info@example.test")
        assert mail_from(ALICE, "info@example.test")[0] == 250
        stack.db.ok("sendas", "deny", ALICE, "info@example.test")
        assert mail_from(ALICE, "info@example.test")[0] == 553
        log(f"{len(cases) + 2} MAIL FROM checks, rights changed live with the CLI")


@tap.test
def test_database_trouble():
    """busy or unreadable database: mail waits or is deferred, never bounced, then delivered"""
    stack = postfix_stack("userdb-pftrouble")
    add_people(stack)
    with stack:
        dc, pf = stack.dovecot, stack.postfix

        def send(subject, timeout=60):
            msg, _ = harness.make_message(subject, rcpt=ALICE)
            with smtplib.SMTP("127.0.0.1", pf.port, timeout=timeout) as s:
                refused = s.sendmail("sender@example.net", [ALICE], msg)
            assert not refused, refused

        # A writer in an ordinary transaction (what the CLI does) blocks
        # nothing (WAL): Postfix's maps and Dovecot read on.
        con = sqlite3.connect(stack.db.path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE domains SET created = 1")
        send("during a write transaction")
        harness.imap_wait_fetch(dc, ALICE, 1)
        con.execute("ROLLBACK")
        con.close()
        log("an open write transaction: mail accepted and delivered")

        # Dovecot cannot use the database (a schema it does not know, as
        # after a newer CLI's migration) while Postfix's maps still work:
        # LMTP answers 451, Postfix defers and retries.
        con = sqlite3.connect(stack.db.path)
        con.execute("PRAGMA user_version = 99")
        con.commit()
        send("while Dovecot cannot read the database")
        pf.wait_log(r"status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.3\.0")
        log("LMTP 451: Postfix deferred the mail")
        con.execute("PRAGMA user_version = 1")
        con.commit()
        con.close()
        harness.run(["postqueue", "-c", pf.etc, "-f"])
        harness.imap_wait_fetch(dc, ALICE, 2, timeout=60)
        log("schema back: the deferred mail was delivered on the retry")
        text = pf.log_text()
        assert "status=bounced" not in text and " 5.1." not in text, "a bounce"
        tf.assert_no_errors(dc, allowed=[r"unknown schema version: temporary failure",
                                         r"Auth USER lookup failed",
                                         r"Failed to lookup user"])


# Who may read what: user postfix, and another user with only gid postfix.
AS_POSTFIX = [["runuser", "-u", "postfix", "--"],
              ["setpriv", "--reuid=nobody", "--regid=postfix", "--clear-groups"]]
READ_PROBE = ["sh", "-c", 'for f; do head -c1 "$f" >/dev/null 2>&1 && echo "readable $f"; done; exit 0',
              "sh"]


def assert_private(stack):
    files = [stack.db.path + s for s in ("", "-wal", "-shm")]
    assert all(os.path.exists(f) for f in files), files
    for who in AS_POSTFIX:
        # The maps database is the control: the same user reaches and
        # reads it, so a refusal below is the file's mode, not the path's.
        p = subprocess.run(who + READ_PROBE + [stack.db.maps_path] + files,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0 and p.stdout == f"readable {stack.db.maps_path}\n", \
            f"{who}: {p.stdout}"
        p = subprocess.run(who + ["sqlite3", stack.db.path, "SELECT count(*) FROM key_wraps"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode != 0, f"{who} read key_wraps: {p.stdout}"


@tap.test
def test_secrets_private():
    """gid postfix cannot read users.db; Postfix resolves the maps; stale maps defer, never lie"""
    stack = postfix_stack("userdb-private")
    add_people(stack)
    assert_private(stack)
    assert postmap(stack, "aliases", "info@example.test")[1] in (f"{ALICE},{BOB}",
                                                                 f"{BOB},{ALICE}")
    assert postmap(stack, "sender-login", ALICE)[1] in (f"{ALICE},{CAROL}", f"{CAROL},{ALICE}")
    log("users.db, -wal, -shm unreadable as postfix and as nobody:postfix; postmap -q works")
    with stack:
        pf = stack.postfix
        # What a crash between the CLI's two commits leaves: users.db has
        # a change the maps lack, and the maps are marked out of date.
        maps = sqlite3.connect(stack.db.maps_path)
        maps.execute("UPDATE state SET guard = 'out of date: run mailfruit maps sync'")
        maps.commit()
        users = sqlite3.connect(stack.db.path)
        users.execute("INSERT INTO aliases (domain_id, address, destination, created)"
                      " SELECT id, 'late@example.test', ?, 0 FROM domains"
                      " WHERE name = 'example.test'", (ALICE,))
        users.commit()
        users.close()
        rc, out, err = postmap(stack, "aliases", "late@example.test")
        # A key the stale maps lack must not be "not found" (550): it fails.
        assert out == "" and "malformed JSON" in err and "fatal" in err, (rc, out, err)
        # smtpd's lookups (trivial-rewrite retries proxymap) wait while
        # the maps refuse: the client waits, nothing is refused or bounced.
        answer = []

        def rcpt_late():
            with smtplib.SMTP("127.0.0.1", pf.port, timeout=120) as s:
                s.ehlo("client.example.net")
                s.mail("sender@example.net")
                answer.append(s.rcpt("late@example.test"))
        client = threading.Thread(target=rcpt_late, daemon=True)
        client.start()
        client.join(5)
        assert client.is_alive() and not answer, f"smtpd answered from stale maps: {answer}"
        maps.close()
        log("maps marked out of date: postmap fails, the SMTP client waits")
        stack.db.ok("user", "list")     # any command repairs them
        client.join(120)
        assert answer and answer[0][0] == 250, f"RCPT after the repair: {answer}"
        assert postmap(stack, "aliases", "late@example.test")[1] == ALICE
        msg, _ = harness.make_message("after the repair", rcpt="late@example.test")
        assert not harness.smtp_send(pf.port, msg, "sender@example.net",
                                     ["late@example.test"], starttls=False)
        harness.imap_wait_fetch(stack.dovecot, ALICE, 1)
        log("the next mailfruit command repaired the maps; late@ delivered")


@tap.test
def test_migrate_old_install():
    """mailfruit migrate turns the old layout (users.db 0640 root:postfix) into the new one"""
    stack = postfix_stack("userdb-migrate")
    add_people(stack)
    db = stack.db
    try:
        con = sqlite3.connect(db.path)
        con.execute("DELETE FROM settings WHERE name = 'maps_group'")
        con.commit()
        con.close()
        db.ok("user", "list")           # -wal/-shm back (the close above removed them)
        for suffix in ("", "-wal", "-shm"):
            os.unlink(db.maps_path + suffix)
            shutil.chown(db.path + suffix, group="postfix")
            os.chmod(db.path + suffix, 0o640)
        db.ok("migrate")
        assert_private(stack)
        assert postmap(stack, "domains", "example.org")[1] == "example.org"
        assert db.ok("config", "get", "maps_group").strip() == "postfix"
    finally:
        stack.tmp.cleanup()
    log("migrate: users.db 0600, maps database made for group postfix, postmap -q works")


if __name__ == "__main__":
    sys.exit(tap.run())
