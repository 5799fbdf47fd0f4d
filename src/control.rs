// SPDX-License-Identifier: GPL-2.0

//! The control plane of one network namespace: its contexts, its
//! responder, and the control messages they exchange; the backend of the
//! socket options and of generic netlink.  Driven by received control
//! messages (softirq), the data path's requests (`crate::datapath`: a new
//! context, a packet to hold, payload it cannot place) and one timer,
//! armed at the core's next deadline ([`Endpoint::poll_timeout`]); every
//! decision is the core's endpoint's (`proto::context::Endpoint`): this
//! file carries packets, time and counters.
//!
//! One spinlock guards the state; it is taken with softirqs disabled and
//! never held while sending, since what we send passes our own hook.  The
//! data path does not take it: it reads, under RCU, the contexts'
//! [`Route`]s (with their counters), republished here when the table
//! changes.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

use crate::crypto::{KernelMac, KernelRandom, KernelSha1};
use crate::kext::crypto::{now_ms, realtime_ns};
use crate::kext::bh::bh_disabled;
use crate::kext::net::NetRef;
use crate::kext::timer::{HasTimer, Timer};
use crate::monitor;
use crate::routes::Routes;
use crate::kext::skb::{send_ipv6, Addr, OwnedSkb};
use crate::kext::sock::tcp_retransmit;
use crate::proto::codec::{self, Inbound, Local};
use crate::proto::context::reap::{ReapConfig, Traffic};
use crate::proto::context::{
    classify_in, shimmable, Confusion, Connect, Context, ContextTag, Endpoint, Flow, Host, Locators, Message, Millis, Owner, Path, PayloadIn,
    Random, Received, Refusal, Responder, Route, SteerError, Steered, Table, Transmit, UlidPair, Want,
};
use crate::proto::hba;
use crate::proto::sockopt::{self as so, Side};
use crate::proto::wire::PROTOCOL;
use crate::uapi;

/// Most packets a namespace holds back for contexts being set up.
const MAX_QUEUED: usize = 64;
/// Most of them for one context, so that one socket cannot take them all.
const MAX_HELD: usize = MAX_QUEUED / 4;
/// Largest control message we emit (RFC 5533 §5.1: packets stay within 1280).
const MAX_MESSAGE: usize = 1280 - 40;

/// What the data path dropped, refused or overrode, counted by the control
/// plane with its own counters.
pub(crate) enum DataDrop {
    /// Payload that could not take the extension header or a route.
    RewriteFailed,
    /// An ICMPv6 error quoting nothing of ours.
    IcmpUnmatched,
    /// A packet that must wait for its context found the hold full.
    HoldFull,
    /// A datagram chose locators that are not its context's.
    InvalidLocator,
    /// A socket's sticky locator choice is not its packet's context's.
    StickyIgnored,
}

/// Stores `v` in `a` unless it holds it already.
fn store_changed(a: &AtomicU64, v: u64) {
    if a.load(Ordering::Relaxed) != v {
        a.store(v, Ordering::Relaxed);
    }
}

/// Traffic of one context, counted on the packet path.
pub(crate) struct Stats {
    /// When payload last went out and came in (ms): garbage collection,
    /// and REAP's view of the traffic ([`Traffic`]).
    last_sent: AtomicU64,
    last_received: AtomicU64,
    /// The first payload sent since payload last came in, 0 for none: the
    /// Send Timer runs from then.
    unanswered_since: AtomicU64,
    /// The first payload received since we last sent, 0 for none: a
    /// Keepalive is owed from then.
    owed_since: AtomicU64,
    /// Payload packets and octets (IPv6 packets as they travel, extension
    /// header included) sent with the extension header.
    pub(crate) out_packets: AtomicU64,
    pub(crate) out_octets: AtomicU64,
    /// Payload packets and octets received with it, ULIDs restored.
    pub(crate) in_packets: AtomicU64,
    pub(crate) in_octets: AtomicU64,
    /// Its packets held back while it is set up.
    held: AtomicUsize,
    /// MTU of the locators' route as its last rewritten packet found it.
    pub(crate) path_mtu: AtomicU32,
    /// Set when the context goes: the data path passes over it at once.
    pub(crate) dead: AtomicBool,
}

impl Stats {
    pub(crate) fn new(now: u64) -> Self {
        let z = || AtomicU64::new(0);
        Stats {
            last_sent: AtomicU64::new(now),
            last_received: AtomicU64::new(now),
            unanswered_since: z(),
            owed_since: z(),
            out_packets: z(),
            out_octets: z(),
            in_packets: z(),
            in_octets: z(),
            held: AtomicUsize::new(0),
            path_mtu: AtomicU32::new(0),
            dead: AtomicBool::new(false),
        }
    }

    /// Payload went out at `now`.  Returns whether it started REAP's Send
    /// Timer (the first since payload came in): the caller makes sure the
    /// timer fires by then.  Each word is written only when it changes, so
    /// that a stream's packets within a jiffy leave the line clean.
    pub(crate) fn sent(&self, now: u64) -> bool {
        store_changed(&self.last_sent, now);
        store_changed(&self.owed_since, 0);
        self.unanswered_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Payload came in at `now`.  Returns whether a Keepalive became owed
    /// (the first since we last sent): the caller makes sure the timer
    /// fires in time to send it.
    pub(crate) fn received(&self, now: u64) -> bool {
        store_changed(&self.last_received, now);
        store_changed(&self.unanswered_since, 0);
        self.owed_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// When payload last went either way.
    fn last_used(&self) -> u64 {
        self.last_sent.load(Ordering::Relaxed).max(self.last_received.load(Ordering::Relaxed))
    }

    /// What REAP reads of it.
    fn traffic(&self) -> Traffic {
        let since = |a: &AtomicU64| Some(a.load(Ordering::Relaxed)).filter(|&t| t != 0);
        Traffic {
            last_sent: self.last_sent.load(Ordering::Relaxed),
            last_received: self.last_received.load(Ordering::Relaxed),
            unanswered_since: since(&self.unanswered_since),
            owed_since: since(&self.owed_since),
        }
    }

    pub(crate) fn count(packets: &AtomicU64, octets: &AtomicU64, len: u32) {
        packets.fetch_add(1, Ordering::Relaxed);
        octets.fetch_add(u64::from(len), Ordering::Relaxed);
    }
}

/// A context, its counters (which the data path holds too) and what the
/// data path has of it.
pub(crate) struct Slot {
    ctx: Context,
    stats: Arc<Stats>,
    /// The route last published to the data path.
    published: Route,
}

/// Contexts a full table looks at for one to evict.
const EVICT_SAMPLE: usize = 64;

/// Slots per chunk of [`SlotVec`]: a chunk of slot pointers is a page.
const CHUNK: usize = 512;

/// Slots in page-sized chunks of boxed slots: adding a context never
/// asks for more than a page at once, which the packet path's atomic
/// allocations can get however many contexts there are.  (One array of
/// inline slots needs about 1 KiB per context in one piece: past some
/// 4 000 contexts it exceeded what kmalloc serves, and every further
/// context was refused.)
struct SlotVec {
    chunks: KVec<Chunk>,
}

struct Chunk {
    slots: KVec<Option<KBox<Slot>>>,
    used: usize,
}

impl SlotVec {
    /// Slot indices in use or free: `0..len()`.
    fn len(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    fn cell(&mut self, i: usize) -> Option<(&mut Option<KBox<Slot>>, &mut usize)> {
        let c = self.chunks.get_mut(i / CHUNK)?;
        Some((c.slots.get_mut(i % CHUNK)?, &mut c.used))
    }

    fn get(&self, i: usize) -> Option<&Slot> {
        self.chunks.get(i / CHUNK)?.slots.get(i % CHUNK)?.as_deref()
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.cell(i)?.0.as_deref_mut()
    }

    fn take(&mut self, i: usize) -> Option<KBox<Slot>> {
        let (cell, used) = self.cell(i)?;
        let s = cell.take()?;
        *used -= 1;
        Some(s)
    }

    /// Puts `s` in the free slot `i`.
    fn put(&mut self, i: usize, s: KBox<Slot>) {
        if let Some((cell @ None, used)) = self.cell(i) {
            *cell = Some(s);
            *used += 1;
        }
    }

    /// A free slot, from a new chunk if all are in use.
    fn free(&mut self) -> Result<usize> {
        if let Some((n, c)) = self.chunks.iter().enumerate().find(|(_, c)| c.used < CHUNK) {
            if let Some(j) = c.slots.iter().position(Option::is_none) {
                return Ok(n * CHUNK + j);
            }
        }
        let mut slots = KVec::with_capacity(CHUNK, GFP_ATOMIC)?;
        for _ in 0..CHUNK {
            slots.push(None, GFP_ATOMIC)?;
        }
        self.chunks.push(Chunk { slots, used: 0 }, GFP_ATOMIC)?;
        Ok(self.len() - CHUNK)
    }

    fn iter(&self) -> impl Iterator<Item = (usize, &Slot)> {
        self.next_all(0)
    }

    /// The slots in use from `from` on, passing over empty chunks.
    fn next_all(&self, from: usize) -> impl Iterator<Item = (usize, &Slot)> {
        self.chunks
            .iter()
            .enumerate()
            .skip(from / CHUNK)
            .filter(|(_, c)| c.used > 0)
            .flat_map(|(n, c)| c.slots.iter().enumerate().filter_map(move |(j, s)| Some((n * CHUNK + j, s.as_deref()?))))
            .filter(move |&(i, _)| i >= from)
    }

    /// The first slot in use at or after `from`.
    fn next_from(&self, from: usize) -> Option<(usize, &Slot)> {
        self.next_all(from).next()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        self.chunks.iter_mut().flat_map(|c| c.slots.iter_mut()).filter_map(|s| s.as_deref_mut())
    }
}

/// The contexts of a namespace, in slots, at most `limit` of them, with
/// their routes published to the data path ([`Routes`]), which also
/// indexes them by ULID pair and tag for the control plane.
///
/// Whatever hands out a context to change marks its slot dirty;
/// [`Slots::publish`] then republishes the routes that changed, one bucket
/// each: a change costs O(1), however many contexts there are.
pub(crate) struct Slots {
    slots: SlotVec,
    count: usize,
    limit: usize,
    routes: Arc<Routes>,
    dirty: KVec<usize>,
    /// Every slot may have changed (a walk over all contexts).
    all_dirty: bool,
    /// Where the next eviction sample starts.
    evict_at: usize,
    /// Contexts that left since the monitor was last told, and how many
    /// more did that found no room in `gone`.
    gone: KVec<(UlidPair, u32)>,
    gone_lost: u32,
}

impl Slots {
    pub(crate) fn new(limit: usize, routes: Arc<Routes>) -> Self {
        Slots {
            slots: SlotVec { chunks: KVec::new() },
            count: 0,
            limit,
            routes,
            dirty: KVec::new(),
            all_dirty: false,
            evict_at: 0,
            gone: KVec::new(),
            gone_lost: 0,
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().map(|(_, s)| s)
    }

    /// Every context, to change (they are all republished if they did).
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.all_dirty = true;
        self.slots.iter_mut().map(|s| &mut s.ctx)
    }

    fn len(&self) -> usize {
        self.count
    }

    /// The context in `slot`, to change.
    fn get_mut(&mut self, slot: usize) -> Option<&mut Context> {
        self.slot_mut(slot).map(|s| &mut s.ctx)
    }

    /// `slot`, to change its context.
    fn slot_mut(&mut self, slot: usize) -> Option<&mut Slot> {
        let s = self.slots.get_mut(slot)?;
        // Out of memory: the change is published with the next walk.
        if self.dirty.push(slot, GFP_ATOMIC).is_err() {
            self.all_dirty = true;
        }
        Some(s)
    }

    /// The slot of the context of `ulids` and `fii`.
    fn of(&self, ulids: &UlidPair, fii: u32) -> Option<&Slot> {
        let i = self.routes.by_ulids(ulids, fii, |e| e.slot)?;
        self.slots.get(i)
    }

    /// Forgets the context in `slot`.
    fn remove(&mut self, slot: usize) {
        let Some(s) = self.slots.take(slot) else { return };
        self.routes.remove(&s.published, slot, &s.stats);
        self.count -= 1;
        if self.gone.push((s.ctx.ulids(), s.ctx.fii()), GFP_ATOMIC).is_err() {
            self.gone_lost = self.gone_lost.saturating_add(1);
        }
    }

    /// Forgets every context.
    pub(crate) fn clear(&mut self) {
        for i in 0..self.slots.len() {
            self.remove(i);
        }
    }

    /// Publishes the routes of the contexts that changed since the last
    /// call.
    fn publish(&mut self) {
        let dirty = core::mem::replace(&mut self.dirty, KVec::new());
        let all = core::mem::replace(&mut self.all_dirty, false);
        let one = |slots: &mut SlotVec, i: usize| {
            let Some(s) = slots.get_mut(i) else { return };
            let route = s.ctx.route();
            if route == s.published {
                return;
            }
            // Out of memory: the data path keeps the old route (its packets
            // stay on the old pair) until the next change.
            if self.routes.update(&s.published, route, s.stats.clone(), i).is_ok() {
                s.published = route;
            }
        };
        if all {
            for i in 0..self.slots.len() {
                one(&mut self.slots, i);
            }
        } else {
            for &i in dirty.iter() {
                one(&mut self.slots, i);
            }
        }
    }
}

impl Table for Slots {
    fn contexts(&self) -> impl Iterator<Item = &Context> {
        self.iter().map(|s| &s.ctx)
    }
    fn sweep(&mut self, mut f: impl FnMut(&mut Context, &Traffic) -> bool) {
        for i in 0..self.slots.len() {
            let Some(s) = self.slots.get_mut(i) else { continue };
            if !f(&mut s.ctx, &s.stats.traffic()) {
                self.remove(i);
            } else if s.ctx.route() != s.published && self.dirty.push(i, GFP_ATOMIC).is_err() {
                // Out of memory: published with the next walk.
                self.all_dirty = true;
            }
        }
    }
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context> {
        self.iter_mut()
    }
    fn insert(&mut self, ctx: &Context) -> bool {
        let now = now_ms();
        if self.count >= self.limit {
            // Full: of the next EVICT_SAMPLE contexts round the table, the
            // one that matters least, if any may go (held down,
            // unanswered, long idle), else refuse.  A sample, not every
            // context: under a flood of new contexts each costs the same
            // however large the table.
            let from = self.evict_at;
            let wrapped = self.slots.next_all(0).take_while(|&(i, _)| i < from);
            let sample = Iterator::chain(self.slots.next_all(from), wrapped);
            let mut last = from;
            let victim = sample
                .take(EVICT_SAMPLE)
                .inspect(|&(i, _)| last = i)
                .filter_map(|(i, s)| Some((s.ctx.eviction_rank(s.stats.last_used(), now)?, i)))
                .min_by_key(|&(rank, _)| rank);
            self.evict_at = last + 1;
            match victim {
                Some((_, i)) => self.remove(i),
                None => return false,
            }
        }
        let Ok(stats) = Arc::new(Stats::new(now), GFP_ATOMIC) else { return false };
        // Out of memory: refused, the flow goes unshimmed.
        let Ok(i) = self.slots.free() else { return false };
        let route = ctx.route();
        if self.routes.insert(route, stats.clone(), i).is_err() {
            return false;
        }
        // Written in place: a slot built on the stack first would add a
        // kilobyte to the receive path's frames (an I2 ends here).
        let kept = stats.clone();
        let slot = kernel::init!(Slot { ctx: ctx.clone(), stats: kept, published: route });
        let Ok(slot) = <KBox<Slot> as kernel::init::InPlaceInit<Slot>>::init(slot, GFP_ATOMIC) else {
            self.routes.remove(&route, i, &stats);
            return false;
        };
        self.slots.put(i, slot);
        self.count += 1;
        true
    }
    fn drop_confused(&mut self, new: &Confusion) {
        // Only a context rewriting with the peer tag `new` has can be
        // confused with it: the index has them all.
        let mut same = KVec::new();
        let mut complete = true;
        self.routes.each_with_peer_tag(new.ct_peer, |e| complete &= same.push(e.slot, GFP_ATOMIC).is_ok());
        let check = |this: &mut Self, i: usize| {
            if this.slots.get(i).is_some_and(|s| s.ctx.confused_with(new)) {
                this.remove(i);
            }
        };
        if complete {
            same.into_iter().for_each(|i| check(self, i));
        } else {
            // Out of memory: every slot is looked at.
            (0..self.slots.len()).for_each(|i| check(self, i));
        }
    }
    fn by_ulids(&mut self, ulids: &UlidPair, fii: u32) -> Option<&mut Context> {
        let i = self.routes.by_ulids(ulids, fii, |e| e.slot)?;
        self.get_mut(i)
    }
    fn by_local_tag(&mut self, ct: ContextTag) -> Option<&mut Context> {
        let i = self.routes.by_tag(ct, |e| e.slot)?;
        self.get_mut(i)
    }
    fn tag_in_use(&self, ct: ContextTag) -> bool {
        self.routes.by_tag(ct, |_| ()).is_some()
    }
    fn by_nonce(&mut self, init_nonce: u32, path: &Path) -> Option<&mut Context> {
        let i = self.routes.by_nonce(init_nonce, &path.dst, |e| e.slot)?;
        self.get_mut(i).filter(|c| c.answered_by(init_nonce, path))
    }
    fn by_peer_tag(&mut self, ct: ContextTag, path: &Path) -> Option<&mut Context> {
        let i = self.routes.by_peer_tag(ct, &path.reversed(), |e| e.slot)?;
        self.get_mut(i)
    }
}

struct State {
    ep: Endpoint<Slots>,
    /// Our HBA set's PDS (any member's: verification replaces its prefix).
    pds: Option<KVec<u8>>,
    /// The namespace's usable global addresses, from address events.
    addrs: KVec<Addr>,
    /// Packets of `SHIM_DEFERRED_CONTEXT_SETUP` 0 sockets waiting for
    /// their context, with its ULID pair.
    queue: KVec<(UlidPair, OwnedSkb)>,
    mac: KernelMac,
    sha1: KernelSha1,
    rng: KernelRandom,
}

/// What a namespace dropped or refused, by reason, and how often REAP
/// acted on a failure (`shimctl stats`).
#[derive(Default)]
struct Counters {
    /// Refused by the core, indexed by [`Refusal::index`].
    refused: [AtomicU64; Refusal::ALL.len()],
    /// Not a valid control message (checksum, lengths, options).
    malformed: AtomicU64,
    /// A setup message without a usable Responder Validator.
    no_validator: AtomicU64,
    /// A PDS that does not verify the ULID it came for.
    foreign_pds: AtomicU64,
    /// Payload whose tag, or whose locators, match no context.
    payload_unmatched: AtomicU64,
    /// ICMPv6 errors quoting our packets that match nothing of ours.
    icmp_unmatched: AtomicU64,
    /// Outgoing payload that could not take the extension header (no
    /// memory for it, or headers beyond the linear area) or a route on its
    /// locators: dropped, never sent on the ULIDs of a moved flow.
    rewrite_failed: AtomicU64,
    /// Negative feedback that started an exploration: TCP retransmission
    /// timeouts, `SHIM_FEEDBACK` from applications.
    reap_feedback: AtomicU64,
    /// Stalled TCP connections made to retransmit at once after their
    /// context moved.
    tcp_resent: AtomicU64,
    /// Packets of `SHIM_DEFERRED_CONTEXT_SETUP` 0 sockets refused
    /// (EAGAIN) because the hold was full.
    hold_full: AtomicU64,
    /// Contexts forked for a socket whose option conflicted with another
    /// socket's on the same ULID pair.
    forked: AtomicU64,
    /// Datagrams refused (EINVALIDLOCATOR) because the locators they
    /// chose are not their context's.
    invalid_locator: AtomicU64,
    /// Packets that left on their context's pair because their socket's
    /// sticky `SHIM_LOC_*_SEND` choice is not that context's (any more).
    sticky_ignored: AtomicU64,
}

impl Counters {
    fn count(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn refused(&self, why: Refusal) {
        if let Some(c) = self.refused.get(why.index()) {
            Self::count(c);
        }
    }

    fn codec(&self, d: codec::Discard) {
        match d {
            codec::Discard::Wire(_) => Self::count(&self.malformed),
            codec::Discard::NoValidator => Self::count(&self.no_validator),
            codec::Discard::BadValidator => self.refused(Refusal::BadValidator),
            codec::Discard::ForeignPds => Self::count(&self.foreign_pds),
        }
    }

    /// The counters other than the core's refusals, named, in a fixed
    /// order.
    fn named(&self) -> [(&'static str, &AtomicU64); 12] {
        [
            ("malformed", &self.malformed),
            ("no_validator", &self.no_validator),
            ("foreign_pds", &self.foreign_pds),
            ("payload_unmatched", &self.payload_unmatched),
            ("icmp_unmatched", &self.icmp_unmatched),
            ("rewrite_failed", &self.rewrite_failed),
            ("reap_feedback", &self.reap_feedback),
            ("tcp_resent", &self.tcp_resent),
            ("hold_full", &self.hold_full),
            ("forked", &self.forked),
            ("invalid_locator", &self.invalid_locator),
            ("sticky_ignored", &self.sticky_ignored),
        ]
    }

    /// How many counters there are.
    fn len(&self) -> usize {
        Refusal::ALL.len() + self.named().len()
    }

    /// Counter `index` (name, value), in a fixed order.
    fn get(&self, index: usize) -> Option<(&'static str, u64)> {
        let (name, c) = match index.checked_sub(Refusal::ALL.len()) {
            None => (Refusal::ALL.get(index)?.name(), self.refused.get(index)?),
            Some(i) => *self.named().get(i)?,
        };
        Some((name, c.load(Ordering::Relaxed)))
    }
}

/// The control plane of one namespace.
#[pin_data]
pub(crate) struct Control {
    /// Fires at the endpoint's next deadline.  First: dropping it stops
    /// it, and waits for a run, before the rest goes.
    #[pin]
    timer: Timer<Control>,
    /// Its namespace.
    net: NetRef,
    #[pin]
    state: SpinLock<State>,
    /// The routes of every context, for the data path; written under
    /// `state` (by its `Slots`).
    routes: Arc<Routes>,
    /// SHIM6 switched off in this namespace (`SHIM6_CMD_NETNS_SET`).
    disabled: AtomicBool,
    /// Entries of `State::queue`, and steals on their way there.
    queued: AtomicUsize,
    /// What it dropped or refused, and REAP's actions.
    counters: Counters,
}

impl Control {
    pub(crate) fn new(net: NetRef) -> Result<impl PinInit<Self, Error>> {
        let mut rng = KernelRandom;
        let routes = Arc::new(Routes::new((rng.next_u64(), rng.next_u64()))?, GFP_KERNEL)?;
        let state = State {
            ep: Endpoint::new(
                Host::new(Responder::new(now_ms(), &mut rng), Locators::default()),
                Slots::new(uapi::SHIM6_MAX_CONTEXTS_DEFAULT as usize, routes.clone()),
            ),
            pds: None,
            addrs: KVec::new(),
            queue: KVec::new(),
            mac: KernelMac::new()?,
            sha1: KernelSha1::new()?,
            rng,
        };
        Ok(try_pin_init!(Self {
            timer <- Timer::new(),
            net,
            state <- new_spinlock!(state, "shim6_control"),
            routes,
            disabled: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            counters: Counters::default(),
        }))
    }

    fn locked<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        bh_disabled(|| {
            let mut st = self.state.lock();
            let r = f(&mut st);
            self.tell(&mut st);
            r
        })
    }

    /// Tells `shimctl monitor` what changed (each message only if someone
    /// listens), in order: the contexts that left, then the others'
    /// changes.
    fn tell(&self, st: &mut State) {
        let net = &*self.net;
        if st.ep.table.gone.is_empty() && st.ep.table.gone_lost == 0 && !st.ep.has_events() {
            return;
        }
        let at = realtime_ns();
        let mut lost = 0u32;
        let mut told = |r: Result| {
            if r.is_err() {
                lost = lost.saturating_add(1);
            }
        };
        let table = &mut st.ep.table;
        for (ulids, fii) in core::mem::take(&mut table.gone) {
            told(monitor::gone(net, at, &ulids, fii));
        }
        let unqueued = core::mem::take(&mut table.gone_lost).saturating_add(st.ep.drain_events(|e| told(monitor::event(net, at, e))));
        let lost = lost.saturating_add(unqueued);
        if lost != 0 {
            // Out of memory again: the listener rereads the table at the next loss.
            let _ = monitor::lost(net, at, lost);
        }
    }

    /// Runs `f`, an event, on the state, then makes the timer fire by the
    /// endpoint's next deadline.  Armed under the lock: a timer run that
    /// re-arms for later then cannot overtake the event's deadline.
    fn event<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.locked(|st| {
            let r = f(st);
            if let Some(at) = st.ep.poll_timeout() {
                self.timer.arm_within(ms_until(at));
            }
            r
        })
    }

    /// Whether a socket on `ulids` with FII `fii` has an established
    /// context ([`Endpoint::socket_context`]).
    pub(crate) fn associated(&self, ulids: &UlidPair, fii: u32) -> bool {
        self.locked(|st| st.ep.socket_context(ulids, fii).is_some())
    }

    /// Runs `f` on the context a socket on `ulids` whose own context has
    /// FII `fii` uses ([`Endpoint::socket_context`]), republishing what it
    /// changed; `NoContext` without one.
    fn on_context<R>(
        &self,
        ulids: &UlidPair,
        fii: u32,
        f: impl FnOnce(&mut Context, &mut KernelRandom) -> Result<R, so::Error>,
    ) -> Result<R, so::Error> {
        self.locked(|st| on_established(st, ulids, fii, f))
    }

    /// `SHIM_LOC_*_PREF`, `SHIM_LOCLIST_*` or `SHIM_PATHEXPLORE` set by the
    /// socket `owner` on `ulids` (its own context: FII `fii`): applied, or
    /// the context forked for the socket, whose new FII this returns
    /// ([`Endpoint::steer`]).
    pub(crate) fn steer(&self, ulids: &UlidPair, fii: u32, owner: Owner, want: &Want) -> Result<Option<u32>, so::Error> {
        let (out, forked) = self.event(|st| {
            let State { ep, rng, .. } = st;
            let steered = ep.steer(ulids, fii, owner, want, now_ms(), rng);
            ep.table.publish();
            let (tx, forked) = match steered {
                Ok(Steered::Applied(tx)) => (tx, None),
                Ok(Steered::Forked(fii, i1)) => (Some(i1), Some(fii)),
                Err(SteerError::NoContext) => return Err(so::Error::NoContext),
                Err(SteerError::InvalidLocator) => return Err(so::Error::InvalidLocator),
                Err(SteerError::Refused(Refusal::RateLimited)) => return Err(so::Error::Again),
                Err(SteerError::Refused(_)) => return Err(so::Error::NoRoom),
            };
            Ok((emit(st, &[tx]), forked))
        })?;
        if forked.is_some() {
            Counters::count(&self.counters.forked);
        }
        self.transmit(&out);
        Ok(forked)
    }

    /// The socket `owner` closed: its forked context goes, and the
    /// settings it held on shared ones are free for others.
    pub(crate) fn socket_closed(&self, owner: Owner) {
        self.event(|st| {
            if st.ep.release(owner) {
                st.ep.table.publish();
            }
        });
    }

    /// Whether `addr` is one of our or the peer's verified locators
    /// (`side`) in the context of a socket on `ulids` with FII `fii`.
    pub(crate) fn check_locator(&self, ulids: &UlidPair, fii: u32, side: Side, addr: &Addr) -> Result<(), so::Error> {
        self.on_context(ulids, fii, |c, _| {
            let ok = match side {
                Side::Local => c.has_local(addr),
                Side::Peer => c.has_peer(addr),
            };
            ok.then_some(()).ok_or(so::Error::InvalidLocator)
        })
    }

    /// Whether the context of `ulids` and `fii` may send on `path` now: a
    /// packet's chosen locators checked against its own context.
    pub(crate) fn may_send_on(&self, ulids: &UlidPair, fii: u32, path: &Path) -> bool {
        self.locked(|st| st.ep.table.of(ulids, fii).is_some_and(|s| s.ctx.may_send_on(path)))
    }

    /// Of `addrs`, the locator of ours that the context of a socket on
    /// `ulids` with FII `fii` sends from (`SHIM_IF_SEND`);
    /// `InvalidLocator` when none is its.
    pub(crate) fn local_among(&self, ulids: &UlidPair, fii: u32, addrs: &[Addr]) -> Result<Addr, so::Error> {
        self.on_context(ulids, fii, |c, _| c.local_among(addrs).ok_or(so::Error::InvalidLocator))
    }

    /// The locator pair of the context of a socket on `ulids` with FII `fii`.
    pub(crate) fn path(&self, ulids: &UlidPair, fii: u32) -> Result<Path, so::Error> {
        self.on_context(ulids, fii, |c, _| Ok(c.path()))
    }

    /// Our or the peer's locators (`side`) in the context of a socket on
    /// `ulids` with FII `fii`.
    pub(crate) fn locator_list(&self, ulids: &UlidPair, fii: u32, side: Side) -> Result<KVec<so::Locator>, so::Error> {
        // The list, its preferences, and those of it that HBA verifies.
        let (locs, prefs, hba) = self.locked(|st| {
            let set = st.ep.host.locators;
            on_established(st, ulids, fii, |c, _| {
                Ok(match side {
                    Side::Local => (*c.local_locators(), *c.local_preferences(), set),
                    Side::Peer => {
                        let verified = if c.peer_verified() { *c.peer_locators() } else { Locators::default() };
                        (*c.peer_locators(), *c.peer_preferences(), verified)
                    }
                })
            })
        })?;
        let mut out = KVec::new();
        for (i, a) in locs.as_slice().iter().enumerate() {
            let flags = if hba.contains(a) { so::SHIM_LOC_FLAG_HBA } else { 0 };
            let l = so::Locator { flags, rank: prefs.get(i), ..so::locator_of(a) };
            out.push(l, GFP_KERNEL).map_err(|_| so::Error::NoContext)?;
        }
        Ok(out)
    }

    /// How REAP runs on the context of a socket on `ulids` with FII `fii`.
    pub(crate) fn reap_config(&self, ulids: &UlidPair, fii: u32) -> Result<ReapConfig, so::Error> {
        self.on_context(ulids, fii, |c, _| Ok(c.reap_config()))
    }

    /// REAP of the context of a socket on `ulids` with FII `fii` runs as
    /// `f` makes its parameters; a new Send Timeout is announced to the
    /// peer.
    pub(crate) fn set_reap(
        &self,
        ulids: &UlidPair,
        fii: u32,
        f: impl FnOnce(ReapConfig) -> Result<ReapConfig, so::Error>,
    ) -> Result<(), so::Error> {
        let out = self.event(|st| {
            let update = on_established(st, ulids, fii, |c, rng| Ok(c.set_reap_config(f(c.reap_config())?, now_ms(), rng)))?;
            Ok(emit(st, &[update]))
        })?;
        self.transmit(&out);
        Ok(())
    }

    /// An application's feedback on the context of its socket on `ulids`
    /// with FII `fii` (`SHIM_FEEDBACK`): the peer is `reachable`, or it is
    /// not, which starts an exploration now.
    pub(crate) fn feedback(&self, ulids: &UlidPair, fii: u32, reachable: bool) -> Result<(), so::Error> {
        let out = self.event(|st| {
            let probe = on_established(st, ulids, fii, |c, rng| Ok(c.reap_feedback(reachable, now_ms(), rng)))?;
            if probe.is_some() {
                Counters::count(&self.counters.reap_feedback);
            }
            Ok(emit(st, &[probe]))
        })?;
        self.transmit(&out);
        Ok(())
    }

    /// Drops every context, as a restart of the host would.
    pub(crate) fn flush(&self) {
        self.locked(|st| {
            st.ep.table.clear();
        });
        self.release();
    }

    /// Sends on the held-back packets whose context is no longer being set
    /// up: established, they go shimmed; failed or gone, unshimmed.
    fn release(&self) {
        if self.queued.load(Ordering::Relaxed) == 0 {
            return;
        }
        let ready = self.locked(|st| {
            let queue = core::mem::replace(&mut st.queue, KVec::new());
            let total = queue.len();
            let mut ready = KVec::new();
            for (ulids, skb) in queue {
                let slot = st.ep.table.of(&ulids, 0);
                let waiting = slot.is_some_and(|s| s.ctx.route().setting_up);
                if let (Some(s), false) = (slot, waiting) {
                    s.stats.held.fetch_sub(1, Ordering::Relaxed);
                }
                let to = if waiting { &mut st.queue } else { &mut ready };
                // Out of memory: this one is dropped.
                let _ = to.push((ulids, skb), GFP_ATOMIC);
            }
            self.queued.fetch_sub(total - st.queue.len(), Ordering::Relaxed);
            ready
        });
        for (_, skb) in ready {
            skb.local_out(&self.net);
        }
    }

    /// Switches SHIM6 on or off in the namespace; off flushes.
    pub(crate) fn set_enabled(&self, on: bool) {
        self.disabled.store(!on, Ordering::Relaxed);
        if !on {
            self.flush();
        }
    }

    /// The first context in a slot at or after `slot`, a copy with its
    /// counters, and its slot: a dump goes on from there (shimctl).
    pub(crate) fn context_from(&self, slot: usize) -> Option<(usize, Context, Arc<Stats>)> {
        self.locked(|st| st.ep.table.slots.next_from(slot).map(|(i, s)| (i, s.ctx.clone(), s.stats.clone())))
    }

    /// A Shim6 control message arrived on `path`.
    pub(crate) fn receive(&self, path: Path, bytes: &[u8]) {
        let now = now_ms();
        let (out, moved) = self.event(|st| {
            let State { ep, mac, sha1, .. } = st;
            let validates = |msg: &_| ep.host.validates(msg, &path, now, mac);
            match codec::parse(bytes, path, sha1, validates) {
                Ok(Inbound::Context(rx)) => {
                    let out = st.ep.receive(&rx, now, &mut st.rng, &mut st.mac);
                    if let Some(why) = out.refused {
                        self.counters.refused(why);
                    }
                    // A Probe may have moved a context.
                    let moved = if out.changed { republish(st, now) } else { KVec::new() };
                    (emit(st, &out.tx), moved)
                }
                // Error messages are not acted on.
                Ok(Inbound::Other(_)) => (KVec::new(), KVec::new()),
                Err(d) => {
                    self.counters.codec(d);
                    (KVec::new(), KVec::new())
                }
            }
        });
        self.transmit(&out);
        self.resend(&moved);
        self.release();
    }

    /// TCP's retransmission timer fired on `flow` of `ulids`, for a segment
    /// sent `sent_ms` ago: negative feedback for REAP, which explores at
    /// once if the ULID pair has an established context that did not move
    /// since.  (The flow's socket is locked: nothing here waits for one.)
    pub(crate) fn unreachable(&self, ulids: &UlidPair, fii: u32, flow: Flow, sent_ms: u32) {
        if self.routes.is_empty() {
            return;
        }
        let out = self.event(|st| {
            let now = now_ms();
            let sent = now.saturating_sub(Millis::from(sent_ms));
            let used = st.ep.socket_context(ulids, fii).map_or(0, |c| c.fii());
            let heard = st.ep.table.of(ulids, used).map_or(0, |s| s.stats.traffic().last_received);
            let (tx, changed) = st.ep.unreachable(ulids, fii, flow, sent, heard, now, &mut st.rng);
            if changed {
                st.ep.table.publish();
            }
            // A probe: an exploration began.
            if tx.is_some() {
                Counters::count(&self.counters.reap_feedback);
            }
            emit(st, &[tx])
        });
        self.transmit(&out);
    }

    /// TCP connections that stalled on a path their context has since left
    /// retransmit now (after the lock: they send through our hook).
    fn resend(&self, flows: &[(UlidPair, Flow)]) {
        for (ulids, f) in flows {
            // Closed since, or resent already: nothing to hurry.
            if tcp_retransmit(&self.net, &ulids.local, f.local_port, &ulids.peer, f.peer_port).is_ok() {
                Counters::count(&self.counters.tcp_resent);
            }
        }
    }

    /// Payload with our tag `ct` arrived on `path`: the ULIDs to restore,
    /// or `None` to drop it (an R1bis goes back when no context has `ct`).
    pub(crate) fn payload_in(&self, ct: ContextTag, path: &Path, len: u32) -> Option<UlidPair> {
        let fast = self.routes.by_tag(ct, |e| {
            let ulids = classify_in(Some(&e.route), path)?;
            self.heard(&e.route, &e.stats);
            Stats::count(&e.stats.in_packets, &e.stats.in_octets, len);
            Some(ulids)
        });
        let fast = fast.flatten();
        if fast.is_some() {
            return fast;
        }
        let now = now_ms();
        let (ulids, out) = self.event(|st| match st.ep.payload_in(ct, path, now, &mut st.rng, &mut st.mac) {
            PayloadIn::Deliver(ulids, first) => {
                if let Some((route, stats)) = st.ep.table.routes.by_tag(ct, |e| (e.route, e.stats.clone())) {
                    self.heard(&route, &stats);
                    Stats::count(&stats.in_packets, &stats.in_octets, len);
                }
                // The pair it came on, for the packet path from now on.
                st.ep.table.publish();
                (Some(ulids), emit(st, &[first]))
            }
            PayloadIn::Unmatched => {
                Counters::count(&self.counters.payload_unmatched);
                (None, KVec::new())
            }
            PayloadIn::UnknownTag(answer) => {
                Counters::count(&self.counters.payload_unmatched);
                match answer {
                    Ok(r1bis) => (None, emit(st, &[Some(r1bis)])),
                    Err(why) => {
                        self.counters.refused(why);
                        (None, KVec::new())
                    }
                }
            }
        });
        self.transmit(&out);
        ulids
    }

    /// An ICMPv6 Parameter Problem quoting our packet `src` -> `dst`
    /// whose Shim6 header is `shim`: if that is an I1 of ours, with the
    /// nonce of a context still waiting on that path, the peer has no
    /// SHIM6 (§6.2): NO-SUPPORT.  Anyone can send the error; only the one
    /// who saw our I1 knows its nonce.
    pub(crate) fn icmp_error(&self, src: &Addr, dst: &Addr, shim: &[u8]) {
        let path = Path { src: *src, dst: *dst };
        let changed = self.event(|st| {
            // The quoted I1 is ours: no locator in it to verify.
            let changed = match codec::parse(shim, path, &mut st.sha1, |_| false) {
                Ok(Inbound::Context(Received { msg: Message::I1 { nonce, .. }, .. })) => {
                    st.ep.no_support(&path, nonce, now_ms())
                }
                _ => false,
            };
            if changed {
                st.ep.table.publish();
            } else {
                Counters::count(&self.counters.icmp_unmatched);
            }
            changed
        });
        if changed {
            // Held packets go unshimmed now.
            self.release();
        }
    }

    /// The ULIDs of the context that sent payload with the peer's tag `ct`
    /// on `path` (its current pair), quoted by an ICMPv6 error.
    pub(crate) fn quoted_payload(&self, ct: ContextTag, path: &Path) -> Option<UlidPair> {
        self.routes.by_peer_tag(ct, path, |e| e.route.ulids)
    }

    /// Counter `index` of the namespace, for shimctl: (name, value) of
    /// what it dropped or refused, of REAP's actions, then of its table.
    pub(crate) fn drop_counter(&self, index: usize) -> Option<(&'static str, u64)> {
        if let Some(c) = self.counters.get(index) {
            return Some(c);
        }
        let (n, limit) = self.locked(|st| (st.ep.table.len(), st.ep.table.limit));
        match index.checked_sub(self.counters.len())? {
            0 => Some(("contexts", n as u64)),
            1 => Some(("max_contexts", limit as u64)),
            _ => None,
        }
    }

    /// Sets how many contexts the namespace keeps (`SHIM6_A_MAX_CONTEXTS`);
    /// those past a lowered limit stay until they go as they would.
    pub(crate) fn set_max_contexts(&self, limit: usize) {
        self.locked(|st| st.ep.table.limit = limit);
    }

    /// Sets our HBA set (its PDS), or clears it: our locators become the
    /// addresses it verifies, and peers hear of the change.
    pub(crate) fn set_hba(&self, pds: Option<&[u8]>, addrs: KVec<Addr>) -> Result {
        if let Some(p) = pds {
            hba::Pds::parse(p).map_err(|_| EINVAL)?;
        }
        let pds = match pds {
            Some(p) => {
                let mut v = KVec::with_capacity(p.len(), GFP_KERNEL)?;
                v.extend_from_slice(p, GFP_KERNEL)?;
                Some(v)
            }
            None => None,
        };
        let out = self.event(|st| {
            st.pds = pds;
            st.addrs = addrs;
            relocate(st)
        });
        self.transmit(&out);
        Ok(())
    }

    /// An address of the namespace came up (`up`) or went.
    pub(crate) fn address_event(&self, addr: &Addr, up: bool) {
        if !shimmable(addr) {
            return;
        }
        let out = self.event(|st| {
            let known = st.addrs.iter().position(|a| a == addr);
            match (up, known) {
                (true, None) => {
                    if st.addrs.push(*addr, GFP_ATOMIC).is_err() {
                        return KVec::new();
                    }
                }
                (false, Some(i)) => {
                    let mut rest = KVec::new();
                    for (j, a) in st.addrs.iter().enumerate() {
                        // Out of memory: the address stays listed, as if still up.
                        if j != i && rest.push(*a, GFP_ATOMIC).is_err() {
                            return KVec::new();
                        }
                    }
                    st.addrs = rest;
                }
                _ => return KVec::new(),
            }
            relocate(st)
        });
        self.transmit(&out);
    }

    /// Runs `f` on our HBA set's PDS, if any (under the lock: no copy).
    pub(crate) fn with_pds<R>(&self, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        self.locked(|st| f(st.pds.as_deref()))
    }

    /// Our locators and the namespace's addresses, for shimctl.
    pub(crate) fn locators(&self) -> (Locators, KVec<Addr>, bool) {
        self.locked(|st| {
            let mut addrs = KVec::new();
            for a in st.addrs.iter() {
                // Out of memory: a shorter listing.
                let _ = addrs.push(*a, GFP_ATOMIC);
            }
            (st.ep.host.locators, addrs, st.pds.is_some())
        })
    }

    /// Whether SHIM6 is on in the namespace.
    pub(crate) fn enabled(&self) -> bool {
        !self.disabled.load(Ordering::Relaxed)
    }

    /// Runs `f` on the route and counters of the context a socket on
    /// `ulids` whose own context has FII `fii` (0: none) uses, under RCU
    /// (`f` must not sleep): its own once established, else the shared one.
    pub(crate) fn with_route<R>(&self, ulids: &UlidPair, fii: u32, f: impl FnOnce(&Route, &Arc<Stats>) -> R) -> Option<R> {
        let own = fii != 0 && self.routes.by_ulids(ulids, fii, |e| e.route.established) == Some(true);
        self.routes.by_ulids(ulids, if own { fii } else { 0 }, |e| f(&e.route, &e.stats))
    }

    /// Room to hold one more packet of the context of `stats` while it is
    /// set up (at most MAX_HELD per context, MAX_QUEUED per namespace);
    /// the packet then goes to [`Control::hold`].
    pub(crate) fn reserve_hold(&self, stats: &Stats) -> bool {
        let room = |max: usize| move |n: usize| (n < max).then_some(n + 1);
        if stats.held.fetch_update(Ordering::Relaxed, Ordering::Relaxed, room(MAX_HELD)).is_err() {
            return false;
        }
        if self.queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, room(MAX_QUEUED)).is_err() {
            stats.held.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Holds a packet for which [`Control::reserve_hold`] made room until
    /// its context's setup ends.
    pub(crate) fn hold(&self, mut skb: OwnedSkb) {
        let (src, dst, _) = skb.view().ipv6();
        let ulids = UlidPair { local: src, peer: dst };
        // Held until the setup ends, maybe a minute: the socket and its
        // namespace must be free to go meanwhile (its policy was applied).
        skb.orphan();
        self.locked(|st| {
            // On failure the skb is dropped, as the stack drops what it
            // cannot hold; sending it on would only bring it back here.
            if st.queue.push((ulids, skb), GFP_ATOMIC).is_err() {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                if let Some(s) = st.ep.table.of(&ulids, 0) {
                    s.stats.held.fetch_sub(1, Ordering::Relaxed);
                }
            }
        });
        // A setup that ended meanwhile released nothing for this one.
        self.release();
    }

    /// Starts setting up a context for `ulids` (its current path the
    /// ULIDs), unless one exists or the namespace's limits say no; its
    /// counters, for a packet to hold.
    pub(crate) fn initiate(&self, ulids: UlidPair) -> Option<Arc<Stats>> {
        let (out, stats) = self.event(|st| match st.ep.connect(ulids, now_ms(), &mut st.rng) {
            Connect::Started(i1) => {
                st.ep.table.publish();
                let stats = st.ep.table.of(&ulids, 0).map(|s| s.stats.clone());
                (emit(st, &[Some(i1)]), stats)
            }
            Connect::Exists | Connect::Refused(_) => (KVec::new(), None),
        });
        self.transmit(&out);
        stats
    }

    /// The namespace.
    pub(crate) fn net(&self) -> &crate::kext::net::Net {
        &self.net
    }

    /// Sends emitted control messages (after the lock: they pass our hook).
    fn transmit(&self, packets: &[Packet]) {
        for (path, buf, len) in packets {
            // A lost control message is retransmitted by its sender's timers.
            let _ = send_ipv6(&self.net, &path.src, &path.dst, PROTOCOL, buf.get(..*len).unwrap_or(&[]));
        }
    }

    /// The packet path sent payload of the context of `route` and
    /// `stats`: REAP's Send Timer may have started, and the timer must
    /// fire by its end.
    pub(crate) fn sent(&self, route: &Route, stats: &Stats) {
        if stats.sent(now_ms()) {
            self.timer.arm_within(route.reap_timers.0);
        }
    }

    /// The packet path received payload of the context of `route` and
    /// `stats`: a Keepalive may be owed, due a third of the peer's Send
    /// Timeout on.
    pub(crate) fn heard(&self, route: &Route, stats: &Stats) {
        if stats.received(now_ms()) {
            self.timer.arm_within(route.reap_timers.1);
        }
    }

    /// Payload of the context of `ulids` came on `path` while its REAP
    /// explores: the peer reaches us.
    pub(crate) fn reap_heard(&self, ulids: &UlidPair, path: &Path) {
        let (out, moved) = self.event(|st| {
            let now = now_ms();
            let (tx, changed) = st.ep.heard_on_ulids(ulids, path, now, &mut st.rng);
            let moved = if changed { republish(st, now) } else { KVec::new() };
            (emit(st, &[tx]), moved)
        });
        self.transmit(&out);
        self.resend(&moved);
    }

    /// Whether the namespace has no context (the LOCAL_IN hook then has
    /// nothing to look up).
    pub(crate) fn has_no_context(&self) -> bool {
        self.routes.is_empty()
    }

    /// Counts a drop of the data path.
    pub(crate) fn dropped(&self, why: DataDrop) {
        Counters::count(match why {
            DataDrop::RewriteFailed => &self.counters.rewrite_failed,
            DataDrop::IcmpUnmatched => &self.counters.icmp_unmatched,
            DataDrop::HoldFull => &self.counters.hold_full,
            DataDrop::InvalidLocator => &self.counters.invalid_locator,
            DataDrop::StickyIgnored => &self.counters.sticky_ignored,
        });
    }

    /// The namespace's timer: retransmissions, hold-downs, garbage
    /// collection; then it sleeps until the endpoint's next deadline.
    /// Re-armed under the lock, so that an event meanwhile, which arms it
    /// for sooner, is not overtaken.
    pub(crate) fn on_timer(&self) {
        let (out, moved) = self.locked(|st| {
            let now = now_ms();
            let mut txs = KVec::new();
            // Out of memory: this retransmission is lost like any other.
            let changed = st.ep.handle_timeout(now, &mut st.rng, |tx| {
                let _ = txs.push(Some(tx), GFP_ATOMIC);
            });
            // Also forgets the stalled flows that waited long enough.
            let moved = if changed { republish(st, now) } else { stalled_moved(st, now) };
            if let Some(at) = st.ep.poll_timeout() {
                self.timer.arm(ms_until(at));
            }
            (emit(st, &txs), moved)
        });
        self.transmit(&out);
        self.resend(&moved);
        self.release();
    }
}

// SAFETY: `timer` is a `Timer<Control>` field, declared first; `Control` is only made
// pinned (`Control::new`).
unsafe impl HasTimer for Control {
    const OFFSET: usize = core::mem::offset_of!(Control, timer);

    fn fired(&self) {
        self.on_timer();
    }
}

/// Runs `f` on the established context of `ulids` (the one a connected
/// socket has), republishing what it changed; `NoContext` without one.
fn on_established<R>(
    st: &mut State,
    ulids: &UlidPair,
    fii: u32,
    f: impl FnOnce(&mut Context, &mut KernelRandom) -> Result<R, so::Error>,
) -> Result<R, so::Error> {
    let State { ep, rng, .. } = st;
    let (r, changed) = ep.on_established(ulids, fii, now_ms(), |c| f(c, rng)).ok_or(so::Error::NoContext)?;
    if changed {
        ep.table.publish();
    }
    r
}

/// Publishes the table to the packet path; returns the stalled TCP flows
/// whose context it moved.
fn republish(st: &mut State, now: Millis) -> KVec<(UlidPair, Flow)> {
    st.ep.table.publish();
    stalled_moved(st, now)
}

/// The stalled flows whose context moved since they stalled.
fn stalled_moved(st: &mut State, now: Millis) -> KVec<(UlidPair, Flow)> {
    let mut flows = KVec::new();
    // Out of memory: the flow resends when its own timer fires.
    st.ep.moved_flows(now, |u, f| {
        let _ = flows.push((*u, f), GFP_ATOMIC);
    });
    flows
}

/// Recomputes our locators (the addresses our PDS verifies): every
/// context whose list changed sends an Update Request.
fn relocate(st: &mut State) -> KVec<Packet> {
    let mut locs = Locators::default();
    if let Some(pds) = st.pds.as_deref() {
        for a in st.addrs.iter() {
            if hba::verify(&mut st.sha1, pds, a).is_ok() {
                locs.push(*a);
            }
        }
    }
    let mut txs = KVec::new();
    // Out of memory: the peer keeps the old list until the next change;
    // the context still works on its ULIDs.
    let changed = st.ep.set_locators(locs, now_ms(), &mut st.rng, |tx| {
        let _ = txs.push(Some(tx), GFP_ATOMIC);
    });
    if changed {
        st.ep.table.publish();
    }
    emit(st, &txs)
}

/// Milliseconds from now until `at` (on the `now_ms` clock), for the timer.
fn ms_until(at: Millis) -> u32 {
    ms_from(at.saturating_sub(now_ms()))
}

/// A span in milliseconds, for the timer.
fn ms_from(ms: Millis) -> u32 {
    u32::try_from(ms).unwrap_or(u32::MAX)
}

/// An emitted control message (in the first octets of its buffer) and
/// where it goes.
type Packet = (Path, KVec<u8>, usize);

/// Emits `txs` with our PDS (taken under the lock, sent after it).
fn emit(st: &State, txs: &[Option<Transmit>]) -> KVec<Packet> {
    let mut out = KVec::new();
    for tx in txs.iter().flatten() {
        let Ok(mut buf) = KVec::from_elem(0u8, MAX_MESSAGE, GFP_ATOMIC) else { break };
        // A host without an HBA set sends no Locator List (see codec).
        let Ok(n) = codec::emit(tx, &Local { pds: st.pds.as_deref(), verified: &st.ep.host.locators }, &mut buf) else { continue };
        // Out of memory: lost like any other control message.
        let _ = out.push((tx.path, buf, n), GFP_ATOMIC);
    }
    out
}


