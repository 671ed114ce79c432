"""dovecot_conf.py - Dovecot configuration in the syntax of the Dovecot the
tests run against (2.3 on Debian 12, 2.4 on Debian 13).

Contract: every piece of dovecot.conf that differs between the releases is
written by a function here, so harness.py, the fixtures, the tests and the
benchmarks write one configuration for both. On 2.3 the output is exactly
what the tests wrote before 2.4 was supported. Each function returns whole
lines (ending in a newline).
  * RELEASE: (major, minor) of the installed `dovecot`; V24: 2.4 or newer.
  * header(): the lines 2.4 requires first (dovecot_config_version, ...).
  * var(name): a %variable: user, domain, username, password, home.
  * mail_location(driver, path, inbox=None), mail_location_value(driver,
    path) (the value for doveadm -o / trees-reencrypt -d).
  * mail_plugins(*names, protocol=None): adds plugins (to a protocol);
    mail_plugins_without(*names, protocol=None) takes them out.
  * plugin(**settings) / plugin_items(pairs): plugin settings (2.3:
    plugin { } block; 2.4: global settings).
  * passdb(driver, path=..., args=...) / userdb(...): named blocks on 2.4.
  * mail_crypt_read_keys(private_pem_path) / mail_crypt_write_options(...):
    mail_crypt's keys under the release's setting names.
  * doveadm_plugins_option(*names): the -o that loads exactly these plugins.
  * import_environment(**env): environment variables every Dovecot process
    gets (TZ kept).
  * acl_vfile(sharing_map_path): the acl plugin (and imap_acl) with
    per-mailbox ACL files and the shared-mailboxes dict in a file.
  * shared_namespace(prefix, driver, subdir): a shared namespace
    "<prefix><owner>/" over each owner's home/<subdir>, private indexes
    under the reader's home/<subdir>/shared/<owner>.
  * sql_sqlite(path): 2.4's global SQLite connection of the sql passdb/userdb
    ("" on 2.3, where it is in the args file).
  * allow_cleartext(), listener_address(addr), include_first(path),
    compress_gz(), maildir_quota(name, size), sieve_personal(path, active),
    userdb_static_home(template): further lines that differ.
  * trees_settings_module(builddir): the built 2.4 settings module (None
    on 2.3), which the fixtures bind-mount into Dovecot's settings dir.
"""
import os
import re
import subprocess


def _release():
    out = subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout.decode()
    m = re.match(r"(\d+)\.(\d+)", out)
    assert m, f"dovecot --version: {out!r}"
    return int(m.group(1)), int(m.group(2))


RELEASE = _release()
V24 = RELEASE >= (2, 4)

_VARS_23 = {"user": "%u", "domain": "%d", "username": "%n", "password": "%w", "home": "%h"}
_VARS_24 = {"user": "%{user}", "domain": "%{user | domain}", "username": "%{user | username}",
            "password": "%{password}", "home": "%{home}"}


def var(name):
    return (_VARS_24 if V24 else _VARS_23)[name]


def header():
    if not V24:
        return ""
    return "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"


def allow_cleartext():
    if V24:
        return "auth_allow_cleartext = yes\n"
    return "disable_plaintext_auth = no\n"


def listener_address(address):
    """The address line inside an inet_listener { } block."""
    return f"{'listen' if V24 else 'address'} = {address}\n"


def include_first(path):
    """A configuration file that starts with the whole of `path`."""
    if V24:
        # 2.4 wants dovecot_config_version as the first setting of the
        # top file; the included file's own repeats the same value.
        return header() + f"!include {path}\n"
    return f"!include {path}\n"


def mail_location_value(driver, path):
    return f"{driver}:{path}"


def mail_location(driver, path, inbox=None):
    """inbox: the INBOX's own path (mbox's inbox file)."""
    if V24:
        return (f"mail_driver = {driver}\nmail_path = {path}\n" +
                (f"mail_inbox_path = {inbox}\n" if inbox else ""))
    return (f"mail_location = {mail_location_value(driver, path)}" +
            (f":INBOX={inbox}" if inbox else "") + "\n")


def _in_protocol(protocol, body):
    if protocol:
        return f"protocol {protocol} {{\n" + "".join(f"  {line}\n" for line in
                                                 body.splitlines()) + "}\n"
    return body


def mail_plugins(*names, protocol=None):
    if V24:
        body = "mail_plugins {\n" + "".join(f"  {n} = yes\n" for n in names) + "}\n"
    else:
        body = f"mail_plugins = $mail_plugins {' '.join(names)}\n"
    return _in_protocol(protocol, body)


def mail_plugins_without(*names, protocol=None):
    """Takes these plugins out of mail_plugins (2.4: name = no in the
    boolean list; 2.3, which cannot remove one name: an empty list)."""
    if V24:
        body = "mail_plugins {\n" + "".join(f"  {n} = no\n" for n in names) + "}\n"
    else:
        body = "mail_plugins =\n"
    return _in_protocol(protocol, body)


def plugin_items(pairs):
    pairs = list(pairs)
    if V24:
        return "".join(f"{k} = {v}\n" for k, v in pairs)
    return "plugin {\n" + "".join(f"  {k} = {v}\n" for k, v in pairs) + "}\n"


def plugin(**settings):
    return plugin_items(settings.items())


def _authdb(kind, driver, path=None, args=None, settings=None):
    """passdb/userdb. path: a passwd-file; args: the 2.3 args string of
    other drivers (mailfruit, mftest); settings: 2.4 settings of them."""
    if V24:
        lines = [f"{kind} {driver} {{\n"]
        if path is not None:
            lines.append(f"  passwd_file_path = {path}\n")
        for k, v in (settings or {}).items():
            lines.append(f"  {k} = {v}\n")
        lines.append("}\n")
        return "".join(lines)
    a = " ".join(x for x in (args, path) if x)
    return f"{kind} {{\n  driver = {driver}\n" + (f"  args = {a}\n" if a else "") + "}\n"


def passdb(driver, path=None, args=None, settings=None):
    return _authdb("passdb", driver, path, args, settings)


def userdb(driver, path=None, args=None, settings=None):
    return _authdb("userdb", driver, path, args, settings)


def userdb_static_home(home_template):
    """A static userdb answering for every user with this home."""
    if V24:
        return f"userdb static {{\n  fields {{\n    home = {home_template}\n  }}\n}}\n"
    return userdb("static", args=f"allow_all_users=yes home={home_template}")


def mail_crypt_read_keys(private_pem_path):
    """mail_crypt's global private key, for reading (the TREES plugin reads
    mail_crypt's own settings)."""
    if V24:
        return ("crypt_global_private_key main {\n"
                f"  crypt_private_key_file = {private_pem_path}\n}}\n")
    with open(private_pem_path, "rb") as f:
        return plugin(mail_crypt_global_private_key=_b64(f.read()))


def doveadm_plugins_option(*names):
    """doveadm -o arguments that load exactly these mail plugins (a
    boollist on 2.4 takes the same space-separated value)."""
    return ["-o", f"mail_plugins={' '.join(names)}"]


def mail_crypt_write_options(public_pem_path):
    """doveadm -o arguments that make mail_crypt write CRYPTED mail."""
    with open(public_pem_path, "rb") as f:
        pub = _b64(f.read())
    if V24:
        # Inline: the mail process, no longer root, reads a path itself.
        return doveadm_plugins_option("mail_crypt") + [
            "-o", f"crypt_global_public_key_file=inline:{pub}"]
    return doveadm_plugins_option("mail_crypt") + [
        "-o", "plugin/mail_crypt_save_version=2",
        "-o", f"plugin/mail_crypt_global_public_key={pub}"]


def _b64(data):
    import base64
    return base64.b64encode(data).decode()


# The 2.4 settings module the TREES plugin ships (trees_* settings known to
# the config process); None on 2.3.
def trees_settings_module(builddir):
    if not V24:
        return None
    return os.path.join(builddir, "dovecot-trees", ".libs", "lib20_trees_settings.so")


def compress_gz():
    """Save mail gzip-compressed: zlib plugin (2.3), mail_compress (2.4)."""
    if V24:
        return mail_plugins("mail_compress") + "mail_compress_write_method = gz\n"
    return mail_plugins("zlib") + plugin(zlib_save="gz")


def maildir_quota(name, storage):
    """A Maildir++ quota root `name` of `storage` (e.g. 100M)."""
    if V24:
        return (mail_plugins("quota") +
                f'quota "{name}" {{\n  driver = maildir\n  quota_storage_size = {storage}\n}}\n')
    return mail_plugins("quota") + plugin_items(
        [("quota", f"maildir:{name}"), ("quota_rule", f"*:storage={storage}")])


def sieve_personal(path, active_path):
    """The user's sieve scripts (file driver) and the active one, for LMTP."""
    if V24:
        return (mail_plugins("sieve", protocol="lmtp") +
                "sieve_script personal {\n  driver = file\n"
                f"  path = {path}\n  active_path = {active_path}\n}}\n")
    return mail_plugins("sieve", protocol="lmtp") + plugin(
        sieve=f"file:{path};active={active_path}")


def import_environment(**env):
    """Environment variables for every Dovecot process (2.3: a space-separated
    list that must repeat TZ; 2.4: a string list added to the defaults)."""
    if V24:
        return "import_environment {\n" + "".join(f"  {k} = {v}\n" for k, v in env.items()) + "}\n"
    return "import_environment = TZ " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n"


def sql_sqlite(path):
    if V24:
        return f"sql_driver = sqlite\nsqlite_path = {path}\n"
    return ""


def acl_vfile(sharing_map_path):
    """acl (+ imap_acl for IMAP), ACLs in vfiles, the shared-mailboxes
    dict in a file."""
    plugins = mail_plugins("acl") + mail_plugins("imap_acl", protocol="imap")
    if V24:
        return (plugins + "acl_driver = vfile\n"
                f"acl_sharing_map {{\n  dict file {{\n    path = {sharing_map_path}\n  }}\n}}\n")
    return plugins + plugin(acl="vfile", acl_shared_dict=f"file:{sharing_map_path}")


def shared_namespace(prefix, driver, subdir):
    """Other users' mailboxes as <prefix><owner>/ (2.3: %%-variables are the
    owner's, ~ the reader's; 2.4: $user in the prefix, %{owner_*})."""
    if V24:
        location = (f"  prefix = {prefix}$user/\n  mail_driver = {driver}\n"
                    f"  mail_path = %{{owner_home}}/{subdir}\n"
                    f"  mail_index_private_path = ~/{subdir}/shared/%{{owner_user}}\n")
    else:
        location = (f"  prefix = {prefix}%%u/\n"
                    f"  location = {driver}:%%h/{subdir}:INDEXPVT=~/{subdir}/shared/%%u\n")
    return ("namespace shared {\n  type = shared\n  separator = /\n" + location +
            "  subscriptions = no\n  list = children\n}\n")
