// SPDX-License-Identifier: GPL-2.0

//! The protocol core agrees with `include/uapi/linux/shim6.h`, as bindgen
//! reads it: option numbers, structure layouts and constants.

use core::mem::{offset_of, size_of};

use shim6_core::proto::context::Rank;
use shim6_core::proto::sockopt::{
    self as so, Direction, Feedback, Flavour, Indicator, Locator, Opt, PathExplore,
};
use shim6_core::uapi::{
    self, shim_feedback, shim_locator, shim_locator_rfc6316, shim_pathexplore, shim_pathexplore_rfc6316,
};

const D: Flavour = Flavour::Draft;
const R: Flavour = Flavour::Rfc6316;

const HEADER: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../include/uapi/linux/shim6.h"));

/// The first token after `#define NAME` in the header.
fn define(name: &str) -> Option<&'static str> {
    HEADER.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("#define"), Some(n)) if n == name => words.next(),
            _ => None,
        }
    })
}

/// Every option with its number in the header, in numeric order.
const OPTIONS: [(Opt, u32); 14] = [
    (Opt::Associated, uapi::SHIM_ASSOCIATED),
    (Opt::DontShim, uapi::SHIM_DONTSHIM),
    (Opt::HotStandby, uapi::SHIM_HOT_STANDBY),
    (Opt::LocLocalPref, uapi::SHIM_LOC_LOCAL_PREF),
    (Opt::LocPeerPref, uapi::SHIM_LOC_PEER_PREF),
    (Opt::LocLocalRecv, uapi::SHIM_LOC_LOCAL_RECV),
    (Opt::LocPeerRecv, uapi::SHIM_LOC_PEER_RECV),
    (Opt::LocLocalSend, uapi::SHIM_LOC_LOCAL_SEND),
    (Opt::LocPeerSend, uapi::SHIM_LOC_PEER_SEND),
    (Opt::LoclistLocal, uapi::SHIM_LOCLIST_LOCAL),
    (Opt::LoclistPeer, uapi::SHIM_LOCLIST_PEER),
    (Opt::AppTimeout, uapi::SHIM_APP_TIMEOUT),
    (Opt::PathExplore, uapi::SHIM_PATHEXPLORE),
    (Opt::DeferredSetup, uapi::SHIM_CONTEXT_DEFERRED_SETUP),
];

#[test]
fn option_numbers_match_header() {
    assert_eq!(Opt::ALL, OPTIONS.map(|(opt, _)| opt));
    for (opt, num) in OPTIONS {
        assert_eq!(opt as u32, num, "{opt:?}");
        assert_eq!(Opt::from_raw(num as i32), Some(opt));
    }
    // RFC 6316's: the draft's plus 16, SHIM_IF_SEND without a twin.
    let rfc = [
        uapi::SHIM_ASSOCIATED_RFC6316,
        uapi::SHIM_DONTSHIM_RFC6316,
        uapi::SHIM_HOT_STANDBY_RFC6316,
        uapi::SHIM_LOC_LOCAL_PREF_RFC6316,
        uapi::SHIM_LOC_PEER_PREF_RFC6316,
        uapi::SHIM_LOC_LOCAL_RECV_RFC6316,
        uapi::SHIM_LOC_PEER_RECV_RFC6316,
        uapi::SHIM_LOC_LOCAL_SEND_RFC6316,
        uapi::SHIM_LOC_PEER_SEND_RFC6316,
        uapi::SHIM_LOCLIST_LOCAL_RFC6316,
        uapi::SHIM_LOCLIST_PEER_RFC6316,
        uapi::SHIM_APP_TIMEOUT_RFC6316,
        uapi::SHIM_PATHEXPLORE_RFC6316,
        uapi::SHIM_CONTEXT_DEFERRED_SETUP_RFC6316,
    ];
    for ((opt, _), num) in OPTIONS.into_iter().zip(rfc) {
        assert_eq!(so::option(num as i32), Some((opt, R)), "{opt:?}");
        assert_eq!(so::option(opt as i32), Some((opt, D)), "{opt:?}");
        assert_eq!(R.number(opt as i32) as u32, num);
    }
    for n in [0, 15, 16, 31, 32, 33, -1, i32::MIN, i32::MAX] {
        assert_eq!(so::option(n), None, "{n}");
    }
    assert_eq!(R.number(so::CMSG_FEEDBACK) as u32, uapi::SHIM_FEEDBACK_RFC6316);
    assert_eq!(so::RFC6316_OFFSET as u32, uapi::SHIM_RFC6316_OFFSET);
    assert_eq!(so::CMSG_FEEDBACK as u32, uapi::SHIM_FEEDBACK);
    assert_eq!(so::CMSG_IF_SEND as u32, uapi::SHIM_IF_SEND);
    assert_eq!(so::MAX_LOCATORS as u32, uapi::SHIM_MAX_LOCATORS);
    assert_eq!(uapi::SOL_SHIM, 288);
}

#[test]
fn both_spellings_are_defined() {
    assert_eq!(uapi::SHIM_DEFERRED_CONTEXT_SETUP, uapi::SHIM_CONTEXT_DEFERRED_SETUP);
    assert_eq!(uapi::EINVALLOCATOR, uapi::EINVALIDLOCATOR);
    // bindgen emits no type for a macro naming a structure tag, and turns
    // the other aliases into plain numbers: read the header for all three.
    for (alias, name) in [
        ("SHIM_DEFERRED_CONTEXT_SETUP", "SHIM_CONTEXT_DEFERRED_SETUP"),
        ("shim6_pathexplore", "shim_pathexplore"),
        ("EINVALLOCATOR", "EINVALIDLOCATOR"),
    ] {
        assert_eq!(define(alias), Some(name), "#define {alias}");
    }
    assert!(HEADER.contains("struct shim_pathexplore {"));
}

#[test]
fn shim_locator_layout() {
    assert_eq!(size_of::<shim_locator>(), 20);
    assert_eq!(size_of::<shim_locator>(), so::LOCATOR_LEN);
    assert_eq!(offset_of!(shim_locator, lc_family), 0);
    assert_eq!(offset_of!(shim_locator, lc_ifidx), 1);
    assert_eq!(offset_of!(shim_locator, lc_flags), 2);
    assert_eq!(offset_of!(shim_locator, lc_preference), 3);
    assert_eq!(offset_of!(shim_locator, lc_addr), 4);

    // The codec puts each field where the C structure has it.
    let mut lc_addr = [0; 16];
    lc_addr[0] = 0x20;
    lc_addr[15] = 1;
    let c = shim_locator { lc_family: 10, lc_ifidx: 3, lc_flags: 1, lc_preference: 7, lc_addr };
    // SAFETY: shim_locator is 20 octets of u8 without padding.
    let bytes: [u8; 20] = unsafe { core::mem::transmute(c) };
    let loc = Locator { family: 10, ifidx: 3, flags: 1, rank: Rank::draft(7), addr: lc_addr };
    assert_eq!(*loc.encode(D), bytes);
    assert_eq!(Locator::decode(&bytes, D), Ok(Some(loc)));
}

#[test]
fn shim_pathexplore_layout() {
    assert_eq!(size_of::<shim_pathexplore>(), 8);
    assert_eq!(size_of::<shim_pathexplore>(), so::PATHEXPLORE_LEN);
    assert_eq!(offset_of!(shim_pathexplore, pe_probenum), 0);
    assert_eq!(offset_of!(shim_pathexplore, pe_keepaliveto), 1);
    assert_eq!(offset_of!(shim_pathexplore, pe_initprobeto), 2);
    assert_eq!(offset_of!(shim_pathexplore, pe_reserved), 4);

    let c = shim_pathexplore {
        pe_probenum: 4,
        pe_keepaliveto: 10,
        pe_initprobeto: 500,
        pe_reserved: 0,
    };
    // SAFETY: shim_pathexplore has no padding (offsets above, size 8).
    let bytes: [u8; 8] = unsafe { core::mem::transmute(c) };
    let pe = PathExplore { probenum: 4, keepaliveto: 10, keepaliveint: 0, initprobeto: 500 };
    assert_eq!(*pe.encode(D), bytes);
    assert_eq!(PathExplore::decode(&bytes, D), Ok(pe));
}

#[test]
fn rfc6316_structure_layouts() {
    assert_eq!(size_of::<shim_locator_rfc6316>(), 32);
    assert_eq!(size_of::<shim_locator_rfc6316>(), so::LOCATOR_RFC6316_LEN);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_family), 0);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_proto), 1);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_port), 2);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_prio), 4);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_weight), 6);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_ifidx), 8);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_addr), 12);
    assert_eq!(offset_of!(shim_locator_rfc6316, lc_flags), 28);
    assert_eq!(size_of::<shim_pathexplore_rfc6316>(), 12);
    assert_eq!(size_of::<shim_pathexplore_rfc6316>(), so::PATHEXPLORE_RFC6316_LEN);
    assert_eq!(offset_of!(shim_pathexplore_rfc6316, pe_probenum), 0);
    assert_eq!(offset_of!(shim_pathexplore_rfc6316, pe_keepaliveto), 2);
    assert_eq!(offset_of!(shim_pathexplore_rfc6316, pe_keepaliveint), 4);
    assert_eq!(offset_of!(shim_pathexplore_rfc6316, pe_initprobeto), 6);
    assert_eq!(offset_of!(shim_pathexplore_rfc6316, pe_reserved), 8);

    // The codec puts each field where the C structure has it.
    let mut a = [0; 16];
    a[0] = 0x20;
    a[15] = 1;
    let loc = Locator { family: 10, ifidx: 70_000, flags: 1, rank: Rank { prio: 3, weight: 600 }, addr: a };
    let b = loc.encode(R);
    assert_eq!(b.len(), 32);
    assert_eq!(b[0], 10);
    assert_eq!(b[1..4], [0, 0, 0], "no proto, no port");
    assert_eq!(b[4..6], 3u16.to_ne_bytes());
    assert_eq!(b[6..8], 600u16.to_ne_bytes());
    assert_eq!(b[8..12], 70_000u32.to_ne_bytes());
    assert_eq!(b[12..28], a);
    assert_eq!(b[28..30], 1u16.to_ne_bytes());
    // On set, the read-only fields are ignored.
    let set = Locator { ifidx: 0, flags: 0, ..loc };
    assert_eq!(Locator::decode(&b, R), Ok(Some(set)));
    // The draft reads priority 0 weights as preferences, others as none.
    assert_eq!(Locator { rank: Rank { prio: 0, weight: 9 }, ..loc }.encode(D)[3], 9);
    assert_eq!(loc.encode(D)[3], 0);
    assert_eq!(loc.encode(D)[1], 0, "an ifindex over 255 reads as unknown in the draft's octet");

    let pe = PathExplore { probenum: 300, keepaliveto: 600, keepaliveint: 20, initprobeto: 700 };
    let b = pe.encode(R);
    let words: Vec<u16> = b[..8].chunks(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
    assert_eq!(words, [300, 600, 20, 700]);
    assert_eq!(b[8..], [0; 4]);
    assert_eq!(PathExplore::decode(&b, R), Ok(pe));
    assert_eq!(pe.encode(D)[..2], [255, 255], "the draft's octets clamp");
}

#[test]
fn shim_feedback_layout() {
    assert_eq!(size_of::<shim_feedback>(), 4);
    assert_eq!(size_of::<shim_feedback>(), so::FEEDBACK_LEN);
    assert_eq!(offset_of!(shim_feedback, fb_direction), 0);
    assert_eq!(offset_of!(shim_feedback, fb_indicator), 1);
    assert_eq!(offset_of!(shim_feedback, fb_reserved), 2);
}

#[test]
fn locator_flags() {
    assert_eq!(uapi::SHIM_LOC_FLAG_HBA, 0x01);
    assert_eq!(uapi::SHIM_LOC_FLAG_HBA, u32::from(so::SHIM_LOC_FLAG_HBA));
    assert_eq!(uapi::SHIM_LOC_FLAG_CGA, 0x02);
}

#[test]
fn feedback_values_match_codec() {
    assert_eq!(uapi::SHIM_FB_DIR_OUTBOUND, 0);
    assert_eq!(uapi::SHIM_FB_DIR_INBOUND, 1);
    assert_eq!(uapi::SHIM_FB_DEFAULT, 0);
    assert_eq!(uapi::SHIM_FB_UNABLE_TO_CONNECT, 1);
    assert_eq!(uapi::SHIM_FB_UNSATISFACTORY, 2);
    assert_eq!(uapi::SHIM_FB_SATISFACTORY, 3);

    let directions = [
        (uapi::SHIM_FB_DIR_OUTBOUND, Direction::Outbound),
        (uapi::SHIM_FB_DIR_INBOUND, Direction::Inbound),
    ];
    let indicators = [
        (uapi::SHIM_FB_DEFAULT, Indicator::Default),
        (uapi::SHIM_FB_UNABLE_TO_CONNECT, Indicator::UnableToConnect),
        (uapi::SHIM_FB_UNSATISFACTORY, Indicator::Unsatisfactory),
        (uapi::SHIM_FB_SATISFACTORY, Indicator::Satisfactory),
    ];
    for (d, direction) in directions {
        for (i, indicator) in indicators {
            let c = shim_feedback { fb_direction: d as u8, fb_indicator: i as u8, fb_reserved: 0 };
            // SAFETY: shim_feedback has no padding (offsets above, size 4).
            let bytes: [u8; 4] = unsafe { core::mem::transmute(c) };
            assert_eq!(Feedback::decode(&bytes), Ok(Feedback { direction, indicator }));
        }
    }
}

#[test]
fn einvalidlocator_is_no_linux_errno() {
    assert_eq!(uapi::EINVALIDLOCATOR, 200);
    // Linux errnos are 1..=133 (EHWPOISON) and the kernel-internal 512..=530.
    assert!((134..512).contains(&uapi::EINVALIDLOCATOR));
}
