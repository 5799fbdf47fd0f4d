// SPDX-License-Identifier: GPL-2.0

//! The SHIM6 context state machine (RFC 5533 §6, §7, App B), sans-IO.
//!
//! Nothing here sends, sleeps or reads a clock.  The caller hands in the
//! control messages it received (already parsed, their locators already
//! verified), the time `now` and a source of randomness, and gets back
//! at most one message to send.  A context tells when it next wants
//! [`Context::on_timeout`] through [`Context::deadline`].
//!
//! Contexts live in the caller's table ([`Table`]): the kernel keeps them
//! in a per-namespace table read under RCU, the host tests in a `Vec`.
//! [`Host::receive`] is the whole receive-side dispatch, so the kernel
//! glue only parses, looks up and sends.
//!
//! Where the RFC contradicts itself the choices are those of the
//! reference (`shared/spec/shim6-protocol-reference.md`): a Parameter
//! Problem for our I1 leads to NO-SUPPORT; the Initiator Nonce is not a
//! validator input; I1 and I2 reuse one Initiator Nonce; I2bis goes out on
//! the R1bis locator pair reversed.

/// An IPv6 address (ULID or locator).
pub type Addr = [u8; 16];
/// A 47-bit context tag.
pub type Tag = u64;
/// Monotonic time in milliseconds.
pub type Millis = u64;

/// Context tags are 47 bits.
pub const TAG_MASK: Tag = (1 << 47) - 1;
/// Most locators a context keeps per side.
pub const MAX_LOCATORS: usize = 16;
/// Octets of a Responder Validator.
pub const VALIDATOR_LEN: usize = 32;

/// RFC 5533 §14 constants, in milliseconds where they are times.
pub mod consts {
    use super::Millis;
    /// First I1 retransmission timeout (nominal).
    pub const I1_TIMEOUT: Millis = 4_000;
    /// I1 retransmissions before E-FAILED.
    pub const I1_RETRIES_MAX: u8 = 4;
    /// Negative cache after no answer (E-FAILED).
    pub const NO_R1_HOLDDOWN_TIME: Millis = 60_000;
    /// Negative cache after an ICMPv6 Parameter Problem (NO-SUPPORT).
    pub const ICMP_HOLDDOWN_TIME: Millis = 600_000;
    /// First I2 retransmission timeout (nominal).
    pub const I2_TIMEOUT: Millis = 4_000;
    /// I2 retransmissions before falling back to I1.
    pub const I2_RETRIES_MAX: u8 = 2;
    /// First I2bis retransmission timeout (nominal).
    pub const I2BIS_TIMEOUT: Millis = 4_000;
    /// I2bis retransmissions before falling back to I1.
    pub const I2BIS_RETRIES_MAX: u8 = 2;
    /// Responder nonces at least this old are still accepted.
    pub const VALIDATOR_MIN_LIFETIME: Millis = 30_000;
    /// First Update Request retransmission timeout (nominal).
    pub const UPDATE_TIMEOUT: Millis = 4_000;
    /// Cap of the Update Request backoff (before randomization).
    pub const MAX_UPDATE_TIMEOUT: Millis = 120_000;
    /// An established context nobody used for this long is forgotten
    /// (not an RFC constant: RFC 5533 leaves garbage collection to the
    /// host; the peer recovers with R1bis if it still needs it).
    pub const IDLE_TIMEOUT: Millis = 600_000;
    /// An established context idle this long gives its slot to a new one
    /// when the table is full.
    pub const EVICT_IDLE: Millis = 30_000;
    /// The earliest deadline an event (a message, a packet to set up for,
    /// a socket option) gives a context: every first timeout is at least
    /// half its nominal 4 s (§14's randomization); later ones are set by
    /// timeouts, when the timer already runs.  The host's timer waits no
    /// longer than this after an event, then sleeps until the next
    /// deadline ([`Context::next_event`](super::Context::next_event)).
    pub const MIN_TIMEOUT: Millis = I1_TIMEOUT / 2;
}

/// Whether `a` may be a ULID or a locator: a unicast address of global
/// scope (not unspecified, loopback, link-local, multicast or v4-mapped).
pub fn shimmable(a: &Addr) -> bool {
    let loopback = a[..15].iter().all(|&b| b == 0) && a[15] <= 1;
    let link_local = a[0] == 0xfe && a[1] & 0xc0 == 0x80;
    let multicast = a[0] == 0xff;
    let v4_mapped = a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff;
    !(loopback || link_local || multicast || v4_mapped)
}

/// Randomness, from the caller (`get_random_bytes()` in the kernel).
pub trait Random {
    /// 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// The keyed one-way function behind Responder Validators (the kernel
/// uses `hmac(sha256)`); never hand-written here.
pub trait Mac {
    /// MAC of the concatenation of `parts` under `key`; `None` when the
    /// implementation failed (then no validator is sent or accepted).
    fn mac(&mut self, key: &[u8; 32], parts: &[&[u8]]) -> Option<[u8; VALIDATOR_LEN]>;
}

/// A pair of ULIDs, as seen from this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UlidPair {
    /// Our ULID.
    pub local: Addr,
    /// The peer's ULID.
    pub peer: Addr,
}

/// A set of locators, bounded, without allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locators {
    len: u8,
    addrs: [Addr; MAX_LOCATORS],
}

impl Default for Locators {
    fn default() -> Self {
        Self { len: 0, addrs: [[0; 16]; MAX_LOCATORS] }
    }
}

impl Locators {
    /// The locators of `addrs`; those beyond [`MAX_LOCATORS`] are dropped
    /// (RFC 5533 §5.1 lets a host limit the number of locators).
    pub fn new(addrs: &[Addr]) -> Self {
        let mut l = Self::default();
        for a in addrs {
            l.push(*a);
        }
        l
    }

    /// Adds `a` unless present or full; returns whether it is present now.
    pub fn push(&mut self, a: Addr) -> bool {
        if self.contains(&a) {
            return true;
        }
        match self.addrs.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = a;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// The locators.
    pub fn as_slice(&self) -> &[Addr] {
        self.addrs.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether `a` is one of them.
    pub fn contains(&self, a: &Addr) -> bool {
        self.as_slice().contains(a)
    }

    /// Whether the two sets share a locator.
    pub fn overlaps(&self, other: &Locators) -> bool {
        self.as_slice().iter().any(|a| other.contains(a))
    }
}

/// A Responder Validator, up to [`VALIDATOR_LEN`] octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validator {
    len: u8,
    bytes: [u8; VALIDATOR_LEN],
}

impl Validator {
    /// A validator as received; `None` when longer than we ever send.
    pub fn new(v: &[u8]) -> Option<Self> {
        let mut bytes = [0; VALIDATOR_LEN];
        bytes.get_mut(..v.len())?.copy_from_slice(v);
        Some(Self { len: u8::try_from(v.len()).ok()?, bytes })
    }

    /// Its octets.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// The locator pair a message travelled on: (source, destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    /// Source locator.
    pub src: Addr,
    /// Destination locator.
    pub dst: Addr,
}

/// A control message, by meaning (the wire format is `wire`'s business).
///
/// The sender's own Locator List (with its PDS) goes into every I2, I2bis
/// and R2: the caller adds it when it emits the message (reference A.4.1:
/// always, so that confusion can be detected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// I1
    I1 {
        /// Initiator Context Tag.
        ct: Tag,
        /// Initiator Nonce.
        nonce: u32,
        /// ULID Pair option, when the locators are not the ULIDs.
        ulids: Option<UlidPair>,
        /// Forked Instance Identifier (0: none).
        fii: u32,
    },
    /// R1
    R1 {
        /// Initiator Nonce copied from the I1.
        init_nonce: u32,
        /// Responder Nonce.
        resp_nonce: u32,
        /// Responder Validator.
        validator: Validator,
    },
    /// I2
    I2 {
        /// Initiator Context Tag.
        ct: Tag,
        /// Initiator Nonce.
        init_nonce: u32,
        /// Responder Nonce from the R1.
        resp_nonce: u32,
        /// Validator copied from the R1.
        validator: Validator,
        /// ULID Pair option.
        ulids: Option<UlidPair>,
        /// Forked Instance Identifier.
        fii: u32,
        /// The sender's verified locators (its Locator List).
        locators: Locators,
    },
    /// R2
    R2 {
        /// Responder Context Tag.
        ct: Tag,
        /// Initiator Nonce of what this answers.
        init_nonce: u32,
        /// The sender's verified locators.
        locators: Locators,
    },
    /// R1bis
    R1bis {
        /// The context tag of the packet that found no context.
        packet_ct: Tag,
        /// Responder Nonce.
        resp_nonce: u32,
        /// Responder Validator.
        validator: Validator,
    },
    /// I2bis
    I2bis {
        /// Initiator Context Tag.
        ct: Tag,
        /// Initiator Nonce.
        init_nonce: u32,
        /// Responder Nonce from the R1bis.
        resp_nonce: u32,
        /// Packet Context Tag from the R1bis.
        packet_ct: Tag,
        /// Validator copied from the R1bis.
        validator: Validator,
        /// ULID Pair option.
        ulids: Option<UlidPair>,
        /// Forked Instance Identifier.
        fii: u32,
        /// The sender's verified locators.
        locators: Locators,
    },
    /// Update Request: a new locator list (§10.1).
    UpdateRequest {
        /// Receiver Context Tag.
        ct: Tag,
        /// Request Nonce.
        nonce: u32,
        /// Generation of the list.
        generation: u32,
        /// The sender's locators, verified.
        locators: Locators,
    },
    /// Update Acknowledgement (§10.4 step 9).
    UpdateAck {
        /// Receiver Context Tag.
        ct: Tag,
        /// Request Nonce copied from the Update Request.
        nonce: u32,
    },
}

/// A message to send on a locator pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where it goes.
    pub path: Path,
    /// What it says.
    pub msg: Message,
}

/// State of a context (IDLE is the absence of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// I1 sent, waiting for R1 or R2.
    I1Sent,
    /// I2 sent, waiting for R2.
    I2Sent,
    /// I2bis sent: the peer lost its context, recovery under way.
    I2bisSent,
    /// Established: payload may be rewritten.
    Established,
    /// No answer to I1: no new attempt for this ULID pair until the deadline.
    EFailed,
    /// The peer does not speak SHIM6 (ICMPv6 Parameter Problem).
    NoSupport,
}

/// The current retransmission: how many so far and when the next is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Retransmit {
    count: u8,
    at: Millis,
}

/// Nominal timeout `base * 2^k`, randomized to U[0.5, 1.5] of it (§14).
fn backoff(base: Millis, k: u8, now: Millis, rng: &mut impl Random) -> Millis {
    let nominal = base.saturating_mul(1 << k.min(16));
    let jitter = rng.next_u64() % nominal.max(1);
    now.saturating_add(nominal / 2).saturating_add(jitter)
}

/// One SHIM6 context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    state: State,
    ulids: UlidPair,
    fii: u32,
    ct_local: Tag,
    ct_peer: Option<Tag>,
    init_nonce: u32,
    /// R1/R1bis data kept for I2/I2bis retransmissions.
    resp: Option<(u32, Validator, Tag)>,
    local_locs: Locators,
    peer_locs: Locators,
    /// Current locator pair (Lp(local), Lp(peer)).
    path: Path,
    timer: Option<Retransmit>,
    /// Generation of the peer's last verified Locator List.
    peer_generation: Option<u32>,
    /// The generations it replaced, newest first: an Update Request
    /// carrying one of them is a replay.
    seen_generations: [Option<u32>; SEEN_GENERATIONS],
    /// Generation of our last Locator List sent in an update.
    local_generation: u32,
    /// The one outstanding Update Request: its nonce and retransmission.
    update: Option<(u32, Retransmit)>,
}

/// How many replaced Locator List generations a context remembers.
const SEEN_GENERATIONS: usize = 8;

/// Whether a locator pair differs from the ULIDs, so that a ULID Pair
/// option must go along.
fn ulid_option(ulids: &UlidPair, path: &Path) -> Option<UlidPair> {
    (path.src != ulids.local || path.dst != ulids.peer).then_some(*ulids)
}

impl Context {
    /// Starts a context towards `ulids.peer`: the I1 to send, and the
    /// context in I1-SENT.  `ct_local` must be unused by every other
    /// context of the host ([`Host::fresh_tag`]).
    pub fn initiate(
        ulids: UlidPair,
        fii: u32,
        ct_local: Tag,
        local_locs: Locators,
        path: Path,
        now: Millis,
        rng: &mut impl Random,
    ) -> (Self, Transmit) {
        let mut ctx = Context {
            state: State::I1Sent,
            ulids,
            fii,
            ct_local: ct_local & TAG_MASK,
            ct_peer: None,
            init_nonce: rng.next_u64() as u32,
            resp: None,
            local_locs,
            peer_locs: Locators::new(&[path.dst]),
            path,
            timer: None,
            peer_generation: None,
            seen_generations: [None; SEEN_GENERATIONS],
            local_generation: 0,
            update: None,
        };
        ctx.timer = Some(Retransmit { count: 0, at: backoff(consts::I1_TIMEOUT, 0, now, rng) });
        let tx = ctx.i1();
        (ctx, tx)
    }

    fn i1(&self) -> Transmit {
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

    fn i2(&self) -> Option<Transmit> {
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

    fn i2bis(&self) -> Option<Transmit> {
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

    fn r2(&self, init_nonce: u32, path: Path) -> Transmit {
        Transmit {
            path: Path { src: path.dst, dst: path.src },
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
    pub fn ct_local(&self) -> Tag {
        self.ct_local
    }

    /// The peer's context tag, once known.
    pub fn ct_peer(&self) -> Option<Tag> {
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

    /// Whether outgoing payload is rewritten: only ESTABLISHED and
    /// I2BIS-SENT hold the peer's tag and locators (§11).
    pub fn rewrites(&self) -> bool {
        matches!(self.state, State::Established | State::I2bisSent)
    }

    /// When [`Context::on_timeout`] is next due.
    pub fn deadline(&self) -> Option<Millis> {
        match (self.timer, self.update) {
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
    fn restart(&mut self, now: Millis, rng: &mut impl Random) -> Transmit {
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

    /// Whether this context is the one an R1 or R2 with `init_nonce` on
    /// `path` answers (§7.11, §7.16: nonce plus locators).
    pub fn answered_by(&self, init_nonce: u32, path: &Path) -> bool {
        self.init_nonce == init_nonce
            && self.path.src == path.dst
            && (self.path.dst == path.src || self.peer_locs.contains(&path.src))
    }

    fn on_r1(&mut self, resp_nonce: u32, validator: Validator, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        // Only I1-SENT answers an R1; elsewhere it answers a retransmitted I1.
        if self.state != State::I1Sent {
            return None;
        }
        self.state = State::I2Sent;
        self.resp = Some((resp_nonce, validator, 0));
        self.timer = Some(Retransmit { count: 0, at: backoff(consts::I2_TIMEOUT, 0, now, rng) });
        self.i2()
    }

    fn on_r2(&mut self, ct: Tag, locators: &Locators) {
        if matches!(self.state, State::I1Sent | State::I2Sent | State::I2bisSent) {
            self.establish(ct, locators);
        }
    }

    fn establish(&mut self, ct: Tag, locators: &Locators) {
        self.state = State::Established;
        self.ct_peer = Some(ct & TAG_MASK);
        self.peer_locs = *locators;
        // The peer's ULID is always one of its locators; anything else
        // must have come verified in `locators`.
        self.peer_locs.push(self.ulids.peer);
        self.resp = None;
        self.timer = None;
    }

    fn on_r1bis(&mut self, resp_nonce: u32, packet_ct: Tag, validator: Validator, path: &Path, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
        if self.state != State::Established {
            return None;
        }
        self.state = State::I2bisSent;
        self.resp = Some((resp_nonce, validator, packet_ct));
        self.init_nonce = rng.next_u64() as u32;
        // The peer's validator covers the R1bis locators: answer on them.
        self.path = Path { src: path.dst, dst: path.src };
        self.timer = Some(Retransmit { count: 0, at: backoff(consts::I2BIS_TIMEOUT, 0, now, rng) });
        self.i2bis()
    }

    /// The peer (re)sent I2 or I2bis for this context: its tag and
    /// locators replace ours if the source locator is acceptable (§7.13,
    /// §7.20: a locator we know for the peer, or one its PDS verified).
    fn on_i2(&mut self, ct: Tag, init_nonce: u32, locators: &Locators, path: &Path) -> Option<Transmit> {
        if !self.peer_locs.contains(&path.src) && !locators.contains(&path.src) {
            return None;
        }
        self.establish(ct, locators);
        Some(self.r2(init_nonce, *path))
    }

    fn update_request(&self) -> Option<Transmit> {
        let (nonce, _) = self.update?;
        Some(Transmit {
            path: self.path,
            msg: Message::UpdateRequest {
                ct: self.ct_peer?,
                nonce,
                generation: self.local_generation,
                locators: self.local_locs,
            },
        })
    }

    /// Our locators changed: tell the peer with an Update Request.  Only
    /// one update is outstanding; a newer one replaces it (§10.3).
    pub fn update_locators(&mut self, locators: Locators, now: Millis, rng: &mut impl Random) -> Option<Transmit> {
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
    fn on_update_request(&mut self, nonce: u32, generation: u32, locators: &Locators, path: &Path) -> [Option<Transmit>; 2] {
        let first = match self.state {
            State::Established => None,
            State::I2Sent => self.i2(),
            State::I2bisSent => self.i2bis(),
            _ => return [None, None],
        };
        let Some(ct) = self.ct_peer else { return [first, None] };
        let ack = Transmit { path: Path { src: path.dst, dst: path.src }, msg: Message::UpdateAck { ct, nonce } };
        // A list we held before is a replay, which would roll the list
        // back: dropped.  A retransmission of the one we hold, or a list
        // without a verified locator, is acknowledged and changes nothing.
        if self.seen_generations.contains(&Some(generation)) {
            return [first, None];
        }
        if self.peer_generation == Some(generation) || locators.as_slice().is_empty() {
            return [first, Some(ack)];
        }
        self.peer_locs = *locators;
        self.peer_locs.push(self.ulids.peer);
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

    fn on_update_ack(&mut self, nonce: u32) {
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
    pub fn payload_out(&self) -> Option<(Path, Tag)> {
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

    /// Whether `addr` is one of our locators in this context.
    pub fn has_local(&self, addr: &Addr) -> bool {
        self.local_locs.contains(addr) || *addr == self.ulids.local
    }

    /// Whether `addr` is a verified locator of the peer (only an
    /// established context has verified ones).
    pub fn has_peer(&self, addr: &Addr) -> bool {
        self.state == State::Established && self.peer_locs.contains(addr)
    }

    /// Makes `addr`, one of our locators, the source of this context's
    /// payload (`SHIM_LOC_LOCAL_PREF`); `false` if it is not one.
    pub fn prefer_local(&mut self, addr: &Addr) -> bool {
        let ok = self.has_local(addr);
        if ok {
            self.path.src = *addr;
        }
        ok
    }

    /// Makes `addr`, a verified locator of the peer, the destination of
    /// this context's payload (`SHIM_LOC_PEER_PREF`); `false` if it is not
    /// one.
    pub fn prefer_peer(&mut self, addr: &Addr) -> bool {
        let ok = self.has_peer(addr);
        if ok {
            self.path.dst = *addr;
        }
        ok
    }

    /// Keeps only `keep` of the peer's verified locators
    /// (`SHIM_LOCLIST_PEER`); `false`, changing nothing, if one of them is
    /// not verified.  The destination moves to the first if it left.
    pub fn restrict_peer(&mut self, keep: &Locators) -> bool {
        let first = match keep.as_slice().first() {
            Some(f) if self.state == State::Established => *f,
            _ => return false,
        };
        if !keep.as_slice().iter().all(|a| self.peer_locs.contains(a)) {
            return false;
        }
        self.peer_locs = *keep;
        if !keep.contains(&self.path.dst) {
            self.path.dst = first;
        }
        true
    }

    /// Offers the peer only `keep` of our locators (`SHIM_LOCLIST_LOCAL`):
    /// the Update Request saying so, or `Err(())`, changing nothing, if
    /// one of them is not ours.
    #[allow(clippy::result_unit_err)]
    pub fn restrict_local(&mut self, keep: &Locators, now: Millis, rng: &mut impl Random) -> Result<Option<Transmit>, ()> {
        if keep.as_slice().is_empty() || !keep.as_slice().iter().all(|a| self.has_local(a)) {
            return Err(());
        }
        Ok(self.update_locators(*keep, now, rng))
    }

    /// Whether the host may forget this context, last used at
    /// `last_used`: established, no update outstanding, idle for
    /// [`consts::IDLE_TIMEOUT`].  Contexts being set up or held down have
    /// timers of their own.
    pub fn collectable(&self, last_used: Millis, now: Millis) -> bool {
        self.state == State::Established && self.update.is_none() && now.saturating_sub(last_used) >= consts::IDLE_TIMEOUT
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

    /// Confusion (§7.6): `self` is an older context whose peer tag and
    /// locators clash with `new`'s; the peer must have lost it.
    pub fn confused_with(&self, new: &Context) -> bool {
        matches!(self.state, State::Established | State::I2bisSent)
            && self.ct_peer.is_some()
            && self.ct_peer == new.ct_peer
            && self.peer_locs.overlaps(&new.peer_locs)
            && (self.ulids != new.ulids || self.fii != new.fii)
    }
}

/// What the packet path needs of a context, copied out of it so that
/// packets are handled without the table's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The context's ULIDs.
    pub ulids: UlidPair,
    /// Its Forked Instance Identifier: outgoing packets use only the
    /// contexts of FII 0, as no socket forks one yet.
    pub fii: u32,
    /// Our tag: payload carrying it is for this context.
    pub ct_local: Tag,
    /// The peer's tag, while payload may be rewritten (§11).
    pub ct_peer: Option<Tag>,
    /// The current locator pair.
    pub path: Path,
    /// ESTABLISHED: payload on the current pair or the ULIDs needs no
    /// further check.
    pub established: bool,
    /// I1-SENT or I2-SENT: the context is being set up.
    pub setting_up: bool,
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
        }
    }
}

impl Route {
    /// Where a packet of this context goes: the locator pair and the
    /// peer's tag for the payload extension header, or `None` to leave it
    /// untouched.  `src`/`dst` are the socket's or datagram's own choice
    /// (`SHIM_LOC_*_SEND`), verified when it was made.
    pub fn out(&self, src: Option<Addr>, dst: Option<Addr>) -> Option<(Path, Tag)> {
        let ct = self.ct_peer?;
        let path = Path { src: src.unwrap_or(self.path.src), dst: dst.unwrap_or(self.path.dst) };
        (path.src != self.ulids.local || path.dst != self.ulids.peer).then_some((path, ct))
    }

    /// The ULIDs of payload that arrived on `path` with our tag, when no
    /// check beyond this snapshot is needed (ESTABLISHED, on the current
    /// pair reversed or on the ULIDs).
    pub fn restore(&self, path: &Path) -> Option<UlidPair> {
        let on_ulids = path.src == self.ulids.peer && path.dst == self.ulids.local;
        let on_path = path.src == self.path.dst && path.dst == self.path.src;
        (self.established && (on_ulids || on_path)).then_some(self.ulids)
    }
}

/// The host's stateless responder: Responder Nonces and Validators from a
/// rotating secret (§7.10.1), two generations accepted.
pub struct Responder {
    secrets: [[u8; 32]; 2],
    /// Which epoch each secret belongs to.
    epochs: [u64; 2],
}

/// How long one Responder Nonce value lasts.
const NONCE_STEP: Millis = 1_000;
/// How long one secret lasts; a validator is checked against the secret of
/// its nonce's epoch, so it stays valid for up to twice this.
const SECRET_LIFETIME: Millis = 2 * consts::VALIDATOR_MIN_LIFETIME;

impl Responder {
    /// A responder with fresh secrets.
    pub fn new(now: Millis, rng: &mut impl Random) -> Self {
        let mut r = Responder { secrets: [[0; 32]; 2], epochs: [u64::MAX; 2] };
        r.rotate(now, rng);
        r
    }

    fn random_secret(rng: &mut impl Random) -> [u8; 32] {
        let mut s = [0u8; 32];
        for chunk in s.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_ne_bytes());
        }
        s
    }

    /// Makes sure the secret of the current epoch exists; call before
    /// answering (or from a timer every [`VALIDATOR_MIN_LIFETIME`]).
    ///
    /// [`VALIDATOR_MIN_LIFETIME`]: consts::VALIDATOR_MIN_LIFETIME
    pub fn rotate(&mut self, now: Millis, rng: &mut impl Random) {
        let epoch = now / SECRET_LIFETIME;
        let slot = (epoch % 2) as usize;
        if self.epochs.get(slot) != Some(&epoch) {
            if let (Some(s), Some(e)) = (self.secrets.get_mut(slot), self.epochs.get_mut(slot)) {
                *s = Self::random_secret(rng);
                *e = epoch;
            }
        }
    }

    fn nonce(now: Millis) -> u32 {
        (now / NONCE_STEP) as u32
    }

    /// The validator of `nonce` over `parts`, if its secret is still kept.
    fn validator(&self, mac: &mut impl Mac, nonce: u32, now: Millis, parts: &[&[u8]]) -> Option<Validator> {
        // The nonce's epoch: nonces are at most 2^32 steps old, far beyond
        // any lifetime, so the low bits of `now` locate them.
        let now_step = now / NONCE_STEP;
        let age = (now_step as u32).wrapping_sub(nonce);
        let at = now_step.checked_sub(u64::from(age))? * NONCE_STEP;
        let epoch = at / SECRET_LIFETIME;
        let slot = (epoch % 2) as usize;
        if self.epochs.get(slot) != Some(&epoch) {
            return None;
        }
        let key = self.secrets.get(slot)?;
        let n = nonce.to_be_bytes();
        let mut all: [&[u8]; 8] = [&[]; 8];
        if let Some(first) = all.first_mut() {
            *first = &n;
        }
        for (slot, p) in all.iter_mut().skip(1).zip(parts) {
            *slot = p;
        }
        let len = parts.len().saturating_add(1).min(all.len());
        Validator::new(&mac.mac(key, all.get(..len).unwrap_or(&[]))?)
    }

    /// Checks a validator received in I2 or I2bis: its nonce is recent
    /// enough and it is what we would compute over `parts` (§7.13 step 2).
    fn check(&self, mac: &mut impl Mac, nonce: u32, got: &Validator, now: Millis, parts: &[&[u8]]) -> bool {
        let age = ((now / NONCE_STEP) as u32).wrapping_sub(nonce);
        if u64::from(age) * NONCE_STEP > 2 * consts::VALIDATOR_MIN_LIFETIME {
            return false;
        }
        self.validator(mac, nonce, now, parts).is_some_and(|v| v == *got)
    }
}

/// The validator inputs of an I1/I2 exchange (§7.10.1; no Initiator Nonce).
fn i1_parts<'a>(ct: &'a [u8; 8], ulids: &'a UlidPair, path: &'a Path, fii: &'a [u8; 4]) -> [&'a [u8]; 6] {
    [ct, &ulids.local, &ulids.peer, &path.src, &path.dst, fii]
}

/// The caller's table of contexts.
pub trait Table {
    /// Every context.
    fn contexts(&self) -> impl Iterator<Item = &Context>;
    /// Every context, to change.
    fn contexts_mut(&mut self) -> impl Iterator<Item = &mut Context>;
    /// Stores a new context; `false` when the table is full.
    fn insert(&mut self, ctx: Context) -> bool;
    /// Discards every context other than `new` that is confused with it
    /// (§7.6: the host must not send on them again).
    fn drop_confused(&mut self, new: &Context);

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
    fn by_peer_tag(&mut self, ct: Tag, path: &Path) -> Option<&mut Context> {
        self.contexts_mut()
            .find(|c| c.ct_peer() == Some(ct) && c.path().src == path.dst && c.path().dst == path.src)
    }
    /// The context whose local tag is `ct`.
    fn by_local_tag(&mut self, ct: Tag) -> Option<&mut Context> {
        self.contexts_mut().find(|c| c.ct_local() == ct)
    }
    /// Whether some context uses `ct` as its local tag.
    fn tag_in_use(&self, ct: Tag) -> bool {
        self.contexts().any(|c| c.ct_local() == ct)
    }
}

/// A token bucket: `burst` events at once, `per_sec` a second on average.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    per_sec: u64,
    burst: u64,
    /// Thousandths of an event.
    credit: u64,
    last: Millis,
}

impl RateLimit {
    /// A full bucket.
    pub const fn new(per_sec: u32, burst: u32) -> Self {
        RateLimit { per_sec: per_sec as u64, burst: burst as u64, credit: burst as u64 * 1000, last: 0 }
    }

    /// Whether one more event may happen at `now`; takes it if so.
    pub fn allow(&mut self, now: Millis) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        self.credit = self.credit.saturating_add(elapsed.saturating_mul(self.per_sec)).min(self.burst.saturating_mul(1000));
        let ok = self.credit >= 1000;
        if ok {
            self.credit -= 1000;
        }
        ok
    }
}

/// What a host lets the network make it do, per namespace.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// R1 and R1bis: answers to anyone, each costing a MAC.
    pub responses: RateLimit,
    /// New contexts, initiated or accepted.
    pub setups: RateLimit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { responses: RateLimit::new(100, 100), setups: RateLimit::new(50, 50) }
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
        let reply = Path { src: path.dst, dst: path.src };
        match *msg {
            Message::I2 { ct, resp_nonce, validator, ulids, fii, .. } => {
                let ulids = ulids.unwrap_or(UlidPair { local: path.dst, peer: path.src });
                let ctb = (ct & TAG_MASK).to_be_bytes();
                let fiib = fii.to_be_bytes();
                self.responder.check(mac, resp_nonce, &validator, now, &i1_parts(&ctb, &ulids, &reply, &fiib))
            }
            Message::I2bis { resp_nonce, packet_ct, validator, .. } => {
                let ctb = (packet_ct & TAG_MASK).to_be_bytes();
                // The R1bis covered the triggering packet's locators, which
                // the I2bis travels on again.
                self.responder.check(mac, resp_nonce, &validator, now, &[&ctb, &path.src, &path.dst])
            }
            _ => true,
        }
    }

    /// A context tag no context of `table` uses (§7.1).
    pub fn fresh_tag(table: &impl Table, rng: &mut impl Random) -> Tag {
        loop {
            let t = rng.next_u64() & TAG_MASK;
            if t != 0 && !table.tag_in_use(t) {
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
            Message::UpdateRequest { ct, nonce, generation, locators } => (ct, Some((nonce, generation, locators))),
            Message::UpdateAck { ct, .. } => (ct, None),
            _ => return self.receive_setup(table, rx, now, rng, mac),
        };
        // Types 64-127: an unknown tag, or a known one on locators the
        // context does not have, means the sender's context is stale.
        let Some(ctx) = table.by_local_tag(ct & TAG_MASK).filter(|c| c.on_path_of_peer(path)) else {
            return match self.unknown_tag(ct, path, now, rng, mac) {
                Ok(r1bis) => Outcome::send(Some(r1bis), false),
                Err(why) => Outcome::refused(why),
            };
        };
        if update.is_some_and(|(_, generation, _)| ctx.seen_generations.contains(&Some(generation))) {
            return Outcome::refused(Refusal::Replay);
        }
        let before = ctx.route();
        let tx = match (update, rx.msg) {
            (Some((nonce, generation, locators)), _) => ctx.on_update_request(nonce, generation, &locators, path),
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
        let reply = Path { src: path.dst, dst: path.src };
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
                        && (ctx.ct_peer != Some(ct & TAG_MASK) || (moved && !ctx.peer_locs.contains(&path.src)));
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
                let ctb = (ct & TAG_MASK).to_be_bytes();
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
                ctx.on_r2(ct, &locators);
                let snapshot = ctx.clone();
                table.drop_confused(&snapshot);
                return Outcome::send(None, true);
            }
            Message::R1bis { packet_ct, resp_nonce, validator } => {
                let Some(ctx) = table.by_peer_tag(packet_ct, path) else { return Outcome::refused(Refusal::NoContext) };
                let before = ctx.route();
                let tx = ctx.on_r1bis(resp_nonce, packet_ct, validator, path, now, rng);
                return Outcome::send(tx, ctx.route() != before);
            }
            Message::UpdateRequest { .. } | Message::UpdateAck { .. } => None,
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
        packet_ct: Tag,
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
        let ctb = (packet_ct & TAG_MASK).to_be_bytes();
        // Over the locators of the received packet, as its sender will
        // use them reversed for the I2bis.
        let validator =
            self.responder.validator(mac, resp_nonce, now, &[&ctb, &path.src, &path.dst]).ok_or(Refusal::MacFailed)?;
        Ok(Transmit {
            path: Path { src: path.dst, dst: path.src },
            msg: Message::R1bis { packet_ct: packet_ct & TAG_MASK, resp_nonce, validator },
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
        ct: Tag,
        init_nonce: u32,
        locators: &Locators,
        path: &Path,
        now: Millis,
        rng: &mut impl Random,
    ) -> Result<Transmit, Refusal> {
        if let Some(ctx) = table.by_ulids(&ulids, fii) {
            let tx = ctx.on_i2(ct, init_nonce, locators, path).ok_or(Refusal::Unverified)?;
            let snapshot = ctx.clone();
            table.drop_confused(&snapshot);
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
        let mut ctx = Context {
            state: State::Established,
            ulids,
            fii,
            ct_local: Self::fresh_tag(table, rng),
            ct_peer: None,
            init_nonce: 0,
            resp: None,
            local_locs: {
                let mut l = self.locators;
                l.push(ulids.local);
                l
            },
            peer_locs: Locators::default(),
            path: Path { src: path.dst, dst: path.src },
            timer: None,
            peer_generation: None,
            seen_generations: [None; SEEN_GENERATIONS],
            local_generation: 0,
            update: None,
        };
        ctx.establish(ct, locators);
        let tx = ctx.r2(init_nonce, *path);
        table.drop_confused(&ctx);
        if table.insert(ctx) {
            Ok(tx)
        } else {
            Err(Refusal::TableFull)
        }
    }
}
