"""decision_cases.py - reads decision-cases.txt, the one table of TLS-policy
decisions that the engine, mailfruit-policyd and the milter must agree on.

    configs, rows = decision_cases.load()
    configs["lists"]          # the tls-policy.conf text of [config lists]
    rows[0].client, rows[0].verdict, rows[0].reply, rows[0].rule, ...
    reply_text(configs["lists"], rows[0].rule)   # what a refusal says

Empty columns ('-') become None; the sender '<>' becomes "" (null sender).
See the comment at the top of decision-cases.txt for the format.
"""
import collections
import os
import re

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "decision-cases.txt")
COLUMNS = ("id", "config", "client", "name", "sasl", "context", "port", "tls", "sender", "rcpt",
           "verdict", "reply", "rule")
Row = collections.namedtuple("Row", COLUMNS + ("line",))
# The engine's reply texts when a config sets none (tls-policy.conf(5)).
DEFAULT_TEXT = "Must issue a STARTTLS command first"
WEAK_TEXT_MINIMUM = "TLS protocol version too old, use TLSv1.2 or later"


def load(path=PATH):
    configs, rows = {}, []
    current = None       # name of the [config NAME] being read
    in_cases = False
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith("[config ") and line.rstrip().endswith("]"):
                current = line.strip()[len("[config "):-1]
                configs[current] = ""
                in_cases = False
            elif line.strip() == "[cases]":
                current, in_cases = None, True
            elif current is not None:
                configs[current] += line
            elif in_cases and line.strip() and not line.startswith("#"):
                fields = line.split()
                if len(fields) != len(COLUMNS):
                    raise ValueError(f"{path}, line {lineno}: {len(fields)} columns, "
                                     f"expected {len(COLUMNS)}")
                values = [None if v == "-" else v for v in fields]
                row = dict(zip(COLUMNS, values))
                if row["sender"] == "<>":
                    row["sender"] = ""
                if row["config"] not in configs:
                    raise ValueError(f"{path}, line {lineno}: no [config {row['config']}]")
                rows.append(Row(line=lineno, **row))
    return configs, rows


def reply_text(config_text, rule):
    """The reply text a config (its tls-policy.conf text) gives for a
    rule: its own, or the engine's default."""
    key = "weak_tls_text" if rule == "weak_tls" else "plaintext_text"
    m = re.search(rf"^{key}\s*=\s*(.*)$", config_text, re.M)
    if m:
        return m.group(1).strip()
    if rule == "weak_tls":
        assert "minimum_tls_version = TLSv1.2" in config_text, \
            "weak_tls rows need TLSv1.2 configs"
        return WEAK_TEXT_MINIMUM
    return DEFAULT_TEXT
