#!/usr/bin/env python3
"""auth-bench.py - IMAP logins/s with TREES, mailfruit driver vs stock sql, and
userdb lookup latency with 100 000 mailboxes. One run, figures side by side.

(a) passdb/userdb mailfruit: one argon2 per login (the key wrap), in
    auth-worker processes; the mail process gets the derived key.
(b) riseup's setup: passdb sql on SQLite returning an {ARGON2ID} hash and the
    TREES fields with userdb_trees_password=%w, userdb prefetch + sql: two
    argon2 per login (the hash in the auth process, the key unlock in imap).
Both with the TREES plugin, the same users, keys, argon2 parameters (the
database's defaults), 100 000 other mailboxes in each database, and the
same client load.

Usage: MF_BUILDDIR=... auth-bench.py [--seconds S] [--rounds R] [--clients N]
       [--users N] [--mailboxes N] [--lookups N]    (needs root, like the tests)
"""
import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import harness  # noqa: E402
import dovecot_conf  # noqa: E402
import mailfruit_fixture as mf  # noqa: E402
import trees_fixture as tf  # noqa: E402

MKHASH = os.path.join(harness.BUILDDIR, "tests", "userdb", "mkhash")
LOOKUP_BENCH = os.path.join(harness.BUILDDIR, "bench", "auth", "udb-lookup-bench")


def bulk_mailboxes(path, n, ops, mem):
    """n more mailboxes with (random) keys, straight into our schema."""
    con = sqlite3.connect(path)
    now = int(time.time())
    with con:
        for d in range(100):
            con.execute("INSERT INTO domains (name, created) VALUES (?, ?)",
                        (f"d{d}.bench", now))
        ids = dict(con.execute("SELECT name, id FROM domains"))
        for i in range(n):
            dom = f"d{i % 100}.bench"
            cur = con.execute(
                "INSERT INTO mailboxes (domain_id, local_part, address, quota_bytes, active,"
                " home, created, updated) VALUES (?, ?, ?, 0, 1, ?, ?, ?)",
                (ids[dom], f"u{i}", f"u{i}@{dom}", f"/var/vmail/{dom}/u{i}", now, now))
            mid = cur.lastrowid
            con.execute("INSERT INTO trees_keys VALUES (?, 1, 2, ?, ?)",
                        (mid, os.urandom(32), now))
            con.execute("INSERT INTO key_wraps (mailbox_id, kind, pwhash_algo, pwhash_opslimit,"
                        " pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, created)"
                        " VALUES (?, 'password', 1, ?, ?, ?, ?, ?, ?)",
                        (mid, ops, mem, os.urandom(16), os.urandom(24), os.urandom(48), now))
    con.close()


def riseup_db(path, real, n):
    """riseup's tables (with the indexes a fair setup has), the real users
    and n others."""
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE virtual_users (id INTEGER PRIMARY KEY, password TEXT NOT NULL,
            email TEXT NOT NULL UNIQUE);
        CREATE TABLE storage_keys (id INTEGER PRIMARY KEY, enabled INT DEFAULT 1,
            version INT DEFAULT 1, public_key TEXT, pwhash_algo INT DEFAULT 1,
            pwhash_opslimit INT, pwhash_memlimit INT, pwhash_salt TEXT, sk_nonce TEXT,
            locked_secretbox TEXT, user_id INT);
        CREATE INDEX storage_keys_user ON storage_keys(user_id);
    """)
    with con:
        for addr, pwhash, w in real:
            uid = con.execute("INSERT INTO virtual_users (password, email) VALUES (?, ?)",
                              (pwhash, addr)).lastrowid
            con.execute("INSERT INTO storage_keys (enabled, version, public_key, pwhash_algo,"
                        " pwhash_opslimit, pwhash_memlimit, pwhash_salt, sk_nonce,"
                        " locked_secretbox, user_id) VALUES (1, 2, ?, ?, ?, ?, ?, ?, ?, ?)",
                        w + (uid,))
        for i in range(n):
            uid = con.execute("INSERT INTO virtual_users (password, email) VALUES (?, ?)",
                              ("{ARGON2ID}x", f"u{i}@d{i % 100}.bench")).lastrowid
            con.execute("INSERT INTO storage_keys (public_key, pwhash_opslimit,"
                        " pwhash_memlimit, pwhash_salt, sk_nonce, locked_secretbox, user_id)"
                        " VALUES (?, 4, 67108864, ?, ?, ?, ?)",
                        (os.urandom(32).hex(), os.urandom(16).hex(), os.urandom(24).hex(),
                         os.urandom(48).hex(), uid))
    con.close()
    os.chmod(path, 0o644)


# riseup's queries; {user} etc. are the release's %variables (dovecot_conf.var).
PASSWORD_QUERY = (
    "SELECT u.email AS user, u.password AS password, "
    "REPLACE('{password}', '%%', '%%%%') AS userdb_trees_password, "
    "'{homes}/{domain}/{username}' AS userdb_home, "
    "k.enabled AS userdb_trees_enabled, k.version AS userdb_trees_version, "
    "k.public_key AS userdb_trees_public_key, "
    "k.locked_secretbox AS userdb_trees_locked_secretbox, "
    "k.sk_nonce AS userdb_trees_sk_nonce, k.pwhash_algo AS userdb_trees_pwhash_algo, "
    "k.pwhash_opslimit AS userdb_trees_pwhash_opslimit, "
    "k.pwhash_memlimit AS userdb_trees_pwhash_memlimit, "
    "k.pwhash_salt AS userdb_trees_pwhash_salt "
    "FROM virtual_users u LEFT JOIN storage_keys k ON k.user_id = u.id "
    "WHERE u.email = '{user}'")
USER_QUERY = (
    "SELECT '{homes}/{domain}/{username}' AS home, k.enabled AS trees_enabled, "
    "k.version AS trees_version, k.public_key AS trees_public_key "
    "FROM virtual_users u LEFT JOIN storage_keys k ON k.user_id = u.id "
    "WHERE u.email = '{user}'")
ITERATE_QUERY = "SELECT email AS user FROM virtual_users"


def sql_stack(tmp_db, real, n):
    stack = harness.Stack("bench-auth-sql", postfix=False, users={})
    dc = stack.dovecot
    db = tmp_db(stack)
    riseup_db(db, real, n)
    fill = {k: dovecot_conf.var(k) for k in ("user", "domain", "username", "password")}
    password_query = PASSWORD_QUERY.format(homes=dc.homes, **fill)
    user_query = USER_QUERY.format(homes=dc.homes, **fill)
    # 2.3: the queries in the args file; 2.4: settings of the named blocks.
    conf = stack.tmp.write("dovecot/dovecot-sql.conf.ext",
                           f"driver = sqlite\nconnect = {db}\n"
                           f"password_query = {password_query}\nuser_query = {user_query}\n"
                           f"iterate_query = {ITERATE_QUERY}\n", mode=0o600)
    dc.passdb = dovecot_conf.passdb("sql", args=conf, settings={"query": password_query})
    dc.userdb = (dovecot_conf.userdb("prefetch") +
                 dovecot_conf.userdb("sql", args=conf, settings={
                     "query": user_query, "iterate_query": ITERATE_QUERY}))
    tf.add_settings_module(dc)
    dc.extra_conf = (tf.BASE_CONF.format(modules=tf.plugin_dir(stack.tmp),
                                         plugins=dovecot_conf.mail_plugins("trees")) +
                     dovecot_conf.sql_sqlite(db))
    return stack


def logins_per_second(dc, creds, seconds, clients):
    """Logins (connect, LOGIN, LOGOUT) by `clients` threads for `seconds`."""
    counts, errors = [0] * clients, []
    stop = time.monotonic() + seconds
    done = []

    def worker(i):
        k = i
        while time.monotonic() < stop:
            user, pw = creds[k % len(creds)]
            k += clients
            try:
                conn = harness.imaplib.IMAP4("127.0.0.1", dc.imap_port, timeout=120)
                conn.login(user, pw)
                conn.logout()
                counts[i] += 1
            except Exception as e:   # a benchmark with failures has no figure
                errors.append(f"{user}: {e}")
                return
        done.append(time.monotonic())
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"login failures: {errors[:3]}")
    return sum(counts) / (max(done) - t0), sum(counts)


class UserdbClient:
    """USER lookups over the auth-userdb socket (what LMTP does), timed."""

    def __init__(self, dc):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(dc.base_dir, "auth-userdb"))
        self.f = self.sock.makefile("rb")   # buffered: one recv per reply, not per byte
        self.sock.sendall(b"VERSION\t1\t0\n")
        self.n = 0

    def lookups(self, users, count):
        """Microseconds per lookup."""
        times = []
        for _ in range(count):
            user = random.choice(users)
            self.n += 1
            t0 = time.perf_counter_ns()
            self.sock.sendall(f"USER\t{self.n}\t{user}\tservice=lmtp\n".encode())
            while True:
                line = self.f.readline()
                if line.startswith((b"USER\t", b"NOTFOUND\t", b"FAIL\t")):
                    break
            t1 = time.perf_counter_ns()
            if not line.startswith(b"USER\t"):
                raise RuntimeError(f"lookup of {user} failed: {line!r}")
            times.append((t1 - t0) / 1000)
        return times

    def close(self):
        self.sock.close()


def pct(samples, p):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, len(samples) * p // 100)]


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--mailboxes", type=int, default=100000)
    ap.add_argument("--lookups", type=int, default=20000)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("auth-bench: needs root (like the integration tests)")
        return 77

    ours = mf.MailfruitStack("bench-auth-ours", fast=False)
    db = ours.db
    conf = dict(line.split(" = ") for line in db.ok("config", "list").splitlines())
    ops, mem = int(conf["argon2_opslimit"]), int(conf["argon2_memlimit"])
    creds, real = [], []
    for i in range(a.users):
        user, pw = f"user{i}@example.test", f"bench password {i}"
        ours.add_user(user, pw, "--no-recovery-code")
        creds.append((user, pw))
    con = sqlite3.connect(db.path)
    for user, pw in creds:
        pk, salt, nonce, box = con.execute(
            "SELECT k.public_key, w.pwhash_salt, w.sk_nonce, w.locked_secretbox"
            " FROM mailboxes m JOIN trees_keys k ON k.mailbox_id = m.id"
            " JOIN key_wraps w ON w.mailbox_id = m.id WHERE m.address = ?", (user,)).fetchone()
        enc = subprocess.run([MKHASH, "id", "19", str(ops), str(mem // 1024), "1", "32"],
                             input=pw + "\n", stdout=subprocess.PIPE, text=True,
                             check=True).stdout.strip()
        real.append((user, "{ARGON2ID}" + enc,
                     (pk.hex(), 1, ops, mem, salt.hex(), nonce.hex(), box.hex())))
    con.close()
    bulk_mailboxes(db.path, a.mailboxes, ops, mem)
    theirs = sql_stack(lambda st: os.path.join(st.tmp.path, "riseup.db"), real, a.mailboxes)
    others = [f"u{i}@d{i % 100}.bench" for i in range(a.mailboxes)]

    print(f"auth benchmark on Dovecot {'.'.join(map(str, dovecot_conf.RELEASE))}: "
          f"{a.users} TREES users logging in over IMAP from {a.clients} "
          f"clients; argon2id opslimit {ops}, memlimit {mem}; {a.mailboxes} other mailboxes in "
          f"each database; {os.cpu_count()} CPUs, shared (load average {loadavg()})")
    # Both Dovecots run at once and take turns, round by round, so that
    # both see the same background load on a shared machine.
    with ours, theirs:
        stacks = {"a": ours.dovecot, "b": theirs.dovecot}
        for dc in stacks.values():
            for user, pw in creds:            # warm up: workers, caches
                dc.imap(user, pw).logout()
        logins = {"a": [0, 0.0], "b": [0, 0.0]}
        ratios = []
        for r in range(a.rounds):
            rate = {}
            for k, dc in stacks.items():
                rate[k], n = logins_per_second(dc, creds, a.seconds, a.clients)
                logins[k][0] += n
                logins[k][1] += n / rate[k]
            ratios.append(rate["a"] / rate["b"])
            print(f"  round {r + 1}: logins/s (a) {rate['a']:.2f}, (b) {rate['b']:.2f}, "
                  f"ratio {ratios[-1]:.2f}x")
        clients = {k: UserdbClient(dc) for k, dc in stacks.items()}
        samples = {"a": [], "b": []}
        for k in clients:
            clients[k].lookups(others, 200)   # first ones open databases, start workers
        chunk = max(1, a.lookups // 10)
        for _ in range(10):
            for k in clients:
                samples[k] += clients[k].lookups(others, chunk)
        for c in clients.values():
            c.close()
        lookup = subprocess.run([LOOKUP_BENCH, db.path, str(a.lookups * 5)],
                                stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        for dc in stacks.values():
            tf.assert_no_errors(dc)
    ra, rb = (logins[k][0] / logins[k][1] for k in ("a", "b"))
    a50, a99, b50, b99 = (pct(samples["a"], 50), pct(samples["a"], 99), pct(samples["b"], 50),
                          pct(samples["b"], 99))
    ratios.sort()
    print(f"  IMAP logins/s  (a) mailfruit driver: {ra:6.2f}  ({logins['a'][0]} logins)")
    print(f"                 (b) sql + prefetch:   {rb:6.2f}  ({logins['b'][0]} logins)")
    print(f"                 ratio (a)/(b): {ra / rb:.2f}x overall, median of rounds "
          f"{ratios[len(ratios) // 2]:.2f}x (target >= 1.8x)")
    print(f"  userdb lookup over auth-userdb, {len(samples['a'])} random users of "
          f"{a.mailboxes}, interleaved:")
    print(f"                 (a) mailfruit: p50 {a50:6.0f} us, p99 {a99:6.0f} us "
          f"(target p99 < 200 us)")
    print(f"                 (b) sql:       p50 {b50:6.0f} us, p99 {b99:6.0f} us")
    print(f"                 ratio of p99 (a)/(b): {a99 / b99:.2f}x")
    print(f"  the driver's lookup alone ({lookup})")
    print(f"  load average at the end: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
