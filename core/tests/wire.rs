// SPDX-License-Identifier: GPL-2.0

//! Unit, known-answer and property tests of `src/proto/wire/`.
//!
//! The known-answer vectors were built independently of this code, from
//! RFC 5533 §5 and RFC 5534 §5, checksums included.

use proptest::collection::vec;
use proptest::prelude::*;
use shim6_core::proto::wire::control::{self, Packet};
use shim6_core::proto::wire::message::*;
use shim6_core::proto::wire::options::*;
use shim6_core::proto::wire::ipv6;
use shim6_core::proto::wire::payload::{self, PayloadHeader, PayloadRepr};
use shim6_core::proto::wire::{
    checksum, error_code, msg_type, option_type, pref_flags, verification, ContextTag, Error,
    Header, Peek, MAX_HEADER_LEN, NO_NEXT_HEADER, PROTOCOL,
};

/// 2001:db8::1
const A1: Addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// 2001:db8::2
const A2: Addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

const ALL_TYPES: [u8; 11] = [
    msg_type::I1,
    msg_type::R1,
    msg_type::I2,
    msg_type::R2,
    msg_type::R1BIS,
    msg_type::I2BIS,
    msg_type::UPDATE_REQUEST,
    msg_type::UPDATE_ACK,
    msg_type::KEEPALIVE,
    msg_type::PROBE,
    msg_type::ERROR,
];

fn tag(v: u64) -> ContextTag {
    ContextTag::new(v).unwrap()
}

/// `repr` emitted into a buffer of exactly its length.
fn emit(repr: &Repr<'_>) -> Vec<u8> {
    let mut buf = vec![0xa5; repr.buffer_len()];
    assert_eq!(repr.emit(&mut buf), Ok(buf.len()));
    buf
}

fn parse(buf: &[u8]) -> Result<Repr<'_>, Error> {
    Repr::parse(&Packet::new_checked(buf)?)
}

/// `opt` emitted on its own.
fn emit_option(opt: &OptionRepr<'_>) -> Vec<u8> {
    let mut buf = vec![0xa5; opt.buffer_len()];
    assert_eq!(opt.emit(&mut buf), Ok(buf.len()));
    buf
}

fn parse_option(buf: &[u8]) -> Result<Option<OptionRepr<'_>>, Error> {
    OptionRepr::parse(&Tlv::new_checked(buf)?)
}

/// A message of type `t` and Hdr Ext Len `hel` whose fields from octet 6
/// on are `body` then zeros, with a valid checksum.
fn raw_message(t: u8, hel: u8, body: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; control::header_len(hel)];
    buf[6..6 + body.len()].copy_from_slice(body);
    let mut p = Packet::new_unchecked(&mut buf[..]);
    p.set_next_header(NO_NEXT_HEADER);
    p.set_hdr_ext_len(hel);
    p.set_msg_type(t);
    p.fill_checksum();
    buf
}

/// Recomputes the checksum of the message at the start of `buf`.
fn fix_checksum(buf: &mut [u8]) {
    Packet::new_unchecked(buf).fill_checksum();
}

/// An option TLV with any type and C bit, zero padded.
fn raw_option(ty: u16, critical: bool, contents: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; padded_len(contents.len())];
    let mut tlv = Tlv::new_unchecked(&mut buf[..]);
    tlv.set_option_type(ty);
    tlv.set_critical(critical);
    tlv.set_length(contents.len() as u16);
    tlv.contents_mut().copy_from_slice(contents);
    buf
}

/// Emits `repr` and checks it matches `expected` octet for octet, and that
/// `expected` parses back to `repr`, both through [`Repr`] and through the
/// message type's own parser.
fn check_known_answer(repr: Repr<'_>, expected: &[u8]) {
    assert_eq!(emit(&repr), expected, "{repr:?}");
    assert_eq!(parse(expected), Ok(repr));
    assert!(Packet::new_checked(expected).unwrap().verify_checksum());
}

// ---- checksum -------------------------------------------------------------

#[test]
fn checksum_rfc1071_example() {
    // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(checksum::sum(&data), 0xddf2);
    assert_eq!(checksum::compute(&data), !0xddf2);
    // An odd last octet counts as the high half of a word.
    assert_eq!(checksum::sum(&[0x12, 0x34, 0x56]), 0x6834);
    assert_eq!(checksum::sum(&[]), 0);
}

#[test]
fn checksum_flipped_bit_fails() {
    for bit in 0..I1_BYTES.len() * 8 {
        let mut buf = I1_BYTES;
        buf[bit / 8] ^= 1 << (bit % 8);
        let expected = match bit / 8 {
            // Hdr Ext Len 0 is checksummed over 8 octets; longer runs past the end.
            1 if bit % 8 == 0 => Err(Error::BadChecksum),
            1 => Err(Error::Truncated),
            2 if bit % 8 == 7 => Err(Error::Malformed), // P = 1: not a control message
            _ => Err(Error::BadChecksum),
        };
        assert_eq!(parse(&buf), expected, "bit {bit}");
    }
}

#[test]
fn checksum_covers_the_header_only() {
    let mut buf = I1_BYTES.to_vec();
    buf.extend_from_slice(&[1, 2, 3, 4, 5]);
    let packet = Packet::new_checked(&buf[..]).unwrap();
    assert_eq!(packet.payload(), &[1, 2, 3, 4, 5]);
    assert!(packet.verify_checksum());
    assert_eq!(parse(&buf), parse(&I1_BYTES));
}

// ---- payload extension header ------------------------------------------

#[test]
fn payload_header_known_answer() {
    let repr = PayloadRepr { next_header: 6, context_tag: tag(0x0123_4567_89ab) };
    let bytes = [0x06, 0x00, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab];
    assert_eq!(repr.to_bytes(), bytes);
    let mut buf = [0; 10];
    assert_eq!(repr.emit(&mut buf), Ok(8));
    assert_eq!(buf[..8], bytes);
    assert_eq!(repr.emit(&mut [0; 7]), Err(Error::Truncated));

    let view = PayloadHeader::new_checked(&buf[..]).unwrap();
    assert_eq!(PayloadRepr::parse(&view), Ok(repr));
    assert_eq!(view.payload(), &[0, 0]);
    assert_eq!(Header::parse(&bytes), Ok(Header::Payload(repr)));
}

#[test]
fn payload_header_checks() {
    let good = [59, 0, 0x80, 0, 0, 0, 0, 1];
    assert!(PayloadHeader::new_checked(&good[..]).is_ok());
    assert_eq!(PayloadHeader::new_checked(&good[..7]).err(), Some(Error::Truncated));
    let mut p_clear = good;
    p_clear[2] = 0;
    assert_eq!(PayloadHeader::new_checked(&p_clear[..]).err(), Some(Error::Malformed));
    let mut long = good;
    long[1] = 1;
    assert_eq!(PayloadHeader::new_checked(&long[..]).err(), Some(Error::Malformed));
}

#[test]
fn payload_header_setters() {
    let mut buf = [0; 8];
    let mut h = PayloadHeader::new_unchecked(&mut buf[..]);
    h.set_next_header(17);
    h.set_context_tag(tag(ContextTag::MAX));
    assert_eq!(buf, [17, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

/// An IPv6 header (Next Header TCP) and 12 octets of TCP.
fn ipv6_packet() -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 12, 6, 64];
    p.extend_from_slice(&A1);
    p.extend_from_slice(&A2);
    p.extend_from_slice(&[0xaa; 12]);
    p
}

#[test]
fn ipv6_header_view() {
    let orig = ipv6_packet();
    let p = ipv6::Packet::new_checked(&orig[..]).unwrap();
    assert_eq!((p.version(), p.payload_len(), p.next_header()), (6, 12, 6));
    assert_eq!((p.src_addr(), p.dst_addr()), (A1, A2));
    assert!(!p.is_jumbogram());
    let repr = ipv6::Repr::parse(&p);
    assert_eq!(repr.to_bytes()[..], orig[..40]);

    let mut buf = orig.clone();
    let mut p = ipv6::Packet::new_unchecked(&mut buf[..]);
    assert_eq!(p.readdress(&A2, &A1, 8), Ok(()));
    assert_eq!((p.src_addr(), p.dst_addr(), p.payload_len()), (A2, A1, 20));
    assert_eq!(p.readdress(&A1, &A2, -8), Ok(()));
    assert_eq!(buf, orig);

    // A jumbogram is never rewritten; lengths stay within 16 bits.
    let mut jumbo = orig.clone();
    jumbo[4..6].fill(0);
    assert_eq!(ipv6::Packet::new_unchecked(&mut jumbo[..]).readdress(&A2, &A1, 8), Err(Error::Malformed));
    let mut full = orig.clone();
    full[4..6].copy_from_slice(&[0xff, 0xfc]);
    assert_eq!(ipv6::Packet::new_unchecked(&mut full[..]).readdress(&A2, &A1, 8), Err(Error::Malformed));

    assert_eq!(ipv6::Packet::new_checked(&orig[..39]), Err(Error::Truncated));
    let mut v4 = orig.clone();
    v4[0] = 0x45;
    assert_eq!(ipv6::Packet::new_checked(&v4[..]), Err(Error::Malformed));
}

#[test]
fn header_peek() {
    let t = tag(0x4242);
    let payload = PayloadRepr { next_header: 17, context_tag: t };
    assert_eq!(Header::peek(&payload.to_bytes()), Ok(Peek::Payload(payload)));
    // A control message: its length from Hdr Ext Len, whatever follows.
    assert_eq!(Header::peek(&[59, 2, 1, 0, 0, 0, 0, 0]), Ok(Peek::Control { len: 24 }));
    assert_eq!(Header::peek(&[59, 2, 1]), Err(Error::Truncated));
    // P = 1 with a Hdr Ext Len other than 0 is no payload header.
    assert_eq!(Header::peek(&[6, 1, 0x80, 0, 0, 0, 0, 1]), Err(Error::Malformed));
}

#[test]
fn payload_header_insert_and_remove() {
    let orig = ipv6_packet();
    // Room for the header, then the packet: only the IPv6 header moves.
    let mut buf = vec![0; 8];
    buf.extend_from_slice(&orig);
    let t = tag(0x4242);
    assert_eq!(payload::insert(&mut buf, 40, 6, t), Ok(()));
    assert_eq!(buf[6], PROTOCOL);
    assert_eq!(buf[..40], [&orig[..6], &[PROTOCOL], &orig[7..40]].concat()[..]);
    assert_eq!(buf[40..48], PayloadRepr { next_header: 6, context_tag: t }.to_bytes());
    assert_eq!(buf[48..], orig[40..]);

    assert_eq!(payload::remove(&mut buf, 40, 6), Ok(t));
    assert_eq!(buf[8..], orig[..]);

    // No room, offsets out of order, no Shim6 header to remove.
    let mut tight = orig[..40].to_vec();
    assert_eq!(payload::insert(&mut tight, 40, 6, t), Err(Error::Truncated));
    assert_eq!(payload::insert(&mut buf, 40, 40, t), Err(Error::Malformed));
    assert_eq!(payload::remove(&mut buf[8..], 40, 6), Err(Error::Malformed));
    assert_eq!(payload::remove(&mut buf, 40, 40), Err(Error::Malformed));
}

// ---- common control header ---------------------------------------------

#[test]
fn control_header_accessors() {
    let p = Packet::new_checked(&ERROR_BYTES[..]).unwrap();
    assert_eq!(p.next_header(), NO_NEXT_HEADER);
    assert_eq!(p.hdr_ext_len(), 2);
    assert_eq!(p.header_len(), 24);
    assert!(!p.payload_bit());
    assert_eq!(p.msg_type(), msg_type::ERROR);
    assert_eq!(p.type_specific(), error_code::CRITICAL_OPTION);
    assert!(!p.s_bit());
    assert_eq!(p.checksum(), 0x4883);
    assert_eq!(control::hdr_ext_len(24), Some(2));
    assert_eq!(control::hdr_ext_len(MAX_HEADER_LEN), Some(255));
    assert_eq!(control::hdr_ext_len(MAX_HEADER_LEN + 8), None);
    assert_eq!(control::hdr_ext_len(20), None);
}

#[test]
fn control_header_length_rules() {
    assert_eq!(parse(&I1_BYTES[..7]), Err(Error::Truncated));
    // Hdr Ext Len says 16 octets; the buffer holds 15.
    assert_eq!(parse(&I1_BYTES[..15]), Err(Error::Truncated));
    let mut s_bit = I1_BYTES;
    s_bit[3] |= 1;
    fix_checksum(&mut s_bit);
    assert_eq!(parse(&s_bit), Err(Error::Malformed));
}

#[test]
fn minimum_lengths() {
    let min_hel = |t| (control::min_len(t).unwrap() / 8 - 1) as u8;
    for t in ALL_TYPES {
        let hel = min_hel(t);
        // The one field that must be non-zero at the minimum: Psent = 1.
        let body: &[u8] = if t == msg_type::PROBE { &[0, 0, 0, 0, 0, 0, 0x01] } else { &[] };
        let ok = raw_message(t, hel, body);
        assert_eq!(parse(&ok).map(|r| r.msg_type()), Ok(t), "type {t}");
        let short = raw_message(t, hel - 1, body);
        assert_eq!(parse(&short), Err(Error::Truncated), "type {t}");
    }
    let expected = [1, 1, 2, 1, 1, 3, 1, 1, 1, 6, 1];
    assert_eq!(ALL_TYPES.map(min_hel), expected);
}

#[test]
fn unknown_types() {
    for t in [0, 7, 59, 63, 69, 127] {
        let buf = raw_message(t, 1, &[]);
        assert_eq!(parse(&buf), Err(Error::UnknownType), "type {t}");
        assert_eq!(Error::UnknownType.error_message(), Some((error_code::UNKNOWN_TYPE, 2)));
    }
    assert!(!msg_type::triggers_r1bis(msg_type::I2BIS));
    assert!(!msg_type::triggers_r1bis(63));
    assert!(msg_type::triggers_r1bis(msg_type::UPDATE_REQUEST));
    assert!(msg_type::triggers_r1bis(msg_type::ERROR));
}

#[test]
fn message_type_parsers_check_the_type() {
    let p = Packet::new_checked(&I1_BYTES[..]).unwrap();
    assert!(I1::parse(&p).is_ok());
    assert_eq!(R2::parse(&p), Err(Error::Malformed));
}

// ---- known answers, one per message type ---------------------------------

/// I1, tag 0x0123456789ab, nonce 0xdeadbeef.
const I1_BYTES: [u8; 16] = [
    0x3b, 0x01, 0x01, 0x00, // Next Header 59, Hdr Ext Len 1, P 0 Type 1, Reserved 0 S 0
    0x56, 0x2b, // checksum
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, // R 0, Initiator Context Tag
    0xde, 0xad, 0xbe, 0xef, // Initiator Nonce
];

#[test]
fn known_answer_i1() {
    let i1 = I1 {
        initiator_tag: tag(0x0123_4567_89ab),
        initiator_nonce: 0xdead_beef,
        options: OptionSet::default(),
    };
    check_known_answer(Repr::I1(i1), &I1_BYTES);
}

#[test]
fn known_answer_r1() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x02, 0x02, 0x00, 0x3a, 0xe7, 0x00, 0x00, // Reserved2
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // nonces
        0x00, 0x02, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x00, // Responder Validator
    ];
    let options =
        OptionSet { responder_validator: Some(&[0xaa, 0xbb, 0xcc]), ..Default::default() };
    let r1 = R1 { initiator_nonce: 0x1122_3344, responder_nonce: 0x5566_7788, options };
    check_known_answer(Repr::R1(r1), &expected);
}

#[test]
fn known_answer_i2() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x05, 0x03, 0x00, 0x24, 0xc1, 0x7f, 0xff, // tag 2^47 - 1
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, // Initiator Nonce
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // Responder Nonce, Reserved2
        0x00, 0x02, 0x00, 0x09, 0x01, 0x02, 0x03, 0x04, // Responder Validator, 9 octets
        0x05, 0x06, 0x07, 0x08, 0x09, 0x00, 0x00, 0x00, //   and 3 of padding
        0x00, 0x0e, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, // Forked Instance Identifier
    ];
    let options = OptionSet {
        responder_validator: Some(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        forked_instance: Some(0x0102_0304),
        ..Default::default()
    };
    let i2 =
        I2 { initiator_tag: tag(ContextTag::MAX), initiator_nonce: 1, responder_nonce: 2, options };
    check_known_answer(Repr::I2(i2), &expected);
}

#[test]
fn known_answer_r2() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x02, 0x04, 0x00, 0x3b, 0x09, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe,
        0x00, 0x14, 0x00, 0x04, 0x00, 0x00, 0x00, 0x1e, // Keepalive Timeout 30 s
    ];
    let options = OptionSet { keepalive_timeout: Some(30), ..Default::default() };
    let r2 = R2 { responder_tag: tag(1), initiator_nonce: 0xcafe_babe, options };
    check_known_answer(Repr::R2(r2), &expected);
}

#[test]
fn known_answer_r1bis() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x01, 0x05, 0x00, 0x97, 0xd1, 0x0a, 0x0b,
        0x0c, 0x0d, 0x0e, 0x0f, 0x01, 0x02, 0x03, 0x04,
    ];
    let r1bis = R1bis {
        packet_tag: tag(0x0a0b_0c0d_0e0f),
        responder_nonce: 0x0102_0304,
        options: OptionSet::default(),
    };
    check_known_answer(Repr::R1bis(r1bis), &expected);
}

#[test]
fn known_answer_i2bis() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x03, 0x06, 0x00, 0x31, 0x55, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
        0x33, 0x33, 0x33, 0x33, 0x00, 0x00, 0x00, 0x00, // 49 reserved bits ...
        0x00, 0x00, 0x7e, 0xdc, 0xba, 0x98, 0x76, 0x54, // ... then the Packet CT
    ];
    let i2bis = I2bis {
        initiator_tag: tag(0x1111_1111_1111),
        initiator_nonce: 0x2222_2222,
        responder_nonce: 0x3333_3333,
        packet_tag: tag(0x7edc_ba98_7654),
        options: OptionSet::default(),
    };
    check_known_answer(Repr::I2bis(i2bis), &expected);
    // The reserved bits are ignored on receipt.
    let mut reserved = expected;
    reserved[20] = 0xff;
    reserved[26] |= 0x80;
    fix_checksum(&mut reserved);
    assert_eq!(parse(&reserved), Ok(Repr::I2bis(i2bis)));
}

#[test]
fn known_answer_update_request() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x09, 0x40, 0x00, 0x03, 0x6e, 0x00, 0x01,
        0x02, 0x03, 0x04, 0x05, 0x0b, 0xad, 0xf0, 0x0d,
        0x00, 0x04, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x07, // Locator List, Length 44, gen 7
        0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, // N 2, HBA, CGA, 5 padding
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x06, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07, // Locator Preferences, gen 7
        0x02, 0x00, 0x0a, 0x01, 0x14, 0x00, 0x00, 0x00, // 2-octet elements
    ];
    let locators = [A1, A2];
    let methods = [verification::HBA, verification::CGA];
    let elements = [0, 10, pref_flags::BROKEN, 20];
    let options = OptionSet {
        locator_list: Some(LocatorList::new(7, &methods, &locators).unwrap()),
        locator_preferences: Some(LocatorPreferences::new(7, 2, &elements).unwrap()),
        ..Default::default()
    };
    let update =
        UpdateRequest { receiver_tag: tag(0x0001_0203_0405), request_nonce: 0x0bad_f00d, options };
    check_known_answer(Repr::UpdateRequest(update), &expected);

    let list = update.options.locator_list.unwrap();
    assert_eq!(list.iter().collect::<Vec<_>>(), [(1, A1), (2, A2)]);
    assert_eq!(list.cga_locators().collect::<Vec<_>>(), [A2]);
    assert_eq!(list.position(&A2), Some(1));
    let prefs = update.options.locator_preferences.unwrap();
    assert_eq!(
        prefs.iter().collect::<Vec<_>>(),
        [
            Preference { flags: 0, priority: Some(10), weight: None },
            Preference { flags: pref_flags::BROKEN, priority: Some(20), weight: None },
        ]
    );
}

#[test]
fn known_answer_update_ack() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x01, 0x41, 0x00, 0x82, 0x3a, 0x00, 0x01,
        0x02, 0x03, 0x04, 0x05, 0x0b, 0xad, 0xf0, 0x0d,
    ];
    let ack = UpdateAck { receiver_tag: tag(0x0001_0203_0405), request_nonce: 0x0bad_f00d };
    check_known_answer(Repr::UpdateAck(ack), &expected);
}

#[test]
fn known_answer_keepalive() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x01, 0x42, 0x00, 0xc4, 0x0e, 0x00, 0x00,
        0x00, 0x00, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, // Reserved2, no nonce
    ];
    check_known_answer(Repr::Keepalive(Keepalive { receiver_tag: tag(0xbeef) }), &expected);
}

#[test]
fn known_answer_probe() {
    #[rustfmt::skip]
    let expected = [
        0x3b, 0x0b, 0x43, 0x00, 0x8f, 0xf4, 0x12, 0x34,
        0x56, 0x78, 0x9a, 0xbc, 0x11, 0x80, 0x00, 0x00, // Precvd 1 Psent 1, Sta 2
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // sent: source
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, //   destination
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, //   nonce, data
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // received: source
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, //   destination
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x00, //   nonce, data
    ];
    let sent = ProbeReport { source: A1, destination: A2, nonce: 0x0102_0304, data: 0x0506_0708 };
    let received = ProbeReport { source: A2, destination: A1, nonce: 0x0a0b_0c0d, data: 0 };
    let (sent_bytes, received_bytes) = ([sent.to_bytes()], [received.to_bytes()]);
    let probe = Probe {
        receiver_tag: tag(0x1234_5678_9abc),
        state: ReapState::InboundOk,
        sent: Reports::new(&sent_bytes).unwrap(),
        received: Reports::new(&received_bytes).unwrap(),
    };
    check_known_answer(Repr::Probe(probe), &expected);
    assert_eq!(probe.sent.get(0), Some(sent));
    assert_eq!(probe.received.iter().collect::<Vec<_>>(), [received]);
}

/// Error, code 1, pointer 56, 16 octets of packet in error.
const ERROR_BYTES: [u8; 24] = [
    0x3b, 0x02, 0x44, 0x02, 0x48, 0x83, 0x00, 0x38, // code 1 in the type-specific bits
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];

#[test]
fn known_answer_error() {
    let invoking: Vec<u8> = (0..16).collect();
    let error = ErrorMessage { code: error_code::CRITICAL_OPTION, pointer: 56, packet: &invoking };
    check_known_answer(Repr::Error(error), &ERROR_BYTES);
}

#[test]
fn error_message_truncates_the_invoking_packet() {
    let big = [7; 1500];
    assert_eq!(ErrorMessage::new(0, 2, &big).packet.len(), 1232);
    assert_eq!(ErrorMessage::new(0, 2, &big[..13]).packet.len(), 8);
    let e = ErrorMessage::new(0, 2, &big);
    assert_eq!(e.buffer_len() + 40, 1280);
    assert_eq!(ErrorMessage::new(0, 2, &big[..7]).emit(&mut [0; 64]), Err(Error::Malformed));
}

// ---- options ---------------------------------------------------------------

#[test]
fn option_padding() {
    // Total sizes for Length 0..=20 (RFC 5533 §5.15: 11 + L - (L + 3) mod 8).
    let totals = [8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16, 24, 24, 24, 24, 24, 24, 24, 24];
    for (len, &total) in totals.iter().enumerate() {
        assert_eq!(padded_len(len), total);
        assert_eq!(padded_len(len), 11 + len - (len + 3) % 8);
        let contents = vec![0xee; len];
        let opt = OptionRepr::ResponderValidator(&contents);
        let bytes = emit_option(&opt);
        assert_eq!(bytes.len(), total);
        assert_eq!(bytes[..4], [0, 2, 0, len as u8]);
        assert!(bytes[4 + len..].iter().all(|&b| b == 0), "padding of {len}");
        assert_eq!(Tlv::new_checked(&bytes[..]).unwrap().total_len(), total);
        assert_eq!(parse_option(&bytes), Ok(Some(opt)));
    }
}

#[test]
fn locator_list_internal_padding() {
    let paddings = [6, 5, 4, 3, 2, 1, 0, 7, 6];
    for (n, &pad) in (1..=9).zip(paddings.iter()) {
        let locators: Vec<Addr> = (0..n).map(|i| [i as u8 + 1; 16]).collect();
        let methods = vec![verification::HBA; n];
        let list = LocatorList::new(0xdead_beef, &methods, &locators).unwrap();
        assert_eq!(LocatorList::internal_padding(n), pad);
        let length = 5 + n + pad + 16 * n;
        assert_eq!(list.contents_len(), length);

        let bytes = emit_option(&OptionRepr::LocatorList(list));
        assert_eq!(bytes.len(), 4 + length, "no trailing padding for {n}");
        assert_eq!(bytes.len() % 8, 0);
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]) as usize, length);
        assert_eq!(bytes[8], n as u8);
        let first = 4 + 5 + n + pad;
        assert_eq!(first % 8, 0, "locators 8-aligned for {n}");
        assert!(bytes[9 + n..first].iter().all(|&b| b == 0));
        for (i, l) in locators.iter().enumerate() {
            assert_eq!(bytes[first + 16 * i..first + 16 * (i + 1)], l[..]);
        }
        assert_eq!(parse_option(&bytes), Ok(Some(OptionRepr::LocatorList(list))));
    }
}

#[test]
fn locator_list_rules() {
    assert_eq!(LocatorList::new(0, &[1], &[A1, A2]), Err(Error::Malformed));
    let many = vec![A1; 256];
    assert_eq!(LocatorList::new(0, &[1; 256], &many), Err(Error::Malformed));
    let empty = LocatorList::new(3, &[], &[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(emit_option(&OptionRepr::LocatorList(empty)).len(), 16);

    // A Length that does not match N.
    let good = emit_option(&OptionRepr::LocatorList(LocatorList::new(0, &[1], &[A1]).unwrap()));
    let mut bad = raw_option(option_type::LOCATOR_LIST, false, &good[4..good.len() - 8]);
    assert_eq!(parse_option(&bad), Err(Error::Malformed));
    bad = raw_option(option_type::LOCATOR_LIST, false, &[0, 0, 0, 0]);
    assert_eq!(parse_option(&bad), Err(Error::Malformed));
}

#[test]
fn locator_preferences_rules() {
    assert_eq!(LocatorPreferences::new(0, 0, &[]), Err(Error::Malformed));
    assert_eq!(LocatorPreferences::new(0, 2, &[1, 2, 3]), Err(Error::Malformed));
    let p = LocatorPreferences::new(9, 4, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p.get(1), Some(Preference { flags: 5, priority: Some(6), weight: Some(7) }));
    let flags_only = LocatorPreferences::new(9, 1, &[pref_flags::TRANSIENT]).unwrap();
    assert_eq!(
        flags_only.get(0),
        Some(Preference { flags: pref_flags::TRANSIENT, priority: None, weight: None })
    );
    let zero_len = raw_option(option_type::LOCATOR_PREFERENCES, false, &[0, 0, 0, 9, 0]);
    assert_eq!(parse_option(&zero_len), Err(Error::Malformed));
}

#[test]
fn fixed_size_options() {
    let ulid = UlidPair { sender: A1, receiver: A2 };
    let bytes = emit_option(&OptionRepr::UlidPair(ulid));
    assert_eq!(bytes.len(), 40);
    assert_eq!(bytes[..8], [0, 12, 0, 36, 0, 0, 0, 0]);
    assert_eq!(bytes[8..24], A1);
    assert_eq!(bytes[24..], A2);
    assert_eq!(emit_option(&OptionRepr::ForkedInstance(5)), [0, 14, 0, 4, 0, 0, 0, 5]);
    assert_eq!(emit_option(&OptionRepr::KeepaliveTimeout(300)), [0, 20, 0, 4, 0, 0, 1, 44]);
    // The reserved octets are ignored on receipt.
    let kt = raw_option(option_type::KEEPALIVE_TIMEOUT, false, &[0xff, 0xff, 1, 44]);
    assert_eq!(parse_option(&kt), Ok(Some(OptionRepr::KeepaliveTimeout(300))));

    for (ty, len) in [
        (option_type::ULID_PAIR, 36),
        (option_type::FORKED_INSTANCE, 4),
        (option_type::KEEPALIVE_TIMEOUT, 4),
    ] {
        for wrong in [0, len - 1, len + 1] {
            let bytes = raw_option(ty, false, &vec![0; wrong]);
            assert_eq!(parse_option(&bytes), Err(Error::Malformed), "type {ty} length {wrong}");
        }
    }
}

#[test]
fn option_type_and_critical_bit() {
    let bytes = raw_option(0x7fff, true, &[]);
    assert_eq!(bytes[..2], [0xff, 0xff]);
    let tlv = Tlv::new_checked(&bytes[..]).unwrap();
    assert_eq!((tlv.option_type(), tlv.critical()), (0x7fff, true));
    assert_eq!(parse_option(&bytes), Ok(None));
    // Type 1 with C = 1 is the word 3, not type 3.
    let validator = raw_option(option_type::RESPONDER_VALIDATOR, true, &[9]);
    assert_eq!(validator[..2], [0, 3]);
    assert_eq!(parse_option(&validator), Ok(Some(OptionRepr::ResponderValidator(&[9]))));
}

#[test]
fn options_iterator() {
    let mut area = raw_option(option_type::FORKED_INSTANCE, false, &[0, 0, 0, 1]);
    area.extend(raw_option(99, true, &[1; 9]));
    let seen: Vec<_> = Options::new(&area, 16)
        .map(|o| o.map(|(at, t)| (at, t.option_type(), t.critical(), t.contents().len())))
        .collect();
    assert_eq!(seen, [Ok((16, 7, false, 4)), Ok((24, 99, true, 9))]);

    // An option running past the area ends the iteration with an error.
    let cut = &area[..area.len() - 1];
    let results: Vec<_> = Options::new(cut, 0).map(|o| o.map(|(at, _)| at)).collect();
    assert_eq!(results, [Ok(0), Err(Error::Truncated)]);
    assert_eq!(Options::new(&area[..3], 0).next().map(|o| o.err()), Some(Some(Error::Truncated)));
}

/// An I1 behind an IPv6 header: a ULID Pair option at 16, then `extra`
/// at 56.
fn i1_with_option(extra: &[u8]) -> Vec<u8> {
    let ulid = emit_option(&OptionRepr::UlidPair(UlidPair { sender: A1, receiver: A2 }));
    let mut body = I1_BYTES[6..].to_vec();
    body.extend(ulid);
    body.extend_from_slice(extra);
    raw_message(msg_type::I1, ((body.len() + 6) / 8 - 1) as u8, &body)
}

#[test]
fn unknown_options_and_the_critical_bit() {
    let ulid = Some(UlidPair { sender: A1, receiver: A2 });
    let skipped = |buf: &[u8]| match parse(buf) {
        Ok(Repr::I1(i1)) => i1.options == OptionSet { ulid_pair: ulid, ..Default::default() },
        other => panic!("{other:?}"),
    };
    // Unknown type, C = 0: skipped.
    assert!(skipped(&i1_with_option(&raw_option(0x1234, false, &[1, 2, 3]))));
    // Known type not defined for I1 (a Locator List), C = 0: skipped too.
    assert!(skipped(&i1_with_option(&raw_option(option_type::LOCATOR_LIST, false, &[0; 12]))));

    // C = 1: the message is refused, pointing at the option's Type field.
    for critical in [
        raw_option(0x1234, true, &[1, 2, 3]),
        raw_option(option_type::LOCATOR_LIST, true, &[0; 12]),
    ] {
        let buf = i1_with_option(&critical);
        let err = parse(&buf).unwrap_err();
        assert_eq!(err, Error::Unrecognized { pointer: 56 });
        assert_eq!(Packet::new_checked(&buf[..]).unwrap().options().unwrap().count(), 2);

        // The Error message, whose pointer counts from the IPv6 header.
        let (code, pointer) = err.error_message().unwrap();
        let mut invoking = ipv6_packet()[..40].to_vec();
        invoking.extend_from_slice(&buf);
        let error = ErrorMessage::new(code, (40 + pointer) as u16, &invoking);
        let bytes = emit(&Repr::Error(error));
        assert_eq!(bytes[3] >> 1, error_code::CRITICAL_OPTION);
        assert_eq!(bytes[6..8], [0, 96]);
        assert_eq!(invoking[96..98], critical[..2]);
        assert_eq!(parse(&bytes), Ok(Repr::Error(error)));
    }

    // Messages without options apply the same rule.
    let mut ka = raw_message(msg_type::KEEPALIVE, 2, &[]);
    ka[16..24].copy_from_slice(&raw_option(5000, true, &[]));
    fix_checksum(&mut ka);
    assert_eq!(parse(&ka), Err(Error::Unrecognized { pointer: 16 }));
}

#[test]
fn malformed_options_in_messages() {
    let twice = [
        raw_option(option_type::FORKED_INSTANCE, false, &[0, 0, 0, 1]),
        raw_option(option_type::FORKED_INSTANCE, false, &[0, 0, 0, 2]),
    ]
    .concat();
    assert_eq!(parse(&i1_with_option(&twice)), Err(Error::Malformed));
    let bad_length = raw_option(option_type::FORKED_INSTANCE, false, &[0; 5]);
    assert_eq!(parse(&i1_with_option(&bad_length)), Err(Error::Malformed));
    // Length 20 in an 8-octet slot at the end of the message.
    let mut overrun = raw_option(99, false, &[]);
    overrun[3] = 20;
    assert_eq!(parse(&i1_with_option(&overrun)), Err(Error::Truncated));
}

#[test]
fn probe_fields() {
    let report = ProbeReport::default().to_bytes();
    let mut body = vec![0; 10];
    body.extend_from_slice(&report);
    let mut probe = |counts: u8, sta: u8, hel: u8| {
        body[6] = counts;
        body[7] = sta << 6;
        raw_message(msg_type::PROBE, hel, &body)
    };
    assert!(matches!(parse(&probe(0x01, 0, 6)), Ok(Repr::Probe(_))));
    assert_eq!(parse(&probe(0x01, 3, 6)), Err(Error::Malformed), "Sta 3");
    assert_eq!(parse(&probe(0x10, 0, 6)), Err(Error::Malformed), "Psent 0");
    assert_eq!(parse(&probe(0x11, 0, 6)), Err(Error::Truncated), "reports past the end");
    assert!(matches!(parse(&probe(0x02, 0, 11)), Ok(Repr::Probe(p)) if p.sent.len() == 2));
    for (bits, state) in
        [(0, ReapState::Operational), (1, ReapState::Exploring), (2, ReapState::InboundOk)]
    {
        assert_eq!(ReapState::from_bits(bits), Some(state));
    }
    assert_eq!(Reports::new(&[report; 16]), Err(Error::Malformed));
}

#[test]
fn emit_refuses_what_cannot_be_encoded() {
    let none = OptionSet::default();
    let i1 = I1 { initiator_tag: tag(1), initiator_nonce: 2, options: none };
    assert_eq!(i1.emit(&mut [0; 15]), Err(Error::Truncated));
    assert_eq!(i1.emit(&mut [0; 16]), Ok(16));

    // An option I1 does not define.
    let list = LocatorList::new(0, &[], &[]).unwrap();
    let with_list = I1 { options: OptionSet { locator_list: Some(list), ..none }, ..i1 };
    assert_eq!(with_list.emit(&mut [0; 64]), Err(Error::Malformed));

    // Longer than Hdr Ext Len can say, and longer than Length can say.
    let big = vec![0; MAX_HEADER_LEN];
    let r1 = R1 {
        initiator_nonce: 0,
        responder_nonce: 0,
        options: OptionSet { responder_validator: Some(&big), ..none },
    };
    assert_eq!(r1.emit(&mut vec![0; 4096]), Err(Error::Malformed));
    let huge = vec![0; 70_000];
    assert_eq!(OptionRepr::CgaSignature(&huge).emit(&mut vec![0; 70_008]), Err(Error::Malformed));

    let report = [ProbeReport::default().to_bytes()];
    let probe = Probe {
        receiver_tag: tag(1),
        state: ReapState::Exploring,
        sent: Reports::new(&[]).unwrap(),
        received: Reports::new(&report).unwrap(),
    };
    assert_eq!(probe.emit(&mut [0; 256]), Err(Error::Malformed), "Psent 0");

    let error = ErrorMessage { code: 128, pointer: 0, packet: &[0; 8] };
    assert_eq!(error.emit(&mut [0; 64]), Err(Error::Malformed));
    let error = ErrorMessage { code: 0, pointer: 0, packet: &[0; 12] };
    assert_eq!(error.emit(&mut [0; 64]), Err(Error::Malformed));
}

#[test]
fn context_tags() {
    assert_eq!(ContextTag::new(1 << 47), None);
    assert_eq!(ContextTag::from_masked(u64::MAX).get(), ContextTag::MAX);
    assert_eq!(tag(0x7fff_0000_0001).to_bytes(), [0x7f, 0xff, 0, 0, 0, 1]);
    // The reserved bit in front of a tag is ignored.
    assert_eq!(ContextTag::from_bytes([0xff, 0, 0, 0, 0, 1]), tag(0x7f00_0000_0001));
}

#[test]
fn options_allowed_per_message() {
    use option_type::*;
    let all = [
        RESPONDER_VALIDATOR,
        LOCATOR_LIST,
        LOCATOR_PREFERENCES,
        CGA_PARAMETERS,
        CGA_SIGNATURE,
        ULID_PAIR,
        FORKED_INSTANCE,
        KEEPALIVE_TIMEOUT,
    ];
    let defined = |t| all.iter().copied().filter(|&o| allowed(t, o)).collect::<Vec<_>>();
    assert_eq!(defined(msg_type::I1), [ULID_PAIR, FORKED_INSTANCE]);
    assert_eq!(defined(msg_type::R1), [RESPONDER_VALIDATOR]);
    assert_eq!(defined(msg_type::I2), all);
    assert_eq!(defined(msg_type::I2BIS), all);
    let update =
        [LOCATOR_LIST, LOCATOR_PREFERENCES, CGA_PARAMETERS, CGA_SIGNATURE, KEEPALIVE_TIMEOUT];
    assert_eq!(defined(msg_type::R2), update);
    assert_eq!(defined(msg_type::UPDATE_REQUEST), update);
    assert_eq!(defined(msg_type::R1BIS), [RESPONDER_VALIDATOR]);
    for t in [msg_type::UPDATE_ACK, msg_type::KEEPALIVE, msg_type::PROBE, msg_type::ERROR] {
        assert!(defined(t).is_empty());
    }
}

#[test]
fn header_dispatch() {
    assert!(matches!(Header::parse(&I1_BYTES), Ok(Header::Control(Repr::I1(_)))));
    assert_eq!(Header::parse(&[59, 0]), Err(Error::Truncated));
}

// ---- property tests --------------------------------------------------------

fn arb_tag() -> impl Strategy<Value = ContextTag> {
    (0..=ContextTag::MAX).prop_map(tag)
}

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

/// Owned contents of every option (the reprs borrow them).
#[derive(Clone, Debug)]
struct OwnedOptions {
    validator: Option<Vec<u8>>,
    locators: Option<(u32, Vec<u8>, Vec<Addr>)>,
    preferences: Option<(u32, u8, Vec<u8>)>,
    cga_parameters: Option<Vec<u8>>,
    cga_signature: Option<Vec<u8>>,
    ulid_pair: Option<UlidPair>,
    forked_instance: Option<u32>,
    keepalive_timeout: Option<u16>,
}

impl OwnedOptions {
    /// All the options present.
    fn all(&self) -> OptionSet<'_> {
        OptionSet {
            responder_validator: self.validator.as_deref(),
            locator_list: self
                .locators
                .as_ref()
                .map(|(g, m, l)| LocatorList::new(*g, m, l).unwrap()),
            locator_preferences: self
                .preferences
                .as_ref()
                .map(|(g, el, e)| LocatorPreferences::new(*g, *el, e).unwrap()),
            cga_parameters: self.cga_parameters.as_deref(),
            cga_signature: self.cga_signature.as_deref(),
            ulid_pair: self.ulid_pair,
            forked_instance: self.forked_instance,
            keepalive_timeout: self.keepalive_timeout,
        }
    }

    /// The options present that messages of type `t` define.
    fn for_type(&self, t: u8) -> OptionSet<'_> {
        let mut set = OptionSet::default();
        for opt in self.all().iter().filter(|o| allowed(t, o.option_type())) {
            set.insert(opt).unwrap();
        }
        set
    }
}

fn arb_locators() -> impl Strategy<Value = (u32, Vec<u8>, Vec<Addr>)> {
    (0usize..=20).prop_flat_map(|n| (any::<u32>(), vec(any::<u8>(), n), vec(any::<Addr>(), n)))
}

fn arb_preferences() -> impl Strategy<Value = (u32, u8, Vec<u8>)> {
    (1u8..=5, 0usize..=20)
        .prop_flat_map(|(el, n)| (any::<u32>(), Just(el), vec(any::<u8>(), usize::from(el) * n)))
}

fn arb_options() -> impl Strategy<Value = OwnedOptions> {
    (
        proptest::option::of(arb_bytes(64)),
        proptest::option::of(arb_locators()),
        proptest::option::of(arb_preferences()),
        proptest::option::of(arb_bytes(300)),
        proptest::option::of(arb_bytes(200)),
        proptest::option::of(any::<(Addr, Addr)>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u16>()),
    )
        .prop_map(|(v, l, p, pds, sig, ulid, fii, kt)| OwnedOptions {
            validator: v,
            locators: l,
            preferences: p,
            cga_parameters: pds,
            cga_signature: sig,
            ulid_pair: ulid.map(|(sender, receiver)| UlidPair { sender, receiver }),
            forked_instance: fii,
            keepalive_timeout: kt,
        })
}

/// Owned fields enough for a message of any type.
#[derive(Clone, Debug)]
struct OwnedMessage {
    msg_type: u8,
    tags: [ContextTag; 2],
    nonces: [u32; 2],
    state: ReapState,
    sent: Vec<[u8; REPORT_LEN]>,
    received: Vec<[u8; REPORT_LEN]>,
    code: u8,
    pointer: u16,
    packet: Vec<u8>,
    options: OwnedOptions,
}

impl OwnedMessage {
    fn repr(&self) -> Repr<'_> {
        let options = self.options.for_type(self.msg_type);
        let [tag0, tag1] = self.tags;
        let [nonce0, nonce1] = self.nonces;
        match self.msg_type {
            msg_type::I1 => Repr::I1(I1 { initiator_tag: tag0, initiator_nonce: nonce0, options }),
            msg_type::R1 => {
                Repr::R1(R1 { initiator_nonce: nonce0, responder_nonce: nonce1, options })
            }
            msg_type::I2 => Repr::I2(I2 {
                initiator_tag: tag0,
                initiator_nonce: nonce0,
                responder_nonce: nonce1,
                options,
            }),
            msg_type::R2 => Repr::R2(R2 { responder_tag: tag0, initiator_nonce: nonce0, options }),
            msg_type::R1BIS => {
                Repr::R1bis(R1bis { packet_tag: tag0, responder_nonce: nonce0, options })
            }
            msg_type::I2BIS => Repr::I2bis(I2bis {
                initiator_tag: tag0,
                initiator_nonce: nonce0,
                responder_nonce: nonce1,
                packet_tag: tag1,
                options,
            }),
            msg_type::UPDATE_REQUEST => Repr::UpdateRequest(UpdateRequest {
                receiver_tag: tag0,
                request_nonce: nonce0,
                options,
            }),
            msg_type::UPDATE_ACK => {
                Repr::UpdateAck(UpdateAck { receiver_tag: tag0, request_nonce: nonce0 })
            }
            msg_type::KEEPALIVE => Repr::Keepalive(Keepalive { receiver_tag: tag0 }),
            msg_type::PROBE => Repr::Probe(Probe {
                receiver_tag: tag0,
                state: self.state,
                sent: Reports::new(&self.sent).unwrap(),
                received: Reports::new(&self.received).unwrap(),
            }),
            msg_type::ERROR => Repr::Error(ErrorMessage {
                code: self.code,
                pointer: self.pointer,
                packet: &self.packet,
            }),
            t => unreachable!("type {t}"),
        }
    }
}

fn arb_report() -> impl Strategy<Value = [u8; REPORT_LEN]> {
    any::<(Addr, Addr, u32, u32)>().prop_map(|(source, destination, nonce, data)| {
        ProbeReport { source, destination, nonce, data }.to_bytes()
    })
}

fn arb_message() -> impl Strategy<Value = OwnedMessage> {
    (
        proptest::sample::select(ALL_TYPES.to_vec()),
        [arb_tag(), arb_tag()],
        any::<[u32; 2]>(),
        proptest::sample::select(vec![
            ReapState::Operational,
            ReapState::Exploring,
            ReapState::InboundOk,
        ]),
        (vec(arb_report(), 1..=15), vec(arb_report(), 0..=15)),
        (0u8..=127, any::<u16>(), (1usize..=154).prop_flat_map(|w| vec(any::<u8>(), 8 * w))),
        arb_options(),
    )
        .prop_map(
            |(
                msg_type,
                tags,
                nonces,
                state,
                (sent, received),
                (code, pointer, packet),
                options,
            )| {
                OwnedMessage {
                    msg_type,
                    tags,
                    nonces,
                    state,
                    sent,
                    received,
                    code,
                    pointer,
                    packet,
                    options,
                }
            },
        )
}

/// A packet, an offset in it and a Next Header octet before the offset.
fn arb_insertion() -> impl Strategy<Value = (Vec<u8>, usize, usize)> {
    (1usize..300)
        .prop_flat_map(|len| (vec(any::<u8>(), len), 1..=len))
        .prop_flat_map(|(packet, offset)| (Just(packet), Just(offset), 0..offset))
}

/// The message bytes with some octets overwritten and a fixed checksum:
/// arbitrary contents that get past the checksum.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8)]) -> Vec<u8> {
    let len = bytes.len();
    for &(at, v) in edits {
        bytes[at % len] = v;
    }
    if len >= 8 {
        fix_checksum(&mut bytes);
    }
    bytes
}

/// Every parser on `data`, which must not panic; whatever parses must
/// emit and parse back to itself.
fn parse_everything(data: &[u8]) {
    if let Ok(Header::Control(repr)) = Header::parse(data) {
        assert_eq!(parse(&emit(&repr)), Ok(repr));
    }
    if let Ok(packet) = Packet::new_checked(data) {
        if let Ok(options) = packet.options() {
            for t in ALL_TYPES {
                let _ = OptionSet::parse(options.clone(), t);
            }
        }
        let _ = I1::parse(&packet);
        let _ = Probe::parse(&packet);
    }
    for item in Options::new(data, 0) {
        let Ok((_, tlv)) = item else { break };
        if let Ok(Some(opt)) = OptionRepr::parse(&tlv) {
            assert_eq!(parse_option(&emit_option(&opt)), Ok(Some(opt)));
        }
    }
    if let Ok(h) = PayloadHeader::new_checked(data) {
        assert_eq!(PayloadRepr::parse(&h).map(|r| r.to_bytes()[..] == data[..8]), Ok(true));
    }
    let mut copy = data.to_vec();
    let _ = payload::remove(&mut copy, 40, 6);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trip(m in arb_message()) {
        let repr = m.repr();
        let bytes = emit(&repr);
        prop_assert_eq!(bytes.len() % 8, 0);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(packet.header_len(), bytes.len());
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(packet.msg_type(), m.msg_type);
        prop_assert_eq!(Repr::parse(&packet), Ok(repr));
    }

    #[test]
    fn option_round_trip(o in arb_options()) {
        let all = o.all();
        for opt in all.iter() {
            let bytes = emit_option(&opt);
            prop_assert_eq!(bytes.len() % 8, 0);
            prop_assert_eq!(parse_option(&bytes), Ok(Some(opt)));
        }
        // The whole set, as I2 (which defines every option) reads it.
        let mut area = vec![0; all.buffer_len()];
        prop_assert_eq!(all.emit(&mut area), Ok(area.len()));
        prop_assert_eq!(OptionSet::parse(Options::new(&area, 24), msg_type::I2), Ok(all));
    }

    #[test]
    fn payload_header_round_trip(next_header: u8, t in arb_tag()) {
        let repr = PayloadRepr { next_header, context_tag: t };
        let bytes = repr.to_bytes();
        prop_assert_eq!(PayloadRepr::parse(&PayloadHeader::new_checked(&bytes[..]).unwrap()), Ok(repr));
        prop_assert_eq!(Header::parse(&bytes), Ok(Header::Payload(repr)));
    }

    #[test]
    fn payload_insert_remove_round_trip((packet, offset, nh_at) in arb_insertion(), t in arb_tag()) {
        let mut buf = vec![0; 8];
        buf.extend_from_slice(&packet);
        prop_assert_eq!(payload::insert(&mut buf, offset, nh_at, t), Ok(()));
        prop_assert_eq!(buf[nh_at], PROTOCOL);
        // What follows the headers never moves.
        prop_assert_eq!(&buf[offset + 8..], &packet[offset..]);
        prop_assert_eq!(payload::remove(&mut buf, offset, nh_at), Ok(t));
        prop_assert_eq!(&buf[8..], &packet[..]);
    }

    #[test]
    fn checksum_verifies(data in vec(any::<u8>(), 0..64)) {
        let mut words = data.clone();
        if words.len() % 2 == 1 {
            words.push(0);
        }
        let c = checksum::compute(&words);
        words.extend_from_slice(&c.to_be_bytes());
        prop_assert!(checksum::verify(&words));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn parsers_never_panic(data in vec(any::<u8>(), 0..2048)) {
        parse_everything(&data);
    }

    #[test]
    fn parsers_never_panic_on_mutated_messages(
        m in arb_message(),
        edits in vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        parse_everything(&mutate(emit(&m.repr()), &edits));
    }
}
