#!/usr/bin/env python3
"""mailfruit-postfix-policy's wiring helper against real Postfix's postconf.

The helper is built as debian/rules builds it (debian/wiring/common.sh +
postfix-policy.sh) and run on a main.cf in a temp dir (MAIL_CONFIG, which
postconf obeys; the helper's state in MF_WIRING_VARLIB). For several
existing smtpd_recipient_restrictions lists the TLS check must land where
it decides: after reject_unauth_destination when nothing before that can
accept a recipient, and before any permit of clients that are neither
trusted nor logged in (permit, permit_auth_destination, access maps...);
"wiring status" says "wired"; unwiring gives the list back as it was. An
admin's edit that puts a permit before the check makes "wiring status" say
it is unreachable.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402

tap = harness.TapRunner()
WIRING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "debian", "wiring")
ENTRY = "check_policy_service unix:mailfruit-policyd/policy"
TRUSTED = {"permit_mynetworks", "permit_sasl_authenticated", "permit_tls_clientcerts",
           "permit_tls_all_clientcerts", "permit_inet_interfaces"}


class Wiring:
    def __init__(self, name):
        self.tmp = harness.TestDir(name)
        self.conf = self.tmp.sub("postfix")
        self.tmp.write("postfix/main.cf", "compatibility_level = 3.6\n")
        self.tmp.write("postfix/master.cf", open("/etc/postfix/master.cf").read())
        self.helper = os.path.join(self.tmp.path, "wiring")
        with open(self.helper, "w") as out:
            common = open(os.path.join(WIRING, "common.sh")).read().split("\n", 1)
            out.write(common[0] + "\nPKG=mailfruit-postfix-policy\n" + common[1])
            out.write(open(os.path.join(WIRING, "postfix-policy.sh")).read())
        os.chmod(self.helper, 0o755)
        self.env = dict(os.environ, MAIL_CONFIG=self.conf,
                        MF_WIRING_VARLIB=self.tmp.sub("varlib"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.tmp.cleanup()

    def postconf(self, *args):
        return subprocess.run(["postconf", "-c", self.conf] + list(args), check=True,
                              stdout=subprocess.PIPE, text=True).stdout.rstrip("\n")

    def set_list(self, value):
        self.postconf("-e", f"smtpd_recipient_restrictions = {value}")

    def get_list(self):
        return self.postconf("-h", "smtpd_recipient_restrictions")

    def helper_run(self, *args):
        p = subprocess.run([self.helper] + list(args), env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        log(f"wiring {' '.join(args)}: rc {p.returncode}: {p.stdout.strip()}")
        assert p.returncode == 0, p.stdout
        return p.stdout


def items(value):
    """The restrictions of a list, each with its argument (check_*, DNS lists)."""
    words = [w for w in re.split(r"[\s,]+", value) if w]
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w.startswith("check_") or re.search(r"_(rbl|rhsbl|dnswl|rhswl)", w) or w == "sleep":
            out.append(f"{w} {words[i + 1]}")
            i += 2
        else:
            out.append(w)
            i += 1
    return out


def may_accept(item):
    name = item.split()[0]
    if name in TRUSTED or name in ("reject", "defer", "defer_if_permit", "defer_if_reject",
                                   "warn_if_reject", "sleep"):
        return False
    return not (name.startswith("reject_") or name.startswith("defer_"))


# (existing list, expected list after wiring)
CASES = [
    ("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
     "check_policy_service unix:private/policyd-spf",
     "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, " + ENTRY
     + ", check_policy_service unix:private/policyd-spf"),
    ("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, permit",
     "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, " + ENTRY
     + ", permit"),
    ("permit_mynetworks permit_auth_destination reject",
     "permit_mynetworks, " + ENTRY + " permit_auth_destination reject"),
    ("permit_mynetworks, permit_auth_destination, reject_unauth_destination",
     "permit_mynetworks, " + ENTRY + ", permit_auth_destination, reject_unauth_destination"),
    ("check_client_access hash:/etc/postfix/client_ok, permit_sasl_authenticated, "
     "reject_unauth_destination",
     ENTRY + ", check_client_access hash:/etc/postfix/client_ok, permit_sasl_authenticated, "
     "reject_unauth_destination"),
    ("permit_mynetworks,reject_rbl_client zen.example.org,check_recipient_access "
     "pcre:/etc/postfix/rcpt_ok,permit_mx_backup,reject_unauth_destination",
     "permit_mynetworks,reject_rbl_client zen.example.org, " + ENTRY
     + ",check_recipient_access pcre:/etc/postfix/rcpt_ok,permit_mx_backup,"
     "reject_unauth_destination"),
]


def check_case(before, expected):
    with Wiring("policy-wiring") as w:
        w.set_list(before)
        w.helper_run("enable", "test")
        after = w.get_list()
        log(f"before: {before}\nafter:  {after}")
        lst = items(after)
        pos = lst.index(ENTRY)
        dead = [i for i in lst[:pos] if may_accept(i)]
        assert not dead, f"the check comes after {dead}: never asked for those clients"
        rud = [i for i, x in enumerate(lst) if x in ("reject_unauth_destination",
                                                    "defer_unauth_destination")]
        if rud and rud[0] > pos:
            assert may_accept(lst[pos + 1]), "before reject_unauth_destination without need"
        assert after == expected, f"expected {expected!r}"
        assert w.helper_run("status").startswith("wired; wanted by: test")
        w.helper_run("disable", "test")
        assert w.get_list() == w.postconf("-h", "smtpd_recipient_restrictions")
        assert w.get_list() == before, f"unwired list {w.get_list()!r} != {before!r}"


for n, (before, expected) in enumerate(CASES):
    def case(before=before, expected=expected):
        check_case(before, expected)
    case.__doc__ = f"wired where it decides in: {before}"
    tap.test(case)


@tap.test
def empty_list():
    """an empty list becomes the stock default with the check after reject_unauth_destination"""
    with Wiring("policy-wiring") as w:
        w.helper_run("enable", "test")
        assert w.get_list() == ("permit_mynetworks, permit_sasl_authenticated, "
                                "reject_unauth_destination, " + ENTRY), w.get_list()
        w.helper_run("disable", "test")
        assert w.postconf("-n", "smtpd_recipient_restrictions") == ""


@tap.test
def admin_edit_unreachable():
    """status says "unreachable" when the admin puts a permit before the check"""
    with Wiring("policy-wiring") as w:
        w.set_list("permit_mynetworks, reject_unauth_destination")
        w.helper_run("enable", "test")
        assert w.helper_run("status").startswith("wired; ")
        for permit in ("permit_auth_destination", "check_recipient_access hash:/etc/postfix/ok",
                       "permit"):
            w.set_list(f"permit_mynetworks, {permit}, " + ENTRY + ", reject_unauth_destination")
            status = w.helper_run("status")
            assert status.startswith("wired but unreachable (") and permit in status, status
            # Wiring again keeps the admin's list, and warns.
            out = w.helper_run("enable", "test")
            assert "never asked" in out, out
        # Moved back before the permit: reachable again.
        w.set_list("permit_mynetworks, " + ENTRY + ", permit_auth_destination")
        assert w.helper_run("status").startswith("wired; ")


sys.exit(tap.run())
