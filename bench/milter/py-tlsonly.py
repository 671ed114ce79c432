#!/usr/bin/python3
"""py-tlsonly.py - the benchmark's peer: a python3-milter (pymilter) filter
doing mailfruit-milter-tlsonly's check, for Debian's /usr/bin/python3.

Refuses a recipient with 550 5.7.1 unless the session used TLS
({tls_version}), the client authenticated ({auth_authen}) or its address is
in EXEMPT. Asks for those macros at RCPT (STARTTLS without EHLO), does not
wait at CONNECT, and leaves every other step to pymilter's defaults (not
negotiated). One stderr line per refusal, as the C filter logs one.

usage: py-tlsonly.py unix:/path/to/socket
"""
import ipaddress
import sys

import Milter

EXEMPT = [ipaddress.ip_network(n) for n in ("198.51.100.0/24",)]


class TlsOnly(Milter.Base):
    def __init__(self):
        self.client = None

    @Milter.noreply
    def connect(self, hostname, family, hostaddr):
        self.client = hostaddr[0] if hostaddr else None
        return Milter.CONTINUE

    @Milter.symlist("{tls_version}", "{auth_authen}", "{client_addr}")
    def envrcpt(self, to, *params):
        if self.getsymval("{tls_version}") or self.getsymval("{auth_authen}"):
            return Milter.CONTINUE
        addr = self.client or self.getsymval("{client_addr}")
        try:
            if addr and any(ipaddress.ip_address(addr) in n for n in EXEMPT):
                return Milter.CONTINUE
        except ValueError:
            pass
        print(f"reject: RCPT from [{addr}] to={to}", file=sys.stderr, flush=True)
        self.setreply("550", "5.7.1", "Must issue a STARTTLS command first")
        return Milter.REJECT


def main():
    Milter.factory = TlsOnly
    Milter.runmilter("py-tlsonly", sys.argv[1], 60)


if __name__ == "__main__":
    main()
