#!/usr/bin/env python3
"""What the private users.db with a separate Postfix maps database costs,
measured side by side against an older build (issue 12, item 3).

    cli-cost.py OLD_BUILDDIR NEW_BUILDDIR [MAILBOXES]

Each build gets its own database with MAILBOXES mailboxes (imported from a
passwd-file, default 10000) and minimal argon2 cost, so the CLI's own
overhead shows. Rounds alternate between the builds; medians are printed
with the ratio new/old:
  * 'alias add' and 'user add' (one process each, as an admin runs them),
  * a map lookup in-process with SQLite (the Postfix map's query on the
    file it reads: users.db before, users-maps.db's views now),
  * 'postmap -q' on the alias map (a process per lookup, as Postfix's
    proxymap does it once per connection).
Run as root from builds without sanitizers. Nothing outside a temp dir.
"""
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

SHA512 = "{SHA512-CRYPT}$6$abcdefgh$" + "x" * 86


def cli(build, db, *args, secret=None):
    argv = [os.path.join(build, "userdb", "mailfruit"), "--db", db] + list(args)
    fds = ()
    if secret is not None:
        r, w = os.pipe()
        os.write(w, (secret + "\n").encode())
        os.close(w)
        fds = (r,)
        argv = [a.replace("{fd}", str(r)) for a in argv]
    try:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, pass_fds=fds)
    finally:
        for fd in fds:
            os.close(fd)


class Setup:
    def __init__(self, name, build, tmp, n):
        self.name, self.build = name, build
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "users.db")
        self.maps = os.path.join(self.dir, "users-maps.db")
        self.new = None
        cli(build, self.db, "init", "--group", "postfix", "--home-template",
            os.path.join(self.dir, "homes", "%d", "%n"))
        cli(build, self.db, "config", "set", "argon2_opslimit", "1")
        cli(build, self.db, "config", "set", "argon2_memlimit", "8K")
        cli(build, self.db, "domain", "add", "example.org")
        src = os.path.join(self.dir, "import.passwd")
        with open(src, "w") as f:
            for i in range(n):
                f.write(f"user{i}@example.org:{SHA512}\n")
        cli(build, self.db, "import", "passwd-file", "--from", src)
        self.new = os.path.exists(self.maps)
        src_dir = os.path.join(build, "..", "userdb", "postfix")
        if not os.path.isdir(src_dir):
            src_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                   "userdb", "postfix")
        with open(os.path.join(src_dir, "mailfruit-aliases.cf")) as f:
            text = f.read()
        # Each build's own map file, pointed at its own database.
        for line in text.splitlines():
            if line.startswith("dbpath"):
                text = text.replace(line, f"dbpath = {self.maps if self.new else self.db}")
        self.cf = os.path.join(self.dir, "aliases.cf")
        with open(self.cf, "w") as f:
            f.write(text)
        self.query = " ".join(l.strip() for l in text.splitlines()
                              if not l.startswith(("#", "dbpath"))).replace("query = ", "")
        self.count = 0

    def alias_add(self):
        self.count += 1
        cli(self.build, self.db, "alias", "add", f"a{self.count}@example.org",
            "user1@example.org")

    def user_add(self):
        self.count += 1
        cli(self.build, self.db, "user", "add", f"new{self.count}@example.org",
            "--no-recovery-code", "--password-fd", "{fd}", secret="long enough pw")

    def lookups(self, n=2000):
        path = self.maps if self.new else self.db
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        t0 = time.perf_counter()
        for i in range(n):
            key = f"user{i * 7 % 5000}@example.org".replace("'", "''")
            con.execute(self.query.replace("%s", key)).fetchall()
        took = (time.perf_counter() - t0) / n
        con.close()
        return took

    def postmap(self):
        subprocess.run(["runuser", "-u", "postfix", "--", "postmap", "-q", "user3@example.org",
                        f"sqlite:{self.cf}"], check=True, stdout=subprocess.DEVNULL)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    tmp = tempfile.mkdtemp(prefix="mf-cli-cost-")
    os.chmod(tmp, 0o755)
    try:
        old = Setup("old", os.path.abspath(sys.argv[1]), tmp, n)
        new = Setup("new", os.path.abspath(sys.argv[2]), tmp, n)
        assert new.new and not old.new, "the NEW build must write users-maps.db, OLD not"
        results = {}
        for what, fn, rounds in (("alias add (process)", lambda s: timed(s.alias_add), 15),
                                 ("user add (process, argon2 minimal)",
                                  lambda s: timed(s.user_add), 15),
                                 ("map lookup in-process", lambda s: s.lookups(), 5),
                                 ("postmap -q (process)", lambda s: timed(s.postmap), 15)):
            for r in range(rounds):
                for s in ((old, new) if r % 2 == 0 else (new, old)):
                    results.setdefault((what, s.name), []).append(fn(s))
        print(f"{n} mailboxes; medians, old build vs new build, alternating rounds")
        for what in dict.fromkeys(w for w, _ in results):
            o = statistics.median(results[(what, "old")])
            w = statistics.median(results[(what, "new")])
            print(f"{what:38s} old {o * 1e3:9.3f} ms  new {w * 1e3:9.3f} ms  "
                  f"ratio {w / o:5.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
