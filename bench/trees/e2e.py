#!/usr/bin/env python3
"""e2e.py - IMAP APPEND + FETCH of 1000 messages of 20 KB, with the TREES
plugin (v2) and without it, on the same Dovecot (the test harness's private
instance), one run each, back to back. Prints both times and the ratio.

Usage: MF_BUILDDIR=... e2e.py [count] [size]   (needs root, like the tests)
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import harness  # noqa: E402
import trees_fixture as tf  # noqa: E402

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 20000


def message(i):
    head = f"From: <bench@example.net>\r\nSubject: bench {i}\r\nMessage-ID: <b{i}@x>\r\n\r\n"
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\r\n"
    body = (line * (SIZE // len(line) + 1))[:SIZE - len(head)]
    return head.encode() + body


def run(stack, user):
    with stack:
        conn = stack.dovecot.imap(user)
        msgs = [message(i) for i in range(COUNT)]
        t0 = time.monotonic()
        for m in msgs:
            typ, _ = conn.append("INBOX", None, None, m)
            assert typ == "OK"
        t_append = time.monotonic() - t0
        conn.select("INBOX", readonly=True)
        t1 = time.monotonic()
        typ, data = conn.fetch(f"1:{COUNT}", "(BODY.PEEK[])")
        t_fetch = time.monotonic() - t1
        assert typ == "OK"
        got = [d[1] for d in data if isinstance(d, tuple)]
        assert got == msgs, "FETCH returned different bytes"
        conn.logout()
        tf.assert_no_errors(stack.dovecot)
        return t_append, t_fetch


def main():
    plain = harness.Stack("bench-plain", postfix=False,
                          users={"plain@example.test": "plain-pw-1"})
    trees = tf.TreesStack("bench-trees")
    trees.trees_user("bench@example.test", "bench-pw-1", version=2)
    a0, f0 = run(plain, "plain@example.test")
    a1, f1 = run(trees, "bench@example.test")
    print(f"IMAP APPEND + FETCH of {COUNT} x {SIZE} bytes, same Dovecot, one run each:")
    print(f"  without the plugin: APPEND {a0:.2f} s + FETCH {f0:.2f} s = {a0 + f0:.2f} s")
    print(f"  with TREES v2:      APPEND {a1:.2f} s + FETCH {f1:.2f} s = {a1 + f1:.2f} s")
    print(f"  ratio: {(a1 + f1) / (a0 + f0):.2f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
