#!/usr/bin/env python3
"""TREES plugin in a real Dovecot: admin access and re-encryption.

1. doveadm reads a TREES user's mail given the derived key, or the
   password, from a root-only config file (never on the command line);
   without either it fails with the plugin's "no private key" message.
2. dovecot-trees/trees-reencrypt copies a mailbox holding plaintext, riseup
   v1, mail_crypt and v2 messages (two folders) into a new location where
   every message is v2, showing progress per mailbox, and swaps it into the
   place of the old one itself; the user reads every message unchanged over
   IMAP and nothing of the old maildir is left.
3. Mail delivered over LMTP all through a trees-reencrypt run (a sender that
   retries temporary failures, as Postfix does) ends up in the new maildir,
   stored as v2: none is left behind in the old one.
"""
import threading
import time
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import trees_fixture as tf  # noqa: E402
import dovecot_conf as dc_conf  # noqa: E402

ref = tf.trees_ref
tap = harness.TapRunner()
MAGIC = b"\xee\xff\xcc\x00\x00\x00"
REENCRYPT = os.path.join(tf.SRCDIR, "..", "..", "dovecot-trees", "trees-reencrypt")


def admin_conf(stack, name, setting):
    """A 0600 doveadm config including the server's, with one plugin
    setting (a (name, value) pair: the key or the password)."""
    path = os.path.join(stack.tmp.path, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(dc_conf.include_first(stack.dovecot.conf) + dc_conf.plugin_items([setting]))
    return path


def doveadm(stack, conf, *args, data=None):
    p = subprocess.run(stack.dovecot.tool(["doveadm", "-c", conf] + list(args)), input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace")


@tap.test
def doveadm_reads_with_key_or_password():
    """doveadm reads a TREES user's mail with the derived key or the password from a 0600 config"""
    stack = tf.TreesStack("trees-admin")
    _, skey = stack.trees_user("erin@example.test", "erin-pw-1")
    with stack:
        dc = stack.dovecot
        msg, _ = harness.make_message("admin reads this", rcpt="erin@example.test")
        assert tf.lmtp_deliver(dc, "erin@example.test", msg)[0] == 250
        for label, line in (("derived key", ("trees_secretbox_key", skey)),
                            ("password", ("trees_password", "erin-pw-1"))):
            conf = admin_conf(stack, f"admin-{label[0]}.conf", line)
            rc, out = doveadm(stack, conf, "fetch", "-u", "erin@example.test", "hdr.subject body", "all")
            assert rc == 0 and "admin reads this" in out and "Hello Alice" in out, (rc, out)
            log(f"doveadm fetch with the {label}: subject and body read")
        rc, out = doveadm(stack, dc.conf, "fetch", "-u", "erin@example.test", "body", "all")
        assert rc != 0 and "no private key" in out, (rc, out)
        log("without them: refused, 'no private key'")


@tap.test
def reencrypt_to_v2():
    """trees-reencrypt turns plaintext, v1, mail_crypt and v2 mail into v2 with progress, and it all reads back"""
    stack = tf.TreesStack("trees-reencrypt", extra_conf="maildir_broken_filename_sizes = yes\n")
    keyfile, skey = stack.trees_user("finn@example.test", "finn-pw-1", version=2)
    priv, pub = tf.mail_crypt_keypair(stack.tmp)
    stack.dovecot.extra_conf += dc_conf.mail_crypt_read_keys(priv)
    user = "finn@example.test"
    with stack:
        dc = stack.dovecot
        with open(keyfile) as f:
            pk = bytes.fromhex(f.read().split()[0])
        plain = b"Subject: old plaintext\n\nbody\n"
        v1 = b"Subject: riseup v1\n\n" + b"v" * 10000 + b"\n"
        archived = b"Subject: archived v1\n\narchive\n"
        stack.put_maildir(user, plain, "1000000001.M1P1.old:2,")
        stack.put_maildir(user, ref.v1_encrypt(v1, pk), "1000000002.M2P1.riseup,S=1:2,")
        stack.put_maildir(user, ref.v1_encrypt(archived, pk), "1000000003.M3P1.riseup:2,S",
                          folder=".Archive")
        crypted = b"Subject: mail_crypt\r\n\r\nsecret\r\n"
        p = subprocess.run(dc.tool(["doveadm", "-c", dc.conf] +
                                   dc_conf.mail_crypt_write_options(pub) +
                                   ["save", "-u", user, "-m", "INBOX"]), input=crypted,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.returncode == 0, p.stdout
        msg, _ = harness.make_message("delivered v2", rcpt=user)
        assert tf.lmtp_deliver(dc, user, msg)[0] == 250
        before = {box: fetch_all(dc, user, box) for box in ("INBOX", "Archive")}

        conf = admin_conf(stack, "admin.conf", ("trees_secretbox_key", skey))
        p = subprocess.run(dc.tool(["sh", REENCRYPT, "-c", conf, "-u", user, "-d",
                                    "maildir:~/Maildir.v2"]), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        out = p.stdout.decode(errors="replace")
        for line in out.splitlines():
            log(f"trees-reencrypt: {line}")
        assert p.returncode == 0, out
        assert "[1/2] INBOX: 4 messages ... done" in out and "[2/2] Archive: 1 messages ... done" in out

        assert "is now" in out and "old maildir is deleted" in out, out
        home = dc.home(user)
        new_files = []
        for d, _, names in os.walk(os.path.join(home, "Maildir")):
            if os.path.basename(d) in ("cur", "new"):
                for name in names:
                    with open(os.path.join(d, name), "rb") as f:
                        new_files.append(f.read())
        assert len(new_files) == 5 and all(d.startswith(MAGIC + b"\x02") for d in new_files), \
            [d[:8] for d in new_files]
        assert not [n for n in os.listdir(home) if n.startswith("Maildir.")], os.listdir(home)
        after = {box: fetch_all(dc, user, box) for box in ("INBOX", "Archive")}
        assert after == before, "mail changed in re-encryption"
        log("5 messages in 2 folders are v2 now and read back unchanged")


@tap.test
def reencrypt_while_mail_arrives():
    """mail delivered over LMTP all through trees-reencrypt ends up in the new maildir as v2"""
    stack = tf.TreesStack("trees-reencrypt-live")
    _, skey = stack.trees_user("gwen@example.test", "gwen-pw-1", version=2)
    user = "gwen@example.test"
    with stack:
        dc = stack.dovecot
        # Enough old plaintext mail for the copy to take a while.
        for i in range(60):
            stack.put_maildir(user, b"Subject: old %d\n\n" % i + b"old mail\n" * 4000,
                              "10000%05d.M%dP1.old:2," % (i, i))
        conf = admin_conf(stack, "admin.conf", ("trees_secretbox_key", skey))
        tool = subprocess.Popen(dc.tool(["sh", REENCRYPT, "-c", conf, "-u", user, "-d",
                                         "maildir:~/Maildir.v2"]), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        accepted, tempfailed = [], []
        out = []
        reader = threading.Thread(target=lambda: out.append(tool.stdout.read()), daemon=True)
        reader.start()
        i = 0
        pending = None
        deadline = time.monotonic() + 240
        # Deliver until the tool is done and every message got in; a 4xx
        # is retried, as Postfix would.
        while time.monotonic() < deadline:
            running = tool.poll() is None
            if pending is None:
                if not running and i > 0:
                    break
                i += 1
                pending = f"live {i}"
            msg, _ = harness.make_message(pending, rcpt=user)
            code, reply = tf.lmtp_deliver(dc, user, msg)
            if code == 250:
                accepted.append(pending)
                pending = None
            elif 400 <= code < 500:
                tempfailed.append((pending, code, reply))
            else:
                raise AssertionError(f"{pending}: {code} {reply}")
            time.sleep(0.05)
        tool.wait(timeout=60)
        reader.join(timeout=10)
        text = out[0].decode(errors="replace") if out else ""
        for line in text.splitlines():
            log(f"trees-reencrypt: {line}")
        log(f"{len(accepted)} messages delivered during the run, {len(tempfailed)} temporary "
            f"failures (retried): {tempfailed[:3]}")
        assert tool.returncode == 0, text
        assert pending is None, f"{pending} never got in"
        assert len(accepted) >= 3, "too few deliveries overlapped the run"
        assert tempfailed, "no delivery met the hold"
        home = dc.home(user)
        assert not [n for n in os.listdir(home) if n.startswith("Maildir.")], os.listdir(home)
        files = stack.maildir_files(user)
        assert len(files) == 60 + len(accepted), (len(files), 60 + len(accepted))
        assert all(d.startswith(MAGIC + b"\x02") for d in files.values()), "not all v2"
        conn = dc.imap(user)
        conn.select("INBOX", readonly=True)
        typ, data = conn.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        conn.logout()
        subjects = {d[1].decode().split(":", 1)[1].strip() for d in data if isinstance(d, tuple)}
        missing = [s for s in accepted if s not in subjects]
        assert not missing, f"delivered during the run but not in the new maildir: {missing}"
        assert len(subjects) == 60 + len(accepted)
        log(f"all {60 + len(accepted)} messages in the swapped maildir, all v2")


def fetch_all(dc, user, box):
    conn = dc.imap(user)
    typ, data = conn.select(box, readonly=True)
    assert typ == "OK", data
    typ, data = conn.fetch("1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    conn.logout()
    return sorted(d[1] for d in data if isinstance(d, tuple))


if __name__ == "__main__":
    sys.exit(tap.run())
