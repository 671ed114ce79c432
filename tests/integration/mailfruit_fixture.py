"""mailfruit_fixture.py - a harness.Stack whose Dovecot authenticates with the
mailfruit driver against a user database made by the mailfruit CLI, with the
TREES plugin loaded.

Contract:
  * MailfruitStack(name, postfix=False, fast=True, ...): before entering,
    stack.db (userdb_fixture.Db) is an initialized database with domain
    example.test; homes follow the harness layout (homes/DOMAIN/LOCAL).
    fast=True sets argon2 to libsodium's minimum cost; group makes the
    Postfix maps database (stack.db.maps_path) readable by that group.
  * stack.add_user(addr, password, *cli_options) creates the mailbox with the
    CLI and remembers the password for stack.dovecot.imap(addr).
  * count_pwhash=True preloads pwhash-count.so into every Dovecot process;
    stack.pwhash_calls() returns the calls logged so far as (comm, function).
  * auth_debug=True turns on Dovecot's auth_debug (the driver logs each
    argon2 unlock at debug level).
  * The driver's configuration is the release's (dovecot_conf.passdb/userdb:
    2.3 args, 2.4 mailfruit_db_* settings, whose settings module is
    bind-mounted into modules/settings like the driver into modules/auth).
Nothing here edits /etc; everything lives in the stack's temp dir.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "userdb"))
import harness  # noqa: E402
import trees_fixture  # noqa: E402
import dovecot_conf  # noqa: E402
from userdb_fixture import Db  # noqa: E402,F401

MODULE = os.path.join(harness.BUILDDIR, "userdb", ".libs", "libauthdb_mailfruit.so")
# Dovecot 2.4: the driver's settings, for the config process.
SETTINGS_MODULE = os.path.join(harness.BUILDDIR, "userdb", ".libs",
                               "libauthdb_mailfruit_settings.so") if dovecot_conf.V24 else None
PWHASH_SHIM = os.path.join(harness.BUILDDIR, "tests", "integration", ".libs", "pwhash-count.so")
DOMAIN = harness.DOMAIN


class MailfruitStack(harness.Stack):
    def __init__(self, name, postfix=False, fast=True, extra_conf="", count_pwhash=False,
                 auth_debug=False, busy_ms=500, group=None, **kw):
        assert os.path.exists(MODULE), f"build the driver first: {MODULE} is missing"
        super().__init__(name, postfix=postfix, users={}, auth_modules=[MODULE], **kw)
        dc = self.dovecot
        self.db = Db(os.path.join(self.tmp.path, "users.db"))
        self.db.init(fast=fast, home_template=os.path.join(dc.homes, "%d", "%n"), group=group)
        self.db.ok("domain", "add", DOMAIN)
        args = f"{self.db.path} busy_timeout={busy_ms}"
        settings = {"mailfruit_db_path": self.db.path,
                    "mailfruit_db_busy_timeout": f"{busy_ms}ms"}
        dc.passdb = dovecot_conf.passdb("mailfruit", args=args, settings=settings)
        dc.userdb = dovecot_conf.userdb("mailfruit", args=args, settings=settings)
        trees_fixture.add_settings_module(dc)
        if SETTINGS_MODULE:
            assert os.path.exists(SETTINGS_MODULE), f"{SETTINGS_MODULE} is missing"
            dc.add_modules(harness.DOVECOT_SETTINGS_MODULE_DIR, [SETTINGS_MODULE])
        conf = trees_fixture.BASE_CONF.format(modules=trees_fixture.plugin_dir(self.tmp),
                                              plugins=dovecot_conf.mail_plugins("trees"))
        self.pwhash_log = None
        if count_pwhash:
            assert os.path.exists(PWHASH_SHIM), f"{PWHASH_SHIM} is missing"
            self.pwhash_log = os.path.join(self.tmp.path, "pwhash.log")
            open(self.pwhash_log, "w").close()
            os.chmod(self.pwhash_log, 0o666)
            conf += dovecot_conf.import_environment(LD_PRELOAD=PWHASH_SHIM,
                                                    MF_PWHASH_LOG=self.pwhash_log)
        if auth_debug:
            conf += "auth_debug = yes\n"
        dc.extra_conf = conf + extra_conf

    def add_user(self, addr, password, *options):
        code = self.db.add_user(addr, password, *options)
        self.dovecot.users[addr] = password
        return code

    def pwhash_calls(self):
        with open(self.pwhash_log) as f:
            return [tuple(line.split()[1:3]) for line in f if line.strip()]

    def maildir_files(self, user):
        base = os.path.join(self.dovecot.home(user), "Maildir")
        found = {}
        for sub in ("cur", "new"):
            d = os.path.join(base, sub)
            if os.path.isdir(d):
                for name in sorted(os.listdir(d)):
                    with open(os.path.join(d, name), "rb") as f:
                        found[os.path.join(d, name)] = f.read()
        return found


def doveadm_in_ns(dc, *args, check=True):
    """doveadm inside Dovecot's PID namespace: "auth login" sends its PID to
    auth-master, which compares it with the peer's, as seen from there."""
    return harness.run(["nsenter", "--target", str(dc.pid), "--pid", "--mount", "--", "doveadm", "-c",
                        dc.conf] + list(args), check=check)


def imap_read_all(dc, user, password=None):
    """Every message in INBOX (BODY.PEEK[]) after a login with `password`."""
    conn = dc.imap(user, password)
    try:
        typ, data = conn.select("INBOX", readonly=True)
        n = int(data[0])
        out = []
        for seq in range(1, n + 1):
            typ, data = conn.fetch(str(seq), "(BODY.PEEK[])")
            assert typ == "OK", data
            out.append(data[0][1])
        return out
    finally:
        conn.logout()


def imap_login_error(dc, user, password):
    """The NO text of a failed login (None when the login succeeds).

    AUTHENTICATE PLAIN carries any bytes (quotes, blanks, UTF-8) as the
    user name, where LOGIN would need IMAP quoting."""
    conn = harness.imaplib.IMAP4("127.0.0.1", dc.imap_port, timeout=60)
    token = b"\0" + user.encode() + b"\0" + password.encode()
    try:
        conn.authenticate("PLAIN", lambda _: token)
    except harness.imaplib.IMAP4.error as e:
        return str(e)
    finally:
        conn.shutdown()
    return None


# Many failed logins from 127.0.0.1 would meet Dovecot's growing auth
# penalty; tests that fail on purpose turn it off.
NO_PENALTY = "login_trusted_networks = 127.0.0.0/8\nauth_failure_delay = 0\n"
