#!/usr/bin/env python3
"""run-bench.py - mailfruit-policyd benchmark, one run, figures side by side.

(a) Protocol: policy-load keeps 1, 10, 100 and 1000 persistent connections
    lock-step (one request in flight each, like smtpd) against the
    standalone daemon on a unix socket, for plaintext requests (refused,
    one log line each) and TLS requests (DUNNO); and against spawn-mode
    daemons (one process per connection, as spawn(8) runs them).
    Throughput, p50/p99 latency, the daemon's RSS with 1000 connections.
(b) End to end: smtp-source plaintext sessions, each rejected at RCPT,
    against the same Postfix with mailfruit-policyd (spawn and standalone),
    with Postfix's built-in reject_plaintext_session, and with no check
    (accepted and discarded).

Needs root (Postfix). Environment: MF_BUILDDIR (default: the build tree this
file is in), BENCH_SECONDS (per protocol run, default 3), BENCH_MESSAGES
(per end-to-end run, default 5000). Run as "make -C _build/bench/policy bench".
Not a test: it asserts nothing about timings; it prints figures and ratios.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "policy"))
import harness  # noqa: E402
import policyd_client as pc  # noqa: E402
import tls_common as tc  # noqa: E402

LOAD = os.path.join(harness.BUILDDIR, "bench", "policy", "policy-load")
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "5000"))
SESSIONS = 20            # smtp-source -s: parallel SMTP sessions
CONF = """mode = reject
exempt_clients =
policyd_user = nobody
policyd_socket_owner = postfix
"""


def out(line=""):
    print(line, flush=True)


def parse_load(text):
    m = re.search(r"requests=(\d+) seconds=([\d.]+) rps=(\d+) p50_us=(\d+) p99_us=(\d+) "
                  r"over100ms=(\d+) errors=(\d+)", text)
    if not m:
        raise RuntimeError(f"policy-load said: {text!r}")
    return {k: float(v) for k, v in zip(("requests", "seconds", "rps", "p50", "p99", "over",
                                         "errors"), m.groups())}


def load(args, keep_open=False):
    """Runs policy-load; with keep_open, returns the process still holding its
    connections (stdin open) and its result line."""
    cmd = [LOAD, "-d", str(SECONDS)] + args + (["-w"] if keep_open else [])
    if not keep_open:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr}")
        return parse_load(proc.stdout)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=harness._die_with_parent)
    return proc, parse_load(proc.stdout.readline())


def protocol_bench(tmp):
    out("(a) protocol: lock-step persistent connections, unix socket, "
        f"{SECONDS}s per run")
    out(f"{'daemon':<11} {'conns':>5} {'requests':<9} {'req/s':>9} {'p50 us':>7} {'p99 us':>7}")
    run = tmp.sub("run", owner=("nobody", None))
    sock = os.path.join(run, "policy.sock")
    conf = pc.write_conf(tmp, CONF + f"policyd_listen = unix:{sock}\n")
    daemon = pc.Standalone(tmp, conf, log_name="standalone.log").start()
    results, rss = {}, None
    try:
        for conns in (1, 10, 100, 1000):
            for kind in ("plain", "tls"):
                if conns == 1000 and kind == "tls":
                    proc, r = load(["-u", sock, "-c", str(conns), "-k", kind], keep_open=True)
                    rss = daemon.rss_kb()
                    with open(f"/proc/{daemon.child}/status") as f:
                        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
                    proc.stdin.close()
                    proc.wait(60)
                else:
                    r = load(["-u", sock, "-c", str(conns), "-k", kind])
                results[("standalone", conns, kind)] = r
                label = "refused" if kind == "plain" else "DUNNO"
                out(f"{'standalone':<11} {conns:>5} {label:<9} {r['rps']:>9.0f} "
                    f"{r['p50']:>7.0f} {r['p99']:>7.0f}")
    finally:
        daemon.stop()
    binary = pc.install_binary(tmp)
    spawn_log = os.path.join(tmp.path, "spawn.log")
    for conns in (1, 10, 100):
        r = load(["-x", f"{binary} -c {conf} -L {spawn_log}", "-c", str(conns), "-k", "plain"])
        results[("spawn", conns, "plain")] = r
        out(f"{'spawn':<11} {conns:>5} {'refused':<9} {r['rps']:>9.0f} {r['p50']:>7.0f} "
            f"{r['p99']:>7.0f}")
    at100 = results[("standalone", 100, "plain")]["rps"]
    out(f"standalone, 100 connections, refused: {at100:.0f} req/s = "
        f"{at100 / 100000:.2f} x the 100000 req/s target")
    out(f"standalone RSS with 1000 connections open: {rss} kB (peak {hwm} kB) = "
        f"{rss / 10240:.2f} x the 10 MB target")
    return results


def smtp_source(port, messages):
    return tc.smtp_source(port, messages, SESSIONS)


def e2e_variant(name, check, master_policy=False, standalone=False, discard=False):
    main = {
        "mynetworks": "192.0.2.250/32",
        "smtpd_recipient_restrictions": "permit_mynetworks, permit_sasl_authenticated, "
                                        f"reject_unauth_destination{', ' + check if check else ''}",
        "tlspolicy_time_limit": "3600",
    }
    if discard:
        main["virtual_transport"] = "discard:"
    stack = harness.Stack(f"bench-{name}", postfix_main=main)
    tmp, pf = stack.tmp, stack.postfix
    log = tmp.write("policyd.log", "", mode=0o666)
    conf = pc.write_conf(tmp, CONF + "policyd_listen = unix:" +
                         os.path.join(pf.queue, "private", "tlspolicy") + "\n")
    if master_policy:
        pf.master_lines.insert(1, f"tlspolicy unix - n n - 0 spawn user=nobody "
                                  f"argv={pc.install_binary(tmp)} -c {conf} -L {log}")
    with stack:
        daemon = None
        if standalone:
            daemon = pc.Standalone(tmp, conf, log_name="standalone.log").start()
        try:
            smtp_source(pf.port, 200)          # warm up: smtpd and policy processes
            elapsed = smtp_source(pf.port, MESSAGES)
            rejects = len(re.findall(r"NOQUEUE: reject: RCPT", pf.log_text()))
        finally:
            if daemon:
                daemon.stop()
    return elapsed, rejects


def e2e_bench():
    out()
    out(f"(b) end to end: smtp-source -A -s {SESSIONS} -m {MESSAGES}, each message a new "
        "plaintext session")
    variants = [
        ("builtin", "reject_plaintext_session", {}),
        ("policyd-spawn", "check_policy_service unix:private/tlspolicy", {"master_policy": True}),
        ("policyd-standalone", "check_policy_service unix:private/tlspolicy",
         {"standalone": True}),
        ("nocheck", "", {"discard": True}),
    ]
    labels = {
        "builtin": "Postfix reject_plaintext_session",
        "policyd-spawn": "mailfruit-policyd, spawn(8)",
        "policyd-standalone": "mailfruit-policyd, standalone",
        "nocheck": "no check (accepted, discarded)",
    }
    rates = {}
    out(f"{'RCPT check':<34} {'time s':>7} {'sessions/s':>11} {'rejected':>9} "
        f"{'vs built-in':>12}")
    for name, check, kw in variants:
        elapsed, rejects = e2e_variant(name, check, **kw)
        rates[name] = MESSAGES / elapsed
        ratio = rates[name] / rates["builtin"]
        out(f"{labels[name]:<34} {elapsed:>7.2f} {rates[name]:>11.0f} {rejects:>9} "
            f"{ratio:>11.2f}x")
    out(f"target: mailfruit-policyd >= 0.9 x built-in: spawn "
        f"{rates['policyd-spawn'] / rates['builtin']:.2f}, standalone "
        f"{rates['policyd-standalone'] / rates['builtin']:.2f}")


def main():
    if os.geteuid() != 0:
        out("run-bench.py: needs root (Postfix's master starts as root)")
        return 77
    for path in (LOAD, pc.POLICYD):
        if not os.access(path, os.X_OK):
            out(f"run-bench.py: {path} not built (make first)")
            return 1
    out(f"mailfruit-policyd benchmark, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M')}")
    tmp = harness.TestDir("bench-protocol")
    try:
        protocol_bench(tmp)
    finally:
        tmp.cleanup()
    e2e_bench()
    return 0


if __name__ == "__main__":
    sys.exit(main())
