#!/usr/bin/env python3
"""TREES plugin in a real Dovecot: delivery, reading, formats and sizes.

1. LMTP and dovecot-lda deliveries for a v2 user and a v1 user are stored
   encrypted (files start with the magic and decrypt, with the user's key,
   to the delivered bytes) and read back unchanged over IMAP and POP3.
2. Round trips through IMAP APPEND + FETCH at 1, 6, 7, 8191, 8192, 8193
   bytes, 1 MiB and 25 MiB, in v1 and v2: identical bytes, stored size as
   the format says, maildir S= = stored plaintext size (LF line ends, as
   Dovecot stores them), RFC822.SIZE = the CRLF size sent (riseup gets S=
   wrong).
3. The same on maildir and sdbox with zlib (encryption under compression)
   and on mdbox.
4. Maildir++ quota counts plaintext sizes.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import trees_fixture as tf  # noqa: E402
import dovecot_conf as dc_conf  # noqa: E402

tap = harness.TapRunner()
MAGIC = b"\xee\xff\xcc\x00\x00\x00"


def stored_size(version, n):
    if version == 1:
        return 7 + n + 48 * (n // 8192 + 1)
    return 111 + n + 17 * (n // 65536 + 1)


def payload(n, tag):
    """n bytes of CRLF text (so RFC822.SIZE = n) starting with a header."""
    head = f"Subject: {tag}\r\n\r\n".encode()
    if n <= len(head):
        return b"x" * n
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n"
    body = (line * (n // len(line) + 1))[:n - len(head)]
    return head + body


def fetch_all(conn, seq):
    typ, data = conn.fetch(str(seq), "(RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK", data
    meta = data[0][0].decode()
    size = int(re.search(r"RFC822\.SIZE (\d+)", meta).group(1))
    return size, data[0][1]


@tap.test
def delivery_lmtp_lda_imap_pop3():
    """LMTP and dovecot-lda deliveries are encrypted on disk (v1 and v2) and read back over IMAP and POP3"""
    stack = tf.TreesStack("trees-delivery")
    keys = {"v2@example.test": stack.trees_user("v2@example.test", "pw-two-2", version=2),
            "v1@example.test": stack.trees_user("v1@example.test", "pw-one-1", version=1)}
    with stack:
        dc = stack.dovecot
        for user, version in (("v2@example.test", 2), ("v1@example.test", 1)):
            msg1, _ = harness.make_message(f"lmtp to {user}", rcpt=user)
            msg2, _ = harness.make_message(f"lda to {user}", rcpt=user)
            assert tf.lmtp_deliver(dc, user, msg1)[0] == 250
            rc, out = tf.lda_deliver(dc, user, msg2)
            assert rc == 0, f"dovecot-lda exited {rc}: {out}"
            files = stack.maildir_files(user)
            assert len(files) == 2, files.keys()
            for path, data in files.items():
                assert data.startswith(MAGIC + bytes([version])), f"{path} not v{version}"
                rc, plain, msg = tf.decrypt_file(keys[user][0], data)
                assert rc == 0 and b"Subject: l" in plain, msg
                assert tf.s_size(path) == len(plain), (path, len(plain))
            log(f"{user}: 2 files on disk, TREES v{version}, S= = plaintext size")
            conn = dc.imap(user)
            conn.select("INBOX", readonly=True)
            got = [fetch_all(conn, i) for i in (1, 2)]
            conn.logout()
            for (size, body), sent in zip(got, (msg1, msg2)):
                _, rest = harness.split_trace(body)
                assert rest == sent, f"IMAP read differs: {rest[:200]!r}"
                assert size == len(body)
            pop = dc.pop3(user)
            count, _ = pop.stat()
            assert count == 2
            lines = pop.retr(1)[1]
            pop.quit()
            assert b"\r\n".join(lines) + b"\r\n" == got[0][1], "POP3 RETR differs from IMAP"
            log(f"{user}: IMAP FETCH and POP3 RETR return the delivered bytes")
        tf.assert_no_errors(dc)


def round_trips(extra_conf, sizes, versions, label):
    stack = tf.TreesStack("trees-sizes", extra_conf=extra_conf)
    for v in versions:
        stack.trees_user(f"u{v}@example.test", f"pw-{v}-x", version=v)
    with stack:
        dc = stack.dovecot
        for v in versions:
            user = f"u{v}@example.test"
            conn = dc.imap(user)
            conn.select("INBOX")
            for n in sizes:
                msg = payload(n, f"size {n}")
                typ, data = conn.append("INBOX", None, None, msg)
                assert typ == "OK", data
            conn.select("INBOX", readonly=True)
            for i, n in enumerate(sizes, 1):
                size, body = fetch_all(conn, i)
                assert body == payload(n, f"size {n}"), f"v{v} {n} bytes: FETCH differs"
                assert size == n, f"v{v} {n} bytes: RFC822.SIZE {size}"
            conn.logout()
            if label == "maildir":
                files = sorted(stack.maildir_files(user).items(),
                               key=lambda kv: int(re.search(r"^(\d+)", os.path.basename(kv[0])
                                                            ).group(1)))
                on_disk = sorted((len(d), tf.s_size(p)) for p, d in files)
                # Dovecot stores LF line ends (mail_save_crlf=no): S= is the
                # stored plaintext size, RFC822.SIZE the CRLF size.
                lf = [len(payload(n, f"size {n}").replace(b"\r\n", b"\n")) for n in sizes]
                want = sorted((stored_size(v, m), m) for m in lf)
                assert on_disk == want, f"v{v}: (file size, S=) {on_disk} != {want}"
                assert all(d.startswith(MAGIC + bytes([v])) for d in dict(files).values())
            else:
                # zlib, or dbox files (a dbox header, the message as TREES
                # wrote it, then metadata). Encrypted below zlib: the TREES
                # prefix, no gzip magic after it, and no plaintext anywhere.
                count = 0
                for root, _, names in os.walk(dc.home(user)):
                    for name in names:
                        with open(os.path.join(root, name), "rb") as f:
                            data = f.read()
                        assert b"0123456789abcdefghij" not in data, f"plaintext in {name}"
                        count += data.count(MAGIC + bytes([v]))
                        pos = data.find(MAGIC + bytes([v]))
                        assert pos < 0 or b"\x1f\x8b" not in data[pos:pos + 7], name
                assert count == len(sizes), f"{count} TREES messages in the dbox files"
            log(f"{label} v{v}: {len(sizes)} messages round trip, sizes right")
        tf.assert_no_errors(dc)


@tap.test
def round_trips_maildir():
    """v1 and v2 round trips over IMAP on maildir at 1..25 MiB: bytes, file sizes, S=, RFC822.SIZE"""
    round_trips("", [1, 6, 7, 8191, 8192, 8193, 1 << 20, 25 << 20], (1, 2), "maildir")


@tap.test
def round_trips_zlib_sdbox_mdbox():
    """Round trips on maildir and sdbox with zlib (encryption under compression) and on mdbox"""
    sizes = [7, 8193, 70000, 1 << 20]
    round_trips(dc_conf.compress_gz(), sizes, (1, 2), "maildir+zlib")
    round_trips(dc_conf.mail_location("sdbox", "~/sdbox") + dc_conf.compress_gz(), sizes, (2,),
                "sdbox+zlib")
    round_trips(dc_conf.mail_location("mdbox", "~/mdbox"), sizes, (1, 2), "mdbox")


@tap.test
def quota_counts_plaintext():
    """Maildir++ quota counts plaintext sizes, not ciphertext"""
    stack = tf.TreesStack("trees-quota", extra_conf=dc_conf.maildir_quota("User quota", "100M"))
    stack.trees_user("q@example.test", "q-pw-1", version=1)
    with stack:
        dc = stack.dovecot
        for i in range(3):
            msg, _ = harness.make_message(f"quota {i}", rcpt="q@example.test",
                                          body=("quota line\r\n" * 30000))
            assert tf.lmtp_deliver(dc, "q@example.test", msg)[0] == 250
        files = stack.maildir_files("q@example.test")
        plain = sum(tf.s_size(p) for p in files)
        stored = sum(len(d) for d in files.values())
        out = dc.doveadm("quota", "get", "-u", "q@example.test").stdout
        m = re.search(r"User quota\s+STORAGE\s+(\d+)", out)
        assert m, out
        kb = int(m.group(1))
        log(f"quota STORAGE {kb} KB; plaintext {plain} B, on disk {stored} B")
        assert plain // 1024 <= kb <= plain // 1024 + 1, (kb, plain)
        assert stored // 1024 > kb + 2, "the test cannot tell plaintext from ciphertext"
        tf.assert_no_errors(dc)


if __name__ == "__main__":
    sys.exit(tap.run())
