#!/usr/bin/env python3
"""mailfruit-policyd speaks the Postfix policy protocol exactly, in both modes.

Every row of decision-cases.txt goes through the daemon in spawn(8) mode and
in standalone mode, each config's rows on one persistent connection. Then
the protocol details (stages, request types, unknown and duplicate
attributes, pipelining, requests in pieces), every kind of bad input (the
daemon closes that connection without a reply and serves everyone else),
many connections at once, SIGHUP and SIGTERM, the privilege drop, and the
command line (-t, -h, usage errors). Spawn mode must never write to stderr.
"""
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decision_cases  # noqa: E402
import policyd_client as pc  # noqa: E402
from policyd_client import harness  # noqa: E402
from harness import log  # noqa: E402

tap = harness.TapRunner()
CONFIGS, ROWS = decision_cases.load()
NOBODY_UID = 65534

# A config for the tests below: hard reject, loopback not exempt (tests
# fake remote clients anyway), short timeouts for the slow-client cases.
BASE_CONF = """mode = reject
exempt_clients = 198.51.100.0/24
policyd_request_timeout = 1
policyd_socket_owner =
policyd_user = nobody
"""


def check_rows(ask, config_name):
    """Runs the table's rows of one config through ask(); returns failures."""
    failures = []
    for row in (r for r in ROWS if r.config == config_name):
        want = pc.expected_action(
            row, decision_cases.reply_text(CONFIGS[config_name], row.rule)) + "\n\n"
        got = ask(pc.row_request(row))
        if got != want:
            failures.append(f"row {row.id} (line {row.line}): want {want!r}, got {got!r}")
    return failures


def rule_logged(log_text, row):
    """Whether the daemon's -v log has the row's decision with its rule."""
    who = f"{row.name or 'unknown'}[{row.client or ''}]"
    return any(who in line and f"rule={row.rule}" in line and line.split(": ")[1].startswith(
        row.verdict) for line in log_text.splitlines())


def unix_socket(tmp):
    run = tmp.sub("run", mode=0o755, owner=("nobody", None))
    return os.path.join(run, "policy.sock")


def standalone(tmp, conf_text, extra=(), name="policyd"):
    sock = unix_socket(tmp)
    conf = pc.write_conf(tmp, conf_text + f"policyd_listen = unix:{sock}\n")
    daemon = pc.Standalone(tmp, conf, args=list(extra), name=name).start()
    return daemon, sock, conf


def finish_tmp(tmp, ok=True):
    reports = pc.sanitizer_reports(tmp)
    assert not reports, f"sanitizer reports: {reports}"
    found = pc.sanitizer_lines(tmp)
    assert not found, "sanitizer output in the daemon's log:\n" + "\n".join(found)
    tmp.keep = tmp.keep or not ok
    tmp.cleanup()


class TmpDir:
    """A TestDir that is kept when the test fails."""

    def __init__(self, name):
        self.tmp = harness.TestDir(name)

    def __enter__(self):
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.tmp.keep = os.environ.get("MF_KEEP_TMP") != "0"
            self.tmp.cleanup()
            return False
        finish_tmp(self.tmp)
        return False


@tap.test
def test_table_spawn():
    """spawn mode: every row of decision-cases.txt, one connection per config, no stderr"""
    with TmpDir("pd-table-spawn") as tmp:
        failures = []
        for name, text in CONFIGS.items():
            conf = pc.write_conf(tmp, text, f"{name}.conf")
            d = pc.Spawn(tmp, conf, args=["-v"], log_name=f"{name}.log")
            failures += check_rows(d.ask, name)
            rc, out, err = d.finish()
            assert (rc, out, err) == (0, b"", b""), f"config {name}: exit {rc}, {out!r}, {err!r}"
            with open(d.log) as f:
                logged = f.read()
            failures += [f"row {r.id}: decision not logged with rule {r.rule}"
                         for r in ROWS if r.config == name and not rule_logged(logged, r)]
        assert not failures, "\n".join(failures)
        log(f"{len(ROWS)} rows, {len(CONFIGS)} configs: daemon agrees with the table")


@tap.test
def test_table_standalone():
    """standalone: every row, one connection across all configs (SIGHUP keeps it open)"""
    with TmpDir("pd-table-standalone") as tmp:
        first = next(iter(CONFIGS))
        daemon, sock, conf = standalone(tmp, CONFIGS[first], extra=["-v"])
        try:
            conn = pc.Conn(sock)
            failures = []
            for n, (name, text) in enumerate(CONFIGS.items()):
                if name != first:
                    pc.write_conf(tmp, text + f"policyd_listen = unix:{sock}\n")
                    daemon.hup()
                    daemon.wait_log(rf"(?s)(reloaded.*){{{n}}}")
                failures += check_rows(conn.ask, name)
            assert not failures, "\n".join(failures)
            assert daemon.running(), "daemon died"
            conn.close()
        finally:
            assert daemon.stop() == 0, "daemon did not exit 0 on SIGTERM"


def check_details(client):
    """Protocol details on one connection (a pc.Spawn or pc.Conn)."""
    ask = client.ask
    plain = dict(client_address="192.0.2.10", encryption_protocol="")
    for state in ("CONNECT", "EHLO", "HELO", "MAIL", "VRFY", "ETRN", "END-OF-MESSAGE"):
        got = ask(pc.request(protocol_state=state, **plain))
        assert got == "action=DUNNO\n\n", f"{state}: {got!r}"
    got = ask(pc.request(protocol_state="DATA", **plain))
    assert got.startswith("action=550 5.7.1 "), f"DATA: {got!r}"
    got = ask(pc.request(request="junk_policy", **plain))
    assert got == "action=DUNNO\n\n", f"request=junk_policy: {got!r}"
    got = ask(pc.request(request=None, **plain))
    assert got == "action=DUNNO\n\n", f"no request attribute: {got!r}"
    # Postfix 3.8 adds attributes; anything unknown is ignored.
    got = ask(pc.request(**plain) [:-1] + b"compatibility_level=3.8.0\nmail_version=3.8.4\n"
              b"x-future=1\n\n")
    assert got.startswith("action=550 "), f"unknown attributes: {got!r}"
    # Two requests in one write: two replies, in order.
    client.send(pc.request(**plain) + pc.request(encryption_protocol="TLSv1.3"))
    first, second = client.reply(), client.reply()
    assert first.startswith("action=550 ") and second == "action=DUNNO\n\n", (first, second)
    # Exempt client, IPv6, v4-mapped.
    got = ask(pc.request(client_address="198.51.100.9", encryption_protocol=""))
    assert got == "action=DUNNO\n\n", repr(got)
    got = ask(pc.request(client_address="2001:db8::1", encryption_protocol=""))
    assert got.startswith("action=550 "), repr(got)
    got = ask(pc.request(client_address="::ffff:198.51.100.9", encryption_protocol=""))
    assert got == "action=DUNNO\n\n", repr(got)


def check_slow_but_in_time(client):
    """A request sent in 8 pieces over 0.7s of the 1s policyd_request_timeout
    is served (whole-second clocks cut it off whenever a second boundary
    passed between two pieces: 7 times in 10)."""
    req = pc.request(encryption_protocol="TLSv1.3")
    step = len(req) // 8 + 1
    for i in range(0, len(req), step):
        if i:
            time.sleep(0.1)
        client.send(req[i:i + step])
    assert client.reply() == "action=DUNNO\n\n", "a slow request within the timeout was cut"


@tap.test
def test_details_spawn():
    """spawn mode: stages, request types, unknown attributes, pipelining"""
    with TmpDir("pd-details-spawn") as tmp:
        d = pc.Spawn(tmp, pc.write_conf(tmp, BASE_CONF))
        check_details(d)
        # A request in pieces, with pauses shorter than the timeout.
        req = pc.request(encryption_protocol="TLSv1.3")
        for i in range(0, len(req), 100):
            d.send(req[i:i + 100])
            time.sleep(0.02)
        assert d.reply() == "action=DUNNO\n\n"
        check_slow_but_in_time(d)
        rc, out, err = d.finish()
        assert (rc, out, err) == (0, b"", b""), (rc, out, err)


@tap.test
def test_details_standalone():
    """standalone: the same details, plus a request in 1-byte pieces"""
    with TmpDir("pd-details-sa") as tmp:
        daemon, sock, _ = standalone(tmp, BASE_CONF)
        try:
            conn = pc.Conn(sock)
            check_details(conn)
            req = pc.request(encryption_protocol="TLSv1.3")
            for i in range(len(req)):
                conn.send(req[i:i + 1])
            assert conn.reply() == "action=DUNNO\n\n"
            check_slow_but_in_time(conn)
            conn.close()
        finally:
            assert daemon.stop() == 0


def big_request():
    """Over 64 KiB in 100 lines of 700 bytes: each line is fine, the whole is not."""
    lines = b"".join(b"x%d=%s\n" % (i, b"v" * 700) for i in range(100))
    return pc.request()[:-1] + lines + b"\n"


BAD_INPUTS = [
    # name, bytes, reason in the log
    ("request over 64 KiB", big_request(), "request too large"),
    ("1001 attributes", b"request=smtpd_access_policy\n" + b"a=b\n" * 1000 + b"\n",
     "too many attributes"),
    ("NUL byte", pc.request()[:40] + b"\0" + pc.request()[40:], "NUL byte in request"),
    ("overlong line", b"request=smtpd_access_policy\nsender=" + b"s" * 20000 + b"\n\n",
     "line too long"),
    ("garbage", b"GET / HTTP/1.0\r\nHost: example\r\n\r\n", "malformed attribute name"),
    ("line without '='", b"request=smtpd_access_policy\nhello\n\n", "line without '='"),
    ("empty request", b"\n", "empty request"),
]


@tap.test
def test_bad_input_spawn():
    """spawn mode: each kind of bad input -> logged, no reply, exit 76; slow client -> exit 75"""
    with TmpDir("pd-bad-spawn") as tmp:
        conf = pc.write_conf(tmp, BASE_CONF)
        for n, (name, data, reason) in enumerate(BAD_INPUTS):
            d = pc.Spawn(tmp, conf, log_name=f"bad{n}.log")
            # One good request first: it is answered, the bad one is not.
            assert d.ask(pc.request(encryption_protocol="TLSv1.3")) == "action=DUNNO\n\n"
            try:
                d.send(data)
            except BrokenPipeError:
                pass        # it may close before reading all of a big request
            rc, out, err = d.finish()
            assert (rc, out, err) == (pc.EX_PROTOCOL, b"", b""), f"{name}: {rc} {out!r} {err!r}"
            with open(d.log) as f:
                logged = f.read()
            assert f"bad request after 1 good ones: {reason}; closing" in logged, \
                f"{name}: log says {logged!r}"
            log(f"{name}: {logged.strip().splitlines()[-1]}")
        # A slow client: half a request, then nothing (timeout 1s).
        d = pc.Spawn(tmp, conf, log_name="slow.log")
        d.send(pc.request()[:100])
        started = time.monotonic()
        rc = d.proc.wait(timeout=10)
        rc2, out, err = d.finish()
        assert (rc, out, err) == (pc.EX_TEMPFAIL, b"", b""), (rc, out, err)
        with open(d.log) as f:
            assert "timeout: request incomplete after 1s (100 bytes)" in f.read()
        log(f"slow client dropped after {time.monotonic() - started:.1f}s")


@tap.test
def test_bad_input_standalone():
    """standalone: bad input and slow clients are dropped without a reply, others still served"""
    with TmpDir("pd-bad-sa") as tmp:
        daemon, sock, _ = standalone(tmp, BASE_CONF)
        try:
            witness = pc.Conn(sock)        # a persistent connection that must survive all
            assert witness.ask(pc.request()).startswith("action=550 ")
            for name, data, reason in BAD_INPUTS:
                bad = pc.Conn(sock)
                try:
                    bad.send(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                got = bad.read_all(timeout=10)
                bad.close()
                assert got == b"", f"{name}: got a reply {got[:80]!r}"
                daemon.wait_log(re.escape(f"bad request after 0 good ones: {reason}; closing"))
                assert witness.ask(pc.request(encryption_protocol="TLSv1.3")) == \
                    "action=DUNNO\n\n", f"witness not served after {name}"
            slow = pc.Conn(sock)
            slow.send(pc.request()[:100])
            started = time.monotonic()
            assert slow.read_all(timeout=10) == b"", "slow client got a reply"
            log(f"slow client dropped after {time.monotonic() - started:.1f}s")
            daemon.wait_log(r"timeout: request incomplete after 1s \(100 bytes\)")
            # A client that vanishes mid-request is logged, nothing else.
            gone = pc.Conn(sock)
            gone.send(pc.request()[:50])
            gone.close()
            daemon.wait_log(r"closed the connection in the middle of a request \(50 bytes\)")
            assert witness.ask(pc.request()).startswith("action=550 ")
            witness.close()
            assert daemon.running()
        finally:
            assert daemon.stop() == 0


@tap.test
def test_many_connections():
    """standalone: 2000 persistent connections at once, two lock-step requests each"""
    with TmpDir("pd-many") as tmp:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        daemon, sock, _ = standalone(tmp, BASE_CONF)
        conns = []
        try:
            for _ in range(2000):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                conns.append(s)
            plain, tls = pc.request(), pc.request(encryption_protocol="TLSv1.2")
            for want, req in (("action=550 ", plain), ("action=DUNNO", tls)):
                for s in conns:
                    s.sendall(req)
                bad = 0
                for s in conns:
                    s.settimeout(20)
                    got = pc.read_until_blank(lambda t, s=s: s.recv(4096), 20).decode()
                    bad += not got.startswith(want)
                assert bad == 0, f"{bad} of {len(conns)} connections got a wrong answer"
            log(f"2000 connections served; daemon RSS {daemon.rss_kb()} kB")
            assert daemon.running()
        finally:
            for s in conns:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            assert daemon.stop() == 0


@tap.test
def test_reload():
    """standalone: SIGHUP applies a new config to open connections; a broken one is refused"""
    with TmpDir("pd-reload") as tmp:
        daemon, sock, conf = standalone(tmp, BASE_CONF)
        try:
            conn = pc.Conn(sock)
            assert conn.ask(pc.request()).startswith("action=550 5.7.1 ")
            pc.write_conf(tmp, BASE_CONF.replace("mode = reject", "mode = defer") +
                          f"policyd_listen = unix:{sock}\n")
            daemon.hup()
            daemon.wait_log(r"reloaded .*mode=defer, 1 open connections kept")
            assert conn.ask(pc.request()).startswith("action=450 4.7.1 "), "not reloaded"
            pc.write_conf(tmp, "mode = defer\nexempt_clients = 300.1.1.1/8\n")
            daemon.hup()
            m = daemon.wait_log(r"warning: reload failed, keeping the previous configuration: "
                                r"\S+tls-policy.conf, line 2: exempt_clients: [^\n]*")
            log(f"policyd log: {m.group(0)}")
            assert conn.ask(pc.request()).startswith("action=450 4.7.1 "), "old config lost"
            pc.write_conf(tmp, BASE_CONF + f"policyd_listen = unix:{sock}.new\n")
            daemon.hup()
            daemon.wait_log(r"reload: policyd_listen changed; that takes effect only after a "
                            r"restart")
            assert conn.ask(pc.request()).startswith("action=550 5.7.1 ")
            conn.close()
        finally:
            assert daemon.stop() == 0


@tap.test
def test_privileges_and_stop():
    """standalone: runs as policyd_user, socket mode 0660, SIGTERM exits 0 and removes it"""
    with TmpDir("pd-priv") as tmp:
        daemon, sock, _ = standalone(tmp, BASE_CONF.replace("policyd_socket_owner =\n",
                                                            "policyd_socket_owner = nobody\n"))
        try:
            assert daemon.uid() == NOBODY_UID, f"daemon uid {daemon.uid()}"
            st = os.stat(sock)
            assert (st.st_mode & 0o777, st.st_uid) == (0o660, NOBODY_UID), oct(st.st_mode)
            assert pc.Conn(sock).ask(pc.request()).startswith("action=550 ")
        finally:
            status = daemon.stop()
        assert status == 0, f"exit status {status}"
        assert not os.path.exists(sock), "socket left behind"
        daemon.wait_log(r"terminating on signal 15")
        daemon.wait_log(r"stopped")


@tap.test
def test_endpoints():
    """standalone: inet endpoint, stale socket replaced, a live one refused (exit 69)"""
    with TmpDir("pd-endpoints") as tmp:
        port = harness.free_port()
        daemon = pc.Standalone(tmp, pc.write_conf(tmp, BASE_CONF),
                               args=["-l", f"inet:127.0.0.1:{port}"]).start()
        try:
            assert pc.Conn(port).ask(pc.request()).startswith("action=550 ")
        finally:
            assert daemon.stop() == 0
        sock = unix_socket(tmp)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(sock)
        stale.close()                  # a socket file nobody listens on
        daemon, sock, _ = standalone(tmp, BASE_CONF)
        try:
            assert pc.Conn(sock).ask(pc.request()).startswith("action=550 ")
            second = pc.Standalone(tmp, os.path.join(tmp.path, "tls-policy.conf"),
                                   log_name="second.log", name="second")
            try:
                second.start(wait_log=None)
            except RuntimeError as e:      # it may exit before its PID is seen
                log(f"second daemon: {str(e).splitlines()[0]}")
            status = second.proc.wait(10)
            assert status == pc.EX_UNAVAILABLE, f"second daemon exit {status}"
            assert "another process is listening there" in second.log_text()
            second.stop()               # already ended: collects its namespace
        finally:
            assert daemon.stop() == 0


def run_cli(tmp, *args):
    proc = subprocess.run([pc.install_binary(tmp)] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20, env=pc.sanitizer_env(tmp))
    return proc.returncode, proc.stdout, proc.stderr


@tap.test
def test_command_line():
    """-t, -h, usage errors (none on stderr in spawn mode), missing config"""
    with TmpDir("pd-cli") as tmp:
        good = pc.write_conf(tmp, BASE_CONF + "milter_add_header = yes\n", "good.conf")
        assert run_cli(tmp, "-t", "-c", good) == (0, "", "")
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "postfix-policy", "tls-policy.conf")
        assert run_cli(tmp, "-t", "-v", "-c", example) == (0, f"{example}: good, mode = reject\n",
                                                           ""), "the example file is refused"
        bad = pc.write_conf(tmp, "mode = reject\n\nexempt_recipients = <x@y>\n", "bad.conf")
        rc, out, err = run_cli(tmp, "-t", "-c", bad)
        assert rc == pc.EX_CONFIG and "bad.conf, line 3: exempt_recipients: bad entry" in err, err
        typo = pc.write_conf(tmp, "exempt_client = 10.0.0.0/8\n", "typo.conf")
        rc, out, err = run_cli(tmp, "-t", "-c", typo)
        assert rc == pc.EX_CONFIG and 'line 1: unknown parameter "exempt_client"' in err, err
        rc, out, err = run_cli(tmp, "-t", "-c", os.path.join(tmp.path, "missing.conf"))
        assert rc == pc.EX_CONFIG and "missing.conf" in err, err
        rc, out, err = run_cli(tmp, "--help")
        assert rc == 0 and "usage: mailfruit-policyd" in out and err == "", (rc, out, err)
        rc, out, err = run_cli(tmp, "-s", "-x")
        assert rc == pc.EX_USAGE and "usage:" in err, (rc, err)
        logfile = os.path.join(tmp.path, "spawn-usage.log")
        rc, out, err = run_cli(tmp, "-x", "-L", logfile)
        assert (rc, out, err) == (pc.EX_USAGE, "", ""), (rc, out, err)
        with open(logfile) as f:
            assert "bad option or missing argument: -x" in f.read()
        # Spawn mode with a broken config: logged, nothing on stdout or stderr.
        rc, out, err = run_cli(tmp, "-c", bad, "-L", logfile)
        assert (rc, out, err) == (pc.EX_CONFIG, "", ""), (rc, out, err)
        with open(logfile) as f:
            assert "fatal: " in f.read()


@tap.test
def test_idle_timeout_spawn():
    """spawn mode: an idle connection ends after policyd_idle_timeout, exit 0"""
    with TmpDir("pd-idle") as tmp:
        d = pc.Spawn(tmp, pc.write_conf(tmp, BASE_CONF + "policyd_idle_timeout = 1\n"), ["-v"])
        assert d.ask(pc.request()).startswith("action=550 ")
        assert d.proc.wait(timeout=10) == 0
        rc, out, err = d.finish()
        assert (out, err) == (b"", b""), (out, err)


if __name__ == "__main__":
    sys.exit(tap.run())
