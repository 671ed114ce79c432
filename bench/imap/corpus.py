"""corpus.py - a deterministic corpus of real-looking mail for the IMAP bench.

Contract:
  * messages(count, seed=1): `count` RFC 5322 messages (bytes, CRLF), the
    same for the same (count, seed). Sizes spread from ~1 KB to ~250 KB
    (most a few KB, a long tail, like a real INBOX); a mix of text/plain,
    multipart/alternative (text + HTML), multipart/mixed with a base64
    attachment and mailing-list mail; full header sets as delivered mail
    has them (Received chain, DKIM-Signature, ARC/Authentication-Results,
    List-*, Message-ID, threads through In-Reply-To/References).
  * SUBJECT_WORDS, SENDERS: what SEARCH/SORT commands can look for; every
    word and sender occurs in some messages and not in others.
  * BODY_MARKER: a word that occurs only in message bodies (in about one
    message out of 20), for SEARCH BODY/TEXT.
Nothing here touches the network or the disk.
"""
import base64
import random

SENDERS = [
    ("Alice Martin", "alice.martin@example.org"),
    ("Bob Okafor", "bob@lists.example.net"),
    ("Carla Nunes", "carla.nunes@example.com"),
    ("Deniz Yilmaz", "deniz@mail.example.de"),
    ("GitLab", "gitlab@code.example.org"),
    ("Eve Dubois", "eve.dubois@example.fr"),
    ("Facture Energie", "no-reply@billing.example.com"),
    ("Hiroshi Tanaka", "h.tanaka@example.jp"),
    ("Ingrid Berg", "ingrid@example.no"),
    ("Debian Security", "security@debian.example"),
]
SUBJECT_WORDS = ["meeting", "invoice", "release", "budget", "holiday", "security",
                 "review", "minutes", "dinner", "backup", "migration", "newsletter"]
BODY_MARKER = "quokka"
LISTS = ["dev.lists.example.net", "users.lists.example.net", "announce.example.org"]
WORDS = ("the of and to in is that for it as was with be by on not he this are or his "
         "from at which but have an they you were her she there been one all we their "
         "server mailbox storage encryption cache index message client protocol delivery "
         "schedule agenda project quarter report attached please thanks regards question "
         "meeting invoice release budget holiday review minutes dinner backup migration").split()


def _sentence(rng, words=None):
    n = rng.randint(6, 18)
    s = " ".join(rng.choice(words or WORDS) for _ in range(n))
    return s[0].upper() + s[1:] + rng.choice(".!?.")


def _paragraphs(rng, size, marker):
    out, length = [], 0
    while length < size:
        lines, line = [], ""
        for _ in range(rng.randint(2, 6)):
            for word in _sentence(rng).split():
                if len(line) + len(word) > 72:
                    lines.append(line)
                    line = ""
                line = f"{line} {word}" if line else word
        lines.append(line)
        para = "\r\n".join(lines)
        out.append(para)
        length += len(para) + 4
    if marker:
        out.insert(rng.randrange(len(out) + 1), f"Did you see the {BODY_MARKER} photos?")
    return "\r\n\r\n".join(out) + "\r\n"


def _date(rng, i):
    # Spread over 2026, increasing with i (plus jitter) so SORT (DATE)
    # differs from arrival order.
    day = min(364, i * 365 // 400 + rng.randint(-3, 3)) if i else rng.randint(0, 30)
    day = max(0, day)
    months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    m = 0
    while day >= months[m]:
        day -= months[m]
        m += 1
    wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(sum(months[:m]) + day) % 7]
    mon = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[m]
    return (f"{wd}, {day + 1:d} {mon} 2026 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d} {rng.choice(['+0000', '+0100', '-0500', '+0900'])}")


def _received(rng, date):
    hosts = ["mx1.example.org", "relay.example.net", "smtp-out.example.com", "mail.example.de"]
    out = []
    for hop in range(rng.randint(2, 4)):
        a, b = rng.sample(hosts, 2)
        out.append(f"Received: from {a} ({a} [192.0.2.{rng.randint(1, 254)}])\r\n"
                   f"\tby {b} (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\r\n"
                   f"\tfor <me@mailfruit.test>; {date}")
    return out


def _dkim(rng, domain):
    b = base64.b64encode(rng.randbytes(256)).decode()
    bh = base64.b64encode(rng.randbytes(32)).decode()
    folded = "\r\n\t ".join(b[k:k + 70] for k in range(0, len(b), 70))
    return (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\r\n"
            f"\ts=2026a; t={rng.randint(1767225600, 1798761600)};\r\n"
            f"\th=from:to:subject:date:message-id:mime-version:content-type;\r\n"
            f"\tbh={bh};\r\n\tb={folded}")


def _attachment(rng, size):
    raw = rng.randbytes(size)
    enc = base64.b64encode(raw).decode()
    return "\r\n".join(enc[k:k + 76] for k in range(0, len(enc), 76)) + "\r\n"


def _size(rng):
    """Body size: log-normal-ish, median ~3 KB, some up to ~250 KB."""
    return int(min(250000, max(300, rng.lognormvariate(8.0, 1.2))))


def message(i, rng, thread_ids):
    name, addr = rng.choice(SENDERS)
    domain = addr.split("@")[1]
    date = _date(rng, i)
    words = rng.sample(SUBJECT_WORDS, 2)
    kind = rng.choices(["plain", "alt", "mixed", "list"], [40, 25, 15, 20])[0]
    size = _size(rng)
    marker = rng.random() < 0.05
    msgid = f"<{rng.getrandbits(64):016x}.{i}@{domain}>"
    head = _received(rng, date)
    head.append(f"Authentication-Results: mx1.mailfruit.test; dkim=pass header.d={domain}; "
                f"spf=pass smtp.mailfrom={addr}")
    head.append(_dkim(rng, domain))
    head.append(f"From: {name} <{addr}>")
    head.append("To: Me <me@mailfruit.test>" +
                (", Team <team@mailfruit.test>" if rng.random() < 0.3 else ""))
    if rng.random() < 0.2:
        head.append("Cc: Someone Else <someone@example.org>")
    subject = f"{words[0].capitalize()} {words[1]} {rng.randint(1, 99)}"
    if thread_ids and rng.random() < 0.35:
        parent = rng.choice(thread_ids)
        subject = "Re: " + parent[1]
        head.append(f"In-Reply-To: {parent[0]}")
        head.append(f"References: {parent[2]} {parent[0]}".replace("  ", " ").strip())
        thread_ids.append((msgid, parent[1], f"{parent[2]} {parent[0]}".strip()))
    else:
        thread_ids.append((msgid, subject, ""))
    head.append(f"Subject: {subject}")
    head.append(f"Date: {date}")
    head.append(f"Message-ID: {msgid}")
    head.append("MIME-Version: 1.0")
    if kind == "list":
        lst = rng.choice(LISTS)
        head += [f"List-Id: <{lst}>", f"List-Unsubscribe: <mailto:leave@{lst}>",
                 f"List-Post: <mailto:post@{lst}>", "Precedence: list"]
    text = _paragraphs(rng, size if kind != "mixed" else min(size, 3000), marker)
    if kind in ("plain", "list"):
        head += ["Content-Type: text/plain; charset=utf-8; format=flowed",
                 "Content-Transfer-Encoding: 8bit"]
        body = text
    else:
        bnd = f"=_b{rng.getrandbits(48):012x}"
        head.append(f'Content-Type: multipart/{"alternative" if kind == "alt" else "mixed"}; '
                    f'boundary="{bnd}"')
        parts = [f"Content-Type: text/plain; charset=utf-8\r\n"
                 f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}"]
        if kind == "alt":
            html = "".join(f"<p>{p}</p>\r\n" for p in text.split("\r\n\r\n"))
            parts.append(f"Content-Type: text/html; charset=utf-8\r\n"
                         f"Content-Transfer-Encoding: 8bit\r\n\r\n"
                         f"<html><body>\r\n{html}</body></html>\r\n")
        else:
            ext = rng.choice(["pdf", "png", "odt"])
            ctype = {"pdf": "application/pdf", "png": "image/png",
                     "odt": "application/vnd.oasis.opendocument.text"}[ext]
            parts.append(f'Content-Type: {ctype}; name="file{i}.{ext}"\r\n'
                         f'Content-Disposition: attachment; filename="file{i}.{ext}"\r\n'
                         f"Content-Transfer-Encoding: base64\r\n\r\n"
                         f"{_attachment(rng, max(500, size * 3 // 4))}")
        body = ("This is a multi-part message in MIME format.\r\n\r\n" +
                "".join(f"--{bnd}\r\n{p}\r\n" for p in parts) + f"--{bnd}--\r\n")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def messages(count, seed=1):
    rng = random.Random(seed)
    threads = []
    return [message(i, rng, threads) for i in range(count)]


if __name__ == "__main__":
    import statistics
    ms = messages(300)
    sizes = sorted(len(m) for m in ms)
    print(f"{len(ms)} messages, median {statistics.median(sizes)} bytes, "
          f"min {sizes[0]}, max {sizes[-1]}, total {sum(sizes)}")
