// SPDX-License-Identifier: GPL-2.0

//! Context forking (draft API §9.1, RFC 5533 §5.15.7): a socket whose
//! requirement conflicts with another socket's on the same ULID pair gets
//! a context of its own, with a non-zero Forked Instance Identifier.
//!
//! Sockets steer the context of their ULID pair (FII 0) in three classes
//! of settings: our locators ([`Class::Local`]: `SHIM_LOC_LOCAL_PREF`,
//! `SHIM_LOCLIST_LOCAL`), the peer's ([`Class::Peer`]) and path
//! exploration ([`Class::Explore`]: `SHIM_PATHEXPLORE`).  The first socket
//! that sets a class holds it; another socket that asks for something
//! else in that class while the holder lives forks: its own context
//! starts as a copy of the shared one, that class back to the defaults,
//! with its request applied, and is set up with the peer (an I1 with the
//! FII option).  The socket then uses it alone; it goes when the socket
//! closes ([`Endpoint::release`]).  Ancillary data never forks.
//!
//! The peer keys the forked context by (ULIDs, FII) as well, and sends
//! its own payload on its FII 0 context (RFC 5533 §5.15.7: forking
//! applies to sending only).

use super::*;

/// A socket, as the caller names it (non-zero, unique among the sockets
/// alive: the kernel uses the socket's inode number).
pub type Owner = u32;

/// A class of settings a socket holds on a shared context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Our locators: the source and the list offered to the peer.
    Local = 0,
    /// The peer's locators: the destination and those used.
    Peer = 1,
    /// How REAP explores.
    Explore = 2,
}

/// How many classes there are.
pub const CLASSES: usize = 3;

/// REAP's exploration parameters (`SHIM_PATHEXPLORE`), already checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explore {
    /// Probes sent at the initial interval.
    pub initial_probes: u32,
    /// Our Send Timeout.
    pub send_timeout: Millis,
    /// The initial probe interval.
    pub initial_probe_timeout: Millis,
    /// Our Keepalive interval (0: the default).
    pub keepalive_interval: Millis,
}

impl Explore {
    /// The parameters `config` runs with.
    pub fn of(config: &ReapConfig) -> Self {
        Explore {
            initial_probes: config.initial_probes,
            send_timeout: config.send_timeout,
            initial_probe_timeout: config.initial_probe_timeout,
            keepalive_interval: config.keepalive_interval,
        }
    }

    /// `base` with these parameters.
    pub fn applied(&self, base: ReapConfig) -> ReapConfig {
        ReapConfig {
            initial_probes: self.initial_probes,
            send_timeout: self.send_timeout,
            initial_probe_timeout: self.initial_probe_timeout,
            keepalive_interval: self.keepalive_interval,
            ..base
        }
    }
}

/// What a socket option asks of its socket's context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Our locator `Addr` as the source (`SHIM_LOC_LOCAL_PREF`).
    PreferLocal(Addr),
    /// The peer's verified locator `Addr` as the destination
    /// (`SHIM_LOC_PEER_PREF`).
    PreferPeer(Addr),
    /// Offer the peer only these of our locators (`SHIM_LOCLIST_LOCAL`).
    RestrictLocal(Locators, Preferences),
    /// Use only these of the peer's verified locators (`SHIM_LOCLIST_PEER`).
    RestrictPeer(Locators, Preferences),
    /// Explore so (`SHIM_PATHEXPLORE`).
    Explore(Explore),
}

impl Want {
    /// The class of settings it changes.
    pub fn class(&self) -> Class {
        match self {
            Want::PreferLocal(_) | Want::RestrictLocal(..) => Class::Local,
            Want::PreferPeer(_) | Want::RestrictPeer(..) => Class::Peer,
            Want::Explore(_) => Class::Explore,
        }
    }
}

/// What [`Endpoint::steer`] did.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Steered {
    /// Applied to the socket's context; maybe an Update Request to send.
    Applied(Option<Transmit>),
    /// The context forked: the socket's own has this FII; send its I1.
    Forked(u32, Transmit),
}

/// Why [`Endpoint::steer`] changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SteerError {
    /// The ULID pair has no established context.
    NoContext,
    /// A locator that is not the context's (ours, or the peer's verified).
    InvalidLocator,
    /// A fork was needed and could not be made now.
    Refused(Refusal),
}

impl Context {
    /// The socket that owns this forked context (0: shared).
    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// The socket holding `class` on this shared context (0: none).
    pub fn holder(&self, class: Class) -> Owner {
        self.claims.get(class as usize).copied().unwrap_or(0)
    }

    /// Whether `want` is what this context does already.
    fn has_already(&self, want: &Want) -> bool {
        match want {
            Want::PreferLocal(a) => self.path.src == *a,
            Want::PreferPeer(a) => self.path.dst == *a,
            Want::RestrictLocal(keep, prefs) => self.local_locs == *keep && self.local_prefs == *prefs,
            Want::RestrictPeer(keep, prefs) => self.peer_locs == *keep && self.peer_prefs == *prefs,
            Want::Explore(e) => Explore::of(&self.reap.config()) == *e,
        }
    }

    /// Applies `want`: the Update Request that tells the peer, if any;
    /// `NotOurs`, changing nothing, for a locator that is not the
    /// context's.  A fork still being set up takes it too: its peer
    /// locators are those its shared context verified.
    pub fn honour(&mut self, want: &Want, now: Millis, rng: &mut impl Random) -> Result<Option<Transmit>, NotOurs> {
        let peer_known = |c: &Context, a: &Addr| c.peer_locs.contains(a) && (c.state == State::Established || c.owner != 0);
        match want {
            Want::PreferLocal(a) if self.has_local(a) => {
                self.path.src = *a;
                self.reap.chose(self.path);
                Ok(None)
            }
            Want::PreferPeer(a) if peer_known(self, a) => {
                self.path.dst = *a;
                self.reap.chose(self.path);
                Ok(None)
            }
            Want::RestrictLocal(keep, prefs) => self.restrict_local(keep, *prefs, now, rng),
            Want::RestrictPeer(keep, prefs) => {
                let first = *keep.as_slice().first().ok_or(NotOurs)?;
                if !keep.as_slice().iter().all(|a| peer_known(self, a)) {
                    return Err(NotOurs);
                }
                self.peer_locs = *keep;
                self.peer_prefs = *prefs;
                if !keep.contains(&self.path.dst) {
                    self.path.dst = first;
                }
                self.peer_restricted |= self.owner != 0;
                Ok(None)
            }
            Want::Explore(e) => Ok(self.set_reap_config(e.applied(self.reap.config()), now, rng)),
            Want::PreferLocal(_) | Want::PreferPeer(_) => Err(NotOurs),
        }
    }

    /// A context of its own for `owner`, forked from this established
    /// one (FII `fii`, our tag `ct_local`): a copy of it, with `want`'s
    /// class back to the defaults (`locals`: all our locators for the
    /// ULID) and `want` applied, in I1-SENT on the copy's pair.  `None`
    /// if `want` names a locator that is not the context's.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fork(
        &self,
        owner: Owner,
        fii: u32,
        ct_local: ContextTag,
        locals: Locators,
        want: &Want,
        now: Millis,
        rng: &mut impl Random,
    ) -> Option<(Self, Transmit)> {
        // Filled in place: a context is a kilobyte and more.
        let mut f = Context::fresh(State::I1Sent, self.ulids, fii, ct_local, self.path);
        f.init_nonce = rng.next_u64() as u32;
        f.local_locs = self.local_locs;
        f.peer_locs = self.peer_locs;
        f.local_prefs = self.local_prefs;
        f.peer_prefs = self.peer_prefs;
        f.owner = owner;
        f.reap.set_config(self.reap.config());
        match want.class() {
            Class::Local => {
                f.local_locs = locals;
                f.local_prefs = Preferences::default();
            }
            Class::Peer => f.peer_prefs = Preferences::default(),
            Class::Explore => {
                let cfg = f.reap.config();
                f.reap.set_config(Explore::of(&ReapConfig::default()).applied(cfg));
            }
        }
        f.honour(want, now, rng).ok()?;
        f.timer = Some(Retransmit { count: 0, at: backoff(consts::I1_TIMEOUT, 0, now, rng) });
        let i1 = f.i1();
        Some((f, i1))
    }
}

impl<T: Table> Endpoint<T> {
    /// A socket option of `owner`, a socket on `ulids` whose own context
    /// has FII `fii` (0: none), asks for `want`.  Applied to the socket's
    /// own context if it has one; else to the shared one, unless another
    /// socket holds `want`'s class there and `want` differs from what it
    /// does, which forks.  Owner 0 never forks.
    pub fn steer(
        &mut self,
        ulids: &UlidPair,
        fii: u32,
        owner: Owner,
        want: &Want,
        now: Millis,
        rng: &mut impl Random,
    ) -> Result<Steered, SteerError> {
        let live = |c: &Context| matches!(c.state, State::I1Sent | State::I2Sent | State::Established);
        let own = fii != 0 && self.table.by_ulids(ulids, fii).is_some_and(|c| c.owner == owner && live(c));
        let key = if own { fii } else { 0 };
        let shared = self.table.by_ulids(ulids, key).filter(|c| own || c.state == State::Established);
        let shared = shared.ok_or(SteerError::NoContext)?;
        let holder = shared.holder(want.class());
        let forks = !own && owner != 0 && holder != 0 && holder != owner && !shared.has_already(want);
        if !forks {
            let tx = shared.honour(want, now, rng).map_err(|NotOurs| SteerError::InvalidLocator)?;
            if !own && owner != 0 && holder == 0 {
                if let Some(h) = shared.claims.get_mut(want.class() as usize) {
                    *h = owner;
                }
            }
            let ct = shared.ct_local();
            self.expect_context(ct, now);
            return Ok(Steered::Applied(tx));
        }
        if !self.host.may_initiate(now) {
            return Err(SteerError::Refused(Refusal::RateLimited));
        }
        let ct = Host::fresh_tag(&self.table, rng);
        let fii = (1..=u32::MAX).find(|&f| self.table.by_ulids(ulids, f).is_none()).ok_or(SteerError::Refused(Refusal::TableFull))?;
        let locals = self.host.locators_for(&ulids.local);
        let shared = self.table.by_ulids(ulids, 0).ok_or(SteerError::NoContext)?;
        let (ctx, i1) = shared.fork(owner, fii, ct, locals, want, now, rng).ok_or(SteerError::InvalidLocator)?;
        if !self.table.insert(&ctx) {
            return Err(SteerError::Refused(Refusal::TableFull));
        }
        self.expect_context(ct, now);
        Ok(Steered::Forked(fii, i1))
    }

    /// The socket `owner` closed: its forked contexts go, and what it
    /// held on shared ones is free.  Returns whether the packet path must
    /// see the table again.
    pub fn release(&mut self, owner: Owner) -> bool {
        if owner == 0 {
            return false;
        }
        let mut changed = false;
        self.table.sweep(|c, _| {
            if c.owner == owner {
                changed = true;
                return false;
            }
            for h in c.claims.iter_mut().filter(|h| **h == owner) {
                *h = 0;
            }
            true
        });
        changed
    }
}
