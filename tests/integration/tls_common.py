"""tls_common.py - what the tests and the benchmarks of the two TLS-only
daemons (mailfruit-policyd, mailfruit-milter-tlsonly) share: the same Postfix
in front of the same mailbox, asked by the same client, and the same way of
running a daemon under test.

  RCPT, PASSWORD, SENDER        the test mailbox, its password, the sender
  open_client_access(stack, check)
                                the Stack's Postfix takes the test client on
                                loopback as an ordinary Internet client that
                                may pose as another (XCLIENT) and log in
                                (SASL through the Stack's Dovecot); check is
                                the last RCPT restriction, if any
  smtp_client(postfix, ...)     an SMTP session past EHLO, XCLIENT, STARTTLS
                                and AUTH, as asked (a context manager)
  smtp_transaction(postfix, subject, ...)
                                one message from SENDER in an smtp_client()
                                session: MAIL, RCPT and, if accepted, DATA
  delivered(stack, msgids)      the delivered messages, by Message-ID
  smtp_source(port, messages, sessions)
                                plaintext sessions with smtp-source; seconds
  LoggedDaemon                  start() that waits for the startup line,
                                wait_log() and uid() for a daemon under test
                                (mixed into a harness.NamespacedProcess)
"""
import contextlib
import os
import re
import smtplib
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RCPT = "alice@example.test"
PASSWORD = "alice-Secret-1"
SENDER = "sender@example.net"


def open_client_access(stack, check=""):
    sasl_path = os.path.join(stack.dovecot.base_dir, "auth-client")
    stack.postfix.params.update({
        # Not 127.0.0.1: the test client must not be a trusted network.
        "mynetworks": "192.0.2.250/32",
        "smtpd_authorized_xclient_hosts": "127.0.0.1",
        "smtpd_recipient_restrictions": "permit_mynetworks, permit_sasl_authenticated, "
                                        "reject_unauth_destination" +
                                        (f", {check}" if check else ""),
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": sasl_path,
    })
    # Relative to Dovecot's base_dir, i.e. sasl_path; 0666, since Postfix's
    # smtpd runs as postfix, not as Dovecot's user.
    stack.dovecot.extra_conf += ("service auth {\n  unix_listener auth-client {\n"
                                 "    mode = 0666\n  }\n}\n")


@contextlib.contextmanager
def smtp_client(postfix, starttls=False, ehlo_after_tls=True, xclient=None, login=False):
    """client.example.net on 127.0.0.1 after EHLO; then XCLIENT with the
    attributes in xclient and EHLO, STARTTLS and (unless not
    ehlo_after_tls) EHLO, AUTH as RCPT, each when asked. QUIT at the end."""
    with smtplib.SMTP("127.0.0.1", postfix.port, local_hostname="client.example.net",
                      timeout=30) as smtp:
        smtp.ehlo()
        if xclient:
            code, text = smtp.docmd("XCLIENT", xclient)
            assert code == 220, f"XCLIENT {xclient}: {code} {text}"
            smtp.ehlo()
        if starttls:
            ctx = ssl.create_default_context(cafile=postfix.cert)
            ctx.check_hostname = False
            smtp.starttls(context=ctx)
            if ehlo_after_tls:
                smtp.ehlo()
        if login:
            smtp.login(RCPT, PASSWORD)
        yield smtp


def smtp_transaction(postfix, subject, **client):
    """MAIL FROM SENDER, RCPT TO RCPT and, when that got 250, DATA with a
    new message, in a session of smtp_client(postfix, **client). Returns
    (MAIL code, RCPT code, text, Message-ID): the RCPT code is None when
    MAIL was refused, text is the last reply's, the Message-ID None unless
    the message was sent."""
    message, msgid = harness.make_message(subject, sender=SENDER, rcpt=RCPT)
    with smtp_client(postfix, **client) as smtp:
        code, text = smtp.mail(SENDER)
        if code != 250:
            harness.log(f"MAIL FROM:<{SENDER}> -> {code} {text.decode()}")
            return code, None, text.decode(), None
        rcode, rtext = smtp.rcpt(RCPT)
        rtext = rtext.decode()
        harness.log(f"RCPT TO:<{RCPT}> -> {rcode} {rtext}")
        if rcode == 250:
            smtp.data(message)
            return code, rcode, rtext, msgid
    return code, rcode, rtext, None


def delivered(stack, msgids, user=RCPT, others=0):
    """{Message-ID: message} of msgids, each of which must be in user's
    INBOX; `others` more messages are in there too."""
    got = harness.imap_wait_fetch(stack.dovecot, user, count=len(msgids) + others)
    found = {}
    for msgid in msgids:
        msgs = [m for m in got if msgid.encode() in m]
        assert msgs, f"{msgid} not delivered"
        found[msgid] = msgs[0]
    return found


def smtp_source(port, messages, sessions):
    """smtp-source -A: `messages` plaintext sessions from SENDER to RCPT,
    `sessions` at a time; the seconds they took."""
    cmd = ["smtp-source", "-A", "-s", str(sessions), "-m", str(messages),
           "-f", SENDER, "-t", RCPT, "-M", "client.example.net",
           f"127.0.0.1:{port}"]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"smtp-source exit {proc.returncode}: {proc.stderr[-500:]}")
    return elapsed


class LoggedDaemon:
    """Mixed in before harness.NamespacedProcess by a class that has
    log_text() (what the daemon has logged so far) and LOG_NAME (for
    timeout messages)."""

    LOG_NAME = "daemon log"

    def start(self, wait_log=r"started: mode="):
        """Starts it; waits for wait_log in what it logs from now on (the
        log may hold an earlier daemon's lines), unless that is None."""
        before = len(self.log_text())
        super().start()
        if wait_log is not None:
            self.wait_log(wait_log, after=before)
        return self

    def wait_log(self, pattern, timeout=10, after=0):
        rx = re.compile(pattern)
        return harness.wait_for(lambda: rx.search(self.log_text(), after), timeout,
                                f"{self.LOG_NAME} /{pattern}/")

    def uid(self):
        """The real uid of the daemon (the namespace's child process)."""
        with open(f"/proc/{self.child}/status") as f:
            return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
