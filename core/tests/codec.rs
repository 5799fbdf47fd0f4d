// SPDX-License-Identifier: GPL-2.0

//! Two hosts with HBA sets establish, update and recover contexts through
//! real bytes: every message is emitted by `codec::emit`, parsed back by
//! `codec::parse` (which verifies the peer's locators), and also written
//! to a pcap that tshark, a dissector nobody here wrote, must decode with
//! good checksums and nothing malformed.

mod common;

use std::process::Command;

use common::{hba_set, ipv6_packet, write_pcap, Rng, TestMac, VecTable};
use shim6_core::proto::codec::{self, Discard, Inbound, Local};
use shim6_core::proto::context::*;
use shim6_core::proto::hba::Prefix;
use shim6_core::proto::wire::Error as WireError;
use shim6_core::rustcrypto::RustCrypto;

struct Peer {
    host: Host,
    table: VecTable,
    rng: Rng,
    ulid: Addr,
    pds: Vec<u8>,
}

fn hba_host(prefixes: &'static [Prefix; 2], seed: u64) -> Peer {
    let (addrs, pds) = hba_set(prefixes, seed as u8);
    let mut rng = Rng(seed);
    let host = Host::new(Responder::new(0, &mut rng), Locators::new(&addrs));
    Peer { host, table: VecTable::default(), rng, ulid: addrs[0], pds }
}

const PREFIXES_A: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 0], [0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 1]];
const PREFIXES_B: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 0], [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 1]];

/// The wire between the peers, remembering every packet for tshark.
#[derive(Default)]
struct Wire {
    packets: Vec<Vec<u8>>,
}

impl Wire {
    /// Emits `tx` as `from` would and returns the bytes of its Shim6 header.
    fn send(&mut self, from: &Peer, tx: &Transmit) -> Vec<u8> {
        let mut buf = vec![0u8; 1280];
        let n = codec::emit(tx, &Local { pds: Some(&from.pds), verified: &from.host.locators }, &mut buf).expect("emit");
        buf.truncate(n);
        self.packets.push(ipv6_packet(&tx.path, &buf));
        buf
    }

    /// Carries `tx` from `from` to `to`; returns `to`'s answers.
    fn deliver(&mut self, from: &Peer, to: &mut Peer, tx: &Transmit) -> Vec<Transmit> {
        let bytes = self.send(from, tx);
        let gate = |m: &_| to.host.validates(m, &tx.path, 0, &mut TestMac);
        match codec::parse(&bytes, tx.path, &mut RustCrypto, gate).expect("parse") {
            Inbound::Context(rx) => to
                .host
                .receive(&mut to.table, &rx, 0, &mut to.rng, &mut TestMac)
                .tx
                .into_iter()
                .flatten()
                .collect(),
            Inbound::Other(r) => panic!("unexpected {r:?}"),
        }
    }
}

/// `a` starts a context with `b` on their ULIDs: its I1.
fn initiate(a: &mut Peer, b: &Peer) -> Transmit {
    let ct = Host::fresh_tag(&a.table, &mut a.rng);
    let path = Path { src: a.ulid, dst: b.ulid };
    let ulids = UlidPair { local: a.ulid, peer: b.ulid };
    let (ctx, i1) = Context::initiate(ulids, 0, ct, a.host.locators, path, 0, &mut a.rng);
    a.table.0.push(ctx);
    i1
}

fn handshake(wire: &mut Wire, a: &mut Peer, b: &mut Peer) {
    let i1 = initiate(a, b);
    let r1 = wire.deliver(a, b, &i1);
    let i2 = wire.deliver(b, a, &r1[0]);
    let r2 = wire.deliver(a, b, &i2[0]);
    assert!(wire.deliver(b, a, &r2[0]).is_empty());
}

fn peers() -> (Peer, Peer) {
    (hba_host(&PREFIXES_A, 11), hba_host(&PREFIXES_B, 22))
}

#[test]
fn handshake_over_the_wire_learns_verified_locators() {
    let (mut a, mut b) = peers();
    let mut wire = Wire::default();
    handshake(&mut wire, &mut a, &mut b);
    let (ca, cb) = (&a.table.0[0], &b.table.0[0]);
    assert_eq!(ca.state(), State::Established);
    assert_eq!(cb.state(), State::Established);
    assert_eq!(ca.ct_peer(), Some(cb.ct_local()));
    assert_eq!(ca.peer_locators().as_slice().len(), 2, "both of B's HBA addresses");
    for l in b.host.locators.as_slice() {
        assert!(ca.peer_locators().contains(l));
    }
    for l in a.host.locators.as_slice() {
        assert!(cb.peer_locators().contains(l));
    }
}

#[test]
fn locators_outside_the_hba_set_are_never_used() {
    let (mut a, mut b) = peers();
    let mut wire = Wire::default();
    handshake(&mut wire, &mut a, &mut b);
    let ct = b.table.0[0].ct_local();
    let rogue: Addr = [0x20, 1, 0xd, 0xb8, 0xa, 0, 0, 0, 0xde, 0xad, 0, 0, 0, 0, 0, 1];
    let mut claimed = a.host.locators;
    claimed.push(rogue);
    let ur = Transmit {
        path: Path { src: a.ulid, dst: b.ulid },
        msg: Message::UpdateRequest { ct, nonce: 5, generation: 9, locators: claimed, keepalive: None },
    };
    let ack = wire.deliver(&a, &mut b, &ur);
    assert!(matches!(ack[0].msg, Message::UpdateAck { nonce: 5, .. }));
    let learnt = b.table.0[0].peer_locators();
    assert!(!learnt.contains(&rogue), "a locator failing HBA verification is dropped");
    assert_eq!(learnt.as_slice().len(), 2);
}

#[test]
fn a_pds_that_does_not_cover_the_ulid_is_refused() {
    let (mut a, mut b) = peers();
    let c = hba_host(&PREFIXES_B, 33);
    let i1 = initiate(&mut a, &b);
    let mut wire = Wire::default();
    let r1 = wire.deliver(&a, &mut b, &i1);
    let i2 = a.host.receive(&mut a.table, &received(&mut wire, &b, &r1[0]), 0, &mut a.rng, &mut TestMac).tx[0].unwrap();
    // The I2 leaves with A's locators and C's PDS instead of A's.
    let mut bytes = vec![0u8; 1280];
    let n = codec::emit(&i2, &Local { pds: Some(&c.pds), verified: &a.host.locators }, &mut bytes).expect("emit");
    bytes.truncate(n);
    assert_eq!(codec::parse(&bytes, i2.path, &mut RustCrypto, |_| true).err(), Some(Discard::ForeignPds));
}

/// A host whose HBA set does not hold the ULID a context is for (an
/// address of the host outside the set) sends that context no Locator
/// List, and no PDS the peer would find foreign: the setup completes, on
/// the ULID alone for that side.
#[test]
fn a_ulid_outside_the_hba_set_sets_up_without_a_locator_list() {
    let (mut a, mut b) = peers();
    b.ulid = [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3];
    let i1 = initiate(&mut a, &b);
    let mut wire = Wire::default();
    let r1 = wire.deliver(&a, &mut b, &i1);
    let i2 = wire.deliver(&b, &mut a, &r1[0]);
    let r2 = wire.deliver(&a, &mut b, &i2[0]);
    assert!(wire.deliver(&b, &mut a, &r2[0]).is_empty());
    assert_eq!(a.table.0[0].state(), State::Established);
    assert_eq!(a.table.0[0].peer_locators().as_slice(), [b.ulid]);
    assert_eq!(b.table.0[0].local_locators().as_slice(), [b.ulid]);
    assert_eq!(b.table.0[0].peer_locators().as_slice().len(), 2, "A's list, verified");
}

fn received(wire: &mut Wire, from: &Peer, tx: &Transmit) -> Received {
    let bytes = wire.send(from, tx);
    match codec::parse(&bytes, tx.path, &mut RustCrypto, |_| true).unwrap() {
        Inbound::Context(rx) => rx,
        Inbound::Other(r) => panic!("{r:?}"),
    }
}

#[test]
fn corrupted_messages_are_refused() {
    let (mut a, b) = peers();
    let mut wire = Wire::default();
    let path = Path { src: a.ulid, dst: b.ulid };
    let ulids = UlidPair { local: a.ulid, peer: b.ulid };
    let (_, i1) = Context::initiate(ulids, 0, ContextTag::from_masked(1), a.host.locators, path, 0, &mut a.rng);
    let mut bytes = wire.send(&a, &i1);
    bytes[9] ^= 0x10;
    assert_eq!(codec::parse(&bytes, path, &mut RustCrypto, |_| true).err(), Some(Discard::Wire(WireError::BadChecksum)));
    assert!(codec::parse(&bytes[..7], path, &mut RustCrypto, |_| true).is_err());
}

#[test]
fn recovery_and_update_over_the_wire_decode_cleanly_in_tshark() {
    let (mut a, mut b) = peers();
    let mut wire = Wire::default();
    handshake(&mut wire, &mut a, &mut b);

    // An update, acknowledged.
    let ur = a.table.0[0].update_locators(a.host.locators, 10, &mut a.rng).unwrap();
    let ack = wire.deliver(&a, &mut b, &ur);
    assert!(wire.deliver(&b, &mut a, &ack[0]).is_empty());
    assert!(!a.table.0[0].update_pending());

    // B restarts; A's next message with B's old tag brings R1bis.
    let old = b.table.0[0].ct_local();
    b = hba_host(&PREFIXES_B, 22);
    b.rng = Rng(4242);
    let from_a = Path { src: a.ulid, dst: b.ulid };
    let r1bis = b.host.unknown_tag(old, &from_a, 20, &mut b.rng, &mut TestMac).unwrap();
    let i2bis = wire.deliver(&b, &mut a, &r1bis);
    let r2 = wire.deliver(&a, &mut b, &i2bis[0]);
    assert!(wire.deliver(&b, &mut a, &r2[0]).is_empty());
    assert_eq!(a.table.0[0].state(), State::Established);
    assert_eq!(a.table.0[0].ct_peer(), Some(b.table.0[0].ct_local()));

    // I1 R1 I2 R2, Update Request and Acknowledgement, R1bis I2bis R2.
    tshark_accepts(&wire.packets, &[1, 2, 3, 4, 64, 65, 5, 6, 4]);
}

/// Writes `packets` (IPv6) to a pcap and has tshark decode them: every
/// one a Shim6 message of the expected type with a good checksum; no
/// malformed packet and no expert warning or error.
///
/// Debian 12's tshark 4.0.17 reads the fields of control messages one
/// octet early (its checksum at octets 3-4 instead of RFC 5533 §5.3's 4-5,
/// fixed in later Wireshark), so anything with options decodes as
/// malformed there.  The I1 tells which dissector this is: its Initiator
/// Nonce is at octets 12-15; a dissector that reports octets 11-14 is
/// that one, and for it only the type and checksum are held against us
/// (and the one-octet shift itself is asserted, so any other mismatch
/// still fails).
fn tshark_accepts(packets: &[Vec<u8>], types: &[u8]) {
    let dir = std::env::temp_dir().join(format!("shim6-codec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("shim6.pcap");
    write_pcap(&pcap, packets);

    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-T", "fields", "-E", "separator=|", "-e", "shim6.type", "-e", "shim6.checksum.status"])
        .args(["-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "shim6.inonce"])
        .output()
        .expect("tshark (tools/setup/setup-deps.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), packets.len(), "{text}");

    // The I1 (first packet): where does tshark find the Initiator Nonce?
    let i1 = &packets[0][40..];
    assert_eq!(i1[2] & 0x7f, 1, "the first packet is an I1");
    let nonce_at = |o: usize| u32::from_be_bytes(i1[o..o + 4].try_into().unwrap()).to_string();
    let seen = lines[0][4].split(',').next().unwrap_or("");
    let aligned = if seen == nonce_at(12) {
        true
    } else {
        assert_eq!(seen, nonce_at(11), "tshark reads the I1 neither per RFC 5533 nor shifted by one octet");
        false
    };

    for (f, want) in lines.iter().zip(types) {
        let line = f.join("|");
        assert_eq!(f[0], want.to_string(), "message type as tshark decodes it: {line}");
        // Checksum status 1 is "Good": the sum covers the whole header, so
        // it holds whatever the field offsets.
        assert_eq!(f[1], "1", "checksum not good: {line}");
        if aligned {
            assert!(f[2].is_empty(), "malformed: {line}");
            // Expert severities: 0x00600000 warning, 0x00800000 error.
            assert!(!f[3].contains("6291456") && !f[3].contains("8388608"), "expert warning/error: {line}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
