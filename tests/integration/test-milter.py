#!/usr/bin/env python3
"""mailfruit-milter-tlsonly in front of a real Postfix: plaintext refused, TLS accepted.

Postfix runs with smtpd_milters = unix:private/mailfruit-tlsonly (relative to
the queue directory, as chrooted and non-chrooted smtpd both see it) and the
filter's socket at queue/private/mailfruit-tlsonly, made by the filter as
root, owned by postfix, mode 0660, before it drops to nobody. Loopback is
not exempt (exempt_clients = 198.51.100.0/24), so the test client is an
ordinary Internet client; XCLIENT lets it pose as another address.

1. reject: plaintext -> 550 5.7.1; smtplib STARTTLS and swaks --tls ->
   delivered with the X-Mailfruit-TLS header; openssl s_client
   -starttls smtp then MAIL/RCPT without EHLO -> accepted; XCLIENT from the
   exempt CIDR -> delivered, from elsewhere -> 550; SASL AUTH -> accepted;
   SIGHUP to defer mode -> 450 4.7.1 with the configured text ('%' kept).
2. filter down, Postfix's default milter_default_action (tempfail): 451
   4.7.1 at MAIL (454 4.3.0 to STARTTLS), nothing queued; filter back ->
   delivered.
3. filter down with milter_default_action = accept: plaintext delivered
   (fail-open, as the man page describes).
"""
import os
import re
import select
import smtplib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "milter"))
import harness  # noqa: E402
import milter_helper as mh  # noqa: E402
import tls_common as tc  # noqa: E402
from harness import log  # noqa: E402
from tls_common import RCPT, SENDER  # noqa: E402

tap = harness.TapRunner()


class MilterStack(harness.Stack):
    """Postfix + Dovecot (SASL too) with smtpd_milters pointing at the filter,
    which start_milter() runs."""

    def __init__(self, name, mode="reject", main=None):
        super().__init__(name)
        self.sock = os.path.join(self.postfix.queue, "private", "mailfruit-tlsonly")
        self.conf = self.write_conf(mode)
        tc.open_client_access(self)
        self.postfix.params["smtpd_milters"] = "unix:private/mailfruit-tlsonly"
        self.postfix.params.update(main or {})
        self.milter = None

    def write_conf(self, mode, text=None):
        policy = (f"mode = {mode}\nexempt_clients = 198.51.100.0/24\n" +
                  (f"plaintext_text = {text}\n" if text else ""))
        return self.tmp.write("tls-policy.conf", mh.milter_conf(
            policy, self.sock, owner="postfix", mode="0660",
            extra="milter_tls_header = X-Mailfruit-TLS\n"))

    def start_milter(self, name="milter"):
        self.milter = mh.Milter(self.tmp, self.conf, name=name).start()
        return self.milter

    def __exit__(self, exc_type, exc, tb):
        bad = []
        if self.milter is not None:
            self.milter.stop()
            bad = self.milter.sanitizer_lines()
            if exc_type is not None or bad:
                log("--- milter log (last 30 lines) ---")
                for line in self.milter.log_text().splitlines()[-30:]:
                    print(f"#   {line}", flush=True)
        if bad and exc_type is None:
            try:
                raise AssertionError("sanitizer output:\n" + "\n".join(bad))
            except AssertionError:
                super().__exit__(*sys.exc_info())
                raise
        return super().__exit__(exc_type, exc, tb)


def session(stack, subject="milter test", **client):
    """One SMTP session (smtp_client()'s arguments); returns (MAIL code, RCPT
    code, RCPT text, Message-ID or None)."""
    return tc.smtp_transaction(stack.postfix, subject, **client)


def tls_header(message):
    m = re.search(rb"^X-Mailfruit-TLS: ([^\r\n]*)", message, re.M)
    return m.group(1).decode() if m else None


def s_client_without_ehlo(port, cafile):
    """openssl s_client -starttls smtp, then MAIL and RCPT without a new EHLO
    (s_client sends its one EHLO before STARTTLS). One command at a time,
    each after the previous reply. Returns the RCPT reply line."""
    proc = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-crlf", "-quiet",
                             "-connect", f"127.0.0.1:{port}", "-CAfile", cafile],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, preexec_fn=harness._die_with_parent)
    buf = b""

    def reply(timeout=20):
        nonlocal buf
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(rb"^(\d{3}) [^\r\n]*\r?\n", buf, re.M)
            if m:
                line, buf = m.group(0).decode().strip(), buf[m.end():]
                return line
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
                raise TimeoutError(f"s_client: no reply, got {buf!r}")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise EOFError(f"s_client ended, got {buf!r}")
            buf += chunk

    try:
        proc.stdin.write(f"MAIL FROM:<{SENDER}>\n".encode())
        proc.stdin.flush()
        mail = reply()
        assert mail.startswith("250"), f"MAIL: {mail}"
        proc.stdin.write(f"RCPT TO:<{RCPT}>\n".encode())
        proc.stdin.flush()
        rcpt = reply()
        proc.stdin.write(b"QUIT\n")
        proc.stdin.flush()
        reply()
        return rcpt
    finally:
        proc.kill()
        proc.wait(10)


def swaks_tls(port, subject):
    proc = harness.run(["swaks", "--server", f"127.0.0.1:{port}", "--tls", "--helo",
                        "client.example.net", "--from", SENDER, "--to", RCPT,
                        "--header", f"Subject: {subject}"], check=False, timeout=60)
    return proc.returncode, proc.stdout


@tap.test
def test_reject_mode():
    """reject: plaintext 550; STARTTLS, swaks --tls, s_client without EHLO, exempt CIDR, SASL accepted"""
    with MilterStack("milter-reject") as stack:
        milter = stack.start_milter()
        st = os.stat(stack.sock)
        assert st.st_mode & 0o777 == 0o660, oct(st.st_mode)
        assert milter.uid() == 65534, f"filter runs as uid {milter.uid()}"

        _, code, text, _ = session(stack)
        assert (code, text) == (550, "5.7.1 Must issue a STARTTLS command first"), (code, text)
        stack.postfix.wait_log(r"milter-reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 "
                               r"Must issue a STARTTLS command first")
        line = milter.wait_log(r"reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 [^\n]*")
        for part in (f"from=<{SENDER}>", f"to=<{RCPT}>", "tls=none", "rule=plaintext"):
            assert part in line.group(0), f"{part} missing in {line.group(0)}"

        ids = []
        _, code, text, msgid = session(stack, starttls=True)
        assert code == 250, (code, text)
        ids.append(msgid)
        assert re.search(r"pass: RCPT [^\n]*tls=TLSv1\.[23]/\S+ rule=tls", milter.log_text())

        rc, out = swaks_tls(stack.postfix.port, "via swaks")
        assert rc == 0 and re.search(r"^<~ +250 2\.1\.5 ", out, re.M) and "queued as" in out, \
            f"swaks: {rc}\n{out}"

        rcpt = s_client_without_ehlo(stack.postfix.port, stack.postfix.cert)
        assert rcpt.startswith("250"), f"STARTTLS without a new EHLO: {rcpt}"
        stack.postfix.wait_log(r"ehlo=1 starttls=1 mail=1 rcpt=1 quit=1")

        _, code, text, msgid = session(stack, xclient="ADDR=198.51.100.7 NAME=legacy.example")
        assert code == 250, f"exempt client: {code} {text}"
        ids.append(msgid)
        assert re.search(r"pass: RCPT from legacy\.example\[198\.51\.100\.7\]: CONTINUE; [^\n]*"
                         r"rule=client_address\(198\.51\.100\.0/24\)", milter.log_text())
        _, code, text, _ = session(stack, xclient="ADDR=192.0.2.99")
        assert code == 550, f"XCLIENT outside the exempt CIDR: {code} {text}"

        _, code, text, msgid = session(stack, login=True)
        assert code == 250, f"SASL-authenticated plaintext submission: {code} {text}"
        ids.append(msgid)
        assert re.search(r"pass: RCPT [^\n]*sasl=<alice@example\.test> [^\n]*rule=authenticated",
                         milter.log_text())

        msgs = tc.delivered(stack, ids, others=1)    # and swaks's
        hdr = tls_header(msgs[ids[0]])
        assert hdr and re.fullmatch(r"TLSv1\.[23] cipher=\S+ bits=\d+", hdr), hdr
        assert tls_header(msgs[ids[1]]) == "none", "exempt plaintext message: header"
        log(f"{len(ids)} messages delivered; TLS header: {hdr}")

        # SIGHUP: defer mode with a text that has a '%' in it.
        stack.write_conf("defer", text="TLS 100% required, use STARTTLS")
        milter.reload()
        _, code, text, _ = session(stack)
        assert (code, text) == (450, "4.7.1 TLS 100% required, use STARTTLS"), (code, text)


@tap.test
def test_milter_down_tempfail():
    """filter down, milter_default_action as shipped (tempfail): 451 4.7.1 (3.10: 421 greeting), nothing queued; back up: delivered"""
    with MilterStack("milter-down") as stack:
        try:
            code, _, text, _ = session(stack)
            connect_refused = False
        except smtplib.SMTPConnectError as e:
            # Postfix 3.10 connects the milter when the client connects and,
            # with it unreachable, answers the greeting with 421.
            assert e.smtp_code == 421 and \
                e.smtp_error.endswith(b" Service unavailable - try again later"), e
            connect_refused = True
        if connect_refused:
            stack.postfix.wait_log(r"milter-reject: CONNECT from localhost\[127\.0\.0\.1\]: "
                                   r"421 4\.7\.1 Service unavailable")
        else:
            assert code == 451 and text == "4.7.1 Service unavailable - try again later", \
                (code, text)
            # Postfix 3.7.11 refuses STARTTLS as well while the filter is
            # unreachable: the client learns nothing and retries later.
            try:
                session(stack, starttls=True)
                raise AssertionError("STARTTLS was accepted with the filter down")
            except smtplib.SMTPResponseException as e:
                assert (e.smtp_code, e.smtp_error) == (454, b"4.3.0 Try again later"), e
        stack.postfix.wait_log(r"warning: connect to Milter service unix:private/mailfruit-tlsonly")
        assert stack.postfix.queue_ids() == [], "a refused message was queued"
        stack.start_milter()
        _, code, text, msgid = session(stack, starttls=True, subject="milter is back")
        assert code == 250, f"after the filter started: {code} {text}"
        tc.delivered(stack, [msgid])


@tap.test
def test_milter_down_accept():
    """filter down with milter_default_action = accept: plaintext delivered (fail-open)"""
    with MilterStack("milter-accept", main={"milter_default_action": "accept"}) as stack:
        _, code, text, msgid = session(stack, subject="no filter, fail-open")
        assert code == 250, f"default_action=accept: {code} {text}"
        tc.delivered(stack, [msgid])
        stack.start_milter()
        _, code, text, _ = session(stack)
        assert code == 550, f"filter running again: {code} {text}"


if __name__ == "__main__":
    sys.exit(tap.run())
