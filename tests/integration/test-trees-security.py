#!/usr/bin/env python3
"""TREES plugin in a real Dovecot: what must never happen.

1. Canary (maildir and mdbox): a unique token in Subject, From name and
   body of a TREES user's mail; after delivery and IMAP FETCH ENVELOPE, BODYSTRUCTURE, BODY[] and
   SEARCH, no file under the user's home (mail and index files) holds the
   token. The same steps for a user without TREES do leave it in Dovecot's
   cache, so the check can fail.
2. Wrong password: the login fails. A key wrapped under another password
   than the login's: the login fails with a clear log line; nothing is
   decrypted.
3. Fail closed: an enabled user with a bad version, a missing or malformed
   public key gets a temporary LMTP failure and a log line naming the
   problem; nothing is stored. Through Postfix the mail stays queued.
4. A corrupt message fails only its own FETCH (logged with user, mailbox,
   UID); the other messages are returned and the session goes on. Also
   with trees_read_buffer_max set low: messages up to it are decrypted
   once and read from memory, larger ones in a second pass (mail_debug
   says which), and a corrupt large one, damaged in its last chunk, still
   fails before its literal starts.
5. trees_enabled=0 with a key: existing encrypted mail still reads, new
   mail is stored in clear.
"""
import os
import re
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import trees_fixture as tf  # noqa: E402
import dovecot_conf as dc_conf  # noqa: E402

tap = harness.TapRunner()
MAGIC = b"\xee\xff\xcc\x00\x00\x00"


def files_containing(root, token):
    hits = []
    for d, _, names in os.walk(root):
        for name in names:
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                if token in f.read():
                    hits.append(os.path.relpath(path, root))
    return hits


def canary_steps(dc, user, token):
    msg = (f"From: {token} Canary <canary@example.net>\r\n"
           f"To: <{user}>\r\nSubject: canary {token}\r\n"
           "Message-ID: <canary@example.net>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
           f"The body carries {token} too.\r\n").encode()
    assert tf.lmtp_deliver(dc, user, msg)[0] == 250
    conn = dc.imap(user)
    conn.select("INBOX")
    typ, data = conn.fetch("1", "(ENVELOPE BODYSTRUCTURE BODY[])")
    assert typ == "OK" and token.encode() in data[0][0] + data[0][1], data
    typ, data = conn.search(None, "TEXT", token)
    assert typ == "OK" and data[0] == b"1", data
    typ, data = conn.search(None, "SUBJECT", token)
    assert typ == "OK" and data[0] == b"1", data
    conn.logout()


def canary(location):
    stack = tf.TreesStack("trees-canary", extra_conf=dc_conf.mail_location(*location))
    stack.trees_user("secret@example.test", "canary-pw-1")
    stack.add_user("plain@example.test", "plain-pw-1", {})
    with stack:
        dc = stack.dovecot
        token_t = "tok" + secrets.token_hex(12)
        token_p = "tok" + secrets.token_hex(12)
        canary_steps(dc, "secret@example.test", token_t)
        canary_steps(dc, "plain@example.test", token_p)
        time.sleep(0.5)
        control = files_containing(dc.home("plain@example.test"), token_p.encode())
        assert any("dovecot.index.cache" in h for h in control), \
            f"control user: token not in Dovecot's cache ({control}): the canary proves nothing"
        hits = files_containing(dc.home("secret@example.test"), token_t.encode())
        assert hits == [], f"TREES user's plaintext found on disk in: {hits}"
        log(f"{location}: control user's token found in {control}; "
            "TREES user's token in no file")
        tf.assert_no_errors(dc)


@tap.test
def canary_maildir():
    """Canary (maildir): no plaintext of a TREES user's mail in any file under the home and index dirs"""
    canary(("maildir", "~/Maildir"))


@tap.test
def canary_mdbox():
    """Canary (mdbox): no plaintext of a TREES user's mail in any file under the home and index dirs"""
    canary(("mdbox", "~/mdbox"))


@tap.test
def wrong_password():
    """Wrong password fails the login; a key locked under another password fails it with a clear log line"""
    stack = tf.TreesStack("trees-password")
    stack.trees_user("alice@example.test", "right-pw-1")
    fields, _, _ = tf.make_key(stack.tmp, "another-pw", name="key-bob")
    stack.add_user("bob@example.test", "bob-login-pw", fields)
    with stack:
        dc = stack.dovecot
        msg, _ = harness.make_message("for alice", rcpt="alice@example.test")
        assert tf.lmtp_deliver(dc, "alice@example.test", msg)[0] == 250
        try:
            dc.imap("alice@example.test", password="wrong-pw-1")
            raise AssertionError("login with a wrong password succeeded")
        except harness.imaplib.IMAP4.error as e:
            log(f"wrong password refused: {e}")
        msg, _ = harness.make_message("for bob", rcpt="bob@example.test")
        assert tf.lmtp_deliver(dc, "bob@example.test", msg)[0] == 250
        try:
            conn = dc.imap("bob@example.test")
            conn.select("INBOX")
            typ, data = conn.fetch("1", "(BODY[])")
            raise AssertionError(f"bob logged in and fetched: {typ} {data!r:.200}")
        except (harness.imaplib.IMAP4.error, harness.imaplib.IMAP4.abort) as e:
            log(f"bob's login refused: {e}")
        line = harness.wait_for(lambda: re.search(
            r"\[trees\] user bob@example\.test: cannot unlock the secret key: "
            r"cannot open trees_locked_secretbox \(wrong password or key\)", dc.log_text()),
            10, "the unlock failure in the log")
        log(f"log: {line.group(0)}")


def fail_closed_user(stack, addr, change):
    fields, _, _ = tf.make_key(stack.tmp, "pw", name="key-" + addr)
    fields.update(change)
    stack.add_user(addr, "pw-" + addr, {k: v for k, v in fields.items() if v is not None})


@tap.test
def fail_closed():
    """Fail closed: bad version, missing or malformed public key give a 4xx and a clear log line, never plaintext"""
    cases = {
        "badversion@example.test": ({"trees_version": "3"}, "trees_version: expected 1 or 2"),
        "nokey@example.test": ({"trees_public_key": None}, "trees_public_key is missing"),
        "shortkey@example.test": ({"trees_public_key": "ab" * 31},
                                  "trees_public_key: expected 64 hex characters, got 62"),
        "noversion@example.test": ({"trees_version": None}, "trees_version is missing"),
    }
    stack = tf.TreesStack("trees-failclosed", postfix=True, postfix_main={
        "virtual_mailbox_maps": "inline:{ {badversion@example.test=ok} }"})
    for addr, (change, _) in cases.items():
        fail_closed_user(stack, addr, change)
    with stack:
        dc, pf = stack.dovecot, stack.postfix
        for addr, (_, why) in cases.items():
            msg, _ = harness.make_message("must not be stored in clear", rcpt=addr)
            code, reply = tf.lmtp_deliver(dc, addr, msg)
            assert 400 <= code < 500, f"{addr}: LMTP answered {code} {reply}"
            # The log process writes asynchronously.
            harness.wait_for(lambda: re.search(
                rf"\[trees\] user {re.escape(addr)}: [^\n]*{re.escape(why)}", dc.log_text()),
                10, f"{addr}: a log line with '{why}'")
            assert not os.path.exists(os.path.join(dc.home(addr), "Maildir")) or \
                stack.maildir_files(addr) == {}, f"{addr}: something was stored"
            log(f"{addr}: LMTP {code} ({reply.strip()[:60]}), logged '{why}'")
        # Through Postfix: deferred, still in the queue.
        msg, _ = harness.make_message("via postfix", rcpt="badversion@example.test")
        harness.smtp_send(pf.port, msg, "sender@example.net", ["badversion@example.test"],
                          starttls=True, cafile=pf.cert)
        m = pf.wait_log(r"to=<badversion@example\.test>.*status=deferred \(([^)]*)")
        assert pf.queue_ids(), "Postfix did not keep the mail queued"
        log(f"Postfix deferred it and keeps it queued: {m.group(1)[:80]}")


@tap.test
def corrupt_message():
    """A corrupt message fails only its own FETCH; the other messages are returned and the session goes on"""
    stack = tf.TreesStack("trees-corrupt")
    stack.trees_user("carol@example.test", "carol-pw-1")
    with stack:
        dc = stack.dovecot
        for i in range(3):
            msg, _ = harness.make_message(f"message {i}", rcpt="carol@example.test",
                                          body="x" * 70000 + "\r\n")
            assert tf.lmtp_deliver(dc, "carol@example.test", msg)[0] == 250
        paths = stack.maildir_paths_by_uid("carol@example.test")
        with open(paths[1], "r+b") as f:     # message 2, inside its second chunk
            f.seek(111 + 65553 + 100)
            b = f.read(1)
            f.seek(111 + 65553 + 100)
            f.write(bytes([b[0] ^ 0x40]))
        conn = dc.imap("carol@example.test")
        conn.select("INBOX", readonly=True)
        typ, data = conn.fetch("1:3", "(UID BODY[])")
        log(f"FETCH 1:3 BODY[] -> {typ} {data}")
        # imaplib keeps the untagged FETCH responses of a NO aside.
        _, fetched = conn.response("FETCH")
        bodies = [d[1] for d in fetched if isinstance(d, tuple)]
        assert typ == "NO" and len(bodies) == 2, (typ, fetched)
        assert b"message 0" in bodies[0] and b"message 2" in bodies[1]
        log("messages 1 and 3 returned, 2 refused")
        typ, data = conn.noop()
        assert typ == "OK", "the session did not survive"
        typ, data = conn.fetch("3", "(BODY[])")
        assert typ == "OK" and b"message 2" in data[0][1]
        conn.logout()
        # Fails by timeout when no log line names user, mailbox and UID.
        m = dc.wait_log(r"\[trees\] user carol@example\.test, mailbox INBOX, UID 2: "
                        r"TREES v2: chunk 1 failed authentication[^\n]*")
        log(f"log: {m.group(0)}")


@tap.test
def corrupt_large_message():
    """Below and above trees_read_buffer_max: small mail is read from memory, large in two passes; a corrupt large one fails only its own FETCH"""
    stack = tf.TreesStack("trees-corrupt-large", extra_conf=(
        "mail_debug = yes\n" + dc_conf.plugin(trees_read_buffer_max="100k")))
    stack.trees_user("erin@example.test", "erin-pw-1")
    sizes = [70000, 250000, 250000, 70000]     # 100k = 102400: small, large, large, small
    with stack:
        dc = stack.dovecot
        sent = []
        for i, n in enumerate(sizes):
            msg, _ = harness.make_message(f"message {i}", rcpt="erin@example.test",
                                          body="y" * n + "\r\n")
            assert tf.lmtp_deliver(dc, "erin@example.test", msg)[0] == 250
            sent.append(msg)
        paths = stack.maildir_paths_by_uid("erin@example.test")
        size = os.path.getsize(paths[2])
        with open(paths[2], "r+b") as f:     # UID 3, in its final chunk
            f.seek(size - 5)
            b = f.read(1)
            f.seek(size - 5)
            f.write(bytes([b[0] ^ 0x01]))
        conn = dc.imap("erin@example.test")
        conn.select("INBOX", readonly=True)
        typ, data = conn.fetch("1:4", "(UID BODY[])")
        log(f"FETCH 1:4 BODY[] -> {typ} {data}")
        _, fetched = conn.response("FETCH")
        bodies = [d[1] for d in fetched if isinstance(d, tuple)]
        assert typ == "NO" and len(bodies) == 3, (typ, fetched)
        for body, i in zip(bodies, (0, 1, 3)):
            assert harness.split_trace(body)[1] == sent[i], f"message {i} differs"
        log("UIDs 1, 2 and 4 returned unchanged, 3 refused")
        typ, data = conn.fetch("2", "(BODY[])")   # a large one again, after the failure
        assert typ == "OK" and harness.split_trace(data[0][1])[1] == sent[1]
        conn.logout()
        m = dc.wait_log(r"\[trees\] user erin@example\.test, mailbox INBOX, UID 3: "
                        r"TREES v2: chunk 3 failed authentication[^\n]*")
        log(f"log: {m.group(0)}")
        text = dc.log_text()
        for uid, how in ((1, "bytes read from memory"), (4, "bytes read from memory"),
                         (2, "decrypted again for reading")):
            assert re.search(rf"Debug: \[trees\] user erin@example\.test, mailbox INBOX, "
                             rf"UID {uid}: authenticated, [^\n]*{how}", text), \
                f"UID {uid}: no debug line '{how}'"
        assert not re.search(r"UID 3: authenticated", text), "UID 3 authenticated"
        log("UIDs 1 and 4 decrypted once (read from memory), 2 in two passes")
        tf.assert_no_errors(dc, allowed=(r"UID 3: ",))


@tap.test
def disabled_still_reads():
    """trees_enabled=0 with a key: encrypted mail still reads, new mail is stored in clear"""
    stack = tf.TreesStack("trees-disabled")
    keyfile, _ = stack.trees_user("dave@example.test", "dave-pw-1")
    with stack:
        dc = stack.dovecot
        msg, _ = harness.make_message("while enabled", rcpt="dave@example.test")
        assert tf.lmtp_deliver(dc, "dave@example.test", msg)[0] == 250
        stack.trees_users["dave@example.test"][1]["trees_enabled"] = "0"
        stack.write_userdb()
        msg2, _ = harness.make_message("while disabled", rcpt="dave@example.test")
        assert tf.lmtp_deliver(dc, "dave@example.test", msg2)[0] == 250
        files = stack.maildir_files("dave@example.test")
        kinds = sorted("v2" if d.startswith(MAGIC + b"\x02") else "plain" for d in files.values())
        assert kinds == ["plain", "v2"], kinds
        [got1, got2] = harness.imap_wait_fetch(dc, "dave@example.test", count=2)
        assert harness.split_trace(got1)[1] == msg and harness.split_trace(got2)[1] == msg2
        log("first mail stored v2, second in clear, both read back")
        tf.assert_no_errors(dc)


if __name__ == "__main__":
    sys.exit(tap.run())
