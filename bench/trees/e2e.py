#!/usr/bin/env python3
"""e2e.py - end-to-end cost of the TREES plugin: IMAP APPEND + FETCH of
1000 messages of 20 KB with the plugin (v2) and without it.

Two Dovecot instances from the test harness run side by side, their
configurations identical except `mail_plugins = $mail_plugins trees`
(same passdb/userdb drivers, same plugin dir, same settings). Rounds
alternate plain, TREES, plain, TREES, ... (after one warm-up round each,
not counted), so both see the same machine load over the run: the machine
is shared and a single pair of runs swung between 0.88x and 1.29x. Each
round APPENDs the messages into a fresh mailbox, then FETCHes them all
with one FETCH 1:N (BODY.PEEK[]) and checks the bytes; the mailbox is
deleted outside the timed part.

Prints every round, then for APPEND, FETCH and their total: the median
time of each side and the median TREES/plain ratio over the adjacent
pairs of rounds, with the smallest and largest pair ratio as the spread.
The wall-clock times (the issue's target) include the client (Python's
imaplib) and APPEND's fsyncs, which swing with the load of others; the
same table for the CPU time of the serving imap process alone
(/proc/PID/schedstat, nanoseconds) shows the plugin's own cost with less
noise.

Usage: MF_BUILDDIR=... e2e.py [rounds] [count] [size]   (root, like the tests)
[MF_TREES_PLUGIN=path/to/lib18_trees_plugin.so: benchmark another build]
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import trees_fixture as tf  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
SIZE = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
PLAIN_USER, TREES_USER = "plain@example.test", "bench@example.test"


def message(i):
    head = f"From: <bench@example.net>\r\nSubject: bench {i}\r\nMessage-ID: <b{i}@x>\r\n\r\n"
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\r\n"
    body = (line * (SIZE // len(line) + 1))[:SIZE - len(head)]
    return head.encode() + body


def imap_process(user):
    """The host PID of the imap process serving `user` (verbose_proctitle
    puts the user in its title; each stack has its own user)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read()
        except OSError:
            continue
        # "<instance>/imap [user ip ...]": each stack has its own instance_name.
        if f"/imap [{user} ".encode() in title:
            found.append(int(pid))
    assert len(found) == 1, f"imap processes of {user}: {found}"
    return found[0]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def one_round(dc, user, box, msgs):
    """Wall and imap-process CPU seconds of APPEND and of FETCH, for one
    round into a new mailbox."""
    conn = dc.imap(user)
    typ, data = conn.create(box)
    assert typ == "OK", data
    pid = imap_process(user)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    for m in msgs:
        typ, data = conn.append(box, None, None, m)
        assert typ == "OK", data
    t_append, c_append = time.monotonic() - t0, cpu_seconds(pid) - c0
    typ, data = conn.select(box, readonly=True)
    assert typ == "OK" and int(data[0]) == len(msgs), data
    c1, t1 = cpu_seconds(pid), time.monotonic()
    typ, data = conn.fetch(f"1:{len(msgs)}", "(BODY.PEEK[])")
    t_fetch, c_fetch = time.monotonic() - t1, cpu_seconds(pid) - c1
    assert typ == "OK", data
    got = [d[1] for d in data if isinstance(d, tuple)]
    assert got == msgs, "FETCH returned different bytes"
    conn.close()
    typ, data = conn.delete(box)
    assert typ == "OK", data
    conn.logout()
    return t_append, t_fetch, c_append, c_fetch


def stack(name, plugin):
    s = tf.TreesStack(name, plugin=plugin, extra_conf="verbose_proctitle = yes\n")
    if plugin:
        s.trees_user(TREES_USER, "bench-pw-1", version=2)
    else:
        s.add_user(PLAIN_USER, "plain-pw-1", {})
    return s


def main():
    msgs = [message(i) for i in range(COUNT)]
    plain, trees = stack("bench-plain", False), stack("bench-trees", True)
    sides = ((plain, PLAIN_USER), (trees, TREES_USER))
    results = {PLAIN_USER: [], TREES_USER: []}
    with plain, trees:
        for r in range(ROUNDS + 1):
            for s, user in sides:          # ABAB...: plain, then TREES
                t = one_round(s.dovecot, user, f"bench{r}", msgs)
                if r > 0:                  # round 0 warms both up
                    results[user].append(t)
                    print(f"round {r} {'TREES v2' if s is trees else 'plain   '}: "
                          f"APPEND {t[0]:.2f} s  FETCH {t[1]:.3f} s  (imap CPU: APPEND "
                          f"{t[2]:.3f} s  FETCH {t[3]:.3f} s)", flush=True)
        tf.assert_no_errors(plain.dovecot)
        tf.assert_no_errors(trees.dovecot)

    p, t = results[PLAIN_USER], results[TREES_USER]
    print(f"\nIMAP APPEND + FETCH of {COUNT} x {SIZE} bytes, {ROUNDS} rounds each, "
          "interleaved plain/TREES,\nsame Dovecot config except the plugin; the machine "
          "is shared, so medians:")
    for title, base in (("wall clock, as the client sees it", 0),
                        ("CPU time of the imap process", 2)):
        print(f"\n{title}:")
        print(f"{'':7} {'plain (s)':>10} {'TREES (s)':>10} {'ratio':>7}  "
              f"{'spread of round ratios':>24}")
        for name, get in (("APPEND", lambda x: x[base]), ("FETCH", lambda x: x[base + 1]),
                          ("total", lambda x: x[base] + x[base + 1])):
            ratios = sorted(get(b) / get(a) for a, b in zip(p, t))
            print(f"{name:7} {statistics.median(map(get, p)):10.3f} "
                  f"{statistics.median(map(get, t)):10.3f} {statistics.median(ratios):6.2f}x"
                  f"  {ratios[0]:12.2f}x .. {ratios[-1]:.2f}x")
    print("\n(ratio: median over the rounds of TREES / plain of the same round; "
          "the issue's target is wall-clock total <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
