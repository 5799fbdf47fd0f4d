// SPDX-License-Identifier: GPL-2.0

//! The project's Wireshark dissector (`tools/wireshark/shim6.lua`) against
//! the core's encoders: every message type and option, made by the code
//! that sends them (`codec::emit` for what the module sends, the wire
//! encoders for the Error message, Locator Preferences and CGA Signature
//! it does not send yet; the payload header inserted the way the data path
//! inserts it), goes through tshark, and every field tshark reports under
//! `shim6rfc` must be one the core wrote, with the value the core wrote.
//! A corrupted checksum must be reported bad, a truncated option
//! malformed, an unknown option skipped without a complaint.
//!
//! tshark is a dependency of the project (tools/setup/setup-deps.sh): its
//! absence fails the test.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::process::Command;

use common::{hba_set, ipv6_packet, write_pcap};
use shim6_core::proto::codec::{self, Local};
use shim6_core::proto::context::reap::{ProbeReport, ProbeSet, ReapState};
use shim6_core::proto::context::{self as ctx, Locators, Path, Transmit, UlidPair, Validator};
use shim6_core::proto::hba::{Pds, Prefix, EXT_MULTI_PREFIX};
use shim6_core::proto::wire::control::Packet;
use shim6_core::proto::wire::message::{self as m, ErrorMessage, Repr};
use shim6_core::proto::wire::options::{
    self as o, LocatorList, LocatorPreferences, OptionRepr, OptionSet, Tlv, TLV_HEADER_LEN,
};
use shim6_core::proto::wire::{
    checksum, error_code, ipv6, msg_type, payload, pref_flags, verification, ContextTag,
    Error, NO_NEXT_HEADER,
};

const PREFIXES_A: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0, 0xa1, 0, 0], [0x20, 1, 0xd, 0xb8, 0, 0xa2, 0, 0]];
const PREFIXES_B: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0, 0xb1, 0, 0], [0x20, 1, 0xd, 0xb8, 0, 0xb2, 0, 0]];

/// Tags with bits near both ends of the 47 set, nonces all different.
const CT_A: u64 = 0x6a5b_4c3d_2e1f;
const CT_B: u64 = 0x4000_0000_0001;
const CT_LOST: u64 = 0x1234_5678_9abc;

fn tag(v: u64) -> ContextTag {
    ContextTag::new(v).expect("47 bits")
}

/// The two hosts: HBA addresses under two prefixes each and the PDS of
/// the first.
struct Hosts {
    a: [ctx::Addr; 2],
    pds_a: Vec<u8>,
    b: [ctx::Addr; 2],
    pds_b: Vec<u8>,
}

impl Hosts {
    fn new() -> Hosts {
        let (a, pds_a) = hba_set(&PREFIXES_A, 0x3c);
        let (b, pds_b) = hba_set(&PREFIXES_B, 0xc3);
        Hosts { a, pds_a, b, pds_b }
    }

    /// A to B on their second locators: not the ULIDs.
    fn a_to_b(&self) -> Path {
        Path { src: self.a[1], dst: self.b[1] }
    }

    fn b_to_a(&self) -> Path {
        Path { src: self.b[1], dst: self.a[1] }
    }

    /// What the module would send for `msg` from the side `path` leaves:
    /// `codec::emit`, with that host's HBA set.
    fn emit(&self, path: Path, msg: ctx::Message) -> Vec<u8> {
        let (pds, set) = if self.a.contains(&path.src) { (&self.pds_a, self.a) } else { (&self.pds_b, self.b) };
        let verified = Locators::new(&set);
        let mut buf = vec![0u8; 1280];
        let n = codec::emit(&Transmit { path, msg }, &Local { pds: Some(pds), verified: &verified }, &mut buf)
            .expect("codec::emit");
        buf.truncate(n);
        buf
    }
}

/// The Shim6 header of a control message the wire encoders write.
fn emit_repr(repr: &Repr<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut buf), Ok(buf.len()));
    buf
}

fn report(src: ctx::Addr, dst: ctx::Addr, nonce: u32, data: u32) -> ProbeReport {
    ProbeReport { source: src, destination: dst, nonce, data }
}

fn probe_set(reports: &[ProbeReport]) -> ProbeSet {
    let mut set = ProbeSet::default();
    for r in reports {
        set.push(*r);
    }
    set
}

/// A TCP or UDP packet from A's ULID to B's as the application sent it,
/// then shimmed as the data path does: the payload header inserted
/// behind the IPv6 header, the packet readdressed to the locators.
fn shimmed(h: &Hosts, protocol: u8, transport: &[u8]) -> Vec<u8> {
    let ulids = ipv6::Repr {
        src: h.a[0],
        dst: h.b[0],
        next_header: protocol,
        payload_len: u16::try_from(transport.len()).expect("small"),
        hop_limit: 64,
    };
    // The upper layer's checksum covers the ULIDs (RFC 5533 §4.5).
    let mut transport = transport.to_vec();
    let at = if protocol == 6 { 16 } else { 6 };
    let len = u32::try_from(transport.len()).expect("small").to_be_bytes();
    let pseudo = [&h.a[0][..], &h.b[0], &len, &[0, 0, 0, protocol], &transport].concat();
    transport[at..at + 2].copy_from_slice(&checksum::compute(&pseudo).to_be_bytes());
    let mut p = [&[0u8; payload::HEADER_LEN][..], &ulids.to_bytes(), &transport].concat();
    payload::insert(&mut p, ipv6::HEADER_LEN, ipv6::offset::NEXT_HEADER, tag(CT_B)).expect("insert");
    let path = h.a_to_b();
    ipv6::Packet::new_unchecked(&mut p[..])
        .readdress(&path.src, &path.dst, payload::HEADER_LEN as i16)
        .expect("readdress");
    p
}

/// What tshark must report for one packet, field by field: each field's
/// values in the order they appear.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Fields(BTreeMap<String, Vec<String>>);

impl Fields {
    fn put(&mut self, name: &str, v: impl ToString) {
        self.0.entry(format!("shim6rfc.{name}")).or_default().push(v.to_string());
    }

    fn put_other(&mut self, name: &str, v: impl ToString) {
        self.0.entry(name.to_string()).or_default().push(v.to_string());
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn addr(a: &ctx::Addr) -> String {
    Ipv6Addr::from(*a).to_string()
}

/// The fields of the control message `shim` (as emitted), from `repr`,
/// the core's representation of what it wrote.
fn control_fields(repr: &Repr<'_>, shim: &[u8]) -> Fields {
    let mut f = Fields::default();
    let t = repr.msg_type();
    f.put("next_header", NO_NEXT_HEADER);
    f.put("hdr_ext_len", shim.len() / 8 - 1);
    f.put("length", repr.buffer_len());
    f.put("p", 0);
    f.put("type", t);
    f.put("s", 0);
    f.put("checksum", format!("0x{:04x}", Packet::new_unchecked(shim).checksum()));
    f.put("checksum.status", 1);
    if t != msg_type::ERROR {
        f.put("type_specific", 0);
    }
    let options = match repr {
        Repr::I1(i) => {
            f.put("ct.initiator", i.initiator_tag.get());
            f.put("nonce.initiator", i.initiator_nonce);
            i.options
        }
        Repr::R1(r) => {
            f.put("reserved", "0000");
            f.put("nonce.initiator", r.initiator_nonce);
            f.put("nonce.responder", r.responder_nonce);
            r.options
        }
        Repr::I2(i) => {
            f.put("ct.initiator", i.initiator_tag.get());
            f.put("nonce.initiator", i.initiator_nonce);
            f.put("nonce.responder", i.responder_nonce);
            f.put("reserved", "00000000");
            i.options
        }
        Repr::R2(r) => {
            f.put("ct.responder", r.responder_tag.get());
            f.put("nonce.initiator", r.initiator_nonce);
            r.options
        }
        Repr::R1bis(r) => {
            f.put("ct.packet", r.packet_tag.get());
            f.put("nonce.responder", r.responder_nonce);
            r.options
        }
        Repr::I2bis(i) => {
            f.put("ct.initiator", i.initiator_tag.get());
            f.put("nonce.initiator", i.initiator_nonce);
            f.put("nonce.responder", i.responder_nonce);
            f.put("reserved", "000000000000");
            f.put("ct.packet", i.packet_tag.get());
            i.options
        }
        Repr::UpdateRequest(u) => {
            f.put("ct.receiver", u.receiver_tag.get());
            f.put("nonce.request", u.request_nonce);
            u.options
        }
        Repr::UpdateAck(a) => {
            f.put("ct.receiver", a.receiver_tag.get());
            f.put("nonce.request", a.request_nonce);
            OptionSet::default()
        }
        Repr::Keepalive(k) => {
            f.put("ct.receiver", k.receiver_tag.get());
            f.put("reserved", "00000000");
            OptionSet::default()
        }
        Repr::Probe(p) => {
            f.put("ct.receiver", p.receiver_tag.get());
            f.put("precvd", p.received.len());
            f.put("psent", p.sent.len());
            f.put("sta", p.state as u8);
            f.put("probe.reserved", "0x000000");
            for (kind, reports) in [("sent", p.sent), ("rcvd", p.received)] {
                for r in reports.iter() {
                    f.put(&format!("{kind}.src"), addr(&r.source));
                    f.put(&format!("{kind}.dst"), addr(&r.destination));
                    f.put(&format!("{kind}.nonce"), r.nonce);
                    f.put(&format!("{kind}.data"), r.data);
                }
            }
            OptionSet::default()
        }
        Repr::Error(e) => {
            f.put("error.code", e.code);
            f.put("error.pointer", e.pointer);
            f.put("error.packet", hex(e.packet));
            OptionSet::default()
        }
    };
    for opt in options.iter() {
        option_fields(&mut f, &opt);
    }
    f
}

fn option_fields(f: &mut Fields, opt: &OptionRepr<'_>) {
    f.put("opt.type", opt.option_type());
    f.put("opt.critical", 0);
    f.put("opt.length", opt.contents_len());
    let padding = opt.buffer_len() - TLV_HEADER_LEN - opt.contents_len();
    if padding > 0 {
        f.put("opt.padding", hex(&vec![0; padding]));
    }
    match opt {
        OptionRepr::ResponderValidator(v) => f.put("validator", hex(v)),
        OptionRepr::LocatorList(l) => {
            f.put("loclist.generation", l.generation());
            f.put("loclist.count", l.len());
            for (method, locator) in l.iter() {
                f.put("loclist.method", method);
                f.put("loclist.locator", addr(&locator));
            }
            let pad = LocatorList::internal_padding(l.len());
            if pad > 0 {
                f.put("loclist.padding", hex(&vec![0; pad]));
            }
        }
        OptionRepr::LocatorPreferences(p) => {
            f.put("locpref.generation", p.generation());
            f.put("locpref.element_len", p.element_len());
            for e in p.iter() {
                f.put("locpref.flags", format!("0x{:02x}", e.flags));
                f.put("locpref.flags.broken", u8::from(e.flags & pref_flags::BROKEN != 0));
                f.put("locpref.flags.transient", u8::from(e.flags & pref_flags::TRANSIENT != 0));
                if let Some(prio) = e.priority {
                    f.put("locpref.priority", prio);
                }
                if let Some(weight) = e.weight {
                    f.put("locpref.weight", weight);
                }
            }
        }
        OptionRepr::CgaParameters(bytes) => pds_fields(f, bytes),
        OptionRepr::CgaSignature(s) => f.put("cga_signature", hex(s)),
        OptionRepr::UlidPair(u) => {
            f.put("ulid.reserved", "00000000");
            f.put("ulid.sender", addr(&u.sender));
            f.put("ulid.receiver", addr(&u.receiver));
        }
        OptionRepr::ForkedInstance(fii) => f.put("fii", fii),
        OptionRepr::KeepaliveTimeout(t) => {
            f.put("keepalive.reserved", "0x0000");
            f.put("keepalive.timeout", t);
        }
    }
}

/// The PDS as the core's HBA code reads it.
fn pds_fields(f: &mut Fields, bytes: &[u8]) {
    let pds = Pds::parse(bytes).expect("the PDS the core made parses");
    f.put("pds.modifier", hex(pds.modifier()));
    f.put("pds.subnet_prefix", hex(pds.subnet_prefix()));
    f.put("pds.collision_count", pds.collision_count());
    f.put("pds.public_key", hex(pds.public_key()));
    for ext in pds.extensions() {
        f.put("pds.ext.type", format!("0x{:04x}", ext.ty));
        f.put("pds.ext.length", ext.data.len());
        if ext.ty != EXT_MULTI_PREFIX {
            f.put("pds.ext.data", hex(ext.data));
        }
    }
    let mp = pds.multi_prefix().expect("an HBA PDS has the Multi-Prefix extension");
    f.put("pds.mp.p", u8::from(mp.p_flag));
    f.put("pds.mp.reserved", "0x00000000");
    for prefix in mp.prefixes {
        f.put("pds.mp.prefix", hex(prefix));
    }
}

/// The fields of the payload header in front of `protocol`.
fn payload_fields(protocol: u8) -> Fields {
    let mut f = Fields::default();
    f.put("next_header", protocol);
    f.put("hdr_ext_len", 0);
    f.put("length", payload::HEADER_LEN);
    f.put("p", 1);
    f.put("ct.receiver", CT_B);
    f
}

/// A packet for tshark and what it must decode to.
struct Case {
    name: &'static str,
    packet: Vec<u8>,
    want: Fields,
}

fn control(name: &'static str, path: Path, shim: Vec<u8>) -> Case {
    let repr = Repr::parse(&Packet::new_checked(&shim[..]).expect("view")).expect("the core reads back what it wrote");
    Case { name, want: control_fields(&repr, &shim), packet: ipv6_packet(&path, &shim) }
}

/// Every message the module sends, from codec::emit with distinctive
/// values.
fn sent_by_the_module(h: &Hosts) -> Vec<Case> {
    let (ab, ba) = (h.a_to_b(), h.b_to_a());
    let ulids = UlidPair { local: h.a[0], peer: h.b[0] };
    let long: [u8; 32] = std::array::from_fn(|i| 0xa5 ^ i as u8);
    let validator = Validator::new(&long).unwrap();
    // 13 octets: the option needs 7 of padding.
    let short: Vec<u8> = (1..=13).map(|i| i * 0x11).collect();
    let short_validator = Validator::new(&short).unwrap();
    let a_locs = Locators::new(&h.a);
    let b_locs = Locators::new(&h.b);
    let reports = [
        report(h.a[1], h.b[1], 0x0101_0101, 0xd00d_0001),
        report(h.a[0], h.b[1], 0x0202_0202, 0xd00d_0002),
        report(h.b[1], h.a[0], 0x0303_0303, 0xd00d_0003),
        report(h.b[0], h.a[1], 0x0404_0404, 0xd00d_0004),
    ];
    use ctx::Message::*;
    vec![
        control("I1", ab, h.emit(ab, I1 { ct: tag(CT_A), nonce: 0x1111_0001, ulids: Some(ulids), fii: 7 })),
        control("R1", ba, h.emit(ba, R1 { init_nonce: 0x1111_0001, resp_nonce: 0x2222_0002, validator })),
        control(
            "I2",
            ab,
            h.emit(ab, I2 {
                ct: tag(CT_A),
                init_nonce: 0x1111_0003,
                resp_nonce: 0x2222_0002,
                validator,
                ulids: Some(ulids),
                fii: 7,
                locators: a_locs,
            }),
        ),
        control("R2", ba, h.emit(ba, R2 { ct: tag(CT_B), init_nonce: 0x1111_0003, locators: b_locs })),
        control(
            "R1bis",
            ba,
            h.emit(ba, R1bis { packet_ct: tag(CT_LOST), resp_nonce: 0x2222_0004, validator: short_validator }),
        ),
        control(
            "I2bis",
            ab,
            h.emit(ab, I2bis {
                ct: tag(CT_A),
                init_nonce: 0x1111_0005,
                resp_nonce: 0x2222_0004,
                packet_ct: tag(CT_LOST),
                validator: short_validator,
                ulids: None,
                fii: 0,
                locators: a_locs,
            }),
        ),
        control(
            "Update Request",
            ab,
            h.emit(ab, UpdateRequest {
                ct: tag(CT_B),
                nonce: 0x3333_0006,
                generation: 0x0102_0304,
                locators: a_locs,
                keepalive: Some(17),
            }),
        ),
        control("Update Ack", ba, h.emit(ba, UpdateAck { ct: tag(CT_A), nonce: 0x3333_0006 })),
        control("Keepalive", ab, h.emit(ab, Keepalive { ct: tag(CT_B) })),
        control(
            "Probe, Operational",
            ab,
            h.emit(ab, Probe {
                ct: tag(CT_B),
                state: ReapState::Operational,
                sent: probe_set(&reports[..1]),
                received: ProbeSet::default(),
            }),
        ),
        control(
            "Probe, Exploring",
            ab,
            h.emit(ab, Probe {
                ct: tag(CT_B),
                state: ReapState::Exploring,
                sent: probe_set(&reports[..2]),
                received: probe_set(&reports[2..3]),
            }),
        ),
        control(
            "Probe, InboundOk",
            ba,
            h.emit(ba, Probe {
                ct: tag(CT_A),
                state: ReapState::InboundOk,
                sent: probe_set(&reports[2..3]),
                received: probe_set(&reports[..2]),
            }),
        ),
    ]
}

/// What the module does not send yet, by the wire encoders: the Error
/// message, Locator Preferences of each element length, the CGA
/// Signature, a CGA-method locator.
fn wire_only(h: &Hosts, invoking: &[u8]) -> Vec<Case> {
    let (ab, ba) = (h.a_to_b(), h.b_to_a());
    let three = [h.a[0], h.a[1], [0x20, 1, 0xd, 0xb8, 0, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0, 0x0c, 0x6a]];
    let methods = [verification::HBA, verification::CGA, verification::HBA];
    let list = LocatorList::new(0x0a0b_0c0d, &methods, &three).unwrap();
    let flags_only = [pref_flags::BROKEN, pref_flags::TRANSIENT, pref_flags::BROKEN | pref_flags::TRANSIENT];
    let with_priority = [0, 10, pref_flags::TRANSIENT, 20, 0, 30];
    let full = [0, 1, 100, pref_flags::BROKEN, 2, 50, 0, 3, 25];
    let signature: Vec<u8> = (0..37u8).map(|i| i.wrapping_mul(7) ^ 0x5c).collect();
    let validator = [0x77; 24];
    let update = |nonce, element_len, elements| {
        Repr::UpdateRequest(m::UpdateRequest {
            receiver_tag: tag(CT_B),
            request_nonce: nonce,
            options: OptionSet {
                locator_list: Some(list),
                locator_preferences: Some(LocatorPreferences::new(list.generation(), element_len, elements).unwrap()),
                cga_parameters: Some(&h.pds_a),
                cga_signature: Some(&signature),
                keepalive_timeout: Some(300),
                ..OptionSet::default()
            },
        })
    };
    let r2 = Repr::R2(m::R2 {
        responder_tag: tag(CT_B),
        initiator_nonce: 0x4444_0002,
        options: OptionSet {
            locator_list: Some(list),
            locator_preferences: Some(LocatorPreferences::new(list.generation(), 2, &with_priority).unwrap()),
            cga_parameters: Some(&h.pds_b),
            cga_signature: Some(&signature),
            ..OptionSet::default()
        },
    });
    let i2 = Repr::I2(m::I2 {
        initiator_tag: tag(CT_A),
        initiator_nonce: 0x4444_0003,
        responder_nonce: 0x4444_0004,
        options: OptionSet {
            responder_validator: Some(&validator),
            locator_list: Some(list),
            locator_preferences: Some(LocatorPreferences::new(list.generation(), 3, &full).unwrap()),
            cga_parameters: Some(&h.pds_a),
            cga_signature: Some(&signature),
            ulid_pair: Some(o::UlidPair { sender: h.a[0], receiver: h.b[0] }),
            forked_instance: Some(0xfeed_0042),
            keepalive_timeout: Some(9),
        },
    });
    let error = Repr::Error(ErrorMessage::new(error_code::CRITICAL_OPTION, 0x38, invoking));
    let wrong_count = Repr::Error(ErrorMessage::new(error_code::WRONG_PREFERENCE_COUNT, 0x6e, &invoking[..48]));
    [
        ("Update Request, preferences of 1 octet", ab, update(0x4444_0001, 1, &flags_only[..])),
        ("R2, preferences of 2 octets", ba, r2),
        ("I2, preferences of 3 octets, every option", ab, i2),
        ("Error, critical option", ba, error),
        ("Error, wrong preference count", ba, wrong_count),
    ]
    .into_iter()
    .map(|(name, path, repr)| {
        let shim = emit_repr(&repr);
        Case { name, want: control_fields(&repr, &shim), packet: ipv6_packet(&path, &shim) }
    })
    .collect()
}

/// Payload headers in front of TCP and UDP, which tshark must dissect on.
fn payload_packets(h: &Hosts) -> Vec<Case> {
    // A segment in mid-stream (ACK, PSH) and a datagram, on ports no
    // application dissector claims.
    let mut tcp = vec![0x9c, 0x42, 0x9c, 0x43, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0x50, 0x18, 0x20, 0, 0, 0, 0, 0];
    tcp.extend_from_slice(b"shimmed tcp");
    let mut udp = vec![0x9c, 0x44, 0x9c, 0x45, 0, 0, 0, 0];
    udp.extend_from_slice(b"shimmed udp");
    let udp_len = u16::try_from(udp.len()).unwrap().to_be_bytes();
    udp[4..6].copy_from_slice(&udp_len);

    let mut tcp_want = payload_fields(6);
    tcp_want.put_other("frame.protocols", "raw:ipv6:shim6rfc:tcp:data");
    tcp_want.put_other("tcp.srcport", 40002);
    tcp_want.put_other("tcp.dstport", 40003);
    tcp_want.put_other("data.data", hex(b"shimmed tcp"));
    let mut udp_want = payload_fields(17);
    udp_want.put_other("frame.protocols", "raw:ipv6:shim6rfc:udp:data");
    udp_want.put_other("udp.srcport", 40004);
    udp_want.put_other("udp.dstport", 40005);
    udp_want.put_other("data.data", hex(b"shimmed udp"));
    vec![
        Case { name: "payload, TCP", packet: shimmed(h, 6, &tcp), want: tcp_want },
        Case { name: "payload, UDP", packet: shimmed(h, 17, &udp), want: udp_want },
    ]
}

/// Beyond the shim6rfc fields, what is asked of tshark for every packet.
const OTHER_FIELDS: [&str; 9] = [
    "frame.protocols",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "data.data",
    "_ws.malformed",
    "_ws.expert.message",
    "_ws.expert.severity",
];

fn script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/wireshark/shim6.lua"))
        .canonicalize()
        .expect("tools/wireshark/shim6.lua")
}

/// Runs tshark with the project's dissector and nothing of the user's
/// (preferences and plugins live under HOME): what it prints.
fn tshark(home: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        // After the arguments: -G must come first.
        .args(args)
        .arg("-X")
        .arg(format!("lua_script:{}", script().display()))
        .output()
        .expect("tshark runs (tools/setup/setup-deps.sh installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {stderr}");
    // A Lua error is reported on stderr, not as a failure.
    assert!(!stderr.to_lowercase().contains("lua"), "tshark: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Every field the dissector registers.
fn dissector_fields(home: &std::path::Path) -> Vec<String> {
    let fields: Vec<String> = tshark(home, &["-G", "fields"])
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.first() == Some(&"F") && cols.get(4) == Some(&"shim6rfc")).then(|| cols[2].to_string())
        })
        .collect();
    assert!(fields.len() > 50, "the dissector's fields: {fields:?}");
    fields
}

/// Decodes `packets` with the dissector: per packet, each of the fields
/// asked for that is present, with its values in order.
fn decode(dir: &std::path::Path, packets: &[Vec<u8>], fields: &[String]) -> Vec<Fields> {
    let pcap = dir.join("shim6.pcap");
    write_pcap(&pcap, packets);
    let mut args = vec!["-n", "-r", pcap.to_str().unwrap(), "-o", "tcp.analyze_sequence_numbers:FALSE"];
    args.extend(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for name in fields {
        args.extend(["-e", name.as_str()]);
    }
    let text = tshark(dir, &args);
    let rows: Vec<Fields> = text
        .lines()
        .map(|line| {
            let values = line.split('\t');
            Fields(
                fields
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(name, v)| (name.clone(), v.split('|').map(str::to_string).collect()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(rows.len(), packets.len(), "one line per packet:\n{text}");
    rows
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shim6-wireshark-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_message_and_option_decodes_as_the_core_wrote_it() {
    let h = Hosts::new();
    let mut cases = sent_by_the_module(&h);
    // The I2 is the packet in error of the Error messages.
    let invoking = cases[2].packet.clone();
    cases.extend(wire_only(&h, &invoking));
    cases.extend(payload_packets(&h));

    // Everything listed is there: each message type, each option, each
    // element length, each REAP state.
    let all: Vec<&Fields> = cases.iter().map(|c| &c.want).collect();
    let seen = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = all.iter().flat_map(|f| f.0.get(name).cloned().unwrap_or_default()).collect();
        v.sort_by_key(|s| s.parse::<u64>().unwrap_or(u64::MAX));
        v.dedup();
        v
    };
    assert_eq!(seen("shim6rfc.type"), ["1", "2", "3", "4", "5", "6", "64", "65", "66", "67", "68"]);
    assert_eq!(seen("shim6rfc.opt.type"), ["1", "2", "3", "4", "5", "6", "7", "10"]);
    assert_eq!(seen("shim6rfc.locpref.element_len"), ["1", "2", "3"]);
    assert_eq!(seen("shim6rfc.sta"), ["0", "1", "2"]);
    assert_eq!(seen("shim6rfc.loclist.method"), ["1", "2"]);
    assert_eq!(seen("shim6rfc.p"), ["0", "1"]);

    let dir = temp_dir("all");
    let mut fields = dissector_fields(&dir);
    fields.extend(OTHER_FIELDS.iter().map(|s| s.to_string()));
    let packets: Vec<Vec<u8>> = cases.iter().map(|c| c.packet.clone()).collect();
    let decoded = decode(&dir, &packets, &fields);
    for (case, got) in cases.iter().zip(&decoded) {
        let mut want = case.want.clone();
        want.0.entry("frame.protocols".into()).or_insert_with(|| vec!["raw:ipv6:shim6rfc".into()]);
        // Nothing beyond what the core wrote, nothing missing, nothing
        // malformed and no expert info at all.
        assert_eq!(got, &want, "{}: tshark decoded (left) is not what the core wrote (right)", case.name);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_checksum_truncated_option_and_unknown_option_are_told() {
    let h = Hosts::new();
    let ba = h.b_to_a();
    let validator = [0x42; 16];
    let r1 = Repr::R1(m::R1 {
        initiator_nonce: 0x5555_0001,
        responder_nonce: 0x5555_0002,
        options: OptionSet { responder_validator: Some(&validator), ..OptionSet::default() },
    });

    // One bit of the Responder Nonce flipped after the checksum.
    let mut corrupted = emit_repr(&r1);
    corrupted[13] ^= 0x04;

    // The validator's Length claims 8 octets more than the message has; the
    // checksum is made right again, so only the option is at fault.
    let mut truncated = emit_repr(&r1);
    let mut tlv = Tlv::new_unchecked(&mut truncated[16..]);
    tlv.set_length(validator.len() as u16 + 8);
    Packet::new_unchecked(&mut truncated[..]).fill_checksum();

    // An option no one defines, C = 0, after the validator: skipped.
    let mut unknown = emit_repr(&r1);
    let grown = unknown.len() + 8;
    unknown.resize(grown, 0);
    let mut tlv = Tlv::new_unchecked(&mut unknown[grown - 8..]);
    tlv.set_option_type(99);
    tlv.set_length(3);
    tlv.contents_mut().copy_from_slice(&[0xab, 0xcd, 0xef]);
    let mut p = Packet::new_unchecked(&mut unknown[..]);
    p.set_hdr_ext_len((grown / 8 - 1) as u8);
    p.fill_checksum();

    // The core's verdicts, which the dissector must share.
    let parse = |b: &[u8]| Repr::parse(&Packet::new_checked(b).unwrap()).map(|r| r.msg_type());
    assert_eq!(parse(&corrupted), Err(Error::BadChecksum));
    assert_eq!(parse(&truncated), Err(Error::Truncated));
    assert_eq!(parse(&unknown), Ok(msg_type::R1));

    let dir = temp_dir("bad");
    let fields: Vec<String> = [
        "shim6rfc.type",
        "shim6rfc.checksum.status",
        "shim6rfc.opt.type",
        "shim6rfc.opt.data",
        "shim6rfc.validator",
        "_ws.expert.message",
        "_ws.expert.group",
        "_ws.expert.severity",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let packets: Vec<Vec<u8>> = [corrupted, truncated, unknown].iter().map(|s| ipv6_packet(&ba, s)).collect();
    let got = decode(&dir, &packets, &fields);
    let get = |i: usize, name: &str| got[i].0.get(name).cloned().unwrap_or_default();
    // Expert groups and severities (epan/proto.h).
    const PI_CHECKSUM: &str = "16777216";
    const PI_MALFORMED: &str = "117440512";
    const PI_UNDECODED: &str = "83886080";
    const PI_ERROR: &str = "8388608";
    const PI_NOTE: &str = "4194304";

    assert_eq!(get(0, "shim6rfc.checksum.status"), ["0"], "corrupted: {:?}", got[0]);
    assert_eq!(get(0, "_ws.expert.group"), [PI_CHECKSUM], "corrupted: {:?}", got[0]);
    assert_eq!(get(0, "_ws.expert.severity"), [PI_ERROR], "corrupted: {:?}", got[0]);
    assert_eq!(get(0, "shim6rfc.validator"), [hex(&validator)], "decoded all the same: {:?}", got[0]);

    assert_eq!(get(1, "shim6rfc.checksum.status"), ["1"], "truncated: {:?}", got[1]);
    assert_eq!(get(1, "_ws.expert.group"), [PI_MALFORMED], "truncated: {:?}", got[1]);
    assert_eq!(get(1, "_ws.expert.severity"), [PI_ERROR], "truncated: {:?}", got[1]);
    assert_eq!(
        get(1, "_ws.expert.message"),
        ["Option of 32 octets runs past the message (24 left)"],
        "truncated: {:?}",
        got[1]
    );

    assert_eq!(get(2, "shim6rfc.checksum.status"), ["1"], "unknown: {:?}", got[2]);
    assert_eq!(get(2, "shim6rfc.opt.type"), ["1", "99"], "unknown: {:?}", got[2]);
    assert_eq!(get(2, "shim6rfc.opt.data"), ["abcdef"], "unknown: {:?}", got[2]);
    assert_eq!(get(2, "_ws.expert.group"), [PI_UNDECODED], "unknown: {:?}", got[2]);
    assert_eq!(get(2, "_ws.expert.severity"), [PI_NOTE], "unknown: {:?}", got[2]);
    std::fs::remove_dir_all(&dir).unwrap();
}
