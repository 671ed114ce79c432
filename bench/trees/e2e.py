#!/usr/bin/env python3
"""e2e.py - end-to-end cost of the TREES plugin: IMAP APPEND + FETCH of
1000 messages of 20 KB with the plugin (v2) and without it.

Two Dovecot instances from the test harness run side by side, their
configurations identical except `mail_plugins = $mail_plugins trees`
(same passdb/userdb drivers, same plugin dir, same settings). The machine
is shared and APPEND's fsyncs swing with the load of others (one pair of
back-to-back runs gave 0.88x, another 1.29x), so the two sides are
interleaved finely: within a round, each message is APPENDed to the plain
side and to the TREES side in turn (which one goes first alternates), and
the FETCH is done in blocks of 100 messages (FETCH a:b BODY.PEEK[]),
again alternating; each side's time is the sum of its own commands. So
both see the same load, at millisecond granularity. Every round uses a
fresh mailbox, checks the fetched bytes and deletes the mailbox outside
the timed part; round 0 warms up and is not counted.

Prints every round, then for APPEND, FETCH and their total: the median
time of each side, the median over the rounds of the TREES/plain ratio,
and the smallest and largest round ratio (the spread). Wall-clock times
(the issue's target) include the client, Python's imaplib; the same table
for the CPU time of the serving imap processes alone (/proc/PID/schedstat)
leaves the client out, but on a virtual machine it also counts time the
host takes the CPU away.

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


def imap_process(dc, user):
    """The host PID of the imap process serving `user` in `dc`
    (verbose_proctitle puts the user in its title, after the instance name:
    other benchmarks on the machine may use the same user name)."""
    instance = os.path.basename(dc.tmp.path)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read()
        except OSError:
            continue
        # "dovecot-<instance>/imap [user ip ...]"
        if f"{instance}/imap [{user} ".encode() in title:
            found.append(int(pid))
    assert len(found) == 1, f"imap processes of {user}: {found}"
    return found[0]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


BLOCK = 100  # messages per FETCH command


def one_round(sides, box, msgs):
    """{user: (APPEND s, FETCH s, APPEND CPU s, FETCH CPU s)} for one round
    into a new mailbox on both sides, interleaved."""
    conns, pids, times = {}, {}, {}
    for dc, user in sides:
        conns[user] = dc.imap(user)
        typ, data = conns[user].create(box)
        assert typ == "OK", data
        pids[user] = imap_process(dc, user)
        times[user] = [0.0, 0.0, cpu_seconds(pids[user]), 0.0]
    users = [user for _, user in sides]
    for i, m in enumerate(msgs):
        for user in (users if i % 2 == 0 else users[::-1]):
            t0 = time.monotonic()
            typ, data = conns[user].append(box, None, None, m)
            times[user][0] += time.monotonic() - t0
            assert typ == "OK", data
    got = {}
    for user in users:
        c = cpu_seconds(pids[user])
        times[user][2], times[user][3] = c - times[user][2], c
        typ, data = conns[user].select(box, readonly=True)
        assert typ == "OK" and int(data[0]) == len(msgs), data
        got[user] = []
    for n, first in enumerate(range(1, len(msgs) + 1, BLOCK)):
        last = min(first + BLOCK - 1, len(msgs))
        for user in (users if n % 2 == 0 else users[::-1]):
            t0 = time.monotonic()
            typ, data = conns[user].fetch(f"{first}:{last}", "(BODY.PEEK[])")
            times[user][1] += time.monotonic() - t0
            assert typ == "OK", data
            got[user] += [d[1] for d in data if isinstance(d, tuple)]
    for user in users:
        times[user][3] = cpu_seconds(pids[user]) - times[user][3]
        assert got[user] == msgs, f"{user}: FETCH returned different bytes"
        conns[user].close()
        typ, data = conns[user].delete(box)
        assert typ == "OK", data
        conns[user].logout()
    return {user: tuple(t) for user, t in times.items()}


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
    sides = ((plain.dovecot, PLAIN_USER), (trees.dovecot, TREES_USER))
    results = {PLAIN_USER: [], TREES_USER: []}
    with plain, trees:
        for r in range(ROUNDS + 1):
            res = one_round(sides, f"bench{r}", msgs)
            if r == 0:                     # warms both up
                continue
            for user, name in ((PLAIN_USER, "plain   "), (TREES_USER, "TREES v2")):
                t = res[user]
                results[user].append(t)
                print(f"round {r} {name}: APPEND {t[0]:.2f} s  FETCH {t[1]:.3f} s  "
                      f"(imap CPU: APPEND {t[2]:.3f} s  FETCH {t[3]:.3f} s)", flush=True)
        tf.assert_no_errors(plain.dovecot)
        tf.assert_no_errors(trees.dovecot)

    p, t = results[PLAIN_USER], results[TREES_USER]
    print(f"\nIMAP APPEND + FETCH of {COUNT} x {SIZE} bytes, {ROUNDS} rounds, plain and "
          "TREES interleaved\nper command, same Dovecot config except the plugin; the "
          "machine is shared, so medians:")
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
