#!/usr/bin/env python3
"""mailfruit demo: a private Postfix + Dovecot on loopback, one message through it.

Starts the same real servers the integration tests use (in a temp dir, on
free 127.0.0.1 ports, nothing in /etc touched), sends a message over SMTP
with STARTTLS, reads it back over IMAP, prints each step, and stops them.
With --stay it keeps the servers running until Ctrl-C and prints how to
connect a mail client.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def say(msg):
    print(f"mailfruit-demo: {msg}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stay", action="store_true",
                    help="keep the servers running until Ctrl-C")
    args = ap.parse_args()
    if os.geteuid() != 0:
        say("must run as root (Postfix's master starts as root)")
        return 77
    harness.log = lambda msg: say(msg)   # the harness's progress lines, unprefixed by '#'
    user = "alice@example.test"
    with harness.Stack("demo") as stack:
        pf, dc = stack.postfix, stack.dovecot
        say(f"Postfix smtpd 127.0.0.1:{pf.port} -> LMTP 127.0.0.1:{dc.lmtp_port} -> "
            f"Dovecot maildir {dc.home(user)}/Maildir")
        message, msgid = harness.make_message("Hello from the mailfruit demo")
        say(f"SMTP: sending {len(message)} bytes to {user} with STARTTLS")
        harness.smtp_send(pf.port, message, "sender@example.net", [user],
                          starttls=True, cafile=pf.cert)
        [delivered] = harness.imap_wait_fetch(dc, user)
        trace, rest = harness.split_trace(delivered)
        say(f"IMAP: {user} has the message: {len(delivered)} bytes, "
            f"{len(trace)} trace header fields added, "
            f"content {'identical' if rest == message else 'DIFFERENT'} to what was sent")
        for field in trace:
            say("  " + field.rstrip().replace("\r\n", "\n  "))
        for line in pf.log_text().splitlines():
            if "TLS connection established" in line or "status=sent" in line:
                say(f"postfix log: {line}")
        if rest != message:
            return 1
        if args.stay:
            say(f"servers stay up: SMTP 127.0.0.1:{pf.port} (STARTTLS), "
                f"IMAP 127.0.0.1:{dc.imap_port}, POP3 127.0.0.1:{dc.pop3_port}; "
                f"login {user} / {dc.users[user]}; logs in {stack.tmp.path}. Ctrl-C stops them.")
            try:
                while stack.postfix.running() and stack.dovecot.running():
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    say("done: both servers stopped, temp dir removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
