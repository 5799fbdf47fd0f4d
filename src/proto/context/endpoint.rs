// SPDX-License-Identifier: GPL-2.0

//! A host's SHIM6 endpoint, in quinn-proto's shape: every event (a control
//! message, payload the packet path could not place, a new flow, a
//! socket option, a change of our locators, the timer) is one call, which
//! says what to send and whether the packet path must see the table again;
//! [`Endpoint::poll_timeout`] says when to call
//! [`Endpoint::handle_timeout`] next.  The caller carries packets and time
//! and arms one timer; it decides nothing.

use super::*;
use super::reap::Traffic;

/// Garbage collection is not urgent: its deadlines are rounded up to this,
/// so that contexts going idle one after another wake the host once per
/// period rather than once each.
pub const GC_SLACK: Millis = 1_000;

/// Most stalled flows an endpoint remembers; a new one replaces the one
/// that stalled longest ago.  (Kept small: the endpoint is built on the
/// stack before it moves to its place.)
pub const MAX_STALLED: usize = 8;

/// How long a stalled flow waits to hear that its context moved: as long
/// as two of REAP's slowest probe intervals.
pub const STALL_MEMORY: Millis = 2 * reap::reap_consts::MAX_PROBE_TIMEOUT;

/// A transport connection of a context, by its ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Our port.
    pub local_port: u16,
    /// The peer's port.
    pub peer_port: u16,
}

/// A flow that found the peer unreachable at `at`.
#[derive(Clone, Copy, Debug)]
struct Stalled {
    ulids: UlidPair,
    fii: u32,
    flow: Flow,
    at: Millis,
}

/// The contexts of a host, its responder and locators, and when it next
/// needs the timer.
pub struct Endpoint<T: Table> {
    /// What the host knows about itself.
    pub host: Host,
    /// Its contexts.
    pub table: T,
    /// The earliest deadline of any context as last seen; maybe earlier
    /// than the true one (a context went, or was used since), never later.
    wake: Option<Millis>,
    /// Flows waiting for their context to move ([`Endpoint::unreachable`]).
    stalled: [Option<Stalled>; MAX_STALLED],
    /// What changed in the contexts handled since the caller last drained.
    events: Events,
}

/// What [`Endpoint::connect`] did.  (Its I1 travels by value, as every
/// [`Transmit`] does: the core allocates nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connect {
    /// A context is being set up: send its I1.
    Started(Transmit),
    /// The ULID pair has a context already.
    Exists,
    /// No context now (rate limit, or a full table).
    Refused(Refusal),
}

/// What the packet path's payload, which it could not place alone, gets
/// ([`Endpoint::payload_in`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadIn {
    /// Delivered on these ULIDs; the first payload on a context waiting
    /// for its R2 also sends what ends the peer's wait.
    Deliver(UlidPair, Option<Transmit>),
    /// Our tag, on locators its context does not have: dropped.
    Unmatched,
    /// No context has the tag: dropped, and the R1bis that tells the
    /// sender its context is stale, or why there is none (§7.17).
    UnknownTag(Result<Transmit, Refusal>),
}

impl<T: Table> Endpoint<T> {
    /// An endpoint over `table`, nothing to wait for yet.
    pub fn new(host: Host, table: T) -> Self {
        Endpoint { host, table, wake: None, stalled: [None; MAX_STALLED], events: Events::default() }
    }

    /// When [`Endpoint::handle_timeout`] is next due, if ever.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.wake
    }

    fn note_deadline(&mut self, at: Option<Millis>) {
        self.wake = earliest(self.wake, at);
    }

    /// Notes the deadline of the context whose local tag is `ct`, as used
    /// at `now`, and what changed in it.
    pub(super) fn expect_context(&mut self, ct: ContextTag, now: Millis) {
        let at = self.table.by_local_tag(ct).and_then(|c| handled(&mut self.events, c, &Traffic::used_at(now)));
        self.note_deadline(at);
    }

    /// Whether changes wait for [`Endpoint::drain_events`].
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Hands `f` what changed in the contexts since the last call, oldest
    /// first; returns how many changes were lost for want of room.
    pub fn drain_events(&mut self, f: impl FnMut(&Event)) -> u32 {
        self.events.drain(f)
    }

    /// Starts a context for `ulids` (FII 0) on the ULIDs themselves, a
    /// flow having asked for one.
    pub fn connect(&mut self, ulids: UlidPair, now: Millis, rng: &mut impl Random) -> Connect {
        if self.table.by_ulids(&ulids, 0).is_some() {
            return Connect::Exists;
        }
        if !self.host.may_initiate(now) {
            return Connect::Refused(Refusal::RateLimited);
        }
        let ct = Host::fresh_tag(&self.table, rng);
        let path = Path { src: ulids.local, dst: ulids.peer };
        let locators = self.host.locators_for(&ulids.local);
        let (ctx, i1) = Context::initiate(ulids, 0, ct, locators, path, now, rng);
        if !self.table.insert(&ctx) {
            return Connect::Refused(Refusal::TableFull);
        }
        self.expect_context(ct, now);
        Connect::Started(i1)
    }

    /// A control message arrived: what to answer, whether the packet path
    /// must see the table again, or why it was refused.
    pub fn receive(&mut self, rx: &Received, now: Millis, rng: &mut impl Random, mac: &mut impl Mac) -> Outcome {
        let mut seen = Touched { table: &mut self.table, ct: [None; 2], all: false };
        let out = self.host.receive(&mut seen, rx, now, rng, mac);
        let (cts, all) = (seen.ct, seen.all);
        if all {
            let events = &mut self.events;
            let at = self.table.contexts_mut().filter_map(|c| handled(events, c, &Traffic::used_at(now))).min();
            self.note_deadline(at);
        }
        for ct in cts.into_iter().flatten() {
            self.expect_context(ct, now);
        }
        out
    }

    /// Payload with our tag `ct` arrived on `path`, which the packet path
    /// did not know for it.
    pub fn payload_in(
        &mut self,
        ct: ContextTag,
        path: &Path,
        now: Millis,
        rng: &mut impl Random,
        mac: &mut impl Mac,
    ) -> PayloadIn {
        let Some(ctx) = self.table.by_local_tag(ct) else {
            return PayloadIn::UnknownTag(self.host.unknown_tag(ct, path, now, rng, mac));
        };
        let Some((ulids, first)) = ctx.payload_in(path) else { return PayloadIn::Unmatched };
        ctx.heard_on(path);
        // An exploring REAP hears the peer (the packet path sends such
        // payload here): the probe that tells the peer.
        let reap = ctx.reap_payload(now, path, rng);
        self.expect_context(ct, now);
        PayloadIn::Deliver(ulids, first.or(reap))
    }

    /// Payload of the context of `ulids` (FII 0) came on `path`, without
    /// the extension header, while its REAP explores: what REAP sends, and
    /// whether the packet path must see the context again.
    pub fn heard_on_ulids(&mut self, ulids: &UlidPair, path: &Path, now: Millis, rng: &mut impl Random) -> (Option<Transmit>, bool) {
        let Some(ctx) = self.table.by_ulids(ulids, 0) else { return (None, false) };
        let before = ctx.route();
        let tx = ctx.reap_payload(now, path, rng);
        let changed = ctx.route() != before;
        let at = handled(&mut self.events, ctx, &Traffic::used_at(now));
        self.note_deadline(at);
        (tx, changed)
    }

    /// Negative feedback: the flow `flow` of a socket on `ulids` with FII
    /// `fii` ([`Endpoint::socket_context`]) found the peer unreachable (TCP's retransmission timer fired)
    /// with what it sent at `sent` (the peer's payload last came in at
    /// `last_received`: see [`reap::Reap::on_unreachable`]).  REAP explores
    /// now, unless the context moved since `sent`; once the context moves, [`Endpoint::moved_flows`]
    /// names the flow, whose transport then resends at once rather than at
    /// the end of a timer it backed off while the path was dead.  Returns
    /// what REAP sends, and whether the packet path must see the context
    /// again.
    #[allow(clippy::too_many_arguments)]
    pub fn unreachable(
        &mut self,
        ulids: &UlidPair,
        fii: u32,
        flow: Flow,
        sent: Millis,
        last_received: Millis,
        now: Millis,
        rng: &mut impl Random,
    ) -> (Option<Transmit>, bool) {
        let Some(ctx) = socket_context(&mut self.table, ulids, fii) else { return (None, false) };
        let fii = ctx.fii();
        let before = ctx.route();
        // Lost on the pair the context left: resent on this one already.
        let old_news = ctx.reap_moved_after(sent);
        let tx = ctx.reap_unreachable(now, sent, last_received, rng);
        let changed = ctx.route() != before;
        // Moved already (to the hot-standby pair): the retransmission
        // that is on its way takes the new pair; nothing to hurry later.
        let moved_now = ctx.reap_moved_since(now);
        let at = handled(&mut self.events, ctx, &Traffic::used_at(now));
        self.note_deadline(at);
        if !old_news && !moved_now {
            self.remember(Stalled { ulids: *ulids, fii, flow, at: now });
        }
        (tx, changed)
    }

    /// Keeps `s`: in the place of the same flow, else a free one, else
    /// the one that stalled longest ago.
    fn remember(&mut self, s: Stalled) {
        let same = |e: &Option<Stalled>| e.is_some_and(|e| e.ulids == s.ulids && e.fii == s.fii && e.flow == s.flow);
        let i = self.stalled.iter().position(same).or_else(|| self.stalled.iter().position(Option::is_none));
        let i = i.or_else(|| (0..MAX_STALLED).min_by_key(|&i| self.stalled.get(i).copied().flatten().map(|e| e.at)));
        if let Some(e) = i.and_then(|i| self.stalled.get_mut(i)) {
            *e = Some(s);
        }
    }

    /// Hands `f` each stalled flow whose context REAP moved to another
    /// pair since it stalled, once; forgets the flows whose context went
    /// and those that waited [`STALL_MEMORY`].
    pub fn moved_flows(&mut self, now: Millis, mut f: impl FnMut(&UlidPair, Flow)) {
        for e in self.stalled.iter_mut() {
            let Some(s) = *e else { continue };
            match self.table.by_ulids(&s.ulids, s.fii).map(|c| c.reap_moved_since(s.at)) {
                Some(true) => {
                    f(&s.ulids, s.flow);
                    *e = None;
                }
                Some(false) if now.saturating_sub(s.at) < STALL_MEMORY => {}
                _ => *e = None,
            }
        }
    }

    /// The context a socket on `ulids` whose own context has FII `fii`
    /// (0: none) uses, as its packets do: its own once established, else
    /// the shared one (FII 0), if established.
    pub fn socket_context(&mut self, ulids: &UlidPair, fii: u32) -> Option<&mut Context> {
        socket_context(&mut self.table, ulids, fii)
    }

    /// Runs `f` on the context of a socket on `ulids` with FII `fii`
    /// ([`Endpoint::socket_context`]): a socket option reads or steers it.
    /// `None` without one; else what `f` gave, and whether the packet path
    /// must see the context again.
    pub fn on_established<R>(&mut self, ulids: &UlidPair, fii: u32, now: Millis, f: impl FnOnce(&mut Context) -> R) -> Option<(R, bool)> {
        let ctx = socket_context(&mut self.table, ulids, fii)?;
        let before = ctx.route();
        let r = f(ctx);
        let changed = ctx.route() != before;
        let at = handled(&mut self.events, ctx, &Traffic::used_at(now));
        self.note_deadline(at);
        Some((r, changed))
    }

    /// An ICMPv6 Parameter Problem quoting our I1 with `nonce`, sent on
    /// `path`: the peer has no SHIM6 if that I1 is one a context still
    /// waits on (§7.8).  Returns whether it was.
    pub fn no_support(&mut self, path: &Path, nonce: u32, now: Millis) -> bool {
        let Some(ctx) = self.table.by_nonce(nonce, &path.reversed()).filter(|c| c.path() == *path) else {
            return false;
        };
        if !ctx.on_no_support(nonce, now) {
            return false;
        }
        let at = handled(&mut self.events, ctx, &Traffic::used_at(now));
        self.note_deadline(at);
        true
    }

    /// Our verified locators are now `locators`: every context whose list
    /// changes tells its peer (an Update Request each, to `send`).
    /// Returns whether the packet path must see the table again.
    pub fn set_locators(&mut self, locators: Locators, now: Millis, rng: &mut impl Random, mut send: impl FnMut(Transmit)) -> bool {
        self.host.locators = locators;
        let mut changed = false;
        let mut next = None;
        for ctx in self.table.contexts_mut() {
            let new = self.host.locators_for(&ctx.ulids().local);
            if new == *ctx.local_locators() {
                continue;
            }
            let before = ctx.route();
            if let Some(tx) = ctx.update_locators(new, now, rng) {
                send(tx);
            }
            changed |= ctx.route() != before;
            next = earliest(next, handled(&mut self.events, ctx, &Traffic::used_at(now)));
        }
        self.note_deadline(next);
        changed
    }

    /// The timer: retransmissions, hold-downs that end, contexts idle long
    /// enough to forget; what to send goes to `send`.  Returns whether the
    /// packet path must see the table again.
    pub fn handle_timeout(&mut self, now: Millis, rng: &mut impl Random, mut send: impl FnMut(Transmit)) -> bool {
        let mut changed = false;
        let mut next = None;
        self.table.sweep(|ctx, traffic| {
            if ctx.collectable(traffic.last_used(), now) {
                changed = true;
                return false;
            }
            let before = ctx.route();
            match ctx.on_timeout(now, rng) {
                Timeout::Send(tx) => send(tx),
                Timeout::Wait => {}
                Timeout::Forget => {
                    changed = true;
                    return false;
                }
            }
            if let Some(tx) = ctx.reap_timeout(now, traffic, rng) {
                send(tx);
            }
            changed |= ctx.route() != before;
            next = earliest(next, handled(&mut self.events, ctx, traffic));
            true
        });
        self.wake = next;
        changed
    }
}

fn socket_context<'a>(table: &'a mut impl Table, ulids: &UlidPair, fii: u32) -> Option<&'a mut Context> {
    let established = |c: &Context| c.state() == State::Established;
    let own = fii != 0 && table.by_ulids(ulids, fii).is_some_and(|c| established(c));
    table.by_ulids(ulids, if own { fii } else { 0 }).filter(|c| established(c))
}

/// A call handled `ctx`: queues what changed in it, and says when it next
/// needs the timer.
fn handled(events: &mut Events, ctx: &mut Context, traffic: &Traffic) -> Option<Millis> {
    events.report(ctx);
    wake_at(ctx, traffic)
}

/// When `ctx`, with `traffic`, next needs the timer: its own and REAP's
/// deadlines exactly, collection up to [`GC_SLACK`] late.
fn wake_at(ctx: &Context, traffic: &Traffic) -> Option<Millis> {
    let deadline = ctx.deadline();
    let own = match ctx.next_event(traffic.last_used()) {
        Some(at) if Some(at) != deadline => Some(at.div_ceil(GC_SLACK).saturating_mul(GC_SLACK)),
        at => at,
    };
    earliest(own, ctx.reap_deadline(traffic))
}

fn earliest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The table as [`Host::receive`] sees it, noting which contexts it was
/// handed (at most one or two per message), so that the endpoint learns
/// their new deadlines without looking at the others.
struct Touched<'a, T: Table> {
    table: &'a mut T,
    ct: [Option<ContextTag>; 2],
    /// Handed every context.
    all: bool,
}

impl<T: Table> Touched<'_, T> {
    fn note(ct: &mut [Option<ContextTag>; 2], all: &mut bool, tag: ContextTag) {
        if ct.contains(&Some(tag)) {
            return;
        }
        match ct.iter_mut().find(|c| c.is_none()) {
            Some(free) => *free = Some(tag),
            None => *all = true,
        }
    }

    fn seen<'b>(ct: &mut [Option<ContextTag>; 2], all: &mut bool, c: Option<&'b mut Context>) -> Option<&'b mut Context> {
        let c = c?;
        Self::note(ct, all, c.ct_local());
        Some(c)
    }
}

impl<T: Table> Table for Touched<'_, T> {
    fn contexts(&self) -> impl Iterator<Item = &Context> {
        self.table.contexts()
    }
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.all = true;
        self.table.contexts_mut()
    }
    fn sweep(&mut self, f: impl FnMut(&mut Context, &Traffic) -> bool) {
        self.all = true;
        self.table.sweep(f)
    }
    fn insert(&mut self, ctx: &Context) -> bool {
        let tag = ctx.ct_local();
        let ok = self.table.insert(ctx);
        if ok {
            Self::note(&mut self.ct, &mut self.all, tag);
        }
        ok
    }
    fn drop_confused(&mut self, new: &Confusion) {
        self.table.drop_confused(new)
    }
    fn by_ulids(&mut self, ulids: &UlidPair, fii: u32) -> Option<&mut Context> {
        Self::seen(&mut self.ct, &mut self.all, self.table.by_ulids(ulids, fii))
    }
    fn by_nonce(&mut self, init_nonce: u32, path: &Path) -> Option<&mut Context> {
        Self::seen(&mut self.ct, &mut self.all, self.table.by_nonce(init_nonce, path))
    }
    fn by_peer_tag(&mut self, ct: ContextTag, path: &Path) -> Option<&mut Context> {
        Self::seen(&mut self.ct, &mut self.all, self.table.by_peer_tag(ct, path))
    }
    fn by_local_tag(&mut self, ct: ContextTag) -> Option<&mut Context> {
        Self::seen(&mut self.ct, &mut self.all, self.table.by_local_tag(ct))
    }
    fn tag_in_use(&self, ct: ContextTag) -> bool {
        self.table.tag_in_use(ct)
    }
}
