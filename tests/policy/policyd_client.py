"""policyd_client.py - run mailfruit-policyd in either mode and talk to it.

Test helpers shared by test-protocol.py and the end-to-end tests:
  Spawn(tmp, conf)        the daemon on a pipe pair, as spawn(8) runs it
  Standalone(tmp, conf)   the daemon with -s in its own PID namespace
                          (harness.NamespacedProcess), so it dies with the
                          test even after it has switched to another user
  Conn(path_or_port)      one persistent client connection
  request(**attrs)        the bytes of a request as Postfix 3.7 sends them
Sanitizer reports of the daemon go to files in the test's temp dir
(ASAN_OPTIONS/UBSAN_OPTIONS log_path) and sanitizer_reports() lists them;
a spawn-mode daemon has no stderr to write them to.
"""
import glob
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import tls_common as tc  # noqa: E402

POLICYD = os.path.join(harness.BUILDDIR, "postfix-policy", "mailfruit-policyd")
EX_USAGE, EX_UNAVAILABLE, EX_TEMPFAIL, EX_PROTOCOL, EX_CONFIG = 64, 69, 75, 76, 78

# The attributes Postfix 3.7.11 sends at RCPT, in its order (plaintext).
POSTFIX_ATTRS = [
    ("request", "smtpd_access_policy"), ("protocol_state", "RCPT"), ("protocol_name", "ESMTP"),
    ("client_address", "192.0.2.10"), ("client_name", "mx.example.net"), ("client_port", "59800"),
    ("reverse_client_name", "mx.example.net"), ("server_address", "127.0.0.1"),
    ("server_port", "25"), ("helo_name", "mx.example.net"), ("sender", "a@example.net"),
    ("recipient", "alice@example.test"), ("recipient_count", "0"), ("queue_id", ""),
    ("instance", "2400.6b0225e7.df15f.0"), ("size", "0"), ("etrn_domain", ""), ("stress", ""),
    ("sasl_method", ""), ("sasl_username", ""), ("sasl_sender", ""), ("ccert_subject", ""),
    ("ccert_issuer", ""), ("ccert_fingerprint", ""), ("ccert_pubkey_fingerprint", ""),
    ("encryption_protocol", ""), ("encryption_cipher", ""), ("encryption_keysize", "0"),
    ("policy_context", ""),
]


def request(**attrs):
    """A request as bytes; attrs override Postfix's values, None leaves one out."""
    values = dict(POSTFIX_ATTRS)
    values.update(attrs)
    if values.get("encryption_protocol") and "encryption_cipher" not in attrs:
        values["encryption_cipher"] = "TLS_AES_256_GCM_SHA384"
        values["encryption_keysize"] = "256"
    return ("".join(f"{k}={v}\n" for k, v in values.items() if v is not None) + "\n").encode()


def row_request(row):
    """The request for a row of decision-cases.txt."""
    return request(client_address=row.client, client_name=row.name,
                   reverse_client_name=row.name, sasl_username=row.sasl or "",
                   sasl_method="PLAIN" if row.sasl else "", policy_context=row.context or "",
                   server_port=row.port, encryption_protocol=row.tls or "",
                   sender=row.sender, recipient=row.rcpt)


def expected_action(row, text):
    """What the daemon must answer for a row; text is the config's reply text."""
    if row.verdict == "pass":
        return "action=DUNNO"
    if row.verdict == "warn":
        return f"action=WARN mailfruit TLS policy: {text}"
    code, status = row.reply.split("/")
    return f"action={code} {status} {text}"


def sanitizer_env(tmp):
    env = dict(os.environ)
    reports = os.path.join(tmp.path, "sanitizer-report")
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        opts = env.get(var, "")
        env[var] = (opts + ":" if opts else "") + f"log_path={reports}"
    return env


def sanitizer_reports(tmp):
    return glob.glob(os.path.join(tmp.path, "sanitizer-report*"))


def sanitizer_lines(tmp):
    """Sanitizer output in the daemon's -L log files (in spawn mode the
    daemon's stderr goes there, and UBSan ignores log_path)."""
    found = []
    for path in glob.glob(os.path.join(tmp.path, "*.log")):
        with open(path, errors="replace") as f:
            found += [f"{os.path.basename(path)}: {line.rstrip()}" for line in f
                      if "runtime error:" in line or "Sanitizer" in line]
    return found


def install_binary(tmp):
    """A copy of the daemon in the temp dir: readable by the unprivileged
    user, and a rebuild cannot change a running test."""
    path = os.path.join(tmp.path, "mailfruit-policyd")
    if not os.path.exists(path):
        shutil.copy2(POLICYD, path)
        os.chmod(path, 0o755)
    return path


def write_conf(tmp, text, name="tls-policy.conf"):
    return tmp.write(name, text, mode=0o644)


def read_until_blank(read, timeout=10):
    """Reads one reply (up to and including the empty line) with read(timeout_left)."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete reply in {timeout}s, got {data!r}")
        chunk = read(left)
        if not chunk:
            raise EOFError(f"connection closed after {data!r}")
        data += chunk
    return data


class Replies:
    """One reply at a time from a byte stream; replies that arrived together wait."""

    def __init__(self):
        self._pending = b""

    def reply(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply in {timeout}s, got {self._pending!r}")
            chunk = self._read(left)
            if not chunk:
                raise EOFError(f"connection closed after {self._pending!r}")
            self._pending += chunk
        reply, _, self._pending = self._pending.partition(b"\n\n")
        return (reply + b"\n\n").decode()

    def ask(self, data, timeout=10):
        self.send(data)
        return self.reply(timeout)


class Spawn(Replies):
    """mailfruit-policyd as spawn(8) runs it: stdin/stdout, stderr watched."""

    def __init__(self, tmp, conf, args=(), log_name="policyd.log"):
        super().__init__()
        self.log = os.path.join(tmp.path, log_name)
        argv = [install_binary(tmp), "-c", conf, "-L", self.log] + list(args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=sanitizer_env(tmp),
                                     preexec_fn=harness._die_with_parent)

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read(self, timeout):
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 65536) if ready else b""

    def finish(self, timeout=10):
        """Closes stdin; returns (exit status, remaining stdout, stderr)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return rc, self._pending + self.proc.stdout.read(), self.proc.stderr.read()


class Conn(Replies):
    """A persistent client connection to a unix socket path or a TCP port."""

    def __init__(self, where, timeout=10):
        super().__init__()
        if isinstance(where, int):
            self.sock = socket.create_connection(("127.0.0.1", where), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(where)

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no reply") from None

    def send(self, data):
        self.sock.sendall(data)

    def read_all(self, timeout=10):
        """Everything until the daemon closes; raises TimeoutError if it does not."""
        data = b""
        self.sock.settimeout(timeout)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"connection still open after {timeout}s ({data[:80]!r})")
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self):
        self.sock.close()


class Standalone(tc.LoggedDaemon, harness.NamespacedProcess):
    """mailfruit-policyd -s, tied to the test by its own PID namespace."""

    LOG_NAME = "policyd log"

    def __init__(self, tmp, conf, args=(), log_name="policyd.log", name="policyd"):
        self.log = os.path.join(tmp.path, log_name)
        argv = [install_binary(tmp), "-s", "-c", conf, "-L", self.log] + list(args)
        super().__init__(tmp, name, argv)
        self.env = sanitizer_env(tmp)

    def _spawn(self):
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            super()._spawn()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def rss_kb(self):
        with open(f"/proc/{self.child}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def hup(self):
        self.signal(signal.SIGHUP)
