#!/usr/bin/env python3
"""Password hashing under a login flood: the server's memory bound.

Each wrong password for a known address costs one argon2 run with the
mailbox's memory cost (64 MiB here) in an auth-worker process. The mailfruit
server's Dovecot settings (debian/server/server-config auth-limits, the
fragment it writes into 90-mailfruit.conf) bound the workers to a budget
from the machine's RAM and CPUs. Measured side by side, in one run, with
Dovecot's stock settings (30 workers): many parallel wrong logins, the
auth-worker processes and their summed RSS sampled every 20 ms.
Then from one address (no trusted network), failures are slowed: each wrong
login waits auth_failure_delay and Dovecot's auth penalty grows per attempt.
"""
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402
import mailfruit_fixture as mf  # noqa: E402

tap = harness.TapRunner()
SERVER_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                             "debian", "server", "server-config")
MEMLIMIT = "64M"
MIB = 1 << 20
ADDR = "alice@" + mf.DOMAIN
FLOOD_CLIENTS = 32
FLOOD_SECONDS = 8


def server_auth_limits():
    p = subprocess.run(["sh", SERVER_CONFIG, "auth-limits", MEMLIMIT], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, f"server-config auth-limits: {p.stdout}"
    m = re.search(r"process_limit = (\d+)", p.stdout)
    assert m, p.stdout
    return p.stdout, int(m.group(1))


def auth_workers(pidns):
    """(count, summed RSS in bytes) of the auth-worker processes now."""
    n = rss = 0
    for pid in harness.processes_in_namespace(pidns):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            argv = cmd.split(b"\0")
            # "dovecot[-INSTANCE]/auth -w", or ".../auth worker: ..."
            if not re.match(rb"dovecot[^/]*/auth( worker|$)", argv[0]) or not (
                    b"-w" in argv[1:] or b"worker" in argv[0]):
                continue
            with open(f"/proc/{pid}/status") as f:
                kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            continue
        n += 1
        rss += kb * 1024
    return n, rss


def flood(extra_conf):
    """Peak auth-worker count and summed RSS, and logins tried, under a flood."""
    stack = mf.MailfruitStack("auth-flood", fast=False, extra_conf=extra_conf)
    stack.db.ok("config", "set", "argon2_opslimit", "2")
    stack.db.ok("config", "set", "argon2_memlimit", MEMLIMIT)
    stack.add_user(ADDR, "the-right-password", "--no-recovery-code")
    with stack:
        dc = stack.dovecot
        stop = time.monotonic() + FLOOD_SECONDS
        tried = [0]
        lock = threading.Lock()

        def client(k):
            i = 0
            while time.monotonic() < stop:
                i += 1
                err = mf.imap_login_error(dc, ADDR, f"wrong-{k}-{i}")
                assert err is not None, "a wrong password logged in"
                with lock:
                    tried[0] += 1

        threads = [threading.Thread(target=client, args=(k,), daemon=True)
                   for k in range(FLOOD_CLIENTS)]
        for t in threads:
            t.start()
        peak_n = peak_rss = 0
        while any(t.is_alive() for t in threads):
            n, rss = auth_workers(dc.pidns)
            peak_n, peak_rss = max(peak_n, n), max(peak_rss, rss)
            time.sleep(0.02)
        for t in threads:
            t.join()
        # The right password still logs in afterwards.
        conn = dc.imap(ADDR, "the-right-password")
        conn.logout()
    return peak_n, peak_rss, tried[0]


results = {}


@tap.test
def test_flood_bounded():
    """parallel wrong logins: auth-workers and their memory stay within the server's budget"""
    conf, limit = server_auth_limits()
    log(f"server-config auth-limits {MEMLIMIT}:\n{conf}")
    # Penalty off: the worst case, an attacker with many addresses.
    n, rss, tried = flood(conf + "login_trusted_networks = 127.0.0.0/8\n")
    results["server"] = (n, rss, tried)
    log(f"server settings: peak {n} auth-workers, peak RSS {rss / MIB:.0f} MiB, {tried} logins")
    assert n <= limit, f"{n} auth-workers, limit {limit}"
    assert rss <= limit * (64 + 24) * MIB, f"peak RSS {rss / MIB:.0f} MiB over {limit} x (64 + 24) MiB"


@tap.test
def test_flood_stock_for_comparison():
    """the same flood with Dovecot's stock worker count, side by side"""
    n, rss, tried = flood("login_trusted_networks = 127.0.0.0/8\nauth_failure_delay = 2 secs\n")
    results["stock"] = (n, rss, tried)
    log(f"stock settings: peak {n} auth-workers, peak RSS {rss / MIB:.0f} MiB, {tried} logins")
    if "server" in results:
        s = results["server"]
        print(f"# flood of {FLOOD_CLIENTS} clients x {FLOOD_SECONDS} s, argon2 m={MEMLIMIT} t=2:"
              f" peak auth-workers {s[0]} vs {n} stock; peak RSS {s[1] / MIB:.0f} MiB vs"
              f" {rss / MIB:.0f} MiB stock (ratio {s[1] / max(rss, 1):.2f});"
              f" wrong logins answered {s[2]} vs {tried} stock", flush=True)


@tap.test
def test_failures_slowed_per_source():
    """repeated wrong logins from one address: each waits longer (auth penalty)"""
    conf, _ = server_auth_limits()
    stack = mf.MailfruitStack("auth-penalty", fast=False, extra_conf=conf)
    stack.db.ok("config", "set", "argon2_opslimit", "2")
    stack.db.ok("config", "set", "argon2_memlimit", MEMLIMIT)
    stack.add_user(ADDR, "the-right-password", "--no-recovery-code")
    with stack:
        times = []
        for i in range(3):
            t0 = time.monotonic()
            assert mf.imap_login_error(stack.dovecot, ADDR, f"wrong-{i}") is not None
            times.append(time.monotonic() - t0)
        print("# wrong logins from one address took " +
              ", ".join(f"{t:.1f} s" for t in times), flush=True)
        # auth_failure_delay = 2 secs: Dovecot 2.4 counts it from the start
        # of the request and its timers are coarse (1.89 s seen), so 1.75.
        assert times[0] >= 1.75, "no auth_failure_delay"
        assert times[2] >= times[0] + 3, "the auth penalty did not grow"


sys.exit(tap.run())
