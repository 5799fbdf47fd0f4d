// SPDX-License-Identifier: GPL-2.0

//! The context state machine with both peers in one test: packets are
//! passed between them by hand (or lost, duplicated, reordered) and time
//! is simulated.

mod common;

use common::{Rng, TestMac, VecTable, kind};
use proptest::prelude::*;
use shim6_core::proto::context::*;

const A1: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const A2: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xa, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
const B1: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B2: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xb, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];

struct Peer {
    ep: Endpoint<VecTable>,
    rng: Rng,
    addr: Addr,
}

impl Peer {
    fn new(addr: Addr, locs: &[Addr], seed: u64, now: Millis) -> Self {
        let mut rng = Rng(seed);
        let host = Host::new(Responder::new(now, &mut rng), Locators::new(locs));
        Peer { ep: Endpoint::new(host, VecTable::default()), rng, addr }
    }

    fn ulids(&self, peer: &Peer) -> UlidPair {
        UlidPair { local: self.addr, peer: peer.addr }
    }

    fn initiate(&mut self, peer: &Peer, now: Millis) -> Transmit {
        match self.ep.connect(self.ulids(peer), now, &mut self.rng) {
            Connect::Started(i1) => i1,
            other => panic!("no I1: {other:?}"),
        }
    }

    fn receive(&mut self, tx: &Transmit, now: Millis) -> Option<Transmit> {
        let mut all = self.receive_all(tx, now);
        assert!(all.len() <= 1, "{all:?}");
        all.pop()
    }

    fn receive_all(&mut self, tx: &Transmit, now: Millis) -> Vec<Transmit> {
        let rx = Received { path: tx.path, msg: as_received(tx.msg) };
        self.ep.receive(&rx, now, &mut self.rng, &mut TestMac).tx.into_iter().flatten().collect()
    }

    fn ctx(&self, peer: &Peer) -> &Context {
        let u = self.ulids(peer);
        self.ep.table.0.iter().find(|c| c.ulids() == u).expect("context")
    }

    /// Runs the timers of every context due at `now`.
    fn tick(&mut self, now: Millis) -> Vec<Transmit> {
        let mut out = Vec::new();
        self.ep.handle_timeout(now, &mut self.rng, |tx| out.push(tx));
        out
    }

    fn deadline(&self) -> Option<Millis> {
        self.ep.table.0.iter().filter_map(Context::deadline).min()
    }
}

/// `msg` as the receiver's codec hands it over: a ULID Pair option names
/// the pair from the sender's side, the receiver's is the other way round.
fn as_received(mut msg: Message) -> Message {
    let swap = |u: &mut Option<UlidPair>| *u = u.map(|u| UlidPair { local: u.peer, peer: u.local });
    match &mut msg {
        Message::I1 { ulids, .. } | Message::I2 { ulids, .. } | Message::I2bis { ulids, .. } => swap(ulids),
        _ => {}
    }
    msg
}

fn pair() -> (Peer, Peer) {
    (Peer::new(A1, &[A1, A2], 1, 0), Peer::new(B1, &[B1, B2], 2, 0))
}

fn assert_established(a: &Peer, b: &Peer) {
    let (ca, cb) = (a.ctx(b), b.ctx(a));
    assert_eq!(ca.state(), State::Established);
    assert_eq!(cb.state(), State::Established);
    assert_eq!(ca.ct_peer(), Some(cb.ct_local()));
    assert_eq!(cb.ct_peer(), Some(ca.ct_local()));
    assert!(ca.rewrites() && cb.rewrites());
    assert!(ca.peer_locators().contains(&B2), "A learnt B's locator list");
    assert!(cb.peer_locators().contains(&A2), "B learnt A's locator list");
}

#[test]
fn four_way_handshake() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    assert_eq!(kind(&i1), "I1");
    assert_eq!(a.ctx(&b).state(), State::I1Sent);
    let r1 = b.receive(&i1, 10).expect("R1");
    assert_eq!(kind(&r1), "R1");
    assert!(b.ep.table.0.is_empty(), "the responder keeps no state before I2");
    let i2 = a.receive(&r1, 20).expect("I2");
    assert_eq!(kind(&i2), "I2");
    assert_eq!(a.ctx(&b).state(), State::I2Sent);
    let r2 = b.receive(&i2, 30).expect("R2");
    assert_eq!(kind(&r2), "R2");
    assert_eq!(a.receive(&r2, 40), None);
    assert_established(&a, &b);
    assert_eq!(a.deadline(), None, "nothing to retransmit once established");
}

#[test]
fn duplicates_and_late_messages_change_nothing() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    assert_eq!(a.receive(&r1, 1), None, "a second R1 is dropped in I2-SENT");
    let r2 = b.receive(&i2, 1).unwrap();
    let b_tag = b.ctx(&a).ct_local();
    let r2_again = b.receive(&i2, 2).expect("a duplicate I2 gets an R2 from the context");
    assert_eq!(b.ctx(&a).ct_local(), b_tag);
    assert_eq!(b.ep.table.0.len(), 1);
    a.receive(&r2, 3);
    a.receive(&r2_again, 4);
    assert_established(&a, &b);
    // A late I1 retransmission, crossing: answered with R2 from the context.
    assert_eq!(kind(&b.receive(&i1, 5).unwrap()), "R2");
    assert_established(&a, &b);
}

#[test]
fn lost_i1_is_retransmitted_with_backoff() {
    let (mut a, mut b) = pair();
    let mut last = a.initiate(&b, 0);
    let mut now = 0;
    let mut nominal = consts::I1_TIMEOUT;
    // Every I1 but the last retransmission is lost.
    for _ in 0..consts::I1_RETRIES_MAX {
        let at = a.deadline().unwrap();
        assert!((now + nominal / 2..=now + nominal * 3 / 2).contains(&at), "{at} outside U[0.5,1.5]x{nominal}");
        assert!(a.tick(at - 1).is_empty());
        now = at;
        let tx = a.tick(now);
        assert_eq!(tx.len(), 1);
        assert_eq!(kind(&tx[0]), "I1");
        last = tx[0];
        nominal *= 2;
    }
    let r1 = b.receive(&last, now).unwrap();
    let i2 = a.receive(&r1, now).unwrap();
    let r2 = b.receive(&i2, now).unwrap();
    a.receive(&r2, now);
    assert_established(&a, &b);
}

#[test]
fn silent_peer_leads_to_e_failed_then_idle() {
    let (mut a, b) = pair();
    a.initiate(&b, 0);
    let mut sent = 0;
    while a.ctx(&b).state() == State::I1Sent {
        let at = a.deadline().unwrap();
        sent += a.tick(at).len();
    }
    assert_eq!(sent, usize::from(consts::I1_RETRIES_MAX));
    assert_eq!(a.ctx(&b).state(), State::EFailed);
    assert!(!a.ctx(&b).rewrites());
    let failed_at = a.deadline().unwrap() - consts::NO_R1_HOLDDOWN_TIME;
    // Five waits before giving up (the first I1, four retransmissions):
    // U[0.5,1.5] x 4 s x 2^k for k = 0..=4, 124 s nominal in all.
    assert!((62_000..=186_000).contains(&failed_at), "{failed_at}");
    a.tick(failed_at + consts::NO_R1_HOLDDOWN_TIME);
    assert!(a.ep.table.0.is_empty(), "back to IDLE after the hold-down");
}

#[test]
fn parameter_problem_means_no_support() {
    let (mut a, b) = pair();
    let i1 = a.initiate(&b, 0);
    let ctx = a.ep.table.0.first_mut().unwrap();
    let Message::I1 { nonce, .. } = i1.msg else { panic!("{i1:?}") };
    assert!(!ctx.on_no_support(nonce.wrapping_add(1), 100), "an error quoting another I1 is forged");
    assert_eq!(ctx.state(), State::I1Sent);
    assert!(ctx.on_no_support(nonce, 100));
    assert_eq!(ctx.state(), State::NoSupport);
    assert_eq!(ctx.deadline(), Some(100 + consts::ICMP_HOLDDOWN_TIME));
    assert!(a.tick(100 + consts::ICMP_HOLDDOWN_TIME - 1).is_empty());
    a.tick(100 + consts::ICMP_HOLDDOWN_TIME);
    assert!(a.ep.table.0.is_empty());
}

#[test]
fn lost_r2_recovered_by_i2_retransmission() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let _lost_r2 = b.receive(&i2, 0).unwrap();
    let at = a.deadline().unwrap();
    let again = a.tick(at);
    assert_eq!(kind(&again[0]), "I2");
    let r2 = b.receive(&again[0], at).unwrap();
    a.receive(&r2, at);
    assert_established(&a, &b);
}

#[test]
fn i2_retries_fall_back_to_i1() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    a.receive(&r1, 0).unwrap();
    let mut kinds = Vec::new();
    for _ in 0..=consts::I2_RETRIES_MAX {
        let at = a.deadline().unwrap();
        kinds.extend(a.tick(at).iter().map(kind));
    }
    assert_eq!(kinds, ["I2", "I2", "I1"]);
    assert_eq!(a.ctx(&b).state(), State::I1Sent);
}

#[test]
fn crossing_i1s() {
    let (mut a, mut b) = pair();
    let i1a = a.initiate(&b, 0);
    let i1b = b.initiate(&a, 0);
    let r2b = b.receive(&i1a, 1).expect("B in I1-SENT answers R2");
    let r2a = a.receive(&i1b, 1).expect("A in I1-SENT answers R2");
    assert_eq!((kind(&r2a), kind(&r2b)), ("R2", "R2"));
    a.receive(&r2b, 2);
    b.receive(&r2a, 2);
    assert_established(&a, &b);
}

#[test]
fn validator_is_checked() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let Message::I2 { ct, init_nonce, resp_nonce, validator, ulids, fii, locators } = i2.msg else {
        panic!()
    };
    let forged = |ct, resp_nonce, path| Transmit {
        path,
        msg: Message::I2 { ct, init_nonce, resp_nonce, validator, ulids, fii, locators },
    };
    assert_eq!(b.receive(&forged(ContextTag::from_masked(ct.get() ^ 1), resp_nonce, i2.path), 0), None, "tag not covered");
    assert_eq!(b.receive(&forged(ct, resp_nonce ^ 1, i2.path), 0), None, "nonce not covered");
    let other = Path { src: A2, dst: i2.path.dst };
    assert_eq!(b.receive(&forged(ct, resp_nonce, other), 0), None, "locators not covered");
    // Still fine after VALIDATOR_MIN_LIFETIME, stale well after it.
    assert!(b.receive(&i2, consts::VALIDATOR_MIN_LIFETIME).is_some());
    b.ep.table.0.clear();
    assert_eq!(b.receive(&i2, 10 * consts::VALIDATOR_MIN_LIFETIME), None);
    assert!(b.ep.table.0.is_empty());
}

#[test]
fn peer_restart_recovered_with_r1bis_i2bis() {
    let (mut a, mut b) = established();
    let old_tag = b.ctx(&a).ct_local();

    // B reboots: no context, a new secret.
    b = Peer::new(B1, &[B1, B2], 99, 5_000);
    // A's payload (or Update) carries B's old tag: B answers R1bis.
    let from_a = Path { src: A1, dst: B1 };
    let r1bis = b.ep.host.unknown_tag(old_tag, &from_a, 5_000, &mut b.rng, &mut TestMac).unwrap();
    assert_eq!(kind(&r1bis), "R1bis");
    assert!(b.ep.table.0.is_empty(), "R1bis is stateless");
    let i2bis = a.receive(&r1bis, 5_001).expect("I2bis");
    assert_eq!(kind(&i2bis), "I2bis");
    assert_eq!(a.ctx(&b).state(), State::I2bisSent);
    assert!(a.ctx(&b).rewrites(), "I2BIS-SENT keeps rewriting");
    let r2 = b.receive(&i2bis, 5_002).expect("R2");
    a.receive(&r2, 5_003);
    assert_established(&a, &b);
    assert_ne!(b.ctx(&a).ct_local(), old_tag, "the recovering side picks a fresh tag");
}

#[test]
fn peer_restart_then_i1_keeps_old_context_until_i2() {
    let (mut a, mut b) = established();

    // A reboots and starts over: B answers R1 and keeps its context.
    let b_ctx = b.ctx(&a).clone();
    a = Peer::new(A1, &[A1, A2], 7, 1_000);
    let i1 = a.initiate(&b, 1_000);
    let r1 = b.receive(&i1, 1_000).unwrap();
    assert_eq!(kind(&r1), "R1");
    assert_eq!(b.ctx(&a), &b_ctx);
    let i2 = a.receive(&r1, 1_001).unwrap();
    let r2 = b.receive(&i2, 1_002).unwrap();
    a.receive(&r2, 1_003);
    assert_established(&a, &b);
    assert_eq!(b.ep.table.0.len(), 1, "updated in place");
}

#[test]
fn confusion_drops_the_stale_context() {
    // B hands out a tag, forgets it, and hands it out again for another
    // ULID pair of A's (same seed after restart: same tag).
    let (mut a, mut b) = established();
    let t = b.ctx(&a).ct_local();

    b = Peer::new(B1, &[B1, B2], 2, 0);
    // Same B, A's other ULID.
    a.addr = A2;
    let i1 = a.initiate(&b, 10);
    let r1 = b.receive(&i1, 10).unwrap();
    let i2 = a.receive(&r1, 10).unwrap();
    let r2 = b.receive(&i2, 10).unwrap();
    a.receive(&r2, 10);
    assert_eq!(a.ctx(&b).ct_peer(), Some(t), "B reused the tag");
    assert_eq!(a.ep.table.0.len(), 1, "A dropped the context the tag belonged to");
    assert_eq!(a.ep.table.0[0].ulids().local, A2);
}

proptest! {
    /// Whatever is lost, A keeps (re)trying on its own timers while it
    /// may, and whenever both sides are ESTABLISHED they agree on tags.
    #[test]
    fn lossy_network(losses in proptest::collection::vec(any::<bool>(), 0..40), dup in any::<bool>()) {
        let (mut a, mut b) = pair();
        let mut now = 0;
        let mut in_flight: Vec<(bool, Transmit)> = vec![(true, a.initiate(&b, now))];
        let mut loss = losses.into_iter();
        for _ in 0..200 {
            if let Some((to_b, tx)) = in_flight.pop() {
                if loss.next().unwrap_or(false) {
                    continue;
                }
                let (rx, other) = if to_b { (&mut b, true) } else { (&mut a, false) };
                let reply = rx.receive(&tx, now);
                if dup {
                    let _ = rx.receive(&tx, now);
                }
                // The host's one timer, armed at poll_timeout() after the
                // event, misses no deadline the message set.
                if let Some(d) = rx.deadline() {
                    prop_assert!(rx.ep.poll_timeout().is_some_and(|w| w <= d), "deadline {} missed at {}", d, now);
                }
                in_flight.extend(reply.map(|r| (!other, r)));
                continue;
            }
            let Some(at) = a.deadline() else { break };
            now = at;
            in_flight.extend(a.tick(now).into_iter().map(|t| (true, t)));
        }
        if let (Some(ca), Some(cb)) = (a.ep.table.0.first(), b.ep.table.0.first()) {
            if ca.state() == State::Established && cb.state() == State::Established {
                prop_assert_eq!(ca.ct_peer(), Some(cb.ct_local()));
                prop_assert_eq!(cb.ct_peer(), Some(ca.ct_local()));
            }
        }
        prop_assert!(b.ep.table.0.len() <= 1);
        prop_assert!(a.ep.table.0.len() <= 1);
    }
}

#[test]
fn next_event_is_the_deadline_or_garbage_collection() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let i1_at = a.deadline().unwrap();
    assert!(i1_at >= consts::I1_TIMEOUT / 2, "an I1 retransmission sooner than half its nominal timeout");
    assert_eq!(a.ctx(&b).next_event(0), Some(i1_at), "being set up: its retransmission");
    let r1 = b.receive(&i1, 10).unwrap();
    let i2 = a.receive(&r1, 20).unwrap();
    let r2 = b.receive(&i2, 30).unwrap();
    assert!(a.receive(&r2, 40).is_none());
    assert_eq!(a.ctx(&b).next_event(500), Some(500 + consts::IDLE_TIMEOUT), "established: collectable when idle");
    let ctx = a.ep.table.0[0].clone();
    assert!(!ctx.collectable(500, 500 + consts::IDLE_TIMEOUT - 1));
    assert!(ctx.collectable(500, 500 + consts::IDLE_TIMEOUT));
}

fn established() -> (Peer, Peer) {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let r2 = b.receive(&i2, 0).unwrap();
    a.receive(&r2, 0);
    assert_established(&a, &b);
    (a, b)
}

const A3: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xa, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];

#[test]
fn update_request_replaces_the_locator_list() {
    let (mut a, mut b) = established();
    let ur = a.ep.table.0[0].update_locators(Locators::new(&[A1, A3]), 100, &mut a.rng).expect("Update Request");
    assert_eq!(kind(&ur), "UpdateRequest");
    assert!(a.ctx(&b).update_pending());
    let ack = b.receive(&ur, 110).expect("Update Ack");
    assert_eq!(kind(&ack), "UpdateAck");
    assert_eq!(b.ctx(&a).peer_locators().as_slice(), &[A1, A3]);
    assert!(b.ctx(&a).peer_generation().is_some());
    assert_eq!(a.receive(&ack, 120), None);
    assert!(!a.ctx(&b).update_pending());
    assert_eq!(a.deadline(), None);
}

#[test]
fn update_is_retransmitted_until_acknowledged() {
    let (mut a, mut b) = established();
    let first = a.ep.table.0[0].update_locators(Locators::new(&[A1, A3]), 0, &mut a.rng).unwrap();
    let mut now = 0;
    let mut last = first;
    for k in 1..12u32 {
        let at = a.deadline().unwrap();
        let waited = at - now;
        let nominal = (consts::UPDATE_TIMEOUT << (k - 1)).min(consts::MAX_UPDATE_TIMEOUT);
        assert!((nominal / 2..=nominal * 3 / 2).contains(&waited), "wait {waited} for nominal {nominal}");
        now = at;
        let tx = a.tick(now);
        assert_eq!(tx.len(), 1);
        assert_eq!(tx[0], last, "the same request, same nonce, again");
        last = tx[0];
    }
    // An ack with another nonce does not end it; the right one does.
    let Message::UpdateAck { ct, nonce } = b.receive(&last, now).unwrap().msg else { panic!() };
    let bogus = Transmit { path: Path { src: B1, dst: A1 }, msg: Message::UpdateAck { ct, nonce: nonce ^ 1 } };
    a.receive(&bogus, now);
    assert!(a.ctx(&b).update_pending());
    let good = Transmit { path: Path { src: B1, dst: A1 }, msg: Message::UpdateAck { ct, nonce } };
    a.receive(&good, now);
    assert!(!a.ctx(&b).update_pending());
}

#[test]
fn stale_or_unknown_tags_get_r1bis() {
    let (a, mut b) = established();
    let ct = b.ctx(&a).ct_local();
    let locs = Locators::new(&[A1]);
    let ur = |ct, src| Transmit {
        path: Path { src, dst: B1 },
        msg: Message::UpdateRequest { ct, nonce: 7, generation: 1, locators: locs, keepalive: None },
    };
    assert_eq!(kind(&b.receive(&ur(ContextTag::from_masked(ct.get() ^ 1), A1), 0).unwrap()), "R1bis", "unknown tag");
    assert_eq!(kind(&b.receive(&ur(ct, A3), 0).unwrap()), "R1bis", "source not among the peer's locators");
    assert_eq!(kind(&b.receive(&ur(ct, A1), 0).unwrap()), "UpdateAck");
}

#[test]
fn payload_is_untouched_on_the_ulid_pair() {
    let (a, b) = established();
    assert_eq!(a.ctx(&b).payload_out(), None);
    assert_eq!(b.ctx(&a).payload_out(), None);
}

#[test]
fn preferences_move_payload_to_verified_locators_only() {
    let (mut a, b) = established();
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(ca.honour(&Want::PreferPeer(A2), 0, &mut Rng(0)).is_err(), "not a locator of the peer");
    assert!(ca.honour(&Want::PreferLocal(B2), 0, &mut Rng(0)).is_err(), "not one of ours");
    assert_eq!(ca.payload_out(), None, "a refused preference changes nothing");
    assert!(ca.honour(&Want::PreferPeer(B2), 0, &mut Rng(0)).is_ok());
    assert!(ca.honour(&Want::PreferLocal(A2), 0, &mut Rng(0)).is_ok());
    let ct_b = b.ctx(&a).ct_local();
    let (path, ct) = a.ctx(&b).payload_out().expect("rewritten");
    assert_eq!((path.src, path.dst, ct), (A2, B2, ct_b));

    // B takes it back to its ULIDs, from either of A's locators.
    let (ulids, first) = b.ctx(&a).payload_in(&path).expect("accepted");
    assert_eq!((ulids.local, ulids.peer, first), (B1, A1, None));
    assert!(b.ctx(&a).payload_in(&Path { src: A1, dst: B1 }).is_some());
    // A source outside A's list, or a destination outside B's, is dropped.
    assert!(b.ctx(&a).payload_in(&Path { src: A3, dst: B2 }).is_none());
    assert!(b.ctx(&a).payload_in(&Path { src: A2, dst: A1 }).is_none());

    // Back to the ULIDs: untouched again.
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(ca.honour(&Want::PreferPeer(B1), 0, &mut Rng(0)).is_ok() && ca.honour(&Want::PreferLocal(A1), 0, &mut Rng(0)).is_ok());
    assert_eq!(ca.payload_out(), None);
}

/// B never moved, A did: B's route lets A's pair through without the
/// table (no lock in the kernel) once B accepted a packet on it, and only
/// while that pair's locators stay in the context.
#[test]
fn the_pair_last_heard_needs_no_table() {
    let (mut a, mut b) = established();
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(ca.honour(&Want::PreferPeer(B2), 0, &mut Rng(0)).is_ok() && ca.honour(&Want::PreferLocal(A2), 0, &mut Rng(0)).is_ok());
    let (path, _) = a.ctx(&b).payload_out().expect("rewritten");
    assert_eq!(b.ctx(&a).route().restore(&path), None, "not heard yet: the table decides");

    let ulids = b.ctx(&a).ulids();
    let cb = b.ep.table.0.iter_mut().find(|c| c.ulids() == ulids).unwrap();
    assert!(cb.payload_in(&path).is_some());
    cb.heard_on(&path);
    assert_eq!(cb.route().restore(&path), Some(ulids));
    // Only that pair, and only as seen from B.
    assert_eq!(cb.route().restore(&Path { src: A2, dst: B1 }), None);
    assert_eq!(cb.route().restore(&path.reversed()), None);

    // A's locator A2 leaves B's context: its pair leaves the route.
    let mut keep = Locators::default();
    keep.push(A1);
    assert!(cb.honour(&Want::RestrictPeer(keep, Preferences::default()), 0, &mut Rng(0)).is_ok());
    assert_eq!(cb.route().heard, None);
    assert_eq!(cb.route().restore(&path), None);
}

#[test]
fn payload_before_r2_sends_i2_then_is_delivered() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let _lost_r2 = b.receive(&i2, 0).unwrap();
    // B is established and sends payload; A, still in I2-SENT, resends its
    // I2 and delivers the payload.
    let ca = a.ctx(&b);
    assert_eq!(ca.state(), State::I2Sent);
    assert_eq!(ca.payload_out(), None, "no peer tag yet");
    let (ulids, first) = ca.payload_in(&Path { src: B1, dst: A1 }).expect("accepted");
    assert_eq!(ulids, a.ulids(&b));
    assert_eq!(first.as_ref().map(kind), Some("I2"));
    // In I1-SENT nothing can be ours yet.
    let (mut c, d) = pair();
    c.initiate(&d, 0);
    assert!(c.ctx(&d).payload_in(&Path { src: B1, dst: A1 }).is_none());
}

#[test]
fn locator_lists_are_restricted_to_known_locators() {
    let (mut a, mut b) = established();
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(ca.honour(&Want::PreferPeer(B2), 0, &mut Rng(0)).is_ok());
    assert!(ca.honour(&Want::RestrictPeer(Locators::new(&[B1, A2]), Preferences::default()), 0, &mut Rng(0)).is_err(), "A2 is not B's");
    assert!(ca.honour(&Want::RestrictPeer(Locators::default(), Preferences::default()), 0, &mut Rng(0)).is_err(), "an empty list");
    assert_eq!(ca.peer_locators().as_slice().len(), 2, "a refused list changes nothing");
    assert!(ca.honour(&Want::RestrictPeer(Locators::new(&[B1]), Preferences::default()), 0, &mut Rng(0)).is_ok());
    assert_eq!(ca.peer_locators().as_slice(), &[B1]);
    assert_eq!(ca.path().dst, B1, "the destination left the list");

    assert_eq!(ca.restrict_local(&Locators::new(&[B1]), Preferences::default(), 0, &mut a.rng), Err(NotOurs));
    let ur = ca.restrict_local(&Locators::new(&[A2]), Preferences::default(), 0, &mut a.rng).unwrap().expect("Update Request");
    assert_eq!(ca.path().src, A2, "the source left the list");
    let ack = b.receive(&ur, 10).expect("acknowledged");
    assert_eq!(kind(&ack), "UpdateAck");
    assert!(b.ctx(&a).peer_locators().contains(&A2));
}

#[test]
fn a_route_applies_per_packet_choices_and_restores_only_what_it_knows() {
    let (mut a, b) = established();
    let ct_b = b.ctx(&a).ct_local();
    let ulids = a.ulids(&b);
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    let r = ca.route();
    assert_eq!(r.out(None, None), None, "the ULID pair goes untouched");
    assert_eq!(r.out(Some(A2), None), Some((Path { src: A2, dst: B1 }, ct_b)));
    assert_eq!(r.out(None, Some(B2)), Some((Path { src: A1, dst: B2 }, ct_b)));
    assert_eq!(r.out(Some(A1), Some(B1)), None);
    assert!(ca.honour(&Want::PreferPeer(B2), 0, &mut Rng(0)).is_ok());
    let r = ca.route();
    assert_eq!(r.out(None, Some(B1)), None, "a datagram's own choice wins over the context's");
    assert_eq!(r.restore(&Path { src: B2, dst: A1 }), Some(ulids));
    assert_eq!(r.restore(&Path { src: B1, dst: A1 }), Some(ulids));
    assert_eq!(r.restore(&Path { src: B2, dst: A2 }), None, "checked under the lock instead");
    // Before ESTABLISHED nothing is rewritten or restored from a snapshot.
    let (mut c, d) = pair();
    c.initiate(&d, 0);
    let r = c.ctx(&d).route();
    assert_eq!((r.out(Some(A2), None), r.restore(&Path { src: B1, dst: A1 })), (None, None));
}

#[test]
fn idle_established_contexts_are_collectable() {
    let (mut a, b) = established();
    let idle = consts::IDLE_TIMEOUT;
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(!ca.collectable(1_000, 1_000 + idle - 1));
    assert!(ca.collectable(1_000, 1_000 + idle));
    // An update waiting for its acknowledgement keeps it.
    ca.update_locators(Locators::new(&[A1, A3]), 0, &mut a.rng).unwrap();
    assert!(!a.ctx(&b).collectable(0, 10 * idle));
    // Being set up: its own timers decide.
    let (mut c, d) = pair();
    c.initiate(&d, 0);
    assert!(!c.ctx(&d).collectable(0, 10 * idle));
}

/// The endpoint's one timer: exactly at a retransmission, never polling
/// meanwhile; at a hold-down's end; collection when idle, late by at most
/// GC_SLACK, and not while the context is in use.
#[test]
fn poll_timeout_is_the_next_deadline_and_nothing_sooner() {
    let (mut a, mut b) = pair();
    assert_eq!(a.ep.poll_timeout(), None, "no context, no timer");
    let i1 = a.initiate(&b, 0);
    let i1_at = a.deadline().unwrap();
    assert_eq!(a.ep.poll_timeout(), Some(i1_at));
    // Nothing due before it: the timer is not re-armed any sooner.
    assert!(a.tick(i1_at - 1).is_empty());
    assert_eq!(a.ep.poll_timeout(), Some(i1_at));

    let r1 = b.receive(&i1, 10).unwrap();
    let i2 = a.receive(&r1, 20).unwrap();
    let i2_at = a.deadline().unwrap();
    assert!(a.ep.poll_timeout().is_some_and(|w| w <= i2_at), "the I2's retransmission is known at once");
    let r2 = b.receive(&i2, 30).unwrap();
    assert!(a.receive(&r2, 40).is_none());
    assert_eq!(a.deadline(), None);

    // Established and idle: the next wake is its collection, rounded up.
    a.tick(i2_at);
    let gc = a.ep.poll_timeout().expect("collection");
    assert!((consts::IDLE_TIMEOUT..consts::IDLE_TIMEOUT + GC_SLACK).contains(&gc), "{gc}");
    assert_eq!(gc % GC_SLACK, 0);
    // Used meanwhile: kept, and the wake moves with its last use.
    a.ep.table.1 = reap::Traffic::used_at(300_000);
    a.tick(gc);
    assert_eq!(a.ep.table.0.len(), 1);
    let gc = a.ep.poll_timeout().expect("collection");
    assert_eq!(gc, 300_000 + consts::IDLE_TIMEOUT);
    a.tick(gc);
    assert!(a.ep.table.0.is_empty(), "collected");
    assert_eq!(a.ep.poll_timeout(), None);
}

/// A context held down after a Parameter Problem wakes the host once,
/// when the hold-down ends, however long that is.
#[test]
fn a_held_down_context_wakes_the_host_once() {
    let (mut a, b) = pair();
    let i1 = a.initiate(&b, 0);
    let Message::I1 { nonce, .. } = i1.msg else { panic!("{i1:?}") };
    let ulids = a.ulids(&b);
    let path = Path { src: ulids.local, dst: ulids.peer };
    assert!(!a.ep.no_support(&path.reversed(), nonce, 100), "not the path the I1 went on");
    assert!(!a.ep.no_support(&path, nonce ^ 1, 100), "not its nonce");
    assert!(a.ep.no_support(&path, nonce, 100));
    // The I1's retransmission is forgotten at the next timeout.
    let held = a.ep.poll_timeout().unwrap();
    assert!(a.tick(held).is_empty());
    assert_eq!(a.ep.poll_timeout(), Some(100 + consts::ICMP_HOLDDOWN_TIME));
    a.tick(100 + consts::ICMP_HOLDDOWN_TIME);
    assert!(a.ep.table.0.is_empty());
    assert_eq!(a.ep.poll_timeout(), None);
}

#[test]
fn connect_once_per_ulid_pair_within_the_rate_limit() {
    let (mut a, b) = pair();
    let ulids = a.ulids(&b);
    assert!(matches!(a.ep.connect(ulids, 0, &mut a.rng), Connect::Started(_)));
    assert_eq!(a.ep.connect(ulids, 0, &mut a.rng), Connect::Exists);
    let mut refused = 0;
    for i in 1..200u8 {
        let peer = UlidPair { local: A1, peer: [0x20, 0x01, 0x0d, 0xb8, 0xc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i] };
        refused += usize::from(a.ep.connect(peer, 0, &mut a.rng) == Connect::Refused(Refusal::RateLimited));
    }
    assert!(refused > 0, "a burst of new contexts meets the rate limit");
}

/// New locators reach every context whose list they change, once.
#[test]
fn set_locators_updates_each_context_once() {
    let (mut a, mut b) = established();
    let mut sent = Vec::new();
    let same = a.ep.host.locators;
    assert!(!a.ep.set_locators(same, 100, &mut a.rng, |tx| sent.push(tx)));
    assert!(sent.is_empty(), "nothing changed, nothing sent");
    a.ep.set_locators(Locators::new(&[A1, A3]), 100, &mut a.rng, |tx| sent.push(tx));
    assert_eq!(sent.iter().map(kind).collect::<Vec<_>>(), ["UpdateRequest"]);
    assert!(a.ep.poll_timeout().is_some_and(|w| w <= a.deadline().unwrap()), "its retransmission is due");
    let ack = b.receive(&sent[0], 110).expect("acknowledged");
    assert!(a.receive(&ack, 120).is_none());
    assert!(b.ctx(&a).peer_locators().contains(&A3));
}

/// Payload the packet path could not place: delivered and remembered on a
/// verified pair, dropped on another, an R1bis for an unknown tag.
#[test]
fn payload_in_delivers_drops_or_answers() {
    let (mut a, mut b) = established();
    let ulids = b.ctx(&a).ulids();
    let ct = b.ctx(&a).ct_local();
    let moved = Path { src: A2, dst: B1 };
    let (ep, rng) = (&mut b.ep, &mut b.rng);
    assert_eq!(ep.payload_in(ct, &moved, 5, rng, &mut TestMac), PayloadIn::Deliver(ulids, None));
    assert_eq!(b.ctx(&a).route().restore(&moved), Some(ulids), "the packet path knows the pair now");
    let stranger = Path { src: [0x20, 0x01, 0x0d, 0xb8, 0xe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], dst: B1 };
    assert_eq!(b.ep.payload_in(ct, &stranger, 5, &mut b.rng, &mut TestMac), PayloadIn::Unmatched);
    let unknown = ContextTag::from_masked(ct.get() ^ 1);
    let PayloadIn::UnknownTag(Ok(r1bis)) = b.ep.payload_in(unknown, &moved, 5, &mut b.rng, &mut TestMac) else {
        panic!("no R1bis")
    };
    assert_eq!(kind(&r1bis), "R1bis");
    assert_eq!(r1bis.path, moved.reversed());
    let _ = &mut a;
}

/// An Update Request outstanding when the peer turns out to have lost the
/// context waits for the I2bis exchange: its deadline passing meanwhile
/// must not make the timer fire again and again for nothing.
#[test]
fn an_update_held_by_i2bis_does_not_spin_the_timer() {
    let (mut a, mut b) = established();
    let old_tag = b.ctx(&a).ct_local();
    let mut sent = Vec::new();
    a.ep.set_locators(Locators::new(&[A1, A3]), 100, &mut a.rng, |tx| sent.push(tx));
    assert_eq!(sent.len(), 1, "Update Request");
    b = Peer::new(B1, &[B1, B2], 99, 200);
    let from_a = Path { src: A1, dst: B1 };
    let r1bis = b.ep.host.unknown_tag(old_tag, &from_a, 200, &mut b.rng, &mut TestMac).unwrap();
    assert_eq!(kind(&a.receive(&r1bis, 200).expect("I2bis")), "I2bis");
    let mut now = 200;
    for _ in 0..8 {
        let at = a.ep.poll_timeout().expect("the I2bis retransmission");
        assert!(at > now || at == now && now == 200, "due at {at}, now {now}: the timer would spin");
        now = at.max(now + 1);
        a.tick(now);
        if a.ctx(&b).state() != State::I2bisSent {
            break;
        }
    }
}

/// The packet path's decisions for outgoing packets, case by case.
#[test]
fn classify_outgoing_packets() {
    let (mut a, b) = established();
    let ulids = a.ctx(&b).ulids();
    let pkt = Outgoing { src: ulids.local, dst: ulids.peer, next_header: 6, may_initiate: true, ..Outgoing::default() };
    let never = || -> Chosen { panic!("locators asked for a packet without a context") };
    let no_check = |_: &Path| -> bool { panic!("no locator chosen, nothing to verify") };
    let sticky = |src, dst| move || Chosen { src, dst, datagram: false };

    assert!(pkt.shimmable());
    let link_local = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    for not in [
        Outgoing { next_header: 140, ..pkt },
        Outgoing { src: link_local, ..pkt },
        Outgoing { dst: pkt.src, ..pkt },
        Outgoing { dont_shim: true, ..pkt },
    ] {
        assert!(!not.shimmable(), "{not:?}");
    }

    // No context: upper-layer traffic of a socket that may start one does.
    assert_eq!(pkt.classify(None, never, no_check), Out::Initiate { hold: false });
    assert_eq!(Outgoing { setup_first: true, ..pkt }.classify(None, never, no_check), Out::Initiate { hold: true });
    assert_eq!(Outgoing { next_header: 58, setup_first: true, ..pkt }.classify(None, never, no_check), Out::Pass);
    assert_eq!(Outgoing { may_initiate: false, ..pkt }.classify(None, never, no_check), Out::Pass);
    // A datagram that chose locators (an unconnected socket's, checked
    // only now) has no context to choose them from.
    assert_eq!(Outgoing { chose_locators: true, ..pkt }.classify(None, never, no_check), Out::InvalidLocator);
    assert_eq!(Outgoing { dst: link_local, chose_locators: true, ..pkt }.unshimmed(), Out::InvalidLocator);
    assert_eq!(Outgoing { dst: link_local, ..pkt }.unshimmed(), Out::Pass);

    // Established on the ULIDs: untouched, unless the packet picks locators.
    let route = a.ctx(&b).route();
    assert_eq!(pkt.classify(Some(&route), sticky(None, None), no_check), Out::Pass);
    let ct = b.ctx(&a).ct_local();
    let picked = Path { src: A2, dst: B2 };
    assert_eq!(pkt.classify(Some(&route), sticky(Some(A2), Some(B2)), |_| true), Out::Rewrite(picked, ct));
    // Moved: rewritten, the packet's own choice first.
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    assert!(ca.honour(&Want::PreferPeer(B2), 0, &mut Rng(0)).is_ok());
    let route = a.ctx(&b).route();
    assert_eq!(pkt.classify(Some(&route), sticky(None, None), no_check), Out::Rewrite(Path { src: A1, dst: B2 }, ct));
    assert_eq!(pkt.classify(Some(&route), sticky(Some(A2), None), |_| true), Out::Rewrite(picked, ct));
    assert_eq!(pkt.classify(Some(&route), sticky(None, Some(B1)), |_| true), Out::Pass, "back on the ULIDs");
    // A choice that is not the context's (now): a socket's sticky one is
    // ignored, a datagram's own refused.
    let verified = |p: &Path| a.ctx(&b).may_send_on(p);
    assert_eq!(pkt.classify(Some(&route), sticky(Some(A3), None), verified), Out::Rewrite(Path { src: A1, dst: B2 }, ct));
    let datagram = |src, dst| move || Chosen { src, dst, datagram: true };
    assert_eq!(pkt.classify(Some(&route), datagram(None, Some(A2)), verified), Out::InvalidLocator);
    assert_eq!(pkt.classify(Some(&route), datagram(Some(A2), Some(B1)), verified), Out::Rewrite(Path { src: A2, dst: B1 }, ct));
    assert_eq!(pkt.classify(Some(&route), datagram(Some(A1), Some(B1)), verified), Out::Pass, "the ULIDs are always the context's");

    // Being set up: held only for a socket that asked, never ICMPv6.
    let (mut c, d) = pair();
    c.initiate(&d, 0);
    let setting_up = c.ctx(&d).route();
    let first = Outgoing { setup_first: true, ..pkt };
    assert_eq!(first.classify(Some(&setting_up), sticky(None, None), no_check), Out::Hold);
    assert_eq!(pkt.classify(Some(&setting_up), sticky(None, None), no_check), Out::Pass);
    assert_eq!(Outgoing { next_header: 58, ..first }.classify(Some(&setting_up), sticky(None, None), no_check), Out::Pass);

    // Incoming: the route vouches for the ULIDs and the pairs it knows.
    let rb = b.ctx(&a).route();
    assert_eq!(classify_in(Some(&rb), &Path { src: A1, dst: B1 }), Some(UlidPair { local: ulids.peer, peer: ulids.local }));
    assert_eq!(classify_in(Some(&rb), &Path { src: A2, dst: B1 }), None, "the endpoint decides");
    assert_eq!(classify_in(None, &Path { src: A1, dst: B1 }), None);
}

/// R1 and R2 answer a context only while it waits for them: a late or
/// replayed one finds none, and changes nothing.
#[test]
fn answers_find_only_a_waiting_context() {
    let (mut a, mut b) = pair();
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let r2 = b.receive(&i2, 0).unwrap();
    assert!(a.receive(&r2, 0).is_none());
    assert_established(&a, &b);
    let before = a.ctx(&b).clone();
    for late in [&r1, &r2] {
        let rx = Received { path: late.path, msg: late.msg };
        let out = a.ep.receive(&rx, 10, &mut a.rng, &mut TestMac);
        assert_eq!(out.refused, Some(Refusal::NoContext), "{}", kind(late));
        assert!(!out.changed);
    }
    assert_eq!(a.ctx(&b).route(), before.route());
    assert_eq!(a.ctx(&b).route().init_nonce, None, "not in the nonce index once established");
}

/// REAP through the endpoint: A sends and hears nothing back for Send
/// Timeout, explores with Probes one pair at a time; the first that gets
/// through makes B answer, and both move to pairs that work.
#[test]
fn reap_probes_move_both_ends_off_a_dead_pair() {
    use reap::{ReapState, Traffic};
    let (mut a, mut b) = established();
    let dead = a.ctx(&b).path();
    // A sent at 1 s and heard nothing since.
    a.ep.table.1 = Traffic { last_sent: 1_000, last_received: 0, unanswered_since: Some(1_000), owed_since: None };
    let due = a.ep.poll_timeout().expect("the Send Timer");
    assert!(due <= 1_000 + reap::reap_consts::SEND_TIMEOUT, "{due}");
    let mut now = 1_000 + reap::reap_consts::SEND_TIMEOUT;
    let mut probes = a.tick(now);
    assert_eq!(probes.iter().map(kind).collect::<Vec<_>>(), ["Probe"]);
    assert_eq!(probes[0].path, Path { src: A2, dst: B2 }, "the pair that shares no locator with the dead one first");
    assert_eq!(a.ctx(&b).reap_state(), ReapState::Exploring);
    // That probe is lost too; the next goes on another pair.
    now = a.ep.poll_timeout().expect("the next probe");
    probes = a.tick(now);
    let through = probes.pop().expect("a probe");
    assert_ne!(through.path, dead);
    assert_ne!(through.path, Path { src: A2, dst: B2 });
    let answer = b.receive_all(&through, now + 5);
    assert_eq!(answer.iter().map(kind).collect::<Vec<_>>(), ["Probe"]);
    assert_eq!(answer[0].path, through.path.reversed(), "answered on the pair that reached B");
    assert_eq!(b.ctx(&a).reap_state(), ReapState::InboundOk);
    let confirm = a.receive_all(&answer[0], now + 10);
    assert_eq!(a.ctx(&b).path(), through.path, "A moved to the pair B saw");
    assert_eq!(a.ctx(&b).reap_state(), ReapState::Operational);
    assert_eq!(confirm.iter().map(kind).collect::<Vec<_>>(), ["Probe"]);
    b.receive_all(&confirm[0], now + 15);
    assert_eq!(b.ctx(&a).reap_state(), ReapState::Operational);
    assert_eq!(b.ctx(&a).path(), through.path.reversed(), "B moved to the pair A saw");
    assert_eq!(a.ctx(&b).payload_out().map(|(p, _)| p), Some(through.path), "payload follows");
}

/// Keepalive and Probe go through the codec and back unchanged.
#[test]
fn reap_messages_survive_the_wire() {
    use shim6_core::proto::codec;
    let (a, b) = established();
    let ct = b.ctx(&a).ct_local();
    let path = a.ctx(&b).path();
    let mut sent = reap::ProbeSet::default();
    sent.push(reap::ProbeReport { source: path.src, destination: path.dst, nonce: 7, data: 0 });
    let mut received = reap::ProbeSet::default();
    received.push(reap::ProbeReport { source: path.dst, destination: path.src, nonce: 9, data: 3 });
    for msg in [
        Message::Keepalive { ct },
        Message::Probe { ct, state: reap::ReapState::InboundOk, sent, received },
    ] {
        let tx = Transmit { path, msg };
        let mut buf = [0u8; 1280];
        let n = codec::emit(&tx, &codec::Local { pds: None, verified: &Locators::default() }, &mut buf).expect("emitted");
        let mut sha = shim6_core::rustcrypto::RustCrypto;
        match codec::parse(&buf[..n], path, &mut sha, |_| true) {
            Ok(codec::Inbound::Context(rx)) => assert_eq!(rx.msg, msg),
            other => panic!("{other:?}"),
        }
    }
}

/// A flow that reported the peer unreachable (TCP's retransmission timer)
/// is named once its context moves, so that it resends at once; a flow of
/// no context is not kept, and one whose context never moves is forgotten.
#[test]
fn a_stalled_flow_is_told_when_its_context_moves() {
    use reap::ReapState;
    let (mut a, mut b) = established();
    let ulids = a.ulids(&b);
    let flow = Flow { local_port: 40_000, peer_port: 80 };
    let moved = |a: &mut Peer, now| {
        let mut v = Vec::new();
        a.ep.moved_flows(now, |u, f| v.push((*u, f)));
        v
    };
    let stranger = UlidPair { local: A1, peer: A3 };
    assert_eq!(a.ep.unreachable(&stranger, 0, flow, 500, 0, 500, &mut a.rng), (None, false));
    let (probe, changed) = a.ep.unreachable(&ulids, 0, flow, 800, 0, 1_000, &mut a.rng);
    let probe = probe.expect("a probe at once");
    assert!(changed, "exploring: the packet path hands payload to REAP");
    assert_eq!(a.ctx(&b).reap_state(), ReapState::Exploring);
    assert_eq!(moved(&mut a, 1_000), [], "not moved yet");
    // The whole exchange within one tick of the host's clock.
    let answer = b.receive_all(&probe, 1_000);
    let confirm = a.receive_all(&answer[0], 1_000);
    assert_eq!(a.ctx(&b).path(), probe.path);
    assert_eq!(moved(&mut a, 1_010), [(ulids, flow)], "a move in the tick of the stall counts");
    assert_eq!(moved(&mut a, 1_020), [], "named once");
    b.receive_all(&confirm[0], 1_015);
    // A timeout of what was sent before the move: no exploration, and
    // nothing to tell the flow later (it is resending now).
    assert_eq!(a.ep.unreachable(&ulids, 0, flow, 900, 0, 1_030, &mut a.rng), (None, false));
    assert_eq!(moved(&mut a, 1_040), []);
    // Stalled again on the new pair, which keeps working: forgotten after
    // STALL_MEMORY, and a later move does not name it.
    let (again, _) = a.ep.unreachable(&ulids, 0, flow, 2_000, 0, 2_000, &mut a.rng);
    assert!(again.is_some());
    assert_eq!(moved(&mut a, 2_000 + STALL_MEMORY - 1), []);
    assert_eq!(moved(&mut a, 2_000 + STALL_MEMORY), []);
    a.ep.on_established(&ulids, 0, 2_000 + STALL_MEMORY, |c| c.honour(&Want::PreferPeer(B1), 0, &mut Rng(0)).is_ok());
    assert_eq!(moved(&mut a, 2_000 + STALL_MEMORY + 1), []);
}

/// The endpoint keeps at most MAX_STALLED flows; the newest replace the
/// oldest.
#[test]
fn stalled_flows_are_bounded() {
    let (mut a, mut b) = established();
    let ulids = a.ulids(&b);
    let mut probe = None;
    for port in 0..(MAX_STALLED as u16 + 4) {
        let at = 1_000 + Millis::from(port);
        let (tx, _) = a.ep.unreachable(&ulids, 0, Flow { local_port: port, peer_port: 80 }, at, 0, at, &mut a.rng);
        probe = probe.or(tx);
    }
    let probe = probe.expect("the first stall explores");
    let answer = b.receive_all(&probe, 1_100);
    a.receive_all(&answer[0], 1_110);
    let mut named = Vec::new();
    a.ep.moved_flows(1_110, |_, f| named.push(f.local_port));
    named.sort();
    assert_eq!(named, (4..MAX_STALLED as u16 + 4).collect::<Vec<_>>());
}

/// A Send Timeout other than the default (SHIM_PATHEXPLORE) is announced
/// in an Update Request, which the peer adopts as its Keepalive Timeout;
/// back to the default, the next one carries none and the peer follows.
#[test]
fn a_new_send_timeout_is_announced_to_the_peer() {
    use reap::{reap_consts::SEND_TIMEOUT, ReapConfig};
    use shim6_core::proto::codec;
    let (mut a, mut b) = established();
    let ulids = a.ulids(&b);
    let fast = ReapConfig { send_timeout: 2_000, ..ReapConfig::default() };
    let set = |a: &mut Peer, cfg: ReapConfig, now| {
        let Peer { ep, rng, .. } = a;
        ep.on_established(&ulids, 0, now, |c| c.set_reap_config(cfg, now, rng)).expect("established").0
    };
    let ur = set(&mut a, fast, 100).expect("an Update Request");
    let Message::UpdateRequest { keepalive, .. } = ur.msg else { panic!("{ur:?}") };
    assert_eq!(keepalive, Some(2));
    // Through the wire and back.
    let mut buf = [0u8; 1280];
    let n = codec::emit(&ur, &codec::Local { pds: None, verified: &Locators::default() }, &mut buf).expect("emitted");
    match codec::parse(&buf[..n], ur.path, &mut shim6_core::rustcrypto::RustCrypto, |_| true) {
        Ok(codec::Inbound::Context(rx)) => assert!(matches!(rx.msg, Message::UpdateRequest { keepalive: Some(2), .. })),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.ctx(&a).peer_send_timeout(), SEND_TIMEOUT);
    let ack = b.receive(&ur, 110).expect("acknowledged");
    assert_eq!(b.ctx(&a).peer_send_timeout(), 2_000);
    // The packet path arms the host's timer by these spans.
    assert_eq!(a.ctx(&b).route().reap_timers, (2_000, 5_000));
    assert_eq!(b.ctx(&a).route().reap_timers, (SEND_TIMEOUT as u32, 666));
    a.receive(&ack, 120);
    assert!(!a.ctx(&b).update_pending());
    // The application timeout alone announces nothing.
    assert_eq!(set(&mut a, ReapConfig { app_timeout: 9_000, ..fast }, 200), None);
    let ur = set(&mut a, ReapConfig::default(), 300).expect("an Update Request");
    assert!(matches!(ur.msg, Message::UpdateRequest { keepalive: None, .. }));
    b.receive(&ur, 310);
    assert_eq!(b.ctx(&a).peer_send_timeout(), SEND_TIMEOUT);
}

/// SHIM_FEEDBACK: unable to connect explores at once; satisfactory stops
/// the Send Timer as payload from the peer would.
#[test]
fn application_feedback_drives_reap() {
    use reap::{ReapState, Traffic};
    let (mut a, b) = established();
    let ulids = a.ulids(&b);
    let fb = |a: &mut Peer, reachable, now| {
        let Peer { ep, rng, .. } = a;
        ep.on_established(&ulids, 0, now, |c| c.reap_feedback(reachable, now, rng)).expect("established").0
    };
    a.ep.table.1 = Traffic { last_sent: 1_000, last_received: 0, unanswered_since: Some(1_000), owed_since: None };
    assert_eq!(fb(&mut a, true, 2_000), None);
    assert!(a.tick(1_000 + reap::reap_consts::SEND_TIMEOUT).is_empty(), "the peer was heard at 2 s: no failure");
    let probe = fb(&mut a, false, 3_000).expect("a probe at once");
    assert_eq!(kind(&probe), "Probe");
    assert_eq!(a.ctx(&b).reap_state(), ReapState::Exploring);
}

fn events(p: &mut Peer) -> (Vec<Change>, u32) {
    let mut out = Vec::new();
    let lost = p.ep.drain_events(|e| out.push(e.change));
    (out, lost)
}

/// What `shimctl monitor` hears: the setup states, then REAP's failure
/// and exploration (probes with their pair and count, the state changes,
/// the move), and the application's feedback; a drain empties the queue;
/// what overflows it is counted.
#[test]
fn events_tell_the_monitor_what_each_context_did() {
    use reap::{ReapState, Traffic};
    let (mut a, mut b) = established();
    assert_eq!(events(&mut a), (vec![Change::State(State::I1Sent), Change::State(State::I2Sent), Change::State(State::Established)], 0));
    assert_eq!(events(&mut b), (vec![Change::State(State::Established)], 0));
    assert_eq!(events(&mut a), (vec![], 0));

    let dead = a.ctx(&b).path();
    a.ep.table.1 = Traffic { last_sent: 1_000, last_received: 0, unanswered_since: Some(1_000), owed_since: None };
    let mut now = 1_000 + reap::reap_consts::SEND_TIMEOUT;
    let first = a.tick(now).pop().expect("a probe");
    now = a.ep.poll_timeout().expect("the next probe");
    let through = a.tick(now).pop().expect("a probe");
    assert_eq!(
        events(&mut a).0,
        [
            Change::Reap(ReapState::Exploring),
            Change::ProbeSent { path: first.path, state: ReapState::Exploring, count: 1 },
            Change::ProbeSent { path: through.path, state: ReapState::Exploring, count: 1 },
        ]
    );
    let answer = b.receive_all(&through, now + 5);
    assert_eq!(
        events(&mut b).0,
        [
            Change::ProbeHeard { path: through.path, state: ReapState::Exploring, count: 1 },
            Change::Reap(ReapState::InboundOk),
            Change::ProbeSent { path: through.path.reversed(), state: ReapState::InboundOk, count: 1 },
        ]
    );
    a.receive_all(&answer[0], now + 10);
    assert_eq!(
        events(&mut a).0,
        [
            Change::ProbeHeard { path: answer[0].path, state: ReapState::InboundOk, count: 1 },
            Change::Reap(ReapState::Operational),
            Change::Moved { from: dead, to: through.path },
            Change::ProbeSent { path: through.path, state: ReapState::Operational, count: 1 },
        ]
    );

    let ulids = a.ulids(&b);
    let Peer { ep, rng, .. } = &mut a;
    for reachable in [true, true, false] {
        ep.on_established(&ulids, 0, now + 20, |c| c.reap_feedback(reachable, now + 20, rng));
    }
    let (changes, lost) = events(&mut a);
    let fb = |reachable| Change::Feedback { reachable, count: 1 };
    assert_eq!(changes.get(..4), Some(&[fb(true), fb(true), fb(false), Change::Reap(ReapState::Exploring)][..]), "{changes:?}");
    assert_eq!(lost, 0);

    // More changes than the queue holds between two drains: counted.
    let sides = if a.ctx(&b).path().src == A1 { [A2, A1] } else { [A1, A2] };
    for i in 0..MAX_EVENTS + 4 {
        let side = sides[i % 2];
        let Peer { ep, .. } = &mut a;
        ep.on_established(&ulids, 0, now + 30, |c| c.honour(&Want::PreferLocal(side), 0, &mut Rng(0)).is_ok());
    }
    let (changes, lost) = events(&mut a);
    assert_eq!((changes.len(), lost), (MAX_EVENTS, 4));
    assert!(changes.iter().all(|c| matches!(c, Change::Moved { .. })), "{changes:?}");
}

/// A ULID outside the host's HBA set (an address the set does not
/// verify) has no other locator: its context offers the peer only the
/// ULID, which the peer can check, not the set's locators, which the
/// set's PDS does not bind to that ULID (the peer would refuse them all
/// and never finish the setup).
#[test]
fn a_ulid_outside_the_hba_set_has_no_other_locator() {
    const B3: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xb, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut a = Peer::new(A1, &[A1, A2], 1, 0);
    let mut b = Peer::new(B3, &[B1, B2], 2, 0);
    let i1 = a.initiate(&b, 0);
    let r1 = b.receive(&i1, 0).unwrap();
    let i2 = a.receive(&r1, 0).unwrap();
    let r2 = b.receive(&i2, 0).unwrap();
    a.receive(&r2, 0);
    assert_eq!(a.ctx(&b).state(), State::Established);
    assert_eq!(b.ctx(&a).local_locators().as_slice(), [B3]);
    assert_eq!(a.ctx(&b).peer_locators().as_slice(), [B3]);
    assert_eq!(a.ctx(&b).local_locators().as_slice(), [A1, A2], "A1 is in A's set");
}

/// Preferences an application gave a list follow its locators when the
/// list changes for another reason (a locator leaves, the peer updates):
/// the same address keeps its preference, a new one has none.
#[test]
fn locator_preferences_follow_their_locators() {
    let (mut a, _b) = established();
    let ca = a.ep.table.0.iter_mut().next().unwrap();
    let ur = ca.restrict_local(&Locators::new(&[A2, A1]), Preferences::new(&[9, 1]), 0, &mut a.rng);
    assert!(matches!(ur, Ok(Some(_))));
    assert_eq!((ca.local_preferences().get(0), ca.local_preferences().get(1)), (Rank::draft(9), Rank::draft(1)));
    ca.update_locators(Locators::new(&[A1, A3]), 10, &mut a.rng);
    assert_eq!((ca.local_preferences().get(0), ca.local_preferences().get(1)), (Rank::draft(1), Rank::default()), "A1 keeps 1, A3 has none");
    assert!(ca.honour(&Want::RestrictPeer(Locators::new(&[B2, B1]), Preferences::new(&[5, 4])), 0, &mut Rng(0)).is_ok());
    assert_eq!(ca.peer_preferences().get(0), Rank::draft(5));
}

// Context forking (draft API §9.1).

/// Sockets of A's, as the endpoint names them.
const S1: Owner = 101;
const S2: Owner = 102;

impl Peer {
    fn steer(&mut self, peer: &Peer, fii: u32, owner: Owner, want: Want, now: Millis) -> Result<Steered, SteerError> {
        let u = self.ulids(peer);
        self.ep.steer(&u, fii, owner, &want, now, &mut self.rng)
    }

    fn ctx_of(&self, peer: &Peer, fii: u32) -> Option<&Context> {
        let u = self.ulids(peer);
        self.ep.table.0.iter().find(|c| c.ulids() == u && c.fii() == fii)
    }
}

/// A forks with `i1`, B answers: A's fork established; what A sent last.
fn set_up_fork(a: &mut Peer, b: &mut Peer, i1: &Transmit, now: Millis) -> Option<Transmit> {
    let r1 = b.receive(i1, now).expect("R1");
    let i2 = a.receive(&r1, now).expect("I2");
    let r2 = b.receive(&i2, now).expect("R2");
    a.receive(&r2, now)
}

#[test]
fn a_conflicting_preference_forks_a_context_of_the_sockets_own() {
    let (mut a, mut b) = established();
    assert_eq!(a.steer(&b, 0, S1, Want::PreferPeer(B2), 10), Ok(Steered::Applied(None)));
    assert_eq!(a.ctx(&b).holder(Class::Peer), S1);
    // The same again from another socket: nothing to fork for.
    assert_eq!(a.steer(&b, 0, S2, Want::PreferPeer(B2), 20), Ok(Steered::Applied(None)));
    assert_eq!(a.ep.table.0.len(), 1);
    // Another class is free: S2 holds it on the shared context.
    assert_eq!(a.steer(&b, 0, S2, Want::PreferLocal(A2), 30), Ok(Steered::Applied(None)));
    assert_eq!(a.ctx(&b).holder(Class::Local), S2);

    let Ok(Steered::Forked(fii, i1)) = a.steer(&b, 0, S2, Want::PreferPeer(B1), 40) else { panic!("no fork") };
    assert_ne!(fii, 0);
    let Message::I1 { fii: sent, ulids, .. } = i1.msg else { panic!("{i1:?}") };
    assert_eq!(sent, fii, "the I1 carries the FII option");
    assert_eq!(ulids, Some(a.ulids(&b)), "on locators: with the ULID pair option");
    assert_eq!(i1.path, Path { src: A2, dst: B1 }, "on the shared pair as S2 wants it");
    assert_eq!(a.ctx_of(&b, 0).unwrap().path().dst, B2, "S1's context keeps S1's pair");
    // Until the fork is up, S2's packets and options use the shared one.
    let u = a.ulids(&b);
    assert_eq!(a.ep.socket_context(&u, fii).map(|c| c.fii()), Some(0));

    assert_eq!(set_up_fork(&mut a, &mut b, &i1, 50), None);
    let fork = a.ctx_of(&b, fii).unwrap();
    assert_eq!((fork.state(), fork.owner()), (State::Established, S2));
    assert_eq!(fork.path(), Path { src: A2, dst: B1 });
    assert!(fork.peer_locators().contains(&B2), "the peer's list, verified again");
    assert_ne!(fork.ct_local(), a.ctx_of(&b, 0).unwrap().ct_local());
    let theirs = b.ctx_of(&a, fii).expect("B keys the fork by ULIDs and FII");
    assert_eq!(theirs.ct_peer(), Some(fork.ct_local()));
    assert_eq!(b.ep.table.0.len(), 2);
    assert_eq!(a.ep.socket_context(&u, fii).map(|c| c.fii()), Some(fii));

    // S2 steers its own context from now on, whatever S1 holds.
    assert_eq!(a.steer(&b, fii, S2, Want::PreferPeer(B2), 60), Ok(Steered::Applied(None)));
    assert_eq!(a.ctx_of(&b, fii).unwrap().path().dst, B2);
    assert_eq!(a.ep.table.0.len(), 2);
}

#[test]
fn a_fork_takes_only_the_contexts_verified_locators() {
    let (mut a, b) = established();
    a.steer(&b, 0, S1, Want::PreferPeer(B2), 10).unwrap();
    assert_eq!(a.steer(&b, 0, S2, Want::PreferPeer(A2), 20), Err(SteerError::InvalidLocator));
    a.steer(&b, 0, S1, Want::RestrictPeer(Locators::new(&[B2]), Preferences::default()), 30).unwrap();
    let stranger = Locators::new(&[B1, A3]);
    assert_eq!(
        a.steer(&b, 0, S2, Want::RestrictPeer(stranger, Preferences::default()), 40),
        Err(SteerError::InvalidLocator)
    );
    assert_eq!(a.ep.table.0.len(), 1, "nothing forked");
    // Without a context, nothing at all.
    let (mut c, d) = pair();
    assert_eq!(c.steer(&d, 0, S1, Want::PreferPeer(B2), 0), Err(SteerError::NoContext));
}

#[test]
fn a_closed_socket_frees_what_it_held_and_its_fork_goes() {
    let (mut a, mut b) = established();
    a.steer(&b, 0, S1, Want::PreferPeer(B2), 10).unwrap();
    let Ok(Steered::Forked(fii, i1)) = a.steer(&b, 0, S2, Want::PreferPeer(B1), 20) else { panic!() };
    set_up_fork(&mut a, &mut b, &i1, 30);
    // Idle far beyond the collection timeout: a fork lives with its socket.
    a.ep.table.1 = reap::Traffic::used_at(30);
    a.tick(30 + 2 * consts::IDLE_TIMEOUT);
    assert!(a.ctx_of(&b, fii).is_some(), "the fork stays while S2 lives");
    assert!(a.ctx_of(&b, 0).is_none(), "the idle shared context went");

    let (mut a, mut b) = established();
    a.steer(&b, 0, S1, Want::PreferPeer(B2), 10).unwrap();
    let Ok(Steered::Forked(fii, i1)) = a.steer(&b, 0, S2, Want::PreferPeer(B1), 20) else { panic!() };
    set_up_fork(&mut a, &mut b, &i1, 30);
    assert!(!a.ep.release(S1), "S1 had no fork");
    assert_eq!(a.ctx(&b).holder(Class::Peer), 0, "S1's hold is free");
    assert!(a.ep.release(S2), "S2's fork goes");
    assert!(a.ctx_of(&b, fii).is_none());
    // S2's FII now names nothing: it steers the shared context again.
    assert_eq!(a.steer(&b, fii, S2, Want::PreferPeer(B1), 40), Ok(Steered::Applied(None)));
    assert_eq!((a.ctx(&b).path().dst, a.ctx(&b).holder(Class::Peer)), (B1, S2));
}

#[test]
fn a_fork_keeps_its_sockets_exploration_and_peer_list() {
    let (mut a, mut b) = established();
    let mine = Explore { initial_probes: 2, send_timeout: 20_000, initial_probe_timeout: 300, keepalive_interval: 5_000 };
    let theirs = Explore { initial_probes: 6, ..Explore::of(&reap::ReapConfig::default()) };
    a.steer(&b, 0, S1, Want::Explore(theirs), 10).unwrap();
    let Ok(Steered::Forked(fii, i1)) = a.steer(&b, 0, S2, Want::Explore(mine), 20) else { panic!() };
    // The Send Timeout is not the default: announced once the fork is up.
    let update = set_up_fork(&mut a, &mut b, &i1, 30).expect("Update Request");
    let Message::UpdateRequest { keepalive, .. } = update.msg else { panic!("{update:?}") };
    assert_eq!(keepalive, Some(20));
    assert_eq!(Explore::of(&a.ctx_of(&b, fii).unwrap().reap_config()), mine);
    assert_eq!(Explore::of(&a.ctx_of(&b, 0).unwrap().reap_config()), theirs);

    // A peer list from a fork still being set up holds once it is up.
    let (mut a, mut b) = established();
    a.steer(&b, 0, S1, Want::PreferPeer(B2), 10).unwrap();
    let keep = Want::RestrictPeer(Locators::new(&[B1]), Preferences::new(&[7]));
    let Ok(Steered::Forked(fii, i1)) = a.steer(&b, 0, S2, keep, 20) else { panic!() };
    assert_eq!(set_up_fork(&mut a, &mut b, &i1, 30), None);
    let fork = a.ctx_of(&b, fii).unwrap();
    assert_eq!(fork.peer_locators().as_slice(), &[B1]);
    assert_eq!(fork.peer_preferences().get(0), Rank::draft(7));
    assert_eq!(fork.path().dst, B1);
}

#[test]
fn a_fork_waits_for_the_rate_limit_on_new_contexts() {
    let (mut a, b) = established();
    a.steer(&b, 0, S1, Want::PreferPeer(B2), 10).unwrap();
    while a.ep.host.may_initiate(20) {}
    assert_eq!(
        a.steer(&b, 0, S2, Want::PreferPeer(B1), 20),
        Err(SteerError::Refused(Refusal::RateLimited))
    );
    assert_eq!(a.ep.table.0.len(), 1, "nothing forked, nothing applied");
    assert_eq!(a.ctx(&b).path().dst, B2);
    assert!(matches!(a.steer(&b, 0, S2, Want::PreferPeer(B1), 2_000), Ok(Steered::Forked(..))));
}
