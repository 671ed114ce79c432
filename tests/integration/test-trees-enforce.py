#!/usr/bin/env python3
"""An encrypting user's mail is never stored in clear, whatever the local
Dovecot configuration (issue 12, defect 1).

The mailfruit userdb answers a mailbox with TREES keys with a field adding
trees to mail_plugins (2.3: mail_plugins+=" trees"; 2.4:
*/mail_plugins/trees=yes), so every Dovecot process serving it loads the
plugin, and the plugin refuses storages it cannot encrypt:

1. mbox (Debian's stock mail_location for system users): LMTP answers 4xx,
   the log names the cause, nothing is stored; a user without keys still
   gets mail there.
2. protocol lmtp { mail_plugins } without trees (emptied; on 2.4 also
   trees = no): the mail is encrypted.
3. No trees in any mail_plugins and the plugin not in mail_plugin_dir: the
   delivery fails temporarily ("Plugin 'trees' not found"), nothing stored.
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
ALICE, PLAIN = "alice@example.test", "plain@example.test"
MAGIC_V2 = b"\xee\xff\xcc\x00\x00\x00"   # TREES prefix (trees-v2-format.md)


def canary(rcpt):
    token = "tok" + secrets.token_hex(12)
    msg, _ = harness.make_message(f"canary {token}", rcpt=rcpt, body=f"body {token}\r\n")
    return token.encode(), msg


def files_with(root, token):
    hits = []
    for d, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(d, name), "rb") as f:
                if token in f.read():
                    hits.append(os.path.relpath(os.path.join(d, name), root))
    return hits


def stack_for(name, conf):
    stack = mff.MailfruitStack(name, extra_conf=mff.NO_PENALTY + conf)
    stack.add_user(ALICE, "alice-Enforce-1")
    stack.add_user(PLAIN, "plain-Enforce-1", "--no-encryption")
    return stack


@tap.test
def mbox_refused():
    """mbox: an encrypting user's delivery fails temporarily with a log line; a plain user's works"""
    mbox = dovecot_conf.mail_location("mbox", "~/mail", inbox="~/mail/inbox")
    with stack_for("trees-enforce-mbox", mbox) as stack:
        dc = stack.dovecot
        token, msg = canary(ALICE)
        code, reply = tf.lmtp_deliver(dc, ALICE, msg)
        log(f"LMTP for {ALICE}: {code} {reply}")
        assert 400 <= code < 500, f"expected a temporary failure, got {code} {reply}"
        line = dc.wait_log(r"\[trees\] user alice@example\.test, mailbox INBOX: refusing to "
                           r"save: mbox storage cannot hold encrypted mail[^\n]*")
        log(f"log: {line.group(0)}")
        hits = files_with(dc.home(ALICE), token)
        assert hits == [], f"plaintext stored in {hits}"
        token_p, msg = canary(PLAIN)
        assert tf.lmtp_deliver(dc, PLAIN, msg)[0] == 250
        assert files_with(dc.home(PLAIN), token_p), "control: the plain user's mail is not there"


@tap.test
def lmtp_block_without_trees():
    """protocol lmtp { mail_plugins } leaving trees out: the mail is still encrypted"""
    confs = ["protocol lmtp {\n  mail_plugins =\n}\n"]
    if dovecot_conf.V24:   # 2.3 cannot take one name out of the list
        confs.append(dovecot_conf.mail_plugins_without("trees", protocol="lmtp"))
    for conf in confs:
        log(f"configuration: {conf!r}")
        with stack_for("trees-enforce-lmtp", conf) as stack:
            dc = stack.dovecot
            token, msg = canary(ALICE)
            assert tf.lmtp_deliver(dc, ALICE, msg)[0] == 250
            files = stack.maildir_files(ALICE)
            assert len(files) == 1, files
            [data] = files.values()
            assert data.startswith(MAGIC_V2), f"not a TREES file: {data[:40]!r}"
            hits = files_with(dc.home(ALICE), token)
            assert hits == [], f"plaintext stored in {hits}"
            assert token in b"".join(mff.imap_read_all(dc, ALICE)), "the mail does not read back"
            log("delivered encrypted although lmtp's mail_plugins leaves trees out; reads back")


@tap.test
def plugin_missing():
    """No trees in mail_plugins and none in mail_plugin_dir: temporary failure, nothing stored"""
    stack = stack_for("trees-enforce-missing", "")
    modules = stack.tmp.sub("modules-without-trees")
    for entry in os.listdir(tf.STOCK_MODULES):
        src = os.path.join(tf.STOCK_MODULES, entry)
        if entry.endswith(".so") and os.path.isfile(src) and "trees" not in entry:
            os.symlink(src, os.path.join(modules, entry))
    dc = stack.dovecot
    dc.extra_conf += f"mail_plugins =\nmail_plugin_dir = {modules}\n"
    with stack:
        token, msg = canary(ALICE)
        code, reply = tf.lmtp_deliver(dc, ALICE, msg)
        log(f"LMTP for {ALICE}: {code} {reply}")
        assert 400 <= code < 500, f"expected a temporary failure, got {code} {reply}"
        line = dc.wait_log(r"Plugin 'trees' not found[^\n]*")
        log(f"log: {line.group(0)}")
        if os.path.isdir(dc.home(ALICE)):
            assert files_with(dc.home(ALICE), token) == [], "plaintext stored"
        token_p, msg = canary(PLAIN)
        assert tf.lmtp_deliver(dc, PLAIN, msg)[0] == 250, "a plain user's mail is refused"


sys.exit(tap.run())
