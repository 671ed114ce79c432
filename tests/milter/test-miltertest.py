#!/usr/bin/env python3
"""mailfruit-milter-tlsonly through miltertest: the shared decision table and
what a table cannot show.

One filter process serves the whole table: each [config] of
tests/policy/decision-cases.txt is written to its file and loaded with
SIGHUP, then every row of it is one milter connection (conninfo with the
row's address, "unspec" when there is none;
MAIL; the row's macros at RCPT; RCPT). The filter negotiates HELO away and
logs one line per row with -v, so the rows' log lines come in row order.
A row passes when miltertest saw the reply class the table wants
(continue, or a custom reply for defer/reject), the filter logged the
table's verdict, reply and rule, and mailfruit-policyd, asked the same row
with the same file, gave the same answer ("one engine, one answer").
"""
import os
import re
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "policy"))
import decision_cases  # noqa: E402
import harness  # noqa: E402
import milter_helper as mh  # noqa: E402
import policyd_client as pc  # noqa: E402
from harness import log  # noqa: E402

tap = harness.TapRunner()
CONFIGS, ROWS = decision_cases.load()
NOBODY_UID = 65534


def milter_action(row, text):
    """What the filter logs as its action for a row."""
    if row.verdict == "pass":
        return "CONTINUE"
    if row.verdict == "warn":
        return f"WARN {text}"
    code, status = row.reply.split("/")
    return f"{code} {status} {text}"


def policyd_to_milter(action):
    """mailfruit-policyd's reply in the filter's words."""
    action = action.strip()
    assert action.startswith("action="), action
    action = action[len("action="):]
    if action == "DUNNO":
        return "CONTINUE"
    if action.startswith("WARN mailfruit TLS policy: "):
        return "WARN " + action[len("WARN mailfruit TLS policy: "):]
    return action


def row_script(sock, row):
    """Lua for one row: a connection of its own."""
    macros = []
    for name, value in (("{tls_version}", row.tls), ("{auth_authen}", row.sasl),
                        ("{daemon_name}", row.context), ("{daemon_port}", row.port)):
        if value is not None:
            macros += [mh.lua(name), mh.lua(value)]
    lines = [
        f"conn = open({mh.lua(sock)})",
        f"check(mt.conninfo(conn, {mh.lua(row.name or 'unknown')}, "
        f"{mh.lua(row.client or 'unspec')}), 'conninfo')",
        f"check(mt.mailfrom(conn, {mh.lua('<' + row.sender + '>')}), 'mail')",
    ]
    if macros:
        lines.append(f"check(mt.macro(conn, SMFIC_RCPT, {', '.join(macros)}), 'macro')")
    lines += [
        f"check(mt.rcptto(conn, {mh.lua('<' + row.rcpt + '>')}), 'rcpt')",
        f"mt.echo('ROW {row.id} ' .. string.char(mt.getreply(conn)))",
        "mt.disconnect(conn)",
    ]
    return "\n".join(lines) + "\n"


DECISION = re.compile(r"^\S+: (pass|warn|defer|reject): RCPT from ", re.M)


def decision_lines(log_text, after=0):
    """The filter's decision lines in log_text[after:], in order."""
    return [line for line in log_text[after:].splitlines() if DECISION.match(line)]


class Session:
    """A temp dir and one filter, checked for sanitizer output at the end."""

    def __init__(self, name, policy_text="", extra="", args=("-v",)):
        self.tmp = harness.TestDir(name)
        self.sock = os.path.join(self.tmp.path, "milter.sock")
        self.extra = extra
        self.conf = self.write(policy_text)
        self.milter = mh.Milter(self.tmp, self.conf, args=args)

    def write(self, policy_text, extra=None):
        text = mh.milter_conf(policy_text, self.sock, extra=self.extra if extra is None else extra)
        return self.tmp.write("tls-policy.conf", text)

    def __enter__(self):
        self.milter.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.milter.stop()
            bad = self.milter.sanitizer_lines()
            if exc_type is None:
                assert not bad, "sanitizer output:\n" + "\n".join(bad)
                assert not self.milter.leftover, f"processes left: {self.milter.leftover}"
        finally:
            if exc_type is not None or self.milter.sanitizer_lines():
                log("--- milter log (last 30 lines) ---")
                for line in self.milter.log_text().splitlines()[-30:]:
                    print(f"#   {line}", flush=True)
                self.tmp.keep = os.environ.get("MF_KEEP_TMP") != "0"
            self.tmp.cleanup()
        return False

    def miltertest(self, name, body, expect_rc=0):
        rc, out = mh.run_miltertest(self.tmp, name, mh.LUA_PRELUDE + body)
        assert rc == expect_rc, f"miltertest {name}: exit {rc}\n{out}"
        return out


def check_config(s, name):
    """All rows of one config; returns failure texts."""
    rows = [r for r in ROWS if r.config == name]
    before = len(s.milter.log_text())
    out = s.miltertest(f"table-{name}", "".join(row_script(s.sock, r) for r in rows))
    replies = dict(re.findall(r"^ROW (\S+) (.)$", out, re.M))
    spawn = pc.Spawn(s.tmp, s.conf, log_name=f"policyd-{name}.log")
    failures = []
    lines = harness.wait_for(lambda: len(decision_lines(s.milter.log_text(), before)) >= len(rows)
                             and decision_lines(s.milter.log_text(), before), 10,
                             "a log line for every row")
    if len(lines) != len(rows):
        failures.append(f"config {name}: {len(rows)} rows, {len(lines)} decisions logged")
    for row, line in zip(rows, lines):
        text = decision_cases.reply_text(CONFIGS[name], row.rule)
        want_reply = "c" if row.verdict in ("pass", "warn") else "y"
        want_action = milter_action(row, text)
        m = re.match(r"\S+: (\w+): RCPT from \S*: (.*?); from=.* rule=(\w+)", line)
        got = (replies.get(row.id), m.groups() if m else None)
        want = (want_reply, (row.verdict, want_action, row.rule))
        if got != want:
            failures.append(f"row {row.id} (line {row.line}): want {want}, got {got}\n  {line}")
        answer = policyd_to_milter(spawn.ask(pc.row_request(row)))
        if answer != (m.group(2) if m else None):
            failures.append(f"row {row.id}: mailfruit-policyd answers {answer!r}, "
                            f"the milter {m.group(2) if m else None!r}")
    rc, rest, err = spawn.finish()
    assert rc == 0, f"mailfruit-policyd exit {rc}: {err!r}"
    return failures


@tap.test
def test_decision_table():
    """decision table: every row through miltertest = the table = mailfruit-policyd"""
    with Session("milter-table", CONFIGS["default"]) as s:
        failures = []
        for n, name in enumerate(CONFIGS):
            if n > 0:
                s.write(CONFIGS[name])
                s.milter.reload()
            failures += check_config(s, name)
        assert not failures, "\n".join(failures)
        log(f"{len(ROWS)} rows in {len(CONFIGS)} configs: miltertest replies and the "
            "filter's log agree with the table and with mailfruit-policyd")


NEGOTIATION = """
conn = open(SOCK)
for _, step in ipairs({{"NOHDRS", SMFIP_NOHDRS}, {"NOEOH", SMFIP_NOEOH}, {"NOBODY", SMFIP_NOBODY},
                       {"NODATA", SMFIP_NODATA}, {"NOUNKNOWN", SMFIP_NOUNKNOWN},
                       {"NR_CONN", SMFIP_NR_CONN},
                       {"NR_MAIL", SMFIP_NR_MAIL}, {"NR_RCPT", SMFIP_NR_RCPT},
                       {"NR_HELO", SMFIP_NR_HELO},
                       {"NOCONNECT", SMFIP_NOCONNECT}, {"NOHELO", SMFIP_NOHELO},
                       {"NOMAIL", SMFIP_NOMAIL}, {"NORCPT", SMFIP_NORCPT}}) do
  mt.echo("OPT " .. step[1] .. " " .. tostring(mt.test_option(conn, step[2])))
end
mt.echo("ACT ADDHDRS " .. tostring(mt.test_action(conn, SMFIF_ADDHDRS)))
mt.echo("ACT SETSYMLIST " .. tostring(mt.test_action(conn, SMFIF_SETSYMLIST)))
mt.echo("ACT CHGBODY " .. tostring(mt.test_action(conn, SMFIF_CHGBODY)))
mt.disconnect(conn)
"""


def negotiated(s):
    out = s.miltertest("negotiate", NEGOTIATION.replace("SOCK", mh.lua(s.sock)))
    return dict(re.findall(r"^(?:OPT|ACT) (\w+) (\w+)$", out, re.M))


@tap.test
def test_negotiation():
    """negotiation: connection and envelope only, no reply to CONNECT/MAIL, header action only when configured"""
    with Session("milter-negotiate") as s:
        got = negotiated(s)
        want = {"NOHDRS": "true", "NOEOH": "true", "NOBODY": "true", "NODATA": "true",
                "NOUNKNOWN": "true", "NR_CONN": "true", "NR_HELO": "false", "NR_MAIL": "true",
                "NR_RCPT": "false", "NOCONNECT": "false", "NOHELO": "true", "NOMAIL": "false",
                "NORCPT": "false", "ADDHDRS": "false", "SETSYMLIST": "true", "CHGBODY": "false"}
        assert got == want, f"negotiated {got}, want {want}"
        s.write("", extra="milter_tls_header = X-Mailfruit-TLS\n")
        s.milter.reload()
        assert negotiated(s)["ADDHDRS"] == "true", "header configured, SMFIF_ADDHDRS not asked"


MACROS = """
-- {tls_version} only among the HELO-stage macros (Postfix's default lists,
-- for an MTA that ignores the filter's lists): still TLS at RCPT.
conn = open(SOCK)
check(mt.conninfo(conn, "mx.example.net", "192.0.2.10"), "conninfo")
check(mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_128_GCM_SHA256"), "macro")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.rcptto(conn, "<m-helo-stage@example.test>"), "rcpt")
mt.echo("CASE m-helo-stage " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
-- {auth_authen} at MAIL only.
conn = open(SOCK)
check(mt.conninfo(conn, "mx.example.net", "192.0.2.10"), "conninfo")
check(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice"), "macro")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.rcptto(conn, "<m-mail-stage@example.test>"), "rcpt")
mt.echo("CASE m-mail-stage " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
-- No address with CONNECT: {client_addr} at RCPT stands in (loopback).
conn = open(SOCK)
check(mt.conninfo(conn, "unknown", "unspec"), "conninfo")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.macro(conn, SMFIC_RCPT, "{client_addr}", "127.0.0.1"), "macro")
check(mt.rcptto(conn, "<m-client-macro@example.test>"), "rcpt")
mt.echo("CASE m-client-macro " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
-- hostaddr wins over {client_addr}: a remote client cannot claim loopback.
conn = open(SOCK)
check(mt.conninfo(conn, "mx.example.net", "192.0.2.10"), "conninfo")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.macro(conn, SMFIC_RCPT, "{client_addr}", "127.0.0.1"), "macro")
check(mt.rcptto(conn, "<m-hostaddr-wins@example.test>"), "rcpt")
mt.echo("CASE m-hostaddr-wins " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
-- Empty macros are as good as none: "" is no TLS, no login.
conn = open(SOCK)
check(mt.conninfo(conn, "mx.example.net", "2001:db8::99"), "conninfo")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.macro(conn, SMFIC_RCPT, "{tls_version}", "", "{auth_authen}", "", "{daemon_port}", ""), "macro")
check(mt.rcptto(conn, "<m-empty@example.test>"), "rcpt")
mt.echo("CASE m-empty " .. string.char(mt.getreply(conn)))
-- Same connection, second message with TLS now known.
check(mt.mailfrom(conn, "<b@example.net>"), "mail 2")
check(mt.macro(conn, SMFIC_RCPT, "{tls_version}", "TLSv1.2"), "macro 2")
check(mt.rcptto(conn, "<m-second-message@example.test>"), "rcpt 2")
mt.echo("CASE m-second-message " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
"""


@tap.test
def test_macros():
    """missing and moved macros: HELO/MAIL-stage TLS and SASL, {client_addr} fallback, empty values"""
    with Session("milter-macros") as s:
        out = s.miltertest("macros", MACROS.replace("SOCK", mh.lua(s.sock)))
        got = dict(re.findall(r"^CASE (\S+) (.)$", out, re.M))
        want = {"m-helo-stage": "c", "m-mail-stage": "c", "m-client-macro": "c",
                "m-hostaddr-wins": "y", "m-empty": "y", "m-second-message": "c"}
        assert got == want, f"replies {got}, want {want}\n{out}"
        text = s.milter.log_text()
        for case, rule in (("m-helo-stage", "tls"), ("m-mail-stage", "authenticated"),
                           ("m-client-macro", r"client_address\(127\.0\.0\.0/8\)"),
                           ("m-hostaddr-wins", "plaintext"), ("m-empty", "plaintext"),
                           ("m-second-message", "tls")):
            assert re.search(rf"to=<{case}@example\.test> [^\n]*rule={rule}$", text, re.M), \
                f"{case}: no log line with rule={rule}"
        assert re.search(r"reject: RCPT from mx\.example\.net\[2001:db8::99\]: 550 5\.7\.1 ", text)


HEADER = """
conn = open(SOCK)
check(mt.conninfo(conn, "mx.example.net", "192.0.2.10"), "conninfo")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.macro(conn, SMFIC_RCPT, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256"), "macro")
check(mt.rcptto(conn, "<h-tls@example.test>"), "rcpt")
check(mt.eom(conn), "eom")
mt.echo("HDR h-tls " .. tostring(mt.getheader(conn, "X-Mailfruit-TLS", 0)))
mt.disconnect(conn)
conn = open(SOCK)
check(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
check(mt.mailfrom(conn, "<a@example.net>"), "mail")
check(mt.rcptto(conn, "<h-plain@example.test>"), "rcpt")
check(mt.eom(conn), "eom")
mt.echo("HDR h-plain " .. tostring(mt.getheader(conn, "X-Mailfruit-TLS", 0)))
mt.disconnect(conn)
"""


@tap.test
def test_tls_header():
    """milter_tls_header: added at end of message with protocol and cipher; "none" for exempt plaintext"""
    with Session("milter-header", extra="milter_tls_header = X-Mailfruit-TLS\n") as s:
        out = s.miltertest("header", HEADER.replace("SOCK", mh.lua(s.sock)))
        got = dict(re.findall(r"^HDR (\S+) (.*)$", out, re.M))
        assert got == {"h-tls": "TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256",
                       "h-plain": "none"}, out


RELOAD_OPEN = """
old = open(SOCK)
check(mt.conninfo(old, "mx.example.net", "192.0.2.10"), "conninfo")
os.execute("kill -HUP PID")
os.execute("for i in $(seq 100); do grep -q reloaded LOG && break; sleep 0.05; done")
new = open(SOCK)
check(mt.conninfo(new, "mx.example.net", "192.0.2.10"), "conninfo")
check(mt.mailfrom(new, "<a@example.net>"), "mail")
check(mt.rcptto(new, "<r-new@example.test>"), "rcpt")
mt.echo("CASE r-new " .. string.char(mt.getreply(new)))
check(mt.mailfrom(old, "<a@example.net>"), "mail")
check(mt.rcptto(old, "<r-old@example.test>"), "rcpt")
mt.echo("CASE r-old " .. string.char(mt.getreply(old)))
mt.disconnect(new)
mt.disconnect(old)
"""


@tap.test
def test_reload():
    """SIGHUP: new connections get the new file, open ones keep theirs; a bad file changes nothing"""
    with Session("milter-reload", "mode = reject\n") as s:
        s.write("mode = off\n")
        script = (RELOAD_OPEN.replace("SOCK", mh.lua(s.sock)).replace("PID", str(s.milter.child))
                  .replace("LOG", s.milter.console))
        out = s.miltertest("reload-open", script)
        got = dict(re.findall(r"^CASE (\S+) (.)$", out, re.M))
        assert got == {"r-new": "c", "r-old": "y"}, out
        assert re.search(r"to=<r-new@example\.test> [^\n]*rule=mode_off", s.milter.log_text())
        # A broken file: the filter keeps the running configuration.
        s.write("mode = reject\nexempt_clients = 300.1.2.3\n")
        s.milter.reload(expect=r"reload failed, keeping the previous configuration: "
                               r"\S+, line \d+: exempt_clients")
        out = s.miltertest("after-bad", row_script(s.sock, ROWS[0]))
        assert f"ROW {ROWS[0].id} c" in out, f"mode=off no longer in force:\n{out}"
        # A burst of SIGHUPs: none stops the filter (libmilter's own
        # signal thread would take SIGHUP as "stop"); test_reload_storm
        # has many more.
        before = len(s.milter.log_text())
        s.write("mode = reject\n")
        for _ in range(30):
            s.milter.signal(signal.SIGHUP)
        s.milter.wait_log(r"reloaded \S+: mode=reject", after=before)
        assert s.milter.running(), "the filter stopped on SIGHUP"
        out = s.miltertest("after-burst", row_script(s.sock, ROWS[0]))
        assert f"ROW {ROWS[0].id} y" in out, out


STORM_CONNECTIONS = 600
STORM_BURST = 25


def storm_script(sock, n, pid):
    """n connections one after the other, each a plaintext RCPT from a
    remote client: "y" under mode=reject, "c" under mode=off; a burst of
    SIGHUPs to pid after every 20th (on top of the test's own)."""
    burst = f'os.execute("for i in $(seq {STORM_BURST}); do kill -HUP {pid}; done")\n'
    return "".join(f"""
conn = open({mh.lua(sock)})
check(mt.conninfo(conn, "mx.example.net", "192.0.2.10"), "conninfo {i}")
check(mt.mailfrom(conn, "<a@example.net>"), "mail {i}")
{burst if i % 20 == 10 else ""}check(mt.rcptto(conn, "<storm-{i}@example.test>"), "rcpt {i}")
mt.echo("STORM {i} " .. string.char(mt.getreply(conn)))
mt.disconnect(conn)
""" for i in range(n))


@tap.test
def test_reload_storm():
    """SIGHUP bursts during hundreds of connections: none refused or cut, the filter keeps its pid, the last file wins"""
    with Session("milter-storm", "mode = reject\n") as s:
        supervisor = s.milter.child
        # The server logged "started": it is there (checked at the end,
        # so that the storm is tried whatever the process layout).
        server = s.milter._children(supervisor)
        stop = threading.Event()
        bursts = [0]

        def storm():
            modes = ("mode = off\n", "mode = reject\n")
            while not stop.is_set():
                s.write(modes[bursts[0] % 2])
                for _ in range(STORM_BURST):
                    s.milter.signal(signal.SIGHUP)
                bursts[0] += 1
                time.sleep(0.005)

        thread = threading.Thread(target=storm)
        thread.start()
        try:
            rc, out = mh.run_miltertest(s.tmp, "storm", mh.LUA_PRELUDE +
                                        storm_script(s.sock, STORM_CONNECTIONS, supervisor))
        finally:
            stop.set()
            thread.join()
        replies = re.findall(r"^STORM (\d+) (.)$", out, re.M)
        assert rc == 0 and len(replies) == STORM_CONNECTIONS, \
            f"miltertest exit {rc}, {len(replies)} of {STORM_CONNECTIONS} answered\n{out[-2000:]}"
        assert {r for _, r in replies} <= {"y", "c"}, out
        reloads = s.milter.log_text().count("reloaded ")
        log(f"{STORM_CONNECTIONS} connections answered during {bursts[0]} + "
            f"{STORM_CONNECTIONS // 20} bursts of {STORM_BURST} SIGHUPs ({reloads} reloads)")
        # After the storm, a changed file and one more burst: in force.
        for mode, reply in (("off", "c"), ("reject", "y")):
            before = len(s.milter.log_text())
            s.write(f"mode = {mode}\n")
            for _ in range(STORM_BURST):
                s.milter.signal(signal.SIGHUP)
            s.milter.wait_log(rf"reloaded \S+: mode={mode}", after=before)
            out = s.miltertest(f"after-storm-{mode}", row_script(s.sock, ROWS[0]))
            assert f"ROW {ROWS[0].id} {reply}" in out, out
        assert s.milter.running() and s.milter.child == supervisor
        assert len(server) == 1, f"children of the supervisor: {server}"
        assert s.milter._children(supervisor) == server, "the server process changed"
        assert "stopped" not in s.milter.log_text()
        # A SIGHUP sent to the server itself (not through the supervisor)
        # is ignored there, never libmilter's "stop".
        for _ in range(STORM_BURST):
            os.kill(server[0], signal.SIGHUP)
        out = s.miltertest("after-direct-hup", row_script(s.sock, ROWS[0]))
        assert f"ROW {ROWS[0].id} y" in out, out


@tap.test
def test_server_killed():
    """the server killed by a signal: the supervisor logs it and exits 70 (EX_SOFTWARE), the socket refuses"""
    with Session("milter-killed", "mode = reject\n") as s:
        server = harness.wait_for(lambda: s.milter._children(s.milter.child), 10,
                                  "server process")
        assert len(server) == 1, f"children of the supervisor: {server}"
        assert s.milter.uid() == NOBODY_UID and mh.uid_of(server[0]) == NOBODY_UID
        os.kill(server[0], signal.SIGKILL)
        rc = s.milter.wait(10)
        assert rc == mh.EX_SOFTWARE, f"supervisor exit {rc}, want {mh.EX_SOFTWARE}"
        assert re.search(rf"^\S+: error: server process \d+ was killed by signal 9 "
                         rf"\(Killed\); exiting with status 70", s.milter.log_text(), re.M), \
            s.milter.log_text()
        rc, out = mh.run_miltertest(s.tmp, "after-kill",
                                    mh.LUA_PRELUDE + row_script(s.sock, ROWS[0]))
        assert rc != 0, f"the dead filter's socket answered: {out}"


@tap.test
def test_privileges_and_stop():
    """runs as milter_user with the socket's mode; SIGTERM stops it with exit 0"""
    with Session("milter-privs", "mode = reject\n", extra="milter_socket_mode = 0660\n"
                 "milter_socket_owner = postfix\n") as s:
        assert s.milter.uid() == NOBODY_UID, f"uid {s.milter.uid()}"
        st = os.stat(s.sock)
        assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
        import pwd
        assert st.st_uid == pwd.getpwnam("postfix").pw_uid, st.st_uid
        # A second filter on the same live socket must not steal it.
        # (It exits before serving: run it directly, with a time limit.)
        rc, out = run_cli(s.tmp, "-e", "-c", s.conf)
        assert rc == mh.EX_UNAVAILABLE and "another process is listening there" in out, \
            f"second instance: exit {rc}: {out}"
        assert s.milter.stop() == 0
        assert re.search(r"stopped$", s.milter.log_text(), re.M)
        # A stale socket (nobody listens) is replaced at the next start.
        again = mh.Milter(s.tmp, s.conf, name="again").start()
        assert again.stop() == 0


def ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def negotiate_raw(family, addr, timeout=10):
    """Milter option negotiation by hand (miltertest cannot connect over
    IPv6): SMFIC_OPTNEG with version 6, all actions and steps; returns the
    reply's command byte and version."""
    import socket
    import struct
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(addr)
        body = b"O" + struct.pack(">III", 6, 0x1ff, 0x1fffff)
        sock.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data[4:5], struct.unpack(">I", data[5:9])[0] if len(data) >= 9 else None


@tap.test
def test_inet_endpoints():
    """inet:127.0.0.1:port and inet:[::1]:port (-l): the filter answers there"""
    import socket
    with Session("milter-inet") as s:
        port = harness.free_port()
        m = m4 = mh.Milter(s.tmp, s.conf, args=["-v", "-l", f"inet:127.0.0.1:{port}"],
                           name="inet4").start()
        try:
            out = s.miltertest("inet4", row_script(f"inet:{port}@127.0.0.1", ROWS[0]))
            assert f"ROW {ROWS[0].id} y" in out, out
            assert f"listening on inet:127.0.0.1:{port}" in m.log_text()
        finally:
            assert m.stop() == 0
        assert not m4.sanitizer_lines(), "\n".join(m4.sanitizer_lines())
        if not ipv6_loopback():
            log("no IPv6 loopback here: inet:[::1] not tried")
            return
        port = harness.free_port()
        m = mh.Milter(s.tmp, s.conf, args=["-v", "-l", f"inet:[::1]:{port}"],
                      name="inet6").start()
        try:
            assert negotiate_raw(socket.AF_INET6, ("::1", port)) == (b"O", 6)
        finally:
            assert m.stop() == 0
        assert not m.sanitizer_lines(), "\n".join(m.sanitizer_lines())

def run_cli(tmp, *args):
    proc = harness.run([mh.MILTER] + list(args), check=False, timeout=20)
    return proc.returncode, proc.stdout


@tap.test
def test_command_line():
    """-h, -t, -v, bad options and files: sysexits codes and clear messages"""
    tmp = harness.TestDir("milter-cli")
    try:
        good = tmp.write("good.conf", "mode = defer\nmilter_listen = inet:[::1]:10041\n")
        bad = tmp.write("bad.conf", "mode = defer\nmilter_lissen = unix:/x\n")
        rc, out = run_cli(tmp, "--help")
        assert rc == 0 and "usage: mailfruit-milter-tlsonly" in out, out
        rc, out = run_cli(tmp, "-t", "-v", "-c", good)
        assert rc == 0 and "good, mode = defer, listen = inet:[::1]:10041" in out, out
        rc, out = run_cli(tmp, "-t", "-c", bad)
        assert rc == mh.EX_CONFIG and "line 2: unknown parameter \"milter_lissen\"" in out, out
        rc, out = run_cli(tmp, "-t", "-c", os.path.join(tmp.path, "missing.conf"))
        assert rc == mh.EX_CONFIG and "missing.conf" in out, out
        rc, out = run_cli(tmp, "-t", "-c", good, "-l", "inet:nowhere")
        assert rc == mh.EX_CONFIG and "expected a port number" in out, out
        rc, out = run_cli(tmp, "-x")
        assert rc == mh.EX_USAGE and "usage:" in out, out
        rc, out = run_cli(tmp, "-t", "extra")
        assert rc == mh.EX_USAGE and "unexpected argument: extra" in out, out
        notsock = tmp.write("plain-file", "not a socket\n")
        conf = tmp.write("f.conf", f"milter_listen = unix:{notsock}\nmilter_socket_owner =\n")
        rc, out = run_cli(tmp, "-e", "-c", conf)
        assert rc == mh.EX_CANTCREAT and "is not a socket" in out, out
        with open(notsock) as f:
            assert f.read() == "not a socket\n", "the file was touched"
    finally:
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(tap.run())
