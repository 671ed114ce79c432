#!/usr/bin/env python3
"""run-bench.py - mailfruit-milter-tlsonly benchmark, one run, figures side by side.

smtp-source plaintext sessions, each rejected at RCPT, against the same
Postfix (a fresh harness instance per variant, same main.cf apart from the
check) with:
  - Postfix's built-in reject_plaintext_session (no IPC at all),
  - mailfruit-milter-tlsonly (smtpd_milters, unix socket in private/),
  - py-tlsonly.py, a python3-milter filter doing the same check,
  - no check (accepted, queued, discarded).
All four Postfix instances run at once; the rounds take turns (A B C D,
A B C D, ...) and each variant's median run counts, so that load from
elsewhere on a shared machine falls on all of them alike. Ratios are of
sessions/s within this one run. The filter's own CPU time per session
(user + system of its process, median run) is printed too: unlike
sessions/s it hardly depends on what else the machine is doing.

Needs root (Postfix). Environment: MF_BUILDDIR (default: the build tree this
file is in), BENCH_MESSAGES (per run, default 5000), BENCH_ROUNDS (default 3),
BENCH_VARIANTS (a
comma-separated subset of builtin,milter,python,nocheck; builtin always
runs, as the base of the ratios). Run as
"make -C _build/bench/milter bench". Not a test: it asserts nothing about
timings; it prints figures and ratios.
"""
import contextlib
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "milter"))
import harness  # noqa: E402
import milter_helper as mh  # noqa: E402
import tls_common as tc  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "5000"))
SESSIONS = 20            # smtp-source -s: parallel SMTP sessions
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PEER = os.path.join(HERE, "py-tlsonly.py")
DEBIAN_PYTHON = "/usr/bin/python3"   # the interpreter python3-milter is built for
CONF = "mode = reject\nexempt_clients = 198.51.100.0/24\n"


def out(line=""):
    print(line, flush=True)


def smtp_source(port, messages):
    return tc.smtp_source(port, messages, SESSIONS)


class Variant:
    """One Postfix (and filter) for one RCPT check, kept running for all rounds."""

    def __init__(self, name, label, check="", milter=None, discard=False):
        self.name, self.label, self.milter, self.discard = name, label, milter, discard
        main = {
            "mynetworks": "192.0.2.250/32",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination"
                                            + (f", {check}" if check else ""),
        }
        if discard:
            main["virtual_transport"] = "discard:"
        if milter:
            main["smtpd_milters"] = "unix:private/bench-milter"
        self.stack = harness.Stack(f"bench-milter-{name}", postfix_main=main)
        self.filter = None
        self.server_pid = None
        self.times = []
        self.cpu = []
        self.refused = 0

    def __enter__(self):
        stack = self.stack.__enter__()
        sock = os.path.join(stack.postfix.queue, "private", "bench-milter")
        try:
            if self.milter == "c":
                conf = stack.tmp.write("tls-policy.conf",
                                       mh.milter_conf(CONF, sock, owner="postfix", mode="0660"))
                self.filter = mh.Milter(stack.tmp, conf, args=()).start()
            elif self.milter == "python":
                # As postfix, so that the socket pymilter makes is Postfix's.
                self.filter = harness.NamespacedProcess(stack.tmp, "py-tlsonly", [
                    "setpriv", "--reuid=postfix", "--regid=postfix", "--init-groups",
                    DEBIAN_PYTHON, PEER, f"unix:{sock}"]).start()
                harness.wait_for(lambda: os.path.exists(sock), 20, "py-tlsonly socket")
            smtp_source(stack.postfix.port, 200)      # warm up: smtpd processes, filter
            if self.discard:
                harness.wait_for(lambda: not stack.postfix.queue_ids(), 300, "queue to drain",
                                 interval=0.5)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def cpu_seconds(self):
        """CPU time (user + system, all threads) the filter's server process
        has used so far (its supervisor only waits for signals)."""
        if self.filter is None:
            return 0.0
        if self.server_pid is None:
            # The Python peer is one process.
            self.server_pid = (self.filter.server() if isinstance(self.filter, mh.Milter)
                               else self.filter.child)
        with open(f"/proc/{self.server_pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self):
        before = len(self.stack.postfix.log_text())
        cpu = self.cpu_seconds()
        self.times.append(smtp_source(self.stack.postfix.port, MESSAGES))
        self.cpu.append(self.cpu_seconds() - cpu)
        text = self.stack.postfix.log_text()[before:]
        self.refused += len(re.findall(r"NOQUEUE: (?:milter-)?reject: RCPT", text))
        if self.discard:
            # Accepted mail is still being delivered (to discard:) after
            # smtp-source ends; let that finish before the next variant
            # runs, or it would slow that one down.
            harness.wait_for(lambda: not self.stack.postfix.queue_ids(), 300,
                             "the no-check queue to drain", interval=0.5)

    def rate(self):
        """Sessions/s of the median run."""
        return MESSAGES / sorted(self.times)[len(self.times) // 2]

    def __exit__(self, *exc):
        if self.filter is not None:
            self.filter.stop()
        return self.stack.__exit__(*exc)


def main():
    if os.geteuid() != 0:
        out("run-bench.py: needs root (Postfix's master starts as root)")
        return 77
    if not os.access(mh.MILTER, os.X_OK):
        out(f"run-bench.py: {mh.MILTER} not built (make first)")
        return 1
    peer_ok = subprocess.run([DEBIAN_PYTHON, "-c", "import Milter"],
                             capture_output=True).returncode == 0
    out(f"mailfruit-milter-tlsonly benchmark, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M')}")
    out(f"smtp-source -A -s {SESSIONS} -m {MESSAGES}, each message a new plaintext session "
        "refused at RCPT (accepted and discarded without a check)")
    variants = [
        ("builtin", "Postfix reject_plaintext_session", {"check": "reject_plaintext_session"}),
        ("milter", "mailfruit-milter-tlsonly", {"milter": "c"}),
        ("python", "python3-milter filter (same check)", {"milter": "python"}),
        ("nocheck", "no check (accepted, discarded)", {"discard": True}),
    ]
    wanted = set(os.environ.get("BENCH_VARIANTS", "builtin,milter,python,nocheck").split(","))
    variants = [v for v in variants if v[0] in wanted | {"builtin"}]
    if not peer_ok:
        out(f"python3-milter filter: skipped, python3-milter is not installed for {DEBIAN_PYTHON}")
        variants = [v for v in variants if v[0] != "python"]
    rates = {}
    with contextlib.ExitStack() as running:
        vs = [running.enter_context(Variant(name, label, **kw)) for name, label, kw in variants]
        # Rounds take turns, so that load from elsewhere on the machine
        # falls on every variant alike; each variant's median counts.
        for _ in range(ROUNDS):
            for v in vs:
                v.run()
    out(f"{ROUNDS} rounds; median run of each:")
    out(f"{'RCPT check':<36} {'time s':>7} {'sessions/s':>11} {'refused':>8} {'vs built-in':>12} "
        f"{'filter CPU us/session':>22}")
    cpu = {}
    for v in vs:
        rates[v.name] = v.rate()
        cpu[v.name] = sorted(v.cpu)[len(v.cpu) // 2] / MESSAGES * 1e6
        out(f"{v.label:<36} {MESSAGES / rates[v.name]:>7.2f} {rates[v.name]:>11.0f} "
            f"{v.refused // ROUNDS:>8} {rates[v.name] / rates['builtin']:>11.2f}x "
            f"{cpu[v.name]:>22.0f}" if v.filter else
            f"{v.label:<36} {MESSAGES / rates[v.name]:>7.2f} {rates[v.name]:>11.0f} "
            f"{v.refused // ROUNDS:>8} {rates[v.name] / rates['builtin']:>11.2f}x {'-':>22}")
    if "milter" in rates:
        out(f"target: milter >= 0.8 x built-in: {rates['milter'] / rates['builtin']:.2f}")
    if "python" in rates and "milter" in rates:
        out(f"target: milter >= 2 x python3-milter: {rates['milter'] / rates['python']:.2f} "
            f"(sessions/s); the filter's own CPU per session: python "
            f"{cpu['python'] / cpu['milter']:.1f} x the C filter's")
        out(f"ceiling: an infinitely fast filter is no faster than the built-in check: "
            f"{rates['builtin'] / rates['python']:.2f} x python3-milter in this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
