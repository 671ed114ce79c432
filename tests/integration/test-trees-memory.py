#!/usr/bin/env python3
"""Where the derived key (trees_secretbox_key) lives after an IMAP login.

A mailfruit login hands the mail process the key argon2 derived from the
password (userdb trees_secretbox_key, 64 hex). After the login, and again
after the first commands, /proc/PID/mem of the user's imap process is
scanned over all readable mappings for the key, in hex and raw: no copy
may be left outside mlock()ed (sodium) memory. The auth and auth-worker
processes are scanned too; their remaining copies must not exceed the
counts docs/dovecot-trees.md names, with the reason ("Key material in
memory").
"""
import ctypes
import ctypes.util
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mff  # noqa: E402
import memscan  # noqa: E402

tap = harness.TapRunner()
USER = "alice@example.test"
PASSWORD = "memory-Scan-pw-1"
# The copies that remain in the auth processes (docs/dovecot-trees.md,
# "Key material in memory"): at most this many, hex + raw.
AUTH_MAX = {"auth": 8, "auth-worker": 0}


def derived_key(db_path, addr, password):
    """The key argon2 derives from the login password for the password
    wrap (what the driver hands the plugin), computed with libsodium."""
    sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
    assert sodium.sodium_init() >= 0
    with sqlite3.connect(db_path) as db:
        algo, ops, mem, salt = db.execute(
            "SELECT w.pwhash_algo, w.pwhash_opslimit, w.pwhash_memlimit, w.pwhash_salt "
            "FROM key_wraps w JOIN mailboxes m ON m.id = w.mailbox_id "
            "WHERE m.address = ? AND w.kind = 'password'", (addr,)).fetchone()
    out = ctypes.create_string_buffer(32)
    pw = password.encode()
    rc = sodium.crypto_pwhash(out, ctypes.c_ulonglong(32), pw, ctypes.c_ulonglong(len(pw)),
                              salt, ctypes.c_ulonglong(ops), ctypes.c_size_t(mem),
                              ctypes.c_int(1 if algo == 0 else 2))
    assert rc == 0
    return out.raw


def counts(dc, kinds, raw):
    needles = [raw.hex().encode(), raw.hex().upper().encode(), raw]
    procs = memscan.dovecot_processes(dc)
    result = {}
    for kind in kinds:
        pids = procs.get(kind, [])
        assert pids, f"no {kind} process ({procs})"
        total = {"hex": 0, "raw": 0, "locked": 0}
        places = []
        for pid in pids:
            found = memscan.scan(pid, needles)
            total["hex"] += found[needles[0]][0] + found[needles[1]][0]
            total["raw"] += found[needles[2]][0]
            total["locked"] += sum(v[1] for v in found.values())
            for n in needles:
                places += memscan.where(pid, n)
        result[kind] = (total, places)
    return result


def report(stage, result):
    for kind, (total, places) in result.items():
        log(f"{stage}: {kind}: {total['hex']} hex + {total['raw']} raw outside locked memory, "
            f"{total['locked']} in locked memory {places}")


@tap.test
def key_not_in_ordinary_memory():
    """No copy of the derived key outside sodium-locked memory in imap after login and commands; auth within the documented counts"""
    stack = mff.MailfruitStack("trees-memory", extra_conf=mff.NO_PENALTY)
    stack.add_user(USER, PASSWORD)
    with stack:
        dc = stack.dovecot
        raw = derived_key(stack.db.path, USER, PASSWORD)
        msg, _ = harness.make_message("memory scan", rcpt=USER)
        with dc.lmtp() as lmtp:
            lmtp.sendmail("sender@example.net", [USER], msg)
        conn = dc.imap(USER)
        try:
            after_login = counts(dc, ["imap", "auth", "auth-worker"], raw)
            report("after login", after_login)
            typ, data = conn.select("INBOX")
            assert typ == "OK", data
            typ, data = conn.fetch("1", "(BODY[])")
            assert typ == "OK" and b"memory scan" in data[0][1], data
            after_cmds = counts(dc, ["imap", "auth", "auth-worker"], raw)
            report("after SELECT and FETCH", after_cmds)
        finally:
            conn.logout()
        for stage, result in (("after login", after_login), ("after commands", after_cmds)):
            total, places = result["imap"]
            assert total["hex"] == 0 and total["raw"] == 0, \
                f"{stage}: the key is in the imap process's ordinary memory: {places}"
            for kind, limit in AUTH_MAX.items():
                total, places = result[kind]
                assert total["hex"] + total["raw"] <= limit, \
                    f"{stage}: {kind} holds more copies of the key than documented " \
                    f"({limit}): {places}"


sys.exit(tap.run())
