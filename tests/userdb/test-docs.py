#!/usr/bin/env python3
"""The `mailfruit` commands the documentation shows work with the built CLI.

Every line starting with "mailfruit " in a fenced code block of the README,
docs/*.md and tools/install-server's closing text runs as written (on a
pseudo-terminal, so that password prompts and confirmations are answered as
an admin would type them) against a scratch database given by $MAILFRUIT_DB;
each block starts from a database holding example.org unless it runs
"mailfruit init" itself. Every inline `mailfruit ...` span must name a real
subcommand, and each --option in it must be one that subcommand's --help
lists. Debconf lines ("mailfruit mailfruit/...") are not commands.
"""
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from userdb_fixture import CLI, Db, Tap, check, log  # noqa: E402

SRCDIR = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = ["README.md", "docs/debian.md", "docs/userdb.md", "docs/dovecot-trees.md",
        "tools/install-server"]
PASSWORD = "docs test password"
NEW_PASSWORD = "docs test password 2"

tap = Tap()
TMP = tempfile.mkdtemp(prefix="mf-test-docs-", dir=os.environ.get("MF_TMPDIR"))


def doc_files():
    found = [d for d in DOCS if os.path.exists(os.path.join(SRCDIR, d))]
    missing = sorted(set(DOCS) - set(found))
    if missing:
        log(f"not in this tree (a dist tarball?): {', '.join(missing)}")
    return found


def blocks(path):
    """Fenced code blocks (README style) or, for a script, its here-documents:
    lists of (line number, command) for lines starting with "mailfruit "."""
    text = open(os.path.join(SRCDIR, path)).read().splitlines()
    out, cur, inside = [], None, False
    fence = re.compile(r"^\s*```") if path.endswith(".md") else re.compile(r"<<\s*'?TEXT'?\s*$|^TEXT$")
    pending = ""
    for n, line in enumerate(text, 1):
        if fence.search(line):
            inside = not inside
            if inside:
                cur = []
            else:
                out.append(cur)
            continue
        if not inside:
            continue
        if not path.endswith(".md") and not line.startswith(" "):
            continue  # in a script's text, commands are the indented lines
        line = pending + line.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("mailfruit ") and not line.startswith("mailfruit mailfruit/"):
            cur.append((n, line))
    return [b for b in out if b]


def spans(path):
    """Inline `mailfruit ...` code spans (a span may wrap over lines)."""
    text = open(os.path.join(SRCDIR, path)).read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return [re.sub(r"\s+", " ", s) for s in re.findall(r"`(mailfruit\s[^`]*)`", text)
            if not re.match(r"mailfruit\s+mailfruit/", s)]


GLOBAL_OPTIONS = ("--db", "--json", "--busy-timeout")


def subcommands():
    """The commands `mailfruit --help` lists: one word, or two."""
    listing = subprocess.run([CLI, "--help"], stdout=subprocess.PIPE, text=True).stdout
    out = set()
    for line in listing.splitlines():
        if line.startswith("  mailfruit "):
            words = line.split()[1:3]
            out.add(tuple(w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)))
    return out


def run_pty(argv, env, answers, timeout=60):
    """Runs argv on a new pseudo-terminal; answers prompts (regex -> text)
    as they appear. Returns (exit status, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    shown, pending, deadline = b"", b"", time.monotonic() + timeout
    while True:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            os.kill(pid, 9)
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        shown += data
        pending += data
        for pattern, text in answers:
            if re.search(pattern.encode(), pending):
                os.write(fd, text.encode() + b"\n")
                pending = b""
                break
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


@tap.test
def test_blocks_run():
    """every "mailfruit ..." line of the documentation's code blocks runs as written"""
    total = 0
    for path in doc_files():
        for i, block in enumerate(blocks(path)):
            db = Db(os.path.join(TMP, f"{os.path.basename(path)}-{i}.db"))
            env = dict(os.environ, MAILFRUIT_DB=db.path)
            if not any(cmd.split()[1] == "init" for _, cmd in block):
                db.init(home_template=os.path.join(TMP, "home", "%d", "%n"))
                db.ok("domain", "add", "example.org")
            secrets = [PASSWORD]
            for n, cmd in block:
                words = cmd.split("#", 1)[0].split()
                words = [w.replace("$domain", "example.org") for w in words]
                words = [w.strip("'") for w in words]
                if words[1] == "init":
                    words += ["--home-template", os.path.join(TMP, "home", "%d", "%n")] \
                        if "--home-template" not in words else []
                    words = fix_init(words)
                # New passwords are typed twice; the current one once.
                answers = [(r"Current password[^:]*: $", secrets[-1]),
                           (r"New password for [^:]*: $", NEW_PASSWORD
                            if words[1:3] == ["user", "passwd"] else PASSWORD),
                           (r"Again: $", NEW_PASSWORD
                            if words[1:3] == ["user", "passwd"] else PASSWORD),
                           (r"\[y/N\] $", "y")]
                rc, shown = run_pty([CLI] + words[1:], env, answers)
                if words[1:3] == ["user", "passwd"] and rc == 0:
                    secrets.append(NEW_PASSWORD)
                check(rc == 0, f"{path}:{n}: {cmd}\n  exit {rc}: {shown.strip()}")
                check(PASSWORD not in shown and NEW_PASSWORD not in shown,
                      f"{path}:{n}: a password was echoed")
                total += 1
    log(f"{total} documented commands ran")
    check(total >= 10, f"only {total} commands found")


def fix_init(words):
    """docs/userdb.md's init names the system's postfix group and vmail user:
    a test without them (or without root) keeps the database to itself."""
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--group", "--mail-uid", "--mail-gid"):
            skip = True
            continue
        out.append(w)
    return out


@tap.test
def test_inline_spans():
    """every inline `mailfruit ...` names a subcommand and options it has"""
    known = subcommands()
    total = 0
    for path in doc_files():
        for span in spans(path):
            words = span.split()[1:]
            while words and words[0] in GLOBAL_OPTIONS:
                words = words[2:] if words[0] in ("--db", "--busy-timeout") else words[1:]
            # "import riseup|mailfruit|passwd-file": each alternative.
            firsts = words[0].split("|") if words else [""]
            seconds = words[1].split("|") if len(words) > 1 else [""]
            cmds = []
            for a in firsts:
                if (a, seconds[0]) in known:
                    cmds += [[a, b] for b in seconds]
                elif (a,) in known:
                    cmds.append([a])
                else:
                    cmds.append(None)
            for cmd in cmds:
                check(cmd is not None and tuple(cmd) in known,
                      f"{path}: `{span}`: no such subcommand")
                helptext = subprocess.run([CLI] + cmd + ["--help"], stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True).stdout
                for opt in re.findall(r"--[a-z][a-z0-9-]*", span):
                    check(opt in helptext or opt in GLOBAL_OPTIONS + ("--help",),
                          f"{path}: `{span}`: mailfruit {' '.join(cmd)} has no {opt}")
            total += 1
    log(f"{total} inline mentions checked")
    check(total >= 5, f"only {total} inline mentions found")


try:
    sys.exit(tap.run())
finally:
    shutil.rmtree(TMP, ignore_errors=True)
