"""imapwire.py - a small raw-socket IMAP client for the load generator.

Contract:
  * Client(host, port): connects and reads the greeting (raises on error).
  * cmd(text, literals=()): sends `<tag> <text>`, where each "{}" in text
    stands for one literal of `literals` (sent as LITERAL+, {n+}, so there
    is one write per command and no continuation round trip), and reads
    until the tagged reply. Returns (untagged, tagged): untagged is a list
    of the untagged replies, each bytes with the literals inlined; tagged
    the tagged line. Raises ImapError unless the reply is OK.
  * idle(): IDLE, waits for the continuation, DONE, reads the tagged OK.
  * login(user, password), logout(), close(): the obvious.
imaplib is not used: it has no IDLE (Python < 3.14), no LITERAL+ and
parses more than a load generator needs; keeping the client cheap keeps
the client's own CPU time out of what is measured.
"""
import re
import socket

LITERAL_AT_END = re.compile(rb"\{(\d+)\}\r\n$")


class ImapError(Exception):
    pass


class Client:
    def __init__(self, host, port, timeout=300):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.tagno = 0
        greeting = self._line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting!r}")

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise ImapError("connection closed by the server")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _reply(self):
        """One server reply, literals inlined."""
        parts = [self._line()]
        while True:
            m = LITERAL_AT_END.search(parts[-1])
            if not m:
                return b"".join(parts)
            parts.append(self._exact(int(m.group(1))))
            parts.append(self._line())

    def send(self, text, literals=()):
        self.tagno += 1
        tag = f"a{self.tagno}"
        pieces = text.split("{}")
        assert len(pieces) == len(literals) + 1, text
        out = [f"{tag} {pieces[0]}".encode()]
        for lit, rest in zip(literals, pieces[1:]):
            out += [f"{{{len(lit)}+}}\r\n".encode(), lit, rest.encode()]
        out.append(b"\r\n")
        self.sock.sendall(b"".join(out))
        return tag.encode()

    def wait(self, tag):
        untagged = []
        while True:
            r = self._reply()
            if r.startswith(tag + b" "):
                if not r.startswith(tag + b" OK"):
                    raise ImapError(r.decode(errors="replace").strip())
                return untagged, r
            untagged.append(r)

    def cmd(self, text, literals=()):
        return self.wait(self.send(text, literals))

    def login(self, user, password):
        return self.cmd(f'LOGIN "{user}" "{password}"')

    def idle(self):
        tag = self.send("IDLE")
        while True:
            r = self._reply()
            if r.startswith(b"+"):
                break
        self.sock.sendall(b"DONE\r\n")
        return self.wait(tag)

    def logout(self):
        try:
            self.cmd("LOGOUT")
        finally:
            self.close()

    def close(self):
        self.sock.close()
