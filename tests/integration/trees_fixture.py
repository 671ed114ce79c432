"""trees_fixture.py - a harness.Stack with the TREES plugin and TREES users.

Contract:
  * plugin_dir(tmp): a temp mail_plugin_dir holding symlinks to the stock
    Dovecot plugins plus a copy of the built lib18_trees_plugin.so.
  * make_key(tmp, password): a fresh key pair wrapped under `password`
    (argon2id at libsodium's minimum cost, so tests stay fast) by the
    library's own trees-cli; returns the userdb fields, the key file (for
    decrypting on-disk files in the test) and the derived secretbox key.
  * TreesStack(name, ..., plugin=True): harness.Stack; add_user(addr, password, fields)
    or trees_user(addr, password, **make_key args) before entering it. Its
    passdb is a passwd-file returning userdb_trees_password=%w (2.4:
    %{password}) and
    whose userdb is a passwd-file with each user's trees_* fields (so LMTP
    gets the public key, IMAP/POP3 logins also the password). plugin=False
    leaves only `mail_plugins = ... trees` out of the configuration (for a
    benchmark's plaintext side).
Nothing here edits /etc/dovecot; everything lives in the stack's temp dir.
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dovecot_conf  # noqa: E402

SRCDIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(SRCDIR, "..", "trees"))
import trees_ref  # noqa: E402,F401  (re-exported for the tests)

# MF_TREES_PLUGIN: another build of the plugin (e.g. to benchmark an older
# commit against this one).
PLUGIN = os.environ.get("MF_TREES_PLUGIN") or os.path.join(
    harness.BUILDDIR, "dovecot-trees", ".libs", "lib18_trees_plugin.so")
CLI = os.path.join(harness.BUILDDIR, "tests", "trees", "trees-cli")
# Dovecot 2.4: the settings module declaring trees_* to the config process.
SETTINGS_MODULE = os.environ.get("MF_TREES_SETTINGS") or dovecot_conf.trees_settings_module(
    harness.BUILDDIR)
STOCK_MODULES = "/usr/lib/dovecot/modules"


def add_settings_module(dc):
    """Dovecot 2.4: the config process (the server's and the tools') loads
    the trees_* settings declarations from the built settings module."""
    if SETTINGS_MODULE:
        assert os.path.exists(SETTINGS_MODULE), f"build it first: {SETTINGS_MODULE} is missing"
        dc.add_modules(harness.DOVECOT_SETTINGS_MODULE_DIR, [SETTINGS_MODULE])


def plugin_dir(tmp):
    d = tmp.sub("modules")
    for entry in os.listdir(STOCK_MODULES):
        src = os.path.join(STOCK_MODULES, entry)
        if entry.endswith(".so") and os.path.isfile(src) and "trees" not in entry:
            os.symlink(src, os.path.join(d, entry))
    shutil.copy2(PLUGIN, d)   # a copy: a rebuild must not change a running test
    return d


def make_key(tmp, password, name="key", ops=1, mem=8192, algo=1, version=2, enabled=1):
    keyfile = os.path.join(tmp.path, name)
    subprocess.run([CLI, "genkey", keyfile], check=True, stdout=subprocess.DEVNULL)
    os.chmod(keyfile, 0o600)
    out = subprocess.run([CLI, "wrap", keyfile, str(ops), str(mem), str(algo)],
                         input=password.encode() + b"\n", stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    fields = dict(line.split("=", 1) for line in out.splitlines())
    secretbox_key = fields.pop("trees_secretbox_key")
    fields["trees_enabled"] = str(enabled)
    fields["trees_version"] = str(version)
    return fields, keyfile, secretbox_key


def mail_crypt_keypair(tmp):
    """(private, public) PEM files of a fresh P-256 key for mail_crypt."""
    d = tmp.sub("mailcrypt", mode=0o700)
    priv, pub = os.path.join(d, "priv.pem"), os.path.join(d, "pub.pem")
    gen = subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey"],
                         stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(["openssl", "pkey", "-out", priv], input=gen, check=True)
    subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True)
    return priv, pub


def decrypt_file(keyfile, data):
    """(returncode, plaintext, message) of trees-cli decrypt."""
    p = subprocess.run([CLI, "decrypt", keyfile], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace").strip()


BASE_CONF = """
mail_plugin_dir = {modules}
{plugins}# A message whose FETCH fails must not end the session (default:
# disconnect-immediately); the plugin makes such failures happen before
# any literal is sent.
imap_fetch_failure = no-after
"""


class TreesStack(harness.Stack):
    def __init__(self, name, extra_conf="", postfix=False, plugin=True, **kw):
        super().__init__(name, postfix=postfix, users={}, **kw)
        dc = self.dovecot
        self.trees_users = {}
        modules = plugin_dir(self.tmp)
        add_settings_module(dc)
        plugins = dovecot_conf.mail_plugins("trees") if plugin else "# (no trees plugin)\n"
        dc.extra_conf = BASE_CONF.format(modules=modules, plugins=plugins) + extra_conf
        dc.passdb = dovecot_conf.passdb("passwd-file", path=f"{dc.dir}/trees-passwd",
                                        args="scheme=SHA512-CRYPT")
        dc.userdb = dovecot_conf.userdb("passwd-file", path=f"{dc.dir}/trees-users")

    def add_user(self, addr, password, fields):
        self.trees_users[addr] = (password, dict(fields))
        self.dovecot.users[addr] = password

    def trees_user(self, addr, password, **key_kw):
        """A user with a fresh key; returns (keyfile, derived secretbox key)."""
        fields, keyfile, skey = make_key(self.tmp, password, name="key-" + addr, **key_kw)
        self.add_user(addr, password, fields)
        return keyfile, skey

    def write_userdb(self):
        dc = self.dovecot
        pw_lines, user_lines = [], []
        for addr, (password, fields) in self.trees_users.items():
            hashed = harness.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password]
                                 ).stdout.strip()
            pw_lines.append(f"{addr}:{hashed}::::::"
                            f"userdb_trees_password={dovecot_conf.var('password')}\n")
            # passwd-file hands only userdb_-prefixed extra fields to the userdb.
            extra = " ".join(f"userdb_{k}={v}" for k, v in fields.items())
            user_lines.append(f"{addr}:::::{dc.home(addr)}::{extra}\n")
        for name, lines in (("trees-passwd", pw_lines), ("trees-users", user_lines)):
            path = os.path.join(dc.dir, name)
            old = os.stat(path).st_mtime if os.path.exists(path) else 0
            self.tmp.write(f"dovecot/{name}", "".join(lines), mode=0o640)
            shutil.chown(path, "root", "dovecot")
            # passwd-file reloads on a new mtime (whole seconds): make a
            # rewrite within the same second visible.
            if int(os.stat(path).st_mtime) <= int(old):
                os.utime(path, (old + 1, old + 1))
        if old:
            # ... and it looks at the file at most once a second.
            time.sleep(1.1)

    def __enter__(self):
        self.write_userdb()
        return super().__enter__()

    def maildir_files(self, user, folder=""):
        """{path: bytes} of the messages in a maildir folder."""
        base = os.path.join(self.dovecot.home(user), "Maildir", folder)
        found = {}
        for sub in ("cur", "new"):
            d = os.path.join(base, sub)
            if os.path.isdir(d):
                for name in sorted(os.listdir(d)):
                    with open(os.path.join(d, name), "rb") as f:
                        found[os.path.join(d, name)] = f.read()
        return found

    def maildir_paths_by_uid(self, user, folder=""):
        """The message files of a maildir folder in UID order, from
        dovecot-uidlist (file names sort by neither time nor UID: the
        microseconds in them are not zero-padded)."""
        base = os.path.join(self.dovecot.home(user), "Maildir", folder)
        files = list(self.maildir_files(user, folder))
        paths = []
        with open(os.path.join(base, "dovecot-uidlist")) as f:
            for line in f.read().splitlines()[1:]:
                name = line.split(" :", 1)[1]
                [path] = [p for p in files if os.path.basename(p).split(":")[0] == name]
                paths.append(path)
        return paths

    def put_maildir(self, user, data, name, folder=""):
        """Drop a message file into the user's maildir as another writer would."""
        d = os.path.join(self.dovecot.home(user), "Maildir", folder, "cur")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        # Everything from the home down belongs to the mail user, as if
        # Dovecot had created it.
        home = self.dovecot.home(user)
        p = path
        while True:
            shutil.chown(p, harness.MAIL_USER, harness.MAIL_GROUP)
            if p == home:
                break
            p = os.path.dirname(p)
        return path


def s_size(path):
    m = re.search(r",S=(\d+)", os.path.basename(path))
    return int(m.group(1)) if m else None


def lmtp_deliver(dc, rcpt, message, sender="sender@example.net"):
    """(code, reply) of one LMTP delivery, without raising on 4xx/5xx."""
    with dc.lmtp() as lmtp:
        try:
            refused = lmtp.sendmail(sender, [rcpt], message)
        except harness.smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients[rcpt]
            return code, reply.decode(errors="replace")
        except harness.smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error.decode(errors="replace")
        if refused:
            code, reply = refused[rcpt]
            return code, reply.decode(errors="replace")
    return 250, "ok"


def lda_deliver(dc, rcpt, message):
    p = subprocess.run(dc.tool(["/usr/lib/dovecot/dovecot-lda", "-c", dc.conf, "-d", rcpt,
                                "-f", "sender@example.net"]), input=message, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace")


def assert_no_errors(dc, allowed=()):
    """The Dovecot log has no Error/Panic/Fatal line except those matching `allowed`."""
    bad = [line for line in dc.log_text().splitlines()
           if re.search(r": (Error|Panic|Fatal): ", line)
           and not any(re.search(a, line) for a in allowed)]
    assert not bad, "unexpected errors in the Dovecot log:\n" + "\n".join(bad[:10])
