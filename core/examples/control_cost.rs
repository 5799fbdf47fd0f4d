// SPDX-License-Identifier: GPL-2.0

//! What a control message from an unauthenticated host costs the
//! responder (issue: costly work before authentication), measured on
//! this machine with the primitives the kernel uses (HMAC-SHA256 for the
//! validators, SHA-1 for HBA):
//!
//! * an I1: one validator for the R1;
//! * an I2 with a forged validator and 100 HBA locators, the way it was
//!   handled before (every locator verified, then the validator checked)
//!   and now (the validator first, then at most `MAX_LOCATORS` locators).
//!
//! Run with `make bench-control` (release build).  Times are medians of
//! repeated runs in one process; the ratio is what to compare.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use hmac::{KeyInit, Mac as _};
use shim6_core::proto::codec;
use shim6_core::proto::context::*;
use shim6_core::proto::hba::{self, Prefix};
use shim6_core::proto::wire::message::{self as m, Repr};
use shim6_core::proto::wire::options::{LocatorList, OptionSet, UlidPair as WireUlids};
use shim6_core::proto::wire::{verification, ContextTag};
use shim6_core::rustcrypto::RustCrypto;

struct HmacSha256;

impl Mac for HmacSha256 {
    fn mac(&mut self, key: &[u8; 32], parts: &[&[u8]]) -> Option<[u8; VALIDATOR_LEN]> {
        let mut h = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).ok()?;
        for p in parts {
            h.update(p);
        }
        Some(h.finalize().into_bytes().into())
    }
}

const X1: Addr = [0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const M1: Addr = [0x20, 1, 0xd, 0xb8, 0xe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66];
const PREFIXES: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 0], [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 1]];

/// Median nanoseconds of `f` over `n` runs.
fn median_ns(n: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_nanos() as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[n / 2]
}

fn main() {
    let mut rng = common::Rng(0x1234_5678);
    let mut host = Host::new(Responder::new(0, &mut rng), Locators::new(&[X1]));
    host.limits = Limits { responses: RateLimit::new(u32::MAX, u32::MAX), setups: RateLimit::new(u32::MAX, u32::MAX) };
    let mut table = common::VecTable::default();

    // An I1 from a new peer: the R1's validator.
    let i1 = Received {
        path: Path { src: M1, dst: X1 },
        msg: Message::I1 { ct: ContextTag::from_masked(0x42), nonce: 7, ulids: None, fii: 0 },
    };
    let i1_ns = median_ns(20_000, || {
        black_box(host.receive(&mut table, black_box(&i1), 1_000, &mut rng, &mut HmacSha256));
    });

    // An I2 with 100 HBA locators (the set's two, then made-up ones under
    // its prefix), the set's PDS, and a forged validator.
    let (addrs, pds) = common::hba_set(&PREFIXES, 3);
    let mut locs: Vec<Addr> = addrs.to_vec();
    while locs.len() < 100 {
        let mut a = addrs[1];
        a[15] = locs.len() as u8;
        locs.push(a);
    }
    let methods = vec![verification::HBA; locs.len()];
    let forged = [0xee; 32];
    let i2 = Repr::I2(m::I2 {
        initiator_tag: ContextTag::from_masked(0x1234),
        initiator_nonce: 1,
        responder_nonce: 2,
        options: OptionSet {
            responder_validator: Some(&forged),
            locator_list: Some(LocatorList::new(0, &methods, &locs).unwrap()),
            cga_parameters: Some(&pds),
            ulid_pair: Some(WireUlids { sender: addrs[0], receiver: X1 }),
            ..OptionSet::default()
        },
    });
    let mut buf = [0u8; 2048];
    let n = i2.emit(&mut buf).unwrap();
    let bytes = &buf[..n];
    let path = Path { src: addrs[0], dst: X1 };

    // Before: every HBA locator verified (no cap), then the validator.
    let before_ns = median_ns(300, || {
        let pds = hba::Pds::parse(&pds).unwrap();
        let owner = pds.verify(&mut RustCrypto, &addrs[0]).unwrap();
        for l in &locs {
            black_box(pds.verify(&mut RustCrypto, l).is_ok_and(|v| v.same_set(&owner)));
        }
        let rx = codec::parse(bytes, path, &mut RustCrypto, |_| true).unwrap();
        if let codec::Inbound::Context(rx) = rx {
            black_box(host.receive(&mut table, &rx, 1_000, &mut rng, &mut HmacSha256));
        }
    });
    // Now: the validator first; nothing is hashed for a forged one.
    let after_ns = median_ns(20_000, || {
        let gate = |msg: &Message| host.validates(msg, &path, 1_000, &mut HmacSha256);
        black_box(codec::parse(black_box(bytes), path, &mut RustCrypto, gate).err());
    });
    // And a real I2 of that size now costs at most MAX_LOCATORS locators.
    let capped_ns = median_ns(300, || {
        black_box(codec::parse(black_box(bytes), path, &mut RustCrypto, |_| true).ok());
    });

    println!("I1 (R1 with an HMAC-SHA256 validator):        {:>9.0} ns", i1_ns);
    println!("forged I2, 100 locators, before (hash first): {:>9.0} ns", before_ns);
    println!("forged I2, 100 locators, now (validator first): {:>7.0} ns  ({:.0}x less)", after_ns, before_ns / after_ns);
    println!("valid I2, 100 locators, now (capped at {MAX_LOCATORS}):   {:>9.0} ns", capped_ns);
}
