#!/usr/bin/env python3
"""Mail passes from a real Postfix to a real Dovecot and reads back unchanged.

1. SMTP with STARTTLS (certificate made at test time) -> Postfix -> LMTP ->
   Dovecot -> IMAP: the message arrives with identical headers and body, and
   Postfix recorded the TLS session in its log and Received header.
2. The same over plaintext SMTP: accepted for now (the policy daemon and the
   milter make this configurable), and recorded as not encrypted.
3. POP3 reads the same bytes as IMAP.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import log  # noqa: E402

tap = harness.TapRunner()


def deliver_and_compare(stack, starttls):
    pf, dc = stack.postfix, stack.dovecot
    message, msgid = harness.make_message(
        "mailfruit delivery over " + ("STARTTLS" if starttls else "plaintext"))
    refused = harness.smtp_send(pf.port, message, "sender@example.net", ["alice@example.test"],
                                starttls=starttls, cafile=pf.cert)
    assert refused == {}, f"recipients refused: {refused}"
    log(f"sent {len(message)} bytes, Message-ID {msgid}")

    [delivered] = harness.imap_wait_fetch(dc, "alice@example.test")
    trace, rest = harness.split_trace(delivered)
    log(f"IMAP returned {len(delivered)} bytes: {len(trace)} trace fields + {len(rest)} bytes as sent")
    assert rest == message, ("headers or body changed in transit:\n"
                             f"sent:     {message[:300]!r}\nreceived: {rest[:300]!r}")
    assert any(t.lower().startswith("received:") and "mx.mailfruit.test" in t for t in trace), \
        f"no Received field from the Postfix instance: {trace}"

    postfix_received = next(t for t in trace if "by mx.mailfruit.test" in t)
    # Dovecot may show the message before Postfix's lmtp client has logged
    # the 250 it received: wait for the line.
    pf.wait_log(r"status=sent \(250 2\.0\.0 <alice@example\.test> \S+ Saved\)", timeout=15)
    tls_logged = re.search(r"TLS connection established from \S+: (TLSv[0-9.]+) with cipher (\S+)",
                           pf.log_text())
    if starttls:
        assert tls_logged, "Postfix did not log the TLS session"
        assert "(using TLSv" in postfix_received, f"Received field lacks TLS: {postfix_received}"
        log(f"Postfix logged TLS: {tls_logged.group(1)} {tls_logged.group(2)}")
    else:
        assert not tls_logged, "Postfix logged a TLS session for a plaintext delivery"
        assert "(using TLS" not in postfix_received, f"plaintext marked as TLS: {postfix_received}"
    return message


@tap.test
def test_starttls():
    """SMTP STARTTLS -> Postfix -> LMTP -> Dovecot -> IMAP, message unchanged"""
    with harness.Stack("starttls") as stack:
        deliver_and_compare(stack, starttls=True)


@tap.test
def test_plaintext():
    """plaintext SMTP -> Postfix -> LMTP -> Dovecot -> IMAP, accepted for now, message unchanged"""
    with harness.Stack("plaintext", tls=False) as stack:
        deliver_and_compare(stack, starttls=False)


@tap.test
def test_pop3_reads_same():
    """POP3 RETR returns the bytes IMAP returns"""
    with harness.Stack("pop3") as stack:
        deliver_and_compare(stack, starttls=True)
        [via_imap] = harness.imap_wait_fetch(stack.dovecot, "alice@example.test")
        pop = stack.dovecot.pop3("alice@example.test")
        try:
            _, lines, _ = pop.retr(1)
        finally:
            pop.quit()
        via_pop = b"".join(line + b"\r\n" for line in lines)
        assert via_pop == via_imap, "POP3 and IMAP disagree on the message bytes"


if __name__ == "__main__":
    sys.exit(tap.run())
