#!/usr/bin/env python3
"""hardening-cost.py - what wiping the derived key and enforcing the plugin
cost (issue 12): IMAP login and LMTP delivery through the mailfruit driver
and the TREES plugin of two builds, side by side in one run.

Two Dovecot instances, identical but for the driver and plugin they load
(MF_BASE_BUILDDIR: the build to compare with, e.g. of main; MF_BUILDDIR:
this one). Rounds alternate between them; per round each instance serves
`count` logins (LOGIN + SELECT + LOGOUT of a mailbox with TREES keys) and
`count` LMTP deliveries of a 20 KB message. Prints per-operation medians
and this/base ratios. argon2 runs at libsodium's minimum cost (as in the
tests), so the login figure is the worst case for the fixed costs added
(a few memory scans per login), not a production login.

Usage: MF_BUILDDIR=... MF_BASE_BUILDDIR=... hardening-cost.py [rounds] [count]
(needs root, like the tests)
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import harness  # noqa: E402
import mailfruit_fixture as mff  # noqa: E402
import trees_fixture as tf  # noqa: E402

USER, PASSWORD = "alice@example.test", "bench-Hardening-1"


def stack_for(name, builddir):
    # The fixtures copy the module and plugin when a stack is made.
    mff.MODULE = os.path.join(builddir, "userdb", ".libs", "libauthdb_mailfruit.so")
    tf.PLUGIN = os.path.join(builddir, "dovecot-trees", ".libs", "lib18_trees_plugin.so")
    stack = mff.MailfruitStack(name, extra_conf=mff.NO_PENALTY)
    stack.add_user(USER, PASSWORD)
    return stack


def timed(fn, count):
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def login(dc):
    conn = dc.imap(USER)
    conn.select("INBOX")
    conn.logout()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    base_dir = os.environ.get("MF_BASE_BUILDDIR")
    if not base_dir:
        sys.exit("MF_BASE_BUILDDIR: the build to compare with")
    msg, _ = harness.make_message("bench", rcpt=USER, body=("y" * 78 + "\r\n") * 256)
    stacks = {"base": stack_for("bench-hardening-base", base_dir),
              "this": stack_for("bench-hardening-this", harness.BUILDDIR)}
    times = {k: {"login": [], "lmtp": []} for k in stacks}
    with stacks["base"], stacks["this"]:
        for k, s in stacks.items():     # warm up: processes, first mailbox
            login(s.dovecot)
            assert tf.lmtp_deliver(s.dovecot, USER, msg)[0] == 250
        for r in range(rounds):
            for k in (("base", "this") if r % 2 == 0 else ("this", "base")):
                dc = stacks[k].dovecot
                times[k]["login"] += timed(lambda: login(dc), count)
                times[k]["lmtp"] += timed(
                    lambda: tf.lmtp_deliver(dc, USER, msg)[0] == 250 or sys.exit("lmtp"),
                    count)
    print(f"{rounds} rounds x {count} operations per build, medians (ms):")
    print(f"{'':18}{'base':>10}{'this':>10}{'this/base':>11}")
    for op, label in (("login", "IMAP login+SELECT"), ("lmtp", "LMTP delivery")):
        b = statistics.median(times["base"][op]) * 1000
        t = statistics.median(times["this"][op]) * 1000
        print(f"{label:18}{b:10.2f}{t:10.2f}{t / b:11.2f}")


if __name__ == "__main__":
    main()
