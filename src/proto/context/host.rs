// SPDX-License-Identifier: GPL-2.0

//! A host's contexts together: the table they live in, and the receive
//! side that dispatches control messages to them or to the responder.

use super::*;

/// The caller's table of contexts.
pub trait Table {
    /// Every context.
    fn contexts(&self) -> impl Iterator<Item = &Context>;
    /// Every context, to change.
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context>;
    /// Runs `f` on every context with its traffic (for timers and
    /// collection); those for which `f` says `false` leave the table.
    fn sweep(&mut self, f: impl FnMut(&mut Context, &Traffic) -> bool);
    /// Stores a copy of a new context; `false` when the table is full.
    /// By reference: a context is nearly two kilobytes, and the I2 path
    /// that ends here runs in softirq on a 16 KiB stack, where a second
    /// copy by value in the caller's frame counts.
    fn insert(&mut self, ctx: &Context) -> bool;
    /// Discards every context other than the new one that is confused
    /// with it (§7.6: the host must not send on them again).
    fn drop_confused(&mut self, new: &Confusion);

    /// The context of `ulids` and `fii`.
    fn by_ulids(&mut self, ulids: &UlidPair, fii: u32) -> Option<&mut Context> {
        self.contexts_mut().find(|c| c.ulids() == *ulids && c.fii() == fii)
    }
    /// The context an R1 or R2 with `init_nonce` on `path` answers.
    fn by_nonce(&mut self, init_nonce: u32, path: &Path) -> Option<&mut Context> {
        self.contexts_mut().find(|c| c.answered_by(init_nonce, path))
    }
    /// The context whose peer tag is `ct` and whose current path is
    /// `path` reversed (R1bis matching, §7.18).
    fn by_peer_tag(&mut self, ct: ContextTag, path: &Path) -> Option<&mut Context> {
        self.contexts_mut()
            .find(|c| c.ct_peer() == Some(ct) && c.path() == path.reversed())
    }
    /// The context whose local tag is `ct`.
    fn by_local_tag(&mut self, ct: ContextTag) -> Option<&mut Context> {
        self.contexts_mut().find(|c| c.ct_local() == ct)
    }
    /// Whether some context uses `ct` as its local tag.
    fn tag_in_use(&self, ct: ContextTag) -> bool {
        self.contexts().any(|c| c.ct_local() == ct)
    }
}

/// What the host knows about itself.
pub struct Host {
    /// The stateless responder.
    pub responder: Responder,
    /// Our locators, verified (in the HBA set).
    pub locators: Locators,
    /// Rate limits.
    pub limits: Limits,
}

/// Why a received control message was refused: nothing changed, nothing
/// answered.  The caller counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A multicast, unspecified, loopback or link-local locator.
    NotShimmable,
    /// An I2 or I2bis whose Responder Validator we did not make, or too old.
    BadValidator,
    /// Over a rate limit (R1 and R1bis answers, new contexts).
    RateLimited,
    /// An I2 or I2bis from a source that is neither the peer ULID it names
    /// nor a verified locator of it, or naming a ULID of ours we do not have.
    Unverified,
    /// An R1, R2 or R1bis that answers no context of ours.
    NoContext,
    /// An Update Request carrying a list the context held before.
    Replay,
    /// A new context, and no room for it.
    TableFull,
    /// Our own MAC failed (out of memory in the crypto layer).
    MacFailed,
}

impl Refusal {
    /// Every refusal, in a fixed order (for counters).
    pub const ALL: [Refusal; 8] = [
        Refusal::NotShimmable,
        Refusal::BadValidator,
        Refusal::RateLimited,
        Refusal::Unverified,
        Refusal::NoContext,
        Refusal::Replay,
        Refusal::TableFull,
        Refusal::MacFailed,
    ];

    /// Its name, for counters.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::NotShimmable => "refused_not_shimmable",
            Refusal::BadValidator => "refused_bad_validator",
            Refusal::RateLimited => "refused_rate_limited",
            Refusal::Unverified => "refused_unverified",
            Refusal::NoContext => "refused_no_context",
            Refusal::Replay => "refused_replay",
            Refusal::TableFull => "refused_table_full",
            Refusal::MacFailed => "refused_mac_failed",
        }
    }

    /// Its position in [`Refusal::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a context's timer asks of the host ([`Context::on_timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Nothing to send now.
    Wait,
    /// A retransmission (I1, I2, I2bis, Update Request) or a new I1.
    Send(Transmit),
    /// Hold-down over: forget the context (back to IDLE).
    Forget,
}

impl From<Option<Transmit>> for Timeout {
    fn from(tx: Option<Transmit>) -> Self {
        tx.map_or(Timeout::Wait, Timeout::Send)
    }
}

/// What receiving a control message did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What to send back, in order (at most two: an Update Request in
    /// I2-SENT is answered with the I2 and then the Update Acknowledgement).
    pub tx: [Option<Transmit>; 2],
    /// Whether what the packet path reads ([`Route`]s) changed: a context
    /// came, went or moved.
    pub changed: bool,
    /// Why the message was refused, if it was.
    pub refused: Option<Refusal>,
}

impl Outcome {
    fn send(tx: Option<Transmit>, changed: bool) -> Self {
        Outcome { tx: [tx, None], changed, refused: None }
    }

    fn refused(why: Refusal) -> Self {
        Outcome { refused: Some(why), ..Outcome::default() }
    }

    fn answer(r: Result<Transmit, Refusal>) -> Self {
        match r {
            Ok(tx) => Outcome::send(Some(tx), true),
            Err(why) => Outcome::refused(why),
        }
    }
}

/// A control message received on `path`, with the ULID pair its header or
/// ULID Pair option names.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    /// The locators it came on.
    pub path: Path,
    /// The message.
    pub msg: Message,
}

impl Host {
    /// A host with default rate limits.
    pub fn new(responder: Responder, locators: Locators) -> Self {
        Host { responder, locators, limits: Limits::default() }
    }

    /// Whether a new context may be started now (rate limit).
    pub fn may_initiate(&mut self, now: Millis) -> bool {
        self.limits.setups.allow(now)
    }

    /// Whether the Responder Validator of an I2 or I2bis received on
    /// `path` is one we made (§7.13 step 2, §7.20 step 2); every other
    /// message passes.  Cheap (one MAC): callers check it before costly
    /// work such as verifying the message's locators.
    pub fn validates(&mut self, msg: &Message, path: &Path, now: Millis, mac: &mut impl Mac) -> bool {
        let reply = path.reversed();
        match *msg {
            Message::I2 { ct, resp_nonce, validator, ulids, fii, .. } => {
                let ulids = ulids.unwrap_or(UlidPair { local: path.dst, peer: path.src });
                let ctb = ct.get().to_be_bytes();
                let fiib = fii.to_be_bytes();
                self.responder.check(mac, resp_nonce, &validator, now, &i1_parts(&ctb, &ulids, &reply, &fiib))
            }
            Message::I2bis { resp_nonce, packet_ct, validator, .. } => {
                let ctb = packet_ct.get().to_be_bytes();
                // The R1bis covered the triggering packet's locators, which
                // the I2bis travels on again.
                self.responder.check(mac, resp_nonce, &validator, now, &[&ctb, &path.src, &path.dst])
            }
            _ => true,
        }
    }

    /// The locators of a context whose ULID is `ulid`: the ULID, which
    /// is always one, and our verified ones if the ULID is one of them.
    /// The HBA set vouches for its members together (RFC 5535 §7.2): a
    /// ULID outside it has no other locator, and a peer would refuse a
    /// list that the set's PDS does not bind to that ULID.
    pub fn locators_for(&self, ulid: &Addr) -> Locators {
        let mut l = Locators::new(&[*ulid]);
        if self.locators.contains(ulid) {
            for a in self.locators.as_slice() {
                l.push(*a);
            }
        }
        l
    }

    /// A context tag no context of `table` uses (§7.1).
    pub fn fresh_tag(table: &impl Table, rng: &mut impl Random) -> ContextTag {
        loop {
            let t = ContextTag::from_masked(rng.next_u64());
            if t.get() != 0 && !table.tag_in_use(t) {
                return t;
            }
        }
    }

    /// Handles one received control message: what to send back, and
    /// whether the packet path must see the table again.
    pub fn receive(
        &mut self,
        table: &mut impl Table,
        rx: &Received,
        now: Millis,
        rng: &mut impl Random,
        mac: &mut impl Mac,
    ) -> Outcome {
        let path = &rx.path;
        // Multicast, unspecified, loopback or link-local locators: nothing
        // to answer (an I1 to ff02::1 must not make every host reply).
        if !shimmable(&path.src) || !shimmable(&path.dst) {
            return Outcome::refused(Refusal::NotShimmable);
        }
        let (ct, update) = match rx.msg {
            Message::UpdateRequest { ct, nonce, generation, locators, keepalive } => {
                (ct, Some((nonce, generation, locators, keepalive)))
            }
            Message::UpdateAck { ct, .. } | Message::Keepalive { ct } | Message::Probe { ct, .. } => (ct, None),
            _ => return self.receive_setup(table, rx, now, rng, mac),
        };
        // Types 64-127: an unknown tag, or a known one on locators the
        // context does not have, means the sender's context is stale.
        let Some(ctx) = table.by_local_tag(ct).filter(|c| c.on_path_of_peer(path)) else {
            return match self.unknown_tag(ct, path, now, rng, mac) {
                Ok(r1bis) => Outcome::send(Some(r1bis), false),
                Err(why) => Outcome::refused(why),
            };
        };
        if update.is_some_and(|(_, generation, _, _)| ctx.seen_generations.contains(&Some(generation))) {
            return Outcome::refused(Refusal::Replay);
        }
        let before = ctx.route();
        let tx = match (update, rx.msg) {
            (Some((nonce, generation, locators, keepalive)), _) => {
                ctx.on_update_request(nonce, generation, &locators, keepalive, path)
            }
            (None, Message::Keepalive { .. }) => [ctx.on_keepalive(now, path, rng), None],
            (None, Message::Probe { state, sent, received, .. }) => {
                let probe = PeerProbe { state, sent: sent.as_slice(), received: received.as_slice() };
                [ctx.on_probe(now, path, &probe, rng), None]
            }
            (None, Message::UpdateAck { nonce, .. }) => {
                // §10.5 says R2 for I2-SENT and I2BIS-SENT; the reference
                // reads it as a typo for I2/I2bis, as in §10.4.
                let first = match ctx.state {
                    State::I2Sent => ctx.i2(),
                    State::I2bisSent => ctx.i2bis(),
                    State::Established => None,
                    _ => return Outcome::default(),
                };
                ctx.on_update_ack(nonce);
                [first, None]
            }
            _ => [None, None],
        };
        Outcome { tx, changed: ctx.route() != before, refused: None }
    }

    fn receive_setup(
        &mut self,
        table: &mut impl Table,
        rx: &Received,
        now: Millis,
        rng: &mut impl Random,
        mac: &mut impl Mac,
    ) -> Outcome {
        self.responder.rotate(now, rng);
        let path = &rx.path;
        let reply = path.reversed();
        if !self.validates(&rx.msg, path, now, mac) {
            return Outcome::refused(Refusal::BadValidator);
        }
        let tx = match rx.msg {
            Message::I1 { ct, nonce, ulids, fii } => {
                let moved = ulids.is_some();
                let ulids = ulids.unwrap_or(UlidPair { local: path.dst, peer: path.src });
                if let Some(ctx) = table.by_ulids(&ulids, fii) {
                    // Concurrent setup, or our R2 was lost: answer from
                    // the context.  A different tag, or locators we do not
                    // know, on an established context mean the peer
                    // restarts: R1, and the old context lives until the
                    // I2 (§7.6, §7.9).
                    let restarted = ctx.state == State::Established
                        && (ctx.ct_peer != Some(ct) || (moved && !ctx.peer_locs.contains(&path.src)));
                    // The R2 carries our tag and locators: it goes only to
                    // a locator of the peer's we know, never to whatever
                    // source an I1 claims (that gets the stateless R1).
                    let known = ctx.peer_locs.contains(&path.src) || path.src == ctx.ulids.peer;
                    let live = matches!(ctx.state, State::I1Sent | State::I2Sent | State::I2bisSent | State::Established);
                    if !restarted && live && known {
                        return Outcome::send(Some(ctx.r2(nonce, *path)), false);
                    }
                }
                if !self.limits.responses.allow(now) {
                    return Outcome::refused(Refusal::RateLimited);
                }
                let resp_nonce = Responder::nonce(now);
                let ctb = ct.get().to_be_bytes();
                let fiib = fii.to_be_bytes();
                let Some(validator) = self.responder.validator(mac, resp_nonce, now, &i1_parts(&ctb, &ulids, &reply, &fiib))
                else {
                    return Outcome::refused(Refusal::MacFailed);
                };
                Some(Transmit { path: reply, msg: Message::R1 { init_nonce: nonce, resp_nonce, validator } })
            }
            Message::R1 { init_nonce, resp_nonce, validator } => {
                let Some(ctx) = table.by_nonce(init_nonce, path) else { return Outcome::refused(Refusal::NoContext) };
                let before = ctx.route();
                let tx = ctx.on_r1(resp_nonce, validator, now, rng);
                return Outcome::send(tx, ctx.route() != before);
            }
            Message::I2 { ct, init_nonce, ulids, fii, locators, .. } => {
                let ulids = ulids.unwrap_or(UlidPair { local: path.dst, peer: path.src });
                return Outcome::answer(self.accept_peer(table, ulids, fii, ct, init_nonce, &locators, path, now, rng));
            }
            Message::R2 { ct, init_nonce, locators } => {
                let Some(ctx) = table.by_nonce(init_nonce, path) else { return Outcome::refused(Refusal::NoContext) };
                let update = ctx.on_r2(ct, &locators, now, rng);
                if let Some(new) = ctx.confusion() {
                    table.drop_confused(&new);
                }
                return Outcome::send(update, true);
            }
            Message::R1bis { packet_ct, resp_nonce, validator } => {
                let Some(ctx) = table.by_peer_tag(packet_ct, path) else { return Outcome::refused(Refusal::NoContext) };
                let before = ctx.route();
                let tx = ctx.on_r1bis(resp_nonce, packet_ct, validator, path, now, rng);
                return Outcome::send(tx, ctx.route() != before);
            }
            Message::UpdateRequest { .. } | Message::UpdateAck { .. } | Message::Keepalive { .. } | Message::Probe { .. } => None,
            Message::I2bis { ct, init_nonce, ulids, fii, locators, .. } => {
                let ulids = ulids.unwrap_or(UlidPair { local: path.dst, peer: path.src });
                return Outcome::answer(self.accept_peer(table, ulids, fii, ct, init_nonce, &locators, path, now, rng));
            }
        };
        Outcome::send(tx, false)
    }

    /// A context tag matched no context (payload or control type 64-127,
    /// §7.17): the R1bis to send back, statelessly.
    pub fn unknown_tag(
        &mut self,
        packet_ct: ContextTag,
        path: &Path,
        now: Millis,
        rng: &mut impl Random,
        mac: &mut impl Mac,
    ) -> Result<Transmit, Refusal> {
        if !shimmable(&path.src) || !shimmable(&path.dst) {
            return Err(Refusal::NotShimmable);
        }
        if !self.limits.responses.allow(now) {
            return Err(Refusal::RateLimited);
        }
        self.responder.rotate(now, rng);
        let resp_nonce = Responder::nonce(now);
        let ctb = packet_ct.get().to_be_bytes();
        // Over the locators of the received packet, as its sender will
        // use them reversed for the I2bis.
        let validator =
            self.responder.validator(mac, resp_nonce, now, &[&ctb, &path.src, &path.dst]).ok_or(Refusal::MacFailed)?;
        Ok(Transmit {
            path: path.reversed(),
            msg: Message::R1bis { packet_ct, resp_nonce, validator },
        })
    }

    /// An I2 or I2bis with a valid validator: create or update the
    /// context, answer R2.
    ///
    /// The validator shows that the sender receives at the source locator
    /// (return routability), not that it speaks for the peer's ULID: a new
    /// context needs the source to be that ULID or a locator its PDS
    /// verified (§7.13, §7.20 and RFC 5535 §7.2), so that no third host
    /// can set up a context that sends the peer's traffic to itself.
    #[allow(clippy::too_many_arguments)]
    fn accept_peer(
        &mut self,
        table: &mut impl Table,
        ulids: UlidPair,
        fii: u32,
        ct: ContextTag,
        init_nonce: u32,
        locators: &Locators,
        path: &Path,
        now: Millis,
        rng: &mut impl Random,
    ) -> Result<Transmit, Refusal> {
        if let Some(ctx) = table.by_ulids(&ulids, fii) {
            let tx = ctx.on_i2(ct, init_nonce, locators, path).ok_or(Refusal::Unverified)?;
            if let Some(new) = ctx.confusion() {
                table.drop_confused(&new);
            }
            return Ok(tx);
        }
        if !shimmable(&ulids.local) || !shimmable(&ulids.peer) {
            return Err(Refusal::NotShimmable);
        }
        // Our ULID is where the I2 came to, or one of our locators.
        if ulids.local != path.dst && !self.locators.contains(&ulids.local) {
            return Err(Refusal::Unverified);
        }
        if path.src != ulids.peer && !locators.contains(&path.src) {
            return Err(Refusal::Unverified);
        }
        if !self.limits.setups.allow(now) {
            return Err(Refusal::RateLimited);
        }
        let ct_local = Self::fresh_tag(table, rng);
        let mut ctx = Context::fresh(State::Established, ulids, fii, ct_local, path.reversed());
        ctx.local_locs = self.locators_for(&ulids.local);
        ctx.establish(ct, locators);
        let tx = ctx.r2(init_nonce, *path);
        if let Some(new) = ctx.confusion() {
            table.drop_confused(&new);
        }
        if table.insert(&ctx) {
            Ok(tx)
        } else {
            Err(Refusal::TableFull)
        }
    }
}
