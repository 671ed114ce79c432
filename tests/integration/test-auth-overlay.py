#!/usr/bin/env python3
"""The auth-module overlay: Dovecot loads a driver that exists only in the test.

Dovecot loads passdb/userdb drivers only from /usr/lib/dovecot/modules/auth.
The harness runs the test Dovecot in a private mount namespace where a copy of
that directory, plus the build's modules, is bind-mounted over it. Here the
build's test-only driver "mftest" (authdb-mftest.c) authenticates an IMAP
login, and the system directory is the same before, during and after.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import dovecot_conf  # noqa: E402
from harness import log  # noqa: E402

tap = harness.TapRunner()
MODULE = os.path.join(harness.BUILDDIR, "tests", "integration", ".libs", "libauthdb_mftest.so")


@tap.test
def test_overlay_driver_login():
    """a passdb driver from the build authenticates IMAP; /usr/lib/dovecot/modules/auth untouched"""
    system_before = sorted(os.listdir(harness.DOVECOT_AUTH_MODULE_DIR))
    assert os.path.exists(MODULE), f"build the test driver first: {MODULE} is missing"
    assert "libauthdb_mftest.so" not in system_before
    passdb = dovecot_conf.passdb("mftest", args="password=overlay-Pass-9",
                                 settings={"passdb_static_password": "overlay-Pass-9"})
    with harness.Stack("auth-overlay", postfix=False, passdb=passdb,
                       auth_modules=[MODULE]) as stack:
        dc = stack.dovecot
        conn = dc.imap("alice@example.test", "overlay-Pass-9")
        typ, _ = conn.select("INBOX")
        conn.logout()
        assert typ == "OK"
        log("IMAP login through the overlay driver: OK")
        try:
            dc.imap("alice@example.test", "wrong-password")
        except harness.imaplib.IMAP4.error as e:
            log(f"wrong password refused: {e}")
        else:
            raise AssertionError("the overlay driver accepted a wrong password")
        # Fails by timeout when the log does not show the mftest driver at work.
        dc.wait_log(r"passdb mftest: verifying alice@example\.test")
        during = sorted(os.listdir(harness.DOVECOT_AUTH_MODULE_DIR))
        assert during == system_before, f"system auth dir changed while running: {during}"
        # Stock modules stay loadable next to ours inside the namespace.
        # /proc/PID/root shows the filesystem as Dovecot sees it, mounts included.
        inside = os.listdir(f"/proc/{dc.pid}/root{harness.DOVECOT_AUTH_MODULE_DIR}")
        assert "libauthdb_mftest.so" in inside and set(system_before) <= set(inside), inside
    assert sorted(os.listdir(harness.DOVECOT_AUTH_MODULE_DIR)) == system_before


if __name__ == "__main__":
    sys.exit(tap.run())
