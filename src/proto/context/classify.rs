// SPDX-License-Identifier: GPL-2.0

//! The packet path's decisions, pure: what becomes of a packet leaving
//! the host, given what the packet and its socket say and the route of its
//! context (if any); what becomes of payload arriving with our tag.  The
//! kernel's LOCAL_OUT hook and next-header-140 handler gather the facts,
//! ask here, and carry out the answer.

use super::*;

/// IPv6 next header of ICMPv6.
const ICMPV6: u8 = 58;

/// What the packet path knows of an outgoing IPv6 packet and its socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// Its addresses: the ULIDs, if it belongs to a context.
    pub src: Addr,
    /// See `src`.
    pub dst: Addr,
    /// The upper layer's header (behind a Hop-by-Hop header, if any).
    pub next_header: u8,
    /// Its socket (or the listener of a SYN-ACK) set `SHIM_DONTSHIM`.
    pub dont_shim: bool,
    /// Its socket may start a context: a full socket that picked its peer
    /// or showed the peer's return routability (not a TCP socket in
    /// SYN-RECV, whose peer is only a source that may be spoofed; not
    /// what the stack sends on nobody's behalf, such as resets).
    pub may_initiate: bool,
    /// Its socket set `SHIM_DEFERRED_CONTEXT_SETUP` 0: its packets wait
    /// for their context.
    pub setup_first: bool,
    /// The datagram chose its own locators (SOL_SHIM ancillary data).
    pub chose_locators: bool,
}

/// The locators an outgoing packet's datagram or socket chose
/// (`SHIM_LOC_*_SEND`, `SHIM_IF_SEND`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    /// Our locator, if chosen.
    pub src: Option<Addr>,
    /// The peer's, if chosen.
    pub dst: Option<Addr>,
    /// The datagram's own choice (SOL_SHIM ancillary data), not its
    /// socket's sticky one.
    pub datagram: bool,
}

impl Chosen {
    fn any(&self) -> bool {
        self.src.is_some() || self.dst.is_some()
    }
}

/// What becomes of an outgoing packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Out {
    /// It leaves as it is.
    Pass,
    /// It takes the payload extension header with the peer's tag and
    /// leaves on the locator pair.
    Rewrite(Path, ContextTag),
    /// It waits for its context's setup to end.
    Hold,
    /// It starts a context for its ULID pair, and leaves as it is (or
    /// waits for that context, `hold`).
    Initiate {
        /// See [`Out::Hold`].
        hold: bool,
    },
    /// Its datagram chose locators that are not those of its own context
    /// (now): refused (`EINVALIDLOCATOR`), nothing leaves.
    InvalidLocator,
}

impl Outgoing {
    /// Whether the packet may belong to a context at all: not a control
    /// message of ours, global unicast addresses, not to itself, its
    /// socket not opted out.  Only such packets are looked up.
    pub fn shimmable(&self) -> bool {
        self.next_header != super::super::wire::PROTOCOL
            && shimmable(&self.src)
            && shimmable(&self.dst)
            && self.src != self.dst
            && !self.dont_shim
    }

    /// The decision for a packet that is not [`Outgoing::shimmable`]: it
    /// leaves as it is, unless its datagram chose locators, which no
    /// context of it can have.
    pub fn unshimmed(&self) -> Out {
        if self.chose_locators {
            Out::InvalidLocator
        } else {
            Out::Pass
        }
    }

    /// The decision for a [`Outgoing::shimmable`] packet, given the route
    /// of its ULID pair's context (if any), the locators chosen by the
    /// datagram or its socket (asked only when they could matter), and
    /// `verify`, which says whether a pair is its context's now: the route
    /// does not carry the locator lists, and a choice made for one
    /// context (the connected peer's, or before a locator left) must not
    /// steer another.  A datagram whose own choice fails is refused; a
    /// socket's sticky choice that fails is ignored (the context's pair),
    /// which `verify` counts.
    pub fn classify(&self, route: Option<&Route>, chosen: impl FnOnce() -> Chosen, verify: impl FnOnce(&Path) -> bool) -> Out {
        // Only upper-layer traffic waits or sets up: never ICMPv6, which
        // may be the very error that ends a setup.
        let upper = self.next_header != ICMPV6;
        let hold = upper && self.setup_first;
        // Without a context, locators a datagram chose are none of its
        // context's (an unconnected socket's choice is checked only here).
        let Some(r) = route else {
            if self.chose_locators {
                return Out::InvalidLocator;
            }
            return if upper && self.may_initiate { Out::Initiate { hold } } else { Out::Pass };
        };
        let c = chosen();
        let out = match (c.any(), r.ct_peer.is_some()) {
            (false, _) => r.out(None, None),
            // Locators are chosen among an established context's.
            (true, true) if verify(&r.path_with(c.src, c.dst)) => r.out(c.src, c.dst),
            (true, _) if c.datagram => return Out::InvalidLocator,
            (true, _) => r.out(None, None),
        };
        match out {
            Some((path, ct)) => Out::Rewrite(path, ct),
            None if r.setting_up && hold => Out::Hold,
            None => Out::Pass,
        }
    }
}

/// What becomes of payload that arrived with our tag on `path`, given the
/// tag's route: its ULIDs when the route alone vouches for the pair, or
/// `None` to ask the endpoint ([`Endpoint::payload_in`]).
pub fn classify_in(route: Option<&Route>, path: &Path) -> Option<UlidPair> {
    route?.restore(path)
}
