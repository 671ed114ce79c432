"""milter_helper.py - run mailfruit-milter-tlsonly for a test and read its log.

  Milter(tmp, conf)   the filter (-e -v -c conf) in its own PID namespace
                      (harness.NamespacedProcess), so it dies with the test
                      even after it has switched to another user; its
                      stderr log is the namespace's console file; .child
                      is the supervisor process, .server() the libmilter
                      server it forked
  milter_conf(...)    tls-policy.conf text plus the milter's socket lines
  run_miltertest(...) runs a Lua script, returns (exit status, stdout)
"""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
import tls_common as tc  # noqa: E402

MILTER = os.path.join(harness.BUILDDIR, "milter-tlsonly", "mailfruit-milter-tlsonly")
EX_USAGE, EX_UNAVAILABLE, EX_SOFTWARE, EX_CANTCREAT, EX_CONFIG = 64, 69, 70, 73, 78


def uid_of(pid):
    """The real uid of a process."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))


def milter_conf(policy_text, sock, owner="", mode="0666", extra=""):
    return (policy_text.rstrip("\n") + "\n" +
            f"milter_listen = unix:{sock}\n"
            f"milter_socket_owner = {owner}\n"
            f"milter_socket_mode = {mode}\n" + extra)


class Milter(tc.LoggedDaemon, harness.NamespacedProcess):
    """The filter under test; log_text() is what it wrote to stderr."""

    LOG_NAME = "milter log"

    def __init__(self, tmp, conf, args=("-v",), name="milter"):
        super().__init__(tmp, name, [MILTER, "-e", "-c", conf] + list(args))

    def log_text(self):
        return self.console_text()

    def server(self):
        """The PID of the libmilter server process, the supervisor's
        (self.child's) only child."""
        return harness.wait_for(lambda: self._children(self.child), 10, "server process")[0]

    def reload(self, expect=r"reloaded "):
        """SIGHUP; waits for the next reload line (or `expect`)."""
        before = len(self.log_text())
        self.signal(signal.SIGHUP)
        return self.wait_log(expect, after=before)

    def sanitizer_lines(self):
        return [line for line in self.log_text().splitlines()
                if "Sanitizer" in line or "runtime error:" in line]


def run_miltertest(tmp, name, script, timeout=120):
    path = tmp.write(f"{name}.lua", script)
    proc = subprocess.run(["miltertest", "-s", path], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def lua(s):
    """A Lua string literal (the values here are ASCII)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


LUA_PRELUDE = """
function check(err, what)
  if err ~= nil then mt.echo("FAIL " .. what .. ": " .. tostring(err)); error(what) end
end
function open(sock)
  local conn = mt.connect(sock, 40, 0.05)
  if conn == nil then mt.echo("FAIL connect " .. sock); error("connect") end
  return conn
end
"""
