#!/usr/bin/env python3
"""TREES and LMTP transactions with several recipients.

Dovecot's LMTP saves the message for the first recipient and then copies
that saved mail to the other recipients, which maildir and dbox do with a
hard link. Between users that would hand one user's ciphertext to another
(unreadable) or a plaintext user's file to a TREES user (stored in clear).
Each recipient must get the message encrypted to its own key, or in clear
when it has no encryption, and read it back unchanged, in every order.
Without the secret key LMTP can read back only the first 1 MiB it kept of
the message it saved: for larger mail the later recipients get a 4xx and
Postfix delivers to them in a later transaction (or set Postfix's
lmtp_destination_recipient_limit = 1 to send one transaction per
recipient).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import trees_fixture as tf  # noqa: E402

tap = harness.TapRunner()
MAGIC = b"\xee\xff\xcc\x00\x00\x00"


def check_recipients(stack, keys, message, plain_users):
    dc = stack.dovecot
    for addr in list(keys) + plain_users:
        conn = dc.imap(addr)
        try:
            typ, data = conn.select("INBOX", readonly=True)
            assert typ == "OK" and int(data[0]) == 1, f"{addr}: INBOX has {data}"
            typ, data = conn.fetch("1", "(BODY.PEEK[])")
            assert typ == "OK", f"{addr}: FETCH {typ} {data!r:.200}"
            _, rest = harness.split_trace(data[0][1])
            assert rest == message, f"{addr}: read back differs: {data[0][1][:200]!r}"
        finally:
            conn.logout()
        [(path, stored)] = stack.maildir_files(addr).items()
        if addr in keys:
            assert stored.startswith(MAGIC), f"{addr}: stored in clear: {path}"
            rc, plain, err = tf.decrypt_file(keys[addr][0], stored)
            assert rc == 0, f"{addr}: its own key does not open its file: {err}"
        else:
            assert not stored.startswith(MAGIC), f"{addr}: a plaintext user got ciphertext"
        log(f"{addr}: {'encrypted to its own key' if addr in keys else 'in clear'}, reads back")
    links = {os.stat(p).st_ino for a in list(keys) + plain_users
             for p in stack.maildir_files(a)}
    assert len(links) == len(keys) + len(plain_users), "recipients share a file (hard link)"


def lmtp_transaction(dc, sender, rcpts, message):
    """{rcpt: (code, text)}: LMTP answers DATA once per recipient (smtplib
    reads only the first of those replies)."""
    with dc.lmtp() as lmtp:
        lmtp.ehlo_or_helo_if_needed()
        code, text = lmtp.mail(sender)
        assert code == 250, (code, text)
        for rcpt in rcpts:
            code, text = lmtp.rcpt(rcpt)
            assert code == 250, (rcpt, code, text)
        replies = [lmtp.data(message)] + [lmtp.getreply() for _ in rcpts[1:]]
    return {rcpt: (code, text.decode(errors="replace")) for rcpt, (code, text) in zip(rcpts, replies)}


def deliver_together(order, size=2000):
    stack = tf.TreesStack("trees-multircpt")
    keys = {a: stack.trees_user(a, f"pw-{a[:5]}-1")
            for a in order if not a.startswith("plain")}
    plain = [a for a in order if a.startswith("plain")]
    for a in plain:
        stack.add_user(a, f"pw-{a[:5]}-1", {})
    with stack:
        message, _ = harness.make_message(f"to {len(order)} recipients",
                                          body="x" * size + "\r\n")
        replies = lmtp_transaction(stack.dovecot, "sender@example.net", order, message)
        assert all(code == 250 for code, _ in replies.values()), f"LMTP replies: {replies}"
        log(f"one LMTP transaction to {', '.join(order)}: all accepted")
        check_recipients(stack, keys, message, plain)
        tf.assert_no_errors(stack.dovecot)


@tap.test
def two_trees_users():
    """one LMTP transaction to two TREES users: each gets the mail encrypted to its own key"""
    deliver_together(["alice@example.test", "bob@example.test"])


@tap.test
def trees_then_plain():
    """TREES user first, plaintext user second: the plaintext user gets clear text"""
    deliver_together(["alice@example.test", "plain@example.test"])


@tap.test
def plain_then_trees():
    """plaintext user first, TREES user second: the TREES user's copy is encrypted"""
    deliver_together(["plain@example.test", "alice@example.test", "bob@example.test"])


@tap.test
def large_mail_second_trees_user_tempfails():
    """over the 1 MiB kept in memory: the second TREES recipient gets a 4xx (retried), never a bad file"""
    stack = tf.TreesStack("trees-multircpt-large")
    keys = {a: stack.trees_user(a, f"pw-{a[:5]}-1") for a in ("alice@example.test", "bob@example.test")}
    with stack:
        message, _ = harness.make_message("large", body=("y" * 998 + "\r\n") * 1600)
        replies = lmtp_transaction(stack.dovecot, "sender@example.net", list(keys), message)
        log(f"LMTP replies: {replies}")
        assert replies["alice@example.test"][0] == 250, replies
        assert 400 <= replies["bob@example.test"][0] < 500, replies
        assert stack.maildir_files("bob@example.test") == {}, "bob got a file anyway"
        # What Postfix does next: deliver to bob alone.
        replies = lmtp_transaction(stack.dovecot, "sender@example.net", ["bob@example.test"], message)
        assert replies["bob@example.test"][0] == 250, replies
        check_recipients(stack, keys, message, [])
        tf.assert_no_errors(stack.dovecot, allowed=[r"reading past the first \d+ bytes"])


if __name__ == "__main__":
    sys.exit(tap.run())
