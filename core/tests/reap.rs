// SPDX-License-Identifier: GPL-2.0

//! REAP between two hosts on simulated time: applications send payload on
//! the current pair, the network drops what crosses a cut (one direction
//! or both), and each host's REAP machine runs on its timer and on what
//! reaches it.

mod common;

use common::Rng;
use shim6_core::proto::context::reap::*;
use shim6_core::proto::context::*;

const A1: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const A2: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xa, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
const B1: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B2: Addr = [0x20, 0x01, 0x0d, 0xb8, 0xb, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];

/// Simulation step and one-way delay.
const STEP: Millis = 10;

#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
enum Packet {
    Payload(Path),
    Signal(Signal),
}

impl Packet {
    fn path(&self) -> Path {
        match *self {
            Packet::Payload(p) | Packet::Signal(Signal::Keepalive(p)) | Packet::Signal(Signal::Probe { path: p, .. }) => p,
        }
    }
}

struct Host {
    reap: Reap,
    local: Vec<Addr>,
    peer: Vec<Addr>,
    current: Path,
    traffic: Traffic,
    rng: Rng,
    /// Payload packets received, and when the last came.
    received: u64,
    last_received: Option<Millis>,
    keepalives: u64,
    probes: Vec<Millis>,
}

impl Host {
    fn new(local: &[Addr], peer: &[Addr], seed: u64) -> Self {
        Host {
            reap: Reap::new(reap_consts::SEND_TIMEOUT, reap_consts::SEND_TIMEOUT),
            local: local.to_vec(),
            peer: peer.to_vec(),
            current: Path { src: local[0], dst: peer[0] },
            traffic: Traffic::default(),
            rng: Rng(seed),
            received: 0,
            last_received: None,
            keepalives: 0,
            probes: Vec::new(),
        }
    }

    fn send_payload(&mut self, now: Millis) -> Packet {
        self.traffic.unanswered_since.get_or_insert(now);
        self.traffic.owed_since = None;
        self.traffic.last_sent = now;
        Packet::Payload(self.current)
    }

    fn apply(&mut self, now: Millis, out: ReapOut) -> Option<Packet> {
        if let Some(p) = out.moved {
            self.current = p;
        }
        match out.tx? {
            s @ Signal::Keepalive(_) => {
                self.keepalives += 1;
                Some(Packet::Signal(s))
            }
            s @ Signal::Probe { .. } => {
                self.probes.push(now);
                Some(Packet::Signal(s))
            }
        }
    }

    fn receive(&mut self, now: Millis, pkt: Packet) -> Option<Packet> {
        let path = pkt.path();
        let out = match pkt {
            Packet::Payload(_) => {
                self.received += 1;
                self.last_received = Some(now);
                self.traffic.owed_since.get_or_insert(now);
                self.traffic.last_received = now;
                self.traffic.unanswered_since = None;
                self.reap.on_payload(now, &path, &mut self.rng)
            }
            Packet::Signal(Signal::Keepalive(_)) => self.reap.on_keepalive(now, &path, &mut self.rng),
            Packet::Signal(Signal::Probe { state, sent, received, .. }) => {
                let probe = PeerProbe { state, sent: sent.as_slice(), received: received.as_slice() };
                let pairs = Pairs { current: self.current, local: &self.local, peer: &self.peer };
                self.reap.on_probe(now, &path, &probe, &pairs, &mut self.rng)
            }
        };
        self.apply(now, out)
    }

    fn tick(&mut self, now: Millis) -> Option<Packet> {
        if self.reap.deadline(&self.traffic).is_none_or(|at| at > now) {
            return None;
        }
        let pairs = Pairs { current: self.current, local: &self.local, peer: &self.peer };
        let out = self.reap.on_timeout(now, &self.traffic, &pairs, &mut self.rng);
        self.apply(now, out)
    }
}

/// Two hosts, A (A1, A2) and B (B1, B2), and the links between them.
struct World {
    a: Host,
    b: Host,
    now: Millis,
    /// Directed (source, destination) pairs that drop everything.
    cut: Vec<(Addr, Addr)>,
    /// In flight: (to B, packet), delivered next step.
    flight: Vec<(bool, Packet)>,
    /// Milliseconds between payload packets of A and of B (0: none).
    a_every: Millis,
    b_every: Millis,
}

impl World {
    fn new(a_every: Millis, b_every: Millis) -> Self {
        World {
            a: Host::new(&[A1, A2], &[B1, B2], 1),
            b: Host::new(&[B1, B2], &[A1, A2], 2),
            now: 0,
            cut: Vec::new(),
            flight: Vec::new(),
            a_every,
            b_every,
        }
    }

    fn cut_both(&mut self, x: Addr, y: Addr) {
        self.cut.push((x, y));
        self.cut.push((y, x));
    }

    fn send(&mut self, to_b: bool, pkt: Option<Packet>) {
        if let Some(p) = pkt {
            let path = p.path();
            if !self.cut.contains(&(path.src, path.dst)) {
                self.flight.push((to_b, p));
            }
        }
    }

    fn run_until(&mut self, end: Millis) {
        while self.now < end {
            self.now += STEP;
            let now = self.now;
            for (to_b, p) in std::mem::take(&mut self.flight) {
                let reply = if to_b { self.b.receive(now, p) } else { self.a.receive(now, p) };
                self.send(!to_b, reply);
            }
            if self.a_every != 0 && now.is_multiple_of(self.a_every) {
                let p = self.a.send_payload(now);
                self.send(true, Some(p));
            }
            if self.b_every != 0 && now.is_multiple_of(self.b_every) {
                let p = self.b.send_payload(now);
                self.send(false, Some(p));
            }
            let pa = self.a.tick(now);
            self.send(true, pa);
            let pb = self.b.tick(now);
            self.send(false, pb);
        }
    }
}

#[test]
fn traffic_both_ways_needs_no_signalling() {
    let mut w = World::new(100, 100);
    w.run_until(120_000);
    assert_eq!((w.a.keepalives, w.b.keepalives), (0, 0));
    assert!(w.a.probes.is_empty() && w.b.probes.is_empty());
    assert_eq!(w.a.reap.state(), ReapState::Operational);
}

/// Payload one way only: the receiver keeps the sender's Send Timer from
/// firing with a Keepalive every third of the Keepalive Timeout, and
/// nobody explores.
#[test]
fn one_way_traffic_is_answered_by_keepalives() {
    let mut w = World::new(100, 0);
    w.run_until(60_000);
    assert!(w.a.probes.is_empty() && w.b.probes.is_empty(), "{:?} {:?}", w.a.probes, w.b.probes);
    let expected = 60_000 / (reap_consts::SEND_TIMEOUT / 3);
    assert!((expected - 1..=expected + 1).contains(&w.b.keepalives), "{} keepalives", w.b.keepalives);
    assert_eq!(w.a.keepalives, 0, "A hears payload from nobody: it owes nothing");
    // A stops: B sends keepalives until its Keepalive Timeout, then none,
    // and A, which sent nothing since, does not think the path failed.
    w.a_every = 0;
    let before = w.b.keepalives;
    w.run_until(120_000);
    assert!(w.b.keepalives - before <= 4, "{} more keepalives", w.b.keepalives - before);
    assert!(w.a.probes.is_empty());
}

/// The pair in use dies silently both ways: both sides explore, settle on
/// a working pair, and payload flows again within Send Timeout plus the
/// first probes.
#[test]
fn a_silent_cut_of_the_current_pair_is_routed_around() {
    let mut w = World::new(100, 100);
    w.run_until(10_000);
    let (got_a, got_b) = (w.a.received, w.b.received);
    w.cut_both(A1, B1);
    w.run_until(60_000);
    assert!(w.b.received > got_b + 300 && w.a.received > got_a + 300, "{} {}", w.b.received, w.a.received);
    for h in [&w.a, &w.b] {
        assert_eq!(h.reap.state(), ReapState::Operational);
        assert_ne!((h.current.src, h.current.dst), (A1, B1));
        assert_ne!((h.current.src, h.current.dst), (B1, A1));
    }
    // Recovered by Send Timeout plus a few probes: check the gap on B.
    let mut w = World::new(100, 100);
    w.run_until(10_000);
    w.cut_both(A1, B1);
    let mut first_after = None;
    while w.now < 40_000 && first_after.is_none() {
        let before = w.b.received;
        w.run_until(w.now + STEP);
        if w.b.received > before && w.now > 10_000 + STEP {
            first_after = Some(w.now);
        }
    }
    let gap = first_after.expect("payload again") - 10_000;
    assert!(gap <= reap_consts::SEND_TIMEOUT + 3_000, "{gap} ms without payload");
}

/// A1 -> B1 fails, B1 -> A1 still works: A keeps hearing B and notices
/// nothing; B's exploration tells A which of its pairs reach B.
#[test]
fn a_cut_in_one_direction_moves_that_direction() {
    let mut w = World::new(100, 100);
    w.run_until(10_000);
    let got_b = w.b.received;
    w.cut.push((A1, B1));
    w.run_until(60_000);
    assert!(w.b.received > got_b + 200, "B got {} since", w.b.received - got_b);
    assert_ne!(w.a.current, Path { src: A1, dst: B1 }, "A left the pair that cannot reach B");
    assert_eq!(w.a.reap.state(), ReapState::Operational);
    assert_eq!(w.b.reap.state(), ReapState::Operational);
}

/// Every pair dead: probes go one at a time, four half a second apart,
/// then doubling to a minute; a pair that comes back is found.
#[test]
fn all_pairs_dead_backs_off_then_recovers() {
    let mut w = World::new(100, 100);
    w.run_until(5_000);
    for x in [A1, A2] {
        for y in [B1, B2] {
            w.cut_both(x, y);
        }
    }
    w.run_until(300_000);
    let p = &w.a.probes;
    assert!(p.len() >= 8 && p.len() <= 16, "{} probes in 5 minutes", p.len());
    let gaps: Vec<Millis> = p.windows(2).map(|x| x[1] - x[0]).collect();
    assert_eq!(gaps[..3], [500, 500, 500], "{gaps:?}");
    assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "backing off: {gaps:?}");
    assert!(gaps.iter().all(|&g| g <= reap_consts::MAX_PROBE_TIMEOUT), "{gaps:?}");
    assert_eq!(*gaps.last().unwrap(), reap_consts::MAX_PROBE_TIMEOUT);
    // A2 <-> B2 comes back: found within a round of the four pairs at the
    // slowest pace (both ends try them in the same order, so both may have
    // just passed it).
    w.cut.retain(|&(x, y)| !((x == A2 && y == B2) || (x == B2 && y == A2)));
    let got_b = w.b.received;
    w.run_until(300_000 + 5 * reap_consts::MAX_PROBE_TIMEOUT);
    assert!(w.b.received > got_b + 100, "B got {} since", w.b.received - got_b);
    assert_eq!(w.a.current, Path { src: A2, dst: B2 });
}

/// Negative feedback (TCP's retransmission timer) starts exploration at
/// once, on the pair that shares no locator with the failed one: payload
/// flows again within one probe's round trip, not Send Timeout later.
#[test]
fn negative_feedback_explores_at_once() {
    let mut w = World::new(100, 100);
    w.run_until(10_000);
    w.cut_both(A1, B1);
    // The retransmission timeout of a flow on A1 -> B1, 200 ms on.
    w.run_until(10_200);
    let got_b = w.b.received;
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let Some(Signal::Probe { path, state: ReapState::Exploring, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!(path, Path { src: A2, dst: B2 }, "a pair that avoids both failed locators first");
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    // Already exploring: more feedback adds no probe.
    assert_eq!(w.a.reap.on_unreachable(w.now, w.now, w.a.traffic.last_received, &pairs, &mut w.a.rng), ReapOut::default());
    let fed_at = w.now;
    while w.b.received == got_b && w.now < 20_000 {
        w.run_until(w.now + STEP);
    }
    let gap = w.now - fed_at;
    assert!(gap < reap_consts::INITIAL_PROBE_TIMEOUT, "payload again {gap} ms after the feedback");
    assert_eq!(w.a.current, Path { src: A2, dst: B2 });
    assert_eq!(w.b.current, Path { src: B2, dst: A2 });
    w.run_until(30_000);
    assert_eq!(w.a.probes.len(), 2, "the exploring probe and the confirmation: {:?}", w.a.probes);
    // A timeout of what was sent before the move is no news: TCP resends
    // it on the new pair.  One of what was sent after it is.
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    assert_eq!(w.a.reap.on_unreachable(w.now, fed_at, w.a.traffic.last_received, &pairs, &mut w.a.rng), ReapOut::default());
    assert_eq!(w.a.reap.state(), ReapState::Operational);
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    assert!(matches!(out.tx, Some(Signal::Probe { state: ReapState::Exploring, .. })), "{out:?}");
}

/// Feedback about a path that works (a loss that passed): REAP's probes
/// find a pair, nothing is lost, and probing stops.
#[test]
fn negative_feedback_on_a_working_path_settles() {
    let mut w = World::new(100, 100);
    w.run_until(5_000);
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    let (got_a, got_b) = (w.a.received, w.b.received);
    w.run_until(65_000);
    assert!(w.b.received >= got_b + 590 && w.a.received >= got_a + 590, "{} {}", w.b.received - got_b, w.a.received - got_a);
    assert_eq!((w.a.reap.state(), w.b.reap.state()), (ReapState::Operational, ReapState::Operational));
    // A's probe, B's answer, A's confirmation (and A's answer to B's
    // payload, which reached it while it explored): all within a round trip.
    for h in [&w.a, &w.b] {
        assert!(h.probes.len() <= 3 && h.probes.iter().all(|&t| t < 5_100), "{:?}", h.probes);
    }
}

/// SHIM_PATHEXPLORE's parameters pace the probes: two 200 ms apart, then
/// doubling from there.
#[test]
fn configured_probing_paces_as_asked() {
    let mut w = World::new(100, 100);
    let cfg = ReapConfig { initial_probes: 2, initial_probe_timeout: 200, send_timeout: 3_000, ..ReapConfig::default() };
    w.a.reap.set_config(cfg);
    w.run_until(5_000);
    for x in [A1, A2] {
        for y in [B1, B2] {
            w.cut_both(x, y);
        }
    }
    w.run_until(20_000);
    let p = &w.a.probes;
    let gaps: Vec<Millis> = p.windows(2).map(|x| x[1] - x[0]).collect();
    assert_eq!(gaps[..4], [200, 400, 800, 1_600], "{gaps:?}");
    // The Send Timer ran for 3 s: the first probe 3 s after the first
    // payload that went unanswered.
    assert!((8_000..=8_100).contains(&p[0]), "first probe at {}", p[0]);
}

/// An application timeout longer than the Send Timeout suppresses our
/// Keepalives (draft API §5.13): the one-way receiver stays silent.
#[test]
fn a_long_application_timeout_suppresses_keepalives() {
    let mut w = World::new(100, 0);
    w.b.reap.set_config(ReapConfig { app_timeout: 60_000, ..ReapConfig::default() });
    w.run_until(12_000);
    assert_eq!(w.b.keepalives, 0);
    w.b.reap.set_config(ReapConfig::default());
    w.run_until(24_000);
    assert!(w.b.keepalives >= 2, "{} keepalives once allowed", w.b.keepalives);
}

/// Reports that name no probe of ours (a forged Probe) move nothing.
#[test]
fn forged_reports_move_nothing() {
    let mut a = Host::new(&[A1, A2], &[B1, B2], 1);
    let mut t = Traffic { unanswered_since: Some(0), ..Traffic::default() };
    let pairs_now = |h: &Host| (h.current, h.local.clone(), h.peer.clone());
    let (cur, l, p) = pairs_now(&a);
    let pairs = Pairs { current: cur, local: &l, peer: &p };
    // A explores.
    let out = a.reap.on_timeout(reap_consts::SEND_TIMEOUT, &t, &pairs, &mut a.rng);
    assert!(matches!(out.tx, Some(Signal::Probe { state: ReapState::Exploring, .. })));
    t.unanswered_since = None;
    let forged = [ProbeReport { source: A2, destination: B2, nonce: 0x1234_5678, data: 0 }];
    let own = [ProbeReport { source: B2, destination: A2, nonce: 1, data: 0 }];
    let probe = PeerProbe { state: ReapState::InboundOk, sent: &own, received: &forged };
    let out = a.reap.on_probe(reap_consts::SEND_TIMEOUT + 10, &Path { src: B2, dst: A2 }, &probe, &pairs, &mut a.rng);
    assert_eq!(out.moved, None, "a report of a probe A never sent");
    // Payload again, unanswered: A explores again, and a report of the
    // probe it did send moves it there.
    let again = reap_consts::SEND_TIMEOUT + 100;
    let t = Traffic { last_sent: again, unanswered_since: Some(again), ..t };
    let Some(Signal::Probe { sent, .. }) = a.reap.on_timeout(again + reap_consts::SEND_TIMEOUT, &t, &pairs, &mut a.rng).tx else {
        panic!("exploring again")
    };
    let real = sent.as_slice()[0];
    let probe = PeerProbe { state: ReapState::InboundOk, sent: &own, received: &[real] };
    let out = a.reap.on_probe(again + reap_consts::SEND_TIMEOUT + 10, &Path { src: B2, dst: A2 }, &probe, &pairs, &mut a.rng);
    let want = Path { src: real.source, dst: real.destination };
    assert_eq!(out.moved, (want != cur).then_some(want));
    assert_eq!(a.reap.state(), ReapState::Operational);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any loss, and any one pair dead for a while: no host probes faster
    /// than the pacing allows, and once the dead pair is back (or another
    /// pair works), payload flows both ways again.
    #[test]
    fn lossy_paths_recover_and_probing_stays_paced(
        loss in proptest::collection::vec(proptest::prelude::any::<u8>(), 64),
        dead in 0usize..4,
        both_ways in proptest::prelude::any::<bool>(),
        seed in 1u64..1000,
    ) {
        let pairs = [(A1, B1), (A1, B2), (A2, B1), (A2, B2)];
        let mut w = World::new(100, 100);
        w.a.rng = Rng(seed);
        w.b.rng = Rng(seed ^ 0x5555);
        let (x, y) = pairs[dead];
        w.cut.push((x, y));
        if both_ways {
            w.cut.push((y, x));
        }
        // Lossy phase: a drop decided by the loss vector, cycling.
        let mut i = 0usize;
        while w.now < 60_000 {
            w.run_until(w.now + STEP);
            if loss[i % loss.len()] < 40 {
                w.flight.clear();
            }
            i += 1;
        }
        // Clean phase: only the dead pair stays dead.
        let (got_a, got_b) = (w.a.received, w.b.received);
        w.run_until(180_000);
        proptest::prop_assert!(w.b.received > got_b + 100, "B got {} in the clean phase", w.b.received - got_b);
        proptest::prop_assert!(w.a.received > got_a + 100, "A got {} in the clean phase", w.a.received - got_a);
        // Pacing: at most the four quick probes in any two seconds, apart
        // from the immediate answers an exchange needs.
        for h in [&w.a, &w.b] {
            let p = &h.probes;
            for win in p.windows(9) {
                proptest::prop_assert!(win[8] - win[0] >= 2_000, "probes too fast: {:?}", win);
            }
        }
    }
}

/// Hot standby on both hosts with a 3 s Send Timeout: the pair that
/// avoids the current one is checked three times per Send Timeout and the
/// peer answers each check on that pair; payload never leaves the current
/// pair while it works.
#[test]
fn hot_standby_keeps_the_other_pair_verified() {
    let mut w = World::new(100, 100);
    let cfg = ReapConfig { hot_standby: true, send_timeout: 3_000, ..ReapConfig::default() };
    w.a.reap.set_config(cfg);
    w.run_until(10_000);
    let s = w.a.reap.standby().expect("a standby pair");
    assert_eq!(s.path, Path { src: A2, dst: B2 });
    assert!(s.verified.is_some_and(|v| v + 1_000 >= w.now), "{s:?} at {}", w.now);
    // A check at once, then one per second: 10 or 11 in 10 s.
    assert!((10..=11).contains(&w.a.probes.len()), "{:?}", w.a.probes);
    assert_eq!(w.b.probes.len(), w.a.probes.len(), "one answer per check");
    assert_eq!((w.a.current, w.b.current), (Path { src: A1, dst: B1 }, Path { src: B1, dst: A1 }));
    assert!(w.b.reap.standby().is_none(), "B did not ask for one");
    // Turned off: no more checks.
    w.a.reap.set_config(ReapConfig { hot_standby: false, ..cfg });
    let n = w.a.probes.len();
    w.run_until(20_000);
    assert_eq!(w.a.probes.len(), n);
    assert!(w.a.reap.standby().is_none());
}

/// A failure (here TCP's retransmission timeout) with a fresh standby
/// pair: payload moves to it at once, with no exploration, and the probe
/// that tells B (reporting B's answer) moves B too.
#[test]
fn hot_standby_switches_without_exploring() {
    let mut w = World::new(100, 100);
    w.a.reap.set_config(ReapConfig { hot_standby: true, ..ReapConfig::default() });
    w.run_until(10_000);
    assert!(w.a.reap.standby().is_some_and(|s| s.verified.is_some()));
    w.cut_both(A1, B1);
    w.run_until(10_200);
    let (got_a, got_b) = (w.a.received, w.b.received);
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    assert_eq!(out.moved, Some(Path { src: A2, dst: B2 }), "{out:?}");
    assert!(matches!(out.tx, Some(Signal::Probe { state: ReapState::InboundOk, .. })), "{out:?}");
    assert_eq!(w.a.reap.state(), ReapState::Operational, "no exploration");
    assert_eq!(w.a.reap.standby_switches(), 1);
    let tell = w.a.apply(w.now, out);
    w.send(true, tell);
    // B moves on that probe: both directions flow within two steps.
    w.run_until(w.now + 3 * STEP);
    assert_eq!(w.b.current, Path { src: B2, dst: A2 });
    assert_eq!((w.a.reap.state(), w.b.reap.state()), (ReapState::Operational, ReapState::Operational));
    w.run_until(w.now + 1_000);
    assert!(w.b.received >= got_b + 9 && w.a.received >= got_a + 9, "{} {}", w.b.received - got_b, w.a.received - got_a);
    // The Send Timer restarted on the switch: no exploration follows.
    w.run_until(60_000);
    assert!(w.a.reap.moved_since(10_200) && !w.a.reap.moved_since(10_300), "moved once");
    assert_eq!((w.a.current, w.b.current), (Path { src: A2, dst: B2 }, Path { src: B2, dst: A2 }));
}

/// Without traffic on the standby pair to keep it verified (its checks
/// lost), the switch does not happen: a failure explores as without hot
/// standby.
#[test]
fn a_stale_standby_pair_is_not_trusted() {
    let mut w = World::new(100, 100);
    w.a.reap.set_config(ReapConfig { hot_standby: true, ..ReapConfig::default() });
    w.run_until(5_000);
    w.cut_both(A2, B2);
    w.run_until(30_000);
    assert!(w.a.reap.standby().is_some_and(|s| s.verified.is_some_and(|v| v < 15_000)), "{:?}", w.a.reap.standby());
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    assert_eq!(out.moved, None);
    assert!(matches!(out.tx, Some(Signal::Probe { state: ReapState::Exploring, .. })), "{out:?}");
}

/// Hot-standby checks from a forger (or answers to checks never sent)
/// verify nothing and move nothing; the answers a host gives are paced.
#[test]
fn forged_standby_traffic_verifies_and_moves_nothing() {
    let mut a = Host::new(&[A1, A2], &[B1, B2], 1);
    a.reap.set_config(ReapConfig { hot_standby: true, ..ReapConfig::default() });
    let pairs = Pairs { current: a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = a.reap.on_timeout(0, &Traffic::default(), &pairs, &mut a.rng);
    let Some(Signal::Probe { path, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!(path, Path { src: A2, dst: B2 });
    // An answer naming a nonce A never sent.
    let back = Path { src: B2, dst: A2 };
    let own = [ProbeReport { source: B2, destination: A2, nonce: 7, data: 0 }];
    let forged = [ProbeReport { source: A2, destination: B2, nonce: 0x1234_5678, data: 0 }];
    let probe = PeerProbe { state: ReapState::Operational, sent: &own, received: &forged };
    assert_eq!(a.reap.on_probe(10, &back, &probe, &pairs, &mut a.rng), ReapOut::default());
    assert!(a.reap.standby().is_some_and(|s| s.verified.is_none()));
    // A forged switch (InboundOk reporting a probe A never sent): no move.
    let probe = PeerProbe { state: ReapState::InboundOk, ..probe };
    let out = a.reap.on_probe(20, &back, &probe, &pairs, &mut a.rng);
    assert_eq!(out.moved, None, "{out:?}");
    // Checks are answered on the pair they came on, one per 100 ms.
    let check = PeerProbe { state: ReapState::Operational, sent: &own, received: &[] };
    let out = a.reap.on_probe(1_000, &back, &check, &pairs, &mut a.rng);
    let Some(Signal::Probe { path, received, state: ReapState::Operational, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!((path, received.as_slice()), (Path { src: A2, dst: B2 }, &own[..]));
    assert_eq!(a.reap.on_probe(1_050, &back, &check, &pairs, &mut a.rng).tx, None);
    assert!(a.reap.on_probe(1_100, &back, &check, &pairs, &mut a.rng).tx.is_some());
    // A check whose own report names another pair is not answered.
    let lying = [ProbeReport { source: B1, destination: A2, nonce: 7, data: 0 }];
    let check = PeerProbe { state: ReapState::Operational, sent: &lying, received: &[] };
    assert_eq!(a.reap.on_probe(2_000, &back, &check, &pairs, &mut a.rng).tx, None);
}

/// Reports of probes from an earlier exploration are stale: a pair that
/// worked then (here the current one, the only one that answered) must
/// not keep a host on it once it died.
#[test]
fn stale_probe_reports_do_not_hold_a_dead_pair() {
    let mut w = World::new(100, 100);
    w.run_until(5_000);
    // Only A1 <-> B1 works: A's exploration ends on it, and B keeps the
    // report of A's probe there.
    for (x, y) in [(A2, B2), (A1, B2), (A2, B1)] {
        w.cut_both(x, y);
    }
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    w.run_until(20_000);
    assert_eq!(w.a.current, Path { src: A1, dst: B1 });
    assert_eq!((w.a.reap.state(), w.b.reap.state()), (ReapState::Operational, ReapState::Operational));
    // Now A1 <-> B1 dies and the others come back.
    w.cut.clear();
    w.cut_both(A1, B1);
    w.run_until(20_200);
    let got_b = w.b.received;
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    w.run_until(20_400);
    assert_eq!(w.a.current, Path { src: A2, dst: B2 }, "moved within a round trip");
    w.run_until(21_000);
    assert!(w.b.received >= got_b + 5, "B got {} since", w.b.received - got_b);
}

/// One connection stalls (a peer that lost its state, a middlebox) while
/// the peer's payload keeps coming: REAP probes the current pair first
/// and keeps it, hot standby or not, instead of moving every flow.  When
/// the current pair does fail one way (A to B), its probe goes unanswered
/// and the next, half a second later, finds another pair.
#[test]
fn a_stall_while_the_peer_is_heard_verifies_the_current_pair_first() {
    let mut w = World::new(100, 100);
    w.a.reap.set_config(ReapConfig { hot_standby: true, ..ReapConfig::default() });
    w.run_until(20_000);
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 13_000, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let Some(Signal::Probe { path, state: ReapState::Exploring, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!((path, out.moved), (Path { src: A1, dst: B1 }, None), "the current pair, no switch");
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    w.run_until(30_000);
    assert_eq!((w.a.current, w.b.current), (Path { src: A1, dst: B1 }, Path { src: B1, dst: A1 }));
    assert_eq!((w.a.reap.state(), w.b.reap.state()), (ReapState::Operational, ReapState::Operational));
    assert_eq!(w.a.reap.standby_switches(), 0);

    // A1 -> B1 dies; B's payload still reaches A.
    w.a.reap.set_config(ReapConfig::default());
    w.cut.push((A1, B1));
    w.run_until(30_200);
    let at = w.now;
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    while w.a.current == (Path { src: A1, dst: B1 }) && w.now < 40_000 {
        w.run_until(w.now + STEP);
    }
    let took = w.now - at;
    assert!((reap_consts::INITIAL_PROBE_TIMEOUT..reap_consts::INITIAL_PROBE_TIMEOUT + 100).contains(&took), "moved after {took} ms");
}

/// Both hosts keep a hot standby; A's payload to B dies one way while
/// the hot-standby checks and answers go on over the other pair: they
/// must not hold A's Send Timer off, or nobody would ever notice.
#[test]
fn hot_standby_checks_do_not_hide_a_failure() {
    let mut w = World::new(100, 0);
    for h in [&mut w.a, &mut w.b] {
        h.reap.set_config(ReapConfig { hot_standby: true, ..ReapConfig::default() });
    }
    w.run_until(5_000);
    let got_b = w.b.received;
    w.cut.push((A1, B1));
    // B's Keepalives stop A's Send Timer until B's Keepalive Timeout (RFC
    // 5534 §5.3): found by 5 + 15 + 15 s.
    w.run_until(40_000);
    assert_ne!(w.a.current, Path { src: A1, dst: B1 }, "A left the pair that cannot reach B");
    w.run_until(50_000);
    assert!(w.b.received > got_b + 100, "B got {} since", w.b.received - got_b);
}

/// An application chose A2 -> B2 (`SHIM_LOC_*_PREF`).  A transport's
/// timeout on it probes it first and keeps it when it answers (a late
/// Packet Too Big is enough to time TCP out); the application's own
/// feedback does not; when the chosen pair does fail, the next probe, half
/// a second on, finds another.
#[test]
fn a_chosen_pair_is_probed_before_a_transport_leaves_it() {
    let chosen = Path { src: A2, dst: B2 };
    let mut w = World::new(100, 0);
    w.run_until(2_000);
    w.a.current = chosen;
    w.a.reap.chose(chosen);
    w.run_until(10_000);
    let timeout = |w: &mut World| {
        let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
        let out = w.a.reap.on_unreachable(w.now, w.now - 200, w.a.traffic.last_received, &pairs, &mut w.a.rng);
        let first = w.a.apply(w.now, out);
        w.send(true, first);
        out
    };
    let out = timeout(&mut w);
    let Some(Signal::Probe { path, state: ReapState::Exploring, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!((path, out.moved), (chosen, None), "the chosen pair first, nothing moved");
    w.run_until(20_000);
    assert_eq!((w.a.current, w.a.reap.state()), (chosen, ReapState::Operational));

    // The application says the pair fails: the others first.
    let pairs = Pairs { current: w.a.current, local: &[A1, A2], peer: &[B1, B2] };
    let out = w.a.reap.on_feedback(w.now, &pairs, &mut w.a.rng);
    let Some(Signal::Probe { path, state: ReapState::Exploring, .. }) = out.tx else { panic!("{out:?}") };
    assert_eq!(path, Path { src: A1, dst: B1 });
    let first = w.a.apply(w.now, out);
    w.send(true, first);
    w.run_until(30_000);
    assert_eq!(w.a.current, Path { src: A1, dst: B1 });

    // Chosen again, then cut both ways: one probe interval more.
    w.a.current = chosen;
    w.a.reap.chose(chosen);
    w.run_until(35_000);
    w.cut_both(A2, B2);
    w.run_until(35_200);
    let at = w.now;
    timeout(&mut w);
    while w.a.current == chosen && w.now < 45_000 {
        w.run_until(w.now + STEP);
    }
    let took = w.now - at;
    assert!((reap_consts::INITIAL_PROBE_TIMEOUT..reap_consts::INITIAL_PROBE_TIMEOUT + 100).contains(&took), "moved after {took} ms");
    let got_b = w.b.received;
    w.run_until(46_000);
    assert!(w.b.received > got_b, "payload flows on {:?}", w.a.current);
}
