#!/usr/bin/env python3
"""mailfruit-policyd in front of a real Postfix: plaintext refused, TLS accepted.

Postfix runs with the restrictions the man page recommends,
  smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
      reject_unauth_destination, check_policy_service unix:private/tlspolicy
and mynetworks without 127.0.0.1, so that the test client on loopback is
an ordinary Internet client; XCLIENT (smtpd_authorized_xclient_hosts) lets it
pose as another address. The daemon runs under spawn(8) as Postfix starts
it, and standalone with its socket in the queue directory's private/.

1. reject: plaintext -> 550 5.7.1; STARTTLS -> delivered; STARTTLS and MAIL
   without a second EHLO -> delivered; exempt CIDR via XCLIENT -> delivered;
   SASL AUTH (Dovecot) -> accepted.
2. defer: plaintext -> 450 4.7.1, TLS -> delivered.
3. warn: plaintext -> delivered, logged by the daemon and by Postfix (WARN).
4. standalone: refuses plaintext; stopped -> Postfix's default action 451
   4.3.5 and nothing queued (the client keeps the mail); restarted -> the
   same mail is delivered.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "policy"))
import harness  # noqa: E402
import policyd_client as pc  # noqa: E402
import tls_common as tc  # noqa: E402
from harness import log  # noqa: E402
from tls_common import RCPT  # noqa: E402

tap = harness.TapRunner()
EXEMPT_NET = "198.51.100.0/24"


def policy_conf(mode, extra=""):
    return (f"mode = {mode}\n"
            f"exempt_clients = {EXEMPT_NET}\n"
            "policyd_user = nobody\n"
            "policyd_socket_owner = postfix\n" + extra)


def postfix_main(tmp):
    """main.cf beyond tc.open_client_access()."""
    san = tmp.sub("sanitizer", mode=0o1777)
    return {
        "tlspolicy_time_limit": "3600",
        # Sanitizer reports of the spawned daemon (its stderr is the socket).
        "export_environment": f"TZ MAIL_CONFIG LANG ASAN_OPTIONS=log_path={san}/asan "
                              f"UBSAN_OPTIONS=log_path={san}/ubsan",
    }


class PolicyStack(harness.Stack):
    """A Stack whose Postfix asks mailfruit-policyd (spawned by its master
    unless spawn=False) and authenticates SASL clients against its Dovecot."""

    def __init__(self, name, mode, spawn=True):
        super().__init__(name)
        tmp = self.tmp
        self.policy_log = tmp.write("policyd.log", "", mode=0o666)
        self.conf = pc.write_conf(tmp, policy_conf(mode))
        tc.open_client_access(self, "check_policy_service unix:private/tlspolicy")
        self.postfix.params.update(postfix_main(tmp))
        if spawn:
            binary = pc.install_binary(tmp)
            self.postfix.master_lines.insert(
                1, f"tlspolicy unix - n n - 0 spawn user=nobody argv={binary} -v "
                   f"-c {self.conf} -L {self.policy_log}")

    def policy_log_text(self):
        with open(self.policy_log, errors="replace") as f:
            return f.read()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            log("--- policyd log ---")
            for line in self.policy_log_text().splitlines()[-20:]:
                print(f"#   {line}", flush=True)
        san = os.path.join(self.tmp.path, "sanitizer")
        reports = pc.sanitizer_reports(self.tmp) + [os.path.join(san, f) for f in os.listdir(san)]
        reports += pc.sanitizer_lines(self.tmp)
        if reports and exc_type is None:
            for path in reports:
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        log(f"--- {path} ---\n{f.read()}")
            try:
                raise AssertionError(f"sanitizer reports: {reports}")
            except AssertionError:
                super().__exit__(*sys.exc_info())
                raise
        return super().__exit__(exc_type, exc, tb)


def smtp_session(stack, subject="policy test", **client):
    """One SMTP session (smtp_client()'s arguments); returns (RCPT code,
    RCPT text, Message-ID or None)."""
    mail, code, text, msgid = tc.smtp_transaction(stack.postfix, subject, **client)
    assert mail == 250, f"MAIL: {mail} {text}"
    return code, text, msgid


@tap.test
def test_reject_mode():
    """reject: plaintext 550; STARTTLS, STARTTLS without EHLO, exempt CIDR, SASL accepted"""
    with PolicyStack("policy-reject", "reject") as stack:
        code, text, _ = smtp_session(stack)
        assert code == 550 and text == (f"5.7.1 <{RCPT}>: Recipient address rejected: "
                                        "Must issue a STARTTLS command first"), (code, text)
        stack.postfix.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.7\.1")
        line = harness.wait_for(lambda: re.search(r"reject: RCPT from \S+\[127\.0\.0\.1\]: 550 "
                                                  r"5\.7\.1 [^\n]*", stack.policy_log_text()),
                                10, "policyd reject line").group(0)
        for part in ("from=<sender@example.net>", f"to=<{RCPT}>", "helo=<client.example.net>",
                     "tls=none", "rule=plaintext"):
            assert part in line, f"{part} missing in {line}"
        log(f"policyd: {line}")

        ids = []
        code, text, msgid = smtp_session(stack, starttls=True)
        assert code == 250, (code, text)
        ids.append(msgid)
        assert re.search(r"pass: RCPT [^\n]*tls=TLSv1\.[23]/\S+ rule=tls", stack.policy_log_text())
        code, text, msgid = smtp_session(stack, starttls=True, ehlo_after_tls=False)
        assert code == 250, f"STARTTLS without a new EHLO: {code} {text}"
        ids.append(msgid)
        stack.postfix.wait_log(r"ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1")
        code, text, msgid = smtp_session(stack, xclient="ADDR=198.51.100.7 NAME=legacy.example")
        assert code == 250, f"exempt client: {code} {text}"
        ids.append(msgid)
        assert re.search(r"pass: RCPT from legacy\.example\[198\.51\.100\.7\]: DUNNO; [^\n]*"
                         r"rule=client_address\(198\.51\.100\.0/24\)", stack.policy_log_text())
        code, text, msgid = smtp_session(stack, xclient="ADDR=192.0.2.99")
        assert code == 550, f"XCLIENT outside the exempt CIDR: {code} {text}"
        code, text, msgid = smtp_session(stack, login=True)
        assert code == 250, f"SASL-authenticated plaintext submission: {code} {text}"
        ids.append(msgid)
        tc.delivered(stack, ids)
        log(f"{len(ids)} messages delivered")


@tap.test
def test_defer_mode():
    """defer: plaintext 450 4.7.1, STARTTLS delivered"""
    with PolicyStack("policy-defer", "defer") as stack:
        code, text, _ = smtp_session(stack)
        assert code == 450 and text.startswith(f"4.7.1 <{RCPT}>: Recipient address rejected: "
                                               "Must issue a STARTTLS"), (code, text)
        code, text, msgid = smtp_session(stack, starttls=True)
        assert code == 250, (code, text)
        tc.delivered(stack, [msgid])


@tap.test
def test_warn_mode():
    """warn: plaintext delivered and logged by the daemon and by Postfix"""
    with PolicyStack("policy-warn", "warn") as stack:
        code, text, msgid = smtp_session(stack)
        assert code == 250, (code, text)
        tc.delivered(stack, [msgid])
        assert re.search(r"warn: RCPT from \S+\[127\.0\.0\.1\]: WARN [^\n]*rule=plaintext",
                         stack.policy_log_text()), stack.policy_log_text()
        m = stack.postfix.wait_log(r"warn: RCPT from localhost\[127\.0\.0\.1\]: mailfruit TLS "
                                   r"policy: Must issue a STARTTLS command first[^\n]*")
        log(f"postfix: {m.group(0)}")


@tap.test
def test_standalone_down_and_up():
    """standalone in private/: refuses plaintext; stopped -> 451 4.3.5, nothing queued; back -> delivered"""
    with PolicyStack("policy-standalone", "reject", spawn=False) as stack:
        sock = os.path.join(stack.postfix.queue, "private", "tlspolicy")
        conf = pc.write_conf(stack.tmp, policy_conf("reject", f"policyd_listen = unix:{sock}\n"))

        def start_daemon(n):
            return pc.Standalone(stack.tmp, conf, args=["-v"], log_name="standalone.log",
                                 name=f"policyd-{n}").start()

        daemon = start_daemon(1)
        try:
            st = os.stat(sock)
            assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
            code, text, _ = smtp_session(stack)
            assert code == 550, f"standalone daemon: {code} {text}"
        finally:
            assert daemon.stop() == 0
        code, text, _ = smtp_session(stack, starttls=True, subject="while the daemon is down")
        assert code == 451 and "4.3.5" in text and "Server configuration problem" in text, \
            f"daemon down: {code} {text}"
        stack.postfix.wait_log(r"warning: problem talking to server private/tlspolicy")
        assert stack.postfix.queue_ids() == [], "a refused message was queued"
        daemon = start_daemon(2)
        try:
            code, text, msgid = smtp_session(stack, starttls=True, subject="daemon is back")
            assert code == 250, f"after restart: {code} {text}"
            tc.delivered(stack, [msgid])
        finally:
            assert daemon.stop() == 0


if __name__ == "__main__":
    sys.exit(tap.run())
