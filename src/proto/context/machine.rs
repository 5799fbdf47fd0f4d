// SPDX-License-Identifier: GPL-2.0

//! One context's state machine (RFC 5533 §7, App B): setup, recovery,
//! locator updates, timers, and the route the data path follows.

use super::*;

/// The current retransmission: how many so far and when the next is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Retransmit {
    pub(super) count: u8,
    pub(super) at: Millis,
}

/// Nominal timeout `base * 2^k`, randomized to U[0.5, 1.5] of it (§14).
pub(super) fn backoff(base: Millis, k: u8, now: Millis, rng: &mut impl Random) -> Millis {
    let nominal = base.saturating_mul(1 << k.min(16));
    let jitter = rng.next_u64() % nominal.max(1);
    now.saturating_add(nominal / 2).saturating_add(jitter)
}

/// A locator list that names an address the context does not have as
/// ours (`SHIM_LOCLIST_LOCAL`): nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotOurs;

/// One SHIM6 context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub(super) state: State,
    pub(super) ulids: UlidPair,
    pub(super) fii: u32,
    pub(super) ct_local: ContextTag,
    pub(super) ct_peer: Option<ContextTag>,
    pub(super) init_nonce: u32,
    /// R1/R1bis data kept for I2/I2bis retransmissions.
    pub(super) resp: Option<(u32, Validator, ContextTag)>,
    pub(super) local_locs: Locators,
    pub(super) peer_locs: Locators,
    /// What applications prefer of each list (`SHIM_LOCLIST_*`).
    pub(super) local_prefs: Preferences,
    pub(super) peer_prefs: Preferences,
    /// Current locator pair (Lp(local), Lp(peer)).
    pub(super) path: Path,
    pub(super) timer: Option<Retransmit>,
    /// Generation of the peer's last verified Locator List.
    pub(super) peer_generation: Option<u32>,
    /// The generations it replaced, newest first: an Update Request
    /// carrying one of them is a replay.
    pub(super) seen_generations: [Option<u32>; SEEN_GENERATIONS],
    /// Generation of our last Locator List sent in an update.
    pub(super) local_generation: u32,
    /// The one outstanding Update Request: its nonce and retransmission.
    pub(super) update: Option<(u32, Retransmit)>,
    /// The pair the peer's payload last came in on ([`Route::heard`]).
    pub(super) heard: Option<Path>,
    /// Failure detection and exploration, while established.
    pub(super) reap: Reap,
    /// What `shimctl monitor` learns of it.
    pub(super) log: Log,
    /// The socket whose own context this is (0: shared by the ULID pair's
    /// sockets, or the peer's fork).
    pub(super) owner: Owner,
    /// The sockets holding each [`Class`] of its settings (0: none).
    pub(super) claims: [Owner; CLASSES],
    /// A fork whose socket restricted the peer's locators before it was
    /// set up: the peer's list, when it comes, keeps only those.
    pub(super) peer_restricted: bool,
}

/// How many replaced Locator List generations a context remembers.
pub(super) const SEEN_GENERATIONS: usize = 8;

/// Whether a locator pair differs from the ULIDs, so that a ULID Pair
/// option must go along.
pub(super) fn ulid_option(ulids: &UlidPair, path: &Path) -> Option<UlidPair> {
    (path.src != ulids.local || path.dst != ulids.peer).then_some(*ulids)
}

/// The part of a new context that an older one may be confused with
/// (§7.6); see [`Context::confusion`].
#[derive(Clone, Copy, Debug)]
pub struct Confusion {
    /// The new context's peer tag.
    pub ct_peer: ContextTag,
    peer_locs: Locators,
    ulids: UlidPair,
    fii: u32,
}

impl Context {
    /// A context in `state` on `path`, knowing nothing else yet: no
    /// locators, no tags but ours, default REAP.
    pub(super) fn fresh(state: State, ulids: UlidPair, fii: u32, ct_local: ContextTag, path: Path) -> Self {
        Context {
            state,
            ulids,
            fii,
            ct_local,
            ct_peer: None,
            init_nonce: 0,
            resp: None,
            local_locs: Locators::default(),
            peer_locs: Locators::default(),
            local_prefs: Preferences::default(),
            peer_prefs: Preferences::default(),
            path,
            timer: None,
            peer_generation: None,
            seen_generations: [None; SEEN_GENERATIONS],
            local_generation: 0,
            update: None,
            heard: None,
            reap: Reap::default(),
            log: Log::default(),
            owner: 0,
            claims: [0; CLASSES],
            peer_restricted: false,
        }
    }

    /// Starts a context towards `ulids.peer`: the I1 to send, and the
    /// context in I1-SENT.  `ct_local` must be unused by every other
    /// context of the host ([`Host::fresh_tag`]).
    pub fn initiate(
        ulids: UlidPair,
        fii: u32,
        ct_local: ContextTag,
        local_locs: Locators,
        path: Path,
        now: Millis,
        rng: &mut impl Random,
    ) -> (Self, Transmit) {
        // Filled in place: a context is a kilobyte and more.
        let mut ctx = Context::fresh(State::I1Sent, ulids, fii, ct_local, path);
        ctx.init_nonce = rng.next_u64() as u32;
        ctx.local_locs = local_locs;
        ctx.peer_locs = Locators::new(&[path.dst]);
        ctx.timer = Some(Retransmit { count: 0, at: backoff(consts::I1_TIMEOUT, 0, now, rng) });
        let tx = ctx.i1();
        (ctx, tx)
    }

    pub(super) fn i1(&self) -> Transmit {
        Transmit {
            path: self.path,
            msg: Message::I1 {
                ct: self.ct_local,
                nonce: self.init_nonce,
                ulids: ulid_option(&self.ulids, &self.path),
                fii: self.fii,
            },
        }
    }

    pub(super) fn i2(&self) -> Option<Transmit> {
        let (resp_nonce, validator, _) = self.resp?;
        Some(Transmit {
            path: self.path,
            msg: Message::I2 {
                ct: self.ct_local,
                init_nonce: self.init_nonce,
                resp_nonce,
                validator,
                ulids: ulid_option(&self.ulids, &self.path),
                fii: self.fii,
                locators: self.local_locs,
            },
        })
    }

    pub(super) fn i2bis(&self) -> Option<Transmit> {
        let (resp_nonce, validator, packet_ct) = self.resp?;
        Some(Transmit {
            path: self.path,
            msg: Message::I2bis {
                ct: self.ct_local,
                init_nonce: self.init_nonce,
                resp_nonce,
                packet_ct,
                validator,
                ulids: ulid_option(&self.ulids, &self.path),
                fii: self.fii,
                locators: self.local_locs,
            },
        })
    }

    pub(super) fn r2(&self, init_nonce: u32, path: Path) -> Transmit {
        Transmit {
            path: path.reversed(),
            msg: Message::R2 { ct: self.ct_local, init_nonce, locators: self.local_locs },
        }
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The ULID pair.
    pub fn ulids(&self) -> UlidPair {
        self.ulids
    }

    /// The Forked Instance Identifier.
    pub fn fii(&self) -> u32 {
        self.fii
    }

    /// Our context tag: what the peer puts in what it sends us.
    pub fn ct_local(&self) -> ContextTag {
        self.ct_local
    }

    /// The peer's context tag, once known.
    pub fn ct_peer(&self) -> Option<ContextTag> {
        self.ct_peer
    }

    /// The locator pair in use.
    pub fn path(&self) -> Path {
        self.path
    }

    /// The peer's verified locators.
    pub fn peer_locators(&self) -> &Locators {
        &self.peer_locs
    }

    /// Our locators.
    pub fn local_locators(&self) -> &Locators {
        &self.local_locs
    }

    /// What applications prefer of our locators, in their order.
    pub fn local_preferences(&self) -> &Preferences {
        &self.local_prefs
    }

    /// What applications prefer of the peer's locators, in their order.
    pub fn peer_preferences(&self) -> &Preferences {
        &self.peer_prefs
    }

    /// Whether the peer's locators came in a list its PDS verified (HBA),
    /// rather than being its ULID alone (the codec keeps no locator of a
    /// list that fails verification).
    pub fn peer_verified(&self) -> bool {
        self.peer_locs.as_slice().len() > 1 || self.peer_generation.is_some()
    }

    /// Whether outgoing payload is rewritten: only ESTABLISHED and
    /// I2BIS-SENT hold the peer's tag and locators (§11).
    pub fn rewrites(&self) -> bool {
        matches!(self.state, State::Established | State::I2bisSent)
    }

    /// When [`Context::on_timeout`] is next due.
    pub fn deadline(&self) -> Option<Millis> {
        // An update waits while the context is set up again (I2bis, I1):
        // its retransmission is not due then.
        let update = self.update.filter(|_| self.state == State::Established);
        match (self.timer, update) {
            (Some(t), Some((_, u))) => Some(t.at.min(u.at)),
            (t, u) => t.map(|t| t.at).or(u.map(|(_, u)| u.at)),
        }
    }

    /// When this context, last used at `last_used`, next needs the timer:
    /// its retransmission or hold-down deadline, or when it becomes
    /// collectable; `None` for never.
    pub fn next_event(&self, last_used: Millis) -> Option<Millis> {
        let gc = (self.state == State::Established && self.update.is_none())
            .then(|| last_used.saturating_add(consts::IDLE_TIMEOUT));
        match (self.deadline(), gc) {
            (Some(d), Some(g)) => Some(d.min(g)),
            (d, g) => d.or(g),
        }
    }

    /// The timer fired: what to retransmit, if anything, or whether the
    /// context's hold-down (E-FAILED, NO-SUPPORT) ended and the caller must
    /// forget it (back to IDLE).
    pub fn on_timeout(&mut self, now: Millis, rng: &mut impl Random) -> Timeout {
        if let Some((nonce, u)) = self.update {
            if now >= u.at && self.state == State::Established {
                // Retransmitted until acknowledged or the context goes (§10.2).
                let next = u.count.saturating_add(1);
                let nominal = consts::UPDATE_TIMEOUT.saturating_mul(1 << next.min(16)).min(consts::MAX_UPDATE_TIMEOUT);
                let at = now.saturating_add(nominal / 2).saturating_add(rng.next_u64() % nominal.max(1));
                self.update = Some((nonce, Retransmit { count: next, at }));
                return Timeout::from(self.update_request());
            }
        }
        let Some(t) = self.timer else { return Timeout::Wait };
        if now < t.at {
            return Timeout::Wait;
        }
        let next = t.count.saturating_add(1);
        match self.state {
            State::I1Sent if t.count < consts::I1_RETRIES_MAX => {
                self.timer = Some(Retransmit { count: next, at: backoff(consts::I1_TIMEOUT, next, now, rng) });
                Timeout::Send(self.i1())
            }
            State::I1Sent => {
                self.state = State::EFailed;
                self.timer = Some(Retransmit { count: 0, at: now + consts::NO_R1_HOLDDOWN_TIME });
                Timeout::Wait
            }
            State::I2Sent if t.count < consts::I2_RETRIES_MAX => {
                self.timer = Some(Retransmit { count: next, at: backoff(consts::I2_TIMEOUT, next, now, rng) });
                Timeout::from(self.i2())
            }
            State::I2bisSent if t.count < consts::I2BIS_RETRIES_MAX => {
                self.timer = Some(Retransmit { count: next, at: backoff(consts::I2BIS_TIMEOUT, next, now, rng) });
                Timeout::from(self.i2bis())
            }
            State::I2Sent | State::I2bisSent => Timeout::Send(self.restart(now, rng)),
            State::EFailed | State::NoSupport => Timeout::Forget,
            State::Established => {
                self.timer = None;
                Timeout::Wait
            }
        }
    }

    /// Falls back to I1 (after I2/I2bis retransmissions, or on confusion).
    pub(super) fn restart(&mut self, now: Millis, rng: &mut impl Random) -> Transmit {
        self.state = State::I1Sent;
        self.ct_peer = None;
        self.resp = None;
        self.init_nonce = rng.next_u64() as u32;
        self.timer = Some(Retransmit { count: 0, at: backoff(consts::I1_TIMEOUT, 0, now, rng) });
        self.i1()
    }

    /// An ICMPv6 Parameter Problem (unrecognized Next Header) quoting an
    /// I1 with Initiator Nonce `nonce`: if it is our I1, the peer has no
    /// SHIM6 (§7.8, App B) and traffic goes on unshimmed.  Anyone can send
    /// such an error, so one quoting another nonce changes nothing; returns
    /// whether it did.
    pub fn on_no_support(&mut self, nonce: u32, now: Millis) -> bool {
        if self.state != State::I1Sent || nonce != self.init_nonce {
            return false;
        }
        self.state = State::NoSupport;
        self.timer = Some(Retransmit { count: 0, at: now + consts::ICMP_HOLDDOWN_TIME });
        true
    }

    /// Our Initiator Nonce while an R1 or R2 may answer it.
    fn pending_nonce(&self) -> Option<u32> {
        matches!(self.state, State::I1Sent | State::I2Sent | State::I2bisSent).then_some(self.init_nonce)
    }

    /// Whether this context is the one an R1 or R2 with `init_nonce` on
    /// `path` answers (§7.11, §7.16: nonce plus locators), while it waits
    /// for one (I1-SENT, I2-SENT, I2BIS-SENT).
    pub fn answered_by(&self, init_nonce: u32, path: &Path) -> bool {
        self.pending_nonce() == Some(init_nonce)
            && self.path.src == path.dst
            && (self.path.dst == path.src || self.peer_locs.contains(&path.src))
    }

    pub(super) fn on_r1(&mut self, resp_nonce: u32, validator: Validator, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        // Only I1-SENT answers an R1; elsewhere it answers a retransmitted I1.
        if self.state != State::I1Sent {
            return None;
        }
        self.state = State::I2Sent;
        self.resp = Some((resp_nonce, validator, ContextTag::default()));
        self.timer = Some(Retransmit { count: 0, at: backoff(consts::I2_TIMEOUT, 0, now, rng) });
        self.i2()
    }

    /// An R2 answered us: established, and a fork's socket's requests
    /// made good on the peer's list (maybe an Update Request).
    pub(super) fn on_r2(&mut self, ct: ContextTag, locators: &Locators, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        if !matches!(self.state, State::I1Sent | State::I2Sent | State::I2bisSent) {
            return None;
        }
        self.establish(ct, locators);
        // A fork set up with its socket's Send Timeout announces it now.
        (self.owner != 0 && self.reap.config().announced().is_some()).then(|| self.start_update(now, rng)).flatten()
    }

    pub(super) fn establish(&mut self, ct: ContextTag, locators: &Locators) {
        self.state = State::Established;
        self.ct_peer = Some(ct);
        let old = self.peer_locs;
        self.peer_locs = *locators;
        // The peer's ULID is always one of its locators; anything else
        // must have come verified in `locators`.
        self.peer_locs.push(self.ulids.peer);
        if self.peer_restricted && self.peer_locs.overlaps(&old) {
            self.peer_locs.retain(|a| old.contains(a));
            if let Some(first) = self.peer_locs.as_slice().first().filter(|_| !self.peer_locs.contains(&self.path.dst)) {
                self.path.dst = *first;
            }
        }
        self.peer_prefs = self.peer_prefs.realigned(&old, &self.peer_locs);
        self.resp = None;
        self.timer = None;
    }

    pub(super) fn on_r1bis(&mut self, resp_nonce: u32, packet_ct: ContextTag, validator: Validator, path: &Path, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        self.state = State::I2bisSent;
        self.resp = Some((resp_nonce, validator, packet_ct));
        self.init_nonce = rng.next_u64() as u32;
        // The peer's validator covers the R1bis locators: answer on them.
        self.path = path.reversed();
        self.timer = Some(Retransmit { count: 0, at: backoff(consts::I2BIS_TIMEOUT, 0, now, rng) });
        self.i2bis()
    }

    /// The peer (re)sent I2 or I2bis for this context: its tag and
    /// locators replace ours if the source locator is acceptable (§7.13,
    /// §7.20: a locator we know for the peer, or one its PDS verified).
    pub(super) fn on_i2(&mut self, ct: ContextTag, init_nonce: u32, locators: &Locators, path: &Path) -> Option<Transmit> {
        if !self.peer_locs.contains(&path.src) && !locators.contains(&path.src) {
            return None;
        }
        self.establish(ct, locators);
        Some(self.r2(init_nonce, *path))
    }

    pub(super) fn update_request(&self) -> Option<Transmit> {
        let (nonce, _) = self.update?;
        Some(Transmit {
            path: self.path,
            msg: Message::UpdateRequest {
                ct: self.ct_peer?,
                nonce,
                generation: self.local_generation,
                locators: self.local_locs,
                keepalive: self.reap.config().announced(),
            },
        })
    }

    /// Our locators changed: tell the peer with an Update Request.  Only
    /// one update is outstanding; a newer one replaces it (§10.3).
    pub fn update_locators(&mut self, locators: Locators, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        self.local_prefs = self.local_prefs.realigned(&self.local_locs, &locators);
        self.local_locs = locators;
        if !locators.contains(&self.path.src) {
            if let Some(src) = locators.as_slice().first() {
                self.path.src = *src;
            }
        }
        if self.state != State::Established {
            // I2/I2bis/R2 will carry the new list.
            return None;
        }
        self.start_update(now, rng)
    }

    /// An Update Request of a new generation, retransmitted until
    /// acknowledged.
    pub(super) fn start_update(&mut self, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        self.local_generation = rng.next_u64() as u32;
        let at = backoff(consts::UPDATE_TIMEOUT, 0, now, rng);
        self.update = Some((rng.next_u64() as u32, Retransmit { count: 0, at }));
        self.update_request()
    }

    /// Whether a control message of type 64-127 on `path` fits this
    /// context (§10.4 step 3): otherwise its sender holds a stale one.
    pub fn on_path_of_peer(&self, path: &Path) -> bool {
        self.peer_locs.contains(&path.src) && self.local_locs.contains(&path.dst)
    }

    /// An Update Request for this context (its tag and locators matched):
    /// take the new list, acknowledge.  In I2-SENT and I2BIS-SENT the
    /// I2/I2bis goes first (§10.4 step 5).
    pub(super) fn on_update_request(
        &mut self,
        nonce: u32,
        generation: u32,
        locators: &Locators,
        keepalive: Option<u16>,
        path: &Path,
    ) -> [Option<Transmit>; 2] {
        let first = match self.state {
            State::Established => None,
            State::I2Sent => self.i2(),
            State::I2bisSent => self.i2bis(),
            _ => return [None, None],
        };
        let Some(ct) = self.ct_peer else { return [first, None] };
        let ack = Transmit { path: path.reversed(), msg: Message::UpdateAck { ct, nonce } };
        // A list we held before is a replay, which would roll the list
        // back: dropped.  A retransmission of the one we hold, or a list
        // without a verified locator, is acknowledged and changes nothing.
        if self.seen_generations.contains(&Some(generation)) {
            return [first, None];
        }
        // The peer's Send Timeout, which it announces in every Update
        // Request while it is not the default: our Keepalive Timeout.
        let seconds = keepalive.filter(|&s| s != 0).map(Millis::from);
        self.reap.set_keepalive_timeout(seconds.map_or(reap::reap_consts::SEND_TIMEOUT, |s| s * 1000));
        if self.peer_generation == Some(generation) || locators.as_slice().is_empty() {
            return [first, Some(ack)];
        }
        let was = self.peer_locs;
        self.peer_locs = *locators;
        self.peer_locs.push(self.ulids.peer);
        self.peer_prefs = self.peer_prefs.realigned(&was, &self.peer_locs);
        if let Some(old) = self.peer_generation.replace(generation) {
            self.seen_generations.rotate_right(1);
            if let Some(first) = self.seen_generations.first_mut() {
                *first = Some(old);
            }
        }
        if !self.peer_locs.contains(&self.path.dst) {
            // Our destination left the peer's list: REAP will pick among
            // the new ones; until then, the one the update came from.
            self.path.dst = path.src;
        }
        [first, Some(ack)]
    }

    pub(super) fn on_update_ack(&mut self, nonce: u32) {
        // Acks of abandoned updates are ignored.
        if self.update.is_some_and(|(n, _)| n == nonce) {
            self.update = None;
        }
    }

    /// Generation of the peer's last verified Locator List, if any.
    pub fn peer_generation(&self) -> Option<u32> {
        self.peer_generation
    }

    /// Whether an Update Request of ours waits for its acknowledgement.
    pub fn update_pending(&self) -> bool {
        self.update.is_some()
    }

    /// Where outgoing payload of this context goes (see [`Route::out`]).
    pub fn payload_out(&self) -> Option<(Path, ContextTag)> {
        self.route().out(None, None)
    }

    /// Payload with our tag arrived on `path` (§12.2): the ULIDs to
    /// restore, and in I2-SENT/I2BIS-SENT the I2/I2bis to send first;
    /// `None` to drop it (I1-SENT, or locators not of this context).
    pub fn payload_in(&self, path: &Path) -> Option<(UlidPair, Option<Transmit>)> {
        let ours = self.local_locs.contains(&path.dst) || path.dst == self.ulids.local;
        let theirs = self.peer_locs.contains(&path.src) || path.src == self.ulids.peer;
        if !ours || !theirs {
            return None;
        }
        let first = match self.state {
            State::Established => None,
            State::I2Sent => Some(self.i2()?),
            State::I2bisSent => Some(self.i2bis()?),
            State::I1Sent | State::EFailed | State::NoSupport => return None,
        };
        Some((self.ulids, first))
    }

    /// Payload that [`Context::payload_in`] accepted came in on `path`:
    /// the route lets the next on that pair through without this check
    /// ([`Route::heard`]).
    pub fn heard_on(&mut self, path: &Path) {
        self.heard = Some(*path);
    }

    /// Whether `addr` is one of our locators in this context.
    pub fn has_local(&self, addr: &Addr) -> bool {
        self.local_locs.contains(addr) || *addr == self.ulids.local
    }

    /// Of `addrs` (an interface's, for `SHIM_IF_SEND`), the locator of
    /// ours a datagram leaves from: the current one if it is there, else
    /// the first of our locators in the context's order.
    pub fn local_among(&self, addrs: &[Addr]) -> Option<Addr> {
        if addrs.contains(&self.path.src) {
            return Some(self.path.src);
        }
        self.local_locs.as_slice().iter().chain([&self.ulids.local]).find(|a| addrs.contains(a)).copied()
    }

    /// Whether payload of this context may go on `path`: our locator or
    /// ULID to a verified locator of the peer or its ULID.
    pub fn may_send_on(&self, path: &Path) -> bool {
        self.has_local(&path.src) && (path.dst == self.ulids.peer || self.has_peer(&path.dst))
    }

    /// Whether `addr` is a verified locator of the peer (only an
    /// established context has verified ones).
    pub fn has_peer(&self, addr: &Addr) -> bool {
        self.state == State::Established && self.peer_locs.contains(addr)
    }

    /// Offers the peer only `keep` of our locators (`SHIM_LOCLIST_LOCAL`):
    /// the Update Request saying so, or `Err(NotOurs)`, changing nothing, if
    /// one of them is not ours.
    pub fn restrict_local(&mut self, keep: &Locators, prefs: Preferences, now: Millis, rng: &mut impl Random) -> Result<Option<Transmit>, NotOurs> {
        if keep.as_slice().is_empty() || !keep.as_slice().iter().all(|a| self.has_local(a)) {
            return Err(NotOurs);
        }
        let tx = self.update_locators(*keep, now, rng);
        self.local_prefs = prefs;
        Ok(tx)
    }

    /// Whether the host may forget this context, last used at
    /// `last_used`: established, no update outstanding, idle for
    /// [`consts::IDLE_TIMEOUT`].  Contexts being set up or held down have
    /// timers of their own; a socket's fork lives as long as the socket
    /// ([`Endpoint::release`]).
    pub fn collectable(&self, last_used: Millis, now: Millis) -> bool {
        self.owner == 0
            && self.state == State::Established
            && self.update.is_none()
            && now.saturating_sub(last_used) >= consts::IDLE_TIMEOUT
    }

    /// How readily this context, last used at `last_used`, gives its slot
    /// to a new one when the table is full: lower goes first, `None` never.
    /// Held-down contexts (E-FAILED, NO-SUPPORT) go first, then those
    /// still waiting for an R1 (an I1 to a spoofed source never gets one),
    /// then established ones idle for [`consts::EVICT_IDLE`]; within each,
    /// the longest unused goes first, so that a flood evicts its own old
    /// entries rather than each newcomer the previous one.  Contexts in
    /// use or half set up (I2 answered by the peer) stay.
    pub fn eviction_rank(&self, last_used: Millis, now: Millis) -> Option<u64> {
        const AGE_BITS: u32 = 48;
        let idle = now.saturating_sub(last_used).min((1 << AGE_BITS) - 1);
        let class: u64 = match self.state {
            State::EFailed | State::NoSupport => 0,
            State::I1Sent => 1,
            State::Established if self.update.is_none() && idle >= consts::EVICT_IDLE => 2,
            _ => return None,
        };
        Some((class << AGE_BITS) | ((1 << AGE_BITS) - 1 - idle))
    }

    /// What another context may be confused with (§7.6): a copy of
    /// the few fields that decide it, so that the table can be searched
    /// while this context is borrowed from it, without copying the context
    /// (a kilobyte, on the stack of the receive path).  `None` without a
    /// peer tag.
    pub fn confusion(&self) -> Option<Confusion> {
        Some(Confusion { ct_peer: self.ct_peer?, peer_locs: self.peer_locs, ulids: self.ulids, fii: self.fii })
    }

    /// Confusion (§7.6): `self` is an older context whose peer tag and
    /// locators clash with `new`'s; the peer must have lost it.
    pub fn confused_with(&self, new: &Confusion) -> bool {
        matches!(self.state, State::Established | State::I2bisSent)
            && self.ct_peer == Some(new.ct_peer)
            && self.peer_locs.overlaps(&new.peer_locs)
            && (self.ulids != new.ulids || self.fii != new.fii)
    }
}

/// REAP on a context (RFC 5534): only an established one takes part.
impl Context {

    /// Its REAP state.
    pub fn reap_state(&self) -> ReapState {
        self.reap.state()
    }

    /// When REAP next needs the timer, given the context's traffic.
    pub fn reap_deadline(&self, traffic: &Traffic) -> Option<Millis> {
        (self.state == State::Established).then(|| self.reap.deadline(traffic)).flatten()
    }

    /// REAP's timer: a Keepalive or Probe to send, maybe.
    pub fn reap_timeout(&mut self, now: Millis, traffic: &Traffic, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        let (reap, pairs) = self.reap_and_pairs();
        let out = reap.on_timeout(now, traffic, &pairs, rng);
        self.apply(out)
    }

    /// Whether REAP moved the context to another pair after `at`.
    pub fn reap_moved_after(&self, at: Millis) -> bool {
        self.reap.moved_after(at)
    }

    /// Whether REAP moved the context to another pair at `at` or later.
    pub fn reap_moved_since(&self, at: Millis) -> bool {
        self.reap.moved_since(at)
    }

    /// Negative feedback: an upper layer found the peer unreachable with
    /// what it sent at `sent`; the peer's payload last came in at
    /// `last_received`.
    pub fn reap_unreachable(&mut self, now: Millis, sent: Millis, last_received: Millis, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        let (reap, pairs) = self.reap_and_pairs();
        let out = reap.on_unreachable(now, sent, last_received, &pairs, rng);
        self.apply(out)
    }

    /// The hot-standby pair (`SHIM_HOT_STANDBY`), once REAP chose one,
    /// and how many failures switched to such a pair.
    pub fn reap_standby(&self) -> (Option<reap::Standby>, u32) {
        (self.reap.standby(), self.reap.standby_switches())
    }

    /// How REAP runs on this context.
    pub fn reap_config(&self) -> ReapConfig {
        self.reap.config()
    }

    /// The peer's Send Timeout, as it announced it (our Keepalive Timeout).
    pub fn peer_send_timeout(&self) -> Millis {
        self.reap.keepalive_timeout()
    }

    /// An application set how REAP runs (`SHIM_PATHEXPLORE`,
    /// `SHIM_APP_TIMEOUT`): a new Send Timeout is announced to the peer
    /// in an Update Request.
    pub fn set_reap_config(&mut self, config: ReapConfig, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        let announce = config.announced() != self.reap.config().announced();
        self.reap.set_config(config);
        (announce && self.state == State::Established).then(|| self.start_update(now, rng)).flatten()
    }

    /// Feedback of an application on the current pair (`SHIM_FEEDBACK`):
    /// unable to connect or unsatisfactory explores now (the other pairs
    /// first; payload stays on the current pair until one is proven),
    /// satisfactory counts as hearing the peer.  Either direction: REAP
    /// proves pairs both ways at once.
    pub fn reap_feedback(&mut self, reachable: bool, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        self.log.feedback(reachable);
        if reachable {
            self.reap.on_satisfactory(now);
            return None;
        }
        let (reap, pairs) = self.reap_and_pairs();
        let out = reap.on_feedback(now, &pairs, rng);
        self.apply(out)
    }

    /// A Keepalive arrived on `path`.
    pub(super) fn on_keepalive(&mut self, now: Millis, path: &Path, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        let out = self.reap.on_keepalive(now, path, rng);
        self.apply(out)
    }

    /// A Probe arrived on `path`.
    pub(super) fn on_probe(&mut self, now: Millis, path: &Path, probe: &PeerProbe<'_>, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        self.log.probe_heard(*path, probe.state);
        let (reap, pairs) = self.reap_and_pairs();
        let out = reap.on_probe(now, path, probe, &pairs, rng);
        self.apply(out)
    }

    /// Payload arrived on `path` while REAP explores.
    pub fn reap_payload(&mut self, now: Millis, path: &Path, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        let out = self.reap.on_payload(now, path, rng);
        self.apply(out)
    }

    /// Takes the pair REAP moved to, and makes its signal a message.
    /// REAP, and the pairs it may move to: ours against the peer's.
    fn reap_and_pairs(&mut self) -> (&mut Reap, Pairs<'_>) {
        (&mut self.reap, Pairs { current: self.path, local: self.local_locs.as_slice(), peer: self.peer_locs.as_slice() })
    }

    fn apply(&mut self, out: ReapOut) -> Option<Transmit> {
        if let Some(p) = out.moved {
            self.path = p;
        }
        let ct = self.ct_peer?;
        Some(match out.tx? {
            Signal::Keepalive(path) => Transmit { path, msg: Message::Keepalive { ct } },
            Signal::Probe { path, state, sent, received } => {
                self.log.probe_sent(path, state);
                Transmit { path, msg: Message::Probe { ct, state, sent, received } }
            }
        })
    }
}

/// What the packet path needs of a context, copied out of it so that
/// packets are handled without the table's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The context's ULIDs.
    pub ulids: UlidPair,
    /// Its Forked Instance Identifier: a socket that forked a context
    /// sends on it, every other packet on the context of FII 0.
    pub fii: u32,
    /// Our tag: payload carrying it is for this context.
    pub ct_local: ContextTag,
    /// The peer's tag, while payload may be rewritten (§11).
    pub ct_peer: Option<ContextTag>,
    /// The current locator pair.
    pub path: Path,
    /// ESTABLISHED: payload on the current pair or the ULIDs needs no
    /// further check.
    pub established: bool,
    /// The pair the peer's payload last came in on, while it is still a
    /// pair of the context's locators: payload on it needs no further
    /// check either.  Each side picks the pair it sends on, so without
    /// this a peer that moved (and we did not) had every packet checked
    /// under the namespace's lock.
    pub heard: Option<Path>,
    /// I1-SENT or I2-SENT: the context is being set up.
    pub setting_up: bool,
    /// REAP explores (RFC 5534 §6): payload that arrives must reach it.
    pub exploring: bool,
    /// Our Initiator Nonce while an R1 or R2 may answer it (I1-SENT,
    /// I2-SENT, I2BIS-SENT): the control plane finds the context by it.
    pub init_nonce: Option<u32>,
    /// REAP's Send Timeout and the interval of its Keepalives, in ms: the
    /// packet path that starts either timer makes the host's timer fire by
    /// its end.
    pub reap_timers: (u32, u32),
}

impl Context {
    /// The route of this context.
    pub fn route(&self) -> Route {
        Route {
            ulids: self.ulids,
            fii: self.fii,
            ct_local: self.ct_local,
            ct_peer: self.ct_peer.filter(|_| self.rewrites()),
            path: self.path,
            established: self.state == State::Established,
            setting_up: matches!(self.state, State::I1Sent | State::I2Sent),
            exploring: self.state == State::Established && self.reap.state() == ReapState::Exploring,
            init_nonce: self.pending_nonce(),
            reap_timers: self.reap.timer_spans(),
            // The check payload_in makes, against the locators as they are
            // now: a locator that left takes its pair out of the route.
            heard: self.heard.filter(|p| self.state == State::Established && self.payload_in(p).is_some()),
        }
    }
}

impl Route {
    /// Where a packet of this context goes: the locator pair and the
    /// peer's tag for the payload extension header, or `None` to leave it
    /// untouched.  `src`/`dst` are the socket's or datagram's own choice
    /// (`SHIM_LOC_*_SEND`), verified when it was made.
    pub fn out(&self, src: Option<Addr>, dst: Option<Addr>) -> Option<(Path, ContextTag)> {
        let ct = self.ct_peer?;
        let path = self.path_with(src, dst);
        (path.src != self.ulids.local || path.dst != self.ulids.peer).then_some((path, ct))
    }

    /// The current pair, with `src` and `dst` in place of its own where
    /// given.
    pub fn path_with(&self, src: Option<Addr>, dst: Option<Addr>) -> Path {
        Path { src: src.unwrap_or(self.path.src), dst: dst.unwrap_or(self.path.dst) }
    }

    /// The ULIDs of payload that arrived on `path` with our tag, when no
    /// check beyond this snapshot is needed (ESTABLISHED and not
    /// exploring, on the current pair reversed, on the ULIDs or on the
    /// pair last heard).
    pub fn restore(&self, path: &Path) -> Option<UlidPair> {
        if self.exploring {
            return None;
        }
        let on_ulids = path.src == self.ulids.peer && path.dst == self.ulids.local;
        let on_path = path.src == self.path.dst && path.dst == self.path.src;
        let on_heard = self.heard == Some(*path);
        (self.established && (on_ulids || on_path || on_heard)).then_some(self.ulids)
    }
}
