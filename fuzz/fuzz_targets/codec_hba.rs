// SPDX-License-Identifier: GPL-2.0

//! `codec::parse` on HBA-carrying messages: a valid I2, R2 and Update
//! Request of a host with a two-prefix HBA set, with the input's bytes
//! written over them at input-chosen offsets (checksum fixed), so that
//! mutations reach the Locator List, the PDS and HBA verification.
//! Whatever parses must keep the promises the context machine relies
//! on: every locator it hands over is in the PDS's set of the ULID it
//! names, and a forged validator costs no hash.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../core/tests/common/mod.rs"]
mod common;
use shim6_core::proto::codec::{self, Inbound, Local};
use shim6_core::proto::context::{Addr, ContextTag, Locators, Message, Path, Transmit, UlidPair, Validator, MAX_LOCATORS};
use shim6_core::proto::hba::{self, HashFailed, Prefix, Sha1, DIGEST_LEN};
use shim6_core::proto::wire::control::Packet;
use shim6_core::rustcrypto::RustCrypto;

const PREFIXES: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 0], [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 1]];
const X1: Addr = [0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

struct Counting(usize);

impl Sha1 for Counting {
    fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed> {
        self.0 += 1;
        RustCrypto.digest(parts)
    }
}

fn seeds() -> (Vec<Vec<u8>>, Addr, Vec<u8>) {
    let (addrs, pds) = common::hba_set(&PREFIXES, 7);
    let locators = Locators::new(&addrs);
    let validator = Validator::new(&[0x5a; 32]).expect("validator");
    let ulids = Some(UlidPair { local: addrs[0], peer: X1 });
    let msgs = [
        Message::I2 { ct: ContextTag::from_masked(0x1234), init_nonce: 1, resp_nonce: 2, validator, ulids, fii: 7, locators },
        Message::R2 { ct: ContextTag::from_masked(0x4321), init_nonce: 3, locators },
        Message::UpdateRequest { ct: ContextTag::from_masked(0x777), nonce: 4, generation: 5, locators, keepalive: Some(3) },
        Message::I2bis { ct: ContextTag::from_masked(0x99), init_nonce: 6, resp_nonce: 7, packet_ct: ContextTag::from_masked(8), validator, ulids, fii: 0, locators },
    ];
    let out = msgs
        .iter()
        .map(|msg| {
            let tx = Transmit { path: Path { src: addrs[1], dst: X1 }, msg: *msg };
            let mut buf = vec![0u8; 1240];
            let n = codec::emit(&tx, &Local { pds: Some(&pds) }, &mut buf).expect("emit");
            buf.truncate(n);
            buf
        })
        .collect();
    (out, addrs[0], pds)
}

static SEEDS: OnceLock<(Vec<Vec<u8>>, Addr, Vec<u8>)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (seeds, ulid, pds) = SEEDS.get_or_init(seeds);
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut msg = seeds[usize::from(pick) % seeds.len()].clone();
    // Pairs of (offset, octet) written over the seed; a trailing odd
    // octet shortens it.
    let mut chunks = rest.chunks_exact(2);
    for c in &mut chunks {
        let len = msg.len();
        if let Some(b) = msg.get_mut(usize::from(c[0]) * 4 % len) {
            *b = c[1];
        }
    }
    if let Some(&cut) = chunks.remainder().first() {
        msg.truncate(msg.len().saturating_sub(usize::from(cut)));
    }
    if msg.len() >= 8 {
        Packet::new_unchecked(&mut msg[..]).fill_checksum();
    }
    for src in [*ulid, X1] {
        let path = Path { src, dst: X1 };
        let mut sha = Counting(0);
        if let Ok(Inbound::Context(rx)) = codec::parse(&msg, path, &mut sha, |_| false) {
            assert!(!matches!(rx.msg, Message::I2 { .. } | Message::I2bis { .. }), "an I2 past a refused validator");
        }
        let mut sha = Counting(0);
        let Ok(Inbound::Context(rx)) = codec::parse(&msg, path, &mut sha, |_| true) else { continue };
        assert!(sha.0 <= 2 * (MAX_LOCATORS + 2), "{} hashes for one message", sha.0);
        let (locs, owner) = match rx.msg {
            Message::I2 { locators, ulids, .. } | Message::I2bis { locators, ulids, .. } => {
                (locators, ulids.map_or(path.src, |u| u.peer))
            }
            Message::R2 { locators, .. } | Message::UpdateRequest { locators, .. } => (locators, path.src),
            _ => continue,
        };
        // Every locator handed over is in the HBA set of the ULID it is for.
        for l in locs.as_slice() {
            assert!(hba::verify(&mut RustCrypto, pds, &owner).is_ok(), "locators for {owner:x?}, not of the set");
            assert!(hba::verify(&mut RustCrypto, pds, l).is_ok(), "{l:x?} is not in the set");
        }
    }
});
