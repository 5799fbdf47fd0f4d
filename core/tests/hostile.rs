// SPDX-License-Identifier: GPL-2.0

//! A third host M, with no credentials of V's, tries to hijack, pin or
//! starve X's contexts with V: every rule of RFC 5533 §7.13, §7.20 and
//! §16 that stops it, and the rate limits and eviction that keep X's
//! table usable under a flood.  Messages are handed to X as received, in
//! X's view (a ULID Pair option names X's ULID as `local`).

mod common;

use common::{Rng, TestMac, VecTable, hba_set, kind};
use proptest::prelude::*;
use shim6_core::proto::codec::{self, Discard};
use shim6_core::proto::context::*;
use shim6_core::proto::hba::{HashFailed, Prefix, Sha1, DIGEST_LEN};
use shim6_core::proto::wire::message::{self as m, Repr};
use shim6_core::proto::wire::options::{LocatorList, OptionSet, UlidPair as WireUlids};
use shim6_core::proto::wire::{verification, ContextTag};
use shim6_core::rustcrypto::RustCrypto;

const fn addr(net: u8, sub: u8, host: u8) -> Addr {
    [0x20, 0x01, 0x0d, 0xb8, net, 0, 0, sub, 0, 0, 0, 0, 0, 0, 0, host]
}
const X1: Addr = addr(0xa, 0, 1);
const X2: Addr = addr(0xa, 1, 1);
const V1: Addr = addr(0xb, 0, 1);
const V2: Addr = addr(0xb, 1, 1);
const M1: Addr = addr(0xe, 0, 66);
const ALL_NODES: Addr = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

struct Host6 {
    host: Host,
    table: VecTable,
    rng: Rng,
}

impl Host6 {
    fn new(locs: &[Addr], seed: u64) -> Self {
        let mut rng = Rng(seed);
        Host6 { host: Host::new(Responder::new(0, &mut rng), Locators::new(locs)), table: VecTable::default(), rng }
    }

    fn rx(&mut self, path: Path, msg: Message, now: Millis) -> Vec<Transmit> {
        let rx = Received { path, msg };
        self.host.receive(&mut self.table, &rx, now, &mut self.rng, &mut TestMac).tx.into_iter().flatten().collect()
    }

    fn one(&mut self, path: Path, msg: Message, now: Millis) -> Option<Transmit> {
        let mut all = self.rx(path, msg, now);
        assert!(all.len() <= 1, "{all:?}");
        all.pop()
    }

    fn ctx(&self, ulids: &UlidPair) -> Option<&Context> {
        self.table.0.iter().find(|c| c.ulids() == *ulids)
    }

    /// No context of this host sends to `who` or counts it as the peer's.
    fn nothing_towards(&self, who: &Addr) -> bool {
        self.table.0.iter().all(|c| c.path().dst != *who && !c.peer_locators().contains(who))
    }
}

/// X and V with an established context, V the initiator, on their ULIDs.
fn established() -> (Host6, Host6) {
    let mut x = Host6::new(&[X1, X2], 1);
    let mut v = Host6::new(&[V1, V2], 2);
    let ct = Host::fresh_tag(&v.table, &mut v.rng);
    let path = Path { src: V1, dst: X1 };
    let (ctx, i1) = Context::initiate(UlidPair { local: V1, peer: X1 }, 0, ct, v.host.locators, path, 0, &mut v.rng);
    v.table.0.push(ctx);
    let r1 = x.one(i1.path, i1.msg, 1).expect("R1");
    let i2 = v.one(r1.path, r1.msg, 2).expect("I2");
    let r2 = x.one(i2.path, i2.msg, 3).expect("R2");
    assert_eq!(v.one(r2.path, r2.msg, 4), None);
    let ulids = UlidPair { local: X1, peer: V1 };
    assert_eq!(x.ctx(&ulids).map(Context::state), Some(State::Established));
    (x, v)
}

/// M's I1 and I2 naming `ulids` (X's view) from `from`: X's answer to the
/// I2, or why it refused it.
fn i1_i2_outcome(x: &mut Host6, from: Addr, ulids: UlidPair, fii: u32, locators: Locators, now: Millis) -> Outcome {
    let path = Path { src: from, dst: X1 };
    let i1 = Message::I1 { ct: ContextTag::from_masked(0x4242), nonce: 7, ulids: Some(ulids), fii };
    let r1 = x.one(path, i1, now).expect("R1: the responder is stateless");
    assert_eq!(kind(&r1), "R1");
    assert_eq!(r1.path, Path { src: X1, dst: from });
    let Message::R1 { resp_nonce, validator, .. } = r1.msg else { unreachable!() };
    let i2 = Message::I2 { ct: ContextTag::from_masked(0x4242), init_nonce: 7, resp_nonce, validator, ulids: Some(ulids), fii, locators };
    x.host.receive(&mut x.table, &Received { path, msg: i2 }, now + 1, &mut x.rng, &mut TestMac)
}

fn i1_i2(x: &mut Host6, from: Addr, ulids: UlidPair, fii: u32, locators: Locators, now: Millis) -> Option<Transmit> {
    let out = i1_i2_outcome(x, from, ulids, fii, locators, now);
    assert!(out.tx[1].is_none());
    out.tx[0]
}

#[test]
fn i2_claiming_another_hosts_ulid_gets_no_context() {
    for fii in [0, 7] {
        let (mut x, _v) = established();
        let foreign = UlidPair { local: X1, peer: V1 };
        // With no locators, and with V's own (public) locator list replayed.
        for locs in [Locators::default(), Locators::new(&[V1, V2])] {
            let out = i1_i2_outcome(&mut x, M1, foreign, fii, locs, 10);
            assert_eq!(out.tx, [None, None], "fii {fii}: M got an R2");
            assert_eq!(out.refused, Some(Refusal::Unverified));
            assert!(x.nothing_towards(&M1), "fii {fii}: a context points at M");
        }
        assert_eq!(x.table.0.len(), 1, "fii {fii}: only X's context with V");
    }
    // A fresh X, no context with V yet: still nothing.
    let mut x = Host6::new(&[X1, X2], 3);
    assert_eq!(i1_i2(&mut x, M1, UlidPair { local: X1, peer: V1 }, 0, Locators::default(), 10), None);
    assert!(x.table.0.is_empty());
}

#[test]
fn i2_from_a_verified_locator_of_the_ulid_is_accepted() {
    // V itself, moved to V2, which its (verified) list holds.
    let mut x = Host6::new(&[X1, X2], 4);
    let r2 = i1_i2(&mut x, V2, UlidPair { local: X1, peer: V1 }, 0, Locators::new(&[V1, V2]), 10).expect("R2");
    assert_eq!(kind(&r2), "R2");
    let ctx = x.ctx(&UlidPair { local: X1, peer: V1 }).expect("context");
    assert_eq!(ctx.path(), Path { src: X1, dst: V2 });
    // And M on its own ULID is any other host.
    assert!(i1_i2(&mut x, M1, UlidPair { local: X1, peer: M1 }, 0, Locators::default(), 20).is_some());
}

#[test]
fn i2_naming_a_ulid_that_is_not_ours_is_dropped() {
    let mut x = Host6::new(&[X1, X2], 5);
    let elsewhere = addr(0xc, 0, 9);
    assert_eq!(i1_i2(&mut x, M1, UlidPair { local: elsewhere, peer: M1 }, 0, Locators::default(), 10), None);
    assert!(x.table.0.is_empty());
}

#[test]
fn one_r1bis_opens_no_context_for_foreign_ulids() {
    let (mut x, _v) = established();
    let path = Path { src: M1, dst: X1 };
    let r1bis = x.host.unknown_tag(ContextTag::from_masked(0x777), &path, 10, &mut x.rng, &mut TestMac).expect("R1bis");
    let Message::R1bis { packet_ct, resp_nonce, validator } = r1bis.msg else { panic!("{r1bis:?}") };
    for (peer, fii) in [(V1, 0), (V1, 7), (V2, 0), (addr(0xb, 2, 3), 0), (addr(0xc, 0, 4), 9)] {
        let i2bis = Message::I2bis {
            ct: ContextTag::from_masked(0x999),
            init_nonce: 1,
            resp_nonce,
            packet_ct,
            validator,
            ulids: Some(UlidPair { local: X1, peer }),
            fii,
            locators: Locators::new(&[V1, V2]),
        };
        assert_eq!(x.one(path, i2bis, 11), None, "I2bis for {peer:x?} fii {fii} got an R2");
    }
    assert!(x.nothing_towards(&M1));
    assert_eq!(x.table.0.len(), 1);
    // M recovering its own context, on its own ULID, is fine.
    let own = Message::I2bis {
        ct: ContextTag::from_masked(0x999),
        init_nonce: 1,
        resp_nonce,
        packet_ct,
        validator,
        ulids: None,
        fii: 0,
        locators: Locators::default(),
    };
    assert_eq!(x.one(path, own, 12).map(|t| kind(&t)), Some("R2"));
}

#[test]
fn i1_for_a_context_being_set_up_gets_no_r2_from_a_stranger() {
    let mut x = Host6::new(&[X1, X2], 6);
    let ulids = UlidPair { local: X1, peer: V1 };
    let ct = Host::fresh_tag(&x.table, &mut x.rng);
    let (ctx, _i1) = Context::initiate(ulids, 0, ct, x.host.locators, Path { src: X1, dst: V1 }, 0, &mut x.rng);
    x.table.0.push(ctx);
    let spoofed = addr(0xd, 0, 5);
    let i1 = Message::I1 { ct: ContextTag::from_masked(0x1), nonce: 2, ulids: Some(ulids), fii: 0 };
    let reply = x.one(Path { src: spoofed, dst: X1 }, i1, 1).expect("an R1");
    assert_eq!(kind(&reply), "R1", "X's tag and locators must not go to {spoofed:x?}");
    // Crossing I1s from V itself still get the R2 (§7.9).
    let i1 = Message::I1 { ct: ContextTag::from_masked(0x1), nonce: 2, ulids: None, fii: 0 };
    assert_eq!(x.one(Path { src: V1, dst: X1 }, i1, 2).map(|t| kind(&t)), Some("R2"));
}

/// The Update Request V would send for `locators` with `generation`.
fn update(x: &Host6, generation: u32, nonce: u32, locators: &[Addr]) -> Message {
    let ct = x.ctx(&UlidPair { local: X1, peer: V1 }).unwrap().ct_local();
    Message::UpdateRequest { ct, nonce, generation, locators: Locators::new(locators), keepalive: None }
}

#[test]
fn update_requests_cannot_empty_or_roll_back_the_list() {
    let (mut x, _v) = established();
    let ulids = UlidPair { local: X1, peer: V1 };
    let from_v = Path { src: V1, dst: X1 };
    let peers = |x: &Host6| x.ctx(&ulids).unwrap().peer_locators().as_slice().to_vec();
    let first = peers(&x);

    let acks = x.rx(from_v, update(&x, 10, 1, &[]), 10);
    assert_eq!(acks.iter().map(kind).collect::<Vec<_>>(), ["UpdateAck"]);
    assert_eq!(peers(&x), first, "an empty list changes nothing");

    let new = addr(0xb, 3, 1);
    x.rx(from_v, update(&x, 11, 2, &[V1, new]), 11);
    assert_eq!(peers(&x), [V1, new]);
    x.rx(from_v, update(&x, 12, 3, &[V1, V2]), 12);
    assert_eq!(peers(&x), [V1, V2]);
    // A replay of generation 11 would bring `new` back.
    let replay = update(&x, 11, 2, &[V1, new]);
    let out = x.host.receive(&mut x.table, &Received { path: from_v, msg: replay }, 13, &mut x.rng, &mut TestMac);
    assert_eq!((out.tx, out.refused), ([None, None], Some(Refusal::Replay)), "a replay is not acknowledged");
    assert_eq!(peers(&x), [V1, V2]);
    // The current generation again is a retransmission: acknowledged.
    assert_eq!(x.rx(from_v, update(&x, 12, 3, &[V1, V2]), 14).len(), 1);
    // From M, even with X's tag: R1bis, nothing changes.
    let from_m = Path { src: M1, dst: X1 };
    let out = x.rx(from_m, update(&x, 99, 4, &[M1]), 15);
    assert_eq!(out.iter().map(kind).collect::<Vec<_>>(), ["R1bis"]);
    assert_eq!(peers(&x), [V1, V2]);
}

#[test]
fn multicast_and_unspecified_locators_get_no_answer() {
    let mut x = Host6::new(&[X1, X2], 7);
    let i1 = Message::I1 { ct: ContextTag::from_masked(0x1), nonce: 2, ulids: None, fii: 0 };
    for path in [
        Path { src: M1, dst: ALL_NODES },
        Path { src: ALL_NODES, dst: X1 },
        Path { src: [0; 16], dst: X1 },
    ] {
        assert!(x.rx(path, i1, 1).is_empty(), "{path:x?}");
        let r1bis = x.host.unknown_tag(ContextTag::from_masked(0x5), &path, 1, &mut x.rng, &mut TestMac);
        assert_eq!(r1bis.err(), Some(Refusal::NotShimmable), "{path:x?}");
        let out = x.host.receive(&mut x.table, &Received { path, msg: i1 }, 1, &mut x.rng, &mut TestMac);
        assert_eq!(out.refused, Some(Refusal::NotShimmable), "counted as such");
    }
}

#[test]
fn r1_and_r1bis_are_rate_limited() {
    let mut x = Host6::new(&[X1, X2], 8);
    let i1 = Message::I1 { ct: ContextTag::from_masked(0x1), nonce: 2, ulids: None, fii: 0 };
    let burst = (0..1000u16)
        .filter(|i| {
            let mut src = M1;
            src[14..].copy_from_slice(&i.to_be_bytes());
            !x.rx(Path { src, dst: X1 }, i1, 1_000).is_empty()
        })
        .count();
    assert_eq!(burst, 100, "a burst of 100 answers, then none");
    let path = Path { src: M1, dst: X1 };
    let over = x.host.unknown_tag(ContextTag::from_masked(0x5), &path, 1_000, &mut x.rng, &mut TestMac);
    assert_eq!(over.err(), Some(Refusal::RateLimited), "R1bis shares the budget");
    // 100 a second on average.
    assert!(x.host.unknown_tag(ContextTag::from_masked(0x5), &path, 1_010, &mut x.rng, &mut TestMac).is_ok());
    assert!(x.host.unknown_tag(ContextTag::from_masked(0x5), &path, 1_010, &mut x.rng, &mut TestMac).is_err());
    assert!(x.table.0.is_empty(), "and no state for any of it");
}

#[test]
fn new_contexts_are_rate_limited() {
    let mut x = Host6::new(&[X1, X2], 9);
    let mut made = 0;
    for i in 0..80u16 {
        let mut src = M1;
        src[14..].copy_from_slice(&i.to_be_bytes());
        // Each from its own ULID, return routability shown: legitimate
        // on its own, too many together.
        if i1_i2(&mut x, src, UlidPair { local: X1, peer: src }, 0, Locators::default(), 10).is_some() {
            made += 1;
        }
    }
    assert_eq!(made, 50);
    assert!(x.host.may_initiate(1_000), "the budget comes back");
}

#[test]
fn eviction_takes_held_down_then_unanswered_then_long_idle() {
    let mut x = Host6::new(&[X1, X2], 10);
    let ulids = |p: Addr| UlidPair { local: X1, peer: p };
    let ct = Host::fresh_tag(&x.table, &mut x.rng);
    let (mut failed, _) = Context::initiate(ulids(V1), 0, ct, x.host.locators, Path { src: X1, dst: V1 }, 0, &mut x.rng);
    let (unanswered, _) = Context::initiate(ulids(V2), 0, ContextTag::from_masked(ct.get() + 1), x.host.locators, Path { src: X1, dst: V2 }, 0, &mut x.rng);
    let mut now = 0;
    while failed.state() != State::EFailed {
        now = failed.deadline().unwrap();
        assert_ne!(failed.on_timeout(now, &mut x.rng), Timeout::Forget);
    }
    let (x2, _v) = established();
    let est = x2.ctx(&ulids(V1)).unwrap().clone();
    let t = now;
    let rank = |c: &Context, idle: Millis| c.eviction_rank(t - idle, t);
    assert!(rank(&failed, 0).unwrap() < rank(&unanswered, 1_000).unwrap(), "held down before unanswered");
    assert!(rank(&unanswered, 0).unwrap() < rank(&est, 2 * consts::EVICT_IDLE).unwrap(), "unanswered before idle");
    assert_eq!(rank(&est, 0), None, "a context in use stays");
    assert_eq!(rank(&est, consts::EVICT_IDLE - 1), None);
    // Within a class the longest unused goes first: a flood of I1s
    // evicts its own oldest, not each newcomer the one before.
    assert!(rank(&unanswered, 5_000).unwrap() < rank(&unanswered, 10).unwrap());
    assert!(rank(&est, 3 * consts::EVICT_IDLE).unwrap() < rank(&est, consts::EVICT_IDLE).unwrap());
}

/// SHA-1 that counts its digests.
struct Counting(usize);

impl Sha1 for Counting {
    fn digest(&mut self, parts: &[&[u8]]) -> Result<[u8; DIGEST_LEN], HashFailed> {
        self.0 += 1;
        RustCrypto.digest(parts)
    }
}

const PREFIXES_V: [Prefix; 2] = [[0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 0], [0x20, 1, 0xd, 0xb8, 0xb, 0, 0, 1]];

/// An I2 from V's first HBA address with `n` locators (V's two HBA
/// addresses, then made-up ones) and V's PDS, validator `validator`.
fn big_i2(n: usize, validator: &[u8], buf: &mut [u8]) -> (usize, Path) {
    let (addrs, pds) = hba_set(&PREFIXES_V, 3);
    let mut locs: Vec<Addr> = addrs.to_vec();
    while locs.len() < n {
        let mut a = addrs[1];
        a[15] = locs.len() as u8;
        locs.push(a);
    }
    let methods = vec![verification::HBA; n];
    let path = Path { src: addrs[0], dst: X1 };
    let i2 = Repr::I2(m::I2 {
        initiator_tag: ContextTag::from_masked(0x1234),
        initiator_nonce: 1,
        responder_nonce: 2,
        options: OptionSet {
            responder_validator: Some(validator),
            locator_list: Some(LocatorList::new(0, &methods, &locs).unwrap()),
            cga_parameters: Some(&pds),
            ulid_pair: Some(WireUlids { sender: addrs[0], receiver: X1 }),
            ..OptionSet::default()
        },
    });
    (i2.emit(buf).unwrap(), path)
}

#[test]
fn a_forged_i2_costs_no_hash_and_a_real_one_a_bounded_number() {
    let mut x = Host6::new(&[X1, X2], 11);
    let mut buf = [0u8; 2048];
    let (n, path) = big_i2(100, &[0xee; 32], &mut buf);
    let mut sha = Counting(0);
    let gate = |msg: &Message| x.host.validates(msg, &path, 0, &mut TestMac);
    assert_eq!(codec::parse(&buf[..n], path, &mut sha, gate).err(), Some(Discard::BadValidator));
    assert_eq!(sha.0, 0, "the validator is checked before any locator");
    // Had the validator passed (the order before this rule), the list
    // would have cost hashes, but never more than the cap.
    let mut sha = Counting(0);
    codec::parse(&buf[..n], path, &mut sha, |_| true).unwrap();
    println!("SHA-1 digests for a 100-locator I2: {} (capped at {MAX_LOCATORS} locators)", sha.0);
    assert!(sha.0 <= 2 * (MAX_LOCATORS + 1), "{} digests", sha.0);
}

fn arb_addr() -> impl Strategy<Value = Addr> {
    prop_oneof![Just(V1), Just(V2), Just(M1), Just(X1), Just(addr(0xd, 0, 7)), Just(ALL_NODES)]
}

/// What M may send X: anything, from itself or spoofed, naming V as it
/// likes, echoing whatever X answered it last.
#[derive(Clone, Debug)]
enum Act {
    I1 { src: Addr, peer: Addr, fii: u32 },
    I2 { src: Addr, peer: Addr, fii: u32, with_v_list: bool },
    Unknown { src: Addr, ct: u64 },
    I2bis { src: Addr, peer: Addr, fii: u32, with_v_list: bool },
    Update { src: Addr, generation: u32, list: Vec<Addr> },
}

fn arb_act() -> impl Strategy<Value = Act> {
    let fii = prop_oneof![Just(0u32), Just(7u32)];
    prop_oneof![
        (arb_addr(), arb_addr(), fii.clone()).prop_map(|(src, peer, fii)| Act::I1 { src, peer, fii }),
        (arb_addr(), arb_addr(), fii.clone(), any::<bool>())
            .prop_map(|(src, peer, fii, with_v_list)| Act::I2 { src, peer, fii, with_v_list }),
        (arb_addr(), any::<u64>()).prop_map(|(src, ct)| Act::Unknown { src, ct }),
        (arb_addr(), arb_addr(), fii, any::<bool>())
            .prop_map(|(src, peer, fii, with_v_list)| Act::I2bis { src, peer, fii, with_v_list }),
        // Lists as the codec hands them over: HBA-verified, so V's only.
        (arb_addr(), any::<u32>(), proptest::collection::vec(prop_oneof![Just(V1), Just(V2), Just(addr(0xb, 3, 1))], 0..3))
            .prop_map(|(src, generation, list)| Act::Update { src, generation, list }),
    ]
}

proptest! {
    /// Whatever M sends, from wherever, X never sends V's traffic to M,
    /// never hands M an R2 for a context naming V, and keeps its context
    /// with V on V's locators.
    #[test]
    fn no_sequence_from_m_hijacks_v(acts in proptest::collection::vec(arb_act(), 1..40)) {
        let (mut x, _v) = established();
        let v_ulids = UlidPair { local: X1, peer: V1 };
        let mut last_r1 = None;
        let mut last_r1bis = None;
        for (i, act) in acts.iter().enumerate() {
            let now = 10 + i as u64;
            let v_list = |w: bool| if w { Locators::new(&[V1, V2]) } else { Locators::default() };
            let (path, msg) = match act.clone() {
                Act::I1 { src, peer, fii } => {
                    (Path { src, dst: X1 }, Message::I1 { ct: ContextTag::from_masked(0x51), nonce: 9, ulids: Some(UlidPair { local: X1, peer }), fii })
                }
                Act::I2 { src, peer, fii, with_v_list } => {
                    let Some((resp_nonce, validator)) = last_r1 else { continue };
                    let ulids = Some(UlidPair { local: X1, peer });
                    let msg = Message::I2 { ct: ContextTag::from_masked(0x51), init_nonce: 9, resp_nonce, validator, ulids, fii, locators: v_list(with_v_list) };
                    (Path { src, dst: X1 }, msg)
                }
                Act::Unknown { src, ct } => {
                    let path = Path { src, dst: X1 };
                    let r1bis = x.host.unknown_tag(ContextTag::from_masked(ct), &path, now, &mut x.rng, &mut TestMac);
                    if let Some(t) = r1bis.ok().filter(|_| src == M1) {
                        if let Message::R1bis { packet_ct, resp_nonce, validator } = t.msg {
                            last_r1bis = Some((packet_ct, resp_nonce, validator));
                        }
                    }
                    continue;
                }
                Act::I2bis { src, peer, fii, with_v_list } => {
                    let Some((packet_ct, resp_nonce, validator)) = last_r1bis else { continue };
                    let ulids = Some(UlidPair { local: X1, peer });
                    let msg = Message::I2bis { ct: ContextTag::from_masked(0x52), init_nonce: 9, resp_nonce, packet_ct, validator, ulids, fii, locators: v_list(with_v_list) };
                    (Path { src, dst: X1 }, msg)
                }
                Act::Update { src, generation, list } => {
                    // M knows X's tag (an on-path observer would).
                    (Path { src, dst: X1 }, update(&x, generation, 1, &list))
                }
            };
            // M only hears what is sent to M: a spoofed source hears nothing M can use.
            for tx in x.rx(path, msg, now) {
                if tx.path.dst != M1 {
                    continue;
                }
                match tx.msg {
                    Message::R1 { resp_nonce, validator, .. } => last_r1 = Some((resp_nonce, validator)),
                    Message::R1bis { packet_ct, resp_nonce, validator } => last_r1bis = Some((packet_ct, resp_nonce, validator)),
                    Message::R2 { ct, .. } => {
                        let c = x.table.0.iter().find(|c| c.ct_local() == ct);
                        prop_assert!(c.is_some_and(|c| c.ulids().peer == M1), "M got an R2 for {msg:x?}");
                    }
                    _ => {}
                }
            }
            for c in x.table.0.iter() {
                if c.ulids().peer != M1 {
                    prop_assert!(c.path().dst != M1 && !c.peer_locators().contains(&M1), "{c:x?}");
                }
            }
            let v = x.ctx(&v_ulids).expect("X keeps its context with V");
            prop_assert!([V1, V2].contains(&v.path().dst) || v.peer_locators().contains(&v.path().dst));
        }
    }
}
