#!/usr/bin/env python3
"""TREES plugin in a real Dovecot: compatibility.

1. riseup's key vector (shared/reference/trees-format.md §6: argon2i,
   password PASSWORD) unlocks at an IMAP login, and v1 files written by an
   independent riseup-style writer (tests/trees/trees_ref.py) read back.
2. A mixed mailbox - plaintext (also one of 3 bytes, which riseup returns
   empty), riseup v1, mailfruit v2 and Dovecot mail_crypt (CRYPTED, written
   by Dovecot's own mail_crypt plugin through doveadm save) - reads
   completely over IMAP, with mail_crypt's own key settings.
3. A sieve rule (dovecot-sieve) files a delivery into a folder: the filed
   file is encrypted and reads back.
"""
import os
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

RISEUP_FIELDS = {
    "trees_enabled": "1", "trees_version": "1",
    "trees_public_key": "b7b151873bb7c14de89ffcf34e1e4a7af2843f9becce9da0f7738a93480ae63f",
    "trees_pwhash_opslimit": "4", "trees_pwhash_memlimit": "33554432",
    "trees_pwhash_salt": "5c13b1144ad120d6ca275e01b43c61d9", "trees_pwhash_algo": "0",
    "trees_sk_nonce": "634c29520f376fff514d68b372d497d0eb5b62c14fb84b68",
    "trees_locked_secretbox": "869ddac34b3afab6e138d7a82b4b93b13aec046f340e4a78d5b44644ad86cf11"
                              "179473de16a9080bf5261ec406f82889",
}


# riseup names maildir files S=<n + n mod 8192> (its ostream counts the
# last chunk twice), so Dovecot must not trust S= for them: migrating a
# riseup maildir needs maildir_broken_filename_sizes (docs/dovecot-trees.md).
RISEUP_CONF = "maildir_broken_filename_sizes = yes\n"


def riseup_name(i, plain_lf):
    n = len(plain_lf)
    return f"100000000{i}.M{i}P1.riseup,S={n + n % 8192}:2,"


def message(subject, body="body line\r\n"):
    return (f"From: <sender@example.net>\r\nSubject: {subject}\r\n\r\n{body}").encode()


def fetch_bodies(dc, user, folder="INBOX"):
    conn = dc.imap(user)
    typ, data = conn.select(folder, readonly=True)
    assert typ == "OK", data
    count = int(data[0])
    bodies = []
    for seq in range(1, count + 1):
        typ, data = conn.fetch(str(seq), "(BODY.PEEK[])")
        assert typ == "OK", (seq, data)
        bodies.append(data[0][1])
    conn.logout()
    return bodies


@tap.test
def riseup_vector_and_v1_files():
    """riseup's key vector unlocks at login; riseup-style v1 files (independent writer) read back"""
    stack = tf.TreesStack("trees-riseup", extra_conf=RISEUP_CONF)
    stack.add_user("riseup@example.test", "PASSWORD", RISEUP_FIELDS)
    with stack:
        dc = stack.dovecot
        pk = bytes.fromhex(RISEUP_FIELDS["trees_public_key"])
        sent = [message("riseup small"), message("riseup big", "y" * 20000 + "\r\n")]
        for i, msg in enumerate(sent):
            lf = msg.replace(b"\r\n", b"\n")
            stack.put_maildir("riseup@example.test", ref.v1_encrypt(lf, pk), riseup_name(i, lf))
        got = fetch_bodies(dc, "riseup@example.test")
        assert got == sent, f"v1 files read back wrong: {got[0][:80]!r}"
        log("2 riseup-style v1 files read back through IMAP after an argon2i unlock")
        tf.assert_no_errors(dc)


@tap.test
def mixed_mailbox():
    """Mixed mailbox: plaintext (incl. 3 bytes), riseup v1, v2 and mail_crypt files all read"""
    stack = tf.TreesStack("trees-mixed", extra_conf=RISEUP_CONF)
    keyfile, _ = stack.trees_user("mix@example.test", "mix-pw-1", version=2)
    priv, pub = tf.mail_crypt_keypair(stack.tmp)
    # The reading side uses mail_crypt's own setting names.
    stack.dovecot.extra_conf += dc_conf.mail_crypt_read_keys(priv)
    with stack:
        dc = stack.dovecot
        user = "mix@example.test"
        with open(keyfile) as f:
            pk = bytes.fromhex(f.read().split()[0])
        plain = message("legacy plaintext")
        tiny = b"Hi\n"
        v1 = message("riseup v1", "z" * 9000 + "\r\n")
        stack.put_maildir(user, plain.replace(b"\r\n", b"\n"), "1000000001.M1P1.old:2,")
        stack.put_maildir(user, tiny, "1000000002.M2P1.old,S=3:2,")
        v1_lf = v1.replace(b"\r\n", b"\n")
        stack.put_maildir(user, ref.v1_encrypt(v1_lf, pk), riseup_name(3, v1_lf))
        crypted = message("mail_crypt", "c" * 5000 + "\r\n")
        # Dovecot's own mail_crypt writes it (doveadm save, trees not loaded).
        p = subprocess.run(dc.tool(["doveadm", "-c", dc.conf] +
                                   dc_conf.mail_crypt_write_options(pub) +
                                   ["save", "-u", user, "-m", "INBOX"]), input=crypted,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.returncode == 0, p.stdout
        v2 = message("mailfruit v2", "w" * 70000 + "\r\n")
        assert tf.lmtp_deliver(dc, user, v2)[0] == 250
        files = stack.maildir_files(user)
        kinds = sorted(("v1" if d.startswith(MAGIC + b"\x01") else
                        "v2" if d.startswith(MAGIC + b"\x02") else
                        "crypted" if d.startswith(b"CRYPTED") else "plain")
                       for d in files.values())
        assert kinds == ["crypted", "plain", "plain", "v1", "v2"], kinds
        got = fetch_bodies(dc, user)
        assert got[:4] == [plain, b"Hi\r\n", v1, crypted], [g[:40] for g in got]
        assert harness.split_trace(got[4])[1] == v2
        log(f"5 messages ({', '.join(kinds)}) read completely")
        tf.assert_no_errors(dc)


@tap.test
def sieve_fileinto():
    """A sieve fileinto at delivery: the filed mail is encrypted and reads back"""
    stack = tf.TreesStack("trees-sieve", extra_conf=dc_conf.sieve_personal(
        "~/sieve", "~/.dovecot.sieve"))
    stack.trees_user("sieve@example.test", "sieve-pw-1", version=2)
    with stack:
        dc = stack.dovecot
        home = dc.home("sieve@example.test")
        os.makedirs(home, exist_ok=True)
        with open(os.path.join(home, ".dovecot.sieve"), "w") as f:
            f.write('require ["fileinto", "mailbox"];\n'
                    'if header :contains "subject" "file me" {\n'
                    '  fileinto :create "Filed";\n}\n')
        for path in (os.path.dirname(home), home, os.path.join(home, ".dovecot.sieve")):
            os.chown(path, *[int(x) for x in (
                subprocess.run(["id", "-u", harness.MAIL_USER], stdout=subprocess.PIPE,
                               text=True).stdout, subprocess.run(
                    ["getent", "group", harness.MAIL_GROUP], stdout=subprocess.PIPE,
                    text=True).stdout.split(":")[2])])
        msg, _ = harness.make_message("please file me", rcpt="sieve@example.test")
        assert tf.lmtp_deliver(dc, "sieve@example.test", msg)[0] == 250
        filed = stack.maildir_files("sieve@example.test", ".Filed")
        inbox = stack.maildir_files("sieve@example.test")
        assert len(filed) == 1 and not inbox, (list(filed), list(inbox))
        assert all(d.startswith(MAGIC + b"\x02") for d in filed.values())
        [got] = fetch_bodies(dc, "sieve@example.test", "Filed")
        assert harness.split_trace(got)[1] == msg
        log("sieve filed the mail into Filed, encrypted (v2), and it reads back")
        tf.assert_no_errors(dc)


if __name__ == "__main__":
    sys.exit(tap.run())
