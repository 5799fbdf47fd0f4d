// SPDX-License-Identifier: GPL-2.0

//! Unit and property tests of `src/proto/sockopt.rs`.

use proptest::prelude::*;
use shim6_core::proto::context::Rank;
use shim6_core::proto::sockopt::*;

const D: Flavour = Flavour::Draft;
const R: Flavour = Flavour::Rfc6316;

/// 2001:db8::1
const V6: Addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/// ::ffff:192.0.2.1
const MAPPED: Addr = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1];

const OPTS_WITHOUT_CONTEXT: [Opt; 3] = [Opt::Associated, Opt::DontShim, Opt::DeferredSetup];
const FLAG_OPTS: [Opt; 4] = [Opt::DontShim, Opt::DeferredSetup, Opt::LocLocalRecv, Opt::LocPeerRecv];

fn locator(family: u8, addr: Addr) -> Locator {
    Locator { family, ifidx: 0, flags: 0, rank: Rank::draft(5), addr }
}

/// `struct sockaddr_in` of port 5000 and address `a`.
fn sockaddr_in(a: [u8; 4]) -> [u8; SOCKADDR_IN_LEN] {
    let mut b = [0; SOCKADDR_IN_LEN];
    b[..2].copy_from_slice(&u16::from(AF_INET).to_ne_bytes());
    b[2..4].copy_from_slice(&5000u16.to_be_bytes());
    b[4..8].copy_from_slice(&a);
    b
}

fn pe_bytes(pe: PathExplore, reserved: [u8; 4]) -> [u8; PATHEXPLORE_LEN] {
    let mut b: [u8; PATHEXPLORE_LEN] = pe.encode(D)[..].try_into().unwrap();
    b[4..].copy_from_slice(&reserved);
    b
}

// ---- Opt and Kind ------------------------------------------------------

#[test]
fn options_table() {
    let nums: Vec<i32> = Opt::ALL.iter().map(|&o| o as i32).collect();
    assert_eq!(nums, (1..=14).collect::<Vec<_>>());
    for &opt in Opt::ALL {
        assert_eq!(Opt::from_raw(opt as i32), Some(opt));
        assert_eq!(opt.writable(), opt != Opt::Associated, "{opt:?}");
        assert_eq!(opt.needs_context(), !OPTS_WITHOUT_CONTEXT.contains(&opt), "{opt:?}");
    }
    for raw in [i32::MIN, -1, 0, CMSG_FEEDBACK, CMSG_IF_SEND, i32::MAX] {
        assert_eq!(Opt::from_raw(raw), None);
    }
    use Kind::*;
    let kinds: Vec<Kind> = Opt::ALL.iter().map(|o| o.kind()).collect();
    #[rustfmt::skip]
    assert_eq!(kinds, [Bool, Bool, Bool, Locator, Locator, Bool, Bool, Locator, Locator,
                       LocatorList, LocatorList, Int, PathExplore, Bool]);
    assert_eq!([Bool, Int, Locator, LocatorList, PathExplore].map(|k| k.min_len(D)), [4, 4, 20, 0, 8]);
}

// ---- lengths -------------------------------------------------------------

#[test]
fn set_len_of_fixed_size_options() {
    for &opt in Opt::ALL.iter().filter(|o| o.kind() != Kind::LocatorList) {
        let min = opt.kind().min_len(D);
        let m = min as u32;
        assert_eq!(check_set_len(opt, D, 0), Err(Error::Invalid), "{opt:?}");
        assert_eq!(check_set_len(opt, D, m - 1), Err(Error::Invalid), "{opt:?}");
        assert_eq!(check_set_len(opt, D, m), Ok(min), "{opt:?}");
        // Longer: only the value's own size is read.
        assert_eq!(check_set_len(opt, D, m + 5), Ok(min), "{opt:?}");
        assert_eq!(check_set_len(opt, D, u32::MAX), Ok(min), "{opt:?}");
    }
}

#[test]
fn set_len_of_locator_lists() {
    for opt in [Opt::LoclistLocal, Opt::LoclistPeer] {
        assert_eq!(check_set_len(opt, D, 0), Err(Error::Invalid));
        assert_eq!(check_set_len(opt, D, 19), Err(Error::Invalid));
        assert_eq!(check_set_len(opt, D, 30), Err(Error::Invalid));
        assert_eq!(check_set_len(opt, D, 20), Ok(20));
        assert_eq!(check_set_len(opt, D, 20 * 32), Ok(20 * 32));
        assert_eq!(check_set_len(opt, D, 20 * 33), Err(Error::TooBig));
        assert_eq!(check_set_len(opt, D, u32::MAX), Err(Error::Invalid));
        assert_eq!(check_set_len(opt, D, u32::MAX - 15), Err(Error::TooBig)); // a multiple of 20
    }
}

#[test]
fn get_len() {
    for &opt in Opt::ALL {
        assert_eq!(check_get_len(opt, D, -1), Err(Error::Invalid), "{opt:?}");
        assert_eq!(check_get_len(opt, D, i32::MIN), Err(Error::Invalid), "{opt:?}");
        match opt.kind() {
            Kind::LocatorList => {
                for len in [0, 1, 30, 20 * 33, i32::MAX] {
                    assert_eq!(check_get_len(opt, D, len), Ok(len as usize));
                }
            }
            kind => {
                let min = kind.min_len(D);
                let m = min as i32;
                assert_eq!(check_get_len(opt, D, 0), Err(Error::Invalid), "{opt:?}");
                assert_eq!(check_get_len(opt, D, m - 1), Err(Error::Invalid), "{opt:?}");
                assert_eq!(check_get_len(opt, D, m), Ok(min), "{opt:?}");
                assert_eq!(check_get_len(opt, D, i32::MAX), Ok(min), "{opt:?}");
            }
        }
    }
}

#[test]
fn locator_count_bounds() {
    assert_eq!(locator_count(0, D), Err(Error::Invalid));
    assert_eq!(locator_count(21, D), Err(Error::Invalid));
    assert_eq!(locator_count(30, D), Err(Error::Invalid));
    assert_eq!(locator_count(20, D), Ok(1));
    assert_eq!(locator_count(20 * MAX_LOCATORS, D), Ok(MAX_LOCATORS));
    assert_eq!(locator_count(20 * 33, D), Err(Error::TooBig));
}

// ---- ints ----------------------------------------------------------------

#[test]
fn ints() {
    assert_eq!(encode_int(1), 1i32.to_ne_bytes());
    assert_eq!(decode_bool(&encode_int(0)), Ok(false));
    assert_eq!(decode_bool(&encode_int(1)), Ok(true));
    for bad in [2, -1, i32::MIN, 256] {
        assert_eq!(decode_bool(&encode_int(bad)), Err(Error::Invalid));
    }
    assert_eq!(decode_uint(&encode_int(0)), Ok(0));
    assert_eq!(decode_uint(&encode_int(i32::MAX)), Ok(i32::MAX as u32));
    assert_eq!(decode_uint(&encode_int(-1)), Err(Error::Invalid));
    // The first int is used; fewer than four octets is no int.
    assert_eq!(decode_uint(&[encode_int(7).as_slice(), &[9; 4]].concat()), Ok(7));
    assert_eq!(decode_bool(&[1, 0, 0]), Err(Error::Invalid));
    assert_eq!(decode_uint(&[]), Err(Error::Invalid));
}

// ---- structures ------------------------------------------------------------

#[test]
fn locator_decode() {
    let l6 = Locator { family: AF_INET6, ifidx: 2, flags: 3, rank: Rank::draft(9), addr: V6 };
    assert_eq!(l6.encode(D)[..4], [AF_INET6, 2, 3, 9]);
    assert_eq!(l6.encode(D)[4..], V6);
    assert_eq!(Locator::decode(&l6.encode(D), D), Ok(Some(l6)));
    let l4 = locator(AF_INET, MAPPED);
    assert_eq!(Locator::decode(&l4.encode(D), D), Ok(Some(l4)));
    // Longer buffer: the first locator is used.
    assert_eq!(Locator::decode(&[&l6.encode(D)[..], &[0xff; 20]].concat(), D), Ok(Some(l6)));

    assert_eq!(Locator::decode(&[0; LOCATOR_LEN], D), Ok(None));
    assert_eq!(Locator::decode(&[0; LOCATOR_LEN - 1], D), Err(Error::Invalid));
    assert_eq!(Locator::decode(&l6.encode(D)[..19], D), Err(Error::Invalid));
    // AF_INET needs a v4-mapped address.
    for addr in [V6, [0; 16], MAPPED.map(|b| b ^ 1)] {
        assert_eq!(Locator::decode(&locator(AF_INET, addr).encode(D), D), Err(Error::Invalid));
    }
    // Other families, including 0 with anything else set.
    for family in [0, 1, 3, 11, 255] {
        assert_eq!(Locator::decode(&locator(family, V6).encode(D), D), Err(Error::Invalid));
    }
    let mut only_ifidx = [0; LOCATOR_LEN];
    only_ifidx[1] = 1;
    assert_eq!(Locator::decode(&only_ifidx, D), Err(Error::Invalid));
}

#[test]
fn v4_mapped() {
    assert!(is_v4_mapped(&MAPPED));
    assert!(!is_v4_mapped(&V6));
    assert!(!is_v4_mapped(&[0; 16]));
    let mut a = MAPPED;
    a[9] = 1;
    assert!(!is_v4_mapped(&a));
    a = MAPPED;
    a[11] = 0xfe;
    assert!(!is_v4_mapped(&a));
}

#[test]
fn locator_list() {
    let list = [locator(AF_INET6, V6), locator(AF_INET, MAPPED)];
    let bytes: Vec<u8> = list.iter().flat_map(|l| l.encode(D).to_vec()).collect();
    let mut out = [locator(0, [0; 16]); MAX_LOCATORS];
    assert_eq!(decode_locator_list(&bytes, D, &mut out), Ok(2));
    assert_eq!(out[..2], list);

    let full: Vec<u8> = (0..MAX_LOCATORS).flat_map(|_| list[0].encode(D).to_vec()).collect();
    assert_eq!(decode_locator_list(&full, D, &mut out), Ok(MAX_LOCATORS));
    let over = [full.as_slice(), &list[0].encode(D)].concat();
    assert_eq!(decode_locator_list(&over, D, &mut out), Err(Error::TooBig));
    assert_eq!(decode_locator_list(&[], D, &mut out), Err(Error::Invalid));
    assert_eq!(decode_locator_list(&bytes[..30], D, &mut out), Err(Error::Invalid));
    // Every locator must be well formed and non-zero.
    let with_zero = [bytes.as_slice(), &[0; LOCATOR_LEN]].concat();
    assert_eq!(decode_locator_list(&with_zero, D, &mut out), Err(Error::Invalid));
    let with_bad = [bytes.as_slice(), &locator(AF_INET, V6).encode(D)].concat();
    assert_eq!(decode_locator_list(&with_bad, D, &mut out), Err(Error::Invalid));
}

#[test]
fn path_explore() {
    let pe = PathExplore { probenum: 4, keepaliveto: 10, keepaliveint: 0, initprobeto: 0x1234 };
    let b = pe.encode(D);
    assert_eq!(b[..2], [4, 10]);
    assert_eq!(b[2..4], 0x1234u16.to_ne_bytes());
    assert_eq!(b[4..], [0; 4]);
    assert_eq!(PathExplore::decode(&b, D), Ok(pe));
    assert_eq!(PathExplore::decode(&[&b[..], &[0xff]].concat(), D), Ok(pe));
    assert_eq!(PathExplore::decode(&b[..7], D), Err(Error::Invalid));
    for i in 0..4 {
        let mut reserved = [0; 4];
        reserved[i] = 1;
        assert_eq!(PathExplore::decode(&pe_bytes(pe, reserved), D), Err(Error::Invalid));
    }
}

/// What `SHIM_PATHEXPLORE` asks of REAP: 0 keeps a default, an Initial
/// Probe Timeout under 100 ms is refused, and a get reads back what is in
/// force.
#[test]
fn path_explore_config() {
    use shim6_core::proto::context::reap::{reap_consts, ReapConfig};
    let base = ReapConfig { app_timeout: 30_000, ..ReapConfig::default() };
    let zeros = PathExplore { probenum: 0, keepaliveto: 0, keepaliveint: 0, initprobeto: 0 };
    assert_eq!(zeros.config(base), Ok(base), "all defaults; the application timeout is kept");
    let pe = PathExplore { probenum: 2, keepaliveto: 1, keepaliveint: 0, initprobeto: 200 };
    let cfg = pe.config(base).unwrap();
    assert_eq!((cfg.initial_probes, cfg.send_timeout, cfg.initial_probe_timeout, cfg.app_timeout), (2, 1_000, 200, 30_000));
    assert_eq!(PathExplore::of(&cfg), pe);
    assert_eq!(cfg.announced(), Some(1), "a Send Timeout other than the default is announced");
    assert_eq!(ReapConfig::default().announced(), None);
    assert_eq!(PathExplore::of(&ReapConfig::default()), PathExplore { probenum: 4, keepaliveto: 15, keepaliveint: 0, initprobeto: 500 });
    let short = PathExplore { initprobeto: MIN_INITPROBETO - 1, ..pe };
    assert_eq!(short.config(base), Err(Error::Invalid));
    let long = ReapConfig { send_timeout: 1_000_000, ..ReapConfig::default() };
    assert_eq!(PathExplore::of(&long).encode(D)[1], u8::MAX, "clamped to the draft's field");
    assert_eq!(reap_consts::SEND_TIMEOUT, ReapConfig::default().send_timeout);
}

#[test]
fn feedback() {
    let fb = |d: u8, i: u8| Feedback::decode(&[d, i, 0xff, 0xff]); // fb_reserved is ignored
    let ok = |direction, indicator| Ok(Feedback { direction, indicator });
    assert_eq!(fb(0, 0), ok(Direction::Outbound, Indicator::Default));
    assert_eq!(fb(1, 1), ok(Direction::Inbound, Indicator::UnableToConnect));
    assert_eq!(fb(0, 2), ok(Direction::Outbound, Indicator::Unsatisfactory));
    assert_eq!(fb(1, 3), ok(Direction::Inbound, Indicator::Satisfactory));
    assert_eq!(fb(2, 0), Err(Error::Invalid));
    assert_eq!(fb(255, 0), Err(Error::Invalid));
    assert_eq!(fb(0, 4), Err(Error::Invalid));
    assert_eq!(fb(1, 255), Err(Error::Invalid));
    assert_eq!(Feedback::decode(&[0, 0, 0]), Err(Error::Invalid));
}

// ---- decode_value ------------------------------------------------------------

#[test]
fn decode_value_per_option() {
    let pe = PathExplore { probenum: 1, keepaliveto: 2, keepaliveint: 0, initprobeto: 3 };
    let l = locator(AF_INET6, V6);
    for &opt in Opt::ALL {
        let d = |buf: &[u8]| decode_value(opt, D, buf);
        match opt.kind() {
            Kind::Bool => {
                assert_eq!(d(&encode_int(1)), Ok(Value::Bool(true)));
                assert_eq!(d(&encode_int(0)), Ok(Value::Bool(false)));
                assert_eq!(d(&encode_int(2)), Err(Error::Invalid));
                assert_eq!(d(&[1]), Err(Error::Invalid));
            }
            Kind::Int => {
                assert_eq!(d(&encode_int(30)), Ok(Value::Uint(30)));
                assert_eq!(d(&encode_int(0)), Ok(Value::Uint(0)));
                assert_eq!(d(&encode_int(-1)), Err(Error::Invalid));
                assert_eq!(d(&[1]), Err(Error::Invalid));
            }
            Kind::Locator => {
                assert_eq!(d(&l.encode(D)), Ok(Value::Locator(Some(l))));
                assert_eq!(d(&[0; LOCATOR_LEN]), Ok(Value::Locator(None)));
                assert_eq!(d(&locator(AF_INET, V6).encode(D)), Err(Error::Invalid));
                assert_eq!(d(&[0; LOCATOR_LEN - 1]), Err(Error::Invalid));
            }
            Kind::LocatorList => {
                assert_eq!(d(&[&l.encode(D)[..], &l.encode(D)].concat()), Ok(Value::LocatorList(2)));
                assert_eq!(d(&[&l.encode(D)[..], &[0; LOCATOR_LEN]].concat()), Err(Error::Invalid));
                assert_eq!(d(&[]), Err(Error::Invalid));
                assert_eq!(d(&[0; 30]), Err(Error::Invalid));
                assert_eq!(d(&l.encode(D).repeat(33)), Err(Error::TooBig));
            }
            Kind::PathExplore => {
                assert_eq!(d(&pe.encode(D)), Ok(Value::PathExplore(pe)));
                assert_eq!(d(&pe_bytes(pe, [0, 0, 0, 1])), Err(Error::Invalid));
                assert_eq!(d(&pe.encode(D)[..7]), Err(Error::Invalid));
            }
        }
    }
}

// ---- without a context -------------------------------------------------------

#[test]
fn defaults_without_context() {
    let fresh = SockFlags::default();
    assert_eq!(fresh, SockFlags(0));
    assert_eq!(get_without_context(Opt::DontShim, fresh), Ok(0));
    assert_eq!(get_without_context(Opt::DeferredSetup, fresh), Ok(1));
    assert_eq!(get_without_context(Opt::Associated, fresh), Ok(0));
    assert_eq!(get_without_context(Opt::Associated, SockFlags(u32::MAX)), Ok(0));
    for &opt in Opt::ALL.iter().filter(|o| o.needs_context()) {
        assert_eq!(get_without_context(opt, fresh), Err(Error::NoContext), "{opt:?}");
    }
}

#[test]
fn set_without_context_semantics() {
    let fresh = SockFlags::default();
    for value in [Value::Bool(false), Value::Bool(true)] {
        assert_eq!(set_without_context(Opt::Associated, value, fresh), Err(Error::NoProtoOpt));
    }
    let flags = set_without_context(Opt::DontShim, Value::Bool(true), fresh).unwrap();
    assert_eq!(get_without_context(Opt::DontShim, flags), Ok(1));
    assert_eq!(get_without_context(Opt::DeferredSetup, flags), Ok(1));
    let flags = set_without_context(Opt::DeferredSetup, Value::Bool(false), flags).unwrap();
    assert_eq!(get_without_context(Opt::DeferredSetup, flags), Ok(0));
    assert_eq!(get_without_context(Opt::DontShim, flags), Ok(1));
    let flags = set_without_context(Opt::DontShim, Value::Bool(false), flags).unwrap();
    assert_eq!(get_without_context(Opt::DontShim, flags), Ok(0));

    let pe = PathExplore { probenum: 1, keepaliveto: 2, keepaliveint: 0, initprobeto: 3 };
    for (opt, value) in [
        (Opt::HotStandby, Value::Bool(true)),
        (Opt::LocLocalRecv, Value::Bool(false)),
        (Opt::LocLocalPref, Value::Locator(Some(locator(AF_INET6, V6)))),
        (Opt::LocPeerSend, Value::Locator(None)),
        (Opt::LoclistPeer, Value::LocatorList(1)),
        (Opt::AppTimeout, Value::Uint(30)),
        (Opt::PathExplore, Value::PathExplore(pe)),
    ] {
        assert_eq!(set_without_context(opt, value, fresh), Err(Error::NoContext), "{opt:?}");
    }
}

#[test]
fn sock_flags() {
    let fresh = SockFlags::default();
    assert_eq!(fresh.get(Opt::DontShim), Some(false));
    assert_eq!(fresh.get(Opt::DeferredSetup), Some(true));
    for &opt in Opt::ALL.iter().filter(|o| !FLAG_OPTS.contains(o)) {
        assert_eq!(fresh.get(opt), None, "{opt:?}");
        assert_eq!(fresh.set(opt, true), None, "{opt:?}");
    }
    // Setting the default again changes nothing.
    assert_eq!(fresh.set(Opt::DontShim, false), Some(fresh));
    assert_eq!(fresh.set(Opt::DeferredSetup, true), Some(fresh));
    let both =
        fresh.set(Opt::DontShim, true).and_then(|f| f.set(Opt::DeferredSetup, false)).unwrap();
    assert_eq!((both.get(Opt::DontShim), both.get(Opt::DeferredSetup)), (Some(true), Some(false)));
}

// ---- control messages -----------------------------------------------------------

#[test]
fn cmsg_locators() {
    let local = Opt::LocLocalSend as i32;
    let peer = Opt::LocPeerSend as i32;
    let sin6 = encode_sockaddr_in6(&V6);
    let sin = sockaddr_in([192, 0, 2, 1]);
    assert_eq!(decode_cmsg(local, &sin6), Ok((Cmsg::LocalLocator(V6), D)));
    assert_eq!(decode_cmsg(peer, &sin6), Ok((Cmsg::PeerLocator(V6), D)));
    assert_eq!(decode_cmsg(local, &sin), Ok((Cmsg::LocalLocator(MAPPED), D)));
    assert_eq!(decode_cmsg(peer, &sin), Ok((Cmsg::PeerLocator(MAPPED), D)));
    for ty in [local, peer] {
        assert_eq!(decode_cmsg(ty, &sin6[..SOCKADDR_IN6_LEN - 1]), Err(Error::Invalid));
        assert_eq!(decode_cmsg(ty, &sin6[..SOCKADDR_IN_LEN]), Err(Error::Invalid));
        assert_eq!(decode_cmsg(ty, &sin[..SOCKADDR_IN_LEN - 1]), Err(Error::Invalid));
        assert_eq!(decode_cmsg(ty, &sin[..1]), Err(Error::Invalid));
        assert_eq!(decode_cmsg(ty, &[]), Err(Error::Invalid));
        for family in [0u16, 1, 3, 0x0a00] {
            let mut bad = sin6;
            bad[..2].copy_from_slice(&family.to_ne_bytes());
            assert_eq!(decode_cmsg(ty, &bad), Err(Error::Invalid), "family {family}");
        }
    }
}

#[test]
fn cmsg_if_send() {
    assert_eq!(decode_cmsg(CMSG_IF_SEND, &encode_int(3)), Ok((Cmsg::IfIndex(3), D)));
    assert_eq!(decode_cmsg(CMSG_IF_SEND, &encode_int(i32::MAX)), Ok((Cmsg::IfIndex(i32::MAX), D)));
    for bad in [0, -1, i32::MIN] {
        assert_eq!(decode_cmsg(CMSG_IF_SEND, &encode_int(bad)), Err(Error::NoDevice));
    }
    assert_eq!(decode_cmsg(CMSG_IF_SEND, &[3, 0, 0]), Err(Error::Invalid));
}

#[test]
fn cmsg_feedback() {
    let fb = Feedback { direction: Direction::Inbound, indicator: Indicator::Satisfactory };
    assert_eq!(decode_cmsg(CMSG_FEEDBACK, &[1, 3, 0, 0]), Ok((Cmsg::Feedback(fb), D)));
    assert_eq!(decode_cmsg(CMSG_FEEDBACK, &[2, 3, 0, 0]), Err(Error::Invalid));
    assert_eq!(decode_cmsg(CMSG_FEEDBACK, &[1, 4, 0, 0]), Err(Error::Invalid));
    assert_eq!(decode_cmsg(CMSG_FEEDBACK, &[1, 3, 0]), Err(Error::Invalid));
}

#[test]
fn cmsg_unknown_type() {
    let data = [0u8; 64];
    // Only the *_SEND locators, SHIM_IF_SEND and SHIM_FEEDBACK go with sendmsg().
    let sendable = [Opt::LocLocalSend as i32, Opt::LocPeerSend as i32, CMSG_FEEDBACK, CMSG_IF_SEND];
    for ty in (-2..=20).chain([i32::MIN, i32::MAX]).filter(|t| !sendable.contains(t)) {
        assert_eq!(decode_cmsg(ty, &data), Err(Error::Invalid), "type {ty}");
    }
}

#[test]
fn sockaddr_in6_encoding() {
    let b = encode_sockaddr_in6(&V6);
    assert_eq!(b[..2], u16::from(AF_INET6).to_ne_bytes());
    assert_eq!(b[2..8], [0; 6]); // port, flowinfo
    assert_eq!(b[8..24], V6);
    assert_eq!(b[24..], [0; 4]); // scope id
    assert_eq!(decode_sockaddr(&b), Ok(V6));
}

// ---- properties ----------------------------------------------------------------

/// A locator setsockopt() accepts.
fn valid_locator() -> impl Strategy<Value = Locator> {
    let addr = prop_oneof![
        any::<Addr>().prop_map(|a| (AF_INET6, a)),
        any::<[u8; 4]>().prop_map(|v4| {
            let mut a = MAPPED;
            a[12..].copy_from_slice(&v4);
            (AF_INET, a)
        }),
    ];
    (addr, any::<[u8; 3]>()).prop_map(|((family, addr), [ifidx, flags, preference])| Locator {
        family,
        ifidx: ifidx.into(),
        flags: flags.into(),
        rank: Rank::draft(preference),
        addr,
    })
}

fn any_opt() -> impl Strategy<Value = Opt> {
    proptest::sample::select(Opt::ALL)
}

proptest! {
    #[test]
    fn locator_round_trip(l in valid_locator()) {
        prop_assert_eq!(Locator::decode(&l.encode(D), D), Ok(Some(l)));
    }

    #[test]
    fn path_explore_round_trip(probenum: u8, keepaliveto: u8, initprobeto: u16) {
        let pe = PathExplore { probenum: probenum.into(), keepaliveto: keepaliveto.into(), keepaliveint: 0, initprobeto };
        prop_assert_eq!(PathExplore::decode(&pe.encode(D), D), Ok(pe));
    }

    #[test]
    fn rfc6316_path_explore_round_trip(probenum: u16, keepaliveto: u16, keepaliveint: u16, initprobeto: u16) {
        let pe = PathExplore { probenum, keepaliveto, keepaliveint, initprobeto };
        prop_assert_eq!(PathExplore::decode(&pe.encode(R), R), Ok(pe));
    }

    #[test]
    fn rfc6316_locator_round_trip(l in valid_locator(), prio: u16, weight: u16) {
        // lc_ifidx and lc_flags are read-only: a set ignores them.
        let l = Locator { ifidx: 0, flags: 0, rank: Rank { prio, weight }, ..l };
        prop_assert_eq!(Locator::decode(&l.encode(R), R), Ok(Some(l)));
    }

    #[test]
    fn sockaddr_in6_round_trip(addr: Addr) {
        prop_assert_eq!(decode_sockaddr(&encode_sockaddr_in6(&addr)), Ok(addr));
    }

    #[test]
    fn sockaddr_in_is_v4_mapped(v4: [u8; 4]) {
        let addr = decode_sockaddr(&sockaddr_in(v4)).unwrap();
        prop_assert!(is_v4_mapped(&addr));
        prop_assert_eq!(&addr[12..], &v4[..]);
    }

    #[test]
    fn decoders_never_panic(
        buf in proptest::collection::vec(any::<u8>(), 0..64),
        opt in any_opt(),
        ty in prop_oneof![-1..=20i32, any::<i32>()],
    ) {
        let _ = decode_bool(&buf);
        let _ = decode_uint(&buf);
        let _ = Locator::decode(&buf, D);
        let _ = PathExplore::decode(&buf, D);
        let _ = Feedback::decode(&buf);
        let _ = decode_sockaddr(&buf);
        let _ = decode_locator_list(&buf, D, &mut [locator(0, [0; 16]); MAX_LOCATORS]);
        let _ = decode_value(opt, D, &buf);
        let _ = decode_cmsg(ty, &buf);
    }

    #[test]
    fn lengths_never_panic(opt in any_opt(), len: i32) {
        let _ = check_set_len(opt, D, len as u32);
        let _ = check_get_len(opt, D, len);
        let _ = locator_count(len as u32 as usize, D);
    }

    #[test]
    fn sock_flags_set_then_get(bits: u32, which in 0..2usize, value: bool) {
        let (opt, other) = (FLAG_OPTS[which], FLAG_OPTS[1 - which]);
        let before = SockFlags(bits);
        let after = before.set(opt, value).unwrap();
        prop_assert_eq!(after.get(opt), Some(value));
        prop_assert_eq!(after.get(other), before.get(other));
        let via_setsockopt = set_without_context(opt, Value::Bool(value), before);
        prop_assert_eq!(via_setsockopt, Ok(after));
        prop_assert_eq!(get_without_context(opt, after), Ok(i32::from(value)));
    }
}

#[test]
fn locator_lists_read_back_with_the_drafts_buffer_semantics() {
    let addrs: [Addr; 2] = [[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]];
    let a = addrs.map(|a| Locator { ifidx: 3, flags: SHIM_LOC_FLAG_HBA, rank: Rank::draft(7), ..locator_of(&a) });
    let mut out = [0u8; 3 * LOCATOR_LEN];
    // optlen 0 asks for the size; too small is ERANGE with the size needed.
    assert_eq!(encode_locator_list(&a, D, 0, &mut out), Ok(None));
    assert_eq!(encode_locator_list(&a, D, LOCATOR_LEN, &mut out), Err(Error::Range(2 * LOCATOR_LEN)));
    assert_eq!(encode_locator_list(&a, D, 3 * LOCATOR_LEN, &mut out), Ok(Some(2 * LOCATOR_LEN)));
    let back = Locator::decode(&out[LOCATOR_LEN..], D).unwrap().unwrap();
    assert_eq!(back, a[1], "every field as given");
}

/// A SHIM_LOCLIST_* set is kept highest lc_preference first, equal ones in
/// the order given, a repeat at its first place; IPv4 refused, more
/// distinct locators than a context holds cannot all be its own.
#[test]
fn locator_lists_are_ordered_by_preference() {
    let l = |last: u8, preference: u8| Locator { rank: Rank::draft(preference), ..locator_of(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]) };
    let (keep, prefs) = by_preference(&[l(1, 0), l(2, 5), l(3, 5), l(4, 9), l(2, 1)]).unwrap();
    let order: Vec<u8> = keep.as_slice().iter().map(|a| a[15]).collect();
    assert_eq!(order, [4, 2, 3, 1]);
    assert_eq!((0..5).map(|i| prefs.get(i).preference()).collect::<Vec<_>>(), [9, 5, 5, 0, 0]);
    let v4 = Locator { family: AF_INET, ..l(9, 0) };
    assert_eq!(by_preference(&[l(1, 0), v4]).err(), Some(Error::Ipv4Locator));
    let many: Vec<Locator> = (1..=17).map(|i| l(i, 0)).collect();
    assert_eq!(by_preference(&many).err(), Some(Error::InvalidLocator));
    let repeated: Vec<Locator> = (0..32).map(|i| l(1 + i % 16, 0)).collect();
    assert_eq!(by_preference(&repeated).map(|(k, _)| k.as_slice().len()), Ok(16), "SHIM_MAX_LOCATORS entries, 16 distinct");
}

#[test]
fn ipv4_locators_have_no_use_in_shim6() {
    let mut v4 = [0u8; 16];
    v4[10] = 0xff;
    v4[11] = 0xff;
    v4[12..].copy_from_slice(&[192, 0, 2, 1]);
    for family in [AF_INET, AF_INET6] {
        let l = Locator { family, ifidx: 0, flags: 0, rank: Rank::default(), addr: v4 };
        assert_eq!(shim6_addr(&l), Err(Error::Ipv4Locator));
    }
    let v6 = locator_of(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(shim6_addr(&v6), Ok(v6.addr));
}

#[test]
fn recv_options_are_kept_per_socket_but_need_a_context() {
    let fresh = SockFlags::default();
    for opt in [Opt::LocLocalRecv, Opt::LocPeerRecv] {
        assert_eq!(get_without_context(opt, fresh), Err(Error::NoContext), "{opt:?}");
        assert_eq!(get_bool_with_context(opt, fresh), Ok(0), "{opt:?}");
        let on = set_bool_with_context(opt, D, Value::Bool(true), fresh).unwrap();
        assert_eq!(get_bool_with_context(opt, on), Ok(1), "{opt:?}");
        assert_eq!(get_without_context(opt, on), Err(Error::NoContext), "{opt:?}");
    }
    assert_eq!(set_bool_with_context(Opt::LocPeerPref, D, Value::Bool(true), fresh), Err(Error::NoContext));
}

#[test]
fn accepted_sockets_inherit_only_dontshim() {
    let all = [Opt::DontShim, Opt::LocLocalRecv, Opt::LocPeerRecv]
        .into_iter()
        .fold(SockFlags::default(), |f, o| f.set(o, true).unwrap())
        .set(Opt::DeferredSetup, false)
        .unwrap();
    let child = all.inherited();
    assert_eq!(child.get(Opt::DontShim), Some(true));
    assert_eq!(child.get(Opt::DeferredSetup), Some(true), "the draft's default");
    assert_eq!(child.get(Opt::LocLocalRecv), Some(false));
    assert_eq!(child.get(Opt::LocPeerRecv), Some(false));
    assert_eq!(SockFlags::default().set(Opt::LocLocalRecv, true).unwrap().inherited(), SockFlags::default());
}

#[test]
fn locator_options_name_their_side() {
    use shim6_core::proto::sockopt::Side;
    for &opt in Opt::ALL {
        let want = match opt {
            Opt::LocLocalPref | Opt::LocLocalRecv | Opt::LocLocalSend | Opt::LoclistLocal => Some(Side::Local),
            Opt::LocPeerPref | Opt::LocPeerRecv | Opt::LocPeerSend | Opt::LoclistPeer => Some(Side::Peer),
            _ => None,
        };
        assert_eq!(opt.side(), want, "{opt:?}");
    }
}

// ---- RFC 6316's numbers ----------------------------------------------------

#[test]
fn rfc6316_lengths_are_exact() {
    assert_eq!(check_set_len(Opt::LocPeerPref, R, 32), Ok(32));
    assert_eq!(check_set_len(Opt::LocPeerPref, R, 33), Err(Error::Invalid));
    assert_eq!(check_set_len(Opt::LocPeerPref, R, 20), Err(Error::Invalid));
    assert_eq!(check_set_len(Opt::PathExplore, R, 12), Ok(12));
    assert_eq!(check_set_len(Opt::PathExplore, R, 16), Err(Error::Invalid));
    assert_eq!(check_set_len(Opt::AppTimeout, R, 8), Ok(INT_LEN), "ints as the draft's");
    assert_eq!(check_set_len(Opt::LoclistPeer, R, 64), Ok(64));
    assert_eq!(check_set_len(Opt::LoclistPeer, R, 40), Err(Error::Invalid));
    assert_eq!(check_set_len(Opt::LoclistPeer, R, 32 * 33), Err(Error::TooBig));
    assert_eq!(check_get_len(Opt::LocPeerPref, R, 31), Err(Error::Invalid));
    assert_eq!(check_get_len(Opt::PathExplore, R, 12), Ok(12));
}

#[test]
fn rfc6316_locators_take_no_nat() {
    let l = Locator { rank: Rank { prio: 1, weight: 2 }, ..locator(AF_INET6, V6) };
    let mut b = l.encode(R).to_vec();
    b[2] = 0x12; // lc_port: ignored
    assert_eq!(Locator::decode(&b, R), Ok(Some(l)));
    b[1] = 17; // lc_proto IPPROTO_UDP: a locator behind a NAT
    assert_eq!(Locator::decode(&b, R), Err(Error::Invalid));
    assert_eq!(Locator::decode(&[0; 32], R), Ok(None));
    assert_eq!(Locator::decode(&[0; 31], R), Err(Error::Invalid));
}

#[test]
fn rfc6316_lists_rank_by_priority_then_weight() {
    let l = |last: u8, prio: u16, weight: u16| Locator {
        rank: Rank { prio, weight },
        ..locator_of(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last])
    };
    let (keep, prefs) = by_preference(&[l(1, 2, 0), l(2, 1, 5), l(3, 1, 9), l(4, 0, 0), l(5, 1, 9)]).unwrap();
    let last: Vec<u8> = keep.as_slice().iter().map(|a| a[15]).collect();
    assert_eq!(last, [4, 3, 5, 2, 1]);
    assert_eq!(prefs.get(1), Rank { prio: 1, weight: 9 });
    let bytes: Vec<u8> = [l(1, 2, 7)].iter().flat_map(|l| l.encode(R).to_vec()).collect();
    let mut out = [locator(0, [0; 16]); MAX_LOCATORS];
    assert_eq!(decode_locator_list(&bytes, R, &mut out), Ok(1));
    assert_eq!(out[0].rank, Rank { prio: 2, weight: 7 });
    let mut room = vec![0; 64];
    assert_eq!(encode_locator_list(&[l(1, 2, 7), l(2, 0, 1)], R, 63, &mut room), Err(Error::Range(64)));
    assert_eq!(encode_locator_list(&[l(1, 2, 7), l(2, 0, 1)], R, 64, &mut room), Ok(Some(64)));
}

#[test]
fn rfc6316_control_messages() {
    let sin6 = encode_sockaddr_in6(&V6);
    assert_eq!(decode_cmsg(24, &sin6), Ok((Cmsg::LocalLocator(V6), R)));
    assert_eq!(decode_cmsg(25, &sin6), Ok((Cmsg::PeerLocator(V6), R)));
    assert_eq!(decode_cmsg(8, &sin6), Ok((Cmsg::LocalLocator(V6), D)));
    let fb = Feedback { direction: Direction::Inbound, indicator: Indicator::Satisfactory };
    assert_eq!(decode_cmsg(31, &[1, 3, 0, 0]), Ok((Cmsg::Feedback(fb), R)));
    // SHIM_IF_SEND has no twin; the RECV numbers are not for sendmsg.
    assert_eq!(decode_cmsg(32, &encode_int(1)), Err(Error::Invalid));
    for ty in [17, 22, 23, 26, 30, 33] {
        assert_eq!(decode_cmsg(ty, &sin6), Err(Error::Invalid), "type {ty}");
    }
}

#[test]
fn recv_locators_come_under_the_number_that_asked() {
    let fresh = SockFlags::default();
    let draft = set_bool_with_context(Opt::LocLocalRecv, D, Value::Bool(true), fresh).unwrap();
    assert_eq!(draft.recv_type(Opt::LocLocalRecv), 6);
    let rfc = set_bool_with_context(Opt::LocLocalRecv, R, Value::Bool(true), draft).unwrap();
    assert_eq!(rfc.recv_type(Opt::LocLocalRecv), 22);
    assert_eq!(rfc.recv_type(Opt::LocPeerRecv), 7);
    assert_eq!(rfc.get(Opt::LocLocalRecv), Some(true));
}
