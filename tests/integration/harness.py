"""harness.py - real Postfix and real Dovecot instances for mailfruit's tests.

Contract:
  * Every test gets a fresh temp dir (TestDir) holding a private Postfix
    instance (`postfix -c DIR`, smtpd on a free 127.0.0.1 port, own queue,
    maillog_file) and a private Dovecot instance (`dovecot -F -c FILE`, IMAP,
    POP3 and LMTP on free loopback ports, maildir, own base_dir/state_dir).
  * Nothing outside the temp dir is written: not /etc/postfix, not
    /etc/dovecot, not the system services.
  * Each server runs in its own PID namespace (unshare --pid) under a shell
    that is the namespace's PID 1. When that shell exits, the kernel kills
    everything left in the namespace; the unshare wrapper is tied to this
    Python process with PR_SET_PDEATHSIG(SIGKILL) and kills the shell when it
    dies. So no server process outlives the test, also when the test fails,
    is interrupted or the harness itself is killed.
  * Dovecot can run in a private mount namespace with a copy of the auth
    module directory that also holds modules from the build (auth drivers
    load only from the compiled-in /usr/lib/dovecot/modules/auth).

Because the servers see PIDs of their own namespace, never run
`postfix stop` or `doveadm stop/reload` from outside: their pid files hold
namespace PIDs, which mean other processes on the host. Use Server.stop()
and Dovecot.reload().

The helpers need root (Postfix's master must start as root).
"""

import contextlib
import ctypes
import ctypes.util
import datetime
import email.utils
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dovecot_conf  # noqa: E402

BUILDDIR = os.environ.get("MF_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

DOVECOT_AUTH_MODULE_DIR = "/usr/lib/dovecot/modules/auth"
# Dovecot 2.4's config process loads plugins' settings modules from here.
DOVECOT_SETTINGS_MODULE_DIR = "/usr/lib/dovecot/modules/settings"
MAIL_USER = "nobody"      # owner of the test mailboxes (an existing, unprivileged uid)
MAIL_GROUP = "nogroup"
DOMAIN = "example.test"

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class Unsupported(Exception):
    """This environment cannot run the test; TapRunner reports it as a skip."""


def log(msg):
    """Progress lines for the test log (TAP diagnostics)."""
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"# [{stamp}] {msg}", flush=True)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def banner(port, timeout=1.0):
    """The first line a TCP server on 127.0.0.1:port sends, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            return s.makefile("rb").readline().decode("ascii", "replace").strip()
    except OSError:
        return None


def run(cmd, check=True, **kw):
    """Run a command, capturing output; a failure shows the command and its output."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}")
    return proc


def _die_with_parent():
    # Runs in the child between fork and exec.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()


class TestDir:
    """A temp dir for one test, removed afterwards unless MF_KEEP_TMP=1 or kept."""

    def __init__(self, name):
        base = os.environ.get("MF_TMPDIR") or None
        self.path = tempfile.mkdtemp(prefix=f"mf-{name}-", dir=base)
        os.chmod(self.path, 0o755)   # servers' unprivileged users must traverse it
        self.keep = os.environ.get("MF_KEEP_TMP") == "1"

    def sub(self, *parts, mode=0o755, owner=None):
        path = os.path.join(self.path, *parts)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if owner:
            shutil.chown(path, *owner)
        return path

    def write(self, relpath, text, mode=0o644):
        path = os.path.join(self.path, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def cleanup(self):
        if self.keep:
            log(f"kept {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


class NamespacedServer:
    """A server run inside a private PID (and mount) namespace.

    PID 1 of the namespace is a small /bin/sh that starts the server and
    waits for it. That shell, not the server, carries the parent-death
    signal: the kernel clears PR_SET_PDEATHSIG when a process changes its
    effective uid or gid, which Postfix does, so a server that is PID 1
    itself may survive its parent. When the shell dies (its server exited,
    or unshare died with the harness), the kernel kills every process left
    in the namespace.
    """

    name = "server"
    main_comm = None              # the server's main process name, e.g. "master"
    label = "server"              # how the log names that process

    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None          # the unshare process
        self.init_pid = None      # host PID of the namespace's PID 1 (the shell)
        self.pid = None           # host PID of the server's main process
        self.pidns = None         # the namespace, "pid:[inode]"
        self.pidns_fd = None      # holds that namespace (see _spawn)
        self.binds = []           # (source, target) bind mounts inside the namespace
        self.leftover = []        # processes still in the namespace after stop()
        self.exit_status = None   # the namespace's exit status after stop()
        self.console = os.path.join(tmp.path, f"{self.name}.console")

    def command(self):
        raise NotImplementedError

    def _spawn(self):
        # Making "/" private keeps our mounts out of the host's namespace. In
        # a plain chroot "/" is no mount point and that fails (EINVAL); there
        # unshare still mounts /proc privately, but a bind mount could leak to
        # the host, so binds are refused rather than risked.
        if os.path.ismount("/"):
            propagation = "private"
        elif self.binds:
            raise Unsupported("bind mounts need '/' to be a mount point (not a plain chroot)")
        else:
            propagation = "unchanged"
        mounts = "".join(f'mount --bind "{src}" "{dst}" || exit 70\n' for src, dst in self.binds)
        # The shell's exit status is the command's.
        script = f'{mounts}"$@" </dev/null &\nwait $!\n'
        argv = ["unshare", "--pid", "--fork", "--kill-child=SIGKILL", "--mount",
                "--propagation", propagation, "--mount-proc",
                "/bin/sh", "-c", script, "sh"] + self.command()
        out = open(self.console, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     preexec_fn=_die_with_parent, close_fds=True)
        out.close()
        self.init_pid = wait_for(lambda: self._children(self.proc.pid), 10,
                                 f"{self.name} namespace")[0]
        self.pidns = os.readlink(f"/proc/{self.init_pid}/ns/pid")
        # The kernel reuses a dead namespace's inode number for the next new
        # namespace at once, so "pid:[inode]" could name a concurrent test's
        # namespace after ours ended, and the stray check would see (and
        # kill) that test's processes. An open fd keeps ours, and its
        # number, until stop() has looked for strays.
        self.pidns_fd = os.open(f"/proc/{self.init_pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)

    def _check_alive(self):
        """True while the namespace runs; an exception with the console text once it ended."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start (status {self.proc.returncode}):\n"
                               f"{self.console_text()}")
        return True

    def _children(self, pid):
        self._check_alive()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def _find_main(self):
        """Find the server's main process (by name) in the namespace.

        Call it once the server answers on its port: before that, helper
        processes of the same name may come and go.
        """
        def find():
            found = []
            for pid in processes_in_namespace(self.pidns):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == self.main_comm:
                        found.append(pid)
            self._check_alive()
            # More than one means a helper run of the same binary is still
            # there (postfix-script runs "master -t" first): look again.
            return found[0] if len(found) == 1 else None
        self.pid = wait_for(find, 20, f"{self.name} {self.main_comm} process")
        log(f"{self.label} started (host pid {self.pid}, "
            f"in PID namespace {self.pidns})")

    def console_text(self):
        with contextlib.suppress(OSError), open(self.console, errors="replace") as f:
            return f.read()
        return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Signal the server's main process (Postfix: master, Dovecot: dovecot)."""
        if self.running() and self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait(self, timeout):
        """The exit status once it ended; TimeoutExpired while it runs."""
        return self.proc.wait(timeout)

    def stop(self, timeout=15):
        """SIGTERM the main process; SIGKILL the namespace if it does not end in time.

        Returns the exit status (the main process's, through the shell).
        Afterwards self.leftover lists the processes still in the namespace
        (none, if all went well). Idempotent.
        """
        if self.proc is None:
            return self.exit_status
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {timeout}s, killing its namespace")
                # Killing PID 1 makes the kernel kill and reap the rest before
                # unshare sees it exit; kill unshare itself only as a last resort.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.init_pid, signal.SIGKILL)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        self.exit_status = self.proc.returncode
        if self.pidns_fd is not None:
            self.leftover = processes_in_namespace(self.pidns)
            os.close(self.pidns_fd)
            self.pidns_fd = None
        log(f"{self.label} stopped (host pid {self.pid}, exit status {self.exit_status})")
        self.proc = None
        return self.exit_status


class NamespacedProcess(NamespacedServer):
    """Any command, tied to the test like the servers (e.g. a daemon under test).

    The command is the only child of the namespace's shell; signal() and
    stop() go to it (self.pid, also self.child), and stop() and wait()
    return its exit status.
    """

    def __init__(self, tmp, name, argv):
        self.name = name
        self.label = name
        super().__init__(tmp)
        self.argv = list(argv)

    @property
    def child(self):
        return self.pid

    def command(self):
        return self.argv

    def start(self):
        self._spawn()
        self.pid = wait_for(lambda: self._children(self.init_pid), 10,
                            f"{self.name} process")[0]
        return self


class Postfix(NamespacedServer):
    """A private Postfix instance delivering example.test over LMTP."""

    name = "postfix"
    main_comm = "master"
    label = "postfix master"

    def __init__(self, tmp, lmtp_port, tls=True, main=None, master=None):
        super().__init__(tmp)
        self.dir = tmp.sub("postfix")
        self.etc = tmp.sub("postfix", "etc")
        self.queue = tmp.sub("postfix", "queue")
        self.data = tmp.sub("postfix", "data", owner=("postfix", None))
        self.maillog = os.path.join(self.dir, "maillog")
        self.port = free_port()
        self.lmtp_port = lmtp_port
        self.cert = self.key = None
        params = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.mailfruit.test",
            "mydomain": "mailfruit.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": tmp.path,
            "smtpd_banner": "$myhostname ESMTP mailfruit-test",
            "biff": "no",
            "virtual_mailbox_domains": DOMAIN,
            "virtual_mailbox_maps": "inline:{ {alice@example.test=ok} {bob@example.test=ok} }",
            "virtual_transport": f"lmtp:inet:127.0.0.1:{lmtp_port}",
            "lmtp_host_lookup": "native",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_security_level": "none",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
        }
        if tls:
            self.cert, self.key = self_signed_cert(tmp, "mx.mailfruit.test")
            params.update({
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": self.cert,
                "smtpd_tls_key_file": self.key,
            })
        params.update(main or {})
        self.params = params
        self.master_lines = [
            f"127.0.0.1:{self.port} inet n - n - - smtpd",
        ] + list(master or []) + [
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]

    def write_config(self):
        main = "".join(f"{k} = {v}\n" for k, v in self.params.items())
        self.tmp.write("postfix/etc/main.cf", "# written by mailfruit's test harness\n" + main)
        self.tmp.write("postfix/etc/master.cf", "\n".join(self.master_lines) + "\n")

    def command(self):
        return ["postfix", "-c", self.etc, "start-fg"]

    def start(self):
        self.write_config()
        # "postfix check" creates the queue directories with the right owners.
        run(["postfix", "-c", self.etc, "check"])
        self._spawn()
        # smtpd answers: 220, or 421 when a milter it must connect to at
        # CONNECT is not running yet (Postfix 3.10 refuses the session at
        # once; 3.7 waited for MAIL) and milter_default_action = tempfail.
        wait_for(lambda: self._check_alive() and
                 (banner(self.port) or "").startswith(("220 ", "421 ")), 20,
                 f"postfix smtpd on 127.0.0.1:{self.port}")
        self._find_main()
        started = self.wait_log(r"postfix/master\[\d+\]: daemon started[^\n]*")
        log(f"postfix maillog: {started.group(0)}")
        log(f"postfix smtpd answers on 127.0.0.1:{self.port}")
        return self

    def log_text(self):
        with contextlib.suppress(OSError), open(self.maillog, errors="replace") as f:
            return f.read()
        return ""

    def wait_log(self, pattern, timeout=20):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log_text()), timeout, f"postfix log /{pattern}/")

    def queue_ids(self):
        out = run(["postqueue", "-c", self.etc, "-j"]).stdout
        return re.findall(r'"queue_id": "([0-9A-Za-z]+)"', out)


class Dovecot(NamespacedServer):
    """A private Dovecot instance: IMAP, POP3 and LMTP on loopback, maildir homes."""

    name = "dovecot"
    main_comm = "dovecot"
    label = "dovecot master"

    def __init__(self, tmp, users=None, extra_conf="", auth_modules=(), passdb=None, userdb=None,
                 protocols="imap pop3 lmtp", settings_modules=()):
        super().__init__(tmp)
        self.dir = tmp.sub("dovecot")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.base_dir = tmp.sub("dovecot", "run")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.homes = tmp.sub("homes", owner=(MAIL_USER, MAIL_GROUP))
        self.imap_port, self.pop3_port, self.lmtp_port = free_port(), free_port(), free_port()
        self.users = dict(users or {"alice@example.test": "alice-Secret-1"})
        self.extra_conf = extra_conf
        self.protocols = protocols
        self.passdb = passdb or dovecot_conf.passdb(
            "passwd-file", path=f"{self.dir}/passwd", args="scheme=SHA512-CRYPT")
        self.userdb = userdb or dovecot_conf.userdb_static_home(
            f"{self.homes}/{dovecot_conf.var('domain')}/{dovecot_conf.var('username')}")
        if auth_modules:
            self.add_modules(DOVECOT_AUTH_MODULE_DIR, auth_modules)
        if settings_modules:
            self.add_modules(DOVECOT_SETTINGS_MODULE_DIR, settings_modules)

    def add_modules(self, system_dir, modules):
        """Bind-mounts over system_dir (in the server's mount namespace, and
        for tool()) a copy of it plus `modules`: Dovecot loads auth drivers
        and 2.4 settings modules only from its compiled-in directories."""
        overlay = self.tmp.sub("dovecot", os.path.basename(system_dir) + "-modules")
        if os.path.isdir(system_dir):
            for entry in os.listdir(system_dir):
                src = os.path.join(system_dir, entry)
                if os.path.isfile(src):
                    shutil.copy2(src, overlay)
        for module in modules:
            shutil.copy2(module, overlay)   # a copy: rebuilding must not change a running test
        self.binds.append((overlay, system_dir))

    def tool(self, argv):
        """argv of a Dovecot tool (doveconf, doveadm, dovecot-lda) that sees
        the same module directories as the server: with bind mounts, it runs
        in a private mount namespace of its own holding them."""
        if not self.binds:
            return list(argv)
        mounts = "".join(f'mount --bind "{src}" "{dst}" || exit 70\n' for src, dst in self.binds)
        return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                f'{mounts}exec "$@"', "sh"] + list(argv)

    def home(self, user):
        local, _, domain = user.partition("@")
        return os.path.join(self.homes, domain, local)

    def write_config(self):
        lines = []
        for user, password in self.users.items():
            hashed = run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password]).stdout.strip()
            lines.append(f"{user}:{hashed}::::::\n")
        self.tmp.write("dovecot/passwd", "".join(lines), mode=0o640)
        shutil.chown(os.path.join(self.dir, "passwd"), "root", "dovecot")
        conf = dovecot_conf.header() + f"""# written by mailfruit's test harness
instance_name = {os.path.basename(self.tmp.path)}
base_dir = {self.base_dir}
state_dir = {self.tmp.sub("dovecot", "state")}
log_path = {self.log_path}
hostname = mail.mailfruit.test
protocols = {self.protocols}
listen = 127.0.0.1
ssl = no
{dovecot_conf.allow_cleartext()}auth_mechanisms = plain login
mail_uid = {MAIL_USER}
mail_gid = {MAIL_GROUP}
first_valid_uid = 1
{dovecot_conf.mail_location("maildir", "~/Maildir")}postmaster_address = postmaster@{DOMAIN}
namespace inbox {{
  inbox = yes
  separator = /
}}
{self.passdb}{self.userdb}service imap-login {{
  inet_listener imap {{
    {dovecot_conf.listener_address('127.0.0.1')}    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    {dovecot_conf.listener_address('127.0.0.1')}    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    {dovecot_conf.listener_address('127.0.0.1')}    port = {self.lmtp_port}
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
{self.extra_conf}
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        run(self.tool(["doveconf", "-c", self.conf, "-n"]))

    def command(self):
        return ["dovecot", "-F", "-c", self.conf]

    def start(self):
        self.write_config()
        self._spawn()
        wait_for(lambda: self._check_alive() and
                 "OK" in (banner(self.imap_port) or ""), 20,
                 f"dovecot imap on 127.0.0.1:{self.imap_port}")
        wait_for(lambda: (banner(self.lmtp_port) or "").startswith("220 "), 20,
                 f"dovecot lmtp on 127.0.0.1:{self.lmtp_port}")
        self._find_main()
        started = re.search(r"master: Info: Dovecot v\S+ \S+ starting up[^\n]*", self.log_text())
        log(f"dovecot log: {started.group(0) if started else '(no start-up line)'}")
        log(f"dovecot answers: imap 127.0.0.1:{self.imap_port}, "
            f"pop3 127.0.0.1:{self.pop3_port}, lmtp 127.0.0.1:{self.lmtp_port}")
        return self

    def reload(self):
        self.signal(signal.SIGHUP)

    def doveadm(self, *args, check=True):
        if args and args[0] in ("stop", "reload"):
            raise ValueError("doveadm stop/reload would signal a host PID; use stop()/reload()")
        return run(self.tool(["doveadm", "-c", self.conf] + list(args)), check=check)

    def log_text(self):
        with contextlib.suppress(OSError), open(self.log_path, errors="replace") as f:
            return f.read()
        return ""

    def wait_log(self, pattern, timeout=10):
        """The first match of `pattern` in the log, waiting for it: Dovecot's
        log process writes asynchronously, after the client got its answer."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log_text()), timeout, f"dovecot log /{pattern}/")

    def imap(self, user, password=None):
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        conn.login(user, self.users[user] if password is None else password)
        return conn

    def pop3(self, user, password=None):
        conn = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        conn.user(user)
        conn.pass_(self.users[user] if password is None else password)
        return conn

    def lmtp(self):
        return smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30)


def describe_processes(pids):
    """'pid comm (state)' for each PID, for messages."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat.rsplit(")", 1)[1].split()[0]
            out.append(f"{pid} {comm} ({state})")
        except (OSError, ValueError):
            out.append(f"{pid} (gone)")
    return ", ".join(out)


def processes_in_namespace(pidns):
    """Host PIDs of live processes in the PID namespace `pidns` ("pid:[inode]")."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != pidns:
                continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry))
    return found


def self_signed_cert(tmp, cn):
    """A throwaway EC certificate and key for `cn`, made at test time."""
    d = tmp.sub("tls", mode=0o700)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}",
         "-keyout", key, "-out", cert])
    os.chmod(cert, 0o644)
    return cert, key


class Stack:
    """Dovecot plus (unless postfix=False) a Postfix that delivers to it.

    Use as a context manager: both are started on entry and always stopped
    on exit; then no process may be left in their PID namespaces.
    """

    def __init__(self, name, postfix=True, tls=True, postfix_main=None, postfix_master=None,
                 **dovecot_kw):
        self.tmp = TestDir(name)
        self.dovecot = Dovecot(self.tmp, **dovecot_kw)
        self.postfix = Postfix(self.tmp, self.dovecot.lmtp_port, tls=tls, main=postfix_main,
                               master=postfix_master) if postfix else None
        self.failed = False

    def servers(self):
        return [s for s in (self.postfix, self.dovecot) if s is not None]

    def __enter__(self):
        try:
            self.dovecot.start()
            if self.postfix:
                self.postfix.start()
        except BaseException:
            self.failed = True
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not issubclass(exc_type, Unsupported):
            self.failed = True
            self.dump_logs()
        for server in self.servers():
            try:
                server.stop()
            except Exception as e:    # keep tearing down the others
                log(f"stopping {server.name}: {e}")
        stray = [pid for server in self.servers() for pid in server.leftover]
        if stray:
            log(f"stray processes after teardown: {describe_processes(stray)}")
            for pid in stray:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if exc_type is None:
                self.failed = True
                self.tmp.keep = True
                self.tmp.cleanup()
                raise AssertionError(f"processes outlived the test: {stray}")
        else:
            log("no process of this test is left (every member of its PID namespaces is gone)")
        if self.failed and os.environ.get("MF_KEEP_TMP") != "0":
            self.tmp.keep = True
        self.tmp.cleanup()
        return False

    def dump_logs(self, lines=40):
        logs = [("dovecot log", self.dovecot.log_text()),
                ("dovecot console", self.dovecot.console_text())]
        if self.postfix:
            logs += [("postfix maillog", self.postfix.log_text()),
                     ("postfix console", self.postfix.console_text())]
        for title, text in logs:
            tail = text.splitlines()[-lines:]
            if tail:
                log(f"--- {title} (last {len(tail)} lines) ---")
                for line in tail:
                    print(f"#   {line}", flush=True)


def make_message(subject, sender="sender@example.net", rcpt="alice@example.test", body=None):
    """An RFC 5322 message (bytes, CRLF) complete enough that Postfix adds nothing to it."""
    msgid = email.utils.make_msgid(domain="example.net")
    if body is None:
        body = ("Hello Alice,\r\n"
                "\r\n"
                ".a line starting with a dot (SMTP dot-stuffing)\r\n"
                "a line with trailing spaces   \r\n"
                "\tand a tab\r\n"
                + "long line " * 90 + "\r\n"
                "-- \r\n"
                "mailfruit test harness\r\n")
    headers = (f"From: Test Sender <{sender}>\r\n"
               f"To: <{rcpt}>\r\n"
               f"Subject: {subject}\r\n"
               f"Date: {email.utils.formatdate(localtime=False)}\r\n"
               f"Message-ID: {msgid}\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=us-ascii\r\n"
               "X-Mailfruit-Test: header kept as sent\r\n")
    return (headers + "\r\n" + body).encode("ascii"), msgid


def smtp_send(port, message, sender, rcpts, starttls, cafile=None, helo="client.example.net"):
    """Send over SMTP to 127.0.0.1:port; with starttls, verify the server against cafile."""
    with smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=30) as smtp:
        smtp.ehlo()
        if starttls:
            ctx = ssl.create_default_context(cafile=cafile)
            ctx.check_hostname = False    # we connect to 127.0.0.1; the chain is still verified
            smtp.starttls(context=ctx)
            smtp.ehlo()
            log(f"SMTP STARTTLS: {smtp.sock.version()} {smtp.sock.cipher()[0]}")
        return smtp.sendmail(sender, rcpts, message)


def imap_wait_fetch(dovecot, user, count=1, timeout=30, password=None):
    """Wait until the user's INBOX holds `count` messages; return their BODY[] bytes."""
    def fetch():
        conn = dovecot.imap(user, password)
        try:
            typ, data = conn.select("INBOX", readonly=True)
            if int(data[0]) < count:
                return None
            messages = []
            for seq in range(1, count + 1):
                typ, data = conn.fetch(str(seq), "(BODY.PEEK[])")
                messages.append(data[0][1])
            return messages
        finally:
            conn.logout()
    return wait_for(fetch, timeout, f"{count} message(s) in {user}'s INBOX", interval=0.3)


TRACE_FIELDS = ("return-path", "delivered-to", "received")


def split_trace(delivered):
    """Split a delivered message into (trace header fields, the rest as sent)."""
    pos, trace = 0, []
    while True:
        m = re.match(rb"([A-Za-z-]+):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", delivered[pos:])
        if not m or m.group(1).decode().lower() not in TRACE_FIELDS:
            return trace, delivered[pos:]
        trace.append(m.group(0).decode("ascii", "replace"))
        pos += m.end()


class TapRunner:
    """Runs test functions and prints TAP; signals end the run through the cleanups."""

    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self):
        def interrupted(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, interrupted)
        print(f"1..{len(self.tests)}", flush=True)
        failed = 0
        for n, fn in enumerate(self.tests, 1):
            name = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
            if os.geteuid() != 0:
                print(f"ok {n} - {name} # SKIP needs root (Postfix's master starts as root)")
                continue
            try:
                fn()
            except KeyboardInterrupt:
                print(f"not ok {n} - {name}\n# interrupted", flush=True)
                return 1
            except Unsupported as e:
                print(f"ok {n} - {name} # SKIP {e}", flush=True)
            except Exception:
                failed += 1
                print(f"not ok {n} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
            else:
                print(f"ok {n} - {name}", flush=True)
        return 0
