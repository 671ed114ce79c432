#!/usr/bin/env python3
"""v1 and v2 interop between the C library (trees-cli) and trees_ref.py, an
independent implementation of riseup's reader/writer and of the v2 spec.

Both directions at 0, 1, 6, 7, 8191, 8192, 8193 bytes, 64 KiB edges, 1 MiB
and 25 MiB (v1 and v2): what one writes, the other reads byte for byte.
Also: the riseup key vector unlocks in the reference implementation (the C
side is in test-key), and a C-written v1 file corrupted in one box is
refused by both readers. Prints TAP.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import trees_ref as ref  # noqa: E402

BUILD = os.path.join(os.environ.get("MF_BUILDDIR") or os.path.join(HERE, "..", ".."),
                     "tests", "trees")
CLI = os.path.join(BUILD, "trees-cli")
SIZES = [0, 1, 6, 7, 8191, 8192, 8193, 65535, 65536, 65537, 1 << 20, 25 << 20]

results = []


def ok(cond, name):
    results.append((bool(cond), name))
    print(f"{'ok' if cond else 'not ok'} {len(results)} - {name}", flush=True)


def cli(args, data):
    p = subprocess.run([CLI] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace").strip()


def payload(n):
    # Mail-like bytes that are not periodic in 8192 or 65536.
    line = b"Line of a message body with some text, number %08d\r\n"
    out = bytearray(b"Subject: interop\r\n\r\n")
    i = 0
    while len(out) < n:
        out += line % i
        i += 1
    return bytes(out[:n])


def main():
    tmp = tempfile.mkdtemp(prefix="mf-trees-interop-")
    keyfile = os.path.join(tmp, "key")
    rc, out, _ = cli(["genkey", keyfile], b"")
    pk_hex = out.decode().strip()
    with open(keyfile) as f:
        pk_hex2, sk_hex = f.read().split()
    pk, sk = bytes.fromhex(pk_hex), bytes.fromhex(sk_hex)
    ok(rc == 0 and pk_hex == pk_hex2 and ref.scalarmult_base(sk) == pk,
       "trees-cli genkey makes a valid X25519 key pair")

    for n in SIZES:
        pt = payload(n)
        # C writes v1, the riseup-style reader reads it.
        rc, enc, err = cli(["encrypt", "1", pk_hex], pt)
        ok(rc == 0 and len(enc) == 7 + n + 48 * (n // 8192 + 1) and
           ref.v1_decrypt(enc, pk, sk) == pt,
           f"v1 {n} bytes: C writer -> riseup-style reader {err if rc else ''}")
        # The riseup-style writer, C reads it.
        enc = ref.v1_encrypt(pt, pk)
        rc, dec, err = cli(["decrypt", keyfile], enc)
        ok(rc == 0 and dec == pt, f"v1 {n} bytes: riseup-style writer -> C reader {err}")
        # v2 both ways.
        rc, enc, err = cli(["encrypt", "2", pk_hex], pt)
        ok(rc == 0 and ref.v2_decrypt(enc, pk, sk) == pt,
           f"v2 {n} bytes: C writer -> reference reader {err if rc else ''}")
        enc = ref.v2_encrypt_deterministic(pt, pk, os.urandom(32), os.urandom(24),
                                           os.urandom(32))
        rc, dec, err = cli(["decrypt", keyfile], enc)
        ok(rc == 0 and dec == pt, f"v2 {n} bytes: reference writer -> C reader {err}")

    # A flipped byte in box 1 of a C-written v1 file: both readers refuse it.
    pt = payload(20000)
    rc, enc, _ = cli(["encrypt", "1", pk_hex], pt)
    bad = bytearray(enc)
    bad[7 + 8240 + 100] ^= 1
    rc, dec, err = cli(["decrypt", keyfile], bytes(bad))
    ok(rc != 0 and "box 1" in err and ref.v1_decrypt(bytes(bad), pk, sk) is None,
       f"v1 corrupt box refused by both readers ({err})")

    # The riseup key vector (shared/reference/trees-format.md §6).
    sk_v = ref.unlock(b"PASSWORD", bytes.fromhex("5c13b1144ad120d6ca275e01b43c61d9"), 4,
                      33554432, 0, bytes.fromhex("634c29520f376fff514d68b372d497d0eb5b62c14fb84b68"),
                      bytes.fromhex("869ddac34b3afab6e138d7a82b4b93b13aec046f340e4a78d5b44644ad86"
                                    "cf11179473de16a9080bf5261ec406f82889"))
    ok(sk_v is not None and ref.scalarmult_base(sk_v).hex() ==
       "b7b151873bb7c14de89ffcf34e1e4a7af2843f9becce9da0f7738a93480ae63f",
       "riseup key vector unlocks in the reference implementation")

    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    print(f"1..{len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
