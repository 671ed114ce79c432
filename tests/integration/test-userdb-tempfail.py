#!/usr/bin/env python3
"""A database the driver cannot read is a temporary failure, never "unknown
user": IMAP answers NO [UNAVAILABLE], LMTP 451 (the sender retries), and
everything works again once the database is back.

1. A writer holding the database exclusively during a login and a
   delivery; then released.
2. A writer in an ordinary transaction (what the CLI does) does not block
   logins at all (WAL).
3. The file missing, replaced by garbage, or at an unknown schema version;
   then restored.
"""
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mf  # noqa: E402
import trees_fixture as tf  # noqa: E402

tap = harness.TapRunner()
ALICE = "alice@example.test"
PW = "alice-pass-1"


def rcpt_code(dc, rcpt):
    with dc.lmtp() as lmtp:
        lmtp.ehlo()
        lmtp.mail("sender@example.net")
        code, reply = lmtp.rcpt(rcpt)
        return code, reply.decode(errors="replace")


def checkpoint(path):
    """Move everything from the WAL into the database file (and empty the
    WAL), so that copying the file copies the database. Only tests swap
    files like this; a real backup uses SQLite's backup (sqlite3 .backup)."""
    con = sqlite3.connect(path)
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    con.close()
    assert busy == 0, "the checkpoint could not finish"


def expect_tempfail(dc, what):
    err = mf.imap_login_error(dc, ALICE, PW)
    assert err is not None and "UNAVAILABLE" in err, f"{what}: IMAP login gave {err!r}"
    code, reply = rcpt_code(dc, ALICE)
    assert code == 451, f"{what}: LMTP RCPT gave {code} {reply}"
    log(f"{what}: IMAP {err.split(']')[0]}], LMTP {code} {reply.split(' (')[0]}")


def expect_working(dc, what, mails):
    got = mf.imap_read_all(dc, ALICE)
    assert len(got) == mails, f"{what}: {len(got)} mails"
    assert rcpt_code(dc, ALICE)[0] == 250
    log(f"{what}: login and delivery work again")


@tap.test
def test_locked_by_writer():
    """a writer holding the database exclusively: temporary failure, then success"""
    stack = mf.MailfruitStack("userdb-locked", extra_conf=mf.NO_PENALTY)
    stack.add_user(ALICE, PW)
    with stack:
        dc = stack.dovecot
        # The lock is taken before the auth workers connect: in WAL mode a
        # writer gets the file exclusively only while no reader holds it
        # open (the driver keeps its connection once it has one).
        con = sqlite3.connect(stack.db.path, isolation_level=None, timeout=0)
        con.execute("PRAGMA locking_mode = EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("UPDATE mailboxes SET quota_bytes = 2")
        expect_tempfail(dc, "database held exclusively by a writer")
        con.execute("COMMIT")
        con.close()
        expect_working(dc, "writer gone", 0)
        msg, _ = harness.make_message("after the lock", rcpt=ALICE)
        assert tf.lmtp_deliver(dc, ALICE, msg)[0] == 250
        assert len(mf.imap_read_all(dc, ALICE)) == 1

        # An ordinary write transaction (the CLI's BEGIN IMMEDIATE) does
        # not block readers in WAL mode, however long it lasts.
        con = sqlite3.connect(stack.db.path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE mailboxes SET quota_bytes = 1")
        assert len(mf.imap_read_all(dc, ALICE)) == 1
        assert rcpt_code(dc, ALICE)[0] == 250
        con.execute("ROLLBACK")
        con.close()
        log("a writer in an ordinary transaction does not block logins or deliveries (WAL)")
        text = dc.log_text()
        assert "database busy: temporary failure" in text, "no log line for the busy database"


@tap.test
def test_missing_corrupt_schema():
    """missing, garbage and unknown-schema databases: temporary failure, then success"""
    stack = mf.MailfruitStack("userdb-broken", extra_conf=mf.NO_PENALTY)
    stack.add_user(ALICE, PW)
    with stack:
        dc = stack.dovecot
        path = stack.db.path
        saved = path + ".saved"
        expect_working(dc, "start", 0)
        os.rename(path, saved)
        expect_tempfail(dc, "database missing")
        os.rename(saved, path)
        expect_working(dc, "database back", 0)

        checkpoint(path)
        shutil.copy2(path, saved)
        with open(path + ".tmp", "wb") as f:
            f.write(b"garbage, not SQLite" * 100)
        os.rename(path + ".tmp", path)
        expect_tempfail(dc, "database replaced by garbage")
        os.rename(saved, path)
        expect_working(dc, "database restored", 0)

        checkpoint(path)
        shutil.copy2(path, saved)
        con = sqlite3.connect(path)
        con.execute("PRAGMA user_version = 99")
        con.close()
        checkpoint(path)
        expect_tempfail(dc, "database at an unknown schema version")
        os.rename(saved, path)
        expect_working(dc, "database restored", 0)
        text = dc.log_text()
        for what in ("database missing", "database corrupt", "unknown schema version"):
            assert f"{what}: temporary failure" in text, f"no log line for {what}"
        assert "unknown user" not in text.replace("nobody", ""), "logged as an unknown user"


if __name__ == "__main__":
    sys.exit(tap.run())
