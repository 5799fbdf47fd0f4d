// SPDX-License-Identifier: GPL-2.0

//! REAP (RFC 5534) for one established context, sans-IO: failure
//! detection by Forced Bidirectional Detection, then exploration of the
//! locator pairs with Probes until one works both ways (reference part B).
//!
//! The packet path does not call in per packet.  It keeps a [`Traffic`]
//! record of when payload went out and came in, which the machine reads
//! when its timer fires: the Send Timer runs from the first payload sent
//! since payload last came in, the Keepalive Timer from the first payload
//! received since we last sent.  Keepalives, Probes and payload that
//! arrives while exploring are events.

use super::*;
pub use crate::proto::wire::message::{ProbeReport, ReapState};

/// RFC 5534 §7 constants, in milliseconds.
pub mod reap_consts {
    use super::Millis;
    /// Send Timeout, ours unless configured (10 to 100 s recommended).
    pub const SEND_TIMEOUT: Millis = 15_000;
    /// Interval of the first probes of an exploration.
    pub const INITIAL_PROBE_TIMEOUT: Millis = 500;
    /// Probes sent [`INITIAL_PROBE_TIMEOUT`] apart before backing off.
    pub const INITIAL_PROBES: u32 = 4;
    /// The longest interval between probes.
    pub const MAX_PROBE_TIMEOUT: Millis = 60_000;
}

use reap_consts::*;

/// How REAP runs on a context: RFC 5534's constants unless an application
/// asked otherwise (`SHIM_PATHEXPLORE`, `SHIM_APP_TIMEOUT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReapConfig {
    /// Our Send Timeout; a value other than [`SEND_TIMEOUT`] is announced
    /// to the peer (the Keepalive Timeout option).
    pub send_timeout: Millis,
    /// Probes sent [`ReapConfig::initial_probe_timeout`] apart before
    /// backing off.
    pub initial_probes: u32,
    /// Interval of the first probes of an exploration.
    pub initial_probe_timeout: Millis,
    /// The application's own failure-detection timeout (0: none).  Longer
    /// than the Send Timeout, it suppresses our Keepalives (draft API §5.13).
    pub app_timeout: Millis,
    /// Keep an alternative pair verified while the current one works,
    /// and switch to it at once on a failure (`SHIM_HOT_STANDBY`).
    pub hot_standby: bool,
    /// How often our Keepalives go while they are owed (RFC 6316's
    /// `pe_keepaliveint`); 0: a third of the peer's Keepalive Timeout.
    /// Never longer than that timeout, at whose end the last one goes.
    pub keepalive_interval: Millis,
}

impl Default for ReapConfig {
    fn default() -> Self {
        ReapConfig {
            send_timeout: SEND_TIMEOUT,
            initial_probes: INITIAL_PROBES,
            initial_probe_timeout: INITIAL_PROBE_TIMEOUT,
            app_timeout: 0,
            hot_standby: false,
            keepalive_interval: 0,
        }
    }
}

impl ReapConfig {
    /// Whether we send Keepalives.
    pub fn keepalives(&self) -> bool {
        self.app_timeout <= self.send_timeout
    }

    /// The Keepalive Timeout option we send, in seconds: only when our
    /// Send Timeout is not the default (RFC 5534 §5.3).
    pub fn announced(&self) -> Option<u16> {
        (self.send_timeout != SEND_TIMEOUT).then(|| u16::try_from(self.send_timeout / 1000).unwrap_or(u16::MAX))
    }

    /// How often a hot-standby pair is checked: three times per Send
    /// Timeout, as Keepalives go.
    fn standby_interval(&self) -> Millis {
        (self.send_timeout / 3).max(1)
    }
}

/// The least time between two answers to the peer's hot-standby checks:
/// whoever sends them (a forger included) gets at most this rate back.
pub const STANDBY_ANSWER_GAP: Millis = 100;

/// The alternative pair a hot-standby context keeps verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standby {
    /// The pair.
    pub path: Path,
    /// When the peer last answered a check on it, the answer coming back
    /// on the same pair: it works both ways.
    pub verified: Option<Millis>,
    /// The peer's report of that answer: the switch echoes it, which
    /// proves to the peer that the switch comes from us.
    answer: Option<ProbeReport>,
    /// When the last check went.
    checked: Millis,
}

/// Most probe reports of each kind a Probe of ours carries, and most
/// probes of ours we remember to verify the peer's reports against.
pub const MAX_REPORTS: usize = 4;

/// A few probe reports, newest last; the oldest goes when full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeSet {
    len: u8,
    reports: [ProbeReport; MAX_REPORTS],
}

impl ProbeSet {
    /// Adds `r`, dropping the oldest when full.
    pub fn push(&mut self, r: ProbeReport) {
        if usize::from(self.len) == MAX_REPORTS {
            self.reports.rotate_left(1);
            if let Some(last) = self.reports.last_mut() {
                *last = r;
            }
        } else if let Some(slot) = self.reports.get_mut(usize::from(self.len)) {
            *slot = r;
            self.len += 1;
        }
    }

    /// The reports, oldest first.
    pub fn as_slice(&self) -> &[ProbeReport] {
        self.reports.get(..usize::from(self.len)).unwrap_or(&[])
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// When the packet path last saw payload of a context go out and come in
/// (on the host's millisecond clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// When payload last went out.
    pub last_sent: Millis,
    /// When payload last came in.
    pub last_received: Millis,
    /// The first payload sent since payload last came in: the Send Timer
    /// runs from then.
    pub unanswered_since: Option<Millis>,
    /// The first payload received since we last sent: the Keepalive
    /// Timer runs from then.
    pub owed_since: Option<Millis>,
}

impl Traffic {
    /// When payload last went either way.
    pub fn last_used(&self) -> Millis {
        self.last_sent.max(self.last_received)
    }

    /// Traffic of which only the last use is known, both ways.
    pub fn used_at(at: Millis) -> Self {
        Traffic { last_sent: at, last_received: at, ..Traffic::default() }
    }
}

/// A Probe as received, its reports parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerProbe<'a> {
    /// The peer's REAP state after sending it.
    pub state: ReapState,
    /// The peer's reports of probes it sent, the first this one.
    pub sent: &'a [ProbeReport],
    /// The peer's reports of probes of ours it received.
    pub received: &'a [ProbeReport],
}

/// What REAP sends.  (By value, as every message of the core.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// A Keepalive on the current pair.
    Keepalive(Path),
    /// A Probe.
    Probe {
        /// The pair it travels on.
        path: Path,
        /// Our state after sending it.
        state: ReapState,
        /// This probe's report, then earlier ones of ours.
        sent: ProbeSet,
        /// The peer's probes we received since we began exploring.
        received: ProbeSet,
    },
}

/// What a REAP event did: what to send, and the new current pair when it
/// moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReapOut {
    /// What to send.
    pub tx: Option<Signal>,
    /// The pair payload goes on from now on, when it changed.
    pub moved: Option<Path>,
}

/// The locator pairs a context may use.  Exploration tries them in this
/// order: first the pairs that share no locator with the current one,
/// which has just failed (a failure is most often one host's uplink, and
/// such a pair avoids both), then those that share one, each by our order
/// of our locators against the peer's order of theirs; the current pair
/// last, for a failure that passes.
#[derive(Clone, Copy, Debug)]
pub struct Pairs<'a> {
    /// The current pair.
    pub current: Path,
    /// Our locators.
    pub local: &'a [Addr],
    /// The peer's locators.
    pub peer: &'a [Addr],
}

impl Pairs<'_> {
    fn len(&self) -> usize {
        self.local.len() * self.peer.len()
    }

    /// The pairs other than the current one that share `shared` locators
    /// with it.
    fn sharing(&self, shared: usize) -> impl Iterator<Item = Path> + '_ {
        let cur = self.current;
        self.local
            .iter()
            .flat_map(move |src| self.peer.iter().map(move |dst| Path { src: *src, dst: *dst }))
            .filter(move |p| *p != cur && usize::from(p.src == cur.src) + usize::from(p.dst == cur.dst) == shared)
    }

    /// The `i`-th pair to try (`i` taken round the candidates).
    fn get(&self, i: usize) -> Path {
        let n = self.len();
        if n == 0 {
            return self.current;
        }
        self.sharing(0).chain(self.sharing(1)).nth(i % n).unwrap_or(self.current)
    }

    /// How much we prefer `p` when the peer proved several: the current
    /// pair (nothing moves), then the order of exploration.
    fn rank(&self, p: &Path) -> Option<usize> {
        if *p == self.current {
            return Some(0);
        }
        self.sharing(0).chain(self.sharing(1)).position(|q| q == *p).map(|i| i + 1)
    }
}

/// REAP state of one context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reap {
    state: ReapState,
    config: ReapConfig,
    keepalive_timeout: Millis,
    /// When a Keepalive or Probe of the peer last came: it stops the Send
    /// Timer as payload does.
    heard: Option<Millis>,
    /// When we last sent a Keepalive.
    keepalive_sent: Option<Millis>,
    /// InboundOk: the peer must confirm before this, else we explore.
    confirm_by: Option<Millis>,
    /// Exploring or InboundOk: when the next probe is due, how many went.
    next_probe: Option<Millis>,
    probes: u32,
    /// This exploration probes the current pair first (negative feedback
    /// while the peer's payload still came in).
    current_first: bool,
    /// When we last moved to another pair.
    moved_at: Option<Millis>,
    /// The pair an application chose (`SHIM_LOC_*_PREF`), while it is
    /// the current one.
    chosen: Option<Path>,
    /// Probes of ours, for our reports and to check the peer's.
    sent: ProbeSet,
    /// The peer's probes received since we began exploring.
    received: ProbeSet,
    /// Hot standby: the pair kept verified.
    standby: Option<Standby>,
    /// When we last answered a hot-standby check of the peer.
    answered: Option<Millis>,
    /// Failures taken by switching to the hot-standby pair.
    switches: u32,
}

impl Default for Reap {
    /// Operational, both Send Timeouts the default.
    fn default() -> Self {
        Reap::new(SEND_TIMEOUT, SEND_TIMEOUT)
    }
}

impl Reap {
    /// Operational, with our Send Timeout and the peer's (its Keepalive
    /// Timeout option, else the default).
    pub fn new(send_timeout: Millis, keepalive_timeout: Millis) -> Self {
        Reap {
            state: ReapState::Operational,
            config: ReapConfig { send_timeout, ..ReapConfig::default() },
            keepalive_timeout,
            heard: None,
            keepalive_sent: None,
            confirm_by: None,
            next_probe: None,
            probes: 0,
            current_first: false,
            moved_at: None,
            chosen: None,
            sent: ProbeSet::default(),
            received: ProbeSet::default(),
            standby: None,
            answered: None,
            switches: 0,
        }
    }

    /// Operational, Exploring or InboundOk.
    pub fn state(&self) -> ReapState {
        self.state
    }

    /// The peer's Send Timeout, from its Keepalive Timeout option.
    pub fn set_keepalive_timeout(&mut self, ms: Millis) {
        self.keepalive_timeout = ms;
    }

    /// The peer's Send Timeout as we use it.
    pub fn keepalive_timeout(&self) -> Millis {
        self.keepalive_timeout
    }

    /// How REAP runs.
    pub fn config(&self) -> ReapConfig {
        self.config
    }

    /// Runs REAP as `config` says from now on.
    pub fn set_config(&mut self, config: ReapConfig) {
        if !config.hot_standby {
            self.standby = None;
        }
        self.config = config;
    }

    /// The hot-standby pair, and when it was last verified.
    pub fn standby(&self) -> Option<Standby> {
        self.standby
    }

    /// How many failures were taken by switching to the hot-standby pair.
    pub fn standby_switches(&self) -> u32 {
        self.switches
    }

    /// When the hot-standby pair is next checked.
    fn standby_due(&self) -> Option<Millis> {
        if !self.config.hot_standby || self.state != ReapState::Operational {
            return None;
        }
        Some(self.standby.map_or(0, |s| s.checked.saturating_add(self.config.standby_interval())))
    }

    /// The hot-standby pair, if the peer answered on it within a Send
    /// Timeout and it is still a pair of the context's locators.
    fn fresh_standby(&self, now: Millis, pairs: &Pairs<'_>) -> Option<Standby> {
        let s = self.standby.filter(|s| self.config.hot_standby && s.path != pairs.current)?;
        let fresh = s.verified.is_some_and(|v| v.saturating_add(self.config.send_timeout) >= now);
        (fresh && pairs.rank(&s.path).is_some()).then_some(s)
    }

    /// Checks the hot-standby pair (the first pair exploration would
    /// try): a Probe on it that reports nothing received, which the peer
    /// answers on the same pair.
    fn check_standby(&mut self, now: Millis, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        let path = pairs.get(0);
        let kept = self.standby.filter(|s| s.path == path);
        self.standby = Some(Standby { checked: now, ..kept.unwrap_or(Standby { path, verified: None, answer: None, checked: now }) });
        if path == pairs.current {
            // No other pair (yet): checked again at the next interval.
            return ReapOut::default();
        }
        let report = ProbeReport { source: path.src, destination: path.dst, nonce: rng.next_u64() as u32, data: 0 };
        self.sent.push(report);
        let mut sent = ProbeSet::default();
        sent.push(report);
        let tx = Signal::Probe { path, state: ReapState::Operational, sent, received: ProbeSet::default() };
        ReapOut { tx: Some(tx), moved: None }
    }

    /// The current pair failed and the hot-standby pair is fresh: payload
    /// goes on it now, without exploring.  The peer is told by a Probe on
    /// it that reports the peer's answer as received (InboundOk: we hear
    /// it there), which moves it too.
    fn switch_to_standby(&mut self, now: Millis, s: Standby, rng: &mut impl Random) -> ReapOut {
        self.standby = None;
        self.switches = self.switches.saturating_add(1);
        self.moved_at = Some(now);
        // The Send Timer restarts: the pair was proven within a Send
        // Timeout, and payload sent before now went on the one that failed.
        self.heard = Some(now);
        let report = ProbeReport { source: s.path.src, destination: s.path.dst, nonce: rng.next_u64() as u32, data: 0 };
        self.sent.push(report);
        let mut sent = ProbeSet::default();
        sent.push(report);
        let mut received = ProbeSet::default();
        if let Some(a) = s.answer {
            received.push(a);
        }
        let tx = Signal::Probe { path: s.path, state: ReapState::InboundOk, sent, received };
        ReapOut { tx: Some(tx), moved: Some(s.path) }
    }

    /// When the Send Timer expires, if it runs: payload went out and
    /// nothing came back since.
    fn send_expiry(&self, t: &Traffic) -> Option<Millis> {
        if self.state == ReapState::Exploring {
            return None;
        }
        let first = t.unanswered_since?;
        // A Keepalive or Probe after that payload stops the timer, and
        // the next payload after it starts it again: that one went out no
        // sooner than the Keepalive came, which is the start we take.
        let start = match self.heard {
            Some(h) if h >= first && t.last_sent > h => h,
            Some(h) if h >= first => return None,
            _ => first,
        };
        Some(start.saturating_add(self.config.send_timeout))
    }

    /// The longest the Send Timer and the Keepalive interval run, in ms.
    pub fn timer_spans(&self) -> (u32, u32) {
        let ms = |v: Millis| u32::try_from(v).unwrap_or(u32::MAX);
        (ms(self.config.send_timeout), ms(self.keepalive_interval()))
    }

    /// How often our Keepalives go: as configured, else a third of the
    /// peer's Keepalive Timeout, and never longer than that timeout.
    fn keepalive_interval(&self) -> Millis {
        match self.config.keepalive_interval {
            0 => self.keepalive_timeout / 3,
            i => i.min(self.keepalive_timeout),
        }
        .max(1)
    }

    /// When the next Keepalive is due, if one is: payload came in and we
    /// sent none since, every third of the peer's Keepalive Timeout, the
    /// last when that timeout has passed since the last payload came.
    fn keepalive_due(&self, t: &Traffic) -> Option<Millis> {
        if self.state != ReapState::Operational || !self.config.keepalives() {
            return None;
        }
        let owed = t.owed_since?;
        let end = t.last_received.max(owed).saturating_add(self.keepalive_timeout);
        let interval = self.keepalive_interval();
        let from = self.keepalive_sent.filter(|&k| k >= owed);
        if from.is_some_and(|k| k >= end) {
            return None;
        }
        Some(from.unwrap_or(owed).saturating_add(interval).min(end))
    }

    /// When [`Reap::on_timeout`] is next due.
    pub fn deadline(&self, t: &Traffic) -> Option<Millis> {
        [self.send_expiry(t), self.keepalive_due(t), self.next_probe, self.confirm_by, self.standby_due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The timer: a failure found (exploration begins), a probe or a
    /// Keepalive due.
    pub fn on_timeout(&mut self, now: Millis, t: &Traffic, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        let failed = self.send_expiry(t).is_some_and(|at| at <= now) || self.confirm_by.is_some_and(|at| at <= now);
        if failed {
            // §6.4: nothing came back for Send Timeout (or the peer never
            // confirmed our InboundOk).
            return self.explore(now, pairs, rng);
        }
        if self.next_probe.is_some_and(|at| at <= now) {
            let path = match self.probes.checked_sub(u32::from(self.current_first)) {
                Some(i) => pairs.get(i as usize),
                None => pairs.current,
            };
            return self.probe(now, path, rng);
        }
        if self.keepalive_due(t).is_some_and(|at| at <= now) {
            self.keepalive_sent = Some(now);
            return ReapOut { tx: Some(Signal::Keepalive(pairs.current)), moved: None };
        }
        if self.standby_due().is_some_and(|at| at <= now) {
            return self.check_standby(now, pairs, rng);
        }
        ReapOut::default()
    }

    /// Negative feedback from a transport (RFC 5534 §5.3): TCP's
    /// retransmission timer fired with what it sent at `sent`: explore
    /// now, not at the end of the Send Timer.  Nothing while we probe
    /// already, nor for what was sent before we last moved: that was lost
    /// on the pair we left, and is being resent on this one.
    ///
    /// The current pair is probed first, and kept if it answers, instead
    /// of moving every flow off it (or to the hot-standby pair), when it
    /// may well work: the peer's payload came in at `last_received`, in the
    /// later half of the wait (one connection's trouble: a peer that lost
    /// its state, a middlebox), or an application chose it.  A transport's
    /// timeout says less than the application that pinned the pair (a
    /// Packet Too Big that came late is enough).
    pub fn on_unreachable(
        &mut self,
        now: Millis,
        sent: Millis,
        last_received: Millis,
        pairs: &Pairs<'_>,
        rng: &mut impl Random,
    ) -> ReapOut {
        if self.state != ReapState::Operational || self.moved_after(sent) {
            return ReapOut::default();
        }
        let midway = sent.saturating_add(now.saturating_sub(sent) / 2);
        if last_received > midway || self.chosen == Some(pairs.current) {
            self.begin_exploring();
            self.current_first = true;
            return self.probe(now, pairs.current, rng);
        }
        self.explore(now, pairs, rng)
    }

    /// Negative feedback from the application itself (`SHIM_FEEDBACK`,
    /// draft API §7.3): its word that the current pair fails outweighs
    /// any evidence of ours, and its own choice of that pair.
    pub fn on_feedback(&mut self, now: Millis, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        if self.state != ReapState::Operational {
            return ReapOut::default();
        }
        self.explore(now, pairs, rng)
    }

    /// An application chose `path` (`SHIM_LOC_LOCAL_PREF`,
    /// `SHIM_LOC_PEER_PREF`): while it stays current, a transport's
    /// timeout probes it before leaving it.
    pub fn chose(&mut self, path: Path) {
        self.chosen = Some(path);
    }

    /// Whether we moved to another pair after `at`.
    pub fn moved_after(&self, at: Millis) -> bool {
        self.moved_at.is_some_and(|m| at < m)
    }

    /// Whether we moved to another pair at `at` or later (the clock runs
    /// in jiffies: a probe's round trip can take less than one).
    pub fn moved_since(&self, at: Millis) -> bool {
        self.moved_at.is_some_and(|m| at <= m)
    }

    /// The current pair failed: to the hot-standby pair if it is fresh,
    /// else Exploring, the first probe now.
    fn explore(&mut self, now: Millis, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        if let Some(s) = self.fresh_standby(now, pairs) {
            return self.switch_to_standby(now, s, rng);
        }
        self.begin_exploring();
        self.probe(now, pairs.get(0), rng)
    }

    fn begin_exploring(&mut self) {
        self.state = ReapState::Exploring;
        // Reports of earlier probes, ours or the peer's, speak of pairs
        // as they were then: one that worked then may be the one that
        // just failed.
        self.sent.clear();
        self.received.clear();
        self.confirm_by = None;
        self.probes = 0;
        self.current_first = false;
    }

    /// Sends a probe on `path` in the current state, and paces the next:
    /// the first `initial_probes` `initial_probe_timeout` apart (4, half a
    /// second), then doubling up to a minute.
    fn probe(&mut self, now: Millis, path: Path, rng: &mut impl Random) -> ReapOut {
        let report = ProbeReport { source: path.src, destination: path.dst, nonce: rng.next_u64() as u32, data: 0 };
        // This probe first, then the ones before it.
        let mut sent = ProbeSet::default();
        sent.push(report);
        for r in self.sent.as_slice().iter().rev().take(MAX_REPORTS - 1) {
            sent.push(*r);
        }
        self.sent.push(report);
        self.probes = self.probes.saturating_add(1);
        let (first, initial) = (self.config.initial_probe_timeout, self.config.initial_probes);
        let wait = if self.probes < initial {
            first
        } else {
            let doublings = (self.probes - initial + 1).min(16);
            first.saturating_mul(1 << doublings).min(MAX_PROBE_TIMEOUT)
        };
        self.next_probe = Some(now.saturating_add(wait));
        ReapOut { tx: Some(Signal::Probe { path, state: self.state, sent, received: self.received }), moved: None }
    }

    /// Positive feedback (`SHIM_FEEDBACK` satisfactory): the peer is
    /// reached, as payload from it would say; stops the Send Timer.
    pub fn on_satisfactory(&mut self, now: Millis) {
        self.heard = Some(now);
    }

    /// Payload came in while exploring (the packet path hands it over then):
    /// the peer reaches us.
    pub fn on_payload(&mut self, now: Millis, path: &Path, rng: &mut impl Random) -> ReapOut {
        self.heard = Some(now);
        if self.state != ReapState::Exploring {
            return ReapOut::default();
        }
        self.inbound_ok(now, path, rng)
    }

    /// A Keepalive came on `path`.
    pub fn on_keepalive(&mut self, now: Millis, path: &Path, rng: &mut impl Random) -> ReapOut {
        self.on_payload(now, path, rng)
    }

    /// Exploring, we hear from the peer: InboundOk, and tell it on the
    /// pair it reached us on, reversed.
    fn inbound_ok(&mut self, now: Millis, path: &Path, rng: &mut impl Random) -> ReapOut {
        self.state = ReapState::InboundOk;
        self.confirm_by = Some(now.saturating_add(self.config.send_timeout));
        self.probes = 0;
        self.probe(now, path.reversed(), rng)
    }

    /// A Probe came on `path`.  Its reports of our probes count only if
    /// they name a probe we sent (its nonce): nobody off the path can
    /// steer us to a pair.
    pub fn on_probe(&mut self, now: Millis, path: &Path, probe: &PeerProbe<'_>, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        // Hot-standby checks and their answers travel off the current
        // pair: they say nothing of whether our payload gets through, and
        // must not hold the Send Timer off.
        let standby = probe.state == ReapState::Operational && self.state == ReapState::Operational;
        if !standby || *path == pairs.current.reversed() {
            self.heard = Some(now);
        }
        // The peer begins an exploration: what we received of its earlier
        // ones says nothing of the pairs now.
        if probe.state == ReapState::Exploring && self.state == ReapState::Operational {
            self.received.clear();
        }
        // The peer's own report of this probe must name the pair it came on.
        if let Some(first) = probe.sent.first().filter(|r| r.source == path.src && r.destination == path.dst) {
            self.received.push(*first);
        }
        if standby {
            if probe.received.is_empty() {
                return self.answer_check(now, path, probe, pairs, rng);
            }
            self.standby_answered(now, path, probe);
        }
        match probe.state {
            ReapState::Exploring => self.inbound_ok(now, path, rng),
            ReapState::InboundOk | ReapState::Operational => {
                // The peer receives us.  Unless all was well already, of
                // the pairs it saw our probes on, the one we prefer
                // becomes current (§6.8; from an Operational probe too,
                // which ends the peer's exploration and carries the same
                // reports: without it a host whose own direction failed
                // while it still heard the peer would never move).  An
                // InboundOk probe moves us even when all was well: the
                // peer switched to its hot-standby pair, which our answer
                // proved, and reports that answer.
                let was = self.state;
                let settled = was == ReapState::Operational && probe.state == ReapState::Operational;
                let pick = if settled { None } else { self.best_seen(probe.received, pairs) };
                let current = pick.unwrap_or(pairs.current);
                self.operational();
                let mut out = ReapOut::default();
                if probe.state == ReapState::InboundOk {
                    // Tell the peer on the pair we now use.
                    out = self.probe(now, current, rng);
                    self.next_probe = None;
                }
                out.moved = (current != pairs.current).then_some(current);
                if out.moved.is_some() {
                    self.moved_at = Some(now);
                }
                out
            }
        }
    }

    /// An Operational probe that reports nothing received is the peer's
    /// hot-standby check: answered on the pair it came on, reversed,
    /// reporting it, at most once per [`STANDBY_ANSWER_GAP`].  A check on
    /// the current pair needs no answer.
    fn answer_check(&mut self, now: Millis, path: &Path, probe: &PeerProbe<'_>, pairs: &Pairs<'_>, rng: &mut impl Random) -> ReapOut {
        let reply = path.reversed();
        let Some(first) = probe.sent.first().filter(|r| r.source == path.src && r.destination == path.dst) else {
            return ReapOut::default();
        };
        let recent = self.answered.is_some_and(|a| now < a.saturating_add(STANDBY_ANSWER_GAP));
        if reply == pairs.current || recent || pairs.rank(&reply).is_none() {
            return ReapOut::default();
        }
        self.answered = Some(now);
        let report = ProbeReport { source: reply.src, destination: reply.dst, nonce: rng.next_u64() as u32, data: 0 };
        self.sent.push(report);
        let mut sent = ProbeSet::default();
        sent.push(report);
        let mut received = ProbeSet::default();
        received.push(*first);
        ReapOut { tx: Some(Signal::Probe { path: reply, state: ReapState::Operational, sent, received }), moved: None }
    }

    /// An Operational probe that reports probes of ours: the answer to
    /// our last hot-standby check if it names that check (nonce and pair)
    /// and came back on the same pair, reversed.
    fn standby_answered(&mut self, now: Millis, path: &Path, probe: &PeerProbe<'_>) {
        let Some(s) = self.standby.as_mut() else { return };
        let sent = self.sent.as_slice();
        let ours = probe.received.iter().any(|r| {
            r.source == s.path.src
                && r.destination == s.path.dst
                && sent.iter().any(|m| m.nonce == r.nonce && m.source == r.source && m.destination == r.destination)
        });
        if ours && *path == s.path.reversed() {
            s.verified = Some(now);
            s.answer = probe.sent.first().filter(|r| r.source == path.src && r.destination == path.dst).copied();
        }
    }

    /// Of the peer's reports of our probes, those we sent (by nonce and
    /// pair), the pair we prefer.
    fn best_seen(&self, reports: &[ProbeReport], pairs: &Pairs<'_>) -> Option<Path> {
        let ours = |r: &&ProbeReport| {
            self.sent.as_slice().iter().any(|s| s.nonce == r.nonce && s.source == r.source && s.destination == r.destination)
        };
        reports
            .iter()
            .filter(ours)
            .map(|r| Path { src: r.source, dst: r.destination })
            .filter_map(|p| Some((pairs.rank(&p)?, p)))
            .min_by_key(|&(rank, _)| rank)
            .map(|(_, p)| p)
    }

    fn operational(&mut self) {
        self.state = ReapState::Operational;
        self.next_probe = None;
        self.confirm_by = None;
        self.probes = 0;
        self.current_first = false;
    }
}
