#!/usr/bin/env python3
"""cache-vector.py - the test vector of docs/trees-cache.md (encrypted cache
record, format 1), computed with the system libsodium through ctypes.

Derives the cache key from a fixed 32-byte secret key, builds the plaintext
of a "trees.hdr" record of a fixed message, seals it with a fixed nonce and
prints every value as hex; then checks that a flipped byte, a cut record, a
record moved to another UID or field, another user's key and an unknown
format are all rejected, each with its reason (the "missing" cases of the
design). Exit status 0 when all of that holds.

Usage: cache-vector.py [--help]
A C implementation of the format must print/produce the same bytes.
"""
import ctypes
import ctypes.util
import hashlib
import struct
import sys

if len(sys.argv) > 1:
    print(__doc__.strip())
    sys.exit(0 if sys.argv[1] in ("-h", "--help") else 64)

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert sodium.sodium_init() >= 0

KDF_CONTEXT = b"MFcache1"          # crypto_kdf context, 8 bytes
KDF_SUBKEY_ID = 1                  # 1 = cache record key
MAGIC = b"MFTC"
FORMAT = 1
TAG_BYTES = 16                     # crypto_aead_xchacha20poly1305_ietf_ABYTES
NONCE_BYTES = 24


def kdf(master, subkey_id, context):
    out = ctypes.create_string_buffer(32)
    rc = sodium.crypto_kdf_derive_from_key(out, ctypes.c_size_t(32),
                                           ctypes.c_uint64(subkey_id), context, master)
    assert rc == 0
    return out.raw


def seal(key, nonce, plaintext, ad):
    out = ctypes.create_string_buffer(len(plaintext) + TAG_BYTES)
    outlen = ctypes.c_ulonglong()
    rc = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(outlen), plaintext, ctypes.c_ulonglong(len(plaintext)),
        ad, ctypes.c_ulonglong(len(ad)), None, nonce, key)
    assert rc == 0
    return out.raw[:outlen.value]


def open_(key, nonce, ct, ad):
    if len(ct) < TAG_BYTES:
        return None
    out = ctypes.create_string_buffer(len(ct))
    outlen = ctypes.c_ulonglong()
    rc = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(outlen), None, ct, ctypes.c_ulonglong(len(ct)),
        ad, ctypes.c_ulonglong(len(ad)), nonce, key)
    return out.raw[:outlen.value] if rc == 0 else None


def tlv(tag, value):
    return struct.pack(">BI", tag, len(value)) + value


def key_id_of(key):
    return hashlib.blake2b(b"mailfruit trees-cache key id", key=key, digest_size=8).digest()


def associated_data(field, mailbox_guid, uidvalidity, uid):
    # Binds the record to its field, mailbox, UIDVALIDITY and UID.
    return MAGIC + bytes([FORMAT, field]) + mailbox_guid + struct.pack(">II", uidvalidity, uid)


def record(key, nonce, field, where, plaintext):
    ct = seal(key, nonce, plaintext, associated_data(field, *where))
    return MAGIC + bytes([FORMAT, field]) + key_id_of(key) + nonce + ct


HEAD = 4 + 1 + 1 + 8 + NONCE_BYTES


def parse(key, field, where, rec):
    """(plaintext or None, reason): every failure is "no cached record"."""
    if len(rec) < HEAD + TAG_BYTES:
        return None, "truncated"
    if rec[:4] != MAGIC or rec[4] != FORMAT or rec[5] != field:
        return None, "unknown format"
    if rec[6:14] != key_id_of(key):
        return None, "foreign key"
    pt = open_(key, rec[14:HEAD], rec[HEAD:], associated_data(field, *where))
    return (pt, "ok") if pt is not None else (None, "authentication failed")


def main():
    user_secret = bytes(range(32))                 # the unlocked X25519 secret key
    key = kdf(user_secret, KDF_SUBKEY_ID, KDF_CONTEXT)
    mailbox_guid = bytes.fromhex("5f3c1a2b4d6e7f8091a2b3c4d5e6f708")
    where = (mailbox_guid, 1765000000, 42)        # mailbox GUID, UIDVALIDITY, UID
    nonce = bytes(range(0x40, 0x40 + NONCE_BYTES))
    fields = [                                     # record of field 1 (trees.hdr)
        (0x01, b'("Mon, 5 Jan 2026 09:10:38 -0500" "Hello" (("Eve" NIL "eve" "example.fr")) '
               b'(("Eve" NIL "eve" "example.fr")) (("Eve" NIL "eve" "example.fr")) '
               b'(("Me" NIL "me" "mailfruit.test")) NIL NIL NIL "<1@example.fr>")'),
        (0x02, struct.pack(">qi", 1767622238, -300)),
        (0x03, b"from,subject"),
        (0x04, b"From: Eve <eve@example.fr>\r\nSubject: Hello\r\n"),
    ]
    plaintext = b"".join(tlv(i, v) for i, v in fields)
    rec = record(key, nonce, 1, where, plaintext)
    print(f"secret key      {user_secret.hex()}")
    print(f"kdf             crypto_kdf_derive_from_key(32, {KDF_SUBKEY_ID}, "
          f"\"{KDF_CONTEXT.decode()}\", secret key)")
    print(f"cache key       {key.hex()}")
    print(f"key id          {key_id_of(key).hex()}")
    print(f"mailbox GUID    {mailbox_guid.hex()}  UIDVALIDITY {where[1]}  UID {where[2]}")
    print(f"associated data {associated_data(1, *where).hex()}")
    print(f"nonce           {nonce.hex()}")
    print(f"plaintext       {len(plaintext)} bytes: {plaintext.hex()}")
    print(f"record          {len(rec)} bytes: {rec.hex()}")

    other = (mailbox_guid, 1765000000, 43)
    checks = [
        ("opens", parse(key, 1, where, rec) == (plaintext, "ok")),
        ("flipped byte: authentication failed",
         parse(key, 1, where, rec[:60] + bytes([rec[60] ^ 1]) + rec[61:])[1]
         == "authentication failed"),
        ("cut tag: authentication failed", parse(key, 1, where, rec[:-1])[1]
         == "authentication failed"),
        ("empty: truncated", parse(key, 1, where, b"")[1] == "truncated"),
        ("record of UID 42 under UID 43: authentication failed",
         parse(key, 1, other, rec)[1] == "authentication failed"),
        ("hdr record read as body record: unknown format",
         parse(key, 2, where, rec)[1] == "unknown format"),
        ("another user's key: foreign key",
         parse(kdf(bytes(32), KDF_SUBKEY_ID, KDF_CONTEXT), 1, where, rec)[1] == "foreign key"),
        ("format 2: unknown format", parse(key, 1, where, rec[:4] + b"\x02" + rec[5:])[1]
         == "unknown format"),
    ]
    failed = 0
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        failed += not ok
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
