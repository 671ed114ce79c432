"""trees_ref.py - an independent reference implementation of the TREES
formats in Python over libsodium (ctypes), for mailfruit's tests.

It shares no code with dovecot-trees/: v1 is written and read the way
riseup's plugin does (one crypto_box_seal per 8192 plaintext bytes plus the
mandatory short final box), v2 the way docs/trees-v2-format.md specifies it.
v2 encryption here is deterministic (caller-chosen message key, stream
header and ephemeral seed) so it can reproduce the test vector; the sealed
box is then built from its documented parts (crypto_box_seed_keypair,
BLAKE2b nonce, crypto_box_easy) instead of crypto_box_seal.

Also unlocks a riseup key (crypto_pwhash + crypto_secretbox_open_easy).
"""
import ctypes
import ctypes.util
import hashlib

_s = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if _s.sodium_init() < 0:
    raise RuntimeError("sodium_init failed")

MAGIC = b"\xee\xff\xcc"
V1_CHUNK = 8192
SEALBYTES = 48
V2_CHUNK = 65536
SS_ABYTES = 17
SS_HEADERBYTES = 24
SS_STATEBYTES = _s.crypto_secretstream_xchacha20poly1305_statebytes()
TAG_MESSAGE = 0
TAG_FINAL = 3
V2_SEALED_HEADER = SEALBYTES + 32 + SS_HEADERBYTES   # 104


def _buf(n):
    return ctypes.create_string_buffer(n)


def keypair_from_seed(seed):
    pk, sk = _buf(32), _buf(32)
    assert _s.crypto_box_seed_keypair(pk, sk, seed) == 0
    return pk.raw, sk.raw


def seal(m, pk):
    c = _buf(len(m) + SEALBYTES)
    assert _s.crypto_box_seal(c, m, ctypes.c_ulonglong(len(m)), pk) == 0
    return c.raw


def seal_open(c, pk, sk):
    if len(c) < SEALBYTES:
        return None
    m = _buf(len(c) - SEALBYTES)
    if _s.crypto_box_seal_open(m, c, ctypes.c_ulonglong(len(c)), pk, sk) != 0:
        return None
    return m.raw


def seal_deterministic(m, pk, eph_seed):
    """crypto_box_seal's construction with a chosen ephemeral key."""
    epk, esk = keypair_from_seed(eph_seed)
    nonce = hashlib.blake2b(epk + pk, digest_size=24).digest()
    c = _buf(len(m) + 16)
    assert _s.crypto_box_easy(c, m, ctypes.c_ulonglong(len(m)), nonce, pk, esk) == 0
    return epk + c.raw


# ---- v1, as riseup's plugin writes and reads it ----

def v1_encrypt(pt, pk):
    out = [MAGIC, (1).to_bytes(4, "big")]
    full = len(pt) // V1_CHUNK
    for i in range(full):
        out.append(seal(pt[i * V1_CHUNK:(i + 1) * V1_CHUNK], pk))
    out.append(seal(pt[full * V1_CHUNK:], pk))    # always, also when empty
    return b"".join(out)


def v1_decrypt(data, pk, sk):
    """None when the input is not a valid v1 file."""
    if data[:3] != MAGIC or len(data) < 7 or int.from_bytes(data[3:7], "big") != 1:
        return None
    pos, out, box = 7, [], V1_CHUNK + SEALBYTES
    while len(data) - pos >= box:
        m = seal_open(data[pos:pos + box], pk, sk)
        if m is None:
            return None
        out.append(m)
        pos += box
    m = seal_open(data[pos:], pk, sk)     # the final short box
    if m is None:
        return None
    out.append(m)
    return b"".join(out)


# ---- v2 (docs/trees-v2-format.md) ----

class _State(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_ubyte * SS_STATEBYTES)]


def v2_encrypt_deterministic(pt, pk, msg_key, ss_header, eph_seed):
    prefix = MAGIC + (2).to_bytes(4, "big")
    sealed = seal_deterministic(msg_key + ss_header, pk, eph_seed)
    st = _State()
    # init_pull derives the same state from (key, header) as init_push does
    # after drawing the header at random: this fixes the header.
    assert _s.crypto_secretstream_xchacha20poly1305_init_pull(ctypes.byref(st), ss_header,
                                                              msg_key) == 0
    out = [prefix, sealed]
    pos = 0
    while True:
        chunk = pt[pos:pos + V2_CHUNK]
        final = len(chunk) < V2_CHUNK
        c = _buf(len(chunk) + SS_ABYTES)
        assert _s.crypto_secretstream_xchacha20poly1305_push(
            ctypes.byref(st), c, None, chunk, ctypes.c_ulonglong(len(chunk)),
            prefix, ctypes.c_ulonglong(len(prefix)), TAG_FINAL if final else TAG_MESSAGE) == 0
        out.append(c.raw)
        pos += len(chunk)
        if final:
            return b"".join(out)


def v2_decrypt(data, pk, sk):
    """None when the input is not a valid v2 file."""
    prefix = MAGIC + (2).to_bytes(4, "big")
    if data[:7] != prefix:
        return None
    hdr = seal_open(data[7:7 + V2_SEALED_HEADER], pk, sk)
    if hdr is None or len(hdr) != 32 + SS_HEADERBYTES:
        return None
    key, ss_header = hdr[:32], hdr[32:]
    st = _State()
    if _s.crypto_secretstream_xchacha20poly1305_init_pull(ctypes.byref(st), ss_header, key) != 0:
        return None
    pos, out = 7 + V2_SEALED_HEADER, []
    while True:
        c = data[pos:pos + V2_CHUNK + SS_ABYTES]
        if len(c) < SS_ABYTES:
            return None
        m, tag = _buf(len(c) - SS_ABYTES), ctypes.c_ubyte()
        if _s.crypto_secretstream_xchacha20poly1305_pull(
                ctypes.byref(st), m, None, ctypes.byref(tag), c, ctypes.c_ulonglong(len(c)),
                prefix, ctypes.c_ulonglong(len(prefix))) != 0:
            return None
        out.append(m.raw)
        pos += len(c)
        if tag.value == TAG_FINAL:
            return b"".join(out) if pos == len(data) else None
        if tag.value != TAG_MESSAGE or pos == len(data):
            return None


# ---- riseup key unlock ----

def unlock(password, salt, opslimit, memlimit, algo, nonce, box):
    """The 32-byte secret key, or None. algo 0 = argon2i13, 1 = argon2id13."""
    alg = {0: 1, 1: 2}[algo]      # crypto_pwhash_ALG_ARGON2I13 = 1, _ARGON2ID13 = 2
    k = _buf(32)
    if _s.crypto_pwhash(k, ctypes.c_ulonglong(32), password, ctypes.c_ulonglong(len(password)),
                        salt, ctypes.c_ulonglong(opslimit), ctypes.c_size_t(memlimit), alg) != 0:
        return None
    sk = _buf(32)
    if _s.crypto_secretbox_open_easy(sk, box, ctypes.c_ulonglong(len(box)), nonce, k) != 0:
        return None
    return sk.raw


def scalarmult_base(sk):
    pk = _buf(32)
    assert _s.crypto_scalarmult_base(pk, sk) == 0
    return pk.raw
