#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Known-answer vectors of core/tests/hba.rs, computed independently of
src/proto/hba.rs with hashlib, straight from RFC 3972 §3-§4 and
RFC 5535 §5-§6 (reference Part C.2-C.4).

    python3 core/tests/hba_vectors.py

prints the constants that core/tests/hba.rs holds (as hex strings).
"""

import hashlib


def der(tag, content):
    """A DER TLV, definite length, long form when needed."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + content


def der_uint(n):
    """A non-negative INTEGER, minimal two's complement."""
    return der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


RSA_ENCRYPTION = der(0x06, bytes.fromhex("2a864886f70d010101"))  # 1.2.840.113549.1.1.1
NULL = der(0x05, b"")


def extended_key(em):
    """SubjectPublicKeyInfo(rsaEncryption, RSAPublicKey(modulus = em, e = 65537))."""
    rsa = der(0x30, der_uint(int.from_bytes(em, "big")) + der_uint(65537))
    return der(0x30, der(0x30, RSA_ENCRYPTION + NULL) + der(0x03, b"\x00" + rsa))


def multi_prefix(prefixes, p_flag):
    return (
        (0x0012).to_bytes(2, "big")
        + (8 * len(prefixes) + 4).to_bytes(2, "big")
        + (0x80000000 if p_flag else 0).to_bytes(4, "big")
        + b"".join(prefixes)
    )


def sha1(b):
    return hashlib.sha1(b).digest()


def generate(prefixes, modifier, key, p_flag, sec, cc):
    """RFC 5535 §6: Modifier search, then one address and PDS per prefix."""
    mp = multi_prefix(prefixes, p_flag)
    m = int.from_bytes(modifier, "big")
    tries = 0
    while sec > 0:
        h2 = sha1(m.to_bytes(16, "big") + bytes(9) + key + mp)[:14]
        if h2[: 2 * sec] == bytes(2 * sec):
            break
        m = (m + 1) % (1 << 128)
        tries += 1
    mod = m.to_bytes(16, "big")
    addrs, pdss = [], []
    for p in prefixes:
        pds = mod + p + bytes([cc]) + key + mp
        iid = bytearray(sha1(pds)[:8])
        iid[0] = (iid[0] & 0x1C) | (sec << 5)
        addrs.append(p + bytes(iid))
        pdss.append(pds)
    set_id = sha1(mod + bytes(9) + key + mp)
    return mod, tries, addrs, pdss, set_id


def show(name, b):
    print(f'const {name}: &str = "{b.hex()}";')


PREFIXES = [
    bytes.fromhex("20010db800010000"),  # 2001:db8:1::/64
    bytes.fromhex("20010db800020000"),  # 2001:db8:2::/64
    bytes.fromhex("20010db8ffff0001"),  # 2001:db8:ffff:1::/64
]

# Vector 1: HBA-only, Sec 0, collision counts 0 and 1.
MOD1 = bytes(range(16))
EM1 = bytes((0xA5 + 7 * i) & 0xFF for i in range(48))  # top bit set: padded INTEGER
key1 = extended_key(EM1)
show("V1_KEY", key1)
for cc in (0, 1):
    mod, tries, addrs, pdss, set_id = generate(PREFIXES, MOD1, key1, False, 0, cc)
    assert mod == MOD1 and tries == 0
    show(f"V1_CC{cc}_PDS0", pdss[0])
    for i, a in enumerate(addrs):
        show(f"V1_CC{cc}_ADDR{i}", a)
    show(f"V1_CC{cc}_SET_ID", set_id)

# Vector 2: Extended Modifier with leading zero octets: minimal INTEGER.
EM2 = bytes([0, 0, 0x7F]) + bytes(range(45))
show("V2_KEY", extended_key(EM2))
show("V2_ZERO_KEY", extended_key(bytes(48)))

# Vector 3: CGA/HBA (P = 1) with an opaque 140-octet-content "key"
# (long-form length), Sec 1, one prefix.
KEY3 = der(0x30, bytes((3 * i + 1) & 0xFF for i in range(140)))
MOD3 = bytes.fromhex("0123456789abcdeffedcba9876543210")
mod, tries, addrs, pdss, set_id = generate(PREFIXES[:2], MOD3, KEY3, True, 1, 0)
show("V3_KEY", KEY3)
show("V3_MODIFIER", mod)
print(f"const V3_TRIES: u32 = {tries};")
show("V3_PDS1", pdss[1])
for i, a in enumerate(addrs):
    show(f"V3_ADDR{i}", a)
