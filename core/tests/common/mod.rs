// SPDX-License-Identifier: GPL-2.0

//! What the tests share: deterministic randomness, a test MAC, a table
//! of contexts in a `Vec`, and captures for tshark.

#![allow(dead_code)]

use shim6_core::proto::context::*;
use shim6_core::proto::hba::{self, KeyMaterial, Params, Prefix, Sec};
use shim6_core::proto::wire::{ipv6, PROTOCOL};
use shim6_core::rustcrypto::RustCrypto;

/// A two-prefix HBA set (Sec 0, HBA only) made from `seed`: its
/// addresses, and the PDS of the first, as a host sends it.
pub fn hba_set(prefixes: &'static [Prefix; 2], seed: u8) -> ([Addr; 2], Vec<u8>) {
    let mut addrs = [[0u8; 16]; 2];
    let params = Params {
        prefixes,
        modifier: [seed; 16],
        key: KeyMaterial::ExtendedModifier([seed ^ 0x5a; hba::EXTENDED_MODIFIER_LEN]),
        sec: Sec::Zero,
        max_modifier_tries: 0,
    };
    let set = hba::generate(&mut RustCrypto, &params, &mut addrs).expect("HBA set");
    let repr = set.pds(0).expect("PDS");
    let mut pds = vec![0; repr.buffer_len()];
    repr.emit(&mut pds).expect("PDS bytes");
    (addrs, pds)
}

/// xorshift64*: deterministic, seeded per peer.
pub struct Rng(pub u64);

impl Random for Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A keyed FNV-1a spread over 32 octets: deterministic and key dependent,
/// which is all the state machine asks of it (the kernel uses HMAC-SHA256).
pub struct TestMac;

impl Mac for TestMac {
    fn mac(&mut self, key: &[u8; 32], parts: &[&[u8]]) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ i as u64;
            for b in key.iter().chain(parts.iter().flat_map(|p| p.iter())) {
                h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
            chunk.copy_from_slice(&h.to_be_bytes());
        }
        Some(out)
    }
}

/// Contexts in a `Vec`, all with the traffic in the second field.
#[derive(Default)]
pub struct VecTable(pub Vec<Context>, pub reap::Traffic);

impl Table for VecTable {
    fn contexts(&self) -> impl Iterator<Item = &Context> {
        self.0.iter()
    }
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.0.iter_mut()
    }
    fn sweep(&mut self, mut f: impl FnMut(&mut Context, &reap::Traffic) -> bool) {
        let traffic = self.1;
        self.0.retain_mut(|c| f(c, &traffic));
    }
    fn insert(&mut self, ctx: &Context) -> bool {
        self.0.push(ctx.clone());
        true
    }
    fn drop_confused(&mut self, new: &Confusion) {
        self.0.retain(|c| !c.confused_with(new));
    }
}

/// The name of a message's type, for assertions.
pub fn kind(tx: &Transmit) -> &'static str {
    match tx.msg {
        Message::I1 { .. } => "I1",
        Message::R1 { .. } => "R1",
        Message::I2 { .. } => "I2",
        Message::R2 { .. } => "R2",
        Message::R1bis { .. } => "R1bis",
        Message::I2bis { .. } => "I2bis",
        Message::UpdateRequest { .. } => "UpdateRequest",
        Message::UpdateAck { .. } => "UpdateAck",
        Message::Keepalive { .. } => "Keepalive",
        Message::Probe { .. } => "Probe",
    }
}

/// The IPv6 packet that carries the Shim6 header `shim` on `path`.
pub fn ipv6_packet(path: &Path, shim: &[u8]) -> Vec<u8> {
    let header = ipv6::Repr {
        src: path.src,
        dst: path.dst,
        next_header: PROTOCOL,
        payload_len: u16::try_from(shim.len()).expect("fits an IPv6 payload"),
        hop_limit: 64,
    };
    [&header.to_bytes()[..], shim].concat()
}

/// Writes `packets` (IPv6, from their fixed header on) to a pcap file
/// with LINKTYPE_RAW, one packet a second.
pub fn write_pcap(file: &std::path::Path, packets: &[Vec<u8>]) {
    // Global header: magic, version 2.4, zone 0, sigfigs 0, snaplen.
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&101u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let len = u32::try_from(p.len()).expect("a packet under 4 GiB");
        f.extend_from_slice(&u32::try_from(i).expect("few packets").to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(p);
    }
    std::fs::write(file, f).expect("pcap written");
}
