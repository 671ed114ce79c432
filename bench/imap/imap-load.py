#!/usr/bin/env python3
"""imap-load.py - IMAP load generator: commands/s of a TREES user against a
plaintext user, several concurrent clients, real-looking mail.

Two Dovecot instances from the integration harness run side by side, their
configurations identical except `mail_plugins = $mail_plugins trees` (as in
bench/trees/e2e.py). Each gets the same INBOX of --messages real-looking
messages (corpus.py: 1 KB .. 100+ KB, plain, multipart/alternative,
multipart/mixed with attachments, mailing-list mail, full header sets,
threads), APPENDed through IMAP so the TREES side stores them encrypted.

One "cycle" of a client is what a mail client does when it opens a
mailbox and works in it (16 commands):
  SELECT INBOX; UID FETCH 1:* (FLAGS); for a window of --window messages
  UID FETCH (ENVELOPE), (BODYSTRUCTURE) and
  (BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID References
  List-Id)]); UID FETCH (BODY[]) of one message; UID SEARCH SUBJECT, FROM,
  HEADER List-Id; UID SORT (one of DATE, SUBJECT, FROM); UID THREAD
  REFERENCES; two UID STOREs of flags; APPEND of a new message, UID STORE
  +FLAGS (\\Deleted) and UID EXPUNGE of it (the mailbox keeps its size);
  IDLE ... DONE.
--clients clients run their cycles concurrently, each over its own
connection, in three phases:
  warm    clients stay logged in (sessions opened once, kept across rounds);
          each does --cycles cycles per round.
  cold    each client logs in (not timed), does one timed cycle, logs out:
          the first session after a new login.
  login   each client does --logins times: connect, LOGIN, one cycle,
          LOGOUT, all timed (LOGIN and LOGOUT count as commands).
Every phase runs on the plain side and on the TREES side in turn, which one
goes first alternating from round to round, so both see the same load of a
shared machine. Round 0 warms both up (and fills the plain side's
dovecot.index.cache as a real client would) and is not counted.

Prints every round, then per phase the median commands/s of each side, the
median over the rounds of the TREES/plain ratio of commands/s and the
smallest and largest round ratio (the spread); then per command type the
median latency of each side and their ratio.

--search-messages N (e.g. 10000) adds a separate measurement: a folder of
N messages on each side, then UID SEARCH BODY / TEXT / SUBJECT on it,
interleaved, --search-rounds times; prints median seconds and ratios.

Needs root (like the integration tests) and a build (MF_BUILDDIR).
"""
import argparse
import os
import random
import re
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import corpus  # noqa: E402
import imapwire  # noqa: E402

PLAIN_USER, TREES_USER = "plain@example.test", "bench@example.test"
PASSWORDS = {PLAIN_USER: "plain-pw-1", TREES_USER: "bench-pw-1"}
HEADER_FIELDS = "(From To Cc Subject Date Message-ID References List-Id)"
SORTS = ["DATE", "SUBJECT", "FROM"]
APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
PHASES = ("warm", "cold", "login")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="IMAP load generator: commands/s of a TREES user vs a plaintext "
        "user (two Dovecot instances, same config but the plugin), warm, cold and "
        "per-cycle-login sessions, interleaved rounds; ratios TREES/plain.",
        epilog="Needs root and MF_BUILDDIR=<build dir> (like the integration tests); "
        "MF_TREES_PLUGIN=<.so> benchmarks another build of the plugin.")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients per side (4)")
    p.add_argument("--messages", type=int, default=300, help="messages in INBOX (300)")
    p.add_argument("--rounds", type=int, default=7, help="counted rounds (7)")
    p.add_argument("--cycles", type=int, default=2,
                   help="cycles per client per round in the warm phase (2)")
    p.add_argument("--logins", type=int, default=1,
                   help="login+cycle+logout per client per round in the login phase (1)")
    p.add_argument("--window", type=int, default=50,
                   help="messages per ENVELOPE/BODYSTRUCTURE/header FETCH (50)")
    p.add_argument("--phases", default=",".join(PHASES),
                   help="comma-separated subset of warm,cold,login (all)")
    p.add_argument("--search-messages", type=int, default=0,
                   help="also measure SEARCH BODY/TEXT on a folder of N messages (off)")
    p.add_argument("--search-rounds", type=int, default=3, help="rounds of that (3)")
    p.add_argument("--seed", type=int, default=1, help="corpus and workload seed (1)")
    a = p.parse_args(argv)
    a.phases = [x for x in a.phases.split(",") if x]
    if not set(a.phases) <= set(PHASES) or a.clients < 1 or a.messages < a.window:
        p.error("bad --phases, --clients or --messages < --window")
    return a


class Side:
    """One Dovecot instance and its user, with what the workload needs."""

    def __init__(self, name, dc, user, msgs):
        self.name, self.dc, self.user, self.msgs = name, dc, user, msgs
        self.warm = []          # persistent sessions of the warm phase

    def connect(self, login=True):
        c = imapwire.Client("127.0.0.1", self.dc.imap_port)
        if login:
            c.login(self.user, PASSWORDS[self.user])
        return c


def timed(samples, name, fn, *args):
    t0 = time.monotonic()
    r = fn(*args)
    samples.append((name, time.monotonic() - t0))
    return r


def fetch_count(untagged, item=b""):
    """FETCH replies carrying `item` (other clients' flag changes arrive as
    unsolicited FETCH replies too)."""
    return sum(1 for r in untagged if re.match(rb"\* \d+ FETCH", r) and item in r)


def cycle(side, c, rng, samples, args):
    """One client cycle (16 commands) on an open connection."""
    n = len(side.msgs)
    t = lambda name, text, lits=(): timed(samples, name, c.cmd, text, lits)  # noqa: E731
    t("SELECT", "SELECT INBOX")
    u, _ = t("FETCH FLAGS", "UID FETCH 1:* (UID FLAGS)")
    assert fetch_count(u) >= n, (side.name, "FETCH FLAGS", len(u))
    first = rng.randint(1, n - args.window + 1)
    window = f"{first}:{first + args.window - 1}"
    for name, items, item in (
            ("FETCH ENVELOPE", "(ENVELOPE)", b"ENVELOPE"),
            ("FETCH BODYSTRUCTURE", "(BODYSTRUCTURE)", b"BODYSTRUCTURE"),
            ("FETCH HEADER.FIELDS", f"(BODY.PEEK[HEADER.FIELDS {HEADER_FIELDS}])",
             b"BODY[HEADER.FIELDS")):
        u, _ = t(name, f"UID FETCH {window} {items}")
        assert fetch_count(u, item) == args.window, (side.name, name, fetch_count(u, item))
    uid = rng.randint(1, n)
    u, _ = t("FETCH BODY[]", f"UID FETCH {uid} (BODY[])")
    assert side.msgs[uid - 1] in u[0], (side.name, "BODY[] differs", uid)
    word = rng.choice(corpus.SUBJECT_WORDS)
    sender = rng.choice(corpus.SENDERS)[0].split()[0]
    u, _ = t("SEARCH SUBJECT", f'UID SEARCH SUBJECT "{word}"')
    assert any(r.startswith(b"* SEARCH ") for r in u), (side.name, "SEARCH SUBJECT", word)
    t("SEARCH FROM", f'UID SEARCH FROM "{sender}"')
    t("SEARCH HEADER", 'UID SEARCH HEADER List-Id "lists.example.net"')
    t("SORT", f"UID SORT ({rng.choice(SORTS)}) UTF-8 ALL")
    t("THREAD", "UID THREAD REFERENCES UTF-8 ALL")
    a, b = rng.randint(1, n), rng.randint(1, n)
    t("STORE", f"UID STORE {a} +FLAGS.SILENT (\\Flagged)")
    t("STORE", f"UID STORE {b} -FLAGS.SILENT (\\Flagged \\Seen)")
    new = side.msgs[rng.randrange(n)]
    _, tagged = t("APPEND", "APPEND INBOX {}", (new,))
    newuid = APPENDUID.search(tagged).group(1).decode()
    t("STORE", f"UID STORE {newuid} +FLAGS.SILENT (\\Deleted)")
    t("EXPUNGE", f"UID EXPUNGE {newuid}")
    timed(samples, "IDLE", c.idle)
    return 16


def run_clients(side, args, rnd, phase):
    """(commands, wall seconds, [(command, seconds)]) of one phase on one side."""
    results, errors = [], []
    barrier = threading.Barrier(args.clients + 1)

    def client(k):
        rng = random.Random(f"{args.seed}/{rnd}/{phase}/{k}")
        samples, cmds = [], 0
        try:
            if phase == "warm":
                c = side.warm[k]
                barrier.wait()
                for _ in range(args.cycles):
                    cmds += cycle(side, c, rng, samples, args)
            elif phase == "cold":
                c = side.connect()
                barrier.wait()
                cmds += cycle(side, c, rng, samples, args)
                c.logout()
            else:
                barrier.wait()
                for _ in range(args.logins):
                    c = timed(samples, "LOGIN", side.connect)
                    cmds += 1 + cycle(side, c, rng, samples, args) + 1
                    timed(samples, "LOGOUT", c.logout)
        except Exception as e:  # noqa: BLE001  (reported and re-raised below)
            errors.append(f"{side.name} {phase} client {k}: {e!r}")
            barrier.abort()
        results.append((cmds, samples))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for th in threads:
        th.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    t0 = time.monotonic()
    for th in threads:
        th.join()
    wall = time.monotonic() - t0
    if errors:
        raise RuntimeError("; ".join(errors))
    return sum(r[0] for r in results), wall, [s for r in results for s in r[1]]


def populate(side, box, msgs, create=False, batch=50):
    """APPEND msgs to box (MULTIAPPEND, `batch` per command), outside timing;
    returns the box's STATUS (MESSAGES UIDNEXT) reply."""
    c = side.connect()
    if create:
        c.cmd(f'CREATE "{box}"')
    for i in range(0, len(msgs), batch):
        part = msgs[i:i + batch]
        c.cmd(f'APPEND "{box}" ' + " ".join("{}" for _ in part), part)
    u, _ = c.cmd(f'STATUS "{box}" (MESSAGES UIDNEXT)')
    c.logout()
    return u[0]


def spread(values):
    v = sorted(values)
    return statistics.median(v), v[0], v[-1]


def report(args, rate, lat):
    print(f"\nIMAP load: {args.clients} concurrent clients per side, INBOX of "
          f"{args.messages} messages, {args.rounds} rounds, plain and TREES interleaved;\n"
          "same Dovecot config except the plugin; the machine is shared, so medians.")
    print(f"\n{'phase':6} {'plain cmd/s':>12} {'TREES cmd/s':>12} {'TREES/plain':>12}  "
          f"{'spread of round ratios':>22}")
    for ph in args.phases:
        p, t = rate[ph]["plain"], rate[ph]["TREES"]
        med, lo, hi = spread(b / a for a, b in zip(p, t))
        print(f"{ph:6} {statistics.median(p):12.1f} {statistics.median(t):12.1f} "
              f"{med:11.2f}x  {lo:10.2f}x .. {hi:.2f}x")
    for ph in args.phases:
        print(f"\n{ph}: median latency per command (ms)")
        print(f"{'command':22} {'plain':>9} {'TREES':>9} {'ratio':>7} {'n':>6}")
        for name in sorted(lat[ph]["plain"], key=lambda x: -statistics.median(
                lat[ph]["TREES"].get(x, [0]))):
            p, t = lat[ph]["plain"][name], lat[ph]["TREES"][name]
            mp, mt = statistics.median(p) * 1e3, statistics.median(t) * 1e3
            print(f"{name:22} {mp:9.2f} {mt:9.2f} {mt / mp:6.2f}x {len(p):6}")
    print("\n(TREES/plain: median over the rounds of the ratio of commands/s, < 1 = TREES "
          "slower; spread: smallest .. largest round ratio. The TREES key is wrapped with "
          "argon2id at libsodium's minimum cost, so 'login' understates a production "
          "key's unlock time.)")


def search_bench(sides, args):
    """SEARCH BODY/TEXT/SUBJECT on a folder of --search-messages messages."""
    n = args.search_messages
    print(f"\nbuilding a folder of {n} messages on each side ...", flush=True)
    t0 = time.monotonic()
    for start in range(0, n, 1000):
        msgs = [corpus.message(i, random.Random(f"big/{args.seed}/{i}"), [])
                for i in range(start, min(n, start + 1000))]
        for s in sides:
            populate(s, "Big", msgs, create=(start == 0))
    print(f"  done in {time.monotonic() - t0:.0f} s", flush=True)
    queries = [("SEARCH BODY", f"UID SEARCH BODY {corpus.BODY_MARKER}"),
               ("SEARCH TEXT", f"UID SEARCH TEXT {corpus.BODY_MARKER}"),
               ("SEARCH SUBJECT", 'UID SEARCH SUBJECT "budget"')]
    times = {q: {s.name: [] for s in sides} for q, _ in queries}
    found = {}
    for r in range(args.search_rounds + 1):
        order = sides if r % 2 == 0 else sides[::-1]
        conns = {s.name: s.connect() for s in order}
        for s in order:
            conns[s.name].cmd('EXAMINE "Big"')
        for q, text in queries:
            for s in order:
                t0 = time.monotonic()
                u, _ = conns[s.name].cmd(text)
                dt = time.monotonic() - t0
                # Slow searches also send "* OK Searched 76% of the mailbox".
                reply = [r for r in u if r.startswith(b"* SEARCH")]
                assert len(reply) == 1, (s.name, q, u)
                hits = len(reply[0].split()) - 2
                assert found.setdefault(q, hits) == hits, (s.name, q, hits, found[q])
                if r:
                    times[q][s.name].append(dt)
                print(f"search round {r} {s.name:5} {q:15} {dt:8.3f} s ({hits} hits)",
                      flush=True)
        for c in conns.values():
            c.logout()
    print(f"\nSEARCH on a folder of {n} messages, {args.search_rounds} rounds, a fresh "
          "login per round, no FTS plugin on either side (both read every message):")
    print(f"{'query':15} {'plain (s)':>10} {'TREES (s)':>10} {'ratio':>7}  spread")
    for q, _ in queries:
        p, t = times[q]["plain"], times[q]["TREES"]
        med, lo, hi = spread(b / a for a, b in zip(p, t))
        print(f"{q:15} {statistics.median(p):10.3f} {statistics.median(t):10.3f} "
              f"{med:6.2f}x  {lo:.2f}x .. {hi:.2f}x")


def main(argv):
    args = parse_args(argv)
    import trees_fixture as tf   # after --help: needs MF_BUILDDIR

    msgs = corpus.messages(args.messages, args.seed)
    conf = ("verbose_proctitle = yes\n"
            "protocol imap {\n  mail_max_userip_connections = 1000\n}\n")
    plain = tf.TreesStack("imapload-plain", plugin=False, extra_conf=conf)
    plain.add_user(PLAIN_USER, PASSWORDS[PLAIN_USER], {})
    trees = tf.TreesStack("imapload-trees", plugin=True, extra_conf=conf)
    trees.trees_user(TREES_USER, PASSWORDS[TREES_USER], version=2)
    rate = {ph: {"plain": [], "TREES": []} for ph in args.phases}
    lat = {ph: {"plain": {}, "TREES": {}} for ph in args.phases}
    with plain, trees:
        sides = [Side("plain", plain.dovecot, PLAIN_USER, msgs),
                 Side("TREES", trees.dovecot, TREES_USER, msgs)]
        for s in sides:
            status = populate(s, "INBOX", msgs)
            assert f"MESSAGES {len(msgs)} UIDNEXT {len(msgs) + 1}".encode() in status, status
            s.warm = [s.connect() for _ in range(args.clients)]
        for r in range(args.rounds + 1):
            for ph in args.phases:
                for s in (sides if r % 2 == 0 else sides[::-1]):
                    cmds, wall, samples = run_clients(s, args, r, ph)
                    print(f"round {r} {ph:5} {s.name:5}: {cmds} commands in {wall:6.2f} s"
                          f" = {cmds / wall:7.1f}/s{'  (warm-up, not counted)' if r == 0 else ''}",
                          flush=True)
                    if r == 0:
                        continue
                    rate[ph][s.name].append(cmds / wall)
                    for name, dt in samples:
                        lat[ph][s.name].setdefault(name, []).append(dt)
        for s in sides:
            for c in s.warm:
                c.logout()
        report(args, rate, lat)
        if args.search_messages:
            search_bench(sides, args)
        tf.assert_no_errors(plain.dovecot)
        tf.assert_no_errors(trees.dovecot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
