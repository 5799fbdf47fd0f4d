// SPDX-License-Identifier: GPL-2.0

//! Value types of contexts: ULID pairs, locator sets, validators, paths,
//! the messages a context exchanges and its states.

use super::*;

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

    /// Keeps only the locators for which `f` says yes, in their order.
    pub fn retain(&mut self, mut f: impl FnMut(&Addr) -> bool) {
        let mut kept = 0;
        for i in 0..self.as_slice().len() {
            let Some(a) = self.as_slice().get(i).copied() else { break };
            if f(&a) {
                if let Some(slot) = self.addrs.get_mut(kept) {
                    *slot = a;
                }
                kept += 1;
            }
        }
        for slot in self.addrs.iter_mut().skip(kept) {
            *slot = [0; 16];
        }
        self.len = u8::try_from(kept).unwrap_or(u8::MAX);
    }
}

/// A locator's rank as an application gave it: RFC 6316's priority
/// (`lc_prio`, lower first) and weight (`lc_weight`, higher first among
/// equal priorities).  The draft's `lc_preference` p (higher first) is
/// priority 0, weight p, so both orders agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rank {
    /// Lower goes first.
    pub prio: u16,
    /// Among equal priorities, higher goes first.
    pub weight: u16,
}

impl Rank {
    /// The draft's `lc_preference` `p`.
    pub const fn draft(p: u8) -> Self {
        Rank { prio: 0, weight: p as u16 }
    }

    /// As the draft's `lc_preference`: the weight of priority 0, at most
    /// 255; 0 (none) for any other priority, which the draft cannot say.
    pub fn preference(self) -> u8 {
        if self.prio == 0 { u8::try_from(self.weight).unwrap_or(u8::MAX) } else { 0 }
    }

    /// Whether `self` goes before `other`.
    pub fn before(self, other: Rank) -> bool {
        self.prio < other.prio || (self.prio == other.prio && self.weight > other.weight)
    }
}

/// Ranks an application gave a context's locators (`SHIM_LOCLIST_*`), one
/// per locator of the list they go with, in its order; the default rank
/// where none was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Preferences([Rank; MAX_LOCATORS]);

impl Preferences {
    /// Draft preferences `p[i]` for the `i`-th locator; beyond
    /// [`MAX_LOCATORS`], dropped.
    pub fn new(p: &[u8]) -> Self {
        let mut out = [Rank::default(); MAX_LOCATORS];
        for (d, s) in out.iter_mut().zip(p) {
            *d = Rank::draft(*s);
        }
        Preferences(out)
    }

    /// `r[i]` for the `i`-th locator; beyond [`MAX_LOCATORS`], dropped.
    pub fn ranked(r: &[Rank]) -> Self {
        let mut out = [Rank::default(); MAX_LOCATORS];
        for (d, s) in out.iter_mut().zip(r) {
            *d = *s;
        }
        Preferences(out)
    }

    /// The rank of the `i`-th locator.
    pub fn get(&self, i: usize) -> Rank {
        self.0.get(i).copied().unwrap_or_default()
    }

    /// The same ranks for the same locators once `old` became `new` (the
    /// default for those `new` adds).
    pub fn realigned(&self, old: &Locators, new: &Locators) -> Self {
        let mut out = [Rank::default(); MAX_LOCATORS];
        for (d, a) in out.iter_mut().zip(new.as_slice()) {
            *d = old.as_slice().iter().position(|o| o == a).map_or_else(Rank::default, |i| self.get(i));
        }
        Preferences(out)
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

impl Path {
    /// The same locators the other way: where the answer to a packet
    /// received on `self` goes.
    pub const fn reversed(&self) -> Path {
        Path { src: self.dst, dst: self.src }
    }
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
        ct: ContextTag,
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
        ct: ContextTag,
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
        ct: ContextTag,
        /// Initiator Nonce of what this answers.
        init_nonce: u32,
        /// The sender's verified locators.
        locators: Locators,
    },
    /// R1bis
    R1bis {
        /// The context tag of the packet that found no context.
        packet_ct: ContextTag,
        /// Responder Nonce.
        resp_nonce: u32,
        /// Responder Validator.
        validator: Validator,
    },
    /// I2bis
    I2bis {
        /// Initiator Context Tag.
        ct: ContextTag,
        /// Initiator Nonce.
        init_nonce: u32,
        /// Responder Nonce from the R1bis.
        resp_nonce: u32,
        /// Packet Context Tag from the R1bis.
        packet_ct: ContextTag,
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
        ct: ContextTag,
        /// Request Nonce.
        nonce: u32,
        /// Generation of the list.
        generation: u32,
        /// The sender's locators, verified.
        locators: Locators,
        /// The sender's Send Timeout in seconds, when not the default
        /// (Keepalive Timeout option, RFC 5534 §5.3).
        keepalive: Option<u16>,
    },
    /// Update Acknowledgement (§10.4 step 9).
    UpdateAck {
        /// Receiver Context Tag.
        ct: ContextTag,
        /// Request Nonce copied from the Update Request.
        nonce: u32,
    },
    /// Keepalive (RFC 5534 §5.1).
    Keepalive {
        /// Receiver Context Tag.
        ct: ContextTag,
    },
    /// Probe (RFC 5534 §5.2).  Of a received one, the first
    /// [`reap::MAX_REPORTS`] reports of each kind.
    Probe {
        /// Receiver Context Tag.
        ct: ContextTag,
        /// The sender's REAP state after sending it.
        state: reap::ReapState,
        /// Reports of probes the sender sent, this one first.
        sent: reap::ProbeSet,
        /// Reports of probes the sender received.
        received: reap::ProbeSet,
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
