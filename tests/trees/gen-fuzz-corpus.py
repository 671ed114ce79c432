#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-decoder into fuzz-corpus/ (run by hand;
the files are committed). Key pair: the test vector's (seed 00..1f)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import trees_ref as ref  # noqa: E402

pk, sk = ref.keypair_from_seed(bytes(range(32)))
out = os.path.join(HERE, "fuzz-corpus")
os.makedirs(out, exist_ok=True)


def body(n):
    return (b"Subject: fuzz\r\n\r\n" + b"x" * n)[:n]


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


fixed = (bytes(range(0x40, 0x60)), bytes(range(0x60, 0x78)), bytes(range(0x20, 0x40)))
put("plain-empty", b"")
put("plain-short", b"\xee\xff")
put("plain-mail", body(300))
put("bad-version", b"\xee\xff\xcc\x00\x00\x00\x03" + b"\x00" * 60)
put("truncated-header", b"\xee\xff\xcc\x00\x00")
for n in (0, 100, 8192, 8200):
    put(f"v1-{n}", ref.v1_encrypt(body(n), pk))
for n in (0, 100, 65536, 65546):
    put(f"v2-{n}", ref.v2_encrypt_deterministic(body(n), pk, *fixed))
