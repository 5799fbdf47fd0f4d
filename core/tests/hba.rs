// SPDX-License-Identifier: GPL-2.0

//! Unit, known-answer and property tests of `src/proto/hba.rs`.
//!
//! The known answers (`V1_*`, `V2_*`, `V3_*`) come from
//! `core/tests/hba_vectors.py`, which computes them with Python's hashlib
//! from RFC 3972 §3-§4 and RFC 5535 §5-§6 without looking at the Rust
//! code; `python3 core/tests/hba_vectors.py` prints them again.

use proptest::prelude::*;
use shim6_core::proto::hba::*;
use shim6_core::rustcrypto::RustCrypto;

// ---- known answers (hba_vectors.py) ---------------------------------------

const V1_KEY: &str = "304c300d06092a864886f70d0101010500033b003038023100a5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7ee0203010001";
const V1_CC0_PDS0: &str = "000102030405060708090a0b0c0d0e0f20010db80001000000304c300d06092a864886f70d0101010500033b003038023100a5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7ee02030100010012001c0000000020010db80001000020010db80002000020010db8ffff0001";
const V1_CC0_ADDR0: &str = "20010db8000100001cfac3e0c23af34b";
const V1_CC0_ADDR1: &str = "20010db800020000085fdac2436e2f34";
const V1_CC0_ADDR2: &str = "20010db8ffff00010c4ab6fa0078cc55";
const V1_CC0_SET_ID: &str = "058663c48d9e9fcb397b117314152d4794316c05";
const V1_CC1_PDS0: &str = "000102030405060708090a0b0c0d0e0f20010db80001000001304c300d06092a864886f70d0101010500033b003038023100a5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7ee02030100010012001c0000000020010db80001000020010db80002000020010db8ffff0001";
const V1_CC1_ADDR0: &str = "20010db80001000004758a3de17526f2";
const V1_CC1_ADDR1: &str = "20010db80002000008142ef0c2d8652f";
const V1_CC1_ADDR2: &str = "20010db8ffff00011cea53f29158fa75";
const V1_CC1_SET_ID: &str = "058663c48d9e9fcb397b117314152d4794316c05";
const V2_KEY: &str = "3049300d06092a864886f70d01010105000338003035022e7f000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c0203010001";
const V2_ZERO_KEY: &str = "301c300d06092a864886f70d0101010500030b0030080201000203010001";
const V3_KEY: &str = "30818c0104070a0d101316191c1f2225282b2e3134373a3d404346494c4f5255585b5e6164676a6d707376797c7f8285888b8e9194979a9da0a3a6a9acafb2b5b8bbbec1c4c7cacdd0d3d6d9dcdfe2e5e8ebeef1f4f7fafd000306090c0f1215181b1e2124272a2d303336393c3f4245484b4e5154575a5d606366696c6f7275787b7e8184878a8d909396999c9fa2";
const V3_MODIFIER: &str = "0123456789abcdeffedcba9876543897";
const V3_TRIES: u32 = 1671;
const V3_PDS1: &str = "0123456789abcdeffedcba987654389720010db8000200000030818c0104070a0d101316191c1f2225282b2e3134373a3d404346494c4f5255585b5e6164676a6d707376797c7f8285888b8e9194979a9da0a3a6a9acafb2b5b8bbbec1c4c7cacdd0d3d6d9dcdfe2e5e8ebeef1f4f7fafd000306090c0f1215181b1e2124272a2d303336393c3f4245484b4e5154575a5d606366696c6f7275787b7e8184878a8d909396999c9fa2001200148000000020010db80001000020010db800020000";
const V3_ADDR0: &str = "20010db800010000248a90452ee55cd4";
const V3_ADDR1: &str = "20010db80002000038d90a42e867bdc7";

/// Inputs of the vectors, as in hba_vectors.py.
const PREFIXES: [Prefix; 3] = [
    [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00],
    [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00],
    [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0x00, 0x01],
];
const MOD1: Modifier = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const MOD3: &str = "0123456789abcdeffedcba9876543210";

fn em1() -> [u8; EXTENDED_MODIFIER_LEN] {
    core::array::from_fn(|i| (0xa5 + 7 * i) as u8)
}

fn em2() -> [u8; EXTENDED_MODIFIER_LEN] {
    core::array::from_fn(|i| match i {
        0 | 1 => 0,
        2 => 0x7f,
        _ => (i - 3) as u8,
    })
}

fn hex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0);
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn addr(s: &str) -> Addr {
    hex(s).try_into().unwrap()
}

// ---- hashers ---------------------------------------------------------------


/// Succeeds `ok` times, then fails.
struct Failing {
    ok: usize,
}

impl Sha1 for Failing {
    fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed> {
        if self.ok == 0 {
            return Err(HashFailed);
        }
        self.ok -= 1;
        RustCrypto.digest(parts)
    }
}

#[test]
fn hasher_streams_over_parts() {
    // FIPS 180 "abc".
    let d = RustCrypto.digest(&[b"a", b"", b"bc"]).unwrap();
    assert_eq!(d.to_vec(), hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
}

// ---- helpers ---------------------------------------------------------------

fn params<'a>(prefixes: &'a [Prefix], key: KeyMaterial<'a>, sec: Sec) -> Params<'a> {
    Params { prefixes, modifier: MOD1, key, sec, max_modifier_tries: 0 }
}

fn v1_set(out: &mut [Addr]) -> HbaSet<'static> {
    let p = params(&PREFIXES, KeyMaterial::ExtendedModifier(em1()), Sec::Zero);
    generate(&mut RustCrypto, &p, out).unwrap()
}

fn emit_vec(repr: &PdsRepr<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut buf), Ok(buf.len()));
    buf
}

fn with_iid_bit_flipped(a: &Addr, bit: usize) -> Addr {
    let mut b = *a;
    b[8 + bit / 8] ^= 0x80 >> (bit % 8);
    b
}

// ---- known-answer tests ----------------------------------------------------

#[test]
fn extended_key_encoding() {
    assert_eq!(ExtendedKey::new(&em1()).as_bytes(), hex(V1_KEY));
    assert_eq!(ExtendedKey::new(&em2()).as_bytes(), hex(V2_KEY));
    assert_eq!(hex(V1_KEY).len(), EXTENDED_KEY_MAX_LEN);
    // Zero is the INTEGER 02 01 00.
    let zero = ExtendedKey::new(&[0; EXTENDED_MODIFIER_LEN]);
    assert_eq!(zero.as_bytes(), hex(V2_ZERO_KEY));
    let pds = PdsRepr {
        modifier: [0; 16],
        subnet_prefix: [0; 8],
        collision_count: 0,
        public_key: zero.as_bytes(),
        leading_extensions: &[],
        multi_prefix: None,
        trailing_extensions: &[],
    };
    assert_eq!(PdsRepr::parse(&emit_vec(&pds)), Ok(pds));
}

#[test]
fn v1_hba_only_sec0() {
    let mut out = [[0u8; 16]; 4];
    let set = v1_set(&mut out);
    assert_eq!(out[..3], [addr(V1_CC0_ADDR0), addr(V1_CC0_ADDR1), addr(V1_CC0_ADDR2)]);
    assert_eq!(out[3], [0; 16], "slots past the prefixes are left alone");
    assert_eq!(set.modifier(), &MOD1);
    assert_eq!(set.collision_count(), 0);
    assert_eq!(set.sec(), Sec::Zero);
    assert_eq!(set.prefixes(), &PREFIXES);
    assert_eq!(set.public_key(), hex(V1_KEY));
    assert!(!set.multi_prefix().p_flag);
    assert_eq!(emit_vec(&set.pds(0).unwrap()), hex(V1_CC0_PDS0));
    assert_eq!(set.pds_for(&addr(V1_CC0_ADDR0)), set.pds(0));
    assert_eq!(set.pds_for(&addr(V1_CC0_ADDR2)), set.pds(2));
    assert_eq!(set.pds(3), None);
    assert_eq!(set.pds_for(&addr(V3_ADDR0).map(|b| b ^ 0xff)), None);
    // PDS of another member: only the Subnet Prefix differs.
    let pds2 = emit_vec(&set.pds(2).unwrap());
    let mut expected = hex(V1_CC0_PDS0);
    expected[16..24].copy_from_slice(&PREFIXES[2]);
    assert_eq!(pds2, expected);

    let pds = hex(V1_CC0_PDS0);
    let view = Pds::parse(&pds).unwrap();
    assert_eq!(view.set_id(&mut RustCrypto).unwrap().as_bytes().to_vec(), hex(V1_CC0_SET_ID));

    // Regenerating gives the same addresses.
    let mut again = [[0u8; 16]; 3];
    set.addresses(&mut RustCrypto, &mut again).unwrap();
    assert_eq!(again, out[..3]);
}

#[test]
fn v1_collision_regenerates_the_whole_set() {
    let mut out = [[0u8; 16]; 3];
    let mut set = v1_set(&mut out);
    set.collision(&mut RustCrypto, &mut out).unwrap();
    assert_eq!(out, [addr(V1_CC1_ADDR0), addr(V1_CC1_ADDR1), addr(V1_CC1_ADDR2)]);
    assert_eq!(set.collision_count(), 1);
    assert_eq!(emit_vec(&set.pds(0).unwrap()), hex(V1_CC1_PDS0));
    // Hash2 ignores the collision count: still the same set.
    let pds = hex(V1_CC1_PDS0);
    let id = Pds::parse(&pds).unwrap().set_id(&mut RustCrypto).unwrap();
    assert_eq!(id.as_bytes().to_vec(), hex(V1_CC1_SET_ID));
    assert_eq!(V1_CC0_SET_ID, V1_CC1_SET_ID);

    set.collision(&mut RustCrypto, &mut out).unwrap();
    assert_eq!(set.collision_count(), 2);
    let before = (set, out);
    assert_eq!(set.collision(&mut RustCrypto, &mut out), Err(GenError::TooManyCollisions));
    assert_eq!((set, out), before, "a refused collision changes nothing");
    // A failing hash leaves the set unchanged too.
    let mut set = v1_set(&mut out);
    let copy = set;
    assert_eq!(set.collision(&mut Failing { ok: 1 }, &mut out), Err(GenError::HashFailed));
    assert_eq!(set, copy);
}

#[test]
fn v3_cga_hba_sec1() {
    let key = hex(V3_KEY);
    let mut p = params(&PREFIXES[..2], KeyMaterial::PublicKey(&key), Sec::One);
    p.modifier = hex(MOD3).try_into().unwrap();
    p.max_modifier_tries = V3_TRIES;
    let mut out = [[0u8; 16]; 2];
    assert_eq!(generate(&mut RustCrypto, &p, &mut out), Err(GenError::ModifierSearchExhausted));
    p.max_modifier_tries = V3_TRIES + 1;
    let set = generate(&mut RustCrypto, &p, &mut out).unwrap();
    assert_eq!(set.modifier().to_vec(), hex(V3_MODIFIER));
    assert_eq!(out, [addr(V3_ADDR0), addr(V3_ADDR1)]);
    assert!(set.multi_prefix().p_flag);
    assert_eq!(set.public_key(), &key[..]);
    assert_eq!(emit_vec(&set.pds(1).unwrap()), hex(V3_PDS1));
    // Sec 0 needs no search at all.
    p.sec = Sec::Zero;
    p.max_modifier_tries = 0;
    let set = generate(&mut RustCrypto, &p, &mut out).unwrap();
    assert_eq!(set.modifier().to_vec(), hex(MOD3));
}

#[test]
fn known_answers_verify() {
    let mut h = RustCrypto;
    let v1 = hex(V1_CC0_PDS0);
    let v1cc1 = hex(V1_CC1_PDS0);
    let v3 = hex(V3_PDS1);
    let mut ids = vec![];
    for (pds, addrs, sec) in [
        (&v1, [V1_CC0_ADDR0, V1_CC0_ADDR1, V1_CC0_ADDR2].as_slice(), Sec::Zero),
        (&v1cc1, [V1_CC1_ADDR0, V1_CC1_ADDR1, V1_CC1_ADDR2].as_slice(), Sec::Zero),
        (&v3, [V3_ADDR0, V3_ADDR1].as_slice(), Sec::One),
    ] {
        let first = verify(&mut h, pds, &addr(addrs[0])).unwrap();
        for a in addrs {
            let v = verify(&mut h, pds, &addr(a)).unwrap();
            assert_eq!(v.addr(), &addr(a));
            assert_eq!(v.sec(), sec);
            assert!(v.same_set(&first));
        }
        ids.push(*first.set_id());
    }
    assert_eq!(ids[0], ids[1], "collision count is not part of the set");
    assert_ne!(ids[0], ids[2]);
    // The members of collision count 0 are not those of 1.
    assert_eq!(verify(&mut h, &v1cc1, &addr(V1_CC0_ADDR1)), Err(VerifyError::InterfaceIdMismatch));
    assert_eq!(verify(&mut h, &v1, &addr(V1_CC1_ADDR1)), Err(VerifyError::InterfaceIdMismatch));
    // Two sets do not mix.
    assert_eq!(verify(&mut h, &v3, &addr(V1_CC0_ADDR0)), Err(VerifyError::InterfaceIdMismatch));
}

// ---- verification rejects ------------------------------------------------

#[test]
fn rejects_prefix_not_in_set() {
    let pds = hex(V1_CC0_PDS0);
    let mut a = addr(V1_CC0_ADDR1);
    a[7] ^= 1;
    assert_eq!(verify(&mut RustCrypto, &pds, &a), Err(VerifyError::PrefixNotInSet));
    // Same interface identifier under the V3-only prefix list.
    let v3 = hex(V3_PDS1);
    assert_eq!(verify(&mut RustCrypto, &v3, &addr(V1_CC0_ADDR2)), Err(VerifyError::PrefixNotInSet));
}

#[test]
fn rejects_flipped_interface_id_bits() {
    let pds = hex(V1_CC0_PDS0);
    for a in [V1_CC0_ADDR0, V1_CC0_ADDR1, V1_CC0_ADDR2] {
        let a = addr(a);
        for bit in 0..64 {
            let r = verify(&mut RustCrypto, &pds, &with_iid_bit_flipped(&a, bit));
            match bit {
                // Sec 0 -> 4: not HBA.
                0 => assert_eq!(r, Err(VerifyError::UnsupportedSec(4))),
                // Sec 0 -> 2 or 1: Hash2 of this set has no leading zeros.
                1 | 2 => assert_eq!(r, Err(VerifyError::SecMismatch)),
                // u and g are ignored by the comparison (RFC 5535 §7.2 2.4).
                6 | 7 => assert!(r.is_ok(), "bit {bit}"),
                _ => assert_eq!(r, Err(VerifyError::InterfaceIdMismatch), "bit {bit}"),
            }
        }
    }
    // A Sec 1 address with Sec cleared is a valid Sec 0 member.
    let v3 = hex(V3_PDS1);
    let a = with_iid_bit_flipped(&addr(V3_ADDR0), 2);
    assert_eq!(verify(&mut RustCrypto, &v3, &a).map(|v| v.sec()), Ok(Sec::Zero));
    let a = with_iid_bit_flipped(&addr(V3_ADDR0), 1); // Sec 3
    assert_eq!(verify(&mut RustCrypto, &v3, &a), Err(VerifyError::UnsupportedSec(3)));
}

#[test]
fn rejects_wrong_collision_count() {
    let good = hex(V1_CC0_PDS0);
    let a = addr(V1_CC0_ADDR0);
    for (cc, want) in [
        (1, Err(VerifyError::InterfaceIdMismatch)),
        (2, Err(VerifyError::InterfaceIdMismatch)),
        (3, Err(VerifyError::BadCollisionCount(3))),
        (255, Err(VerifyError::BadCollisionCount(255))),
    ] {
        let mut pds = good.clone();
        pds[24] = cc;
        assert_eq!(verify(&mut RustCrypto, &pds, &a), want, "cc {cc}");
    }
}

#[test]
fn rejects_changed_pds_bytes() {
    let good = hex(V1_CC0_PDS0);
    let a = addr(V1_CC0_ADDR1);
    let mp = good.len() - (MULTI_PREFIX_HEADER_LEN + 3 * PREFIX_LEN);
    // Modifier, Subnet Prefix (substituted: no effect), key octet,
    // Reserved bits of the Multi-Prefix extension (hashed as received).
    for (i, want) in [
        (0, Err(VerifyError::InterfaceIdMismatch)),
        (16, Ok(())),
        (23, Ok(())),
        (60, Err(VerifyError::InterfaceIdMismatch)),
        (mp + 7, Err(VerifyError::InterfaceIdMismatch)),
    ] {
        let mut pds = good.clone();
        pds[i] ^= 1;
        assert_eq!(verify(&mut RustCrypto, &pds, &a).map(|_| ()), want, "octet {i}");
    }
    // Setting P on an HBA-only PDS.
    let mut pds = good.clone();
    pds[mp + 4] |= 0x80;
    assert!(Pds::parse(&pds).unwrap().multi_prefix().unwrap().p_flag);
    assert_eq!(verify(&mut RustCrypto, &pds, &a), Err(VerifyError::InterfaceIdMismatch));
}

#[test]
fn rejects_truncated_pds() {
    let good = hex(V1_CC0_PDS0);
    let key_end = FIXED_LEN + hex(V1_KEY).len();
    for len in 0..good.len() {
        let r = verify(&mut RustCrypto, &good[..len], &addr(V1_CC0_ADDR0));
        if len == key_end {
            assert_eq!(r, Err(VerifyError::NoMultiPrefix));
        } else {
            assert_eq!(r, Err(VerifyError::Malformed(ParseError::Truncated)), "len {len}");
        }
    }
}

#[test]
fn rejects_pds_without_multi_prefix() {
    let key = hex(V1_KEY);
    let unknown = [0x00, 0x99, 0x00, 0x02, 0xab, 0xcd];
    let a = addr(V1_CC0_ADDR0);
    for ext in [&[][..], &unknown[..]] {
        let repr = PdsRepr {
            modifier: MOD1,
            subnet_prefix: PREFIXES[0],
            collision_count: 0,
            public_key: &key,
            leading_extensions: ext,
            multi_prefix: None,
            trailing_extensions: &[],
        };
        let pds = emit_vec(&repr);
        assert_eq!(verify(&mut RustCrypto, &pds, &a), Err(VerifyError::NoMultiPrefix));
    }
}

#[test]
fn hash_failure_is_never_a_pass() {
    let pds = hex(V1_CC0_PDS0);
    let a = addr(V1_CC0_ADDR0);
    assert_eq!(verify(&mut Failing { ok: 0 }, &pds, &a), Err(VerifyError::HashFailed));
    assert_eq!(verify(&mut Failing { ok: 1 }, &pds, &a), Err(VerifyError::HashFailed));
    assert!(verify(&mut Failing { ok: 2 }, &pds, &a).is_ok());
    let p = params(&PREFIXES, KeyMaterial::ExtendedModifier(em1()), Sec::Zero);
    let mut out = [[0u8; 16]; 3];
    assert_eq!(generate(&mut Failing { ok: 2 }, &p, &mut out), Err(GenError::HashFailed));
    let mut p = params(&PREFIXES, KeyMaterial::ExtendedModifier(em1()), Sec::One);
    p.max_modifier_tries = 10;
    assert_eq!(generate(&mut Failing { ok: 0 }, &p, &mut out), Err(GenError::HashFailed));
}

// ---- generation errors -------------------------------------------------

#[test]
fn generation_checks_its_inputs() {
    let mut out = [[0u8; 16]; MAX_PREFIXES + 1];
    let em = KeyMaterial::ExtendedModifier(em1());
    let g = |prefixes: &[Prefix], key, out: &mut [Addr]| {
        generate(&mut RustCrypto, &params(prefixes, key, Sec::Zero), out).map(|_| ())
    };
    assert_eq!(g(&[], em, &mut out), Err(GenError::NoPrefixes));
    let many: Vec<Prefix> = (0..=MAX_PREFIXES as u64).map(|i| (i << 16).to_be_bytes()).collect();
    assert_eq!(g(&many[..MAX_PREFIXES], em, &mut out), Ok(()));
    assert_eq!(g(&many, em, &mut out), Err(GenError::TooManyPrefixes));
    let dup = [PREFIXES[0], PREFIXES[1], PREFIXES[0]];
    assert_eq!(g(&dup, em, &mut out), Err(GenError::DuplicatePrefix));
    assert_eq!(g(&PREFIXES, em, &mut out[..2]), Err(GenError::OutputTooSmall));
    for bad in [&[][..], &[0x30][..], &[0x30, 0x01][..], &[0x30, 0x00, 0x00][..], &[0x31, 0x00][..]]
    {
        assert_eq!(
            g(&PREFIXES, KeyMaterial::PublicKey(bad), &mut out),
            Err(GenError::BadPublicKey)
        );
    }
    assert_eq!(g(&PREFIXES, KeyMaterial::PublicKey(&[0x30, 0x00]), &mut out), Ok(()));
    let set = v1_set(&mut out);
    assert_eq!(set.addresses(&mut RustCrypto, &mut out[..2]), Err(GenError::OutputTooSmall));
}

// ---- parser and emitter ----------------------------------------------------

fn pds_bytes(key: &[u8], exts: &[u8]) -> Vec<u8> {
    let mut b = MOD1.to_vec();
    b.extend_from_slice(&PREFIXES[0]);
    b.push(0);
    b.extend_from_slice(key);
    b.extend_from_slice(exts);
    b
}

fn mp_ext(n: usize, flags: u32) -> Vec<u8> {
    let mut b = vec![0x00, 0x12];
    b.extend_from_slice(&((8 * n + 4) as u16).to_be_bytes());
    b.extend_from_slice(&flags.to_be_bytes());
    for p in PREFIXES.iter().cycle().take(n) {
        b.extend_from_slice(p);
    }
    b
}

#[test]
fn public_key_length_from_der() {
    let mut long = vec![0x30, 0x82, 0x01, 0x00];
    long.resize(4 + 0x100, 7);
    let mut long1 = vec![0x30, 0x81, 0x80];
    long1.resize(3 + 0x80, 7);
    for key in [&[0x30, 0x00][..], &[0x30, 0x02, 0x05, 0x00], &long1, &long] {
        let b = pds_bytes(key, &mp_ext(1, 0));
        let p = Pds::parse(&b).unwrap();
        assert_eq!(p.public_key(), key);
        assert_eq!(p.multi_prefix().unwrap().prefixes, &PREFIXES[..1]);
    }
    for (key, want) in [
        (&[][..], ParseError::Truncated),
        (&[0x30], ParseError::Truncated),
        (&[0x30, 0x05, 0, 0], ParseError::Truncated),
        (&[0x30, 0x81], ParseError::Truncated),
        (&[0x30, 0x82, 0x01], ParseError::Truncated),
        (&[0x30, 0x82, 0x01, 0x00, 0], ParseError::Truncated),
        (&[0x31, 0x00], ParseError::BadPublicKey),
        (&[0x02, 0x01, 0x00], ParseError::BadPublicKey),
        (&[0x30, 0x80, 0x00, 0x00], ParseError::BadPublicKey), // indefinite
        (&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], ParseError::BadPublicKey), // not minimal
        (&[0x30, 0x82, 0x00, 0x05, 0, 0, 0, 0, 0], ParseError::BadPublicKey),
        (&[0x30, 0x83, 0, 0, 1, 0], ParseError::BadPublicKey),
    ] {
        assert_eq!(Pds::parse(&pds_bytes(key, &[])), Err(want), "{key:02x?}");
    }
    for len in 0..FIXED_LEN {
        assert_eq!(Pds::parse(&pds_bytes(&[], &[])[..len]), Err(ParseError::Truncated));
    }
}

#[test]
fn extension_fields() {
    let key = [0x30, 0x00];
    let a = [0x00, 0x99, 0x00, 0x01, 0xaa];
    let b = [0xff, 0xff, 0x00, 0x00];
    let mp = mp_ext(2, 0x8000_0001); // Reserved bit set: ignored
    let exts = [&a[..], &mp, &b].concat();
    let bytes = pds_bytes(&key, &exts);
    let p = Pds::parse(&bytes).unwrap();
    assert_eq!(p.as_bytes(), &bytes[..]);
    assert_eq!(p.modifier(), &MOD1);
    assert_eq!(p.subnet_prefix(), &PREFIXES[0]);
    assert_eq!(p.collision_count(), 0);
    let list: Vec<Extension<'_>> = p.extensions().collect();
    assert_eq!(
        list,
        [
            Extension { ty: 0x99, data: &[0xaa] },
            Extension { ty: EXT_MULTI_PREFIX, data: &mp[4..] },
            Extension { ty: 0xffff, data: &[] },
        ]
    );
    let r = p.repr();
    assert_eq!(r.leading_extensions, &a);
    assert_eq!(r.trailing_extensions, &b);
    assert_eq!(r.multi_prefix, Some(MultiPrefix { p_flag: true, prefixes: &PREFIXES[..2] }));
    // Re-emitted with the Reserved bit cleared, otherwise the same.
    let mut expected = bytes.clone();
    expected[FIXED_LEN + key.len() + a.len() + 7] = 0;
    assert_eq!(emit_vec(&r), expected);

    let bad = |exts: &[u8]| Pds::parse(&pds_bytes(&key, exts)).map(|_| ());
    assert_eq!(bad(&[0x00]), Err(ParseError::Truncated));
    assert_eq!(bad(&[0x00, 0x99, 0x00, 0x02, 0xaa]), Err(ParseError::Truncated));
    assert_eq!(bad(&mp_ext(0, 0)), Err(ParseError::BadMultiPrefix));
    assert_eq!(bad(&[0x00, 0x12, 0x00, 0x03, 0, 0, 0]), Err(ParseError::BadMultiPrefix));
    let mut odd = mp_ext(1, 0);
    odd[3] += 1;
    odd.push(0);
    assert_eq!(bad(&odd), Err(ParseError::BadMultiPrefix));
    assert_eq!(bad(&[mp_ext(1, 0), mp_ext(2, 0)].concat()), Err(ParseError::DuplicateMultiPrefix));
}

#[test]
fn emit_checks_its_input() {
    let key = [0x30, 0x00];
    let repr = PdsRepr {
        modifier: MOD1,
        subnet_prefix: PREFIXES[1],
        collision_count: 2,
        public_key: &key,
        leading_extensions: &[],
        multi_prefix: Some(MultiPrefix { p_flag: false, prefixes: &PREFIXES }),
        trailing_extensions: &[],
    };
    let len = repr.buffer_len();
    assert_eq!(len, FIXED_LEN + 2 + MULTI_PREFIX_HEADER_LEN + 24);
    let mut buf = vec![0u8; len + 3];
    assert_eq!(repr.emit(&mut buf), Ok(len));
    for short in 0..len {
        assert_eq!(repr.emit(&mut buf[..short]), Err(EmitError::BufferTooSmall));
    }
    let e = |r: PdsRepr<'_>| r.emit(&mut buf.clone());
    assert_eq!(e(PdsRepr { public_key: &[0x30, 0x01], ..repr }), Err(EmitError::BadPublicKey));
    assert_eq!(
        e(PdsRepr { public_key: &[0x30, 0x00, 0x00], ..repr }),
        Err(EmitError::BadPublicKey)
    );
    let empty = Some(MultiPrefix { p_flag: false, prefixes: &[] });
    assert_eq!(e(PdsRepr { multi_prefix: empty, ..repr }), Err(EmitError::BadMultiPrefix));
    let too_many = vec![[0u8; 8]; 8192];
    let big = Some(MultiPrefix { p_flag: false, prefixes: &too_many });
    assert_eq!(e(PdsRepr { multi_prefix: big, ..repr }), Err(EmitError::BadMultiPrefix));
    let mp = mp_ext(1, 0);
    for (lead, trail) in [
        (&mp[..], &[][..]),
        (&[][..], &mp[..]),
        (&[0x00][..], &[][..]),
        (&[][..], &[0, 1, 0, 1][..]),
    ] {
        let r = PdsRepr { leading_extensions: lead, trailing_extensions: trail, ..repr };
        assert_eq!(e(r), Err(EmitError::BadExtensions));
    }
    let r = PdsRepr { multi_prefix: None, trailing_extensions: &[0, 1, 0, 0], ..repr };
    assert_eq!(e(r), Err(EmitError::BadExtensions));
}

// ---- properties --------------------------------------------------------

/// An extension run: TLVs of types other than Multi-Prefix.
fn other_extensions() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            any::<u16>().prop_filter("not MP", |&t| t != EXT_MULTI_PREFIX),
            prop::collection::vec(any::<u8>(), 0..20),
        ),
        0..3,
    )
    .prop_map(|exts| {
        let mut b = vec![];
        for (ty, data) in exts {
            b.extend_from_slice(&ty.to_be_bytes());
            b.extend_from_slice(&(data.len() as u16).to_be_bytes());
            b.extend_from_slice(&data);
        }
        b
    })
}

/// Key content lengths that hit the short and both long forms.
fn der_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![0usize..0x80, 0x80usize..0x100, 0x100usize..0x180].prop_flat_map(|n| {
        prop::collection::vec(any::<u8>(), n).prop_map(|content| {
            let mut k = vec![0x30];
            match content.len() {
                n if n < 0x80 => k.push(n as u8),
                n if n < 0x100 => k.extend_from_slice(&[0x81, n as u8]),
                n => k.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
            }
            k.extend_from_slice(&content);
            k
        })
    })
}

fn prefix_set(max: usize) -> impl Strategy<Value = Vec<Prefix>> {
    prop::collection::hash_set(any::<Prefix>(), 1..=max).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #[test]
    fn round_trip(
        modifier in any::<Modifier>(),
        subnet_prefix in any::<Prefix>(),
        collision_count in any::<u8>(),
        key in der_key(),
        mp in prop::option::of((any::<bool>(), prop::collection::vec(any::<Prefix>(), 1..40))),
        lead in other_extensions(),
        trail in other_extensions(),
    ) {
        let repr = PdsRepr {
            modifier,
            subnet_prefix,
            collision_count,
            public_key: &key,
            leading_extensions: &lead,
            multi_prefix: mp.as_ref().map(|(p_flag, prefixes)| MultiPrefix { p_flag: *p_flag, prefixes }),
            trailing_extensions: if mp.is_some() { &trail } else { &[] },
        };
        let bytes = emit_vec(&repr);
        prop_assert_eq!(PdsRepr::parse(&bytes), Ok(repr));
        prop_assert_eq!(emit_vec(&Pds::parse(&bytes).unwrap().repr()), bytes);
    }

    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400), a in any::<Addr>()) {
        if let Ok(p) = Pds::parse(&bytes) {
            let r = p.repr();
            let mut buf = vec![0u8; r.buffer_len()];
            let _ = r.emit(&mut buf);
            let _ = p.extensions().count();
        }
        let _ = verify(&mut RustCrypto, &bytes, &a);
    }

    /// Mutations of a valid PDS get further into the parser than random bytes.
    #[test]
    fn mutated_pds_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut pds = hex(V3_PDS1);
        for (i, v) in edits {
            let i = i.index(pds.len());
            pds[i] = v;
        }
        pds.truncate(cut.index(pds.len() + 1));
        for a in [V3_ADDR0, V3_ADDR1] {
            let _ = verify(&mut RustCrypto, &pds, &addr(a));
        }
    }

    #[test]
    fn every_generated_address_verifies(
        prefixes in prefix_set(8),
        modifier in any::<Modifier>(),
        em in prop::collection::vec(any::<u8>(), EXTENDED_MODIFIER_LEN),
        collisions in 0u8..=2,
        other in any::<Prefix>(),
        bit in 0usize..64,
    ) {
        let em: [u8; EXTENDED_MODIFIER_LEN] = em.try_into().unwrap();
        let p = Params { prefixes: &prefixes, modifier, key: KeyMaterial::ExtendedModifier(em), sec: Sec::Zero, max_modifier_tries: 0 };
        let mut out = vec![[0u8; 16]; prefixes.len()];
        let mut set = generate(&mut RustCrypto, &p, &mut out).unwrap();
        for _ in 0..collisions {
            set.collision(&mut RustCrypto, &mut out).unwrap();
        }
        for i in 0..prefixes.len() {
            let pds = emit_vec(&set.pds(i).unwrap());
            let ulid = verify(&mut RustCrypto, &pds, &out[i]).unwrap();
            for (a, prefix) in out.iter().zip(&prefixes) {
                prop_assert_eq!(&a[..8], &prefix[..]);
                prop_assert_eq!(a[8] & 0xe3, 0, "Sec 0, u = g = 0");
                let v = verify(&mut RustCrypto, &pds, a).unwrap();
                prop_assert!(v.same_set(&ulid));
                prop_assert_eq!(v.addr(), a);
                // Any interface-id bit outside Sec, u and g breaks it.
                if !matches!(bit, 0..=2 | 6 | 7) {
                    let flipped = with_iid_bit_flipped(a, bit);
                    prop_assert_eq!(verify(&mut RustCrypto, &pds, &flipped), Err(VerifyError::InterfaceIdMismatch));
                }
            }
            if !prefixes.contains(&other) {
                let mut a = out[i];
                a[..8].copy_from_slice(&other);
                prop_assert_eq!(verify(&mut RustCrypto, &pds, &a), Err(VerifyError::PrefixNotInSet));
            }
        }
    }
}
