"""userdb_fixture.py - drive the mailfruit CLI from tests, as an admin would.

Contract:
  * Db(path).run(*args, secrets=[...]) runs the built `mailfruit --db PATH`
    with the secrets written to a pipe whose read end is passed as
    --password-fd / --old-password-fd (never argv or the environment), in
    a new session so that no controlling terminal exists; returns
    (returncode, stdout, stderr).
  * Db.init(fast=True) creates the database; fast sets argon2 to libsodium's
    minimum cost so tests stay quick (tests about the default cost use
    fast=False).
  * Db.add_user(addr, password, ...) returns the recovery code (or None).
  * Tap: a minimal TAP runner for tests that need no root.
"""
import json
import os
import re
import subprocess
import sys
import traceback

BUILDDIR = os.environ.get("MF_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(BUILDDIR, "userdb", "mailfruit")
CODE_RE = re.compile(r"\b([0-9a-z]{5}(?:-[0-9a-z]{5}){3,5})\b")


class CliError(Exception):
    pass


class Db:
    def __init__(self, path):
        self.path = path
        # The Postfix maps database the CLI keeps next to users.db.
        self.maps_path = (path[:-3] if path.endswith(".db") else path) + "-maps.db"

    def run(self, *args, secrets=None, check=False, timeout=120, busy_ms=None, env=None):
        """(rc, out, err). Secrets go through one pipe; the caller puts the
        fd option(s) in args as "{fd}", which is replaced by the pipe's fd."""
        argv = [CLI, "--db", self.path]
        if busy_ms is not None:
            argv += ["--busy-timeout", str(busy_ms)]
        fds = ()
        rfd = None
        if secrets is not None:
            rfd, wfd = os.pipe()
            os.write(wfd, "".join(s + "\n" for s in secrets).encode())
            os.close(wfd)
            fds = (rfd,)
        argv += [a.replace("{fd}", str(rfd)) if isinstance(a, str) else a for a in args]
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, pass_fds=fds, timeout=timeout,
                               start_new_session=True, env=env)
        finally:
            if rfd is not None:
                os.close(rfd)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check and p.returncode != 0:
            raise CliError(f"mailfruit {' '.join(map(str, args))} exited {p.returncode}: {err}")
        return p.returncode, out, err

    def ok(self, *args, **kw):
        kw["check"] = True
        return self.run(*args, **kw)[1]

    def json(self, *args):
        return json.loads(self.ok("--json", *args))

    def init(self, fast=True, home_template=None, group=None):
        args = ["init"]
        if home_template:
            args += ["--home-template", home_template]
        if group:
            args += ["--group", group]
        self.ok(*args)
        if fast:
            self.ok("config", "set", "argon2_opslimit", "1")
            self.ok("config", "set", "argon2_memlimit", "8K")
        return self

    def add_user(self, addr, password, *opts):
        out = self.ok("user", "add", addr, "--password-fd", "{fd}", *opts, secrets=[password])
        m = CODE_RE.search(out)
        return m.group(1) if m else None

    def app_password(self, addr, secret, name=None):
        args = ["app-password", "add", addr, "--password-fd", "{fd}"]
        if name:
            args += ["--name", name]
        out = self.ok(*args, secrets=[secret])
        return CODE_RE.search(out).group(1)

    def passwd(self, addr, old, new):
        return self.run("user", "passwd", addr, "--old-password-fd", "{fd}",
                        "--password-fd", "{fd}", secrets=[old, new])


class Tap:
    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self):
        print(f"1..{len(self.tests)}", flush=True)
        for n, fn in enumerate(self.tests, 1):
            name = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
            try:
                fn()
            except Exception:
                print(f"not ok {n} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
            else:
                print(f"ok {n} - {name}", flush=True)
        return 0


def log(msg):
    print(f"# {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


sys.dont_write_bytecode = True
