#!/usr/bin/env python3
"""Shared mailboxes (acl plugin, shared namespace) between TREES users
(issue 12, defect 11).

alice (TREES) shares her INBOX with bob (TREES) and carol (no TREES) with
lookup, read, write and insert rights. In their sessions the shared
namespace's owner user carries *their* settings, so the plugin cannot know
alice's keys there. Required: never mail encrypted to the wrong user, never
clear text, a clear refusal:
  - bob's and carol's APPEND and COPY into alice's shared INBOX are refused
    with a [trees] reason in the reply and the log;
  - reading alice's encrypted mail there fails with a [trees] reason;
  - afterwards every file in alice's maildir is TREES, opens with alice's
    key, and holds none of bob's or carol's text; alice reads her mail.
"""
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dovecot_conf  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mff  # noqa: E402
import trees_fixture as tf  # noqa: E402

tap = harness.TapRunner()
ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"
SHARED = f"shared/{ALICE}/INBOX"
MAGIC_V2 = b"\xee\xff\xcc\x00\x00\x00"
# The imap process (running as the mail user) looks the owner up in the
# userdb; passwd-file returns no uid, which auth allows only with 0777.
USERDB_LISTENER_CONF = """
service auth {
  unix_listener auth-userdb {
    mode = 0777
  }
}
"""


def acl_conf(dc):
    return (dovecot_conf.acl_vfile(f"{dc.dir}/shared-mailboxes.db") +
            dovecot_conf.shared_namespace("shared/", "maildir", "Maildir") +
            USERDB_LISTENER_CONF)


def message(subject, token):
    msg, _ = harness.make_message(f"{subject} {token}", rcpt=ALICE, body=f"{token}\r\n")
    return msg


def try_imap(conn, what, fn):
    """(ok, text) of one IMAP command, errors included."""
    try:
        typ, data = fn()
    except (harness.imaplib.IMAP4.error, harness.imaplib.IMAP4.abort) as e:
        typ, data = "NO", [str(e).encode()]
    text = b" ".join(d if isinstance(d, bytes) else b" ".join(d) for d in data if d).decode(
        errors="replace")
    log(f"{what}: {typ} {text[:200]}")
    return typ == "OK", text


@tap.test
def shared_mailbox_refused():
    """Shared INBOX of a TREES user: other users' APPEND/COPY refused, its encrypted mail unreadable to them, nothing stored in clear or to the wrong key"""
    stack = tf.TreesStack("trees-shared")
    keyfile, _ = stack.trees_user(ALICE, "alice-Shared-1")
    stack.trees_user(BOB, "bob-Shared-1")
    stack.add_user(CAROL, "carol-Shared-1", {})
    stack.dovecot.extra_conf += acl_conf(stack.dovecot)
    tokens = {}
    with stack:
        dc = stack.dovecot
        tokens[ALICE] = "tok" + secrets.token_hex(10)
        assert tf.lmtp_deliver(dc, ALICE, message("for alice", tokens[ALICE]))[0] == 250
        dc.doveadm("acl", "set", "-u", ALICE, "INBOX", f"user={BOB}", "lookup", "read",
                   "write", "write-seen", "insert")
        dc.doveadm("acl", "set", "-u", ALICE, "INBOX", f"user={CAROL}", "lookup", "read",
                   "write", "write-seen", "insert")
        for user in (BOB, CAROL):
            tokens[user] = "tok" + secrets.token_hex(10)
            own = "tok" + secrets.token_hex(10)
            assert tf.lmtp_deliver(dc, user, message(f"own mail of {user}", own))[0] == 250
            conn = dc.imap(user)
            try:
                ok, text = try_imap(conn, f"{user} APPEND to {SHARED}", lambda: conn.append(
                    SHARED, None, None, message(f"from {user}", tokens[user])))
                assert not ok and "[trees]" in text, f"{user}'s APPEND: {ok} {text}"
                ok, _ = try_imap(conn, f"{user} SELECT INBOX", lambda: conn.select("INBOX"))
                assert ok
                ok, text = try_imap(conn, f"{user} COPY 1 to {SHARED}",
                                    lambda: conn.copy("1", f'"{SHARED}"'))
                assert not ok and "[trees]" in text, f"{user}'s COPY: {ok} {text}"
                ok, text = try_imap(conn, f"{user} SELECT {SHARED}",
                                    lambda: conn.select(f'"{SHARED}"', readonly=True))
                if ok:
                    ok, text = try_imap(conn, f"{user} FETCH 1 BODY[] in {SHARED}",
                                        lambda: conn.fetch("1", "(BODY.PEEK[])"))
                    assert tokens[ALICE] not in text, f"{user} read alice's mail: {text}"
                    assert not ok and "[trees]" in text, f"{user}'s FETCH: {ok} {text}"
            finally:
                conn.logout()
        line = dc.wait_log(r"refusing to save: mailbox shared by alice@example\.test[^\n]*")
        log(f"log: {line.group(0)}")
        got = b"".join(mff.imap_read_all(dc, ALICE))
        assert tokens[ALICE].encode() in got, "alice cannot read her own mail"
        files = stack.maildir_files(ALICE)
        assert len(files) == 1, f"alice's INBOX has {len(files)} files: {list(files)}"
        for path, data in files.items():
            assert data.startswith(MAGIC_V2), f"{path} is not TREES: {data[:40]!r}"
            rc, plain, err = tf.decrypt_file(keyfile, data)
            assert rc == 0, f"{path} does not open with alice's key: {err}"
        home = dc.home(ALICE)
        for d, _, names in os.walk(home):
            for name in names:
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
                for user in (BOB, CAROL):
                    assert tokens[user].encode() not in data, \
                        f"{user}'s text in clear in {os.path.relpath(os.path.join(d, name), home)}"
        log("alice's maildir: one TREES file, alice's key opens it; no text of bob or carol")


sys.exit(tap.run())
